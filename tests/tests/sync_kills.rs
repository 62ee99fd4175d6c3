//! Processes killed with SIGKILL in the middle of syncs, over many iterations: the
//! kiosk's `blisko-kiosk sync` at random moments, and the server while three kiosks sync
//! at once. After every kill the stores pass SQLite's integrity check (the server's on
//! SQLite) and hold everything
//! acknowledged; after a restart every replica converges and nothing is lost.
//!
//! Each runs on the server's stores of `BLISKO_TEST_BACKENDS` in turn, the iterations
//! shared out between them: `BLISKO_KIOSK_SYNC_KILLS` (12 by default) and
//! `BLISKO_SERVER_KILLS` (10) set them in all; `BLISKO_SEED` replays a run (the seed is
//! printed at the start).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_tests::harness::{
    ServerProcess, branch_id, check_replicas, enlarge_classes, enroll_kiosk, enroll_via, env_count,
    letters, seed, server_integrity, sync, sync_until_quiet, transient,
};
use blisko_tests::kiosk_cli::kiosk_command;
use blisko_tests::proxy::FaultProxy;
use blisko_tests::{Backend, backends, for_each_backend};

/// What the kiosks acknowledged.
#[derive(Debug, Default)]
struct Ledger {
    /// Registration id -> (kiosk, class, status when acknowledged).
    registrations: BTreeMap<String, (usize, String, String)>,
    cancelled: BTreeSet<String>,
    /// (kiosk, resident code, reference) of intake requests.
    intakes: Vec<(usize, String, String)>,
}

