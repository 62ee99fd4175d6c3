//! Staff accounts, log-in, sessions, CSRF tokens, log-in rate limits and roles.
//!
//! Passwords are kept as argon2id hashes. A session is a random 256-bit token in an
//! HttpOnly, SameSite=Strict cookie (Secure when served over TLS); the server keeps only
//! its SHA-256, with the staff id, a CSRF token and an expiry. Failed log-ins delay the
//! next try of the same login more and more (up to a minute, so nobody can lock an
//! account's owner out), and are counted per client address, which past its limit waits
//! for the window to pass. The client address is the socket's, or what a trusted proxy
//! says (`serve --trusted-proxy`). An account with a temporary password may only change it.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use rand::Rng;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use blisko_shared::i18n::Lang;
use blisko_shared::model::StaffRole;

use super::{
    Ctx, OResult, OfficeError, blocking, cookie, error_response, lang_of, layout, tr, with_db,
};
use crate::central::Central;
use crate::central::staff::{hash_password, verify_password};
use crate::http::AppState;
use crate::limits::{Backoff, FailureLimit, client_address};
use crate::metrics;

pub const SESSION_COOKIE: &str = "blisko_office";
/// Where an account with a temporary password is sent, and may only be.
pub const PASSWORD_PAGE: &str = "/office/password";
const LOGIN_CSRF_COOKIE: &str = "blisko_office_login";
const SESSION_HOURS: i64 = 8;
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed log-ins per login that cost no wait; each further one doubles the wait before
/// the next try (1, 2, 4, … s), up to [`MAX_LOGIN_DELAY`].
pub const FREE_FAILURES_PER_LOGIN: u32 = 3;
pub const MAX_LOGIN_DELAY: Duration = Duration::from_secs(60);
/// Failed log-ins allowed per client address in the window.
pub const MAX_FAILURES_PER_ADDRESS: usize = 20;

/// What a page or action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Any logged-in account.
    Any,
    Overview,
    ClassesView,
    ClassesEdit,
    PrintAttendance,
    ExportClasses,
    Requests,
    Charts,
    Persons,
    Reconcile,
    /// The kiosks page: add, rename, revoke, new enrollment codes.
    Kiosks,
    /// The audit log page.
    Audit,
    /// Staff accounts: add, edit, disable, reset a password.
    Staff,
    /// One's own password: every logged-in account, also one with a temporary password.
    OwnPassword,
    /// An instructor's own classes.
    MyClasses,
    /// A request's PESEL, for the decision (each reading audited).
    ReadPesel,
    /// Registrations taken on the phone, cancelled or confirmed from the waiting list.
    Registrations,
    /// Attendance typed in from a signed paper list.
    PaperAttendance,
    /// The roll call of one session: an instructor only of their own classes (checked on
    /// the page, [`OfficeError::NotOwnClass`](super::OfficeError::NotOwnClass)), the roles
    /// with [`Perm::PaperAttendance`] of every class they see.
    RollCall,
    /// The waiting list's phone numbers (an audited read).
    WaitlistPhones,
    /// The SMS outbox (the test message needs [`Perm::Staff`]).
    Sms,
    /// Branch points: add one, change its details, its kiosk staff's PINs.
    Branches,
}

impl Perm {
    pub fn code(self) -> &'static str {
        match self {
            Perm::Any => "page:any",
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
            Perm::Audit => "page:audit",
            Perm::Staff => "page:staff",
            Perm::OwnPassword => "page:password",
            Perm::MyClasses => "page:my_classes",
            Perm::ReadPesel => "action:read_pesel",
            Perm::Registrations => "page:registrations",
            Perm::PaperAttendance => "page:paper_attendance",
            Perm::RollCall => "page:roll_call",
            Perm::WaitlistPhones => "page:waitlist_phones",
            Perm::Sms => "page:sms",
            Perm::Branches => "page:branches",
        }
    }
}

