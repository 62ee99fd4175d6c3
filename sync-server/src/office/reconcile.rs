//! Reconciliation: attendance marked differently by two staff members, the same person
//! registered as two persons at two kiosks, and seat allotments to rebalance. Each shows
//! both sides and is resolved in one click; every decision is audited.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use maud::html;

use blisko_shared::docs::{CatalogDoc, DocKey, RosterDoc, RosterEdit};
use blisko_shared::ids::{
    BranchId, ClassId, KioskId, PersonId, RegistrationId, SessionId, StaffId,
};
use blisko_shared::model::{AttendanceMark, AttendanceStatus};

use super::layout::{attendance_status, csrf};
use super::{
    Ctx, OResult, OfficeError, Out, Perm, action, branch_names, invalid, now_text, page, parse_id,
    required,
};
use crate::central::persons::PairDecision;
use crate::central::{load, now_wall_ms, store_changes};
use crate::http::AppState;
use crate::store::Db;

/// A suggested move of unused allotted seats to a kiosk whose residents wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebalance {
    pub class_id: ClassId,
    pub branch_id: BranchId,
    pub title: String,
    pub from: KioskId,
    pub to: KioskId,
    pub seats: u32,
}

/// Classes where one kiosk has unused allotted seats while people registered at another
/// kiosk wait because that kiosk's allotment is used up.
pub fn rebalances(db: &Db<'_>, ctx: &Ctx) -> OResult<Vec<Rebalance>> {
    let mut out = Vec::new();
    let mut catalogs = HashMap::new();
    for class in db.o_classes(ctx.branch())? {
        let waiting: BTreeMap<String, i64> =
            db.o_waiting_by_kiosk(&class.id)?.into_iter().collect();
        if waiting.is_empty() {
            continue;
        }
        let branch: BranchId = parse_id(&class.branch_id, "punkt", "branch")?;
        let catalog = match catalogs.entry(branch) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let doc = load(db, DocKey::Catalog(branch))?
                    .ok_or_else(|| OfficeError::NotFound(format!("catalog:{branch}")))?;
                e.insert(CatalogDoc::from_doc(doc)?.read()?)
            }
        };
        let class_id: ClassId = parse_id(&class.id, "zajęcia", "class")?;
        let allotments = catalog.allotments_of(class_id);
        let used: HashMap<String, i64> = db.o_allotment_use(&class.id)?.into_iter().collect();
        let free = |k: &KioskId| -> i64 {
            i64::from(allotments.get(k).copied().unwrap_or(0))
                - used.get(&k.to_string()).copied().unwrap_or(0)
        };
        for (to, count) in &waiting {
            let Ok(to_id) = to.parse::<KioskId>() else {
                continue;
            };
            if to_id.is_central() || free(&to_id) > 0 {
                continue;
            }
            if let Some((from, spare)) = allotments
                .keys()
                .filter(|k| **k != to_id)
                .map(|k| (*k, free(k)))
                .filter(|(_, f)| *f > 0)
                .max_by_key(|(_, f)| *f)
            {
                out.push(Rebalance {
                    class_id,
                    branch_id: branch,
                    title: class.title.clone(),
                    from,
                    to: to_id,
                    seats: u32::try_from(spare.min(*count)).unwrap_or(0),
                });
            }
        }
    }
    Ok(out)
}

