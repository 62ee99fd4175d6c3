//! The seat promise: a confirmation shown to a resident is never taken back by a merge.
//!
//! Escrow (bounded counters): the office gives each kiosk an allotment of seats per class
//! and keeps the rest as a shared pool that only the central server grants. A seat
//! authority (a kiosk for its allotment, the central office for the pool) grants a seat
//! only while it holds fewer seats than it was given. A grant is written into the
//! registration itself, in the same change that creates it or promotes it, so every replica
//! that sees the registration sees its grant: a granted registration stays confirmed in
//! every merge, until it is cancelled.
//!
//! Why the count stays bounded: the holders of an authority's seats in any merged replica
//! are a subset of those the authority itself knows (a seat can move only to another
//! authority's earlier grant, or be freed by a cancellation), and a kiosk never exceeds its
//! allotment locally. The pool is what is left after every kiosk's *claim*: the most seats
//! that kiosk may hold, which is the larger of its allotment, the allotment it had before
//! an office cut it and has not yet acknowledged ([`SeatPolicy::reserved`]), and the seats
//! it is known to hold. So the office can neither hand the pool's granted seats to a kiosk
//! (an increase the pool cannot cover is refused) nor take back seats a kiosk may already
//! have granted offline (a cut frees only what the kiosk did not use, once it has synced
//! under the new allotment). Only a lower capacity, or a kiosk restored from an old store,
//! can leave more confirmed than seats: that raises a [`CompensationTask`] for staff
//! instead of demoting anyone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;
use crate::ids::{KioskId, RegistrationId};
use crate::model::Registration;

/// What the catalog says about one class's seats.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SeatPolicy {
    pub capacity: u32,
    /// 0: the class keeps no waiting list.
    pub waitlist_limit: u32,
    /// Seats per kiosk; the pool for [`KioskId::CENTRAL`] is what the kiosks' claims
    /// leave (see [`free_seats_of`]).
    pub allotments: BTreeMap<KioskId, u32>,
    /// Allotments the office cut that their kiosk has not acknowledged yet: the kiosk may
    /// still grant up to this many seats. Known to the server only (a kiosk never needs
    /// another's), empty elsewhere.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reserved: BTreeMap<KioskId, u32>,
}

impl SeatPolicy {
    /// The seats a kiosk may grant: its allotment (none for the central office, whose
    /// pool depends on the roster: see [`free_seats_of`]).
    pub fn allotment_of(&self, authority: KioskId) -> u32 {
        if authority.is_central() {
            0
        } else {
            self.allotments.get(&authority).copied().unwrap_or(0)
        }
    }

    /// The most seats a kiosk may hold now: its allotment, an unacknowledged earlier one,
    /// or the seats it is known to hold, whichever is largest.
    pub fn claim_of(&self, kiosk: KioskId, roster: &Roster) -> u32 {
        self.allotment_of(kiosk)
            .max(self.reserved.get(&kiosk).copied().unwrap_or(0))
            .max(roster.held_by(kiosk))
    }

    /// The sum of every kiosk's claim on the class.
    pub fn claimed_by_kiosks(&self, roster: &Roster) -> u32 {
        let mut kiosks: std::collections::BTreeSet<KioskId> = self
            .allotments
            .keys()
            .chain(self.reserved.keys())
            .copied()
            .collect();
        kiosks.extend(roster.entries.iter().filter_map(|e| e.seat_of));
        kiosks
            .into_iter()
            .filter(|k| !k.is_central())
            .map(|k| self.claim_of(k, roster))
            .sum()
    }

    /// Whether the kiosks' claims and the pool's grants fit in the capacity: the rule an
    /// allotment increase must keep.
    pub fn claims_fit(&self, roster: &Roster) -> bool {
        self.claimed_by_kiosks(roster) + roster.held_by(KioskId::CENTRAL) <= self.capacity
    }

