package io.meshfed.api;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them in flags and YAML: {@code 250ms}, {@code 90s}, {@code 30m}, {@code 24h},
 * {@code 7d}, {@code 1h30m}.
 */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|d|h|m|s)");

    private Durations() {}

    /** @throws IllegalArgumentException naming the text and the accepted forms */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.trim();
        Matcher m = PART.matcher(s);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            try {
                long n = Long.parseLong(m.group(1));
                total = total.plus(switch (m.group(2)) {
                    case "d" -> Duration.ofDays(n);
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "ms" -> Duration.ofMillis(n);
                    default -> Duration.ofSeconds(n);
                });
            } catch (NumberFormatException | ArithmeticException tooLong) {
                throw new IllegalArgumentException("invalid duration '" + text + "': longer than Java can represent");
            }
            end = m.end();
        }
        if (s.isEmpty() || end != s.length() || total.isZero()) {
            throw new IllegalArgumentException("invalid duration '" + text
                    + "': use a positive number with a unit, e.g. 500ms, 90s, 30m, 24h, 7d or 1h30m");
        }
        return total;
    }

    /** The shortest of those forms for a whole number of seconds, e.g. {@code 1h30m}. */
    public static String format(Duration d) {
        long s = d.getSeconds();
        StringBuilder sb = new StringBuilder();
        long days = s / 86400;
        if (days > 0) {
            sb.append(days).append('d');
        }
        long h = (s % 86400) / 3600;
        if (h > 0) {
            sb.append(h).append('h');
        }
        long min = (s % 3600) / 60;
        if (min > 0) {
            sb.append(min).append('m');
        }
        if (s % 60 > 0 || sb.length() == 0) {
            sb.append(s % 60).append('s');
        }
        return sb.toString();
    }
}