pub async fn page_handler(state: AppState, headers: HeaderMap) -> Response {
    page(&state, &headers, Perm::Reconcile, |db, _, ctx| {
        let conflicts = db.o_conflicts(ctx.branch(), 200)?;
        let duplicates = if ctx.branch().is_none() { db.duplicate_candidates(100)? } else { Vec::new() };
        let moves = rebalances(db, ctx)?;
        let classes: HashMap<String, String> = db.o_classes(None)?.into_iter().map(|c| (c.id, c.title)).collect();
        let branches = branch_names(db)?;
        let who = super::names::Names::load(db, ctx.lang)?.with_kiosk_staff(db)?;
        let knum = |k: &str| who.kiosk(k);
        db.audit(&now_text(), &ctx.actor(), "reconcile_read", "reconcile:*", None)?;
        let t = |pl, en| ctx.t(pl, en);
        let l = ctx.lang;
        let mut person_of = HashMap::new();
        for a in &conflicts {
            for r in db.o_registrations_of_class(&a.class_id)? {
                person_of.insert(r.id.clone(), r.person_id.clone());
            }
        }
        let names = super::classes::person_names(db, ctx.lang, person_of.values().cloned())?;
        let body = html! {
            h1 { (t("Uzgadnianie", "Reconciliation")) }
            h2 { (t("Sprzeczne oznaczenia obecności", "Conflicting attendance marks")) }
            @if conflicts.is_empty() { p.muted #no-conflicts { (t("Brak sprzeczności.", "No conflicts.")) } }
            @else {
                table.fold #conflicts {
                    thead { tr { th { (t("Zajęcia", "Class")) } th { (t("Spotkanie", "Session")) } th { (t("Osoba", "Person")) } th { (t("Oznaczenia", "Marks")) } th { (t("Rozstrzygnij", "Resolve")) } } }
                    tbody { @for a in &conflicts {
                        @let session = db.o_session(&a.session_id)?;
                        tr data-conflict=(format!("{}/{}", a.session_id, a.registration_id)) {
                            td data-label=(t("Zajęcia", "Class")) { (classes.get(&a.class_id).map(String::as_str).unwrap_or("?")) }
                            td data-label=(t("Spotkanie", "Session")) { (session.map(|s| format!("{} {}", s.date, s.start)).unwrap_or_default()) }
                            td data-label=(t("Osoba", "Person")) { (person_of.get(&a.registration_id).and_then(|p| names.get(p)).map(String::as_str).unwrap_or("—")) }
                            td data-label=(t("Oznaczenia", "Marks")) { @for m in a.marks.lines() {
                                @let parts: Vec<&str> = m.splitn(3, ' ').collect();
                                (attendance_status(l, parts.first().copied().unwrap_or(""))) " — "
                                (who.staff(parts.get(1).copied().unwrap_or("?")))
                                " (" (super::dates::moment(ctx.lang, parts.get(2).copied().unwrap_or(""))) ")" br;
                            } }
                            td data-label=(t("Rozstrzygnij", "Resolve")) { @for s in ["present", "absent", "excused"] {
                                form.inline method="post" action="/office/reconcile/attendance" {
                                    (csrf(ctx))
                                    input type="hidden" name="class" value=(a.class_id);
                                    input type="hidden" name="session" value=(a.session_id);
                                    input type="hidden" name="registration" value=(a.registration_id);
                                    input type="hidden" name="status" value=(s);
                                    button type="submit" name="resolve" value=(s) { (attendance_status(l, s)) }
                                }
                            } }
                        }
                    } }
                }
            }
            h2 { (t("Możliwe duplikaty osób", "Possible duplicate persons")) }
            @if duplicates.is_empty() { p.muted { (t("Brak podejrzanych par.", "No suspected pairs.")) } }
            @else {
                table.fold #duplicates {
                    thead { tr { th { "A" } th { "B" } th { (t("Decyzja", "Decision")) } } }
                    tbody { @for (a, b) in &duplicates {
                        tr data-pair=(format!("{}/{}", a.id, b.id)) {
                            @for (p, label) in [(a, "A"), (b, "B")] {
                                td data-label=(label) { (super::people::given_first(ctx.lang, p)) " (" (super::people::birth_year(p)) ")" br;
                                    span.muted { (branches.get(&p.branch_id).map(String::as_str).unwrap_or("?")) ", kiosk " (p.kiosk_id.as_deref().map(knum).unwrap_or_default()) ", " (t("kod", "code")) " " (p.resident_code) } }
                            }
                            td data-label=(t("Decyzja", "Decision")) {
                                @for (decision, pl, en) in [("same", "ta sama osoba — połącz", "same person — merge"), ("different", "różne osoby", "different persons")] {
                                    form.inline method="post" action="/office/reconcile/persons" {
                                        (csrf(ctx))
                                        input type="hidden" name="a" value=(a.id);
                                        input type="hidden" name="b" value=(b.id);
                                        input type="hidden" name="decision" value=(decision);
                                        button type="submit" class=(if decision == "same" { "" } else { "secondary" }) { (t(pl, en)) }
                                    }
                                }
                            }
                        }
                    } }
                }
            }
            h2 { (t("Przydziały miejsc do przesunięcia", "Seat allotments to rebalance")) }
            @if moves.is_empty() { p.muted { (t("Nic do przesunięcia.", "Nothing to rebalance.")) } }
            @else {
                table.fold #rebalance {
                    thead { tr { th { (t("Zajęcia", "Class")) } th { (t("Z kiosku (wolne miejsca)", "From kiosk (unused seats)")) } th { (t("Do kiosku (czekają)", "To kiosk (people waiting)")) } th { (t("Miejsca", "Seats")) } th {} } }
                    tbody { @for m in &moves {
                        tr {
                            td data-label=(t("Zajęcia", "Class")) { (m.title) }
                            td data-label=(t("Z kiosku (wolne miejsca)", "From kiosk (unused seats)")) { (knum(&m.from.to_string())) }
                            td data-label=(t("Do kiosku (czekają)", "To kiosk (people waiting)")) { (knum(&m.to.to_string())) }
                            td.num data-label=(t("Miejsca", "Seats")) { (m.seats) }
                            td { form.inline method="post" action="/office/reconcile/allotments" {
                                (csrf(ctx))
                                input type="hidden" name="class" value=(m.class_id);
                                input type="hidden" name="from" value=(m.from);
                                input type="hidden" name="to" value=(m.to);
                                input type="hidden" name="seats" value=(m.seats);
                                button type="submit" { (t("Przesuń", "Move")) }
                            } }
                        }
                    } }
                }
            }
        };
        Ok(Out::Page { title: t("Uzgadnianie", "Reconciliation").to_owned(), body })
    })
    .await
}

