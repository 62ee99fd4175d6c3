//! The load benchmark: many kiosks syncing with one real `blisko-server` process on
//! loopback for a while, as they do on a working day. Each kiosk (a real store in a temp
//! folder, the real `SyncClient`) is idle most of the time and syncs on a timer with
//! jitter, like the touch app's background sync; now and then a few people queue up at
//! it and register, sometimes one submits an intake request, and each of those writes
//! is synced at once, as the touch app does.
//!
//! The parent process starts the server and sets the kiosks up; then `--procs` worker
//! processes (this binary again, with `--worker`) run a share of the kiosks each, one
//! thread per kiosk, so that the generator is not what limits the load. Each worker
//! prints its tally as one JSON line; the parent merges them and prints one JSON line,
//! and a short summary on stderr.

// The JSON line has more keys than `json!`'s default recursion allows.
#![recursion_limit = "256"]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rand::{RngExt, SeedableRng};
use serde_json::json;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::IntakeForm;
use blisko_kiosk::store::ClassRow;
use blisko_tests::cpu_limit::CpuLimit;
use blisko_tests::harness::{ServerProcess, open_kiosk, process_cpu_seconds, seed};
use blisko_tests::load::{
    Merged, SharedClients, SyncCause, Tally, Targets, WorkerReport, host_cpu_ticks,
};
use blisko_tests::pg::Backend;
use blisko_tests::workload::{self, allot, enroll_at, for_each_bounded, form, import, round2};

#[derive(Debug, Parser)]
#[command(about = "Load benchmark: many kiosks syncing with one real server")]
struct Args {
    /// Kiosks syncing concurrently.
    #[arg(long, default_value_t = 200)]
    kiosks: usize,
    /// How long the measured run lasts.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    #[arg(long, default_value_t = 10)]
    branches: usize,
    #[arg(long, default_value_t = 12)]
    classes_per_branch: usize,
    /// Seconds between a kiosk's timed syncs (±20% jitter). The touch app's default is
    /// 60; shorter here so a one-minute run holds several syncs per kiosk.
    #[arg(long, default_value_t = 10.0)]
    interval: f64,
    /// Mean seconds between bursts of visitors at one kiosk.
    #[arg(long, default_value_t = 30.0)]
    burst_every: f64,
    /// Registrations in a burst: 1 to this many.
    #[arg(long, default_value_t = 4)]
    burst_max: usize,
    /// Share of bursts that also bring an intake request.
    #[arg(long, default_value_t = 0.3)]
    intake_share: f64,
    /// Worker processes running the kiosks, each a share of them.
    #[arg(long, default_value_t = 1)]
    procs: usize,
    /// Keep the server's store in a fresh PostgreSQL database, dropped at the end (found
    /// as the tests find theirs: BLISKO_TEST_POSTGRES, the PG* variables, else
    /// 127.0.0.1:5432), instead of SQLite in a temporary folder.
    #[arg(long)]
    postgres: bool,
    /// Server processes serving the store together (PostgreSQL only); a kiosk picks one
    /// of them at random for each sync.
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// Limit each server process to this many cores during the measured run (a control
    /// group; needs root), as if each ran on a machine of its own: on a small machine
    /// shared with the generator and PostgreSQL, this shows whether several processes
    /// do more together than one, or wait for each other in the database.
    #[arg(long)]
    server_cpus: Option<f64>,
    /// Each kiosk syncs with one server process, chosen by its branch point (as a load
    /// balancer routing by branch point would), instead of one at random for each sync:
    /// then no two processes write rounds of the same branch point.
    #[arg(long)]
    route_by_branch: bool,
    /// Where the kiosks' stores go: by default memory (/dev/shm) when there is one. Two
    /// thousand stores on one disk flush more than the server does, and the server's own
    /// flushes would wait behind them: the benchmark would measure the disk, not the
    /// server (whose data stays in a temporary folder on disk).
    #[arg(long)]
    kiosks_in: Option<PathBuf>,
    /// Niceness of the kiosk threads. On the server's machine their thousand threads
    /// would otherwise outnumber the server's one store thread for the CPU, and the
    /// generator would slow down what it measures; a real kiosk runs on its own machine.
    /// Each worker's HTTP thread (its kiosks' network) keeps the normal priority: behind
    /// a thousand busy kiosk threads it would hold every answer back.
    #[arg(long, default_value_t = 10)]
    worker_nice: i32,
    /// Niceness of each worker process as a whole, where the kernel schedules sessions
    /// as groups (autogroup): each worker starts a session of its own at this niceness.
    /// Threads' niceness alone weighs each thread, and a thousand kiosk threads at 10
    /// still outweigh a server thread at 0; as a group at 19 they take only the CPU the
    /// server and PostgreSQL leave, as kiosks on machines of their own would.
    #[arg(long, default_value_t = 19)]
    worker_group_nice: i32,

