//! The request (wniosek) queue: filters by status, service and branch; a request's page
//! with its history and staff notes; a status change written into the intake document by
//! the office's actor (so it reaches the kiosk at its next sync). Staff notes stay in a
//! server-only table.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::docs::{DocKey, IntakeDoc};
use blisko_shared::fold::{fold, name_matches};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::RequestId;
use blisko_shared::model::RequestStatus;
use blisko_shared::validate::{self, Field, NOTE_MAX_CHARS};

use super::layout::{csrf, request_status};
use super::{
    Ctx, OResult, OfficeError, Out, Perm, action, branch_names, field, invalid, now_text, page,
    parse_id,
};
use super::{dates, people};
use crate::central::load;
use crate::central::requests::{self, StatusStep};
use crate::http::AppState;
use crate::store::{Db, ORequest, RequestFilter};

/// A query-string value, percent-encoded.
fn url_part(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub const STATUSES: [&str; 5] = [
    "submitted",
    "in_review",
    "more_information_needed",
    "accepted",
    "rejected",
];

/// The queue's filters from the query string; unknown values are refused.
pub fn filter_from(query: &HashMap<String, String>, ctx: &Ctx) -> OResult<RequestFilter> {
    let get = |k: &str| {
        query
            .get(k)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let status = get("status");
    if let Some(s) = &status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(invalid(
            format!("Nieznany status: {s}."),
            format!("Unknown status: {s}."),
        ));
    }
    let mut filter = RequestFilter {
        status,
        service: get("service"),
        branch: get("branch"),
        person: None,
    };
    if let Some(own) = ctx.branch() {
        filter.branch = Some(own.to_owned());
    }
    Ok(filter)
}

/// The search text of the queue (`q`), if any.
pub fn search_from(query: &HashMap<String, String>) -> Option<String> {
    query
        .get("q")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Requests that pass `filter` and, with a search text, match it: the reference, the
/// person's given or family name (either order, without diacritics or case) or their
/// resident code.
pub fn matching(
    db: &Db<'_>,
    filter: &RequestFilter,
    search: Option<&str>,
    limit: usize,
) -> OResult<Vec<ORequest>> {
    let Some(search) = search else {
        return Ok(db.o_requests(filter, limit)?);
    };
    let folded = fold(search);
    let mut persons: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for r in db.o_requests(filter, 100_000)? {
        if out.len() >= limit {
            break;
        }
        let by_reference = fold(&r.reference).contains(&folded);
        let by_person = match persons.get(&r.person_id) {
            Some(m) => *m,
            None => {
                let m = db.o_person(&r.person_id)?.is_some_and(|p| {
                    !people::is_erased(&p)
                        && (name_matches(search, &p.given, &p.family)
                            || fold(&p.resident_code) == folded)
                });
                persons.insert(r.person_id.clone(), m);
                m
            }
        };
        if by_reference || by_person {
            out.push(r);
        }
    }
    Ok(out)
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    page(&state, &headers, Perm::Requests, move |db, _, ctx| {
        let filter = filter_from(&query, ctx)?;
        let search = search_from(&query);
        if search.is_some() {
            // The search text may be a name: it is not written to the audit log.
            db.audit(&now_text(), &ctx.actor(), "person_search", "intake:*", None)?;
        }
        let rows = matching(db, &filter, search.as_deref(), 500)?;
        let service_list = db.o_services()?;
        let services: HashMap<String, String> = service_list.iter().cloned().collect();
        let branches = branch_names(db)?;
        let mut branch_list: Vec<(&String, &String)> = branches.iter().collect();
        branch_list.sort_by_cached_key(|(_, name)| blisko_shared::collate::sort_key(name));
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let sel = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
        let export_query = format!(
            "status={}&service={}&branch={}&q={}",
            url_part(filter.status.as_deref().unwrap_or("")),
            url_part(filter.service.as_deref().unwrap_or("")),
            url_part(filter.branch.as_deref().unwrap_or("")),
            url_part(search.as_deref().unwrap_or(""))
        );
        let export = format!("/office/export/requests?{export_query}");
        let export_xlsx = format!("/office/export/requests/xlsx?{export_query}");
        let body = html! {
            h1 { (t("Wnioski", "Requests")) }
            form.filters method="get" action="/office/requests" {
                label { (t("Status", "Status"))
                    select name="status" {
                        option value="" { (t("wszystkie", "all")) }
                        @for s in STATUSES { option value=(s) selected[sel(&filter.status, s)] { (request_status(l, s)) } }
                    }
                }
                label { (t("Usługa", "Service"))
                    select name="service" {
                        option value="" { (t("wszystkie", "all")) }
                        @for (id, name) in &service_list { option value=(id) selected[sel(&filter.service, id)] { (name) } }
                    }
                }
                label { (t("Punkt", "Branch"))
                    select name="branch" {
                        option value="" { (t("wszystkie", "all")) }
                        @for (id, name) in &branch_list { option value=(id) selected[sel(&filter.branch, id)] { (name) } }
                    }
                }
                label { (t("Szukaj (numer, imię, nazwisko, kod)", "Search (reference, name, code)"))
                    input type="search" name="q" value=(search.as_deref().unwrap_or("")); }
                button type="submit" { (t("Filtruj", "Filter")) }
                a href=(export) { (t("Pobierz CSV", "Download CSV")) }
                a href=(export_xlsx) { (t("Pobierz XLSX", "Download XLSX")) }
            }
            p.muted { (rows.len()) " " (t("wniosków", "requests")) }
            table #requests {
                thead { tr {
                    th { (t("Numer", "Reference")) } th { (t("Usługa", "Service")) } th { (t("Punkt", "Branch")) }
                    th { (t("Złożony", "Submitted")) } th { (t("Status", "Status")) }
                } }
                tbody {
                    @for r in &rows {
                        tr data-request=(r.id) {
                            td { a href=(format!("/office/requests/{}", r.id)) { (r.reference) } }
                            td { (services.get(&r.service_id).map(String::as_str).unwrap_or("?")) }
                            td { (branches.get(&r.branch_id).map(String::as_str).unwrap_or("?")) }
                            td { (dates::moment(l, &r.submitted)) }
                            td class=(format!("status-{}", r.status)) { (request_status(l, &r.status)) }
                        }
                    }
                }
            }
        };
        Ok(Out::Page {
            title: t("Wnioski", "Requests").to_owned(),
            body,
        })
    })
    .await
}

pub async fn detail(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::Requests, move |db, _, ctx| {
        let id: RequestId = parse_id(&id, "wniosek", "request")?;
        let row = db
            .o_request(&id.to_string())?
            .filter(|r| ctx.sees_branch(&r.branch_id))
            .ok_or_else(|| OfficeError::NotFound(format!("intake:{id}")))?;
        let doc = load(db, DocKey::Intake(id))?
            .ok_or_else(|| OfficeError::NotFound(format!("intake:{id}")))?;
        let request = super::persons::read_intake(db, &IntakeDoc::from_doc(doc)?)?;
        let person = db.o_person(&row.person_id)?;
        let notes = db.notes(&row.id)?;
        let services: HashMap<String, String> = db.o_services()?.into_iter().collect();
        let branches = branch_names(db)?;
        let names = super::names::Names::load(db, ctx.lang)?.with_kiosk_staff(db)?;
        // Reading a request shows personal data: the read is audited (ids only).
        db.audit(
            &now_text(),
            &ctx.actor(),
            "person_read",
            &format!("person:{}", row.person_id),
            Some(&format!("intake:{id}")),
        )?;
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let current = request.status().code();
        let final_decision = matches!(current, "accepted" | "rejected");
        let who = |by: &str| -> String { names.actor(by) };
        let body = html! {
            h1 { (t("Wniosek", "Request")) " " (request.reference) }
            table {
                tr { th { (t("Status", "Status")) } td #status class=(format!("status-{current}")) { (request_status(l, current)) } }
                tr { th { (t("Usługa", "Service")) } td { (services.get(&row.service_id).map(String::as_str).unwrap_or("?")) } }
                tr { th { (t("Punkt", "Branch")) } td { (branches.get(&row.branch_id).map(String::as_str).unwrap_or("?")) } }
                tr { th { (t("Osoba", "Person")) } td {
                    @if let Some(p) = &person {
                        @if people::is_erased(p) { (people::erased_label(l)) } @else { (p.given) " " (p.family) " (" (people::birth_year(p)) ")" }
                        @if ctx.can(Perm::Persons) { " · " a href=(format!("/office/persons/{}", p.id)) { (t("karta osoby", "person's page")) } }
                    } @else { span.muted { "—" } }
                } }
                tr { th { (t("Wnioskodawca", "Applicant")) } td { (people::applicant_role(l, request.applicant_role)) } }
                tr { th { (t("Opis potrzeby", "Description of need")) } td { (request.description) } }
                tr { th { (t("Oświadczenie (wersja)", "Declaration (version)")) } td { (request.declaration_version) } }
                @if let Some(due) = &request.ipus_due { tr { th { "IPUS" } td { (t("plan należy przygotować do ", "plan due by ")) (due) } } }
            }
            h2 { (t("Historia", "History")) }
            table {
                thead { tr { th { (t("Kiedy", "When")) } th { (t("Status", "Status")) } th { (t("Kto", "Who")) } th { (t("Decyzja i odwołanie", "Decision and appeal")) } } }
                tbody { @for step in &request.history {
                    tr {
                        td { (dates::moment(l, &step.at.to_string())) }
                        td { (request_status(l, step.status.code())) }
                        td { (who(&step.by)) }
                        td { @if let Some(d) = &step.decision_reference { (d) } @if let Some(a) = &step.appeal_info { br; (a) } }
                    }
                } }
            }
            h2 { (t("Notatki pracowników (tylko w biurze)", "Staff notes (office only)")) }
            @if notes.is_empty() { p.muted { (t("Brak notatek.", "No notes.")) } }
            @for n in &notes {
                p.note { strong { (n.staff_name) } " · " (dates::moment(l, &n.at)) " · " (request_status(l, &n.status)) br; (n.note) }
            }
            @if final_decision {
                p.muted { (t("Decyzja jest ostateczna w systemie; odwołanie rozpatruje się w trybie odwoławczym.", "The decision is final here; an appeal follows the appeal procedure.")) }
            } @else {
                h2 { (t("Zmień status", "Change the status")) }
                form.stack method="post" action=(format!("/office/requests/{id}")) {
                    (csrf(ctx))
                    label { (t("Nowy status", "New status"))
                        select name="status" required {
                            @for s in ["in_review", "accepted", "rejected", "more_information_needed"] { option value=(s) { (request_status(l, s)) } }
                        }
                    }
                    label { (t("Notatka (zostaje w biurze)", "Note (stays in the office)")) textarea name="note" rows="3" maxlength=(NOTE_MAX_CHARS) {} }
                    label { (t("Znak decyzji (przy odmowie)", "Decision reference (for a rejection)")) input type="text" name="decision_reference" maxlength="100"; }
                    label { (t("Pouczenie o odwołaniu (przy odmowie)", "How to appeal (for a rejection)")) textarea name="appeal_info" rows="2" maxlength="1000" {} }
                    button type="submit" { (t("Zapisz status", "Save the status")) }
                }
            }
        };
        Ok(Out::Page {
            title: format!("{} {}", t("Wniosek", "Request"), request.reference),
            body,
        })
    })
    .await
}

pub async fn change_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Requests,
        form,
        move |db, clock, ctx, form| {
            let id: RequestId = parse_id(&id, "wniosek", "request")?;
            let change = status_step(form)?;
            set_status(db, clock, ctx, id, &change)?;
            Ok(Out::Redirect(format!("/office/requests/{id}")))
        },
    )
    .await
}

