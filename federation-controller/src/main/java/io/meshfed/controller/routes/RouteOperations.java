package io.meshfed.controller.routes;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.DeleteRouteRequest;
import io.meshfed.api.v1.Route;
import io.meshfed.api.v1.RouteSet;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.RouteRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreReader;
import io.meshfed.controller.store.StoreTransaction;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The edge gateways' routes: applied (created or replaced by id, all or none), listed, deleted. Each route is
 * checked here for what the controller can know (id, uri form, non-empty predicates, factory names); whether a
 * predicate or filter exists and takes those arguments is the edge gateway's to say, and it rejects (NACKs) a
 * config it cannot apply, which `meshfed status` shows.
 */
public final class RouteOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");
    private static final Pattern FACTORY = Pattern.compile("[A-Za-z][A-Za-z0-9]*");
    private static final Comparator<Route> ORDER = Comparator.comparingInt(Route::getOrder).thenComparing(Route::getId);

    private final Store store;
    private final java.util.function.Supplier<List<io.meshfed.api.v1.SubscriberStatus>> subscribers;

    /** {@code subscribers}: the config streams this replica holds, whose edge gateways report rejected routes. */
    public RouteOperations(Store store, java.util.function.Supplier<List<io.meshfed.api.v1.SubscriberStatus>>
            subscribers) {
        this.store = requireNonNull(store, "store");
        this.subscribers = requireNonNull(subscribers, "subscribers");
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }

    public RouteSet apply(RouteSet request) {
        if (request.getRoutesCount() == 0) {
            throw invalid("no routes to apply");
        }
        Set<String> ids = new HashSet<>();
        for (Route r : request.getRoutesList()) {
            validate(r);
            if (!ids.add(r.getId())) {
                throw invalid("route '" + r.getId() + "' appears twice");
            }
        }
        store.transact(tx -> {
            for (Route r : request.getRoutesList()) {
                Records.put(tx, Kind.ROUTE, r.getId(), RouteProtos.record(r), StoreTransaction.ANY);
            }
            return null;
        });
        AUDIT.info("routes applied: {}", ids);
        return withRejections(request.getRoutesList().stream().sorted(ORDER).toList());
    }

    public RouteSet list() {
        return withRejections(routes(store));
    }

    /**
     * The routes, with what the connected edge gateways' latest NACKs say of them (of routes that exist only: an edge
     * cannot make up rows). Rejections are as of the version each edge last NACKed, until it ACKs a later one.
     */
    private RouteSet withRejections(List<Route> routes) {
        Set<String> ids = new HashSet<>();
        routes.forEach(r -> ids.add(r.getId()));
        RouteSet.Builder out = RouteSet.newBuilder().addAllRoutes(routes);
        for (io.meshfed.api.v1.SubscriberStatus s : subscribers.get()) {
            for (io.meshfed.api.v1.RejectedRoute r : s.getRejectedRoutesList()) {
                if (ids.contains(r.getRouteId())) {
                    out.addRejections(io.meshfed.api.v1.RouteRejection.newBuilder().setRouteId(r.getRouteId())
                            .setSubscriber(s.getSpiffeId()).setMember(s.getMember()).setReason(r.getReason()));
                }
            }
        }
        return out.build();
    }

    public RouteSet delete(DeleteRouteRequest request) {
        boolean deleted = store.transact(tx -> tx.delete(Kind.ROUTE.storeName(), request.getId(), StoreTransaction.ANY));
        if (!deleted) {
            throw new NotFoundException("route '" + request.getId() + "' does not exist; see: meshfed"
                    + " route list");
        }
        AUDIT.info("route deleted: {}", request.getId());
        return list();
    }

    /** Every route, sorted by order then id. */
    public static List<Route> routes(StoreReader reader) {
        return Records.list(reader, Kind.ROUTE, RouteRecord.class).stream().map(RouteProtos::proto).sorted(ORDER)
                .toList();
    }

    static void validate(Route r) {
        String name = "route '" + r.getId() + "'";
        if (!ROUTE_ID.matcher(r.getId()).matches()) {
            throw invalid("route id '" + r.getId() + "' must be 1 to 253 letters, digits, '_', '-', '.' or '~',"
                    + " starting with a letter or digit (e.g. path_route)");
        }
        String uri = r.getUri();
        String service = uri.startsWith("lb://") ? uri.substring(5)
                : uri.startsWith("lb:ws://") ? uri.substring(8) : uri.startsWith("lb:wss://") ? uri.substring(9) : null;
        if (service != null) {
            String[] parts = service.split("\\.", -1);
            if (parts.length != 2 || !DnsLabel.matches(parts[0]) || !DnsLabel.matches(parts[1])) {
                throw invalid(name + ": uri '" + uri + "' must be lb://<service>.<namespace>, e.g. lb://hello.demo");
            }
        } else if (uri.startsWith("http://") || uri.startsWith("https://") || uri.startsWith("ws://")
                || uri.startsWith("wss://")) {
            try {
                java.net.URI parsed = new java.net.URI(uri);
                if (parsed.getHost() == null) {
                    throw new java.net.URISyntaxException(uri, "no host");
                }
            } catch (java.net.URISyntaxException e) {
                throw invalid(name + ": uri '" + uri + "' is not a valid URL: " + e.getReason());
            }
        } else {
            throw invalid(name + ": uri '" + uri + "' must start with lb://, http://, https://,"
                    + " ws://, wss:// or lb:ws://");
        }
        // No predicates: the route matches every request, as in Spring Cloud Gateway (order it after the others).
        r.getPredicatesList().forEach(d -> checkFactory(name, "predicate", d.getName()));
        r.getFiltersList().forEach(d -> checkFactory(name, "filter", d.getName()));
    }

    /**
     * Spring Cloud Gateway takes any string as a route id; ids here are also store keys, CLI arguments
     * ({@code meshfed route delete ID}) and metric labels, so they keep to URL-safe characters.
     */
    private static final java.util.regex.Pattern ROUTE_ID = java.util.regex.Pattern.compile(
            "[A-Za-z0-9][A-Za-z0-9._~-]{0,252}");

    private static void checkFactory(String route, String what, String factory) {
        if (!FACTORY.matcher(factory).matches()) {
            throw invalid(route + ": " + what + " name '" + factory + "' must be a factory name such as Path or"
                    + " StripPrefix");
        }
    }
}
