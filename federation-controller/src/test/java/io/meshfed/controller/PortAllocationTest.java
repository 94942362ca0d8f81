package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.catalog.PortRange;
import io.meshfed.controller.model.ClusterRecord;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.PortShortfallRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outbound listen ports are allocated per importing network, on a real SQLite store: a network holds a port for a
 * service port exactly while one of its members may see an instance of it in another network; ports are
 * independent between networks, stable across a restart of the store, freed when the import ends; a member's
 * services hold at most its quota of one network's range; a shortfall is recorded naming the network; and a store
 * with the former global allocations upgrades.
 */
class PortAllocationTest {
    private static final PortRange RANGE = PortRange.DEFAULT;

    @TempDir
    Path dir;

    private Store open() {
        return SqliteStore.open(dir.resolve("state.db"));
    }

    private static void network(Store store, String network, String... members) {
        store.transact(tx -> {
            Records.put(tx, Kind.NETWORK, network, new NetworkRecord(network, "", List.of(members)),
                    StoreTransaction.ANY);
            for (String m : members) {
                Records.put(tx, Kind.MEMBER, m, new MemberRecord(m, "kubernetes", network, m + ".acme.mesh",
                        List.of(), List.of()), StoreTransaction.ANY);
            }
            return null;
        });
    }

    /** A member cluster's endpoints: {@code services} (svc-FROM .. svc-TO-1) on port 8080, in namespace demo. */
    private static WorkloadSetRecord cluster(String member, String network, int from, int to) {
        return new WorkloadSetRecord(ClusterRecord.workloadSetKey(member), member, network, IntStream.range(from, to)
                .mapToObj(i -> new WorkloadSetRecord.Workload("svc-" + i, "demo", "10.0.0.1", 8080, true, "", null))
                .toList());
    }

    private static WorkloadSetRecord cluster(String member, String network, String... services) {
        return new WorkloadSetRecord(ClusterRecord.workloadSetKey(member), member, network, java.util.Arrays
                .stream(services).map(s -> new WorkloadSetRecord.Workload(s, "demo", "10.0.0.1", 8080, true, "", null))
                .toList());
    }

    private static PortAllocations.Result write(Store store, PortAllocations ports, WorkloadSetRecord set) {
        return store.transact(tx -> {
            Records.put(tx, Kind.WORKLOADS, set.agent(), set, StoreTransaction.ANY);
            return ports.reconcile(tx);
        });
    }

    private static PortAllocations.Result export(Store store, PortAllocations ports, ExportRecord e) {
        return store.transact(tx -> {
            Records.put(tx, Kind.EXPORT, ExportRecord.key(e.service(), e.namespace()), e, StoreTransaction.ANY);
            return ports.reconcile(tx);
        });
    }

    private static void exportAll(Store store, PortAllocations ports, int from, int to) {
        store.transact(tx -> {
            for (int i = from; i < to; i++) {
                Records.put(tx, Kind.EXPORT, "svc-" + i + ".demo", new ExportRecord("svc-" + i, "demo", true,
                        List.of()), StoreTransaction.ANY);
            }
            return ports.reconcile(tx);
        });
    }

    /** Network → service port key → listen port. */
    private static Map<String, Map<String, Integer>> ports(Store store) {
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        for (PortAllocationRecord p : Records.list(store, Kind.PORT, PortAllocationRecord.class)) {
            out.computeIfAbsent(String.valueOf(p.network()), n -> new TreeMap<>()).put(p.servicePortKey(),
                    p.listenPort());
        }
        return out;
    }

    @Test
    void eachImportingNetworkHasItsOwnPortsAndOnlyImportingNetworksHaveAny() {
        try (Store store = open()) {
            PortAllocations allocations = new PortAllocations(RANGE, 100);
            network(store, "east", "e");
            network(store, "west", "w");
            network(store, "north", "n");
            write(store, allocations, cluster("e", "east", 0, 1)); // svc-0 in east
            write(store, allocations, cluster("n", "north", 1, 2)); // svc-1 in north
            // Reported but exported to nobody: no network imports it, so nothing is allocated for it anywhere.
            write(store, allocations, cluster("w", "west", 2, 40));
            assertThat(ports(store)).isEmpty();

            export(store, allocations, new ExportRecord("svc-0", "demo", false, List.of("w")));
            export(store, allocations, new ExportRecord("svc-1", "demo", false, List.of("e")));

            // West imports svc-0, east imports svc-1: the same first port of the range, for different services;
            // north imports nothing and east gets nothing for its own svc-0.
            assertThat(ports(store)).isEqualTo(Map.of(
                    "west", Map.of("8080.svc-0.demo", 20000),
                    "east", Map.of("8080.svc-1.demo", 20000)));

            // Exported to all: north imports svc-0 too, with its own port; west's stays.
            export(store, allocations, new ExportRecord("svc-0", "demo", true, List.of()));
            assertThat(ports(store)).isEqualTo(Map.of(
                    "west", Map.of("8080.svc-0.demo", 20000),
                    "north", Map.of("8080.svc-0.demo", 20000),
                    "east", Map.of("8080.svc-1.demo", 20000)));
        }
    }

