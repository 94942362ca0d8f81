package io.meshfed.controller.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.store.Store;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The lease contract on the store's own {@code Lease/leader} record, and its setting. */
class StoreLeaderLeaseTest extends LeaderLeaseContract {
    @Override
    protected void newLease() {
        // the record lives in the new database of each case
    }

    @Override
    protected LeaderLease handle(Store replicaStore) {
        return LeaseBackends.standard().open("store", replicaStore, Duration.ofSeconds(6));
    }

    @Test
    void theStoreLeaseTakesNoLocation() {
        assertThatThrownBy(() -> LeaseBackends.standard().check("store:somewhere"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("the store lease takes no location");
        assertThatThrownBy(() -> LeaseBackends.standard().check("etcd://x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'etcd://x' is not a leader lease")
                .hasMessageContaining("known: store, kubernetes[:[NAMESPACE/]NAME]");
        assertThat(LeaseBackends.standard().of("store")).isInstanceOf(StoreLeaderLease.Backend.class);
    }
}