    /// The largest allotment `kiosk` could have now with the claims still fitting the
    /// capacity (see [`SeatPolicy::claims_fit`]).
    pub fn room_for(&self, kiosk: KioskId, roster: &Roster) -> u32 {
        let others = self.claimed_by_kiosks(roster) - self.claim_of(kiosk, roster);
        self.capacity
            .saturating_sub(others)
            .saturating_sub(roster.held_by(KioskId::CENTRAL))
    }

    /// Seats the pool holds or may still grant: capacity less the kiosks' claims.
    pub fn pool_size(&self, roster: &Roster) -> u32 {
        self.capacity.saturating_sub(self.claimed_by_kiosks(roster))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SeatState {
    Confirmed,
    /// 1-based place on the waiting list.
    Waitlisted {
        position: u32,
    },
    Cancelled,
}

/// A registration's state without its place: what receipts, rosters and the stores
/// carry. Serialized as `confirmed`, `waitlisted` or `cancelled`, as before it was typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
}

impl SeatStatus {
    pub fn code(self) -> &'static str {
        match self {
            SeatStatus::Confirmed => "confirmed",
            SeatStatus::Waitlisted => "waitlisted",
            SeatStatus::Cancelled => "cancelled",
        }
    }

    /// The status a stored code names (the stores keep the code as text).
    pub fn from_code(code: &str) -> Option<SeatStatus> {
        match code {
            "confirmed" => Some(SeatStatus::Confirmed),
            "waitlisted" => Some(SeatStatus::Waitlisted),
            "cancelled" => Some(SeatStatus::Cancelled),
            _ => None,
        }
    }
}

impl std::fmt::Display for SeatStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Tests and JSON readers compare with the wire's words.
impl PartialEq<str> for SeatStatus {
    fn eq(&self, other: &str) -> bool {
        self.code() == other
    }
}

impl PartialEq<&str> for SeatStatus {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

impl SeatState {
    pub fn code(self) -> &'static str {
        self.status().code()
    }

    pub fn status(self) -> SeatStatus {
        match self {
            SeatState::Confirmed => SeatStatus::Confirmed,
            SeatState::Waitlisted { .. } => SeatStatus::Waitlisted,
            SeatState::Cancelled => SeatStatus::Cancelled,
        }
    }

    pub fn position(self) -> Option<u32> {
        match self {
            SeatState::Waitlisted { position } => Some(position),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterEntry {
    pub registration_id: RegistrationId,
    pub state: SeatState,
    /// The authority whose seat this registration occupies (earliest grant).
    pub seat_of: Option<KioskId>,
}

/// Why a registration needs a person's attention after a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompensationKind {
    /// Confirmed beyond the class's capacity (the capacity was lowered, or a kiosk restored
    /// from an old store granted seats again): staff call the person.
    OverCapacity,
    /// Waiting beyond the waiting list's limit (kiosks that were offline each took the
    /// last places): staff tell the person the list is longer than promised.
    OverWaitlist,
}

/// A registration beyond what the class may hold. Staff resolve it; nobody is demoted
/// or dropped automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationTask {
    pub registration_id: RegistrationId,
    pub kind: CompensationKind,
    /// The authority whose seat it holds (for [`CompensationKind::OverCapacity`]).
    pub seat_of: Option<KioskId>,
}

/// The computed roster: confirmed first (by grant stamp), then the waiting list (by
/// registration stamp), then cancellations. `compensation` names the confirmed beyond
/// capacity and the waiting beyond the list's limit, newest first (the ones staff call).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Roster {
    pub entries: Vec<RosterEntry>,
    pub compensation: Vec<CompensationTask>,
}

impl Roster {
    pub fn state_of(&self, id: RegistrationId) -> Option<SeatState> {
        self.entries
            .iter()
            .find(|e| e.registration_id == id)
            .map(|e| e.state)
    }

    pub fn confirmed(&self) -> usize {
        self.count(|s| s == SeatState::Confirmed)
    }

