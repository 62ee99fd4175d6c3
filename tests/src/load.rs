//! The load generator's counting: what its kiosks did, tallied by their threads, sent by
//! each worker process as one JSON line and merged by the parent; the sync latencies in
//! a histogram that merges without losing its precision; the CPU time of processes and
//! of the whole machine, to tell whether the server or the generator was the bottleneck.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use blisko_kiosk::Kiosk;
use blisko_kiosk::sync::{SyncClient, sync_once};

/// Error messages kept for the report, per worker and in the merged tally.
pub const FIRST_ERRORS: usize = 10;

/// Durations in microseconds, to three significant digits (a p99 of 236 ms is known to
/// within 0.24 ms), plus the exact largest one.
#[derive(Debug, Clone)]
pub struct Latencies {
    histogram: Histogram<u64>,
    max_us: u64,
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies {
            // Auto-resizing: no upper bound to guess.
            histogram: Histogram::new(3).expect("three significant digits are within range"),
            max_us: 0,
        }
    }
}

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.record_n(us, 1);
        self.max_us = self.max_us.max(us);
    }

    fn record_n(&mut self, us: u64, count: u64) {
        // The histogram grows to hold any value (`saturating_` would clamp at its
        // current top instead); only a count past u64 fails.
        if self.histogram.record_n(us, count).is_err() {
            self.histogram.saturating_record_n(us, count);
        }
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The value at quantile `q` (0.5 for the median), in milliseconds; 0 when empty.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        // The histogram answers with the top of a bucket; never above the real largest.
        self.histogram.value_at_quantile(q).min(self.max_us) as f64 / 1000.0
    }

    pub fn max_ms(&self) -> f64 {
        self.max_us as f64 / 1000.0
    }

    pub fn merge(&mut self, other: &Latencies) {
        for (value, count) in other.buckets() {
            self.record_n(value, count);
        }
        self.max_us = self.max_us.max(other.max_us);
    }

    /// The recorded buckets as (value, count), the form they travel in.
    fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.histogram
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
    }

    pub fn to_wire(&self) -> WireLatencies {
        WireLatencies {
            buckets: self.buckets().collect(),
            max_us: self.max_us,
        }
    }

    pub fn from_wire(wire: &WireLatencies) -> Latencies {
        let mut latencies = Latencies::default();
        for &(value, count) in &wire.buckets {
            latencies.record_n(value, count);
        }
        latencies.max_us = wire.max_us;
        latencies
    }
}

/// [`Latencies`] as JSON: the non-empty buckets as `[microseconds, count]` pairs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WireLatencies {
    pub buckets: Vec<(u64, u64)>,
    pub max_us: u64,
}

/// Why a kiosk synced: its timer, or a write just made (the touch app syncs at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCause {
    Timer,
    Write,
}

/// What one worker's kiosks did, counted as they go (one tally shared by its threads).
/// The rates count only what happened in the measured window: a kiosk in the middle of
/// a burst of visitors at its end finishes it, and those syncs count for the
/// latencies but not for the rates.
pub struct Tally {
    window_end: Instant,
    syncs: AtomicU64,
    /// Syncs finished within the window: the achieved rate.
    window_syncs: AtomicU64,
    /// Syncs started within the window, by cause: the offered rate.
    window_timer_syncs: AtomicU64,
    window_write_syncs: AtomicU64,
    registrations: AtomicU64,
    intakes: AtomicU64,
    errors: AtomicU64,
    latencies: Mutex<Latencies>,
    /// Of each sync, the time spent waiting for the server's answers: the sync's
    /// latency less the kiosk's own work, which a real kiosk does on a machine of its
    /// own and the generator's kiosks do on the server's cores.
    server_waits: Mutex<Latencies>,
    /// How late a kiosk's thread woke for what it had planned (a sync or a visitor): a
    /// generator short of CPU wakes late and offers less than it says.
    wake_late: Mutex<Latencies>,
    /// The first few error messages (no personal data: sync and store errors carry codes
    /// and contexts, not form contents).
    first_errors: Mutex<Vec<String>>,
}

