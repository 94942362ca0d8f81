package io.meshfed.gateway;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.ServiceSni;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.dataplane.MeshProxy;
import io.meshfed.dataplane.ProxySettings;
import io.meshfed.dataplane.ProxyStats;
import io.meshfed.dataplane.RefusalReason;
import io.meshfed.dataplane.SourceAttestation;
import io.meshfed.dataplane.Target;
import io.meshfed.trust.tls.TlsCredentials;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;

/**
 * The east-west gateway's data path: a {@link MeshProxy} with an inbound mTLS listener (routed by SNI) and, unless
 * disabled, a tunnel listener (HTTP/2 CONNECT over mTLS), both deciding with the same policy, fed with
 * {@link GatewayRoutes} from each config snapshot.
 */
public final class Gateway implements AutoCloseable {
    private final MeshProxy proxy;
    private final InetAddress outboundBind;
    private final TlsCredentials credentials;
    private volatile java.util.function.BooleanSupplier attestationFresh = () -> true;

    private Gateway(MeshProxy proxy, InetAddress outboundBind, TlsCredentials credentials) {
        this.proxy = proxy;
        this.outboundBind = outboundBind;
        this.credentials = credentials;
    }

    /**
     * Starts the inbound listener on {@code inboundAddress} and the tunnel listener on {@code tunnelAddress} (null:
     * none); outbound listeners bind to {@code outboundBind}.
     */
    public static Gateway start(TlsCredentials credentials, InetSocketAddress inboundAddress,
            InetSocketAddress tunnelAddress, InetAddress outboundBind, ProxySettings settings, Clock clock)
            throws SSLException, InterruptedException {
        requireNonNull(inboundAddress, "inboundAddress");
        requireNonNull(outboundBind, "outboundBind");
        return new Gateway(MeshProxy.start(credentials, inboundAddress, tunnelAddress, settings, clock), outboundBind,
                credentials);
    }

    /** Starts the inbound listener on {@code inboundAddress}, without a tunnel listener. */
    public static Gateway start(TlsCredentials credentials, InetSocketAddress inboundAddress, InetAddress outboundBind,
            ProxySettings settings, Clock clock) throws SSLException, InterruptedException {
        return start(credentials, inboundAddress, null, outboundBind, settings, clock);
    }

    public static Gateway start(TlsCredentials credentials, InetSocketAddress inboundAddress, InetAddress outboundBind,
            Clock clock) throws SSLException, InterruptedException {
        return start(credentials, inboundAddress, outboundBind, ProxySettings.defaults(), clock);
    }

    /**
     * Applies a snapshot: new routes and source attestation at once; outbound listeners opened and closed to match.
     * A snapshot whose routes or attested sources are malformed is refused as a whole (nothing changes).
     */
    public void update(ConfigSnapshot snapshot) {
        SourceAttestation next = GatewayRoutes.attestation(snapshot, credentials.svid().id().trustDomain())
                .whileFresh(attestationFresh);
        proxy.update(GatewayRoutes.of(snapshot, outboundBind), next);
    }

    /**
     * Attested sources are used only while {@code fresh} holds (asked per connection): the node says whether its
     * config stream is recent enough to know who a pod IP is. Set it before the first {@link #update}; by default
     * always (a gateway fed snapshots directly).
     */
    public void attestWhile(java.util.function.BooleanSupplier fresh) {
        this.attestationFresh = requireNonNull(fresh, "fresh");
    }

    /**
     * Who the source address of a plain-TCP connection into an outbound listener is, from the current snapshot: the
     * pods of this gateway's member (a Kubernetes member) that the controller attested. Swapped with each snapshot;
     * read it per connection.
     */
    public SourceAttestation attestation() {
        return proxy.attestation();
    }

    public MeshProxy proxy() {
        return proxy;
    }

    public InetSocketAddress inboundAddress() {
        return proxy.inboundAddress().orElseThrow();
    }

    /** The tunnel listener's address; empty when it is disabled. */
    public Optional<InetSocketAddress> tunnelAddress() {
        return proxy.tunnelAddress();
    }

    public ProxyStats stats() {
        return proxy.stats();
    }

    public long refusals(RefusalReason reason) {
        return proxy.stats().refusals(reason);
    }

    public String version() {
        return proxy.routes().version();
    }

    /** The outbound listener ports open now. */
    public Set<Integer> outboundPorts() {
        return proxy.outboundAddresses().stream().map(InetSocketAddress::getPort).collect(Collectors.toSet());
    }

    /** Whether the current routes let {@code trustDomain} reach a port of the service here. */
    public boolean allows(String service, String namespace, String trustDomain) {
        return proxy.routes().inbound().entrySet().stream().anyMatch(e -> {
            ServiceSni sni = e.getKey();
            Target t = e.getValue();
            return sni.name().equals(service) && sni.namespace().equals(namespace)
                    && t.allowedTrustDomains().contains(trustDomain);
        });
    }

    @Override
    public void close() {
        proxy.close();
    }
}
