//! Staff accounts on the office page (office admins): the list, a new account with a
//! temporary password shown once, editing name, role and branch, disabling and enabling,
//! and a password reset to a new temporary password. Also every account's own "change
//! password" page, where an account with a temporary password is kept until it changes
//! it. The rules are the core's (`central::staff`), as for `blisko-server staff add`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use blisko_shared::ids::{BranchId, StaffId};
use blisko_shared::model::StaffRole;

use super::layout::csrf;
use super::{
    Ctx, OResult, OfficeError, Out, Perm, Redisplay, Role, action, action_or_form, branch_names,
    page, parse_id, typed,
};
use crate::central::staff::{self as core, InitialPassword, NewStaff, PasswordChange, StaffEdit};
use crate::http::AppState;
use crate::store::{Db, StaffRow};

const ROLES: [StaffRole; 4] = [
    StaffRole::Instructor,
    StaffRole::BranchStaff,
    StaffRole::Organizer,
    StaffRole::OfficeAdmin,
];

/// "" (all branches) or a branch id.
fn branch_choice(text: &str) -> OResult<Option<BranchId>> {
    match text.trim() {
        "" => Ok(None),
        id => parse_id(id, "punkt", "branch").map(Some),
    }
}

#[derive(Debug, Deserialize)]
struct AccountForm {
    #[serde(default)]
    login: String,
    name: String,
    role: StaffRole,
    #[serde(default)]
    branch: String,
}

#[derive(Debug, Deserialize)]
struct OwnPasswordForm {
    current: String,
    new: String,
    repeat: String,
}

fn role_select(ctx: &Ctx, selected: Option<&str>) -> Markup {
    html! {
        select name="role" required {
            @for role in ROLES {
                option value=(role.code()) selected[selected == Some(role.code())] { (Role(role).label(ctx.lang)) }
            }
        }
    }
}

fn branch_select(ctx: &Ctx, db: &Db<'_>, selected: Option<&str>) -> OResult<Markup> {
    let branches = db.branches()?;
    Ok(html! {
        select name="branch" {
            option value="" selected[selected.is_none()] { (ctx.t("wszystkie punkty", "all branches")) }
            @for b in &branches {
                @let id = b.id.to_string();
                option value=(id) selected[selected == Some(id.as_str())] { (b.name) }
            }
        }
    })
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::Staff, |db, _, ctx| {
        render_list(db, ctx, None)
    })
    .await
}

