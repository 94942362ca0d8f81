-- Revisioned resources: every change increments the one global revision (the same shape as the SQLite store's).
CREATE TABLE resources (
    kind             TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    json             TEXT   NOT NULL,
    revision         BIGINT NOT NULL,
    created_revision BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
);

-- The change log readers watch from. Compacted from the oldest end.
CREATE TABLE changes (
    revision BIGINT PRIMARY KEY,
    op       TEXT   NOT NULL CHECK (op IN ('PUT', 'DELETE')),
    kind     TEXT   NOT NULL,
    name     TEXT   NOT NULL,
    json     TEXT
);

-- 'revision': the latest committed change; every writer locks this row first, so writers of all replicas take
-- revisions one after another and commit in revision order. 'compacted_through': the change log starts after it.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO store_meta (key, value) VALUES ('revision', 0), ('compacted_through', 0);
