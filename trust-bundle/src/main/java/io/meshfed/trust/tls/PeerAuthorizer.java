package io.meshfed.trust.tls;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import java.util.Optional;
import java.util.Set;

/**
 * Decides, after a peer's SVID verified, whether this SPIFFE ID may connect. Runs inside the handshake, so a refused
 * peer never gets to send application data.
 */
@FunctionalInterface
public interface PeerAuthorizer {
    /** Empty when allowed; otherwise the reason (logged and sent nowhere). */
    Optional<String> refusal(SpiffeId peer);

    /** Any peer whose SVID verifies against the bundle set. */
    static PeerAuthorizer anyVerified() {
        return peer -> Optional.empty();
    }

    static PeerAuthorizer ids(Set<SpiffeId> allowed) {
        Set<SpiffeId> copy = Set.copyOf(requireNonNull(allowed, "allowed"));
        return peer -> copy.contains(peer) ? Optional.empty() : Optional.of(peer + " is not among the allowed IDs");
    }

    static PeerAuthorizer trustDomains(Set<TrustDomain> allowed) {
        Set<TrustDomain> copy = Set.copyOf(requireNonNull(allowed, "allowed"));
        return peer -> copy.contains(peer.trustDomain()) ? Optional.empty()
                : Optional.of("trust domain " + peer.trustDomain() + " is not allowed");
    }
}
