package io.meshfed.controller.connector.consul.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Go's duration syntax as Consul reads {@code ?wait=}: "10s", "1m30s", "250ms"; a bare number is nanoseconds. */
final class GoDuration {
    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private GoDuration() {
    }

    /** Milliseconds, or -1 when the text is not a Go duration. */
    static long millis(String text) {
        if (text.matches("\\d+")) {
            return Long.parseLong(text) / 1_000_000;
        }
        Matcher m = PART.matcher(text);
        int at = 0;
        double total = 0;
        while (m.find() && m.start() == at) {
            double v = Double.parseDouble(m.group(1));
            total += switch (m.group(2)) {
                case "ns" -> v / 1_000_000;
                case "us", "µs" -> v / 1_000;
                case "ms" -> v;
                case "s" -> v * 1_000;
                case "m" -> v * 60_000;
                default -> v * 3_600_000;
            };
            at = m.end();
        }
        return at == text.length() && at > 0 ? (long) total : -1;
    }
}