    // A worker's own arguments, given by the parent.
    /// Run kiosks `--first`.. `--first + --count` of the set-up in `--dir`.
    #[arg(long, hide = true)]
    worker: bool,
    #[arg(long, hide = true)]
    dir: Option<PathBuf>,
    #[arg(long, hide = true, default_value_t = 0)]
    first: usize,
    #[arg(long, hide = true, default_value_t = 0)]
    count: usize,
    /// The server URLs the worker's kiosks sync with (repeated for several).
    #[arg(long = "target", hide = true)]
    targets: Vec<String>,
    #[arg(long, hide = true)]
    seed: Option<u64>,
}

impl Args {
    /// The branch points the kiosks are spread over (at least one, at most one a kiosk).
    fn branch_count(&self) -> usize {
        self.branches.clamp(1, self.kiosks.max(1))
    }

    /// The branch point of kiosk `k`, an index into the set-up's catalogs.
    fn branch_of(&self, k: usize) -> usize {
        k % self.branch_count()
    }
}

/// Kiosk `k`'s data folder in the run's temporary folder (its key file beside it).
fn kiosk_dir(root: &Path, k: usize) -> PathBuf {
    root.join(format!("kiosk-{k}"))
}

/// A wait drawn from an exponential distribution with the given mean (visitors arrive
/// independently of each other).
fn exponential(rng: &mut rand::rngs::StdRng, mean: f64) -> Duration {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    Duration::from_secs_f64(-mean * u.ln())
}

fn jittered(rng: &mut rand::rngs::StdRng, seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds * rng.random_range(0.8..1.2))
}

/// What a kiosk needs before its day starts, read before the measured run.
struct KioskSetup {
    targets: Targets,
    classes: Vec<ClassRow>,
    service: String,
}

impl KioskSetup {
    fn read(kiosk: &Kiosk, urls: &[String], clients: &SharedClients) -> Result<KioskSetup> {
        let service = kiosk
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?;
        let classes = kiosk.classes()?;
        anyhow::ensure!(!classes.is_empty(), "the kiosk has no classes");
        Ok(KioskSetup {
            targets: Targets::for_kiosk_sharing(kiosk, urls, clients)?,
            classes,
            service: service.id.to_string(),
        })
    }
}

/// One kiosk's day, compressed: timed syncs, and bursts of visitors whose every write
/// is synced at once.
fn run_kiosk(
    k: usize,
    kiosk: &Mutex<Kiosk>,
    setup: &KioskSetup,
    args: &Args,
    (start, end): (Instant, Instant),
    rng: &mut rand::rngs::StdRng,
    tally: &Tally,
) {
    let KioskSetup {
        targets,
        classes,
        service,
    } = setup;
    // Kiosks are switched on at different times: the first sync falls anywhere in an
    // interval.
    let mut next_sync = start + Duration::from_secs_f64(args.interval * rng.random::<f64>());
    let mut next_burst = start + exponential(rng, args.burst_every);
    let mut visitors = 0;
    loop {
        let next = next_sync.min(next_burst);
        if next >= end {
            return;
        }
        // Lateness counts from when the thread went to sleep at the earliest: a visitor
        // due while the kiosk was still syncing is the server's delay, not the thread's.
        let planned = next.max(Instant::now());
        std::thread::sleep(planned.saturating_duration_since(Instant::now()));
        tally.woke(planned);
        if next_burst < next_sync {
            let people = rng.random_range(1..=args.burst_max.max(1));
            for p in 0..people {
                if p > 0 && Instant::now() >= end {
                    break;
                }
                if p > 0 {
                    // The next person in the queue steps up and types.
                    std::thread::sleep(Duration::from_secs_f64(rng.random_range(1.0..4.0)));
                }
                let class = classes[rng.random_range(0..classes.len())].id;
                let result = kiosk
                    .lock()
                    .expect("kiosk")
                    .register(&form(k, visitors, class));
                visitors += 1;
                match result {
                    Ok(_) => {
                        tally.registered();
                        tally.sync(kiosk, targets.pick(rng), SyncCause::Write);
                    }
                    Err(e) => tally.error("register", &e),
                }
            }
            if rng.random_bool(args.intake_share.clamp(0.0, 1.0)) {
                let person = form(k, visitors, classes[0].id);
                visitors += 1;
                let intake = IntakeForm {
                    service_id: service.clone(),
                    given_name: person.given_name,
                    family_name: person.family_name,
                    birth_year: person.birth_year,
                    phone: person.phone,
                    description: "Proszę o pomoc w domu dwa razy w tygodniu.".into(),
                    declaration: true,
                    consent: true,
                    ..IntakeForm::default()
                };
                // Bound first: a guard in the match's scrutinee would be held through the
                // sync, which locks the kiosk again.
                let result = kiosk.lock().expect("kiosk").submit_intake(&intake);
                match result {
                    Ok(_) => {
                        tally.submitted_intake();
                        tally.sync(kiosk, targets.pick(rng), SyncCause::Write);
                    }
                    Err(e) => tally.error("intake", &e),
                }
            }
            next_burst = Instant::now() + exponential(rng, args.burst_every);
        } else {
            tally.sync(kiosk, targets.pick(rng), SyncCause::Timer);
        }
        // Every sync restarts the timer, as in the background worker.
        next_sync = Instant::now() + jittered(rng, args.interval);
    }
}

