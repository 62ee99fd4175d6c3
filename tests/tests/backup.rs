//! Backups taken while the server runs, their restore, and erasures made after a backup
//! (kept by the erasure log), with the real `blisko-server` binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{RegistrationForm, RegistrationReceipt};
use blisko_shared::ids::PersonId;
use blisko_tests::harness::{
    ServerProcess, admin, admin_refused, allot, branch_id, check_replicas, enroll_kiosk, letters,
    server_and_mal_kiosk, server_heads, server_roster, set_class_seats, sync, sync_until_complete,
    sync_until_quiet, transient,
};

fn register(kiosk: &Mutex<Kiosk>, given: &str, family: &str) -> Result<RegistrationReceipt> {
    let class = kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .classes()?
        .first()
        .context("a class")?
        .id;
    register_in(kiosk, &class.to_string(), given, family)
}

/// Whether the server in `data` holds the person's key (`None`: it does not know them).
fn key_held(data: &Path, person: PersonId) -> Result<Option<bool>> {
    let conn = rusqlite::Connection::open(data.join("personal.sqlite3"))?;
    let key: Option<Option<Vec<u8>>> = conn
        .query_row(
            "SELECT key FROM person_keys WHERE person_id = ?1",
            [person.to_string()],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    Ok(key.map(|k| k.is_some()))
}

/// The family name the office reads for a person (empty when there is none to read).
fn office_family_name(data: &Path, person: PersonId) -> Result<String> {
    let conn = rusqlite::Connection::open(data.join("personal.sqlite3"))?;
    match conn.query_row(
        "SELECT family FROM o_persons WHERE id = ?1",
        [person.to_string()],
        |r| r.get(0),
    ) {
        Ok(name) => Ok(name),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(String::new()),
        Err(e) => Err(e.into()),
    }
}

fn file_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("read {}", path.display()))
}

#[test]
fn a_backup_taken_while_serving_restores_and_an_erasure_after_it_stays() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (server, kiosk) = server_and_mal_kiosk(tmp.path())?;
    let kept = register(&kiosk, "Zofia", "Łęcka")?;
    let erased = register(&kiosk, "Bożydar", "Szczebrzeszyński")?;
    sync(&kiosk)?;

    // The backup, while the server serves.
    let file = tmp.path().join("kopia.tar");
    let done = admin(
        &server.data,
        &["backup", "--to", file.to_str().context("path")?],
    )?;
    let manifest = &done["manifest"];
    ensure!(manifest["format"] == "blisko-server-backup", "{done}");
    ensure!(manifest["format_version"] == 1, "{done}");
    ensure!(manifest["schema_version"] == 10, "all migrations: {done}");
    ensure!(
        manifest["server_version"] == env!("CARGO_PKG_VERSION"),
        "{done}"
    );
    ensure!(file.exists() && !tmp.path().join("kopia.tar.partial").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)?.permissions().mode() & 0o777;
        ensure!(
            mode == 0o600,
            "the backup is readable by its owner only: {mode:o}"
        );
    }
    // A second backup under the same name is refused, and the first stays as it was.
    let before = file_bytes(&file)?;
    let (code, message) = admin_refused(
        &server.data,
        &["backup", "--to", file.to_str().context("path")?],
    )?;
    ensure!(code == 2 && message.contains("exists already"), "{message}");
    ensure!(
        file_bytes(&file)? == before,
        "the first backup is untouched"
    );

    // An erasure after the backup: in the erasure log, by id and time only.
    let out = server.admin(&["person", "erase", "--resident-code", &erased.resident_code])?;
    ensure!(out["erased"][0] == erased.person_id.to_string(), "{out}");
    let log = std::fs::read_to_string(server.data.join("erasures.log"))?;
    ensure!(log.contains(&erased.person_id.to_string()), "{log}");
    ensure!(
        !log.contains("Szczebrzeszyński") && !log.contains("Bożydar"),
        "{log}"
    );
    let log_copy = tmp.path().join("erasures.log");
    std::fs::copy(server.data.join("erasures.log"), &log_copy)?;
    drop(server);

    // Restored with the erasure log kept since: the person is erased again, the other
    // stays readable, and the server starts on the folder.
    let restored = tmp.path().join("restored");
    let out = admin(
        &restored,
        &[
            "restore",
            "--from",
            file.to_str().context("path")?,
            "--erasure-log",
            log_copy.to_str().context("path")?,
        ],
    )?;
    ensure!(out["erasure_log"] == true, "{out}");
    let server = ServerProcess::start(&restored, false)?;
    let roster_class = kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .classes()?
        .first()
        .context("a class")?
        .id
        .to_string();
    let roster = server.admin(&["roster", "--class", &roster_class])?;
    let ids: Vec<&str> = roster
        .as_array()
        .context("roster")?
        .iter()
        .filter_map(|r| r["registration_id"].as_str())
        .collect();
    let kept_registration = kept.registration_id.to_string();
    let erased_registration = erased.registration_id.to_string();
    ensure!(ids.contains(&kept_registration.as_str()), "{roster}");
    ensure!(ids.contains(&erased_registration.as_str()), "{roster}");
    ensure!(
        key_held(&restored, erased.person_id)? == Some(false),
        "key gone"
    );
    ensure!(
        key_held(&restored, kept.person_id)? == Some(true),
        "key kept"
    );
    ensure!(
        office_family_name(&restored, erased.person_id)? != "Szczebrzeszyński",
        "the office cannot read the erased name"
    );
    ensure!(office_family_name(&restored, kept.person_id)? == "Łęcka");
    drop(server);

    // Without the log the backup brings the person back: that is what the log is for.
    let without = tmp.path().join("without-log");
    admin(
        &without,
        &["restore", "--from", file.to_str().context("path")?],
    )?;
    ensure!(key_held(&without, erased.person_id)? == Some(true));
    Ok(())
}

