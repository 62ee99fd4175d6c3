//! Seats at the central office: the office's edits of a branch catalog (the one place
//! where capacity and allotments change, for the office page and the command line
//! alike), the pool the office grants from, the holds that keep a cut allotment out of
//! the pool until its kiosk acknowledges it, and the compensation tasks that name what a
//! merge left beyond a class's limits. The rules themselves are in
//! `blisko_shared::seats`; this module keeps the server's side of them.

use std::collections::BTreeMap;

use serde::Serialize;

use blisko_shared::docs::{CatalogDoc, CatalogEdit, ChangeHash, DocKey, RosterDoc, RosterEdit};
use blisko_shared::hlc::{Hlc, HlcClock};
use blisko_shared::ids::{BranchId, ClassId, KioskId, PersonId, RegistrationId};
use blisko_shared::model::{Catalog, Registration};
use blisko_shared::seats::{self, CompensationKind, SeatPolicy};

use super::{
    Central, CentralError, Result, catch_up_clock, load, now_text, now_wall_ms, project_catalog,
    store_changes, stored_catalog,
};
use crate::notices;
use crate::store::{AllotmentHold, Db, KioskAuth};

/// A class's seat rules as the server applies them: the catalog's, and the holds of
/// allotments cut but not yet acknowledged.
pub(crate) fn policy_for(db: &Db<'_>, branch: BranchId, class: ClassId) -> Result<SeatPolicy> {
    let catalog = stored_catalog(db, branch)?;
    let c = catalog
        .class(class)
        .ok_or_else(|| CentralError::NotFound(format!("class {class}")))?;
    Ok(SeatPolicy {
        capacity: c.capacity,
        waitlist_limit: c.waitlist_limit,
        allotments: catalog.allotments_of(class),
        reserved: db.class_holds(class)?,
    })
}

/// What the server held of a roster before a kiosk's push, and which of its
/// registrations have their resident at the kiosk's screen waiting for this sync's answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen<'a> {
    pub before: &'a [Registration],
    pub at_screen: &'a [RegistrationId],
}

/// The central office is the seat authority for the shared pool (what the kiosks' claims
/// leave): after every roster change it gives free pool seats to the people waiting, in
/// order. Returns the latest stamp seen in the roster.
///
/// `seen` is what the server held before the change that led here (a kiosk's push):
/// whoever waited then and holds a seat now gets a message (see
/// [`crate::notices::seats_granted`]). `None` when the change itself seats nobody (an
/// office edit of the rules): then only the seats given here count.
pub(crate) fn fill_pool_seats(
    db: &Db<'_>,
    clock: &mut HlcClock,
    mut roster: RosterDoc,
    now: &str,
    seen: Option<Seen<'_>>,
) -> Result<Option<Hlc>> {
    let class = roster.class_id();
    let branch = db
        .class_branch(class)?
        .ok_or_else(|| CentralError::NotFound(format!("class {class}")))?;
    let policy = policy_for(db, branch, class)?;
    let mut regs = roster.registrations().map_err(CentralError::Document)?;
    let latest = seats::latest_stamp(&regs);
    if let Some(latest) = latest {
        clock.observe(latest, now_wall_ms());
    }
    let computed = seats::compute_roster(&policy, &regs);
    let fill = seats::seats_to_fill(&policy, &computed, KioskId::CENTRAL);
    if fill.is_empty() {
        if let Some(seen) = seen {
            notices::seats_granted(db, class, seen.before, &regs, seen.at_screen)?;
        }
        return Ok(latest);
    }
    let at = clock.tick(now_wall_ms());
    let edits: Vec<_> = fill
        .iter()
        .map(|registration| RosterEdit::Grant {
            registration: *registration,
            authority: KioskId::CENTRAL,
            at,
        })
        .collect();
    roster.apply(&edits).map_err(CentralError::Document)?;
    store_changes(db, roster.doc_mut(), now)?;
    let before = seen.map_or_else(|| regs.clone(), |s| s.before.to_vec());
    for reg in regs.iter_mut().filter(|r| fill.contains(&r.id)) {
        reg.grants.insert(KioskId::CENTRAL, at);
    }
    let at_screen = seen.map_or(&[][..], |s| s.at_screen);
    notices::seats_granted(db, class, &before, &regs, at_screen)?;
    Ok(Some(at))
}

