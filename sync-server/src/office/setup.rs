//! The first run: while the office has no active office admin, `blisko-server serve`
//! prints a one-time set-up link (`/office/setup/TOKEN`, valid 24 hours, a new one at each
//! start). Its page creates the first office admin; after that the link answers "not
//! found / already set up". The rules are the core's (`central::staff`).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use blisko_shared::i18n::Lang;

use super::auth::{random_hex, same_secret};
use super::{
    OfficeError, blocking, cookie, error_response, lang_of, layout, redirect, tr, with_db,
};
use crate::central::staff::{self as core, FirstAdmin};
use crate::http::AppState;

const SETUP_CSRF_COOKIE: &str = "blisko_office_setup";

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

fn gone(lang: Lang) -> Response {
    (
        StatusCode::NOT_FOUND,
        layout::error_page(
            lang,
            tr(
                lang,
                "Ten link nie działa: biuro jest już skonfigurowane albo link wygasł. Proszę się zalogować.",
                "This link does not work: the office is already set up, or the link has expired. Please log in.",
            ),
        ),
    )
        .into_response()
}

/// The set-up form; after a refusal (`typed`: the login and name sent), with the message
/// and what was typed, passwords excepted.
fn form_page(
    lang: Lang,
    token: &str,
    message: Option<String>,
    typed: (&str, &str),
    status: StatusCode,
) -> Response {
    let csrf = random_hex();
    let body = html! {
        h1 { (tr(lang, "Pierwsze uruchomienie: administrator biura", "First run: the office admin")) }
        p { (tr(lang, "Proszę utworzyć pierwsze konto administratora biura. Kolejne konta doda ono na stronie „Pracownicy”.",
                "Please create the first office admin account. It adds further accounts on the \"Staff\" page.")) }
        @if let Some(m) = &message { p.error role="alert" { (m) } }
        form.login method="post" action=(format!("/office/setup/{token}")) {
            input type="hidden" name="csrf" value=(csrf);
            label { (tr(lang, "Login", "Login")) input type="text" name="login" required maxlength="40" autocomplete="username" value=(typed.0); }
            label { (tr(lang, "Imię i nazwisko", "Name")) input type="text" name="name" required maxlength="100" value=(typed.1); }
            label { (tr(lang, "Hasło", "Password")) input type="password" name="password" required autocomplete="new-password"; }
            label { (tr(lang, "Hasło jeszcze raz", "Password again")) input type="password" name="repeat" required autocomplete="new-password"; }
            p.muted { (tr(lang, "Co najmniej 12 znaków; nie może to być popularne hasło ani jeden znak powtórzony.",
                          "At least 12 characters; not a common password, not one character repeated.")) }
            button type="submit" { (tr(lang, "Utwórz konto administratora", "Create the admin account")) }
        }
    };
    (
        status,
        [(
            header::SET_COOKIE,
            format!("{SETUP_CSRF_COOKIE}={csrf}; Path=/office/setup; HttpOnly; SameSite=Strict; Max-Age=3600"),
        )],
        layout::bare(lang, tr(lang, "Pierwsze uruchomienie", "First run"), body),
    )
        .into_response()
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let lang = lang_of(&headers);
    let check = token.clone();
    let valid = blocking(&state, move |central| {
        with_db(central, |db, _| Ok(core::setup_token_valid(db, &check)?))
    })
    .await;
    match valid {
        Ok(true) => form_page(lang, &token, None, ("", ""), StatusCode::OK),
        Ok(false) => gone(lang),
        Err(e) => error_response(lang, e),
    }
}

pub async fn create_admin(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Response {
    let lang = lang_of(&headers);
    let expected = cookie(&headers, SETUP_CSRF_COOKIE).unwrap_or_default();
    if !same_secret(&form.csrf, &expected) {
        return error_response(lang, OfficeError::BadCsrf);
    }
    let used = token.clone();
    let typed = (form.login.clone(), form.name.clone());
    let result = blocking(&state, move |central| {
        with_db(central, |db, _| {
            Ok(core::create_first_admin(
                db,
                &used,
                &FirstAdmin {
                    login: &form.login,
                    name: &form.name,
                    password: &form.password,
                    repeat: &form.repeat,
                },
            )?)
        })
    })
    .await;
    match result {
        Ok(_) => redirect("/office/login"),
        Err(OfficeError::Central(crate::central::CentralError::NotFound(_))) => gone(lang),
        Err(OfficeError::Central(crate::central::CentralError::Refused { pl, en })) => form_page(
            lang,
            &token,
            Some(format!(
                "{} {}",
                tr(lang, &pl, &en),
                tr(lang, "Nic nie zostało zmienione.", "Nothing was changed.")
            )),
            (&typed.0, &typed.1),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => error_response(lang, e),
    }
}
