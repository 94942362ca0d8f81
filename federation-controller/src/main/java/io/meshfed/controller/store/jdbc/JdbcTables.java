package io.meshfed.controller.store.jdbc;

import io.meshfed.controller.store.Change;
import io.meshfed.controller.store.Resource;
import io.meshfed.controller.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code resources} and {@code changes} tables, read and written in SQL that SQLite and PostgreSQL both take. The
 * dialects differ only in how names sort: both stores order bytewise, whatever the database's locale.
 */
public final class JdbcTables {
    private final String store;
    private final String bytewise;

    /**
     * @param store the store as messages name it, e.g. {@code store /var/lib/meshfed/state.db}
     * @param bytewise the dialect's collation that sorts text bytewise, e.g. {@code COLLATE "C"}
     */
    public JdbcTables(String store, String bytewise) {
        this.store = store;
        this.bytewise = bytewise;
    }

    private String orderBy(String column) {
        return " ORDER BY " + column + " " + bytewise;
    }

    public StoreException readFailed(SQLException e) {
        return new StoreException(store + " read failed: " + e.getMessage(), e);
    }

    public StoreException writeFailed(SQLException e) {
        return new StoreException(store + " write failed: " + e.getMessage(), e);
    }

    public Optional<Resource> selectOne(Connection c, String kind, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT kind, name, json, revision, created_revision FROM resources WHERE kind = ? AND name = ?")) {
            s.setString(1, kind);
            s.setString(2, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(resource(rs)) : Optional.empty();
            }
        }
    }

    public List<Resource> selectAll(Connection c, String kind) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT kind, name, json, revision, created_revision"
                + " FROM resources WHERE kind = ?" + orderBy("name"))) {
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

    public List<String> kinds(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT kind FROM resources GROUP BY kind" + orderBy("kind"));
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    void upsert(Connection c, String kind, String name, String json, long revision) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO resources (kind, name, json, revision, created_revision) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (kind, name) DO UPDATE SET json = excluded.json, revision = excluded.revision")) {
            s.setString(1, kind);
            s.setString(2, name);
            s.setString(3, json);
            s.setLong(4, revision);
            s.setLong(5, revision);
            s.executeUpdate();
        }
    }

    void deleteRow(Connection c, String kind, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("DELETE FROM resources WHERE kind = ? AND name = ?")) {
            s.setString(1, kind);
            s.setString(2, name);
            s.executeUpdate();
        }
    }

    void logChange(Connection c, Change change) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO changes (revision, op, kind, name, json) VALUES (?, ?, ?, ?, ?)")) {
            s.setLong(1, change.revision());
            s.setString(2, change.op().name());
            s.setString(3, change.kind());
            s.setString(4, change.name());
            s.setString(5, change.json());
            s.executeUpdate();
        }
    }

    /** Changes of the log after {@code fromRevision}, oldest first, at most {@code limit}. */
    public List<Change> selectChanges(Connection c, long fromRevision, int limit) throws SQLException {
        List<Change> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
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

    private static Resource resource(ResultSet rs) throws SQLException {
        return new Resource(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5));
    }
}
