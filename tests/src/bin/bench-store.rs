//! Benchmark of the kiosk's store, in-process through the kiosk's library:
//!
//! 1. the latency of durable registrations (each call returns after its SQLite
//!    transaction committed with synchronous=FULL), spread round-robin over the classes;
//! 2. the cost to open a store holding many registrations: `Kiosk::open`, the class list,
//!    a roster, and the first registration after opening (which loads the roster document).
//!
//! Prints one JSON line of results on stdout and a short summary on stderr.
//! Run with `cargo run --release -p blisko-tests --bin bench-store`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::json;

use blisko_kiosk::kiosk::{self, Kiosk, RegistrationForm};
use blisko_shared::demo;
use blisko_shared::ids::KioskId;
use blisko_tests::harness::{open_kiosk, setup_key};

#[derive(Debug, Parser)]
#[command(
    name = "bench-store",
    about = "Latency of durable registrations and the cost to open a large kiosk store"
)]
struct Args {
    /// Registrations whose latency is measured.
    #[arg(long, default_value_t = 10_000)]
    registrations: usize,
    /// Registrations the store holds when opening it is measured (at least --registrations).
    #[arg(long, default_value_t = 50_000)]
    open_registrations: usize,
    /// Demo branch whose classes take the registrations.
    #[arg(long, default_value = "MAL")]
    branch: String,
    /// Classes the registrations are spread over (the demo's classes, repeated). A
    /// roster holds one class's term, so real rosters stay in the tens; fewer classes
    /// here means larger rosters and slower registrations.
    #[arg(long, default_value_t = 100)]
    classes: usize,
    /// Data folder (must not hold a kiosk yet); a temporary folder when absent.
    #[arg(long)]
    data: Option<PathBuf>,
}

const GIVEN: &[&str] = &["Anna", "Zofia", "Łucja", "Krystyna", "Jan", "Józef"];
const FAMILY: &[&str] = &["Kowalska", "Nowak", "Wiśniewska", "Żak", "Zając"];

fn form(class_id: &str, i: usize) -> RegistrationForm {
    RegistrationForm {
        class_id: class_id.to_owned(),
        given_name: GIVEN[i % GIVEN.len()].to_owned(),
        family_name: FAMILY[i % FAMILY.len()].to_owned(),
        birth_year: 1940 + (i % 60) as i32,
        consent: true,
        ..RegistrationForm::default()
    }
}

