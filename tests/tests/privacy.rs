//! Erasure that reaches history and backups (crypto-shredding), and kiosk retention, with
//! a real server process, real kiosk stores, and every sync message captured on the wire.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::error::KioskError;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm, RegistrationReceipt};
use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::{Doc, DocKey, PeopleDoc};
use blisko_shared::ids::{ClassId, KioskId, PersonId, RegistrationId, SessionId};
use blisko_shared::model::AttendanceStatus;
use blisko_shared::sync::{SyncRequest, SyncResponse};
use blisko_tests::for_each_backend;
use blisko_tests::harness::{
    ServerProcess, ServerSql, StorePart, branch_id, database_of, enroll_kiosk_at, kiosk_plain_copy,
    kiosk_sql, server_and_mal_kiosk_on, server_command, sync,
};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs, mark_attendance};
use blisko_tests::pg::TestDatabase;
use blisko_tests::wire::CountingProxy;

const GIVEN: &str = "Bożydar";
const FAMILY: &str = "Szczebrzeszyński";
const PHONE: &str = "600 111 222";
const NEED: &str = "Wąchockiemu potrzebny podolog";
/// Born 14 May 1947, the birth year the person gives.
const PESEL: &str = "47051401350";

/// The person's details in every form they were typed or stored in.
fn needles() -> Vec<Vec<u8>> {
    [
        GIVEN,
        FAMILY,
        "Szczebrzesz",
        "600111222",
        "111 222",
        NEED,
        "Wąchock",
        PESEL,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The first needle found in `hay`, if any.
fn found(hay: &[u8], needles: &[Vec<u8>]) -> Option<String> {
    needles
        .iter()
        .find(|n| contains(hay, n))
        .map(|n| String::from_utf8_lossy(n).into_owned())
}

/// Every file under `dir` (database, -wal, -shm, anything else), with its bytes.
fn files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).with_context(|| format!("read {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push((path.display().to_string(), std::fs::read(&path)?));
        }
    }
    Ok(out)
}

/// A row as PostgreSQL writes it as text, followed by the bytes of each `bytea` in it
/// (written as `\x` and hex), so that a search finds what a binary column holds.
fn readable(row: &str) -> Vec<u8> {
    let mut out = row.as_bytes().to_vec();
    for run in row.split("\\x").skip(1) {
        let hex: Vec<u8> = run.bytes().take_while(u8::is_ascii_hexdigit).collect();
        out.push(0);
        out.extend(hex.chunks_exact(2).filter_map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        }));
    }
    out
}

/// Everything the server holds, with its bytes: every file in its data folder (which a
/// server on PostgreSQL need not make) and, when its store is PostgreSQL, every row of its
/// database.
fn server_contents(data: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    if data.exists() || database_of(data)?.is_none() {
        out.extend(files(data)?);
    }
    if let Some(database) = database_of(data)? {
        let schemas = database.schemas()?;
        let schemas: Vec<&str> = schemas.iter().map(String::as_str).collect();
        for (table, row) in database.rows_as_text(&schemas)? {
            out.push((format!("a row of {table}"), readable(&row)));
        }
    }
    Ok(out)
}

/// A copy of the server's main store as a backup takes it (the personal store, which
/// holds the keys, is not in it): SQLite's main file through `VACUUM INTO`, or
/// PostgreSQL's main schema copied into the schema `backup`.
enum MainBackup {
    File(PathBuf),
    Schema(Arc<TestDatabase>),
}

impl MainBackup {
    fn take(data: &Path, file: PathBuf) -> Result<MainBackup> {
        match database_of(data)? {
            None => {
                rusqlite::Connection::open(data.join("server.sqlite3"))?
                    .execute("VACUUM INTO ?1", [file.to_str().context("utf-8 path")?])?;
                Ok(MainBackup::File(file))
            }
            Some(database) => {
                database.copy_schema("main", "backup")?;
                Ok(MainBackup::Schema(database))
            }
        }
    }

    /// Everything the backup holds, as bytes to search.
    fn contents(&self) -> Result<Vec<u8>> {
        match self {
            MainBackup::File(file) => Ok(std::fs::read(file)?),
            MainBackup::Schema(database) => Ok(database
                .rows_as_text(&["backup"])?
                .iter()
                .flat_map(|(_, row)| readable(row))
                .collect()),
        }
    }

    fn sql(&self) -> Result<ServerSql> {
        match self {
            MainBackup::File(file) => Ok(ServerSql::Sqlite(rusqlite::Connection::open(file)?)),
            MainBackup::Schema(database) => {
                let mut client = database.connect()?;
                client.batch_execute("SET search_path = backup")?;
                Ok(ServerSql::Postgres(client))
            }
        }
    }

    fn tables(&self) -> Result<Vec<String>> {
        match self {
            MainBackup::File(_) => Ok(self
                .sql()?
                .texts("SELECT name FROM sqlite_master WHERE type = 'table'", &[])?
                .into_iter()
                .flatten()
                .collect()),
            MainBackup::Schema(database) => database.tables("backup"),
        }
    }
}

/// Automerge change bytes as readable as they get: loaded and saved without compression
/// (a save deflates long columns, which would hide text from a plain search).
fn automerge_plain(changes: &[u8]) -> Result<Vec<u8>> {
    let mut doc = automerge::Automerge::new();
    doc.load_incremental(changes)
        .context("changes on the wire load")?;
    Ok(doc.save_nocompress())
}