#[test]
fn a_damaged_backup_or_a_used_folder_is_refused_and_nothing_is_written() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (server, kiosk) = server_and_mal_kiosk(tmp.path())?;
    register(&kiosk, "Zofia", "Łęcka")?;
    sync(&kiosk)?;
    let file = tmp.path().join("kopia.tar");
    admin(
        &server.data,
        &["backup", "--to", file.to_str().context("path")?],
    )?;
    let good = file_bytes(&file)?;

    let target = tmp.path().join("target");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("a flipped byte", {
            let mut b = good.clone();
            let at = b.len() - 4096;
            b[at] ^= 0x55;
            b
        }),
        ("not a backup", b"hello".repeat(200)),
    ];
    for (what, bytes) in cases {
        let bad = tmp.path().join(format!("{}.tar", what.replace(' ', "-")));
        std::fs::write(&bad, &bytes)?;
        let (code, message) = admin_refused(
            &target,
            &["restore", "--from", bad.to_str().context("path")?],
        )?;
        ensure!(code == 2, "{what}: {message}");
        ensure!(message.contains("not a usable backup"), "{what}: {message}");
        ensure!(!target.exists(), "{what}: nothing written");
        let strays: Vec<_> = std::fs::read_dir(tmp.path())?
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".blisko-backup-")
            })
            .collect();
        ensure!(strays.is_empty(), "{what}: no work folder left");
    }

    // A folder with anything in it is refused, and stays as it was.
    std::fs::create_dir(&target)?;
    std::fs::write(target.join("notes.txt"), "zostaw")?;
    let (_, message) = admin_refused(
        &target,
        &["restore", "--from", file.to_str().context("path")?],
    )?;
    ensure!(message.contains("not empty"), "{message}");
    let names: Vec<_> = std::fs::read_dir(&target)?
        .flatten()
        .map(|e| e.file_name())
        .collect();
    ensure!(names == ["notes.txt"], "{names:?}");

    // The live folder itself is refused.
    let (_, message) = admin_refused(
        &server.data,
        &["restore", "--from", file.to_str().context("path")?],
    )?;
    ensure!(message.contains("not empty"), "{message}");

    // The good file restores into an empty folder.
    std::fs::remove_file(target.join("notes.txt"))?;
    admin(
        &target,
        &["restore", "--from", file.to_str().context("path")?],
    )?;
    ensure!(target.join("server.sqlite3").exists() && target.join("personal.sqlite3").exists());
    Ok(())
}

