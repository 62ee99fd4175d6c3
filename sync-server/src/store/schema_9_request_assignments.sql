-- Migration 9: the caseworker a request is assigned to. Server-only, like staff notes:
-- an assignment is office work, not part of the request's document.
CREATE TABLE office_request_assignments (
    request_id  TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL
) STRICT;
CREATE INDEX office_request_assignments_staff ON office_request_assignments (staff_id);