impl Tally {
    pub fn new(window_end: Instant) -> Tally {
        Tally {
            window_end,
            syncs: AtomicU64::default(),
            window_syncs: AtomicU64::default(),
            window_timer_syncs: AtomicU64::default(),
            window_write_syncs: AtomicU64::default(),
            registrations: AtomicU64::default(),
            intakes: AtomicU64::default(),
            errors: AtomicU64::default(),
            latencies: Mutex::default(),
            server_waits: Mutex::default(),
            wake_late: Mutex::default(),
            first_errors: Mutex::default(),
        }
    }

    pub fn error(&self, what: &str, e: &dyn std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::SeqCst);
        let mut first = self.first_errors.lock().expect("errors");
        if first.len() < FIRST_ERRORS {
            first.push(format!("{what}: {e}"));
        }
    }

    pub fn registered(&self) {
        self.registrations.fetch_add(1, Ordering::SeqCst);
    }

    pub fn submitted_intake(&self) {
        self.intakes.fetch_add(1, Ordering::SeqCst);
    }

    pub fn woke(&self, planned: Instant) {
        let late = Instant::now().saturating_duration_since(planned);
        self.wake_late.lock().expect("wake times").record(late);
    }

    /// One whole sync, timed; a failure counts as an error.
    pub fn sync(&self, kiosk: &Mutex<Kiosk>, client: &SyncClient, cause: SyncCause) {
        let started = Instant::now();
        if started < self.window_end {
            match cause {
                SyncCause::Timer => &self.window_timer_syncs,
                SyncCause::Write => &self.window_write_syncs,
            }
            .fetch_add(1, Ordering::SeqCst);
        }
        match sync_once(kiosk, client) {
            Ok(report) => {
                let ended = Instant::now();
                self.latencies
                    .lock()
                    .expect("latencies")
                    .record(ended - started);
                self.server_waits
                    .lock()
                    .expect("server waits")
                    .record(Duration::from_micros(report.traffic.waited_us));
                self.syncs.fetch_add(1, Ordering::SeqCst);
                if ended < self.window_end {
                    self.window_syncs.fetch_add(1, Ordering::SeqCst);
                }
            }
            Err(e) => self.error("sync", &e),
        }
    }

    /// The counts so far, with the worker's CPU and wall time over the run.
    pub fn report(&self, cpu_s: f64, wall_s: f64) -> WorkerReport {
        WorkerReport {
            syncs: self.syncs.load(Ordering::SeqCst),
            window_syncs: self.window_syncs.load(Ordering::SeqCst),
            window_timer_syncs: self.window_timer_syncs.load(Ordering::SeqCst),
            window_write_syncs: self.window_write_syncs.load(Ordering::SeqCst),
            registrations: self.registrations.load(Ordering::SeqCst),
            intakes: self.intakes.load(Ordering::SeqCst),
            errors: self.errors.load(Ordering::SeqCst),
            first_errors: self.first_errors.lock().expect("errors").clone(),
            latencies: self.latencies.lock().expect("latencies").to_wire(),
            server_waits: self.server_waits.lock().expect("server waits").to_wire(),
            wake_late: self.wake_late.lock().expect("wake times").to_wire(),
            cpu_s,
            wall_s,
        }
    }
}

/// One worker process's tally: the JSON line it prints when its kiosks are done.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkerReport {
    pub syncs: u64,
    pub window_syncs: u64,
    pub window_timer_syncs: u64,
    pub window_write_syncs: u64,
    pub registrations: u64,
    pub intakes: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub latencies: WireLatencies,
    pub server_waits: WireLatencies,
    pub wake_late: WireLatencies,
    /// The worker's CPU time (user + system) from the start of the run to its end.
    pub cpu_s: f64,
    pub wall_s: f64,
}

