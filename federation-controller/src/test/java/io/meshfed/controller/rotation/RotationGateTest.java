package io.meshfed.controller.rotation;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.SubscriberStatus;
import io.meshfed.controller.model.RotationRecord;
import io.meshfed.controller.model.RotationRecord.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RotationGateTest {
    private static final String EAST_GW = "spiffe://east.acme.mesh/meshfed/gateway/east-gw";
    private static final String WEST_GW = "spiffe://west.acme.mesh/meshfed/gateway/west-gw";
    private static final Instant T0 = Instant.parse("2026-12-07T00:00:00Z");
    private static final String NEW_ROOT = "aa";
    private static final String OLD_ROOT = "bb";

    private static RotationRecord rotation(Phase phase, long soakMillis, List<String> participants) {
        return new RotationRecord("east.acme.mesh", 1, phase, 0, 1, "builtin", "builtin", T0.toEpochMilli(),
                T0.toEpochMilli(), 7, soakMillis, participants);
    }

    private static SubscriberStatus subscriber(String id, long ackedBundle, String root, String lastError) {
        return SubscriberStatus.newBuilder().setSpiffeId(id).setAckedBundleVersion(ackedBundle)
                .setSvidRootSha256(root).setLastError(lastError).build();
    }

    private static RotationGate.Verdict evaluate(RotationRecord r, List<SubscriberStatus> subs,
            Map<String, Long> clusters, Set<String> revoked, Instant now) {
        return RotationGate.evaluate(r, new RotationGate.Inputs(subs, clusters, revoked, NEW_ROOT,
                Duration.ofHours(1), now));
    }

    @Test
    void addRootWaitsForEverySubscriberToAckTheBundleVersionAndNamesWhoHasNot() {
        RotationRecord r = rotation(Phase.ADD_ROOT, 0, List.of());
        RotationGate.Verdict v = evaluate(r, List.of(subscriber(EAST_GW, 7, "", ""),
                subscriber(WEST_GW, 6, "", "bad route")), Map.of(), Set.of(), T0.plusSeconds(1));
        assertThat(v.open()).isFalse();
        assertThat(v.waitingFor()).containsExactly(WEST_GW + " has not ACKed bundle version 7 (ACKed 6); it"
                + " rejected a snapshot: bad route");

        assertThat(evaluate(r, List.of(subscriber(EAST_GW, 7, "", ""), subscriber(WEST_GW, 8, "", "")), Map.of(),
                Set.of(), T0.plusSeconds(1)).open()).isTrue();
    }

    @Test
    void aParticipantThatIsNotConnectedHoldsThePhaseUntilItIsBackOrRevoked() {
        // After a controller restart nobody is connected yet: that is no agreement.
        RotationRecord r = rotation(Phase.ADD_ROOT, 0, List.of(EAST_GW, WEST_GW));
        RotationGate.Verdict empty = evaluate(r, List.of(), Map.of(), Set.of(), T0.plusSeconds(1));
        assertThat(empty.open()).isFalse();
        assertThat(empty.waitingFor()).hasSize(2).allMatch(w -> w.contains("is not connected"));

        assertThat(evaluate(r, List.of(subscriber(EAST_GW, 7, "", "")), Map.of(), Set.of(WEST_GW),
                T0.plusSeconds(1)).open()).isTrue();
    }

    @Test
    void addRootWaitsForEveryClusterConfigMap() {
        RotationRecord r = rotation(Phase.ADD_ROOT, 0, List.of());
        RotationGate.Verdict v = evaluate(r, List.of(), Map.of("east", 6L, "north", -1L), Set.of(),
                T0.plusSeconds(1));
        assertThat(v.waitingFor()).containsExactlyInAnyOrder(
                "cluster east's trust bundle ConfigMap holds version 6, not 7",
                "cluster north's trust bundle ConfigMap holds no version yet, not 7");
        assertThat(evaluate(r, List.of(), Map.of("east", 7L), Set.of(), T0.plusSeconds(1)).open()).isTrue();
    }

    @Test
    void issueWaitsForTheTrustDomainsSvidsToChainToTheNewRootOnly() {
        RotationRecord r = rotation(Phase.ISSUE, 0, List.of());
        // west's subscriber is in another trust domain: its SVID is not this rotation's business.
        RotationGate.Verdict v = evaluate(r, List.of(subscriber(EAST_GW, 7, OLD_ROOT, ""),
                subscriber(WEST_GW, 7, "", "")), Map.of(), Set.of(), T0.plusSeconds(1));
        assertThat(v.open()).isFalse();
        assertThat(v.waitingFor()).containsExactly(EAST_GW + "'s SVID chains to the old root");
        assertThat(v.deadline()).contains(T0.plus(Duration.ofHours(1)));

        assertThat(evaluate(r, List.of(subscriber(EAST_GW, 7, "", "")), Map.of(), Set.of(), T0.plusSeconds(1))
                .waitingFor()).containsExactly(EAST_GW + " has not reported its SVID");
        assertThat(evaluate(r, List.of(subscriber(EAST_GW, 7, NEW_ROOT, "")), Map.of(), Set.of(),
                T0.plusSeconds(1)).open()).isTrue();
    }

    @Test
    void theLongestLifetimeOpensTheIssueGateWhateverIsReported() {
        RotationRecord r = rotation(Phase.ISSUE, 0, List.of());
        assertThat(evaluate(r, List.of(subscriber(EAST_GW, 7, OLD_ROOT, "")), Map.of(), Set.of(),
                T0.plus(Duration.ofHours(1))).open()).isTrue();
    }

    @Test
    void everyPhaseLastsAtLeastItsSoak() {
        RotationRecord r = rotation(Phase.ADD_ROOT, 60_000, List.of());
        RotationGate.Verdict early = evaluate(r, List.of(), Map.of(), Set.of(), T0.plusSeconds(59));
        assertThat(early.open()).isFalse();
        assertThat(early.waitingFor()).containsExactly("soak: the phase lasts until " + T0.plusSeconds(60));
        assertThat(evaluate(r, List.of(), Map.of(), Set.of(), T0.plusSeconds(60)).open()).isTrue();
    }

    @Test
    void theRecordSaysWhichGenerationIssuesAndWhichRootsTheBundleHolds() {
        assertThat(rotation(Phase.ADD_ROOT, 0, List.of()).issuingGeneration()).isZero();
        assertThat(rotation(Phase.ISSUE, 0, List.of()).issuingGeneration()).isEqualTo(1);
        assertThat(rotation(Phase.ABORTING, 0, List.of()).issuingGeneration()).isZero();
        assertThat(rotation(Phase.ADD_ROOT, 0, List.of()).bundleGenerations()).containsExactly(0, 1);
        assertThat(rotation(Phase.COMPLETED, 0, List.of()).bundleGenerations()).containsExactly(1);
        assertThat(rotation(Phase.ABORTED, 0, List.of()).bundleGenerations()).containsExactly(0);
        assertThat(rotation(Phase.ISSUE, 0, List.of()).renewToward()).contains(1);
        assertThat(rotation(Phase.ABORTING, 0, List.of()).renewToward()).contains(0);
        assertThat(rotation(Phase.ADD_ROOT, 0, List.of()).renewToward()).isEmpty();
    }
}
