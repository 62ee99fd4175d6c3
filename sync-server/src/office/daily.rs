//! Daily work on a class: a registration taken on the phone (and its receipt), a
//! cancellation, a waiting person confirmed by hand, the waiting list's phone numbers (an
//! audited read), attendance from a signed paper list, and sessions cancelled, deleted,
//! added with warnings or generated weekly without public holidays. The writes are core
//! functions in `central::daily`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use blisko_shared::docs::{CatalogDoc, DocKey};
use blisko_shared::ids::{ClassId, PersonId, RegistrationId, SessionId, StaffId};
use blisko_shared::model::{
    AttendanceStatus, Catalog, Class, INFORMATION_CLAUSE, INFORMATION_CLAUSE_VERSION, Session,
};
use blisko_shared::seats::SeatStatus;

use super::layout::{attendance_status, csrf, registration_status};
use super::{
    Ctx, OResult, OfficeError, Out, Perm, Redisplay, action, action_or_form, invalid, now_text,
    page, parse_id, typed,
};
use super::{dates, people};
use crate::central::daily::{self, PaperMark, PhoneRegistration};
use crate::central::{load, seats};
use crate::http::AppState;
use crate::store::{Db, ORegistration};
use blisko_shared::holidays;
use blisko_shared::i18n::Lang;

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.trim().is_empty())
}

/// The class and its branch catalog, if this account may see it (another branch's class
/// is refused as [`OfficeError::OtherBranch`], which is audited).
pub(super) fn class_of(db: &Db<'_>, ctx: &Ctx, id: ClassId) -> OResult<(Class, Catalog)> {
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

fn sessions_of(catalog: &Catalog, class: ClassId) -> Vec<Session> {
    let mut sessions: Vec<Session> = catalog
        .sessions
        .iter()
        .filter(|s| s.class_id == class)
        .cloned()
        .collect();
    sessions.sort_by(|a, b| (&a.date, &a.start).cmp(&(&b.date, &b.start)));
    sessions
}

fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}

fn base(id: ClassId) -> String {
    format!("/office/classes/{id}/daily")
}

/// "Family Given" as lists show it (the erased label for an erased person).
fn name_of(db: &Db<'_>, lang: Lang, person: &str) -> OResult<String> {
    Ok(db
        .o_person(person)?
        .map(|p| people::display_name(lang, &p))
        .unwrap_or_else(|| "—".to_owned()))
}

pub async fn page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::ClassesView, move |db, _, ctx| {
        let id: ClassId = parse_id(&id, "zajęcia", "class")?;
        render(db, ctx, id, None)
    })
    .await
}

/// A phone registration refused: what was typed, and why.
struct Kept<'a> {
    form: &'a PhoneForm,
    error: &'a OfficeError,
}

/// The daily page; with `kept`, the phone form again with what was typed and the refusal
/// above it (status 400), so that nothing has to be asked again on the phone.
fn render(db: &Db<'_>, ctx: &Ctx, id: ClassId, kept: Option<Kept<'_>>) -> OResult<Out> {
    let (class, catalog) = class_of(db, ctx, id)?;
    let mut regs = db.o_registrations_of_class(&id.to_string())?;
    let (pool_size, pool_held) = seats::pool_of(db, class.branch_id, id)?;
    let free = pool_size.saturating_sub(pool_held);
    let sessions = sessions_of(&catalog, id);
    let mut names = HashMap::new();
    let mut order = HashMap::new();
    for r in &regs {
        if let Some(p) = db.o_person(&r.person_id)? {
            names.insert(r.person_id.clone(), people::display_name(ctx.lang, &p));
            order.insert(r.person_id.clone(), people::sort_key(&p));
        }
    }
    // People in Polish alphabetical order, as on the printed list (the waiting list is
    // shown by its positions).
    regs.sort_by(|a, b| order.get(&a.person_id).cmp(&order.get(&b.person_id)));
    db.audit(
        &now_text(),
        &ctx.actor(),
        "roster_read",
        &format!("roster:{id}"),
        None,
    )?;
    let refusal = super::refusal_text(ctx.lang, kept.as_ref().map(|k| k.error));
    let body = daily_body(
        ctx,
        &class,
        &regs,
        &names,
        free,
        &sessions,
        kept.as_ref().map(|k| k.form),
        refusal.as_deref(),
    );
    Ok(Out::page_or_refused(
        class.title.clone(),
        body,
        kept.is_some(),
    ))
}

