//! The whole system against a simple model: one real `blisko-server` process, two
//! branches, four kiosks (two per branch, real encrypted stores, some steps run as
//! `blisko-kiosk` processes), the office page over real HTTP and the admin command line.
//! A seeded driver picks one operation per step: a kiosk registers, cancels or takes an
//! intake request (online: it syncs, and a registration asks the server's pool; offline:
//! it does not sync, or every connection is closed), a kiosk syncs (some
//! syncs cut by a fault proxy), a `blisko-kiosk sync` or `batch` process is killed with
//! SIGKILL, the server is killed with SIGKILL in the middle of a sync and restarted, the
//! office allots seats (up and down), edits a class's capacity and waiting-list limit,
//! moves a session, changes a request's status, merges two records of one person, erases
//! a person, revokes and re-enrolls a kiosk.
//!
//! After every step: no class has more confirmed than seats (unless compensation tasks
//! name exactly the excess), no registration a resident was told is confirmed is waiting
//! on any replica, and an operation the system refused changed no document. After a last
//! full sync: every acknowledged registration, cancellation and request is on the server,
//! every replica of a branch holds the same documents and none holds the other branch's,
//! the office's session moves and request decisions reached the kiosks, and no file,
//! page, export or kiosk view holds an erased person's name.
//!
//! The cases take turns on the server's stores (`BLISKO_TEST_BACKENDS`); by default one
//! case on each, the 40 steps of a run shared out between them. Long runs:
//! `BLISKO_MODEL_CASES=200 BLISKO_MODEL_STEPS=80 cargo test -p blisko-tests --test
//! system_model -- --nocapture`. A failure prints its case's seed and steps; the seed
//! replays the case: `BLISKO_SEED=<seed> BLISKO_MODEL_CASES=1`, with the store it failed
//! on in `BLISKO_TEST_BACKENDS`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm, local_date, system_clock};
use blisko_kiosk::{Kiosk, KioskError};
use blisko_tests::harness::{
    Heads, ServerProcess, admin, branch_id, check_replicas, database_of, enroll_via, env_count,
    kiosk_heads, kiosk_plain_copy, kiosk_roster, open_kiosk, seed, server_command, server_heads,
    server_integrity, server_roster, sync, sync_until_quiet, transient,
};
use blisko_tests::kiosk_cli::kiosk_command;
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};
use blisko_tests::proxy::{Fault, FaultProxy};
use blisko_tests::{Backend, backends};

const CLASSES_PER_BRANCH: usize = 3;
const KIOSKS_PER_BRANCH: usize = 2;
const BRANCH_CODES: [&str; 2] = ["MAL", "SI"];
const MAX_CAPACITY: u32 = 8;

#[test]
fn the_system_keeps_its_promises_across_office_kiosks_and_network() -> Result<()> {
    let seed = seed();
    // The cases take turns on the server's stores; by default one case on each, the 40
    // steps of a run shared out between them.
    let stores = backends();
    let cases = env_count("BLISKO_MODEL_CASES", stores.len() as u64);
    let steps = env_count("BLISKO_MODEL_STEPS", 40 / stores.len() as u64);
    let started = Instant::now();
    let mut total = Stats::default();
    for case in 0..cases {
        let case_seed = seed.wrapping_add(case);
        let backend = stores[case as usize % stores.len()];
        let stats = run_case(backend, case_seed, steps as usize).map_err(|e| {
            let replay = format!(
                "BLISKO_SEED={case_seed} BLISKO_MODEL_CASES=1 BLISKO_MODEL_STEPS={steps} \
                 BLISKO_TEST_BACKENDS={backend}"
            );
            eprintln!("case {case} failed on {backend}: {replay} replays it");
            e.context(format!("seed {case_seed} on {backend} ({replay})"))
        })?;
        eprintln!(
            "case {case} (seed {case_seed}, {backend}): {} registrations, {} refusals, {} syncs broken",
            stats.registrations, stats.refused, stats.syncs_broken
        );
        total.add(&stats);
    }
    eprintln!(
        "{cases} case(s) x {steps} steps in {:?}: {total:?}",
        started.elapsed()
    );
    Ok(())
}

/// What the runs did, to show that the operations happen.
#[derive(Debug, Default, Clone)]
struct Stats {
    ops: BTreeMap<&'static str, u64>,
    refused: u64,
    syncs_broken: u64,
    registrations: u64,
}

impl Stats {
    fn add(&mut self, other: &Stats) {
        for (k, v) in &other.ops {
            *self.ops.entry(k).or_default() += v;
        }
        self.refused += other.refused;
        self.syncs_broken += other.syncs_broken;
        self.registrations += other.registrations;
    }
}

/// One kiosk: its folder, and the open store unless a process has it.
struct Station {
    dir: PathBuf,
    kiosk: Option<Mutex<Kiosk>>,
    branch: usize,
    id: String,
}

#[derive(Debug, Clone)]
struct ClassModel {
    id: String,
    branch: usize,
    title: String,
    capacity: u32,
    waitlist_limit: u32,
    /// Station index to the seats the office gave it.
    allotments: BTreeMap<usize, u32>,
}

#[derive(Debug, Clone)]
struct Person {
    id: String,
    code: String,
    given: String,
    family: String,
    birth_year: i32,
    branch: usize,
    erased: bool,
}

#[derive(Debug, Clone)]
struct Reg {
    station: usize,
    class: String,
    /// The receipt said confirmed.
    shown_confirmed: bool,
}

#[derive(Debug, Clone)]
struct Request {
    id: String,
    reference: String,
    person: usize,
    branch: usize,
    /// The last status the office set.
    status: Option<String>,
}

#[derive(Debug, Clone)]
struct SessionModel {
    class: String,
    branch: usize,
    date: String,
    start: String,
    minutes: u32,
}

/// What the system promised, as the driver saw it.
#[derive(Debug, Default)]
struct Model {
    classes: Vec<ClassModel>,
    persons: Vec<Person>,
    regs: BTreeMap<String, Reg>,
    /// Cancelled registrations, with the kiosk that acknowledged the cancellation.
    cancelled: BTreeMap<String, usize>,
    requests: Vec<Request>,
    sessions: BTreeMap<String, SessionModel>,
    /// Person index to the persons the office merged with it (both ways).
    links: BTreeMap<usize, BTreeSet<usize>>,
    names: usize,
}

impl Model {
    fn person_by_id(&self, id: &str) -> Option<usize> {
        self.persons.iter().position(|p| p.id == id)
    }

    /// A person and everyone linked to them, transitively.
    fn group(&self, person: usize) -> BTreeSet<usize> {
        let mut group = BTreeSet::from([person]);
        let mut todo = vec![person];
        while let Some(p) = todo.pop() {
            for q in self.links.get(&p).into_iter().flatten() {
                if group.insert(*q) {
                    todo.push(*q);
                }
            }
        }
        group
    }

    fn class(&self, id: &str) -> Result<&ClassModel> {
        self.classes
            .iter()
            .find(|c| c.id == id)
            .with_context(|| format!("class {id} in the model"))
    }
}

/// A name of five letters for number `n`: fixed length, so no name is a prefix of
/// another and a byte search for it finds only it.
fn word(n: usize) -> String {
    let mut n = n;
    (0..5)
        .map(|_| {
            let c = (b'a' + (n % 26) as u8) as char;
            n /= 26;
            c
        })
        .collect()
}