    @Test
    void anAllowPolicyNamingAMembersTrustDomainMakesItsNetworkImportAndADenyDoesNot() {
        try (Store store = open()) {
            PortAllocations allocations = new PortAllocations(RANGE, 100);
            network(store, "east", "e");
            network(store, "west", "w");
            network(store, "north", "n");
            write(store, allocations, cluster("e", "east", "hello"));
            export(store, allocations, new ExportRecord("hello", "demo", false, List.of("w")));
            var policies = new io.meshfed.controller.authz.CallerPolicyOperations(store, allocations::reconcile);
            var deny = policies.put(io.meshfed.api.v1.CallerPolicyRequest.newBuilder().setService("hello")
                    .setNamespace("demo").setEffect(io.meshfed.api.v1.CallerRule.Effect.DENY)
                    .setFrom("spiffe://n.acme.mesh").build());
            assertThat(ports(store)).as("a deny grants no visibility").isEqualTo(Map.of(
                    "west", Map.of("8080.hello.demo", 20000)));

            var allow = policies.put(io.meshfed.api.v1.CallerPolicyRequest.newBuilder().setService("hello")
                    .setNamespace("demo").setEffect(io.meshfed.api.v1.CallerRule.Effect.ALLOW)
                    .setFrom("spiffe://n.acme.mesh/ns/demo/*").build());
            assertThat(ports(store)).as("north's member may now see hello.demo, so north imports it").isEqualTo(
                    Map.of("west", Map.of("8080.hello.demo", 20000), "north", Map.of("8080.hello.demo", 20000)));

            policies.delete(io.meshfed.api.v1.DeleteCallerPolicyRequest.newBuilder().setId(allow.getId()).build());
            assertThat(ports(store)).as("freed with the allow policy").isEqualTo(Map.of(
                    "west", Map.of("8080.hello.demo", 20000)));
            assertThat(deny.getId()).isNotEqualTo(allow.getId());
        }
    }

    @Test
    void portsStayAcrossARestartOfTheStoreAndAreFreedWhenTheImportEnds() {
        PortAllocations allocations = new PortAllocations(RANGE, 100);
        try (Store store = open()) {
            network(store, "east", "e");
            network(store, "west", "w");
            write(store, allocations, cluster("e", "east", 10, 13));
            exportAll(store, allocations, 10, 13);
        }
        Map<String, Map<String, Integer>> before;
        try (Store store = open()) { // a restart: same file, allocation again as at start
            before = ports(store);
            assertThat(before.get("west")).hasSize(3);
            PortAllocations.Result again = store.transact(allocations::reconcile);
            assertThat(again.assigned()).isZero();
            assertThat(again.freed()).isZero();
            long revision = store.revision();
            store.transact(allocations::reconcile);
            assertThat(store.revision()).as("nothing to change writes nothing").isEqualTo(revision);

            // A new service that sorts first takes a free port; those held do not move.
            write(store, allocations, cluster("e", "east", "svc-0", "svc-10", "svc-11", "svc-12"));
            exportAll(store, allocations, 0, 1);
            assertThat(ports(store).get("west")).containsAllEntriesOf(before.get("west"))
                    .containsEntry("8080.svc-0.demo", 20003);

            // The import ends (unexported): its port is freed in that transaction, and the next import reuses it.
            int freed = ports(store).get("west").get("8080.svc-11.demo");
            store.transact(tx -> {
                tx.delete(Kind.EXPORT.storeName(), "svc-11.demo", StoreTransaction.ANY);
                return allocations.reconcile(tx);
            });
            assertThat(ports(store).get("west")).doesNotContainKey("8080.svc-11.demo");
            write(store, allocations, cluster("e", "east", "svc-0", "svc-10", "svc-11", "svc-12", "svc-50"));
            export(store, allocations, new ExportRecord("svc-50", "demo", true, List.of()));
            assertThat(ports(store).get("west")).containsEntry("8080.svc-50.demo", freed);

            // The provider withdraws everything: every port it held in west goes.
            write(store, allocations, cluster("e", "east", 0, 0));
            assertThat(ports(store)).isEmpty();
        }
    }

    @Test
    void tenThousandServicePortsImportedIntoOneNetwork() {
        try (Store store = open()) {
            PortAllocations allocations = PortAllocations.defaults(); // 20000-32767, quota 1000 per member
            network(store, "west", "w");
            for (int m = 0; m < 10; m++) {
                network(store, "east-" + m, "e" + m);
                write(store, allocations, cluster("e" + m, "east-" + m, m * 1000, (m + 1) * 1000));
            }
            exportAll(store, allocations, 0, 10_000);

            Map<String, Integer> west = ports(store).get("west");
            assertThat(west).hasSize(10_000);
            assertThat(west.values()).doesNotHaveDuplicates().allSatisfy(p -> assertThat(p).isBetween(20000, 32767));
            assertThat(Records.list(store, Kind.PORT_SHORTFALL, PortShortfallRecord.class)).isEmpty();
        }
    }

