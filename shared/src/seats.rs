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
//! authority's earlier grant, or be freed by a cancellation), and the authority never
//! exceeds its allotment locally. With allotments summing to at most the capacity, the
//! confirmed count never exceeds it. Only the office cutting an allotment below what a
//! kiosk already granted can break that, and it is raised as a compensation task instead
//! of demoting anyone.

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
    /// Seats per kiosk; the pool for [`KioskId::CENTRAL`] is `capacity - sum`.
    pub allotments: BTreeMap<KioskId, u32>,
}

impl SeatPolicy {
    /// The seats an authority may hold: its allotment, or the pool for the central office.
    pub fn allotment_of(&self, authority: KioskId) -> u32 {
        if authority.is_central() {
            let allotted: u32 = self
                .allotments
                .iter()
                .filter(|(k, _)| !k.is_central())
                .map(|(_, n)| *n)
                .sum();
            self.capacity.saturating_sub(allotted)
        } else {
            self.allotments.get(&authority).copied().unwrap_or(0)
        }
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

impl SeatState {
    pub fn code(self) -> &'static str {
        match self {
            SeatState::Confirmed => "confirmed",
            SeatState::Waitlisted { .. } => "waitlisted",
            SeatState::Cancelled => "cancelled",
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

/// A confirmed registration beyond what its authority or the class may hold, e.g. after
/// the office cut an allotment while a kiosk was offline. Staff resolve it; nobody is
/// demoted automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompensationTask {
    pub registration_id: RegistrationId,
    pub authority: KioskId,
}

/// The computed roster: confirmed first (by grant stamp), then the waiting list (by
/// registration stamp), then cancellations.
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

    let mut compensation = Vec::new();
    let mut held: BTreeMap<KioskId, u32> = BTreeMap::new();
    for (index, ((_, authority), id)) in confirmed.iter().enumerate() {
        let count = held.entry(*authority).or_default();
        *count += 1;
        let over_allotment = *count > policy.allotment_of(*authority);
        let over_capacity = index as u32 >= policy.capacity;
        if over_allotment || over_capacity {
            compensation.push(CompensationTask {
                registration_id: *id,
                authority: *authority,
            });
        }
    }

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

/// Seats an authority can still grant, as far as it knows.
pub fn free_seats_of(policy: &SeatPolicy, roster: &Roster, authority: KioskId) -> u32 {
    policy
        .allotment_of(authority)
        .saturating_sub(roster.held_by(authority))
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
        assert_eq!(p.allotment_of(KioskId::CENTRAL), 2);
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
    fn an_allotment_cut_raises_compensation_and_demotes_no_one() {
        let a = kiosk(1);
        let regs = vec![reg(1, a, true), reg(2, a, true)];
        let cut = policy(2, 5, &[(a, 1)]);
        let roster = compute_roster(&cut, &regs);
        assert_eq!(roster.confirmed(), 2);
        assert_eq!(
            roster.compensation,
            vec![CompensationTask {
                registration_id: regs[1].id,
                authority: a
            }]
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
