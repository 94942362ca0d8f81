package io.meshfed.controller.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.LeaseRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import io.meshfed.controller.store.postgres.PostgresLocation;
import io.meshfed.controller.store.postgres.PostgresStore;
import io.meshfed.controller.store.sqlite.SqliteStore;
import io.meshfed.controller.testing.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import io.meshfed.controller.testing.MockCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Leadership of replicas on one PostgreSQL: one leader at a time, a takeover when the leader goes silent (as when it
 * is killed or paused), its writes fenced off from that moment, and a paused leader that resumes stops its work
 * instead of writing over its successor's. On SQLite, which one process holds, the lease is taken at once.
 */
class LeaderElectionTest {
    private static final Duration TTL = Duration.ofMillis(1500);
    private static final Duration RENEW = Duration.ofMillis(250);
    private static final TestPostgres postgres = TestPostgres.shared();
    @TempDir
    Path dir;

    /** A leader-only component that records what it is told and writes through the fenced store while leading. */
    static final class Component implements LeaderOnly {
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile boolean leading;

        @Override
        public void lead() {
            leading = true;
            calls.add("lead");
        }

        @Override
        public void follow() {
            leading = false;
            calls.add("follow");
        }
    }

    private static MockCluster cluster;
    private static io.meshfed.controller.testing.KubeconfigProperty kubeconfig;

    @BeforeAll
    static void apiServer() throws Exception {
        cluster = MockCluster.withoutCrds();
        kubeconfig = io.meshfed.controller.testing.KubeconfigProperty.pointAt(cluster, null);
    }

    @AfterAll
    static void stopApiServer() throws Exception {
        kubeconfig.close();
        cluster.close();
    }

    /** The lease settings the election runs on: the store's own record, and a Kubernetes Lease. */
    static List<String> leases() {
        return List.of("store", "kubernetes:meshfed-system/leader-" + System.nanoTime());
    }

    private static LeaderElection election(Store store, String lease, String holder) {
        return new LeaderElection(store, LeaseBackends.standard().open(lease, store, TTL), holder, TTL, RENEW);
    }

    @ParameterizedTest
    @MethodSource("leases")
    void oneLeaderAtATimeATakeoverWhenItGoesSilentAndItsLateWritesAreRefused(String lease) {
        PostgresLocation database = postgres.newDatabase();
        try (Store a = PostgresStore.open(database, TestPostgres.PASSWORD);
                Store b = PostgresStore.open(database, TestPostgres.PASSWORD)) {
            Component ca = new Component();
            Component cb = new Component();
            LeaderElection ea = election(a, lease, "replica-a").add(ca);
            LeaderElection eb = election(b, lease, "replica-b").add(cb);
            try (ea; eb) {
                ea.start();
                assertThat(ea.isLeader()).as("the lease was free: the first replica leads at once").isTrue();
                eb.start();
                // Several lease times later, still one leader: the follower saw the lease renewed all along.
                await().during(TTL.multipliedBy(3)).atMost(TTL.multipliedBy(4)).until(() -> ea.isLeader()
                        && !eb.isLeader() && cb.calls.isEmpty());
                assertThat(ca.calls).containsExactly("lead");
                Store fencedA = ea.fenced();
                fencedA.put("Cluster", "east", "{\"by\":\"a\"}", StoreTransaction.ABSENT);
                assertThatThrownBy(() -> eb.fenced().put("Cluster", "east", "{\"by\":\"b\"}", StoreTransaction.ANY))
                        .isInstanceOf(NotLeaderException.class).hasMessageContaining("the lease is replica-a's, epoch 1");

                ea.suspend(); // as a process that is paused or killed: it renews no more, and releases nothing
                long silentSince = System.nanoTime();
                await().atMost(Duration.ofSeconds(10)).until(eb::isLeader);
                assertThat(Duration.ofNanos(System.nanoTime() - silentSince)).as("not before a lease time")
                        .isGreaterThanOrEqualTo(TTL.minus(RENEW));
                assertThat(eb.epoch()).isEqualTo(2);
                assertThat(cb.calls).containsExactly("lead");
                assertThat(ea.lease()).get().extracting(LeaseRecord::holder).isEqualTo("replica-b");

                // The paused leader still believes it leads; its write is refused and changes nothing.
                assertThat(ea.isLeader()).isTrue();
                long before = a.revision();
                assertThatThrownBy(() -> fencedA.put("Cluster", "east", "{\"by\":\"late a\"}", StoreTransaction.ANY))
                        .isInstanceOf(NotLeaderException.class)
                        .hasMessageContaining("replica-a").hasMessageContaining("the lease is replica-b's, epoch 2");
                assertThat(a.get("Cluster", "east").orElseThrow().json()).isEqualTo("{\"by\":\"a\"}");
                assertThat(b.changesSince(before, 100)).noneMatch(c -> c.kind().equals("Cluster"));
                eb.fenced().put("Cluster", "east", "{\"by\":\"b\"}", StoreTransaction.ANY);

                // Resumed, it notices at its first round and stops its leader-only work.
                ea.start();
                await().atMost(Duration.ofSeconds(5)).until(() -> !ea.isLeader());
                assertThat(ca.calls).containsExactly("lead", "follow");
                assertThat(ca.leading).isFalse();
                assertThat(eb.isLeader()).isTrue();
            }
            // b stopped and released the lease: nobody holds it, and a new replica need not wait a lease time.
            assertThat(Records.get(a, Kind.LEASE, LeaderElection.NAME, LeaseRecord.class)).get()
                    .extracting(LeaseRecord::holder).as("nobody may write leader-only").isEqualTo("");
            assertThat(cb.calls).containsExactly("lead", "follow");
            try (LeaderElection ec = election(a, lease, "replica-c")) {
                assertThat(ec.lease()).isEmpty();
                ec.start();
                assertThat(ec.isLeader()).isTrue();
                assertThat(ec.epoch()).as("epochs keep rising after a release").isEqualTo(3);
                assertThat(ec.lease()).get().extracting(LeaseRecord::holder).isEqualTo("replica-c");
            }
        }
    }

