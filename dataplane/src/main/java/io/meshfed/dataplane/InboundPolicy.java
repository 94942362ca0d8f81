package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import io.meshfed.trust.SpiffeId;

/**
 * Whether a verified caller may reach a service port through this proxy's inbound side. Every inbound listener (the
 * SNI listener today, the tunnel listener next) asks this one question, so a rule is written once and holds on every
 * path in. {@code caller} is the identity that reaches the decision: the TLS peer's own SPIFFE ID, or an identity it
 * forwarded and that was accepted for it.
 */
@FunctionalInterface
public interface InboundPolicy {
    CallerDecision decide(ServiceSni service, SpiffeId caller);

    /**
     * The same policy without side effects such as counting, for a check that is not itself a decision of a
     * connection (whether the gateway that forwarded a caller is revoked or denied).
     */
    default InboundPolicy uncounted() {
        return this;
    }
}