#[allow(clippy::too_many_arguments)]
fn daily_body(
    ctx: &Ctx,
    class: &Class,
    regs: &[ORegistration],
    names: &HashMap<String, String>,
    free: u32,
    sessions: &[Session],
    typed: Option<&PhoneForm>,
    refusal: Option<&str>,
) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    let l = ctx.lang;
    let id = class.id;
    let b = base(id);
    let today = today().to_string();
    let confirmed: Vec<_> = regs
        .iter()
        .filter(|r| r.status == SeatStatus::Confirmed)
        .collect();
    let mut waiting: Vec<_> = regs
        .iter()
        .filter(|r| r.status == SeatStatus::Waitlisted)
        .collect();
    waiting.sort_by_key(|r| r.position);
    html! {
        h1 { (class.title) ": " (t("praca codzienna", "daily work")) }
        p { a href=(format!("/office/classes/{id}")) { (t("← karta zajęć", "← the class page")) }
            @if ctx.can(Perm::PaperAttendance) { " · " a #grid-link href=(format!("{b}/attendance")) { (t("Obecność z listy papierowej", "Attendance from a paper list")) } } }
        p #pool-free { (t("Wolne miejsca w puli biura: ", "Free seats in the office pool: ")) strong { (free) }
            " · " (t("miejsca", "capacity")) ": " (class.capacity)
            " · " (t("limit listy rezerwowej", "waiting list limit")) ": " (class.waitlist_limit) }
        @if ctx.can(Perm::Registrations) {
            h2 #phone { (t("Zapisz osobę (telefonicznie)", "Register a person (phone call)")) }
            p.muted { (t("Miejsce pochodzi z puli biura, nigdy z przydziału kiosku. Gdy w puli nie ma miejsca, osoba trafia na listę rezerwową (w granicach limitu).",
                         "The seat comes from the office pool, never from a kiosk's allotment. With no pool seat the person goes on the waiting list (within its limit).")) }
            @if let Some(message) = refusal {
                p.error #phone-refused role="alert" { (message) }
            }
            form.stack #phone-form method="post" action=(format!("{b}/register")) {
                (csrf(ctx))
                (person_fields(ctx, typed))
                button type="submit" { (t("Zapisz", "Register")) }
            }
        }
        h2 { (t("Zapisani", "Confirmed")) " (" (confirmed.len()) ")" }
        div.daily-grid {
        table.fold #daily-confirmed {
            thead { tr { th { (t("Osoba", "Person")) } th { (t("Status", "Status")) } th {} } }
            tbody { @for r in &confirmed {
                tr data-registration=(r.id) {
                    td data-label=(t("Osoba", "Person")) { (names.get(&r.person_id).map(String::as_str).unwrap_or("—")) }
                    td data-label=(t("Status", "Status")) { (registration_status(l, r.status)) }
                    td.no-print { @if ctx.can(Perm::Registrations) { a href=(format!("{b}/cancel/{}", r.id)) { (t("Anuluj zapis", "Cancel")) } } }
                }
            } }
        }
        }
        h2 { (t("Lista rezerwowa", "Waiting list")) " (" (waiting.len()) ")" }
        div.daily-grid {
        table.fold #daily-waiting {
            thead { tr { th { "#" } th { (t("Osoba", "Person")) } th {} } }
            tbody { @for r in &waiting {
                tr data-registration=(r.id) {
                    td data-label=(t("Miejsce", "Position")) { (r.position.unwrap_or(0)) }
                    td data-label=(t("Osoba", "Person")) { (names.get(&r.person_id).map(String::as_str).unwrap_or("—")) }
                    td.no-print { @if ctx.can(Perm::Registrations) {
                        // A seat by hand only when the pool has one (the server gives free
                        // pool seats to the waiting list in order by itself).
                        @if free > 0 {
                            form.inline method="post" action=(format!("{b}/confirm/{}", r.id)) {
                                (csrf(ctx))
                                button type="submit" { (t("Potwierdź miejsce", "Confirm a seat")) }
                            }
                        } @else {
                            span.muted.no-seat { (t("brak wolnego miejsca w puli", "no free seat in the pool")) }
                        }
                        " " a href=(format!("{b}/cancel/{}", r.id)) { (t("Anuluj zapis", "Cancel")) }
                    } }
                }
            } }
        }
        }
        @if ctx.can(Perm::WaitlistPhones) && !waiting.is_empty() {
            form.inline #phones-form method="post" action=(format!("{b}/phones")) {
                (csrf(ctx))
                button type="submit" { (t("Pokaż telefony", "Show phone numbers")) }
                span.muted { " " (t("(odczyt zostanie zapisany w dzienniku)", "(the read is recorded in the audit log)")) }
            }
        }
        h2 { (t("Spotkania", "Sessions")) }
        div.daily-grid {
        table.fold #daily-sessions {
            thead { tr { th { (t("Data", "Date")) } th { (t("Godzina", "Time")) } th.num { (t("Min", "Min")) } th { (t("Status", "Status")) } th {} } }
            tbody { @for s in sessions {
                tr data-session=(s.id) data-date=(s.date) data-cancelled=(s.cancelled) {
                    td data-label=(t("Data", "Date")) { (dates::day_text(l, &s.date))
                        @if let Some(name) = s.date.parse().ok().and_then(holidays::public_holiday) {
                            br; span.pending.holiday { (t("dzień wolny: ", "public holiday: ")) (name) } } }
                    td data-label=(t("Godzina", "Time")) { (s.start) } td.num data-label=(t("Min", "Min")) { (s.minutes) }
                    td data-label=(t("Status", "Status")) { @if s.cancelled { span.pending { (t("odwołane", "cancelled")) } } @else if s.date.as_str() < today.as_str() { (t("odbyło się", "past")) } @else { (t("zaplanowane", "planned")) } }
                    td.no-print { @if ctx.can(Perm::ClassesEdit) {
                        @if s.cancelled {
                            form.inline method="post" action=(format!("{b}/sessions/{}/restore", s.id)) { (csrf(ctx)) button type="submit" { (t("Przywróć", "Restore")) } }
                        } @else {
                            form.inline method="post" action=(format!("{b}/sessions/{}/cancel", s.id)) { (csrf(ctx)) button type="submit" { (t("Odwołaj", "Cancel")) } }
                        }
                        " "
                        form.inline method="post" action=(format!("{b}/sessions/{}/delete", s.id)) { (csrf(ctx)) button type="submit" { (t("Usuń", "Delete")) } }
                    } }
                }
            } }
        }
        }
        @if ctx.can(Perm::ClassesEdit) {
            h2 { (t("Dodaj spotkanie", "Add a session")) }
            form.inline #add-session method="post" action=(format!("{b}/sessions")) {
                (csrf(ctx))
                label { (t("Data", "Date")) input type="date" name="date" required; }
                label { (t("Godzina", "Start")) input type="time" name="start" required; }
                label { (t("Czas (min)", "Minutes")) input type="number" name="minutes" min="5" max="600" value="60" required; }
                button type="submit" { (t("Dodaj", "Add")) }
            }
            h2 { (t("Spotkania co tydzień", "Weekly sessions")) }
            p.muted { (t("Dni ustawowo wolne od pracy są pomijane; przed zapisaniem zobaczysz listę dat.",
                         "Public holidays are skipped; you see the list of dates before anything is saved.")) }
            form.inline #generate method="post" action=(format!("{b}/sessions/generate")) {
                (csrf(ctx))
                label { (t("Od", "From")) input type="date" name="from" required; }
                label { (t("Do", "To")) input type="date" name="to" required; }
                label { (t("Dzień tygodnia", "Weekday")) select name="weekday" {
                    @for (i, (pl, en)) in WEEKDAYS.iter().enumerate() { option value=(i) { (t(pl, en)) } }
                } }
                label { (t("Godzina", "Start")) input type="time" name="start" required; }
                label { (t("Czas (min)", "Minutes")) input type="number" name="minutes" min="5" max="600" value="60" required; }
                button type="submit" { (t("Pokaż daty", "Show the dates")) }
            }
        }
    }
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("poniedziałek", "Monday"),
    ("wtorek", "Tuesday"),
    ("środa", "Wednesday"),
    ("czwartek", "Thursday"),
    ("piątek", "Friday"),
    ("sobota", "Saturday"),
    ("niedziela", "Sunday"),
];

