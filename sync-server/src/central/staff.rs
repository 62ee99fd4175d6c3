//! Staff accounts of the office page: the password policy, creating an account, editing
//! it, disabling and re-enabling it, temporary passwords, a user's own password change,
//! and the one-time set-up link that creates the first office admin. The command line and
//! the office page call these; each rule is checked here once.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::{Rng, RngExt};

use blisko_shared::ids::{BranchId, StaffId};
use blisko_shared::model::StaffRole;

use serde_json::{Value, json};

use super::audit_detail::change_detail;
use super::{Central, CentralError, Result, now_text, sha256};
use crate::store::{Db, StaffRow};

pub const MIN_PASSWORD_CHARS: usize = 12;
/// How long a set-up link printed by `serve` works.
pub const SETUP_LINK_HOURS: i64 = 24;

/// Passwords too common to allow, lower-case (the policy compares case-insensitively).
static COMMON_PASSWORDS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

fn refused(pl: impl Into<String>, en: impl Into<String>) -> CentralError {
    CentralError::Refused {
        pl: pl.into(),
        en: en.into(),
    }
}

/// The password policy, for every password a person chooses (the command line, the
/// first admin's set-up, a password change): at least [`MIN_PASSWORD_CHARS`] characters,
/// not only white space, not one character repeated, not a common password.
pub fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(refused(
            format!("Hasło musi mieć co najmniej {MIN_PASSWORD_CHARS} znaków."),
            format!("The password must have at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    if password.chars().all(char::is_whitespace) {
        return Err(refused(
            "Hasło nie może składać się z samych spacji.",
            "The password cannot be only spaces.",
        ));
    }
    let mut chars = password.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err(refused(
            "Hasło nie może być jednym znakiem powtórzonym wiele razy.",
            "The password cannot be one character repeated.",
        ));
    }
    if COMMON_PASSWORDS.contains(&password.trim().to_lowercase()) {
        return Err(refused(
            "To hasło jest zbyt popularne i łatwe do odgadnięcia. Proszę wybrać inne.",
            "This password is too common and easy to guess. Please choose another one.",
        ));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| CentralError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CentralError::Internal(format!("could not hash the password: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Letters and digits that cannot be mistaken for one another when read aloud or copied.
const TEMPORARY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// A temporary password the server makes up: four groups of four, e.g. `k7mq-2xva-9hte-pw3d`
/// (16 random symbols of 31, about 79 bits).
pub fn temporary_password() -> String {
    let mut rng = rand::rng();
    let groups: Vec<String> = (0..4)
        .map(|_| {
            (0..4)
                .map(|_| TEMPORARY_ALPHABET[rng.random_range(0..TEMPORARY_ALPHABET.len())] as char)
                .collect()
        })
        .collect();
    groups.join("-")
}

fn check_login(login: &str) -> Result<()> {
    let ok = (3..=40).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(refused(
            "Login ma od 3 do 40 znaków: małe litery a-z, cyfry, „.”, „_” lub „-”.",
            "A login is 3 to 40 characters: lower-case letters a-z, digits, '.', '_' or '-'.",
        ))
    }
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(refused(
            "Imię i nazwisko: od 1 do 100 znaków.",
            "The name must be 1 to 100 printable characters.",
        ));
    }
    Ok(name.to_owned())
}

/// A branch that exists, and none for an office admin: an office admin administers the
/// whole office (all staff, the whole audit log), so an account limited to one branch
/// cannot have that role.
fn check_branch(db: &Db<'_>, role: StaffRole, branch: Option<BranchId>) -> Result<()> {
    if role == StaffRole::OfficeAdmin && branch.is_some() {
        return Err(refused(
            "Administrator biura ma zawsze dostęp do wszystkich punktów. Proszę wybrać „wszystkie punkty” albo inną rolę.",
            "An office admin always has all branches. Please choose \"all branches\" or another role.",
        ));
    }
    if let Some(branch) = branch
        && db.branch_code(branch)?.is_none()
    {
        return Err(CentralError::NotFound(format!("branch {branch}")));
    }
    Ok(())
}

/// The password a new account starts with.
pub enum InitialPassword<'a> {
    /// Chosen by the administrator (`staff add`): checked against the policy.
    Chosen(&'a str),
    /// Made up by the server, shown once, changed at the first log-in.
    Temporary,
}

/// A new staff account.
pub struct NewStaff<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub role: StaffRole,
    pub branch: Option<BranchId>,
}

/// Create an account in the caller's transaction. Returns its id and, for a temporary
/// password, the password to show once.
pub fn add(
    db: &Db<'_>,
    actor: &str,
    new: &NewStaff<'_>,
    password: InitialPassword<'_>,
) -> Result<(StaffId, Option<String>)> {
    let login = new.login.trim();
    check_login(login)?;
    let name = check_name(new.name)?;
    let (password, temporary) = match password {
        InitialPassword::Chosen(p) => {
            check_password(p)?;
            (p.to_owned(), false)
        }
        InitialPassword::Temporary => (temporary_password(), true),
    };
    check_branch(db, new.role, new.branch)?;
    if db.staff_by_login(login)?.is_some() {
        return Err(refused(
            format!("Login „{login}” jest już zajęty."),
            format!("The login \"{login}\" is taken."),
        ));
    }
    let id = StaffId::new();
    let now = now_text();
    db.insert_staff(
        &StaffRow {
            id: id.to_string(),
            login: login.to_owned(),
            name,
            role: new.role.code().to_owned(),
            branch_id: new.branch.map(|b| b.to_string()),
            password_hash: hash_password(&password)?,
            disabled: false,
            must_change_password: temporary,
            created_at: now.clone(),
            last_login_at: None,
        },
        &now,
    )?;
    db.audit(
        &now,
        actor,
        "staff_add",
        &format!("staff:{id}"),
        Some(&change_detail(
            Value::Null,
            json!({
                "role": new.role.code(),
                "branch": branch_value(new.branch.map(|b| b.to_string()).as_deref()),
                "temporary_password": temporary,
            }),
        )),
    )?;
    Ok((id, temporary.then_some(password)))
}

/// A branch in an audit detail: `branch:<id>`, or `null` for all branches.
fn branch_value(branch: Option<&str>) -> Value {
    branch.map_or(Value::Null, |b| json!(format!("branch:{b}")))
}

fn account(db: &Db<'_>, id: StaffId) -> Result<StaffRow> {
    db.staff_by_id(&id.to_string())?
        .ok_or_else(|| CentralError::NotFound(format!("staff {id}")))
}

fn is_active_admin(row: &StaffRow) -> bool {
    !row.disabled && row.role == StaffRole::OfficeAdmin.code()
}

fn refuse_last_admin(db: &Db<'_>, row: &StaffRow) -> Result<()> {
    if is_active_admin(row) && db.active_office_admins()? <= 1 {
        return Err(refused(
            "To jest ostatnie aktywne konto administratora biura. Proszę najpierw nadać tę rolę innemu kontu.",
            "This is the last active office admin account. Please give another account that role first.",
        ));
    }
    Ok(())
}

/// What an edit may change.
pub struct StaffEdit<'a> {
    pub name: &'a str,
    pub role: StaffRole,
    pub branch: Option<BranchId>,
}

