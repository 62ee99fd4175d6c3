//! Staff accounts, log-in, sessions, CSRF tokens, log-in rate limits and roles.
//!
//! Passwords are kept as argon2id hashes. A session is a random 256-bit token in an
//! HttpOnly, SameSite=Strict cookie (Secure when served over TLS); the server keeps only
//! its SHA-256, with the staff id, a CSRF token and an expiry. Failed log-ins are counted
//! per login and per address; past the limit the form is refused for 15 minutes.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use rand::Rng;
use sha2::{Digest, Sha256};

use blisko_shared::i18n::Lang;
use blisko_shared::ids::{BranchId, StaffId};
use blisko_shared::model::StaffRole;

use super::{
    Ctx, OResult, OfficeError, blocking, cookie, error_response, lang_of, layout, tr, with_db,
};
use crate::central::{Central, CentralError};
use crate::http::AppState;
use crate::limits::FailureLimit;
use crate::store::StaffRow;

pub const SESSION_COOKIE: &str = "blisko_office";
const LOGIN_CSRF_COOKIE: &str = "blisko_office_login";
const SESSION_HOURS: i64 = 8;
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed log-ins allowed per login, and per address, in the window.
pub const MAX_FAILURES_PER_LOGIN: usize = 5;
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// What a page or action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    Overview,
    ClassesView,
    ClassesEdit,
    PrintAttendance,
    ExportClasses,
    Requests,
    Charts,
    Persons,
    Reconcile,
    /// New enrollment codes for kiosks.
    Kiosks,
    /// Registrations taken on the phone, cancelled or confirmed from the waiting list.
    Registrations,
    /// Attendance typed in from a signed paper list.
    PaperAttendance,
    /// The waiting list's phone numbers (an audited read).
    WaitlistPhones,
}

impl Perm {
    pub fn code(self) -> &'static str {
        match self {
            Perm::Overview => "page:overview",
            Perm::ClassesView => "page:classes",
            Perm::ClassesEdit => "page:classes_edit",
            Perm::PrintAttendance => "page:print_attendance",
            Perm::ExportClasses => "page:export_classes",
            Perm::Requests => "page:requests",
            Perm::Charts => "page:charts",
            Perm::Persons => "page:persons",
            Perm::Reconcile => "page:reconcile",
            Perm::Kiosks => "page:kiosks",
            Perm::Registrations => "page:registrations",
            Perm::PaperAttendance => "page:paper_attendance",
            Perm::WaitlistPhones => "page:waitlist_phones",
        }
    }
}

/// A staff role (DESIGN.md): what it may see and do on the office page.
///
/// | | instructor | branch staff | organizer | office admin |
/// |---|---|---|---|---|
/// | classes, rosters, printable lists | yes | yes | yes | yes |
/// | overview, charts, roster/attendance CSV | | yes | yes | yes |
/// | create and edit classes, sessions, allotments | | | yes | yes |
/// | requests (wnioski), their CSV | | | yes | yes |
/// | reconciliation | | | yes | yes |
/// | a person's page, erase | | | | yes |
/// | a kiosk's new enrollment code | | | | yes |
/// | phone registrations, cancellations, waiting list, its phone numbers | | | yes | yes |
/// | attendance from a paper list | | yes | yes | yes |
///
/// An account with a branch sees only that branch's classes and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role(pub StaffRole);

impl Role {
    pub fn can(self, perm: Perm) -> bool {
        use Perm::*;
        match self.0 {
            StaffRole::Instructor => matches!(perm, ClassesView | PrintAttendance),
            StaffRole::BranchStaff => matches!(
                perm,
                Overview | ClassesView | PrintAttendance | ExportClasses | Charts | PaperAttendance
            ),
            StaffRole::Organizer => !matches!(perm, Persons | Kiosks),
            StaffRole::OfficeAdmin => true,
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self.0 {
            StaffRole::Instructor => tr(lang, "instruktor", "instructor"),
            StaffRole::BranchStaff => tr(lang, "pracownik punktu", "branch staff"),
            StaffRole::Organizer => tr(lang, "organizator", "organizer"),
            StaffRole::OfficeAdmin => tr(lang, "administrator biura", "office admin"),
        }
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// Compare two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && !b.is_empty()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hash_password(password: &str) -> Result<String, CentralError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| CentralError::BadRequest(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CentralError::BadRequest(format!("could not hash the password: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the login is unknown, so both cases take as long.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a password of anyone").unwrap_or_default());

/// A new staff account for `blisko-server staff add`.
pub struct NewStaff<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub branch: Option<BranchId>,
    pub password: &'a str,
}

fn check_login(login: &str) -> Result<(), CentralError> {
    let ok = (3..=40).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CentralError::BadRequest(
            "a login is 3 to 40 characters: lower-case letters a-z, digits, '.', '_' or '-'".into(),
        ))
    }
}

