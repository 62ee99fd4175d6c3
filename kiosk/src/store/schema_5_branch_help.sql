-- Migration 5: how a resident gets help at the branch (the catalogue's branch "help"
-- text, shown by the kiosk's "Pomoc" button); empty until the catalogue says.
ALTER TABLE branches ADD COLUMN help TEXT NOT NULL DEFAULT '';
