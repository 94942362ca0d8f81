package io.meshfed.gateway;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.meshfed.api.v1.ConfigSnapshot;
import java.net.InetAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * A config snapshot as a gateway gets it (or reads it back from its state directory): protobuf bytes, parsed, then
 * turned into the gateway's route table and its source attestation. Bytes that are not a snapshot fail the parse; a snapshot the gateway
 * cannot use (an address that is not HOST:PORT, a malformed SPIFFE ID, a listener port out of range) fails with an
 * IllegalArgumentException, which the subscriber NACKs. Nothing else may escape, and nothing may take over 1 s.
 */
class ConfigSnapshotFuzzTest {
    /** One valid input first, to load the classes outside the 1 s every input gets. */
    @BeforeAll
    static void warmUp() throws Exception {
        GatewayRoutes.of(ConfigSnapshot.parseFrom(ConfigSnapshot.newBuilder().setVersion("v").build().toByteArray()),
                InetAddress.getLoopbackAddress());
    }

    @Timeout(value = 1, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    @FuzzTest(maxDuration = "5m")
    void gatewayRoutes(byte[] input) {
        ConfigSnapshot snapshot;
        try {
            snapshot = ConfigSnapshot.parseFrom(input);
        } catch (InvalidProtocolBufferException notASnapshot) {
            return;
        }
        try {
            GatewayRoutes.of(snapshot, InetAddress.getLoopbackAddress());
        } catch (IllegalArgumentException refused) {
            // NACKed
        }
        try {
            GatewayRoutes.attestation(snapshot, io.meshfed.trust.TrustDomain.parse("east.acme.mesh"));
        } catch (IllegalArgumentException refused) {
            // NACKed
        }
    }
}