/// The fields of a phone registration, filled from `form` when it is shown again.
fn person_fields(ctx: &Ctx, form: Option<&PhoneForm>) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    html! {
        label { (t("Imię", "Given name")) input type="text" name="given" required maxlength="60" value=[form.map(|f| f.given.as_str())]; }
        label { (t("Nazwisko", "Family name")) input type="text" name="family" required maxlength="60" value=[form.map(|f| f.family.as_str())]; }
        label { (t("Rok urodzenia", "Birth year")) input type="number" name="birth_year" required min="1900" max="2100" value=[form.map(|f| f.birth_year.as_str())]; }
        label { (t("Telefon (opcjonalnie)", "Phone (optional)")) input type="tel" name="phone" maxlength="20" value=[form.and_then(|f| f.phone.as_deref())]; }
        // The clause the kiosk shows, to be read out; its version is recorded with the consent.
        blockquote #clause-text { (t(INFORMATION_CLAUSE.0, INFORMATION_CLAUSE.1))
            br; span.muted { (t("Wersja tekstu: ", "Text version: ")) (INFORMATION_CLAUSE_VERSION) } }
        label.check { input type="checkbox" name="clause" value="1" checked[form.is_some_and(|f| checked(&f.clause))];
            (t(" Odczytałem/odczytałam klauzulę informacyjną i osoba ją przyjęła", " I read the information clause to the person and they accepted it")) }
        label.check { input type="checkbox" name="sms" value="1" checked[form.is_some_and(|f| checked(&f.sms))];
            (t(" Osoba zgadza się na przypomnienia SMS", " The person agrees to SMS reminders")) }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct PhoneForm {
    given: String,
    family: String,
    birth_year: String,
    phone: Option<String>,
    clause: Option<String>,
    sms: Option<String>,
    /// A person found with the same name and birth year, chosen by the office.
    existing: Option<String>,
    /// The office checked the matches: this is someone else.
    new_person: Option<String>,
}

pub async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let path_id = id.clone();
    let redisplay: Redisplay = Box::new(move |db, ctx, form, error| {
        let id: ClassId = parse_id(&path_id, "zajęcia", "class")?;
        let form: PhoneForm = typed(form)?;
        render(db, ctx, id, Some(Kept { form: &form, error }))
    });
    action_or_form(
        &state,
        &headers,
        Perm::Registrations,
        form,
        move |db, clock, ctx, form| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            let (class, _) = class_of(db, ctx, id)?;
            let f: PhoneForm = typed(form)?;
            let existing: Option<PersonId> = match f.existing.as_deref().filter(|e| !e.is_empty()) {
                Some(e) => {
                    let person: PersonId = parse_id(e, "osoba", "person")?;
                    // Only a person this account may see.
                    db.o_person(&person.to_string())?
                        .filter(|p| ctx.sees_branch(&p.branch_id))
                        .ok_or_else(|| OfficeError::NotFound(format!("person:{person}")))?;
                    Some(person)
                }
                None => None,
            };
            if existing.is_none() && !checked(&f.new_person) {
                let matches = same_person(db, &f)?;
                if !matches.is_empty() {
                    db.audit(
                        &now_text(),
                        &ctx.actor(),
                        "phone_registration_matches",
                        &format!("class:{id}"),
                        Some(&format!("found:{}", matches.len())),
                    )?;
                    return Ok(Out::Page {
                        title: ctx
                            .t("Czy to ta sama osoba?", "Is this the same person?")
                            .to_owned(),
                        body: matches_body(ctx, &class, &f, &matches),
                    });
                }
            }
            let receipt = daily::register_by_phone(
                db,
                clock,
                &PhoneRegistration {
                    class: id,
                    existing,
                    given_name: f.given.clone(),
                    family_name: f.family.clone(),
                    birth_year: f.birth_year.clone(),
                    phone: f.phone.clone(),
                    clause_read: checked(&f.clause),
                    sms_consent: checked(&f.sms),
                },
                &ctx.actor(),
            )?;
            Ok(Out::Redirect(format!(
                "{}/receipt/{}",
                base(id),
                receipt.registration
            )))
        },
        Some(redisplay),
    )
    .await
}

