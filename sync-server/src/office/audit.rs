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

use blisko_shared::collate;
use blisko_shared::model::StaffRole;
use blisko_shared::seats::SeatStatus;

use super::auth::Role;
use super::dates;
use super::layout::{attendance_status, registration_status, request_status};
use super::names::Names;
use super::{Ctx, OResult, Out, Perm, invalid, page, tr};
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

/// The Polish and English name of an action the server records; `None` for one it does
/// not know (the page then shows the code).
fn action_name(action: &str) -> Option<(&'static str, &'static str)> {
    Some(match action {
        "kiosk_add" => ("dodanie kiosku", "kiosk added"),
        "kiosk_rename" => ("zmiana nazwy kiosku", "kiosk renamed"),
        "kiosk_revoke" => ("wycofanie kiosku", "kiosk revoked"),
        "kiosk_reenroll" => ("nowy kod rejestracji kiosku", "new kiosk enrollment code"),
        "enroll" => ("rejestracja kiosku", "kiosk enrolled"),
        "enroll_refused" => ("odrzucony kod rejestracji", "enrollment code refused"),
        "class_create" => ("nowe zajęcia", "class created"),
        "class_edit" => ("zmiana zajęć", "class edited"),
        "capacity_below_confirmed" => (
            "liczba miejsc mniejsza niż potwierdzonych zapisów",
            "capacity below the confirmed registrations",
        ),
        "session_create" => ("nowe spotkanie", "session added"),
        "session_edit" => ("zmiana terminu spotkania", "session moved"),
        "session_cancel" => ("odwołanie spotkania", "session cancelled"),
        "session_restore" => ("przywrócenie spotkania", "session restored"),
        "session_delete" => ("usunięcie spotkania", "session deleted"),
        "sessions_generate" => ("dodanie spotkań", "sessions added"),
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
        "catalog_import" => ("wczytanie katalogu", "catalog imported"),
        "catalog_restored" => (
            "katalog przywrócony z kiosku po odtworzeniu kopii",
            "catalog restored from a kiosk after a restore",
        ),
        "load_demo" => ("wczytanie danych przykładowych", "example data loaded"),
        "person_read" => ("odczyt danych osoby", "personal data read"),
        "person_search" => ("wyszukiwanie osób", "person search"),
        "person_erase" => ("usunięcie danych osoby", "personal data erased"),
        "person_erase_completed" => (
            "usunięcie danych osoby zakończone",
            "erasure of personal data completed",
        ),
        "person_key_sent" => (
            "klucz danych osoby wysłany do kiosku",
            "person's data key sent to a kiosk",
        ),
        "person_merge" => ("połączenie rekordów osoby", "person records linked"),
        "person_not_duplicate" => (
            "rekordy oznaczone jako różne osoby",
            "records marked as different persons",
        ),
        "sms_consent_withdrawn" => ("wycofanie zgody na SMS", "SMS consent withdrawn"),
        "sms_test" => ("próbny SMS", "test SMS"),
        "branch_add" => ("nowy punkt", "branch added"),
        "branch_edit" => ("zmiana danych punktu", "branch details changed"),
        "kiosk_staff_pin" => ("PIN do kiosku nadany", "kiosk staff PIN set"),
        "kiosk_staff_remove" => ("PIN do kiosku odebrany", "kiosk staff PIN taken away"),
        "roster_read" => ("odczyt listy uczestników", "roster read"),
        "roster_export" => ("eksport listy uczestników", "roster exported"),
        "attendance_export" => ("eksport obecności", "attendance exported"),
        "attendance_paper" => (
            "obecność z listy papierowej",
            "attendance from a paper list",
        ),
        "attendance_resolve" => ("rozstrzygnięcie obecności", "attendance resolved"),
        "requests_export" => ("eksport wniosków", "requests exported"),
        "request_status" => ("zmiana statusu wniosku", "request status changed"),
        "request_assigned" => ("przydzielenie wniosku", "request assigned"),
        "request_queue_read" => ("odczyt listy wniosków", "request list read"),
        "pesel_read" => ("odczyt numeru PESEL", "PESEL read"),
        "reconcile_read" => ("odczyt uzgadniania", "reconciliation read"),
        "registration_phone" => ("zapis telefoniczny", "registration by phone"),
        "registration_cancel" => ("anulowanie zapisu", "registration cancelled"),
        "registration_receipt" => ("potwierdzenie zapisu", "registration receipt"),
        "phone_registration_matches" => (
            "wyszukanie osoby przy zapisie telefonicznym",
            "person looked up for a phone registration",
        ),
        "waitlist_confirm" => (
            "potwierdzenie zapisu z listy rezerwowej",
            "confirmed from the waiting list",
        ),
        "waitlist_phones_read" => (
            "odczyt telefonów z listy rezerwowej",
            "waiting list phone numbers read",
        ),
        "office_login" => ("logowanie", "log-in"),
        "office_logout" => ("wylogowanie", "log-out"),
        "office_login_refused" => ("nieudane logowanie", "failed log-in"),
        "office_login_limited" => ("logowanie zablokowane", "log-in limited"),
        "office_forbidden" => ("odmowa dostępu", "access refused"),
        "office_forbidden_branch" => (
            "odmowa dostępu do innego punktu",
            "access to another branch refused",
        ),
        "office_bad_csrf" => ("formularz odrzucony", "form refused"),
        "office_setup_link" => (
            "link do utworzenia pierwszego administratora",
            "set-up link for the first admin",
        ),
        "sync_unauthorized" => ("odrzucona synchronizacja", "sync refused (credential)"),
        "sync_refused" => ("odrzucona zmiana z kiosku", "kiosk change refused"),
        "staff_add" => ("nowe konto pracownika", "staff account added"),
        "staff_edit" => ("zmiana konta pracownika", "staff account edited"),
        "staff_disable" => ("wyłączenie konta pracownika", "staff account disabled"),
        "staff_enable" => ("włączenie konta pracownika", "staff account enabled"),
        "staff_password_reset" => ("hasło tymczasowe", "temporary password issued"),
        "staff_password_change" => ("zmiana własnego hasła", "own password changed"),
        _ => return None,
    })
}

