package io.meshfed.controller.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseSpec;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.testing.MockCluster;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The lease contract on a Kubernetes Lease (fabric8's mock API server in CRUD mode, which checks resourceVersion on
 * update as an API server does), opened as the controller opens it: through {@link LeaseBackends} with the client
 * configured as kubectl's is (here from the {@code kubeconfig} file the system property names, whose context sets
 * the namespace). Plus what only a Lease has: the fields client-go writes, labels kept, a Lease deleted by hand.
 */
class KubernetesLeaderLeaseTest extends LeaderLeaseContract {
    private static final String NAMESPACE = "meshfed-system";
    private static final AtomicInteger LEASES = new AtomicInteger();
    private static MockCluster cluster;
    private static io.meshfed.controller.testing.KubeconfigProperty kubeconfig;
    private String name;

    @BeforeAll
    static void apiServer() throws Exception {
        cluster = MockCluster.withoutCrds();
        kubeconfig = io.meshfed.controller.testing.KubeconfigProperty.pointAt(cluster, NAMESPACE);
    }

    @AfterAll
    static void stop() throws Exception {
        kubeconfig.close();
        cluster.close();
    }

    @Override
    protected void newLease() {
        name = "leader-" + LEASES.incrementAndGet();
    }

    @Override
    protected LeaderLease handle(Store replicaStore) {
        return LeaseBackends.standard().open("kubernetes:" + NAMESPACE + "/" + name, replicaStore,
                Duration.ofMillis(5500));
    }

    private Lease lease() {
        return cluster.client().leases().inNamespace(NAMESPACE).withName(name).get();
    }

    @Test
    void theLeaseCarriesWhatClientGoWritesSoKubectlShowsWhoLeads() throws Exception {
        LeaderLease a = replica();
        assertThat(a.describe()).isEqualTo("Kubernetes Lease " + NAMESPACE + "/" + name);
        a.take(Optional.empty(), "replica-a");
        LeaseSpec taken = lease().getSpec();
        assertThat(taken.getHolderIdentity()).isEqualTo("replica-a");
        assertThat(taken.getLeaseDurationSeconds()).as("the lease time, rounded up").isEqualTo(6);
        assertThat(taken.getLeaseTransitions()).isEqualTo(1);
        assertThat(taken.getAcquireTime()).isNotNull();
        assertThat(taken.getRenewTime()).isEqualTo(taken.getAcquireTime());

        Thread.sleep(20);
        assertThat(a.renew(a.read().orElseThrow(), "replica-a", 1)).isTrue();
        LeaseSpec renewed = lease().getSpec();
        assertThat(renewed.getRenewTime()).isAfter(taken.getAcquireTime());
        assertThat(renewed.getAcquireTime()).isEqualTo(taken.getAcquireTime());

        a.release("replica-a", 1);
        LeaseSpec released = lease().getSpec();
        assertThat(released.getHolderIdentity()).isNull();
        assertThat(released.getLeaseDurationSeconds()).isEqualTo(1);
        assertThat(released.getLeaseTransitions()).as("kept, as client-go keeps it").isEqualTo(1);
    }

    @Test
    void labelsAnOperatorPutOnTheLeaseSurviveRenewalsAndTakeovers() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        a.take(Optional.empty(), "replica-a");
        cluster.client().leases().inNamespace(NAMESPACE).withName(name)
                .edit(l -> { l.getMetadata().setLabels(Map.of("team", "platform")); return l; });
        assertThat(a.renew(a.read().orElseThrow(), "replica-a", 1)).isTrue();
        assertThat(b.take(b.read(), "replica-b")).isEqualTo(2);
        assertThat(lease().getMetadata().getLabels()).containsEntry("team", "platform");
    }

    @Test
    void aLeaseDeletedByHandAndCreatedAgainStillWinsAnEpochAboveEveryFencedOne() throws Exception {
        LeaderLease a = replica();
        LeaderLease b = replica();
        a.take(Optional.empty(), "replica-a");
        b.take(b.read(), "replica-b");
        cluster.client().leases().inNamespace(NAMESPACE).withName(name).delete();
        assertThat(a.read()).isEmpty();
        assertThat(a.take(Optional.empty(), "replica-a")).as("its transitions start over, the fence's do not")
                .isEqualTo(3);
        assertThat(lease().getSpec().getLeaseTransitions()).isEqualTo(3);
    }

    @Test
    void aLeaseWhoseEpochWasPushedFarAheadByHandCannotExhaustTheEpochs() throws Exception {
        LeaderLease a = replica();
        a.take(Optional.empty(), "replica-a");
        a.release("replica-a", 1);
        // Whoever holds the Lease's token sets its transitions near the int limit (the epochs would run out).
        cluster.client().leases().inNamespace(NAMESPACE).withName(name).edit(l -> {
            l.getSpec().setLeaseTransitions(Integer.MAX_VALUE - 1);
            return l;
        });
        LeaderLease b = replica();
        assertThat(b.take(b.read(), "replica-b")).as("the store's record decides: epoch 1 was the last").isEqualTo(2);
        assertThat(b.read().orElseThrow().heldBy("replica-b", 2)).isTrue();
        assertThat(LeaderElection.printable("evil\u001b[2J\nreplica")).isEqualTo("evil?[2J?replica");
    }

    @Test
    void withoutANamespaceTheLeaseIsTheDefaultOneInTheClientsNamespace() throws Exception {
        try (LeaderLease lease = LeaseBackends.standard().open("kubernetes", store, Duration.ofSeconds(6))) {
            lease.take(lease.read(), "replica-a");
            assertThat(lease.describe()).isEqualTo("Kubernetes Lease " + NAMESPACE + "/meshfed-controller-leader");
        }
        assertThat(cluster.client().leases().inNamespace(NAMESPACE).withName("meshfed-controller-leader").get()
                .getSpec().getHolderIdentity()).isEqualTo("replica-a");
    }

    @Test
    void aSettingThatNamesNoValidLeaseIsRefusedWithItsReason() {
        LeaseBackends backends = LeaseBackends.standard();
        assertThatThrownBy(() -> backends.check("kubernetes:Leader_Lease"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Leader_Lease'")
                .hasMessageContaining("is not a Lease name");
        assertThatThrownBy(() -> backends.check("kubernetes:Meshfed/leader"))
                .hasMessageContaining("'Meshfed' in kubernetes:Meshfed/leader is not a namespace name");
        assertThatThrownBy(() -> backends.check("kubernetes:a/b/c")).hasMessageContaining("more than one '/'");
        assertThatThrownBy(() -> backends.check("kubernetes:")).hasMessageContaining("is not a Kubernetes lease");
        assertThatThrownBy(() -> backends.check("kubernetes:ns/")).hasMessageContaining("is not a Lease name");
        backends.check("kubernetes");
        backends.check("kubernetes:meshfed-controller-leader");
        backends.check("kubernetes:meshfed-system/meshfed-controller-leader");
    }

    @Test
    void anApiServerThatIsGoneMakesReadsFailWithTheReasonAndTheLeaseIsThereWhenItIsBack() throws Exception {
        LeaderLease a = replica();
        a.take(Optional.empty(), "replica-a");
        cluster.stop();
        try {
            assertThatThrownBy(a::read).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("cannot read the Kubernetes Lease " + NAMESPACE + "/" + name + ": ")
                    .hasMessageContaining("ConnectException");
        } finally {
            cluster.restart();
        }
        assertThat(a.read()).get().extracting(LeaderLease.State::holder).isEqualTo("replica-a");
    }
}
