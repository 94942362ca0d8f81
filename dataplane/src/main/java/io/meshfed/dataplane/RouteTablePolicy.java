package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The inbound policy a config snapshot gives, read from the current {@link RouteTable}, in this order:
 * <ol>
 *   <li>a revoked caller is refused ({@code revoked});</li>
 *   <li>the service port must have a target with an upstream ({@code unknown_service});</li>
 *   <li>a deny rule of the service that names the caller refuses it ({@code policy_deny}): deny always wins;</li>
 *   <li>a caller whose trust domain the service is exported to is allowed ({@code export});</li>
 *   <li>an allow rule that names the caller allows it ({@code policy_allow});</li>
 *   <li>anyone else is refused ({@code not_exported}).</li>
 * </ol>
 * So a caller is allowed exactly when it is not revoked, no deny rule matches it, and its trust domain is exported to
 * or an allow rule matches it. Refusals for a rule are {@link RefusalReason#UNAUTHORIZED}.
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
            return CallerDecision.refuse(RefusalReason.REVOKED, AuthzReason.REVOKED);
        }
        Target target = table.inbound().get(service);
        if (target == null || !target.hasUpstreams()) {
            return CallerDecision.refuse(RefusalReason.UNKNOWN_SERVICE, AuthzReason.UNKNOWN_SERVICE);
        }
        Optional<CallerRules.Rule> deny = target.callers().denying(caller);
        if (deny.isPresent()) {
            return CallerDecision.byPolicy(deny.get());
        }
        if (target.allowedTrustDomains().contains(caller.trustDomain().name())) {
            return CallerDecision.allow(AuthzReason.EXPORT);
        }
        return target.callers().allowing(caller).map(CallerDecision::byPolicy)
                .orElse(CallerDecision.refuse(RefusalReason.UNAUTHORIZED, AuthzReason.NOT_EXPORTED));
    }
}
