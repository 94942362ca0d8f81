package io.meshfed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AbortRotationRequest;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RenewResponse;
import io.meshfed.api.v1.RevokeIdentityRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.api.v1.RotateTrustDomainRequest;
import io.meshfed.api.v1.TrustRotation;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.controller.testing.TestSubscriber;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.SvidCertificates;
import io.meshfed.trust.TrustDomain;
import io.meshfed.trust.X509Svid;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Root rotation of member east's trust domain against a real controller, with real nodes (a session and a config
 * subscriber each, as gateways and agents run them) that ACK, renew toward the root the controller names and report
 * their SVIDs, and one raw stream ("held") whose ACKs and SVID reports the test decides, to hold a phase.
 */
class RootRotationTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final TrustDomain EAST = TrustDomain.parse("east.acme.mesh");
    private static final String HELD = "spiffe://east.acme.mesh/meshfed/gateway/held";

    @TempDir
    Path dir;
    private TestFederation federation;
    private String address;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final List<NodeSession> nodes = new ArrayList<>();
    private X509Certificate oldRoot;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir.resolve("controller"));
        federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                .build());
        address = "127.0.0.1:" + federation.address().getPort();
        oldRoot = federation.identity.bundle(EAST).x509Authorities().get(0);
        for (String name : List.of("gw-1", "gw-2")) {
            nodes.add(node(name));
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
        federation.close();
    }

    private NodeSession node(String name) throws Exception {
        StateDir state = new StateDir(dir.resolve(name));
        Joiner.join(address, federation.token("east", Role.ROLE_GATEWAY), new Joiner.Identity(Role.ROLE_GATEWAY,
                "east", name, null, List.of("127.0.1.1:15443")), state, Clock.systemUTC());
        NodeSession session = NodeSession.open(state, Clock.systemUTC());
        open.add(session);
        open.add(ConfigSubscriber.start(session, snapshot -> { }));
        return session;
    }

    /** A stream of east's identity {@code HELD} that ACKs unless {@code nack}, and reports no SVID until told. */
    private TestSubscriber held(X509Svid svid, boolean nack) throws Exception {
        TestSubscriber s = new TestSubscriber(federation.channel(svid), "", snapshot -> nack);
        open.add(s);
        return s;
    }

    /** Renews {@code svid} at the controller as a node does: whichever CA issues for east now signs it. */
    private X509Svid renew(X509Svid svid) throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        RenewResponse response = JoinServiceGrpc.newBlockingStub(federation.channel(svid))
                .withDeadlineAfter(30, TimeUnit.SECONDS).renew(RenewRequest.newBuilder().setCsr(ByteString.copyFrom(
                        CertificateSigningRequests.createDer(keys, svid.id()))).build());
        return StateDir.Convert.svid(svid.id().toString(), response.getSvidChainList(), keys.getPrivate());
    }

    private TrustRotation rotation() throws Exception {
        return federation.admin().listRotations(ListRequest.getDefaultInstance()).getRotationsList().stream()
                .filter(r -> r.getTrustDomain().equals(EAST.name())).findFirst().orElseThrow();
    }

    private TrustRotation awaitPhase(String phase) {
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getPhase()).as(rotation().toString())
                .isEqualTo(phase));
        try {
            return rotation();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<X509Certificate> eastRoots(NodeSession node) {
        return node.credentials().bundles().find(EAST).orElseThrow().x509Authorities();
    }

    private static X509Certificate root(X509Svid svid) {
        List<X509Certificate> chain = svid.chain();
        return chain.get(chain.size() - 1);
    }

    private static String issuerOf(X509Svid svid) {
        return svid.chain().get(svid.chain().size() - 1).getIssuerX500Principal().getName();
    }

    /** Whether {@code svid} was signed under {@code root} (its top certificate is the root or was issued by it). */
    private static boolean chainsTo(X509Svid svid, X509Certificate root) {
        X509Certificate top = root(svid);
        if (top.equals(root)) {
            return true;
        }
        try {
            top.verify(root.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private TrustRotation rotate(long soakSeconds) throws Exception {
        return federation.admin().rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                .setTrustDomain(EAST.name()).setSoakSeconds(soakSeconds).build());
    }

    private X509Certificate newRoot() {
        List<X509Certificate> roots = federation.identity.ca(EAST, 1).rootCertificates();
        assertThat(roots.get(0)).isNotEqualTo(oldRoot);
        return roots.get(0);
    }

    @Test
    void aRotationAddsTheNewRootThenIssuesFromItThenDropsTheOldOne() throws Exception {
        X509Svid heldSvid = federation.memberSvid(EAST.name(), "/meshfed/gateway/held");
        TestSubscriber held = held(heldSvid, false);

        TrustRotation started = rotate(0);
        assertThat(started.getPhase()).isEqualTo("add-root");
        assertThat(started.getFromRootSha256()).isEqualTo(SvidCertificates.sha256Hex(oldRoot));
        X509Certificate newRoot = newRoot();
        assertThat(started.getToRootSha256()).isEqualTo(SvidCertificates.sha256Hex(newRoot));
        // Step 1: every node trusts both roots before anything is issued from the new one.
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> eastRoots(node).containsAll(List.of(oldRoot, newRoot)));
        }

        // Steps 2-4: everyone ACKed, so the new CA issues and the nodes renew toward it on their own.
        awaitPhase("issue");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> chainsTo(node.credentials().svid(), newRoot));
            assertThat(eastRoots(node)).contains(oldRoot); // the old root stays while old SVIDs may be in use
        }
        // Step 5: the held stream has not said which SVID it uses, so the old root stays, and status says why.
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList())
                .containsExactly(HELD + " has not reported its SVID"));
        held.reportSvid(heldSvid);
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList())
                .containsExactly(HELD + "'s SVID chains to the old root"));
        assertThat(rotation().getPhase()).isEqualTo("issue");
        assertThat(rotation().hasDeadline()).isTrue(); // the longest lifetime after issuing began

        X509Svid renewed = renew(heldSvid);
        assertThat(chainsTo(renewed, newRoot)).as(issuerOf(renewed)).isTrue();
        held.reportSvid(renewed);
        // Step 6: the old root is dropped everywhere.
        awaitPhase("completed");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> eastRoots(node).equals(List.of(newRoot)));
        }
        assertThat(federation.admin().status(ListRequest.getDefaultInstance()).getRotationsList()).isEmpty();

        // A new join gets an SVID of the new root; an SVID of the old one no longer opens a connection.
        nodes.add(node("gw-3"));
        assertThat(chainsTo(nodes.get(2).credentials().svid(), newRoot)).isTrue();
        assertThatThrownBy(() -> renew(heldSvid)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        // The next rotation starts from the new root.
        TrustRotation second = rotate(0);
        assertThat(second.getNumber()).isEqualTo(2);
        assertThat(second.getFromRootSha256()).isEqualTo(SvidCertificates.sha256Hex(newRoot));
    }

    @Test
    void aRotationWaitsForEveryAckAndAbortInAddRootDropsTheNewRoot() throws Exception {
        X509Svid heldSvid = federation.memberSvid(EAST.name(), "/meshfed/gateway/held");
        held(heldSvid, true); // rejects every snapshot, so never ACKs the new bundle

        rotate(0);
        X509Certificate newRoot = newRoot();
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> eastRoots(node).contains(newRoot));
        }
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList()).singleElement()
                .asString().startsWith(HELD + " has not ACKed bundle version ")
                .endsWith("; it rejected a snapshot: test rejects this version"));
        assertThat(rotation().getPhase()).isEqualTo("add-root");
        assertThat(federation.admin().status(ListRequest.getDefaultInstance()).getRotationsList())
                .extracting(TrustRotation::getPhase).containsExactly("add-root");

        assertThat(federation.admin().abortRotation(AbortRotationRequest.getDefaultInstance()).getPhase())
                .isEqualTo("aborted");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> eastRoots(node).equals(List.of(oldRoot)));
            assertThat(chainsTo(node.credentials().svid(), oldRoot)).isTrue(); // nothing was issued from the new CA
        }
        assertThat(chainsTo(renew(nodes.get(0).credentials().svid()), oldRoot)).isTrue();
        assertThatThrownBy(() -> federation.admin().abortRotation(AbortRotationRequest.getDefaultInstance()))
                .hasMessageContaining("no rotation is in progress");
    }

    @Test
    void abortInTheIssuePhaseRenewsEveryoneBackToTheOldRootBeforeDroppingTheNewOne() throws Exception {
        X509Svid heldSvid = federation.memberSvid(EAST.name(), "/meshfed/gateway/held");
        TestSubscriber held = held(heldSvid, false);
        rotate(0);
        X509Certificate newRoot = newRoot();
        awaitPhase("issue");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> chainsTo(node.credentials().svid(), newRoot));
        }
        X509Svid heldNew = renew(heldSvid);
        assertThat(chainsTo(heldNew, newRoot)).isTrue();

        TrustRotation aborting = federation.admin().abortRotation(AbortRotationRequest.newBuilder()
                .setTrustDomain(EAST.name()).build());
        assertThat(aborting.getPhase()).isEqualTo("aborting");
        // The old CA issues again and the nodes renew back; both roots stay until no new-root SVID is in use.
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> chainsTo(node.credentials().svid(), oldRoot));
            assertThat(eastRoots(node)).containsExactlyInAnyOrder(oldRoot, newRoot);
        }
        held.reportSvid(heldNew);
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList())
                .containsExactly(HELD + "'s SVID chains to the new root"));
        X509Svid heldBack = renew(heldNew);
        assertThat(chainsTo(heldBack, oldRoot)).isTrue();
        held.reportSvid(heldBack);
        awaitPhase("aborted");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> eastRoots(node).equals(List.of(oldRoot)));
        }
        assertThatThrownBy(() -> renew(heldNew)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void aControllerRestartMidRotationResumesAndWaitsForEveryParticipantToComeBack() throws Exception {
        X509Svid heldSvid = federation.memberSvid(EAST.name(), "/meshfed/gateway/held");
        TestSubscriber held = held(heldSvid, false);
        rotate(0);
        X509Certificate newRoot = newRoot();
        awaitPhase("issue");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> chainsTo(node.credentials().svid(), newRoot));
        }
        held.close();
        open.remove(held);

        federation.restart();
        // Resumed in the phase it was in; the held identity was a participant, so the phase waits for it even
        // though the restarted controller has not seen it.
        assertThat(rotation().getPhase()).isEqualTo("issue");
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList())
                .containsExactly(HELD + " is not connected (its SVID must chain to the new root)"));
        for (NodeSession node : nodes) {
            assertThat(eastRoots(node)).containsExactlyInAnyOrder(oldRoot, newRoot);
        }
        // Revoking it is the other way to let the rotation go on: a revoked identity cannot come back.
        federation.admin().revokeIdentity(RevokeIdentityRequest.newBuilder().setSpiffeId(HELD).build());
        awaitPhase("completed");
        for (NodeSession node : nodes) {
            await().atMost(WAIT).until(() -> eastRoots(node).equals(List.of(newRoot)));
        }
    }

    @Test
    void aSoakHoldsEveryPhaseAndTheStatusSaysUntilWhen() throws Exception {
        rotate(3600);
        await().atMost(WAIT).untilAsserted(() -> assertThat(rotation().getWaitingForList()).singleElement()
                .asString().startsWith("soak: the phase lasts until "));
        assertThat(rotation().getPhase()).isEqualTo("add-root");
        for (NodeSession node : nodes) {
            assertThat(chainsTo(node.credentials().svid(), oldRoot)).isTrue();
        }
    }

    @Test
    void rotationsThatCannotBeDoneAreRefusedWithTheReason() throws Exception {
        var admin = federation.admin();
        assertThatThrownBy(() -> admin.rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                .setTrustDomain("acme.mesh").build()))
                .hasMessageContaining("FAILED_PRECONDITION").hasMessageContaining("is the federation's own");
        assertThatThrownBy(() -> admin.rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                .setTrustDomain("nobody.acme.mesh").build()))
                .hasMessageContaining("NOT_FOUND").hasMessageContaining("is no member's");
        assertThatThrownBy(() -> admin.rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                .setTrustDomain("Not A Domain!").build()))
                .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("trust domain 'Not A Domain!'");
        assertThatThrownBy(() -> admin.rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                .setTrustDomain(EAST.name()).setSoakSeconds(-1).build()))
                .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("soak must not be negative");
        assertThatThrownBy(() -> admin.rotateTrustDomain(RotateTrustDomainRequest.newBuilder()
                .setTrustDomain(EAST.name()).setTo(io.meshfed.api.v1.CaBackendChoice.newBuilder()
                        .setBackend("external")).build()))
                .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("--to external is no rotation");
        assertThat(admin.listRotations(ListRequest.getDefaultInstance()).getRotationsList()).isEmpty();

        rotate(3600);
        assertThatThrownBy(() -> rotate(0)).hasMessageContaining("FAILED_PRECONDITION")
                .hasMessageContaining("a rotation of east.acme.mesh is in progress (phase add-root");
        // A node's SVID cannot start or abort a rotation: the admin API wants the admin identity.
        var asNode = io.meshfed.api.v1.AdminServiceGrpc.newBlockingStub(federation.channel(
                nodes.get(0).credentials().svid())).withDeadlineAfter(30, TimeUnit.SECONDS);
        assertThatThrownBy(() -> asNode.abortRotation(AbortRotationRequest.getDefaultInstance()))
                .hasMessageContaining("PERMISSION_DENIED");
        assertThat(rotation().getPhase()).isEqualTo("add-root");
    }
}
