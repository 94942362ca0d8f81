package io.meshfed.trust.ca.vault.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A request's parameters read the way Vault's framework reads them ({@code sdk/framework} field types): booleans
 * from {@code true} or {@code "true"}, comma-separated strings or JSON lists for list fields, and durations as
 * integer seconds or Go duration strings ({@code 90s}, {@code 1h30m}, {@code 720h}, Vault's {@code d} suffix).
 */
final class VaultParams {
    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h|d)");

    private final ObjectNode body;

    VaultParams(JsonNode body) {
        this.body = body instanceof ObjectNode o ? o : JsonNodeFactory.instance.objectNode();
    }

    boolean has(String name) {
        JsonNode n = body.get(name);
        return n != null && !n.isNull();
    }

    String string(String name, String otherwise) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        return n.isTextual() ? n.asText() : n.toString();
    }

    boolean bool(String name, boolean otherwise) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        String s = n.asText().trim().toLowerCase(Locale.ROOT);
        return switch (s) {
            case "true", "1", "t" -> true;
            case "false", "0", "f", "" -> false;
            default -> throw VaultError.badRequest("error converting input " + s + " for field \"" + name
                    + "\": cannot parse '' as bool: strconv.ParseBool: parsing \"" + s + "\": invalid syntax");
        };
    }

    int integer(String name, int otherwise) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return otherwise;
        }
        if (n.isNumber()) {
            return n.intValue();
        }
        try {
            return Integer.parseInt(n.asText().trim());
        } catch (NumberFormatException e) {
            throw VaultError.badRequest("error converting input " + n.asText() + " for field \"" + name + "\"");
        }
    }

    /** A comma-separated string or a JSON list; blank entries dropped. */
    List<String> list(String name) {
        JsonNode n = body.get(name);
        List<String> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (n.isArray()) {
            n.forEach(e -> out.addAll(splitCommas(e.asText())));
        } else {
            out.addAll(splitCommas(n.asText()));
        }
        return out;
    }

    /** Null when the field is absent. */
    Duration duration(String name) {
        JsonNode n = body.get(name);
        if (n == null || n.isNull()) {
            return null;
        }
        if (n.isNumber()) {
            return Duration.ofSeconds(n.longValue());
        }
        try {
            return parseDuration(n.asText());
        } catch (IllegalArgumentException e) {
            throw VaultError.badRequest("error converting input " + n.asText() + " for field \"" + name
                    + "\": " + e.getMessage());
        }
    }

    static Duration parseDuration(String text) {
        String s = text.trim();
        if (s.isEmpty()) {
            return Duration.ZERO;
        }
        if (s.chars().allMatch(Character::isDigit)) {
            return Duration.ofSeconds(Long.parseLong(s));
        }
        Matcher m = DURATION_PART.matcher(s);
        int at = 0;
        double nanos = 0;
        while (m.find() && m.start() == at) {
            double v = Double.parseDouble(m.group(1));
            nanos += v * switch (m.group(2)) {
                case "ns" -> 1d;
                case "us", "µs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                case "h" -> 3600e9;
                default -> 86400e9;
            };
            at = m.end();
        }
        if (at != s.length()) {
            throw new IllegalArgumentException("time: invalid duration \"" + s + "\"");
        }
        return Duration.ofNanos((long) nanos);
    }

    private static List<String> splitCommas(String s) {
        return Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }
}