/// Set the calling thread's niceness (on Linux, a thread id names one thread).
fn lower_this_threads_priority(nice: i32) -> Result<()> {
    // SAFETY: gettid and setpriority only read and return integers.
    let tid = unsafe { libc::gettid() };
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice) } != 0 {
        bail!(
            "set a kiosk thread's niceness to {nice}: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

/// Whether the kernel schedules each session as one group (autogroup).
fn sessions_are_groups() -> bool {
    std::fs::read_to_string("/proc/sys/kernel/sched_autogroup_enabled")
        .is_ok_and(|v| v.trim() == "1")
}

/// Put this worker in a session of its own, and that session's group at `nice`.
fn group_behind_the_server(nice: i32) -> Result<()> {
    // SAFETY: setsid takes no arguments; a child that is not a group leader may call it.
    if unsafe { libc::setsid() } < 0 {
        bail!(
            "start the worker's own session: {}",
            std::io::Error::last_os_error()
        );
    }
    std::fs::write("/proc/self/autogroup", nice.to_string())
        .with_context(|| format!("set the worker's group niceness to {nice}"))
}

fn unix_ms() -> Result<u64> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64)
}

/// The instant of a moment given in ms since the epoch (the parent's and the workers'
/// clocks are the same machine's).
fn instant_at(at_ms: u64) -> Result<Instant> {
    Ok(Instant::now() + Duration::from_millis(at_ms.saturating_sub(unix_ms()?)))
}

fn own_cpu_seconds() -> Result<f64> {
    process_cpu_seconds(std::process::id()).context("read this process's CPU time")
}

/// A worker: open its kiosks, say `ready`, wait for `start MS` on stdin, run the kiosks
/// until the end of the run and print its tally as one JSON line.
fn worker(args: &Args) -> Result<()> {
    let dir = args.dir.as_deref().context("--worker needs --dir")?;
    if sessions_are_groups() {
        group_behind_the_server(args.worker_group_nice)?;
    }
    let seed = args.seed.context("--worker needs --seed")?;
    let mut kiosks = Vec::new();
    let clients = SharedClients::default();
    for k in args.first..args.first + args.count {
        let kiosk = open_kiosk(&kiosk_dir(dir, k)).with_context(|| format!("open kiosk {k}"))?;
        let targets = match args.targets.len() {
            n if args.route_by_branch && n > 0 => vec![args.targets[args.branch_of(k) % n].clone()],
            _ => args.targets.clone(),
        };
        let setup =
            KioskSetup::read(&kiosk, &targets, &clients).with_context(|| format!("kiosk {k}"))?;
        kiosks.push((k, Mutex::new(kiosk), setup));
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("read the start from the parent")?;
    let at_ms: u64 = line
        .trim()
        .strip_prefix("start ")
        .and_then(|ms| ms.parse().ok())
        .with_context(|| format!("expected `start MS` from the parent, got {line:?}"))?;
    let start = instant_at(at_ms)?;
    let end = start + Duration::from_secs(args.seconds);
    std::thread::sleep(start.saturating_duration_since(Instant::now()));
    let cpu_before = own_cpu_seconds()?;

    let tally = Tally::new(end);
    std::thread::scope(|s| -> Result<()> {
        let threads: Vec<_> = kiosks
            .iter()
            .map(|(k, kiosk, setup)| {
                let tally = &tally;
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((*k as u64) << 20));
                s.spawn(move || -> Result<()> {
                    lower_this_threads_priority(args.worker_nice)?;
                    run_kiosk(*k, kiosk, setup, args, (start, end), &mut rng, tally);
                    Ok(())
                })
            })
            .collect();
        for thread in threads {
            thread
                .join()
                .map_err(|_| anyhow::anyhow!("a kiosk thread panicked"))??;
        }
        Ok(())
    })?;
    let report = tally.report(
        own_cpu_seconds()? - cpu_before,
        start.elapsed().as_secs_f64(),
    );
    writeln!(stdout, "{}", serde_json::to_string(&report)?)?;
    stdout.flush()?;
    Ok(())
}

