package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import java.util.function.Supplier;

/**
 * The inbound policy a config snapshot gives, read from the current {@link RouteTable}: a revoked caller is refused
 * first; then the service port must have a target with an upstream; then the caller's trust domain must be one the
 * target allows (the members the service is exported to).
 */
public final class RouteTablePolicy implements InboundPolicy {
    private final Supplier<RouteTable> routes;

    public RouteTablePolicy(Supplier<RouteTable> routes) {
        this.routes = routes;
    }

    @Override
    public CallerDecision decide(ServiceSni service, SpiffeId caller) {
        RouteTable table = routes.get();
        if (table.revoked().contains(caller.toString())) {
            return CallerDecision.refuse(RefusalReason.REVOKED, "revoked");
        }
        Target target = table.inbound().get(service);
        if (target == null || !target.hasUpstreams()) {
            return CallerDecision.refuse(RefusalReason.UNKNOWN_SERVICE, "unknown_service");
        }
        if (!target.allowedTrustDomains().contains(caller.trustDomain().name())) {
            return CallerDecision.refuse(RefusalReason.UNAUTHORIZED, "not_exported");
        }
        return CallerDecision.allow("export");
    }
}
