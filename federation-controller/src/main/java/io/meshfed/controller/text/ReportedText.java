package io.meshfed.controller.text;

/**
 * Reported text (a member's NACK, a Consul agent's answer, a lease holder's name, a path to echo back) cut to a
 * length and without the characters that could forge a log line or drive a terminal. Callers add their own mark
 * when the text was cut.
 */
public final class ReportedText {
    private ReportedText() {}

    /** At most {@code max} code points of {@code text}, each control character (line breaks, ESC) as '?'. */
    public static String printable(String text, int max) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), max));
        text.codePoints().limit(max).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.toString();
    }

    /** At most {@code max} characters of {@code text}, each one outside printable ASCII as '?'. */
    public static String ascii(String text, int max) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), max));
        for (int i = 0; i < text.length() && i < max; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return out.toString();
    }

    /** How many code points of {@code text} {@link #printable} left out at {@code max} (0 when none). */
    public static int beyond(String text, int max) {
        return Math.max(0, text.codePointCount(0, text.length()) - max);
    }
}
