//! The "50 kiosks" sync benchmark: branches × kiosks, each kiosk registering people
//! offline, then everyone syncs with a real `blisko-server` process on loopback until
//! each kiosk holds its whole branch. Prints one JSON line.
//!
//! Bytes are counted on the wire (HTTP headers included) by a counting proxy between
//! the kiosks and the server.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Result;
use clap::Parser;
use serde_json::json;

use blisko_kiosk::kiosk::RegistrationForm;
use blisko_tests::harness::{ServerProcess, process_cpu_seconds, sync};
use blisko_tests::wire::CountingProxy;
use blisko_tests::workload::{self, allot, enroll_at, for_each_bounded, form, import, round2};

#[derive(Debug, Parser)]
#[command(about = "Sync benchmark: many kiosks, one real server")]
struct Args {
    #[arg(long, default_value_t = 10)]
    branches: usize,
    #[arg(long, default_value_t = 5)]
    kiosks_per_branch: usize,
    /// Registrations each kiosk makes offline.
    #[arg(long, default_value_t = 500)]
    registrations: usize,
    #[arg(long, default_value_t = 12)]
    classes_per_branch: usize,
    /// Kiosks syncing at the same time.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// The minimal content of one registration, as the floor counts it.
fn registration_json(kiosk: usize, form: &RegistrationForm, at: u64) -> serde_json::Value {
    json!({
        "given": form.given_name,
        "family": form.family_name,
        "birth_year": form.birth_year,
        "phone": form.phone,
        "time": at,
        "kiosk": kiosk,
    })
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, false)?;
    let proxy = CountingProxy::start(server.addr)?;
    let url = format!("http://{}", proxy.addr());

    // Set-up (not measured): catalogs, kiosks, allotments, the catalogs on each kiosk.
    // Every registration gets a place, seat or waiting list.
    let waitlist = (args.registrations * args.kiosks_per_branch) as u32;
    let mut catalogs = workload::catalogs(args.branches, args.classes_per_branch, waitlist);
    import(&data, &catalogs)?;
    let kiosk_count = args.branches * args.kiosks_per_branch;
    let mut kiosks = Vec::new();
    for k in 0..kiosk_count {
        let branch = catalogs[k / args.kiosks_per_branch].branch.id;
        let dir = tmp.path().join(format!("kiosk-{k}"));
        kiosks.push(Mutex::new(enroll_at(&data, &url, branch, &dir)?));
    }
    // Each kiosk may confirm 4 seats per class offline; the rest is the server's pool.
    let ids: Vec<Vec<_>> = kiosks
        .chunks(args.kiosks_per_branch)
        .map(|branch| {
            branch
                .iter()
                .map(|k| k.lock().expect("kiosk").identity().kiosk_id)
                .collect()
        })
        .collect();
    allot(&mut catalogs, &ids, 4);
    import(&data, &catalogs)?;
    for_each_bounded(kiosk_count, args.concurrency, |i| sync(&kiosks[i]))?;

    // Offline work (measured apart): each kiosk registers people round-robin over classes.
    let started = Instant::now();
    let floor_rows: Vec<Vec<serde_json::Value>> = for_each_bounded(kiosk_count, 2, |k| {
        let mut kiosk = kiosks[k].lock().expect("kiosk");
        let classes = kiosk.classes()?;
        let mut rows = Vec::new();
        for i in 0..args.registrations {
            let form = form(k, i, classes[i % classes.len()].id);
            kiosk.register(&form)?;
            rows.push(registration_json(
                k,
                &form,
                started.elapsed().as_millis() as u64,
            ));
        }
        Ok(rows)
    })?;
    let offline_s = started.elapsed().as_secs_f64();
    let floor_rows: Vec<_> = floor_rows.into_iter().flatten().collect();
    let floor_one = gzip_len(&serde_json::to_vec(&floor_rows)?)?;
    let floor = floor_one * args.kiosks_per_branch;
    // What per-person sealing (crypto-shredding) adds to any design, at the least: every
    // registration here is a new resident, whose key and whose sealed fields' tag must
    // reach every kiosk of the branch (up once, down to the others) for the roll call to
    // work offline. The sealed names no longer compress either, which this leaves out.
    let sealing_min = floor_rows.len()
        * args.kiosks_per_branch
        * (blisko_shared::crypto::KEY_BYTES + blisko_shared::crypto::TAG_BYTES);

    // Measured: sync until every kiosk holds its whole branch.
    let wire_before = proxy.counts();
    let cpu_before = server.cpu_seconds().unwrap_or(0.0);
    let own_cpu = || process_cpu_seconds(std::process::id()).unwrap_or(0.0);
    let kiosks_cpu_before = own_cpu();
    let started = Instant::now();
    let mut passes = 0;
    let mut requests = 0u64;
    let branch_total = (args.registrations * args.kiosks_per_branch) as u64;
    loop {
        passes += 1;
        let reports = for_each_bounded(kiosk_count, args.concurrency, |i| sync(&kiosks[i]))?;
        requests += reports.iter().map(|r| r.traffic.requests).sum::<u64>();
        let complete = kiosks.iter().all(|k| {
            k.lock()
                .ok()
                .and_then(|k| k.status().ok())
                .is_some_and(|s| {
                    s.counts.registrations_active == branch_total && s.pending_changes == 0
                })
        });
        if complete && reports.iter().all(|r| !r.incomplete) {
            break;
        }
        anyhow::ensure!(passes < 20, "not converged after {passes} passes");
    }
    let wall_s = started.elapsed().as_secs_f64();
    let server_cpu_s = server.cpu_seconds().unwrap_or(0.0) - cpu_before;
    // The kiosks run in this process (with the counting proxy, a small share).
    let kiosks_cpu_s = own_cpu() - kiosks_cpu_before;
    let wire = proxy.counts().since(wire_before);

    let idle_before = proxy.counts();
    let idle = sync(&kiosks[0])?;
    let idle_wire = proxy.counts().since(idle_before);

    let result = json!({
        "branches": args.branches,
        "kiosks": kiosk_count,
        "registrations": floor_rows.len(),
        "offline_registration_s": round2(offline_s),
        "wall_s": round2(wall_s),
        "sync_passes": passes,
        "server_cpu_s": round2(server_cpu_s),
        "kiosks_cpu_s": round2(kiosks_cpu_s),
        "bytes_total": wire.up + wire.down,
        "bytes_up": wire.up,
        "bytes_down": wire.down,
        "http_requests": requests,
        "server_peak_mb": server.peak_memory_kib().map(|k| round2(k as f64 / 1024.0)),
        "server_storage_mb": round2(dir_size(&data) as f64 / 1_048_576.0),
        "idle_sync_bytes": idle_wire.up + idle_wire.down,
        "idle_sync_requests": idle.traffic.requests,
        "floor_bytes": floor,
        "bytes_vs_floor": round2((wire.up + wire.down) as f64 / floor as f64),
        "sealing_min_bytes": sealing_min,
        "bytes_vs_floor_with_sealing": round2(
            (wire.up + wire.down) as f64 / (floor + sealing_min) as f64
        ),
    });
    println!("{result}");
    Ok(())
}
