-- Migration 7: staff accounts administered on the office page. A temporary password (a
-- new account's, or one reset by an admin) must be changed at the next log-in; the last
-- log-in is shown to admins; a one-time set-up link creates the first office admin.
ALTER TABLE staff ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN last_login_at TEXT;

-- Set-up links printed by `serve` while no office admin exists: only the SHA-256 of the
-- token is kept.
CREATE TABLE office_setup_tokens (
    token_hash BLOB PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;