/// Change an account's name, role and branch. The audit record lists each change with
/// its old and new value. Refused if it would leave no active office admin.
pub fn edit(db: &Db<'_>, actor: &str, id: StaffId, edit: &StaffEdit<'_>) -> Result<()> {
    let row = account(db, id)?;
    let name = check_name(edit.name)?;
    check_branch(db, edit.role, edit.branch)?;
    let branch = edit.branch.map(|b| b.to_string());
    if edit.role != StaffRole::OfficeAdmin {
        refuse_last_admin(db, &row)?;
    }
    let mut old = serde_json::Map::new();
    let mut new = serde_json::Map::new();
    if row.name != name {
        old.insert("name".into(), json!(row.name));
        new.insert("name".into(), json!(name));
    }
    if row.role != edit.role.code() {
        old.insert("role".into(), json!(row.role));
        new.insert("role".into(), json!(edit.role.code()));
    }
    if row.branch_id != branch {
        old.insert("branch".into(), branch_value(row.branch_id.as_deref()));
        new.insert("branch".into(), branch_value(branch.as_deref()));
    }
    if new.is_empty() {
        return Ok(());
    }
    db.update_staff_details(&row.id, &name, edit.role.code(), branch.as_deref())?;
    db.audit(
        &now_text(),
        actor,
        "staff_edit",
        &format!("staff:{id}"),
        Some(&change_detail(Value::Object(old), Value::Object(new))),
    )?;
    Ok(())
}