pub async fn page_get(State(state): State<AppState>, headers: HeaderMap) -> Response {
    page_handler(state, headers).await
}

pub async fn resolve_attendance(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Reconcile,
        form,
        |db, clock, ctx, form| {
            let class: ClassId = parse_id(
                required(form, "class", "Zajęcia", "Class")?,
                "zajęcia",
                "class",
            )?;
            let session: SessionId = parse_id(
                required(form, "session", "Spotkanie", "Session")?,
                "spotkanie",
                "session",
            )?;
            let registration: RegistrationId = parse_id(
                required(form, "registration", "Zapis", "Registration")?,
                "zapis",
                "registration",
            )?;
            let status =
                AttendanceStatus::from_code(required(form, "status", "Obecność", "Attendance")?)
                    .ok_or_else(|| {
                        invalid(
                            "Proszę wybrać: obecny, nieobecny albo usprawiedliwiony.",
                            "Choose present, absent or excused.",
                        )
                    })?;
            let branch = db
                .class_branch(class)?
                .ok_or_else(|| OfficeError::NotFound(format!("class {class}")))?;
            ctx.in_branch(&branch.to_string(), "class", class)?;
            let _ = branch;
            let key = DocKey::Roster(class);
            let mut roster = RosterDoc::from_doc(
                load(db, key)?.ok_or_else(|| OfficeError::NotFound(key.to_string()))?,
            )?;
            let known = roster
                .attendance()?
                .into_iter()
                .any(|a| a.session_id == session && a.registration_id == registration);
            if !known {
                return Err(OfficeError::NotFound(format!(
                    "attendance {session}/{registration}"
                )));
            }
            let by: StaffId = parse_id(&ctx.staff.id, "pracownik", "staff")?;
            roster.apply(&[RosterEdit::Mark(AttendanceMark {
                session_id: session,
                registration_id: registration,
                status,
                by,
                at: clock.tick(now_wall_ms()),
            })])?;
            let now = now_text();
            store_changes(db, roster.doc_mut(), &now)?;
            db.audit(
                &now,
                &ctx.actor(),
                "attendance_resolve",
                &format!("roster:{class}"),
                Some(&format!(
                    "session:{session} registration:{registration} {}",
                    status.code()
                )),
            )?;
            super::projection::project(db, [key])?;
            Ok(Out::Redirect("/office/reconcile".to_owned()))
        },
    )
    .await
}

