package io.meshfed.cli.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.cli.context.CliException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A routes file, in Spring Cloud Gateway's own route YAML: a list under {@code routes}, each with {@code id},
 * {@code uri}, optional {@code order}, {@code predicates} and {@code filters} (the shortcut form
 * {@code Name=a,b} or the full form {@code {name: Name, args: {key: value}}}) and {@code metadata}. Every problem
 * names the file and the place in it.
 */
final class RouteFile {
    private static final Set<String> ROUTE_KEYS = Set.of("id", "uri", "order", "predicates", "filters", "metadata");

    private RouteFile() {}

    static RouteSet read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new CliException("cannot read " + file + ": no such file");
        } catch (IOException e) {
            throw new CliException(file + ": not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (root == null || !root.isObject() || !root.path("routes").isArray() || root.size() != 1) {
            throw new CliException(file + ": must be a mapping with one key, routes, holding a list of routes");
        }
        RouteSet.Builder set = RouteSet.newBuilder();
        int i = 0;
        for (JsonNode r : root.get("routes")) {
            set.addRoutes(route(file + ": routes[" + i++ + "]", r));
        }
        if (set.getRoutesCount() == 0) {
            throw new CliException(file + ": routes is empty");
        }
        return set.build();
    }

    private static Route route(String where, JsonNode r) {
        if (!r.isObject()) {
            throw new CliException(where + ": must be a mapping with id, uri, predicates, ...");
        }
        for (Iterator<String> keys = r.fieldNames(); keys.hasNext(); ) {
            String key = keys.next();
            if (!ROUTE_KEYS.contains(key)) {
                throw new CliException(where + ": unknown key '" + key + "' (known: " + new java.util.TreeSet<>(ROUTE_KEYS)
                        + ")");
            }
        }
        Route.Builder b = Route.newBuilder().setId(text(where, r, "id")).setUri(text(where, r, "uri"));
        if (r.has("order")) {
            if (!r.get("order").canConvertToInt()) {
                throw new CliException(where + ".order: must be a whole number");
            }
            b.setOrder(r.get("order").asInt());
        }
        int i = 0;
        for (JsonNode p : r.path("predicates")) {
            b.addPredicates(definition(where + ".predicates[" + i++ + "]", p));
        }
        i = 0;
        for (JsonNode f : r.path("filters")) {
            b.addFilters(definition(where + ".filters[" + i++ + "]", f));
        }
        for (Iterator<Map.Entry<String, JsonNode>> m = r.path("metadata").fields(); m.hasNext(); ) {
            Map.Entry<String, JsonNode> e = m.next();
            b.addMetadata(RouteArg.newBuilder().setKey(e.getKey()).setValue(e.getValue().asText()));
        }
        return b.build();
    }

    private static String text(String where, JsonNode r, String key) {
        JsonNode v = r.get(key);
        if (v == null || !v.isValueNode() || v.asText().isBlank()) {
            throw new CliException(where + ": " + key + " is required");
        }
        return v.asText();
    }

    /** {@code Name=a,b} (arguments _genkey_0, _genkey_1, as Spring Cloud Gateway names them) or {name, args}. */
    static RouteDefinition definition(String where, JsonNode d) {
        RouteDefinition.Builder b = RouteDefinition.newBuilder();
        if (d.isTextual()) {
            String text = d.asText();
            int eq = text.indexOf('=');
            if (eq <= 0) {
                throw new CliException(where + ": '" + text + "' must be Name=arguments, e.g. Path=/hello/**");
            }
            b.setName(text.substring(0, eq).trim());
            int i = 0;
            for (String arg : text.substring(eq + 1).split(",")) {
                if (!arg.isBlank()) {
                    b.addArgs(RouteArg.newBuilder().setKey("_genkey_" + i++).setValue(arg.trim()));
                }
            }
            return b.build();
        }
        if (!d.isObject() || !d.path("name").isTextual()) {
            throw new CliException(where + ": must be Name=arguments or a mapping with name and args");
        }
        b.setName(d.get("name").asText());
        for (Iterator<Map.Entry<String, JsonNode>> a = d.path("args").fields(); a.hasNext(); ) {
            Map.Entry<String, JsonNode> e = a.next();
            flatten(where + ".args", e.getKey(), e.getValue(), b, 0);
        }
        return b.build();
    }

    /** How deep nested arguments may go (Retry's backoff is one level). */
    static final int MAX_ARG_DEPTH = 4;

    /**
     * An argument as Spring Cloud Gateway binds it: a nested mapping ({@code backoff: {firstBackoff: 10ms}}) becomes
     * {@code backoff.firstBackoff=10ms}, a list ({@code statuses: [BAD_GATEWAY]}) {@code statuses[0]=BAD_GATEWAY}.
     */
    private static void flatten(String where, String key, JsonNode value, RouteDefinition.Builder b, int depth) {
        if (depth > MAX_ARG_DEPTH) {
            throw new CliException(where + ": argument " + key + " nests deeper than " + MAX_ARG_DEPTH + " levels");
        }
        if (value.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> f = value.fields(); f.hasNext(); ) {
                Map.Entry<String, JsonNode> e = f.next();
                flatten(where, key + "." + e.getKey(), e.getValue(), b, depth + 1);
            }
        } else if (value.isArray()) {
            for (int i = 0; i < value.size(); i++) {
                flatten(where, key + "[" + i + "]", value.get(i), b, depth + 1);
            }
        } else {
            b.addArgs(RouteArg.newBuilder().setKey(key).setValue(value.isNull() ? "" : value.asText()));
        }
    }

    /** The shortcut form back, for tables: {@code Path=/hello/**}. */
    static String shortcut(RouteDefinition d) {
        return d.getName() + "=" + String.join(",", d.getArgsList().stream().map(a -> a.getKey().startsWith("_genkey_")
                ? a.getValue() : a.getKey() + ":" + a.getValue()).toList());
    }
}
