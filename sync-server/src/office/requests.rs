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
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::RequestId;
use blisko_shared::model::RequestStatus;
use blisko_shared::validate::{self, Field, NOTE_MAX_CHARS};

use super::layout::{csrf, request_status};
use super::persons::ERASED;
use super::requests_queue::{caseworkers, deadline_cell, deadline_of, request_for};
use super::{
    Ctx, OResult, OfficeError, Out, Perm, Redisplay, action_or_form, branch_names, field, invalid,
    now_text, page, parse_id,
};
use super::{dates, people};
use crate::central::load;
use crate::central::requests::{self, StatusStep};
use crate::http::AppState;
use crate::store::{AssigneeFilter, Db, QueueFilter, QueueRow, RequestFilter};
use blisko_shared::fold::{fold, name_matches};

/// The longest message to a resident: a few sentences fit on the kiosk's screen.
pub const MESSAGE_MAX_CHARS: usize = 500;

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

/// The queue's filters beyond [`filter_from`]: whose requests, and a reference search.
pub fn queue_filter(
    query: &HashMap<String, String>,
    ctx: &Ctx,
) -> OResult<(QueueFilter, String, String)> {
    let base = filter_from(query, ctx)?;
    let get = |k: &str| query.get(k).map(|s| s.trim()).unwrap_or("");
    let assignee_code = get("assignee").to_owned();
    let assignee = match assignee_code.as_str() {
        "" => AssigneeFilter::Anyone,
        "me" => AssigneeFilter::Staff(ctx.staff.id.clone()),
        "none" => AssigneeFilter::Nobody,
        other => {
            return Err(invalid(
                format!("Nieznany wybór osoby: {other}."),
                format!("Unknown assignee choice: {other}."),
            ));
        }
    };
    let q = get("q").to_owned();
    if q.chars().count() > 40 || q.chars().any(char::is_control) {
        return Err(invalid(
            "Szukany tekst: do 40 znaków, bez znaków sterujących.",
            "Search text: at most 40 characters, no control characters.",
        ));
    }
    let filter = QueueFilter {
        status: base.status,
        service: base.service,
        branch: base.branch,
        assignee,
        reference: Some(q.clone()).filter(|q| !q.is_empty()),
    };
    Ok((filter, assignee_code, q))
}

