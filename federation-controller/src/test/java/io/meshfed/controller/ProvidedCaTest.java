package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.BundleSet;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import io.meshfed.trust.X509SvidVerifier;
import io.meshfed.trust.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A member whose SVIDs come from the operator's own CA (an Istio cacerts set) instead of a builtin one. */
class ProvidedCaTest {
    @TempDir
    Path dir;

    private static void cacerts(Path target, TestPki pki, String keyMode) throws Exception {
        Files.createDirectories(target);
        Files.writeString(target.resolve(FederationIdentity.PROVIDED_CERT), Pem.writeCertificates(List.of(pki.intermediate())));
        Files.writeString(target.resolve(FederationIdentity.PROVIDED_KEY),
                Pem.writePrivateKey(pki.intermediateKeys().getPrivate()));
        Files.setPosixFilePermissions(target.resolve(FederationIdentity.PROVIDED_KEY),
                PosixFilePermissions.fromString(keyMode));
        Files.writeString(target.resolve(FederationIdentity.PROVIDED_CHAIN),
                Pem.writeCertificates(List.of(pki.intermediate(), pki.root())));
        Files.writeString(target.resolve(FederationIdentity.PROVIDED_ROOT), Pem.writeCertificates(List.of(pki.root())));
    }

    @Test
    void aMembersSvidsChainToTheProvidedRootAndItsBundleIsThatRoot() throws Exception {
        TestPki istio = TestPki.create("east.acme.mesh", Instant.now());
        try (TestFederation federation = TestFederation.start(dir.resolve("data"))) {
            cacerts(dir.resolve("data/ca/east.acme.mesh/provided"), istio, "rw-------");
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            federation.admin().addMember(AddMemberRequest.newBuilder().setName("east").setType("vm").setNetwork("east")
                    .build());
            SpiffeId id = SpiffeId.parse("spiffe://east.acme.mesh/meshfed/gateway/gw");
            X509Svid svid = federation.join(federation.token("east", Role.ROLE_GATEWAY), Role.ROLE_GATEWAY, "east",
                    "gw", id).svid();
            assertThat(svid.chain().get(1)).isEqualTo(istio.intermediate());
            assertThat(new X509SvidVerifier(federation.clock).verify(svid.chain(), BundleSet.of(istio.bundle())))
                    .isEqualTo(id);
            assertThat(federation.controller().store().revision()).isPositive();
        }
    }

    @Test
    void aProvidedKeyReadableByOthersIsRefused() throws Exception {
        TestPki istio = TestPki.create("east.acme.mesh", Instant.now());
        try (TestFederation federation = TestFederation.start(dir.resolve("data"))) {
            cacerts(dir.resolve("data/ca/east.acme.mesh/provided"), istio, "rw-r--r--");
            federation.admin().createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
            assertThatThrownBy(() -> federation.admin().addMember(AddMemberRequest.newBuilder().setName("east")
                    .setType("vm").setNetwork("east").build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
                        assertThat(e.getStatus().getDescription()).contains("ca-key.pem is accessible by group or"
                                + " others; restrict it with: chmod 600");
                    });
        }
    }
}
