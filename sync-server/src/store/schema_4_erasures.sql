-- Migration 4: erasures that reached the documents. An erasure writes both files (the key
-- in `personal`, the documents and notes here), and SQLite commits two WAL-mode files one
-- after the other, not atomically: this row, written in this file with the documents,
-- lets the next start find an erasure that only one of the two files holds and finish it.
CREATE TABLE erasures (
    person_id TEXT PRIMARY KEY,
    at        TEXT NOT NULL
) STRICT;
