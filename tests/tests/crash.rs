//! The kiosk as a process, killed with SIGKILL: right after it printed an acknowledgement,
//! and at random moments of a running batch. After every kill the data folder is reopened
//! and every acknowledged record must be there, and the database must be consistent.
//!
//! Runs are seeded; the seed, the iteration and the data folder are printed on failure
//! (the folder is kept). `BLISKO_CRASH_SEED` replays another seed.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use blisko_tests::kiosk_cli::{kiosk, kiosk_command, kiosk_json, text};

const SEED: u64 = 0x00B1_15C0_2026_0001;
/// Iterations on one data folder before a fresh kiosk is set up: the kiosk reopens and
/// goes on writing after each kill, and the small demo classes do not fill up for good.
const ITERATIONS_PER_FOLDER: usize = 5;
/// Lines written ahead of the acknowledgements read: the kiosk always has work queued,
/// and cancellations can name registrations acknowledged moments before.
const WINDOW: usize = 3;

// ----- a small seeded generator (splitmix64) -----

#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.range(1, 100) <= percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

fn seed() -> u64 {
    match std::env::var("BLISKO_CRASH_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.expect("BLISKO_CRASH_SEED is a number")
        }
        Err(_) => SEED,
    }
}

/// Prints what is needed to replay a failure, and keeps the data folder.
struct FailureReport {
    test: &'static str,
    seed: u64,
    iteration: usize,
    folder: Option<tempfile::TempDir>,
}

impl Drop for FailureReport {
    fn drop(&mut self) {
        if thread::panicking() {
            let kept = self.folder.take().map(|d| d.keep());
            eprintln!(
                "{} failed: seed {:#x} (BLISKO_CRASH_SEED={:#x}), iteration {}, data folder kept at {:?}",
                self.test, self.seed, self.seed, self.iteration, kept
            );
        }
    }
}

#[derive(Debug, Clone)]
struct ClassInfo {
    id: String,
    capacity: u64,
    waitlist_limit: u64,
}

/// What the kiosk acknowledged in one data folder, over all its kills.
struct Ledger {
    dir: PathBuf,
    classes: Vec<ClassInfo>,
    services: Vec<String>,
    /// A returning resident most intake requests are made for.
    regular_code: String,
    /// Acknowledged registrations: id -> class id.
    registrations: HashMap<String, String>,
    /// Registrations a cancellation was sent for (acknowledged or not).
    cancel_sent: HashSet<String>,
    /// Registrations whose cancellation was acknowledged.
    cancel_acked: HashSet<String>,
    /// Acknowledged intake requests: reference -> resident code.
    intakes: HashMap<String, String>,
    /// Resident codes of acknowledged actions not checked yet.
    unchecked_codes: HashSet<String>,
    kills: u64,
}

impl Ledger {
    fn set_up(dir: &Path) -> Ledger {
        kiosk_json(dir, &["demo", "--branch", "MAL"]);
        let classes = kiosk_json(dir, &["classes"])
            .as_array()
            .expect("a list of classes")
            .iter()
            .map(|c| ClassInfo {
                id: text(c, "id"),
                capacity: c["capacity"].as_u64().expect("capacity"),
                waitlist_limit: c["waitlist_limit"].as_u64().expect("waitlist limit"),
            })
            .collect::<Vec<_>>();
        let services = kiosk_json(dir, &["services"])
            .as_array()
            .expect("a list of services")
            .iter()
            .filter(|s| s["requires_pesel"] == json!(false))
            .map(|s| text(s, "id"))
            .collect::<Vec<_>>();
        assert!(!classes.is_empty() && !services.is_empty());
        let first = kiosk_json(
            dir,
            &[
                "intake",
                "--service",
                &services[0],
                "--given",
                "Halina",
                "--family",
                "Stała",
                "--birth-year",
                "1948",
                "--description",
                "Proszę o kontakt w sprawie wsparcia.",
                "--declaration",
                "--consent",
            ],
        );
        let regular_code = text(&first, "resident_code");
        let mut intakes = HashMap::new();
        intakes.insert(text(&first, "reference"), regular_code.clone());
        Ledger {
            dir: dir.to_owned(),
            classes,
            services,
            regular_code,
            registrations: HashMap::new(),
            cancel_sent: HashSet::new(),
            cancel_acked: HashSet::new(),
            intakes,
            unchecked_codes: HashSet::new(),
            kills: 0,
        }
    }
}

// ----- one batch, killed -----

/// When to kill the batch.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// Right after reading this many acknowledgements.
    AfterAcks(usize),
    /// After this long, whatever the kiosk is doing.
    After(Duration),
}