struct World {
    _tmp: tempfile::TempDir,
    tmp: PathBuf,
    data: PathBuf,
    server: ServerProcess,
    proxy: FaultProxy,
    office: Office,
    branches: Vec<String>,
    stations: Vec<Station>,
    services: Vec<Vec<String>>,
    model: Model,
    stats: Stats,
    /// How long the last whole `blisko-kiosk sync` took: the bound of the next kill.
    kill_within: Option<Duration>,
}

fn lock(k: &Mutex<Kiosk>) -> std::sync::MutexGuard<'_, Kiosk> {
    k.lock().unwrap_or_else(|p| p.into_inner())
}

impl World {
    fn kiosk(&self, s: usize) -> Result<&Mutex<Kiosk>> {
        self.stations[s]
            .kiosk
            .as_ref()
            .with_context(|| format!("kiosk {s} is open"))
    }

    fn close(&mut self, s: usize) {
        self.stations[s].kiosk = None;
    }

    fn reopen(&mut self, s: usize) -> Result<()> {
        let k = open_kiosk(&self.stations[s].dir).with_context(|| format!("reopen kiosk {s}"))?;
        self.stations[s].kiosk = Some(Mutex::new(k));
        Ok(())
    }

    fn of_branch(&self, branch: usize) -> Vec<usize> {
        (0..self.stations.len())
            .filter(|s| self.stations[*s].branch == branch)
            .collect()
    }

    fn classes_of(&self, branch: usize) -> Vec<String> {
        self.model
            .classes
            .iter()
            .filter(|c| c.branch == branch)
            .map(|c| c.id.clone())
            .collect()
    }

    fn all_heads(&self) -> Result<Vec<Heads>> {
        self.branches
            .iter()
            .map(|b| server_heads(&self.data, b))
            .collect()
    }

    /// Sync one kiosk; `fault` breaks its first connection. True when it completed.
    fn sync_station(&mut self, s: usize, fault: Option<Fault>) -> Result<bool> {
        match fault {
            Some(f) => {
                let mut first = true;
                self.proxy.set_plan(move || {
                    if std::mem::take(&mut first) {
                        f
                    } else {
                        Fault::Pass
                    }
                });
            }
            None => self.proxy.pass_all(),
        }
        let outcome = sync(self.kiosk(s)?);
        self.proxy.pass_all();
        match outcome {
            Ok(r) => Ok(!r.incomplete),
            Err(e) if transient(&e) => {
                self.stats.syncs_broken += 1;
                Ok(false)
            }
            Err(e) => Err(e.context(format!("kiosk {s}: a sync failed for good"))),
        }
    }

    /// A new person's names (twins reuse another's).
    fn new_names(&mut self) -> (String, String, i32) {
        self.model.names += 1;
        let n = self.model.names;
        (
            format!("Imie{}", word(n)),
            format!("Nazwisko{}", word(n * 7919 + 13)),
            1940 + (n % 60) as i32,
        )
    }

    fn record_receipt(&mut self, s: usize, receipt: &ReceiptFields, names: (String, String, i32)) {
        let branch = self.stations[s].branch;
        if self.model.person_by_id(&receipt.person_id).is_none() {
            let (given, family, birth_year) = names;
            self.model.persons.push(Person {
                id: receipt.person_id.clone(),
                code: receipt.resident_code.clone(),
                given,
                family,
                birth_year,
                branch,
                erased: false,
            });
        }
        if let Some(reg) = &receipt.registration_id {
            self.stats.registrations += 1;
            self.model.regs.insert(
                reg.clone(),
                Reg {
                    station: s,
                    class: receipt.class_id.clone().unwrap_or_default(),
                    shown_confirmed: receipt.status == "confirmed",
                },
            );
        }
    }

    /// `blisko-server --json ARGS` with its exit code and parsed output (none on error).
    fn admin_raw(&self, args: &[&str]) -> Result<(i32, Option<Value>, String)> {
        let out = server_command(&self.data)?
            .arg("--json")
            .args(args)
            .env("BLISKO_LOG", "warn")
            .output()
            .context("run blisko-server")?;
        let code = out.status.code().context("blisko-server killed")?;
        let value = serde_json::from_slice(&out.stdout).ok();
        Ok((
            code,
            value,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }

    /// POST an office form; logs in again when the session was lost.
    fn office_post(&mut self, path: &str, fields: &[(&str, &str)]) -> Result<(u16, String)> {
        let response = self.office.post(path, fields)?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if status == 303 && location == "/office/login" {
            self.office = Office::login(&self.server.url(), "admin", PASSWORD)?;
            return self.office_post(path, fields);
        }
        Ok((status, response.text()?))
    }
}

/// The fields of a registration or intake receipt the model keeps.
struct ReceiptFields {
    registration_id: Option<String>,
    person_id: String,
    resident_code: String,
    class_id: Option<String>,
    status: String,
}

fn setup(backend: Backend, seed: u64) -> Result<World> {
    let tmp = tempfile::tempdir()?;
    let root = tmp.path().to_owned();
    let data = root.join("server");
    let server = ServerProcess::start_backend(backend, &data, true)?;
    let branches = BRANCH_CODES
        .iter()
        .map(|c| branch_id(&data, c))
        .collect::<Result<Vec<_>>>()?;
    let proxy = FaultProxy::start(server.addr)?;
    let mut stations = Vec::new();
    for (branch, id) in branches.iter().enumerate() {
        for n in 0..KIOSKS_PER_BRANCH {
            let dir = root.join(format!("k{branch}{n}"));
            let k = enroll_via(&server, id, &proxy.url(), &dir)?;
            let kid = lock(&k).identity().kiosk_id.to_string();
            stations.push(Station {
                dir,
                kiosk: Some(k),
                branch,
                id: kid,
            });
        }
    }
    let all: Vec<&Mutex<Kiosk>> = stations.iter().filter_map(|s| s.kiosk.as_ref()).collect();
    sync_until_quiet(&all)?;
    add_staff(&data, "admin", "office_admin", None)?;
    let office = Office::login(&server.url(), "admin", PASSWORD)?;

    // Three open classes per branch, made small so they fill; their sessions.
    let today = local_date(system_clock()()).to_string();
    let mut model = Model::default();
    let mut services = Vec::new();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5E7);
    for branch in 0..branches.len() {
        let first = stations
            .iter()
            .find(|s| s.branch == branch)
            .context("a kiosk of the branch")?;
        let k = lock(first.kiosk.as_ref().context("open")?);
        let classes: Vec<_> = k
            .classes()?
            .into_iter()
            .filter(|c| {
                blisko_shared::model::registration_open(
                    c.registration_opens.as_deref(),
                    c.registration_closes.as_deref(),
                    &today,
                )
            })
            .take(CLASSES_PER_BRANCH)
            .collect();
        ensure!(
            classes.len() == CLASSES_PER_BRANCH,
            "the demo has open classes"
        );
        for c in &classes {
            model.classes.push(ClassModel {
                id: c.id.to_string(),
                branch,
                title: c.title.clone(),
                capacity: c.capacity,
                waitlist_limit: c.waitlist_limit,
                allotments: BTreeMap::new(),
            });
        }
        let mut day = jiff::civil::Date::strptime("%Y-%m-%d", &today)?;
        for _ in 0..14 {
            for s in k.store().sessions_on(&day.to_string())? {
                if classes.iter().any(|c| c.id == s.class_id) {
                    model.sessions.insert(
                        s.id.to_string(),
                        SessionModel {
                            class: s.class_id.to_string(),
                            branch,
                            date: s.date,
                            start: s.start,
                            minutes: s.minutes,
                        },
                    );
                }
            }
            day = day.tomorrow()?;
        }
        services.push(
            k.services()?
                .into_iter()
                .filter(|s| !s.requires_pesel)
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>(),
        );
    }
    drop(all);
    let mut world = World {
        _tmp: tmp,
        tmp: root,
        data,
        server,
        proxy,
        office,
        branches,
        stations,
        services,
        model,
        stats: Stats::default(),
        kill_within: None,
    };
    for i in 0..world.model.classes.len() {
        let capacity = rng.random_range(2..=5);
        let waitlist = rng.random_range(1..=3);
        let c = world.model.classes[i].clone();
        let (status, body) = edit_class(&mut world, &c, capacity, waitlist, false)?;
        ensure!(status == 303, "set up class {}: {status} {body}", c.id);
        world.model.classes[i].capacity = capacity;
        world.model.classes[i].waitlist_limit = waitlist;
    }
    let all: Vec<&Mutex<Kiosk>> = world
        .stations
        .iter()
        .filter_map(|s| s.kiosk.as_ref())
        .collect();
    sync_until_quiet(&all)?;
    Ok(world)
}

fn edit_class(
    w: &mut World,
    c: &ClassModel,
    capacity: u32,
    waitlist: u32,
    accept_over: bool,
) -> Result<(u16, String)> {
    let capacity = capacity.to_string();
    let waitlist = waitlist.to_string();
    let mut fields = vec![
        ("title", c.title.as_str()),
        ("capacity", capacity.as_str()),
        ("waitlist_limit", waitlist.as_str()),
    ];
    if accept_over {
        fields.push(("accept_over", "1"));
    }
    w.office_post(&format!("/office/classes/{}", c.id), &fields)
}

#[derive(Debug, Clone, Copy)]
enum Op {
    RegisterOffline,
    RegisterOnline,
    Cancel,
    Intake,
    Sync,
    SyncCut,
    SyncAll,
    KioskSyncKilled,
    KioskBatchKilled,
    ServerKilled,
    AllotUp,
    AllotDown,
    EditClass,
    MoveSession,
    RequestStatus,
    MergePersons,
    ErasePerson,
    EraseByCommand,
    RevokeReenroll,
}

/// The operations, with their weights.
const OPS: &[(Op, u32)] = &[
    (Op::RegisterOffline, 14),
    (Op::RegisterOnline, 12),
    (Op::Cancel, 6),
    (Op::Intake, 6),
    (Op::Sync, 10),
    (Op::SyncCut, 6),
    (Op::SyncAll, 3),
    (Op::KioskSyncKilled, 3),
    (Op::KioskBatchKilled, 3),
    (Op::ServerKilled, 2),
    (Op::AllotUp, 5),
    (Op::AllotDown, 4),
    (Op::EditClass, 4),
    (Op::MoveSession, 2),
    (Op::RequestStatus, 3),
    (Op::MergePersons, 3),
    (Op::ErasePerson, 2),
    (Op::EraseByCommand, 1),
    (Op::RevokeReenroll, 2),
];

fn op_name(op: Op) -> &'static str {
    match op {
        Op::RegisterOffline => "register_offline",
        Op::RegisterOnline => "register_online",
        Op::Cancel => "cancel",
        Op::Intake => "intake",
        Op::Sync => "sync",
        Op::SyncCut => "sync_cut",
        Op::SyncAll => "sync_all",
        Op::KioskSyncKilled => "kiosk_sync_killed",
        Op::KioskBatchKilled => "kiosk_batch_killed",
        Op::ServerKilled => "server_killed",
        Op::AllotUp => "allot_up",
        Op::AllotDown => "allot_down",
        Op::EditClass => "edit_class",
        Op::MoveSession => "move_session",
        Op::RequestStatus => "request_status",
        Op::MergePersons => "merge_persons",
        Op::ErasePerson => "erase_person",
        Op::EraseByCommand => "erase_by_command",
        Op::RevokeReenroll => "revoke_reenroll",
    }
}

