package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.catalog.RegistrationServiceImpl;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.PortAllocationRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outbound listen ports come from 15100-15999, one per federated service port. When they run out, an agent's report
 * is refused as a whole, while a cluster's export keeps every service and only the ones without a port lack an
 * outbound listener elsewhere.
 */
class PortAllocationTest {
    @TempDir
    Path dir;

    private static List<WorkloadSetRecord.Workload> services(int n) {
        return IntStream.range(0, n).mapToObj(i -> new WorkloadSetRecord.Workload("svc-" + i, "demo", "10.0.0.1",
                8080, true, "", null)).toList();
    }

    @Test
    void exhaustionRefusesAReportButLeavesAClusterExportWithoutTheLastPorts() {
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            int capacity = RegistrationServiceImpl.LAST_PORT - RegistrationServiceImpl.FIRST_PORT + 1;

            List<String> left = store.transact(tx -> RegistrationServiceImpl.allocatePortsWherePossible(tx,
                    services(capacity + 3)));

            assertThat(left).containsExactly("8080.svc-900.demo", "8080.svc-901.demo", "8080.svc-902.demo");
            assertThat(Records.list(store, Kind.PORT, PortAllocationRecord.class)).hasSize(capacity)
                    .extracting(PortAllocationRecord::listenPort).doesNotHaveDuplicates()
                    .allSatisfy(p -> assertThat(p).isBetween(15100, 15999));
            assertThatThrownBy(() -> store.transact(tx -> {
                RegistrationServiceImpl.allocatePorts(tx, services(capacity + 1));
                return null;
            })).hasMessageContaining("no free outbound listen port left in 15100-15999 for 8080.svc-900.demo");
        }
    }
}
