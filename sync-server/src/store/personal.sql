-- The personal file (`personal.sqlite3`, attached as `personal`): person keys and the
-- office's decrypted projection of persons. Idempotent: run at every start.

-- One row a person; `seq` is the position in the key feed kiosks follow (a new key, or
-- an erasure: `key` NULL, `seq` moved to the end so kiosks of the branch hear of it).
CREATE TABLE IF NOT EXISTS personal.person_keys (
    person_id   TEXT PRIMARY KEY,
    branch_id   TEXT NOT NULL,
    owner_kiosk TEXT NOT NULL,
    key         BLOB,
    seq         INTEGER NOT NULL UNIQUE,
    erased_at   TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS personal.person_keys_feed ON person_keys (branch_id, seq);
CREATE INDEX IF NOT EXISTS personal.person_keys_owner ON person_keys (owner_kiosk);

CREATE TABLE IF NOT EXISTS personal.o_persons (
    id            TEXT PRIMARY KEY,
    branch_id     TEXT NOT NULL,
    kiosk_id      TEXT,
    given         TEXT NOT NULL,
    family        TEXT NOT NULL,
    birth_year    INTEGER NOT NULL,
    phone         TEXT,
    resident_code TEXT NOT NULL,
    created       TEXT NOT NULL,
    -- Lower-case family|given|birth year, to suggest duplicates.
    name_key      TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS personal.o_persons_name ON o_persons (name_key);

-- How far the office projection has got in this file (`o_persons`). The main file keeps its
-- own (meta 'office_seq'): the two files commit one after the other, so after a crash
-- between them the projection starts again from the lower of the two.
CREATE TABLE IF NOT EXISTS personal.projected (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
) STRICT;
-- From nothing (a new file, or one from before this table: then projected again once).
INSERT OR IGNORE INTO personal.projected (name, seq) VALUES ('office_seq', 0);
