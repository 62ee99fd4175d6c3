//! A person's page: everything the server holds about them (for a data-access request:
//! the person document, registrations, attendance, requests with their history and staff
//! notes, linked duplicates, and who read their data), the withdrawal of their SMS
//! consent, and the erase action.
//!
//! Erasing (with every linked record) and withdrawing the SMS consent are the core's: see
//! `central::persons`.

use std::collections::{HashMap, HashSet};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::docs::{DocKey, IntakeDoc};
use blisko_shared::fold::fold;
use blisko_shared::i18n::Lang;
use blisko_shared::ids::{PersonId, RequestId};
use blisko_shared::model::{ConsentKind, IntakeRequest};

use super::layout::{attendance_status, csrf, registration_status, request_status};
use super::{
    OResult, Out, Perm, action, blocking, branch_names, field, invalid, now_text, page, parse_id,
};
use super::{dates, people};
use crate::central::load;
use crate::central::persons::find_person;
use crate::http::AppState;
use crate::store::{Db, RequestFilter};

pub use crate::central::persons::ERASED;

pub async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    page(&state, &headers, Perm::Persons, move |db, _, ctx| {
        let q = query.get("q").map(|s| s.trim().to_owned()).unwrap_or_default();
        let found = if q.chars().count() >= 2 {
            // The search text may be a name: it is not written to the audit log.
            db.audit(&now_text(), &ctx.actor(), "person_search", "person:*", None)?;
            let mut found = db.o_person_search(&q, 100)?;
            // A request reference finds the person who filed it.
            let reference = fold(&q);
            let mut seen: HashSet<String> = found.iter().map(|p| p.id.clone()).collect();
            for r in db.o_requests(&RequestFilter::default(), 100_000)? {
                if fold(&r.reference).contains(&reference) && seen.insert(r.person_id.clone()) {
                    found.extend(db.o_person(&r.person_id)?);
                }
            }
            found.retain(|p| ctx.sees_branch(&p.branch_id));
            people::sort_persons(&mut found);
            found.truncate(100);
            found
        } else {
            Vec::new()
        };
        let l = ctx.lang;
        let t = |pl, en| ctx.t(pl, en);
        let body = html! {
            h1 { (t("Osoby", "Persons")) }
            form.filters method="get" action="/office/persons" {
                label { (t("Imię, nazwisko, kod mieszkańca lub numer wniosku", "Given or family name, resident code or request reference")) input type="search" name="q" value=(q) minlength="2"; }
                button type="submit" { (t("Szukaj", "Search")) }
            }
            @if !found.is_empty() {
                table.fold #persons {
                    thead { tr { th { (t("Osoba", "Person")) } th { (t("Rok urodzenia", "Birth year")) } th { (t("Kod", "Code")) } } }
                    tbody { @for p in &found {
                        tr data-person=(p.id) {
                            td data-label=(t("Osoba", "Person")) { a href=(format!("/office/persons/{}", p.id)) { (people::display_name(l, p)) } }
                            td data-label=(t("Rok urodzenia", "Birth year")) { (people::birth_year(p)) }
                            td data-label=(t("Kod", "Code")) { (p.resident_code) }
                        }
                    } }
                }
            } @else if q.chars().count() >= 2 { p.muted { (t("Nikogo nie znaleziono.", "Nobody found.")) } }
        };
        Ok(Out::Page { title: t("Osoby", "Persons").to_owned(), body })
    })
    .await
}

pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::Persons, move |db, _, ctx| {
        let id: PersonId = parse_id(&id, "osoba", "person")?;
        let (_, person) = find_person(db, id)?;
        ctx.in_branch(&person.home_branch.to_string(), "person", id)?;
        let group = db.person_group(&id.to_string())?;
        let regs = db.o_registrations_of_persons(&group)?;
        let mut requests = Vec::new();
        for p in &group {
            requests.extend(db.o_requests(&RequestFilter { person: Some(p.clone()), ..Default::default() }, 1000)?);
        }
        let classes: HashMap<String, String> = db.o_classes(None)?.into_iter().map(|c| (c.id, c.title)).collect();
        let services: HashMap<String, String> = db.o_services()?.into_iter().collect();
        let branches = branch_names(db)?;
        // The other records linked to this one, which an erasure reaches too: where each
        // came from (no details of theirs beyond what this page shows).
        let who = super::names::Names::load(db, ctx.lang)?;
        let mut others = Vec::new();
        for p in group.iter().filter(|p| **p != id.to_string()) {
            let row = db.o_person(p)?;
            let kiosk = row.as_ref().and_then(|r| r.kiosk_id.as_ref()).map(|k| who.kiosk(k));
            let branch = row.as_ref().and_then(|r| branches.get(&r.branch_id));
            others.push((p.clone(), kiosk.unwrap_or_else(|| "—".into()), branch.cloned().unwrap_or_else(|| "?".into())));
        }
        let erased = db.person_key(id)?.is_none();
        let sms = person.consents.iter().find(|c| c.kind == ConsentKind::SmsReminders);
        // Reads of their data: their own records and the rosters that list them.
        let mut subjects: Vec<String> = group.iter().map(|p| format!("person:{p}")).collect();
        let mut rosters: Vec<String> = regs.iter().map(|r| format!("roster:{}", r.class_id)).collect();
        rosters.sort();
        rosters.dedup();
        subjects.extend(rosters);
        let reads = db.audit_about(&subjects, 200)?;
        let read_names = super::names::Names::load(db, ctx.lang)?.with_references(
            db,
            reads.iter().flat_map(|r| [r.subject.as_str(), r.detail.as_deref().unwrap_or("")]),
            ctx.can(Perm::Persons),
        )?;
        db.audit(&now_text(), &ctx.actor(), "person_read", &format!("person:{id}"), Some("data_access"))?;
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let mut request_docs = Vec::new();
        for r in &requests {
            let rid: RequestId = parse_id(&r.id, "wniosek", "request")?;
            if let Some(doc) = load(db, DocKey::Intake(rid))? {
                request_docs.push((read_intake(db, &IntakeDoc::from_doc(doc)?)?, db.notes(&r.id)?));
            }
        }
        let body = html! {
            h1 { @if erased { (people::erased_label(l)) } @else { (person.given_name) " " (person.family_name) } }
            p.muted { (t("Wszystko, co serwer przechowuje o tej osobie (wniosek o dostęp do danych, art. 15 RODO).", "Everything the server holds about this person (data-access request, GDPR art. 15).")) }
            table #person {
                tr { th { (t("Imię", "Given name")) } td { @if erased { (people::erased_label(l)) } @else { (person.given_name) } } }
                tr { th { (t("Nazwisko", "Family name")) } td { @if erased { (people::erased_label(l)) } @else { (person.family_name) } } }
                tr { th { (t("Rok urodzenia", "Birth year")) } td { @if erased || person.birth_year == 0 { "—" } @else { (person.birth_year) } } }
                tr { th { (t("Telefon", "Phone")) } td { (person.phone.as_deref().unwrap_or("—")) } }
                tr { th { (t("Kod mieszkańca", "Resident code")) } td { (person.resident_code) } }
                tr { th { (t("Punkt", "Branch")) } td { (branches.get(&person.home_branch.to_string()).map(String::as_str).unwrap_or("?")) } }
                tr { th { (t("Zgody i klauzule", "Consents and notices")) } td { @for c in &person.consents { (consent_label(l, c.kind)) ": " (c.text_version) " (" (dates::moment(l, &c.at.to_string())) ")" br; } } }
                tr { th { (t("Przypomnienia SMS", "SMS reminders")) } td #sms-consent {
                    @match sms {
                        Some(c) => { (t("zgoda", "consented")) " · " (t("wiadomości po ", "messages in ")) (match c.lang() { Lang::Pl => t("polsku", "Polish"), Lang::En => t("angielsku", "English") }) " · " (c.text_version) " (" (dates::moment(l, &c.at.to_string())) ")" }
                        None => { (t("brak zgody", "no consent")) }
                    }
                } }
                @if !others.is_empty() { tr { th { (t("Połączone rekordy", "Linked records")) } td #linked { @for (p, kiosk, branch) in &others { a href=(format!("/office/persons/{p}")) { (t("rekord", "record")) } " · " (kiosk) " · " (branch) br; } } } }
            }
            h2 { (t("Zapisy", "Registrations")) }
            table.fold #registrations {
                thead { tr { th { (t("Zajęcia", "Class")) } th { (t("Status", "Status")) } th { (t("Zapis", "Registered")) } th { (t("Obecność", "Attendance")) } } }
                tbody { @for r in &regs {
                    tr data-registration=(r.id) {
                        td data-label=(t("Zajęcia", "Class")) { (classes.get(&r.class_id).map(String::as_str).unwrap_or("?")) }
                        td data-label=(t("Status", "Status")) { (registration_status(l, r.status)) }
                        td data-label=(t("Zapis", "Registered")) { (dates::moment(l, &r.created)) }
                        td data-label=(t("Obecność", "Attendance")) { @for a in db.o_attendance_of_registration(&r.id)? { (attendance_status(l, &a.status)) " " } }
                    }
                } }
            }
            h2 { (t("Wnioski", "Requests")) }
            @for (r, notes) in &request_docs {
                div.card {
                    h3 { (r.reference) " · " (services.get(&r.service_id.to_string()).map(String::as_str).unwrap_or("?")) " · " (request_status(l, r.status().code())) }
                    p { (t("Opis", "Description")) ": " (r.description) }
                    @if let Some(p) = &r.pesel { p { "PESEL: " (p) } }
                    p { @for s in &r.history { (dates::moment(l, &s.at.to_string())) " " (request_status(l, s.status.code())) br; } }
                    @for n in notes { p.note { (t("Notatka", "Note")) " (" (dates::moment(l, &n.at)) "): " (n.note) } }
                }
            }
            h2 { (t("Kto oglądał dane tej osoby", "Who looked at this person's data")) }
            table.fold #reads {
                thead { tr { th { (t("Kiedy", "When")) } th { (t("Kto", "Who")) } th { (t("Co", "What")) } } }
                tbody { @for a in &reads { tr { td data-label=(t("Kiedy", "When")) { (dates::moment(l, &a.at)) } td data-label=(t("Kto", "Who")) { (read_names.actor(&a.actor)) } td data-label=(t("Co", "What")) {
                    (super::audit::action_label(l, &a.action))
                    @if !a.subject.starts_with("person:") { " · " (super::audit::in_words(&read_names, &a.subject)) }
                    @if a.detail.is_some() { " · " (super::audit::detail(&read_names, a.detail.as_deref())) }
                } } } }
            }
            @if sms.is_some() && !erased {
                h2 { (t("Zgoda na SMS", "SMS consent")) }
                p { (t("Dla osoby, która nie chce już wiadomości SMS. Po wycofaniu zgody nie zostanie do niej wysłany żaden SMS, a kioski dowiedzą się o tym przy następnej synchronizacji. Telefon i pozostałe dane zostają.",
                       "For a person who no longer wants SMS reminders. Once the consent is withdrawn no SMS is sent to them, and the kiosks learn it at their next sync. The phone number and other details stay.")) }
                form.stack #sms-withdraw method="post" action=(format!("/office/persons/{id}/sms-withdraw")) {
                    (csrf(ctx))
                    button type="submit" { (t("Wycofaj zgodę na SMS", "Withdraw SMS consent")) }
                }
            }
            h2 { (t("Usunięcie danych", "Erase personal data")) }
            p { (t("Niszczy klucz, którym zaszyfrowane są imię, nazwisko, rok urodzenia i telefon tej osoby oraz opisy i PESEL jej wniosków, i usuwa treść notatek o jej wnioskach. Bez klucza tych danych nie da się odczytać nigdzie: ani w historii dokumentów, ani w kioskach, ani w kopiach zapasowych bazy dokumentów. Kioski usuną swoje kopie przy następnej synchronizacji. Zapisy, obecności i statusy wniosków zostają (bez danych osobowych).",
                   "Destroys the key that this person's name, birth year and phone, and the description and PESEL of their requests, are encrypted with, and erases the text of staff notes on their requests. Without the key these data cannot be read anywhere: not in document history, not on kiosks, not in backups of the document database. Kiosks delete their copies at their next sync. Registrations, attendance and request statuses stay (without personal data).")) }
            @if !others.is_empty() {
                p #erase-linked { strong {
                    (t("Ta osoba ma połączone rekordy (uzgadnianie duplikatów), których dane zostaną usunięte razem z nią. Liczba połączonych rekordów: ", "This person has linked records (duplicate reconciliation), whose data will be erased with theirs. Linked records: "))
                    (others.len()) ": "
                    @for (i, (_, kiosk, branch)) in others.iter().enumerate() { @if i > 0 { ", " } (kiosk) " (" (branch) ")" }
                    "."
                } }
            }
            form.stack method="post" action=(format!("/office/persons/{id}/erase")) {
                (csrf(ctx))
                label { input type="checkbox" name="confirm" value="yes" required; (t("Potwierdzam usunięcie danych tej osoby", "I confirm erasing this person's data")) }
                button.danger type="submit" { (t("Usuń dane osobowe", "Erase personal data")) }
            }
        };
        let title = if erased { people::erased_label(l).to_owned() } else { format!("{} {}", person.given_name, person.family_name) };
        Ok(Out::Page { title, body })
    })
    .await
}

