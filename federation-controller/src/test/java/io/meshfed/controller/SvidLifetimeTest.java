package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.JoinRequest;
import io.meshfed.api.v1.JoinResponse;
import io.meshfed.api.v1.JoinServiceGrpc;
import io.meshfed.api.v1.RenewRequest;
import io.meshfed.api.v1.RenewResponse;
import io.meshfed.api.v1.Role;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.CertificateSigningRequests;
import io.meshfed.trust.KeyAlgorithm;
import io.meshfed.trust.Pem;
import io.meshfed.trust.SpiffeId;
import io.meshfed.trust.X509Svid;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller's maximum SVID lifetime: join and renew asking for more get the maximum, per trust domain. */
class SvidLifetimeTest {
    private static final long TEN_YEARS = Duration.ofDays(3650).toSeconds();

    @TempDir
    Path dir;

    private static void addEastAndWest(TestFederation federation) throws Exception {
        var admin = federation.admin();
        for (String name : new String[] {"east", "west"}) {
            admin.createNetwork(CreateNetworkRequest.newBuilder().setName(name).build());
            admin.addMember(AddMemberRequest.newBuilder().setName(name).setType("vm").setNetwork(name).build());
        }
    }

    private record Issued(X509Svid svid, long ttlSeconds, boolean capped) {
        Instant notAfter() {
            return svid.notAfter();
        }
    }

    private static Issued join(TestFederation federation, String member, String name, long ttlSeconds)
            throws Exception {
        SpiffeId id = SpiffeId.parse("spiffe://" + member + ".acme.mesh/meshfed/gateway/" + name);
        String token = federation.token(member, Role.ROLE_GATEWAY);
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        JoinResponse response = JoinServiceGrpc.newBlockingStub(federation.joinChannel(TestFederation.pinOf(token)))
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .join(JoinRequest.newBuilder().setToken(token).setRole(Role.ROLE_GATEWAY).setMember(member)
                        .setName(name).setTtlSeconds(ttlSeconds)
                        .setCsr(ByteString.copyFrom(CertificateSigningRequests.createDer(keys, id))).build());
        X509Svid svid = X509Svid.of(id, response.getSvidChainList().stream()
                .map(b -> Pem.certificateFromDer(b.toByteArray())).toList(), keys.getPrivate());
        return new Issued(svid, response.getTtlSeconds(), response.getTtlCapped());
    }

    private static Issued renew(TestFederation federation, X509Svid current, long ttlSeconds) throws Exception {
        KeyPair keys = KeyAlgorithm.EC_P256.generate();
        RenewResponse response = JoinServiceGrpc.newBlockingStub(federation.channel(current))
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .renew(RenewRequest.newBuilder().setTtlSeconds(ttlSeconds).setCsr(ByteString.copyFrom(
                        CertificateSigningRequests.createDer(keys, current.id()))).build());
        java.util.List<X509Certificate> chain = response.getSvidChainList().stream()
                .map(b -> Pem.certificateFromDer(b.toByteArray())).toList();
        return new Issued(X509Svid.of(current.id(), chain, keys.getPrivate()), response.getTtlSeconds(),
                response.getTtlCapped());
    }

    @Test
    void joinAndRenewAskingForTenYearsGetTheDefaultMaximumOf24Hours() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            addEastAndWest(federation);
            Instant now = federation.clock.instant();
            Issued joined = join(federation, "east", "gw-1", TEN_YEARS);
            assertThat(joined.notAfter()).isBeforeOrEqualTo(now.plus(Duration.ofHours(24)).plusSeconds(1))
                    .isAfter(now.plus(Duration.ofHours(23)));
            assertThat(joined.ttlSeconds()).isEqualTo(Duration.ofHours(24).toSeconds());
            assertThat(joined.capped()).as("the response says the request was capped").isTrue();

            Issued renewed = renew(federation, joined.svid(), TEN_YEARS);
            assertThat(renewed.notAfter()).isBeforeOrEqualTo(now.plus(Duration.ofHours(24)).plusSeconds(1));
            assertThat(renewed.capped()).isTrue();
            assertThat(renewed.svid().leaf().getSerialNumber()).isNotEqualTo(joined.svid().leaf().getSerialNumber());

            // Within the maximum, the lifetime asked for is given and nothing is capped.
            Issued shorter = renew(federation, renewed.svid(), Duration.ofHours(2).toSeconds());
            assertThat(shorter.ttlSeconds()).isEqualTo(Duration.ofHours(2).toSeconds());
            assertThat(shorter.capped()).isFalse();
            assertThat(shorter.notAfter()).isBeforeOrEqualTo(now.plus(Duration.ofHours(2)).plusSeconds(1))
                    .isAfter(now.plus(Duration.ofMinutes(119)));
        }
    }

    @Test
    void aMaximumForOneTrustDomainAppliesToThatTrustDomainOnly() throws Exception {
        try (TestFederation federation = TestFederation.start(dir, c -> c.withSvidMaxTtl(Duration.ofHours(24),
                Map.of("east.acme.mesh", Duration.ofHours(2))))) {
            addEastAndWest(federation);
            Instant now = federation.clock.instant();
            Issued east = join(federation, "east", "gw-1", TEN_YEARS);
            assertThat(east.notAfter()).isBeforeOrEqualTo(now.plus(Duration.ofHours(2)).plusSeconds(1));
            assertThat(east.ttlSeconds()).isEqualTo(Duration.ofHours(2).toSeconds());
            Issued eastDefault = join(federation, "east", "gw-2", 0);
            assertThat(eastDefault.notAfter()).as("the 24 h default is capped too")
                    .isBeforeOrEqualTo(now.plus(Duration.ofHours(2)).plusSeconds(1));
            assertThat(renew(federation, east.svid(), TEN_YEARS).notAfter())
                    .isBeforeOrEqualTo(now.plus(Duration.ofHours(2)).plusSeconds(1));

            Issued west = join(federation, "west", "gw-1", TEN_YEARS);
            assertThat(west.notAfter()).isBeforeOrEqualTo(now.plus(Duration.ofHours(24)).plusSeconds(1))
                    .isAfter(now.plus(Duration.ofHours(23)));
            assertThat(west.ttlSeconds()).isEqualTo(Duration.ofHours(24).toSeconds());
        }
    }

    @Test
    void anIdentityThatNeverJoinedCannotRenew() throws Exception {
        try (TestFederation federation = TestFederation.start(dir)) {
            addEastAndWest(federation);
            // An SVID the federation's CA issued, but not through a join: no record of it.
            X509Svid unjoined = federation.unjoinedSvid("east.acme.mesh", "/meshfed/gateway/never-joined");
            assertThatThrownBy(() -> renew(federation, unjoined, 0)).isInstanceOfSatisfying(
                    StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
                        assertThat(e.getStatus().getDescription()).isEqualTo("not_joined: spiffe://east.acme.mesh"
                                + "/meshfed/gateway/never-joined never joined (the controller has no record of its"
                                + " join) and cannot renew; join it with a token from 'meshfed token create'");
                    });
        }
    }
}
