//! The central office web page, served under `/office`: server-rendered HTML (maud), in
//! Polish with English available, no scripts and no external assets.
//!
//! Every page goes through [`page`] or [`action`]: the session cookie is checked against
//! the server-side session table, the role against the page's [`Perm`], a POST against its
//! CSRF token, and the office projection is brought up to date from the change feed, all
//! in one transaction on a blocking thread.

pub mod audit;
pub mod auth;
pub mod branches;
pub mod charts;
pub mod classes;
pub mod daily;
pub mod dates;
pub mod exports;
pub mod kiosks;
pub mod layout;
pub mod my_classes;
pub mod names;
pub mod overview;
pub mod people;
pub mod persons;
pub mod projection;
pub mod reconcile;
pub mod requests;
pub mod requests_queue;
pub mod roll_call;
pub mod setup;
pub mod sheets;
pub mod sms;
pub mod staff;

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;

use blisko_shared::hlc::HlcClock;
use blisko_shared::i18n::Lang;

use crate::central::{Central, CentralError};
use crate::http::AppState;
use crate::store::{Db, StaffRow, StoreError};

pub use auth::{Perm, Role};

/// The routes of the office page (merged into the server's router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/office", get(overview::get))
        .route("/office/", get(overview::get))
        .route("/office/style.css", get(layout::stylesheet))
        .route("/office/lang/{lang}", get(layout::set_lang))
        .route("/office/login", get(auth::login_form).post(auth::login))
        .route("/office/logout", post(auth::logout))
        .route("/office/requests", get(requests::list))
        .route(
            "/office/requests/{id}",
            get(requests::detail).post(requests::change_status),
        )
        .route("/office/classes", get(classes::list).post(classes::create))
        .route(
            "/office/classes/{id}",
            get(classes::detail).post(classes::edit),
        )
        .route(
            "/office/classes/{id}/sessions",
            post(classes::save_session_form),
        )
        .route(
            "/office/classes/{id}/allotments",
            post(classes::set_allotment),
        )
        .route(
            "/office/classes/{id}/sessions/{session}/print",
            get(exports::print_session),
        )
        .route(
            "/office/classes/{id}/sessions/{session}/roll-call",
            get(roll_call::page_get).post(roll_call::save),
        )
        .route("/office/export/roster/{id}", get(exports::roster_csv))
        .route(
            "/office/export/attendance/{id}",
            get(exports::attendance_csv),
        )
        .route("/office/export/requests", get(exports::requests_csv))
        .route("/office/charts", get(charts::page_get))
        .route("/office/persons", get(persons::search))
        .route("/office/persons/{id}", get(persons::detail))
        .route("/office/persons/{id}/erase", post(persons::erase))
        .route(
            "/office/persons/{id}/sms-withdraw",
            post(persons::withdraw_sms),
        )
        .route("/office/reconcile", get(reconcile::page_get))
        .route(
            "/office/reconcile/attendance",
            post(reconcile::resolve_attendance),
        )
        .route("/office/reconcile/persons", post(reconcile::decide_persons))
        .route("/office/reconcile/allotments", post(reconcile::rebalance))
        // Kiosks and the audit log.
        .route("/office/branches", get(branches::list).post(branches::add))
        .route(
            "/office/branches/{id}",
            get(branches::detail).post(branches::edit),
        )
        .route("/office/branches/{id}/staff", post(branches::set_staff))
        .route(
            "/office/branches/{id}/staff/{staff}/remove",
            post(branches::remove_staff),
        )
        .route("/office/kiosks", get(kiosks::list).post(kiosks::add))
        .route("/office/kiosks/{id}/rename", post(kiosks::rename))
        .route(
            "/office/kiosks/{id}/revoke",
            get(kiosks::revoke_confirm).post(kiosks::revoke),
        )
        .route("/office/kiosks/{id}/reenroll", post(kiosks::reenroll))
        .route("/office/kiosks/{id}/sheet", post(kiosks::sheet))
        .route("/office/audit", get(audit::page_get))
        .route("/office/sms", get(sms::page_get))
        .route("/office/sms/test", post(sms::send_test))
        // Staff accounts, one's own password, the first admin's set-up link.
        .route("/office/staff", get(staff::list).post(staff::add))
        .route("/office/staff/{id}", get(staff::detail).post(staff::edit))
        .route("/office/staff/{id}/disable", post(staff::disable))
        .route("/office/staff/{id}/enable", post(staff::enable))
        .route("/office/staff/{id}/password", post(staff::reset_password))
        .route(
            "/office/password",
            get(staff::password_form).post(staff::change_password),
        )
        .route(
            "/office/setup/{token}",
            get(setup::form).post(setup::create_admin),
        )
        // Lists, exports and search: spreadsheet (XLSX) exports beside the CSV ones.
        .route("/office/export/roster/{id}/xlsx", get(exports::roster_xlsx))
        .route(
            "/office/export/attendance/{id}/xlsx",
            get(exports::attendance_xlsx),
        )
        .route("/office/export/requests/xlsx", get(exports::requests_xlsx))
        // Requests as a caseworker's queue, and the roles' own pages.
        .route("/office/requests/{id}/assign", post(requests_queue::assign))
        .route(
            "/office/requests/{id}/pesel",
            post(requests_queue::show_pesel),
        )
        .route("/office/my-classes", get(my_classes::page_get))
        // Daily work: phone registrations, waiting lists, paper attendance, sessions.
        .route("/office/classes/{id}/daily", get(daily::page_get))
        .route("/office/classes/{id}/daily/register", post(daily::register))
        .route(
            "/office/classes/{id}/daily/receipt/{reg}",
            get(daily::receipt),
        )
        .route(
            "/office/classes/{id}/daily/cancel/{reg}",
            get(daily::cancel_confirm).post(daily::cancel),
        )
        .route(
            "/office/classes/{id}/daily/confirm/{reg}",
            post(daily::confirm_seat),
        )
        .route("/office/classes/{id}/daily/phones", post(daily::phones))
        .route(
            "/office/classes/{id}/daily/attendance",
            get(daily::grid_get).post(daily::grid_save),
        )
        .route(
            "/office/classes/{id}/daily/sessions",
            post(daily::add_session),
        )
        .route(
            "/office/classes/{id}/daily/sessions/generate",
            post(daily::generate),
        )
        .route(
            "/office/classes/{id}/daily/sessions/{session}/cancel",
            post(daily::cancel_session),
        )
        .route(
            "/office/classes/{id}/daily/sessions/{session}/restore",
            post(daily::restore_session),
        )
        .route(
            "/office/classes/{id}/daily/sessions/{session}/delete",
            post(daily::delete_session),
        )
        .layer(middleware::from_fn(security_headers))
}

