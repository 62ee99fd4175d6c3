//! The central office web page, served under `/office`: server-rendered HTML (maud), in
//! Polish with English available, no scripts and no external assets.
//!
//! Every page goes through [`page`] or [`action`]: the session cookie is checked against
//! the server-side session table, the role against the page's [`Perm`], a POST against its
//! CSRF token, and the office projection is brought up to date from the change feed, all
//! in one transaction on a blocking thread.

pub mod auth;
pub mod charts;
pub mod classes;
pub mod daily;
pub mod exports;
pub mod kiosks;
pub mod layout;
pub mod overview;
pub mod persons;
pub mod projection;
pub mod reconcile;
pub mod requests;

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
        .route("/office/reconcile", get(reconcile::page_get))
        .route(
            "/office/reconcile/attendance",
            post(reconcile::resolve_attendance),
        )
        .route("/office/reconcile/persons", post(reconcile::decide_persons))
        .route("/office/reconcile/allotments", post(reconcile::rebalance))
        .route("/office/kiosks/{id}/reenroll", post(kiosks::reenroll))
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
    #[error("{en}")]
    Invalid { pl: String, en: String },
    #[error("too many log-in attempts")]
    RateLimited(std::time::Duration),
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
        filename: String,
        content_type: &'static str,
        bytes: Vec<u8>,
    },
    Redirect(String),
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
        if !ctx.can(perm) {
            central.audit(&ctx.actor(), "office_forbidden", perm.code(), None)?;
            return Err(OfficeError::Forbidden);
        }
        let out = with_db(central, |db, clock| {
            projection::refresh(db)?;
            f(db, clock, &ctx)
        })?;
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
    let token = cookie(headers, auth::SESSION_COOKIE);
    let lang = lang_of(headers);
    let result = blocking(state, move |central| {
        let ctx = auth::session(central, token.as_deref(), lang)?;
        let sent = form.get("csrf").map(String::as_str).unwrap_or_default();
        if !auth::same_secret(sent, &ctx.csrf) {
            central.audit(&ctx.actor(), "office_bad_csrf", perm.code(), None)?;
            return Err(OfficeError::BadCsrf);
        }
        if !ctx.can(perm) {
            central.audit(&ctx.actor(), "office_forbidden", perm.code(), None)?;
            return Err(OfficeError::Forbidden);
        }
        let out = with_db(central, |db, clock| {
            projection::refresh(db)?;
            f(db, clock, &ctx, &form)
        })?;
        Ok((ctx, out))
    })
    .await;
    respond(lang, result)
}

/// One write transaction: committed when `f` succeeds, rolled back otherwise. `f` also
/// gets the office's clock (for stamps of the documents it writes).
pub fn with_db<T>(
    central: &mut Central,
    f: impl FnOnce(&Db<'_>, &mut HlcClock) -> OResult<T>,
) -> OResult<T> {
    let db = central.store.write()?;
    let before = central.clock.last();
    let value = f(&db, &mut central.clock)?;
    // Only a page that stamped something writes the clock (a read stays a read).
    if central.clock.last() != before {
        db.set_meta("hlc", &central.clock.last().to_string())?;
    }
    db.commit()?;
    Ok(value)
}

fn respond(lang: Lang, result: OResult<(Ctx, Out)>) -> Response {
    match result {
        Ok((ctx, out)) => match out {
            Out::Page { title, body } => layout::page(&ctx, &title, body).into_response(),
            Out::Print { title, body } => layout::print(&ctx, &title, body).into_response(),
            Out::Download {
                filename,
                content_type,
                bytes,
            } => (
                [
                    (header::CONTENT_TYPE, content_type.to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{filename}\""),
                    ),
                ],
                Body::from(bytes),
            )
                .into_response(),
            Out::Redirect(to) => redirect(&to),
        },
        Err(e) => error_response(lang, e),
    }
}

pub fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

pub fn error_response(lang: Lang, e: OfficeError) -> Response {
    let (status, pl, en) = match &e {
        OfficeError::NotLoggedIn => return redirect("/office/login"),
        OfficeError::Forbidden => (
            StatusCode::FORBIDDEN,
            "Twoja rola nie daje dostępu do tej strony.".to_owned(),
            "Your role does not give access to this page.".to_owned(),
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
        OfficeError::Invalid { pl, en } => (
            StatusCode::BAD_REQUEST,
            format!("{pl} Nic nie zostało zmienione."),
            format!("{en} Nothing was changed."),
        ),
        OfficeError::RateLimited(wait) => {
            let seconds = crate::limits::retry_after_seconds(*wait);
            let minutes = seconds.div_ceil(60);
            let message = (
                format!("Zbyt wiele nieudanych prób logowania. Spróbuj ponownie za {minutes} min."),
                format!("Too many failed log-in attempts. Try again in {minutes} min."),
            );
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                layout::error_page(lang, if lang == Lang::Pl { &message.0 } else { &message.1 }),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            return response;
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
    (status, layout::error_page(lang, &message)).into_response()
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

/// A stored HLC stamp ("000001732...-000...-kiosk") as a local date and time.
pub fn stamp_time(stamp: &str) -> String {
    stamp
        .split('-')
        .next()
        .and_then(|ms| ms.parse::<i64>().ok())
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| stamp.to_owned())
}

/// An RFC 3339 time as a local date and time.
pub fn iso_time(text: &str) -> String {
    text.parse::<jiff::Timestamp>()
        .map(|t| {
            t.to_zoned(jiff::tz::TimeZone::system())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| text.to_owned())
}