/// Readable names of the actions the server records (an unknown one as its code).
pub fn action_label(lang: Lang, action: &str) -> String {
    match action_name(action) {
        Some((pl, en)) => tr(lang, pl, en).to_owned(),
        None => action.to_owned(),
    }
}

/// A page or permission code of a refused access (`page:kiosks`) in words.
fn page_label(lang: Lang, code: &str) -> Option<String> {
    let (pl, en) = match code {
        "page:any" => ("strona biura", "office page"),
        "page:overview" => ("przegląd", "overview"),
        "page:classes" => ("zajęcia", "classes"),
        "page:classes_edit" => ("zmiana zajęć", "class editing"),
        "page:print_attendance" => ("listy obecności do druku", "printable attendance lists"),
        "page:export_classes" => ("eksport zajęć", "class exports"),
        "page:requests" => ("wnioski", "requests"),
        "page:charts" => ("wykresy", "charts"),
        "page:persons" => ("osoby", "persons"),
        "page:reconcile" => ("uzgadnianie", "reconciliation"),
        "page:kiosks" => ("kioski", "kiosks"),
        "page:audit" => ("dziennik zdarzeń", "audit log"),
        "page:staff" => ("pracownicy", "staff"),
        "page:password" => ("zmiana hasła", "password change"),
        "page:my_classes" => ("moje zajęcia", "my classes"),
        "action:read_pesel" => ("odczyt numeru PESEL", "reading a PESEL"),
        "page:registrations" => ("zapisy telefoniczne", "phone registrations"),
        "page:paper_attendance" => ("obecność z listy papierowej", "paper attendance"),
        "page:waitlist_phones" => ("telefony z listy rezerwowej", "waiting list phones"),
        "page:sms" => ("wiadomości SMS", "SMS messages"),
        _ => return None,
    };
    Some(format!(
        "{} {}",
        tr(lang, "strona:", "page:"),
        tr(lang, pl, en)
    ))
}

