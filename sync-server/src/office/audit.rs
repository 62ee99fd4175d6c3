//! The audit log page (office admin): the `audit` table, newest first, 100 records a page,
//! filtered by who, what, a date range and a person (by id or resident code). Actors show
//! as staff and kiosk names, and the old/new values of edits as "field: old → new" (the
//! format is `central::audit_detail`'s).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use blisko_shared::i18n::Lang;
use blisko_shared::ids::PersonId;

use super::names::Names;
use super::{Ctx, OResult, Out, Perm, invalid, iso_time, page, tr};
use crate::http::AppState;
use crate::store::{AuditFilter, AuditRow, Db};

/// Records on one page.
pub const PAGE_SIZE: u64 = 100;

/// The filters, as the form sends them (empty fields are no filter).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    who: Option<String>,
    what: Option<String>,
    from: Option<String>,
    to: Option<String>,
    person: Option<String>,
    page: Option<String>,
}

fn filled(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Midnight at the start of `date` (YYYY-MM-DD, local time), as stored times are.
fn day_start(date: &str, field_pl: &str, field_en: &str) -> OResult<jiff::Timestamp> {
    date.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::system()).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            invalid(
                format!("„{field_pl}”: proszę podać datę w postaci RRRR-MM-DD."),
                format!("\"{field_en}\": please give a date as YYYY-MM-DD."),
            )
        })
}

pub async fn page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Response {
    page(&state, &headers, Perm::Audit, move |db, _, ctx| {
        render(db, ctx, &query)
    })
    .await
}

/// Readable names of the actions the server records.
pub fn action_label(lang: Lang, action: &str) -> String {
    let (pl, en) = match action {
        "kiosk_add" => ("dodanie kiosku", "kiosk added"),
        "kiosk_rename" => ("zmiana nazwy kiosku", "kiosk renamed"),
        "kiosk_revoke" => ("wycofanie kiosku", "kiosk revoked"),
        "kiosk_reenroll" => ("nowy kod rejestracji kiosku", "new kiosk enrollment code"),
        "enroll" => ("rejestracja kiosku", "kiosk enrolled"),
        "enroll_refused" => ("odrzucony kod rejestracji", "enrollment code refused"),
        "class_create" => ("nowe zajęcia", "class created"),
        "class_edit" => ("zmiana zajęć", "class edited"),
        "session_create" => ("nowe spotkanie", "session added"),
        "session_edit" => ("zmiana terminu spotkania", "session moved"),
        "allotment_set" => ("zmiana przydziału miejsc", "allotment changed"),
        "allotment_rebalance" => ("przeniesienie przydziału", "allotment moved"),
        "allotment_move_completed" => (
            "przeniesienie przydziału zakończone",
            "allotment move completed",
        ),
        "allotment_move_refused" => (
            "przeniesienie przydziału niepełne",
            "allotment move incomplete",
        ),
        "allotment_acknowledged" => (
            "kiosk przyjął przydział",
            "allotment acknowledged by the kiosk",
        ),
        "person_read" => ("odczyt danych osoby", "personal data read"),
        "person_search" => ("wyszukiwanie osób", "person search"),
        "person_erase" => ("usunięcie danych osoby", "personal data erased"),
        "sms_consent_withdrawn" => ("wycofanie zgody na SMS", "SMS consent withdrawn"),
        "roster_read" => ("odczyt listy uczestników", "roster read"),
        "roster_export" => ("eksport listy uczestników", "roster exported"),
        "attendance_export" => ("eksport obecności", "attendance exported"),
        "requests_export" => ("eksport wniosków", "requests exported"),
        "request_status" => ("zmiana statusu wniosku", "request status changed"),
        "reconcile_read" => ("odczyt uzgadniania", "reconciliation read"),
        "attendance_resolve" => ("rozstrzygnięcie obecności", "attendance resolved"),
        "office_login" => ("logowanie", "log-in"),
        "office_logout" => ("wylogowanie", "log-out"),
        "office_login_refused" => ("nieudane logowanie", "failed log-in"),
        "office_login_limited" => ("logowanie zablokowane", "log-in limited"),
        "office_forbidden" => ("odmowa dostępu", "access refused"),
        "office_bad_csrf" => ("formularz odrzucony", "form refused"),
        "sync_unauthorized" => ("odrzucona synchronizacja", "sync refused (credential)"),
        "sync_refused" => ("odrzucona zmiana z kiosku", "kiosk change refused"),
        "catalog_restored" => (
            "katalog przywrócony z kiosku po odtworzeniu kopii",
            "catalog restored from a kiosk after a restore",
        ),
        "staff_add" => ("nowe konto pracownika", "staff account added"),
        other => (other, other),
    };
    tr(lang, pl, en).to_owned()
}

