-- Migration 2: sync with the central server.

-- The heads of this document that the server is known to hold (NULL: none yet).
-- Changes after them are what the next push sends.
ALTER TABLE documents ADD COLUMN server_heads BLOB;

-- Documents the server has changed and this kiosk has still to pull, with the server's
-- heads at the time. Kept on disk, so a cut sync resumes where it stopped.
CREATE TABLE sync_wants (
    doc_id TEXT PRIMARY KEY,
    heads  BLOB NOT NULL
) STRICT;

CREATE INDEX documents_pending ON documents (updated_at) WHERE pending_changes > 0;