    pub fn waitlisted(&self) -> usize {
        self.count(|s| matches!(s, SeatState::Waitlisted { .. }))
    }

    /// Seats held by one authority.
    pub fn held_by(&self, authority: KioskId) -> u32 {
        self.entries
            .iter()
            .filter(|e| e.state == SeatState::Confirmed && e.seat_of == Some(authority))
            .count() as u32
    }

    fn count(&self, pred: impl Fn(SeatState) -> bool) -> usize {
        self.entries.iter().filter(|e| pred(e.state)).count()
    }
}

/// One registration of a class's roster as scripts read it: the server's and the kiosk's
/// `roster --json` print this shape, so one script reads both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterLine {
    pub registration_id: RegistrationId,
    pub class_id: crate::ids::ClassId,
    pub person_id: crate::ids::PersonId,
    /// Where the resident registered (a kiosk, or the central office).
    pub kiosk_id: KioskId,
    pub status: SeatStatus,
    /// The place on the waiting list, from 1 (waiting registrations only).
    pub position: Option<u32>,
    /// The seat authority whose seat a confirmed registration holds: a kiosk's
    /// allotment, or the central office's pool (confirmed registrations only).
    pub seat_of: Option<KioskId>,
    /// The registration's stamp (hybrid logical clock, as text).
    pub created: String,
}

impl RosterLine {
    /// The line of a registration, whose status and position the roster computed.
    pub fn new(reg: &Registration, status: SeatStatus, position: Option<u32>) -> RosterLine {
        RosterLine {
            registration_id: reg.id,
            class_id: reg.class_id,
            person_id: reg.person_id,
            kiosk_id: reg.kiosk_id,
            status,
            position,
            seat_of: match status {
                SeatStatus::Confirmed => seat_holder(reg),
                SeatStatus::Waitlisted | SeatStatus::Cancelled => None,
            },
            created: reg.created.to_string(),
        }
    }
}

/// The seat authority whose seat a granted registration holds (see [`RosterEntry::seat_of`]).
pub fn seat_holder(reg: &Registration) -> Option<KioskId> {
    seat_of(reg).map(|(_, authority)| authority)
}

/// The earliest grant decides whose seat a registration occupies; ties are impossible
/// because stamps carry the granting node.
fn seat_of(reg: &Registration) -> Option<(Hlc, KioskId)> {
    reg.grants
        .iter()
        .map(|(authority, at)| (*at, *authority))
        .min()
}

/// Every registration's state, computed from the merged roster. Deterministic: any two
/// replicas holding the same registrations compute the same roster, whatever the order.
pub fn compute_roster(policy: &SeatPolicy, registrations: &[Registration]) -> Roster {
    let mut confirmed = Vec::new();
    let mut waiting = Vec::new();
    let mut cancelled = Vec::new();
    for reg in registrations {
        if reg.cancelled.is_some() {
            cancelled.push((reg.created, reg.id));
        } else if let Some(seat) = seat_of(reg) {
            confirmed.push((seat, reg.id));
        } else {
            waiting.push((reg.created, reg.id));
        }
    }
    confirmed.sort();
    waiting.sort();
    cancelled.sort();

    // The newest grants beyond capacity, then the newest waiting beyond the limit.
    let mut compensation: Vec<CompensationTask> = confirmed
        .iter()
        .skip(policy.capacity as usize)
        .rev()
        .map(|((_, authority), id)| CompensationTask {
            registration_id: *id,
            kind: CompensationKind::OverCapacity,
            seat_of: Some(*authority),
        })
        .collect();
    compensation.extend(
        waiting
            .iter()
            .skip(policy.waitlist_limit as usize)
            .rev()
            .map(|(_, id)| CompensationTask {
                registration_id: *id,
                kind: CompensationKind::OverWaitlist,
                seat_of: None,
            }),
    );

    let mut entries = Vec::with_capacity(registrations.len());
    entries.extend(confirmed.iter().map(|((_, authority), id)| RosterEntry {
        registration_id: *id,
        state: SeatState::Confirmed,
        seat_of: Some(*authority),
    }));
    entries.extend(
        waiting
            .iter()
            .zip(1..)
            .map(|((_, id), position)| RosterEntry {
                registration_id: *id,
                state: SeatState::Waitlisted { position },
                seat_of: None,
            }),
    );
    entries.extend(cancelled.iter().map(|(_, id)| RosterEntry {
        registration_id: *id,
        state: SeatState::Cancelled,
        seat_of: None,
    }));
    Roster {
        entries,
        compensation,
    }
}