/// Everything readable in captured traffic: the raw bytes, each zstd body decompressed,
/// and the automerge changes in each sync message.
fn wire_views(streams: &[Vec<u8>]) -> Result<(Vec<Vec<u8>>, usize)> {
    let mut views = Vec::new();
    let mut messages = 0;
    for stream in streams {
        views.push(stream.clone());
        let magic = [0x28, 0xb5, 0x2f, 0xfd];
        for (i, _) in stream.windows(4).enumerate().filter(|(_, w)| *w == magic) {
            let Ok(decoder) = zstd::stream::read::Decoder::new(&stream[i..]) else {
                continue;
            };
            let mut body = Vec::new();
            if std::io::Read::read_to_end(&mut decoder.single_frame(), &mut body).is_err() {
                continue;
            }
            if let Ok(request) = ciborium::from_reader::<SyncRequest, _>(body.as_slice()) {
                messages += 1;
                for push in &request.push {
                    views.push(automerge_plain(&push.changes)?);
                }
            } else if let Ok(response) = ciborium::from_reader::<SyncResponse, _>(body.as_slice()) {
                messages += 1;
                for pulled in &response.pulled {
                    views.push(automerge_plain(&pulled.changes)?);
                }
            }
            views.push(body);
        }
    }
    Ok((views, messages))
}

fn lock(kiosk: &Mutex<Kiosk>) -> Result<MutexGuard<'_, Kiosk>> {
    kiosk.lock().map_err(|_| anyhow::anyhow!("kiosk lock"))
}

/// The person of these tests registers at `kiosk` for its first class.
fn register_the_person(kiosk: &Mutex<Kiosk>) -> Result<(ClassId, RegistrationReceipt)> {
    let class = lock(kiosk)?.classes()?.first().context("a class")?.id;
    let receipt = lock(kiosk)?.register(&RegistrationForm {
        class_id: class.to_string(),
        given_name: GIVEN.to_owned(),
        family_name: FAMILY.to_owned(),
        birth_year: 1947,
        phone: Some(PHONE.to_owned()),
        consent: true,
        ..RegistrationForm::default()
    })?;
    Ok((class, receipt))
}

fn overview_row(org: &Office, code: &str) -> Result<String> {
    let page = org.page("/office")?;
    let start = page
        .find(&format!("data-branch=\"{code}\""))
        .context("the branch row")?;
    Ok(page[start..]
        .split("</tr>")
        .next()
        .unwrap_or_default()
        .to_owned())
}

