package io.meshfed.edge;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Makes the edge's meters (Spring Cloud Gateway's, Spring's HTTP server and client meters, the JVM's) follow
 * Prometheus' conventions, as {@code promtool check metrics} checks them: label names in snake_case
 * ({@code routeId} becomes {@code route_id}), a HELP text on every meter, no {@code _count} suffix on a gauge, and
 * no meter whose unit is an abbreviation (the two JVM binders' {@code process.cpu.time} in ns and
 * {@code jvm.compilation.time} in ms are left out; {@code process_cpu_usage} and the JIT's own metrics remain).
 */
final class PrometheusConventions implements MeterFilter {
    private static final Set<String> ABBREVIATED_UNITS = Set.of("ns", "us", "ms", "nanoseconds", "milliseconds");
    private static final Map<String, String> HELP = Map.of(
            "spring.cloud.gateway.requests", "Requests through Spring Cloud Gateway's routes, by route and outcome.",
            "spring.cloud.gateway.routes.count", "Routes Spring Cloud Gateway has loaded.",
            "http.server.requests", "HTTP requests the edge served (WebFlux), by URI template and outcome.",
            "http.server.requests.active", "HTTP requests the edge is serving now (WebFlux).",
            "http.client.requests", "HTTP requests the edge sent upstream, by URI and outcome.",
            "system.cpu.count", "Processors available to the JVM.");
    /** Gauges whose name ends in {@code .count}: their Prometheus name without the suffix. */
    private static final Map<String, String> GAUGE_NAMES = Map.of(
            "system.cpu.count", "system.cpus",
            "spring.cloud.gateway.routes.count", "spring.cloud.gateway.routes");

    @Override
    public MeterFilterReply accept(Meter.Id id) {
        String unit = id.getBaseUnit();
        return unit != null && ABBREVIATED_UNITS.contains(unit.toLowerCase(Locale.ROOT)) ? MeterFilterReply.DENY
                : MeterFilterReply.NEUTRAL;
    }

    @Override
    public Meter.Id map(Meter.Id id) {
        String name = id.getName();
        if (id.getType() == Meter.Type.GAUGE && name.endsWith(".count")) {
            name = GAUGE_NAMES.getOrDefault(name, name.substring(0, name.length() - ".count".length()));
        }
        String description = id.getDescription();
        if (description == null || description.isBlank()) {
            description = HELP.getOrDefault(id.getName(), "Meter " + id.getName() + " (its library gives no"
                    + " description).");
        }
        List<Tag> tags = new ArrayList<>();
        for (Tag t : id.getTagsAsIterable()) {
            tags.add(Tag.of(snakeCase(t.getKey()), t.getValue()));
        }
        return new Meter.Id(name, Tags.of(tags), id.getBaseUnit(), description, id.getType());
    }

    /** {@code httpStatusCode} → {@code http_status_code}; keys already in snake_case stay as they are. */
    static String snakeCase(String key) {
        StringBuilder b = new StringBuilder(key.length() + 4);
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0 && b.charAt(b.length() - 1) != '_') {
                    b.append('_');
                }
                b.append(Character.toLowerCase(c));
            } else {
                b.append(c == '.' || c == '-' ? '_' : c);
            }
        }
        return b.toString();
    }
}