/// The staff list and the new-account form; with `kept`, the form again with what was
/// typed and the refusal above it.
fn render_list(
    db: &Db<'_>,
    ctx: &Ctx,
    kept: Option<(&HashMap<String, String>, &OfficeError)>,
) -> OResult<Out> {
    let staff = db.staff_list()?;
    let branches = branch_names(db)?;
    let t = |pl, en| ctx.t(pl, en);
    let typed = |name: &str| -> String {
        kept.and_then(|(form, _)| form.get(name))
            .cloned()
            .unwrap_or_default()
    };
    let refusal = super::refusal_text(ctx.lang, kept.map(|(_, e)| e));
    let (role, branch) = (typed("role"), typed("branch"));
    let body = html! {
        h1 { (t("Pracownicy", "Staff")) }
        div.table-scroll {
            table.fold #staff {
                thead { tr {
                    th { (t("Imię i nazwisko", "Name")) } th { (t("Login", "Login")) } th { (t("Rola", "Role")) }
                    th { (t("Punkt", "Branch")) } th { (t("Utworzone", "Created")) } th { (t("Stan", "Status")) }
                    th { (t("Ostatnie logowanie", "Last log-in")) }
                } }
                tbody { @for s in &staff {
                    tr data-staff=(s.login) data-status=(if s.disabled { "disabled" } else { "active" }) {
                        td data-label=(t("Imię i nazwisko", "Name")) { a href=(format!("/office/staff/{}", s.id)) { (s.name) } }
                        td data-label=(t("Login", "Login")) { (s.login) }
                        td data-label=(t("Rola", "Role")) { (role_label(ctx, &s.role)) }
                        td data-label=(t("Punkt", "Branch")) { (branch_label(ctx, &branches, s.branch_id.as_deref())) }
                        td data-label=(t("Utworzone", "Created")) { (super::dates::moment(ctx.lang, &s.created_at)) }
                        td data-label=(t("Stan", "Status")) { (status_label(ctx, s)) }
                        td data-label=(t("Ostatnie logowanie", "Last log-in")) { @match &s.last_login_at { Some(at) => (super::dates::moment(ctx.lang, at)), None => span.muted { "—" } } }
                    }
                } }
            }
        }
        h2 #new-account { (t("Nowe konto", "New account")) }
        @if let Some(m) = &refusal { p.error #staff-add-refused role="alert" { (m) } }
        form.stack.staff-form method="post" action="/office/staff" {
            (csrf(ctx))
            label { (t("Login", "Login")) input type="text" name="login" required maxlength="40" autocomplete="off" value=(typed("login")); }
            p.muted { (t("Małe litery a-z, cyfry, „.”, „_” lub „-”, od 3 do 40 znaków.",
                         "Lower-case letters a-z, digits, '.', '_' or '-', 3 to 40 characters.")) }
            label { (t("Imię i nazwisko", "Name")) input type="text" name="name" required maxlength="100" value=(typed("name")); }
            label { (t("Rola", "Role")) (role_select(ctx, Some(role.as_str()).filter(|r| !r.is_empty()))) }
            label { (t("Punkt", "Branch")) (branch_select(ctx, db, Some(branch.as_str()).filter(|b| !b.is_empty()))?) }
            p.muted { (t("Serwer nada hasło tymczasowe i pokaże je raz. Przy pierwszym logowaniu trzeba je zmienić.",
                         "The server makes up a temporary password and shows it once. It must be changed at the first log-in.")) }
            button type="submit" { (t("Utwórz konto", "Create the account")) }
        }
    };
    let body = html! { div.staff-page { (body) } };
    Ok(Out::page_or_refused(
        t("Pracownicy", "Staff").to_owned(),
        body,
        refusal.is_some(),
    ))
}

