package io.meshfed.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshfed.controller.store.postgres.PostgresLocation;
import io.meshfed.controller.store.postgres.PostgresStore;
import io.meshfed.controller.testing.TestPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The store contract on a real PostgreSQL, plus what only a database server has: logins and a server that restarts. */
class PostgresStoreTest extends StoreContract {
    private static TestPostgres postgres;
    private PostgresLocation database;

    @BeforeAll
    static void startPostgres() {
        postgres = TestPostgres.start();
    }

    @AfterAll
    static void stopPostgres() {
        postgres.close();
    }

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
}