/// Disable an account (it cannot log in, and its open sessions end now) or enable it again.
pub fn set_disabled(db: &Db<'_>, actor: &str, id: StaffId, disabled: bool) -> Result<()> {
    let row = account(db, id)?;
    if row.disabled == disabled {
        return Ok(());
    }
    let now = now_text();
    if disabled {
        refuse_last_admin(db, &row)?;
        db.set_staff_disabled(&row.id, Some(&now))?;
        let ended = db.delete_staff_sessions(&row.id)?;
        db.audit(
            &now,
            actor,
            "staff_disable",
            &format!("staff:{id}"),
            Some(&change_detail(
                json!({ "status": "active" }),
                json!({ "status": "disabled", "sessions_ended": ended }),
            )),
        )?;
    } else {
        db.set_staff_disabled(&row.id, None)?;
        db.audit(
            &now,
            actor,
            "staff_enable",
            &format!("staff:{id}"),
            Some(&change_detail(
                json!({ "status": "disabled" }),
                json!({ "status": "active" }),
            )),
        )?;
    }
    Ok(())
}

/// A new temporary password for an account, to be changed at its next log-in. Its open
/// sessions end. Returns the password to show once.
pub fn reset_password(db: &Db<'_>, actor: &str, id: StaffId) -> Result<String> {
    let row = account(db, id)?;
    let password = temporary_password();
    db.set_staff_password(&row.id, &hash_password(&password)?, true)?;
    let ended = db.delete_staff_sessions(&row.id)?;
    db.audit(
        &now_text(),
        actor,
        "staff_password_reset",
        &format!("staff:{id}"),
        Some(&change_detail(
            Value::Null,
            json!({ "temporary_password": true, "sessions_ended": ended }),
        )),
    )?;
    Ok(password)
}

/// What a person types to change their own password.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub repeat: &'a str,
}

/// A logged-in person changes their own password. Their other sessions end; the one
/// with `keep_session` (the token's digest) stays.
pub fn change_own_password(
    db: &Db<'_>,
    staff_id: &str,
    change: &PasswordChange<'_>,
    keep_session: &[u8],
) -> Result<()> {
    let row = db
        .staff_by_id(staff_id)?
        .ok_or_else(|| CentralError::NotFound(format!("staff {staff_id}")))?;
    if !verify_password(change.current, &row.password_hash) {
        return Err(refused(
            "Obecne hasło jest nieprawidłowe.",
            "The current password is wrong.",
        ));
    }
    if change.new != change.repeat {
        return Err(refused(
            "Nowe hasło i jego powtórzenie różnią się.",
            "The new password and its repetition differ.",
        ));
    }
    check_password(change.new)?;
    if change.new == change.current {
        return Err(refused(
            "Nowe hasło musi różnić się od obecnego.",
            "The new password must differ from the current one.",
        ));
    }
    db.set_staff_password(&row.id, &hash_password(change.new)?, false)?;
    let ended = db.delete_other_staff_sessions(&row.id, keep_session)?;
    db.audit(
        &now_text(),
        &format!("staff:{}", row.id),
        "staff_password_change",
        &format!("staff:{}", row.id),
        Some(&change_detail(
            json!({ "temporary_password": row.must_change_password }),
            json!({ "temporary_password": false, "sessions_ended": ended }),
        )),
    )?;
    Ok(())
}

/// A new set-up link's token while no active office admin exists (earlier links stop
/// working), valid for [`SETUP_LINK_HOURS`]; `None` once the office has an admin.
pub fn issue_setup_token(db: &Db<'_>) -> Result<Option<String>> {
    if db.active_office_admins()? > 0 {
        db.delete_setup_tokens()?;
        return Ok(None);
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let now = jiff::Timestamp::now();
    let expires = now
        .checked_add(jiff::SignedDuration::from_hours(SETUP_LINK_HOURS))
        .unwrap_or(now);
    db.replace_setup_token(
        &sha256(token.as_bytes()),
        &now.to_string(),
        &expires.to_string(),
    )?;
    db.audit(
        &now.to_string(),
        "admin",
        "office_setup_link",
        "office",
        None,
    )?;
    Ok(Some(token))
}

/// Whether `token` is a live set-up link: unexpired, and still no office admin.
pub fn setup_token_valid(db: &Db<'_>, token: &str) -> Result<bool> {
    Ok(token.len() == 64
        && db.active_office_admins()? == 0
        && db.setup_token_valid(&sha256(token.as_bytes()), &now_text())?)
}

/// The first office admin, created through a set-up link; the link then stops working.
pub struct FirstAdmin<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub password: &'a str,
    pub repeat: &'a str,
}

