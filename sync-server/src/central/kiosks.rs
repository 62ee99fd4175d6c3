//! Kiosk administration: adding a kiosk, revoking it, issuing it a new enrollment code
//! after a revocation, and trading a code for a credential. The command line and the
//! office page call these; each rule is checked here once.

use rand::{Rng, RngExt};

use blisko_shared::codes;
use blisko_shared::ids::{BranchId, KioskId};
use blisko_shared::sync::{EnrollRequest, EnrollResponse};

use super::{
    Central, CentralError, ENROLLMENT_DAYS, Result, normalize_code, now_text, sha256, token_prefix,
};
use crate::store::{Db, KioskRow};

/// A new one-time code (`XXXX-XXXX-XXXX`), stored as a digest for `kiosk`, valid for
/// [`ENROLLMENT_DAYS`]. Any earlier unused code of the kiosk is withdrawn.
fn issue_code(db: &Db<'_>, kiosk: KioskId, reenroll: bool) -> Result<String> {
    let mut rng = rand::rng();
    let raw: String = (0..12)
        .map(|_| {
            codes::RESIDENT_CODE_ALPHABET[rng.random_range(0..codes::RESIDENT_CODE_ALPHABET.len())]
                as char
        })
        .collect();
    let code = format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..]);
    let expires = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(24 * ENROLLMENT_DAYS))
        .unwrap_or(jiff::Timestamp::MAX)
        .to_string();
    db.add_enrollment_code(
        &sha256(normalize_code(&code).as_bytes()),
        kiosk,
        &expires,
        reenroll,
    )?;
    Ok(code)
}

/// Issue a new enrollment code for an existing kiosk, in the caller's transaction (the
/// office page's, or [`Central::reenroll_kiosk`]'s). The kiosk stays as it is until the
/// code is redeemed: then it gets a new credential, and a revocation is lifted. Its old
/// credential never works again. `actor` is who asked, for the audit log.
pub(crate) fn reenroll(db: &Db<'_>, kiosk: KioskId, actor: &str) -> Result<(KioskRow, String)> {
    let row = db
        .kiosk(kiosk)?
        .ok_or_else(|| CentralError::NotFound(format!("kiosk {kiosk}")))?;
    let code = issue_code(db, kiosk, true)?;
    db.audit(
        &now_text(),
        actor,
        "kiosk_reenroll",
        &format!("kiosk:{kiosk}"),
        Some(if row.revoked { "revoked" } else { "active" }),
    )?;
    Ok((row, code))
}

impl Central {
    pub fn kiosks(&mut self) -> Result<Vec<KioskRow>> {
        let db = self.store.write()?;
        Ok(db.kiosks()?)
    }

    /// Register a new kiosk for a branch; returns it with a one-time enrollment code.
    pub fn add_kiosk(&mut self, branch: BranchId) -> Result<(KioskRow, String)> {
        let db = self.store.write()?;
        if db.branch_code(branch)?.is_none() {
            return Err(CentralError::NotFound(format!("branch {branch}")));
        }
        let now = now_text();
        let (kiosk, _) = db.add_kiosk(branch, &now)?;
        let code = issue_code(&db, kiosk, false)?;
        db.audit(
            &now,
            "admin",
            "kiosk_add",
            &format!("kiosk:{kiosk}"),
            Some(&format!("branch:{branch}")),
        )?;
        let row = db
            .kiosk(kiosk)?
            .ok_or_else(|| CentralError::NotFound(format!("kiosk {kiosk}")))?;
        db.commit()?;
        Ok((row, code))
    }

    /// Revoke a kiosk: its credential stops working at once, and a code it was given and
    /// has not used is withdrawn.
    pub fn revoke_kiosk(&mut self, kiosk: KioskId) -> Result<()> {
        let db = self.store.write()?;
        if !db.revoke_kiosk(kiosk, &now_text())? {
            return Err(CentralError::NotFound(format!("active kiosk {kiosk}")));
        }
        db.audit(
            &now_text(),
            "admin",
            "kiosk_revoke",
            &format!("kiosk:{kiosk}"),
            None,
        )?;
        db.commit()?;
        Ok(())
    }

    /// A new enrollment code for the same kiosk (see [`reenroll`]), from the command line.
    pub fn reenroll_kiosk(&mut self, kiosk: KioskId) -> Result<(KioskRow, String)> {
        let db = self.store.write()?;
        let issued = reenroll(&db, kiosk, "admin")?;
        db.commit()?;
        Ok(issued)
    }

    /// Trade a one-time code for a kiosk credential. A re-enrollment code replaces the
    /// kiosk's credential and lifts its revocation.
    pub fn enroll(&mut self, request: &EnrollRequest) -> Result<EnrollResponse> {
        let db = self.store.write()?;
        let now = now_text();
        let Some((kiosk, reenrolled)) =
            db.redeem_enrollment_code(&sha256(normalize_code(&request.code).as_bytes()), &now)?
        else {
            drop(db);
            let db = self.store.write()?;
            db.audit(&now, "anonymous", "enroll_refused", "kiosk:?", None)?;
            db.commit()?;
            return Err(CentralError::BadEnrollmentCode);
        };
        let row = db.kiosk(kiosk)?.ok_or(CentralError::BadEnrollmentCode)?;
        let mut secret = [0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        let token = hex::encode(secret);
        let prefix = token_prefix(&token).unwrap_or_default().to_owned();
        db.set_credential(kiosk, &prefix, &sha256(token.as_bytes()), &now)?;
        let branch_code = db.branch_code(row.branch_id)?.unwrap_or_default();
        db.audit(
            &now,
            &format!("kiosk:{kiosk}"),
            "enroll",
            &format!("kiosk:{kiosk}"),
            reenrolled.then_some(if row.revoked {
                "reenroll, revocation lifted"
            } else {
                "reenroll"
            }),
        )?;
        db.commit()?;
        Ok(EnrollResponse {
            kiosk_id: kiosk,
            branch_id: row.branch_id,
            branch_code,
            kiosk_number: row.number,
            token,
        })
    }
}
