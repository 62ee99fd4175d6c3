//! What the HTTP layer needs to know of credentials before a request reaches the store.

use super::{Central, Result};

impl Central {
    /// The digests (SHA-256) of the credentials of kiosks that have synced successfully and
    /// are not revoked: the server starts with them known, so a flood of made-up tokens
    /// from their address right after a restart does not lock them out.
    pub fn synced_credentials(&mut self) -> Result<Vec<Vec<u8>>> {
        let db = self.store.write()?;
        let digests = db.synced_token_hashes()?;
        db.commit()?;
        Ok(digests)
    }
}