/// What the reader tells the writer: one more line was answered, and the registration it
/// acknowledged, if any.
type Answered = Option<String>;

const GIVEN: &[&str] = &[
    "Anna",
    "Zofia",
    "Łucja",
    "Krystyna",
    "Jan",
    "Stanisław",
    "Grażyna",
    "Józef",
];
const FAMILY: &[&str] = &[
    "Kowalska",
    "Nowak",
    "Wiśniewska",
    "Żak",
    "Lewandowski",
    "Zając",
    "Dąbrowski",
];

/// Feed the batch: one JSON line at a time, at most `WINDOW` lines ahead of the answers.
/// Returns every line written, in order (line numbers start at 1).
fn write_items(
    mut stdin: ChildStdin,
    mut rng: Rng,
    ledger_view: (Vec<ClassInfo>, Vec<String>, String, Vec<String>),
    answered: mpsc::Receiver<Answered>,
    max_items: usize,
) -> Vec<Value> {
    let (classes, services, regular_code, mut cancellable) = ledger_view;
    let mut written: Vec<Value> = Vec::new();
    let mut answers = 0usize;
    while written.len() < max_items {
        while written.len() >= answers + WINDOW {
            match answered.recv() {
                Ok(reg) => {
                    answers += 1;
                    cancellable.extend(reg);
                }
                Err(_) => return written,
            }
        }
        while let Ok(reg) = answered.try_recv() {
            answers += 1;
            cancellable.extend(reg);
        }
        let roll = rng.range(1, 100);
        let item = if roll <= 12 && !cancellable.is_empty() {
            let i = rng.range(0, cancellable.len() as u64 - 1) as usize;
            let id = cancellable.swap_remove(i);
            json!({ "cancel": { "registration": id } })
        } else if roll <= 65 {
            json!({ "register": {
                "class": rng.pick(&classes).id,
                "given": rng.pick(GIVEN),
                "family": rng.pick(FAMILY),
                "birth_year": rng.range(1935, 2005),
                "consent": true,
            }})
        } else {
            let mut intake = json!({
                "service": rng.pick(&services),
                "given": rng.pick(GIVEN),
                "family": rng.pick(FAMILY),
                "birth_year": rng.range(1935, 2005),
                "description": "Proszę o pomoc w codziennych sprawach.",
                "declaration": true,
                "consent": true,
            });
            if rng.chance(70) {
                // A returning resident: the code comes with the details it was given for.
                intake["resident_code"] = json!(regular_code);
                intake["given"] = json!("Halina");
                intake["family"] = json!("Stała");
                intake["birth_year"] = json!(1948);
            }
            json!({ "intake": intake })
        };
        // Recorded before it is written: once in the pipe, the kiosk may act on it.
        written.push(item.clone());
        if writeln!(stdin, "{item}")
            .and_then(|_| stdin.flush())
            .is_err()
        {
            break;
        }
    }
    written
}

struct BatchRun {
    written: Vec<Value>,
    /// Complete lines the kiosk printed before it died.
    printed: Vec<Value>,
    status: ExitStatus,
    stderr: String,
}

