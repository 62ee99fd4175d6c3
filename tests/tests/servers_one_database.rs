//! Several `blisko-server serve` processes on one PostgreSQL database serve the same
//! kiosks: a kiosk syncs with whichever process it reaches, the office works from any of
//! them, and a process killed with kill -9 in the middle of syncs loses nothing a kiosk
//! was told is saved. Kiosks of two branch points, whose rounds the processes write side
//! by side, sync at once while the office edits allotments, and nothing is lost or
//! overbooked.

use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use blisko_kiosk::kiosk::{RegistrationForm, RegistrationReceipt};
use blisko_kiosk::sync::{SyncClient, SyncReport, sync_once};
use blisko_kiosk::{Kiosk, KioskError};
use blisko_sync_server::store::POSTGRES_WRITE_LOCK;
use blisko_tests::harness::{
    ServerProcess, allot, branch_id, enroll_kiosk, kiosk_roster, letters, seed, server_roster,
    transient,
};
use blisko_tests::office::{Office, PASSWORD, add_staff};
use blisko_tests::pg::Backend;

/// One sync of `kiosk` with `server` (not the server it enrolled with).
fn sync_with(kiosk: &Mutex<Kiosk>, server: &ServerProcess) -> Result<SyncReport> {
    let client = {
        let k = kiosk.lock().expect("kiosk");
        let (_, token) = k.server()?.context("the kiosk is enrolled")?;
        SyncClient::new(&server.url(), Some(token), k.server_ca()?.as_deref())?
    };
    Ok(sync_once(kiosk, &client)?)
}