    @Test
    void anExhaustedRangeIsRecordedForItsNetworkUntilThereIsRoomAgain() {
        try (Store store = open()) {
            PortAllocations allocations = new PortAllocations(new PortRange(20000, 20009), 100);
            network(store, "east", "e");
            network(store, "west", "w");
            write(store, allocations, cluster("e", "east", 0, 12));
            PortAllocations.Result r = store.transact(tx -> {
                for (int i = 0; i < 12; i++) {
                    Records.put(tx, Kind.EXPORT, "svc-" + i + ".demo", new ExportRecord("svc-" + i, "demo", false,
                            List.of("w")), StoreTransaction.ANY);
                }
                return allocations.reconcile(tx);
            });

            assertThat(ports(store).get("west")).hasSize(10);
            PortShortfallRecord west = r.shortfalls().get("west");
            assertThat(west.exhausted()).isEqualTo(2);
            assertThat(west.overQuota()).isZero();
            assertThat(west.first()).containsExactly("8080.svc-8.demo", "8080.svc-9.demo"); // the last in key order
            assertThat(Records.list(store, Kind.PORT_SHORTFALL, PortShortfallRecord.class)).containsExactly(west);
            assertThat(west.describe()).isEqualTo("network west: 2 imported service ports got no outbound listen port,"
                    + " 2 because the range is exhausted (first: 8080.svc-8.demo, 8080.svc-9.demo)");

            write(store, allocations, cluster("e", "east", 0, 10)); // two fewer: everything fits again
            assertThat(Records.list(store, Kind.PORT_SHORTFALL, PortShortfallRecord.class)).isEmpty();
        }
    }

    @Test
    void oneMembersServicesHoldAtMostItsQuotaOfANetworksRange() {
        try (Store store = open()) {
            PortAllocations allocations = new PortAllocations(RANGE, 5);
            network(store, "east", "e", "e2");
            network(store, "west", "w");
            write(store, allocations, cluster("e", "east", 0, 7));
            write(store, allocations, cluster("e2", "east", 7, 9));
            exportAll(store, allocations, 0, 9);

            Map<String, Integer> west = ports(store).get("west");
            assertThat(west).hasSize(7).containsKeys("8080.svc-7.demo", "8080.svc-8.demo"); // e2 has its own quota
            PortShortfallRecord shortfall = Records.get(store, Kind.PORT_SHORTFALL, "west", PortShortfallRecord.class)
                    .orElseThrow();
            assertThat(shortfall.overQuota()).isEqualTo(2);
            assertThat(shortfall.exhausted()).isZero();
        }
    }

    @Test
    void aStoreWithGlobalAllocationsUpgrades() {
        try (Store store = open()) {
            network(store, "east", "e");
            network(store, "west", "w");
            network(store, "north", "n");
            store.transact(tx -> {
                Records.put(tx, Kind.WORKLOADS, ClusterRecord.workloadSetKey("e"), cluster("e", "east", 0, 3),
                        StoreTransaction.ANY);
                for (int i = 0; i < 3; i++) {
                    Records.put(tx, Kind.EXPORT, "svc-" + i + ".demo", new ExportRecord("svc-" + i, "demo", true,
                            List.of()), StoreTransaction.ANY);
                }
                // What the controller wrote before: one global allocation per service port, keyed without network.
                tx.put("PortAllocation", "8080.svc-0.demo",
                        "{\"service\":\"svc-0\",\"namespace\":\"demo\",\"servicePort\":8080,\"listenPort\":15100}",
                        StoreTransaction.ABSENT);
                tx.put("PortAllocation", "8080.svc-1.demo",
                        "{\"service\":\"svc-1\",\"namespace\":\"demo\",\"servicePort\":8080,\"listenPort\":21000}",
                        StoreTransaction.ABSENT);
                return null;
            });
        }
        try (Store store = open()) {
            PortAllocations.Result r = store.transact(new PortAllocations(RANGE, 100)::reconcile); // as at start

            // A global port inside the range stays in every importing network; one outside it moves into it.
            Map<String, Integer> expected = Map.of("8080.svc-0.demo", 20000, "8080.svc-1.demo", 21000,
                    "8080.svc-2.demo", 20001);
            assertThat(ports(store)).isEqualTo(Map.of("west", expected, "north", expected));
            assertThat(r.complete()).isTrue();
            assertThat(Records.list(store, Kind.PORT, PortAllocationRecord.class))
                    .noneMatch(PortAllocationRecord::global);
        }
    }
}
