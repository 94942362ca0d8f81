package io.meshfed.edge;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteArg;
import io.meshfed.api.v1.RouteDefinition;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.cloud.gateway.filter.FilterDefinition;
import org.springframework.cloud.gateway.handler.predicate.PredicateDefinition;
import org.springframework.cloud.gateway.route.RouteDefinitionLocator;
import reactor.core.publisher.Flux;

/**
 * The controller's routes as Spring Cloud Gateway route definitions, beside those of the application's own
 * configuration (Spring composes every {@link RouteDefinitionLocator}). Swapped whole on each snapshot; the gateway
 * rebuilds its routes on the refresh event that follows.
 */
public final class FederatedRoutes implements RouteDefinitionLocator {
    private final AtomicReference<List<org.springframework.cloud.gateway.route.RouteDefinition>> routes =
            new AtomicReference<>(List.of());

    void update(ConfigSnapshot snapshot) {
        routes.set(snapshot.getRoutesList().stream().map(FederatedRoutes::definition).toList());
    }

    @Override
    public Flux<org.springframework.cloud.gateway.route.RouteDefinition> getRouteDefinitions() {
        return Flux.fromIterable(routes.get());
    }

    /** Throws when a snapshot's routes cannot become definitions, so the snapshot is rejected (NACK). */
    static void validate(ConfigSnapshot snapshot) {
        snapshot.getRoutesList().forEach(FederatedRoutes::definition);
    }

    static org.springframework.cloud.gateway.route.RouteDefinition definition(Route r) {
        org.springframework.cloud.gateway.route.RouteDefinition d = new org.springframework.cloud.gateway.route
                .RouteDefinition();
        d.setId("meshfed-" + r.getId());
        d.setUri(URI.create(r.getUri()));
        d.setOrder(r.getOrder());
        for (RouteDefinition p : r.getPredicatesList()) {
            PredicateDefinition pd = new PredicateDefinition();
            pd.setName(p.getName());
            pd.setArgs(args(p.getArgsList()));
            d.getPredicates().add(pd);
        }
        for (RouteDefinition f : r.getFiltersList()) {
            FilterDefinition fd = new FilterDefinition();
            fd.setName(f.getName());
            fd.setArgs(args(f.getArgsList()));
            d.getFilters().add(fd);
        }
        Map<String, Object> metadata = new LinkedHashMap<>();
        r.getMetadataList().forEach(a -> metadata.put(a.getKey(), a.getValue()));
        d.setMetadata(metadata);
        return d;
    }

    private static Map<String, String> args(List<RouteArg> args) {
        Map<String, String> m = new LinkedHashMap<>(); // order matters for shortcut arguments
        args.forEach(a -> m.put(a.getKey(), a.getValue()));
        return m;
    }
}
