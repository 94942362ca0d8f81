package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;
import java.util.Set;

/**
 * One place a connection can be carried to, and how: plain TCP to a workload, mTLS to the VM agent in front of a
 * workload, mTLS to another network's east-west gateway, or a stream of a pooled tunnel to that gateway's tunnel
 * listener. {@code sni} is the service's SNI for the other hops (a tunnel stream names the same service port in its
 * {@code :authority}); {@code identities} are the SPIFFE IDs the snapshot allows to answer there (the agent's own,
 * or the destination network's gateways'): the peer must present one of them, and an empty set accepts nobody.
 */
public record Upstream(String network, String host, int port, Hop hop, String sni, Set<SpiffeId> identities) {
    /** How the upstream is reached. */
    public enum Hop {
        PLAIN, AGENT, GATEWAY, TUNNEL
    }

    public Upstream {
        requireNonNull(network, "network");
        requireNonNull(host, "host");
        requireNonNull(hop, "hop");
        if (hop != Hop.PLAIN) {
            requireNonNull(sni, "sni");
        }
        identities = identities == null ? Set.of() : Set.copyOf(identities);
    }

    public static Upstream plain(String network, String host, int port) {
        return new Upstream(network, host, port, Hop.PLAIN, null, Set.of());
    }

    /** The VM agent in front of a workload, which must present {@code identity}. */
    public static Upstream agent(String network, String host, int port, String sni, SpiffeId identity) {
        return new Upstream(network, host, port, Hop.AGENT, sni, Set.of(requireNonNull(identity, "identity")));
    }

    /** Another network's east-west gateway, which must present one of {@code identities}. */
    public static Upstream gateway(String network, String host, int port, String sni, Set<SpiffeId> identities) {
        return new Upstream(network, host, port, Hop.GATEWAY, sni, identities);
    }

    /** Another network's gateway reached through its tunnel listener, which must present one of {@code identities}. */
    public static Upstream tunnel(String network, String host, int port, String sni, Set<SpiffeId> identities) {
        return new Upstream(network, host, port, Hop.TUNNEL, sni, identities);
    }

    /** The key its health is kept under: the same address reached the same way is the same upstream. */
    public String key() {
        return hop + " " + host + ":" + port + (sni == null ? "" : " " + sni);
    }

    @Override
    public String toString() {
        return key();
    }
}
