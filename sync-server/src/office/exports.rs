//! Exports: rosters, attendance and requests as CSV (UTF-8 with a byte-order mark, so a
//! spreadsheet opens Polish letters right), and a printable attendance list per session.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::ids::{ClassId, SessionId};
use blisko_shared::seats::SeatStatus;

use super::classes::person_names;
use super::layout::{attendance_status, registration_status, request_status};
use super::{
    Ctx, OResult, OfficeError, Out, Perm, branch_names, now_text, page, parse_id, stamp_time,
};
use crate::http::AppState;
use crate::store::{Db, OClass};

/// CSV bytes: a BOM, then the rows.
pub fn csv_bytes(header: &[&str], rows: &[Vec<String>]) -> OResult<Vec<u8>> {
    let mut out = "\u{FEFF}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let fail = |e: csv::Error| super::invalid(format!("CSV: {e}"), format!("CSV: {e}"));
        w.write_record(header).map_err(fail)?;
        for row in rows {
            w.write_record(row).map_err(fail)?;
        }
        w.flush()
            .map_err(|e| super::invalid(format!("CSV: {e}"), format!("CSV: {e}")))?;
    }
    Ok(out)
}

fn class_for(db: &Db<'_>, ctx: &Ctx, id: &str) -> OResult<OClass> {
    let id: ClassId = parse_id(id, "zajęcia", "class")?;
    let class = db
        .o_class(&id.to_string())?
        .ok_or_else(|| OfficeError::NotFound(format!("class {id}")))?;
    ctx.in_branch(&class.branch_id, "class", id)?;
    Ok(class)
}

fn download(name: String, bytes: Vec<u8>) -> Out {
    Out::Download {
        filename: name,
        content_type: "text/csv; charset=utf-8",
        bytes,
    }
}

pub async fn roster_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::ExportClasses, move |db, _, ctx| {
        let class = class_for(db, ctx, &id)?;
        let regs = db.o_registrations_of_class(&class.id)?;
        let names = person_names(db, regs.iter().map(|r| r.person_id.clone()))?;
        db.audit(
            &now_text(),
            &ctx.actor(),
            "roster_export",
            &format!("roster:{}", class.id),
            None,
        )?;
        let l = ctx.lang;
        let rows: Vec<Vec<String>> = regs
            .iter()
            .map(|r| {
                vec![
                    class.title.clone(),
                    names.get(&r.person_id).cloned().unwrap_or_default(),
                    registration_status(l, r.status),
                    r.position.map(|p| p.to_string()).unwrap_or_default(),
                    stamp_time(&r.created),
                    r.id.clone(),
                ]
            })
            .collect();
        let header = match l {
            blisko_shared::i18n::Lang::Pl => [
                "zajęcia",
                "osoba",
                "status",
                "pozycja na liście rezerwowej",
                "zapis",
                "id zapisu",
            ],
            blisko_shared::i18n::Lang::En => [
                "class",
                "person",
                "status",
                "waiting position",
                "registered",
                "registration id",
            ],
        };
        Ok(download(
            format!("roster-{}.csv", class.id),
            csv_bytes(&header, &rows)?,
        ))
    })
    .await
}

