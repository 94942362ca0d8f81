package io.meshfed.controller.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshfed.controller.model.IdentityRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.model.ServiceScope;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.store.sqlite.SqliteStore;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Identities that joined before the controller kept identity records get one at start, with the role their SPIFFE
 * ID's path says and, for an agent, its namespace as scope.
 */
class EarlierJoinsTest {
    @TempDir
    Path dir;

    @Test
    void theRoleAndAnAgentsNamespaceComeFromTheSpiffeIdPath() {
        String agent = "spiffe://east.acme.mesh/ns/demo/vm/vm-1";
        String gateway = "spiffe://east.acme.mesh/meshfed/gateway/east-gw";
        String edge = "spiffe://east.acme.mesh/meshfed/edge/edge-1";
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            store.transact(tx -> {
                Records.put(tx, Kind.MEMBER, "east", new MemberRecord("east", "vm", "east", "east.acme.mesh",
                        List.of(agent, gateway, edge), List.of()), StoreTransaction.ABSENT);
                return null;
            });

            assertThat(IdentityOperations.recordEarlierJoins(store)).isEqualTo(3);

            assertThat(record(store, agent).role()).isEqualTo("ROLE_AGENT");
            assertThat(record(store, agent).scope()).isEqualTo(new ServiceScope("demo", List.of()));
            assertThat(record(store, gateway).role()).isEqualTo("ROLE_GATEWAY");
            assertThat(record(store, gateway).scope()).isNull();
            assertThat(record(store, edge).role()).isEqualTo("ROLE_EDGE");
            assertThat(record(store, edge).scope()).isNull();
            assertThat(record(store, edge).member()).isEqualTo("east");
            assertThat(IdentityOperations.recordEarlierJoins(store)).as("a second run finds nothing").isZero();
        }
    }

    private static IdentityRecord record(Store store, String id) {
        return Records.get(store, Kind.IDENTITY, id, IdentityRecord.class).orElseThrow();
    }
}
