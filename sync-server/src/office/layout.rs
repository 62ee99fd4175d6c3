//! The page shell: navigation by role, language switch, the embedded stylesheet.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use blisko_shared::i18n::Lang;
use blisko_shared::seats::SeatStatus;

use super::{Ctx, Perm, tr};

pub const LANG_COOKIE: &str = "blisko_lang";

const CSS: &str = r#"
:root { --ink:#1b1f24; --muted:#555d66; --line:#c9ced4; --bg:#f6f7f9; --accent:#0b5cad; --warn:#9a3b00; --bad:#a4161a; --ok:#1e6b31; }
* { box-sizing: border-box; }
body { margin:0; font: 16px/1.45 system-ui, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--ink); background:var(--bg); }
header.top { background:#fff; border-bottom:1px solid var(--line); padding:.5rem 1rem; display:flex; flex-wrap:wrap; gap:1rem; align-items:center; }
header.top .brand { font-weight:700; color:var(--accent); margin-right:1rem; }
nav a { margin-right:.9rem; color:var(--accent); text-decoration:none; font-weight:600; }
nav a:hover, nav a:focus { text-decoration:underline; }
header.top .who { margin-left:auto; color:var(--muted); font-size:.9rem; }
header.top form { display:inline; }
main { padding:1rem 1.5rem; max-width:1200px; }
h1 { font-size:1.5rem; margin:.5rem 0 1rem; }
h2 { font-size:1.2rem; margin:1.5rem 0 .5rem; }
table { border-collapse:collapse; background:#fff; margin:.5rem 0 1rem; min-width:50%; }
th, td { border:1px solid var(--line); padding:.3rem .6rem; text-align:left; vertical-align:top; }
th { background:#eef1f4; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
tr.stale td { background:#fff1e6; }
.stale-badge { color:var(--warn); font-weight:700; }
.error { color:var(--bad); font-weight:600; }
.ok { color:var(--ok); font-weight:600; }
.muted { color:var(--muted); }
form.inline { display:inline-flex; gap:.4rem; align-items:center; flex-wrap:wrap; margin:0; }
form.stack { display:grid; gap:.5rem; max-width:38rem; background:#fff; padding:1rem; border:1px solid var(--line); }
form.login { display:grid; gap:.7rem; max-width:22rem; background:#fff; padding:1rem; border:1px solid var(--line); }
label { display:grid; gap:.2rem; font-weight:600; }
input, select, textarea, button { font:inherit; padding:.35rem .5rem; border:1px solid #8a929b; border-radius:3px; }
button { background:var(--accent); color:#fff; border-color:var(--accent); cursor:pointer; font-weight:600; }
button.danger { background:var(--bad); border-color:var(--bad); }
button.secondary { background:#fff; color:var(--accent); }
.filters { display:flex; gap:.6rem; flex-wrap:wrap; align-items:end; margin-bottom:.5rem; }
.cards { display:flex; gap:1rem; flex-wrap:wrap; }
.card { background:#fff; border:1px solid var(--line); padding:.7rem 1rem; min-width:15rem; }
.card h3 { margin:.1rem 0 .4rem; font-size:1.05rem; }
.status-submitted, .status-in_review, .status-more_information_needed { color:var(--warn); font-weight:600; }
.status-accepted { color:var(--ok); font-weight:600; }
.status-rejected { color:var(--bad); font-weight:600; }
.conflict { color:var(--bad); font-weight:700; }
.pending { color:var(--warn); font-weight:700; }
section.notice { border:3px solid var(--warn); border-radius:8px; padding:0 1rem 1rem; margin:1rem 0; overflow-x:auto; }
.enroll-code { font: 700 2.4rem/1.2 ui-monospace, "DejaVu Sans Mono", monospace; letter-spacing:.08em; background:#fff; border:2px solid var(--accent); padding:.6rem 1rem; display:inline-block; }
svg { background:#fff; border:1px solid var(--line); margin:.3rem 0 1rem; }
.print-only { display:none; }
@media print {
  header.top, .no-print, nav { display:none !important; }
  .print-only { display:block; }
  body { background:#fff; font-size:12pt; }
  main { padding:0; }
  table { width:100%; }
  td.sign { width:35%; }
}
/* Daily work: phone registrations, waiting lists, paper attendance, sessions. */
label.check { display:flex; gap:.4rem; align-items:center; font-weight:400; }
.daily-grid { overflow-x:auto; max-width:100%; }
.daily-grid table { min-width:0; }
.daily-grid select { padding:.2rem; }
/* The menu's links sit side by side without spaces between them: let them wrap on a phone. */
header.top nav { display:flex; flex-wrap:wrap; row-gap:.3rem; min-width:0; }
"#;

pub async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("max-age=3600"),
            ),
        ],
        CSS,
    )
        .into_response()
}

/// `/office/lang/pl` or `/office/lang/en`: remember the language and go back to the start.
pub async fn set_lang(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let Ok(lang) = code.parse::<Lang>() else {
        return (StatusCode::NOT_FOUND, "pl | en").into_response();
    };
    let secure = if headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    {
        "; Secure"
    } else {
        ""
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/office".to_owned()),
            (
                header::SET_COOKIE,
                format!(
                    "{LANG_COOKIE}={}; Path=/office; SameSite=Strict; Max-Age=31536000{secure}",
                    lang.code()
                ),
            ),
        ],
    )
        .into_response()
}

fn head(lang: Lang, title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · Blisko · " (tr(lang, "biuro", "office")) }
            link rel="stylesheet" href="/office/style.css";
        }
    }
}

fn lang_switch(lang: Lang) -> Markup {
    html! {
        span.lang {
            @if lang == Lang::Pl { a href="/office/lang/en" lang="en" { "English" } }
            @else { a href="/office/lang/pl" lang="pl" { "Polski" } }
        }
    }
}

/// A full page for a logged-in visitor: navigation shows only what the role may open.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let l = ctx.lang;
    let links: [(Perm, &str, &str, &str); 7] = [
        (Perm::Overview, "/office", "Przegląd", "Overview"),
        (Perm::Requests, "/office/requests", "Wnioski", "Requests"),
        (Perm::ClassesView, "/office/classes", "Zajęcia", "Classes"),
        (Perm::Charts, "/office/charts", "Wykresy", "Charts"),
        (
            Perm::Reconcile,
            "/office/reconcile",
            "Uzgadnianie",
            "Reconciliation",
        ),
        (Perm::Persons, "/office/persons", "Osoby", "Persons"),
        (
            Perm::Requests,
            "/office/export/requests",
            "Eksport wniosków (CSV)",
            "Requests CSV",
        ),
    ];
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            (head(l, title))
            body {
                header.top {
                    span.brand { "Blisko · " (tr(l, "Biuro CUS", "CUS office")) }
                    nav aria-label=(tr(l, "Menu", "Menu")) {
                        @for (perm, href, pl, en) in links {
                            @if ctx.can(perm) { a href=(href) { (tr(l, pl, en)) } }
                        }
                    }
                    span.who {
                        (ctx.staff.name) " (" (ctx.role.label(l)) ") · "
                        (lang_switch(l)) " · "
                        form method="post" action="/office/logout" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.secondary type="submit" { (tr(l, "Wyloguj", "Log out")) }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A page for printing: no navigation.
pub fn print(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            (head(ctx.lang, title))
            body { main { (body) } }
        }
    }
}

/// A page before log-in.
pub fn bare(lang: Lang, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            (head(lang, title))
            body {
                header.top { span.brand { "Blisko · " (tr(lang, "Biuro CUS", "CUS office")) } span.who { (lang_switch(lang)) } }
                main { (body) }
            }
        }
    }
}

pub fn error_page(lang: Lang, message: &str) -> Markup {
    bare(
        lang,
        tr(lang, "Błąd", "Error"),
        html! {
            h1 { (tr(lang, "Nie udało się", "That did not work")) }
            p.error role="alert" { (message) }
            p { a href="/office" { (tr(lang, "Wróć do biura", "Back to the office")) } }
        },
    )
}

/// A hidden CSRF field for a form.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.csrf); }
}

/// Status names of requests.
pub fn request_status(lang: Lang, code: &str) -> String {
    let (pl, en) = match code {
        "submitted" => ("złożony", "submitted"),
        "in_review" => ("w rozpatrzeniu", "in review"),
        "accepted" => ("przyjęty", "accepted"),
        "rejected" => ("odrzucony", "rejected"),
        "more_information_needed" => ("potrzebne informacje", "more information needed"),
        other => (other, other),
    };
    tr(lang, pl, en).to_owned()
}

pub fn registration_status(lang: Lang, status: SeatStatus) -> String {
    let (pl, en) = match status {
        SeatStatus::Confirmed => ("potwierdzony", "confirmed"),
        SeatStatus::Waitlisted => ("lista rezerwowa", "waiting list"),
        SeatStatus::Cancelled => ("anulowany", "cancelled"),
    };
    tr(lang, pl, en).to_owned()
}

pub fn attendance_status(lang: Lang, code: &str) -> String {
    let (pl, en) = match code {
        "present" => ("obecny", "present"),
        "absent" => ("nieobecny", "absent"),
        "excused" => ("usprawiedliwiony", "excused"),
        "conflict" => ("sprzeczne oznaczenia", "conflicting marks"),
        other => (other, other),
    };
    tr(lang, pl, en).to_owned()
}
