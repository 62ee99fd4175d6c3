//! Syncs that break halfway: the server killed (SIGKILL) in the middle of a sync, and a
//! proxy that cuts answers, swallows requests and drops connections at random. Whatever
//! breaks, kiosks keep working, nothing acknowledged is lost, and once the network is
//! sound again every replica ends with the same rosters.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use blisko_kiosk::Kiosk;
use blisko_kiosk::KioskError;
use blisko_kiosk::kiosk::{RegistrationForm, RegistrationReceipt, local_date};
use blisko_kiosk::sync::SyncReport;
use blisko_tests::harness::{
    ServerProcess, branch_id, kiosk_roster, letters, seed, server_roster, setup_key, sync,
};
use blisko_tests::proxy::{Fault, FaultProxy};

/// Make the MAL branch's classes large, so hundreds of people fit.
fn enlarge_classes(server: &ServerProcess, dir: &Path) -> Result<()> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let mut catalogs = blisko_shared::demo::catalogs(local_date(now_ms), 6, None);
    catalogs.retain(|c| c.branch.code == "MAL");
    for class in &mut catalogs[0].classes {
        class.capacity = 400;
        class.waitlist_limit = 400;
    }
    let file = dir.join("catalog.json");
    std::fs::write(&file, serde_json::to_vec(&catalogs)?)?;
    server.admin(&["catalog-import", &file.display().to_string()])?;
    Ok(())
}

/// Register `count` new people at a kiosk, spread over its classes.
fn register(
    kiosk: &Mutex<Kiosk>,
    count: usize,
    tag: usize,
    next: &mut usize,
) -> Result<Vec<RegistrationReceipt>> {
    let mut k = kiosk.lock().expect("kiosk");
    let classes = k.classes()?;
    let mut receipts = Vec::new();
    for _ in 0..count {
        *next += 1;
        let form = RegistrationForm {
            class_id: classes[*next % classes.len()].id.to_string(),
            given_name: format!("Osoba {}", letters(*next)),
            family_name: format!("Nowak {}", letters(tag)),
            birth_year: 1940 + (*next % 40) as i32,
            consent: true,
            ..RegistrationForm::default()
        };
        receipts.push(k.register(&form)?);
    }
    Ok(receipts)
}

/// A sync that failed because the connection or the server broke: worth retrying.
fn transient(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<KioskError>(), Some(KioskError::Sync(s)) if s.is_transient())
}

/// Sync until a sync completes with nothing left; only transient failures are allowed.
fn sync_until_complete(kiosk: &Mutex<Kiosk>) -> Result<SyncReport> {
    let mut last = None;
    for _ in 0..20 {
        match sync(kiosk) {
            Ok(report) if !report.incomplete && report.pending_changes == 0 => return Ok(report),
            Ok(report) => last = Some(format!("{report:?}")),
            Err(e) if transient(&e) => {
                last = Some(format!("{e:#}"));
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.context("a sync failed for good")),
        }
    }
    bail!("no complete sync after 20 tries; last: {last:?}")
}

/// Every acknowledged registration is on the server, a confirmation is never taken back,
/// and the kiosk agrees with the server.
fn check_against_server(
    server: &ServerProcess,
    kiosks: &[&Mutex<Kiosk>],
    receipts: &[RegistrationReceipt],
) -> Result<()> {
    let classes: Vec<String> = kiosks[0]
        .lock()
        .expect("kiosk")
        .classes()?
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    let mut merged = BTreeMap::new();
    for class in &classes {
        let roster = server_roster(server, class)?;
        for k in kiosks {
            assert_eq!(
                kiosk_roster(k, class)?,
                roster,
                "kiosk and server hold one roster of {class}"
            );
        }
        merged.extend(roster);
    }
    for r in receipts {
        let (status, _) = merged
            .get(&r.registration_id.to_string())
            .with_context(|| format!("registration {} reached the server", r.registration_id))?;
        if r.status == "confirmed" {
            assert_eq!(status, "confirmed", "a confirmation is never taken back");
        }
    }
    for k in kiosks {
        let mut k = k.lock().expect("kiosk");
        assert_eq!(k.status()?.pending_changes, 0);
        let problems = k.verify()?;
        assert!(problems.is_empty(), "{problems:?}");
    }
    Ok(())
}

/// Add a kiosk to a branch and enroll it through `url` (a proxy): the kiosk keeps that
/// address as its server's.
fn enroll_via(server: &ServerProcess, branch: &str, url: &str, dir: &Path) -> Result<Mutex<Kiosk>> {
    let added = server.admin(&["kiosk", "add", "--branch", branch])?;
    let code = added["code"].as_str().context("code")?;
    let kiosk = blisko_kiosk::sync::enroll(dir, url, code, &setup_key(dir)?)?;
    assert_eq!(kiosk.status()?.server_url.as_deref(), Some(url));
    Ok(Mutex::new(kiosk))
}