/// A staff role (see docs/design.md): what it may see and do on the office page.
///
/// | | instructor | branch staff | organizer | office admin |
/// |---|---|---|---|---|
/// | classes, rosters, printable lists | yes | yes | yes | yes |
/// | overview, charts, roster/attendance CSV | | yes | yes | yes |
/// | create and edit classes, sessions, allotments | | | yes | yes |
/// | requests (wnioski), their CSV | | | yes | yes |
/// | reconciliation | | | yes | yes |
/// | a person's page, erase | | | | yes |
/// | kiosks (add, rename, revoke, new codes), the audit log | | | | yes |
/// | branches (add, details, kiosk staff PINs) | | | | yes |
/// | staff accounts | | | | yes |
/// | one's own password | yes | yes | yes | yes |
/// | "my classes" (their own classes by name) | yes | | | |
/// | a request's PESEL ("Pokaż PESEL", audited) | | | yes | yes |
/// | phone registrations, cancellations, waiting list, its phone numbers | | | yes | yes |
/// | attendance from a paper list | | yes | yes | yes |
/// | the roll call of one session | their own classes | yes | yes | yes |
/// | the SMS outbox | | | yes | yes |
/// | a test SMS | | | | yes |
///
/// An account with a branch sees only that branch's classes and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Role(pub StaffRole);

impl Role {
    pub fn can(self, perm: Perm) -> bool {
        use Perm::*;
        match self.0 {
            StaffRole::Instructor => {
                matches!(
                    perm,
                    Any | ClassesView | PrintAttendance | MyClasses | OwnPassword | RollCall
                )
            }
            StaffRole::BranchStaff => matches!(
                perm,
                Any | Overview
                    | ClassesView
                    | PrintAttendance
                    | ExportClasses
                    | Charts
                    | OwnPassword
                    | PaperAttendance
                    | RollCall
            ),
            StaffRole::Organizer => !matches!(
                perm,
                Persons | Kiosks | Audit | Staff | MyClasses | Branches
            ),
            StaffRole::OfficeAdmin => !matches!(perm, MyClasses),
        }
    }