#[test]
fn an_erased_person_cannot_be_read_anywhere_nor_in_a_backup() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let proxy = CountingProxy::start_capturing(server.addr)?;
        let url = format!("http://{}", proxy.addr());
        let mal = branch_id(&data, "MAL")?;
        let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
        let a = enroll_kiosk_at(&server, &url, &mal, &a_dir)?;
        let b = enroll_kiosk_at(&server, &url, &mal, &b_dir)?;
        sync(&a)?;
        sync(&b)?;

        // The person registers at kiosk A and asks for a service; someone else registers too.
        let (class, receipt) = register_the_person(&a)?;
        let person = receipt.person_id;
        let service = lock(&a)?
            .store()
            .services()?
            .into_iter()
            .next()
            .context("a service")?;
        lock(&a)?.submit_intake(&IntakeForm {
            service_id: service.id.to_string(),
            given_name: GIVEN.to_owned(),
            family_name: FAMILY.to_owned(),
            birth_year: 1947,
            description: NEED.to_owned(),
            pesel: service.requires_pesel.then(|| PESEL.to_owned()),
            declaration: true,
            consent: true,
            resident_code: Some(receipt.resident_code.clone()),
            ..IntakeForm::default()
        })?;
        lock(&b)?.register(&RegistrationForm {
            class_id: class.to_string(),
            given_name: "Kunegunda".to_owned(),
            family_name: "Kontrolna".to_owned(),
            birth_year: 1950,
            consent: true,
            ..RegistrationForm::default()
        })?;
        for k in [&a, &b, &a, &b] {
            sync(k)?;
        }

        // Kiosk B can read the person (it got the key from the server), the office too.
        let at_b = lock(&b)?
            .store()
            .person_by_code(&receipt.resident_code)?
            .context("B has the person")?;
        assert_eq!(at_b.family_name, FAMILY);
        let key = lock(&a)?
            .store()
            .person_key(person)?
            .context("A holds the key")?;
        assert_eq!(lock(&b)?.store().person_key(person)?, Some(key.clone()));
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        ensure!(
            org.page(&format!("/office/persons?q={}", &FAMILY[..6]))?
                .contains(&person.to_string()),
            "the office finds the person by name"
        );

        // Attendance at a session, to count after the erasure.
        let class_page = org.page(&format!("/office/classes/{class}"))?;
        let session: SessionId = data_attrs(&class_page, "session")
            .first()
            .context("a session")?
            .parse()?;
        let registration: RegistrationId = receipt.registration_id.to_string().parse()?;
        mark_attendance(&a, session, registration, AttendanceStatus::Present)?;
        sync(&b)?;
        let counted = overview_row(&org, "MAL")?;
        let export = org
            .get(&format!("/office/export/attendance/{class}"))?
            .text()?;
        ensure!(
            export.contains(FAMILY),
            "the export names the person: {export}"
        );

        // A backup of the server's main store, taken before the erasure.
        let backup = MainBackup::take(&data, tmp.path().join("backup.sqlite3"))?;

        // Before the erasure the checks below do find the details: in kiosk B's projection
        // (read through a decrypted copy: the store itself is encrypted at rest).
        let all = needles();
        let plain = |dir: &Path, name: &str| -> Result<Vec<u8>> {
            let out = tmp.path().join(name);
            let _ = std::fs::remove_file(&out);
            kiosk_plain_copy(dir, &out)?;
            Ok(std::fs::read(&out)?)
        };
        ensure!(
            found(&plain(&b_dir, "b-before.sqlite3")?, &all).is_some(),
            "the search finds plaintext where it is"
        );
        // And in the server's store: the office's names, and the key.
        let key_bytes = vec![key.as_bytes().to_vec()];
        for needles in [&all, &key_bytes] {
            ensure!(
                server_contents(&data)?
                    .iter()
                    .any(|(_, bytes)| found(bytes, needles).is_some()),
                "the search finds in the server's store what it holds"
            );
        }

        assert_eq!(
            org.post(
                &format!("/office/persons/{person}/erase"),
                &[("confirm", "yes")]
            )?
            .status()
            .as_u16(),
            303
        );
        for k in [&a, &b, &a, &b] {
            sync(k)?;
        }

        // No kiosk file, no server file, and not the backup holds a readable detail, nor the
        // key (deleted rows are zeroed, the logs checkpointed).
        let mut checked = Vec::new();
        for dir in [&a_dir, &b_dir] {
            checked.extend(files(dir)?);
        }
        checked.extend(server_contents(&data)?);
        checked.push((
            "kiosk A, decrypted".into(),
            plain(&a_dir, "a-after.sqlite3")?,
        ));
        checked.push((
            "kiosk B, decrypted".into(),
            plain(&b_dir, "b-after.sqlite3")?,
        ));
        let mut with_key = all.clone();
        with_key.push(key.as_bytes().to_vec());
        for (name, bytes) in &checked {
            ensure!(
                found(bytes, &with_key).is_none(),
                "{name} holds {:?}",
                found(bytes, &with_key)
            );
        }
        // The backup holds the key nowhere either: only ciphertext.
        ensure!(
            found(&backup.contents()?, &with_key).is_none(),
            "the backup holds personal data"
        );
        for k in [&a, &b] {
            assert_eq!(lock(k)?.store().person_key(person)?, None);
            let row = lock(k)?
                .store()
                .person_by_code(&receipt.resident_code)?
                .context("the person stays, countable")?;
            assert_eq!(
                (row.given_name.as_str(), row.family_name.as_str()),
                ("", "")
            );
        }

        // Nothing readable ever crossed the wire: raw, decompressed, nor in the automerge
        // changes. (The resident code, which is not sealed, is found: the search works.)
        let (views, messages) = wire_views(&proxy.captured())?;
        ensure!(messages >= 8, "sync messages decoded: {messages}");
        ensure!(
            views
                .iter()
                .any(|v| contains(v, receipt.resident_code.as_bytes())),
            "the decoded changes are searched"
        );
        for view in &views {
            ensure!(
                found(view, &all).is_none(),
                "{:?} on the wire",
                found(view, &all)
            );
        }

        // The backup's people document holds the person sealed: their old key would open
        // it, but that key is gone from every store; no other key opens it.
        let mut conn = backup.sql()?;
        let owner: KioskId = lock(&a)?.identity().kiosk_id;
        let doc_key = DocKey::People(owner, 0);
        let snapshot = conn
            .blobs(
                "SELECT snapshot FROM documents WHERE doc_id = $1",
                &[&doc_key.to_string()],
            )?
            .pop()
            .context("the people document in the backup")?;
        let chunks = conn.blobs(
            "SELECT data FROM doc_chunks WHERE doc_id = $1 ORDER BY seq",
            &[&doc_key.to_string()],
        )?;
        let backed_up = PeopleDoc::from_doc(Doc::load(
            doc_key,
            KioskId::CENTRAL,
            &snapshot,
            chunks.iter().map(Vec::as_slice),
        )?)?;
        let opened = backed_up
            .person(person, Some(&key))?
            .context("in the backup")?;
        assert_eq!(
            opened.family_name, FAMILY,
            "the destroyed key was the only way in"
        );
        let sealed = backed_up.person(person, None)?.context("in the backup")?;
        ensure!(sealed.is_sealed(), "without a key, nothing to read");
        ensure!(
            backed_up
                .person(person, Some(&PersonKey::generate()))
                .is_err(),
            "another key does not open it"
        );
        let tables = backup.tables()?;
        ensure!(
            tables.iter().any(|t| t == "documents") && !tables.iter().any(|t| t == "person_keys"),
            "keys are not in the backed-up store: {tables:?}"
        );

        // Still counted: the overview's row is unchanged, the attendance export still has the
        // mark (without the name), and the office shows the person as erased.
        assert_eq!(overview_row(&org, "MAL")?, counted);
        let export = org
            .get(&format!("/office/export/attendance/{class}"))?
            .text()?;
        ensure!(!export.contains(FAMILY), "{export}");
        ensure!(
            export.lines().count() >= 2,
            "the attendance row stays: {export}"
        );
        ensure!(
            org.page(&format!("/office/persons/{person}"))?
                .contains("dane usunięte (RODO)")
        );
        Ok(())
    })
}

/// The files of one SQLite database (the file, its log, its shared memory) in `dir`.
fn db_files(dir: &Path, name: &str) -> Vec<String> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| format!("{name}{suffix}"))
        .filter(|f| dir.join(f).exists())
        .collect()
}

/// Copy one database's files from `from` to `to`, over what `to` held of it.
fn put_back(from: &Path, to: &Path, name: &str) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for f in db_files(to, name) {
        std::fs::remove_file(to.join(f))?;
    }
    for f in db_files(from, name) {
        std::fs::copy(from.join(&f), to.join(&f))?;
    }
    Ok(())
}

/// A part of the server's store: SQLite's file of it, PostgreSQL's schema.
fn part_file(part: StorePart) -> &'static str {
    match part {
        StorePart::Main => "server.sqlite3",
        StorePart::Personal => "personal.sqlite3",
    }
}

fn part_schema(part: StorePart) -> &'static str {
    match part {
        StorePart::Main => "main",
        StorePart::Personal => "personal",
    }
}

/// Keep a part of the store of the stopped server in `data` as it is now: SQLite's file
/// copied into the folder `aside`, PostgreSQL's schema into the schema `aside_NAME`.
fn set_aside(data: &Path, aside: &Path, part: StorePart) -> Result<()> {
    match database_of(data)? {
        None => put_back(data, aside, part_file(part)),
        Some(database) => {
            let schema = part_schema(part);
            database.copy_schema(schema, &format!("aside_{schema}"))
        }
    }
}

