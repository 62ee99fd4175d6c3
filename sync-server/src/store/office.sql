-- Migration 2: the office page. Staff accounts and their sessions, staff notes on
-- requests (server-only: never in a document), decisions on suspected duplicates, and a
-- projection of the merged documents that the office pages query.

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    -- A branch for instructors and branch staff who see only their branch; NULL: all.
    branch_id     TEXT,
    -- argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    disabled_at   TEXT
) STRICT;

-- Server-side sessions: the cookie carries a random token, the table its SHA-256.
CREATE TABLE office_sessions (
    token_hash BLOB PRIMARY KEY,
    staff_id   TEXT NOT NULL REFERENCES staff (id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

-- Staff notes on intake requests: stay on the server.
CREATE TABLE office_notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    staff_id   TEXT NOT NULL,
    at         TEXT NOT NULL,
    status     TEXT NOT NULL,
    note       TEXT NOT NULL
) STRICT;
CREATE INDEX office_notes_request ON office_notes (request_id);

-- Suspected duplicates decided by staff: 'same' merges b into a (a person link), 'different'
-- stops suggesting the pair. Documents are not changed by a merge: every registration and
-- request keeps its person id, and the office reads them through the link.
CREATE TABLE office_person_decisions (
    person_a   TEXT NOT NULL,
    person_b   TEXT NOT NULL,
    decision   TEXT NOT NULL,
    staff_id   TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (person_a, person_b)
) STRICT;

CREATE TABLE office_person_links (
    person_id    TEXT PRIMARY KEY,
    canonical_id TEXT NOT NULL
) STRICT;

-- The projection of documents for the office, brought up to date from the change feed
-- (meta 'office_seq') before each page.
CREATE INDEX documents_seq ON documents (seq);

CREATE TABLE o_classes (
    id             TEXT PRIMARY KEY,
    branch_id      TEXT NOT NULL,
    title          TEXT NOT NULL,
    instructor     TEXT NOT NULL,
    capacity       INTEGER NOT NULL,
    waitlist_limit INTEGER NOT NULL
) STRICT;
CREATE INDEX o_classes_branch ON o_classes (branch_id);

CREATE TABLE o_sessions (
    id       TEXT PRIMARY KEY,
    class_id TEXT NOT NULL,
    date     TEXT NOT NULL,
    start    TEXT NOT NULL,
    minutes  INTEGER NOT NULL
) STRICT;
CREATE INDEX o_sessions_class ON o_sessions (class_id, date);
CREATE INDEX o_sessions_date ON o_sessions (date);

CREATE TABLE o_services (
    id        TEXT NOT NULL,
    branch_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (id, branch_id)
) STRICT;

CREATE TABLE o_persons (
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
CREATE INDEX o_persons_name ON o_persons (name_key);

CREATE TABLE o_registrations (
    id         TEXT PRIMARY KEY,
    class_id   TEXT NOT NULL,
    branch_id  TEXT NOT NULL,
    person_id  TEXT NOT NULL,
    kiosk_id   TEXT NOT NULL,
    created    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    status     TEXT NOT NULL,
    position   INTEGER,
    seat_of    TEXT
) STRICT;
CREATE INDEX o_registrations_class ON o_registrations (class_id, status);
CREATE INDEX o_registrations_branch ON o_registrations (branch_id, created_ms);
CREATE INDEX o_registrations_person ON o_registrations (person_id);

CREATE TABLE o_attendance (
    session_id      TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    class_id        TEXT NOT NULL,
    branch_id       TEXT NOT NULL,
    -- The latest mark's status; 'conflict' when concurrent marks disagree.
    status          TEXT NOT NULL,
    -- Every mark: "status staff stamp" lines.
    marks           TEXT NOT NULL,
    PRIMARY KEY (session_id, registration_id)
) STRICT;
CREATE INDEX o_attendance_class ON o_attendance (class_id);
CREATE INDEX o_attendance_branch ON o_attendance (branch_id, status);

CREATE TABLE o_requests (
    id           TEXT PRIMARY KEY,
    reference    TEXT NOT NULL,
    person_id    TEXT NOT NULL,
    branch_id    TEXT NOT NULL,
    kiosk_id     TEXT NOT NULL,
    service_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    submitted    TEXT NOT NULL,
    submitted_ms INTEGER NOT NULL,
    updated      TEXT NOT NULL
) STRICT;
CREATE INDEX o_requests_status ON o_requests (status, branch_id);
CREATE INDEX o_requests_person ON o_requests (person_id);
