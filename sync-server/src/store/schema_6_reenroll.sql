-- Migration 6: re-enrollment. A code issued by `kiosk reenroll` may be redeemed by a
-- revoked kiosk: redeeming it gives the kiosk a new credential and lifts the revocation
-- (the old credential stays dead). Other codes are refused for a revoked kiosk.
ALTER TABLE enrollment_codes ADD COLUMN reenroll INTEGER NOT NULL DEFAULT 0;
