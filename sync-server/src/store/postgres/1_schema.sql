-- PostgreSQL migration 1: the schema of SQLite's migrations 1 to 10 (schema.sql to
-- schema_10_outbox.sql) and personal.sql, in schemas `main` and `personal`. Text is
-- compared byte by byte, as in SQLite; integers are 64-bit; truth values are 0 and 1.

CREATE TABLE main.meta (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.documents (
    doc_id      TEXT COLLATE "C" PRIMARY KEY,
    kind        TEXT COLLATE "C" NOT NULL,
    branch_id   TEXT COLLATE "C",
    owner_kiosk TEXT COLLATE "C",
    snapshot    BYTEA NOT NULL,
    chunk_count BIGINT NOT NULL DEFAULT 0,
    chunk_bytes BIGINT NOT NULL DEFAULT 0,
    seq         BIGINT NOT NULL,
    heads       BYTEA NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX documents_feed ON main.documents (branch_id, seq);
CREATE INDEX documents_seq ON main.documents (seq);

CREATE TABLE main.doc_chunks (
    doc_id TEXT COLLATE "C" NOT NULL REFERENCES main.documents (doc_id) ON DELETE CASCADE,
    seq    BIGINT NOT NULL,
    data   BYTEA NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

CREATE TABLE main.kiosks (
    id           TEXT COLLATE "C" PRIMARY KEY,
    branch_id    TEXT COLLATE "C" NOT NULL,
    number       BIGINT NOT NULL UNIQUE,
    token_prefix TEXT COLLATE "C" UNIQUE,
    token_hash   BYTEA,
    created_at   TEXT COLLATE "C" NOT NULL,
    enrolled_at  TEXT COLLATE "C",
    revoked_at   TEXT COLLATE "C",
    last_sync    TEXT COLLATE "C",
    app_version  TEXT COLLATE "C",
    name         TEXT COLLATE "C" NOT NULL DEFAULT ''
);

CREATE TABLE main.enrollment_codes (
    code_hash  BYTEA PRIMARY KEY,
    kiosk_id   TEXT COLLATE "C" NOT NULL REFERENCES main.kiosks (id),
    expires_at TEXT COLLATE "C" NOT NULL,
    used_at    TEXT COLLATE "C",
    reenroll   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE main.audit (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TEXT COLLATE "C" NOT NULL,
    actor   TEXT COLLATE "C" NOT NULL,
    action  TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    detail  TEXT COLLATE "C"
);
CREATE INDEX audit_actor ON main.audit (actor, id);
CREATE INDEX audit_action ON main.audit (action, id);
CREATE INDEX audit_subject ON main.audit (subject, id);

CREATE TABLE main.branches (
    id   TEXT COLLATE "C" PRIMARY KEY,
    code TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.classes (
    id        TEXT COLLATE "C" PRIMARY KEY,
    branch_id TEXT COLLATE "C" NOT NULL,
    title     TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.staff (
    id                   TEXT COLLATE "C" PRIMARY KEY,
    login                TEXT COLLATE "C" NOT NULL UNIQUE,
    name                 TEXT COLLATE "C" NOT NULL,
    role                 TEXT COLLATE "C" NOT NULL,
    branch_id            TEXT COLLATE "C",
    password_hash        TEXT COLLATE "C" NOT NULL,
    created_at           TEXT COLLATE "C" NOT NULL,
    disabled_at          TEXT COLLATE "C",
    must_change_password BIGINT NOT NULL DEFAULT 0,
    last_login_at        TEXT COLLATE "C"
);

CREATE TABLE main.office_sessions (
    token_hash BYTEA PRIMARY KEY,
    staff_id   TEXT COLLATE "C" NOT NULL REFERENCES main.staff (id),
    csrf       TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.office_setup_tokens (
    token_hash BYTEA PRIMARY KEY,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.office_notes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT COLLATE "C" NOT NULL,
    staff_id   TEXT COLLATE "C" NOT NULL,
    at         TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL,
    note       TEXT COLLATE "C" NOT NULL
);
CREATE INDEX office_notes_request ON main.office_notes (request_id);

CREATE TABLE main.office_person_decisions (
    person_a TEXT COLLATE "C" NOT NULL,
    person_b TEXT COLLATE "C" NOT NULL,
    decision TEXT COLLATE "C" NOT NULL,
    staff_id TEXT COLLATE "C" NOT NULL,
    at       TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (person_a, person_b)
);

CREATE TABLE main.office_person_links (
    person_id    TEXT COLLATE "C" PRIMARY KEY,
    canonical_id TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.office_request_assignments (
    request_id  TEXT COLLATE "C" PRIMARY KEY,
    staff_id    TEXT COLLATE "C" NOT NULL REFERENCES main.staff (id),
    assigned_by TEXT COLLATE "C" NOT NULL,
    assigned_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX office_request_assignments_staff ON main.office_request_assignments (staff_id);

CREATE TABLE main.o_classes (
    id             TEXT COLLATE "C" PRIMARY KEY,
    branch_id      TEXT COLLATE "C" NOT NULL,
    title          TEXT COLLATE "C" NOT NULL,
    instructor     TEXT COLLATE "C" NOT NULL,
    capacity       BIGINT NOT NULL,
    waitlist_limit BIGINT NOT NULL
);
CREATE INDEX o_classes_branch ON main.o_classes (branch_id);

CREATE TABLE main.o_sessions (
    id       TEXT COLLATE "C" PRIMARY KEY,
    class_id TEXT COLLATE "C" NOT NULL,
    date     TEXT COLLATE "C" NOT NULL,
    start    TEXT COLLATE "C" NOT NULL,
    minutes  BIGINT NOT NULL
);
CREATE INDEX o_sessions_class ON main.o_sessions (class_id, date);
CREATE INDEX o_sessions_date ON main.o_sessions (date);

CREATE TABLE main.o_services (
    id        TEXT COLLATE "C" NOT NULL,
    branch_id TEXT COLLATE "C" NOT NULL,
    name      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (id, branch_id)
);

CREATE TABLE main.o_registrations (
    id         TEXT COLLATE "C" PRIMARY KEY,
    class_id   TEXT COLLATE "C" NOT NULL,
    branch_id  TEXT COLLATE "C" NOT NULL,
    person_id  TEXT COLLATE "C" NOT NULL,
    kiosk_id   TEXT COLLATE "C" NOT NULL,
    created    TEXT COLLATE "C" NOT NULL,
    created_ms BIGINT NOT NULL,
    status     TEXT COLLATE "C" NOT NULL,
    position   BIGINT,
    seat_of    TEXT COLLATE "C"
);
CREATE INDEX o_registrations_class ON main.o_registrations (class_id, status);
CREATE INDEX o_registrations_branch ON main.o_registrations (branch_id, created_ms);
CREATE INDEX o_registrations_person ON main.o_registrations (person_id);

CREATE TABLE main.o_attendance (
    session_id      TEXT COLLATE "C" NOT NULL,
    registration_id TEXT COLLATE "C" NOT NULL,
    class_id        TEXT COLLATE "C" NOT NULL,
    branch_id       TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    marks           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, registration_id)
);
CREATE INDEX o_attendance_class ON main.o_attendance (class_id);
CREATE INDEX o_attendance_branch ON main.o_attendance (branch_id, status);

CREATE TABLE main.o_requests (
    id           TEXT COLLATE "C" PRIMARY KEY,
    reference    TEXT COLLATE "C" NOT NULL,
    person_id    TEXT COLLATE "C" NOT NULL,
    branch_id    TEXT COLLATE "C" NOT NULL,
    kiosk_id     TEXT COLLATE "C" NOT NULL,
    service_id   TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL,
    submitted    TEXT COLLATE "C" NOT NULL,
    submitted_ms BIGINT NOT NULL,
    updated      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX o_requests_status ON main.o_requests (status, branch_id);
CREATE INDEX o_requests_person ON main.o_requests (person_id);

CREATE TABLE main.erasures (
    person_id TEXT COLLATE "C" PRIMARY KEY,
    at        TEXT COLLATE "C" NOT NULL
);

CREATE TABLE main.allotment_holds (
    class_id       TEXT COLLATE "C" NOT NULL,
    kiosk_id       TEXT COLLATE "C" NOT NULL,
    seats          BIGINT NOT NULL CHECK (seats >= 0),
    catalog_heads  BYTEA NOT NULL,
    since          TEXT COLLATE "C" NOT NULL,
    transfer_to    TEXT COLLATE "C",
    transfer_seats BIGINT NOT NULL DEFAULT 0 CHECK (transfer_seats >= 0),
    PRIMARY KEY (class_id, kiosk_id)
);
CREATE INDEX allotment_holds_by_kiosk ON main.allotment_holds (kiosk_id);

CREATE TABLE main.notices (
    id         TEXT COLLATE "C" PRIMARY KEY,
    dedup      TEXT COLLATE "C" NOT NULL UNIQUE,
    kind       TEXT COLLATE "C" NOT NULL,
    person_id  TEXT COLLATE "C",
    branch_id  TEXT COLLATE "C",
    params     TEXT COLLATE "C" NOT NULL,
    created    TEXT COLLATE "C" NOT NULL,
    due_ms     BIGINT NOT NULL,
    expires_ms BIGINT,
    status     TEXT COLLATE "C" NOT NULL,
    reason     TEXT COLLATE "C",
    attempts   BIGINT NOT NULL DEFAULT 0,
    segments   BIGINT,
    gateway_id TEXT COLLATE "C",
    sent_ms    BIGINT,
    updated    TEXT COLLATE "C" NOT NULL
);
CREATE INDEX notices_due ON main.notices (status, due_ms);
CREATE INDEX notices_person ON main.notices (person_id, status);
CREATE INDEX notices_sent ON main.notices (sent_ms) WHERE sent_ms IS NOT NULL;

-- Personal data, apart.
CREATE TABLE personal.person_keys (
    person_id   TEXT COLLATE "C" PRIMARY KEY,
    branch_id   TEXT COLLATE "C" NOT NULL,
    owner_kiosk TEXT COLLATE "C" NOT NULL,
    key         BYTEA,
    seq         BIGINT NOT NULL UNIQUE,
    erased_at   TEXT COLLATE "C"
);
CREATE INDEX person_keys_feed ON personal.person_keys (branch_id, seq);
CREATE INDEX person_keys_owner ON personal.person_keys (owner_kiosk);

CREATE TABLE personal.o_persons (
    id            TEXT COLLATE "C" PRIMARY KEY,
    branch_id     TEXT COLLATE "C" NOT NULL,
    kiosk_id      TEXT COLLATE "C",
    given         TEXT COLLATE "C" NOT NULL,
    family        TEXT COLLATE "C" NOT NULL,
    birth_year    BIGINT NOT NULL,
    phone         TEXT COLLATE "C",
    resident_code TEXT COLLATE "C" NOT NULL,
    created       TEXT COLLATE "C" NOT NULL,
    name_key      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX o_persons_name ON personal.o_persons (name_key);

CREATE TABLE personal.projected (
    name TEXT COLLATE "C" PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO personal.projected (name, seq) VALUES ('office_seq', 0);