fn role_label(ctx: &Ctx, code: &str) -> String {
    StaffRole::from_code(code)
        .map(|r| Role(r).label(ctx.lang).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

fn branch_label(ctx: &Ctx, branches: &HashMap<String, String>, branch: Option<&str>) -> String {
    match branch {
        None => ctx.t("wszystkie punkty", "all branches").to_owned(),
        Some(id) => branches.get(id).cloned().unwrap_or_else(|| id.to_owned()),
    }
}

fn status_label(ctx: &Ctx, s: &StaffRow) -> Markup {
    html! {
        @if s.disabled { span.error { (ctx.t("wyłączone", "disabled")) } }
        @else if s.must_change_password { span.pending { (ctx.t("aktywne, hasło tymczasowe", "active, temporary password")) } }
        @else { span.ok { (ctx.t("aktywne", "active")) } }
    }
}

/// The page that shows a temporary password once.
fn temporary_password_page(ctx: &Ctx, s: &StaffRow, password: &str, created: bool) -> Out {
    let t = |pl, en| ctx.t(pl, en);
    let title = if created {
        t("Konto utworzone", "Account created")
    } else {
        t("Nowe hasło tymczasowe", "New temporary password")
    };
    let body = html! {
        h1 { (title) }
        p { (t("Konto", "Account")) ": " strong { (s.name) } " (" (s.login) ")" }
        p { (t("Hasło tymczasowe (proszę przekazać je tej osobie; nie zostanie pokazane ponownie):",
               "Temporary password (please give it to this person; it is not shown again):")) }
        p.enroll-code.temp-password data-password=(password) { (password) }
        p.muted { (t("Przy następnym logowaniu ta osoba musi ustawić własne hasło.",
                     "At the next log-in this person must set their own password.")) }
        p { a href="/office/staff" { (t("Wróć do listy pracowników", "Back to the staff list")) } }
    };
    Out::Page {
        title: title.to_owned(),
        body: html! { div.staff-page { (body) } },
    }
}

pub async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let redisplay: Redisplay =
        Box::new(|db, ctx, form, error| render_list(db, ctx, Some((form, error))));
    action_or_form(
        &state,
        &headers,
        Perm::Staff,
        form,
        |db, _, ctx, form| {
            let form: AccountForm = typed(form)?;
            let new = NewStaff {
                login: &form.login,
                name: &form.name,
                role: form.role,
                branch: branch_choice(&form.branch)?,
            };
            let (id, password) = core::add(db, &ctx.actor(), &new, InitialPassword::Temporary)?;
            let row = account(db, id)?;
            let password = password.unwrap_or_default();
            Ok(temporary_password_page(ctx, &row, &password, true))
        },
        Some(redisplay),
    )
    .await
}

fn account(db: &Db<'_>, id: StaffId) -> OResult<StaffRow> {
    db.staff_by_id(&id.to_string())?
        .ok_or_else(|| OfficeError::NotFound(format!("staff {id}")))
}

pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::Staff, move |db, _, ctx| {
        let id: StaffId = parse_id(&id, "konto", "account")?;
        let s = account(db, id)?;
        let branches = branch_names(db)?;
        let t = |pl, en| ctx.t(pl, en);
        let base = format!("/office/staff/{id}");
        let body = html! {
            h1 { (s.name) }
            p { (t("Login", "Login")) ": " strong { (s.login) } " · " (role_label(ctx, &s.role)) " · "
                (branch_label(ctx, &branches, s.branch_id.as_deref())) " · " (status_label(ctx, &s)) }
            p.muted { (t("Utworzone", "Created")) ": " (super::dates::moment(ctx.lang, &s.created_at)) " · "
                (t("Ostatnie logowanie", "Last log-in")) ": "
                @match &s.last_login_at { Some(at) => (super::dates::moment(ctx.lang, at)), None => "—" } }
            h2 { (t("Dane konta", "Account details")) }
            form.stack.staff-form method="post" action=(base) {
                (csrf(ctx))
                label { (t("Imię i nazwisko", "Name")) input type="text" name="name" required maxlength="100" value=(s.name); }
                label { (t("Rola", "Role")) (role_select(ctx, Some(&s.role))) }
                label { (t("Punkt", "Branch")) (branch_select(ctx, db, s.branch_id.as_deref())?) }
                button type="submit" { (t("Zapisz", "Save")) }
            }
            h2 { (t("Hasło", "Password")) }
            form.inline method="post" action=(format!("{base}/password")) {
                (csrf(ctx))
                button.secondary type="submit" { (t("Nadaj nowe hasło tymczasowe", "Issue a new temporary password")) }
            }
            p.muted { (t("Obecne hasło przestanie działać, a otwarte sesje tej osoby zostaną zakończone.",
                         "The current password stops working and this person's open sessions end.")) }
            h2 { (t("Dostęp", "Access")) }
            @if s.disabled {
                form.inline method="post" action=(format!("{base}/enable")) {
                    (csrf(ctx))
                    button type="submit" { (t("Włącz konto", "Enable the account")) }
                }
            } @else {
                form.inline method="post" action=(format!("{base}/disable")) {
                    (csrf(ctx))
                    button.danger type="submit" { (t("Wyłącz konto", "Disable the account")) }
                }
                p.muted { (t("Wyłączone konto nie może się zalogować, a jego otwarte sesje kończą się od razu.",
                             "A disabled account cannot log in, and its open sessions end at once.")) }
            }
            p { a href="/office/staff" { (t("Wróć do listy pracowników", "Back to the staff list")) } }
        };
        Ok(Out::Page {
            title: s.name.clone(),
            body: html! { div.staff-page { (body) } },
        })
    })
    .await
}