impl Central {
    /// Create a staff account for the office page. Returns its id.
    pub fn add_staff(&mut self, new: &NewStaff<'_>) -> Result<StaffId, CentralError> {
        check_login(new.login)?;
        let role = StaffRole::from_code(new.role).ok_or_else(|| {
            CentralError::BadRequest(format!(
                "unknown role {:?}: instructor, branch_staff, organizer or office_admin",
                new.role
            ))
        })?;
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(CentralError::BadRequest(
                "the name must be 1 to 100 printable characters".into(),
            ));
        }
        let password = new.password.trim_end_matches(['\r', '\n']);
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(CentralError::BadRequest(format!(
                "the password must have at least {MIN_PASSWORD_CHARS} characters"
            )));
        }
        let hash = hash_password(password)?;
        let id = StaffId::new();
        let now = super::now_text();
        let db = self.store.write()?;
        if let Some(branch) = new.branch
            && db.branch_code(branch)?.is_none()
        {
            return Err(CentralError::NotFound(format!("branch {branch}")));
        }
        if db.staff_by_login(new.login)?.is_some() {
            return Err(CentralError::BadRequest(format!(
                "the login {:?} is taken",
                new.login
            )));
        }
        db.insert_staff(
            &StaffRow {
                id: id.to_string(),
                login: new.login.to_owned(),
                name: name.to_owned(),
                role: role.code().to_owned(),
                branch_id: new.branch.map(|b| b.to_string()),
                password_hash: hash,
                disabled: false,
            },
            &now,
        )?;
        db.audit(
            &now,
            "admin",
            "staff_add",
            &format!("staff:{id}"),
            Some(&format!("role:{}", role.code())),
        )?;
        db.commit()?;
        Ok(id)
    }

    pub fn staff_list(&mut self) -> Result<Vec<StaffRow>, CentralError> {
        let db = self.store.write()?;
        Ok(db.staff_list()?)
    }
}

/// The logged-in visitor behind a session cookie.
pub fn session(central: &mut Central, token: Option<&str>, lang: Lang) -> OResult<Ctx> {
    let token = token
        .filter(|t| t.len() == 64)
        .ok_or(OfficeError::NotLoggedIn)?;
    let now = super::now_text();
    let row = with_db(
        central,
        |db, _| Ok(db.office_session(&sha256(token), &now)?),
    )?
    .ok_or(OfficeError::NotLoggedIn)?;
    let role = StaffRole::from_code(&row.staff.role).ok_or(OfficeError::Forbidden)?;
    Ok(Ctx {
        staff: row.staff,
        role: Role(role),
        csrf: row.csrf,
        lang,
    })
}

/// Failed log-ins per login and per address, kept in memory.
static LOGIN_FAILURES: LazyLock<FailureLimit<String>> =
    LazyLock::new(|| FailureLimit::new(MAX_FAILURES_PER_LOGIN, LIMIT_WINDOW));
static ADDRESS_FAILURES: LazyLock<FailureLimit<IpAddr>> =
    LazyLock::new(|| FailureLimit::new(MAX_FAILURES_PER_ADDRESS, LIMIT_WINDOW));

/// Set when the server itself serves HTTPS (`serve --tls-cert`): one listener, so every
/// request came over TLS.
static SERVED_OVER_TLS: AtomicBool = AtomicBool::new(false);

pub fn set_served_over_tls() {
    SERVED_OVER_TLS.store(true, Ordering::Relaxed);
}

/// Whether the cookie should carry `Secure`: served over TLS here or behind a TLS proxy
/// that says so, or when the operator says the page is only ever served over HTTPS.
fn over_tls(headers: &HeaderMap) -> bool {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    SERVED_OVER_TLS.load(Ordering::Relaxed)
        || forwarded
        || std::env::var("BLISKO_OFFICE_TLS").is_ok_and(|v| v == "1")
}

