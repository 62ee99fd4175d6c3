//! The office projection: relational tables (`o_*`) computed from the merged documents,
//! so that pages are SQL queries and never walk automerge. Kept up to date from the same
//! change feed the kiosks follow: before each page, every document whose feed position is
//! past `office_seq` is projected again, in the page's transaction.

use std::collections::{BTreeMap, BTreeSet};

use blisko_shared::docs::{CatalogDoc, DocKey, IntakeDoc, PeopleDoc, RosterDoc};
use blisko_shared::ids::{BranchId, ClassId};
use blisko_shared::seats;

use super::OResult;
use crate::central::load;
use crate::store::{Db, OAttendance, OClass, OPerson, ORegistration, ORequest, OSession};

const SEQ_KEY: &str = "office_seq";
const BATCH: usize = 5000;

/// The duplicate-suggestion key of a person: lower-case family|given|birth year.
pub fn name_key(family: &str, given: &str, birth_year: u16) -> String {
    format!(
        "{}|{}|{}",
        family.trim().to_lowercase(),
        given.trim().to_lowercase(),
        birth_year
    )
}

fn wall_ms(stamp: &blisko_shared::hlc::Hlc) -> i64 {
    i64::try_from(stamp.wall_ms).unwrap_or(i64::MAX)
}

/// Bring the projection up to date. Returns how many documents were projected.
///
/// The projection writes both files (`o_persons` is in the personal file), which SQLite
/// commits one after the other: each keeps its own position, and projecting starts from
/// the lower, so a crash between the two commits only means projecting some documents
/// again (projecting is idempotent).
pub fn refresh(db: &Db<'_>) -> OResult<usize> {
    db.lock_projection()?;
    let mut done = 0;
    loop {
        let main: i64 = db.meta(SEQ_KEY)?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let after = db.personal_projected(SEQ_KEY)?.unwrap_or(0).min(main);
        let changed = db.changed_since(after, BATCH)?;
        let Some(last) = changed.last().map(|(_, seq)| *seq) else {
            return Ok(done);
        };
        done += changed.len();
        project(db, changed.into_iter().map(|(k, _)| k))?;
        db.set_meta(SEQ_KEY, &last.to_string())?;
        db.set_personal_projected(SEQ_KEY, last)?;
    }
}

/// Project these documents again (a changed catalog re-projects its branch's rosters,
/// whose seat states depend on capacity and allotments).
pub fn project(db: &Db<'_>, keys: impl IntoIterator<Item = DocKey>) -> OResult<()> {
    let mut rosters = BTreeSet::new();
    let mut others = Vec::new();
    for key in keys {
        match key {
            DocKey::Catalog(branch) => {
                project_catalog(db, branch)?;
                for k in db.doc_keys_of_branch("roster", &branch.to_string())? {
                    if let DocKey::Roster(class) = k {
                        rosters.insert(class);
                    }
                }
            }
            DocKey::Roster(class) => {
                rosters.insert(class);
            }
            other => others.push(other),
        }
    }
    for class in rosters {
        project_roster(db, class)?;
    }
    for key in others {
        match key {
            DocKey::People(..) => project_people(db, key)?,
            DocKey::Intake(_) => project_intake(db, key)?,
            _ => {}
        }
    }
    Ok(())
}

fn project_catalog(db: &Db<'_>, branch: BranchId) -> OResult<()> {
    let Some(doc) = load(db, DocKey::Catalog(branch))? else {
        return Ok(());
    };
    let catalog = CatalogDoc::from_doc(doc)?.read()?;
    let b = branch.to_string();
    let classes: Vec<OClass> = catalog
        .classes
        .iter()
        .map(|c| OClass {
            id: c.id.to_string(),
            branch_id: b.clone(),
            title: c.title.clone(),
            instructor: c.instructor.clone(),
            capacity: i64::from(c.capacity),
            waitlist_limit: i64::from(c.waitlist_limit),
        })
        .collect();
    let sessions: Vec<OSession> = catalog
        .sessions
        .iter()
        .map(|s| OSession {
            id: s.id.to_string(),
            class_id: s.class_id.to_string(),
            date: s.date.clone(),
            start: s.start.clone(),
            minutes: i64::from(s.minutes),
        })
        .collect();
    let services: Vec<(String, String)> = catalog
        .services
        .iter()
        .map(|s| (s.id.to_string(), s.name.clone()))
        .collect();
    db.project_office_catalog(&b, &classes, &sessions, &services)?;
    Ok(())
}