/// Give a class's free pool seats to the people waiting (after its rules changed).
pub(crate) fn refill(db: &Db<'_>, clock: &mut HlcClock, class: ClassId) -> Result<()> {
    // No roster yet means no one waits.
    if let Some(doc) = load(db, DocKey::Roster(class))? {
        let roster = RosterDoc::from_doc(doc).map_err(CentralError::Document)?;
        fill_pool_seats(db, clock, roster, &now_text(), None)?;
    }
    Ok(())
}

/// The computed roster of a class under the server's rules.
fn computed_roster(
    db: &Db<'_>,
    policy: &SeatPolicy,
    class: ClassId,
) -> Result<(seats::Roster, Vec<blisko_shared::model::Registration>)> {
    let regs = match load(db, DocKey::Roster(class))? {
        Some(doc) => RosterDoc::from_doc(doc)
            .and_then(|r| r.registrations())
            .map_err(CentralError::Document)?,
        None => Vec::new(),
    };
    Ok((seats::compute_roster(policy, &regs), regs))
}

/// The pool of a class as the server sees it now: its size (what the kiosks' claims
/// leave) and how many of its seats are granted.
pub(crate) fn pool_of(db: &Db<'_>, branch: BranchId, class: ClassId) -> Result<(u32, u32)> {
    let policy = policy_for(db, branch, class)?;
    let (roster, _) = computed_roster(db, &policy, class)?;
    Ok((policy.pool_size(&roster), roster.held_by(KioskId::CENTRAL)))
}

/// Who changes the catalog, for the audit log.
pub struct Editor<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
}