fn cookie_header(headers: &HeaderMap, name: &str, value: &str, max_age: i64) -> String {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    format!("{name}={value}; Path=/office; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

pub async fn login_form(headers: HeaderMap) -> Response {
    login_page(&headers, None, StatusCode::OK)
}

fn login_page(headers: &HeaderMap, message: Option<String>, status: StatusCode) -> Response {
    let lang = lang_of(headers);
    let csrf = random_hex();
    let body = html! {
        h1 { (tr(lang, "Logowanie do biura", "Office log-in")) }
        @if let Some(m) = &message { p.error role="alert" { (m) } }
        form method="post" action="/office/login" class="login" {
            input type="hidden" name="csrf" value=(csrf);
            label { (tr(lang, "Login", "Login")) input type="text" name="login" autocomplete="username" required autofocus; }
            label { (tr(lang, "Hasło", "Password")) input type="password" name="password" autocomplete="current-password" required; }
            button type="submit" { (tr(lang, "Zaloguj", "Log in")) }
        }
    };
    (
        status,
        [(
            header::SET_COOKIE,
            cookie_header(headers, LOGIN_CSRF_COOKIE, &csrf, 3600),
        )],
        layout::bare(lang, tr(lang, "Logowanie", "Log in"), body),
    )
        .into_response()
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let sent = form.get("csrf").map(String::as_str).unwrap_or_default();
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_secret(sent, &expected) {
        return error_response(lang, OfficeError::BadCsrf);
    }
    let login = form
        .get("login")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    let login_key = login.to_lowercase();
    let limited = LOGIN_FAILURES
        .retry_after(&login_key)
        .max(ADDRESS_FAILURES.retry_after(&peer.ip()));
    if let Some(wait) = limited {
        let _ = blocking(&state, |c| {
            Ok(c.audit("anonymous", "office_login_limited", "staff:?", None)?)
        })
        .await;
        return error_response(lang, OfficeError::RateLimited(wait));
    }
    let result = blocking(&state, move |central| {
        let staff = with_db(central, |db, _| Ok(db.staff_by_login(&login)?))?;
        let ok = match &staff {
            Some(s) => verify_password(&password, &s.password_hash) && !s.disabled,
            None => {
                verify_password(&password, &DUMMY_HASH);
                false
            }
        };
        let Some(staff) = staff.clone().filter(|_| ok) else {
            // The login typed is not recorded: it may be someone's name.
            central.audit(
                "anonymous",
                "office_login_refused",
                &staff
                    .map(|s| format!("staff:{}", s.id))
                    .unwrap_or_else(|| "staff:?".into()),
                None,
            )?;
            return Ok(None);
        };
        let token = random_hex();
        let csrf = random_hex();
        let now = jiff::Timestamp::now();
        let expires = now
            .checked_add(jiff::SignedDuration::from_hours(SESSION_HOURS))
            .unwrap_or(now)
            .to_string();
        with_db(central, |db, _| {
            db.insert_office_session(
                &sha256(&token),
                &staff.id,
                &csrf,
                &now.to_string(),
                &expires,
            )?;
            db.audit(
                &now.to_string(),
                &format!("staff:{}", staff.id),
                "office_login",
                &format!("staff:{}", staff.id),
                None,
            )?;
            Ok(())
        })?;
        Ok(Some(token))
    })
    .await;
    match result {
        Ok(Some(token)) => {
            LOGIN_FAILURES.clear(&login_key);
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/office".to_owned()),
                    (
                        header::SET_COOKIE,
                        cookie_header(&headers, SESSION_COOKIE, &token, SESSION_HOURS * 3600),
                    ),
                ],
            )
                .into_response()
        }
        Ok(None) => {
            LOGIN_FAILURES.record(&login_key);
            ADDRESS_FAILURES.record(&peer.ip());
            login_page(
                &headers,
                Some(
                    tr(
                        lang,
                        "Nieprawidłowy login lub hasło.",
                        "Wrong login or password.",
                    )
                    .to_owned(),
                ),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(e) => error_response(lang, e),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = lang_of(&headers);
    let token = cookie(&headers, SESSION_COOKIE);
    let result = blocking(&state, move |central| {
        let ctx = session(central, token.as_deref(), lang)?;
        if !same_secret(
            form.get("csrf").map(String::as_str).unwrap_or_default(),
            &ctx.csrf,
        ) {
            return Err(OfficeError::BadCsrf);
        }
        let token = token.unwrap_or_default();
        with_db(central, |db, _| {
            db.delete_office_session(&sha256(&token))?;
            db.audit(
                &super::now_text(),
                &ctx.actor(),
                "office_logout",
                &ctx.actor(),
                None,
            )?;
            Ok(())
        })
    })
    .await;
    match result {
        Ok(()) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/office/login".to_owned()),
                (
                    header::SET_COOKIE,
                    cookie_header(&headers, SESSION_COOKIE, "", 0),
                ),
            ],
        )
            .into_response(),
        Err(e) => error_response(lang, e),
    }
}
