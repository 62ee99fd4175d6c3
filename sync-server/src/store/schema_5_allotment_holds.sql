-- Migration 5: seats an office cut from a kiosk's allotment that the kiosk may still have
-- granted offline. They stay out of the shared pool until the kiosk syncs under a catalog
-- that holds the cut (`catalog_heads`: the catalog's heads right after it), then only the
-- seats it did not use go back. A hold may carry seats the office moves to another kiosk
-- (`transfer_to`, `transfer_seats`): they are allotted to it on the acknowledgement, as far
-- as the pool then allows.
CREATE TABLE allotment_holds (
    class_id      TEXT NOT NULL,
    kiosk_id      TEXT NOT NULL,
    seats         INTEGER NOT NULL CHECK (seats >= 0),
    catalog_heads BLOB NOT NULL,
    since         TEXT NOT NULL,
    transfer_to   TEXT,
    transfer_seats INTEGER NOT NULL DEFAULT 0 CHECK (transfer_seats >= 0),
    PRIMARY KEY (class_id, kiosk_id)
) STRICT;
CREATE INDEX allotment_holds_by_kiosk ON allotment_holds (kiosk_id);
