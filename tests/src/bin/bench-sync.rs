//! The "50 kiosks" sync benchmark: branches × kiosks, each kiosk registering people
//! offline, then everyone syncs with a real `blisko-server` process on loopback until
//! each kiosk holds its whole branch. Prints one JSON line.
//!
//! Bytes are counted on the wire (HTTP headers included) by a counting proxy between
//! the kiosks and the server.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::json;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{RegistrationForm, system_clock};
use blisko_kiosk::sync::{SyncClient, SyncReport, sync_once};
use blisko_shared::demo;
use blisko_shared::ids::{BranchId, ClassId};
use blisko_shared::model::{Branch, Catalog, Class};
use blisko_tests::harness::{ServerProcess, admin, process_cpu_seconds};
use blisko_tests::wire::CountingProxy;

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

/// Branch catalogs for the benchmark, built from the demo's classes.
fn catalogs(args: &Args) -> Vec<Catalog> {
    let today = jiff::Zoned::now().date();
    let templates: Vec<Catalog> = demo::catalogs(today, 1, None);
    let classes: Vec<&Class> = templates.iter().flat_map(|c| &c.classes).collect();
    (0..args.branches)
        .map(|b| {
            let template = &templates[b % templates.len()];
            let branch = Branch {
                id: BranchId::new(),
                code: format!("B{:02}", b + 1),
                name: format!("Punkt {}", b + 1),
                ..template.branch.clone()
            };
            let classes = (0..args.classes_per_branch)
                .map(|i| Class {
                    id: ClassId::new(),
                    branch_id: branch.id,
                    capacity: 30,
                    // Every registration gets a place, seat or waiting list.
                    waitlist_limit: (args.registrations * args.kiosks_per_branch) as u32,
                    ..classes[i % classes.len()].clone()
                })
                .collect();
            Catalog {
                branch,
                classes,
                sessions: Vec::new(),
                services: template.services.clone(),
                allotments: BTreeMap::new(),
                staff: Vec::new(),
            }
        })
        .collect()
}

fn import(data: &Path, catalogs: &[Catalog]) -> Result<()> {
    let file = data.with_extension("catalogs.json");
    std::fs::write(&file, serde_json::to_vec(catalogs)?)?;
    admin(data, &["catalog-import", &file.to_string_lossy()])?;
    Ok(())
}

const GIVEN: &[&str] = &[
    "Anna",
    "Maria",
    "Krystyna",
    "Barbara",
    "Zofia",
    "Jan",
    "Stanisław",
    "Andrzej",
    "Józef",
    "Tadeusz",
    "Halina",
    "Elżbieta",
    "Grażyna",
    "Wiesław",
    "Ryszard",
];
const FAMILY: &[&str] = &[
    "Nowak",
    "Kowalska",
    "Wiśniewski",
    "Wójcik",
    "Kowalczyk",
    "Kamińska",
    "Lewandowski",
    "Zielińska",
    "Szymański",
    "Woźniak",
    "Dąbrowska",
    "Kozłowski",
    "Jankowska",
    "Mazur",
    "Krawczyk",
];

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

fn form(kiosk: usize, i: usize, class: ClassId) -> RegistrationForm {
    let n = kiosk * 7919 + i;
    RegistrationForm {
        class_id: class.to_string(),
        given_name: GIVEN[n % GIVEN.len()].to_owned(),
        family_name: FAMILY[(n / GIVEN.len()) % FAMILY.len()].to_owned(),
        birth_year: 1935 + (n % 50) as i32,
        phone: Some(format!(
            "+48 6{:02} {:03} {:03}",
            n % 100,
            (n / 100) % 1000,
            n % 997
        )),
        consent: true,
        ..RegistrationForm::default()
    }
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

/// Run `f` over every kiosk index with at most `concurrency` at a time.
fn for_each_bounded<T: Send>(
    count: usize,
    concurrency: usize,
    f: impl Fn(usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..concurrency.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= count {
                        return;
                    }
                    match f(i) {
                        Ok(v) => results.lock().expect("results").push((i, v)),
                        Err(e) => {
                            first_error.lock().expect("errors").get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("errors") {
        return Err(e);
    }
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);
    Ok(results.into_iter().map(|(_, v)| v).collect())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, false)?;
    let proxy = CountingProxy::start(server.addr)?;
    let url = format!("http://{}", proxy.addr());

    // Set-up (not measured): catalogs, kiosks, allotments, the catalogs on each kiosk.
    let mut catalogs = catalogs(&args);
    import(&data, &catalogs)?;
    let kiosk_count = args.branches * args.kiosks_per_branch;
    let mut kiosks = Vec::new();
    for k in 0..kiosk_count {
        let branch = &catalogs[k / args.kiosks_per_branch].branch;
        let added = admin(&data, &["kiosk", "add", "--branch", &branch.id.to_string()])?;
        let code = added["code"].as_str().context("enrollment code")?;
        let enrolled = SyncClient::new(&url, None, None)?.enroll(code)?;
        let kiosk = Kiosk::setup_enrolled(
            &tmp.path().join(format!("kiosk-{k}")),
            &enrolled,
            &url,
            None,
            system_clock(),
        )?;
        kiosks.push(Mutex::new(kiosk));
    }
    // Each kiosk may confirm 4 seats per class offline; the rest is the server's pool.
    for (b, catalog) in catalogs.iter_mut().enumerate() {
        for class in &catalog.classes {
            let per_kiosk = (0..args.kiosks_per_branch)
                .map(|i| {
                    let k = kiosks[b * args.kiosks_per_branch + i]
                        .lock()
                        .expect("kiosk");
                    (k.identity().kiosk_id, 4)
                })
                .collect();
            catalog.allotments.insert(class.id, per_kiosk);
        }
    }
    import(&data, &catalogs)?;
    let sync = |k: &Mutex<Kiosk>| -> Result<SyncReport> {
        let client = SyncClient::for_kiosk(&k.lock().expect("kiosk"))?;
        Ok(sync_once(k, &client)?)
    };
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
        "offline_registration_s": round(offline_s),
        "wall_s": round(wall_s),
        "sync_passes": passes,
        "server_cpu_s": round(server_cpu_s),
        "kiosks_cpu_s": round(kiosks_cpu_s),
        "bytes_total": wire.up + wire.down,
        "bytes_up": wire.up,
        "bytes_down": wire.down,
        "http_requests": requests,
        "server_peak_mb": server.peak_memory_kib().map(|k| round(k as f64 / 1024.0)),
        "server_storage_mb": round(dir_size(&data) as f64 / 1_048_576.0),
        "idle_sync_bytes": idle_wire.up + idle_wire.down,
        "idle_sync_requests": idle.traffic.requests,
        "floor_bytes": floor,
        "bytes_vs_floor": round((wire.up + wire.down) as f64 / floor as f64),
    });
    println!("{result}");
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