/// The queue rows that pass `filter`; its search text matches the beginning of a
/// reference, the applicant's given or family name (either order, without diacritics or
/// case) or their resident code.
pub fn matching(db: &Db<'_>, filter: &QueueFilter, limit: usize) -> OResult<Vec<QueueRow>> {
    let Some(search) = filter.reference.clone() else {
        return Ok(db.request_queue(filter, limit)?);
    };
    let filter = QueueFilter {
        reference: None,
        ..filter.clone()
    };
    let folded = fold(&search);
    let mut out = Vec::new();
    for row in db.request_queue(&filter, 100_000)? {
        if out.len() >= limit {
            break;
        }
        let by_reference = fold(&row.request.reference).starts_with(&folded);
        let by_name = row
            .applicant
            .as_ref()
            .is_some_and(|(given, family)| name_matches(&search, given, family));
        let by_code = !by_reference
            && !by_name
            && db
                .o_person(&row.request.person_id)?
                .is_some_and(|p| !people::is_erased(&p) && fold(&p.resident_code) == folded);
        if by_reference || by_name || by_code {
            out.push(row);
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
        let (filter, assignee, q) = queue_filter(&query, ctx)?;
        let rows = matching(db, &filter, 500)?;
        let service_list = db.o_services()?;
        let services: HashMap<String, String> = service_list.iter().cloned().collect();
        let branches = branch_names(db)?;
        let mut branch_list: Vec<(&String, &String)> = branches.iter().collect();
        branch_list.sort_by_cached_key(|(_, name)| blisko_shared::collate::sort_key(name));
        let staff: HashMap<String, String> = db.staff_names()?.into_iter().collect();
        // The queue names applicants: the read is audited (the page, not the names).
        db.audit(
            &now_text(),
            &ctx.actor(),
            "request_queue_read",
            "page:requests",
            Some(&rows.len().to_string()),
        )?;
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let sel = |v: &Option<String>, x: &str| v.as_deref() == Some(x);
        let export_query = form_urlencoded::Serializer::new(String::new())
            .append_pair("status", filter.status.as_deref().unwrap_or(""))
            .append_pair("service", filter.service.as_deref().unwrap_or(""))
            .append_pair("branch", filter.branch.as_deref().unwrap_or(""))
            .append_pair("q", &q)
            .finish();
        let export = format!("/office/export/requests?{export_query}");
        let export_xlsx = format!("/office/export/requests/xlsx?{export_query}");
        let body = html! {
            h1 { (t("Wnioski", "Requests")) }
            form.filters method="get" action="/office/requests" {
                label { (t("Szukaj (numer, imię, nazwisko, kod)", "Search (reference, name, code)"))
                    input type="search" name="q" value=(q) maxlength="40" placeholder=(t("np. MAL/1/0001", "e.g. MAL/1/0001"));
                }
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
                @if ctx.branch().is_none() {
                    label { (t("Punkt", "Branch"))
                        select name="branch" {
                            option value="" { (t("wszystkie", "all")) }
                            @for (id, name) in &branch_list { option value=(id) selected[sel(&filter.branch, id)] { (name) } }
                        }
                    }
                }
                label { (t("Kto prowadzi", "Assigned to"))
                    select name="assignee" {
                        option value="" { (t("wszyscy", "anyone")) }
                        option value="me" selected[assignee == "me"] { (t("moje", "mine")) }
                        option value="none" selected[assignee == "none"] { (t("nieprzydzielone", "unassigned")) }
                    }
                }
                button type="submit" { (t("Filtruj", "Filter")) }
                a href=(export) { (t("Pobierz CSV", "Download CSV")) }
                a href=(export_xlsx) { (t("Pobierz XLSX", "Download XLSX")) }
            }
            p.muted { (rows.len()) " " (t("wniosków, najpierw najbliższy termin", "requests, nearest deadline first")) }
            div.table-wrap {
                table.fold #requests {
                    thead { tr {
                        th { (t("Numer", "Reference")) } th { (t("Wnioskodawca", "Applicant")) }
                        th { (t("Usługa", "Service")) } th { (t("Punkt", "Branch")) }
                        th { (t("Złożony", "Filed")) } th.num { (t("Dni oczekiwania", "Days waiting")) }
                        th { (t("Termin decyzji", "Decision due")) } th { (t("Status", "Status")) }
                        th { (t("Prowadzi", "Assigned to")) }
                    } }
                    tbody {
                        @for row in &rows {
                            @let r = &row.request;
                            @let d = deadline_of(r);
                            tr data-request=(r.id) {
                                td data-label=(t("Numer", "Reference")) { a href=(format!("/office/requests/{}", r.id)) { (r.reference) } }
                                td.applicant data-label=(t("Wnioskodawca", "Applicant")) { @match &row.applicant {
                                    Some((given, family)) if given != ERASED && family != ERASED => { (family) " " (given) }
                                    _ => span.muted { (people::erased_label(l)) }
                                } }
                                td data-label=(t("Usługa", "Service")) { (services.get(&r.service_id).map(String::as_str).unwrap_or("?")) }
                                td data-label=(t("Punkt", "Branch")) { (branches.get(&r.branch_id).map(String::as_str).unwrap_or("?")) }
                                td.filed data-label=(t("Złożony", "Filed")) { (dates::day(l, d.filed)) }
                                td.num.waiting data-label=(t("Dni oczekiwania", "Days waiting")) { (d.days_waiting) }
                                (deadline_cell(ctx, &d))
                                td class=(format!("status-{}", r.status)) data-label=(t("Status", "Status")) { (request_status(l, &r.status)) }
                                td.assignee data-label=(t("Prowadzi", "Assigned to")) { @match row.assignee.as_ref() {
                                    Some(id) => (staff.get(id).map(String::as_str).unwrap_or("?")),
                                    None => span.muted { "—" },
                                } }
                            }
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
        render_detail(db, ctx, id, None, false)
    })
    .await
}

/// A status form refused: what was typed, and why.
pub struct Kept<'a> {
    pub form: &'a HashMap<String, String>,
    pub error: &'a OfficeError,
}

/// A request's page; with `kept`, the status form again with what was typed and the
/// refusal (status 400); with `pesel`, the PESEL shown (the caller audits the reading).
pub fn render_detail(
    db: &Db<'_>,
    ctx: &Ctx,
    id: RequestId,
    kept: Option<Kept<'_>>,
    pesel: bool,
) -> OResult<Out> {
    let row = request_for(db, ctx, id)?;
    let doc = load(db, DocKey::Intake(id))?
        .ok_or_else(|| OfficeError::NotFound(format!("intake:{id}")))?;
    let intake = IntakeDoc::from_doc(doc)?;
    let request = super::persons::read_intake(db, &intake)?;
    let message = match db.person_key(request.person_id)? {
        Some(key) => intake.resident_message(&key),
        None => None,
    };
    let person = db.o_person(&row.person_id)?;
    let notes = db.notes(&row.id)?;
    let services: HashMap<String, String> = db.o_services()?.into_iter().collect();
    let branches = branch_names(db)?;
    let staff: HashMap<String, String> = db.staff_names()?.into_iter().collect();
    let assignee = db.request_assignee(&row.id)?;
    let caseworkers = caseworkers(db, &row.branch_id)?;
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
    let d = deadline_of(&row);
    let names = super::names::Names::load(db, ctx.lang)?.with_kiosk_staff(db)?;
    let who = |by: &str| -> String { names.actor(by) };
    let typed = |name: &str| -> String {
        kept.as_ref()
            .and_then(|k| k.form.get(name))
            .cloned()
            .unwrap_or_default()
    };
    let refusal = super::refusal_text(l, kept.as_ref().map(|k| k.error));
    let chosen = typed("status");
    let body = html! {
        h1 { (t("Wniosek", "Request")) " " (request.reference) }
        @if let Some(refusal) = &refusal { p.error #refusal role="alert" { (refusal) } }
        div.table-wrap { table {
            tr { th { (t("Status", "Status")) } td #status class=(format!("status-{current}")) { (request_status(l, current)) } }
            tr { th { (t("Termin decyzji", "Decision due")) } (deadline_cell(ctx, &d)) }
            tr { th { (t("Złożony", "Filed")) } td { (dates::day(l, d.filed)) " · " (d.days_waiting) " " (t("dni oczekiwania", "days waiting")) } }
            tr { th { (t("Usługa", "Service")) } td { (services.get(&row.service_id).map(String::as_str).unwrap_or("?")) } }
            tr { th { (t("Punkt", "Branch")) } td { (branches.get(&row.branch_id).map(String::as_str).unwrap_or("?")) } }
            tr { th { (t("Osoba", "Person")) } td #applicant {
                @if let Some(p) = &person {
                    @if people::is_erased(p) { (people::erased_label(l)) } @else { (p.given) " " (p.family) " (" (people::birth_year(p)) ")" }
                    @if ctx.can(Perm::Persons) { " · " a href=(format!("/office/persons/{}", p.id)) { (t("karta osoby", "person's page")) } }
                } @else { span.muted { "—" } }
            } }
            @if ctx.can(Perm::ReadPesel) {
                tr { th { "PESEL" } td #pesel {
                    @if pesel {
                        @match &request.pesel {
                            Some(p) => span.pesel { (p) },
                            None => span.muted { (t("nie podano", "not given")) },
                        }
                    } @else {
                        form.inline method="post" action=(format!("/office/requests/{id}/pesel")) {
                            (csrf(ctx))
                            button.secondary type="submit" { (t("Pokaż PESEL", "Show the PESEL")) }
                            span.muted { (t("(odczyt jest zapisywany w dzienniku)", "(the reading is logged)")) }
                        }
                    }
                } }
            }
            tr { th { (t("Wnioskodawca", "Applicant")) } td { (people::applicant_role(l, request.applicant_role)) } }
            tr { th { (t("Opis potrzeby", "Description of need")) } td { (request.description) } }
            tr { th { (t("Oświadczenie (wersja)", "Declaration (version)")) } td { (request.declaration_version) } }
            tr { th { (t("Informacja o danych (wersja)", "Information clause (version)")) } td #consent-version { (request.consent_version) } }
            @if let Some(due) = &request.ipus_due { tr { th { "IPUS" } td { (t("plan należy przygotować do ", "plan due by ")) (due) } } }
            tr { th { (t("Wiadomość dla mieszkańca", "Message to the resident")) } td #resident-message {
                @match &message { Some(m) => span.resident-message { (m) }, None => span.muted { "—" } }
            } }
        } }
        h2 { (t("Kto prowadzi", "Assigned to")) }
        p #assignee { @match assignee.as_ref() {
            Some(s) => (staff.get(s).map(String::as_str).unwrap_or("?")),
            None => span.muted { (t("nieprzydzielony", "unassigned")) },
        } }
        div.filters {
            @if assignee.as_deref() != Some(ctx.staff.id.as_str()) {
                form.inline method="post" action=(format!("/office/requests/{id}/assign")) {
                    (csrf(ctx))
                    input type="hidden" name="staff" value=(ctx.staff.id);
                    button type="submit" #take { (t("Biorę ten wniosek", "Take it")) }
                }
            }
            form.inline method="post" action=(format!("/office/requests/{id}/assign")) {
                (csrf(ctx))
                label { (t("Przydziel", "Assign to"))
                    select name="staff" required {
                        @for s in &caseworkers { option value=(s.id) selected[assignee.as_deref() == Some(s.id.as_str())] { (s.name) } }
                    }
                }
                button.secondary type="submit" { (t("Przydziel", "Assign")) }
            }
        }
        h2 { (t("Historia", "History")) }
        div.table-wrap { table.fold #history {
            thead { tr { th { (t("Kiedy", "When")) } th { (t("Status", "Status")) } th { (t("Kto", "Who")) } th { (t("Decyzja i odwołanie", "Decision and appeal")) } } }
            tbody { @for step in &request.history {
                tr {
                    td data-label=(t("Kiedy", "When")) { (dates::moment(l, &step.at.to_string())) }
                    td data-label=(t("Status", "Status")) { (request_status(l, step.status.code())) }
                    td data-label=(t("Kto", "Who")) { (who(&step.by)) }
                    td data-label=(t("Decyzja i odwołanie", "Decision and appeal")) { @if let Some(d) = &step.decision_reference { (d) } @if let Some(a) = &step.appeal_info { br; (a) } }
                }
            } }
        } }
        h2 { (t("Notatki pracowników (tylko w biurze)", "Staff notes (office only)")) }
        @if notes.is_empty() { p.muted { (t("Brak notatek.", "No notes.")) } }
        @for n in &notes {
            p.note { strong { (n.staff_name) } " · " (dates::moment(l, &n.at)) " · " (request_status(l, &n.status)) br; (n.note) }
        }
        @if final_decision {
            p.muted { (t("Decyzja jest ostateczna w systemie; odwołanie rozpatruje się w trybie odwoławczym.", "The decision is final here; an appeal follows the appeal procedure.")) }
        } @else {
            h2 { (t("Zmień status", "Change the status")) }
            form.stack #status-form method="post" action=(format!("/office/requests/{id}")) {
                (csrf(ctx))
                label { (t("Nowy status", "New status"))
                    select name="status" required {
                        @for s in ["in_review", "accepted", "rejected", "more_information_needed"] { option value=(s) selected[chosen == s] { (request_status(l, s)) } }
                    }
                }
                label { (t("Wiadomość dla mieszkańca (pokaże się w kiosku przy statusie)", "Message to the resident (shown at the kiosk with the status)"))
                    textarea name="resident_message" rows="2" maxlength=(MESSAGE_MAX_CHARS) placeholder=(t("np. Proszę przynieść zaświadczenie lekarskie.", "e.g. Please bring a medical certificate.")) { (typed("resident_message")) }
                }
                label { (t("Notatka (zostaje w biurze)", "Note (stays in the office)")) textarea name="note" rows="3" maxlength=(NOTE_MAX_CHARS) { (typed("note")) } }
                label { (t("Znak decyzji (przy odmowie)", "Decision reference (for a rejection)")) input type="text" name="decision_reference" maxlength="100" value=(typed("decision_reference")); }
                label { (t("Pouczenie o odwołaniu (przy odmowie)", "How to appeal (for a rejection)")) textarea name="appeal_info" rows="2" maxlength="1000" { (typed("appeal_info")) } }
                button type="submit" { (t("Zapisz status", "Save the status")) }
            }
        }
    };
    let title = format!("{} {}", t("Wniosek", "Request"), request.reference);
    Ok(Out::page_or_refused(title, body, kept.is_some()))
}

pub async fn change_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let path_id = id.clone();
    let redisplay: Redisplay = Box::new(move |db, ctx, form, error| {
        let id: RequestId = parse_id(&path_id, "wniosek", "request")?;
        render_detail(db, ctx, id, Some(Kept { form, error }), false)
    });
    action_or_form(
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
        Some(redisplay),
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
                "Proszę wybrać status: w rozpatrzeniu, przyjęty, odrzucony albo potrzebne informacje.",
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
    let message = text(
        "resident_message",
        MESSAGE_MAX_CHARS,
        "Wiadomość dla mieszkańca",
        "Message to the resident",
    )?;
    Ok(
        StatusStep::new(status, note, decision_reference, appeal_info)?
            .with_resident_message(message),
    )
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
    request_for(db, ctx, id)?;
    requests::set_status(db, clock, &ctx.actor(), &ctx.staff.id, id, step)?;
    super::projection::project(db, [key])?;
    Ok(())
}
