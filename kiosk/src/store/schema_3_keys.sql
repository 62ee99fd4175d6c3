-- Migration 3: per-person keys (crypto-shredding). Personal fields in documents are
-- sealed with their person's key; the keys live here, never in a document.

-- key NULL: no longer held here (erased by the office, or dropped after the retention
-- period); the row stays so the key is not asked for or taken in again.
CREATE TABLE person_keys (
    person_id   TEXT PRIMARY KEY,
    key         BLOB,
    -- Registered here, and the server has not acknowledged the key yet.
    unpushed    INTEGER NOT NULL DEFAULT 0,
    erased      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX person_keys_unpushed ON person_keys (person_id) WHERE unpushed = 1;