pub fn create_first_admin(db: &Db<'_>, token: &str, first: &FirstAdmin<'_>) -> Result<StaffId> {
    if !setup_token_valid(db, token)? {
        return Err(CentralError::NotFound("set-up link".into()));
    }
    if first.password != first.repeat {
        return Err(refused(
            "Hasło i jego powtórzenie różnią się.",
            "The password and its repetition differ.",
        ));
    }
    let (id, _) = add(
        db,
        "setup",
        &NewStaff {
            login: first.login,
            name: first.name,
            role: StaffRole::OfficeAdmin,
            branch: None,
        },
        InitialPassword::Chosen(first.password),
    )?;
    db.delete_setup_tokens()?;
    Ok(id)
}

impl Central {
    /// `blisko-server staff add`: an account with a password the administrator chose.
    pub fn add_staff(&mut self, new: &NewStaff<'_>, password: &str) -> Result<StaffId> {
        let db = self.store.write()?;
        let (id, _) = add(&db, "admin", new, InitialPassword::Chosen(password))?;
        db.commit()?;
        Ok(id)
    }

    /// `blisko-server staff reset-password`: a new temporary password for the account
    /// with `login` (e.g. the only office admin's, forgotten), as the page's reset does.
    pub fn reset_staff_password(&mut self, login: &str) -> Result<String> {
        let db = self.store.write()?;
        let row = db
            .staff_by_login(login.trim())?
            .ok_or_else(|| CentralError::NotFound(format!("staff account {login:?}")))?;
        let id: StaffId = row
            .id
            .parse()
            .map_err(|_| CentralError::Internal(format!("a stored staff id: {}", row.id)))?;
        let password = reset_password(&db, "admin", id)?;
        db.commit()?;
        Ok(password)
    }

    pub fn staff_list(&mut self) -> Result<Vec<StaffRow>> {
        let db = self.store.write()?;
        Ok(db.staff_list()?)
    }

    /// A set-up link's token for `serve`, while the office has no admin.
    pub fn issue_setup_token(&mut self) -> Result<Option<String>> {
        let db = self.store.write()?;
        let token = issue_setup_token(&db)?;
        db.commit()?;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_both(password: &str) -> bool {
        matches!(check_password(password), Err(CentralError::Refused { pl, en }) if !pl.is_empty() && !en.is_empty())
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(refused_both(""));
        assert!(refused_both("krotkie"));
        assert!(refused_both("elevenchars"));
        assert!(check_password("dwanascie-zn").is_ok());
    }

    #[test]
    fn white_space_and_one_repeated_character_are_refused() {
        assert!(refused_both("            "));
        assert!(refused_both("\t\t\t\t\t\t\t\t\t\t\t\t"));
        assert!(refused_both("aaaaaaaaaaaa"));
        assert!(refused_both("ąąąąąąąąąąąąąą"));
        assert!(refused_both("111111111111111"));
    }

    #[test]
    fn common_passwords_are_refused_whatever_the_case() {
        for p in [
            "zaq12wsxcde3",
            "ZAQ12WSXCDE3",
            "qwertyuiop12",
            "QwertyUiop12",
            "haslo1234567",
            "Haslo1234567",
            "password1234",
            "123456789012",
            "1qaz2wsx3edc",
        ] {
            assert!(refused_both(p), "{p} is refused");
        }
        assert!(COMMON_PASSWORDS.len() > 200, "a few hundred entries");
    }

    #[test]
    fn staff_are_listed_in_polish_order_of_their_names() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CentralError::Internal(e.to_string()))?;
        let mut central = Central::open(dir.path())?;
        // Logins in the reverse order of the names: a list by login reads backwards.
        for (login, name) in [
            ("a-zak", "Żak Anna"),
            ("b-lata", "Łata Bogdan"),
            ("c-lis", "Lis Celina"),
            ("d-czajka", "Czajka Dorota"),
            ("e-cwik", "Ćwik Edward"),
        ] {
            let new = NewStaff {
                login,
                name,
                role: StaffRole::Organizer,
                branch: None,
            };
            central.add_staff(&new, "haslo-do-testow-123")?;
        }
        let names: Vec<String> = central.staff_list()?.into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "Czajka Dorota",
                "Ćwik Edward",
                "Lis Celina",
                "Łata Bogdan",
                "Żak Anna"
            ]
        );
        Ok(())
    }

    #[test]
    fn a_good_password_passes_and_temporary_ones_pass_the_policy() {
        assert!(check_password("haslo-do-testow-123").is_ok());
        assert!(check_password("Zielony rower 7 mostów").is_ok());
        for _ in 0..50 {
            let p = temporary_password();
            assert_eq!(p.len(), 19);
            assert!(check_password(&p).is_ok(), "{p}");
        }
        assert_ne!(temporary_password(), temporary_password());
    }
}
