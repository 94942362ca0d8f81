package io.meshfed.controller.store.jdbc;

import static java.util.Objects.requireNonNull;

import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.ConflictException;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.StoreTransaction;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One transaction's reads and writes on a connection that holds the store's writer lock (SQLite's one connection,
 * PostgreSQL's revision row): each write takes the next revision and is logged; the caller commits or rolls back.
 */
public final class JdbcTransaction implements StoreTransaction {
    private final JdbcTables tables;
    private final Connection connection;
    private long revision;
    private final List<Change> changes = new ArrayList<>();

    public JdbcTransaction(JdbcTables tables, Connection connection, long revision) {
        this.tables = tables;
        this.connection = connection;
        this.revision = revision;
    }

    /** What it wrote, in order. */
    public List<Change> changes() {
        return List.copyOf(changes);
    }

    public boolean wrote() {
        return !changes.isEmpty();
    }

    @Override
    public long revision() {
        return revision;
    }

    @Override
    public Optional<Resource> get(String kind, String name) {
        try {
            return tables.selectOne(connection, kind, name);
        } catch (SQLException e) {
            throw tables.readFailed(e);
        }
    }

    @Override
    public List<Resource> list(String kind) {
        try {
            return tables.selectAll(connection, kind);
        } catch (SQLException e) {
            throw tables.readFailed(e);
        }
    }

    private static void check(String kind, String name, Optional<Resource> current, long expected) {
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
            Optional<Resource> current = tables.selectOne(connection, kind, name);
            check(kind, name, current, expectedRevision);
            long next = revision + 1;
            tables.upsert(connection, kind, name, json, next);
            log(new Change(next, Change.Op.PUT, kind, name, json));
            return new Resource(kind, name, json, next, current.map(Resource::createdRevision).orElse(next));
        } catch (SQLException e) {
            throw tables.writeFailed(e);
        }
    }

    @Override
    public boolean delete(String kind, String name, long expectedRevision) {
        try {
            Optional<Resource> current = tables.selectOne(connection, kind, name);
            check(kind, name, current, expectedRevision);
            if (current.isEmpty()) {
                return false;
            }
            tables.deleteRow(connection, kind, name);
            log(new Change(revision + 1, Change.Op.DELETE, kind, name, null));
            return true;
        } catch (SQLException e) {
            throw tables.writeFailed(e);
        }
    }

    private void log(Change change) throws SQLException {
        tables.logChange(connection, change);
        changes.add(change);
        revision = change.revision();
    }
}