/// Headers for every office answer: no framing, no sniffing, no caching of personal
/// data, and a content policy that allows nothing but this server's own stylesheet.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Why an office request failed. Each variant is shown as a page in the visitor's
/// language; `Invalid` says what to correct and that nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("this role may not do that")]
    Forbidden,
    #[error("the form has expired or was not sent from this page")]
    BadCsrf,
    #[error("not found: {0}")]
    NotFound(String),
    /// An object of another branch than the account's: answered as not found (nothing
    /// about it is shown) and audited as `office_forbidden_branch` with its kind and id.
    #[error("not found: {kind}:{id}")]
    OtherBranch { kind: &'static str, id: String },
    /// A class this instructor does not lead: refused (403) and audited as
    /// `office_forbidden` with the class and the page.
    #[error("not the instructor of class {class}")]
    NotOwnClass { class: String, perm: Perm },
    #[error("{en}")]
    Invalid { pl: String, en: String },
    #[error("too many log-in attempts")]
    RateLimited(std::time::Duration),
    /// The account has a temporary password: it may only change it.
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    #[error(transparent)]
    Central(#[from] CentralError),
}

impl From<StoreError> for OfficeError {
    fn from(e: StoreError) -> Self {
        OfficeError::Central(CentralError::Store(e))
    }
}

impl From<blisko_shared::docs::DocError> for OfficeError {
    fn from(e: blisko_shared::docs::DocError) -> Self {
        OfficeError::Central(CentralError::Document(e))
    }
}

pub type OResult<T> = Result<T, OfficeError>;

/// A refusal of bad input, in both languages.
pub fn invalid(pl: impl Into<String>, en: impl Into<String>) -> OfficeError {
    OfficeError::Invalid {
        pl: pl.into(),
        en: en.into(),
    }
}

/// Who is asking and in which language.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub staff: StaffRow,
    pub role: Role,
    pub csrf: String,
    pub lang: Lang,
    /// The SHA-256 of this visitor's session token (their session stays when they change
    /// their password; the others end).
    pub session_hash: Vec<u8>,
}