/// A single word of a stored detail in words: statuses and markers; `None` for any other.
fn word_label(lang: Lang, word: &str) -> Option<String> {
    if let Some(status) = SeatStatus::from_code(word) {
        return Some(registration_status(lang, status));
    }
    let (pl, en) = match word {
        "data_access" => ("wgląd w dane osoby", "data access"),
        "pool_full" => ("brak miejsc w puli", "pool full"),
        "active" => ("aktywny", "active"),
        "revoked" => ("wycofany", "revoked"),
        // Why a kiosk's sync was refused (`CentralError::code`).
        "unauthorized" => ("nieznane poświadczenie kiosku", "unknown kiosk credential"),
        "forbidden" => (
            "zmiana niedozwolona dla kiosku",
            "change not allowed for the kiosk",
        ),
        "bad_request" => ("nieprawidłowe dane", "invalid data"),
        "not_found" => ("nie znaleziono", "not found"),
        "bad_enrollment_code" => ("nieprawidłowy kod rejestracji", "invalid enrollment code"),
        "busy" => ("serwer zajęty", "server busy"),
        "internal" => ("błąd serwera", "server error"),
        // Roles, as records written before the JSON details name them.
        "instructor" | "branch_staff" | "organizer" | "office_admin" => {
            return StaffRole::from_code(word).map(|r| Role(r).label(lang).to_owned());
        }
        "present" | "absent" | "excused" | "conflict" => {
            return Some(attendance_status(lang, word));
        }
        "submitted" | "in_review" | "accepted" | "rejected" | "more_information_needed" => {
            return Some(request_status(lang, word));
        }
        _ => return None,
    };
    Some(tr(lang, pl, en).to_owned())
}

/// A `key:` of a stored detail (`found:3`, `capacity:12`) in words.
fn key_label(lang: Lang, key: &str) -> Option<&'static str> {
    let (pl, en) = match key {
        "found" => ("znaleziono", "found"),
        "persons" => ("osób", "persons"),
        "marks" => ("oznaczeń", "marks"),
        "sessions" => ("spotkań", "sessions"),
        "seats" => ("miejsc", "seats"),
        "capacity" => ("liczba miejsc", "capacity"),
        "confirmed" => ("potwierdzonych", "confirmed"),
        "pool_free_before" => ("wolnych miejsc w puli przed", "free pool seats before"),
        "released_from" => ("zwolnione miejsca", "seats released"),
        "address" => ("adres", "address"),
        _ => return None,
    };
    Some(tr(lang, pl, en))
}

/// A stored detail or subject as text: references as names, the known words and keys
/// in words; anything else as it is.
pub fn in_words(names: &Names, text: &str) -> String {
    let lang = names.lang();
    match text {
        "reenroll" => return tr(lang, "ponowna rejestracja", "re-enrolled").to_owned(),
        "reenroll, revocation lifted" => {
            return tr(
                lang,
                "ponowna rejestracja, wycofanie cofnięte",
                "re-enrolled, revocation lifted",
            )
            .to_owned();
        }
        _ => {}
    }
    if let Some(page) = page_label(lang, text) {
        return page;
    }
    if let Some(person) = text.strip_prefix("linked to ") {
        let linked = tr(lang, "rekord powiązany z:", "linked to");
        return format!("{linked} {}", names.in_text(person));
    }
    let mut after_at = false;
    text.split(' ')
        .map(|word| {
            let was_at = std::mem::replace(&mut after_at, word == "at");
            if word == "at" {
                return tr(lang, "chwila:", "at").to_owned();
            }
            if was_at && let Some(at) = dates::local(word) {
                return format!("{}, {}", dates::day(lang, at.date()), at.strftime("%H:%M"));
            }
            if let Some(label) = word_label(lang, word) {
                return label;
            }
            // A bare branch id, as records written before the JSON details have them.
            if let Some(branch) = names.branch(word.trim_end_matches(';')) {
                let end = if word.ends_with(';') { ";" } else { "" };
                return format!("{branch}{end}");
            }
            if let Some((key, value)) = word.split_once(':')
                && let Some(label) = key_label(lang, key)
            {
                return if value.is_empty() {
                    format!("{label}:")
                } else {
                    format!("{label}: {value}")
                };
            }
            names.in_text(word)
        })
        .collect::<Vec<_>>()
        .join(" ")
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
    if field.starts_with("session:") {
        return format!(
            "{} {}",
            tr(lang, "spotkanie", "session"),
            names.in_text(field)
        );
    }
    let (pl, en) = match field {
        "name" => ("nazwa", "name"),
        "state" => ("stan", "state"),
        "status" => ("status", "status"),
        "branch" => ("punkt", "branch"),
        "role" => ("rola", "role"),
        "temporary_password" => ("hasło tymczasowe", "temporary password"),
        "sessions_ended" => ("zakończone sesje logowania", "log-in sessions ended"),
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
        "code" => ("skrót", "code"),
        "opening_hours" => ("godziny otwarcia", "opening hours"),
        "help" => ("pomoc w kiosku", "help at the kiosk"),
        "kiosk_staff" => ("osoba z PIN-em do kiosku", "kiosk staff member"),
        "pin" => ("nowy PIN", "new PIN"),
        "date" => ("dzień", "date"),
        "start" => ("godzina", "start"),
        "minutes" => ("minut", "minutes"),
        other => (other, other),
    };
    tr(lang, pl, en).to_owned()
}

