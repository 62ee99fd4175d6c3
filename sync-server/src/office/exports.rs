//! Exports: rosters, attendance and requests as CSV (for Polish Excel: `;`, CRLF, a
//! byte-order mark) and XLSX (see `sheets`), with readable file names
//! (`lista-Gimnastyka-2026-12-05.csv`), and a printable attendance list per session.
//! People are listed by name in Polish alphabetical order.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::fold::file_slug;
use blisko_shared::i18n::Lang;
use blisko_shared::ids::{ClassId, SessionId};
use blisko_shared::seats::SeatStatus;

use super::layout::{attendance_status, registration_status, request_status};
use super::people::{self, Named};
use super::sheets::{Cell, Table, csv_bytes, xlsx_bytes};
use super::{Ctx, OResult, OfficeError, Out, Perm, branch_names, dates, now_text, page, parse_id};
use crate::http::AppState;
use crate::store::{Db, OClass};

/// Which file an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    fn extension(self) -> &'static str {
        match self {
            FileKind::Csv => "csv",
            FileKind::Xlsx => "xlsx",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FileKind::Csv => "text/csv; charset=utf-8",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

fn class_for(db: &Db<'_>, ctx: &Ctx, id: &str) -> OResult<OClass> {
    let id: ClassId = parse_id(id, "zajęcia", "class")?;
    let class = db
        .o_class(&id.to_string())?
        .ok_or_else(|| OfficeError::NotFound(format!("class {id}")))?;
    ctx.in_branch(&class.branch_id, "class", id)?;
    Ok(class)
}

/// A file name from its parts: `lista-Gimnastyka-2026-12-05.csv` (ASCII; the title's
/// Polish letters transliterated).
pub fn file_name(what: &str, title: Option<&str>, kind: FileKind) -> String {
    let today = jiff::Zoned::now().date();
    let slug = title.map(|t| file_slug(t, 60)).filter(|s| !s.is_empty());
    match slug {
        Some(slug) => format!("{what}-{slug}-{today}.{}", kind.extension()),
        None => format!("{what}-{today}.{}", kind.extension()),
    }
}

fn download(table: &Table, filename: String, utf8_name: String, kind: FileKind) -> OResult<Out> {
    let bytes = match kind {
        FileKind::Csv => csv_bytes(table)?,
        FileKind::Xlsx => xlsx_bytes(table)?,
    };
    Ok(Out::Download {
        filename,
        utf8_name: Some(utf8_name),
        content_type: kind.content_type(),
        bytes,
    })
}

fn lang_pick<'a>(l: Lang, pl: &'a str, en: &'a str) -> &'a str {
    match l {
        Lang::Pl => pl,
        Lang::En => en,
    }
}

/// The two names of an export of a class: ASCII and (for `filename*`) UTF-8.
fn class_file_names(
    l: Lang,
    what_pl: &str,
    what_en: &str,
    class: &OClass,
    kind: FileKind,
) -> (String, String) {
    let what = lang_pick(l, what_pl, what_en);
    let ascii = file_name(what, Some(&class.title), kind);
    let today = jiff::Zoned::now().date();
    let utf8 = match unicode_slug(&class.title) {
        slug if slug.is_empty() => ascii.clone(),
        slug => format!("{what}-{slug}-{today}.{}", kind.extension()),
    };
    (ascii, utf8)
}

/// A file-name part that keeps Polish letters: letters and digits, anything else as
/// one `-` ("Język angielski (B1)" → "Język-angielski-B1").
fn unicode_slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().take(100) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// A person's name; "—" for one the projection does not hold (yet).
fn name_of(names: &HashMap<String, Named>, person: &str) -> String {
    names
        .get(person)
        .map(|n| n.name.clone())
        .unwrap_or_else(|| "—".to_owned())
}

fn roster_table(db: &Db<'_>, ctx: &Ctx, class: &OClass) -> OResult<Table> {
    let mut regs = db.o_registrations_of_class(&class.id)?;
    let l = ctx.lang;
    let names = people::names(db, l, regs.iter().map(|r| r.person_id.clone()))?;
    people::sort_roster(&mut regs, &names);
    db.audit(
        &now_text(),
        &ctx.actor(),
        "roster_export",
        &format!("roster:{}", class.id),
        None,
    )?;
    let rows = regs
        .iter()
        .map(|r| {
            vec![
                Cell::text(&class.title),
                Cell::text(name_of(&names, &r.person_id)),
                Cell::text(registration_status(l, r.status)),
                r.position.map(Cell::Number).unwrap_or(Cell::Empty),
                dates::local(&r.created)
                    .map(Cell::DateTime)
                    .unwrap_or(Cell::Empty),
            ]
        })
        .collect();
    let header = match l {
        Lang::Pl => [
            "zajęcia",
            "osoba",
            "status",
            "pozycja na liście rezerwowej",
            "zapis",
        ],
        Lang::En => [
            "class",
            "person",
            "status",
            "waiting position",
            "registered",
        ],
    };
    Ok(Table {
        sheet: lang_pick(l, "Lista", "Roster").to_owned(),
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    })
}

async fn roster(state: AppState, headers: HeaderMap, id: String, kind: FileKind) -> Response {
    page(&state, &headers, Perm::ExportClasses, move |db, _, ctx| {
        let class = class_for(db, ctx, &id)?;
        let table = roster_table(db, ctx, &class)?;
        let (ascii, utf8) = class_file_names(ctx.lang, "lista", "roster", &class, kind);
        download(&table, ascii, utf8, kind)
    })
    .await
}

pub async fn roster_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    roster(state, headers, id, FileKind::Csv).await
}