/// Run one batch of at most `max_items` lines and kill it.
fn run_killed_batch(ledger: &Ledger, rng: &mut Rng, kill: Kill, max_items: usize) -> BatchRun {
    let stderr_path = ledger.dir.join("batch-stderr.txt");
    let mut child: Child = kiosk_command(&ledger.dir)
        .args(["--json", "batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).expect("create a stderr file"))
        .spawn()
        .expect("start the kiosk");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");

    let (to_writer, from_reader) = mpsc::channel::<Answered>();
    let (to_main, acks) = mpsc::channel::<()>();
    let cancellable: Vec<String> = ledger
        .registrations
        .keys()
        .filter(|id| !ledger.cancel_sent.contains(*id))
        .cloned()
        .collect();
    let view = (
        ledger.classes.clone(),
        ledger.services.clone(),
        ledger.regular_code.clone(),
        cancellable,
    );
    let writer_rng = Rng(rng.next_u64());
    let writer =
        thread::spawn(move || write_items(stdin, writer_rng, view, from_reader, max_items));
    let reader = thread::spawn(move || {
        let mut printed = Vec::new();
        let mut reader = BufReader::new(stdout);
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if !line.ends_with('\n') => break, // cut short: not acknowledged
                Ok(_) => {}
            }
            let value: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("the kiosk printed a line that is not JSON ({e}): {line:?}")
            });
            let registration = value["ok"]["class_id"]
                .is_string()
                .then(|| text(&value["ok"], "registration_id"));
            let _ = to_writer.send(registration);
            if value.get("ok").is_some() {
                let _ = to_main.send(());
            }
            printed.push(value);
        }
        printed
    });

    match kill {
        Kill::AfterAcks(n) => {
            for _ in 0..n {
                if acks.recv().is_err() {
                    break; // the batch ended on its own
                }
            }
        }
        Kill::After(d) => thread::sleep(d),
    }
    // SIGKILL; an error only means the kiosk had already exited.
    let _ = child.kill();
    let status = child.wait().expect("wait for the kiosk");
    let printed = reader.join().expect("the reader thread");
    let written = writer.join().expect("the writer thread");
    BatchRun {
        written,
        printed,
        status,
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

/// Take what a killed batch printed into the ledger. Every printed line is an
/// acknowledgement of a committed action, whether it was read before the kill or after.
fn record(ledger: &mut Ledger, run: &BatchRun) {
    for item in &run.written {
        if let Some(id) = item["cancel"]["registration"].as_str() {
            ledger.cancel_sent.insert(id.to_owned());
        }
    }
    let mut lines_seen = HashSet::new();
    for out in &run.printed {
        let line = out["line"].as_u64().expect("a line number") as usize;
        assert!(lines_seen.insert(line), "line {line} answered twice");
        let item = run
            .written
            .get(line - 1)
            .unwrap_or_else(|| panic!("answer to line {line}, which was never written: {out}"));
        if let Some(error) = out.get("error") {
            let code = error["code"].as_str().unwrap_or_default();
            // The only refusal the stream can meet: a class and its waiting list are full.
            assert!(
                item.get("register").is_some() && code == "class_full",
                "line {line} {item} was refused: {out}\nkiosk stderr: {}",
                run.stderr
            );
            continue;
        }
        let ack = &out["ok"];
        if let Some(reg) = item.get("register") {
            let id = text(ack, "registration_id");
            assert_eq!(ack["class_id"], reg["class"], "registered in another class");
            let status = text(ack, "status");
            assert!(
                matches!(status.as_str(), "confirmed" | "waitlisted"),
                "a new registration is {status}"
            );
            let before = ledger
                .registrations
                .insert(id.clone(), text(ack, "class_id"));
            assert!(before.is_none(), "registration id {id} acknowledged twice");
            ledger.unchecked_codes.insert(text(ack, "resident_code"));
        } else if let Some(intake) = item.get("intake") {
            let reference = text(ack, "reference");
            let code = text(ack, "resident_code");
            if let Some(asked) = intake["resident_code"].as_str() {
                assert_eq!(asked, code, "intake filed for another resident");
            }
            let before = ledger.intakes.insert(reference.clone(), code.clone());
            assert!(before.is_none(), "reference {reference} issued twice");
            ledger.unchecked_codes.insert(code);
        } else if let Some(cancel) = item.get("cancel") {
            assert_eq!(ack["registration_id"], cancel["registration"]);
            assert_eq!(text(ack, "status"), "cancelled");
            ledger.cancel_acked.insert(text(ack, "registration_id"));
        } else {
            panic!("unexpected item {item}");
        }
    }
    ledger.kills += 1;
}

// ----- after a kill -----

/// Reopen the killed kiosk and check that everything acknowledged is there.
fn verify(ledger: &mut Ledger) {
    let dir = ledger.dir.clone();
    let check = kiosk(&dir, &["check"]);
    assert!(
        check.status.success(),
        "check failed after a kill ({}): {}{}",
        check.status,
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    // Registrations: every acknowledged one is in its class's roster with a state.
    let mut states: HashMap<String, (String, String)> = HashMap::new();
    for class in &ledger.classes {
        let rows = kiosk_json(&dir, &["roster", "--class", &class.id]);
        let rows = rows.as_array().expect("roster rows");
        let mut confirmed = 0;
        let mut positions = Vec::new();
        for row in rows {
            let id = text(row, "registration_id");
            let status = text(row, "status");
            match status.as_str() {
                "confirmed" => confirmed += 1,
                "waitlisted" => positions.push(row["position"].as_u64().expect("a position")),
                "cancelled" => {}
                other => panic!("registration {id} has an unknown state {other:?}"),
            }
            let before = states.insert(id.clone(), (class.id.clone(), status));
            assert!(before.is_none(), "registration {id} listed twice");
        }
        assert!(confirmed <= class.capacity, "class {} overbooked", class.id);
        positions.sort_unstable();
        let expected: Vec<u64> = (1..=positions.len() as u64).collect();
        assert_eq!(positions, expected, "waiting list of {} has gaps", class.id);
        assert!(positions.len() as u64 <= class.waitlist_limit);
    }
    for (id, class) in &ledger.registrations {
        let (found_class, status) = states
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged registration {id} is lost"));
        assert_eq!(found_class, class, "registration {id} moved class");
        if ledger.cancel_acked.contains(id) {
            assert_eq!(
                status, "cancelled",
                "acknowledged cancellation of {id} is lost"
            );
        } else if status == "cancelled" {
            assert!(
                ledger.cancel_sent.contains(id),
                "registration {id} is cancelled though no one cancelled it"
            );
        }
    }
    // At most one action per kill was committed and not acknowledged.
    let unacknowledged = states
        .keys()
        .filter(|id| !ledger.registrations.contains_key(*id))
        .count() as u64;
    assert!(
        unacknowledged <= ledger.kills,
        "{unacknowledged} registrations nobody acknowledged after {} kills",
        ledger.kills
    );

    // Intake requests: every acknowledged reference is among its resident's requests.
    let mut codes: Vec<String> = ledger.unchecked_codes.drain().collect();
    codes.push(ledger.regular_code.clone());
    codes.sort();
    codes.dedup();
    let mut referenced = HashSet::new();
    for code in &codes {
        let overview = kiosk_json(&dir, &["requests", "--resident-code", code]);
        for r in overview["requests"].as_array().expect("requests") {
            referenced.insert(text(r, "reference"));
        }
    }
    for (reference, code) in &ledger.intakes {
        if codes.contains(code) {
            assert!(
                referenced.contains(reference),
                "acknowledged request {reference} of resident {code} is lost"
            );
        }
    }
    let status = kiosk_json(&dir, &["status"]);
    let stored = status["counts"]["intake_requests"].as_u64().expect("count");
    let acked = ledger.intakes.len() as u64;
    assert!(
        stored >= acked && stored <= acked + ledger.kills,
        "{stored} requests stored, {acked} acknowledged, {} kills",
        ledger.kills
    );
}

/// Before a folder is left: once more, with every resident who filed a request.
fn verify_everyone(ledger: &mut Ledger) {
    ledger.unchecked_codes = ledger.intakes.values().cloned().collect();
    verify(ledger);
}

// ----- the tests -----

fn crash_loop(
    test: &'static str,
    salt: u64,
    iterations: usize,
    max_items: usize,
    kill: impl Fn(&mut Rng) -> Kill,
) {
    let seed = seed();
    let mut rng = Rng(seed ^ salt);
    let started = Instant::now();
    let mut report = FailureReport {
        test,
        seed,
        iteration: 0,
        folder: None,
    };
    let mut ledger: Option<Ledger> = None;
    let mut acknowledged = 0usize;
    let mut exited_early = 0usize;
    let mut in_batches = Duration::ZERO;
    for iteration in 0..iterations {
        report.iteration = iteration;
        if iteration % ITERATIONS_PER_FOLDER == 0 {
            if let Some(done) = ledger.as_mut() {
                verify_everyone(done);
            }
            let folder = tempfile::tempdir().expect("a temp folder");
            ledger = Some(Ledger::set_up(&folder.path().join("kiosk")));
            report.folder = Some(folder);
        }
        let ledger = ledger.as_mut().expect("a kiosk");
        let when = kill(&mut rng);
        let batch_started = Instant::now();
        let run = run_killed_batch(ledger, &mut rng, when, max_items);
        in_batches += batch_started.elapsed();
        if run.status.code().is_some() {
            // It ended before the kill: fine, as long as it ended well.
            exited_early += 1;
            assert!(
                run.status.code() == Some(0) || run.status.code() == Some(2),
                "the batch failed ({}): {}",
                run.status,
                run.stderr
            );
        }
        acknowledged += run.printed.iter().filter(|v| v.get("ok").is_some()).count();
        record(ledger, &run);
        verify(ledger);
        // The next batch reopens the same folder: the kiosk must go on after a kill.
    }
    if let Some(done) = ledger.as_mut() {
        verify_everyone(done);
    }
    eprintln!(
        "{test}: seed {seed:#x}, {iterations} kills, {acknowledged} acknowledgements checked, \
         {exited_early} batches ended before the kill, {:.1} s ({:.1} s in batches)",
        started.elapsed().as_secs_f64(),
        in_batches.as_secs_f64()
    );
}

#[test]
fn kill_right_after_an_acknowledgement() {
    crash_loop("kill_right_after_an_acknowledgement", 0xA, 20, 60, |rng| {
        Kill::AfterAcks(rng.range(1, 25) as usize)
    });
}

#[test]
fn kill_at_random_times_during_a_batch() {
    crash_loop("kill_at_random_times_during_a_batch", 0xB, 15, 800, |rng| {
        Kill::After(Duration::from_millis(rng.range(0, 600)))
    });
}