/// Persons already known with the same family name, given name and birth year.
fn same_person(db: &Db<'_>, f: &PhoneForm) -> OResult<Vec<crate::store::OPerson>> {
    let Ok(year) = f.birth_year.trim().parse::<u16>() else {
        return Ok(Vec::new());
    };
    let key = super::projection::name_key(&f.family, &f.given, year);
    Ok(db
        .o_person_search(&format!("{} {}", f.given.trim(), f.family.trim()), 200)?
        .into_iter()
        .filter(|p| {
            u16::try_from(p.birth_year).ok() == Some(year)
                && super::projection::name_key(&p.family, &p.given, year) == key
        })
        .collect())
}

fn matches_body(
    ctx: &Ctx,
    class: &Class,
    f: &PhoneForm,
    matches: &[crate::store::OPerson],
) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    let action = format!("{}/register", base(class.id));
    html! {
        h1 { (t("Czy to ta sama osoba?", "Is this the same person?")) }
        p { (t("Taka osoba (imię, nazwisko i rok urodzenia) jest już w systemie. Proszę zapytać o kod mieszkańca albo numer telefonu i wybrać:",
               "A person with this name and birth year is already known. Please ask for the resident code or the phone number, and choose:")) }
        div.daily-grid {
        table.fold #matches {
            thead { tr { th { (t("Osoba", "Person")) } th { (t("Rok", "Year")) } th { (t("Kod mieszkańca", "Resident code")) } th {} } }
            tbody { @for p in matches {
                tr data-person=(p.id) {
                    td data-label=(t("Osoba", "Person")) { (people::display_name(ctx.lang, p)) }
                    td data-label=(t("Rok", "Year")) { (people::birth_year(p)) }
                    td data-label=(t("Kod mieszkańca", "Resident code")) { (p.resident_code) }
                    td { form.inline method="post" action=(action) {
                        (csrf(ctx))
                        (hidden_person(f))
                        input type="hidden" name="existing" value=(p.id);
                        button type="submit" { (t("To ta osoba: zapisz ją", "This is them: register")) }
                    } }
                }
            } }
        }
        }
        form.inline #new-person method="post" action=(action) {
            (csrf(ctx))
            (hidden_person(f))
            input type="hidden" name="new_person" value="1";
            button type="submit" { (t("To inna osoba: utwórz nową", "Someone else: create a new person")) }
        }
        p { a href=(base(class.id)) { (t("Wróć bez zapisu", "Go back without registering")) } }
    }
}

fn hidden_person(f: &PhoneForm) -> Markup {
    html! {
        input type="hidden" name="given" value=(f.given);
        input type="hidden" name="family" value=(f.family);
        input type="hidden" name="birth_year" value=(f.birth_year);
        input type="hidden" name="phone" value=(f.phone.as_deref().unwrap_or(""));
        @if checked(&f.clause) { input type="hidden" name="clause" value="1"; }
        @if checked(&f.sms) { input type="hidden" name="sms" value="1"; }
    }
}

/// One registration of the class, from the projection.
fn registration_of(db: &Db<'_>, class: ClassId, reg: &str) -> OResult<ORegistration> {
    db.o_registrations_of_class(&class.to_string())?
        .into_iter()
        .find(|r| r.id == reg)
        .ok_or_else(|| OfficeError::NotFound(format!("registration:{reg}")))
}