/// A JSON value of `field` as plain text ("Joga", 12, …): kiosk states, request and
/// account statuses, roles and branches in words.
fn value_text(names: &Names, field: &str, value: &serde_json::Value) -> String {
    let lang = names.lang();
    match value {
        serde_json::Value::String(s) if field == "role" => StaffRole::from_code(s)
            .map(|r| Role(r).label(lang).to_owned())
            .unwrap_or_else(|| s.clone()),
        serde_json::Value::String(s) if field == "branch" => {
            let id = s.strip_prefix("branch:").unwrap_or(s);
            names
                .branch(id)
                .map(str::to_owned)
                .unwrap_or_else(|| names.in_text(s))
        }
        serde_json::Value::String(s) => match s.as_str() {
            "enrolled" => tr(lang, "zarejestrowany", "enrolled").to_owned(),
            "revoked" => tr(lang, "wycofany", "revoked").to_owned(),
            "waiting_for_enrollment" => {
                tr(lang, "czeka na rejestrację", "waiting for enrollment").to_owned()
            }
            "disabled" => tr(lang, "wyłączone", "disabled").to_owned(),
            "active" if field == "status" => tr(lang, "aktywne", "active").to_owned(),
            other => match word_label(lang, other) {
                Some(label) if field == "status" => label,
                _ => names.in_text(s),
            },
        },
        serde_json::Value::Null if field == "branch" => {
            tr(lang, "wszystkie punkty", "all branches").to_owned()
        }
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::Bool(true) => tr(lang, "tak", "yes").to_owned(),
        serde_json::Value::Bool(false) => tr(lang, "nie", "no").to_owned(),
        serde_json::Value::Object(fields) => {
            // A session: "7 grudnia 2026, pon., 10:00 (60 min)", ", odwołane" if so.
            if let (Some(date), Some(start)) = (
                fields.get("date").and_then(|d| d.as_str()),
                fields.get("start").and_then(|s| s.as_str()),
            ) {
                let minutes = fields
                    .get("minutes")
                    .map(|m| format!(" ({m} min)"))
                    .unwrap_or_default();
                let cancelled = if fields.get("cancelled") == Some(&serde_json::Value::Bool(true)) {
                    tr(lang, ", odwołane", ", cancelled")
                } else {
                    ""
                };
                return format!(
                    "{}, {start}{minutes}{cancelled}",
                    dates::day_text(lang, date)
                );
            }
            fields
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{} {}",
                        field_label(lang, names, k),
                        value_text(names, k, v)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        }
        other => other.to_string(),
    }
}

/// A record's detail: the changes of an edit as "field: old → new", other text with
/// names in place of ids and known words in words.
pub fn detail(names: &Names, detail: Option<&str>) -> Markup {
    let Some(stored) = detail else {
        return html! {};
    };
    let parsed: Option<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(stored).ok();
    let Some(change) = parsed.filter(|m| m.contains_key("old") || m.contains_key("new")) else {
        return html! { (in_words(names, stored)) };
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
                @if let Some(was) = old.get(field.as_str()) { span.old { (value_text(names, field, was)) } " → " }
                span.new { (new.get(field.as_str()).map(|v| value_text(names, field, v)).unwrap_or_else(|| "—".to_owned())) }
            }
        } }
    }
}