/// Put the part kept by [`set_aside`] back, over what the store holds of it now: as if
/// what the server wrote there since had never been committed.
fn put_aside_back(data: &Path, aside: &Path, part: StorePart) -> Result<()> {
    match database_of(data)? {
        None => put_back(aside, data, part_file(part)),
        Some(database) => {
            let schema = part_schema(part);
            database.restore_schema(&format!("aside_{schema}"), schema)
        }
    }
}

/// What one part of the server's store holds, with its bytes: SQLite's file, its log and
/// its shared memory, or the rows of PostgreSQL's schema.
fn part_contents(data: &Path, part: StorePart) -> Result<Vec<(String, Vec<u8>)>> {
    match database_of(data)? {
        None => db_files(data, part_file(part))
            .into_iter()
            .map(|f| Ok((f.clone(), std::fs::read(data.join(&f))?)))
            .collect(),
        Some(database) => Ok(database
            .rows_as_text(&[part_schema(part)])?
            .into_iter()
            .map(|(table, row)| (format!("a row of {table}"), readable(&row)))
            .collect()),
    }
}

/// Whether the server in `data` still holds the person's key, and whether it recorded
/// their erasure.
fn key_and_erasure(data: &Path, person: PersonId) -> Result<(bool, bool)> {
    let person = person.to_string();
    let mut personal = ServerSql::open(data, StorePart::Personal)?;
    let rows = personal.count(
        "SELECT count(*) FROM person_keys WHERE person_id = $1",
        &[&person],
    )?;
    ensure!(rows == 1, "one row of {person}'s key, not {rows}");
    let keys = personal.count(
        "SELECT count(key) FROM person_keys WHERE person_id = $1",
        &[&person],
    )?;
    let recorded = ServerSql::open(data, StorePart::Main)?.count(
        "SELECT count(*) FROM erasures WHERE person_id = $1",
        &[&person],
    )?;
    Ok((keys > 0, recorded > 0))
}

/// How many times the audit log says that a started erasure of `person` was finished.
fn erasures_completed(data: &Path, person: PersonId) -> Result<i64> {
    ServerSql::open(data, StorePart::Main)?.count(
        "SELECT count(*) FROM audit WHERE action = 'person_erase_completed' AND subject = $1",
        &[&format!("person:{person}")],
    )
}

/// An erasure writes the personal file (the key, the office's names) and the main file
/// (the documents, the staff notes), and SQLite commits the two one after the other. A
/// crash between the commits leaves one file erased and the other not; the next start
/// finishes the erasure. Each half is made by putting back one file as it was before the
/// erasure, with the server stopped. On PostgreSQL the two parts are two schemas of one
/// database; the same halves are made by putting back one schema's rows.
#[test]
fn an_erasure_cut_between_the_two_files_is_finished_at_the_next_start() -> Result<()> {
    for_each_backend(|backend| {
        for lost in [StorePart::Personal, StorePart::Main] {
            let tmp = tempfile::tempdir()?;
            let (mut server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
            let (data, addr) = (server.data.clone(), server.addr);
            let (_, receipt) = register_the_person(&a)?;
            let person = receipt.person_id;
            sync(&a)?;
            add_staff(&data, "admin", "office_admin", None)?;
            let page = Office::login(&server.url(), "admin", PASSWORD)?
                .page(&format!("/office/persons/{person}"))?;
            ensure!(
                page.contains(FAMILY),
                "{lost:?}: the office reads the person"
            );

            // The file as it was before the erasure.
            server.stop()?;
            let before = tmp.path().join("before");
            set_aside(&data, &before, lost)?;
            let mut server = ServerProcess::start_on(&data, addr, true)?;
            let org = Office::login(&server.url(), "admin", PASSWORD)?;
            let erased = org.post(
                &format!("/office/persons/{person}/erase"),
                &[("confirm", "yes")],
            )?;
            assert_eq!(erased.status().as_u16(), 303, "{lost:?}");

            // The crash: the other file committed, this one did not.
            server.stop()?;
            put_aside_back(&data, &before, lost)?;
            let half = match lost {
                StorePart::Personal => (true, true),
                StorePart::Main => (false, false),
            };
            assert_eq!(
                key_and_erasure(&data, person)?,
                half,
                "{lost:?}: half erased"
            );

            // The next start finishes it: the key destroyed, the documents erased, and the
            // kiosk told.
            let server = ServerProcess::start_on(&data, addr, true)?;
            assert_eq!(
                key_and_erasure(&data, person)?,
                (false, true),
                "{lost:?}: the key destroyed, the erasure recorded"
            );
            assert_eq!(
                erasures_completed(&data, person)?,
                1,
                "{lost:?}: the audit log says so"
            );
            let page = Office::login(&server.url(), "admin", PASSWORD)?
                .page(&format!("/office/persons/{person}"))?;
            ensure!(
                page.contains("dane usunięte (RODO)") && !page.contains(FAMILY),
                "{lost:?}: the office shows the person erased"
            );
            ensure!(lock(&a)?.store().person_key(person)?.is_some());
            sync(&a)?;
            assert_eq!(lock(&a)?.store().person_key(person)?, None, "{lost:?}");
            for (name, bytes) in &part_contents(&data, StorePart::Personal)? {
                ensure!(
                    found(bytes, &needles()).is_none(),
                    "{lost:?}: {name} holds {:?}",
                    found(bytes, &needles())
                );
            }
        }
        Ok(())
    })
}

/// The office's person search lives in the personal file, its other tables in the main
/// one: a crash between their commits must not leave a resident out of the search for
/// good. Made as above, by putting back the personal file from before they were shown.
#[test]
fn the_office_projection_cut_between_the_two_files_is_made_again() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (mut server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let (data, addr) = (server.data.clone(), server.addr);
        add_staff(&data, "admin", "office_admin", None)?;
        let search = format!("/office/persons?q={}", &FAMILY[..6]);
        register_the_person(&a)?;
        sync(&a)?;

        // The personal file before the office's first page projects the new resident.
        server.stop()?;
        let before = tmp.path().join("before");
        set_aside(&data, &before, StorePart::Personal)?;
        let mut server = ServerProcess::start_on(&data, addr, true)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        ensure!(org.page(&search)?.contains(FAMILY), "the office finds them");

        // The crash: the page's main half committed, its personal half did not.
        server.stop()?;
        put_aside_back(&data, &before, StorePart::Personal)?;
        let server = ServerProcess::start_on(&data, addr, true)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        ensure!(
            org.page(&search)?.contains(FAMILY),
            "the office finds them again"
        );
        Ok(())
    })
}

