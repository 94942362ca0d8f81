package io.meshfed.dataplane;

import io.meshfed.trust.SpiffeId;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether the verified peer of an upstream connection may answer it: only the SPIFFE IDs the snapshot names for the
 * upstream may (none named: nobody). Shared by every connector that dials mTLS, so an agent, a gateway and a tunnel
 * are pinned by the same rule and refused with the same words.
 */
final class PeerCheck {
    private PeerCheck() {}

    /** Why {@code peer} may not answer an upstream that names {@code allowed}; empty when it may. */
    static Optional<String> wrongPeer(Set<SpiffeId> allowed, Optional<SpiffeId> peer) {
        if (peer.isEmpty()) {
            return Optional.of("the peer presented no SPIFFE ID");
        }
        if (!allowed.contains(peer.get())) {
            return Optional.of("the peer presented " + peer.get() + ", expected " + (allowed.isEmpty()
                    ? "none (the snapshot names no identity for this upstream)"
                    : "one of " + new TreeSet<>(allowed.stream().map(SpiffeId::toString).toList())));
        }
        return Optional.empty();
    }
}