fn pick_op(rng: &mut StdRng) -> Op {
    let total: u32 = OPS.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total);
    for (op, weight) in OPS {
        if roll < *weight {
            return *op;
        }
        roll -= weight;
    }
    OPS[0].0
}

fn run_case(backend: Backend, seed: u64, steps: usize) -> Result<Stats> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = setup(backend, seed)?;
    let mut log: Vec<String> = Vec::new();
    let outcome = (|| -> Result<()> {
        for step in 0..steps {
            let op = pick_op(&mut rng);
            let did = run_op(&mut w, op, &mut rng)
                .with_context(|| format!("step {step}: {}", op_name(op)))?;
            *w.stats.ops.entry(op_name(op)).or_default() += 1;
            log.push(format!("{step:>3} {:<18} {did}", op_name(op)));
            check_step(&w).with_context(|| format!("after step {step}: {}", op_name(op)))?;
        }
        log.push("    final full sync".into());
        final_check(&mut w)
    })();
    if outcome.is_err() {
        eprintln!("steps of seed {seed}:");
        for line in &log {
            eprintln!("  {line}");
        }
    }
    outcome?;
    Ok(w.stats)
}

fn run_op(w: &mut World, op: Op, rng: &mut StdRng) -> Result<String> {
    match op {
        Op::RegisterOffline => register(w, rng, false),
        Op::RegisterOnline => register(w, rng, true),
        Op::Cancel => cancel(w, rng),
        Op::Intake => intake(w, rng),
        Op::Sync => {
            let s = rng.random_range(0..w.stations.len());
            Ok(format!("kiosk {s}: complete {}", w.sync_station(s, None)?))
        }
        Op::SyncCut => sync_cut(w, rng),
        Op::SyncAll => sync_all(w, rng),
        Op::KioskSyncKilled => kiosk_sync_killed(w, rng),
        Op::KioskBatchKilled => kiosk_batch_killed(w, rng),
        Op::ServerKilled => server_killed(w, rng),
        Op::AllotUp => allot_up(w, rng),
        Op::AllotDown => allot_down(w, rng),
        Op::EditClass => edit_capacity(w, rng),
        Op::MoveSession => move_session(w, rng),
        Op::RequestStatus => request_status(w, rng),
        Op::MergePersons => merge_persons(w, rng),
        Op::ErasePerson => erase_person(w, rng),
        Op::EraseByCommand => erase_by_command(w, rng),
        Op::RevokeReenroll => revoke_reenroll(w, rng),
    }
}

fn pick<T: Clone>(rng: &mut StdRng, items: &[T]) -> Option<T> {
    (!items.is_empty()).then(|| items[rng.random_range(0..items.len())].clone())
}

/// The form of one registration: a new person, a twin of someone registered at another
/// kiosk of the branch (the office will see a possible duplicate), or a returning
/// resident with their code.
fn registration_form(w: &mut World, rng: &mut StdRng, s: usize, class: &str) -> RegistrationForm {
    let branch = w.stations[s].branch;
    let known: Vec<usize> = (0..w.model.persons.len())
        .filter(|p| w.model.persons[*p].branch == branch && !w.model.persons[*p].erased)
        .collect();
    let roll = rng.random_range(0..100);
    let (names, code) = match pick(rng, &known) {
        Some(p) if roll < 15 => {
            let q = &w.model.persons[p];
            ((q.given.clone(), q.family.clone(), q.birth_year), None)
        }
        Some(p) if roll < 30 => {
            let q = &w.model.persons[p];
            (
                (q.given.clone(), q.family.clone(), q.birth_year),
                Some(q.code.clone()),
            )
        }
        _ => (w.new_names(), None),
    };
    RegistrationForm {
        class_id: class.to_owned(),
        given_name: names.0,
        family_name: names.1,
        birth_year: names.2,
        consent: true,
        resident_code: code,
        ..RegistrationForm::default()
    }
}

