//! Classes: the list per branch; a class's roster, waiting list and attendance per
//! session; creating and editing classes, sessions, capacity and per-kiosk seat
//! allotments. Edits go into the branch's catalog document (so they reach the kiosks at
//! their next sync) and must pass `Catalog::check_allotments`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::collate;
use blisko_shared::docs::{CatalogDoc, CatalogEdit, DocKey};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::{BranchId, ClassId, KioskId, SessionId};
use blisko_shared::model::{Catalog, Class, Session};
use blisko_shared::seats::SeatStatus;

use super::layout::{attendance_status, csrf, registration_status};
use super::{
    Ctx, OResult, OfficeError, Out, Perm, action, branch_names, field, invalid, now_text, page,
    parse_id, required,
};
use crate::central::{load, seats};
use crate::http::AppState;
use crate::store::Db;
use crate::store::OClass;

pub async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::ClassesView, |db, _, ctx| {
        let branches = branch_names(db)?;
        let mut classes = db.o_classes(ctx.branch())?;
        by_branch_then_title(&mut classes, &branches);
        let counts: HashMap<String, (i64, i64)> = db
            .o_class_counts()?
            .into_iter()
            .map(|(c, a, b)| (c, (a, b)))
            .collect();
        let t = |pl, en| ctx.t(pl, en);
        let body = html! {
            h1 { (t("Zajęcia", "Classes")) }
            table.fold #classes {
                thead { tr {
                    th { (t("Punkt", "Branch")) } th { (t("Zajęcia", "Class")) } th { (t("Prowadzący", "Instructor")) }
                    th.num { (t("Miejsca", "Capacity")) } th.num { (t("Zapisani", "Confirmed")) } th.num { (t("Rezerwowi", "Waiting")) }
                } }
                tbody { @for c in &classes {
                    @let (confirmed, waiting) = counts.get(&c.id).copied().unwrap_or((0, 0));
                    tr data-class=(c.id) {
                        td data-label=(t("Punkt", "Branch")) { (branches.get(&c.branch_id).map(String::as_str).unwrap_or("?")) }
                        td data-label=(t("Zajęcia", "Class")) { a href=(format!("/office/classes/{}", c.id)) { (c.title) } }
                        td data-label=(t("Prowadzący", "Instructor")) { (c.instructor) }
                        td.num data-label=(t("Miejsca", "Capacity")) { (c.capacity) }
                        td.num data-label=(t("Zapisani", "Confirmed")) { (confirmed) }
                        td.num data-label=(t("Rezerwowi", "Waiting")) { (waiting) }
                    }
                } }
            }
            @if ctx.can(Perm::ClassesEdit) {
                h2 { (t("Nowe zajęcia", "New class")) }
                form.stack method="post" action="/office/classes" {
                    (csrf(ctx))
                    label { (t("Punkt", "Branch")) select name="branch" required {
                        @for (id, name) in in_name_order(&branches) { @if ctx.sees_branch(id) { option value=(id) { (name) } } }
                    } }
                    (class_fields(ctx, None))
                    button type="submit" { (t("Utwórz zajęcia", "Create the class")) }
                }
            }
        };
        Ok(Out::Page {
            title: t("Zajęcia", "Classes").to_owned(),
            body,
        })
    })
    .await
}

/// The list's order: by the branch's name, then by title, both in Polish order (not by the
/// branch's id, which would scatter the branches at random).
fn by_branch_then_title(classes: &mut [OClass], branches: &HashMap<String, String>) {
    classes.sort_by_cached_key(|c| {
        let branch = branches.get(&c.branch_id).map(String::as_str).unwrap_or("");
        (
            collate::sort_key(branch),
            c.branch_id.clone(),
            collate::sort_key(&c.title),
        )
    });
}

/// Branches (id, name) in Polish order of their names, for a choice list.
fn in_name_order(branches: &HashMap<String, String>) -> Vec<(&String, &String)> {
    let mut sorted: Vec<_> = branches.iter().collect();
    sorted.sort_by(|a, b| collate::compare(a.1, b.1).then_with(|| a.0.cmp(b.0)));
    sorted
}