/// Apply office edits to a branch catalog, as one change, keeping the seat promise:
///
/// - allotments may not add up to more than the class's capacity;
/// - an allotment **increase** takes seats from the pool only if the pool still has them
///   after the seats it has already granted (and the seats kiosks hold or may still
///   hold); otherwise the edit is refused, saying how many are free;
/// - an allotment **decrease** keeps the kiosk's earlier allotment reserved (a hold)
///   until the kiosk syncs under the new catalog (see [`acknowledge_catalog`]);
/// - a lower capacity is accepted: what it leaves beyond the capacity shows as
///   compensation tasks, and nobody is demoted.
///
/// Then the projections, an audit record, and pool seats for the people waiting.
pub(crate) fn edit_catalog(
    db: &Db<'_>,
    clock: &mut HlcClock,
    branch: BranchId,
    edits: &[CatalogEdit],
    editor: &Editor<'_>,
) -> Result<Catalog> {
    let key = DocKey::Catalog(branch);
    let mut doc = CatalogDoc::from_doc(
        load(db, key)?.ok_or_else(|| CentralError::NotFound(key.to_string()))?,
    )
    .map_err(CentralError::Document)?;
    let before = doc.read().map_err(CentralError::Document)?;
    let mut planned = before.clone();
    for edit in edits {
        match edit {
            CatalogEdit::Class(c) => match planned.classes.iter_mut().find(|x| x.id == c.id) {
                Some(x) => *x = c.clone(),
                None => planned.classes.push(c.clone()),
            },
            CatalogEdit::Session(s) => match planned.sessions.iter_mut().find(|x| x.id == s.id) {
                Some(x) => *x = s.clone(),
                None => planned.sessions.push(s.clone()),
            },
            CatalogEdit::RemoveSession(id) => planned.sessions.retain(|s| s.id != *id),
            CatalogEdit::RemoveStaff(id) => planned.staff.retain(|s| s.id != *id),
            CatalogEdit::Allotment {
                class_id,
                kiosk_id,
                seats,
            } => {
                planned
                    .allotments
                    .entry(*class_id)
                    .or_default()
                    .insert(*kiosk_id, *seats);
            }
            _ => {}
        }
    }
    planned
        .check_allotments()
        .map_err(|e| CentralError::Refused {
            pl: format!("Przydziały miejsc przekraczają liczbę miejsc zajęć ({e})."),
            en: format!("Seat allotments exceed the class's capacity ({e})."),
        })?;

    // Holds after this edit, and the escrow check for each class whose allotments grow.
    let mut holds: Vec<(ClassId, KioskId, Option<u32>)> = Vec::new();
    let mut changed_classes = Vec::new();
    for class in &planned.classes {
        let old = before.allotments_of(class.id);
        let new = planned.allotments_of(class.id);
        let old_capacity = before.class(class.id).map(|c| c.capacity);
        if old == new && old_capacity == Some(class.capacity) {
            continue;
        }
        changed_classes.push(class.id);
        let mut reserved = db.class_holds(class.id)?;
        for (&kiosk, &was) in &old {
            let now = new.get(&kiosk).copied().unwrap_or(0);
            if now == was {
                continue;
            }
            let held = reserved.get(&kiosk).copied().unwrap_or(0).max(was);
            if now < held {
                reserved.insert(kiosk, held);
                holds.push((class.id, kiosk, Some(held)));
            } else if reserved.remove(&kiosk).is_some() {
                holds.push((class.id, kiosk, None));
            }
        }
        for (&kiosk, &now) in &new {
            if !old.contains_key(&kiosk) && reserved.get(&kiosk).is_some_and(|h| now >= *h) {
                reserved.remove(&kiosk);
                holds.push((class.id, kiosk, None));
            }
        }
        let grows = new
            .iter()
            .any(|(k, n)| *n > old.get(k).copied().unwrap_or(0));
        if !grows {
            continue;
        }
        // Free in the pool before the increase (at the new capacity, if that changes too).
        let before_increase = SeatPolicy {
            capacity: class.capacity,
            waitlist_limit: class.waitlist_limit,
            allotments: old,
            reserved: db.class_holds(class.id)?,
        };
        let new_policy = SeatPolicy {
            capacity: class.capacity,
            waitlist_limit: class.waitlist_limit,
            allotments: new,
            reserved,
        };
        let (roster, _) = computed_roster(db, &new_policy, class.id)?;
        let pool_held = roster.held_by(KioskId::CENTRAL);
        if !new_policy.claims_fit(&roster) {
            let free = before_increase.pool_size(&roster).saturating_sub(pool_held);
            return Err(CentralError::Refused {
                pl: format!(
                    "Za mało wolnych miejsc w puli zajęć „{}”: wolne {free}. Miejsca przyznane już z puli i zajęte w kioskach nie mogą trafić do przydziału.",
                    class.title
                ),
                en: format!(
                    "Not enough free seats in the pool of \"{}\": {free} free. Seats the pool has already granted, or that kiosks hold, cannot be allotted.",
                    class.title
                ),
            });
        }
    }

    doc.apply(edits).map_err(CentralError::Document)?;
    let now = now_text();
    store_changes(db, doc.doc_mut(), &now)?;
    let catalog_heads = doc.doc().heads();
    for (class_id, kiosk_id, seats) in holds {
        match seats {
            Some(seats) => db.put_allotment_hold(&AllotmentHold {
                class_id,
                kiosk_id,
                seats,
                catalog_heads: catalog_heads.clone(),
                since: now.clone(),
                transfer: None,
            })?,
            None => db.drop_allotment_hold(class_id, kiosk_id)?,
        }
    }
    let merged = doc.read().map_err(CentralError::Document)?;
    project_catalog(db, &merged)?;
    notices::sessions_changed(db, &before, &merged, now_wall_ms() as i64)?;
    db.audit(
        &now,
        editor.actor,
        editor.action,
        editor.subject,
        super::audit_detail::catalog_change(&before, &merged).as_deref(),
    )?;
    // A larger class, or a hold released, frees pool seats for the people waiting.
    for class in changed_classes {
        refill(db, clock, class)?;
    }
    Ok(merged)
}