/// Some offline work at kiosk `tag`: registrations, a few cancellations of its own
/// earlier ones, intake requests.
fn work(
    k: &mut Kiosk,
    tag: usize,
    rng: &mut StdRng,
    ledger: &mut Ledger,
    registrations: usize,
    intakes: usize,
) -> Result<()> {
    let classes = k.classes()?;
    let service = k
        .services()?
        .into_iter()
        .find(|s| !s.requires_pesel)
        .context("a service without PESEL")?;
    let start = ledger.registrations.len() + ledger.intakes.len();
    for n in start..start + registrations {
        let form = RegistrationForm {
            class_id: classes[rng.random_range(0..classes.len())].id.to_string(),
            given_name: format!("Osoba {}", letters(n)),
            family_name: format!("Ubita {}", letters(tag)),
            birth_year: rng.random_range(1940..2005),
            consent: true,
            ..RegistrationForm::default()
        };
        let r = k.register(&form)?;
        ledger.registrations.insert(
            r.registration_id.to_string(),
            (tag, r.class_id.to_string(), r.status.to_string()),
        );
    }
    let own: Vec<String> = ledger
        .registrations
        .iter()
        .filter(|(id, r)| r.0 == tag && !ledger.cancelled.contains(*id))
        .map(|(id, _)| id.clone())
        .collect();
    for id in own.iter().filter(|_| rng.random_range(0..5) == 0) {
        k.cancel(id)?;
        ledger.cancelled.insert(id.clone());
    }
    for n in start..start + intakes {
        let form = IntakeForm {
            service_id: service.id.to_string(),
            given_name: format!("Wnioskodawca {}", letters(n)),
            family_name: format!("Ubita {}", letters(tag)),
            birth_year: rng.random_range(1940..2005),
            description: "Proszę o kontakt.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        };
        let r = k.submit_intake(&form)?;
        ledger.intakes.push((tag, r.resident_code, r.reference));
    }
    Ok(())
}

/// Every record acknowledged by the kiosks in `from` is at this kiosk, in its state: a
/// cancellation where one was acknowledged, a confirmation kept otherwise.
fn check_held(k: &Kiosk, ledger: &Ledger, from: impl Fn(usize) -> bool) -> Result<()> {
    let mut states = BTreeMap::new();
    for class in k.classes()? {
        for row in k.roster(&class.id.to_string())? {
            states.insert(row.registration_id.to_string(), row.status);
        }
    }
    for (id, (_, _, acked)) in ledger.registrations.iter().filter(|r| from(r.1.0)) {
        let status = states
            .get(id)
            .with_context(|| format!("acknowledged registration {id} is lost"))?;
        if ledger.cancelled.contains(id) {
            ensure!(status == "cancelled", "the cancellation of {id} is lost");
        } else if acked == "confirmed" {
            ensure!(status == "confirmed", "confirmed {id} became {status}");
        } else {
            ensure!(
                status != "cancelled",
                "{id} cancelled though no one cancelled it"
            );
        }
    }
    for (_, code, reference) in ledger.intakes.iter().filter(|i| from(i.0)) {
        let overview = k.resident(code)?;
        ensure!(
            overview.requests.iter().any(|r| r.reference == *reference),
            "acknowledged request {reference} is lost"
        );
    }
    Ok(())
}

#[test]
fn a_kiosk_killed_during_sync_loses_nothing() -> Result<()> {
    for_each_backend(|backend| {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x4B11);
        // The iterations are shared out between the stores.
        let iterations = env_count("BLISKO_KIOSK_SYNC_KILLS", 12).div_ceil(backends().len() as u64);
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        enlarge_classes(&server, "MAL", tmp.path())?;
        let mal = branch_id(&server.data, "MAL")?;
        // The victim runs as a process; a peer, in this one, gives it news to fetch.
        let dir = tmp.path().join("victim");
        let victim = enroll_kiosk(&server, &mal, &dir)?;
        let peer = enroll_kiosk(&server, &mal, &tmp.path().join("peer"))?;
        sync_until_quiet(&[&victim, &peer])?;
        drop(victim);

        let mut ledger = Ledger::default();
        let mut kill_within: Option<Duration> = None;
        let (mut killed, mut finished) = (0, 0);
        for iteration in 0..iterations {
            {
                let mut k = blisko_tests::harness::open_kiosk(&dir)?;
                let registrations = rng.random_range(20..40);
                work(&mut k, 0, &mut rng, &mut ledger, registrations, 5)?;
            }
            work(
                &mut peer.lock().expect("peer"),
                1,
                &mut rng,
                &mut ledger,
                10,
                2,
            )?;
            sync(&peer)?;

            let mut child = kiosk_command(&dir)
                .arg("sync")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("start blisko-kiosk sync")?;
            // The first sync runs whole; later ones are killed anywhere from the start of the
            // process to a little past the time the last whole sync took.
            let status = match kill_within {
                None => child.wait()?,
                Some(limit) => {
                    std::thread::sleep(rng.random_range(Duration::ZERO..=limit));
                    // SIGKILL; an error only means the sync had already ended.
                    let _ = child.kill();
                    child.wait()?
                }
            };
            if status.success() {
                finished += 1;
            } else {
                ensure!(
                    status.code().is_none(),
                    "the sync failed on its own: {status}"
                );
                killed += 1;
            }

            // Reopened after the kill: sound, and everything it acknowledged is there.
            let mut k = blisko_tests::harness::open_kiosk(&dir)
                .with_context(|| format!("iteration {iteration}: reopen the killed kiosk"))?;
            ensure!(
                k.store().integrity_check()? == "ok",
                "iteration {iteration}"
            );
            let problems = k.verify()?;
            ensure!(problems.is_empty(), "iteration {iteration}: {problems:?}");
            check_held(&k, &ledger, |tag| tag == 0)
                .with_context(|| format!("iteration {iteration}"))?;
            drop(k);
            if backend == Backend::Sqlite {
                ensure!(
                    server_integrity(&server.data)? == "ok",
                    "iteration {iteration}"
                );
            }

            // Restarted, the sync completes; the time it takes bounds the next kill.
            let started = Instant::now();
            let out = kiosk_command(&dir).arg("sync").output()?;
            ensure!(
                out.status.success(),
                "iteration {iteration}: the sync after the kill failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            kill_within = Some(started.elapsed() * 6 / 5);
        }
        eprintln!(
            "{killed} syncs killed, {finished} finished before the kill; the last whole sync took {:?}",
            kill_within.map(|d| d * 5 / 6)
        );

        let victim = Mutex::new(blisko_tests::harness::open_kiosk(&dir)?);
        sync_until_quiet(&[&victim, &peer])?;
        check_replicas(&server, &mal, &[&victim, &peer])?;
        for k in [&victim, &peer] {
            check_held(&k.lock().expect("kiosk"), &ledger, |_| true)?;
        }
        Ok(())
    })
}

#[test]
fn a_server_killed_during_syncs_loses_nothing() -> Result<()> {
    for_each_backend(|backend| {
        let seed = seed();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5E4E);
        // The iterations are shared out between the stores.
        let iterations = env_count("BLISKO_SERVER_KILLS", 10).div_ceil(backends().len() as u64);
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let mut server = ServerProcess::start_backend(backend, &data, true)?;
        enlarge_classes(&server, "MAL", tmp.path())?;
        let mal = branch_id(&data, "MAL")?;
        // The proxy passes everything: it keeps the kiosks' address across restarts and
        // shows when the syncs have started.
        let proxy = FaultProxy::start(server.addr)?;
        let mut kiosks = Vec::new();
        for name in ["a", "b", "c"] {
            kiosks.push(enroll_via(
                &server,
                &mal,
                &proxy.url(),
                &tmp.path().join(name),
            )?);
        }
        let all: Vec<&Mutex<Kiosk>> = kiosks.iter().collect();
        sync_until_quiet(&all)?;

        let mut ledger = Ledger::default();
        let mut limit_ms = 300;
        let (mut broken, mut finished) = (0, 0);
        for iteration in 0..iterations {
            for (tag, k) in kiosks.iter().enumerate() {
                let registrations = rng.random_range(10..30);
                work(
                    &mut k.lock().expect("kiosk"),
                    tag,
                    &mut rng,
                    &mut ledger,
                    registrations,
                    3,
                )?;
            }
            let delay = Duration::from_millis(rng.random_range(0..=limit_ms));
            let seen = proxy.connections();
            let outcomes = std::thread::scope(|s| {
                let syncs: Vec<_> = all.iter().map(|k| s.spawn(move || sync(k))).collect();
                let connected = proxy.wait_for_connection(seen);
                std::thread::sleep(delay);
                server.kill();
                connected.map(|()| {
                    syncs
                        .into_iter()
                        .map(|t| t.join().expect("a sync thread"))
                        .collect::<Vec<_>>()
                })
            })?;
            for outcome in outcomes {
                match outcome {
                    Ok(_) => finished += 1,
                    Err(e) if transient(&e) => broken += 1,
                    Err(e) => {
                        return Err(e.context(format!(
                            "iteration {iteration}: a killed server must be a transient failure"
                        )));
                    }
                }
            }

            server = ServerProcess::start_on(&data, server.addr, true)?;
            // SQLite's files are checked; PostgreSQL's are its own, and it was not killed.
            if backend == Backend::Sqlite {
                ensure!(server_integrity(&data)? == "ok", "iteration {iteration}");
            }
            let started = Instant::now();
            sync_until_quiet(&all).with_context(|| format!("iteration {iteration}"))?;
            // The next kill may land anywhere in a sync as long as this catching up took.
            limit_ms = (started.elapsed().as_millis() as u64 * 6 / 5).max(50);
            check_replicas(&server, &mal, &all)
                .with_context(|| format!("iteration {iteration}"))?;
            for k in &all {
                check_held(&k.lock().expect("kiosk"), &ledger, |_| true)
                    .with_context(|| format!("iteration {iteration}"))?;
            }
        }
        eprintln!(
            "{iterations} server kills: {broken} syncs broken, {finished} finished first; {} registrations, {} requests",
            ledger.registrations.len(),
            ledger.intakes.len()
        );
        Ok(())
    })
}