/// One worker process, seen from the parent.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

/// The worker processes; any still running when this is dropped (the parent failed) are
/// killed.
struct Workers(Vec<Worker>);

impl Workers {
    /// Start `args.procs` workers over the kiosks set up in `dir`, and wait until each
    /// has opened its kiosks.
    fn start(args: &Args, dir: &Path, urls: &[String], seed: u64) -> Result<Workers> {
        let exe = std::env::current_exe().context("this program's path")?;
        let procs = args.procs.clamp(1, args.kiosks.max(1));
        let mut workers = Workers(Vec::new());
        for w in 0..procs {
            let (first, next) = (w * args.kiosks / procs, (w + 1) * args.kiosks / procs);
            let mut command = Command::new(&exe);
            command
                .arg("--worker")
                .arg("--dir")
                .arg(dir)
                .args(["--first", &first.to_string()])
                .args(["--count", &(next - first).to_string()])
                .args(["--seed", &seed.to_string()])
                .args(["--seconds", &args.seconds.to_string()])
                .args(["--interval", &args.interval.to_string()])
                .args(["--burst-every", &args.burst_every.to_string()])
                .args(["--burst-max", &args.burst_max.to_string()])
                .args(["--intake-share", &args.intake_share.to_string()])
                .args(["--worker-nice", &args.worker_nice.to_string()])
                .args(["--worker-group-nice", &args.worker_group_nice.to_string()])
                .args(["--kiosks", &args.kiosks.to_string()])
                .args(["--branches", &args.branches.to_string()]);
            if args.route_by_branch {
                command.arg("--route-by-branch");
            }
            command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            for url in urls {
                command.args(["--target", url]);
            }
            let mut child = command
                .spawn()
                .with_context(|| format!("start worker {w}"))?;
            let stdin = child.stdin.take();
            let stdout = BufReader::new(child.stdout.take().context("a worker's stdout")?);
            workers.0.push(Worker {
                child,
                stdin,
                stdout,
            });
        }
        for (w, worker) in workers.0.iter_mut().enumerate() {
            let line = worker.line().with_context(|| format!("worker {w}"))?;
            if line != "ready" {
                bail!("worker {w} said {line:?} instead of ready");
            }
        }
        Ok(workers)
    }

    /// Tell every worker to start at `at_ms` (ms since the epoch).
    fn go(&mut self, at_ms: u64) -> Result<()> {
        for (w, worker) in self.0.iter_mut().enumerate() {
            let mut stdin = worker.stdin.take().context("a worker's stdin")?;
            writeln!(stdin, "start {at_ms}").with_context(|| format!("start worker {w}"))?;
        }
        Ok(())
    }

    /// Each worker's tally, once it has finished.
    fn finish(mut self) -> Result<Vec<WorkerReport>> {
        let mut reports = Vec::new();
        for (w, worker) in self.0.iter_mut().enumerate() {
            let line = worker.line().with_context(|| format!("worker {w}"))?;
            let report: WorkerReport = serde_json::from_str(&line)
                .with_context(|| format!("worker {w}'s tally: {line:?}"))?;
            let status = worker.child.wait()?;
            if !status.success() {
                bail!("worker {w} exited with {status}");
            }
            reports.push(report);
        }
        Ok(reports)
    }
}

impl Worker {
    fn line(&mut self) -> Result<String> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            let status = self.child.wait()?;
            bail!("ended ({status}) before it said what it was asked for");
        }
        Ok(line.trim().to_owned())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for worker in &mut self.0 {
            if let Ok(None) = worker.child.try_wait() {
                let _ = worker.child.kill();
                let _ = worker.child.wait();
            }
        }
    }
}

/// The server processes measured as one: CPU and memory are their sums.
struct Servers<'a>(&'a [ServerProcess]);