/// The workers' tallies added up.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub workers: usize,
    pub syncs: u64,
    pub window_syncs: u64,
    pub window_timer_syncs: u64,
    pub window_write_syncs: u64,
    pub registrations: u64,
    pub intakes: u64,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub latencies: Latencies,
    pub server_waits: Latencies,
    pub wake_late: Latencies,
    pub cpu_s: f64,
    /// The most CPU any one worker used, for a worker pinned at a core.
    pub max_worker_cpu_s: f64,
}

impl Merged {
    pub fn add(&mut self, report: &WorkerReport) {
        self.workers += 1;
        self.syncs += report.syncs;
        self.window_syncs += report.window_syncs;
        self.window_timer_syncs += report.window_timer_syncs;
        self.window_write_syncs += report.window_write_syncs;
        self.registrations += report.registrations;
        self.intakes += report.intakes;
        self.errors += report.errors;
        let room = FIRST_ERRORS.saturating_sub(self.first_errors.len());
        self.first_errors
            .extend(report.first_errors.iter().take(room).cloned());
        self.latencies
            .merge(&Latencies::from_wire(&report.latencies));
        self.server_waits
            .merge(&Latencies::from_wire(&report.server_waits));
        self.wake_late
            .merge(&Latencies::from_wire(&report.wake_late));
        self.cpu_s += report.cpu_s;
        self.max_worker_cpu_s = self.max_worker_cpu_s.max(report.cpu_s);
    }
}

/// The servers a kiosk syncs with, one client each; it picks one per sync. Today the
/// generator has one target; a list (several servers behind one name, say) needs only
/// more URLs here.
pub struct Targets {
    clients: Vec<SyncClient>,
}

/// One HTTP client per server URL, shared by all the kiosks of a process (each with its
/// own credential): a client per kiosk would cost each kiosk a runtime thread and a
/// connection pool, a generator's overhead that real kiosks, one per machine, do not
/// have. What the server sees is the same: each request carries its kiosk's credential.
#[derive(Default)]
pub struct SharedClients {
    /// (URL, CA, client).
    clients: Mutex<Vec<(String, Option<String>, SyncClient)>>,
}

impl SharedClients {
    /// A client for `url` trusting `ca`, made once and then shared.
    fn client(&self, url: &str, ca: Option<&str>) -> Result<SyncClient> {
        let mut clients = self.clients.lock().expect("shared clients");
        if let Some((_, _, client)) = clients
            .iter()
            .find(|(u, c, _)| u == url && c.as_deref() == ca)
        {
            return Ok(client.clone());
        }
        let client =
            SyncClient::new(url, None, ca).with_context(|| format!("a sync client for {url}"))?;
        clients.push((url.to_owned(), ca.map(str::to_owned), client.clone()));
        Ok(client)
    }
}

impl Targets {
    /// Clients for `urls` with the kiosk's own token and CA.
    pub fn for_kiosk(kiosk: &Kiosk, urls: &[String]) -> Result<Targets> {
        Targets::for_kiosk_sharing(kiosk, urls, &SharedClients::default())
    }

    /// Clients for `urls` with the kiosk's own token and CA, over `shared` connections.
    pub fn for_kiosk_sharing(
        kiosk: &Kiosk,
        urls: &[String],
        shared: &SharedClients,
    ) -> Result<Targets> {
        let (_, token) = kiosk.server()?.context("the kiosk is not enrolled")?;
        let ca = kiosk.server_ca()?;
        let clients = urls
            .iter()
            .map(|url| {
                Ok(shared
                    .client(url, ca.as_deref())?
                    .with_token(Some(token.clone()))
                    .for_branch(kiosk.identity().branch_id))
            })
            .collect::<Result<Vec<_>>>()?;
        anyhow::ensure!(!clients.is_empty(), "no server to sync with");
        Ok(Targets { clients })
    }