    /// Where the role starts: after log-in, from "/office", and from an error page.
    pub fn landing(self) -> &'static str {
        match self.0 {
            StaffRole::Instructor => "/office/my-classes",
            StaffRole::BranchStaff | StaffRole::Organizer | StaffRole::OfficeAdmin => "/office",
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

pub(crate) fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(crate) fn sha256(text: &str) -> Vec<u8> {
    Sha256::digest(text.as_bytes()).to_vec()
}

/// Compare two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len()
        && !b.is_empty()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A hash to verify against when the login is unknown, so both cases take as long.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password("not a password of anyone").unwrap_or_default());

/// The logged-in visitor behind a session cookie.
pub fn session(central: &mut Central, token: Option<&str>, lang: Lang) -> OResult<Ctx> {
    let token = token
        .filter(|t| t.len() == 64)
        .ok_or(OfficeError::NotLoggedIn)?;
    let now = super::now_text();
    let session_hash = sha256(token);
    let row = with_db(central, |db, _| Ok(db.office_session(&session_hash, &now)?))?
        .ok_or(OfficeError::NotLoggedIn)?;
    let role = StaffRole::from_code(&row.staff.role).ok_or(OfficeError::Forbidden)?;
    Ok(Ctx {
        staff: row.staff,
        role: Role(role),
        csrf: row.csrf,
        lang,
        session_hash,
    })
}

/// Consecutive failed log-ins per login (as typed, lower-case) and client address, kept
/// in memory: a growing delay, never a lock. Someone guessing from another address never
/// holds back the owner, and one address's guesses are also capped by [`ADDRESS_FAILURES`].
static LOGIN_BACKOFF: LazyLock<Backoff<(String, IpAddr)>> =
    LazyLock::new(|| Backoff::new(FREE_FAILURES_PER_LOGIN, MAX_LOGIN_DELAY));
/// Failed log-ins per client address (see [`client_address`]) in a window.
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
pub fn over_tls(headers: &HeaderMap) -> bool {
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

/// The log-in form. Missing fields are empty (and refused as such).
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
}

/// What a log-in attempt came to.
enum LoginOutcome {
    /// A new session's token, and where the account goes first: the password page for a
    /// temporary password, else its role's landing page.
    Success {
        token: String,
        landing: &'static str,
    },
    Refused,
    Wait(Duration),
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_secret(&form.csrf, &expected) {
        return error_response(lang, OfficeError::BadCsrf);
    }
    let address = client_address(peer.ip(), &headers);
    // Checked, verified and counted in one turn on the store, so tries sent at once are
    // still counted one after another.
    let result = blocking(&state, move |central| {
        let login = form.login.trim().to_owned();
        // Logins are at most 40 characters: a longer text is cut, so what is kept per
        // failure stays small whatever is sent.
        let login_key = (
            login.to_lowercase().chars().take(64).collect::<String>(),
            address,
        );
        let staff = with_db(central, |db, _| Ok(db.staff_by_login(&login)?))?;
        let subject = staff
            .as_ref()
            .map(|s| format!("staff:{}", s.id))
            .unwrap_or_else(|| "staff:?".into());
        let detail = format!("address: {address}");
        let wait = LOGIN_BACKOFF
            .retry_after(&login_key)
            .max(ADDRESS_FAILURES.retry_after(&address));
        if let Some(wait) = wait {
            central.audit("anonymous", "office_login_limited", &subject, Some(&detail))?;
            return Ok(LoginOutcome::Wait(wait));
        }
        let ok = match &staff {
            Some(s) => verify_password(&form.password, &s.password_hash) && !s.disabled,
            None => {
                verify_password(&form.password, &DUMMY_HASH);
                false
            }
        };
        let Some(staff) = staff.filter(|_| ok) else {
            LOGIN_BACKOFF.record(&login_key);
            ADDRESS_FAILURES.record(&address);
            // The login typed is not recorded (it may be someone's password typed in the
            // wrong field): only the account it names, if any, and the address.
            central.audit("anonymous", "office_login_refused", &subject, Some(&detail))?;
            return Ok(LoginOutcome::Refused);
        };
        LOGIN_BACKOFF.clear(&login_key);
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
            db.set_staff_last_login(&staff.id, &now.to_string())?;
            db.audit(
                &now.to_string(),
                &format!("staff:{}", staff.id),
                "office_login",
                &format!("staff:{}", staff.id),
                Some(&detail),
            )?;
            Ok(())
        })?;
        let landing = if staff.must_change_password {
            PASSWORD_PAGE
        } else {
            StaffRole::from_code(&staff.role).map_or("/office", |r| Role(r).landing())
        };
        Ok(LoginOutcome::Success { token, landing })
    })
    .await;
    let counted = match &result {
        Ok(LoginOutcome::Success { .. }) => Some(metrics::LoginOutcome::Ok),
        Ok(LoginOutcome::Refused) => Some(metrics::LoginOutcome::Refused),
        Ok(LoginOutcome::Wait(_)) => Some(metrics::LoginOutcome::Limited),
        Err(_) => None,
    };
    if let Some(outcome) = counted {
        state.metrics.office_login(outcome);
    }
    match result {
        Ok(LoginOutcome::Success { token, landing }) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, landing.to_owned()),
                (
                    header::SET_COOKIE,
                    cookie_header(&headers, SESSION_COOKIE, &token, SESSION_HOURS * 3600),
                ),
            ],
        )
            .into_response(),
        Ok(LoginOutcome::Refused) => login_page(
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
        ),
        Ok(LoginOutcome::Wait(wait)) => error_response(lang, OfficeError::RateLimited(wait)),
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