/// A kiosk keeps residents' details only while it needs them: once the server holds
/// them and the retention period is over, it drops its key copy and readable details of
/// residents with no coming session; they stay countable, and the office still reads
/// them with the server's key.
#[test]
fn a_kiosk_drops_details_past_retention_but_keeps_those_it_needs() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let (data, dir) = (server.data.clone(), tmp.path().join("a"));
        // A class with a session after today.
        let class: String = kiosk_sql(&dir)?
            .query_row(
                "SELECT class_id FROM sessions WHERE date > date('now', '+1 day') LIMIT 1",
                [],
                |r| r.get(0),
            )
            .context("a class with a coming session")?;

        // One resident registers for a class; another only asks for a service.
        let staying = lock(&a)?.register(&RegistrationForm {
            class_id: class.clone(),
            given_name: "Eustachy".to_owned(),
            family_name: "Zajęciowy".to_owned(),
            birth_year: 1950,
            consent: true,
            ..RegistrationForm::default()
        })?;
        let service = lock(&a)?
            .store()
            .services()?
            .into_iter()
            .next()
            .context("a service")?;
        let leaving = lock(&a)?.submit_intake(&IntakeForm {
            service_id: service.id.to_string(),
            given_name: GIVEN.to_owned(),
            family_name: FAMILY.to_owned(),
            birth_year: 1947,
            phone: Some(PHONE.to_owned()),
            description: NEED.to_owned(),
            pesel: service.requires_pesel.then(|| PESEL.to_owned()),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;

        // Nothing goes before the server has it, whatever the period.
        lock(&a)?.set_retention_days(0);
        assert_eq!(lock(&a)?.apply_retention()?, 0, "not synced yet");

        // With the default period, a sync keeps everything (registered just now).
        lock(&a)?.set_retention_days(blisko_kiosk::kiosk::DEFAULT_RETENTION_DAYS);
        assert_eq!(sync(&a)?.dropped_personal, 0);

        // Past the period, the resident with no coming session goes; the other stays.
        lock(&a)?.set_retention_days(0);
        let report = sync(&a)?;
        assert_eq!(report.dropped_personal, 1);
        let store_of = |k: &Mutex<Kiosk>, code: &str| -> Result<_> {
            lock(k)?
                .store()
                .person_by_code(code)?
                .context("the resident stays, countable")
        };
        assert_eq!(
            store_of(&a, &staying.resident_code)?.family_name,
            "Zajęciowy"
        );
        assert_eq!(store_of(&a, &leaving.resident_code)?.family_name, "");
        assert_eq!(lock(&a)?.store().person_key(leaving.person_id)?, None);
        ensure!(lock(&a)?.store().person_key(staying.person_id)?.is_some());
        ensure!(
            !lock(&a)?.store().requests_of(leaving.person_id)?.is_empty(),
            "the request is still there"
        );
        // A later sync does not bring the key back.
        lock(&a)?.set_retention_days(blisko_kiosk::kiosk::DEFAULT_RETENTION_DAYS);
        sync(&a)?;
        assert_eq!(lock(&a)?.store().person_key(leaving.person_id)?, None);

        let all = needles();
        for (name, bytes) in files(&dir)? {
            ensure!(
                found(&bytes, &all).is_none(),
                "{name} holds {:?}",
                found(&bytes, &all)
            );
        }

        // The office still reads them, with the server's key.
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        let page = org.page(&format!("/office/persons/{}", leaving.person_id))?;
        ensure!(
            page.contains(FAMILY) && page.contains(NEED),
            "the office reads them"
        );
        Ok(())
    })
}