/// A kiosk that pushed everything it had says which catalog it works under: every cut
/// that catalog holds is acknowledged, the hold goes, and what the kiosk did not use
/// goes back to the pool (for the people waiting at once).
pub(crate) fn acknowledge_catalog(
    db: &Db<'_>,
    clock: &mut HlcClock,
    kiosk: &KioskAuth,
    catalog_heads: &[ChangeHash],
    now: &str,
) -> Result<()> {
    let holds = db.kiosk_holds(kiosk.id)?;
    if holds.is_empty() {
        return Ok(());
    }
    let Some(catalog) = load(db, DocKey::Catalog(kiosk.branch_id))? else {
        return Ok(());
    };
    for hold in holds {
        if !catalog.history_includes(catalog_heads, &hold.catalog_heads) {
            continue;
        }
        db.drop_allotment_hold(hold.class_id, hold.kiosk_id)?;
        db.audit(
            now,
            &format!("kiosk:{}", kiosk.id),
            "allotment_acknowledged",
            &format!("class:{}", hold.class_id),
            Some(&format!("kiosk:{} released_from:{}", kiosk.id, hold.seats)),
        )?;
        if let Some((to, seats)) = hold.transfer {
            finish_move(db, clock, kiosk.branch_id, hold.class_id, to, seats)?;
        }
        refill(db, clock, hold.class_id)?;
    }
    Ok(())
}

/// Seats of a class that the office moves from one kiosk's allotment to another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllotmentMove {
    pub class: ClassId,
    pub from: KioskId,
    pub to: KioskId,
    pub seats: u32,
}

/// Move `seats` of a class from one kiosk's allotment to another's. The giving kiosk may
/// have used them offline, so its cut is held as any cut is, and the receiving kiosk gets
/// them when the giver acknowledges (as many as the pool then allows). Returns whether
/// the move waits for the giving kiosk.
pub(crate) fn move_allotment(
    db: &Db<'_>,
    clock: &mut HlcClock,
    branch: BranchId,
    mv: &AllotmentMove,
    editor: &Editor<'_>,
) -> Result<bool> {
    let AllotmentMove {
        class,
        from,
        to,
        seats,
    } = *mv;
    let catalog = stored_catalog(db, branch)?;
    let current = catalog.allotments_of(class);
    let from_now = current.get(&from).copied().unwrap_or(0);
    if seats == 0 || seats > from_now {
        return Err(CentralError::Refused {
            pl: format!("Kiosk ma w tych zajęciach przydział {from_now} miejsc."),
            en: format!("The kiosk's allotment in this class is {from_now} seats."),
        });
    }
    edit_catalog(
        db,
        clock,
        branch,
        &[CatalogEdit::Allotment {
            class_id: class,
            kiosk_id: from,
            seats: from_now - seats,
        }],
        editor,
    )?;
    if db.kiosk_holds(from)?.iter().any(|h| h.class_id == class) {
        db.add_hold_transfer(class, from, to, seats)?;
        Ok(true)
    } else {
        finish_move(db, clock, branch, class, to, seats)?;
        Ok(false)
    }
}

/// Raise a kiosk's allotment by what a move gives it, or by as much of it as the pool
/// allows; what does not fit stays in the pool (audited).
fn finish_move(
    db: &Db<'_>,
    clock: &mut HlcClock,
    branch: BranchId,
    class: ClassId,
    to: KioskId,
    seats: u32,
) -> Result<()> {
    let had = stored_catalog(db, branch)?
        .allotments_of(class)
        .get(&to)
        .copied()
        .unwrap_or(0);
    let policy = policy_for(db, branch, class)?;
    let (roster, _) = computed_roster(db, &policy, class)?;
    let given = policy.room_for(to, &roster).saturating_sub(had).min(seats);
    if given > 0 {
        edit_catalog(
            db,
            clock,
            branch,
            &[CatalogEdit::Allotment {
                class_id: class,
                kiosk_id: to,
                seats: had + given,
            }],
            &Editor {
                actor: "server",
                action: "allotment_move_completed",
                subject: &format!("class:{class}"),
            },
        )?;
    }
    if given == seats {
        return Ok(());
    }
    db.audit(
        &now_text(),
        "server",
        "allotment_move_refused",
        &format!("class:{class}"),
        Some(&format!("kiosk:{to} seats:{} pool_full", seats - given)),
    )?;
    Ok(())
}

/// A registration that needs staff (see [`seats::CompensationTask`]), with what the office
/// needs to find and call the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompensationRow {
    pub branch_id: BranchId,
    pub class_id: ClassId,
    pub class_title: String,
    pub capacity: u32,
    pub waitlist_limit: u32,
    pub registration_id: RegistrationId,
    pub person_id: PersonId,
    /// The kiosk the person registered at.
    pub kiosk_id: KioskId,
    pub kind: CompensationKind,
    /// Whose seat it holds (over capacity only).
    pub seat_of: Option<KioskId>,
}