/// Seats an authority can still grant, as far as it knows. The pool's are what the
/// kiosks' claims leave, less what it granted (exact at the server, which knows every pool
/// grant and every reservation; a kiosk's view of it is an estimate).
pub fn free_seats_of(policy: &SeatPolicy, roster: &Roster, authority: KioskId) -> u32 {
    let size = if authority.is_central() {
        policy.pool_size(roster)
    } else {
        policy.allotment_of(authority)
    };
    size.saturating_sub(roster.held_by(authority))
}

/// The free seats a kiosk shows on a class card: its own, and, when it asks the server's
/// pool before it calls a class full (an enrolled kiosk), the pool's as far as it knows;
/// the server has the last word when the resident registers.
pub fn seats_shown(policy: &SeatPolicy, roster: &Roster, kiosk: KioskId, asks_pool: bool) -> u32 {
    let own = free_seats_of(policy, roster, kiosk);
    match asks_pool {
        true => own + free_seats_of(policy, roster, KioskId::CENTRAL),
        false => own,
    }
}

/// The waiting registrations an authority should promote now into its free seats, in
/// waiting-list order. Called by the authority itself after a cancellation or a merge:
/// that is how cancellations promote the waiting list.
pub fn seats_to_fill(
    policy: &SeatPolicy,
    roster: &Roster,
    authority: KioskId,
) -> Vec<RegistrationId> {
    let free = free_seats_of(policy, roster, authority) as usize;
    roster
        .entries
        .iter()
        .filter(|e| matches!(e.state, SeatState::Waitlisted { .. }))
        .take(free)
        .map(|e| e.registration_id)
        .collect()
}

/// What a new registration at `authority` gets, given the roster after `seats_to_fill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Admission {
    /// The authority grants one of its own seats.
    Confirm,
    /// No seat here now; a place on the waiting list.
    Waitlist { position: u32 },
    /// No seat and the waiting list is full (or the class keeps none).
    Full,
}

pub fn admit(policy: &SeatPolicy, roster: &Roster, authority: KioskId) -> Admission {
    let free = free_seats_of(policy, roster, authority);
    admission_for(free, roster.waitlisted() as u32, policy.waitlist_limit)
}

/// The one rule of admission: a free seat confirms; otherwise a place on the waiting list
/// while it has room; otherwise full. Screens use it too, to say what a tap would do.
pub fn admission_for(free: u32, waiting: u32, waitlist_limit: u32) -> Admission {
    if free > 0 {
        Admission::Confirm
    } else if waiting < waitlist_limit {
        Admission::Waitlist {
            position: waiting + 1,
        }
    } else {
        Admission::Full
    }
}

/// The latest clock stamp in a roster. A kiosk observes it after every merge, so that its
/// next registration sorts after everyone already waiting, whatever its wall clock says.
pub fn latest_stamp(registrations: &[Registration]) -> Option<Hlc> {
    registrations
        .iter()
        .flat_map(|r| {
            std::iter::once(r.created)
                .chain(r.cancelled)
                .chain(r.grants.values().copied())
        })
        .max()
}

/// What an authority does when a person registers: first promote the waiting list into
/// any seats it has free (nobody jumps the queue), then admit the newcomer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationPlan {
    pub promote: Vec<RegistrationId>,
    pub admission: Admission,
}