fn class_fields(ctx: &Ctx, class: Option<&Class>) -> maud::Markup {
    let t = |pl, en| ctx.t(pl, en);
    html! {
        label { (t("Nazwa", "Title")) input type="text" name="title" required maxlength="100" value=[class.map(|c| c.title.as_str())]; }
        label { (t("Opis", "Description")) input type="text" name="description" maxlength="500" value=[class.map(|c| c.description.as_str())]; }
        label { (t("Prowadzący", "Instructor")) input type="text" name="instructor" maxlength="100" value=[class.map(|c| c.instructor.as_str())]; }
        label { (t("Sala", "Room")) input type="text" name="room" maxlength="100" value=[class.map(|c| c.room.as_str())]; }
        label { (t("Grupa wiekowa", "Age group")) input type="text" name="age_group" maxlength="50" value=[class.map(|c| c.age_group.as_str())]; }
        label { (t("Liczba miejsc", "Capacity")) input type="number" name="capacity" min="1" max="1000" required value=[class.map(|c| c.capacity)]; }
        label { (t("Limit listy rezerwowej (0: bez listy)", "Waiting list limit (0: none)")) input type="number" name="waitlist_limit" min="0" max="1000" required value=[class.map(|c| c.waitlist_limit)]; }
    }
}

fn number(
    form: &HashMap<String, String>,
    name: &str,
    min: u32,
    max: u32,
    pl: &str,
    en: &str,
) -> OResult<u32> {
    required(form, name, pl, en)?
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            invalid(
                format!("„{pl}”: liczba od {min} do {max}."),
                format!("\"{en}\": a number from {min} to {max}."),
            )
        })
}

fn short_text(
    form: &HashMap<String, String>,
    name: &str,
    max: usize,
    pl: &str,
    en: &str,
) -> OResult<String> {
    let v = field(form, name).unwrap_or_default();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(invalid(
            format!("„{pl}”: do {max} znaków, bez znaków sterujących."),
            format!("\"{en}\": at most {max} characters, no control characters."),
        ));
    }
    Ok(v.to_owned())
}

/// Fill a class from the form (over `base`, so fields the form lacks stay).
fn class_from_form(form: &HashMap<String, String>, mut base: Class) -> OResult<Class> {
    base.title = required(form, "title", "Nazwa", "Title")?.to_owned();
    if base.title.chars().count() > 100 || base.title.chars().any(char::is_control) {
        return Err(invalid(
            "„Nazwa”: do 100 znaków.",
            "\"Title\": at most 100 characters.",
        ));
    }
    base.description = short_text(form, "description", 500, "Opis", "Description")?;
    base.instructor = short_text(form, "instructor", 100, "Prowadzący", "Instructor")?;
    base.room = short_text(form, "room", 100, "Sala", "Room")?;
    base.age_group = short_text(form, "age_group", 50, "Grupa wiekowa", "Age group")?;
    base.capacity = number(form, "capacity", 1, 1000, "Liczba miejsc", "Capacity")?;
    base.waitlist_limit = number(
        form,
        "waitlist_limit",
        0,
        1000,
        "Limit listy rezerwowej",
        "Waiting list limit",
    )?;
    Ok(base)
}

/// Apply office edits to a branch catalog through the server's core (which keeps the
/// seat rules: see `central::seats::edit_catalog`), then bring the office projection up
/// to date.
pub fn edit_catalog(
    db: &Db<'_>,
    clock: &mut HlcClock,
    ctx: &Ctx,
    branch: BranchId,
    edits: &[CatalogEdit],
    action_name: &str,
    subject: &str,
) -> OResult<Catalog> {
    let merged = seats::edit_catalog(
        db,
        clock,
        branch,
        edits,
        &seats::Editor {
            actor: &ctx.actor(),
            action: action_name,
            subject,
        },
    )?;
    // A catalog's projection takes its rosters along (their seat rules may have changed).
    super::projection::project(db, [DocKey::Catalog(branch)])?;
    Ok(merged)
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::ClassesEdit,
        form,
        |db, clock, ctx, form| {
            let branch: BranchId = parse_id(
                required(form, "branch", "Punkt", "Branch")?,
                "punkt",
                "branch",
            )?;
            ctx.in_branch(&branch.to_string(), "branch", branch)?;
            if db.branch_code(branch)?.is_none() {
                return Err(OfficeError::NotFound(format!("branch {branch}")));
            }
            let class = class_from_form(
                form,
                Class {
                    id: ClassId::new(),
                    branch_id: branch,
                    title: String::new(),
                    description: String::new(),
                    instructor: String::new(),
                    room: String::new(),
                    capacity: 0,
                    waitlist_limit: 0,
                    age_group: String::new(),
                    schedule: Vec::new(),
                    registration_opens: None,
                    registration_closes: None,
                },
            )?;
            let id = class.id;
            edit_catalog(
                db,
                clock,
                ctx,
                branch,
                &[CatalogEdit::Class(class)],
                "class_create",
                &format!("class:{id}"),
            )?;
            Ok(Out::Redirect(format!("/office/classes/{id}")))
        },
    )
    .await
}

