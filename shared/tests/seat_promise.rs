//! Property tests of the seat promise on real automerge rosters: random histories on 2 to 6
//! kiosks with skewed clocks, merged in random orders, including partial syncs (a replica
//! receiving another's state as it was some steps ago).

use std::collections::{BTreeMap, BTreeSet};

use blisko_shared::docs::{ChangeHash, RosterDoc, RosterEdit};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::{ClassId, KioskId, PersonId, RegistrationId};
use blisko_shared::model::Registration;
use blisko_shared::seats::{
    Admission, CompensationKind, Roster, SeatPolicy, SeatState, compute_roster, latest_stamp,
    plan_cancellation, plan_registration, seats_to_fill,
};
use proptest::prelude::*;

struct Replica {
    kiosk: KioskId,
    doc: RosterDoc,
    clock: HlcClock,
    skew_ms: i64,
    /// Heads after each step, to hand out older states in partial syncs.
    history: Vec<Vec<ChangeHash>>,
    /// What this replica showed as confirmed so far.
    seen_confirmed: BTreeSet<RegistrationId>,
}

impl Replica {
    fn now(&self, step: usize) -> u64 {
        (1_000_000 + step as i64 * 10 + self.skew_ms) as u64
    }

    fn registrations(&self) -> Vec<Registration> {
        self.doc.registrations().expect("roster reads")
    }

    fn roster(&self, policy: &SeatPolicy) -> Roster {
        compute_roster(policy, &self.registrations())
    }

    /// After a merge the kiosk fills its own free seats from the waiting list.
    fn reconcile(&mut self, policy: &SeatPolicy, step: usize) {
        let roster = self.roster(policy);
        let fill = seats_to_fill(policy, &roster, self.kiosk);
        if fill.is_empty() {
            return;
        }
        let at = self.clock.tick(self.now(step));
        let edits: Vec<_> = fill
            .into_iter()
            .map(|registration| RosterEdit::Grant {
                registration,
                authority: self.kiosk,
                at,
            })
            .collect();
        self.doc.apply(&edits).expect("grant applies");
    }
}

#[derive(Debug, Clone)]
enum Op {
    Register(usize),
    Cancel(usize, usize),
    Sync {
        from: usize,
        to: usize,
        steps_back: Option<usize>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<usize>().prop_map(Op::Register),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Cancel(a, b)),
        3 => (any::<usize>(), any::<usize>(), proptest::option::of(0usize..6))
            .prop_map(|(from, to, steps_back)| Op::Sync { from, to, steps_back }),
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    allotments: Vec<u32>,
    pool: u32,
    waitlist_limit: u32,
    skews: Vec<i64>,
    ops: Vec<Op>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (2usize..=6).prop_flat_map(|n| {
        (
            proptest::collection::vec(0u32..4, n),
            0u32..3,
            0u32..5,
            proptest::collection::vec(-5_000i64..5_000, n),
            proptest::collection::vec(op(), 1..60),
        )
            .prop_map(|(allotments, pool, waitlist_limit, skews, ops)| Scenario {
                allotments,
                pool,
                waitlist_limit,
                skews,
                ops,
            })
    })
}

fn merge_into(replicas: &mut [Replica], from: usize, to: usize, steps_back: Option<usize>) {
    let source = &replicas[from];
    let mut incoming = match steps_back {
        Some(back) if back < source.history.len() => {
            let heads = &source.history[source.history.len() - 1 - back];
            source
                .doc
                .doc()
                .fork_at(heads, source.kiosk)
                .expect("fork at old heads")
        }
        _ => source.doc.doc().fork_as(source.kiosk),
    };
    let target = &mut replicas[to];
    target.doc.doc_mut().merge(&mut incoming).expect("merge");
    // As the kiosk store does: later local stamps sort after everything merged.
    if let Some(latest) = latest_stamp(&target.registrations()) {
        let now = target.now(0);
        target.clock.observe(latest, now);
    }
}