/// Refusals a kiosk gives for a registration, which change nothing.
fn registration_refused(e: &KioskError) -> bool {
    matches!(
        e,
        KioskError::ClassFull { .. }
            | KioskError::AlreadyRegistered { .. }
            | KioskError::UnknownResidentCode(_)
            | KioskError::PersonalDataNotHere
            | KioskError::DetailsRequested
            | KioskError::ResidentDetailsMismatch
    )
}

fn register(w: &mut World, rng: &mut StdRng, online: bool) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    register_at(w, rng, s, online)
}

fn register_at(w: &mut World, rng: &mut StdRng, s: usize, online: bool) -> Result<String> {
    let class = pick(rng, &w.classes_of(w.stations[s].branch)).context("a class")?;
    let form = registration_form(w, rng, s, &class);
    let names = (
        form.given_name.clone(),
        form.family_name.clone(),
        form.birth_year,
    );
    let pending_before = lock(w.kiosk(s)?).status()?.pending_changes;
    // The kiosk's own path: a registration that waits, or finds the class full here,
    // asks the server's pool at once; offline (the proxy closes every connection) it
    // stays waiting or is withdrawn. Some offline registrations skip the question, as a
    // kiosk that does not sync would.
    let direct = !online && rng.random_range(0..2) == 0;
    let outcome = if direct {
        lock(w.kiosk(s)?).register(&form)
    } else {
        if !online {
            w.proxy.set_plan(|| Fault::CloseAtOnce);
        }
        let outcome = blisko_kiosk::sync::register(w.kiosk(s)?, &form);
        w.proxy.pass_all();
        outcome
    };
    let said = match outcome {
        Ok(r) => {
            let said = format!("{} {} {:?}", r.registration_id, r.status, r.position);
            w.record_receipt(
                s,
                &ReceiptFields {
                    registration_id: Some(r.registration_id.to_string()),
                    person_id: r.person_id.to_string(),
                    resident_code: r.resident_code.clone(),
                    class_id: Some(r.class_id.to_string()),
                    status: r.status.to_string(),
                },
                names,
            );
            said
        }
        Err(e) if registration_refused(&e) => {
            w.stats.refused += 1;
            // A registration withdrawn after the pool said no leaves its cancellation.
            let withdrawn = !direct && matches!(e, KioskError::ClassFull { .. });
            ensure!(
                withdrawn || lock(w.kiosk(s)?).status()?.pending_changes == pending_before,
                "a refused registration ({e}) changed nothing"
            );
            format!("refused: {}", e.code())
        }
        Err(e) => return Err(e).context("register"),
    };
    let said = format!("{}{said}", if direct { "direct " } else { "" });
    let synced = if online {
        format!(", synced {}", w.sync_station(s, None)?)
    } else {
        String::new()
    };
    Ok(format!("kiosk {s} class {class}: {said}{synced}"))
}

fn cancel(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    let branch = w.stations[s].branch;
    let open: Vec<String> = w
        .model
        .regs
        .iter()
        .filter(|(id, r)| {
            w.stations[r.station].branch == branch && !w.model.cancelled.contains_key(*id)
        })
        .map(|(id, _)| id.clone())
        .collect();
    let Some(id) = pick(rng, &open) else {
        return Ok("nothing to cancel".into());
    };
    let outcome = lock(w.kiosk(s)?).cancel(&id);
    match outcome {
        Ok(r) => {
            w.model.cancelled.insert(id.clone(), s);
            let synced = if rng.random_range(0..2) == 0 {
                format!(", synced {}", w.sync_station(s, None)?)
            } else {
                String::new()
            };
            Ok(format!(
                "kiosk {s}: {id} cancelled, promoted {:?}{synced}",
                r.promoted
            ))
        }
        // Not synced to this kiosk yet: nothing happened.
        Err(KioskError::UnknownRegistration(_)) => Ok(format!("kiosk {s}: {id} not here yet")),
        Err(e) => Err(e).context(format!("cancel {id} at kiosk {s}")),
    }
}

fn intake(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    let branch = w.stations[s].branch;
    let Some(service) = pick(rng, &w.services[branch]) else {
        return Ok("no service".into());
    };
    let reg = registration_form(w, rng, s, "");
    let form = IntakeForm {
        service_id: service,
        given_name: reg.given_name.clone(),
        family_name: reg.family_name.clone(),
        birth_year: reg.birth_year,
        description: "Proszę o kontakt w sprawie pomocy.".into(),
        declaration: true,
        consent: true,
        resident_code: reg.resident_code.clone(),
        ..IntakeForm::default()
    };
    let outcome = lock(w.kiosk(s)?).submit_intake(&form);
    match outcome {
        Ok(r) => {
            w.record_receipt(
                s,
                &ReceiptFields {
                    registration_id: None,
                    person_id: r.person_id.to_string(),
                    resident_code: r.resident_code.clone(),
                    class_id: None,
                    status: r.status.clone(),
                },
                (reg.given_name, reg.family_name, reg.birth_year),
            );
            let person = w
                .model
                .person_by_id(&r.person_id.to_string())
                .context("recorded")?;
            w.model.requests.push(Request {
                id: r.request_id.to_string(),
                reference: r.reference.clone(),
                person,
                branch,
                status: None,
            });
            let online = rng.random_range(0..2) == 0;
            let synced = if online {
                format!(", synced {}", w.sync_station(s, None)?)
            } else {
                String::new()
            };
            Ok(format!("kiosk {s}: request {}{synced}", r.reference))
        }
        Err(e) if registration_refused(&e) => {
            w.stats.refused += 1;
            Ok(format!("kiosk {s}: refused {}", e.code()))
        }
        Err(e) => Err(e).context("intake"),
    }
}

fn random_fault(rng: &mut StdRng) -> Fault {
    match rng.random_range(0..6) {
        0 => Fault::CutResponse(rng.random_range(0..3000)),
        1 => Fault::CutRequest(rng.random_range(0..3000)),
        2 => Fault::Reset(rng.random_range(0..3000)),
        3 => Fault::CloseAtOnce,
        4 => Fault::DropRequest(Duration::from_millis(rng.random_range(0..100))),
        _ => Fault::Duplicate,
    }
}

fn sync_cut(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    let fault = random_fault(rng);
    let complete = w.sync_station(s, Some(fault))?;
    Ok(format!("kiosk {s} {fault:?}: complete {complete}"))
}

