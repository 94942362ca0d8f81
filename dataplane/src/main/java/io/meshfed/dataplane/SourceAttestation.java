package io.meshfed.dataplane;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.v1.AttestedSource;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.trust.MeshfedIds;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.TrustDomain;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who a plain-TCP connection into a gateway's outbound listener comes from, by its source address: the pods of the
 * gateway's own Kubernetes member that the controller attested ({@code ConfigSnapshot.attested_sources}), each with
 * its workload ID. A source that is not listed is attested as nobody (the connection travels as the gateway itself).
 * Immutable; built from each snapshot and swapped with it.
 *
 * <p>Only workload IDs ({@code /ns/<ns>/sa/<sa>}) in the gateway's own trust domain are accepted, since a gateway
 * can speak only for its own member; a snapshot with any other entry, a malformed address or an address listed twice
 * is refused as a whole (the subscriber rejects it and keeps its previous config). IPv4-mapped IPv6 sources are
 * looked up as the IPv4 address they map.
 */
public final class SourceAttestation {
    private static final java.util.function.BooleanSupplier ALWAYS = () -> true;
    private static final SourceAttestation NONE = new SourceAttestation("", Map.of(), ALWAYS);

    private final String version;
    /** By the address's canonical text ({@link NetUtil#bytesToIpAddress(byte[])} of its normalised bytes). */
    private final Map<String, SpiffeId> byAddress;
    private final java.util.function.BooleanSupplier fresh;

    private SourceAttestation(String version, Map<String, SpiffeId> byAddress, java.util.function.BooleanSupplier fresh) {
        this.version = version;
        this.byAddress = byAddress;
        this.fresh = fresh;
    }

    /**
     * The same sources, attested only while {@code fresh} says the config they came from is current (asked per
     * connection): a gateway whose config stream has been down too long no longer knows who a pod IP is.
     */
    public SourceAttestation whileFresh(java.util.function.BooleanSupplier fresh) {
        return new SourceAttestation(version, byAddress, java.util.Objects.requireNonNull(fresh, "fresh"));
    }

    /** Whether the sources are in effect now (false while the config they came from is too old). */
    public boolean isFresh() {
        return fresh.getAsBoolean();
    }

    /** Attests nobody. */
    public static SourceAttestation none() {
        return NONE;
    }

    /**
     * The attested sources of {@code snapshot}, for a gateway of trust domain {@code own}.
     *
     * @throws IllegalArgumentException naming the entry, when one is not an IP literal with a workload ID of
     *     {@code own}, or an address is listed twice
     */
    public static SourceAttestation of(ConfigSnapshot snapshot, TrustDomain own) {
        requireNonNull(snapshot, "snapshot");
        requireNonNull(own, "own");
        if (snapshot.getAttestedSourcesCount() == 0) {
            return new SourceAttestation(snapshot.getVersion(), Map.of(), ALWAYS);
        }
        Map<String, SpiffeId> byAddress = new HashMap<>(snapshot.getAttestedSourcesCount() * 4 / 3 + 1);
        for (AttestedSource s : snapshot.getAttestedSourcesList()) {
            String what = "attested source " + s.getAddress() + " (" + s.getIdentity() + ")";
            byte[] ip = s.getAddress().indexOf('%') >= 0 ? null
                    : NetUtil.createByteArrayFromIpAddressString(s.getAddress());
            if (ip == null) {
                throw new IllegalArgumentException(what + ": the address is not an IP literal");
            }
            SpiffeId id;
            try {
                id = SpiffeId.parse(s.getIdentity());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
            }
            if (!id.trustDomain().equals(own) || !MeshfedIds.hasRole(id, MeshfedIds.Role.WORKLOAD)) {
                throw new IllegalArgumentException(what + ": only workload IDs (/ns/NS/sa/SA) of this gateway's own"
                        + " trust domain " + own + " can be attested");
            }
            if (byAddress.put(key(ip), id) != null) {
                throw new IllegalArgumentException(what + ": the address is listed more than once");
            }
        }
        return new SourceAttestation(snapshot.getVersion(), Map.copyOf(byAddress), ALWAYS);
    }

    /** The workload that {@code source} is, when the snapshot attested it and is fresh; empty otherwise. */
    public Optional<SpiffeId> attest(InetAddress source) {
        if (source == null || byAddress.isEmpty() || !fresh.getAsBoolean()) {
            return Optional.empty();
        }
        return Optional.ofNullable(byAddress.get(key(source.getAddress())));
    }

    /** How many source addresses are attested. */
    public int size() {
        return byAddress.size();
    }

    /** The version of the snapshot this was built from (empty for {@link #none()}). */
    public String version() {
        return version;
    }

    /** IPv4-mapped IPv6 as the IPv4 address; everything else as is. */
    private static String key(byte[] ip) {
        if (ip.length == 16 && isIpv4Mapped(ip)) {
            ip = Arrays.copyOfRange(ip, 12, 16);
        }
        return NetUtil.bytesToIpAddress(ip);
    }

    private static boolean isIpv4Mapped(byte[] ip) {
        for (int i = 0; i < 10; i++) {
            if (ip[i] != 0) {
                return false;
            }
        }
        return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
    }

    @Override
    public String toString() {
        return "SourceAttestation[" + version + ", " + byAddress.size() + " sources]";
    }
}