impl Servers<'_> {
    fn sum(&self, f: impl Fn(&ServerProcess) -> Option<u64>) -> Option<u64> {
        self.0.iter().map(f).sum()
    }

    fn cpu_seconds(&self) -> Option<f64> {
        self.0.iter().map(ServerProcess::cpu_seconds).sum()
    }

    fn peak_memory_kib(&self) -> Option<u64> {
        self.sum(ServerProcess::peak_memory_kib)
    }

    fn memory_kib(&self) -> Option<u64> {
        self.sum(ServerProcess::memory_kib)
    }

    fn threads(&self) -> Option<u64> {
        self.sum(ServerProcess::threads)
    }

    fn open_files(&self) -> Option<usize> {
        self.0.iter().map(ServerProcess::open_files).sum()
    }
}

/// PostgreSQL's own CPU: the backends serving the benchmark's database (PostgreSQL on
/// this machine, its processes' times read from /proc), by process id.
struct PostgresCpu(postgres::Client);

impl PostgresCpu {
    fn of(servers: &[ServerProcess]) -> Result<Option<PostgresCpu>> {
        match servers.first().and_then(ServerProcess::database) {
            Some(database) => Ok(Some(PostgresCpu(database.connect()?))),
            None => Ok(None),
        }
    }

    fn backends(&mut self) -> Result<BTreeMap<u32, f64>> {
        let rows = self
            .0
            .query(
                "SELECT pid FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .context("list PostgreSQL's backends")?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let pid = u32::try_from(row.get::<_, i32>(0)).ok()?;
                Some((pid, process_cpu_seconds(pid)?))
            })
            .collect())
    }
}

/// What the servers' `/metrics` pages say of their sync rounds: the rounds answered by
/// readers, and the round-time histogram's cumulative counts by upper bound (seconds),
/// each summed over the servers.
#[derive(Default)]
struct RoundCounts {
    reads: f64,
    /// Rounds answered in all (by readers and by the writer).
    answered: f64,
    /// The writer's transactions of sync rounds.
    batches: f64,
    buckets: BTreeMap<String, (f64, f64)>,
}

impl RoundCounts {
    fn read(urls: &[String]) -> Result<RoundCounts> {
        let mut counts = RoundCounts::default();
        for url in urls {
            let page = reqwest::blocking::get(format!("{url}/metrics"))
                .and_then(|r| r.text())
                .with_context(|| format!("{url}/metrics"))?;
            for line in page.lines() {
                if let Some(v) = line.strip_prefix(READS).and_then(|r| r.strip_prefix(' ')) {
                    counts.reads += v.parse::<f64>().unwrap_or(0.0);
                } else if let Some(v) = line.strip_prefix(BATCHES).and_then(|r| r.strip_prefix(' '))
                {
                    counts.batches += v.parse::<f64>().unwrap_or(0.0);
                } else if let Some((_, v)) =
                    line.strip_prefix(ANSWERED).and_then(|r| r.split_once("} "))
                {
                    counts.answered += v.parse::<f64>().unwrap_or(0.0);
                } else if let Some(rest) = line.strip_prefix(BUCKET)
                    && let Some((le, v)) = rest.split_once("\"} ")
                {
                    let bound = match le {
                        "+Inf" => f64::INFINITY,
                        le => le.parse().with_context(|| format!("bucket {le:?}"))?,
                    };
                    let entry = counts.buckets.entry(le.to_owned()).or_insert((bound, 0.0));
                    entry.1 += v.parse::<f64>().unwrap_or(0.0);
                }
            }
        }
        Ok(counts)
    }

    /// The upper bound of the bucket holding quantile `q` of the rounds since `before`.
    fn quantile_bound_ms(&self, before: &RoundCounts, q: f64) -> Option<f64> {
        let mut since: Vec<(f64, f64)> = self
            .buckets
            .iter()
            .map(|(le, (bound, n))| (*bound, n - before.buckets.get(le).map_or(0.0, |b| b.1)))
            .collect();
        since.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = since.last()?.1;
        since
            .iter()
            .find(|(_, n)| *n >= q * total && total > 0.0)
            .map(|(bound, _)| bound * 1000.0)
    }
}

/// CPU seconds between two readings of [`PostgresCpu::backends`]; a backend that started
/// in between counts from zero.
fn cpu_between(before: &BTreeMap<u32, f64>, after: &BTreeMap<u32, f64>) -> f64 {
    after
        .iter()
        .map(|(pid, cpu)| cpu - before.get(pid).copied().unwrap_or(0.0))
        .sum()
}

