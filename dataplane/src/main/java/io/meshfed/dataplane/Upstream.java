package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.trust.SpiffeId;

/**
 * One place a connection can be carried to, and how: plain TCP to a workload, mTLS to the VM agent in front of a
 * workload (whose SPIFFE ID must match {@code identity}), or mTLS to another network's east-west gateway (any
 * verified gateway identity). {@code sni} is the service's SNI for the two mTLS hops.
 */
public record Upstream(String network, String host, int port, Hop hop, String sni, SpiffeId identity) {
    /** How the upstream is reached. */
    public enum Hop {
        PLAIN, AGENT, GATEWAY
    }

    public Upstream {
        requireNonNull(network, "network");
        requireNonNull(host, "host");
        requireNonNull(hop, "hop");
        if (hop != Hop.PLAIN) {
            requireNonNull(sni, "sni");
        }
        if (hop == Hop.AGENT) {
            requireNonNull(identity, "identity");
        }
    }

    public static Upstream plain(String network, String host, int port) {
        return new Upstream(network, host, port, Hop.PLAIN, null, null);
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
