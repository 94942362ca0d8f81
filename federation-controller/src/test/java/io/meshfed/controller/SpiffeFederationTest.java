package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.DeleteFederationRequest;
import io.meshfed.api.v1.FederateTrustDomainRequest;
import io.meshfed.api.v1.FederationState;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.controller.federation.FederationSettings;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SpiffeBundleJson;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer;
import io.meshfed.trust.federation.testing.BundleEndpointTestServer.Profile;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPIFFE federation with an outside trust domain against a real controller and the SPIRE-style bundle endpoint test
 * server: {@code FederateTrustDomain} fetches the foreign bundle at once (https_web and https_spiffe), its roots reach
 * every subscriber's bundle set, a refresh follows the bundle's refresh hint, and every failure (garbage, an expired
 * server certificate, a sequence going backwards, a timeout, another trust domain's roots) keeps the last good
 * bundle and records why. Bad requests are refused naming the problem; a foreign SVID gets nothing from the
 * controller.
 */
class SpiffeFederationTest {
    private static final String SPIRE = "spire.example";

    @TempDir
    Path dir;
    private TestFederation federation;
    private BundleEndpointTestServer spire;
    private TestSubscriber gateway;

    @AfterEach
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (spire != null) {
            spire.close();
        }
        if (federation != null) {
            federation.close();
        }
    }

    private void start(Profile profile, java.util.function.UnaryOperator<ControllerConfig> customise)
            throws Exception {
        federation = TestFederation.start(dir.resolve("controller"), customise);
        federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                .build());
        spire = BundleEndpointTestServer.start(profile, SPIRE, InetAddress.getLoopbackAddress());
        gateway = new TestSubscriber(federation.channel(federation.memberSvid("east.acme.mesh",
                "/meshfed/gateway/gw")));
        gateway.awaitSnapshot(s -> true, Duration.ofSeconds(30));
    }

    private FederationState federateWeb() throws Exception {
        return federation.admin().federateTrustDomain(FederateTrustDomainRequest.newBuilder().setTrustDomain(SPIRE)
                .setBundleEndpoint(spire.url().toString()).setProfile("https_web").setCaPem(spire.webCaPem())
                .build());
    }

    private static List<X509Certificate> roots(ConfigSnapshot s, String td) {
        return s.getBundles().getBundlesList().stream().filter(b -> b.getTrustDomain().equals(td))
                .flatMap(b -> b.getX509AuthoritiesList().stream())
                .map(d -> io.meshfed.trust.Pem.certificateFromDer(d.toByteArray())).toList();
    }

    private ConfigSnapshot awaitSpireRoots(List<X509Certificate> expected) throws Exception {
        return gateway.awaitSnapshot(s -> roots(s, SPIRE).equals(expected), Duration.ofSeconds(30));
    }

    private FederationState listed() throws Exception {
        return federation.admin().listFederations(ListRequest.getDefaultInstance()).getFederationsList().stream()
                .filter(f -> f.getTrustDomain().equals(SPIRE)).findFirst().orElseThrow();
    }

    @Test
    void federatingFetchesTheBundleAtOnceAndEverySubscriberGetsItsRootsUntilDeleted() throws Exception {
        start(Profile.HTTPS_WEB, c -> c);
        FederationState state = federateWeb();
        assertThat(state.getState()).as(state.toString()).isEqualTo("ok");
        assertThat(state.getLastError()).isEmpty();
        assertThat(state.getSequence()).isEqualTo(spire.sequence());
        assertThat(state.getX509Authorities()).isEqualTo(1);
        assertThat(state.hasNextRefresh()).isTrue();
        assertThat(spire.requests()).isEqualTo(1);
        awaitSpireRoots(spire.roots());
        assertThat(federation.admin().status(ListRequest.getDefaultInstance()).getFederationsList())
                .extracting(FederationState::getTrustDomain, FederationState::getState)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(SPIRE, "ok"));
        // The foreign roots never join the federation's own or a member's bundle.
        ConfigSnapshot s = gateway.latest();
        assertThat(roots(s, "east.acme.mesh")).doesNotContainAnyElementsOf(spire.roots());
        assertThat(roots(s, "acme.mesh")).doesNotContainAnyElementsOf(spire.roots());

        FederationState deleted = federation.admin().deleteFederation(DeleteFederationRequest.newBuilder()
                .setTrustDomain(SPIRE).build());
        assertThat(deleted.getTrustDomain()).isEqualTo(SPIRE);
        awaitSpireRoots(List.of());
        assertThatThrownBy(() -> federation.admin().deleteFederation(DeleteFederationRequest.newBuilder()
                .setTrustDomain(SPIRE).build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("no federation with trust domain "
                            + SPIRE);
                });
    }

    @Test
    void theHttpsSpiffeProfileChecksTheEndpointsSvidAndItsSpiffeId() throws Exception {
        start(Profile.HTTPS_SPIFFE, c -> c);
        FederateTrustDomainRequest.Builder request = FederateTrustDomainRequest.newBuilder().setTrustDomain(SPIRE)
                .setBundleEndpoint(spire.url().toString()).setProfile("https_spiffe").setCaPem(spire.rootsPem());
        FederationState wrongId = federation.admin().federateTrustDomain(request
                .setEndpointSpiffeId("spiffe://" + SPIRE + "/not/the/server").build());
        assertThat(wrongId.getState()).isEqualTo("failing");
        assertThat(wrongId.getX509Authorities()).isZero(); // nothing good fetched yet
        assertThat(wrongId.getLastError()).contains("TLS").contains("/not/the/server");
        assertThat(roots(gateway.latest(), SPIRE)).isEmpty();

        FederationState ok = federation.admin().federateTrustDomain(request
                .setEndpointSpiffeId(spire.endpointSpiffeId().toString()).build());
        assertThat(ok.getState()).as(ok.toString()).isEqualTo("ok");
        awaitSpireRoots(spire.roots());
        // The endpoint's SVID must verify against the bundle fetched before (SPIFFE Federation 5.2.1): an endpoint
        // that switches to a CA whose root it never published is refused, and the last good bundle stays.
        List<X509Certificate> good = spire.roots();
        spire.rotate();
        FederationState rotated = federation.admin().federateTrustDomain(request.build());
        assertThat(rotated.getState()).as(rotated.toString()).isEqualTo("failing");
        assertThat(rotated.getLastError()).contains("untrusted_chain");
        assertThat(rotated.getX509Authorities()).isEqualTo(1);
        assertThat(roots(gateway.latest(), SPIRE)).isEqualTo(good);
    }

    @Test
    void everyFailureKeepsTheLastGoodBundleAndSaysWhy() throws Exception {
        start(Profile.HTTPS_WEB, c -> c.withFederation(new FederationSettings(null, null, null,
                Duration.ofSeconds(1))));
        assertThat(federateWeb().getState()).isEqualTo("ok");
        List<X509Certificate> good = spire.roots();
        long goodSequence = spire.sequence();
        awaitSpireRoots(good);

        spire.serveRaw("<html>not a bundle</html>");
        assertFailsKeepingTheLastGood("the endpoint's answer is not a valid bundle of " + SPIRE, goodSequence);
        spire.serveRaw(SpiffeBundleJson.encode(io.meshfed.trust.testing.TestPki.create("east.acme.mesh",
                java.time.Instant.now()).bundle()));
        assertFailsKeepingTheLastGood("not a valid bundle of " + SPIRE, goodSequence);
        spire.serveRaw(null);

        spire.sequence(goodSequence - 1);
        assertFailsKeepingTheLastGood("spiffe_sequence went backwards", goodSequence);
        spire.sequence(goodSequence);

        spire.delay(Duration.ofSeconds(3));
        assertFailsKeepingTheLastGood("timed out", goodSequence);
        spire.delay(Duration.ZERO);

        spire.expireServerCertificate();
        assertFailsKeepingTheLastGood("certificate", goodSequence);
        assertThat(gateway.latest().getBundles().getBundlesList()).anyMatch(b -> b.getTrustDomain().equals(SPIRE));
        assertThat(roots(gateway.latest(), SPIRE)).isEqualTo(good);
    }

    private void assertFailsKeepingTheLastGood(String reason, long goodSequence) throws Exception {
        FederationState failed = federateWeb();
        assertThat(failed.getState()).as(failed.toString()).isEqualTo("failing");
        assertThat(failed.getLastError()).contains(reason);
        assertThat(failed.getSequence()).isEqualTo(goodSequence);
        assertThat(failed.getX509Authorities()).isEqualTo(1);
        assertThat(listed().getLastError()).contains(reason);
        assertThat(federation.admin().status(ListRequest.getDefaultInstance()).getFederations(0).getLastError())
                .contains(reason);
    }

    @Test
    void theNextFetchFollowsTheRefreshHint() throws Exception {
        federation = TestFederation.withFakeTime(dir.resolve("controller"), Duration.ofSeconds(30));
        spire = BundleEndpointTestServer.start(Profile.HTTPS_WEB, SPIRE, InetAddress.getLoopbackAddress());
        spire.refreshHint(Duration.ofMinutes(2));
        assertThat(federateWeb().getState()).isEqualTo("ok");
        assertThat(spire.requests()).isEqualTo(1);
        spire.rotate();
        federation.forwardTime(Duration.ofSeconds(119));
        Thread.sleep(300); // nothing is due: no fetch may start
        assertThat(spire.requests()).isEqualTo(1);
        federation.forwardTime(Duration.ofSeconds(1));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(spire.requests()).isEqualTo(2);
            assertThat(listed().getX509Authorities()).isEqualTo(2);
        });
    }

    @Test
    void badRequestsAreRefusedNamingTheProblem() throws Exception {
        start(Profile.HTTPS_WEB, c -> c);
        var admin = federation.admin();
        FederateTrustDomainRequest good = FederateTrustDomainRequest.newBuilder().setTrustDomain(SPIRE)
                .setBundleEndpoint(spire.url().toString()).setProfile("https_web").build();
        record Bad(FederateTrustDomainRequest request, Status.Code code, String reason) {}
        for (Bad bad : List.of(
                new Bad(good.toBuilder().setBundleEndpoint("http://127.0.0.1:1/").build(), Status.Code.INVALID_ARGUMENT,
                        "is not an https URL"),
                new Bad(good.toBuilder().setBundleEndpoint("https://").build(), Status.Code.INVALID_ARGUMENT,
                        "bundle_endpoint"),
                new Bad(good.toBuilder().setProfile("https_magic").build(), Status.Code.INVALID_ARGUMENT,
                        "unknown profile 'https_magic'; use https_web or https_spiffe"),
                new Bad(good.toBuilder().setProfile("https_spiffe").setCaPem(spire.webCaPem()).build(),
                        Status.Code.INVALID_ARGUMENT, "the https_spiffe profile needs the SPIFFE ID"),
                new Bad(good.toBuilder().setEndpointSpiffeId("spiffe://" + SPIRE + "/spire/server").build(),
                        Status.Code.INVALID_ARGUMENT, "only the https_spiffe profile authenticates the endpoint"),
                new Bad(good.toBuilder().setCaPem("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")
                        .build(), Status.Code.INVALID_ARGUMENT, "ca_pem"),
                new Bad(good.toBuilder().setTrustDomain("").build(), Status.Code.INVALID_ARGUMENT, "trust_domain"),
                new Bad(good.toBuilder().setTrustDomain("Bad Domain").build(), Status.Code.INVALID_ARGUMENT,
                        "trust_domain"),
                new Bad(good.toBuilder().setTrustDomain("acme.mesh").build(), Status.Code.FAILED_PRECONDITION,
                        "is this federation's own"),
                new Bad(good.toBuilder().setTrustDomain("east.acme.mesh").build(), Status.Code.FAILED_PRECONDITION,
                        "is member east's"),
                new Bad(good.toBuilder().setTrustDomain("later.acme.mesh").build(), Status.Code.FAILED_PRECONDITION,
                        "lies under this federation's own (acme.mesh), where members' trust domains are made"))) {
            assertThatThrownBy(() -> admin.federateTrustDomain(bad.request()))
                    .as(bad.reason()).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(bad.code());
                        assertThat(e.getStatus().getDescription()).contains(bad.reason());
                    });
        }
        assertThat(admin.listFederations(ListRequest.getDefaultInstance()).getFederationsList()).isEmpty();
        assertThat(spire.requests()).isZero();
    }

    @Test
    void anExportNamesOnlyAFederatedTrustDomainAndReachesTheGatewaysInFrontOfTheService() throws Exception {
        start(Profile.HTTPS_WEB, c -> c);
        var admin = federation.admin();
        federation.clusterEndpoints("east", io.meshfed.api.v1.WorkloadReport.newBuilder().addWorkloads(
                io.meshfed.api.v1.WorkloadInstance.newBuilder().setService("hello").setNamespace("demo")
                        .setAddress("127.0.0.1").setPort(8080).setHealthy(true)).build());
        io.meshfed.api.v1.ExportRequest toSpire = io.meshfed.api.v1.ExportRequest.newBuilder().setService("hello")
                .setNamespace("demo").addToTrustDomains(SPIRE).build();
        assertThatThrownBy(() -> admin.export(toSpire)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(e.getStatus().getDescription()).contains("does not federate with trust domain " + SPIRE);
        });
        assertThatThrownBy(() -> admin.export(toSpire.toBuilder().setToTrustDomains(0, "east.acme.mesh").build()))
                .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("is member east's; export to it with"
                        + " --to east");
        assertThatThrownBy(() -> admin.export(toSpire.toBuilder().setToTrustDomains(0, "Not A Domain").build()))
                .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("trust domain 'Not A Domain'");

        assertThat(federateWeb().getState()).isEqualTo("ok");
        assertThat(admin.export(toSpire).getToTrustDomainsList()).containsExactly(SPIRE);
        gateway.awaitSnapshot(x -> x.getAuthorizationList().stream().anyMatch(a -> a.getService().equals("hello")
                && a.getAllowedTrustDomainsList().contains(SPIRE)), Duration.ofSeconds(30));
        assertThat(admin.unexport(toSpire).getToTrustDomainsList()).isEmpty();
        gateway.awaitSnapshot(x -> x.getAuthorizationList().stream().noneMatch(a -> a.getAllowedTrustDomainsList()
                .contains(SPIRE)), Duration.ofSeconds(30));
        // --all never includes an outside trust domain.
        admin.export(io.meshfed.api.v1.ExportRequest.newBuilder().setService("hello").setNamespace("demo")
                .setToAll(true).build());
        assertThat(gateway.awaitSnapshot(x -> x.getAuthorizationList().stream().anyMatch(a -> a.getService()
                .equals("hello") && a.getAllowedTrustDomainsList().contains("east.acme.mesh")), Duration.ofSeconds(30))
                .getAuthorizationList()).allSatisfy(a -> assertThat(a.getAllowedTrustDomainsList())
                        .doesNotContain(SPIRE));
    }

    @Test
    void aTrustDomainFederatedOrNamedByAnExportCannotBecomeAMembers() throws Exception {
        start(Profile.HTTPS_WEB, c -> c);
        var admin = federation.admin();
        assertThat(federateWeb().getState()).isEqualTo("ok");
        admin.export(io.meshfed.api.v1.ExportRequest.newBuilder().setService("payments").setNamespace("demo")
                .addToTrustDomains(SPIRE).build());
        AddMemberRequest takeover = AddMemberRequest.newBuilder().setName("partner").setType("vm").setNetwork("east")
                .setTrustDomain(SPIRE).build();
        assertThatThrownBy(() -> admin.addMember(takeover)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("trust domain " + SPIRE + " is an outside"
                            + " trust domain this controller federates with");
                });
        // With the federation gone, the export that names it still keeps the name from becoming a member's: the
        // member's CA would sign identities the admin let in as the outside domain's.
        admin.deleteFederation(DeleteFederationRequest.newBuilder().setTrustDomain(SPIRE).build());
        assertThatThrownBy(() -> admin.addMember(takeover)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("exports name trust domain " + SPIRE
                            + " as an outside one (payments.demo)");
                });
        assertThat(federation.dataDir.resolve("ca").resolve(SPIRE)).as("no CA was made for it").doesNotExist();
        admin.unexport(io.meshfed.api.v1.ExportRequest.newBuilder().setService("payments").setNamespace("demo")
                .addToTrustDomains(SPIRE).build());
        assertThat(admin.addMember(takeover).getTrustDomain()).isEqualTo(SPIRE);
    }

    @Test
    void anEndpointsWordsInAnErrorAreBounded() throws Exception {
        start(Profile.HTTPS_WEB, c -> c);
        assertThat(federateWeb().getState()).isEqualTo("ok");
        spire.serveRaw("{\"keys\": [], \"spiffe_refresh_hint\": \"" + "x".repeat(200_000) + "\"}");
        FederationState failed = federateWeb();
        assertThat(failed.getState()).isEqualTo("failing");
        assertThat(failed.getLastError()).contains("not a valid bundle of " + SPIRE);
        assertThat(failed.getLastError().length()).isLessThan(700);
    }

    @Test
    void aFederatedTrustDomainsSvidGetsNothingFromTheController() throws Exception {
        start(Profile.HTTPS_WEB, c -> c);
        assertThat(federateWeb().getState()).isEqualTo("ok");
        X509Svid foreignGateway = spire.issue("/meshfed/gateway/gw");
        var keys = KeyAlgorithm.EC_P256.generate();
        assertThatThrownBy(() -> JoinServiceGrpc.newBlockingStub(federation.channel(foreignGateway))
                .withDeadlineAfter(30, TimeUnit.SECONDS).renew(RenewRequest.newBuilder().setCsr(ByteString.copyFrom(
                        CertificateSigningRequests.createDer(keys, foreignGateway.id()))).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    assertThat(e.getStatus().getDescription()).contains("belongs to no member");
                });
        assertThatThrownBy(() -> io.meshfed.api.v1.AdminServiceGrpc.newBlockingStub(federation.channel(
                spire.issue("/meshfed/admin"))).withDeadlineAfter(30, TimeUnit.SECONDS)
                .listFederations(ListRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode())
                        .isEqualTo(Status.Code.PERMISSION_DENIED));
        try (TestSubscriber foreign = new TestSubscriber(federation.channel(foreignGateway))) {
            await().atMost(Duration.ofSeconds(30)).until(() -> foreign.error() != null);
            assertThat(foreign.latest()).isNull();
        }
    }
}