pub async fn roster_xlsx(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    roster(state, headers, id, FileKind::Xlsx).await
}

/// Every confirmed person × every session, with the mark or blank; anyone else with a
/// mark (a walk-in) too. By session, then by name.
fn attendance_table(db: &Db<'_>, ctx: &Ctx, class: &OClass) -> OResult<Table> {
    let l = ctx.lang;
    let mut regs = db.o_registrations_of_class(&class.id)?;
    let names = people::names(db, l, regs.iter().map(|r| r.person_id.clone()))?;
    people::sort_roster(&mut regs, &names);
    let sessions = db.o_sessions(&class.id)?;
    let marks: HashMap<(String, String), String> = db
        .o_attendance_of_class(&class.id)?
        .into_iter()
        .map(|a| ((a.session_id, a.registration_id), a.status))
        .collect();
    let marked: HashSet<&str> = marks.keys().map(|(_, r)| r.as_str()).collect();
    db.audit(
        &now_text(),
        &ctx.actor(),
        "attendance_export",
        &format!("roster:{}", class.id),
        None,
    )?;
    let listed: Vec<_> = regs
        .iter()
        .filter(|r| r.status == SeatStatus::Confirmed || marked.contains(r.id.as_str()))
        .collect();
    let mut rows = Vec::new();
    for s in &sessions {
        let date = s
            .date
            .parse::<jiff::civil::Date>()
            .map(Cell::Date)
            .unwrap_or_else(|_| Cell::text(&s.date));
        for r in &listed {
            let mark = marks
                .get(&(s.id.clone(), r.id.clone()))
                .map(|m| Cell::text(attendance_status(l, m)))
                .unwrap_or(Cell::Empty);
            rows.push(vec![
                Cell::text(&class.title),
                date.clone(),
                Cell::text(&s.start),
                Cell::text(name_of(&names, &r.person_id)),
                mark,
            ]);
        }
    }
    let header = match l {
        Lang::Pl => ["zajęcia", "data", "godzina", "osoba", "obecność"],
        Lang::En => ["class", "date", "time", "person", "attendance"],
    };
    Ok(Table {
        sheet: lang_pick(l, "Obecność", "Attendance").to_owned(),
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    })
}

async fn attendance(state: AppState, headers: HeaderMap, id: String, kind: FileKind) -> Response {
    page(&state, &headers, Perm::ExportClasses, move |db, _, ctx| {
        let class = class_for(db, ctx, &id)?;
        let table = attendance_table(db, ctx, &class)?;
        let (ascii, utf8) = class_file_names(ctx.lang, "obecnosc", "attendance", &class, kind);
        download(&table, ascii, utf8, kind)
    })
    .await
}

pub async fn attendance_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    attendance(state, headers, id, FileKind::Csv).await
}

pub async fn attendance_xlsx(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    attendance(state, headers, id, FileKind::Xlsx).await
}

