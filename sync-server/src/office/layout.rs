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
form.stack { display:grid; grid-template-columns:minmax(0, 1fr); gap:.5rem; max-width:38rem; background:#fff; padding:1rem; border:1px solid var(--line); }
form.login { display:grid; grid-template-columns:minmax(0, 1fr); gap:.7rem; max-width:22rem; background:#fff; padding:1rem; border:1px solid var(--line); }
label { display:grid; grid-template-columns:minmax(0, 1fr); gap:.2rem; font-weight:600; min-width:0; }
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
main { overflow-wrap:anywhere; }
/* A table too wide for the screen scrolls in its box rather than breaking words apart. */
th, td { overflow-wrap:normal; }
input, select, textarea { max-width:100%; }
svg { max-width:100%; height:auto; }
/* Narrow screens (a phone or a small tablet at a class): the menu wraps, a table folds
   into one card per row (`table.fold`, each cell labelled by its data-label) or scrolls
   inside its own box, and the page itself never scrolls sideways. */
@media screen and (max-width: 720px) {
  header.top { padding:.5rem .75rem; gap:.4rem .8rem; }
  header.top .brand { margin-right:0; }
  header.top .who { margin-left:0; }
  nav { display:flex; flex-wrap:wrap; gap:0 1rem; width:100%; }
  nav a { margin-right:0; padding:.45rem 0; }
  main { padding:.75rem; }
  h1 { font-size:1.3rem; }
  table { display:block; max-width:100%; overflow-x:auto; min-width:0; }
  table.fold, table.fold tbody, table.fold tr, table.fold td { display:block; }
  table.fold { overflow:visible; background:none; }
  table.fold thead { display:none; }
  table.fold tr { background:#fff; border:1px solid var(--line); margin:0 0 .6rem; padding:.3rem .6rem; }
  table.fold td { overflow-wrap:anywhere; border:none; padding:.2rem 0 .2rem 7.5rem; text-align:left; position:relative; min-height:1.6rem; }
  table.fold td.grid-person { font-weight:700; }
  /* The label floats in the cell's left padding and the cell holds its float, so a label
     of two lines ("Ostatnia synchronizacja") makes its row taller instead of running
     into the next. */
  table.fold td[data-label] { display:flow-root; }
  table.fold td[data-label]::before { content:attr(data-label); float:left; width:7rem; margin:.1rem 0 0 -7.5rem; font-size:.8rem; font-weight:600; color:var(--muted); overflow-wrap:anywhere; }
  form.stack, form.login { padding:.75rem; }
  .card { min-width:0; width:100%; }
  .enroll-code { font-size:1.7rem; }
}
@media print {
  /* A printed page is a list on paper: no menu, forms or buttons; whole tables with
     their headings on every sheet, rows never cut across two sheets. */
  header.top, .no-print, nav, form, button, .filters { display:none !important; }
  .print-only { display:block; }
  body { background:#fff; color:#000; font-size:12pt; }
  main { padding:0; }
  a { color:inherit; text-decoration:none; }
  table { width:100%; display:table !important; overflow:visible !important; }
  thead { display:table-header-group !important; }
  tr { break-inside:avoid; }
  .table-scroll, .table-wrap, .daily-grid { overflow:visible !important; }
  td.sign { width:35%; }
}
/* Kiosks and the audit log */
/* The menu's links have no space between them: without this they never wrap on a phone. */
header.top nav { display:flex; flex-wrap:wrap; row-gap:.3rem; min-width:0; }
.table-scroll { max-width:100%; overflow-x:auto; position:relative; }
.visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
td.actions { display:flex; flex-wrap:wrap; gap:.4rem; align-items:center; }
td.actions input[type=text] { width:12rem; max-width:100%; }
a.danger-link { color:var(--bad); font-weight:600; }
ul.changes { margin:0; padding-left:1.1rem; }
ul.changes .old { text-decoration:line-through; color:var(--muted); }
nav.pages { margin:.5rem 0 1rem; }
.enroll-sheet { max-width:46rem; }
.enroll-sheet .enroll-code { font-size:2rem; }
figure.qr { margin:1rem 0; }
figure.qr svg { width:240px; height:240px; max-width:100%; }
.sheet-steps li { margin:.3rem 0; }
code { overflow-wrap:anywhere; }
#add-kiosk label, #audit-filters label { min-width:0; }
#add-kiosk select, #add-kiosk input, #audit-filters select { width:100%; max-width:100%; min-width:0; }
#audit-filters label { max-width:100%; }
@media screen and (max-width: 600px) {
  .enroll-code { font-size:1.6rem; }
  td.actions input[type=text] { width:100%; }
}
/* Staff accounts */
.temp-password { font-size:2rem; overflow-wrap:anywhere; max-width:100%; }
form.staff-form, form.staff-form label { grid-template-columns:minmax(0, 1fr); }
form.staff-form input, form.staff-form select { max-width:100%; min-width:0; }
.staff-page h1, .staff-page p { overflow-wrap:anywhere; }
/* Lists, exports and search: long words (titles, names) wrap; forms fit a phone. */
@media screen and (max-width: 640px) {
  main h1, main p { overflow-wrap:anywhere; }
  form.inline, form.stack, .filters { max-width:100%; }
  form.inline select, form.inline input, .filters select, .filters input { max-width:100%; min-width:0; }
}
/* Requests and roles */
.deadline-soon { background:#fff1c2; font-weight:700; }
.deadline-past { background:#fde2e1; color:var(--bad); font-weight:700; }
.table-wrap { overflow-x:auto; max-width:100%; }
.resident-message { border-left:4px solid var(--accent); background:#fff; padding:.4rem .7rem; }
.pesel { font: 700 1.2rem ui-monospace, "DejaVu Sans Mono", monospace; }
form.filters input[type=search] { min-width:10rem; }
.filters label { max-width:100%; min-width:0; grid-template-columns:minmax(0, 1fr); }
.filters select, .filters input { max-width:100%; min-width:0; }
td.deadline { min-width:10rem; }
td.filed { white-space:nowrap; }
/* Daily work: phone registrations, waiting lists, paper attendance, sessions. */
blockquote#clause-text { margin:.2rem 0; padding:.5rem .8rem; background:var(--bg); border-left:4px solid var(--accent); font-weight:400; }
label.check { display:flex; gap:.4rem; align-items:center; font-weight:400; }
.daily-grid { overflow-x:auto; max-width:100%; }
.daily-grid table { min-width:0; }
.daily-grid select { padding:.2rem; }
/* The roll call: a card per person with three large choices, for a phone in one hand. */
.roll-call { max-width:44rem; }
fieldset.roll { background:#fff; border:1px solid var(--line); border-radius:6px; margin:0 0 .6rem; padding:.4rem .7rem .7rem; min-width:0; }
fieldset.roll legend { font-weight:700; font-size:1.05rem; padding:0 .3rem; overflow-wrap:anywhere; }
fieldset.roll p { margin:.2rem 0 .4rem; }
.roll .choices { display:flex; flex-wrap:wrap; gap:.4rem; }
.roll .choices label { flex:1 1 auto; display:flex; align-items:center; gap:.5rem; min-height:3rem; padding:.4rem .7rem; border:2px solid var(--line); border-radius:6px; cursor:pointer; }
.roll .choices input { width:1.4rem; height:1.4rem; margin:0; flex:none; }
.roll .choices label:has(input:checked) { border-color:var(--accent); background:#e7f0fa; }
form#roll-call button[type=submit] { min-height:3rem; width:100%; max-width:24rem; font-size:1.1rem; margin-top:.4rem; }
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

/// One item of the menu: shown to the roles that have its `perm`, so the menu offers
/// only pages the visitor may open. Each page is declared here once.
pub struct NavItem {
    pub perm: Perm,
    pub href: &'static str,
    pub pl: &'static str,
    pub en: &'static str,
}

/// The menu, in order.
pub const NAV: &[NavItem] = &[
    NavItem {
        perm: Perm::MyClasses,
        href: "/office/my-classes",
        pl: "Moje zajęcia",
        en: "My classes",
    },
    NavItem {
        perm: Perm::Overview,
        href: "/office",
        pl: "Przegląd",
        en: "Overview",
    },
    NavItem {
        perm: Perm::Requests,
        href: "/office/requests",
        pl: "Wnioski",
        en: "Requests",
    },
    NavItem {
        perm: Perm::ClassesView,
        href: "/office/classes",
        pl: "Zajęcia",
        en: "Classes",
    },
    NavItem {
        perm: Perm::Charts,
        href: "/office/charts",
        pl: "Wykresy",
        en: "Charts",
    },
    NavItem {
        perm: Perm::Reconcile,
        href: "/office/reconcile",
        pl: "Uzgadnianie",
        en: "Reconciliation",
    },
    NavItem {
        perm: Perm::Persons,
        href: "/office/persons",
        pl: "Osoby",
        en: "Persons",
    },
    NavItem {
        perm: Perm::Branches,
        href: "/office/branches",
        pl: "Punkty",
        en: "Branches",
    },
    NavItem {
        perm: Perm::Kiosks,
        href: "/office/kiosks",
        pl: "Kioski",
        en: "Kiosks",
    },
    NavItem {
        perm: Perm::Staff,
        href: "/office/staff",
        pl: "Pracownicy",
        en: "Staff",
    },
    NavItem {
        perm: Perm::Sms,
        href: "/office/sms",
        pl: "SMS",
        en: "SMS",
    },
    NavItem {
        perm: Perm::Audit,
        href: "/office/audit",
        pl: "Dziennik zdarzeń",
        en: "Audit log",
    },
];

/// A full page for a logged-in visitor: navigation shows only what the role may open.
pub fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let l = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            (head(l, title))
            body {
                header.top {
                    span.brand { "Blisko · " (tr(l, "Biuro CUS", "CUS office")) }
                    nav aria-label=(tr(l, "Menu", "Menu")) {
                        @for item in NAV.iter().filter(|item| ctx.can(item.perm)) {
                            a href=(item.href) { (tr(l, item.pl, item.en)) }
                        }
                    }
                    span.who {
                        (ctx.staff.name) " (" (ctx.role.label(l)) ") · "
                        a href="/office/password" { (tr(l, "Hasło", "Password")) } " · "
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

/// An error for a logged-in visitor: the full page with the menu, and a way back to the
/// role's own start page (which the role may always open, so it cannot loop).
pub fn error_in_page(ctx: &Ctx, message: &str) -> Markup {
    let l = ctx.lang;
    page(
        ctx,
        tr(l, "Błąd", "Error"),
        html! {
            h1 { (tr(l, "Nie udało się", "That did not work")) }
            p.error role="alert" { (message) }
            p { a #home href=(ctx.role.landing()) { (tr(l, "Wróć do strony głównej", "Back to the start page")) } }
        },
    )
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

#[cfg(test)]
mod tests {
    /// Tables that stay tables on a narrow screen, by id, and why.
    const UNFOLDED: &[(&str, &str)] = &[(
        "#print",
        "the attendance list to print: a phone previews the paper sheet",
    )];

    /// The opening of each maud `table` element in `source` (its selector, e.g.
    /// `table.fold #persons`) with the text that follows it.
    fn tables(source: &str) -> Vec<(String, String)> {
        let lines: Vec<&str> = source.lines().collect();
        let mut found = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            // CSS rules and Rust code have `:` or `(`; a maud element's opening has neither.
            if line.contains([':', '(', ';']) {
                continue;
            }
            for (at, _) in line.match_indices("table") {
                let before = line[..at].chars().last();
                let rest = &line[at..];
                let Some(end) = rest.find('{') else { continue };
                let selector = rest[..end].trim();
                let starts = before.is_none_or(|c| c == ' ');
                let shaped = selector == "table"
                    || selector.starts_with("table.")
                    || selector.starts_with("table #");
                if starts && shaped {
                    let after = lines[i..lines.len().min(i + 4)].join("\n");
                    found.push((selector.to_owned(), after));
                }
            }
        }
        found
    }

    #[test]
    fn every_data_table_of_the_office_folds_on_a_phone() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/office");
        let mut checked = 0;
        let mut unfolded = Vec::new();
        let entries = std::fs::read_dir(dir).expect("the office's sources");
        for entry in entries {
            let path = entry.expect("a source file").path();
            let source = std::fs::read_to_string(&path).expect("a readable source");
            for (selector, after) in tables(&source) {
                // A table with a heading row holds data; one without is a key/value card.
                if !after.contains("thead") {
                    continue;
                }
                checked += 1;
                let allowed = UNFOLDED.iter().any(|(id, _)| selector.ends_with(id));
                if !selector.contains(".fold") && !allowed {
                    unfolded.push(format!("{}: {selector}", path.display()));
                }
            }
        }
        assert!(
            checked >= 25,
            "the scan finds the office's tables: {checked}"
        );
        assert!(
            unfolded.is_empty(),
            "tables that do not fold: {unfolded:#?}"
        );
    }
}