    @Test
    void aLeaderThatCannotReachTheKubernetesApiServerForALeaseTimeStopsItsWorkAndLeadsAgainWhenItIsBack()
            throws Exception {
        String lease = "kubernetes:meshfed-system/leader-outage";
        try (Store store = PostgresStore.open(postgres.newDatabase(), TestPostgres.PASSWORD)) {
            Component c = new Component();
            try (LeaderElection e = election(store, lease, "replica-a").add(c)) {
                e.start();
                assertThat(e.isLeader()).isTrue();
                assertThat(e.leaseLocation()).isEqualTo("Kubernetes Lease meshfed-system/leader-outage");
                cluster.stop();
                try {
                    long gone = System.nanoTime();
                    // It cannot tell whether another replica took the Lease meanwhile: after a lease time, it follows.
                    await().atMost(TTL.multipliedBy(4)).until(() -> !e.isLeader());
                    assertThat(Duration.ofNanos(System.nanoTime() - gone)).isGreaterThanOrEqualTo(TTL.minus(RENEW));
                    assertThat(c.calls).containsExactly("lead", "follow");
                    assertThatThrownBy(() -> e.fenced().put("Cluster", "east", "{}", StoreTransaction.ANY))
                            .isInstanceOf(NotLeaderException.class);
                } finally {
                    cluster.restart();
                }
                // Back: the Lease still names it, unrenewed; a lease time later it takes it again, at a new epoch.
                await().atMost(TTL.multipliedBy(4)).until(e::isLeader);
                assertThat(e.epoch()).isEqualTo(2);
                assertThat(c.calls).containsExactly("lead", "follow", "lead");
                e.fenced().put("Cluster", "east", "{}", StoreTransaction.ANY);
            }
        }
    }

    @Test
    void aStoreThatOnlyOneProcessCanHoldIsLedFromTheStartWithNoLeaseToRenew() {
        try (Store store = SqliteStore.open(dir.resolve("state.db"))) {
            Component c = new Component();
            try (LeaderElection e = new LeaderElection(store, "sole", TTL, RENEW).add(c)) {
                e.start();
                assertThat(e.isLeader()).isTrue();
                assertThat(c.calls).containsExactly("lead");
                e.fenced().put("Cluster", "east", "{}", StoreTransaction.ABSENT);
                long revision = store.revision();
                await().during(TTL).atMost(TTL.multipliedBy(2)).until(() -> store.revision() == revision);
                assertThat(e.lease()).as("no lease is written: an embedded store is not worn by renewals").isEmpty();
            }
            assertThat(c.calls).containsExactly("lead", "follow");
        }
    }
}
