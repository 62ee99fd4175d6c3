//! Kiosk administration: adding a kiosk, naming it, revoking it, issuing it a new enrollment code
//! after a revocation, and trading a code for a credential. The command line and the
//! office page call these; each rule is checked here once.

use rand::{Rng, RngExt};

use blisko_shared::codes;
use blisko_shared::ids::{BranchId, KioskId};
use blisko_shared::sync::{EnrollRequest, EnrollResponse};

use super::audit_detail::change_detail;
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

/// The longest kiosk name, in characters.
pub const NAME_MAX: usize = 60;

/// A kiosk name as stored: trimmed, one line, at most [`NAME_MAX`] characters, not empty.
fn checked_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CentralError::Refused {
            pl: "Proszę podać nazwę kiosku, np. „MAL — hol”.".to_owned(),
            en: "Please give the kiosk a name, e.g. \"MAL — hall\".".to_owned(),
        });
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(CentralError::Refused {
            pl: format!("Nazwa kiosku może mieć najwyżej {NAME_MAX} znaków w jednym wierszu."),
            en: format!("A kiosk name may have at most {NAME_MAX} characters on one line."),
        });
    }
    Ok(name.to_owned())
}

/// Register a new kiosk for a branch under `name`, in the caller's transaction; returns it
/// with a one-time enrollment code. Without a name (the command line's `kiosk add`
/// without `--name`) pages call it by its number ("kiosk nr 3") until it is renamed.
pub(crate) fn add(
    db: &Db<'_>,
    branch: BranchId,
    name: Option<&str>,
    actor: &str,
) -> Result<(KioskRow, String)> {
    let name = name.map(checked_name).transpose()?.unwrap_or_default();
    if db.branch_code(branch)?.is_none() {
        return Err(CentralError::NotFound(format!("branch {branch}")));
    }
    let now = now_text();
    let (kiosk, _) = db.add_kiosk(branch, &name, &now)?;
    let code = issue_code(db, kiosk, false)?;
    db.audit(
        &now,
        actor,
        "kiosk_add",
        &format!("kiosk:{kiosk}"),
        Some(&change_detail(
            serde_json::Value::Null,
            serde_json::json!({ "name": name, "branch": format!("branch:{branch}") }),
        )),
    )?;
    let row = db
        .kiosk(kiosk)?
        .ok_or_else(|| CentralError::NotFound(format!("kiosk {kiosk}")))?;
    Ok((row, code))
}

/// Give a kiosk a new name, in the caller's transaction (audited with the old and the new
/// name). The same name again changes nothing and records nothing.
pub(crate) fn rename(db: &Db<'_>, kiosk: KioskId, name: &str, actor: &str) -> Result<KioskRow> {
    let name = checked_name(name)?;
    let row = db
        .kiosk(kiosk)?
        .ok_or_else(|| CentralError::NotFound(format!("kiosk {kiosk}")))?;
    if row.name == name {
        return Ok(row);
    }
    db.rename_kiosk(kiosk, &name)?;
    db.audit(
        &now_text(),
        actor,
        "kiosk_rename",
        &format!("kiosk:{kiosk}"),
        Some(&change_detail(
            serde_json::json!({ "name": row.name }),
            serde_json::json!({ "name": name }),
        )),
    )?;
    Ok(KioskRow { name, ..row })
}

/// Revoke a kiosk, in the caller's transaction: its credential stops working at once
/// (its next sync is refused as `revoked`, and it keeps what it has not sent until it is
/// enrolled again), and a code it was given and has not used is withdrawn.
pub(crate) fn revoke(db: &Db<'_>, kiosk: KioskId, actor: &str) -> Result<KioskRow> {
    let row = db
        .kiosk(kiosk)?
        .ok_or_else(|| CentralError::NotFound(format!("kiosk {kiosk}")))?;
    let now = now_text();
    if !db.revoke_kiosk(kiosk, &now)? {
        return Err(CentralError::NotFound(format!("active kiosk {kiosk}")));
    }
    let was = if row.enrolled {
        "enrolled"
    } else {
        "waiting_for_enrollment"
    };
    db.audit(
        &now,
        actor,
        "kiosk_revoke",
        &format!("kiosk:{kiosk}"),
        Some(&change_detail(
            serde_json::json!({ "state": was }),
            serde_json::json!({ "state": "revoked" }),
        )),
    )?;
    Ok(KioskRow {
        revoked: true,
        ..row
    })
}

/// Whether `code` is the kiosk's current, unused, unexpired enrollment code (the office
/// prints a sheet only for that).
pub(crate) fn is_current_code(db: &Db<'_>, kiosk: KioskId, code: &str) -> Result<bool> {
    let hash = sha256(normalize_code(code).as_bytes());
    Ok(db.unused_code_kiosk(&hash, &now_text())? == Some(kiosk))
}

impl Central {
    pub fn kiosks(&mut self) -> Result<Vec<KioskRow>> {
        let db = self.store.write()?;
        Ok(db.kiosks()?)
    }

    /// Register a new kiosk for a branch (see [`add`]), from the command line.
    pub fn add_kiosk(
        &mut self,
        branch: BranchId,
        name: Option<&str>,
    ) -> Result<(KioskRow, String)> {
        let db = self.store.write()?;
        let added = add(&db, branch, name, "admin")?;
        db.commit()?;
        Ok(added)
    }

    /// Rename a kiosk (see [`rename`]), from the command line.
    pub fn rename_kiosk(&mut self, kiosk: KioskId, name: &str) -> Result<KioskRow> {
        let db = self.store.write()?;
        let row = rename(&db, kiosk, name, "admin")?;
        db.commit()?;
        Ok(row)
    }

    /// Revoke a kiosk (see [`revoke`]), from the command line.
    pub fn revoke_kiosk(&mut self, kiosk: KioskId) -> Result<()> {
        let db = self.store.write()?;
        revoke(&db, kiosk, "admin")?;
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