/// A record's subject: a name or a link where one helps.
fn subject(ctx: &Ctx, names: &Names, subject: &str) -> Markup {
    let t = |pl, en| ctx.t(pl, en);
    match subject.split_once(':') {
        Some(("kiosk", "?")) => html! { (names.actor(subject)) },
        Some(("kiosk", _)) => html! { (names.kiosk(subject)) },
        Some(("staff", "?")) => html! { (t("nieznany login", "unknown login")) },
        Some(("staff", _)) => html! { (names.staff(subject)) },
        Some(("person", "*")) => html! { (t("osoby", "persons")) },
        Some(("intake", "*")) => html! { (t("wnioski", "requests")) },
        Some(("catalog", "*")) => html! { (t("katalogi punktów", "branch catalogs")) },
        Some(("reconcile", "*")) => html! { (t("uzgadnianie", "reconciliation")) },
        Some(("notice", _)) => html! { (t("wiadomość SMS", "SMS message")) },
        Some(("person", id)) if ctx.can(Perm::Persons) => {
            html! { a href=(format!("/office/persons/{id}")) { (names.person(id)) } }
        }
        Some(("class" | "roster", id)) if !id.contains(' ') => match names.class(id) {
            Some(title) => html! { a href=(format!("/office/classes/{id}")) { (title) } },
            None => html! { (subject) },
        },
        Some(("intake", id)) => match names.intake(id) {
            Some(reference) => {
                html! { a href=(format!("/office/requests/{id}")) { (t("wniosek", "request")) " " (reference) } }
            }
            None => html! { (subject) },
        },
        _ if subject == "office" => html! { (t("biuro", "office")) },
        _ => html! { (in_words(names, subject)) },
    }
}

