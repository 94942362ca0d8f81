package io.meshfed.controller.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.api.v1.ConfigSnapshot;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.controller.identity.TrustState;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.testing.TestFederation;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog view kept up to date from the store's change log, and the snapshots rebuilt from it for the changed
 * services only, equal what a whole read of the store and a whole build give, step for step, on seeded random
 * sequences of workload changes mixed with an admin's changes (which make the next view a whole read).
 */
class IncrementalCatalogTest {
    private static final int MEMBERS = 4;
    private static final List<String> LOCALITIES = List.of("", "eu-west/a", "eu-west/b", "us-east/a");

    @TempDir
    Path dir;
    private TestFederation federation;
    private Store store;
    private TrustState trust;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir, Duration.ofHours(1));
        federation.addNetworksAndMembers(2, MEMBERS);
        var admin = federation.admin();
        admin.export(ExportRequest.newBuilder().setService("svc0").setNamespace("ns").setToAll(true).build());
        admin.export(ExportRequest.newBuilder().setService("svc1").setNamespace("ns").addToMembers("m1").build());
        admin.export(ExportRequest.newBuilder().setService("svc2").setNamespace("other").addToMembers("m2")
                .addToMembers("m3").build());
        store = federation.controller().store();
        trust = new TrustState(federation.identity);
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    @Test
    void viewsAndSnapshotsKeptFromTheChangeLogEqualWholeReadsOnRandomChangeSequences() throws Exception {
        int incremental = 0;
        int whole = 0;
        int rebuiltServices = 0;
        for (long seed = 1; seed <= 6; seed++) {
            Random random = new Random(seed);
            CatalogView view = CatalogView.load(store, trust);
            Map<String, ConfigSnapshot> snapshots = snapshots(view, null, -1);
            for (int step = 0; step < 40; step++) {
                int writes = 1 + random.nextInt(3);
                for (int w = 0; w < writes; w++) {
                    change(random);
                }
                if (random.nextInt(10) == 0) { // an admin's change: the next view is read whole
                    federation.admin().export(ExportRequest.newBuilder().setService("svc" + random.nextInt(6))
                            .setNamespace("ns").addToMembers("m" + random.nextInt(MEMBERS)).build());
                }
                CatalogView next = view.next(store, trust);
                CatalogView expected = CatalogView.load(store, trust);
                assertThat(next.revision()).isEqualTo(expected.revision());
                assertThat(next.services()).isEqualTo(expected.services());
                for (String network : List.of("net0", "net1")) {
                    assertThat(next.locality(network)).isEqualTo(expected.locality(network));
                }
                if (next.changedFrom() >= 0) {
                    assertThat(next.changedFrom()).isEqualTo(view.revision());
                    incremental++;
                    rebuiltServices += next.changedServices().size();
                } else {
                    whole++;
                }
                Map<String, ConfigSnapshot> rebuilt = snapshots(next, snapshots, view.revision());
                Map<String, ConfigSnapshot> built = snapshots(expected, null, -1);
                for (String key : built.keySet()) {
                    assertThat(rebuilt.get(key)).as("seed %d step %d %s", seed, step, key)
                            .isEqualTo(built.get(key));
                }
                view = next;
                snapshots = rebuilt;
            }
        }
        // Both paths ran, and the incremental one rebuilt some services, not all of them each time.
        assertThat(incremental).isGreaterThan(100);
        assertThat(whole).isGreaterThan(5);
        assertThat(rebuiltServices).isGreaterThan(0).isLessThan(incremental * 8);
    }

    @Test
    void onlyTheServicesOfTheChangedSetAreMarkedChanged() throws Exception {
        put("set-a", "m0", "net0", List.of(workload("svc0", "ns", "10.0.0.1", true, "")));
        put("set-b", "m1", "net1", List.of(workload("svc1", "ns", "10.0.1.1", true, "")));
        CatalogView view = CatalogView.load(store, trust);
        put("set-a", "m0", "net0", List.of(workload("svc0", "ns", "10.0.0.1", false, "")));
        CatalogView next = view.next(store, trust);
        assertThat(next.changedFrom()).isEqualTo(view.revision());
        assertThat(next.changedServices()).containsExactly(new CatalogView.ServiceKey("svc0", "ns"));

        store.delete(Kind.WORKLOADS.storeName(), "set-b", -1);
        CatalogView after = next.next(store, trust);
        assertThat(after.changedServices()).containsExactly(new CatalogView.ServiceKey("svc1", "ns"));
        assertThat(after.services()).doesNotContainKey(new CatalogView.ServiceKey("svc1", "ns"));

        // A set whose only instance now reports a locality moves its network's locality: everything is rebuilt.
        put("set-a", "m0", "net0", List.of(workload("svc0", "ns", "10.0.0.1", false, "eu-west/a")));
        CatalogView moved = after.next(store, trust);
        assertThat(moved.changedFrom()).isEqualTo(-1);
        assertThat(moved.locality("net0").region()).isEqualTo("eu-west");
    }

    /** The snapshots of every member and audience: rebuilt from {@code previous} when given, else built whole. */
    private static Map<String, ConfigSnapshot> snapshots(CatalogView view, Map<String, ConfigSnapshot> previous,
            long previousRevision) {
        Map<String, ConfigSnapshot> out = new HashMap<>();
        for (int m = 0; m < MEMBERS; m++) {
            String member = "m" + m;
            String network = "net" + (m % 2);
            for (SnapshotAudience audience : SnapshotAudience.values()) {
                String key = member + "/" + audience;
                out.put(key, previous == null ? SnapshotBuilder.build(view, member, network, audience)
                        : SnapshotBuilder.rebuild(previous.get(key), previousRevision, view, member, network,
                                audience));
            }
        }
        return out;
    }

    /** One random workload change: a set replaced (services, addresses, health, localities drawn small) or deleted. */
    private void change(Random random) {
        String set = "set-" + random.nextInt(8);
        if (random.nextInt(6) == 0) {
            store.delete(Kind.WORKLOADS.storeName(), set, -1);
            return;
        }
        int m = random.nextInt(MEMBERS);
        List<WorkloadSetRecord.Workload> workloads = new ArrayList<>();
        int count = random.nextInt(6);
        for (int i = 0; i < count; i++) {
            String locality = random.nextInt(8) == 0 ? LOCALITIES.get(random.nextInt(LOCALITIES.size()))
                    : LOCALITIES.get(1 + m % 2);
            workloads.add(workload("svc" + random.nextInt(6), random.nextInt(4) == 0 ? "other" : "ns",
                    "10.0." + random.nextInt(3) + "." + random.nextInt(4), random.nextInt(5) > 0, locality));
        }
        put(set, "m" + m, "net" + (m % 2), workloads);
    }

    private static WorkloadSetRecord.Workload workload(String service, String namespace, String address,
            boolean healthy, String locality) {
        return new WorkloadSetRecord.Workload(service, namespace, address, 8080, healthy, locality,
                address + ":15006");
    }

    private void put(String set, String member, String network, List<WorkloadSetRecord.Workload> workloads) {
        store.transact(tx -> Records.put(tx, Kind.WORKLOADS, set, new WorkloadSetRecord(
                "spiffe://" + member + ".acme.mesh/ns/ns/vm/" + set, member, network, workloads), -1));
    }
}
