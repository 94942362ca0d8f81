package io.meshfed.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.store.postgres.PostgresLocation;
import io.meshfed.controller.store.postgres.PostgresStore;
import io.meshfed.controller.testing.TestPostgres;
import org.junit.jupiter.api.Test;

/** The store contract on a real PostgreSQL, plus what only a database server has: logins and a server that restarts. */
class PostgresStoreTest extends StoreContract {
    private static final TestPostgres postgres = TestPostgres.shared();
    private PostgresLocation database;

    @Override
    protected Store newStore() {
        database = postgres.newDatabase();
        return PostgresStore.open(database, TestPostgres.PASSWORD);
    }

    @Override
    protected Store newStoreRetaining(long retainedChanges) {
        return PostgresStore.open(postgres.newDatabase(), TestPostgres.PASSWORD, retainedChanges,
                PostgresStore.DEFAULT_STARTUP_WAIT);
    }

    @Override
    protected Store reopen() {
        return PostgresStore.open(database, TestPostgres.PASSWORD);
    }

    @Override
    protected Store openSecondHandle() {
        return PostgresStore.open(database, TestPostgres.PASSWORD);
    }

    @Override
    protected boolean sharesDatabase() {
        return true;
    }

    @Test
    void aWrongPasswordIsRefusedWithTheServersReasonAndTheMessageHoldsNoPassword() {
        PostgresLocation other = postgres.newDatabase();
        assertThatThrownBy(() -> PostgresStore.open(other, "not-the-password")).isInstanceOf(StoreException.class)
                .hasMessageContaining("cannot open the store " + other)
                .hasMessageContaining("password authentication failed for user \"" + TestPostgres.USER + "\"")
                .message().doesNotContain("not-the-password");
    }

    @Test
    void anUnknownDatabaseAndADeadPortAreClearErrors() throws Exception {
        PostgresLocation missing = postgres.location("no_such_database");
        assertThatThrownBy(() -> PostgresStore.open(missing, TestPostgres.PASSWORD))
                .isInstanceOf(StoreException.class).hasMessageContaining("database \"no_such_database\" does not exist");
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        PostgresLocation dead = new PostgresLocation("127.0.0.1:" + closed, "x", TestPostgres.USER, java.util.Map.of());
        long start = System.nanoTime();
        assertThatThrownBy(() -> PostgresStore.open(dead, TestPostgres.PASSWORD, 100, java.time.Duration.ofSeconds(1)))
                .isInstanceOf(StoreException.class).hasMessageContaining("cannot open the store " + dead)
                .hasMessageContaining("Connection to 127.0.0.1:" + closed + " refused");
        assertThat(java.time.Duration.ofNanos(System.nanoTime() - start)).as("it waited for the server, then gave up")
                .isGreaterThanOrEqualTo(java.time.Duration.ofSeconds(1));
    }

    @Test
    void theLocationIsParsedAndAPasswordInItIsRefused() {
        PostgresLocation l = PostgresLocation.parse("postgres://meshfed@db1:5432,db2:5432/federation"
                + "?sslmode=verify-full&targetServerType=primary");
        assertThat(l.jdbcUrl()).isEqualTo("jdbc:postgresql://db1:5432,db2:5432/federation"
                + "?sslmode=verify-full&targetServerType=primary");
        assertThat(l.user()).isEqualTo("meshfed");
        assertThat(l).hasToString("postgres://meshfed@db1:5432,db2:5432/federation"
                + "?sslmode=verify-full&targetServerType=primary");
        assertThatThrownBy(() -> PostgresLocation.parse("postgres://meshfed:hunter2@db/federation"))
                .hasMessageContaining("must not carry a password").message().doesNotContain("hunter2");
        assertThatThrownBy(() -> PostgresLocation.parse("postgres://meshfed@db/federation?password=hunter2"))
                .hasMessageContaining("must not carry a password parameter").message().doesNotContain("hunter2");
        assertThatThrownBy(() -> PostgresLocation.parse("postgres://db/federation"))
                .hasMessageContaining("names no user");
        assertThatThrownBy(() -> PostgresLocation.parse("postgres://meshfed@db/"))
                .hasMessageContaining("names no database");
        assertThatThrownBy(() -> PostgresLocation.parse("mysql://meshfed@db/x"))
                .hasMessageContaining("starts with postgres://");
    }

    /**
     * The database goes down under a steady writer and a watcher, and comes back: writes fail with the store's
     * error meanwhile, then go on; everything acknowledged is there, and the watcher hears every revision once, in
     * order, having caught up on what it missed.
     */
    @Test
    void aDatabaseRestartUnderLoadLosesNothingAcknowledgedAndTheWatcherCatchesUp() throws Exception {
        try (TestPostgres own = TestPostgres.startRestartable()) {
            PostgresLocation db = own.newDatabase();
            try (Store s = PostgresStore.open(db, TestPostgres.PASSWORD)) {
                java.util.List<Long> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
                java.util.List<Integer> acknowledged = new java.util.concurrent.CopyOnWriteArrayList<>();
                java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                try (Store.Watch w = s.watch(0, c -> heard.add(c.revision()))) {
                    Thread writer = new Thread(() -> {
                        for (int i = 0; !stop.get(); ) {
                            try {
                                s.put("Item", "item-" + i, "{\"i\":" + i + "}", StoreTransaction.ANY);
                                acknowledged.add(i++);
                            } catch (StoreException e) {
                                failures.incrementAndGet();
                                try {
                                    Thread.sleep(100);
                                } catch (InterruptedException ie) {
                                    return;
                                }
                            }
                        }
                    });
                    writer.start();
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                            .until(() -> acknowledged.size() >= 50);
                    own.stop();
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                            .until(() -> failures.get() > 0);
                    own.startAgain();
                    int before = acknowledged.size();
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                            .until(() -> acknowledged.size() >= before + 50);
                    stop.set(true);
                    writer.join(30_000);
                    for (int i : acknowledged) {
                        assertThat(s.get("Item", "item-" + i)).as("item-" + i).isPresent();
                    }
                    long revision = s.revision();
                    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                            .until(() -> heard.size() >= revision);
                    assertThat(heard).isEqualTo(java.util.stream.LongStream.rangeClosed(1, revision).boxed().toList());
                }
            }
        }
    }
}