/// The class and its branch catalog, if this account may see it.
fn class_of(db: &Db<'_>, ctx: &Ctx, id: ClassId) -> OResult<(Class, Catalog)> {
    let branch = db
        .class_branch(id)?
        .ok_or_else(|| OfficeError::NotFound(format!("class {id}")))?;
    ctx.in_branch(&branch.to_string(), "class", id)?;
    let key = DocKey::Catalog(branch);
    let catalog = CatalogDoc::from_doc(
        load(db, key)?.ok_or_else(|| OfficeError::NotFound(key.to_string()))?,
    )?
    .read()?;
    let class = catalog
        .class(id)
        .cloned()
        .ok_or_else(|| OfficeError::NotFound(format!("class {id}")))?;
    Ok((class, catalog))
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
        Perm::ClassesEdit,
        form,
        move |db, clock, ctx, form| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            let (class, _) = class_of(db, ctx, id)?;
            let branch = class.branch_id;
            let class = class_from_form(form, class)?;
            // Below the confirmed count: only with an explicit confirmation (the people
            // beyond it become compensation tasks for a phone call).
            let confirmed = db
                .o_registrations_of_class(&id.to_string())?
                .iter()
                .filter(|r| r.status == SeatStatus::Confirmed)
                .count() as u32;
            if class.capacity < confirmed {
                if field(form, "accept_over").is_none() {
                    return Ok(capacity_confirmation(
                        ctx,
                        id,
                        form,
                        confirmed,
                        class.capacity,
                    ));
                }
                db.audit(
                    &now_text(),
                    &ctx.actor(),
                    "capacity_below_confirmed",
                    &format!("class:{id}"),
                    Some(&format!(
                        "capacity:{} confirmed:{confirmed}",
                        class.capacity
                    )),
                )?;
            }
            edit_catalog(
                db,
                clock,
                ctx,
                branch,
                &[CatalogEdit::Class(class)],
                "class_edit",
                &format!("class:{id}"),
            )?;
            Ok(Out::Redirect(format!("/office/classes/{id}")))
        },
    )
    .await
}

/// The step before a capacity below the confirmed count: how many people it leaves
/// without a seat, and the same form again with the explicit confirmation.
fn capacity_confirmation(
    ctx: &Ctx,
    id: ClassId,
    form: &HashMap<String, String>,
    confirmed: u32,
    capacity: u32,
) -> Out {
    let t = |pl, en| ctx.t(pl, en);
    let over = confirmed - capacity;
    let body = html! {
        h1 { (t("Liczba miejsc poniżej liczby zapisanych", "Capacity below the confirmed count")) }
        p #capacity-warning { (t("Potwierdzonych jest ", "Confirmed: ")) strong { (confirmed) } (t(", a nowa liczba miejsc to ", "; the new capacity is ")) strong { (capacity) } ". "
            (t("Nikt nie zostanie wypisany automatycznie: osoby ponad limit (", "Nobody is removed automatically: the people beyond it (")) (over)
            (t(") pojawią się jako zadania do obsłużenia (telefon do osoby) na karcie zajęć i w przeglądzie.", ") appear as tasks (a phone call) on the class page and the overview.")) }
        form.stack #capacity-confirm method="post" action=(format!("/office/classes/{id}")) {
            (csrf(ctx))
            @for (name, value) in form { @if name != "csrf" && name != "accept_over" { input type="hidden" name=(name) value=(value); } }
            label.check { input type="checkbox" name="accept_over" value="1" required;
                (t(" Rozumiem: ", " I understand: ")) (over) (t(" os. trzeba będzie powiadomić telefonicznie", " people will need a phone call")) }
            button type="submit" { (t("Zmniejsz liczbę miejsc", "Lower the capacity")) }
        }
        p { a href=(format!("/office/classes/{id}")) { (t("Wróć bez zmian", "Go back without changes")) } }
    };
    Out::Page {
        title: t(
            "Liczba miejsc poniżej liczby zapisanych",
            "Capacity below the confirmed count",
        )
        .to_owned(),
        body,
    }
}

