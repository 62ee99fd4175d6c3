-- Migration 10: the outbox of notices (SMS) to residents. A notice is written in the same
-- transaction as the event that causes it, and delivered later by the sender. It holds no
-- personal data: no phone number and no message text. Both are made from the person's
-- people document and the template when the notice is sent, so a withdrawn consent or an
-- erasure in between is respected, and nothing readable is left once it is sent.
CREATE TABLE notices (
    -- A UUID; also the gateway's `idx`, so a retried send is never delivered twice.
    id          TEXT PRIMARY KEY,
    -- What the notice is about, once: a second event of the same kind adds nothing.
    dedup       TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    person_id   TEXT,
    branch_id   TEXT,
    -- The template's data (class title, session times, request reference): no personal data.
    params      TEXT NOT NULL,
    created     TEXT NOT NULL,
    -- Not sent before (quiet hours, the daily limit and back-off move it) ...
    due_ms      INTEGER NOT NULL,
    -- ... nor after (a reminder once its session has begun).
    expires_ms  INTEGER,
    -- queued, sending, sent, failed, skipped, cancelled, expired
    status      TEXT NOT NULL,
    -- Why it waits, failed or was not sent (a code, e.g. no_gateway, no_consent, erased).
    reason      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    segments    INTEGER,
    gateway_id  TEXT,
    sent_ms     INTEGER,
    updated     TEXT NOT NULL
) STRICT;
CREATE INDEX notices_due ON notices (status, due_ms);
CREATE INDEX notices_person ON notices (person_id, status);
CREATE INDEX notices_sent ON notices (sent_ms) WHERE sent_ms IS NOT NULL;