impl Ctx {
    /// Pick the text of the visitor's language.
    pub fn t<'a>(&self, pl: &'a str, en: &'a str) -> &'a str {
        tr(self.lang, pl, en)
    }

    /// "staff:<id>", the actor of audit records.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.staff.id)
    }

    /// The branch this account is limited to, if any.
    pub fn branch(&self) -> Option<&str> {
        self.staff.branch_id.as_deref()
    }

    /// Whether this account may see data of `branch`.
    pub fn sees_branch(&self, branch: &str) -> bool {
        self.branch().is_none_or(|b| b == branch)
    }

    pub fn can(&self, perm: Perm) -> bool {
        self.role.can(perm)
    }

    /// `Ok` when the account sees `branch`; otherwise an [`OfficeError::OtherBranch`]
    /// naming the object (`kind`, `id`) it asked for.
    pub fn in_branch(&self, branch: &str, kind: &'static str, id: impl ToString) -> OResult<()> {
        if self.sees_branch(branch) {
            Ok(())
        } else {
            Err(OfficeError::OtherBranch {
                kind,
                id: id.to_string(),
            })
        }
    }
}

pub fn tr<'a>(lang: Lang, pl: &'a str, en: &'a str) -> &'a str {
    match lang {
        Lang::Pl => pl,
        Lang::En => en,
    }
}

/// What a page handler produces.
pub enum Out {
    Page {
        title: String,
        body: Markup,
    },
    /// A page without navigation, for printing.
    Print {
        title: String,
        body: Markup,
    },
    Download {
        /// ASCII only (the `filename` parameter).
        filename: String,
        /// The name with its Polish letters, for browsers that read `filename*`.
        utf8_name: Option<String>,
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    Redirect(String),
    /// A page shown again after a refused action (status 400): the form keeps what was
    /// typed and says what to correct.
    Refused {
        title: String,
        body: Markup,
    },
}

impl Out {
    /// A page, or the same page shown again after a refusal (`refused`).
    pub fn page_or_refused(title: String, body: Markup, refused: bool) -> Out {
        if refused {
            Out::Refused { title, body }
        } else {
            Out::Page { title, body }
        }
    }
}

/// What a refusal says above the form that caused it (none for an answer of its own,
/// such as the log-in redirect).
pub fn refusal_text(lang: Lang, error: Option<&OfficeError>) -> Option<String> {
    error
        .and_then(|e| error_text(lang, e).ok())
        .map(|(_, message)| message)
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, layout::LANG_COOKIE)
        .and_then(|l| l.parse().ok())
        .unwrap_or_default()
}

/// Run `f` on the store on a blocking thread.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Central) -> OResult<T> + Send + 'static,
) -> OResult<T> {
    state
        .with_central(move |central| crate::central::contain_panics(|| f(central)))
        .await
        .map_err(|e| OfficeError::Central(CentralError::Internal(format!("task failed: {e}"))))?
}

