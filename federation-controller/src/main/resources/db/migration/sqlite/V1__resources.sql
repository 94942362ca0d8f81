-- Revisioned resources: every change increments the one global revision.
CREATE TABLE resources (
    kind             TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    json             TEXT    NOT NULL,
    revision         INTEGER NOT NULL,
    created_revision INTEGER NOT NULL,
    PRIMARY KEY (kind, name)
);

-- The change log readers watch from. Compacted from the oldest end.
CREATE TABLE changes (
    revision INTEGER PRIMARY KEY,
    op       TEXT    NOT NULL CHECK (op IN ('PUT', 'DELETE')),
    kind     TEXT    NOT NULL,
    name     TEXT    NOT NULL,
    json     TEXT
);

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

INSERT INTO store_meta (key, value) VALUES ('revision', 0);
