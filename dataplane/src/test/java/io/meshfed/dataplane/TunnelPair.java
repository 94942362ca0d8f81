package io.meshfed.dataplane;

import io.meshfed.api.ServiceSni;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two real proxies on loopback with real certificates: east's gateway (SNI listener and tunnel listener, hello.demo
 * carried to an echo workload, open to the trust domains given) and west's gateway, whose outbound listener carries
 * plain TCP to east through a tunnel. Both serve /metrics, so tests read the counters as an operator would.
 */
final class TunnelPair implements AutoCloseable {
    static final String EAST = "east.acme.mesh";
    static final String WEST = "west.acme.mesh";
    final TestPki east = TestPki.create(EAST, Instant.now());
    final TestPki west = TestPki.create(WEST, Instant.now());
    final TestPki north = TestPki.create("north.acme.mesh", Instant.now());
    final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle(), north.bundle());
    final SpiffeId eastGw = SpiffeId.parse("spiffe://" + EAST + "/meshfed/gateway/east-gw");
    final SpiffeId westGw = SpiffeId.parse("spiffe://" + WEST + "/meshfed/gateway/west-gw");
    final EchoBackend backend;
    final ServiceSni sni;
    final MeshProxy receiver;
    final MeshProxy sender;
    final ProxyHttp receiverHttp;
    final ProxyHttp senderHttp;
    final InetSocketAddress outbound;

    TunnelPair(ProxySettings receiverSettings, ProxySettings senderSettings, Set<String> allowed) throws Exception {
        backend = new EchoBackend();
        sni = new ServiceSni(backend.port(), "hello", "demo");
        receiver = MeshProxy.start(TlsCredentials.of(east.svid(eastGw.path()), bundles),
                new InetSocketAddress("127.0.1.1", 0), new InetSocketAddress("127.0.1.1", 0), receiverSettings,
                Clock.systemUTC());
        allow(allowed);
        sender = MeshProxy.start(TlsCredentials.of(west.svid(westGw.path()), bundles), null, senderSettings,
                Clock.systemUTC());
        outbound = new InetSocketAddress("127.0.2.1", freePort("127.0.2.1"));
        sender.update(new RouteTable("west-1", Map.of(), Map.of(outbound, new Target(name(),
                List.of(new Tier("east", List.of(tunnelHop(Set.of(eastGw))))), Set.of()))));
        receiverHttp = new ProxyHttp(new InetSocketAddress("127.0.1.1", 0), "meshfed.gateway", receiver, () -> true,
                r -> { });
        senderHttp = new ProxyHttp(new InetSocketAddress("127.0.2.1", 0), "meshfed.gateway", sender, () -> true,
                r -> { });
    }

    String name() {
        return "hello.demo:" + backend.port();
    }

    /**
     * The trust domains east lets reach hello.demo, on both of its listeners; west's gateway may forward its pods'
     * identities (west is a Kubernetes member's trust domain), as the table's forwarders say.
     */
    void allow(Set<String> trustDomains) {
        allow(trustDomains, Set.of(WEST));
    }

    /** As {@link #allow(Set)}, with the trust domains whose gateways may forward a caller's identity. */
    void allow(Set<String> trustDomains, Set<String> forwarders) {
        receiver.update(new RouteTable("east-" + trustDomains.hashCode() + "-" + forwarders.hashCode(), Map.of(sni,
                new Target(name(), List.of(new Tier("east", List.of(Upstream.plain("east", "127.0.0.1",
                        backend.port())))), trustDomains)), Map.of(), receiver.routes().revoked(), forwarders));
    }

    Upstream tunnelHop(Set<SpiffeId> identities) {
        InetSocketAddress t = receiver.tunnelAddress().orElseThrow();
        return Upstream.tunnel("east", t.getHostString(), t.getPort(), sni.toString(), identities);
    }

    /** Sends west's outbound traffic for hello.demo through a tunnel to {@code receiver} (east's identity pinned). */
    void routeTo(InetSocketAddress receiver) {
        sender.update(new RouteTable("west-to-" + receiver.getPort(), Map.of(), Map.of(outbound, new Target(name(),
                List.of(new Tier("east", List.of(Upstream.tunnel("east", receiver.getHostString(), receiver.getPort(),
                        sni.toString(), Set.of(eastGw))))), Set.of()))));
    }

    InetSocketAddress tunnel() {
        return receiver.tunnelAddress().orElseThrow();
    }

    Socket connect() throws IOException {
        return new Socket(outbound.getAddress(), outbound.getPort());
    }

    static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return s.getLocalPort();
        }
    }

    /** The value of one sample of the proxy's /metrics, e.g. {@code meshfed_tunnel_connections_total{direction="outbound"}}. */
    static double metric(ProxyHttp http, String sample) throws Exception {
        InetSocketAddress a = http.address();
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://"
                + a.getHostString() + ":" + a.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(sample) + " (\\S+)$").matcher(body);
        if (!m.find()) {
            throw new AssertionError("no sample " + sample + " in\n" + body);
        }
        return Double.parseDouble(m.group(1));
    }

    @Override
    public void close() throws IOException {
        senderHttp.close();
        receiverHttp.close();
        sender.close();
        receiver.close();
        backend.close();
    }
}
