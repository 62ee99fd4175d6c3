-- Migration 7: SMS consents. `persons.sms_consent` is the version of the SMS consent text
-- a person agreed to (its language is their messages'), NULL without one. A withdrawal
-- made here ("Nie chcę SMS") waits in `sms_withdrawals` until a sync succeeds, so that an
-- offline kiosk loses none; the person reads as without the consent at once. The people
-- documents are projected again when the kiosk next opens, to fill the new column.
ALTER TABLE persons ADD COLUMN sms_consent TEXT;
CREATE TABLE sms_withdrawals (
    person_id TEXT PRIMARY KEY,
    at        TEXT NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('people_to_project', 'yes')
    ON CONFLICT (key) DO UPDATE SET value = excluded.value;
