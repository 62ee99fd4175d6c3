//! Kiosks and a real `blisko-server` process on loopback, over real HTTP: offline work on
//! several kiosks, syncs in random orders, and the promise that every replica ends with
//! the same rosters and no confirmation shown is ever taken back.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use blisko_kiosk::Kiosk;
use blisko_kiosk::KioskError;
use blisko_kiosk::kiosk::{RegistrationForm, RegistrationReceipt};
use blisko_tests::harness::{
    ServerProcess, allot, branch_id, enroll_kiosk, enroll_kiosk_at, kiosk_roster, letters, seed,
    server_and_mal_kiosk_on, server_command, server_roster, sync,
};
use blisko_tests::{Backend, for_each_backend};

/// Register `count` new people at a kiosk; a full class refuses, which is recorded too.
fn register_many(
    kiosk: &Mutex<Kiosk>,
    class: &str,
    count: usize,
    tag: &str,
) -> Result<Vec<RegistrationReceipt>> {
    let mut receipts = Vec::new();
    let mut k = kiosk.lock().expect("kiosk");
    for i in 0..count {
        let form = RegistrationForm {
            class_id: class.to_owned(),
            given_name: format!("Osoba {}", letters(i)),
            family_name: format!(
                "Kowalska-{}",
                letters(tag.len() * 7 + tag.as_bytes()[tag.len() - 1] as usize)
            ),
            birth_year: 1940 + (i % 40) as i32,
            consent: true,
            ..RegistrationForm::default()
        };
        match k.register(&form) {
            Ok(receipt) => receipts.push(receipt),
            Err(KioskError::ClassFull { .. }) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(receipts)
}

/// Sync every kiosk in a random order, pass after pass, until a whole pass moves
/// nothing. Returns the number of passes.
fn sync_until_quiet(kiosks: &[&Mutex<Kiosk>], rng: &mut rand::rngs::StdRng) -> Result<usize> {
    for pass in 1..=8 {
        let mut order: Vec<usize> = (0..kiosks.len()).collect();
        order.shuffle(rng);
        let mut moved = 0;
        for i in order {
            let report = sync(kiosks[i])?;
            assert!(!report.incomplete, "one sync finishes its work");
            moved += report.pushed_docs + report.pulled_docs;
        }
        if moved == 0 {
            return Ok(pass);
        }
    }
    anyhow::bail!("kiosks still exchanging changes after 8 passes")
}

#[test]
fn kiosks_register_offline_race_for_seats_and_converge() -> Result<()> {
    for_each_backend(|backend| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed());

        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let si = branch_id(&server.data, "SI")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
        let c = enroll_kiosk(&server, &mal, &tmp.path().join("c"))?;
        let other = enroll_kiosk(&server, &si, &tmp.path().join("other"))?;
        let branch_kiosks = [&a, &b, &c];
        for k in [&a, &b, &c, &other] {
            sync(k)?;
        }

        // The two smallest classes: a race for the last seats.
        let mut classes = a.lock().expect("kiosk").classes()?;
        assert!(classes.len() >= 2, "the demo branch has classes");
        classes.sort_by_key(|c| c.capacity);
        let raced: Vec<_> = classes.iter().take(2).cloned().collect();
        // Each kiosk may confirm a fifth of the seats offline; the rest is the server's pool.
        for class in &raced {
            for k in branch_kiosks {
                allot(&server, &class.id.to_string(), k, class.capacity / 5)?;
            }
        }
        for k in [&a, &b, &c] {
            sync(k)?;
        }

        // Offline: every kiosk fills each class as if it were alone.
        let mut receipts = Vec::new();
        for class in &raced {
            for (i, k) in branch_kiosks.iter().enumerate() {
                let n = class.capacity as usize / 2 + rng.random_range(0..4);
                let made = register_many(k, &class.id.to_string(), n, &format!("k{i}"))?;
                assert!(
                    made.iter().any(|r| r.status == "confirmed"),
                    "the allotment confirms offline"
                );
                receipts.extend(made);
            }
        }
        let other_class = other.lock().expect("kiosk").classes()?[0].id.to_string();
        let other_receipts = register_many(&other, &other_class, 3, "si")?;

        let passes = sync_until_quiet(&[&a, &b, &c, &other], &mut rng)?;
        eprintln!("converged after {passes} passes");

        for class in &raced {
            let id = class.id.to_string();
            let merged = server_roster(&server, &id)?;
            for k in branch_kiosks {
                assert_eq!(
                    kiosk_roster(k, &id)?,
                    merged,
                    "every replica computes one roster"
                );
            }
            let confirmed = merged.values().filter(|(s, _)| s == "confirmed").count();
            assert!(
                confirmed as u32 <= class.capacity,
                "never more than capacity"
            );
            let positions: Vec<u32> = merged.values().filter_map(|(_, p)| *p).collect();
            let expected: Vec<u32> = (1..=positions.len() as u32).collect();
            let mut sorted = positions.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, expected, "the waiting list is numbered 1..n");
        }
        for r in &receipts {
            let merged = server_roster(&server, &r.class_id.to_string())?;
            let (status, _) = merged
                .get(&r.registration_id.to_string())
                .context("every acknowledged registration reached the server")?;
            if r.status == "confirmed" {
                assert_eq!(
                    status, "confirmed",
                    "a confirmation shown is never taken back"
                );
            }
        }
        // Online, the server's pool gave seats to people who waited offline.
        let promoted = receipts
            .iter()
            .filter(|r| r.status == "waitlisted")
            .filter(|r| {
                server_roster(&server, &r.class_id.to_string())
                    .ok()
                    .and_then(|m| m.get(&r.registration_id.to_string()).cloned())
                    .is_some_and(|(s, _)| s == "confirmed")
            })
            .count();
        assert!(promoted > 0, "pool seats went to waiting people");

        // The other branch's kiosk holds none of this branch's data.
        {
            let o = other.lock().expect("kiosk");
            let classes: BTreeSet<String> = o.classes()?.iter().map(|c| c.id.to_string()).collect();
            for class in &raced {
                assert!(!classes.contains(&class.id.to_string()));
                assert!(o.roster(&class.id.to_string()).is_err());
            }
            let status = o.status()?;
            assert_eq!(status.counts.persons as usize, other_receipts.len());
            for key in o.store().doc_keys("roster")? {
                assert!(
                    !raced
                        .iter()
                        .any(|c| key.to_string().contains(&c.id.to_string()))
                );
            }
        }

        // An idle sync is one small request.
        let started = Instant::now();
        let idle = sync(&a)?;
        assert_eq!(idle.traffic.requests, 1);
        assert!(idle.traffic.bytes_sent + idle.traffic.bytes_received < 1024);
        // It waited for the server's answer, and no longer than the test has run.
        assert!(idle.traffic.waited_us > 0);
        assert!(Duration::from_micros(idle.traffic.waited_us) < started.elapsed());
        assert_eq!(idle.pending_changes, 0);
        Ok(())
    })
}

