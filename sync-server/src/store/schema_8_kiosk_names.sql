-- Migration 8: kiosk names. A name the office gives a kiosk ("MAL — hol") so pages and
-- the audit log show it instead of its id; empty for kiosks added before names.
ALTER TABLE kiosks ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_actor ON audit (actor, id);
CREATE INDEX audit_action ON audit (action, id);
CREATE INDEX audit_subject ON audit (subject, id);
