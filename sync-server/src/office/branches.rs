//! The branches page (office admin): every branch point with its code, address and
//! hours; a new branch added from the browser (so that a new server needs no catalog
//! file before its first kiosk); a branch's details changed; and the people who open its
//! kiosks' staff mode, each with a PIN of their own (set, changed, taken away). The rules
//! are the core's (`central::branches`); `blisko-server catalog-import` is the
//! administrator's alternative.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use blisko_shared::collate;
use blisko_shared::ids::{BranchId, StaffId};
use blisko_shared::model::StaffRole;

use super::layout::csrf;
use super::{
    Ctx, OResult, OfficeError, Out, Perm, Redisplay, action, action_or_form, field, page, parse_id,
    typed,
};
use crate::central::branches::{self, BranchFields, KioskStaff};
use crate::http::AppState;
use crate::store::Db;

#[derive(Debug, Default, Deserialize)]
struct BranchForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    opening_hours: String,
    #[serde(default)]
    help: String,
}

impl BranchForm {
    fn fields(&self) -> BranchFields {
        BranchFields {
            code: self.code.clone(),
            name: self.name.clone(),
            address: self.address.clone(),
            opening_hours: self.opening_hours.clone(),
            help: self.help.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct StaffForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    pin: String,
    /// A person already listed: a new PIN for them.
    id: Option<String>,
}

fn base(id: BranchId) -> String {
    format!("/office/branches/{id}")
}

/// The fields of a branch, filled from `values` (what is stored, or what was typed).
fn branch_fields(ctx: &Ctx, values: &BranchFields) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    html! {
        label { (t("Skrót (2–8 wielkich liter lub cyfr, np. MAL; początek numerów wniosków)", "Code (2–8 capital letters or digits, e.g. MAL; begins request references)"))
            input type="text" name="code" required maxlength="8" value=(values.code); }
        label { (t("Nazwa", "Name")) input type="text" name="name" required maxlength="120" value=(values.name); }
        label { (t("Adres", "Address")) input type="text" name="address" required maxlength="200" value=(values.address); }
        label { (t("Godziny otwarcia", "Opening hours")) input type="text" name="opening_hours" required maxlength="120" placeholder=(t("np. pon.–pt. 9:00–17:00", "e.g. Mon–Fri 9:00–17:00")) value=(values.opening_hours); }
        label { (t("Pomoc w kiosku (opcjonalnie): co zrobić, gdy ktoś potrzebuje pomocy", "Help at the kiosk (optional): what to do when someone needs help"))
            textarea name="help" rows="2" maxlength="300" { (values.help) } }
    }
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::Branches, |db, _, ctx| {
        render_list(db, ctx, None)
    })
    .await
}

fn render_list(db: &Db<'_>, ctx: &Ctx, kept: Option<(BranchFields, &OfficeError)>) -> OResult<Out> {
    let t = |pl, en| ctx.t(pl, en);
    let kiosks = db.kiosks()?;
    let mut rows = Vec::new();
    for b in db.branches()? {
        let catalog = branches::catalog_of(db, b.id)?;
        let count = kiosks.iter().filter(|k| k.branch_id == b.id).count();
        rows.push((catalog, count));
    }
    rows.sort_by_key(|(c, _)| collate::sort_key(&c.branch.name));
    let message = super::refusal_text(ctx.lang, kept.as_ref().map(|(_, e)| *e));
    let typed = kept.map(|(f, _)| f).unwrap_or_default();
    let body = html! {
        h1 { (t("Punkty", "Branches")) }
        @if rows.is_empty() {
            p.notice #no-branches { (t("Nie ma jeszcze żadnego punktu. Proszę dodać pierwszy poniżej: potem można dodać jego zajęcia (Zajęcia) i kiosk (Kioski).",
                                       "There is no branch yet. Please add the first one below: then its classes (Classes) and its kiosk (Kiosks) can be added.")) }
        } @else {
            table.fold #branches {
                thead { tr { th { (t("Punkt", "Branch")) } th { (t("Skrót", "Code")) } th { (t("Adres", "Address")) }
                    th { (t("Godziny otwarcia", "Opening hours")) } th.num { (t("Zajęcia", "Classes")) } th.num { (t("Kioski", "Kiosks")) } th.num { (t("Osoby z PIN-em", "People with a PIN")) } } }
                tbody { @for (c, kiosks) in &rows {
                    tr data-branch=(c.branch.id) {
                        td data-label=(t("Punkt", "Branch")) { a href=(base(c.branch.id)) { (c.branch.name) } }
                        td data-label=(t("Skrót", "Code")) { (c.branch.code) }
                        td data-label=(t("Adres", "Address")) { (c.branch.address) }
                        td data-label=(t("Godziny otwarcia", "Opening hours")) { (c.branch.opening_hours) }
                        td.num data-label=(t("Zajęcia", "Classes")) { (c.classes.len()) }
                        td.num data-label=(t("Kioski", "Kiosks")) { (kiosks) }
                        td.num data-label=(t("Osoby z PIN-em", "People with a PIN")) { (c.staff.len()) }
                    }
                } }
            }
        }
        h2 #add { (t("Dodaj punkt", "Add a branch")) }
        @if let Some(m) = &message { p.error #branch-refused role="alert" { (m) } }
        form.stack #branch-form method="post" action="/office/branches" {
            (csrf(ctx))
            (branch_fields(ctx, &typed))
            button type="submit" { (t("Dodaj punkt", "Add the branch")) }
        }
        p.muted { (t("Nowy punkt dostaje usługi (wnioski) takie jak pozostałe punkty. Administrator może też wczytać cały katalog z pliku: blisko-server catalog-import PLIK.",
                     "A new branch gets the same services (requests) as the other branches. An administrator may also load a whole catalog from a file: blisko-server catalog-import FILE.")) }
    };
    Ok(Out::page_or_refused(
        t("Punkty", "Branches").to_owned(),
        body,
        message.is_some(),
    ))
}

