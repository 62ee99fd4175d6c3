//! The load benchmark: many kiosks syncing with one real `blisko-server` process on
//! loopback for a while, as they do on a working day. Each kiosk (a real store in a temp
//! folder, the real `SyncClient`) is idle most of the time and syncs on a timer with
//! jitter, like the touch app's background sync; now and then a few people queue up at
//! it and register, sometimes one submits an intake request, and each of those writes
//! is synced at once, as the touch app does. Prints one JSON line.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use rand::{RngExt, SeedableRng};
use serde_json::json;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::IntakeForm;
use blisko_kiosk::sync::{SyncClient, sync_once};
use blisko_tests::harness::{ServerProcess, seed};
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
}

/// What the kiosks did, counted as they go.
#[derive(Default)]
struct Tally {
    syncs: AtomicU64,
    registrations: AtomicU64,
    intakes: AtomicU64,
    errors: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
    /// The first few error messages, for the report on stderr (no personal data: sync
    /// and store errors carry codes and contexts, not form contents).
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    fn error(&self, what: &str, e: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::SeqCst);
        let mut first = self.first_errors.lock().expect("errors");
        if first.len() < 10 {
            first.push(format!("{what}: {e}"));
        }
    }

    fn sync(&self, kiosk: &Mutex<Kiosk>, client: &SyncClient) {
        let started = Instant::now();
        match sync_once(kiosk, client) {
            Ok(_) => {
                self.latencies
                    .lock()
                    .expect("latencies")
                    .push(started.elapsed());
                self.syncs.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => self.error("sync", &e),
        }
    }
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

/// One kiosk's day, compressed: timed syncs, and bursts of visitors whose every write
/// is synced at once.
fn run_kiosk(
    k: usize,
    kiosk: &Mutex<Kiosk>,
    args: &Args,
    end: Instant,
    rng: &mut rand::rngs::StdRng,
    tally: &Tally,
) -> Result<()> {
    let client = SyncClient::for_kiosk(&kiosk.lock().expect("kiosk"))?;
    let (classes, service) = {
        let kiosk = kiosk.lock().expect("kiosk");
        let service = kiosk
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?;
        (kiosk.classes()?, service.id.to_string())
    };
    let start = Instant::now();
    // Kiosks are switched on at different times: the first sync falls anywhere in an
    // interval.
    let mut next_sync = start + Duration::from_secs_f64(args.interval * rng.random::<f64>());
    let mut next_burst = start + exponential(rng, args.burst_every);
    let mut visitors = 0;
    loop {
        let next = next_sync.min(next_burst);
        if next >= end {
            return Ok(());
        }
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
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
                        tally.registrations.fetch_add(1, Ordering::SeqCst);
                        tally.sync(kiosk, &client);
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
                        tally.intakes.fetch_add(1, Ordering::SeqCst);
                        tally.sync(kiosk, &client);
                    }
                    Err(e) => tally.error("intake", &e),
                }
            }
            next_burst = Instant::now() + exponential(rng, args.burst_every);
        } else {
            tally.sync(kiosk, &client);
        }
        // Every sync restarts the timer, as in the background worker.
        next_sync = Instant::now() + jittered(rng, args.interval);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    round2(sorted[i].as_secs_f64() * 1000.0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let seed = seed();
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, false)?;
    let url = server.url();

    // Set-up (not measured): catalogs, kiosks spread over the branches, a few seats per
    // class on each kiosk (the rest is the server's pool), a first sync each.
    let branches = args.branches.clamp(1, args.kiosks.max(1));
    let mut catalogs = workload::catalogs(branches, args.classes_per_branch, 10_000);
    import(&data, &catalogs)?;
    let mut kiosks = Vec::new();
    let mut ids = vec![Vec::new(); branches];
    for k in 0..args.kiosks {
        let dir = tmp.path().join(format!("kiosk-{k}"));
        let kiosk = enroll_at(&data, &url, catalogs[k % branches].branch.id, &dir)?;
        ids[k % branches].push(kiosk.identity().kiosk_id);
        kiosks.push(Mutex::new(kiosk));
    }
    // Up to four seats per class on each kiosk, within the class's 30.
    let per_branch = args.kiosks.div_ceil(branches) as u32;
    allot(&mut catalogs, &ids, (30 / per_branch).min(4));
    import(&data, &catalogs)?;
    for_each_bounded(kiosks.len(), 8, |k| blisko_tests::harness::sync(&kiosks[k]))?;
    let setup_rss = server.memory_kib();

    // Measured: every kiosk on its own thread, a monitor sampling the server.
    let tally = Tally::default();
    let started = Instant::now();
    let end = started + Duration::from_secs(args.seconds);
    let half = started + Duration::from_secs(args.seconds / 2);
    let mut first_half_rss = 0;
    let mut second_half_rss = 0;
    let mut peak_fds = 0;
    let mut peak_threads = 0;
    let cpu_before = server.cpu_seconds().unwrap_or(0.0);
    std::thread::scope(|s| -> Result<()> {
        let mut workers = Vec::new();
        for (k, kiosk) in kiosks.iter().enumerate() {
            let (args, tally) = (&args, &tally);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ ((k as u64) << 20));
            workers.push(s.spawn(move || run_kiosk(k, kiosk, args, end, &mut rng, tally)));
        }
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
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a kiosk thread panicked"))??;
        }
        Ok(())
    })?;
    let wall_s = started.elapsed().as_secs_f64();
    let server_cpu_s = server.cpu_seconds().unwrap_or(0.0) - cpu_before;

    for e in tally.first_errors.lock().expect("errors").iter() {
        eprintln!("error: {e}");
    }
    let mut latencies = tally.latencies.into_inner().expect("latencies");
    latencies.sort();
    let syncs = tally.syncs.load(Ordering::SeqCst);
    let registrations = tally.registrations.load(Ordering::SeqCst);
    let mb = |kib: u64| round2(kib as f64 / 1024.0);
    let result = json!({
        "kiosks": args.kiosks,
        "seconds": round2(wall_s),
        "syncs": syncs,
        "syncs_per_s": round2(syncs as f64 / wall_s),
        "registrations": registrations,
        "registrations_per_s": round2(registrations as f64 / wall_s),
        "intakes": tally.intakes.load(Ordering::SeqCst),
        "sync_p50_ms": percentile(&latencies, 0.50),
        "sync_p99_ms": percentile(&latencies, 0.99),
        "sync_max_ms": percentile(&latencies, 1.0),
        "errors": tally.errors.load(Ordering::SeqCst),
        "server_peak_mb": server.peak_memory_kib().map(mb),
        "server_rss_after_setup_mb": setup_rss.map(mb),
        "server_rss_first_half_max_mb": mb(first_half_rss),
        "server_rss_second_half_max_mb": mb(second_half_rss),
        "server_peak_open_files": peak_fds,
        "server_peak_threads": peak_threads,
        "server_cpu_s": round2(server_cpu_s),
        "seed": seed,
    });
    println!("{result}");
    Ok(())
}