    /// The client for the next sync: with one target always it, so a one-server run
    /// draws no random numbers for it.
    pub fn pick(&self, rng: &mut impl rand::RngExt) -> &SyncClient {
        if self.clients.len() == 1 {
            &self.clients[0]
        } else {
            &self.clients[rng.random_range(0..self.clients.len())]
        }
    }
}

/// CPU time of the whole machine from /proc/stat, in clock ticks: (busy, total).
pub fn host_cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total - idle, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn latencies_merged_from_the_wire_answer_as_one_histogram() {
        let (mut a, mut b, mut all) = (
            Latencies::default(),
            Latencies::default(),
            Latencies::default(),
        );
        for v in 1..=600 {
            a.record(ms(v));
            all.record(ms(v));
        }
        for v in 601..=1000 {
            b.record(ms(v));
            all.record(ms(v));
        }
        let wire = serde_json::to_string(&b.to_wire()).expect("json");
        let back: WireLatencies = serde_json::from_str(&wire).expect("parse");
        a.merge(&Latencies::from_wire(&back));
        assert_eq!(a.count(), 1000);
        for q in [0.5, 0.9, 0.99, 1.0] {
            assert_eq!(a.quantile_ms(q), all.quantile_ms(q), "quantile {q}");
        }
        // Three significant digits.
        assert!(
            (a.quantile_ms(0.5) - 500.0).abs() <= 0.5,
            "{}",
            a.quantile_ms(0.5)
        );
        assert!((a.quantile_ms(0.99) - 990.0).abs() <= 1.0);
        assert_eq!(a.max_ms(), 1000.0);
    }

    #[test]
    fn the_largest_latency_is_exact_and_bounds_the_quantiles() {
        let mut l = Latencies::default();
        l.record(Duration::from_micros(123_456_789));
        assert_eq!(l.max_ms(), 123_456.789);
        assert_eq!(l.quantile_ms(1.0), 123_456.789);
        assert_eq!(Latencies::default().quantile_ms(0.99), 0.0);
    }

    #[test]
    fn merged_reports_add_counts_and_keep_the_first_errors() {
        let report = |n: u64, errors: usize| WorkerReport {
            syncs: n,
            window_syncs: n - 1,
            window_timer_syncs: n + 1,
            window_write_syncs: 2,
            registrations: 3,
            intakes: 1,
            errors: errors as u64,
            first_errors: (0..errors.min(FIRST_ERRORS))
                .map(|i| format!("sync {n}/{i}"))
                .collect(),
            latencies: {
                let mut l = Latencies::default();
                l.record(ms(n));
                l.to_wire()
            },
            server_waits: {
                let mut l = Latencies::default();
                l.record(ms(n / 2));
                l.to_wire()
            },
            wake_late: WireLatencies::default(),
            cpu_s: n as f64,
            wall_s: 30.0,
        };
        let mut merged = Merged::default();
        merged.add(&report(7, 8));
        merged.add(&report(5, 12));
        assert_eq!(merged.workers, 2);
        assert_eq!(merged.syncs, 12);
        assert_eq!(merged.window_syncs, 10);
        assert_eq!(merged.window_timer_syncs, 14);
        assert_eq!(merged.window_write_syncs, 4);
        assert_eq!(merged.errors, 20);
        assert_eq!(merged.first_errors.len(), FIRST_ERRORS);
        assert_eq!(merged.first_errors[7], "sync 7/7");
        assert_eq!(merged.first_errors[8], "sync 5/0");
        assert_eq!(merged.latencies.count(), 2);
        assert_eq!(merged.latencies.max_ms(), 7.0);
        assert_eq!(merged.server_waits.count(), 2);
        assert_eq!(merged.server_waits.max_ms(), 3.0);
        assert_eq!(merged.cpu_s, 12.0);
        assert_eq!(merged.max_worker_cpu_s, 7.0);
    }
}