fn register(
    kiosk: &Mutex<Kiosk>,
    class: &str,
    n: usize,
    tag: usize,
) -> Result<Vec<RegistrationReceipt>> {
    let mut k = kiosk.lock().expect("kiosk");
    let mut receipts = Vec::new();
    for i in 0..n {
        let form = RegistrationForm {
            class_id: class.to_owned(),
            given_name: format!("Osoba {}", letters(i)),
            family_name: format!("Nowak-{}", letters(tag * 31 + i)),
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

/// The merged roster agrees with every kiosk, holds every acknowledged registration,
/// keeps every confirmation shown, and confirms no more than the class's seats.
fn check(
    server: &ServerProcess,
    kiosks: &[&Mutex<Kiosk>],
    class: &str,
    capacity: u32,
    receipts: &[RegistrationReceipt],
) -> Result<()> {
    let merged = server_roster(server, class)?;
    for k in kiosks {
        ensure!(
            kiosk_roster(k, class)? == merged,
            "every replica computes one roster"
        );
    }
    let confirmed = merged.values().filter(|(s, _)| s == "confirmed").count();
    ensure!(
        confirmed as u32 <= capacity,
        "{confirmed} confirmed for {capacity} seats"
    );
    for r in receipts {
        let (status, _) = merged
            .get(&r.registration_id.to_string())
            .context("an acknowledged registration is missing on the server")?;
        if r.status == "confirmed" {
            ensure!(status == "confirmed", "a confirmation shown was taken back");
        }
    }
    Ok(())
}

#[test]
fn kiosks_alternate_between_two_servers_and_the_office_works_from_either() -> Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed());
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let one = ServerProcess::start_backend(Backend::Postgres, &data, true)?;
    // The same folder, so the same database: PostgreSQL lets a second process serve it.
    let two = ServerProcess::start(&data, false)?;
    let servers = [&one, &two];
    let mal = branch_id(&data, "MAL")?;
    let kiosks: Vec<Mutex<Kiosk>> = (0..3)
        .map(|i| enroll_kiosk(servers[i % 2], &mal, &tmp.path().join(format!("k{i}"))))
        .collect::<Result<_>>()?;
    let kiosks: Vec<&Mutex<Kiosk>> = kiosks.iter().collect();
    for (i, k) in kiosks.iter().enumerate() {
        sync_with(k, servers[(i + 1) % 2])?;
    }
    let mut classes = kiosks[0].lock().expect("kiosk").classes()?;
    classes.sort_by_key(|c| c.capacity);
    let class = classes
        .first()
        .context("the demo branch has classes")?
        .clone();
    let id = class.id.to_string();
    for k in &kiosks {
        allot(servers[rng.random_range(0..2)], &id, k, class.capacity / 5)?;
    }

    // Each kiosk fills the class offline, then they all sync, each sync with either
    // process, until nothing moves.
    let mut receipts = Vec::new();
    for (i, k) in kiosks.iter().enumerate() {
        sync_with(k, servers[i % 2])?;
        receipts.extend(register(k, &id, class.capacity as usize / 2 + 2, i)?);
    }
    let mut quiet = false;
    for _ in 0..10 {
        let mut order: Vec<usize> = (0..kiosks.len()).collect();
        order.shuffle(&mut rng);
        let mut moved = 0;
        for i in order {
            let report = sync_with(kiosks[i], servers[rng.random_range(0..2)])?;
            moved += report.pushed_docs + report.pulled_docs;
        }
        if moved == 0 {
            quiet = true;
            break;
        }
    }
    ensure!(quiet, "the kiosks still exchange changes after 10 passes");
    check(&one, &kiosks, &id, class.capacity, &receipts)?;

    // The office: logged in on one process, the session is good on the other; logged
    // out on the other, it is gone on the first.
    add_staff(&data, "kierownik", "office_admin", None)?;
    let on_one = Office::login(&one.url(), "kierownik", PASSWORD)?;
    let on_two = Office {
        base: two.url(),
        // One cookie jar: the session cookie goes to either process.
        http: on_one.http.clone(),
        csrf: on_one.csrf.clone(),
    };
    let page = on_two.page(&format!("/office/classes/{id}"))?;
    ensure!(
        page.contains(&class.title),
        "the class page from the second process"
    );
    let out = on_two.post("/office/logout", &[])?;
    ensure!(
        out.status().as_u16() == 303,
        "log-out answered {}",
        out.status()
    );
    let after = on_one.get("/office/classes")?;
    ensure!(
        after.status().as_u16() == 303,
        "a session ended on one process ends on every process (got {})",
        after.status()
    );
    Ok(())
}

#[test]
fn a_server_killed_mid_sync_loses_nothing_acknowledged() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let mut one = ServerProcess::start_backend(Backend::Postgres, &data, true)?;
    let two = ServerProcess::start(&data, false)?;
    let mal = branch_id(&data, "MAL")?;
    let kiosks: Vec<Mutex<Kiosk>> = (0..4)
        .map(|i| enroll_kiosk(&two, &mal, &tmp.path().join(format!("k{i}"))))
        .collect::<Result<_>>()?;
    for k in &kiosks {
        sync_with(k, &two)?;
    }
    let mut classes = kiosks[0].lock().expect("kiosk").classes()?;
    classes.sort_by_key(|c| std::cmp::Reverse(c.capacity));
    let class = classes
        .first()
        .context("the demo branch has classes")?
        .clone();
    let id = class.id.to_string();

    // Four kiosks register and sync with the first process from their own threads; it
    // is killed while they do. A sync that fails goes to the second process.
    let receipts = Mutex::new(Vec::new());
    let failed_over = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| -> Result<()> {
        let workers: Vec<_> = kiosks
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let (receipts, failed_over, one_url) = (&receipts, &failed_over, one.url());
                let (two, id) = (&two, &id);
                s.spawn(move || -> Result<()> {
                    for round in 0..12 {
                        let made = register(k, id, 1, i * 100 + round)?;
                        receipts.lock().expect("receipts").extend(made);
                        let client = {
                            let kk = k.lock().expect("kiosk");
                            let (_, token) = kk.server()?.context("enrolled")?;
                            SyncClient::new(&one_url, Some(token), kk.server_ca()?.as_deref())?
                        };
                        if let Err(e) = sync_once(k, &client).map_err(anyhow::Error::from) {
                            ensure!(transient(&e), "only the connection may fail: {e:#}");
                            failed_over.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            sync_with(k, two)?;
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(400));
        one.kill();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a kiosk thread panicked"))??;
        }
        Ok(())
    })?;
    ensure!(
        failed_over.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "the kill came while the kiosks were syncing"
    );
    for k in &kiosks {
        for _ in 0..3 {
            sync_with(k, &two)?;
        }
    }
    let kiosks: Vec<&Mutex<Kiosk>> = kiosks.iter().collect();
    let receipts = receipts.into_inner().expect("receipts");
    check(&two, &kiosks, &id, class.capacity, &receipts)?;
    ensure!(
        receipts.len() >= 24,
        "the kiosks registered people ({})",
        receipts.len()
    );
    Ok(())
}

#[test]
fn two_branch_points_sync_at_once_through_two_servers_while_the_office_edits() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let one = ServerProcess::start_backend(Backend::Postgres, &data, true)?;
    let two = ServerProcess::start(&data, false)?;
    let servers = [&one, &two];
    // Two kiosks at each of two branch points.
    let mut kiosks: Vec<(usize, Mutex<Kiosk>)> = Vec::new();
    for (b, code) in ["MAL", "SI"].into_iter().enumerate() {
        let branch = branch_id(&data, code)?;
        for (i, server) in servers.iter().enumerate() {
            let dir = tmp.path().join(format!("{code}{i}"));
            kiosks.push((b, enroll_kiosk(server, &branch, &dir)?));
        }
    }
    for (i, (_, k)) in kiosks.iter().enumerate() {
        sync_with(k, servers[(i + 1) % 2])?;
    }
    let mut classes = Vec::new();
    for b in 0..2 {
        let (_, k) = kiosks.iter().find(|(kb, _)| *kb == b).context("a kiosk")?;
        let mut of_branch = k.lock().expect("kiosk").classes()?;
        of_branch.sort_by_key(|c| std::cmp::Reverse(c.capacity));
        let class = of_branch.first().context("the branch has classes")?.clone();
        ensure!(class.capacity >= 15, "a class of {} seats", class.capacity);
        classes.push(class);
    }
    let allotment = |b: usize, step: u32| classes[b].capacity / 5 - step;
    for (b, k) in &kiosks {
        allot(&one, &classes[*b].id.to_string(), k, allotment(*b, 0))?;
    }

    // Every kiosk registers people and syncs with either process, from its own thread,
    // while the office cuts each kiosk's allotment twice (an edit that takes the store
    // for itself, between the sync rounds of both branch points).
    let receipts = Mutex::new(vec![Vec::new(), Vec::new()]);
    std::thread::scope(|s| -> Result<()> {
        let workers: Vec<_> = kiosks
            .iter()
            .enumerate()
            .map(|(i, (b, k))| {
                let (receipts, class) = (&receipts, classes[*b].id.to_string());
                s.spawn(move || -> Result<()> {
                    let mut rng = rand::rngs::StdRng::seed_from_u64(seed() + i as u64);
                    for round in 0..6 {
                        let made = register(k, &class, 2, i * 100 + round)?;
                        receipts.lock().expect("receipts")[*b].extend(made);
                        sync_with(k, servers[rng.random_range(0..2)])
                            .context("a sync while the other branch point syncs")?;
                    }
                    Ok(())
                })
            })
            .collect();
        for step in 1..=2 {
            for (b, k) in &kiosks {
                allot(
                    servers[step as usize % 2],
                    &classes[*b].id.to_string(),
                    k,
                    allotment(*b, step),
                )?;
            }
        }
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a kiosk thread panicked"))??;
        }
        Ok(())
    })?;

    for _ in 0..4 {
        for (i, (_, k)) in kiosks.iter().enumerate() {
            sync_with(k, servers[i % 2])?;
        }
    }
    let receipts = receipts.into_inner().expect("receipts");
    for (b, class) in classes.iter().enumerate() {
        let of_branch: Vec<&Mutex<Kiosk>> = kiosks
            .iter()
            .filter(|(kb, _)| *kb == b)
            .map(|(_, k)| k)
            .collect();
        check(
            &two,
            &of_branch,
            &class.id.to_string(),
            class.capacity,
            &receipts[b],
        )?;
        ensure!(
            receipts[b].len() >= 12,
            "the kiosks registered people ({})",
            receipts[b].len()
        );
    }
    // Every position in both feeds was handed out, and once.
    let database = blisko_tests::harness::database_of(&data)?.context("the database")?;
    let mut client = database.connect()?;
    for (table, feed) in [
        ("main.documents", "change"),
        ("personal.person_keys", "key"),
    ] {
        let row = client.query_one(
            &format!("SELECT count(*), count(DISTINCT seq), coalesce(min(seq), 1) FROM {table}"),
            &[],
        )?;
        let (rows, distinct, least): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
        ensure!(
            rows == distinct && least > 0,
            "the {feed} feed: {rows} entries, {distinct} positions, the least {least}"
        );
    }
    Ok(())
}