/// A returning resident whose details a kiosk dropped after the retention period is
/// still served there: the kiosk asks the server for their key in the next sync (which
/// the server audits, and answers only for its own branch's kiosks), then registers them
/// by their code as before.
#[test]
fn a_returning_resident_is_served_again_after_the_kiosk_dropped_their_details() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let other_dir = tmp.path().join("other");
        let si = branch_id(&server.data, "SI")?;
        let other = enroll_kiosk_at(&server, &server.url(), &si, &other_dir)?;
        sync(&other)?;
        let service = lock(&a)?
            .store()
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?;
        let first = lock(&a)?.submit_intake(&IntakeForm {
            service_id: service.id.to_string(),
            given_name: GIVEN.to_owned(),
            family_name: FAMILY.to_owned(),
            birth_year: 1947,
            description: NEED.to_owned(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        sync(&a)?;
        lock(&a)?.set_retention_days(0);
        assert_eq!(sync(&a)?.dropped_personal, 1);
        lock(&a)?.set_retention_days(blisko_kiosk::kiosk::DEFAULT_RETENTION_DAYS);

        // Months later they come back and give their code.
        let class = lock(&a)?
            .classes()?
            .first()
            .context("a class")?
            .id
            .to_string();
        let again = RegistrationForm {
            class_id: class,
            given_name: GIVEN.to_owned(),
            family_name: FAMILY.to_owned(),
            birth_year: 1947,
            consent: true,
            resident_code: Some(first.resident_code.clone()),
            ..RegistrationForm::default()
        };
        let asked = lock(&a)?.register(&again);
        ensure!(
            matches!(asked, Err(KioskError::DetailsRequested)),
            "{asked:?}"
        );
        assert_eq!(lock(&a)?.store().wanted_keys(10)?, vec![first.person_id]);
        let sent = |kiosk: &Mutex<Kiosk>| -> Result<usize> {
            let id = lock(kiosk)?.identity().kiosk_id;
            let log = server.admin(&["audit", "--limit", "1000"])?;
            Ok(log
                .as_array()
                .context("the audit log")?
                .iter()
                .filter(|e| {
                    e["action"] == "person_key_sent"
                        && e["actor"] == format!("kiosk:{id}")
                        && e["subject"] == format!("person:{}", first.person_id)
                })
                .count())
        };
        assert_eq!(sent(&a)?, 0);
        sync(&a)?;
        assert_eq!(sent(&a)?, 1, "the hand-out is audited");
        ensure!(lock(&a)?.store().wanted_keys(10)?.is_empty());
        ensure!(lock(&a)?.store().person_key(first.person_id)?.is_some());

        // The details are checked as before: a wrong name is refused, the right one served.
        let wrong = RegistrationForm {
            family_name: "Kowalski".to_owned(),
            ..again.clone()
        };
        ensure!(matches!(
            lock(&a)?.register(&wrong),
            Err(KioskError::ResidentDetailsMismatch)
        ));
        let receipt = lock(&a)?.register(&again)?;
        assert_eq!(receipt.person_id, first.person_id, "the same resident");

        // Another branch's kiosk asking for the same person gets nothing.
        kiosk_sql(&other_dir)?.execute(
            "INSERT INTO wanted_keys (person_id) VALUES (?1)",
            [first.person_id.to_string()],
        )?;
        sync(&other)?;
        assert_eq!(lock(&other)?.store().person_key(first.person_id)?, None);
        assert_eq!(sent(&other)?, 0);
        ensure!(
            lock(&other)?.store().wanted_keys(10)?.is_empty(),
            "answered"
        );
        Ok(())
    })
}

/// One resident registered at two kiosks of the branch (two records), merged in
/// reconciliation. Returns both receipts, the first kiosk's first.
fn one_resident_at_two_kiosks(
    a: &Mutex<Kiosk>,
    b: &Mutex<Kiosk>,
    org: &Office,
) -> Result<(RegistrationReceipt, RegistrationReceipt)> {
    let (_, at_a) = register_the_person(a)?;
    let (_, at_b) = register_the_person(b)?;
    for k in [a, b, a, b] {
        sync(k)?;
    }
    let page = org.page("/office/reconcile")?;
    let pair = format!("{}/{}", at_a.person_id, at_b.person_id);
    let reverse = format!("{}/{}", at_b.person_id, at_a.person_id);
    let pairs = data_attrs(&page, "pair");
    let shown = pairs
        .iter()
        .find(|p| **p == pair || **p == reverse)
        .context("the two records are suggested as one person")?;
    let (pa, pb) = shown.split_once('/').context("a pair")?;
    let merged = org.post(
        "/office/reconcile/persons",
        &[("a", pa), ("b", pb), ("decision", "same")],
    )?;
    assert_eq!(merged.status().as_u16(), 303, "merged");
    Ok((at_a, at_b))
}

/// What the office shows of a person, as the pages a member of staff opens.
fn office_views(
    org: &Office,
    class: ClassId,
    persons: &[PersonId],
) -> Result<Vec<(String, String)>> {
    let mut pages = Vec::new();
    for p in persons {
        pages.push((
            format!("person {p}"),
            org.page(&format!("/office/persons/{p}"))?,
        ));
    }
    pages.push((
        "search".into(),
        org.page(&format!("/office/persons?q={}", &FAMILY[..6]))?,
    ));
    let class_page = org.page(&format!("/office/classes/{class}"))?;
    for session in data_attrs(&class_page, "session").iter().take(1) {
        pages.push((
            "print list".into(),
            org.page(&format!("/office/classes/{class}/sessions/{session}/print"))?,
        ));
    }
    pages.push(("class roster".into(), class_page));
    for export in [
        format!("/office/export/roster/{class}"),
        format!("/office/export/attendance/{class}"),
        "/office/export/requests".to_owned(),
    ] {
        pages.push((export.clone(), org.get(&export)?.text()?));
    }
    let requests = org.page("/office/requests")?;
    for r in data_attrs(&requests, "request") {
        pages.push((
            format!("request {r}"),
            org.page(&format!("/office/requests/{r}"))?,
        ));
    }
    pages.push(("requests".into(), requests));
    Ok(pages)
}