/// Wait until the proxy has accepted more than `seen` connections.
fn wait_for_connection(proxy: &FaultProxy, seen: u64) -> Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while proxy.connections() <= seen {
        ensure!(
            std::time::Instant::now() < deadline,
            "the kiosk never connected"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

#[test]
fn a_server_killed_mid_sync_loses_nothing() -> Result<()> {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let tmp = tempfile::tempdir()?;
    let mut finished = 0;
    let mut recovery_ms = None;
    for round in 0..8 {
        let data = tmp.path().join(format!("server{round}"));
        let mut server = ServerProcess::start(&data, true)?;
        enlarge_classes(&server, tmp.path())?;
        let mal = branch_id(&data, "MAL")?;
        // A proxy that passes everything, only to see when the sync's request goes out
        // (preparing 300 documents takes a while): the kill is timed from there.
        let proxy = FaultProxy::start(server.addr)?;
        let kiosk = enroll_via(
            &server,
            &mal,
            &proxy.url(),
            &tmp.path().join(format!("k{round}")),
        )?;
        sync(&kiosk)?;
        let mut next = 0;
        let receipts = register(&kiosk, 300, round, &mut next)?;

        // Even rounds: 0-150 ms into the request. Odd rounds: anywhere up to a little past
        // the time the last whole push took, so some kills land after the server's commit
        // but before the kiosk has read the answer.
        let limit = match recovery_ms {
            Some(ms) if round % 2 == 1 => ms * 6 / 5,
            _ => 150,
        };
        let delay = Duration::from_millis(rng.random_range(0..=limit));
        let seen = proxy.connections();
        let outcome = std::thread::scope(|s| {
            let syncing = s.spawn(|| sync(&kiosk));
            let connected = wait_for_connection(&proxy, seen);
            std::thread::sleep(delay);
            server.kill();
            connected?;
            syncing.join().expect("the sync thread")
        });
        match &outcome {
            Ok(report) => {
                finished += 1;
                eprintln!(
                    "round {round}: killed {delay:?} into the sync, which had finished: {} rounds",
                    report.rounds
                )
            }
            Err(e) => {
                ensure!(
                    transient(e),
                    "a killed server is a transient failure: {e:#}"
                );
                eprintln!("round {round}: killed {delay:?} into the sync: {e:#}");
            }
        }
        let pending = kiosk.lock().expect("kiosk").status()?.pending_changes;

        let server = ServerProcess::start_on(&data, server.addr, true)?;
        let started = std::time::Instant::now();
        let report = sync_until_complete(&kiosk)?;
        recovery_ms = Some(started.elapsed().as_millis() as u64);
        eprintln!(
            "round {round}: {pending} changes were pending after the kill; the next sync pushed {} documents",
            report.pushed_docs
        );
        check_against_server(&server, &[&kiosk], &receipts)?;
        let total: usize = kiosk
            .lock()
            .expect("kiosk")
            .classes()?
            .iter()
            .map(|c| server_roster(&server, &c.id.to_string()).map(|r| r.len()))
            .sum::<Result<_>>()?;
        assert_eq!(total, receipts.len(), "nothing twice, nothing missing");
    }
    eprintln!("{finished} of 8 syncs finished before the kill");
    Ok(())
}

#[test]
fn syncs_cut_anywhere_converge_once_the_network_is_sound() -> Result<()> {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let tmp = tempfile::tempdir()?;
    let server = ServerProcess::start(&tmp.path().join("server"), true)?;
    enlarge_classes(&server, tmp.path())?;
    let mal = branch_id(&server.data, "MAL")?;
    let proxy = FaultProxy::start(server.addr)?;

    // Enrolled through the proxy: the kiosks know only its address.
    let mut kiosks = Vec::new();
    for name in ["a", "b"] {
        kiosks.push(enroll_via(
            &server,
            &mal,
            &proxy.url(),
            &tmp.path().join(name),
        )?);
    }
    for k in &kiosks {
        sync(k)?;
    }

    let mut faults = StdRng::seed_from_u64(seed ^ 0x5eed);
    proxy.set_plan(move || match faults.random_range(0..10) {
        0..=2 => Fault::Pass,
        3..=5 => Fault::CutResponse(faults.random_range(0..1500)),
        6 => Fault::CutRequest(faults.random_range(0..1500)),
        7 => Fault::DropRequest(Duration::from_millis(faults.random_range(0..100))),
        _ => Fault::CloseAtOnce,
    });

    let mut receipts = Vec::new();
    let mut next = 0;
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..40 {
        let i = rng.random_range(0..kiosks.len());
        let count = rng.random_range(0..6);
        receipts.extend(register(&kiosks[i], count, i, &mut next)?);
        match sync(&kiosks[i]) {
            Ok(_) => ok += 1,
            Err(e) if transient(&e) => failed += 1,
            Err(e) => return Err(e.context("a cut connection must be a transient failure")),
        }
    }
    eprintln!(
        "{} registrations; syncs: {ok} completed, {failed} broken; proxy: {:?}",
        receipts.len(),
        proxy.stats()
    );
    assert!(failed > 0, "the proxy broke some syncs");

    proxy.pass_all();
    for _ in 0..2 {
        for k in &kiosks {
            sync_until_complete(k)?;
        }
    }
    let refs: Vec<&Mutex<Kiosk>> = kiosks.iter().collect();
    check_against_server(&server, &refs, &receipts)?;
    Ok(())
}