pub async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let redisplay: Redisplay = Box::new(|db, ctx, form, error| {
        let typed: BranchForm = typed(form)?;
        render_list(db, ctx, Some((typed.fields(), error)))
    });
    action_or_form(
        &state,
        &headers,
        Perm::Branches,
        form,
        |db, _, ctx, form| {
            let f: BranchForm = typed(form)?;
            let id = branches::add(db, &f.fields(), &ctx.actor())?;
            Ok(Out::Redirect(base(id)))
        },
        Some(redisplay),
    )
    .await
}

pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::Branches, move |db, _, ctx| {
        let id: BranchId = parse_id(&id, "punkt", "branch")?;
        render_detail(db, ctx, id, None)
    })
    .await
}

/// Which form of the branch page a refusal belongs to, with what was typed.
enum Kept<'a> {
    Details(BranchFields, &'a OfficeError),
    Staff(String, String, &'a OfficeError),
}

fn render_detail(db: &Db<'_>, ctx: &Ctx, id: BranchId, kept: Option<Kept<'_>>) -> OResult<Out> {
    let t = |pl, en| ctx.t(pl, en);
    let catalog = branches::catalog_of(db, id)
        .map_err(|_| OfficeError::NotFound(t("punkt", "branch").to_owned()))?;
    let b = &catalog.branch;
    let mut staff = catalog.staff.clone();
    staff.sort_by_key(|s| collate::sort_key(&s.name));
    let (details, details_error, staff_typed, staff_error) = match &kept {
        Some(Kept::Details(f, e)) => (
            f.clone(),
            super::refusal_text(ctx.lang, Some(e)),
            (String::new(), String::new()),
            None,
        ),
        Some(Kept::Staff(name, role, e)) => (
            stored(b),
            None,
            (name.clone(), role.clone()),
            super::refusal_text(ctx.lang, Some(e)),
        ),
        None => (stored(b), None, (String::new(), String::new()), None),
    };
    let role_label = |role: StaffRole| match role {
        StaffRole::Instructor => t("instruktor", "instructor"),
        _ => t("pracownik punktu", "branch staff"),
    };
    let body = html! {
        h1 { (b.name) }
        p { a href="/office/branches" { (t("← wszystkie punkty", "← all branches")) } }
        h2 { (t("Dane punktu", "Branch details")) }
        p.muted { (t("Kiosk pokazuje nazwę, adres, godziny i pomoc; zmiany dotrą do kiosków punktu przy ich najbliższej synchronizacji.",
                     "The kiosk shows the name, address, hours and help; changes reach the branch's kiosks with their next sync.")) }
        @if let Some(m) = &details_error { p.error #branch-refused role="alert" { (m) } }
        form.stack #branch-form method="post" action=(base(id)) {
            (csrf(ctx))
            (branch_fields(ctx, &details))
            button type="submit" { (t("Zapisz zmiany", "Save the changes")) }
        }
        h2 #kiosk-staff { (t("Osoby obsługujące kiosk (PIN)", "People who use the kiosk's staff mode (PIN)")) }
        p.muted { (t("Instruktorzy i pracownicy punktu wchodzą w tryb obsługi kiosku (lista obecności, zapisy na miejscu) własnym PIN-em. Kiosk zna tylko skrót PIN-u, nigdy sam PIN. Zmiana obowiązuje w kioskach po ich najbliższej synchronizacji.",
                     "Instructors and branch staff enter a kiosk's staff mode (roll call, walk-in registrations) with a PIN of their own. The kiosk knows only a hash of it, never the PIN. A change applies at the kiosks after their next sync.")) }
        @if staff.is_empty() {
            p #no-kiosk-staff { (t("Nikt nie ma jeszcze PIN-u do kiosków tego punktu.", "Nobody has a PIN for this branch's kiosks yet.")) }
        } @else {
            table.fold #kiosk-staff-list {
                thead { tr { th { (t("Osoba", "Person")) } th { (t("Rola", "Role")) } th { (t("Nowy PIN", "New PIN")) } th {} } }
                tbody { @for s in &staff {
                    tr data-staff=(s.id) {
                        td data-label=(t("Osoba", "Person")) { (s.name) }
                        td data-label=(t("Rola", "Role")) { (role_label(s.role)) }
                        td data-label=(t("Nowy PIN", "New PIN")) {
                            form.inline method="post" action=(format!("{}/staff", base(id))) {
                                (csrf(ctx))
                                input type="hidden" name="id" value=(s.id);
                                input type="hidden" name="name" value=(s.name);
                                input type="hidden" name="role" value=(s.role.code());
                                label { span.visually-hidden { (t("Nowy PIN", "New PIN")) }
                                    input type="password" name="pin" inputmode="numeric" autocomplete="off" minlength="4" maxlength="8" pattern="[0-9]{4,8}" required; }
                                button type="submit" { (t("Zmień PIN", "Change the PIN")) }
                            }
                        }
                        td {
                            form.inline method="post" action=(format!("{}/staff/{}/remove", base(id), s.id)) {
                                (csrf(ctx))
                                button.secondary type="submit" { (t("Odbierz PIN", "Take the PIN away")) }
                            }
                        }
                    }
                } }
            }
        }
        h3 { (t("Dodaj osobę", "Add a person")) }
        @if let Some(m) = &staff_error { p.error #staff-refused role="alert" { (m) } }
        form.stack #kiosk-staff-form method="post" action=(format!("{}/staff", base(id))) {
            (csrf(ctx))
            label { (t("Imię i nazwisko", "Name")) input type="text" name="name" required maxlength="80" value=(staff_typed.0); }
            label { (t("Rola", "Role")) select name="role" {
                option value="instructor" selected[staff_typed.1 == "instructor"] { (t("instruktor", "instructor")) }
                option value="branch_staff" selected[staff_typed.1 == "branch_staff"] { (t("pracownik punktu", "branch staff")) }
            } }
            label { (t("PIN (4–8 cyfr, inny niż PIN-y pozostałych osób)", "PIN (4–8 digits, not anyone else's)"))
                input type="password" name="pin" inputmode="numeric" autocomplete="off" minlength="4" maxlength="8" pattern="[0-9]{4,8}" required; }
            button type="submit" { (t("Dodaj osobę", "Add the person")) }
        }
    };
    Ok(Out::page_or_refused(b.name.clone(), body, kept.is_some()))
}

