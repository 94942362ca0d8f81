package io.meshfed.controller.store.postgres;

import static java.util.Objects.requireNonNull;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.CompactedException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreException;
import io.meshfed.controller.store.jdbc.JdbcTables;
import io.meshfed.controller.store.jdbc.JdbcTransaction;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store for high availability: one PostgreSQL database that several controller replicas share, each through its
 * own handle (this class). Every writer first locks the {@code revision} row of {@code store_meta}, so the writers of
 * all replicas take the global revisions one after another and commit in that order: a reader that sees revision N
 * sees every revision below it. A commit is durable when {@link #transact} returns (PostgreSQL's default
 * {@code synchronous_commit}). Watchers hear of every committed change, this handle's and the other replicas', in
 * revision order: a commit sends {@code NOTIFY meshfed_store}; one connection per handle listens and, on each
 * notification (and once a second in case one was lost while it reconnected), reads the change log from where the
 * slowest watcher is. Schema migrations by Flyway from {@code db/migration/postgresql}, under Flyway's own lock, so
 * replicas that start together migrate once.
 */
public final class PostgresStore implements Store {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresStore.class);
    /** Change-log entries kept; older ones are compacted away and watchers that far behind must relist. */
    public static final long DEFAULT_RETAINED_CHANGES = 100_000;
    static final String CHANNEL = "meshfed_store";
    private static final int PUMP_BATCH = 1_000;
    private static final int LISTEN_POLL_MILLIS = 1_000;

    private final PostgresLocation location;
    private final JdbcTables tables;
    private final HikariDataSource pool;
    private final long retainedChanges;
    private final List<WatchImpl> watches = new CopyOnWriteArrayList<>();
    private final ExecutorService notifier;
    private final AtomicBoolean pumpQueued = new AtomicBoolean();
    private final Thread listener;
    private final java.util.Properties login;
    private volatile Connection listening;
    private volatile boolean closed;

    private PostgresStore(PostgresLocation location, java.util.Properties login, HikariDataSource pool,
            long retainedChanges) {
        this.location = location;
        this.tables = new JdbcTables("store " + location, "COLLATE \"C\"");
        this.login = login;
        this.pool = pool;
        this.retainedChanges = retainedChanges;
        this.notifier = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "store-watch-" + location.database());
            t.setDaemon(true);
            return t;
        });
        this.listener = new Thread(this::listen, "store-listen-" + location.database());
        this.listener.setDaemon(true);
        this.listener.start();
    }

    /**
     * Opens the store in the database at {@code location}, creating its tables or migrating them.
     *
     * @param password the database user's password, or null for none (a trust or certificate login)
     * @throws StoreException naming the location when it cannot connect or migrate
     */
    public static PostgresStore open(PostgresLocation location, String password) {
        return open(location, password, DEFAULT_RETAINED_CHANGES, DEFAULT_STARTUP_WAIT);
    }

    /** How long {@link #open} waits for a database that does not answer (one that refuses a login fails at once). */
    public static final java.time.Duration DEFAULT_STARTUP_WAIT = java.time.Duration.ofSeconds(10);

    /**
     * As {@link #open(PostgresLocation, String)}, keeping {@code retainedChanges} change-log entries and waiting up
     * to {@code startupWait} for a database that cannot be reached.
     */
    public static PostgresStore open(PostgresLocation location, String password, long retainedChanges,
            java.time.Duration startupWait) {
        requireNonNull(location, "location");
        if (retainedChanges < 1) {
            throw new IllegalArgumentException("retainedChanges must be positive");
        }
        java.util.Properties login = new java.util.Properties();
        login.setProperty("user", location.user());
        if (password != null) {
            login.setProperty("password", password);
        }
        login.setProperty("ApplicationName", "meshfed-controller");
        refuseALoginThatCannotSucceed(location, login);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(location.jdbcUrl());
        config.setUsername(location.user());
        if (password != null) {
            config.setPassword(password);
        }
        config.setPoolName("store-" + location.database());
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(Math.max(250, startupWait.toMillis())); // a database down: an error, not a hang
        config.setInitializationFailTimeout(Math.max(1, startupWait.toMillis()));
        config.setAutoCommit(true);
        config.addDataSourceProperty("ApplicationName", "meshfed-controller");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new StoreException("cannot open the store " + location + ": " + rootMessage(e), e);
        }
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/migration/postgresql").loggers("slf4j")
                    .load().migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw new StoreException("cannot migrate the store " + location + ": " + rootMessage(e), e);
        }
        return new PostgresStore(location, login, pool, retainedChanges);
    }

    /**
     * One connection before the pool: a login the server refuses (SQLSTATE class 28) or a database it does not have
     * (3D000) fails at once with the server's reason, where the pool would retry it until its timeout. A server that
     * does not answer is left to the pool, which waits for it.
     */
    private static void refuseALoginThatCannotSucceed(PostgresLocation location, java.util.Properties login) {
        try (Connection probe = new org.postgresql.Driver().connect(location.jdbcUrl(), login)) {
            if (probe == null) {
                throw new StoreException("cannot open the store " + location + ": not a PostgreSQL JDBC URL", null);
            }
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.startsWith("28") || state.equals("3D000")) {
                throw new StoreException("cannot open the store " + location + ": " + e.getMessage(), e);
            }
            // unreachable for now: the pool's start waits for it and reports it
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (" + root.getMessage() + ")";
    }

    @Override
    public long revision() {
        return read(c -> meta(c, "revision", false));
    }

    @Override
    public Optional<Resource> get(String kind, String name) {
        return read(c -> tables.selectOne(c, kind, name));
    }

    @Override
    public List<Resource> list(String kind) {
        return read(c -> tables.selectAll(c, kind));
    }

    @Override
    public List<String> kinds() {
        return read(tables::kinds);
    }

    @Override
    public List<Change> changesSince(long fromRevision, int limit) {
        return read(c -> selectChanges(c, fromRevision, limit));
    }

    @Override
    public <T> T transact(TransactionBody<T> body) {
        requireNonNull(body, "body");
        checkOpen();
        T result;
        boolean wrote;
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                // The writers' lock: held to the commit, so revisions are taken and committed in order.
                JdbcTransaction tx = new JdbcTransaction(tables, c, meta(c, "revision", true));
                result = body.run(tx);
                wrote = tx.wrote();
                if (wrote) {
                    setMeta(c, "revision", tx.revision());
                    compactIfDue(c, tx.revision());
                    try (PreparedStatement s = c.prepareStatement("SELECT pg_notify(?, ?)")) {
                        s.setString(1, CHANNEL);
                        s.setString(2, Long.toString(tx.revision()));
                        s.execute(); // delivered at the commit, to every handle's listener
                    }
                    c.commit();
                } else {
                    c.rollback();
                }
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("store " + location + " write failed: " + e.getMessage(), e);
        }
        if (wrote) {
            schedulePump(); // this handle's watchers need not wait for the notification's round trip
        }
        return result;
    }

    private void compactIfDue(Connection c, long revision) throws SQLException {
        long through = revision - retainedChanges;
        if (through <= 0) {
            return;
        }
        long compacted = meta(c, "compacted_through", false);
        if (through <= compacted || (revision % 1000 != 0 && through - compacted < 1000)) {
            return;
        }
        try (PreparedStatement s = c.prepareStatement("DELETE FROM changes WHERE revision <= ?")) {
            s.setLong(1, through);
            s.executeUpdate();
        }
        setMeta(c, "compacted_through", through);
    }

    @Override
    public Watch watch(long fromRevision, Consumer<Change> listener) {
        requireNonNull(listener, "listener");
        checkOpen();
        long compacted = read(c -> meta(c, "compacted_through", false));
        if (fromRevision < compacted) {
            throw compactedAway(compacted, fromRevision);
        }
        WatchImpl watch = new WatchImpl(listener, fromRevision);
        watches.add(watch);
        schedulePump();
        return watch;
    }

    private static CompactedException compactedAway(long compacted, long fromRevision) {
        return new CompactedException("changes up to revision " + compacted
                + " were compacted; cannot read from revision " + fromRevision + "; list again");
    }

    /** Asks the notification thread to deliver what the watchers have not heard yet; a queued one suffices. */
    private void schedulePump() {
        if (closed || !pumpQueued.compareAndSet(false, true)) {
            return;
        }
        try {
            notifier.execute(() -> {
                pumpQueued.set(false);
                pump();
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            pumpQueued.set(false); // closing
        }
    }

    /** On the notification thread: each watcher gets the changes after its position, in order, once each. */
    private void pump() {
        while (!closed) {
            List<WatchImpl> targets = List.copyOf(watches);
            if (targets.isEmpty()) {
                return;
            }
            long from = targets.stream().mapToLong(w -> w.position).min().orElseThrow();
            List<Change> batch;
            try {
                batch = read(c -> selectChanges(c, from, PUMP_BATCH));
            } catch (CompactedException e) {
                LOG.error("store {}: a watcher at revision {} fell behind the compacted change log; it hears nothing"
                        + " more until the controller restarts ({})", location, from, e.getMessage());
                targets.stream().filter(w -> w.position == from).forEach(WatchImpl::close);
                continue;
            } catch (StoreException e) {
                LOG.warn("store {}: cannot read the change log for watchers, retrying: {}", location, e.getMessage());
                return; // the listener's next poll pumps again
            }
            if (batch.isEmpty()) {
                return;
            }
            for (Change change : batch) {
                for (WatchImpl w : targets) {
                    if (w.position < change.revision()) {
                        w.deliver(change);
                    }
                }
            }
            if (batch.size() < PUMP_BATCH) {
                return;
            }
        }
    }

    /** The listener thread: LISTEN on its own connection; pump on every notification and once a second. */
    private void listen() {
        boolean failing = false;
        while (!closed) {
            // Its own connection, outside the pool: it blocks in a read, and close() aborts it.
            try (Connection c = new org.postgresql.Driver().connect(location.jdbcUrl(), login)) {
                listening = c;
                if (closed) {
                    return;
                }
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                if (failing) {
                    LOG.info("store {}: listening for changes again", location);
                    failing = false;
                }
                schedulePump(); // what was committed while it was not listening
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] notifications = pg.getNotifications(LISTEN_POLL_MILLIS);
                    schedulePump(); // on a notification, and on the timeout as a safety net
                    if (notifications == null) {
                        // a second without one: the pump above found nothing or what a lost one announced
                        continue;
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (!failing) {
                    LOG.warn("store {}: lost the connection that listens for changes; reconnecting: {}", location,
                            e.getMessage());
                    failing = true;
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        watches.clear();
        listener.interrupt();
        Connection c = listening;
        if (c != null) {
            try {
                c.abort(Runnable::run); // wakes the listener from its read
            } catch (SQLException ignored) {
                // it is going anyway
            }
        }
        notifier.shutdown();
        try {
            listener.join(5_000);
            notifier.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        pool.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new StoreException("store " + location + " is closed", null); // e.g. a call during shutdown
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; the pool drops it
        }
    }

    private interface SqlRead<T> {
        T read(Connection c) throws SQLException;
    }

    private <T> T read(SqlRead<T> read) {
        checkOpen();
        try (Connection c = pool.getConnection()) {
            return read.read(c);
        } catch (SQLException e) {
            throw new StoreException("store " + location + " read failed: " + e.getMessage(), e);
        }
    }

    private static long meta(Connection c, String key, boolean forUpdate) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT value FROM store_meta WHERE key = ?"
                + (forUpdate ? " FOR UPDATE" : ""))) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private static void setMeta(Connection c, String key, long value) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("UPDATE store_meta SET value = ? WHERE key = ?")) {
            s.setLong(1, value);
            s.setString(2, key);
            s.executeUpdate();
        }
    }

    /**
     * The log after {@code fromRevision}, read in one snapshot with where it starts, so that a compaction between the
     * two reads cannot hide a gap.
     */
    private List<Change> selectChanges(Connection c, long fromRevision, int limit) throws SQLException {
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        try {
            long compacted = meta(c, "compacted_through", false);
            if (fromRevision < compacted) {
                throw compactedAway(compacted, fromRevision);
            }
            return tables.selectChanges(c, fromRevision, limit);
        } finally {
            c.rollback(); // read only
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            c.setAutoCommit(true);
        }
    }

    /** A watcher at its position; exceptions from its listener are contained so one cannot stop the others. */
    private final class WatchImpl implements Watch {
        private final Consumer<Change> listener;
        /** The revision it heard last; read and written on the notification thread only (and set at creation). */
        private volatile long position;
        private volatile boolean open = true;

        WatchImpl(Consumer<Change> listener, long position) {
            this.listener = listener;
            this.position = position;
        }

        void deliver(Change change) {
            position = change.revision();
            if (!open) {
                return;
            }
            try {
                listener.accept(change);
            } catch (RuntimeException e) {
                LOG.warn("store watcher failed on revision {}: {}", change.revision(), e.toString());
            }
        }

        @Override
        public void close() {
            open = false;
            watches.remove(this);
        }
    }
}