/// A backup taken while a kiosk works, the kiosk registering more (acknowledged by the
/// server) after it, and the server's folder replaced by the restore: at its next sync
/// the kiosk learns that the server is a restored copy (its instance id changed) and sends
/// again everything it wrote, so the server holds all the kiosk has.
#[test]
fn a_restored_server_converges_with_its_kiosk() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (server, kiosk) = server_and_mal_kiosk(tmp.path())?;
    let mal = branch_id(&server.data, "MAL")?;
    let class = kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .classes()?
        .first()
        .context("a class")?
        .id
        .to_string();
    // The kiosk confirms seats itself (its allotment), as a kiosk that works offline does.
    allot(&server, &class, &kiosk, 10)?;
    sync_until_complete(&kiosk)?;
    let before: Vec<RegistrationReceipt> = ["Adam", "Barbara"]
        .iter()
        .map(|g| register(&kiosk, g, "Przedkopiowy"))
        .collect::<Result<_>>()?;
    sync_until_complete(&kiosk)?;

    let file = tmp.path().join("kopia.tar");
    admin(
        &server.data,
        &["backup", "--to", file.to_str().context("path")?],
    )?;

    let after: Vec<RegistrationReceipt> = ["Cecylia", "Dariusz"]
        .iter()
        .map(|g| register(&kiosk, g, "Pokopiowy"))
        .collect::<Result<_>>()?;
    sync_until_complete(&kiosk)?;
    let roster = server_roster(&server, &class)?;
    for r in after.iter() {
        ensure!(
            roster.contains_key(&r.registration_id.to_string()),
            "acknowledged before the restore"
        );
    }

    // The server dies; its folder is replaced by the restore; it starts on the same address.
    let (data, addr) = replace_by_restore(server, &file)?;
    let restored = server_roster_of(&data, &class)?;
    for r in after.iter() {
        ensure!(
            !restored.contains(&r.registration_id.to_string()),
            "the backup lacks what came after it"
        );
    }
    let server = ServerProcess::start_on(&data, addr, false)?;

    sync_until_complete(&kiosk)?;
    let roster = server_roster(&server, &class)?;
    for r in before.iter().chain(&after) {
        ensure!(
            roster.contains_key(&r.registration_id.to_string()),
            "{} on the restored server: {roster:?}",
            r.registration_id
        );
        ensure!(
            key_held(&data, r.person_id)? == Some(true),
            "the key of {} is back on the server",
            r.person_id
        );
    }
    check_replicas(&server, &mal, &[&kiosk])?;
    // Once started over, the next syncs are ordinary ones.
    let report = sync_until_complete(&kiosk)?;
    ensure!(report.pushed_docs == 0, "{report:?}");
    Ok(())
}

/// The server dies and its folder is replaced by the restore of `file`: the folder and
/// the address to start it on again.
fn replace_by_restore(server: ServerProcess, file: &Path) -> Result<(PathBuf, SocketAddr)> {
    let addr = server.addr;
    let data = server.data.clone();
    drop(server);
    std::fs::remove_dir_all(&data)?;
    admin(
        &data,
        &["restore", "--from", file.to_str().context("path")?],
    )?;
    Ok((data, addr))
}

fn server_roster_of(data: &Path, class: &str) -> Result<Vec<String>> {
    let rows = admin(data, &["roster", "--class", class])?;
    Ok(rows
        .as_array()
        .context("roster")?
        .iter()
        .filter_map(|r| r["registration_id"].as_str().map(str::to_owned))
        .collect())
}

fn register_in(
    kiosk: &Mutex<Kiosk>,
    class: &str,
    given: &str,
    family: &str,
) -> Result<RegistrationReceipt> {
    let mut k = kiosk.lock().map_err(|_| anyhow::anyhow!("kiosk lock"))?;
    Ok(k.register(&RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1948,
        consent: true,
        ..RegistrationForm::default()
    })?)
}