pub async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Staff,
        form,
        move |db, _, ctx, form| {
            let id: StaffId = parse_id(&id, "konto", "account")?;
            let form: AccountForm = typed(form)?;
            let change = StaffEdit {
                name: &form.name,
                role: form.role,
                branch: branch_choice(&form.branch)?,
            };
            core::edit(db, &ctx.actor(), id, &change)?;
            Ok(Out::Redirect(format!("/office/staff/{id}")))
        },
    )
    .await
}

async fn set_disabled(
    state: AppState,
    headers: HeaderMap,
    id: String,
    form: HashMap<String, String>,
    disabled: bool,
) -> Response {
    action(&state, &headers, Perm::Staff, form, move |db, _, ctx, _| {
        let id: StaffId = parse_id(&id, "konto", "account")?;
        core::set_disabled(db, &ctx.actor(), id, disabled)?;
        Ok(Out::Redirect(format!("/office/staff/{id}")))
    })
    .await
}

pub async fn disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    set_disabled(state, headers, id, form, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    set_disabled(state, headers, id, form, false).await
}

pub async fn reset_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(&state, &headers, Perm::Staff, form, move |db, _, ctx, _| {
        let id: StaffId = parse_id(&id, "konto", "account")?;
        let password = core::reset_password(db, &ctx.actor(), id)?;
        let row = account(db, id)?;
        Ok(temporary_password_page(ctx, &row, &password, false))
    })
    .await
}

fn password_page(ctx: &Ctx, saved: bool) -> Out {
    let t = |pl, en| ctx.t(pl, en);
    let body = html! {
        h1 { (t("Zmiana hasła", "Change password")) }
        @if saved { p.ok role="status" { (t("Zapisano. Hasło zostało zmienione.", "Saved. The password has been changed.")) } }
        @if ctx.staff.must_change_password {
            p.pending role="alert" { (t("Zalogowano hasłem tymczasowym. Proszę ustawić własne hasło, aby korzystać z biura.",
                                        "You logged in with a temporary password. Please set your own password to use the office.")) }
        }
        form.stack.staff-form method="post" action="/office/password" {
            (csrf(ctx))
            label { (t("Obecne hasło", "Current password")) input type="password" name="current" required autocomplete="current-password"; }
            label { (t("Nowe hasło", "New password")) input type="password" name="new" required minlength=(core::MIN_PASSWORD_CHARS) autocomplete="new-password"; }
            label { (t("Nowe hasło jeszcze raz", "New password again")) input type="password" name="repeat" required minlength=(core::MIN_PASSWORD_CHARS) autocomplete="new-password"; }
            p.muted { (t("Co najmniej 12 znaków; nie może to być popularne hasło ani jeden znak powtórzony.",
                         "At least 12 characters; not a common password, not one character repeated.")) }
            button type="submit" { (t("Zmień hasło", "Change the password")) }
        }
    };
    Out::Page {
        title: t("Zmiana hasła", "Change password").to_owned(),
        body: html! { div.staff-page { (body) } },
    }
}

pub async fn password_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::OwnPassword, |_, _, ctx| {
        Ok(password_page(ctx, false))
    })
    .await
}

pub async fn change_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::OwnPassword,
        form,
        |db, _, ctx, form| {
            let form: OwnPasswordForm = typed(form)?;
            core::change_own_password(
                db,
                &ctx.staff.id,
                &PasswordChange {
                    current: &form.current,
                    new: &form.new,
                    repeat: &form.repeat,
                },
                &ctx.session_hash,
            )?;
            let mut ctx = ctx.clone();
            ctx.staff.must_change_password = false;
            Ok(password_page(&ctx, true))
        },
    )
    .await
}
