package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.catalog.PortAllocations;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outbound listen ports come from 15100-15999, one per federated service port. A member holds at most its quota of
 * service ports; what is beyond the quota or the range gets no port (and is named); a port is freed when its
 * service port's last workload goes.
 */
class PortAllocationTest {
    private static final int CAPACITY = PortAllocations.LAST_PORT - PortAllocations.FIRST_PORT + 1;

    @TempDir
    Path dir;

    private static WorkloadSetRecord set(String key, String member, int from, int to) {
        return new WorkloadSetRecord(key, member, "net", IntStream.range(from, to).mapToObj(i ->
                new WorkloadSetRecord.Workload("svc-" + i, "demo", "10.0.0.1", 8080, true, "", null)).toList());
    }

    /** Allocates for {@code next}, writes it and frees what no set uses any more, as a report does. */
    private static PortAllocations.Result write(Store store, WorkloadSetRecord next, int quota) {
        return store.transact(tx -> {
            PortAllocations.Result r = PortAllocations.allocate(tx, next, quota);
            WorkloadSetRecord kept = new WorkloadSetRecord(next.agent(), next.member(), next.network(),
                    next.workloads().stream().filter(w -> !r.overQuota().contains(PortAllocations.key(w))
                            && !r.exhausted().contains(PortAllocations.key(w))).toList());
            Records.put(tx, Kind.WORKLOADS, next.agent(), kept, StoreTransaction.ANY);
            PortAllocations.releaseUnused(tx);
            return r;
        });
    }

    private static List<PortAllocationRecord> ports(Store store) {
        return Records.list(store, Kind.PORT, PortAllocationRecord.class);
    }

    @Test
    void theRangeRunsOutOnlyForTheServicePortsBeyondIt() {
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            PortAllocations.Result r = write(store, set("a", "m", 0, CAPACITY + 3), CAPACITY + 3);

            assertThat(r.exhausted()).containsExactly("8080.svc-900.demo", "8080.svc-901.demo", "8080.svc-902.demo");
            assertThat(r.overQuota()).isEmpty();
            assertThat(ports(store)).hasSize(CAPACITY).extracting(PortAllocationRecord::listenPort)
                    .doesNotHaveDuplicates().allSatisfy(p -> assertThat(p).isBetween(15100, 15999));
        }
    }

    @Test
    void aMemberHoldsAtMostItsQuotaOverAllItsSets() {
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            PortAllocations.Result first = write(store, set("agent-1", "east", 0, 7), 5);
            assertThat(first.overQuota()).containsExactly("8080.svc-5.demo", "8080.svc-6.demo");
            assertThat(ports(store)).hasSize(5);

            // A second agent of the same member: a service port the member holds already costs nothing more,
            // a new one is over the quota.
            WorkloadSetRecord second = set("agent-2", "east", 4, 6);
            PortAllocations.Result r = write(store, second, 5);
            assertThat(r.overQuota()).containsExactly("8080.svc-5.demo");

            // Another member has its own quota and shares the listen port of a service port both serve.
            PortAllocations.Result west = write(store, set("agent-3", "west", 3, 8), 5);
            assertThat(west.complete()).isTrue();
            assertThat(ports(store)).extracting(PortAllocationRecord::service)
                    .containsExactlyInAnyOrder("svc-0", "svc-1", "svc-2", "svc-3", "svc-4", "svc-5", "svc-6", "svc-7");
        }
    }

    @Test
    void aPortIsFreedWithTheLastWorkloadOfItsServicePortAndReused() {
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            write(store, set("agent-1", "east", 0, 3), 256);
            write(store, set("agent-2", "west", 2, 3), 256);
            int shared = ports(store).stream().filter(p -> p.service().equals("svc-2")).findFirst().orElseThrow()
                    .listenPort();

            write(store, set("agent-1", "east", 0, 0), 256); // east withdraws everything

            assertThat(ports(store)).singleElement().satisfies(p -> {
                assertThat(p.service()).isEqualTo("svc-2"); // west still serves it: its port stays
                assertThat(p.listenPort()).isEqualTo(shared);
            });
            write(store, set("agent-1", "east", 10, 11), 256);
            assertThat(ports(store)).extracting(PortAllocationRecord::listenPort).contains(15100); // freed, reused
        }
    }
}