/// Defect 3 of issue 14: two records of one resident (two kiosks), merged in
/// reconciliation; erasing one erases the other too, everywhere: office pages, search,
/// exports, the server's files and the kiosks, which show both as erased.
#[test]
fn erasing_a_merged_person_erases_every_linked_record() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let data = server.data.clone();
        let mal = branch_id(&data, "MAL")?;
        let b_dir = tmp.path().join("b");
        let b = enroll_kiosk_at(&server, &server.url(), &mal, &b_dir)?;
        sync(&b)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        let (at_a, at_b) = one_resident_at_two_kiosks(&a, &b, &org)?;
        // The second record also asks for a service.
        let service = lock(&b)?
            .store()
            .services()?
            .into_iter()
            .next()
            .context("a service")?;
        lock(&b)?.submit_intake(&IntakeForm {
            service_id: service.id.to_string(),
            given_name: GIVEN.to_owned(),
            family_name: FAMILY.to_owned(),
            birth_year: 1947,
            description: NEED.to_owned(),
            pesel: service.requires_pesel.then(|| PESEL.to_owned()),
            declaration: true,
            consent: true,
            resident_code: Some(at_b.resident_code.clone()),
            ..IntakeForm::default()
        })?;
        for k in [&b, &a] {
            sync(k)?;
        }
        let persons = [at_a.person_id, at_b.person_id];
        let class = at_a.class_id;

        // Before: the office reads both, and the page says the linked record goes too.
        let before = office_views(&org, class, &persons)?;
        for (name, page) in &before {
            if name.starts_with("person") || name == "search" {
                ensure!(page.contains(FAMILY), "{name} shows the person before");
            }
        }
        let page = org.page(&format!("/office/persons/{}", at_a.person_id))?;
        let warning = page
            .split("id=\"erase-linked\"")
            .nth(1)
            .context("the page says linked records are erased too")?;
        let b_number = lock(&b)?.identity().kiosk_number;
        ensure!(
            warning.contains(&format!("kiosk nr {b_number}")) && !warning.contains(FAMILY),
            "the warning names where the linked record came from: {warning}"
        );
        for k in [&a, &b] {
            let roster = lock(k)?.named_roster(class)?;
            for p in persons {
                let row = roster
                    .iter()
                    .find(|r| r.person_id == p)
                    .context("on the roster")?;
                ensure!(row.family_name == FAMILY && !row.erased, "readable before");
            }
        }

        // Erase the first record.
        let erased = org.post(
            &format!("/office/persons/{}/erase", at_a.person_id),
            &[("confirm", "yes")],
        )?;
        assert_eq!(erased.status().as_u16(), 303);
        for k in [&a, &b, &a, &b] {
            sync(k)?;
        }

        // No office page shows either record's name, birth year or request; search finds
        // neither.
        for (name, page) in office_views(&org, class, &persons)? {
            // The birth year as pages and exports write it (ids are hex and may hold digits).
            for needle in [GIVEN, FAMILY, NEED, PESEL, ">1947<", "(1947)", ",1947"] {
                ensure!(!page.contains(needle), "{name} shows {needle:?}");
            }
            if name == "search" {
                for p in persons {
                    ensure!(!page.contains(&p.to_string()), "search finds {p}");
                }
            }
        }
        for p in persons {
            ensure!(
                org.page(&format!("/office/persons/{p}"))?
                    .contains("dane usunięte (RODO)"),
                "person {p} shows as erased"
            );
        }

        // No server file holds a detail of either record.
        for (name, bytes) in server_contents(&data)? {
            ensure!(
                found(&bytes, &needles()).is_none(),
                "{name} holds {:?}",
                found(&bytes, &needles())
            );
        }

        // Each kiosk of the branch shows both as erased, not as "not arrived yet".
        for k in [&a, &b] {
            let roster = lock(k)?.named_roster(class)?;
            for p in persons {
                let row = roster
                    .iter()
                    .find(|r| r.person_id == p)
                    .context("still on the roster")?;
                ensure!(
                    row.erased && row.family_name.is_empty() && row.given_name.is_empty(),
                    "person {p} shows as erased: {row:?}"
                );
                assert_eq!(lock(k)?.store().person_key(p)?, None);
            }
            for receipt in [&at_a, &at_b] {
                let overview = lock(k)?.resident(&receipt.resident_code)?;
                ensure!(overview.erased && overview.given_name.is_empty());
            }
            let rows = lock(k)?.roster(&class.to_string())?;
            ensure!(
                rows.iter()
                    .filter(|r| persons.contains(&r.person_id))
                    .all(|r| r.person_erased),
                "the roster marks both erased"
            );
        }
        for (dir, name) in [(tmp.path().join("a"), "a.sqlite3"), (b_dir, "b.sqlite3")] {
            let out = tmp.path().join(name);
            kiosk_plain_copy(&dir, &out)?;
            let bytes = std::fs::read(&out)?;
            ensure!(
                found(&bytes, &needles()).is_none(),
                "kiosk {name} holds {:?}",
                found(&bytes, &needles())
            );
        }
        Ok(())
    })
}

/// `blisko-server person erase --resident-code` outside the page: the resident and
/// their linked record erased, audited as the admin's, the ids printed; an unknown code
/// is refused (exit code 2) and changes nothing.
#[test]
fn the_admin_command_erases_a_resident_by_code_with_linked_records() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let data = server.data.clone();
        let mal = branch_id(&data, "MAL")?;
        let b = enroll_kiosk_at(&server, &server.url(), &mal, &tmp.path().join("b"))?;
        sync(&b)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        let (at_a, at_b) = one_resident_at_two_kiosks(&a, &b, &org)?;
        let persons = [at_a.person_id, at_b.person_id];
        let audited = |data: &Path| -> Result<Vec<(String, String)>> {
            let rows = ServerSql::open(data, StorePart::Main)?.texts(
                "SELECT actor, subject FROM audit WHERE action = 'person_erase' ORDER BY subject",
                &[],
            )?;
            Ok(rows
                .into_iter()
                .map(|r| (r[0].clone(), r[1].clone()))
                .collect())
        };

        // An unknown code: a clear refusal, nothing changed.
        let unknown = server_command(&data)?
            .args(["--json", "person", "erase", "--resident-code", "ACDE-FHJK"])
            .output()?;
        assert_eq!(unknown.status.code(), Some(2), "an unknown code");
        let error: serde_json::Value = serde_json::from_slice(&unknown.stderr)?;
        assert_eq!(error["error"]["code"], "not_found", "{error}");
        ensure!(audited(&data)?.is_empty(), "nothing erased");
        for p in persons {
            ensure!(org.page(&format!("/office/persons/{p}"))?.contains(FAMILY));
        }

        // The second record's code erases both records.
        let out = server.admin(&["person", "erase", "--resident-code", &at_b.resident_code])?;
        let mut printed: Vec<String> = out["erased"]
            .as_array()
            .context("erased ids")?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        printed.sort();
        let mut expected: Vec<String> = persons.iter().map(|p| p.to_string()).collect();
        expected.sort();
        assert_eq!(printed, expected, "both records erased, ids only");
        ensure!(
            !out.to_string().contains(FAMILY),
            "no personal data printed"
        );
        assert_eq!(
            audited(&data)?,
            expected
                .iter()
                .map(|p| ("admin".to_owned(), format!("person:{p}")))
                .collect::<Vec<_>>(),
            "each erasure audited as the admin's"
        );
        for p in persons {
            let page = org.page(&format!("/office/persons/{p}"))?;
            ensure!(
                page.contains("dane usunięte (RODO)") && !page.contains(FAMILY),
                "{p} erased"
            );
        }
        for (name, bytes) in server_contents(&data)? {
            ensure!(
                found(&bytes, &needles()).is_none(),
                "{name} holds personal data"
            );
        }
        for k in [&a, &b] {
            sync(k)?;
            for p in persons {
                assert_eq!(lock(k)?.store().person_key(p)?, None);
            }
        }
        Ok(())
    })
}

