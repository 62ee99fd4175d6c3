//! The SMS page: the outbox of notices (filtered by kind and status), how many messages
//! and parts went out each day, what failed and why, and a test message to a number.
//! The outbox holds no phone number and no message text; a person shows by name only to
//! roles that may open persons' pages.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use blisko_shared::i18n::Lang;

use super::layout::csrf;
use super::{Ctx, OResult, Out, Perm, action, invalid, page, tr, typed};
use crate::http::AppState;
use crate::notices::gateway::{GatewayError, Outgoing};
use crate::notices::reason;
use crate::notices::sender::{self, MAX_ATTEMPTS, PassReport, Ready};
use crate::notices::{KINDS, zone};
use crate::store::{Db, NoticeFilter, NoticeRow, NoticeStatus};

/// Notices on the page.
const SHOWN: usize = 200;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SmsQuery {
    kind: Option<String>,
    status: Option<String>,
    /// The test message just sent.
    test: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TestForm {
    phone: String,
}

pub fn kind_label(lang: Lang, kind: &str) -> String {
    let (pl, en) = match kind {
        "seat_freed" => ("zwolnione miejsce", "seat freed up"),
        "reminder" => ("przypomnienie", "reminder"),
        "session_moved" => ("zmiana terminu", "session moved"),
        "session_cancelled" => ("odwołane spotkanie", "session cancelled"),
        "request_status" => ("decyzja we wniosku", "request decision"),
        "test" => ("wiadomość testowa", "test message"),
        other => (other, other),
    };
    tr(lang, pl, en).to_owned()
}

pub fn status_label(lang: Lang, status: NoticeStatus) -> &'static str {
    let (pl, en) = match status {
        NoticeStatus::Queued => ("czeka", "queued"),
        NoticeStatus::Sending => ("wysyłanie", "sending"),
        NoticeStatus::Sent => ("wysłano", "sent"),
        NoticeStatus::Failed => ("nie wysłano (błąd)", "failed"),
        NoticeStatus::Skipped => ("pominięto", "skipped"),
        NoticeStatus::Cancelled => ("anulowano", "cancelled"),
        NoticeStatus::Expired => ("nieaktualne", "expired"),
    };
    tr(lang, pl, en)
}

/// Why a notice waits or was not sent, in words.
pub fn reason_label(lang: Lang, why: &str) -> String {
    let (pl, en) = match why {
        reason::NO_GATEWAY => (
            "nie wysłano: brak skonfigurowanej bramki SMS",
            "not sent: no gateway configured",
        ),
        reason::QUIET_HOURS => (
            "czeka do końca ciszy nocnej",
            "held until the quiet hours end",
        ),
        reason::DAILY_LIMIT => (
            "czeka do jutra (dzienny limit wiadomości do tej osoby)",
            "held until tomorrow (the daily limit for this person)",
        ),
        reason::NO_CONSENT => ("brak zgody na SMS", "no SMS consent"),
        reason::NO_MOBILE => (
            "brak numeru komórkowego w Polsce",
            "no Polish mobile number",
        ),
        reason::ERASED => ("dane osoby usunięto", "the person's data was erased"),
        reason::PERSON_NOT_FOUND => ("osoby nie znaleziono", "person not found"),
        reason::SHOWN_AT_KIOSK => (
            "miejsce pokazano osobie w kiosku",
            "the seat was shown to the person at the kiosk",
        ),
        reason::SESSION_CHANGED => ("termin spotkania się zmienił", "the session's time changed"),
        other => return other.to_owned(),
    };
    tr(lang, pl, en).to_owned()
}

fn local_time_ms(lang: Lang, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            let at = t.to_zoned(zone()).datetime();
            format!(
                "{}, {}",
                super::dates::day(lang, at.date()),
                at.strftime("%H:%M")
            )
        })
        .unwrap_or_default()
}

fn filled(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

pub async fn page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SmsQuery>,
) -> Response {
    let has_gateway = state.sms.gateway.is_some();
    page(&state, &headers, Perm::Sms, move |db, _, ctx| {
        render(db, ctx, &query, has_gateway)
    })
    .await
}

