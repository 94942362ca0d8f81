package io.meshfed.controller.store.sqlite;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.CompactedException;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.OwnerOnly;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreException;
import io.meshfed.controller.store.StoreTransaction;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The embedded store: one SQLite file in WAL mode with {@code synchronous=FULL}, so every commit is on disk before
 * {@link #transact} returns. One connection, guarded by one lock (SQLite has one writer anyway); watchers are told on
 * one notification thread in commit order. Schema migrations by Flyway from {@code db/migration/sqlite}. One process
 * at a time: a second controller on the same file is refused (see {@link ProcessLock}), since two would each count
 * revisions on their own and corrupt the change log.
 */
public final class SqliteStore implements Store {
    /** Change-log entries kept; older ones are compacted away and watchers that far behind must relist. */
    static final long DEFAULT_RETAINED_CHANGES = 100_000;

    private final Path file;
    private final ProcessLock processLock;
    private final Connection connection;
    private final ReentrantLock lock = new ReentrantLock(); // guards connection, revision, compactedThrough
    private final ExecutorService notifier;
    private final List<WatchImpl> watches = new CopyOnWriteArrayList<>();
    private final long retainedChanges;
    private long revision;
    private long compactedThrough;
    private boolean closed;

    private SqliteStore(Path file, ProcessLock processLock, Connection connection, long retainedChanges)
            throws SQLException {
        this.file = file;
        this.processLock = processLock;
        this.connection = connection;
        this.retainedChanges = retainedChanges;
        this.revision = meta("revision");
        this.compactedThrough = meta("compacted_through");
        this.notifier = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "store-watch-" + file.getFileName());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens (creating if needed) the store in {@code file} and migrates its schema.
     *
     * @throws StoreException naming the file when it cannot be opened or migrated
     */
    public static SqliteStore open(Path file) {
        return open(file, DEFAULT_RETAINED_CHANGES);
    }

    /** As {@link #open(Path)}, keeping {@code retainedChanges} change-log entries. */
    public static SqliteStore open(Path file, long retainedChanges) {
        requireNonNull(file, "file");
        if (retainedChanges < 1) {
            throw new IllegalArgumentException("retainedChanges must be positive");
        }
        ProcessLock processLock = null;
        try {
            Path parent = file.toAbsolutePath().getParent();
            OwnerOnly.directory(parent);
            // SQLite gives its -wal and -shm files the mode of the database file: so 0600 for all three.
            OwnerOnly.file(file);
            OwnerOnly.ifExists(Path.of(file + "-wal"));
            OwnerOnly.ifExists(Path.of(file + "-shm"));
            processLock = ProcessLock.acquire(file);
            SQLiteConfig config = new SQLiteConfig();
            config.setJournalMode(SQLiteConfig.JournalMode.WAL);
            config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
            config.setBusyTimeout(10_000);
            config.enforceForeignKeys(true);
            SQLiteDataSource dataSource = new SQLiteDataSource(config);
            dataSource.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
            Flyway.configure().dataSource(dataSource).locations("classpath:db/migration/sqlite")
                    .loggers("slf4j").load().migrate();
            Connection connection = dataSource.getConnection();
            connection.setAutoCommit(false);
            return new SqliteStore(file, processLock, connection, retainedChanges);
        } catch (SQLException | java.io.IOException | RuntimeException e) {
            if (processLock != null) {
                processLock.close();
            }
            throw e instanceof StoreException se ? se
                    : new StoreException("cannot open the store " + file + ": " + e.getMessage(), e);
        }
    }

    private long meta(String key) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement("SELECT value FROM store_meta WHERE key = ?")) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private void setMeta(String key, long value) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement(
                "INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")) {
            s.setString(1, key);
            s.setLong(2, value);
            s.executeUpdate();
        }
    }

    @Override
    public long revision() {
        lock.lock();
        try {
            return revision;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<Resource> get(String kind, String name) {
        return locked(() -> selectOne(kind, name));
    }

    @Override
    public List<Resource> list(String kind) {
        return locked(() -> selectAll(kind));
    }

    @Override
    public <T> T transact(TransactionBody<T> body) {
        requireNonNull(body, "body");
        lock.lock();
        try {
            checkOpen();
            Tx tx = new Tx(revision);
            T result;
            try {
                result = body.run(tx);
                if (!tx.changes.isEmpty()) {
                    setMeta("revision", tx.revision);
                    connection.commit();
                } else {
                    connection.rollback();
                }
            } catch (SQLException e) {
                rollbackQuietly();
                throw new StoreException("store " + file + " write failed: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                rollbackQuietly();
                throw e;
            }
            if (!tx.changes.isEmpty()) {
                revision = tx.revision;
                compactIfDue();
                List<Change> committed = List.copyOf(tx.changes);
                // The watchers of this moment: one registered later has this change in its backlog already.
                List<WatchImpl> targets = List.copyOf(watches);
                notifier.execute(() -> committed.forEach(c -> targets.forEach(w -> w.deliver(c))));
            }
            return result;
        } finally {
            lock.unlock();
        }
    }

    private void compactIfDue() {
        long through = revision - retainedChanges;
        if (through <= compactedThrough || (revision % 1000 != 0 && through - compactedThrough < 1000)) {
            return;
        }
        try (PreparedStatement s = connection.prepareStatement("DELETE FROM changes WHERE revision <= ?")) {
            s.setLong(1, through);
            s.executeUpdate();
            setMeta("compacted_through", through);
            connection.commit();
            compactedThrough = through;
        } catch (SQLException e) {
            rollbackQuietly(); // compaction is only housekeeping; the next commit tries again
        }
    }

    @Override
    public List<Change> changesSince(long fromRevision, int limit) {
        return locked(() -> selectChanges(fromRevision, limit));
    }

    private List<Change> selectChanges(long fromRevision, int limit) throws SQLException {
        if (fromRevision < compactedThrough) {
            throw new CompactedException("changes up to revision " + compactedThrough
                    + " were compacted; cannot read from revision " + fromRevision + "; list again");
        }
        List<Change> out = new ArrayList<>();
        try (PreparedStatement s = connection.prepareStatement(
                "SELECT revision, op, kind, name, json FROM changes WHERE revision > ? ORDER BY revision LIMIT ?")) {
            s.setLong(1, fromRevision);
            s.setInt(2, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(new Change(rs.getLong(1), Change.Op.valueOf(rs.getString(2)), rs.getString(3),
                            rs.getString(4), rs.getString(5)));
                }
            }
        }
        return out;
    }

    @Override
    public Watch watch(long fromRevision, Consumer<Change> listener) {
        requireNonNull(listener, "listener");
        lock.lock();
        try {
            checkOpen();
            List<Change> backlog = selectChanges(fromRevision, Integer.MAX_VALUE);
            WatchImpl watch = new WatchImpl(listener);
            // Registered and its backlog queued under the lock: later commits queue behind it, so no gap, no repeat.
            watches.add(watch);
            notifier.execute(() -> backlog.forEach(watch::deliver));
            return watch;
        } catch (SQLException e) {
            throw new StoreException("store " + file + " read failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            watches.clear();
            notifier.shutdown();
            try {
                connection.close();
            } catch (SQLException e) {
                throw new StoreException("store " + file + " did not close cleanly: " + e.getMessage(), e);
            } finally {
                processLock.close();
            }
        } finally {
            lock.unlock();
        }
        try {
            notifier.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new StoreException("store " + file + " is closed", null); // e.g. a call during shutdown
        }
    }

    private void rollbackQuietly() {
        try {
            connection.rollback();
        } catch (SQLException ignored) {
            // the connection is unusable; the next operation reports it
        }
    }

    private interface SqlCall<T> {
        T call() throws SQLException;
    }

    private <T> T locked(SqlCall<T> call) {
        lock.lock();
        try {
            checkOpen();
            T result = call.call();
            return result;
        } catch (SQLException e) {
            throw new StoreException("store " + file + " read failed: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    private Optional<Resource> selectOne(String kind, String name) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement(
                "SELECT kind, name, json, revision, created_revision FROM resources WHERE kind = ? AND name = ?")) {
            s.setString(1, kind);
            s.setString(2, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(resource(rs)) : Optional.empty();
            }
        }
    }

    private List<Resource> selectAll(String kind) throws SQLException {
        try (PreparedStatement s = connection.prepareStatement(
                "SELECT kind, name, json, revision, created_revision FROM resources WHERE kind = ? ORDER BY name")) {
            s.setString(1, kind);
            List<Resource> out = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(resource(rs));
                }
            }
            return out;
        }
    }

    private static Resource resource(ResultSet rs) throws SQLException {
        return new Resource(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5));
    }

    /** A transaction on the locked connection. */
    private final class Tx implements StoreTransaction {
        private long revision;
        private final List<Change> changes = new ArrayList<>();

        Tx(long revision) {
            this.revision = revision;
        }

        @Override
        public long revision() {
            return revision;
        }

        @Override
        public Optional<Resource> get(String kind, String name) {
            try {
                return selectOne(kind, name);
            } catch (SQLException e) {
                throw new StoreException("store " + file + " read failed: " + e.getMessage(), e);
            }
        }

        @Override
        public List<Resource> list(String kind) {
            try {
                return selectAll(kind);
            } catch (SQLException e) {
                throw new StoreException("store " + file + " read failed: " + e.getMessage(), e);
            }
        }

        private void check(String kind, String name, Optional<Resource> current, long expected) {
            if (expected == ANY) {
                return;
            }
            long actual = current.map(Resource::revision).orElse(ABSENT);
            if (actual != expected) {
                throw new ConflictException(kind + " '" + name + "' is at revision " + actual + ", expected "
                        + (expected == ABSENT ? "none (it must not exist)" : String.valueOf(expected)));
            }
        }

        @Override
        public Resource put(String kind, String name, String json, long expectedRevision) {
            requireNonNull(kind, "kind");
            requireNonNull(name, "name");
            requireNonNull(json, "json");
            try {
                Optional<Resource> current = selectOne(kind, name);
                check(kind, name, current, expectedRevision);
                long next = revision + 1;
                try (PreparedStatement s = connection.prepareStatement(
                        "INSERT INTO resources (kind, name, json, revision, created_revision) VALUES (?, ?, ?, ?, ?)"
                                + " ON CONFLICT(kind, name) DO UPDATE SET json = excluded.json,"
                                + " revision = excluded.revision")) {
                    s.setString(1, kind);
                    s.setString(2, name);
                    s.setString(3, json);
                    s.setLong(4, next);
                    s.setLong(5, next);
                    s.executeUpdate();
                }
                logChange(next, Change.Op.PUT, kind, name, json);
                revision = next;
                return new Resource(kind, name, json, next, current.map(Resource::createdRevision).orElse(next));
            } catch (SQLException e) {
                throw new StoreException("store " + file + " write failed: " + e.getMessage(), e);
            }
        }

        @Override
        public boolean delete(String kind, String name, long expectedRevision) {
            try {
                Optional<Resource> current = selectOne(kind, name);
                check(kind, name, current, expectedRevision);
                if (current.isEmpty()) {
                    return false;
                }
                long next = revision + 1;
                try (PreparedStatement s = connection.prepareStatement(
                        "DELETE FROM resources WHERE kind = ? AND name = ?")) {
                    s.setString(1, kind);
                    s.setString(2, name);
                    s.executeUpdate();
                }
                logChange(next, Change.Op.DELETE, kind, name, null);
                revision = next;
                return true;
            } catch (SQLException e) {
                throw new StoreException("store " + file + " write failed: " + e.getMessage(), e);
            }
        }

        private void logChange(long rev, Change.Op op, String kind, String name, String json) throws SQLException {
            try (PreparedStatement s = connection.prepareStatement(
                    "INSERT INTO changes (revision, op, kind, name, json) VALUES (?, ?, ?, ?, ?)")) {
                s.setLong(1, rev);
                s.setString(2, op.name());
                s.setString(3, kind);
                s.setString(4, name);
                s.setString(5, json);
                s.executeUpdate();
            }
            changes.add(new Change(rev, op, kind, name, json));
        }
    }

    /** A watcher; exceptions from its listener are contained so one bad listener cannot stop the others. */
    private final class WatchImpl implements Watch {
        private final Consumer<Change> listener;
        private volatile boolean open = true;

        WatchImpl(Consumer<Change> listener) {
            this.listener = listener;
        }

        void deliver(Change change) {
            if (!open) {
                return;
            }
            try {
                listener.accept(change);
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(SqliteStore.class)
                        .warn("store watcher failed on revision {}: {}", change.revision(), e.toString());
            }
        }

        @Override
        public void close() {
            open = false;
            watches.remove(this);
        }
    }
}