pub async fn receipt(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, reg)): Path<(String, String)>,
) -> Response {
    page(&state, &headers, Perm::Registrations, move |db, _, ctx| {
        let id: ClassId = parse_id(&id, "zajęcia", "class")?;
        let (class, catalog) = class_of(db, ctx, id)?;
        let r = registration_of(db, id, &reg)?;
        let person = db
            .o_person(&r.person_id)?
            .ok_or_else(|| OfficeError::NotFound(format!("person:{}", r.person_id)))?;
        // What a kiosk's slip says too: where, and when the next sessions are.
        let today = today().to_string();
        let next: Vec<Session> = sessions_of(&catalog, id)
            .into_iter()
            .filter(|s| !s.cancelled && s.date >= today)
            .take(3)
            .collect();
        db.audit(
            &now_text(),
            &ctx.actor(),
            "registration_receipt",
            &format!("registration:{}", r.id),
            None,
        )?;
        let t = |pl, en| ctx.t(pl, en);
        let body = html! {
            h1 { (t("Potwierdzenie zapisu", "Registration receipt")) }
            p { (t("Zajęcia", "Class")) ": " strong { (class.title) } }
            p { (t("Osoba", "Person")) ": " (people::given_first(ctx.lang, &person)) " (" (people::birth_year(&person)) ")" }
            p #receipt-place { (t("Miejsce", "Place")) ": " (catalog.branch.name) ", " (catalog.branch.address)
                @if !class.room.is_empty() { " · " (class.room) } }
            @if !next.is_empty() {
                p { (t("Najbliższe spotkania", "Next sessions")) ":" }
                ul #receipt-sessions { @for s in &next { li data-date=(s.date) { (dates::day_text(ctx.lang, &s.date)) ", " (s.start) } } }
            }
            p #receipt-status data-status=(r.status) { (t("Status", "Status")) ": " strong { (registration_status(ctx.lang, r.status)) }
                @if let Some(p) = r.position { " #" (p) } }
            p { (t("Kod mieszkańca", "Resident code")) ": " strong #resident-code { (person.resident_code) } }
            p.muted { (t("Z tym kodem można zapisać się w każdym kiosku. Zapis przyjęto telefonicznie w biurze.",
                         "With this code the person can register at any kiosk. Registered by phone at the office.")) }
            p.no-print { a href=(base(id)) { (t("Wróć", "Back")) } }
        };
        Ok(Out::Print {
            title: t("Potwierdzenie zapisu", "Registration receipt").to_owned(),
            body,
        })
    })
    .await
}

pub async fn cancel_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, reg)): Path<(String, String)>,
) -> Response {
    page(&state, &headers, Perm::Registrations, move |db, _, ctx| {
        let id: ClassId = parse_id(&id, "zajęcia", "class")?;
        let (class, _) = class_of(db, ctx, id)?;
        let r = registration_of(db, id, &reg)?;
        let name = name_of(db, ctx.lang, &r.person_id)?;
        let t = |pl, en| ctx.t(pl, en);
        let body = html! {
            h1 { (t("Anulować zapis?", "Cancel the registration?")) }
            p { (name) " · " (class.title) " · " (registration_status(ctx.lang, r.status)) }
            p { (t("Zwolnione miejsce z puli biura dostanie pierwsza osoba z listy rezerwowej; miejsce kiosku rozdzieli kiosk po synchronizacji.",
                   "A freed pool seat goes to the first person waiting; a kiosk's seat is given by the kiosk after it syncs.")) }
            form.inline #cancel-form method="post" action=(format!("{}/cancel/{}", base(id), r.id)) {
                (csrf(ctx))
                button type="submit" { (t("Tak, anuluj zapis", "Yes, cancel it")) }
            }
            " " a href=(base(id)) { (t("Nie, wróć", "No, go back")) }
        };
        Ok(Out::Page {
            title: t("Anulować zapis?", "Cancel the registration?").to_owned(),
            body,
        })
    })
    .await
}

pub async fn cancel(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, reg)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Registrations,
        form,
        move |db, clock, ctx, _| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            class_of(db, ctx, id)?;
            let reg: RegistrationId = parse_id(&reg, "zapis", "registration")?;
            daily::cancel_registration(db, clock, id, reg, &ctx.actor())?;
            Ok(Out::Redirect(base(id)))
        },
    )
    .await
}

pub async fn confirm_seat(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, reg)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Registrations,
        form,
        move |db, clock, ctx, _| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            class_of(db, ctx, id)?;
            let reg: RegistrationId = parse_id(&reg, "zapis", "registration")?;
            daily::confirm_waiting(db, clock, id, reg, &ctx.actor())?;
            Ok(Out::Redirect(base(id)))
        },
    )
    .await
}

/// The waiting list's phone numbers: shown only on this answer, and the read audited.
pub async fn phones(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::WaitlistPhones,
        form,
        move |db, _, ctx, _| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            let (class, _) = class_of(db, ctx, id)?;
            let waiting: Vec<_> = db
                .o_registrations_of_class(&id.to_string())?
                .into_iter()
                .filter(|r| r.status == SeatStatus::Waitlisted)
                .collect();
            let mut rows = Vec::new();
            for r in &waiting {
                let p = db.o_person(&r.person_id)?;
                rows.push((
                    r.position.unwrap_or(0),
                    p.as_ref()
                        .map(|p| format!("{} {}", p.family, p.given))
                        .unwrap_or_else(|| "—".to_owned()),
                    p.and_then(|p| p.phone),
                ));
            }
            db.audit(
                &now_text(),
                &ctx.actor(),
                "waitlist_phones_read",
                &format!("class:{id}"),
                Some(&format!("persons:{}", rows.len())),
            )?;
            let t = |pl, en| ctx.t(pl, en);
            let body = html! {
                h1 { (class.title) ": " (t("telefony listy rezerwowej", "waiting list phone numbers")) }
                p.muted { (t("Odczyt numerów został zapisany w dzienniku.", "This read is recorded in the audit log.")) }
                div.daily-grid {
        table.fold #phones {
                    thead { tr { th { "#" } th { (t("Osoba", "Person")) } th { (t("Telefon", "Phone")) } } }
                    tbody { @for (pos, name, phone) in &rows {
                        tr { td data-label=(t("Miejsce", "Position")) { (pos) } td data-label=(t("Osoba", "Person")) { (name) }
                            td data-label=(t("Telefon", "Phone")) { @match phone { Some(p) => a href=(format!("tel:{p}")) { (p) }, None => span.muted { (t("brak numeru", "no number")) } } } }
                    } }
                }
        }
                p { a href=(base(id)) { (t("Wróć", "Back")) } }
            };
            Ok(Out::Page {
                title: t("Telefony listy rezerwowej", "Waiting list phone numbers").to_owned(),
                body,
            })
        },
    )
    .await
}

