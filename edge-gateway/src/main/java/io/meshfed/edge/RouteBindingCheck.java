package io.meshfed.edge;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Route;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.cloud.gateway.filter.FilterDefinition;
import org.springframework.cloud.gateway.filter.factory.GatewayFilterFactory;
import org.springframework.cloud.gateway.handler.predicate.PredicateDefinition;
import org.springframework.cloud.gateway.handler.predicate.RoutePredicateFactory;
import org.springframework.cloud.gateway.route.RouteDefinition;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.cloud.gateway.support.HasRouteId;

/**
 * Builds every route of a snapshot with this gateway's own predicate and filter factories and binder, as Spring Cloud
 * Gateway's route locator will, and throws {@link io.meshfed.api.config.RoutesRejectedException} naming every route
 * that does not load, with its factory and binding error: the snapshot is then NACKed with them (shown by
 * {@code meshfed route list} and {@code meshfed status}) instead of the route being dropped with a log line. The factories are looked up when a snapshot arrives (some of them depend on the edge
 * node that receives the snapshots).
 */
final class RouteBindingCheck {
    private final ListableBeanFactory beans;

    RouteBindingCheck(ListableBeanFactory beans) {
        this.beans = beans;
    }

    /** The factories of one kind by the name routes use ({@code Path}, {@code Retry}). */
    private <F> Map<String, F> byName(Class<F> kind, Function<F, String> name) {
        Map<String, F> m = new TreeMap<>();
        beans.getBeansOfType(kind).values().forEach(f -> m.put(name.apply(f), f));
        return m;
    }

    void check(ConfigSnapshot snapshot) {
        if (snapshot.getRoutesCount() == 0) {
            return;
        }
        @SuppressWarnings("rawtypes")
        Map<String, RoutePredicateFactory> predicateFactories = byName(RoutePredicateFactory.class,
                RoutePredicateFactory::name);
        @SuppressWarnings("rawtypes")
        Map<String, GatewayFilterFactory> filterFactories = byName(GatewayFilterFactory.class,
                GatewayFilterFactory::name);
        ConfigurationService binder = beans.getBean(ConfigurationService.class);
        java.util.List<io.meshfed.api.v1.RejectedRoute> rejected = new java.util.ArrayList<>();
        for (Route r : snapshot.getRoutesList()) {
            problem(r, predicateFactories, filterFactories, binder).ifPresent(why -> rejected.add(
                    io.meshfed.api.v1.RejectedRoute.newBuilder().setRouteId(r.getId()).setReason(why).build()));
        }
        if (!rejected.isEmpty()) {
            throw new io.meshfed.api.config.RoutesRejectedException(rejected);
        }
    }

    /** Why {@code r} does not load, if it does not: the first predicate or filter that fails. */
    @SuppressWarnings("rawtypes")
    private static java.util.Optional<String> problem(Route r, Map<String, RoutePredicateFactory> predicateFactories,
            Map<String, GatewayFilterFactory> filterFactories, ConfigurationService binder) {
        RouteDefinition d = FederatedRoutes.definition(r);
        for (PredicateDefinition p : d.getPredicates()) {
            RoutePredicateFactory<?> factory = predicateFactories.get(p.getName());
            if (factory == null) {
                return java.util.Optional.of("no predicate named " + p.getName() + " (this edge gateway has "
                        + String.join(", ", predicateFactories.keySet()) + ")");
            }
            try {
                predicate(binder, factory, p);
            } catch (RuntimeException e) {
                return java.util.Optional.of("predicate " + p.getName() + " does not load: " + reason(e));
            }
        }
        for (FilterDefinition f : d.getFilters()) {
            GatewayFilterFactory<?> factory = filterFactories.get(f.getName());
            if (factory == null) {
                return java.util.Optional.of("no filter named " + f.getName() + " (this edge gateway has "
                        + String.join(", ", filterFactories.keySet()) + ")");
            }
            try {
                filter(binder, factory, f, d.getId());
            } catch (RuntimeException e) {
                return java.util.Optional.of("filter " + f.getName() + " does not load: " + reason(e));
            }
        }
        return java.util.Optional.empty();
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void predicate(ConfigurationService binder, RoutePredicateFactory factory, PredicateDefinition p) {
        Object config = binder.with(factory).name(p.getName()).properties(p.getArgs()).bind();
        factory.applyAsync(config);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void filter(ConfigurationService binder, GatewayFilterFactory factory, FilterDefinition f,
            String routeId) {
        Object config = binder.with(factory).name(f.getName()).properties(f.getArgs()).bind();
        if (config instanceof HasRouteId withId) {
            withId.setRouteId(routeId);
        }
        factory.apply(config);
    }

    /** The innermost message, which names the property and the value (a binding error wraps it twice). */
    private static String reason(Throwable e) {
        String message = e.getMessage();
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
            if (c.getMessage() != null) {
                message = message + "; " + c.getMessage();
            }
        }
        return message == null ? e.toString() : message.length() > 400 ? message.substring(0, 400) + "…" : message;
    }
}