/// A cut allotment waiting for its kiosk, for the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldRow {
    pub class_id: ClassId,
    pub kiosk_id: KioskId,
    /// Seats kept out of the pool until the kiosk syncs.
    pub reserved: u32,
    /// The allotment the kiosk gets then.
    pub allotment: u32,
    pub since: String,
}

/// Every compensation task of the given branches (all when `None`), by class.
pub(crate) fn compensation(
    db: &Db<'_>,
    branches: Option<&[BranchId]>,
) -> Result<Vec<CompensationRow>> {
    let mut rows = Vec::new();
    for branch in db.branches()? {
        if branches.is_some_and(|b| !b.contains(&branch.id)) {
            continue;
        }
        let catalog = stored_catalog(db, branch.id)?;
        for class in &catalog.classes {
            let policy = policy_for(db, branch.id, class.id)?;
            let (roster, regs) = computed_roster(db, &policy, class.id)?;
            if roster.compensation.is_empty() {
                continue;
            }
            let by_id: BTreeMap<_, _> = regs.iter().map(|r| (r.id, r)).collect();
            for task in &roster.compensation {
                let Some(reg) = by_id.get(&task.registration_id) else {
                    continue;
                };
                rows.push(CompensationRow {
                    branch_id: branch.id,
                    class_id: class.id,
                    class_title: class.title.clone(),
                    capacity: class.capacity,
                    waitlist_limit: class.waitlist_limit,
                    registration_id: task.registration_id,
                    person_id: reg.person_id,
                    kiosk_id: reg.kiosk_id,
                    kind: task.kind,
                    seat_of: task.seat_of,
                });
            }
        }
    }
    Ok(rows)
}

/// Every hold, with the allotment the kiosk will have once it acknowledges.
pub(crate) fn holds(db: &Db<'_>) -> Result<Vec<HoldRow>> {
    let mut rows = Vec::new();
    for hold in db.allotment_holds()? {
        let Some(branch) = db.class_branch(hold.class_id)? else {
            continue;
        };
        let catalog = stored_catalog(db, branch)?;
        rows.push(HoldRow {
            class_id: hold.class_id,
            kiosk_id: hold.kiosk_id,
            reserved: hold.seats,
            allotment: catalog
                .allotments_of(hold.class_id)
                .get(&hold.kiosk_id)
                .copied()
                .unwrap_or(0),
            since: hold.since,
        });
    }
    Ok(rows)
}

impl Central {
    /// Set a kiosk's seat allotment for a class (an office edit of the branch catalog,
    /// under the rules of [`edit_catalog`]).
    pub fn set_allotment(&mut self, class: ClassId, kiosk: KioskId, seats: u32) -> Result<()> {
        let db = self.store.write()?;
        catch_up_clock(&db, &mut self.clock)?;
        let branch = db
            .class_branch(class)?
            .ok_or_else(|| CentralError::NotFound(format!("class {class}")))?;
        match db.kiosk(kiosk)? {
            Some(k) if k.branch_id == branch => {}
            _ => {
                return Err(CentralError::Refused {
                    pl: format!("Kiosk {kiosk} nie należy do punktu tych zajęć."),
                    en: format!("Kiosk {kiosk} is not at the class's branch."),
                });
            }
        }
        edit_catalog(
            &db,
            &mut self.clock,
            branch,
            &[CatalogEdit::Allotment {
                class_id: class,
                kiosk_id: kiosk,
                seats,
            }],
            &Editor {
                actor: "admin",
                action: "allotment_set",
                subject: &format!("class:{class}"),
            },
        )?;
        db.set_meta("hlc", &self.clock.last().to_string())?;
        db.commit()?;
        Ok(())
    }

    /// Every compensation task on the server.
    pub fn compensation(&mut self) -> Result<Vec<CompensationRow>> {
        let db = self.store.write()?;
        compensation(&db, None)
    }

    /// Every cut allotment still waiting for its kiosk.
    pub fn allotment_holds(&mut self) -> Result<Vec<HoldRow>> {
        let db = self.store.write()?;
        holds(&db)
    }
}
