//! A resident's SMS consent withdrawn at the kiosk ("Nie chcę SMS"). The withdrawal is
//! stored here first and sent with every sync until the server has it (see
//! `SyncRequest::sms_withdrawals`); the server removes the consent from the person's
//! people document, which is what the SMS sender reads and what reaches the branch's
//! other kiosks.

use blisko_shared::ids::PersonId;

use super::{Kiosk, Result};

impl Kiosk {
    /// Withdraw a person's SMS consent. Durable when it returns: the person reads as
    /// without the consent here at once (see `ResidentOverview::sms_consent`), also
    /// offline, and the server learns it at the next sync. Returns whether there was a
    /// consent to withdraw (withdrawing twice is no error).
    pub fn withdraw_sms_consent(&mut self, person: PersonId) -> Result<bool> {
        self.ensure_in_service()?;
        if self.store.sms_consent(person)?.is_none() {
            return Ok(false);
        }
        let at = self.stamp();
        let tx = self.store.write()?;
        tx.withdraw_sms(person, at)?;
        tx.set_meta("hlc", &at.to_string())?;
        tx.commit()?;
        Ok(true)
    }

    /// The version of the SMS consent text the person agreed to (its language is their
    /// messages'), or `None`: never given, or withdrawn (here, or anywhere once this
    /// kiosk has synced).
    pub fn sms_consent(&self, person: PersonId) -> Result<Option<String>> {
        Ok(self.store.sms_consent(person)?)
    }
}
