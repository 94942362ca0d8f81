package io.meshfed.api.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.meshfed.api.v1.AuthorizationPolicy;
import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.Endpoint;
import io.meshfed.api.v1.NetworkEndpoints;
import io.meshfed.api.v1.NetworkGateway;
import io.meshfed.api.v1.OutboundListener;
import io.meshfed.api.v1.Service;
import io.meshfed.api.v1.ServiceRef;
import io.meshfed.api.v1.ServiceResources;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Snapshot bytes made from an earlier snapshot's equal the snapshot's own serialisation byte for byte, on random
 * snapshots and random changes of their services, and copy every element the two share.
 */
class SnapshotBytesTest {
    private static ServiceResources service(Random random, int n) {
        String name = "svc" + n;
        NetworkEndpoints.Builder endpoints = NetworkEndpoints.newBuilder().setNetwork("west").setLocal(true);
        int count = random.nextInt(5);
        for (int i = 0; i < count; i++) {
            endpoints.addEndpoints(Endpoint.newBuilder().setAddress("10.0." + n + "." + random.nextInt(250))
                    .setPort(8080).setWeight(1 + random.nextInt(3)));
        }
        ServiceResources.Builder r = ServiceResources.newBuilder().setName(name).setNamespace("ns");
        if (count > 0) {
            r.setService(Service.newBuilder().setName(name).setNamespace("ns").addNetworks(endpoints
                    .setHealthyEndpoints(count)));
        }
        if (random.nextBoolean()) {
            r.addOutbound(OutboundListener.newBuilder().setService(name).setNamespace("ns").setServicePort(8080)
                    .setListenPort(20000 + n));
        }
        if (random.nextBoolean()) {
            r.setAuthorization(AuthorizationPolicy.newBuilder().setService(name).setNamespace("ns")
                    .addAllowedTrustDomains("west.acme.mesh"));
        }
        return r.build();
    }

    private static ConfigSnapshot snapshot(Random random) {
        ConfigSnapshot base = ConfigSnapshot.newBuilder().setMember("west").setNetwork("west")
                .addGateways(NetworkGateway.newBuilder().setNetwork("east").setAddress("127.0.1.1:15443"))
                .addRevokedIdentities("spiffe://west.acme.mesh/ns/a/vm/old")
                .addForwardingTrustDomains("k8s.acme.mesh")
                .setSvidIssuerRoot(random.nextBoolean() ? ByteString.copyFromUtf8("root") : ByteString.EMPTY)
                .build();
        List<ServiceResources> services = new ArrayList<>();
        for (int n = 0; n < 40; n++) {
            services.add(service(random, n));
        }
        return ConfigDeltas.withServices(base, services, List.of()).build();
    }

    @Test
    void bytesMadeFromAnEarlierSnapshotEqualTheSnapshotsOwnSerialisation() {
        for (long seed = 1; seed <= 50; seed++) {
            Random random = new Random(seed);
            ConfigSnapshot first = snapshot(random);
            SnapshotBytes.Serialised earlier = SnapshotBytes.of(first, null, 0);
            assertThat(earlier.bytes()).isEqualTo(first.toByteArray());
            assertThat(earlier.reused()).isZero();
            for (int step = 0; step < 10; step++) {
                List<ServiceResources> changed = new ArrayList<>();
                List<ServiceRef> removed = new ArrayList<>();
                for (int k = random.nextInt(4); k >= 0; k--) {
                    int n = random.nextInt(45);
                    if (random.nextInt(5) == 0) {
                        removed.add(ServiceRef.newBuilder().setName("svc" + n).setNamespace("ns").build());
                    } else {
                        changed.add(service(random, n));
                    }
                }
                ConfigSnapshot next = ConfigDeltas.withServices(first, changed, removed).build();
                SnapshotBytes.Serialised made = SnapshotBytes.of(next, earlier.layout(), 0);
                assertThat(made.bytes()).as("seed %d step %d", seed, step).isEqualTo(next.toByteArray());
                int elements = next.getServicesCount() + next.getOutboundCount() + next.getAuthorizationCount();
                int fresh = changed.stream().mapToInt(r -> (r.hasService() ? 1 : 0) + r.getOutboundCount()
                        + (r.hasAuthorization() ? 1 : 0)).sum();
                assertThat(made.reused()).as("every element not changed is copied")
                        .isGreaterThanOrEqualTo(elements - fresh);
                first = next;
                earlier = made;
            }
        }
    }
}