pub fn plan_registration(
    policy: &SeatPolicy,
    registrations: &[Registration],
    authority: KioskId,
) -> RegistrationPlan {
    let roster = compute_roster(policy, registrations);
    let promote = seats_to_fill(policy, &roster, authority);
    let promoted = promote.len() as u32;
    let free = free_seats_of(policy, &roster, authority) - promoted;
    let waiting = roster.waitlisted() as u32 - promoted;
    let admission = admission_for(free, waiting, policy.waitlist_limit);
    RegistrationPlan { promote, admission }
}

/// The registrations an authority promotes right after `cancelled` is cancelled.
pub fn plan_cancellation(
    policy: &SeatPolicy,
    registrations: &[Registration],
    cancelled: RegistrationId,
    at: Hlc,
    authority: KioskId,
) -> Vec<RegistrationId> {
    let after: Vec<Registration> = registrations
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r.id == cancelled && r.cancelled.is_none() {
                r.cancelled = Some(at);
            }
            r
        })
        .collect();
    let roster = compute_roster(policy, &after);
    seats_to_fill(policy, &roster, authority)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ClassId, PersonId};

    fn kiosk(n: u128) -> KioskId {
        KioskId(uuid::Uuid::from_u128(n))
    }

    fn reg(n: u64, at: KioskId, granted: bool) -> Registration {
        let created = Hlc::new(1_000 + n, 0, at);
        Registration {
            id: RegistrationId(uuid::Uuid::from_u128(n as u128 + 100)),
            class_id: ClassId(uuid::Uuid::from_u128(9)),
            person_id: PersonId(uuid::Uuid::from_u128(n as u128 + 500)),
            kiosk_id: at,
            created,
            cancelled: None,
            grants: if granted {
                BTreeMap::from([(at, created)])
            } else {
                BTreeMap::new()
            },
        }
    }

    fn policy(capacity: u32, waitlist: u32, allot: &[(KioskId, u32)]) -> SeatPolicy {
        SeatPolicy {
            capacity,
            waitlist_limit: waitlist,
            allotments: allot.iter().copied().collect(),
            reserved: BTreeMap::new(),
        }
    }

    #[test]
    fn confirmed_first_then_waiting_in_stamp_order() {
        let a = kiosk(1);
        let p = policy(2, 5, &[(a, 2)]);
        let regs = vec![
            reg(4, a, false),
            reg(1, a, true),
            reg(3, a, false),
            reg(2, a, true),
        ];
        let roster = compute_roster(&p, &regs);
        let states: Vec<_> = roster.entries.iter().map(|e| e.state).collect();
        assert_eq!(
            states,
            vec![
                SeatState::Confirmed,
                SeatState::Confirmed,
                SeatState::Waitlisted { position: 1 },
                SeatState::Waitlisted { position: 2 },
            ]
        );
        assert_eq!(roster.entries[2].registration_id, regs[2].id);
        assert!(roster.compensation.is_empty());
    }

    #[test]
    fn input_order_does_not_matter() {
        let (a, b) = (kiosk(1), kiosk(2));
        let p = policy(3, 5, &[(a, 1), (b, 1)]);
        let mut regs = vec![
            reg(1, a, true),
            reg(2, b, true),
            reg(3, a, false),
            reg(4, b, false),
        ];
        let first = compute_roster(&p, &regs);
        regs.reverse();
        assert_eq!(first, compute_roster(&p, &regs));
    }

    #[test]
    fn a_cancellation_frees_a_seat_that_its_authority_fills_from_the_waiting_list() {
        let a = kiosk(1);
        let p = policy(1, 5, &[(a, 1)]);
        let mut regs = vec![reg(1, a, true), reg(2, a, false), reg(3, a, false)];
        let roster = compute_roster(&p, &regs);
        assert!(seats_to_fill(&p, &roster, a).is_empty());
        regs[0].cancelled = Some(Hlc::new(2_000, 0, a));
        let roster = compute_roster(&p, &regs);
        assert_eq!(seats_to_fill(&p, &roster, a), vec![regs[1].id]);
    }

    #[test]
    fn admission_respects_allotment_then_waiting_list_limit() {
        let (a, b) = (kiosk(1), kiosk(2));
        let p = policy(4, 1, &[(a, 1), (b, 1)]);
        let empty = compute_roster(&p, &[]);
        assert_eq!(admit(&p, &empty, a), Admission::Confirm);
        let roster = compute_roster(&p, &[reg(1, a, true)]);
        assert_eq!(admit(&p, &roster, a), Admission::Waitlist { position: 1 });
        assert_eq!(admit(&p, &roster, b), Admission::Confirm);
        // The pool (capacity minus allotments) belongs to the central office.
        assert_eq!(admit(&p, &roster, KioskId::CENTRAL), Admission::Confirm);
        assert_eq!(free_seats_of(&p, &roster, KioskId::CENTRAL), 2);
        let roster = compute_roster(&p, &[reg(1, a, true), reg(2, a, false)]);
        assert_eq!(admit(&p, &roster, a), Admission::Full);
    }

    #[test]
    fn registration_promotes_the_queue_before_admitting_a_newcomer() {
        let (a, b) = (kiosk(1), kiosk(2));
        let p = policy(2, 5, &[(a, 1), (b, 1)]);
        // b's registrant waits although a still has its seat free (b's allotment is used).
        let regs = vec![reg(1, b, true), reg(2, b, false)];
        let plan = plan_registration(&p, &regs, a);
        assert_eq!(plan.promote, vec![regs[1].id]);
        assert_eq!(plan.admission, Admission::Waitlist { position: 1 });
    }

    #[test]
    fn cancelling_promotes_the_first_in_line() {
        let a = kiosk(1);
        let p = policy(1, 5, &[(a, 1)]);
        let regs = vec![reg(1, a, true), reg(2, a, false), reg(3, a, false)];
        let promoted = plan_cancellation(&p, &regs, regs[0].id, Hlc::new(9_000, 0, a), a);
        assert_eq!(promoted, vec![regs[1].id]);
    }

    #[test]
    fn a_class_without_waiting_list_is_full_at_once() {
        let a = kiosk(1);
        let p = policy(1, 0, &[(a, 1)]);
        let roster = compute_roster(&p, &[reg(1, a, true)]);
        assert_eq!(admit(&p, &roster, a), Admission::Full);
    }

    #[test]
    fn a_kiosk_keeps_the_seats_it_granted_beyond_a_cut_allotment_and_the_pool_does_not_reuse_them()
    {
        let a = kiosk(1);
        let regs = vec![reg(1, a, true), reg(2, a, true)];
        let cut = policy(3, 5, &[(a, 1)]);
        let roster = compute_roster(&cut, &regs);
        assert_eq!(roster.confirmed(), 2);
        assert!(roster.compensation.is_empty());
        // a claims the 2 seats it holds, so the pool has 1, not 2.
        assert_eq!(cut.claim_of(a, &roster), 2);
        assert_eq!(free_seats_of(&cut, &roster, KioskId::CENTRAL), 1);
    }

    #[test]
    fn a_cut_not_yet_acknowledged_keeps_the_old_allotment_out_of_the_pool() {
        let a = kiosk(1);
        let mut cut = policy(10, 5, &[(a, 0)]);
        cut.reserved.insert(a, 4);
        let roster = compute_roster(&cut, &[]);
        assert_eq!(free_seats_of(&cut, &roster, KioskId::CENTRAL), 6);
        // The kiosk itself grants by its new allotment only.
        assert_eq!(free_seats_of(&cut, &roster, a), 0);
        cut.reserved.clear();
        assert_eq!(free_seats_of(&cut, &roster, KioskId::CENTRAL), 10);
    }

    #[test]
    fn the_pool_counts_its_own_grants_against_what_the_kiosks_leave() {
        let a = kiosk(1);
        let pool_grant = |n: u64| {
            let mut r = reg(n, a, false);
            r.grants
                .insert(KioskId::CENTRAL, Hlc::new(2_000 + n, 0, KioskId::CENTRAL));
            r
        };
        let regs: Vec<_> = (1..=3).map(pool_grant).collect();
        let p = policy(5, 5, &[(a, 2)]);
        let roster = compute_roster(&p, &regs);
        assert_eq!(roster.held_by(KioskId::CENTRAL), 3);
        assert_eq!(free_seats_of(&p, &roster, KioskId::CENTRAL), 0);
        assert_eq!(free_seats_of(&p, &roster, a), 2);
    }

    #[test]
    fn room_for_a_kiosk_is_what_the_others_claims_and_the_pool_leave() {
        let (a, b) = (kiosk(1), kiosk(2));
        let mut p = policy(10, 5, &[(a, 2), (b, 3)]);
        p.reserved.insert(b, 5);
        let mut pooled = reg(1, a, false);
        pooled
            .grants
            .insert(KioskId::CENTRAL, Hlc::new(3_000, 0, KioskId::CENTRAL));
        let roster = compute_roster(&p, &[pooled]);
        // b claims 5 (its cut is not acknowledged), the pool holds 1: a may have 4.
        assert_eq!(p.room_for(a, &roster), 4);
        p.allotments.insert(a, 4);
        assert!(p.claims_fit(&roster));
        p.allotments.insert(a, 5);
        assert!(!p.claims_fit(&roster));
    }

    #[test]
    fn a_capacity_cut_names_the_newest_confirmed_beyond_it_and_demotes_no_one() {
        let (a, b) = (kiosk(1), kiosk(2));
        let regs = vec![reg(1, a, true), reg(2, b, true), reg(3, a, true)];
        let roster = compute_roster(&policy(1, 5, &[(a, 1)]), &regs);
        assert_eq!(roster.confirmed(), 3);
        let named: Vec<_> = roster
            .compensation
            .iter()
            .map(|t| (t.registration_id, t.kind, t.seat_of))
            .collect();
        assert_eq!(
            named,
            vec![
                (regs[2].id, CompensationKind::OverCapacity, Some(a)),
                (regs[1].id, CompensationKind::OverCapacity, Some(b)),
            ]
        );
    }

    #[test]
    fn a_waiting_list_merged_beyond_its_limit_names_the_newest_waiting() {
        let (a, b) = (kiosk(1), kiosk(2));
        let regs = vec![reg(1, a, false), reg(2, b, false), reg(3, a, false)];
        let roster = compute_roster(&policy(0, 1, &[]), &regs);
        assert_eq!(roster.waitlisted(), 3);
        let named: Vec<_> = roster
            .compensation
            .iter()
            .map(|t| (t.registration_id, t.kind))
            .collect();
        assert_eq!(
            named,
            vec![
                (regs[2].id, CompensationKind::OverWaitlist),
                (regs[1].id, CompensationKind::OverWaitlist),
            ]
        );
    }

    #[test]
    fn two_grants_count_once_for_the_earliest_authority() {
        let (a, b) = (kiosk(1), kiosk(2));
        let p = policy(2, 5, &[(a, 1), (b, 1)]);
        let mut r = reg(1, a, false);
        r.grants.insert(b, Hlc::new(5_000, 0, b));
        r.grants.insert(a, Hlc::new(4_000, 0, a));
        let roster = compute_roster(&p, &[r]);
        assert_eq!(roster.held_by(a), 1);
        assert_eq!(roster.held_by(b), 0);
        assert_eq!(free_seats_of(&p, &roster, b), 1);
    }
}