/// A GET page: the visitor must be logged in with a role that has `perm`.
pub async fn page(
    state: &AppState,
    headers: &HeaderMap,
    perm: Perm,
    f: impl FnOnce(&Db<'_>, &mut HlcClock, &Ctx) -> OResult<Out> + Send + 'static,
) -> Response {
    let token = cookie(headers, auth::SESSION_COOKIE);
    let lang = lang_of(headers);
    let result = blocking(state, move |central| {
        let ctx = auth::session(central, token.as_deref(), lang)?;
        if ctx.staff.must_change_password && perm != Perm::OwnPassword {
            return Err(OfficeError::PasswordChangeRequired);
        }
        if !ctx.can(perm) {
            central.audit(&ctx.actor(), "office_forbidden", perm.code(), None)?;
            return Ok((ctx, Err(OfficeError::Forbidden)));
        }
        let out = with_db(central, |db, clock| {
            projection::refresh(db)?;
            f(db, clock, &ctx)
        });
        audit_refusal(central, &ctx, &out)?;
        Ok((ctx, out))
    })
    .await;
    respond(lang, result)
}

/// A POST action: like [`page`], and the form's `csrf` field must match the session's.
pub async fn action(
    state: &AppState,
    headers: &HeaderMap,
    perm: Perm,
    form: HashMap<String, String>,
    f: impl FnOnce(&Db<'_>, &mut HlcClock, &Ctx, &HashMap<String, String>) -> OResult<Out>
    + Send
    + 'static,
) -> Response {
    action_or_form(state, headers, perm, form, f, None).await
}

/// Shows a form again after a refusal: the page with the typed values and the error.
pub type Redisplay =
    Box<dyn FnOnce(&Db<'_>, &Ctx, &HashMap<String, String>, &OfficeError) -> OResult<Out> + Send>;

/// A POST action whose refusal (bad input, a rule of the core) shows the form again
/// through `redisplay`, keeping what was typed, instead of a bare error page. The refused
/// action's transaction is rolled back; the form is drawn in a new one.
pub async fn action_or_form(
    state: &AppState,
    headers: &HeaderMap,
    perm: Perm,
    form: HashMap<String, String>,
    f: impl FnOnce(&Db<'_>, &mut HlcClock, &Ctx, &HashMap<String, String>) -> OResult<Out>
    + Send
    + 'static,
    redisplay: Option<Redisplay>,
) -> Response {
    let token = cookie(headers, auth::SESSION_COOKIE);
    let lang = lang_of(headers);
    let result = blocking(state, move |central| {
        let ctx = auth::session(central, token.as_deref(), lang)?;
        let sent = form.get("csrf").map(String::as_str).unwrap_or_default();
        if !auth::same_secret(sent, &ctx.csrf) {
            central.audit(&ctx.actor(), "office_bad_csrf", perm.code(), None)?;
            return Ok((ctx, Err(OfficeError::BadCsrf)));
        }
        if ctx.staff.must_change_password && perm != Perm::OwnPassword {
            return Err(OfficeError::PasswordChangeRequired);
        }
        if !ctx.can(perm) {
            central.audit(&ctx.actor(), "office_forbidden", perm.code(), None)?;
            return Ok((ctx, Err(OfficeError::Forbidden)));
        }
        let out = with_db(central, |db, clock| {
            projection::refresh(db)?;
            f(db, clock, &ctx, &form)
        });
        audit_refusal(central, &ctx, &out)?;
        let out = match (out, redisplay) {
            (Err(e), Some(redisplay)) if correctable(&e) => with_db(central, |db, _| {
                projection::refresh(db)?;
                redisplay(db, &ctx, &form, &e)
            }),
            (out, _) => out,
        };
        Ok((ctx, out))
    })
    .await;
    respond(lang, result)
}

/// Whether a refusal is about the input, so the form is worth showing again.
fn correctable(e: &OfficeError) -> bool {
    matches!(
        e,
        OfficeError::Invalid { .. }
            | OfficeError::Central(CentralError::Refused { .. } | CentralError::BadRequest(_))
    )
}

/// An object of another branch, or another instructor's class, was asked for: record
/// who asked and for what (the kind and id only), after the page's own transaction was
/// rolled back.
fn audit_refusal(central: &mut Central, ctx: &Ctx, out: &OResult<Out>) -> OResult<()> {
    match out {
        Err(OfficeError::OtherBranch { kind, id }) => central.audit(
            &ctx.actor(),
            "office_forbidden_branch",
            &format!("{kind}:{id}"),
            None,
        )?,
        Err(OfficeError::NotOwnClass { class, perm }) => central.audit(
            &ctx.actor(),
            "office_forbidden",
            &format!("class:{class}"),
            Some(perm.code()),
        )?,
        _ => {}
    }
    Ok(())
}

/// One write transaction: committed when `f` succeeds, rolled back otherwise. `f` also
/// gets the office's clock (for stamps of the documents it writes).
pub fn with_db<T>(
    central: &mut Central,
    f: impl FnOnce(&Db<'_>, &mut HlcClock) -> OResult<T>,
) -> OResult<T> {
    let db = central.store.write()?;
    crate::central::catch_up_clock(&db, &mut central.clock)?;
    let before = central.clock.last();
    let value = f(&db, &mut central.clock)?;
    // Only a page that stamped something writes the clock (a read stays a read).
    if central.clock.last() != before {
        db.set_meta("hlc", &central.clock.last().to_string())?;
    }
    db.commit()?;
    Ok(value)
}

fn respond(lang: Lang, result: OResult<(Ctx, OResult<Out>)>) -> Response {
    let (ctx, out) = match result {
        Ok(answer) => answer,
        Err(e) => return error_response(lang, e),
    };
    match out {
        Ok(Out::Page { title, body }) => layout::page(&ctx, &title, body).into_response(),
        Ok(Out::Refused { title, body }) => {
            (StatusCode::BAD_REQUEST, layout::page(&ctx, &title, body)).into_response()
        }
        Ok(Out::Print { title, body }) => layout::print(&ctx, &title, body).into_response(),
        Ok(Out::Download {
            filename,
            utf8_name,
            content_type,
            bytes,
        }) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    content_disposition(&filename, utf8_name.as_deref()),
                ),
            ],
            Body::from(bytes),
        )
            .into_response(),
        Ok(Out::Redirect(to)) => redirect(&to),
        Err(e) => match error_text(lang, &e) {
            Ok((status, message)) => {
                (status, layout::error_in_page(&ctx, &message)).into_response()
            }
            Err(response) => *response,
        },
    }
}

/// `attachment; filename="ascii.csv"; filename*=UTF-8''%C5%82...` (RFC 6266 with the
/// RFC 5987 encoding): the ASCII name for old clients, the real one for the rest.
pub fn content_disposition(ascii: &str, utf8: Option<&str>) -> String {
    let plain: String = ascii
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut out = format!("attachment; filename=\"{plain}\"");
    if let Some(name) = utf8 {
        out.push_str("; filename*=UTF-8''");
        for b in name.bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

pub fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

pub fn error_response(lang: Lang, e: OfficeError) -> Response {
    match error_text(lang, &e) {
        Ok((status, message)) => (status, layout::error_page(lang, &message)).into_response(),
        Err(response) => *response,
    }
}

/// What an error page says, with its status; `Err` for an answer of its own (the log-in
/// redirect, the rate limit).
pub fn error_text(lang: Lang, e: &OfficeError) -> Result<(StatusCode, String), Box<Response>> {
    let (status, pl, en) = match e {
        OfficeError::NotLoggedIn => return Err(Box::new(redirect("/office/login"))),
        OfficeError::PasswordChangeRequired => {
            return Err(Box::new(redirect(auth::PASSWORD_PAGE)));
        }
        OfficeError::Forbidden => (
            StatusCode::FORBIDDEN,
            "Ta rola nie daje dostępu do tej strony.".to_owned(),
            "Your role does not give access to this page.".to_owned(),
        ),
        OfficeError::NotOwnClass { .. } => (
            StatusCode::FORBIDDEN,
            "Obecność na tych zajęciach sprawdza ich prowadzący; ta strona jest dostępna tylko dla Pani/Pana zajęć.".to_owned(),
            "The roll call of this class is taken by its instructor; this page is open only for your own classes.".to_owned(),
        ),
        OfficeError::BadCsrf => (
            StatusCode::FORBIDDEN,
            "Formularz wygasł albo nie pochodzi z tej strony. Odśwież stronę i spróbuj ponownie; nic nie zostało zmienione.".to_owned(),
            "The form has expired or was not sent from this page. Reload the page and try again; nothing was changed.".to_owned(),
        ),
        OfficeError::NotFound(what) => (
            StatusCode::NOT_FOUND,
            format!("Nie znaleziono: {what}."),
            format!("Not found: {what}."),
        ),
        OfficeError::OtherBranch { kind, id } => (
            StatusCode::NOT_FOUND,
            format!("Nie znaleziono: {kind} {id}."),
            format!("Not found: {kind} {id}."),
        ),
        OfficeError::Invalid { pl, en } => (
            StatusCode::BAD_REQUEST,
            format!("{pl} Nic nie zostało zmienione."),
            format!("{en} Nothing was changed."),
        ),
        OfficeError::RateLimited(wait) => {
            let seconds = crate::limits::retry_after_seconds(*wait);
            let message = if seconds < 120 {
                (
                    format!("Zbyt wiele nieudanych prób logowania. Proszę spróbować ponownie za {seconds} s."),
                    format!("Too many failed log-in attempts. Try again in {seconds} s."),
                )
            } else {
                let minutes = seconds.div_ceil(60);
                (
                    format!("Zbyt wiele nieudanych prób logowania. Proszę spróbować ponownie za {minutes} min."),
                    format!("Too many failed log-in attempts. Try again in {minutes} min."),
                )
            };
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                layout::error_page(lang, if lang == Lang::Pl { &message.0 } else { &message.1 }),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            return Err(Box::new(response));
        }
        OfficeError::Central(inner) => match inner {
            CentralError::Refused { pl, en } => (
                StatusCode::BAD_REQUEST,
                format!("{pl} Nic nie zostało zmienione."),
                format!("{en} Nothing was changed."),
            ),
            CentralError::BadRequest(m) | CentralError::Forbidden(m) => (
                StatusCode::BAD_REQUEST,
                format!("Odmowa: {m}. Nic nie zostało zmienione."),
                format!("Refused: {m}. Nothing was changed."),
            ),
            CentralError::NotFound(m) => (
                StatusCode::NOT_FOUND,
                format!("Nie znaleziono: {m}."),
                format!("Not found: {m}."),
            ),
            other => {
                tracing::error!(error = %other, "office request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Błąd serwera; nic nie zostało zmienione.".to_owned(),
                    "Server error; nothing was changed.".to_owned(),
                )
            }
        },
    };
    let message = match lang {
        Lang::Pl => pl,
        Lang::En => en,
    };
    Ok((status, message))
}

/// A form's fields as its typed struct (`#[derive(Deserialize)]`); a missing or malformed
/// field is a clear refusal that names nothing personal.
pub fn typed<T: serde::de::DeserializeOwned>(form: &HashMap<String, String>) -> OResult<T> {
    serde_json::to_value(form)
        .and_then(serde_json::from_value)
        .map_err(|_| {
            invalid(
                "Formularz jest niekompletny albo zawiera nieprawidłową wartość.",
                "The form is incomplete or holds a value that is not valid.",
            )
        })
}

/// A form field, trimmed; empty counts as missing.
pub fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    form.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// A required field, or a clear refusal naming it.
pub fn required<'a>(
    form: &'a HashMap<String, String>,
    name: &str,
    label_pl: &str,
    label_en: &str,
) -> OResult<&'a str> {
    field(form, name).ok_or_else(|| {
        invalid(
            format!("Pole „{label_pl}” jest wymagane."),
            format!("The field \"{label_en}\" is required."),
        )
    })
}

/// Parse an id from a path or form, refusing anything else with a clear message.
pub fn parse_id<T: std::str::FromStr>(text: &str, what_pl: &str, what_en: &str) -> OResult<T> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("Nieprawidłowy identyfikator: {what_pl}."),
            format!("Not a valid id: {what_en}."),
        )
    })
}

/// Names of branches by id.
pub fn branch_names(db: &Db<'_>) -> OResult<HashMap<String, String>> {
    Ok(db
        .branches()?
        .into_iter()
        .map(|b| (b.id.to_string(), b.name))
        .collect())
}

/// The current time as stored in the audit log.
pub fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}