fn render(db: &Db<'_>, ctx: &Ctx, query: &AuditQuery) -> OResult<Out> {
    let l = ctx.lang;
    let t = |pl, en| ctx.t(pl, en);
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
    let mut actions: Vec<(String, String)> = db
        .audit_actions()?
        .into_iter()
        .map(|a| (action_label(l, &a), a))
        .collect();
    actions.sort_by(|a, b| collate::compare(&a.0, &b.0).then_with(|| a.1.cmp(&b.1)));
    let staff = db.staff_list()?;
    let kiosks = db.kiosks()?;
    let texts = found
        .rows
        .iter()
        .flat_map(|r| [r.subject.as_str(), r.detail.as_deref().unwrap_or("")]);
    let names = Names::load(db, l)?.with_references(db, texts, ctx.can(Perm::Persons))?;
    let rows: Vec<(&AuditRow, Markup)> = found
        .rows
        .iter()
        .map(|r| (r, subject(ctx, &names, &r.subject)))
        .collect();
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
                    @for (label, a) in &actions { option value=(a) selected[what == a] { (label) } }
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
        table.fold #audit {
            thead { tr { th { (t("Kiedy", "When")) } th { (t("Kto", "Who")) } th { (t("Co", "What")) } th { (t("Czego dotyczy", "About")) } th { (t("Szczegóły", "Details")) } } }
            tbody { @for (r, about) in &rows {
                tr data-action=(r.action) data-actor=(r.actor) data-subject=(r.subject) {
                    td data-label=(t("Kiedy", "When")) { (super::dates::moment(ctx.lang, &r.at)) }
                    td.actor data-label=(t("Kto", "Who")) { (names.actor(&r.actor)) }
                    td data-label=(t("Co", "What")) { (action_label(l, &r.action)) }
                    td data-label=(t("Czego dotyczy", "About")) { (about) }
                    td.detail data-label=(t("Szczegóły", "Details")) { (detail(&names, r.detail.as_deref())) }
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Actions a call passes through a variable, with the expression it passes: their
    /// values are chosen a few lines before (`if … { "session_cancel" } else { … }`, a
    /// match, an `Editor { action: … }`) and listed in [`CHOSEN`].
    const INDIRECT: [&str; 2] = ["action", "editor.action"];

    /// The actions chosen before the call, for the calls in [`INDIRECT`] (and the
    /// catalog edits' `Editor`s, whose `action: "…"` the scan finds on its own).
    const CHOSEN: [&str; 10] = [
        "person_merge",
        "person_not_duplicate",
        "session_cancel",
        "session_restore",
        "session_create",
        "session_edit",
        "class_create",
        "class_edit",
        "sync_unauthorized",
        "sync_refused",
    ];

    /// The arguments of a call whose text starts right after its `(`, split at the
    /// top-level commas (string literals and nested brackets kept whole).
    fn call_arguments(text: &str) -> Vec<String> {
        let mut args = Vec::new();
        let mut current = String::new();
        let mut depth = 0usize;
        let mut chars = text.chars();
        let mut in_string = false;
        while let Some(c) = chars.next() {
            if in_string {
                current.push(c);
                match c {
                    '\\' => current.extend(chars.next()),
                    '"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => {
                    in_string = true;
                    current.push(c);
                }
                '(' | '[' | '{' => {
                    depth += 1;
                    current.push(c);
                }
                ')' | ']' | '}' if depth == 0 => break,
                ')' | ']' | '}' => {
                    depth -= 1;
                    current.push(c);
                }
                ',' if depth == 0 => args.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        args.push(current);
        args.into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect()
    }

    fn literal(arg: &str) -> Option<&str> {
        arg.strip_prefix('"')?.strip_suffix('"')
    }

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every action the server's sources record: the action argument of each `.audit(`
    /// call (`db.audit(at, actor, action, subject, detail)`, `central.audit(actor,
    /// action, subject, detail)`), each `action: "…"` of an `Editor`, and [`CHOSEN`].
    /// A call whose action is another expression is a failure, to be looked at.
    fn recorded_actions() -> (Vec<(String, String)>, Vec<String>) {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        files.sort();
        let mut actions = Vec::new();
        let mut problems = Vec::new();
        let needle = concat!(".", "audit(");
        for file in &files {
            let source =
                std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // Test modules record made-up actions.
            let source = match source.find("#[cfg(test)]\nmod tests") {
                Some(end) => &source[..end],
                None => &source[..],
            };
            let name = file.display().to_string();
            for (at, _) in source.match_indices(needle) {
                let line = source[..at].lines().count();
                let args = call_arguments(&source[at + needle.len()..]);
                let action = match args.len() {
                    5 => &args[2],
                    4 => &args[1],
                    n => {
                        problems.push(format!("{name}:{line}: an audit call with {n} arguments"));
                        continue;
                    }
                };
                match literal(action) {
                    Some(a) => actions.push((a.to_owned(), format!("{name}:{line}"))),
                    None if INDIRECT.contains(&action.as_str()) => {}
                    None => problems.push(format!(
                        "{name}:{line}: the action is `{action}`: add its values to CHOSEN"
                    )),
                }
            }
            for (at, _) in source.match_indices("action: \"") {
                let rest = &source[at + "action: \"".len()..];
                if let Some(end) = rest.find('"') {
                    let line = source[..at].lines().count();
                    actions.push((rest[..end].to_owned(), format!("{name}:{line}")));
                }
            }
        }
        let all: String = files
            .iter()
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect();
        for action in CHOSEN {
            if !all.contains(&format!("\"{action}\"")) {
                problems.push(format!("{action} in CHOSEN is no longer in the sources"));
            }
            actions.push((action.to_owned(), "CHOSEN".to_owned()));
        }
        (actions, problems)
    }

    #[test]
    fn every_recorded_action_has_a_label() {
        let (actions, problems) = recorded_actions();
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(
            actions.len() > 60,
            "the scan finds the audit calls: {actions:?}"
        );
        let unlabelled: Vec<String> = actions
            .iter()
            .filter(|(a, _)| action_name(a).is_none())
            .map(|(a, at)| format!("{a} ({at})"))
            .collect();
        assert!(
            unlabelled.is_empty(),
            "actions without a label in action_name: {unlabelled:#?}"
        );
    }

    #[test]
    fn the_scan_reads_calls_over_several_lines() {
        let args = call_arguments(
            "\n    &now,\n    actor,\n    \"kiosk_add\",\n    &format!(\"kiosk:{}\", k),\n    Some(&change_detail(a, b)),\n)?;",
        );
        assert_eq!(args.len(), 5, "{args:?}");
        assert_eq!(literal(&args[2]), Some("kiosk_add"));
        let args = call_arguments("\"a, (b\", x)");
        assert_eq!(args, vec!["\"a, (b\"".to_owned(), "x".to_owned()]);
    }
}