/// The sessions a paper list may fill: held up to today and not cancelled.
fn gridded_sessions(catalog: &Catalog, class: ClassId) -> Vec<Session> {
    let today = today().to_string();
    sessions_of(catalog, class)
        .into_iter()
        .filter(|s| !s.cancelled && s.date.as_str() <= today.as_str())
        .collect()
}

pub async fn grid_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::PaperAttendance, move |db, _, ctx| {
        let id: ClassId = parse_id(&id, "zajęcia", "class")?;
        let (class, catalog) = class_of(db, ctx, id)?;
        let sessions = gridded_sessions(&catalog, id);
        let regs: Vec<_> = db
            .o_registrations_of_class(&id.to_string())?
            .into_iter()
            .filter(|r| r.status == SeatStatus::Confirmed)
            .collect();
        let marks: HashMap<(String, String), String> = db
            .o_attendance_of_class(&id.to_string())?
            .into_iter()
            .map(|a| ((a.session_id, a.registration_id), a.status))
            .collect();
        let mut names = HashMap::new();
        for r in &regs {
            names.insert(r.id.clone(), name_of(db, ctx.lang, &r.person_id)?);
        }
        db.audit(
            &now_text(),
            &ctx.actor(),
            "roster_read",
            &format!("roster:{id}"),
            None,
        )?;
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let body = html! {
            h1 { (class.title) ": " (t("obecność z listy papierowej", "attendance from a paper list")) }
            p.muted { (t("Puste pole nie zmienia zapisanej obecności. Spotkania przyszłe i odwołane nie są tu pokazane. Gdy kiosk zapisał inną obecność w tym samym czasie, różnica trafi do uzgadniania.",
                         "A blank cell leaves the recorded attendance as it is. Future and cancelled sessions are not shown. If a kiosk recorded a different mark at the same time, the difference goes to reconciliation.")) }
            @if sessions.is_empty() || regs.is_empty() {
                p #grid-empty { (t("Brak spotkań do uzupełnienia albo brak zapisanych osób.", "No sessions to fill in, or nobody is registered.")) }
            } @else {
                form #grid method="post" action=(format!("{}/attendance", base(id))) {
                    (csrf(ctx))
                    div.daily-grid {
                        table.fold #grid-table {
                            thead { tr { th { (t("Osoba", "Person")) } @for s in &sessions { th { (s.date) br; (s.start) } } } }
                            tbody { @for r in &regs {
                                tr data-registration=(r.id) {
                                    td.grid-person data-label=(t("Osoba", "Person")) { (names.get(&r.id).map(String::as_str).unwrap_or("—")) }
                                    @for s in &sessions {
                                        @let current = marks.get(&(s.id.to_string(), r.id.clone())).map(String::as_str).unwrap_or("");
                                        td data-label=(format!("{} {}", s.date, s.start)) { select name=(format!("m_{}_{}", s.id, r.id)) aria-label=(format!("{} {}", s.date, names.get(&r.id).map(String::as_str).unwrap_or(""))) {
                                            option value="" selected[current.is_empty() || current == "conflict"] { @if current == "conflict" { (attendance_status(l, "conflict")) } @else { "—" } }
                                            @for code in ["present", "absent", "excused"] {
                                                option value=(code) selected[current == code] { (attendance_status(l, code)) }
                                            }
                                        } }
                                    }
                                }
                            } }
                        }
                    }
                    button type="submit" { (t("Zapisz obecność", "Save the attendance")) }
                }
            }
            p { a href=(base(id)) { (t("Wróć", "Back")) } }
        };
        Ok(Out::Page {
            title: t("Obecność z listy papierowej", "Attendance from a paper list").to_owned(),
            body,
        })
    })
    .await
}

/// The marks of an attendance form: a field `m_<session>_<registration>` per cell, its
/// value a status code; an empty cell is left out (the recorded mark stays).
pub(super) fn paper_marks(form: &HashMap<String, String>) -> OResult<Vec<PaperMark>> {
    let mut marks = Vec::new();
    for (name, value) in form {
        let Some(cell) = name.strip_prefix("m_") else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        let (session, registration) = cell
            .split_once('_')
            .ok_or_else(|| invalid("Nieznane pole formularza.", "An unknown form field."))?;
        let status = AttendanceStatus::from_code(value.trim()).ok_or_else(|| {
            invalid(
                "Proszę wybrać: obecny, nieobecny albo usprawiedliwiony.",
                "Choose present, absent or excused.",
            )
        })?;
        marks.push(PaperMark {
            session: parse_id::<SessionId>(session, "spotkanie", "session")?,
            registration: parse_id::<RegistrationId>(registration, "zapis", "registration")?,
            status,
        });
    }
    Ok(marks)
}