/// A standalone kiosk for one demo branch whose classes take every registration: the
/// capacities and the kiosk's allotments are raised to `seats`.
fn set_up(dir: &Path, branch: &str, classes: usize, seats: u32) -> Result<Kiosk> {
    let wall = kiosk::system_clock();
    let (branch_id, _) = demo::branch_ids()
        .into_iter()
        .find(|(_, code)| code.eq_ignore_ascii_case(branch))
        .with_context(|| format!("no demo branch {branch}"))?;
    let kiosk_id = KioskId::new();
    let mut catalog = demo::catalogs(kiosk::local_date(wall()), 6, Some((kiosk_id, branch_id)))
        .into_iter()
        .find(|c| c.branch.id == branch_id)
        .context("the demo catalogue of the branch")?;
    let templates = std::mem::take(&mut catalog.classes);
    if templates.is_empty() {
        bail!("branch {branch} has no classes");
    }
    catalog.sessions.clear();
    catalog.allotments.clear();
    for i in 0..classes.max(1) {
        let mut class = templates[i % templates.len()].clone();
        class.id = blisko_shared::ids::ClassId::new();
        class.capacity = seats;
        class.waitlist_limit = seats;
        catalog
            .allotments
            .insert(class.id, BTreeMap::from([(kiosk_id, seats)]));
        catalog.classes.push(class);
    }
    let key = setup_key(dir)?;
    Ok(Kiosk::setup_with_catalog(
        dir, kiosk_id, &catalog, &key, wall,
    )?)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.open_registrations < args.registrations {
        bail!("--open-registrations must be at least --registrations");
    }
    let temp;
    let dir = match &args.data {
        Some(d) => d.clone(),
        None => {
            temp = tempfile::tempdir().context("create a temporary folder")?;
            temp.path().join("kiosk")
        }
    };
    let seats = u32::try_from(args.open_registrations + 1).context("too many registrations")?;
    let mut k = set_up(&dir, &args.branch, args.classes, seats)?;
    let classes: Vec<String> = k.classes()?.iter().map(|c| c.id.to_string()).collect();
    if classes.is_empty() {
        bail!("branch {} has no classes", args.branch);
    }
    eprintln!(
        "bench-store: {} registrations over {} classes in {}",
        args.registrations,
        classes.len(),
        dir.display()
    );

    // 1. Latency of durable registrations.
    let mut latencies = Vec::with_capacity(args.registrations);
    let measured = Instant::now();
    for i in 0..args.registrations {
        let class = &classes[i % classes.len()];
        let start = Instant::now();
        let receipt = k.register(&form(class, i))?;
        latencies.push(ms(start.elapsed()));
        // As the app does: compaction runs after the acknowledgement is shown.
        k.housekeeping()?;
        if receipt.status != "confirmed" {
            bail!("registration {i} is {}, expected confirmed", receipt.status);
        }
    }
    let measured_s = measured.elapsed().as_secs_f64();
    let mean = latencies.iter().sum::<f64>() / latencies.len().max(1) as f64;
    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let (p50, p99, max) = (
        percentile(&sorted, 50.0),
        percentile(&sorted, 99.0),
        sorted.last().copied().unwrap_or(0.0),
    );
    let slow = latencies.iter().filter(|&&l| l > 10.0).count();

    // 2. Fill up to the size whose opening is measured.
    let fill = Instant::now();
    for i in args.registrations..args.open_registrations {
        let class = &classes[i % classes.len()];
        k.register(&form(class, i))?;
        k.housekeeping()?;
        if (i + 1) % 10_000 == 0 {
            eprintln!("  {} registrations stored", i + 1);
        }
    }
    let fill_s = fill.elapsed().as_secs_f64();
    let counts = k.status()?.counts;
    drop(k);
    let db_bytes = std::fs::metadata(dir.join(blisko_kiosk::store::DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0);

    // 3. Opening the full store.
    let start = Instant::now();
    let mut k = open_kiosk(&dir)?;
    let open_ms = ms(start.elapsed());
    let t = Instant::now();
    let class_rows = k.classes()?;
    let classes_ms = ms(t.elapsed());
    let t = Instant::now();
    let roster = k.roster(&classes[0])?;
    let roster_ms = ms(t.elapsed());
    let ready_ms = ms(start.elapsed());
    let t = Instant::now();
    k.register(&form(&classes[0], args.open_registrations))?;
    let first_registration_ms = ms(t.elapsed());
    let t = Instant::now();
    k.register(&form(&classes[0], args.open_registrations + 1))?;
    let second_registration_ms = ms(t.elapsed());
    drop(k);

    let result = json!({
        "bench": "store",
        "branch": args.branch,
        "classes": class_rows.len(),
        "registrations": {
            "count": args.registrations,
            "p50_ms": round3(p50),
            "p99_ms": round3(p99),
            "max_ms": round3(max),
            "mean_ms": round3(mean),
            "over_10ms": slow,
            "total_s": round3(measured_s),
        },
        "open": {
            "registrations": counts.registrations_active,
            "db_bytes": db_bytes,
            "fill_s": round3(fill_s),
            "open_ms": round3(open_ms),
            "classes_ms": round3(classes_ms),
            "roster_ms": round3(roster_ms),
            "roster_rows": roster.len(),
            "ready_ms": round3(ready_ms),
            "first_registration_ms": round3(first_registration_ms),
            "second_registration_ms": round3(second_registration_ms),
        },
    });
    println!("{result}");
    eprintln!(
        "registrations: {} in {:.1} s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, mean {:.2} ms ({} over 10 ms)",
        args.registrations, measured_s, p50, p99, max, mean, slow
    );
    eprintln!(
        "open with {} registrations ({:.1} MB): open {:.1} ms, classes {:.1} ms, roster of {} rows {:.1} ms; \
         first registration {:.1} ms, next {:.1} ms",
        counts.registrations_active,
        db_bytes as f64 / 1e6,
        open_ms,
        classes_ms,
        roster.len(),
        roster_ms,
        first_registration_ms,
        second_registration_ms
    );
    Ok(())
}