fn check_invariants(
    replicas: &mut [Replica],
    policy: &SeatPolicy,
    cancelled_somewhere: &BTreeSet<RegistrationId>,
) -> Result<(), TestCaseError> {
    for r in replicas.iter_mut() {
        let regs = r.registrations();
        let roster = compute_roster(policy, &regs);
        prop_assert!(
            roster.confirmed() as u32 <= policy.capacity,
            "confirmed {} > capacity {}",
            roster.confirmed(),
            policy.capacity
        );
        // Merges may overfill a waiting list (each kiosk took the last places offline),
        // which is named for staff; never a seat beyond capacity.
        prop_assert!(
            roster
                .compensation
                .iter()
                .all(|t| t.kind == CompensationKind::OverWaitlist),
            "compensation {:?}",
            roster.compensation
        );
        // A confirmation this replica showed is never taken back, except by cancellation.
        for id in &r.seen_confirmed {
            let state = roster.state_of(*id);
            prop_assert!(
                matches!(
                    state,
                    Some(SeatState::Confirmed) | Some(SeatState::Cancelled)
                ),
                "{id} went from confirmed to {state:?}"
            );
            if state == Some(SeatState::Cancelled) {
                prop_assert!(cancelled_somewhere.contains(id));
            }
        }
        for e in &roster.entries {
            if e.state == SeatState::Confirmed {
                r.seen_confirmed.insert(e.registration_id);
            }
        }
    }
    // Replicas that have seen the same changes compute the same roster.
    for i in 0..replicas.len() {
        for j in i + 1..replicas.len() {
            if replicas[i].doc.doc().heads() == replicas[j].doc.doc().heads() {
                prop_assert_eq!(replicas[i].roster(policy), replicas[j].roster(policy));
            }
        }
    }
    Ok(())
}