fn render(db: &Db<'_>, ctx: &Ctx, query: &SmsQuery, has_gateway: bool) -> OResult<Out> {
    let l = ctx.lang;
    let kind = filled(&query.kind).filter(|k| KINDS.contains(&k.as_str()) || k == "test");
    let status = filled(&query.status).and_then(|s| NoticeStatus::from_code(&s));
    let rows: Vec<NoticeRow> = db
        .notices(
            &NoticeFilter {
                kind: kind.clone(),
                status,
                person: None,
            },
            SHOWN,
        )?
        .into_iter()
        .filter(|n| n.branch_id.as_deref().is_none_or(|b| ctx.sees_branch(b)))
        .collect();
    let counts = db.notice_counts()?;
    let offset_ms = jiff::Timestamp::now()
        .to_zoned(zone())
        .offset()
        .seconds()
        .saturating_mul(1000);
    let days = db.segments_per_day(i64::from(offset_ms), 14)?;
    let test = match filled(&query.test) {
        Some(id) => db.notice(&id)?.filter(|n| n.kind == "test"),
        None => None,
    };
    let names_visible = ctx.can(Perm::Persons);
    let person_name = |id: &str| -> OResult<Option<String>> {
        Ok(db
            .o_person(id)?
            .map(|p| super::people::given_first(ctx.lang, &p)))
    };
    let mut shown = Vec::with_capacity(rows.len());
    for n in rows {
        let name = match (&n.person_id, names_visible) {
            (Some(id), true) => person_name(id)?,
            _ => None,
        };
        shown.push((n, name));
    }
    let body = html! {
        h1 { (tr(l, "Wiadomości SMS", "SMS messages")) }
        @if !has_gateway {
            section.notice #no-gateway role="status" {
                p { (tr(l, "Bramka SMS nie jest skonfigurowana: wiadomości czekają w kolejce i nie są wysyłane. Administrator serwera ustawia ją opcją --sms-token-file (zob. README). Po ponownym uruchomieniu serwera z bramką wysłane zostaną te, które są jeszcze aktualne.",
                    "No SMS gateway is configured: messages wait in the outbox and are not sent. The server's administrator sets it with --sms-token-file (see README). Once the server is restarted with a gateway, those still worth sending go out.")) }
            }
        }
        @if let Some(t) = &test {
            p #test-result role="status" class=(if t.status == NoticeStatus::Sent { "ok" } else { "error" }) {
                @if t.status == NoticeStatus::Sent {
                    (tr(l, "Wiadomość testowa wysłana.", "Test message sent."))
                    @if let Some(g) = &t.gateway_id { " " (tr(l, "Identyfikator w bramce:", "Gateway id:")) " " (g) }
                } @else {
                    (tr(l, "Wiadomość testowa nie została wysłana: ", "The test message was not sent: "))
                    (t.reason.as_deref().map(|r| reason_label(l, r)).unwrap_or_default())
                }
            }
        }
        section {
            h2 { (tr(l, "Stan kolejki", "Outbox")) }
            @if counts.is_empty() {
                p { (tr(l, "Nie ma jeszcze żadnych wiadomości.", "No messages yet.")) }
            } @else {
                ul #counts { @for (s, n) in &counts {
                    li data-status=(s.code()) { (status_label(l, *s)) ": " strong { (n) } }
                } }
            }
        }
        section {
            h2 { (tr(l, "Wysłane w ostatnich dniach", "Sent in recent days")) }
            @if days.is_empty() {
                p { (tr(l, "Nic jeszcze nie wysłano.", "Nothing sent yet.")) }
            } @else {
                table.fold #per-day {
                    thead { tr {
                        th { (tr(l, "Dzień", "Day")) }
                        th { (tr(l, "Wiadomości", "Messages")) }
                        th { (tr(l, "Części SMS (koszt)", "SMS parts (billed)")) }
                    } }
                    tbody { @for (day, messages, parts) in &days {
                        tr {
                            td data-label=(tr(l, "Dzień", "Day")) { (day) }
                            td data-label=(tr(l, "Wiadomości", "Messages")) { (messages) }
                            td data-label=(tr(l, "Części SMS (koszt)", "SMS parts (billed)")) { (parts) }
                        }
                    } }
                }
            }
        }
        section {
            h2 { (tr(l, "Wiadomości", "Messages")) }
            form method="get" action="/office/sms" .filters {
                label { (tr(l, "Rodzaj", "Kind")) " "
                    select name="kind" {
                        option value="" { (tr(l, "wszystkie", "all")) }
                        @for k in KINDS.iter().chain(["test"].iter()) {
                            option value=(k) selected[kind.as_deref() == Some(*k)] { (kind_label(l, k)) }
                        }
                    }
                }
                " "
                label { (tr(l, "Stan", "Status")) " "
                    select name="status" {
                        option value="" { (tr(l, "wszystkie", "all")) }
                        @for s in NoticeStatus::ALL {
                            option value=(s.code()) selected[status == Some(s)] { (status_label(l, s)) }
                        }
                    }
                }
                " "
                button type="submit" { (tr(l, "Pokaż", "Show")) }
            }
            @if shown.is_empty() {
                p #no-notices { (tr(l, "Brak wiadomości spełniających warunki.", "No messages match.")) }
            } @else {
                div.table-scroll { table.fold #notices {
                    thead { tr {
                        th { (tr(l, "Utworzono", "Created")) }
                        th { (tr(l, "Rodzaj", "Kind")) }
                        th { (tr(l, "Osoba", "Person")) }
                        th { (tr(l, "Stan", "Status")) }
                        th { (tr(l, "Próby", "Attempts")) }
                        th { (tr(l, "Części", "Parts")) }
                        th { (tr(l, "Uwagi", "Notes")) }
                    } }
                    tbody { @for (n, name) in &shown {
                        tr data-kind=(n.kind) data-status=(n.status.code()) {
                            td data-label=(tr(l, "Utworzono", "Created")) { (super::dates::moment(ctx.lang, &n.created)) }
                            td data-label=(tr(l, "Rodzaj", "Kind")) { (kind_label(l, &n.kind)) }
                            td data-label=(tr(l, "Osoba", "Person")) {
                                @match (name, &n.person_id) {
                                    (Some(name), Some(id)) => a href=(format!("/office/persons/{id}")) { (name) },
                                    (None, Some(_)) => (tr(l, "mieszkaniec", "resident")),
                                    _ => "—",
                                }
                            }
                            td data-label=(tr(l, "Stan", "Status")) { (status_label(l, n.status)) }
                            td data-label=(tr(l, "Próby", "Attempts")) { (n.attempts) }
                            td data-label=(tr(l, "Części", "Parts")) { (n.segments.map(|s| s.to_string()).unwrap_or_else(|| "—".into())) }
                            td.reason data-label=(tr(l, "Uwagi", "Notes")) {
                                @if let Some(r) = &n.reason { (reason_label(l, r)) }
                                @if n.status == NoticeStatus::Queued && n.reason.as_deref() != Some(reason::NO_GATEWAY) {
                                    " (" (tr(l, "najwcześniej", "not before")) " " (local_time_ms(l, n.due_ms)) ")"
                                }
                                @if let Some(at) = n.sent_ms { (tr(l, "wysłano ", "sent ")) (local_time_ms(l, at)) }
                            }
                        }
                    } }
                } }
            }
        }
        @if ctx.can(Perm::Staff) && has_gateway {
            section {
                h2 { (tr(l, "Wiadomość testowa", "Test message")) }
                p { (tr(l, "Sprawdza połączenie z bramką: wysyła krótką wiadomość na podany numer. Numer nie jest zapisywany.",
                        "Checks the gateway: sends a short message to the number given. The number is not kept.")) }
                form method="post" action="/office/sms/test" {
                    (csrf(ctx))
                    label for="phone" { (tr(l, "Numer telefonu komórkowego", "Mobile number")) }
                    " "
                    input #phone name="phone" type="tel" inputmode="tel" autocomplete="off" required;
                    " "
                    button type="submit" { (tr(l, "Wyślij test", "Send a test")) }
                }
            }
        }
    };
    Ok(Out::Page {
        title: tr(l, "Wiadomości SMS", "SMS messages").to_owned(),
        body,
    })
}