pub async fn grid_save(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::PaperAttendance,
        form,
        move |db, clock, ctx, form| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            class_of(db, ctx, id)?;
            let marks = paper_marks(form)?;
            let by: StaffId = parse_id(&ctx.staff.id, "pracownik", "staff")?;
            daily::record_paper_attendance(
                db,
                clock,
                id,
                &marks,
                by,
                &today().to_string(),
                &ctx.actor(),
            )?;
            Ok(Out::Redirect(format!("{}/attendance", base(id))))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct SessionForm {
    date: String,
    start: String,
    minutes: String,
    /// The office saw the warnings and still wants it.
    confirm: Option<String>,
}

fn parse_start(start: &str) -> OResult<String> {
    let start = start.trim();
    if start.len() == 5 && jiff::civil::Time::strptime("%H:%M", start).is_ok() {
        Ok(start.to_owned())
    } else {
        Err(invalid(
            "„Godzina”: w postaci GG:MM.",
            "\"Start\": as HH:MM.",
        ))
    }
}

fn parse_minutes(minutes: &str) -> OResult<u32> {
    minutes
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (5..=600).contains(m))
        .ok_or_else(|| {
            invalid(
                "„Czas (min)”: liczba od 5 do 600.",
                "\"Minutes\": a number from 5 to 600.",
            )
        })
}

fn parse_date(text: &str, pl: &str, en: &str) -> OResult<jiff::civil::Date> {
    text.trim().parse().map_err(|_| {
        invalid(
            format!("„{pl}”: w postaci RRRR-MM-DD."),
            format!("\"{en}\": as YYYY-MM-DD."),
        )
    })
}

/// What to check before a session is added on `date` at `start` or a session (`moved`)
/// is moved there: a past date, another session of the class at that time, a public
/// holiday, New Year's Eve. Each warning in Polish and English.
pub(super) fn session_warnings(
    catalog: &Catalog,
    class: ClassId,
    date: jiff::civil::Date,
    start: &str,
    moved: Option<SessionId>,
) -> Vec<(String, String)> {
    let mut warnings: Vec<(String, String)> = Vec::new();
    let (date_pl, date_en) = (dates::day(Lang::Pl, date), dates::day(Lang::En, date));
    if date < today() {
        warnings.push((
            format!("Data {date_pl} już minęła."),
            format!("The date {date_en} is in the past."),
        ));
    }
    if sessions_of(catalog, class)
        .iter()
        .any(|s| Some(s.id) != moved && s.date == date.to_string() && s.start == start)
    {
        warnings.push((
            format!("Te zajęcia mają już spotkanie {date_pl} o {start}."),
            format!("The class already has a session on {date_en} at {start}."),
        ));
    }
    if let Some(name) = holidays::public_holiday(date) {
        warnings.push((
            format!("{date_pl} to dzień wolny od pracy ({name})."),
            format!("{date_en} is a public holiday ({name})."),
        ));
    }
    if holidays::warn_about(date) {
        warnings.push((
            format!("{date_pl} to sylwester: wiele osób może nie przyjść."),
            format!("{date_en} is New Year's Eve: many may not come."),
        ));
    }
    warnings
}

/// The page that asks before a session is saved despite `warnings`: the same form sent
/// again to `action` with `hidden` fields and `confirm=1`, or back to `back` unchanged.
pub(super) fn confirm_session(
    ctx: &Ctx,
    action: &str,
    hidden: &[(&str, String)],
    warnings: &[(String, String)],
    back: &str,
) -> Out {
    let t = |pl, en| ctx.t(pl, en);
    let body = html! {
        h1 { (t("Proszę sprawdzić", "Please check")) }
        ul #warnings { @for (pl, en) in warnings { li { (t(pl, en)) } } }
        form.inline #confirm-session method="post" action=(action) {
            (csrf(ctx))
            @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
            input type="hidden" name="confirm" value="1";
            button type="submit" { (t("Mimo to zapisz spotkanie", "Save the session anyway")) }
        }
        " " a href=(back) { (t("Wróć bez zmian", "Go back without changes")) }
    };
    Out::Page {
        title: t("Proszę sprawdzić", "Please check").to_owned(),
        body,
    }
}