pub async fn attendance_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    page(&state, &headers, Perm::ExportClasses, move |db, _, ctx| {
        let class = class_for(db, ctx, &id)?;
        let regs = db.o_registrations_of_class(&class.id)?;
        let person_of: HashMap<String, String> = regs
            .iter()
            .map(|r| (r.id.clone(), r.person_id.clone()))
            .collect();
        let names = person_names(db, regs.iter().map(|r| r.person_id.clone()))?;
        let sessions: HashMap<String, (String, String)> = db
            .o_sessions(&class.id)?
            .into_iter()
            .map(|s| (s.id, (s.date, s.start)))
            .collect();
        let mut attendance = db.o_attendance_of_class(&class.id)?;
        attendance.sort_by(|a, b| {
            sessions
                .get(&a.session_id)
                .cmp(&sessions.get(&b.session_id))
        });
        db.audit(
            &now_text(),
            &ctx.actor(),
            "attendance_export",
            &format!("roster:{}", class.id),
            None,
        )?;
        let l = ctx.lang;
        let rows: Vec<Vec<String>> = attendance
            .iter()
            .map(|a| {
                let (date, start) = sessions.get(&a.session_id).cloned().unwrap_or_default();
                let person = person_of
                    .get(&a.registration_id)
                    .and_then(|p| names.get(p))
                    .cloned()
                    .unwrap_or_default();
                vec![
                    class.title.clone(),
                    date,
                    start,
                    person,
                    attendance_status(l, &a.status),
                ]
            })
            .collect();
        let header = match l {
            blisko_shared::i18n::Lang::Pl => ["zajęcia", "data", "godzina", "osoba", "obecność"],
            blisko_shared::i18n::Lang::En => ["class", "date", "time", "person", "attendance"],
        };
        Ok(download(
            format!("attendance-{}.csv", class.id),
            csv_bytes(&header, &rows)?,
        ))
    })
    .await
}

pub async fn requests_csv(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    page(&state, &headers, Perm::Requests, move |db, _, ctx| {
        let filter = super::requests::filter_from(&query, ctx)?;
        let rows = db.o_requests(&filter, 100_000)?;
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
        let out: Vec<Vec<String>> = rows
            .iter()
            .map(|r| {
                vec![
                    r.reference.clone(),
                    services.get(&r.service_id).cloned().unwrap_or_default(),
                    branches.get(&r.branch_id).cloned().unwrap_or_default(),
                    stamp_time(&r.submitted),
                    request_status(l, &r.status),
                    stamp_time(&r.updated),
                ]
            })
            .collect();
        let header = match l {
            blisko_shared::i18n::Lang::Pl => [
                "numer",
                "usługa",
                "punkt",
                "złożony",
                "status",
                "ostatnia zmiana",
            ],
            blisko_shared::i18n::Lang::En => [
                "reference",
                "service",
                "branch",
                "submitted",
                "status",
                "last change",
            ],
        };
        Ok(download(
            "requests.csv".to_owned(),
            csv_bytes(&header, &out)?,
        ))
    })
    .await
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
        let regs: Vec<_> = db
            .o_registrations_of_class(&class.id)?
            .into_iter()
            .filter(|r| r.status == SeatStatus::Confirmed)
            .collect();
        let names = person_names(db, regs.iter().map(|r| r.person_id.clone()))?;
        let marks: HashMap<String, String> = db
            .o_attendance_of_class(&class.id)?
            .into_iter()
            .filter(|a| a.session_id == s.id)
            .map(|a| (a.registration_id, a.status))
            .collect();
        db.audit(&now_text(), &ctx.actor(), "roster_read", &format!("roster:{}", class.id), Some(&format!("session:{}", s.id)))?;
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let mut rows: Vec<(String, Option<&String>)> = regs
            .iter()
            .map(|r| (names.get(&r.person_id).cloned().unwrap_or_default(), marks.get(&r.id)))
            .collect();
        rows.sort();
        let body = html! {
            h1 { (t("Lista obecności", "Attendance list")) ": " (class.title) }
            p { (t("Spotkanie", "Session")) ": " (s.date) " " (s.start) " (" (s.minutes) " min) · " (t("Prowadzący", "Instructor")) ": " (class.instructor) }
            table #print {
                thead { tr { th { "#" } th { (t("Osoba", "Person")) } th { (t("Zaznaczono", "Marked")) } th { (t("Podpis", "Signature")) } } }
                tbody { @for (i, (name, mark)) in rows.iter().enumerate() {
                    tr { td { (i + 1) } td { (name) } td { @if let Some(m) = mark { (attendance_status(l, m)) } } td.sign {} }
                } }
            }
            p.no-print { a href=(format!("/office/classes/{}", class.id)) { (t("Wróć", "Back")) } " · " (t("Użyj drukowania przeglądarki (Ctrl+P).", "Use the browser's print (Ctrl+P).")) }
        };
        Ok(Out::Print { title: format!("{} {}", t("Lista obecności", "Attendance list"), s.date), body })
    })
    .await
}