fn stored(b: &blisko_shared::model::Branch) -> BranchFields {
    BranchFields {
        code: b.code.clone(),
        name: b.name.clone(),
        address: b.address.clone(),
        opening_hours: b.opening_hours.clone(),
        help: b.help.clone(),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let path_id = id.clone();
    let redisplay: Redisplay = Box::new(move |db, ctx, form, error| {
        let id: BranchId = parse_id(&path_id, "punkt", "branch")?;
        let typed: BranchForm = typed(form)?;
        render_detail(db, ctx, id, Some(Kept::Details(typed.fields(), error)))
    });
    action_or_form(
        &state,
        &headers,
        Perm::Branches,
        form,
        move |db, clock, ctx, form| {
            let id: BranchId = parse_id(&id, "punkt", "branch")?;
            let f: BranchForm = typed(form)?;
            branches::edit(db, clock, id, &f.fields(), &ctx.actor())?;
            Ok(Out::Redirect(base(id)))
        },
        Some(redisplay),
    )
    .await
}

pub async fn set_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let path_id = id.clone();
    let redisplay: Redisplay = Box::new(move |db, ctx, form, error| {
        let id: BranchId = parse_id(&path_id, "punkt", "branch")?;
        let name = field(form, "name").unwrap_or_default().to_owned();
        let role = field(form, "role").unwrap_or_default().to_owned();
        render_detail(db, ctx, id, Some(Kept::Staff(name, role, error)))
    });
    action_or_form(
        &state,
        &headers,
        Perm::Branches,
        form,
        move |db, clock, ctx, form| {
            let id: BranchId = parse_id(&id, "punkt", "branch")?;
            let f: StaffForm = typed(form)?;
            let role = match f.role.as_str() {
                "instructor" => StaffRole::Instructor,
                "branch_staff" => StaffRole::BranchStaff,
                _ => {
                    return Err(super::invalid(
                        "Proszę wybrać rolę.",
                        "Please choose a role.",
                    ));
                }
            };
            let existing: Option<StaffId> = match f.id.as_deref().filter(|s| !s.is_empty()) {
                Some(s) => Some(parse_id(s, "osoba", "person")?),
                None => None,
            };
            branches::set_kiosk_staff(
                db,
                clock,
                id,
                &KioskStaff {
                    id: existing,
                    name: f.name,
                    role,
                    pin: f.pin,
                },
                &ctx.actor(),
            )?;
            Ok(Out::Redirect(format!("{}#kiosk-staff", base(id))))
        },
        Some(redisplay),
    )
    .await
}

pub async fn remove_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, staff)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Branches,
        form,
        move |db, clock, ctx, _| {
            let id: BranchId = parse_id(&id, "punkt", "branch")?;
            let staff: StaffId = parse_id(&staff, "osoba", "person")?;
            branches::remove_kiosk_staff(db, clock, id, staff, &ctx.actor())?;
            Ok(Out::Redirect(format!("{}#kiosk-staff", base(id))))
        },
    )
    .await
}
