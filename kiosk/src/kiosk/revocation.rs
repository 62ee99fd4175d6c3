//! A kiosk the office revoked: it keeps everything it holds, takes no new registration,
//! cancellation or request (it could not deliver them), and comes back into service
//! when enrolled again with a new code for the same kiosk, which its next sync then
//! delivers everything it acknowledged with.

use blisko_shared::sync::EnrollResponse;

use super::{Kiosk, KioskError, Result, timestamp};

/// Set (to when it was learnt) while the server refuses this kiosk as revoked.
const REVOKED_KEY: &str = "revoked_at";

impl Kiosk {
    /// Whether the server answered this kiosk's last attempts as revoked.
    pub fn is_revoked(&self) -> Result<bool> {
        Ok(self
            .store
            .meta(REVOKED_KEY)?
            .is_some_and(|at| !at.is_empty()))
    }

    /// Record that the server refuses this kiosk as revoked (kept across restarts).
    pub fn mark_revoked(&mut self) -> Result<()> {
        if self.is_revoked()? {
            return Ok(());
        }
        let tx = self.store.write()?;
        tx.set_meta(REVOKED_KEY, &timestamp((self.wall)()))?;
        tx.commit()?;
        Ok(())
    }

    /// Refuse a new registration, cancellation or request while revoked.
    pub(crate) fn ensure_in_service(&self) -> Result<()> {
        if self.is_revoked()? {
            return Err(KioskError::OutOfService);
        }
        Ok(())
    }

    /// Take the credential of a new enrollment code for this same kiosk (`kiosk
    /// reenroll` at the office): the server and CA it was redeemed with replace the old
    /// ones, and the revocation is lifted. A code for another kiosk changes nothing here.
    pub fn take_new_credential(
        &mut self,
        enrolled: &EnrollResponse,
        server_url: &str,
        server_ca: Option<&str>,
    ) -> Result<()> {
        let identity = &self.identity;
        if enrolled.kiosk_id != identity.kiosk_id || enrolled.branch_id != identity.branch_id {
            return Err(KioskError::EnrollmentForAnotherKiosk {
                folder: identity.kiosk_id.to_string(),
                code_for: enrolled.kiosk_id.to_string(),
            });
        }
        let tx = self.store.write()?;
        tx.set_meta("server_url", server_url)?;
        tx.set_meta("sync_token", &enrolled.token)?;
        match server_ca {
            Some(pem) => tx.set_meta("server_ca", pem)?,
            None => tx.delete_meta("server_ca")?,
        }
        tx.delete_meta(REVOKED_KEY)?;
        tx.set_meta("last_sync_error", "")?;
        tx.commit()?;
        Ok(())
    }
}
