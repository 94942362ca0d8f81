package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.AttestedSource;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.GatewayRoute;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.dataplane.AuthzReason;
import io.meshfed.dataplane.ProxySettings;
import io.meshfed.dataplane.RefusalReason;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.testing.TestPki;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A Kubernetes pod's identity end to end: west's gateway attests the pod by its source address (the snapshot's
 * attested sources) and sends its SPIFFE ID on the tunnel stream; east's gateway authorizes that caller, not "network
 * west". A source the snapshot does not attest travels as west's gateway itself and gets only what the gateway gets.
 */
class PodCallerTunnelTest {
    private static final String CART = "spiffe://west.acme.mesh/ns/shop/sa/cart";
    private final TestPki east = TestPki.create("east.acme.mesh", Instant.now());
    private final TestPki west = TestPki.create("west.acme.mesh", Instant.now());
    private final BundleSet bundles = BundleSet.of(east.bundle(), west.bundle());
    private EchoBackend backend;
    private Gateway eastGateway;
    private Gateway westGateway;
    private int outboundPort;

    @BeforeEach
    void start() throws Exception {
        backend = new EchoBackend();
        eastGateway = Gateway.start(TlsCredentials.of(east.svid("/meshfed/gateway/east-gw"), bundles),
                new InetSocketAddress("127.0.1.1", 0), new InetSocketAddress("127.0.1.1", 0),
                InetAddress.getByName("127.0.1.1"), ProxySettings.defaults(), Clock.systemUTC());
        westGateway = Gateway.start(TlsCredentials.of(west.svid("/meshfed/gateway/west-gw"), bundles),
                new InetSocketAddress("127.0.2.1", 0), InetAddress.getByName("127.0.2.1"), Clock.systemUTC());
        // hello.demo is exported to nobody in network west: only the admin's rule for cart lets a caller in.
        eastGateway.update(ConfigSnapshot.newBuilder().setVersion("east-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.port()))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addRules(CallerRule.newBuilder().setId("cart").setEffect(CallerRule.Effect.ALLOW)
                                .setFrom(CART)))
                .addForwardingTrustDomains("west.acme.mesh") // west is a Kubernetes member: its gateway attests pods
                .build());
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.2.1"))) {
            outboundPort = probe.getLocalPort();
        }
        InetSocketAddress eastIn = eastGateway.inboundAddress();
        InetSocketAddress eastTunnel = eastGateway.tunnelAddress().orElseThrow();
        westGateway.update(ConfigSnapshot.newBuilder().setVersion("west-1")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                        .setGatewayAddress("127.0.1.1:" + eastIn.getPort())
                                        .setSni(backend.port() + ".hello.demo.svc.meshfed")
                                        .setTunnelAddress("127.0.1.1:" + eastTunnel.getPort())
                                        .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo")
                        .setServicePort(backend.port()).setListenPort(outboundPort))
                .addAttestedSources(AttestedSource.newBuilder().setAddress("127.0.2.50").setIdentity(CART))
                .build());
    }

    @AfterEach
    void stop() throws IOException {
        westGateway.close();
        eastGateway.close();
        backend.close();
    }

    private Socket from(String source) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(source, 0));
        s.connect(new InetSocketAddress("127.0.2.1", outboundPort), 5_000);
        s.setSoTimeout(10_000);
        return s;
    }

    @Test
    void theAttestedPodIsAllowedAsItselfAndAnUnattestedSourceTravelsAsTheGatewayAndIsRefused() throws Exception {
        try (Socket cart = from("127.0.2.50")) {
            assertThat(EchoBackend.exchange(cart, "from cart")).isEqualTo("from cart");
        }
        assertThat(eastGateway.stats().authzDecisions(AuthzReason.POLICY_ALLOW)).isEqualTo(1);

        try (Socket other = from("127.0.2.51")) {
            other.getOutputStream().write("from an unattested pod".getBytes(StandardCharsets.UTF_8));
            assertThat(other.getInputStream().read()).as("refused, closed").isEqualTo(-1);
        }
        assertThat(eastGateway.stats().authzDecisions(AuthzReason.NOT_EXPORTED)).isEqualTo(1);
        assertThat(eastGateway.refusals(RefusalReason.UNAUTHORIZED)).isEqualTo(1);
        assertThat(backend.connections()).as("the refused caller's bytes never reached the workload").hasValue(1);
    }

    @Test
    void aGatewayWhoseTrustDomainIsNoKubernetesMembersMayNotSpeakForAPod() throws Exception {
        // The same allow rule for cart, but east's snapshot no longer names west among the forwarders (say west is a
        // VM member): west's gateway speaking for cart is a forgery, refused with its reason.
        eastGateway.update(ConfigSnapshot.newBuilder().setVersion("east-vm-west")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.port()))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addRules(CallerRule.newBuilder().setId("cart").setEffect(CallerRule.Effect.ALLOW)
                                .setFrom(CART)))
                .build());
        try (Socket cart = from("127.0.2.50")) {
            cart.getOutputStream().write("claims to be cart".getBytes(StandardCharsets.UTF_8));
            assertThat(cart.getInputStream().read()).as("refused, closed").isEqualTo(-1);
        }
        assertThat(eastGateway.refusals(RefusalReason.FORGED_IDENTITY)).isEqualTo(1);
        assertThat(eastGateway.stats().authzDecisions(AuthzReason.POLICY_ALLOW)).isZero();
        assertThat(backend.connections()).as("the forged caller's bytes never reached the workload").hasValue(0);
    }

    @Test
    void aNewSnapshotWithoutThePodStopsSpeakingForIt() throws Exception {
        InetSocketAddress eastIn = eastGateway.inboundAddress();
        InetSocketAddress eastTunnel = eastGateway.tunnelAddress().orElseThrow();
        westGateway.update(ConfigSnapshot.newBuilder().setVersion("west-2")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                        .setGatewayAddress("127.0.1.1:" + eastIn.getPort())
                                        .setSni(backend.port() + ".hello.demo.svc.meshfed")
                                        .setTunnelAddress("127.0.1.1:" + eastTunnel.getPort())
                                        .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo")
                        .setServicePort(backend.port()).setListenPort(outboundPort))
                .build());
        try (Socket cart = from("127.0.2.50")) {
            cart.getOutputStream().write("pod gone".getBytes(StandardCharsets.UTF_8));
            assertThat(cart.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(eastGateway.stats().authzDecisions(AuthzReason.POLICY_ALLOW)).isZero();
        assertThat(eastGateway.stats().authzDecisions(AuthzReason.NOT_EXPORTED)).isEqualTo(1);
        assertThat(backend.connections()).hasValue(0);
    }

    @Test
    void anAttestedPodIsNeverCarriedAsTheGatewayOverAnSniHop() throws Exception {
        // East exports hello.demo to west's trust domain but denies cart; west's route names no tunnel (SNI only).
        eastGateway.update(ConfigSnapshot.newBuilder().setVersion("east-2")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(true)
                                .addEndpoints(Endpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.port()))))
                .addAuthorization(AuthorizationPolicy.newBuilder().setService("hello").setNamespace("demo")
                        .addAllowedTrustDomains("west.acme.mesh")
                        .addRules(CallerRule.newBuilder().setId("no-cart").setEffect(CallerRule.Effect.DENY)
                                .setFrom(CART)))
                .build());
        InetSocketAddress eastIn = eastGateway.inboundAddress();
        westGateway.update(ConfigSnapshot.newBuilder().setVersion("west-sni")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo")
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .addRoutes(GatewayRoute.newBuilder().setPort(backend.port())
                                        .setGatewayAddress("127.0.1.1:" + eastIn.getPort())
                                        .setSni(backend.port() + ".hello.demo.svc.meshfed")
                                        .addIdentities("spiffe://east.acme.mesh/meshfed/gateway/east-gw"))))
                .addOutbound(OutboundListener.newBuilder().setService("hello").setNamespace("demo")
                        .setServicePort(backend.port()).setListenPort(outboundPort))
                .addAttestedSources(AttestedSource.newBuilder().setAddress("127.0.2.50").setIdentity(CART))
                .build());
        try (Socket cart = from("127.0.2.50")) {
            cart.getOutputStream().write("denied pod".getBytes(StandardCharsets.UTF_8));
            assertThat(cart.getInputStream().read()).as("not carried as the gateway instead").isEqualTo(-1);
        }
        assertThat(backend.connections()).hasValue(0);
        assertThat(eastGateway.stats().inboundRouted()).isZero();
        // A source the gateway cannot attest travels as the gateway, with the gateway's rights (exported to west).
        try (Socket other = from("127.0.2.51")) {
            assertThat(EchoBackend.exchange(other, "as the gateway")).isEqualTo("as the gateway");
        }
        assertThat(backend.connections()).hasValue(1);
    }
}
