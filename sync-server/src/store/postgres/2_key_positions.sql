-- PostgreSQL migration 2: key feed positions handed out at commit.
--
-- Sync rounds of different branch points now write side by side, and a transaction's
-- new key-feed entries wait at placeholder positions (below zero, counted per
-- transaction) until its commit hands out the real ones under a lock of their own. Two
-- transactions' placeholders may be equal, so the column is no longer unique; the real
-- positions still are, as one transaction at a time hands them out.
ALTER TABLE personal.person_keys DROP CONSTRAINT person_keys_seq_key;
CREATE INDEX person_keys_seq ON personal.person_keys (seq);
