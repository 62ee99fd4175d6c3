//! The roll call of one session on the office page, for a phone in an instructor's hand:
//! every confirmed person in Polish alphabetical order with three large choices (obecny,
//! nieobecny, usprawiedliwiony). An instructor may open it only for the classes they lead
//! (as "my classes" decides); the roles that type in paper lists, for every class they
//! see. Saved through the paper list's core path (`central::daily`), so the marks reach
//! the kiosks and a mark a kiosk recorded differently goes to reconciliation.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::ids::{ClassId, SessionId, StaffId};
use blisko_shared::model::{Class, Session};
use blisko_shared::seats::SeatStatus;

use super::daily::{class_of, paper_marks};
use super::layout::{attendance_status, csrf};
use super::my_classes::is_instructor;
use super::{
    Ctx, OResult, OfficeError, Out, Perm, action, dates, invalid, now_text, page, parse_id, people,
};
use crate::central::daily;
use crate::http::AppState;
use crate::store::Db;

/// The roll call's address.
pub fn path(class: impl std::fmt::Display, session: impl std::fmt::Display) -> String {
    format!("/office/classes/{class}/sessions/{session}/roll-call")
}

/// Whether this account may take the roll call of a class led by `instructor`: an
/// instructor only of a class they lead; a role that types in paper lists, of any class
/// it sees.
pub fn may_call_roll(ctx: &Ctx, instructor: &str) -> bool {
    ctx.can(Perm::PaperAttendance)
        || (ctx.can(Perm::MyClasses) && is_instructor(instructor, &ctx.staff.name))
}

/// The class (seen by this account, and its own if an instructor) and its session.
fn class_and_session(db: &Db<'_>, ctx: &Ctx, id: &str, session: &str) -> OResult<(Class, Session)> {
    let id: ClassId = parse_id(id, "zajęcia", "class")?;
    let session: SessionId = parse_id(session, "spotkanie", "session")?;
    let (class, catalog) = class_of(db, ctx, id)?;
    if !may_call_roll(ctx, &class.instructor) {
        return Err(OfficeError::NotOwnClass {
            class: id.to_string(),
            perm: Perm::RollCall,
        });
    }
    let session = catalog
        .sessions
        .into_iter()
        .find(|s| s.id == session && s.class_id == id)
        .ok_or_else(|| OfficeError::NotFound(format!("session {session}")))?;
    Ok((class, session))
}

fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

pub async fn page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    page(&state, &headers, Perm::RollCall, move |db, _, ctx| {
        let (class, s) = class_and_session(db, ctx, &id, &session)?;
        let l = ctx.lang;
        let t = |pl, en| ctx.t(pl, en);
        let mut regs: Vec<_> = db
            .o_registrations_of_class(&class.id.to_string())?
            .into_iter()
            .filter(|r| r.status == SeatStatus::Confirmed)
            .collect();
        let names = people::names(db, l, regs.iter().map(|r| r.person_id.clone()))?;
        people::sort_roster(&mut regs, &names);
        let marks: HashMap<String, String> = db
            .o_attendance_of_class(&class.id.to_string())?
            .into_iter()
            .filter(|a| a.session_id == s.id.to_string())
            .map(|a| (a.registration_id, a.status))
            .collect();
        db.audit(
            &now_text(),
            &ctx.actor(),
            "roster_read",
            &format!("roster:{}", class.id),
            Some(&format!("session:{}", s.id)),
        )?;
        let future = s.date > today();
        let saved = query.contains_key("saved");
        let back = if ctx.can(Perm::MyClasses) {
            ("/office/my-classes".to_owned(), t("← Moje zajęcia", "← My classes"))
        } else {
            (format!("/office/classes/{}", class.id), t("← karta zajęć", "← the class page"))
        };
        let body = html! {
            div.roll-call {
            h1 { (t("Obecność: ", "Roll call: ")) (class.title) }
            p #roll-session { strong { (dates::day_text(l, &s.date)) ", " (s.start) } }
            @if saved { p #saved .ok role="status" { (t("Obecność została zapisana.", "The attendance is saved.")) } }
            @if s.cancelled {
                p #roll-closed { (t("To spotkanie jest odwołane: nie sprawdza się na nim obecności.", "This session is cancelled: it has no roll call.")) }
            } @else if future {
                p #roll-closed { (t("To spotkanie jeszcze się nie odbyło: obecność sprawdza się w dniu spotkania.", "This session has not taken place yet: the roll call is taken on the day.")) }
            } @else if regs.is_empty() {
                p #roll-empty { (t("Nikt nie jest zapisany na te zajęcia.", "Nobody is registered for this class.")) }
            } @else {
                p.muted { (t("Proszę zaznaczyć każdą osobę i zapisać. Osoba bez zaznaczenia zostaje bez zmian. Gdy kiosk zapisał inną obecność, biuro uzgodni różnicę.",
                             "Mark each person and save. A person left unmarked stays as recorded. If a kiosk recorded a different mark, the office reconciles the difference.")) }
                form #roll-call method="post" action=(path(class.id, s.id)) {
                    (csrf(ctx))
                    @for r in &regs {
                        @let name = names.get(&r.person_id).map(|n| n.name.as_str()).unwrap_or("—");
                        @let current = marks.get(&r.id).map(String::as_str).unwrap_or("");
                        fieldset.roll data-registration=(r.id) {
                            legend { (name) }
                            @if current == "conflict" {
                                p.conflict { (attendance_status(l, "conflict")) (t(" — biuro je uzgodni", " — the office reconciles them")) }
                            }
                            div.choices {
                                @for code in ["present", "absent", "excused"] {
                                    label { input type="radio" name=(format!("m_{}_{}", s.id, r.id)) value=(code) checked[current == code];
                                        (attendance_status(l, code)) }
                                }
                            }
                        }
                    }
                    button type="submit" { (t("Zapisz obecność", "Save the attendance")) }
                }
            }
            p { a href=(back.0) { (back.1) } }
            }
        };
        Ok(Out::Page {
            title: format!("{}{}", t("Obecność: ", "Roll call: "), class.title),
            body,
        })
    })
    .await
}

pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, session)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::RollCall,
        form,
        move |db, clock, ctx, form| {
            let (class, s) = class_and_session(db, ctx, &id, &session)?;
            if s.cancelled {
                return Err(invalid(
                    "To spotkanie jest odwołane: nie sprawdza się na nim obecności.",
                    "This session is cancelled: it has no roll call.",
                ));
            }
            let marks = paper_marks(form)?;
            if marks.iter().any(|m| m.session != s.id) {
                return Err(invalid(
                    "Formularz dotyczy innego spotkania.",
                    "The form is about another session.",
                ));
            }
            let by: StaffId = parse_id(&ctx.staff.id, "pracownik", "staff")?;
            daily::record_paper_attendance(
                db,
                clock,
                class.id,
                &marks,
                by,
                &today(),
                &ctx.actor(),
            )?;
            Ok(Out::Redirect(format!("{}?saved=1", path(class.id, s.id))))
        },
    )
    .await
}