/// Send a test message: recorded as being sent in the store's turn, then the gateway is
/// asked outside it (a slow gateway must not hold up the kiosks' syncs), then the answer
/// is recorded. Office admins only.
pub async fn send_test(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let gateway = state.sms.gateway.clone();
    let config = Arc::clone(&state.sms.config);
    let phone = form.get("phone").cloned().unwrap_or_default();
    let has_gateway = gateway.is_some();
    let cfg = Arc::clone(&config);
    let response = action(
        &state,
        &headers,
        Perm::Staff,
        form,
        move |db, _, ctx, form| {
            let form: TestForm = typed(form)?;
            if !has_gateway {
                return Err(invalid(
                    "Bramka SMS nie jest skonfigurowana: nie można wysłać wiadomości testowej.",
                    "No SMS gateway is configured: no test message can be sent.",
                ));
            }
            sender::test_message(&form.phone, &cfg)?;
            let id = sender::queue_test(db, &ctx.actor())?;
            Ok(Out::Redirect(format!("/office/sms?test={id}")))
        },
    )
    .await;
    let id = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.strip_prefix("/office/sms?test="))
        .map(str::to_owned);
    // Checked above: only a recorded test with a valid number gets here.
    let (Some(id), Some(gateway), Ok((to, text, segments))) =
        (id, gateway, sender::test_message(&phone, &config))
    else {
        return response;
    };
    let ready = Ready {
        out: Outgoing { idx: id, to, text },
        segments,
        attempts: MAX_ATTEMPTS,
    };
    let out = ready.out.clone();
    let answer = tokio::task::spawn_blocking(move || gateway.send(&out))
        .await
        .unwrap_or_else(|e| Err(GatewayError::Temporary(format!("the send stopped: {e}"))));
    let recorded = state
        .with_central(move |c| {
            c.record_notice(
                &ready,
                &answer,
                jiff::Timestamp::now(),
                &mut PassReport::default(),
            )
        })
        .await;
    if !matches!(recorded, Ok(Ok(()))) {
        tracing::error!("could not record a test message's result");
    }
    response
}