pub async fn erase(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let response = action(
        &state,
        &headers,
        Perm::Persons,
        form,
        move |db, _, ctx, form| {
            let id: PersonId = parse_id(&id, "osoba", "person")?;
            if field(form, "confirm") != Some("yes") {
                return Err(invalid(
                    "Zaznacz potwierdzenie usunięcia.",
                    "Tick the confirmation to erase.",
                ));
            }
            if let Some(person) = db.o_person(&id.to_string())? {
                ctx.in_branch(&person.branch_id, "person", id)?;
            }
            crate::central::persons::erase(db, id, &ctx.actor())?;
            Ok(Out::Redirect(format!("/office/persons/{id}")))
        },
    )
    .await;
    if let Err(e) = blocking(&state, |central| {
        central.checkpoint_after_erasure();
        Ok(())
    })
    .await
    {
        tracing::warn!(error = %e, "checkpoint after an erasure failed");
    }
    response
}

/// "Wycofaj zgodę na SMS": the person's SMS consent is withdrawn (see
/// `central::persons::withdraw_sms`), in the action's transaction.
pub async fn withdraw_sms(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Persons,
        form,
        move |db, clock, ctx, _| {
            let id: PersonId = parse_id(&id, "osoba", "person")?;
            let person = db
                .o_person(&id.to_string())?
                .ok_or_else(|| crate::central::CentralError::NotFound(format!("person:{id}")))?;
            ctx.in_branch(&person.branch_id, "person", id)?;
            let at = clock.tick(crate::central::now_wall_ms());
            crate::central::persons::withdraw_sms(db, id, at, &ctx.actor())?;
            Ok(Out::Redirect(format!("/office/persons/{id}")))
        },
    )
    .await
}

/// A consent or notice a person gave, in words.
fn consent_label(lang: Lang, kind: ConsentKind) -> &'static str {
    match kind {
        ConsentKind::InformationClause => super::tr(
            lang,
            "klauzula informacyjna (RODO)",
            "information clause (GDPR)",
        ),
        ConsentKind::SmsReminders => super::tr(lang, "przypomnienia SMS", "SMS reminders"),
    }
}

/// An intake request with its personal content opened with the person's key; without
/// the key (erased) the description reads [`ERASED`].
pub fn read_intake(db: &Db<'_>, intake: &IntakeDoc) -> OResult<IntakeRequest> {
    let person = intake.read(None)?.person_id;
    Ok(match db.person_key(person)? {
        Some(key) => intake.read(Some(&key))?,
        None => IntakeRequest {
            description: ERASED.to_owned(),
            ..intake.read(None)?
        },
    })
}
