package io.meshfed.controller.model;

import java.util.List;

/**
 * A north-south route for the edge gateways (Spring Cloud Gateway's model). Arguments are kept as ordered pairs:
 * the order of shortcut arguments is meaningful to the gateway.
 */
public record RouteRecord(String id, String uri, int order, List<Definition> predicates, List<Definition> filters,
        List<Arg> metadata) {
    public RouteRecord {
        predicates = predicates == null ? List.of() : List.copyOf(predicates);
        filters = filters == null ? List.of() : List.copyOf(filters);
        metadata = metadata == null ? List.of() : List.copyOf(metadata);
    }

    /** A predicate or filter factory and its arguments. */
    public record Definition(String name, List<Arg> args) {
        public Definition {
            args = args == null ? List.of() : List.copyOf(args);
        }
    }

    public record Arg(String key, String value) {}
}
