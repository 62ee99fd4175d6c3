-- Migration 1: the central store.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Automerge documents: a full save plus incremental chunks. `seq` is the position of the
-- document's latest change in the change feed that kiosks follow with their cursor.
CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    branch_id   TEXT,
    -- The kiosk that created a person or intake document (the only kiosk that may write it).
    owner_kiosk TEXT,
    snapshot    BLOB NOT NULL,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    chunk_bytes INTEGER NOT NULL DEFAULT 0,
    seq         INTEGER NOT NULL,
    -- Current heads, 32 bytes each, so the change feed needs no document loads.
    heads       BLOB NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
CREATE INDEX documents_feed ON documents (branch_id, seq);

CREATE TABLE doc_chunks (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
) STRICT;

CREATE TABLE kiosks (
    id           TEXT PRIMARY KEY,
    branch_id    TEXT NOT NULL,
    number       INTEGER NOT NULL UNIQUE,
    -- Credential: a lookup prefix and the SHA-256 of the whole token; never the token.
    token_prefix TEXT UNIQUE,
    token_hash   BLOB,
    created_at   TEXT NOT NULL,
    enrolled_at  TEXT,
    revoked_at   TEXT,
    last_sync    TEXT,
    app_version  TEXT
) STRICT;

CREATE TABLE enrollment_codes (
    code_hash  BLOB PRIMARY KEY,
    kiosk_id   TEXT NOT NULL REFERENCES kiosks (id),
    expires_at TEXT NOT NULL,
    used_at    TEXT
) STRICT;

-- Append-only: who did what, where and when. Ids only, never personal data.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT
) STRICT;

-- Projection of the catalogs.
CREATE TABLE branches (
    id   TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE classes (
    id        TEXT PRIMARY KEY,
    branch_id TEXT NOT NULL,
    title     TEXT NOT NULL
) STRICT;