#[test]
fn a_restarted_server_finds_everything() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (mut server, k) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let data = server.data.clone();
        let class = k.lock().expect("kiosk").classes()?[0].id.to_string();
        let made = register_many(&k, &class, 4, "r")?;
        sync(&k)?;
        let before = server_roster(&server, &class)?;
        assert_eq!(before.len(), made.len());

        server.stop()?;
        let server = ServerProcess::start_on(&data, server.addr, true)?;
        assert_eq!(server_roster(&server, &class)?, before);
        let kiosks = server.admin(&["kiosk", "list"])?;
        assert_eq!(kiosks.as_array().map(Vec::len), Some(1));
        assert!(kiosks[0]["last_sync"].is_string());
        // The kiosk carries on where it was: nothing to send, nothing to fetch.
        let again = sync(&k)?;
        assert_eq!((again.pushed_docs, again.pulled_docs), (0, 0));
        Ok(())
    })
}

/// On SQLite one server at a time serves a data folder: a second `serve` on it stops with
/// a clear error and changes nothing, while the first serves on and admin commands still
/// run. On PostgreSQL several servers may serve one database: a second serves the same
/// store beside the first.
#[test]
fn a_second_server_on_the_same_store_is_refused_on_sqlite_and_serves_beside_on_postgres()
-> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (mut server, k) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let data = server.data.clone();

        let beside = match backend {
            Backend::Sqlite => {
                second_serve_is_refused(&data)?;
                None
            }
            Backend::Postgres => {
                let second = ServerProcess::start(&data, true)?;
                let mal = branch_id(&data, "MAL")?;
                let other = enroll_kiosk_at(&second, &second.url(), &mal, &tmp.path().join("b"))?;
                Some((second, other))
            }
        };

        // The first server serves on, and admin commands run beside it.
        let class = k.lock().expect("kiosk").classes()?[0].id.to_string();
        let made = register_many(&k, &class, 2, "s")?;
        sync(&k)?;
        let roster = server_roster(&server, &class)?;
        assert_eq!(roster.len(), made.len());
        assert_eq!(
            server.admin(&["kiosk", "list"])?.as_array().map(Vec::len),
            Some(1 + usize::from(beside.is_some()))
        );
        // The second server's kiosk gets what the first's sent.
        if let Some((_, other)) = &beside {
            sync(other)?;
            assert_eq!(kiosk_roster(other, &class)?, roster);
        }

        // Once it stops, the folder is free again.
        server.stop()?;
        let server = ServerProcess::start_on(&data, server.addr, true)?;
        assert_eq!(server_roster(&server, &class)?.len(), made.len());
        Ok(())
    })
}

/// A second `serve` on the SQLite folder `data` stops at once with the error `busy`.
fn second_serve_is_refused(data: &Path) -> Result<()> {
    let mut second = server_command(data)?
        .arg("--json")
        .args(["serve", "--listen", "127.0.0.1:0", "--demo"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("start a second blisko-server")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = second.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            second.kill()?;
            bail!("a second server on the same folder kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    second
        .stderr
        .take()
        .context("stderr")?
        .read_to_string(&mut stderr)?;
    assert_eq!(status.code(), Some(2), "{stderr}");
    let error: serde_json::Value = serde_json::from_str(stderr.trim())
        .with_context(|| format!("a JSON error, not {stderr:?}"))?;
    assert_eq!(error["error"]["code"], "busy", "{stderr}");
    Ok(())
}
