package io.meshfed.controller.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.WorkloadSetRecord;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every member kind's report does to the catalog through {@link MemberExports}: an offer never widens an
 * admin's export, and writes happen only on change.
 */
class MemberExportsTest {
    @TempDir
    Path dir;
    private Store store;
    private final MemberExports exports = new MemberExports(PortAllocations.defaults());

    @BeforeEach
    void open() {
        store = SqliteStore.open(dir.resolve("state.db"));
        store.transact(tx -> {
            Records.put(tx, Kind.NETWORK, "west", new NetworkRecord("west", "", List.of("dc1", "vms"), ""),
                    StoreTransaction.ANY);
            Records.put(tx, Kind.MEMBER, "dc1", new MemberRecord("dc1", "consul", "west", "dc1.acme.mesh", List.of(),
                    List.of("10.1.0.0/16")), StoreTransaction.ANY);
            return null;
        });
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static WorkloadSetRecord set(String member, int port) {
        return new WorkloadSetRecord("member:" + member, member, "west", List.of(
                new WorkloadSetRecord.Workload("billing", "legacy", "10.1.0.7", port, true, "", null)));
    }

    private MemberExports.Outcome write(WorkloadSetRecord set, List<MemberExports.Offer> offers) {
        return store.transact(tx -> exports.write(tx, set, offers));
    }

    @Test
    void anOfferExportsToEveryMemberButCoversOnlyTheOfferingMembersInstances() {
        MemberExports.Outcome first = write(set("dc1", 8080), List.of(new MemberExports.Offer("billing", "legacy",
                List.of(8080))));

        assertThat(first.changed()).isTrue();
        ExportRecord x = Records.get(store, Kind.EXPORT, "billing.legacy", ExportRecord.class).orElseThrow();
        assertThat(x.toAll()).isTrue();
        assertThat(x.offeredBy()).isEqualTo("dc1");
        assertThat(x.covers("dc1")).isTrue();
        assertThat(x.covers("vms")).as("a member can never export another member's instances").isFalse();

        long revision = store.revision();
        MemberExports.Outcome again = write(set("dc1", 8080), List.of(new MemberExports.Offer("billing", "legacy",
                List.of(8080))));
        assertThat(again.changed()).as("the same report again").isFalse();
        assertThat(store.revision()).as("and nothing was written").isEqualTo(revision);
    }

    @Test
    void anOfferNeverReplacesOrWidensAnAdminsExport() {
        store.transact(tx -> Records.put(tx, Kind.EXPORT, "billing.legacy", new ExportRecord("billing", "legacy",
                false, List.of("vms")), StoreTransaction.ANY));

        write(set("dc1", 8080), List.of(new MemberExports.Offer("billing", "legacy", List.of(8080))));

        ExportRecord x = Records.get(store, Kind.EXPORT, "billing.legacy", ExportRecord.class).orElseThrow();
        assertThat(x.toAll()).isFalse();
        assertThat(x.toMembers()).containsExactly("vms");
        assertThat(x.offeredBy()).isNull();
    }

    @Test
    void portsThatDifferFromTheSameServiceElsewhereAreAConflict() {
        write(new WorkloadSetRecord("spiffe://vms.acme.mesh/ns/legacy/vm/a", "vms", "west", List.of(
                new WorkloadSetRecord.Workload("billing", "legacy", "10.2.0.1", 9090, true, "", "10.2.0.1:15006"))),
                List.of());

        MemberExports.Outcome o = write(set("dc1", 8080), List.of(new MemberExports.Offer("billing", "legacy",
                List.of(8080))));

        assertThat(o.conflicts()).containsEntry("legacy/billing",
                "ports [8080] differ from [9090] exported elsewhere; the federation carries every port");
    }
}