/// Add one session; a past date, a date already taken at that time, a public holiday or
/// New Year's Eve first asks for a confirmation.
pub async fn add_session(
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
            let (_, catalog) = class_of(db, ctx, id)?;
            let f: SessionForm = typed(form)?;
            let date = parse_date(&f.date, "Data", "Date")?;
            let start = parse_start(&f.start)?;
            let minutes = parse_minutes(&f.minutes)?;
            let warnings = session_warnings(&catalog, id, date, &start, None);
            if !warnings.is_empty() && !checked(&f.confirm) {
                let hidden = [
                    ("date", date.to_string()),
                    ("start", start.clone()),
                    ("minutes", minutes.to_string()),
                ];
                return Ok(confirm_session(
                    ctx,
                    &format!("{}/sessions", base(id)),
                    &hidden,
                    &warnings,
                    &base(id),
                ));
            }
            let session = Session {
                id: SessionId::new(),
                class_id: id,
                date: date.to_string(),
                start,
                minutes,
                cancelled: false,
            };
            daily::add_sessions(db, clock, id, &[session], &ctx.actor())?;
            Ok(Out::Redirect(base(id)))
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct GenerateForm {
    from: String,
    to: String,
    weekday: String,
    start: String,
    minutes: String,
    confirm: Option<String>,
}

/// Weekly sessions over a date range without public holidays: the dates (and the skipped
/// holidays) are shown first; saved on confirmation.
pub async fn generate(
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
            let (_, catalog) = class_of(db, ctx, id)?;
            let f: GenerateForm = typed(form)?;
            let from = parse_date(&f.from, "Od", "From")?;
            let to = parse_date(&f.to, "Do", "To")?;
            if to < from || (to - from).get_days() > 366 {
                return Err(invalid(
                    "„Do” musi być po „Od”, najwyżej rok później.",
                    "\"To\" must follow \"From\", at most a year later.",
                ));
            }
            let weekday_index = f
                .weekday
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|i| *i < 7)
                .ok_or_else(|| invalid("Proszę wybrać dzień tygodnia.", "Choose a weekday."))?;
            let weekday = jiff::civil::Weekday::from_monday_zero_offset(weekday_index as i8)
                .map_err(|_| invalid("Proszę wybrać dzień tygodnia.", "Choose a weekday."))?;
            let start = parse_start(&f.start)?;
            let minutes = parse_minutes(&f.minutes)?;
            let plan = holidays::weekly(from, to, weekday);
            let existing = sessions_of(&catalog, id);
            let (duplicates, keep): (Vec<jiff::civil::Date>, Vec<jiff::civil::Date>) =
                plan.keep.iter().partition(|d| {
                existing
                    .iter()
                    .any(|s| s.date == d.to_string() && s.start == start)
            });
            if !checked(&f.confirm) {
                let t = |pl, en| ctx.t(pl, en);
                let body = html! {
                    h1 { (t("Spotkania do dodania", "Sessions to add")) }
                    p { (t("Dzień", "Weekday")) ": " (t(WEEKDAYS[weekday_index].0, WEEKDAYS[weekday_index].1)) ", " (start) ", " (minutes) " min" }
                    ul #dates { @for d in &keep { li data-date=(d) { (dates::day(ctx.lang, *d))
                        @if holidays::warn_about(*d) { " " span.pending { (t("(sylwester: nie jest dniem wolnym, ale wiele osób może nie przyjść)", "(New Year's Eve: not a holiday, but many may not come)")) } }
                        @if *d < today() { " " span.pending { (t("(data minęła)", "(in the past)")) } } } } }
                    @if !plan.skipped.is_empty() {
                        h2 { (t("Pominięte dni wolne od pracy", "Skipped public holidays")) }
                        ul #skipped { @for (d, name) in &plan.skipped { li data-date=(d) { (dates::day(ctx.lang, *d)) " — " (name) } } }
                    }
                    @if !duplicates.is_empty() {
                        h2 { (t("Pominięte, bo spotkanie już jest", "Skipped, a session already exists")) }
                        ul #duplicates { @for d in &duplicates { li data-date=(d) { (dates::day(ctx.lang, *d)) } } }
                    }
                    @if keep.is_empty() {
                        p { (t("Nie ma czego dodać.", "Nothing to add.")) }
                    } @else {
                        form.inline #confirm-generate method="post" action=(format!("{}/sessions/generate", base(id))) {
                            (csrf(ctx))
                            input type="hidden" name="from" value=(from);
                            input type="hidden" name="to" value=(to);
                            input type="hidden" name="weekday" value=(weekday_index);
                            input type="hidden" name="start" value=(start);
                            input type="hidden" name="minutes" value=(minutes);
                            input type="hidden" name="confirm" value="1";
                            button type="submit" { (t("Dodaj ", "Add ")) (keep.len()) (t(" spotkań", " sessions")) }
                        }
                    }
                    " " a href=(base(id)) { (t("Wróć bez zmian", "Go back without changes")) }
                };
                return Ok(Out::Page {
                    title: t("Spotkania do dodania", "Sessions to add").to_owned(),
                    body,
                });
            }
            let sessions: Vec<Session> = keep
                .iter()
                .map(|d| Session {
                    id: SessionId::new(),
                    class_id: id,
                    date: d.to_string(),
                    start: start.clone(),
                    minutes,
                    cancelled: false,
                })
                .collect();
            if !sessions.is_empty() {
                daily::add_sessions(db, clock, id, &sessions, &ctx.actor())?;
            }
            Ok(Out::Redirect(base(id)))
        },
    )
    .await
}

/// What to do with one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionChange {
    Cancel,
    Restore,
    Delete,
}

async fn change_session(
    state: AppState,
    headers: HeaderMap,
    id: String,
    session: String,
    form: HashMap<String, String>,
    change: SessionChange,
) -> Response {
    action(
        &state,
        &headers,
        Perm::ClassesEdit,
        form,
        move |db, clock, ctx, _| {
            let id: ClassId = parse_id(&id, "zajęcia", "class")?;
            class_of(db, ctx, id)?;
            let session: SessionId = parse_id(&session, "spotkanie", "session")?;
            match change {
                SessionChange::Cancel => {
                    daily::set_session_cancelled(db, clock, id, session, true, &ctx.actor())?
                }
                SessionChange::Restore => {
                    daily::set_session_cancelled(db, clock, id, session, false, &ctx.actor())?
                }
                SessionChange::Delete => {
                    daily::delete_session(db, clock, id, session, &ctx.actor())?
                }
            }
            Ok(Out::Redirect(base(id)))
        },
    )
    .await
}

pub async fn cancel_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    change_session(state, headers, id, session, form, SessionChange::Cancel).await
}

pub async fn restore_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    change_session(state, headers, id, session, form, SessionChange::Restore).await
}

pub async fn delete_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    change_session(state, headers, id, session, form, SessionChange::Delete).await
}