/// Sync rounds answered by a server's readers, beside its writer.
const READS: &str = "blisko_sync_reads_total";
/// The writers' transactions of sync rounds (several rounds share one under load).
const BATCHES: &str = "blisko_sync_batches_total";
/// Sync rounds answered, one line per result and code.
const ANSWERED: &str = "blisko_syncs_total{";
/// The servers' histogram of their time per sync round, from arrival to answer.
const BUCKET: &str = "blisko_sync_duration_seconds_bucket{le=\"";

fn main() -> Result<()> {
    let args = Args::parse();
    if args.worker {
        return worker(&args);
    }
    let seed = seed();
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let shm = Path::new("/dev/shm");
    let kiosks_tmp = match &args.kiosks_in {
        Some(dir) => tempfile::tempdir_in(dir),
        None if shm.is_dir() => tempfile::tempdir_in(shm),
        None => tempfile::tempdir(),
    }
    .context("a folder for the kiosks' stores")?;
    if args.servers > 1 && !args.postgres {
        bail!("--servers above 1 needs --postgres: a SQLite store is one process's");
    }
    let backend = if args.postgres {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    // On PostgreSQL every server on the folder serves its database; the set-up's admin
    // commands use it too.
    let mut servers = vec![ServerProcess::start_backend(backend, &data, false)?];
    for _ in 1..args.servers {
        servers.push(ServerProcess::start(&data, false)?);
    }
    let server = Servers(&servers);
    let urls: Vec<String> = servers.iter().map(ServerProcess::url).collect();

    // Set-up (not measured): catalogs, kiosks spread over the branches, a few seats per
    // class on each kiosk (the rest is the server's pool), a first sync each.
    let branches = args.branch_count();
    let mut catalogs = workload::catalogs(branches, args.classes_per_branch, 10_000);
    import(&data, &catalogs)?;
    // A few at a time: each is an admin command (a process) and an enrollment.
    let enrolled = for_each_bounded(args.kiosks, 4, |k| {
        enroll_at(
            &data,
            &urls[0],
            catalogs[args.branch_of(k)].branch.id,
            &kiosk_dir(kiosks_tmp.path(), k),
        )
    })?;
    let mut kiosks = Vec::new();
    let mut ids = vec![Vec::new(); branches];
    for (k, kiosk) in enrolled.into_iter().enumerate() {
        ids[args.branch_of(k)].push(kiosk.identity().kiosk_id);
        kiosks.push(Mutex::new(kiosk));
    }
    // Up to four seats per class on each kiosk, within the class's 30.
    let per_branch = args.kiosks.div_ceil(branches) as u32;
    allot(&mut catalogs, &ids, (30 / per_branch).min(4));
    import(&data, &catalogs)?;
    for_each_bounded(kiosks.len(), 8, |k| blisko_tests::harness::sync(&kiosks[k]))?;
    // Closed here, opened by the workers (a store is one process's at a time).
    drop(kiosks);
    let mut workers = Workers::start(&args, kiosks_tmp.path(), &urls, seed)?;
    let setup_rss = server.memory_kib();
    // Only now: the set-up is not measured, and goes faster without it.
    let _limits = match args.server_cpus {
        Some(cores) => servers
            .iter()
            .map(|s| CpuLimit::apply(s.pid(), cores))
            .collect::<Result<Vec<_>>>()
            .context("limit the server processes' CPU (--server-cpus)")?,
        None => Vec::new(),
    };

    // Measured: the workers' kiosks, and a monitor here sampling the server.
    let at_ms = unix_ms()? + 200;
    workers.go(at_ms)?;
    let started = instant_at(at_ms)?;
    std::thread::sleep(started.saturating_duration_since(Instant::now()));
    let cpu_before = server.cpu_seconds().context("the server's CPU time")?;
    let rounds_before = RoundCounts::read(&urls)?;
    let mut postgres_cpu = PostgresCpu::of(&servers)?;
    let postgres_before = match &mut postgres_cpu {
        Some(pg) => pg.backends()?,
        None => BTreeMap::new(),
    };
    let own_cpu_before = own_cpu_seconds()?;
    let host_before = host_cpu_ticks().context("read /proc/stat")?;
    let end = started + Duration::from_secs(args.seconds);
    let half = started + Duration::from_secs(args.seconds / 2);
    let mut first_half_rss = 0;
    let mut second_half_rss = 0;
    let mut peak_fds = 0;
    let mut peak_threads = 0;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(500));
        let rss = server.memory_kib().unwrap_or(0);
        if Instant::now() < half {
            first_half_rss = first_half_rss.max(rss);
        } else {
            second_half_rss = second_half_rss.max(rss);
        }
        peak_fds = peak_fds.max(server.open_files().unwrap_or(0));
        peak_threads = peak_threads.max(server.threads().unwrap_or(0));
    }
    let reports = workers.finish()?;
    let wall_s = started.elapsed().as_secs_f64();
    let server_cpu_s = server.cpu_seconds().context("the server's CPU time")? - cpu_before;
    let rounds = RoundCounts::read(&urls)?;
    let read_rounds = rounds.reads - rounds_before.reads;
    let write_rounds = (rounds.answered - rounds_before.answered) - read_rounds;
    let write_batches = rounds.batches - rounds_before.batches;
    let round_p50_ms = rounds.quantile_bound_ms(&rounds_before, 0.50);
    let round_p99_ms = rounds.quantile_bound_ms(&rounds_before, 0.99);
    let postgres_cpu_s = match &mut postgres_cpu {
        // None when PostgreSQL runs elsewhere (no process of it here to read).
        Some(pg) => Some(pg.backends()?)
            .filter(|after| !after.is_empty())
            .map(|after| cpu_between(&postgres_before, &after)),
        None => None,
    };
    let own_cpu_s = own_cpu_seconds()? - own_cpu_before;
    let host_after = host_cpu_ticks().context("read /proc/stat")?;
    let host_busy_share =
        (host_after.0 - host_before.0) as f64 / (host_after.1 - host_before.1).max(1) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut merged = Merged::default();
    for report in &reports {
        merged.add(report);
    }
    let generator_cpu_s = merged.cpu_s + own_cpu_s;
    // Rates over the measured window; CPU over the whole run, which ends when the last
    // kiosk has finished what it was doing at the window's end.
    let window_s = args.seconds as f64;
    let offered_timer = args.kiosks as f64 / args.interval;
    let write_syncs_per_s = merged.window_write_syncs as f64 / window_s;
    let offered = offered_timer + write_syncs_per_s;
    let achieved = merged.window_syncs as f64 / window_s;
    // What the kiosks asked for: a kiosk's timer starts again after each of its syncs
    // (a write's too), so they start fewer syncs than the nominal rate, however fast
    // the server answers.
    let started = (merged.window_timer_syncs + merged.window_write_syncs) as f64 / window_s;
    let mb = |kib: u64| round2(kib as f64 / 1024.0);
    let server_peak_kib = server.peak_memory_kib();
    let server_end_kib = server.memory_kib();
    // The workers ran on this machine: they grouped themselves if it groups sessions.
    let grouped = sessions_are_groups();
    let result = json!({
        "store": if args.postgres { "postgres" } else { "sqlite" },
        "servers": servers.len(),
        "server_cpus_each": args.server_cpus,
        "route_by_branch": args.route_by_branch,
        "worker_thread_nice": args.worker_nice,
        "worker_group_nice": grouped.then_some(args.worker_group_nice),
        "kiosks": args.kiosks,
        "procs": merged.workers,
        "seconds": args.seconds,
        "wall_seconds": round2(wall_s),
        "offered_syncs_per_s": round2(offered),
        "offered_timer_syncs_per_s": round2(offered_timer),
        "write_syncs_per_s": round2(write_syncs_per_s),
        "started_syncs_per_s": round2(started),
        "achieved_syncs_per_s": round2(achieved),
        "syncs": merged.syncs,
        "window_syncs": merged.window_syncs,
        "window_timer_syncs_started": merged.window_timer_syncs,
        "window_write_syncs_started": merged.window_write_syncs,
        "per_process_syncs": reports.iter().map(|r| r.syncs).collect::<Vec<_>>(),
        "registrations": merged.registrations,
        "registrations_per_s": round2(merged.registrations as f64 / wall_s),
        "intakes": merged.intakes,
        "sync_p50_ms": round2(merged.latencies.quantile_ms(0.50)),
        "sync_p99_ms": round2(merged.latencies.quantile_ms(0.99)),
        "sync_max_ms": round2(merged.latencies.max_ms()),
        "server_wait_p50_ms": round2(merged.server_waits.quantile_ms(0.50)),
        "server_wait_p99_ms": round2(merged.server_waits.quantile_ms(0.99)),
        "server_wait_max_ms": round2(merged.server_waits.max_ms()),
        "errors": merged.errors,
        "first_errors": merged.first_errors,
        "wake_late_p99_ms": round2(merged.wake_late.quantile_ms(0.99)),
        "wake_late_max_ms": round2(merged.wake_late.max_ms()),
        "server_cpu_s": round2(server_cpu_s),
        "read_rounds": read_rounds,
        "write_rounds": write_rounds,
        "write_batches": write_batches,
        "server_round_p50_ms_at_most": round_p50_ms,
        "server_round_p99_ms_at_most": round_p99_ms,
        "postgres_cpu_s": postgres_cpu_s.map(round2),
        "server_peak_mb": server_peak_kib.map(mb),
        "server_end_mb": server_end_kib.map(mb),
        "server_rss_after_setup_mb": setup_rss.map(mb),
        "server_rss_first_half_max_mb": mb(first_half_rss),
        "server_rss_second_half_max_mb": mb(second_half_rss),
        "server_peak_open_files": peak_fds,
        "server_peak_threads": peak_threads,
        "generator_cpu_s": round2(generator_cpu_s),
        "generator_max_process_cpu_s": round2(merged.max_worker_cpu_s),
        "host_cores": cores,
        "host_busy_share": round2(host_busy_share),
        "seed": seed,
    });
    println!("{result}");

    for e in &merged.first_errors {
        eprintln!("error: {e}");
    }
    let cores_used = |cpu: f64| cpu / wall_s;
    eprintln!(
        "bench-load: {} kiosks in {} {}, {} server {} on {}, {} s measured ({:.1} s to the last sync)",
        args.kiosks,
        merged.workers,
        if merged.workers == 1 {
            "process"
        } else {
            "processes"
        },
        servers.len(),
        if servers.len() == 1 {
            "process"
        } else {
            "processes"
        },
        if args.postgres {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        args.seconds,
        wall_s
    );
    if let Some(cores) = args.server_cpus {
        eprintln!("  each server process limited to {cores} cores");
    }
    if args.route_by_branch {
        eprintln!("  each kiosk syncs with the server process of its branch point");
    }
    match grouped {
        true => eprintln!(
            "  generator: each worker a scheduling group at niceness {}, its kiosk threads at {}",
            args.worker_group_nice, args.worker_nice
        ),
        false => eprintln!(
            "  generator: kiosk threads at niceness {} (this kernel does not group sessions)",
            args.worker_nice
        ),
    }
    eprintln!(
        "  syncs/s: offered {offered:.1} ({offered_timer:.1} on timers + {write_syncs_per_s:.1} after writes), started {started:.1}, achieved {achieved:.1}"
    );
    eprintln!(
        "  sync: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; kiosk threads woke late by p99 {:.1} ms, max {:.1} ms",
        merged.latencies.quantile_ms(0.5),
        merged.latencies.quantile_ms(0.99),
        merged.latencies.max_ms(),
        merged.wake_late.quantile_ms(0.99),
        merged.wake_late.max_ms(),
    );
    eprintln!(
        "  of each sync, waiting for the server's answers: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (the rest is the kiosk's own work, here on the server's cores)",
        merged.server_waits.quantile_ms(0.5),
        merged.server_waits.quantile_ms(0.99),
        merged.server_waits.max_ms(),
    );
    eprintln!(
        "  errors: {}; {} registrations, {} intake requests; {read_rounds} rounds answered by readers, {write_rounds} by the writer in {write_batches} transactions ({:.1} rounds each)",
        merged.errors,
        merged.registrations,
        merged.intakes,
        write_rounds / write_batches.max(1.0),
    );
    eprintln!(
        "  server: {server_cpu_s:.1} s CPU ({:.2} cores), memory peak {} MB, at the end {} MB",
        cores_used(server_cpu_s),
        server_peak_kib.map_or("?".into(), |k| mb(k).to_string()),
        server_end_kib.map_or("?".into(), |k| mb(k).to_string()),
    );
    let bound = |ms: Option<f64>| ms.map_or("?".to_owned(), |ms| format!("{ms:.0} ms"));
    eprintln!(
        "  server's own time per round (its histogram): p50 at most {}, p99 at most {}",
        bound(round_p50_ms),
        bound(round_p99_ms)
    );
    if let Some(cpu) = postgres_cpu_s {
        eprintln!(
            "  PostgreSQL: {cpu:.1} s CPU ({:.2} cores) in the backends serving the database",
            cores_used(cpu)
        );
    }
    eprintln!(
        "  generator: {generator_cpu_s:.1} s CPU ({:.2} cores; the busiest process {:.2}); the machine {:.0}% busy over {cores} cores",
        cores_used(generator_cpu_s),
        cores_used(merged.max_worker_cpu_s),
        host_busy_share * 100.0,
    );
    Ok(())
}
