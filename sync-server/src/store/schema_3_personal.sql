-- Migration 3: personal data moves out of the main file. Documents now hold personal
-- fields only sealed with per-person keys; the keys and the decrypted person projection
-- live in the separate file `personal.sqlite3` (attached as `personal`), so that a backup
-- of this file never holds a key or a readable name.
DROP INDEX IF EXISTS o_persons_name;
DROP TABLE IF EXISTS o_persons;
-- Project every document again, into the new place.
DELETE FROM meta WHERE key = 'office_seq';
