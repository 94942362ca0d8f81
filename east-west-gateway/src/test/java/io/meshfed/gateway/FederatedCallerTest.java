package io.meshfed.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CallerPolicyRequest;
import io.meshfed.api.v1.CallerRule;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.DeleteFederationRequest;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.FederateTrustDomainRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.WorkloadInstance;
import io.meshfed.api.v1.WorkloadReport;
import io.meshfed.client.StateDir;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.dataplane.RefusalReason;
import io.meshfed.dataplane.testing.EchoBackend;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer.Profile;
import io.meshfed.trust.tls.PeerAuthorizer;
import io.meshfed.trust.tls.SpiffeKeyManager;
import io.meshfed.trust.tls.SpiffeTls;
import io.meshfed.trust.tls.SpiffeTrustManager;
import io.meshfed.trust.tls.TlsCredentials;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A workload of an outside trust domain (its SVID issued by the SPIRE-style bundle endpoint test server's CA) calls
 * hello.demo at east's gateway, run against a real controller over its config stream: refused as an untrusted peer
 * before {@code trust federate}, refused as unauthorized after it until an {@code authz allow} names its trust
 * domain, then let through to the workload; after the federation is deleted it is an untrusted peer again although
 * the policy stays.
 */
class FederatedCallerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final TrustDomain EAST = TrustDomain.parse("east.acme.mesh");

    @TempDir
    Path dir;

    /** An mTLS client to east's gateway presenting {@code svid}, verifying the gateway against east's bundle. */
    private static SSLSocket client(GatewayNode gateway, X509Svid svid, BundleSet trusted, String sni)
            throws IOException {
        TlsCredentials creds = TlsCredentials.of(svid, trusted);
        var context = SpiffeTls.jdk(new SpiffeTrustManager(creds, PeerAuthorizer.anyVerified(), Clock.systemUTC()),
                new SpiffeKeyManager(creds));
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket("127.0.1.1",
                gateway.inboundAddress().getPort());
        SSLParameters p = s.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(sni)));
        s.setSSLParameters(p);
        s.setSoTimeout(10_000);
        return s;
    }

    /** Whether the gateway refused: a failed handshake, or a close (or reset) with nothing echoed back. */
    private static boolean refused(GatewayNode gateway, X509Svid svid, BundleSet trusted, String sni) {
        try (SSLSocket s = client(gateway, svid, trusted, sni)) {
            s.startHandshake();
            s.getOutputStream().write("let me in".getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            return s.getInputStream().read() == -1;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void aSpireWorkloadCallsHelloOnlyAfterFederateAndAuthzAllow() throws Exception {
        try (TestFederation federation = TestFederation.start(dir.resolve("controller"));
                EchoBackend backend = new EchoBackend();
                BundleEndpointTestServer spire = BundleEndpointTestServer.start(Profile.HTTPS_WEB, "spire.example",
                        InetAddress.getLoopbackAddress())) {
            var admin = federation.admin();
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east").build());
            admin.addMember(AddMemberRequest.newBuilder().setName("west").setType("vm").setNetwork("west").build());
            String controller = "127.0.0.1:" + federation.address().getPort();
            try (GatewayNode eastGw = GatewayNode.start(new GatewayNode.Options(controller,
                    federation.token("east", Role.ROLE_GATEWAY), "east", "east-gw",
                    new StateDir(dir.resolve("east-gw")), new InetSocketAddress("127.0.1.1", 0), null,
                    InetAddress.getByName("127.0.1.1"), new InetSocketAddress("127.0.1.1", 0), null),
                    Clock.systemUTC())) {
                federation.clusterEndpoints("east", WorkloadReport.newBuilder().addWorkloads(
                        WorkloadInstance.newBuilder().setService("hello").setNamespace("demo").setAddress("127.0.0.1")
                                .setPort(backend.port()).setHealthy(true)).build());
                admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo").addToMembers("west")
                        .build());
                await().atMost(WAIT).until(() -> !eastGw.gateway().proxy().routes().inbound().isEmpty());
                String sni = backend.port() + ".hello.demo.svc.meshfed";
                X509Svid workload = spire.issue("/ns/demo/sa/client");
                BundleSet trusted = BundleSet.of(federation.identity.bundle(EAST),
                        io.meshfed.trust.TrustBundle.of(spire.trustDomain(), spire.roots()));

                // Not federated: east's gateway does not know the trust domain.
                assertThat(refused(eastGw, workload, trusted, sni)).isTrue();
                await().atMost(WAIT).until(() -> eastGw.gateway().refusals(RefusalReason.UNTRUSTED_PEER) == 1);

                // Federated: its SVID verifies, but hello.demo is neither exported to it nor allowed for it.
                assertThat(admin.federateTrustDomain(FederateTrustDomainRequest.newBuilder()
                        .setTrustDomain("spire.example").setBundleEndpoint(spire.url().toString())
                        .setProfile("https_web").setCaPem(spire.webCaPem()).build()).getState()).isEqualTo("ok");
                await().atMost(WAIT).untilAsserted(() -> {
                    assertThat(refused(eastGw, workload, trusted, sni)).isTrue();
                    assertThat(eastGw.gateway().refusals(RefusalReason.UNAUTHORIZED)).isPositive();
                });
                assertThat(eastGw.gateway().refusals(RefusalReason.UNTRUSTED_PEER)).isEqualTo(1);

                // authz allow for its trust domain: the call reaches the workload.
                String policy = admin.putCallerPolicy(CallerPolicyRequest.newBuilder().setService("hello")
                        .setNamespace("demo").setEffect(CallerRule.Effect.ALLOW)
                        .setFrom("spiffe://spire.example/ns/demo/*").build()).getId();
                await().atMost(WAIT).untilAsserted(() -> {
                    try (SSLSocket s = client(eastGw, workload, trusted, sni)) {
                        assertThat(EchoBackend.exchange(s, "from spire")).isEqualTo("from spire");
                    }
                });

                // Or an export to the federated trust domain: with the policy gone, the export alone lets it in,
                // and unexporting shuts it out again.
                admin.deleteCallerPolicy(io.meshfed.api.v1.DeleteCallerPolicyRequest.newBuilder().setId(policy)
                        .build());
                long unauthorized = eastGw.gateway().refusals(RefusalReason.UNAUTHORIZED);
                await().atMost(WAIT).untilAsserted(() -> {
                    assertThat(refused(eastGw, workload, trusted, sni)).isTrue();
                    assertThat(eastGw.gateway().refusals(RefusalReason.UNAUTHORIZED)).isGreaterThan(unauthorized);
                });
                assertThat(admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                        .addToTrustDomains("spire.example").build()).getToTrustDomainsList())
                        .containsExactly("spire.example");
                await().atMost(WAIT).untilAsserted(() -> {
                    try (SSLSocket s = client(eastGw, workload, trusted, sni)) {
                        assertThat(EchoBackend.exchange(s, "exported")).isEqualTo("exported");
                    }
                });
                admin.unexport(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                        .addToTrustDomains("spire.example").build());
                await().atMost(WAIT).untilAsserted(() -> assertThat(refused(eastGw, workload, trusted, sni)).isTrue());
                admin.export(ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                        .addToTrustDomains("spire.example").build());
                await().atMost(WAIT).untilAsserted(() -> {
                    try (SSLSocket s = client(eastGw, workload, trusted, sni)) {
                        assertThat(EchoBackend.exchange(s, "again")).isEqualTo("again");
                    }
                });
                int reached = backend.connections().get();

                // The federation ends: untrusted again, though the export stays.
                admin.deleteFederation(DeleteFederationRequest.newBuilder().setTrustDomain("spire.example").build());
                await().atMost(WAIT).untilAsserted(() -> {
                    assertThat(refused(eastGw, workload, trusted, sni)).isTrue();
                    assertThat(eastGw.gateway().refusals(RefusalReason.UNTRUSTED_PEER)).isGreaterThan(1);
                });
                assertThat(backend.connections()).as("refused callers never reach the workload").hasValue(reached);
            }
        }
    }
}
