package io.meshfed.controller.store.sqlite;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.CompactedException;
import io.meshfed.controller.store.OwnerOnly;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreException;
import io.meshfed.controller.store.jdbc.JdbcTables;
import io.meshfed.controller.store.jdbc.JdbcTransaction;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
    private final JdbcTables tables;
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
        this.tables = new JdbcTables("store " + file, "COLLATE BINARY");
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
        return locked(() -> tables.selectOne(connection, kind, name));
    }

    @Override
    public List<Resource> list(String kind) {
        return locked(() -> tables.selectAll(connection, kind));
    }

    /** One process at a time holds the file ({@link ProcessLock}). */
    @Override
    public boolean exclusive() {
        return true;
    }

    @Override
    public List<String> kinds() {
        return locked(() -> tables.kinds(connection));
    }

    @Override
    public <T> T transact(TransactionBody<T> body) {
        requireNonNull(body, "body");
        lock.lock();
        try {
            checkOpen();
            JdbcTransaction tx = new JdbcTransaction(tables, connection, revision);
            T result;
            try {
                result = body.run(tx);
                if (tx.wrote()) {
                    setMeta("revision", tx.revision());
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
            if (tx.wrote()) {
                revision = tx.revision();
                compactIfDue();
                List<Change> committed = tx.changes();
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
        return tables.selectChanges(connection, fromRevision, limit);
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
