//! Syncs that break halfway: the server killed (SIGKILL) in the middle of a sync, and a
//! proxy that cuts answers, swallows requests and drops connections at random. Whatever
//! breaks, kiosks keep working, nothing acknowledged is lost, and once the network is
//! sound again every replica ends with the same rosters.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{RegistrationForm, RegistrationReceipt};
use blisko_tests::harness::{
    ServerProcess, branch_id, enlarge_classes, enroll_via, kiosk_roster, letters, seed,
    server_roster, sync, sync_until_complete, transient,
};
use blisko_tests::proxy::{Fault, FaultProxy};
use blisko_tests::{backends, for_each_backend};

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

#[test]
fn a_server_killed_mid_sync_loses_nothing() -> Result<()> {
    // The rounds take turns on the backends: each store is killed mid-sync, in the time
    // one store's rounds took.
    let stores = backends();
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let tmp = tempfile::tempdir()?;
    let mut finished = 0;
    let mut recovery_ms = None;
    for round in 0..8 {
        let data = tmp.path().join(format!("server{round}"));
        let backend = stores[round % stores.len()];
        eprintln!("round {round} on {backend}");
        let mut server = ServerProcess::start_backend(backend, &data, true)?;
        enlarge_classes(&server, "MAL", tmp.path())?;
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
            let connected = proxy.wait_for_connection(seen);
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
    for_each_backend(|backend| {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed);
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        enlarge_classes(&server, "MAL", tmp.path())?;
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
    })
}
