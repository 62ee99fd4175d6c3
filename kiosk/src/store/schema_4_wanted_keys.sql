-- Migration 4: keys asked for again. A returning resident came to a kiosk that had
-- dropped their details after the retention period; the next sync asks the server for
-- their key (and the row goes once the server has answered).
CREATE TABLE wanted_keys (
    person_id   TEXT PRIMARY KEY
) STRICT;