/// A linked erasure is one transaction over both files; a crash between their commits
/// leaves every record of the set half erased, and the next start finishes them all.
#[test]
fn a_linked_erasure_cut_between_the_two_files_is_finished_at_the_next_start() -> Result<()> {
    for_each_backend(|backend| {
        for lost in [StorePart::Personal, StorePart::Main] {
            let tmp = tempfile::tempdir()?;
            let (mut server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
            let (data, addr) = (server.data.clone(), server.addr);
            let mal = branch_id(&data, "MAL")?;
            let b = enroll_kiosk_at(&server, &server.url(), &mal, &tmp.path().join("b"))?;
            sync(&b)?;
            add_staff(&data, "admin", "office_admin", None)?;
            let org = Office::login(&server.url(), "admin", PASSWORD)?;
            let (at_a, at_b) = one_resident_at_two_kiosks(&a, &b, &org)?;
            let persons = [at_a.person_id, at_b.person_id];

            server.stop()?;
            let before = tmp.path().join("before");
            set_aside(&data, &before, lost)?;
            let mut server = ServerProcess::start_on(&data, addr, true)?;
            let org = Office::login(&server.url(), "admin", PASSWORD)?;
            let erased = org.post(
                &format!("/office/persons/{}/erase", at_a.person_id),
                &[("confirm", "yes")],
            )?;
            assert_eq!(erased.status().as_u16(), 303, "{lost:?}");

            // The crash: the other file committed, this one did not.
            server.stop()?;
            put_aside_back(&data, &before, lost)?;

            let server = ServerProcess::start_on(&data, addr, true)?;
            for p in persons {
                assert_eq!(
                    key_and_erasure(&data, p)?,
                    (false, true),
                    "{lost:?}: {p}'s key destroyed, the erasure recorded"
                );
                assert_eq!(
                    erasures_completed(&data, p)?,
                    1,
                    "{lost:?}: the audit log says so for {p}"
                );
            }
            let org = Office::login(&server.url(), "admin", PASSWORD)?;
            for p in persons {
                let page = org.page(&format!("/office/persons/{p}"))?;
                ensure!(
                    page.contains("dane usunięte (RODO)") && !page.contains(FAMILY),
                    "{lost:?}: the office shows {p} erased"
                );
            }
            for k in [&a, &b] {
                sync(k)?;
                for p in persons {
                    assert_eq!(lock(k)?.store().person_key(p)?, None, "{lost:?}");
                }
            }
            for (name, bytes) in part_contents(&data, StorePart::Personal)? {
                ensure!(
                    found(&bytes, &needles()).is_none(),
                    "{lost:?}: {name} holds {:?}",
                    found(&bytes, &needles())
                );
            }
        }
        Ok(())
    })
}

/// Merges can chain (b linked to a, then c to b): erasing any record of the chain
/// erases all of them; a record whose data was erased is then linked to nothing more.
#[test]
fn a_chain_of_merges_is_erased_whole_and_an_erased_record_is_not_linked_again() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let (server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let data = server.data.clone();
        let mal = branch_id(&data, "MAL")?;
        let b = enroll_kiosk_at(&server, &server.url(), &mal, &tmp.path().join("b"))?;
        sync(&b)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "admin", PASSWORD)?;
        let mut persons = Vec::new();
        for k in [&a, &a, &b] {
            persons.push(register_the_person(k)?.1.person_id);
        }
        for k in [&a, &b, &a] {
            sync(k)?;
        }
        persons.sort();
        let [x, y, z] = [persons[0], persons[1], persons[2]];
        // y is linked to x, then z to y: a chain z → y → x.
        for (p, q) in [(x, y), (y, z)] {
            let merged = org.post(
                "/office/reconcile/persons",
                &[
                    ("a", &p.to_string()),
                    ("b", &q.to_string()),
                    ("decision", "same"),
                ],
            )?;
            assert_eq!(merged.status().as_u16(), 303);
        }
        let page = org.page(&format!("/office/persons/{x}"))?;
        for p in [y, z] {
            ensure!(page.contains(&p.to_string()), "{p} is linked to {x}");
        }

        let erased = org.post(&format!("/office/persons/{x}/erase"), &[("confirm", "yes")])?;
        assert_eq!(erased.status().as_u16(), 303);
        for p in [x, y, z] {
            let page = org.page(&format!("/office/persons/{p}"))?;
            ensure!(
                page.contains("dane usunięte (RODO)") && !page.contains(FAMILY),
                "{p} is erased with the chain"
            );
        }

        // A new record of the same name cannot be linked to the erased ones.
        let (_, again) = register_the_person(&b)?;
        sync(&b)?;
        let refused = org.post(
            "/office/reconcile/persons",
            &[
                ("a", &x.to_string()),
                ("b", &again.person_id.to_string()),
                ("decision", "same"),
            ],
        )?;
        assert_eq!(refused.status().as_u16(), 400);
        let text = refused.text()?;
        ensure!(
            text.contains("nie można jej połączyć") && text.contains("Nic nie zostało zmienione"),
            "a clear refusal: {text}"
        );
        ensure!(
            org.page(&format!("/office/persons/{}", again.person_id))?
                .contains(FAMILY),
            "the new record stays as it is"
        );
        Ok(())
    })
}