/// Add a session, or move one (when the form names it in `session`).
pub async fn save_session_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::ClassesEdit,
        form,
        move |db, clock, ctx, form| {
            save_session(db, clock, ctx, form, &id, form.contains_key("session"))
        },
    )
    .await
}

/// A new session of a class, or (`existing`) a change to one of its sessions; it reaches
/// the kiosks through the branch catalog.
fn save_session(
    db: &Db<'_>,
    clock: &mut HlcClock,
    ctx: &Ctx,
    form: &HashMap<String, String>,
    class_id: &str,
    existing: bool,
) -> OResult<Out> {
    let id: ClassId = parse_id(class_id, "zajęcia", "class")?;
    let (class, catalog) = class_of(db, ctx, id)?;
    let session_id = if existing {
        let sid: SessionId = parse_id(
            required(form, "session", "Spotkanie", "Session")?,
            "spotkanie",
            "session",
        )?;
        if !db
            .o_sessions(&id.to_string())?
            .iter()
            .any(|s| s.id == sid.to_string())
        {
            return Err(OfficeError::NotFound(format!("session:{sid}")));
        }
        sid
    } else {
        SessionId::new()
    };
    let date = required(form, "date", "Data", "Date")?;
    let date: jiff::civil::Date = date
        .parse()
        .map_err(|_| invalid("„Data”: w postaci RRRR-MM-DD.", "\"Date\": as YYYY-MM-DD."))?;
    let start = required(form, "start", "Godzina", "Start")?;
    let valid_start = start.len() == 5 && jiff::civil::Time::strptime("%H:%M", start).is_ok();
    if !valid_start {
        return Err(invalid(
            "„Godzina”: w postaci GG:MM.",
            "\"Start\": as HH:MM.",
        ));
    }
    let minutes = number(form, "minutes", 5, 600, "Czas (min)", "Minutes")?;
    // A move to a past date, a time taken, a holiday or New Year's Eve asks first, as
    // adding a session on the daily page does.
    let moved = catalog
        .sessions
        .iter()
        .find(|s| s.id == session_id)
        .map(|s| (s.date.clone(), s.start.clone()));
    let changes_day = moved
        .as_ref()
        .is_none_or(|(d, s)| *d != date.to_string() || s != start);
    let warnings = super::daily::session_warnings(&catalog, id, date, start, Some(session_id));
    if changes_day && !warnings.is_empty() && field(form, "confirm") != Some("1") {
        let mut hidden = vec![
            ("date", date.to_string()),
            ("start", start.to_owned()),
            ("minutes", minutes.to_string()),
        ];
        if existing {
            hidden.push(("session", session_id.to_string()));
        }
        return Ok(super::daily::confirm_session(
            ctx,
            &format!("/office/classes/{id}/sessions"),
            &hidden,
            &warnings,
            &format!("/office/classes/{id}"),
        ));
    }
    let session = Session {
        id: session_id,
        class_id: id,
        date: date.to_string(),
        start: start.to_owned(),
        minutes,
        // Moving a cancelled session keeps it cancelled.
        cancelled: catalog
            .sessions
            .iter()
            .any(|s| s.id == session_id && s.cancelled),
    };
    edit_catalog(
        db,
        clock,
        ctx,
        class.branch_id,
        &[CatalogEdit::Session(session)],
        if existing {
            "session_edit"
        } else {
            "session_create"
        },
        &format!("session:{session_id}"),
    )?;
    Ok(Out::Redirect(format!("/office/classes/{id}")))
}

pub async fn set_allotment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::ClassesEdit,
        form,
        move |db, clock, ctx, form| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            let (class, _) = class_of(db, ctx, id)?;
            let kiosk: KioskId =
                parse_id(required(form, "kiosk", "Kiosk", "Kiosk")?, "kiosk", "kiosk")?;
            let kiosk_row = db
                .kiosk(kiosk)?
                .filter(|k| k.branch_id == class.branch_id)
                .ok_or_else(|| {
                    invalid(
                        "Ten kiosk nie należy do punktu zajęć.",
                        "This kiosk is not at the class's branch.",
                    )
                })?;
            let seats = number(form, "seats", 0, 1000, "Miejsca", "Seats")?;
            edit_catalog(
                db,
                clock,
                ctx,
                class.branch_id,
                &[CatalogEdit::Allotment {
                    class_id: id,
                    kiosk_id: kiosk_row.kiosk_id,
                    seats,
                }],
                "allotment_set",
                &format!("class:{id}"),
            )?;
            Ok(Out::Redirect(format!("/office/classes/{id}")))
        },
    )
    .await
}