/// A status change as the form sends it, checked by the core's rules.
pub fn status_step(form: &HashMap<String, String>) -> OResult<StatusStep> {
    let status = field(form, "status")
        .and_then(RequestStatus::from_code)
        .filter(|s| *s != RequestStatus::Submitted)
        .ok_or_else(|| {
            invalid(
                "Wybierz status: w rozpatrzeniu, przyjęty, odrzucony albo potrzebne informacje.",
                "Choose a status: in review, accepted, rejected or more information needed.",
            )
        })?;
    let text = |name: &str, max: usize, pl: &str, en: &str| -> OResult<Option<String>> {
        match field(form, name) {
            None => Ok(None),
            Some(v) => validate::free_text(Field::Note, v, max)
                .map(Some)
                .map_err(|_| {
                    invalid(
                        format!("{pl}: tekst do {max} znaków, bez znaków sterujących."),
                        format!("{en}: text of at most {max} characters, no control characters."),
                    )
                }),
        }
    };
    let note = text("note", NOTE_MAX_CHARS, "Notatka", "Note")?;
    let decision_reference = text(
        "decision_reference",
        100,
        "Znak decyzji",
        "Decision reference",
    )?;
    let appeal_info = text("appeal_info", 1000, "Pouczenie", "Appeal information")?;
    Ok(StatusStep::new(
        status,
        note,
        decision_reference,
        appeal_info,
    )?)
}

/// A status step from the office page: the account must see the request's branch.
pub fn set_status(
    db: &Db<'_>,
    clock: &mut HlcClock,
    ctx: &Ctx,
    id: RequestId,
    step: &StatusStep,
) -> OResult<()> {
    let key = DocKey::Intake(id);
    db.o_request(&id.to_string())?
        .filter(|r| ctx.sees_branch(&r.branch_id))
        .ok_or_else(|| OfficeError::NotFound(key.to_string()))?;
    requests::set_status(db, clock, &ctx.actor(), &ctx.staff.id, id, step)?;
    super::projection::project(db, [key])?;
    Ok(())
}