fn project_roster(db: &Db<'_>, class: ClassId) -> OResult<()> {
    let Some(branch) = db.class_branch(class)? else {
        return Ok(());
    };
    let Some(doc) = load(db, DocKey::Roster(class))? else {
        return Ok(());
    };
    let roster = RosterDoc::from_doc(doc)?;
    let regs = roster.registrations()?;
    let policy = crate::central::policy_for(db, branch, class)?;
    let computed = seats::compute_roster(&policy, &regs);
    let by_id: BTreeMap<_, _> = regs.iter().map(|r| (r.id, r)).collect();
    let b = branch.to_string();
    let rows: Vec<ORegistration> = computed
        .entries
        .iter()
        .filter_map(|e| {
            let r = by_id.get(&e.registration_id)?;
            Some(ORegistration {
                id: r.id.to_string(),
                class_id: class.to_string(),
                branch_id: b.clone(),
                person_id: r.person_id.to_string(),
                kiosk_id: r.kiosk_id.to_string(),
                created: r.created.to_string(),
                created_ms: wall_ms(&r.created),
                status: e.state.status(),
                position: e.state.position().map(i64::from),
                seat_of: e.seat_of.map(|k| k.to_string()),
            })
        })
        .collect();
    let attendance: Vec<OAttendance> = roster
        .attendance()?
        .into_iter()
        .map(|a| {
            let status = if a.is_conflict() {
                "conflict".to_owned()
            } else {
                a.marks
                    .last()
                    .map(|m| m.status.code().to_owned())
                    .unwrap_or_default()
            };
            OAttendance {
                session_id: a.session_id.to_string(),
                registration_id: a.registration_id.to_string(),
                class_id: class.to_string(),
                branch_id: b.clone(),
                status,
                marks: a
                    .marks
                    .iter()
                    .map(|m| format!("{} {} {}", m.status.code(), m.by, m.at))
                    .collect::<Vec<_>>()
                    .join("\n"),
            }
        })
        .collect();
    db.project_office_roster(&class.to_string(), &rows, &attendance)?;
    Ok(())
}

/// Every resident in one kiosk's people document.
fn project_people(db: &Db<'_>, key: DocKey) -> OResult<()> {
    let DocKey::People(owner, _) = key else {
        return Ok(());
    };
    let Some(doc) = load(db, key)? else {
        return Ok(());
    };
    // Decrypted with the server's keys; an erased person stays, countable, as erased.
    let keys = db.person_keys_of(owner)?;
    let (people, erased) =
        PeopleDoc::from_doc(doc)?.persons_and_erased(|id| keys.get(&id).cloned())?;
    for mut p in people {
        if erased.contains(&p.id) {
            p.given_name = super::persons::ERASED.to_owned();
            p.family_name = super::persons::ERASED.to_owned();
        }
        db.project_office_person(
            &OPerson {
                id: p.id.to_string(),
                branch_id: p.home_branch.to_string(),
                kiosk_id: Some(owner.to_string()),
                given: p.given_name.clone(),
                family: p.family_name.clone(),
                birth_year: i64::from(p.birth_year),
                phone: p.phone.clone(),
                resident_code: p.resident_code.clone(),
                created: p.created.to_string(),
            },
            &name_key(&p.family_name, &p.given_name, p.birth_year),
        )?;
    }
    Ok(())
}

fn project_intake(db: &Db<'_>, key: DocKey) -> OResult<()> {
    let Some(doc) = load(db, key)? else {
        return Ok(());
    };
    // The projection of a request holds no personal content.
    let r = IntakeDoc::from_doc(doc)?.read(None)?;
    let first = r.history.first().map(|c| c.at);
    let last = r.history.last().map(|c| c.at);
    db.project_office_request(&ORequest {
        id: r.id.to_string(),
        reference: r.reference.clone(),
        person_id: r.person_id.to_string(),
        branch_id: r.branch_id.to_string(),
        kiosk_id: r.kiosk_id.to_string(),
        service_id: r.service_id.to_string(),
        status: r.status().code().to_owned(),
        submitted: first.map(|s| s.to_string()).unwrap_or_default(),
        submitted_ms: first.as_ref().map(wall_ms).unwrap_or(0),
        updated: last.map(|s| s.to_string()).unwrap_or_default(),
    })?;
    Ok(())
}