/// A sync round stores what it pulled in one transaction and projects the rosters in the
/// next. A kiosk killed between the two is left as this test leaves it: the documents
/// stored, the projection without their registrations, and the mark that says which
/// rosters are still to project. Opened again, the kiosk finishes the projection.
#[test]
fn a_kiosk_killed_between_storing_and_projecting_a_round_finishes_on_opening() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let dir = tmp.path().join("victim");
        let victim = enroll_kiosk(&server, &mal, &dir)?;
        let peer = enroll_kiosk(&server, &mal, &tmp.path().join("peer"))?;
        sync_until_quiet(&[&victim, &peer])?;
        let class = peer.lock().expect("peer").classes()?[0].id.to_string();
        for i in 0..3 {
            peer.lock().expect("peer").register(&RegistrationForm {
                class_id: class.clone(),
                given_name: format!("Peer{}", letters(i)),
                family_name: "Projekcyjna".into(),
                birth_year: 1950,
                consent: true,
                ..RegistrationForm::default()
            })?;
        }
        sync(&peer)?;
        sync(&victim)?;
        drop(victim);

        let undo_projection = || -> Result<usize> {
            let conn = blisko_tests::harness::kiosk_sql(&dir)?;
            Ok(conn.execute("DELETE FROM registrations WHERE class_id = ?1", [&class])?)
        };
        // The damage shows when nothing marks it: the check finds it.
        ensure!(
            undo_projection()? == 3,
            "the peer's three registrations were projected"
        );
        let problems = blisko_tests::harness::open_kiosk(&dir)?.verify()?;
        ensure!(
            !problems.is_empty(),
            "the check sees the missing registrations"
        );

        // With the mark the round leaves, opening the kiosk repairs it.
        undo_projection()?;
        blisko_tests::harness::kiosk_sql(&dir)?.execute(
            "INSERT INTO meta (key, value) VALUES ('rosters_to_project', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [&class],
        )?;
        let mut k = blisko_tests::harness::open_kiosk(&dir)?;
        let problems = k.verify()?;
        ensure!(problems.is_empty(), "{problems:?}");
        ensure!(
            k.store().meta("rosters_to_project")?.as_deref() == Some(""),
            "the mark is cleared"
        );
        let victim = Mutex::new(k);
        sync_until_quiet(&[&victim, &peer])?;
        check_replicas(&server, &mal, &[&victim, &peer])
    })
}