/// A field of an edit's detail in words ("capacity" → "liczba miejsc").
fn field_label(lang: Lang, names: &Names, field: &str) -> String {
    if let Some(kiosk) = field.strip_prefix("allotment ") {
        return format!(
            "{} {}",
            tr(lang, "przydział:", "allotment:"),
            names.in_text(kiosk)
        );
    }
    if let Some(session) = field.strip_prefix("session:") {
        return format!("{} {session}", tr(lang, "spotkanie", "session"));
    }
    let (pl, en) = match field {
        "name" => ("nazwa", "name"),
        "state" => ("stan", "state"),
        "branch" => ("punkt", "branch"),
        "title" => ("nazwa zajęć", "title"),
        "capacity" => ("liczba miejsc", "capacity"),
        "waitlist_limit" => ("limit listy rezerwowej", "waiting list limit"),
        "instructor" => ("prowadzący", "instructor"),
        "room" => ("sala", "room"),
        "description" => ("opis", "description"),
        "age_group" => ("grupa wiekowa", "age group"),
        "schedule" => ("harmonogram", "schedule"),
        "registration_opens" => ("zapisy od", "registration opens"),
        "registration_closes" => ("zapisy do", "registration closes"),
        other => (other, other),
    };
    tr(lang, pl, en).to_owned()
}