/// Three kiosks keep registering and syncing while a backup is taken. After it the
/// server gives pool seats, the office enlarges a class, and every kiosk pulls it all.
/// Then the server's folder is replaced by the restore. Every kiosk starts over and sends
/// back what it wrote and, under the server's seals, what the server and the other kiosks
/// wrote: the restored server holds every document as it was before the restore (same
/// heads), every registration with the status it had and every key, and no kiosk is
/// refused.
#[test]
fn a_backup_under_load_restores_and_every_kiosk_converges() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let (server, first) = server_and_mal_kiosk(tmp.path())?;
    let mal = branch_id(&server.data, "MAL")?;
    let second = enroll_kiosk(&server, &mal, &tmp.path().join("k2"))?;
    let third = enroll_kiosk(&server, &mal, &tmp.path().join("k3"))?;
    let kiosks = [&first, &second, &third];
    sync_until_quiet(&kiosks)?;
    let classes: Vec<String> = first
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .classes()?
        .iter()
        .take(3)
        .map(|c| c.id.to_string())
        .collect();
    ensure!(classes.len() == 3, "the demo branch has three classes");
    // The first kiosk confirms seats of the first class itself (offline-capable); the
    // others ask the server's pool, which answers at their sync.
    allot(&server, &classes[0], &first, 4)?;
    sync_until_quiet(&kiosks)?;

    let file = tmp.path().join("kopia.tar");
    let stop = AtomicBool::new(false);
    let backed_up = AtomicBool::new(false);
    let registered_after = AtomicUsize::new(0);
    let receipts: Vec<RegistrationReceipt> = std::thread::scope(|scope| -> Result<_> {
        let workers: Vec<_> = kiosks
            .iter()
            .enumerate()
            .map(|(i, kiosk)| {
                let (classes, stop, backed_up, after) =
                    (&classes, &stop, &backed_up, &registered_after);
                scope.spawn(move || -> Result<Vec<RegistrationReceipt>> {
                    let mut done = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let n = done.len();
                        let class = &classes[(n + i) % classes.len()];
                        let family = format!("Kopiowska{}{}", letters(i), letters(n));
                        let was_backed_up = backed_up.load(Ordering::SeqCst);
                        done.push(register_in(kiosk, class, "Halina", &family)?);
                        if was_backed_up {
                            after.fetch_add(1, Ordering::SeqCst);
                        }
                        match sync(kiosk) {
                            Ok(_) => {}
                            Err(e) if transient(&e) => {}
                            Err(e) => return Err(e.context(format!("kiosk {i} syncing"))),
                        }
                    }
                    Ok(done)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(400));
        let taken = admin(
            &server.data,
            &["backup", "--to", file.to_str().context("path")?],
        );
        backed_up.store(true, Ordering::SeqCst);
        // The kiosks go on after the backup until each has registered a few more.
        while taken.is_ok() && registered_after.load(Ordering::SeqCst) < 12 {
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::SeqCst);
        let mut receipts = Vec::new();
        for worker in workers {
            let done = worker
                .join()
                .map_err(|_| anyhow::anyhow!("a kiosk's thread panicked"))??;
            receipts.extend(done);
        }
        taken?;
        Ok(receipts)
    })?;

    // After the backup too: the office enlarges the second class (its waiting get pool
    // seats), and every kiosk takes in everything.
    set_class_seats(&server, "MAL", &classes[1], 30, 30, tmp.path())?;
    sync_until_quiet(&kiosks)?;
    check_replicas(&server, &mal, &kiosks)?;
    let heads_before = server_heads(&server.data, &mal)?;
    let rosters_before: Vec<_> = classes
        .iter()
        .map(|c| server_roster(&server, c))
        .collect::<Result<_>>()?;

    let (data, addr) = replace_by_restore(server, &file)?;
    ensure!(
        server_heads(&data, &mal)? != heads_before,
        "the backup lacks what came after it"
    );
    let server = ServerProcess::start_on(&data, addr, false)?;

    sync_until_quiet(&kiosks)?;
    check_replicas(&server, &mal, &kiosks)?;
    ensure!(
        server_heads(&data, &mal)? == heads_before,
        "the restored server holds every document as it was"
    );
    for (class, before) in classes.iter().zip(&rosters_before) {
        ensure!(
            server_roster(&server, class)? == *before,
            "the roster of {class} is as it was before the restore"
        );
    }
    for r in &receipts {
        ensure!(
            key_held(&data, r.person_id)? == Some(true),
            "the key of {} is back on the server",
            r.person_id
        );
    }
    let restored = server.admin(&["audit", "--limit", "50"])?;
    ensure!(
        restored.to_string().contains("catalog_restored"),
        "the office edit came back from a kiosk, audited: {restored}"
    );
    Ok(())
}
