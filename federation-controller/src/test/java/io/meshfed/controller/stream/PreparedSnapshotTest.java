package io.meshfed.controller.stream;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.config.ConfigVersion;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.Service;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A snapshot serialised once with its version: subscribers parse exactly the versioned snapshot from its bytes. */
class PreparedSnapshotTest {
    @Test
    void theBytesOfAVersionedSnapshotParseToItAndItsVersionIsTheContentHash() throws Exception {
        ConfigSnapshot content = ConfigSnapshot.newBuilder().setMember("west").setNetwork("west")
                .addServices(Service.newBuilder().setName("hello").setNamespace("demo").addNetworks(NetworkEndpoints
                        .newBuilder().setNetwork("west").setLocal(true).setHealthyEndpoints(1).addEndpoints(Endpoint
                                .newBuilder().setAddress("10.0.0.1").setPort(8080))))
                .addRevokedIdentities("spiffe://west.acme.mesh/ns/demo/vm/old").build();
        PreparedSnapshot prepared = PreparedSnapshot.versioned(content, null);
        ConfigSnapshot expected = content.toBuilder().setVersion(ConfigVersion.of(content)).build();
        assertThat(prepared.content()).isEqualTo(expected);
        assertThat(prepared.version()).isEqualTo(ConfigVersion.of(expected)).hasSize(24);
        assertThat(ConfigSnapshot.parseFrom(prepared.bytes())).isEqualTo(expected);
        // and with a push's nonce and subscriber after it, as the stream sends it
        PreparedSnapshot.Push push = PreparedSnapshot.Push.of(prepared, "n-7", "spiffe://acme.mesh/x");
        byte[] wire = new byte[push.snapshot().bytes().length + push.tail().length];
        System.arraycopy(push.snapshot().bytes(), 0, wire, 0, push.snapshot().bytes().length);
        System.arraycopy(push.tail(), 0, wire, push.snapshot().bytes().length, push.tail().length);
        assertThat(ConfigSnapshot.parseFrom(wire))
                .isEqualTo(expected.toBuilder().setNonce("n-7").setSubscriber("spiffe://acme.mesh/x").build());
    }

    @Test
    void aSnapshotMadeFromAnEarlierOnesBytesParsesToItWithItsContentHash() throws Exception {
        ConfigSnapshot.Builder b = ConfigSnapshot.newBuilder().setMember("west").setNetwork("west");
        for (int n = 0; n < 3; n++) {
            b.addServices(Service.newBuilder().setName("svc" + n).setNamespace("demo").addNetworks(NetworkEndpoints
                    .newBuilder().setNetwork("west").setLocal(true).setHealthyEndpoints(1).addEndpoints(Endpoint
                            .newBuilder().setAddress("10.0.0." + n).setPort(8080))));
        }
        PreparedSnapshot earlier = PreparedSnapshot.versioned(b.build(), null);
        io.meshfed.api.v1.ServiceResources changed = io.meshfed.api.v1.ServiceResources.newBuilder().setName("svc1")
                .setNamespace("demo").setService(earlier.content().getServices(1).toBuilder().clearNetworks()
                        .addNetworks(NetworkEndpoints.newBuilder().setNetwork("east").setLocal(false)
                                .setHealthyEndpoints(2)))
                .build();
        ConfigSnapshot next = io.meshfed.api.config.ConfigDeltas.withServices(earlier.content(), List.of(changed),
                List.of()).clearVersion().build();
        PreparedSnapshot prepared = PreparedSnapshot.versioned(next, earlier);
        ConfigSnapshot expected = next.toBuilder().setVersion(ConfigVersion.of(next)).build();
        assertThat(prepared.content()).isEqualTo(expected);
        assertThat(ConfigSnapshot.parseFrom(prepared.bytes())).isEqualTo(expected);
        assertThat(prepared.version()).isNotEqualTo(earlier.version());
    }
}