fn sync_all(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let mut order: Vec<usize> = (0..w.stations.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    for s in &order {
        w.sync_station(*s, None)?;
    }
    Ok(format!("order {order:?}"))
}

/// Everything kiosk `s` acknowledged is in its store, in its state.
fn check_held(w: &World, s: usize) -> Result<()> {
    let k = lock(w.kiosk(s)?);
    let status = |id: &str, class: &str| -> Result<Option<String>> {
        Ok(k.roster(class)?
            .into_iter()
            .find(|row| row.registration_id.to_string() == id)
            .map(|row| row.status.to_string()))
    };
    for (id, r) in w.model.regs.iter().filter(|(_, r)| r.station == s) {
        status(id, &r.class)?
            .with_context(|| format!("kiosk {s} lost acknowledged registration {id}"))?;
    }
    for (id, _) in w.model.cancelled.iter().filter(|(_, at)| **at == s) {
        let class = &w.model.regs.get(id).context("a known registration")?.class;
        ensure!(
            status(id, class)?.as_deref() == Some("cancelled"),
            "kiosk {s} lost the cancellation of {id}"
        );
    }
    Ok(())
}

/// `blisko-kiosk sync` killed with SIGKILL at a random moment, then the store reopened.
fn kiosk_sync_killed(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    w.close(s);
    let dir = w.stations[s].dir.clone();
    let started = Instant::now();
    let mut child = kiosk_command(&dir)
        .arg("sync")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start blisko-kiosk sync")?;
    let said = match w.kill_within {
        None => {
            let status = child.wait()?;
            w.kill_within = Some(started.elapsed());
            format!("whole sync: {status}")
        }
        Some(limit) => {
            let delay = rng.random_range(Duration::ZERO..=limit * 6 / 5);
            std::thread::sleep(delay);
            // SIGKILL; an error only means the sync had already ended.
            let _ = child.kill();
            let status = child.wait()?;
            if status.success() {
                w.kill_within = Some(started.elapsed());
            }
            format!("killed after {delay:?}: {status}")
        }
    };
    w.reopen(s)?;
    {
        let mut k = lock(w.kiosk(s)?);
        ensure!(
            k.store().integrity_check()? == "ok",
            "kiosk {s}'s store after the kill"
        );
        let problems = k.verify()?;
        ensure!(
            problems.is_empty(),
            "kiosk {s} after the kill: {problems:?}"
        );
    }
    check_held(w, s)?;
    Ok(format!("kiosk {s}: {said}"))
}

/// `blisko-kiosk batch` of registrations killed with SIGKILL after some of its
/// acknowledgements: every acknowledged one is kept.
fn kiosk_batch_killed(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    let classes = w.classes_of(w.stations[s].branch);
    let lines = rng.random_range(1..=5);
    let mut forms = Vec::new();
    for _ in 0..lines {
        let class = pick(rng, &classes).context("a class")?;
        let mut form = registration_form(w, rng, s, &class);
        // A returning resident's code may not be known here; a new person is.
        if form.resident_code.is_some() {
            let (g, f, y) = w.new_names();
            form = RegistrationForm {
                given_name: g,
                family_name: f,
                birth_year: y,
                resident_code: None,
                ..form
            };
        }
        forms.push(form);
    }
    let wanted = rng.random_range(0..=lines);
    w.close(s);
    let dir = w.stations[s].dir.clone();
    let mut child = kiosk_command(&dir)
        .args(["--json", "batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("start blisko-kiosk batch")?;
    // Stdin stays open until the kill: the batch waits for more lines.
    let mut stdin = child.stdin.take().context("stdin")?;
    for f in &forms {
        let line = serde_json::json!({ "register": {
            "class": f.class_id, "given": f.given_name, "family": f.family_name,
            "birth_year": f.birth_year, "consent": true,
        }});
        writeln!(stdin, "{line}")?;
    }
    let stdout = child.stdout.take().context("stdout")?;
    let mut reader = BufReader::new(stdout);
    let mut acked = Vec::new();
    let mut answered = 0;
    while answered < wanted {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        answered += 1;
        let v: Value = serde_json::from_str(&line).context("an acknowledgement line")?;
        let n = v["line"].as_u64().context("line number")? as usize;
        if let Some(ok) = v.get("ok") {
            acked.push((n, ok.clone()));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(stdin);
    for (n, ack) in &acked {
        let f = &forms[n - 1];
        let text = |k: &str| ack[k].as_str().map(str::to_owned).context("receipt field");
        w.record_receipt(
            s,
            &ReceiptFields {
                registration_id: Some(text("registration_id")?),
                person_id: text("person_id")?,
                resident_code: text("resident_code")?,
                class_id: Some(text("class_id")?),
                status: text("status")?,
            },
            (f.given_name.clone(), f.family_name.clone(), f.birth_year),
        );
    }
    w.reopen(s)?;
    check_held(w, s)?;
    Ok(format!(
        "kiosk {s}: {lines} lines, killed after {answered} answers, {} acknowledged",
        acked.len()
    ))
}

/// The server killed with SIGKILL while a kiosk syncs through the proxy, then restarted
/// on the same address.
fn server_killed(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    let delay = Duration::from_millis(rng.random_range(0..150));
    let seen = w.proxy.connections();
    let outcome = {
        let kiosk = w.stations[s].kiosk.as_ref().context("open")?;
        let proxy = &w.proxy;
        let server = &mut w.server;
        std::thread::scope(|scope| {
            let syncing = scope.spawn(|| sync(kiosk));
            let connected = proxy.wait_for_connection(seen);
            std::thread::sleep(delay);
            server.kill();
            let result = syncing.join().expect("the sync thread");
            connected.map(|()| result)
        })?
    };
    let said = match outcome {
        Ok(_) => "the sync finished first".to_owned(),
        Err(e) if transient(&e) => {
            w.stats.syncs_broken += 1;
            "the sync broke".to_owned()
        }
        Err(e) => return Err(e.context("a killed server must be a transient failure")),
    };
    w.server = ServerProcess::start_on(&w.data, w.server.addr, true)?;
    // SQLite's files are checked; PostgreSQL's are its own, and it was not killed.
    if w.server.backend() == Backend::Sqlite {
        ensure!(
            server_integrity(&w.data)? == "ok",
            "the server's database after the kill"
        );
    }
    Ok(format!("during kiosk {s}'s sync after {delay:?}: {said}"))
}

/// `blisko-server allot`; on a refusal (exit code 2) nothing changed.
fn allot_cli(w: &mut World, class: usize, s: usize, seats: u32) -> Result<bool> {
    let c = w.model.classes[class].clone();
    let before = w.all_heads()?;
    let seats_text = seats.to_string();
    let kiosk = w.stations[s].id.clone();
    let (code, _, stderr) = w.admin_raw(&[
        "allot",
        "--class",
        &c.id,
        "--kiosk",
        &kiosk,
        "--seats",
        &seats_text,
    ])?;
    match code {
        0 => {
            w.model.classes[class].allotments.insert(s, seats);
            Ok(true)
        }
        2 => {
            w.stats.refused += 1;
            ensure!(!stderr.trim().is_empty(), "the refusal says why");
            ensure!(
                w.all_heads()? == before,
                "a refused allotment changed a document: {stderr}"
            );
            Ok(false)
        }
        _ => bail!("blisko-server allot failed with {code}: {stderr}"),
    }
}

fn pick_allotment(w: &World, rng: &mut StdRng) -> (usize, usize) {
    let class = rng.random_range(0..w.model.classes.len());
    let branch = w.model.classes[class].branch;
    let s = pick(rng, &w.of_branch(branch)).unwrap_or(0);
    (class, s)
}

fn allot_up(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let (class, s) = pick_allotment(w, rng);
    let c = w.model.classes[class].clone();
    let current = c.allotments.get(&s).copied().unwrap_or(0);
    // Any raise: one the pool cannot cover is refused and must change nothing.
    let seats = current + rng.random_range(1..=4);
    let done = allot_cli(w, class, s, seats)?;
    Ok(format!(
        "class {} kiosk {s}: {current} -> {seats}: {}",
        c.id,
        if done { "set" } else { "refused" }
    ))
}

fn allot_down(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let (class, s) = pick_allotment(w, rng);
    let c = w.model.classes[class].clone();
    let current = c.allotments.get(&s).copied().unwrap_or(0);
    if current == 0 {
        return Ok(format!("class {} kiosk {s}: nothing allotted", c.id));
    }
    // Any cut, whatever the kiosk holds unsent: it stays reserved until the kiosk syncs.
    let seats = rng.random_range(0..current);
    let done = allot_cli(w, class, s, seats)?;
    ensure!(done, "an allotment decrease is always taken");
    Ok(format!("class {} kiosk {s}: {current} -> {seats}", c.id))
}

fn edit_capacity(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let class = rng.random_range(0..w.model.classes.len());
    let c = w.model.classes[class].clone();
    let allotted: u32 = c.allotments.values().sum();
    let waitlist = if rng.random_range(0..5) == 0 {
        0
    } else {
        rng.random_range(1..=4)
    };
    let invalid = allotted > 1 && rng.random_range(0..5) == 0;
    let capacity = if invalid {
        // Below the allotments: refused.
        rng.random_range(1..allotted)
    } else {
        // Below the confirmed count too: the excess becomes compensation tasks.
        rng.random_range(allotted.max(1)..=MAX_CAPACITY.max(allotted))
    };
    let before = w.all_heads()?;
    let (mut status, mut body) = edit_class(w, &c, capacity, waitlist, false)?;
    if status == 200 && body.contains("name=\"accept_over\"") {
        // Below the confirmed count the office is asked first; nothing changes until
        // it confirms, which it does.
        ensure!(
            w.all_heads()? == before,
            "a class edit waiting for its confirmation changed a document"
        );
        (status, body) = edit_class(w, &c, capacity, waitlist, true)?;
    }
    match status {
        303 => {
            ensure!(
                !invalid,
                "capacity {capacity} below the allotments {allotted} was taken"
            );
            w.model.classes[class].capacity = capacity;
            w.model.classes[class].waitlist_limit = waitlist;
            Ok(format!(
                "class {}: capacity {} -> {capacity}, waiting {waitlist}",
                c.id, c.capacity
            ))
        }
        400 if invalid => {
            w.stats.refused += 1;
            ensure!(
                w.all_heads()? == before,
                "a refused class edit changed a document"
            );
            Ok(format!("class {}: capacity {capacity} refused", c.id))
        }
        _ => bail!("edit class {}: {status}: {body}", c.id),
    }
}

fn move_session(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let ids: Vec<String> = w.model.sessions.keys().cloned().collect();
    let Some(id) = pick(rng, &ids) else {
        return Ok("no session".into());
    };
    let session = w.model.sessions[&id].clone();
    let today = local_date(system_clock()());
    let date = today
        .checked_add(jiff::Span::new().days(rng.random_range(1..20)))?
        .to_string();
    let start = format!(
        "{:02}:{:02}",
        rng.random_range(8..18),
        [0, 15, 30, 45][rng.random_range(0..4)]
    );
    let minutes = [45u32, 60, 90][rng.random_range(0..3)];
    let minutes_text = minutes.to_string();
    let (status, body) = w.office_post(
        &format!("/office/classes/{}/sessions", session.class),
        &[
            ("session", id.as_str()),
            ("date", date.as_str()),
            ("start", start.as_str()),
            ("minutes", minutes_text.as_str()),
            // Past the warnings (a past day, a holiday): the model moves on purpose.
            ("confirm", "1"),
        ],
    )?;
    ensure!(status == 303, "move session {id}: {status}: {body}");
    let m = w.model.sessions.get_mut(&id).context("session")?;
    (m.date, m.start, m.minutes) = (date.clone(), start.clone(), minutes);
    Ok(format!("{id}: {} -> {date} {start}", session.date))
}

fn request_status(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let Some(i) = pick(rng, &(0..w.model.requests.len()).collect::<Vec<_>>()) else {
        return Ok("no request".into());
    };
    let r = w.model.requests[i].clone();
    let status = [
        "in_review",
        "accepted",
        "rejected",
        "more_information_needed",
    ][rng.random_range(0..4)];
    let before = w.all_heads()?;
    let (code, body) = w.office_post(
        &format!("/office/requests/{}", r.id),
        &[
            ("status", status),
            ("note", "Notatka modelu"),
            ("decision_reference", "CUS.1.2026"),
            ("appeal_info", "Odwołanie w terminie 14 dni."),
        ],
    )?;
    let is_final = matches!(r.status.as_deref(), Some("accepted" | "rejected"));
    match code {
        303 => {
            ensure!(
                !is_final,
                "request {}: a final decision was changed to {status}",
                r.id
            );
            w.model.requests[i].status = Some(status.to_owned());
            Ok(format!("{}: -> {status}", r.reference))
        }
        // Not on the server yet (its kiosk has not synced), or a final decision: nothing changes.
        404 | 400 => {
            ensure!(
                code == 404 || is_final,
                "request {}: {status} refused: {body}",
                r.id
            );
            w.stats.refused += 1;
            ensure!(
                w.all_heads()? == before,
                "a refused status change changed a document"
            );
            Ok(format!("{}: {status} refused ({code})", r.reference))
        }
        _ => bail!("request {} status {status}: {code}: {body}", r.id),
    }
}

fn merge_persons(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let page = w.office.page("/office/reconcile")?;
    let pairs = data_attrs(&page, "pair");
    let Some(pair) = pick(rng, &pairs) else {
        return Ok("no suggested pair".into());
    };
    let (a, b) = pair.split_once('/').context("a pair")?;
    let (status, body) = w.office_post(
        "/office/reconcile/persons",
        &[("a", a), ("b", b), ("decision", "same")],
    )?;
    ensure!(status == 303, "merge {pair}: {status}: {body}");
    if let (Some(pa), Some(pb)) = (w.model.person_by_id(a), w.model.person_by_id(b)) {
        w.model.links.entry(pa).or_default().insert(pb);
        w.model.links.entry(pb).or_default().insert(pa);
    }
    Ok(format!("merged {pair}"))
}

/// Persons the office may erase now: anyone not erased yet (erasing one of a merged
/// group erases the whole group).
fn erasable(w: &World) -> Vec<usize> {
    (0..w.model.persons.len())
        .filter(|p| !w.model.persons[*p].erased)
        .collect()
}

/// A person to erase; half the time one merged with another, when there is one.
fn pick_erasable(w: &World, rng: &mut StdRng) -> Option<usize> {
    let all = erasable(w);
    let merged: Vec<usize> = all
        .iter()
        .copied()
        .filter(|p| w.model.group(*p).len() > 1)
        .collect();
    if !merged.is_empty() && rng.random_range(0..2) == 0 {
        pick(rng, &merged)
    } else {
        pick(rng, &all)
    }
}

fn mark_erased(w: &mut World, p: usize) {
    for q in w.model.group(p) {
        w.model.persons[q].erased = true;
    }
}

fn erase_person(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let Some(p) = pick_erasable(w, rng) else {
        return Ok("no one to erase".into());
    };
    let id = w.model.persons[p].id.clone();
    let before = w.all_heads()?;
    let (status, body) = w.office_post(
        &format!("/office/persons/{id}/erase"),
        &[("confirm", "yes")],
    )?;
    match status {
        303 => {
            mark_erased(w, p);
            Ok(format!("{id} erased"))
        }
        // Not on the server yet.
        404 => {
            ensure!(
                w.all_heads()? == before,
                "a refused erasure changed a document"
            );
            Ok(format!("{id} not on the server yet"))
        }
        _ => bail!("erase {id}: {status}: {body}"),
    }
}

fn erase_by_command(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let Some(p) = pick_erasable(w, rng) else {
        return Ok("no one to erase".into());
    };
    let code = w.model.persons[p].code.clone();
    let (exit, _, stderr) = w.admin_raw(&["person", "erase", "--resident-code", &code])?;
    match exit {
        0 => {
            mark_erased(w, p);
            Ok(format!("{code} erased"))
        }
        2 => Ok(format!("{code} refused: {}", stderr.trim())),
        _ => bail!("person erase {code}: {exit}: {stderr}"),
    }
}

/// Revoke a kiosk that may hold acknowledged work the server has not seen, let it find
/// out, give it a new code for the same kiosk, and enroll its folder again.
fn revoke_reenroll(w: &mut World, rng: &mut StdRng) -> Result<String> {
    let s = rng.random_range(0..w.stations.len());
    let kiosk = w.stations[s].id.clone();
    admin(&w.data, &["kiosk", "revoke", &kiosk])?;
    // Offline work acknowledged before the kiosk learns of the revocation.
    for _ in 0..rng.random_range(0..3) {
        register_at(w, rng, s, false)?;
    }
    let refused = sync(w.kiosk(s)?);
    match refused {
        Ok(_) => bail!("a revoked kiosk synced"),
        Err(e) if transient(&e) => bail!("a revocation is not a transient failure: {e:#}"),
        Err(e) => {
            let code = e.downcast_ref::<KioskError>().map(KioskError::code);
            ensure!(
                code == Some("revoked"),
                "the sync says revoked: {code:?} {e:#}"
            );
        }
    }
    let class = pick(rng, &w.classes_of(w.stations[s].branch)).context("a class")?;
    let (g, f, y) = w.new_names();
    let after = lock(w.kiosk(s)?).register(&RegistrationForm {
        class_id: class,
        given_name: g,
        family_name: f,
        birth_year: y,
        consent: true,
        ..RegistrationForm::default()
    });
    ensure!(
        after.is_err(),
        "a kiosk that knows it is revoked takes no registration"
    );
    let reenrolled = admin(&w.data, &["kiosk", "reenroll", &kiosk])?;
    let code = reenrolled["code"]
        .as_str()
        .context("a new code")?
        .to_owned();
    w.close(s);
    let out = kiosk_command(&w.stations[s].dir)
        .args([
            "--json",
            "enroll",
            "--server",
            &w.proxy.url(),
            "--code",
            &code,
        ])
        .output()?;
    ensure!(
        out.status.success(),
        "enroll the revoked folder again: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.reopen(s)?;
    check_held(w, s)?;
    Ok(format!("kiosk {s} revoked and enrolled again"))
}

/// After each step: the seat promise, on the server and on every open kiosk.
fn check_step(w: &World) -> Result<()> {
    let compensation = w.server.admin(&["compensation"])?;
    for c in &w.model.classes {
        let roster = server_roster(&w.server, &c.id)?;
        check_seats(c, &roster, &compensation)?;
        check_promises(w, &roster, "the server")?;
    }
    for (s, st) in w.stations.iter().enumerate() {
        let Some(k) = &st.kiosk else { continue };
        for class in w.classes_of(st.branch) {
            check_promises(w, &kiosk_roster(k, &class)?, &format!("kiosk {s}"))?;
        }
    }
    Ok(())
}

/// No class has more confirmed than capacity, unless compensation tasks name exactly
/// the excess; a waiting list over its limit is named the same way.
fn check_seats(
    c: &ClassModel,
    roster: &blisko_tests::harness::Roster,
    tasks: &Value,
) -> Result<()> {
    let with = |status: &str| -> Vec<&str> {
        roster
            .iter()
            .filter(|(_, (s, _))| s == status)
            .map(|(id, _)| id.as_str())
            .collect()
    };
    let confirmed = with("confirmed");
    let tasks = tasks.as_array().context("compensation is a list")?;
    for (kind, holders, limit) in [
        ("over_capacity", confirmed, c.capacity),
        ("over_waitlist", with("waitlisted"), c.waitlist_limit),
    ] {
        let named: Vec<&str> = tasks
            .iter()
            .filter(|t| t["class_id"] == c.id.as_str() && t["kind"] == kind)
            .filter_map(|t| t["registration_id"].as_str())
            .collect();
        let excess = holders.len().saturating_sub(limit as usize);
        ensure!(
            named.len() == excess,
            "class {}: {} held of {limit}, {} {kind} task(s)",
            c.id,
            holders.len(),
            named.len()
        );
        for id in named {
            ensure!(
                holders.contains(&id),
                "{kind} task for {id}, which does not hold a place of that kind"
            );
        }
    }
    Ok(())
}

/// No registration a resident was told is confirmed waits on this replica.
fn check_promises(w: &World, roster: &blisko_tests::harness::Roster, replica: &str) -> Result<()> {
    for (id, (status, position)) in roster {
        if let Some(r) = w.model.regs.get(id) {
            ensure!(
                !(r.shown_confirmed && status == "waitlisted"),
                "{replica}: {id} was confirmed on its receipt and is now waiting (position {position:?})"
            );
        }
    }
    Ok(())
}

/// The last full sync, and everything the model promised.
fn final_check(w: &mut World) -> Result<()> {
    w.proxy.pass_all();
    for s in 0..w.stations.len() {
        if w.stations[s].kiosk.is_none() {
            w.reopen(s)?;
        }
    }
    {
        let all: Vec<&Mutex<Kiosk>> = w.stations.iter().filter_map(|s| s.kiosk.as_ref()).collect();
        sync_until_quiet(&all)?;
    }
    check_step(w)?;

    for (branch, id) in w.branches.iter().enumerate() {
        let ours: Vec<&Mutex<Kiosk>> = w
            .of_branch(branch)
            .into_iter()
            .map(|s| w.kiosk(s))
            .collect::<Result<_>>()?;
        check_replicas(&w.server, id, &ours).with_context(|| format!("branch {branch}"))?;
        let on_server = server_heads(&w.data, id)?;
        for (s, st) in w
            .stations
            .iter()
            .enumerate()
            .filter(|(_, st)| st.branch != branch)
        {
            let held = kiosk_heads(&lock(st.kiosk.as_ref().context("open")?))?;
            ensure!(
                held.keys().all(|doc| !on_server.contains_key(doc)),
                "kiosk {s} holds documents of branch {branch}"
            );
        }
        for class in w.classes_of(branch) {
            let roster = server_roster(&w.server, &class)?;
            for s in w.of_branch(branch) {
                ensure!(
                    kiosk_roster(w.kiosk(s)?, &class)? == roster,
                    "kiosk {s} projects the server's roster of {class}"
                );
            }
        }
    }

    // Every acknowledged registration and cancellation is on the server.
    let mut on_server = BTreeMap::new();
    for c in &w.model.classes {
        on_server.extend(server_roster(&w.server, &c.id)?);
    }
    for (id, r) in &w.model.regs {
        let (status, _) = on_server.get(id).with_context(|| {
            format!(
                "acknowledged registration {id} (kiosk {}) is on the server",
                r.station
            )
        })?;
        ensure!(w.model.class(&r.class)?.id == r.class);
        if w.model.cancelled.contains_key(id) {
            ensure!(
                status == "cancelled",
                "the acknowledged cancellation of {id} is on the server"
            );
        } else {
            ensure!(
                status != "cancelled",
                "{id} cancelled though no one cancelled it"
            );
            if r.shown_confirmed {
                ensure!(status == "confirmed", "confirmed {id} became {status}");
            }
        }
    }

    check_notices(w, &on_server)?;

    // Every acknowledged request is on the server, with the office's last decision, and
    // the kiosks of its branch show that decision.
    for r in &w.model.requests {
        let page = w.office.page(&format!("/office/requests/{}", r.id))?;
        if let Some(status) = &r.status {
            ensure!(
                page.contains(&format!("id=\"status\" class=\"status-{status}\"")),
                "request {} shows {status} at the office",
                r.reference
            );
        }
        let person = &w.model.persons[r.person];
        if person.erased {
            continue;
        }
        for s in w.of_branch(r.branch) {
            let seen = lock(w.kiosk(s)?).resident(&person.code)?;
            let row = seen
                .requests
                .iter()
                .find(|q| q.reference == r.reference)
                .with_context(|| format!("request {} is on kiosk {s}", r.reference))?;
            if let Some(status) = &r.status {
                ensure!(
                    row.status == *status,
                    "kiosk {s} shows {} for request {}",
                    row.status,
                    r.reference
                );
            }
        }
    }

    // The office's session moves reached the kiosks.
    for (id, m) in &w.model.sessions {
        for s in w.of_branch(m.branch) {
            let k = lock(w.kiosk(s)?);
            let found = k.store().sessions_on(&m.date)?.into_iter().any(|row| {
                row.id.to_string() == *id && row.start == m.start && row.minutes == m.minutes
            });
            ensure!(
                found,
                "kiosk {s} has session {id} on {} at {}",
                m.date,
                m.start
            );
        }
    }

    check_erasures(w)
}

/// The SMS outbox agrees with what residents were told. Someone told "waiting" whose
/// registration now holds a seat has a seat notice (when the class has a session to come);
/// someone told "confirmed" has none, or only one withdrawn as shown at the kiosk, or one
/// still held for the screen; every seat notice is about a registration in a roster;
/// each decision the office gave a request has its notice.
fn check_notices(w: &World, on_server: &BTreeMap<String, (String, Option<u32>)>) -> Result<()> {
    let notices = w.server.admin(&["notices", "--limit", "100000"])?;
    let notices = notices.as_array().context("notices is a list")?;
    let now_ms = i64::try_from(system_clock()()).unwrap_or(i64::MAX);
    let seat_notices: BTreeMap<&str, &Value> = notices
        .iter()
        .filter_map(|n| {
            let reg = n["about"].as_str()?.strip_prefix("seat_freed:")?;
            Some((reg, n))
        })
        .collect();
    let today = local_date(system_clock()()).to_string();
    for (id, r) in &w.model.regs {
        if w.model.cancelled.contains_key(id) {
            continue;
        }
        let Some((status, _)) = on_server.get(id) else {
            continue;
        };
        let notice = seat_notices.get(id.as_str());
        if r.shown_confirmed {
            if let Some(n) = notice {
                let withdrawn = n["status"] == "cancelled" && n["reason"] == "shown_at_kiosk";
                let held = n["status"] == "queued" && n["due_ms"].as_i64() > Some(now_ms);
                ensure!(
                    withdrawn || held,
                    "{id} was told confirmed at the kiosk, yet an SMS says a seat freed up: {n}"
                );
            }
        } else if status == "confirmed" {
            let upcoming = w
                .model
                .sessions
                .values()
                .any(|s| s.class == r.class && s.date > today);
            if upcoming {
                let n = notice.with_context(|| {
                    format!("{id} was told waiting, holds a seat now, and no SMS was made")
                })?;
                ensure!(
                    n["reason"] != "shown_at_kiosk",
                    "{id} was told waiting, yet its SMS was withdrawn as shown: {n}"
                );
            }
        }
    }
    for reg in seat_notices.keys() {
        ensure!(
            on_server.contains_key(*reg),
            "a seat SMS about {reg}, which is in no roster"
        );
    }
    for r in &w.model.requests {
        let Some(status) = r.status.as_deref() else {
            continue;
        };
        if !["accepted", "rejected", "more_information_needed"].contains(&status) {
            continue;
        }
        let prefix = format!("request_status:{}:{status}:", r.id);
        ensure!(
            notices
                .iter()
                .any(|n| n["about"].as_str().is_some_and(|a| a.starts_with(&prefix))),
            "request {} became {status} and no SMS was made",
            r.reference
        );
    }
    Ok(())
}

/// No file, page, export or kiosk view holds an erased person's name.
fn check_erasures(w: &World) -> Result<()> {
    let erased: Vec<&Person> = w.model.persons.iter().filter(|p| p.erased).collect();
    if erased.is_empty() {
        return Ok(());
    }
    // A name also worn by someone not erased (a twin the office did not merge) is no
    // evidence: search only names all of whose holders are erased.
    let needles: BTreeSet<String> = erased
        .iter()
        .flat_map(|p| [p.given.clone(), p.family.clone()])
        .filter(|name| {
            w.model
                .persons
                .iter()
                .filter(|q| q.given == *name || q.family == *name)
                .all(|q| q.erased)
        })
        .collect();
    let search = |what: &str, bytes: &[u8]| -> Result<()> {
        for n in &needles {
            ensure!(
                !bytes.windows(n.len()).any(|win| win == n.as_bytes()),
                "{what} holds the erased name {n}"
            );
        }
        Ok(())
    };

    let mut files = Vec::new();
    // A server on PostgreSQL may have left no file in its data folder.
    if w.data.exists() {
        collect_files(&w.data, &mut files)?;
    }
    for st in &w.stations {
        collect_files(&st.dir, &mut files)?;
    }
    for f in &files {
        search(&f.display().to_string(), &std::fs::read(f)?)?;
    }
    // On PostgreSQL the store is no file of the folder: every row of it, as text (its
    // text columns as they are; bytes in hex, which no name is searched in).
    if let Some(database) = database_of(&w.data)? {
        for (table, row) in database.rows_as_text(&["main", "personal"])? {
            search(&format!("a row of {table}"), row.as_bytes())?;
        }
    }
    for (s, st) in w.stations.iter().enumerate() {
        let out = w.tmp.join(format!("plain-{s}.sqlite3"));
        let _ = std::fs::remove_file(&out);
        kiosk_plain_copy(&st.dir, &out)?;
        search(&format!("kiosk {s}, decrypted"), &std::fs::read(&out)?)?;
    }

    let mut pages = vec![
        "/office/requests".to_owned(),
        "/office/export/requests".to_owned(),
    ];
    for c in &w.model.classes {
        pages.push(format!("/office/classes/{}", c.id));
        pages.push(format!("/office/export/roster/{}", c.id));
        pages.push(format!("/office/export/attendance/{}", c.id));
    }
    for p in &erased {
        pages.push(format!("/office/persons/{}", p.id));
        if needles.contains(&p.family) {
            pages.push(format!("/office/persons?q={}", p.family));
        }
    }
    for path in &pages {
        let response = w.office.get(path)?;
        let status = response.status().as_u16();
        let mut text = response.text()?;
        ensure!(status == 200 || status == 404, "GET {path}: {status}");
        // The search form shows what was searched for; the results must not.
        if let Some((_, q)) = path.split_once("?q=") {
            text = text.replace(&format!("value=\"{q}\""), "");
        }
        search(&format!("page {path}"), text.as_bytes())?;
    }

    for p in &erased {
        for s in w.of_branch(p.branch) {
            let k = lock(w.kiosk(s)?);
            match k.resident(&p.code) {
                Ok(view) => ensure!(
                    view.given_name.is_empty() || !needles.contains(&view.given_name),
                    "kiosk {s} shows erased {}",
                    p.id
                ),
                Err(KioskError::PersonalDataNotHere | KioskError::UnknownResidentCode(_)) => {}
                Err(e) => return Err(e).context(format!("kiosk {s}: resident {}", p.code)),
            }
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