/// A kiosk's first sync with a process (its credential not yet accepted there, as after
/// an enrollment wave) is checked on a reader: it is answered while that process's
/// writer waits for another process's transaction. (It was checked in the writer's
/// turn, and waited in line behind the writer's batch.)
#[test]
fn a_first_sync_with_a_process_does_not_wait_for_its_writer() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let one = ServerProcess::start_backend(Backend::Postgres, &data, true)?;
    let two = ServerProcess::start(&data, false)?;
    let database = one.database().context("the servers' database")?;
    let mal = branch_id(&data, "MAL")?;
    // Both synced with the first process only: the second has not seen their
    // credentials.
    let (a, b) = (
        enroll_kiosk(&one, &mal, &tmp.path().join("a"))?,
        enroll_kiosk(&one, &mal, &tmp.path().join("b"))?,
    );
    sync_with(&a, &one)?;
    sync_with(&b, &one)?;
    let class = a.lock().expect("kiosk").classes()?[0].id.to_string();

    // Another process's transaction holds the store (as an office edit does).
    let mut office = database.connect()?;
    office.execute("SELECT pg_advisory_lock($1)", &[&POSTGRES_WRITE_LOCK])?;
    let receipts = register(&b, &class, 1, 1)?;
    ensure!(receipts.len() == 1, "b registered someone");
    std::thread::scope(|s| -> Result<()> {
        let writing = s.spawn(|| sync_with(&b, &two));
        // The second process's writer now waits, in its turn, for the lock.
        database.wait_for_lock_waiters(1, Duration::from_secs(60))?;
        let idle = sync_with(&a, &two).context("a's first sync with the second process")?;
        ensure!(idle.pushed_docs == 0, "{idle:?}");
        ensure!(
            !writing.is_finished(),
            "b's sync, which stores a registration, did not wait for the writer"
        );
        office.execute("SELECT pg_advisory_unlock($1)", &[&POSTGRES_WRITE_LOCK])?;
        let written = writing
            .join()
            .map_err(|_| anyhow::anyhow!("b's sync panicked"))??;
        ensure!(written.pushed_docs >= 1, "{written:?}");
        Ok(())
    })?;
    ensure!(
        server_roster(&two, &class)?.contains_key(&receipts[0].registration_id.to_string()),
        "b's registration is stored"
    );
    Ok(())
}
