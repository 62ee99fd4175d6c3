-- Migration 1: documents and the relational projection the UI queries.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Automerge documents: a full save plus the incremental chunks written since.
CREATE TABLE documents (
    doc_id          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    snapshot        BLOB NOT NULL,
    chunk_count     INTEGER NOT NULL DEFAULT 0,
    chunk_bytes     INTEGER NOT NULL DEFAULT 0,
    -- Local changes the server has not acknowledged yet.
    pending_changes INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
) STRICT;

CREATE TABLE doc_chunks (
    doc_id TEXT NOT NULL REFERENCES documents (doc_id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
) STRICT;

-- Projection: rebuilt from the documents at any time, never a source of truth.

CREATE TABLE branches (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    opening_hours TEXT NOT NULL
) STRICT;

CREATE TABLE classes (
    id             TEXT PRIMARY KEY,
    branch_id      TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    instructor     TEXT NOT NULL,
    room           TEXT NOT NULL,
    capacity       INTEGER NOT NULL,
    waitlist_limit INTEGER NOT NULL,
    age_group      TEXT NOT NULL,
    schedule_json  TEXT NOT NULL,
    opens          TEXT,
    closes         TEXT,
    confirmed      INTEGER NOT NULL DEFAULT 0,
    waitlisted     INTEGER NOT NULL DEFAULT 0,
    -- Seats this kiosk can confirm right now (its allotment minus the seats it holds).
    free_here      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE allotments (
    class_id TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    seats    INTEGER NOT NULL,
    PRIMARY KEY (class_id, kiosk_id)
) STRICT;

CREATE TABLE sessions (
    id       TEXT PRIMARY KEY,
    class_id TEXT NOT NULL,
    date     TEXT NOT NULL,
    start    TEXT NOT NULL,
    minutes  INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_by_date ON sessions (date, start);

CREATE TABLE services (
    id             TEXT PRIMARY KEY,
    branch_id      TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL,
    requires_pesel INTEGER NOT NULL
) STRICT;

CREATE TABLE staff (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL,
    pin_hash TEXT NOT NULL
) STRICT;

CREATE TABLE persons (
    id            TEXT PRIMARY KEY,
    given_name    TEXT NOT NULL,
    family_name   TEXT NOT NULL,
    birth_year    INTEGER NOT NULL,
    phone         TEXT,
    resident_code TEXT NOT NULL,
    home_branch   TEXT NOT NULL,
    created       TEXT NOT NULL
) STRICT;
CREATE INDEX persons_by_code ON persons (resident_code);

CREATE TABLE registrations (
    id        TEXT PRIMARY KEY,
    class_id  TEXT NOT NULL,
    person_id TEXT NOT NULL,
    kiosk_id  TEXT NOT NULL,
    created   TEXT NOT NULL,
    cancelled TEXT,
    status    TEXT NOT NULL,
    position  INTEGER
) STRICT;
CREATE INDEX registrations_by_class ON registrations (class_id, status, position);
CREATE INDEX registrations_by_person ON registrations (person_id);

CREATE TABLE intake_requests (
    id         TEXT PRIMARY KEY,
    reference  TEXT NOT NULL UNIQUE,
    person_id  TEXT NOT NULL,
    service_id TEXT NOT NULL,
    branch_id  TEXT NOT NULL,
    status     TEXT NOT NULL,
    created    TEXT NOT NULL
) STRICT;
CREATE INDEX intake_by_person ON intake_requests (person_id);
