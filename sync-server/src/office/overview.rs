//! The overview: per branch, registrations this month, attendance rate, waiting lists,
//! open requests; every kiosk's last sync and app version (silent for days: marked).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use super::layout::csrf;
use super::{Ctx, OResult, Out, Perm, page};
use crate::central::seats::{self, CompensationRow};
use crate::http::AppState;
use crate::store::Db;

/// A kiosk that has not synced for this long stands out.
pub const STALE_DAYS: i64 = 3;

pub async fn get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // Every role may ask for "/office" (the log-in and the language switch lead here);
    // a role without the overview goes on to its own start page.
    page(&state, &headers, Perm::Any, |db, _, ctx| {
        if ctx.can(Perm::Overview) {
            render(db, ctx)
        } else {
            Ok(super::Out::Redirect(ctx.role.landing().to_owned()))
        }
    })
    .await
}

/// The overview page (also called by the benchmark).
pub fn render(db: &Db<'_>, ctx: &Ctx) -> OResult<Out> {
    let now = jiff::Zoned::now();
    let today = now.date();
    let month_start = today.first_of_month();
    let month_start_ms = month_start
        .to_zoned(now.time_zone().clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(0);
    let counts = db.o_branch_counts(month_start_ms)?;
    let rates = db.o_attendance_rate(&month_start.to_string(), &today.to_string())?;
    let branches = db.branches()?;
    let kiosks = db.kiosks()?;
    let names = super::names::Names::load(db, ctx.lang)?;
    let stale_before = now
        .timestamp()
        .checked_sub(jiff::SignedDuration::from_hours(24 * STALE_DAYS))
        .unwrap_or(now.timestamp());
    let tasks: Vec<_> = seats::compensation(db, None)?
        .into_iter()
        .filter(|c| ctx.sees_branch(&c.branch_id.to_string()))
        .collect();
    let l = ctx.lang;
    let t = |pl, en| ctx.t(pl, en);
    let body = html! {
        h1 { (t("Przegląd", "Overview")) }
        @if branches.is_empty() {
            p.notice #no-branches { (t("Nie ma jeszcze żadnego punktu, więc nie ma tu czego pokazać. ", "There is no branch yet, so there is nothing to show here. "))
                @if ctx.can(Perm::Branches) { a href="/office/branches#add" { (t("Proszę zacząć od dodania punktu.", "Please start by adding a branch.")) } } }
        }
        (compensation_section(ctx, &tasks, None))
        p.muted { (t("Dane połączone ze wszystkich punktów, stan na ", "Merged data of every branch, as of ")) (super::dates::day(l, now.date())) ", " (now.strftime("%H:%M")) "." }
        table.fold {
            caption.muted { (t("Punkty w bieżącym miesiącu", "Branches this month")) }
            thead { tr {
                th { (t("Punkt", "Branch")) }
                th.num { (t("Zapisy w tym miesiącu", "Registrations this month")) }
                th.num { (t("Frekwencja", "Attendance rate")) }
                th.num { (t("Lista rezerwowa", "Waiting lists")) }
                th.num { (t("Otwarte wnioski", "Open requests")) }
            } }
            tbody {
                @for b in branches.iter().filter(|b| ctx.sees_branch(&b.id.to_string())) {
                    @let id = b.id.to_string();
                    @let c = counts.iter().find(|c| c.0 == id);
                    @let r = rates.iter().find(|r| r.0 == id);
                    tr data-branch=(b.code) {
                        td data-label=(t("Punkt", "Branch")) { (b.name) " (" (b.code) ")" }
                        td.num data-label=(t("Zapisy w tym miesiącu", "Registrations this month")) { (c.map(|c| c.1).unwrap_or(0)) }
                        td.num data-label=(t("Frekwencja", "Attendance rate")) {
                            @match r {
                                Some((_, present, marked)) if *marked > 0 => { (format!("{:.0}%", *present as f64 * 100.0 / *marked as f64)) " " span.muted { "(" (present) "/" (marked) ")" } }
                                _ => { span.muted { "—" } }
                            }
                        }
                        td.num data-label=(t("Lista rezerwowa", "Waiting lists")) { (c.map(|c| c.2).unwrap_or(0)) }
                        td.num data-label=(t("Otwarte wnioski", "Open requests")) { (c.map(|c| c.3).unwrap_or(0)) }
                    }
                }
            }
        }
        h2 { (t("Kioski", "Kiosks")) }
        table.fold {
            thead { tr {
                th { (t("Kiosk", "Kiosk")) } th { (t("Punkt", "Branch")) } th { (t("Ostatnia synchronizacja", "Last sync")) }
                th { (t("Wersja aplikacji", "App version")) } th { (t("Stan", "State")) }
                @if ctx.can(Perm::Kiosks) { th { (t("Rejestracja", "Enrollment")) } }
            } }
            tbody {
                @for k in kiosks.iter().filter(|k| ctx.sees_branch(&k.branch_id.to_string())) {
                    @let stale = !k.revoked && k.last_sync.as_deref().and_then(|s| s.parse::<jiff::Timestamp>().ok()).is_none_or(|s| s < stale_before);
                    tr.stale[stale] data-kiosk=(k.kiosk_id) {
                        td data-label=(t("Kiosk", "Kiosk")) { (names.kiosk(&k.kiosk_id.to_string())) }
                        td data-label=(t("Punkt", "Branch")) { (branches.iter().find(|b| b.id == k.branch_id).map(|b| b.code.as_str()).unwrap_or("?")) }
                        td data-label=(t("Ostatnia synchronizacja", "Last sync")) { (k.last_sync.as_deref().map(|at| super::dates::moment(l, at)).unwrap_or_else(|| t("nigdy", "never").to_owned())) }
                        td data-label=(t("Wersja aplikacji", "App version")) { (k.app_version.as_deref().unwrap_or("—")) }
                        td data-label=(t("Stan", "State")) {
                            @if k.revoked { (t("wycofany", "revoked")) }
                            @else if !k.enrolled { (t("czeka na rejestrację", "waiting for enrollment")) }
                            @else if stale { span.stale-badge { (format!("{} {STALE_DAYS} {}", t("milczy ponad", "silent for over"), t("dni", "days"))) } }
                            @else { (t("w kontakcie", "in touch")) }
                        }
                        @if ctx.can(Perm::Kiosks) {
                            td data-label=(t("Rejestracja", "Enrollment")) {
                                form.inline method="post" action=(format!("/office/kiosks/{}/reenroll", k.kiosk_id)) {
                                    (csrf(ctx))
                                    button.secondary[!k.revoked] type="submit" { (t("Nowy kod rejestracji", "New enrollment code")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let _ = l;
    Ok(Out::Page {
        title: ctx.t("Przegląd", "Overview").to_owned(),
        body,
    })
}

/// Registrations a merge left beyond a class's limits, for staff to call (nobody was
/// moved automatically). Empty when there are none. `names` (person id to name) where the
/// page already shows, and audits, the roster; elsewhere a link to the person's page.
pub fn compensation_section(
    ctx: &Ctx,
    tasks: &[CompensationRow],
    names: Option<&std::collections::HashMap<String, String>>,
) -> maud::Markup {
    let t = |pl, en| ctx.t(pl, en);
    html! {
        @if !tasks.is_empty() {
            section.notice #compensation {
                h2 { (t("Do wyjaśnienia: zapisy ponad limit", "To resolve: registrations beyond a limit")) }
                p { (t("Po synchronizacji kiosków te zapisy wykraczają poza liczbę miejsc albo limit listy rezerwowej. Nikogo nie przeniesiono: proszę skontaktować się z tymi osobami (najpóźniej zapisane są na początku).",
                       "After the kiosks synced, these registrations go beyond the class's seats or its waiting-list limit. Nobody was moved: please contact these people (the latest to register come first).")) }
                table.fold {
                    thead { tr { th { (t("Zajęcia", "Class")) } th { (t("Co", "What")) } th { (t("Zapis", "Registration")) } } }
                    tbody { @for c in tasks {
                        tr data-registration=(c.registration_id) data-kind=(serde_json::to_value(c.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) {
                            td data-label=(t("Zajęcia", "Class")) { a href=(format!("/office/classes/{}", c.class_id)) { (c.class_title) } }
                            td data-label=(t("Co", "What")) { @match c.kind {
                                blisko_shared::seats::CompensationKind::OverCapacity => { (t("potwierdzony ponad liczbę miejsc", "confirmed beyond the seats")) " (" (c.capacity) ")" }
                                blisko_shared::seats::CompensationKind::OverWaitlist => { (t("na liście rezerwowej ponad limit", "waiting beyond the list's limit")) " (" (c.waitlist_limit) ")" }
                            } }
                            td data-label=(t("Zapis", "Registration")) { a href=(format!("/office/persons/{}", c.person_id)) {
                                @match names.and_then(|n| n.get(&c.person_id.to_string())) {
                                    Some(name) => { (name) }
                                    None => { (t("dane osoby", "the person's details")) }
                                }
                            } }
                        }
                    } }
                }
            }
        }
    }
}