/// A JSON value as plain text ("Joga", 12, …); kiosk states in words.
fn value_text(names: &Names, value: &serde_json::Value) -> String {
    let lang = names.lang();
    match value {
        serde_json::Value::String(s) => match s.as_str() {
            "enrolled" => tr(lang, "zarejestrowany", "enrolled").to_owned(),
            "revoked" => tr(lang, "wycofany", "revoked").to_owned(),
            "waiting_for_enrollment" => {
                tr(lang, "czeka na rejestrację", "waiting for enrollment").to_owned()
            }
            _ => names.in_text(s),
        },
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(k, v)| format!("{k} {}", value_text(names, v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// A record's detail: the changes of an edit as "field: old → new", other text with
/// kiosk and staff names in place of ids.
fn detail(names: &Names, detail: Option<&str>) -> Markup {
    let Some(text) = detail else {
        return html! {};
    };
    let parsed: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).ok();
    let Some(change) = parsed.filter(|m| m.contains_key("old") || m.contains_key("new")) else {
        return html! { (names.in_text(text)) };
    };
    let empty = serde_json::Map::new();
    let old = change
        .get("old")
        .and_then(|v| v.as_object())
        .unwrap_or(&empty);
    let new = change
        .get("new")
        .and_then(|v| v.as_object())
        .unwrap_or(&empty);
    let mut fields: Vec<&String> = old.keys().chain(new.keys()).collect();
    fields.sort();
    fields.dedup();
    html! {
        ul.changes { @for field in fields {
            li data-field=(field) {
                span.field { (field_label(names.lang(), names, field)) } ": "
                @if let Some(was) = old.get(field.as_str()) { span.old { (value_text(names, was)) } " → " }
                span.new { (new.get(field.as_str()).map(|v| value_text(names, v)).unwrap_or_else(|| "—".to_owned())) }
            }
        } }
    }
}

/// A record's subject: a name or a link where one helps.
fn subject(db: &Db<'_>, ctx: &Ctx, names: &Names, subject: &str) -> OResult<Markup> {
    let t = |pl, en| ctx.t(pl, en);
    Ok(match subject.split_once(':') {
        Some(("kiosk", _)) => html! { (names.kiosk(subject)) },
        Some(("staff", _)) => html! { (names.staff(subject)) },
        Some(("person", id)) if id != "*" && ctx.can(Perm::Persons) => {
            html! { a href=(format!("/office/persons/{id}")) { (t("osoba", "person")) } }
        }
        Some(("class" | "roster", id)) => match db.o_class(id)? {
            Some(class) => html! { a href=(format!("/office/classes/{id}")) { (class.title) } },
            None => html! { (subject) },
        },
        _ => html! { (subject) },
    })
}

fn render(db: &Db<'_>, ctx: &Ctx, query: &AuditQuery) -> OResult<Out> {
    let l = ctx.lang;
    let t = |pl, en| ctx.t(pl, en);
    let names = Names::load(db, l)?;
    let mut filter = AuditFilter {
        actor: filled(&query.who).map(str::to_owned),
        action: filled(&query.what).map(str::to_owned),
        ..AuditFilter::default()
    };
    if let Some(from) = filled(&query.from) {
        filter.from = Some(day_start(from, "Od", "From")?.to_string());
    }
    if let Some(to) = filled(&query.to) {
        let end = day_start(to, "Do", "To")?
            .checked_add(jiff::SignedDuration::from_hours(24))
            .map_err(|_| invalid("„Do”: data poza zakresem.", "\"To\": date out of range."))?;
        filter.until = Some(end.to_string());
    }
    let mut person_unknown = false;
    if let Some(person) = filled(&query.person) {
        let ids: Vec<String> = match person.parse::<PersonId>() {
            Ok(id) => vec![id.to_string()],
            Err(_) => db
                .o_persons_by_code(&person.to_uppercase())?
                .into_iter()
                .map(|p| p.id)
                .collect(),
        };
        person_unknown = ids.is_empty();
        filter.subjects = ids.iter().map(|id| format!("person:{id}")).collect();
        if person_unknown {
            filter.subjects = vec!["person:-".to_owned()];
        }
    }
    let page_no: u64 =
        match filled(&query.page) {
            Some(p) => p.parse::<u64>().ok().filter(|p| *p >= 1).ok_or_else(|| {
                invalid("Nieprawidłowy numer strony.", "Not a valid page number.")
            })?,
            None => 1,
        };
    let found = db.audit_search(&filter, (page_no - 1) * PAGE_SIZE, PAGE_SIZE)?;
    let pages = found.total.div_ceil(PAGE_SIZE).max(1);
    let actions = db.audit_actions()?;
    let staff = db.staff_list()?;
    let kiosks = db.kiosks()?;
    let mut rows: Vec<(&AuditRow, Markup)> = Vec::new();
    for r in &found.rows {
        rows.push((r, subject(db, ctx, &names, &r.subject)?));
    }
    let link = |page: u64| {
        let mut params: Vec<(&str, &str)> = Vec::new();
        for (k, v) in [
            ("who", &query.who),
            ("what", &query.what),
            ("from", &query.from),
            ("to", &query.to),
            ("person", &query.person),
        ] {
            if let Some(v) = filled(v) {
                params.push((k, v));
            }
        }
        let page = page.to_string();
        params.push(("page", &page));
        let query = params
            .iter()
            .map(|(k, v)| format!("{k}={}", percent(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("/office/audit?{query}")
    };
    let who = filled(&query.who).unwrap_or_default();
    let what = filled(&query.what).unwrap_or_default();
    let body = html! {
        h1 { (t("Dziennik zdarzeń", "Audit log")) }
        p.muted { (t("Kto co zrobił i kiedy: zmiany, odczyty danych osobowych, logowania, synchronizacje kiosków. Najnowsze na górze, po 100 na stronie.",
                     "Who did what and when: changes, reads of personal data, log-ins, kiosk syncs. Newest first, 100 a page.")) }
        form.filters #audit-filters method="get" action="/office/audit" {
            label { (t("Kto", "Who"))
                select name="who" {
                    option value="" { (t("wszyscy", "anyone")) }
                    @for s in &staff { @let v = format!("staff:{}", s.id); option value=(v) selected[who == v] { (s.name) } }
                    @for k in &kiosks { @let v = format!("kiosk:{}", k.kiosk_id); option value=(v) selected[who == v] { (names.kiosk(&v)) } }
                    @for v in ["admin", "server", "anonymous"] { option value=(v) selected[who == v] { (names.actor(v)) } }
                } }
            label { (t("Co", "What"))
                select name="what" {
                    option value="" { (t("wszystko", "anything")) }
                    @for a in &actions { option value=(a) selected[what == a] { (action_label(l, a)) } }
                } }
            label { (t("Od", "From")) input type="date" name="from" value=(filled(&query.from).unwrap_or_default()); }
            label { (t("Do", "To")) input type="date" name="to" value=(filled(&query.to).unwrap_or_default()); }
            label { (t("Osoba (id lub kod mieszkańca)", "Person (id or resident code)"))
                input type="text" name="person" maxlength="64" value=(filled(&query.person).unwrap_or_default()); }
            button type="submit" { (t("Pokaż", "Show")) }
            a href="/office/audit" { (t("Wyczyść", "Clear")) }
        }
        @if person_unknown { p.error { (t("Nie znaleziono osoby o tym identyfikatorze ani kodzie.", "No person with that id or code.")) } }
        p #audit-count { (t("Zdarzeń: ", "Records: ")) (found.total) " · " (t("strona ", "page ")) (page_no) " / " (pages) }
        div.table-scroll {
        table #audit {
            thead { tr { th { (t("Kiedy", "When")) } th { (t("Kto", "Who")) } th { (t("Co", "What")) } th { (t("Czego dotyczy", "About")) } th { (t("Szczegóły", "Details")) } } }
            tbody { @for (r, about) in &rows {
                tr data-action=(r.action) data-actor=(r.actor) data-subject=(r.subject) {
                    td { (iso_time(&r.at)) }
                    td.actor { (names.actor(&r.actor)) }
                    td { (action_label(l, &r.action)) }
                    td { (about) }
                    td.detail { (detail(&names, r.detail.as_deref())) }
                }
            } }
        }
        }
        nav.pages aria-label=(t("Strony", "Pages")) {
            @if page_no > 1 { a rel="prev" href=(link(page_no - 1)) { (t("← nowsze", "← newer")) } " " }
            @if page_no < pages { a rel="next" href=(link(page_no + 1)) { (t("starsze →", "older →")) } }
        }
    };
    Ok(Out::Page {
        title: t("Dziennik zdarzeń", "Audit log").to_owned(),
        body,
    })
}

/// A query-string value, percent-encoded.
fn percent(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