fn run(s: Scenario) -> Result<(), TestCaseError> {
    let n = s.allotments.len();
    let class_id = ClassId::new();
    let kiosks: Vec<KioskId> = (0..n).map(|_| KioskId::new()).collect();
    let policy = SeatPolicy {
        capacity: s.allotments.iter().sum::<u32>() + s.pool,
        waitlist_limit: s.waitlist_limit,
        allotments: kiosks
            .iter()
            .copied()
            .zip(s.allotments.iter().copied())
            .collect(),
        reserved: Default::default(),
    };
    let mut replicas: Vec<Replica> = kiosks
        .iter()
        .zip(&s.skews)
        .map(|(kiosk, skew)| Replica {
            kiosk: *kiosk,
            doc: RosterDoc::create(class_id, *kiosk).expect("roster"),
            clock: HlcClock::new(*kiosk),
            skew_ms: *skew,
            history: Vec::new(),
            seen_confirmed: BTreeSet::new(),
        })
        .collect();
    let mut cancelled_somewhere = BTreeSet::new();
    let mut confirmed_at_creation: BTreeMap<RegistrationId, usize> = BTreeMap::new();

    for (step, op) in s.ops.iter().enumerate() {
        match *op {
            Op::Register(i) => {
                let r = &mut replicas[i % n];
                let regs = r.registrations();
                let plan = plan_registration(&policy, &regs, r.kiosk);
                let at = r.clock.tick(r.now(step));
                let mut edits: Vec<_> = plan
                    .promote
                    .iter()
                    .map(|id| RosterEdit::Grant {
                        registration: *id,
                        authority: r.kiosk,
                        at,
                    })
                    .collect();
                let id = RegistrationId::new();
                let grants = match plan.admission {
                    Admission::Full => BTreeMap::new(),
                    Admission::Confirm => BTreeMap::from([(r.kiosk, at)]),
                    Admission::Waitlist { .. } => BTreeMap::new(),
                };
                if plan.admission != Admission::Full {
                    if plan.admission == Admission::Confirm {
                        confirmed_at_creation.insert(id, i % n);
                    }
                    edits.push(RosterEdit::Register(Registration {
                        id,
                        class_id,
                        person_id: PersonId::new(),
                        kiosk_id: r.kiosk,
                        created: at,
                        cancelled: None,
                        grants,
                    }));
                }
                if !edits.is_empty() {
                    r.doc.apply(&edits).expect("register applies");
                }
                // What the kiosk told the resident is what the merged roster says.
                let state = r.roster(&policy).state_of(id);
                match plan.admission {
                    Admission::Confirm => prop_assert_eq!(state, Some(SeatState::Confirmed)),
                    Admission::Waitlist { position } => {
                        prop_assert_eq!(state, Some(SeatState::Waitlisted { position }))
                    }
                    Admission::Full => prop_assert_eq!(state, None),
                }
            }
            Op::Cancel(i, pick) => {
                let r = &mut replicas[i % n];
                let active: Vec<_> = r
                    .registrations()
                    .into_iter()
                    .filter(|reg| reg.cancelled.is_none())
                    .collect();
                if active.is_empty() {
                    continue;
                }
                let target = active[pick % active.len()].id;
                let at = r.clock.tick(r.now(step));
                let regs = r.registrations();
                let promote = plan_cancellation(&policy, &regs, target, at, r.kiosk);
                let mut edits = vec![RosterEdit::Cancel {
                    registration: target,
                    at,
                }];
                edits.extend(promote.into_iter().map(|registration| RosterEdit::Grant {
                    registration,
                    authority: r.kiosk,
                    at,
                }));
                r.doc.apply(&edits).expect("cancel applies");
                cancelled_somewhere.insert(target);
            }
            Op::Sync {
                from,
                to,
                steps_back,
            } => {
                let (from, to) = (from % n, to % n);
                if from != to {
                    merge_into(&mut replicas, from, to, steps_back);
                    replicas[to].reconcile(&policy, step);
                }
            }
        }
        for r in replicas.iter_mut() {
            let heads = r.doc.doc().heads();
            r.history.push(heads);
        }
        check_invariants(&mut replicas, &policy, &cancelled_somewhere)?;
    }

    // Full syncs until every replica holds everything and no kiosk has anything left to
    // promote. Concurrent promotions of one person can free a seat again, so this takes a
    // few rounds; each round strictly shrinks the waiting list or ends.
    let mut step = s.ops.len();
    for _round in 0..20 {
        for from in 0..n {
            for to in 0..n {
                if from != to {
                    merge_into(&mut replicas, from, to, None);
                }
            }
        }
        step += 1;
        let before: Vec<_> = replicas.iter().map(|r| r.doc.doc().heads()).collect();
        for r in replicas.iter_mut() {
            r.reconcile(&policy, step);
        }
        let after: Vec<_> = replicas.iter().map(|r| r.doc.doc().heads()).collect();
        check_invariants(&mut replicas, &policy, &cancelled_somewhere)?;
        if before == after {
            break;
        }
    }
    let first = replicas[0].roster(&policy);
    for r in &replicas[1..] {
        prop_assert_eq!(&r.roster(&policy), &first);
    }
    // Every kiosk-confirmed registration is still confirmed unless it was cancelled.
    for (id, _) in confirmed_at_creation {
        let state = first.state_of(id);
        prop_assert!(
            state == Some(SeatState::Confirmed)
                || (state == Some(SeatState::Cancelled) && cancelled_somewhere.contains(&id)),
            "{id}: {state:?}"
        );
    }
    // Cancellations promoted the waiting list: no kiosk holds a free seat while people wait.
    if first.waitlisted() > 0 {
        for kiosk in &kiosks {
            prop_assert!(
                seats_to_fill(&policy, &first, *kiosk).is_empty(),
                "kiosk {kiosk} has a free seat while {} wait",
                first.waitlisted()
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_seat_promise_holds_across_random_merges(s in scenario()) {
        run(s)?;
    }
}

/// The escrow with the office in the loop: kiosks confirm within the allotment they last
/// pulled, the central replica grants from the pool, and the office raises and cuts
/// allotments at any time under the rules of `sync-server/src/central/seats.rs` (an
/// increase only from free pool seats, a cut held until its kiosk pushes everything under
/// the new catalog). Whatever the order, the union of every replica never has more
/// confirmed than seats.
mod with_office {
    use super::*;

    const CAPACITY: u32 = 6;

    struct Node {
        id: KioskId,
        doc: RosterDoc,
        clock: HlcClock,
        /// The allotment and catalog version this kiosk last pulled.
        allotment: u32,
        version: u64,
    }

    #[derive(Default)]
    struct Office {
        allotments: BTreeMap<KioskId, u32>,
        /// Cut allotments: seats still reserved, and the catalog version of the cut.
        holds: BTreeMap<KioskId, (u32, u64)>,
        version: u64,
    }

    impl Office {
        fn policy(&self) -> SeatPolicy {
            SeatPolicy {
                capacity: CAPACITY,
                waitlist_limit: 3,
                allotments: self.allotments.clone(),
                reserved: self.holds.iter().map(|(k, (n, _))| (*k, *n)).collect(),
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Step {
        Register(usize),
        Cancel(usize, usize),
        Push(usize, Option<usize>),
        Pull(usize),
        Allot(usize, u32),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => any::<usize>().prop_map(Step::Register),
            1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Step::Cancel(a, b)),
            3 => (any::<usize>(), proptest::option::of(0usize..4)).prop_map(|(a, b)| Step::Push(a, b)),
            2 => any::<usize>().prop_map(Step::Pull),
            2 => (any::<usize>(), 0u32..5).prop_map(|(a, n)| Step::Allot(a, n)),
        ]
    }

    fn kiosk_policy(node: &Node) -> SeatPolicy {
        SeatPolicy {
            capacity: CAPACITY,
            waitlist_limit: 3,
            allotments: BTreeMap::from([(node.id, node.allotment)]),
            reserved: BTreeMap::new(),
        }
    }

    fn grant(node: &mut Node, fill: Vec<RegistrationId>, now: u64) {
        if fill.is_empty() {
            return;
        }
        let at = node.clock.tick(now);
        let edits: Vec<_> = fill
            .into_iter()
            .map(|registration| RosterEdit::Grant {
                registration,
                authority: node.id,
                at,
            })
            .collect();
        node.doc.apply(&edits).expect("grant applies");
    }

    /// The central replica gives free pool seats to the people waiting.
    fn fill_pool(central: &mut Node, office: &Office, now: u64) {
        let policy = office.policy();
        let roster = compute_roster(&policy, &central.doc.registrations().expect("reads"));
        let fill = seats_to_fill(&policy, &roster, KioskId::CENTRAL);
        grant(central, fill, now);
    }

    fn merge(nodes: &mut [Node], from: usize, to: usize, history: Option<&[ChangeHash]>) {
        let mut incoming = match history {
            Some(heads) => nodes[from]
                .doc
                .doc()
                .fork_at(heads, nodes[from].id)
                .expect("fork"),
            None => nodes[from].doc.doc().fork_as(nodes[from].id),
        };
        nodes[to].doc.doc_mut().merge(&mut incoming).expect("merge");
        if let Some(latest) = latest_stamp(&nodes[to].doc.registrations().expect("reads")) {
            nodes[to].clock.observe(latest, 0);
        }
    }

    fn run(kiosk_count: usize, steps: Vec<Step>) -> Result<(), TestCaseError> {
        let class_id = ClassId::new();
        let mut nodes: Vec<Node> = std::iter::once(KioskId::CENTRAL)
            .chain((0..kiosk_count).map(|_| KioskId::new()))
            .map(|id| Node {
                id,
                doc: RosterDoc::create(class_id, id).expect("roster"),
                clock: HlcClock::new(id),
                allotment: 0,
                version: 0,
            })
            .collect();
        let mut office = Office::default();
        let mut history: Vec<Vec<Vec<ChangeHash>>> = vec![Vec::new(); nodes.len()];
        for (t, step) in steps.into_iter().enumerate() {
            let now = 1_000_000 + t as u64 * 10;
            let kiosk = |i: usize| 1 + i % kiosk_count;
            match step {
                Step::Register(i) => {
                    let node = &mut nodes[kiosk(i)];
                    let regs = node.doc.registrations().expect("reads");
                    let plan = plan_registration(&kiosk_policy(node), &regs, node.id);
                    if plan.admission != Admission::Full {
                        let at = node.clock.tick(now);
                        let mut edits: Vec<_> = plan
                            .promote
                            .iter()
                            .map(|id| RosterEdit::Grant {
                                registration: *id,
                                authority: node.id,
                                at,
                            })
                            .collect();
                        edits.push(RosterEdit::Register(Registration {
                            id: RegistrationId::new(),
                            class_id,
                            person_id: PersonId::new(),
                            kiosk_id: node.id,
                            created: at,
                            cancelled: None,
                            grants: match plan.admission {
                                Admission::Confirm => BTreeMap::from([(node.id, at)]),
                                _ => BTreeMap::new(),
                            },
                        }));
                        node.doc.apply(&edits).expect("register applies");
                    }
                }
                Step::Cancel(i, pick) => {
                    let node = &mut nodes[kiosk(i)];
                    let regs = node.doc.registrations().expect("reads");
                    let active: Vec<_> = regs.iter().filter(|r| r.cancelled.is_none()).collect();
                    if let Some(target) = active.get(pick % active.len().max(1)).map(|r| r.id) {
                        let at = node.clock.tick(now);
                        let promote =
                            plan_cancellation(&kiosk_policy(node), &regs, target, at, node.id);
                        let mut edits = vec![RosterEdit::Cancel {
                            registration: target,
                            at,
                        }];
                        edits.extend(promote.into_iter().map(|registration| RosterEdit::Grant {
                            registration,
                            authority: node.id,
                            at,
                        }));
                        node.doc.apply(&edits).expect("cancel applies");
                    }
                }
                Step::Push(i, back) => {
                    let k = kiosk(i);
                    let old = back.and_then(|b| history[k].iter().rev().nth(b).cloned());
                    merge(&mut nodes, k, 0, old.as_deref());
                    // Everything pushed, under a known catalog: the cuts it holds are done.
                    if old.is_none() {
                        let (id, version) = (nodes[k].id, nodes[k].version);
                        if office.holds.get(&id).is_some_and(|(_, v)| *v <= version) {
                            office.holds.remove(&id);
                        }
                    }
                    fill_pool(&mut nodes[0], &office, now);
                }
                Step::Pull(i) => {
                    let k = kiosk(i);
                    merge(&mut nodes, 0, k, None);
                    let id = nodes[k].id;
                    nodes[k].allotment = office.allotments.get(&id).copied().unwrap_or(0);
                    nodes[k].version = office.version;
                    let policy = kiosk_policy(&nodes[k]);
                    let regs = nodes[k].doc.registrations().expect("reads");
                    let fill = seats_to_fill(&policy, &compute_roster(&policy, &regs), id);
                    grant(&mut nodes[k], fill, now);
                }
                Step::Allot(i, seats) => {
                    let id = nodes[kiosk(i)].id;
                    let was = office.allotments.get(&id).copied().unwrap_or(0);
                    let mut planned = office.allotments.clone();
                    planned.insert(id, seats);
                    let mut holds = office.holds.clone();
                    let reserved = holds.get(&id).map_or(0, |(n, _)| *n).max(was);
                    if seats < reserved {
                        holds.insert(id, (reserved, office.version + 1));
                    } else {
                        holds.remove(&id);
                    }
                    let next = Office {
                        allotments: planned,
                        holds,
                        version: office.version + 1,
                    };
                    let policy = next.policy();
                    let roster =
                        compute_roster(&policy, &nodes[0].doc.registrations().expect("reads"));
                    let allotted: u32 = next.allotments.values().sum();
                    let refused =
                        allotted > CAPACITY || (seats > was && !policy.claims_fit(&roster));
                    if !refused {
                        office = next;
                        fill_pool(&mut nodes[0], &office, now);
                    }
                }
            }
            for (n, node) in nodes.iter().enumerate() {
                history[n].push(node.doc.doc().heads());
            }
            // The union of every replica: never more confirmed than seats.
            let mut union = RosterDoc::create(class_id, KioskId::CENTRAL).expect("roster");
            for node in &nodes {
                union
                    .doc_mut()
                    .merge(&mut node.doc.doc().fork_as(node.id))
                    .expect("merge");
            }
            let roster = compute_roster(&office.policy(), &union.registrations().expect("reads"));
            prop_assert!(
                roster.confirmed() as u32 <= CAPACITY,
                "{} confirmed of {CAPACITY} after step {t}",
                roster.confirmed()
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        #[test]
        fn office_cuts_raises_and_the_pool_never_overbook(
            kiosk_count in 1usize..4,
            steps in proptest::collection::vec(step(), 1..80),
        ) {
            run(kiosk_count, steps)?;
        }
    }
}