pub async fn decide_persons(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Reconcile,
        form,
        |db, _, ctx, form| {
            let a: PersonId = parse_id(
                required(form, "a", "Osoba A", "Person A")?,
                "osoba",
                "person",
            )?;
            let b: PersonId = parse_id(
                required(form, "b", "Osoba B", "Person B")?,
                "osoba",
                "person",
            )?;
            let decision =
                PairDecision::from_code(required(form, "decision", "Decyzja", "Decision")?)
                    .ok_or_else(|| invalid("Nieprawidłowa decyzja.", "Not a valid decision."))?;
            crate::central::persons::decide_pair(db, a, b, decision, &ctx.staff.id, &ctx.actor())?;
            Ok(Out::Redirect("/office/reconcile".to_owned()))
        },
    )
    .await
}

pub async fn rebalance(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    action(
        &state,
        &headers,
        Perm::Reconcile,
        form,
        |db, clock, ctx, form| {
            let class: ClassId = parse_id(
                required(form, "class", "Zajęcia", "Class")?,
                "zajęcia",
                "class",
            )?;
            let from: KioskId = parse_id(
                required(form, "from", "Z kiosku", "From")?,
                "kiosk",
                "kiosk",
            )?;
            let to: KioskId = parse_id(required(form, "to", "Do kiosku", "To")?, "kiosk", "kiosk")?;
            let seats: u32 = required(form, "seats", "Miejsca", "Seats")?
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    invalid(
                        "„Miejsca”: liczba większa od zera.",
                        "\"Seats\": a number above zero.",
                    )
                })?;
            let branch = db
                .class_branch(class)?
                .ok_or_else(|| OfficeError::NotFound(format!("class {class}")))?;
            ctx.in_branch(&branch.to_string(), "class", class)?;
            let key = DocKey::Catalog(branch);
            let catalog = CatalogDoc::from_doc(
                load(db, key)?.ok_or_else(|| OfficeError::NotFound(key.to_string()))?,
            )?
            .read()?;
            let current = catalog.allotments_of(class);
            let from_now = current.get(&from).copied().unwrap_or(0);
            let used = db
                .o_allotment_use(&class.to_string())?
                .into_iter()
                .find(|(k, _)| *k == from.to_string())
                .map(|(_, n)| n)
                .unwrap_or(0);
            if i64::from(from_now) - used < i64::from(seats) {
                return Err(invalid(
                    "Kiosk nie ma tylu wolnych przydzielonych miejsc.",
                    "The kiosk has not that many unused allotted seats.",
                ));
            }
            crate::central::seats::move_allotment(
                db,
                clock,
                branch,
                &crate::central::seats::AllotmentMove {
                    class,
                    from,
                    to,
                    seats,
                },
                &crate::central::seats::Editor {
                    actor: &ctx.actor(),
                    action: "allotment_rebalance",
                    subject: &format!("class:{class}"),
                },
            )?;
            super::projection::project(db, [DocKey::Catalog(branch)])?;
            Ok(Out::Redirect("/office/reconcile".to_owned()))
        },
    )
    .await
}