/// Names of persons by id (the office projection), "Family Given", erased persons in
/// words.
pub fn person_names(
    db: &Db<'_>,
    lang: blisko_shared::i18n::Lang,
    ids: impl IntoIterator<Item = String>,
) -> OResult<HashMap<String, String>> {
    Ok(super::people::names(db, lang, ids)?
        .into_iter()
        .map(|(id, n)| (id, n.name))
        .collect())
}

pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::ClassesView, move |db, _, ctx| {
        render_detail(db, ctx, &id)
    })
    .await
}

/// A class's page (also called by the benchmark).
pub fn render_detail(db: &Db<'_>, ctx: &Ctx, id: &str) -> OResult<Out> {
    let id: ClassId = parse_id(id, "zajęcia", "class")?;
    let (class, catalog) = class_of(db, ctx, id)?;
    let mut regs = db.o_registrations_of_class(&id.to_string())?;
    let attendance = db.o_attendance_of_class(&id.to_string())?;
    let sessions = db.o_sessions(&id.to_string())?;
    let named = super::people::names(db, ctx.lang, regs.iter().map(|r| r.person_id.clone()))?;
    super::people::sort_roster(&mut regs, &named);
    let names: HashMap<String, String> = named.into_iter().map(|(id, n)| (id, n.name)).collect();
    let kiosk_names = super::names::Names::load(db, ctx.lang)?;
    let kiosks: Vec<_> = db
        .kiosks()?
        .into_iter()
        .filter(|k| k.branch_id == class.branch_id && !k.revoked)
        .collect();
    let allotments = catalog.allotments_of(id);
    let use_by_kiosk: HashMap<String, i64> =
        db.o_allotment_use(&id.to_string())?.into_iter().collect();
    let holds = db.class_holds(id)?;
    let tasks: Vec<_> = seats::compensation(db, Some(&[class.branch_id]))?
        .into_iter()
        .filter(|c| c.class_id == id)
        .collect();
    let (pool_size, pool_held) = seats::pool_of(db, class.branch_id, id)?;
    // The roster shows names: the read is audited (ids only).
    db.audit(
        &now_text(),
        &ctx.actor(),
        "roster_read",
        &format!("roster:{id}"),
        None,
    )?;
    let t = |pl, en| ctx.t(pl, en);
    let l = ctx.lang;
    let mut per_session: HashMap<&str, [i64; 4]> = HashMap::new();
    for a in &attendance {
        let slot = per_session.entry(a.session_id.as_str()).or_default();
        match a.status.as_str() {
            "present" => slot[0] += 1,
            "absent" => slot[1] += 1,
            "excused" => slot[2] += 1,
            _ => slot[3] += 1,
        }
    }
    let confirmed = regs
        .iter()
        .filter(|r| r.status == SeatStatus::Confirmed)
        .count();
    let may_call_roll = super::roll_call::may_call_roll(ctx, &class.instructor);
    let today = jiff::Zoned::now().date().to_string();
    let body = html! {
        h1 { (class.title) }
        (super::overview::compensation_section(ctx, &tasks, Some(&names)))
        p { (t("Prowadzący", "Instructor")) ": " (class.instructor) " · " (t("miejsca", "capacity")) ": " (class.capacity)
            " · " (t("potwierdzonych", "confirmed")) ": " span #confirmed { (confirmed) }
            " · " a href=(format!("/office/export/roster/{id}")) { (t("lista CSV", "roster CSV")) }
            " · " a href=(format!("/office/export/roster/{id}/xlsx")) { (t("lista XLSX", "roster XLSX")) }
            " · " a href=(format!("/office/export/attendance/{id}")) { (t("obecność CSV", "attendance CSV")) }
            " · " a href=(format!("/office/export/attendance/{id}/xlsx")) { (t("obecność XLSX", "attendance XLSX")) }
            " · " a #daily-link href=(format!("/office/classes/{id}/daily")) { (t("praca codzienna: zapisy telefoniczne, lista rezerwowa, obecność z listy, spotkania", "daily work: phone registrations, waiting list, paper attendance, sessions")) } }
        h2 { (t("Lista uczestników i lista rezerwowa", "Roster and waiting list")) }
        table.fold #roster {
            thead { tr { th { "#" } th { (t("Osoba", "Person")) } th { (t("Status", "Status")) } th { (t("Kiosk", "Kiosk")) } } }
            tbody { @for (i, r) in regs.iter().enumerate() {
                tr data-registration=(r.id) data-status=(r.status) {
                    td data-label="#" { (i + 1) }
                    td data-label=(t("Osoba", "Person")) { (names.get(&r.person_id).map(String::as_str).unwrap_or("—")) }
                    td data-label=(t("Status", "Status")) { (registration_status(l, r.status)) @if let Some(p) = r.position { " #" (p) } }
                    td data-label=(t("Kiosk", "Kiosk")) { (kiosk_names.kiosk(&r.kiosk_id)) }
                }
            } }
        }
        h2 { (t("Obecność na spotkaniach", "Attendance per session")) }
        table.fold #sessions {
            thead { tr { th { (t("Data", "Date")) } th { (t("Godzina", "Time")) }
                th.num { (attendance_status(l, "present")) } th.num { (attendance_status(l, "absent")) }
                th.num { (attendance_status(l, "excused")) } th.num { (attendance_status(l, "conflict")) } th {} } }
            tbody { @for s in &sessions {
                @let c = per_session.get(s.id.as_str()).copied().unwrap_or_default();
                @let called_off = catalog.sessions.iter().any(|c| c.id.to_string() == s.id && c.cancelled);
                tr data-session=(s.id) {
                    td data-label=(t("Data", "Date")) { (super::dates::day_text(l, &s.date)) @if called_off { " " span.pending { (t("odwołane", "cancelled")) } } }
                    td data-label=(t("Godzina", "Time")) { (s.start) }
                    td.num data-label=(attendance_status(l, "present")) { (c[0]) }
                    td.num data-label=(attendance_status(l, "absent")) { (c[1]) }
                    td.num data-label=(attendance_status(l, "excused")) { (c[2]) }
                    td.num data-label=(attendance_status(l, "conflict")) { @if c[3] > 0 { span.conflict { (c[3]) } } @else { "0" } }
                    td { @if ctx.can(Perm::PrintAttendance) { a href=(format!("/office/classes/{id}/sessions/{}/print", s.id)) { (t("lista do druku", "printable list")) } }
                        @if may_call_roll && !called_off && s.date <= today {
                            " · " a.roll-call href=(super::roll_call::path(id, &s.id)) { (t("sprawdź obecność", "take the roll call")) } } }
                }
            } }
        }
        h2 { (t("Przydziały miejsc dla kiosków", "Seat allotments per kiosk")) }
        table.fold #allotments {
            thead { tr { th { (t("Kiosk", "Kiosk")) } th.num { (t("Przydział", "Allotted")) } th.num { (t("Zajęte", "Used")) } th { (t("Zmiana", "Change")) } } }
            tbody { @for k in &kiosks {
                tr data-kiosk=(k.kiosk_id) {
                    td data-label=(t("Kiosk", "Kiosk")) { (kiosk_names.kiosk(&k.kiosk_id.to_string())) }
                    td.num data-label=(t("Przydział", "Allotted")) { (allotments.get(&k.kiosk_id).copied().unwrap_or(0)) }
                    td.num data-label=(t("Zajęte", "Used")) { (use_by_kiosk.get(&k.kiosk_id.to_string()).copied().unwrap_or(0)) }
                    td data-label=(t("Zmiana", "Change")) { @if let Some(reserved) = holds.get(&k.kiosk_id) {
                        span.pending { (t("czeka na synchronizację: ", "pending until it syncs: ")) (kiosk_names.kiosk(&k.kiosk_id.to_string())) }
                        " " span.muted { "(" (t("do tego czasu zarezerwowane: ", "reserved until then: ")) (reserved) ")" }
                    } }
                }
            } }
        }
        p.muted #pool { (t("Pula serwera: ", "Server pool: ")) (pool_size) (t(" miejsc, z tego przyznane: ", " seats, granted: ")) (pool_held)
            " · " (t("Zwiększenie przydziału bierze miejsca tylko z wolnych w puli; zmniejszenie obowiązuje, gdy kiosk się zsynchronizuje.",
                   "An allotment increase takes only free pool seats; a decrease takes effect when the kiosk syncs.")) }
        @if ctx.can(Perm::ClassesEdit) {
            div.no-print {
            h2 { (t("Zmień przydział", "Change an allotment")) }
            form.inline method="post" action=(format!("/office/classes/{id}/allotments")) {
                (csrf(ctx))
                label { (t("Kiosk", "Kiosk")) select name="kiosk" { @for k in &kiosks { option value=(k.kiosk_id) { (kiosk_names.kiosk(&k.kiosk_id.to_string())) } } } }
                label { (t("Miejsca", "Seats")) input type="number" name="seats" min="0" max="1000" required; }
                button type="submit" { (t("Zapisz przydział", "Save the allotment")) }
            }
            h2 { (t("Nowe spotkanie", "New session")) }
            // Through daily work: a past date or a duplicate asks for a confirmation first.
            form.inline method="post" action=(format!("/office/classes/{id}/daily/sessions")) {
                (csrf(ctx))
                label { (t("Data", "Date")) input type="date" name="date" required; }
                label { (t("Godzina", "Start")) input type="time" name="start" required; }
                label { (t("Czas (min)", "Minutes")) input type="number" name="minutes" min="5" max="600" value="60" required; }
                button type="submit" { (t("Dodaj spotkanie", "Add the session")) }
            }
            @if !sessions.is_empty() {
                h2 { (t("Zmień termin spotkania", "Move a session")) }
                form.inline #edit-session method="post" action=(format!("/office/classes/{id}/sessions")) {
                    (csrf(ctx))
                    label { (t("Spotkanie", "Session")) select name="session" { @for s in &sessions { option value=(s.id) { (super::dates::day_text(l, &s.date)) ", " (s.start) } } } }
                    label { (t("Data", "Date")) input type="date" name="date" required; }
                    label { (t("Godzina", "Start")) input type="time" name="start" required; }
                    label { (t("Czas (min)", "Minutes")) input type="number" name="minutes" min="5" max="600" value="60" required; }
                    button type="submit" { (t("Zmień termin", "Move it")) }
                }
            }
            h2 { (t("Edytuj zajęcia", "Edit the class")) }
            form.stack method="post" action=(format!("/office/classes/{id}")) {
                (csrf(ctx))
                (class_fields(ctx, Some(&class)))
                button type="submit" { (t("Zapisz zmiany", "Save the changes")) }
            }
            }
        }
    };
    Ok(Out::Page {
        title: class.title.clone(),
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(branch: &str, title: &str) -> OClass {
        OClass {
            id: format!("{branch}/{title}"),
            branch_id: branch.to_owned(),
            title: title.to_owned(),
            instructor: String::new(),
            capacity: 10,
            waitlist_limit: 0,
        }
    }

    #[test]
    fn classes_list_by_branch_name_then_title_in_polish_order() {
        // The ids sort the other way round from the names.
        let branches = HashMap::from([
            ("0a".to_owned(), "Żoliborz".to_owned()),
            ("ff".to_owned(), "Łazienki".to_owned()),
            ("7c".to_owned(), "Centrum".to_owned()),
        ]);
        let mut classes = vec![
            class("0a", "Zumba"),
            class("ff", "Żeglarstwo"),
            class("7c", "Łucznictwo"),
            class("ff", "Czytanie"),
            class("7c", "Ćwiczenia"),
            class("0a", "Ćwiczenia"),
            class("7c", "Czytanie"),
        ];
        by_branch_then_title(&mut classes, &branches);
        let got: Vec<&str> = classes.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            got,
            [
                "7c/Czytanie",
                "7c/Ćwiczenia",
                "7c/Łucznictwo",
                "ff/Czytanie",
                "ff/Żeglarstwo",
                "0a/Ćwiczenia",
                "0a/Zumba",
            ]
        );
    }

    #[test]
    fn the_branch_choice_is_in_polish_order() {
        let branches: HashMap<String, String> = [
            "Żoliborz",
            "Zacisze",
            "Łazienki",
            "Ląd",
            "Centrum",
            "Ćmielów",
        ]
        .iter()
        .enumerate()
        .map(|(i, n)| (format!("{i}"), (*n).to_owned()))
        .collect();
        let got: Vec<&str> = in_name_order(&branches)
            .into_iter()
            .map(|(_, n)| n.as_str())
            .collect();
        assert_eq!(
            got,
            [
                "Centrum",
                "Ćmielów",
                "Ląd",
                "Łazienki",
                "Zacisze",
                "Żoliborz"
            ]
        );
    }
}