fn requests_table(db: &Db<'_>, ctx: &Ctx, query: &HashMap<String, String>) -> OResult<Table> {
    let (filter, _, _) = super::requests::queue_filter(query, ctx)?;
    let rows: Vec<_> = super::requests::matching(db, &filter, 100_000)?
        .into_iter()
        .map(|row| row.request)
        .collect();
    let services: HashMap<String, String> = db.o_services()?.into_iter().collect();
    let branches = branch_names(db)?;
    db.audit(
        &now_text(),
        &ctx.actor(),
        "requests_export",
        "intake:*",
        None,
    )?;
    let l = ctx.lang;
    let out = rows
        .iter()
        .map(|r| {
            vec![
                Cell::text(&r.reference),
                Cell::text(services.get(&r.service_id).cloned().unwrap_or_default()),
                Cell::text(branches.get(&r.branch_id).cloned().unwrap_or_default()),
                dates::local(&r.submitted)
                    .map(Cell::DateTime)
                    .unwrap_or(Cell::Empty),
                Cell::text(request_status(l, &r.status)),
                dates::local(&r.updated)
                    .map(Cell::DateTime)
                    .unwrap_or(Cell::Empty),
            ]
        })
        .collect();
    let header = match l {
        Lang::Pl => [
            "numer",
            "usługa",
            "punkt",
            "złożony",
            "status",
            "ostatnia zmiana",
        ],
        Lang::En => [
            "reference",
            "service",
            "branch",
            "submitted",
            "status",
            "last change",
        ],
    };
    Ok(Table {
        sheet: lang_pick(l, "Wnioski", "Requests").to_owned(),
        header: header.iter().map(|h| (*h).to_owned()).collect(),
        rows: out,
    })
}

async fn requests(
    state: AppState,
    headers: HeaderMap,
    query: HashMap<String, String>,
    kind: FileKind,
) -> Response {
    page(&state, &headers, Perm::Requests, move |db, _, ctx| {
        let table = requests_table(db, ctx, &query)?;
        let name = file_name(lang_pick(ctx.lang, "wnioski", "requests"), None, kind);
        download(&table, name.clone(), name, kind)
    })
    .await
}

pub async fn requests_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    requests(state, headers, query, FileKind::Csv).await
}

pub async fn requests_xlsx(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    requests(state, headers, query, FileKind::Xlsx).await
}

pub async fn print_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
) -> Response {
    page(&state, &headers, Perm::PrintAttendance, move |db, _, ctx| {
        let class = class_for(db, ctx, &id)?;
        let session: SessionId = parse_id(&session, "spotkanie", "session")?;
        let s = db
            .o_session(&session.to_string())?
            .filter(|s| s.class_id == class.id)
            .ok_or_else(|| OfficeError::NotFound(format!("session {session}")))?;
        let l = ctx.lang;
        let mut regs: Vec<_> = db
            .o_registrations_of_class(&class.id)?
            .into_iter()
            .filter(|r| r.status == SeatStatus::Confirmed)
            .collect();
        let names = people::names(db, l, regs.iter().map(|r| r.person_id.clone()))?;
        people::sort_roster(&mut regs, &names);
        let marks: HashMap<String, String> = db
            .o_attendance_of_class(&class.id)?
            .into_iter()
            .filter(|a| a.session_id == s.id)
            .map(|a| (a.registration_id, a.status))
            .collect();
        db.audit(&now_text(), &ctx.actor(), "roster_read", &format!("roster:{}", class.id), Some(&format!("session:{}", s.id)))?;
        let t = |pl, en| ctx.t(pl, en);
        let rows: Vec<(String, Option<&String>)> = regs
            .iter()
            .map(|r| (name_of(&names, &r.person_id), marks.get(&r.id)))
            .collect();
        let day = dates::day_text(l, &s.date);
        let body = html! {
            h1 { (t("Lista obecności", "Attendance list")) ": " (class.title) }
            p { (t("Spotkanie", "Session")) ": " (day) ", " (s.start) " (" (s.minutes) " min) · " (t("Prowadzący", "Instructor")) ": " (class.instructor) }
            table #print {
                thead { tr { th { "#" } th { (t("Osoba", "Person")) } th { (t("Zaznaczono", "Marked")) } th { (t("Podpis", "Signature")) } } }
                tbody { @for (i, (name, mark)) in rows.iter().enumerate() {
                    tr { td { (i + 1) } td { (name) } td { @if let Some(m) = mark { (attendance_status(l, m)) } } td.sign {} }
                } }
            }
            p.no-print { a href=(format!("/office/classes/{}", class.id)) { (t("Wróć", "Back")) } " · " (t("Użyj drukowania przeglądarki (Ctrl+P).", "Use the browser's print (Ctrl+P).")) }
        };
        Ok(Out::Print { title: format!("{} {}", t("Lista obecności", "Attendance list"), day), body })
    })
    .await
}
