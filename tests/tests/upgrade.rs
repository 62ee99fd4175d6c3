//! Data folders written by the previous release (0.1.0, before the SMS outbox) open with
//! this one: the migrations run, and everything that was there is still there. The
//! folders are `tests/fixtures/release-0.1.0-data.tar.gz` (see the README beside it).

use std::path::Path;
use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_tests::harness::{
    ServerProcess, admin, check_replicas, kiosk_sql, open_kiosk, server_roster, sync_until_complete,
};

/// The class the fixture's residents registered for (Gimnastyka, branch MAL).
const CLASS: &str = "03d00357-1801-51b5-995b-9f6e880dedef";
const MAL: &str = "77ceeb5a-8380-55d1-96e5-fabf36d59b9e";
/// Registered at the kiosk and synced (Zofia Łęcka, Jan Kowalski).
const AT_KIOSK: [&str; 2] = [
    "01a24822-9efa-829d-953b-2bf000000000",
    "01a24822-a04c-829d-953b-2bf000000000",
];
/// Registered by the office by phone (Halina Nowak).
const BY_PHONE: &str = "01a24822-a1fc-8200-8000-000000000000";
/// Registered at the kiosk after the server stopped: never synced.
const OFFLINE: &str = "01a24822-b681-829d-953b-2bf000000000";

fn unpack(into: &Path) -> Result<()> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/release-0.1.0-data.tar.gz");
    let file = std::fs::File::open(&path).with_context(|| format!("open {}", path.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(into)
        .context("unpack the fixture")
}

fn user_version(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

#[test]
fn data_folders_of_the_previous_release_are_migrated_and_keep_everything() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    unpack(tmp.path())?;
    let data = tmp.path().join("server");
    let before = rusqlite::Connection::open(data.join("server.sqlite3"))?;
    ensure!(
        user_version(&before)? == 9,
        "the fixture is of the previous schema"
    );
    drop(before);

    // The admin commands open and migrate it.
    let roster = admin(&data, &["roster", "--class", CLASS])?;
    let ids: Vec<&str> = roster
        .as_array()
        .context("roster")?
        .iter()
        .filter_map(|r| r["registration_id"].as_str())
        .collect();
    for id in AT_KIOSK.iter().chain([&BY_PHONE]) {
        ensure!(ids.contains(id), "{id} in {roster}");
    }
    let after = rusqlite::Connection::open(data.join("server.sqlite3"))?;
    ensure!(user_version(&after)? == 10, "migration 10 ran");
    let outbox: i64 = after.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'notices'",
        [],
        |r| r.get(0),
    )?;
    ensure!(outbox == 1, "the SMS outbox exists");
    drop(after);
    let notices = admin(&data, &["notices"])?;
    ensure!(notices.as_array().is_some(), "{notices}");
    let kiosks = admin(&data, &["kiosk", "list"])?;
    ensure!(kiosks.as_array().map(Vec::len) == Some(1), "{kiosks}");
    ensure!(kiosks[0]["name"] == "MAL — hol", "{kiosks}");

    // The kiosk's folder, with its key beside it: migrations 7 and 8 run when it opens, and its
    // registration made offline reaches the upgraded server at the next sync.
    let server = ServerProcess::start(&data, false)?;
    let kiosk_dir = tmp.path().join("kiosk");
    {
        let conn = kiosk_sql(&kiosk_dir)?;
        ensure!(
            user_version(&conn)? == 6,
            "the kiosk fixture is of the previous schema"
        );
        conn.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'server_url'",
            [server.url()],
        )?;
    }
    let kiosk = Mutex::new(open_kiosk(&kiosk_dir)?);
    ensure!(
        user_version(&kiosk_sql(&kiosk_dir)?)? == 8,
        "kiosk migrations 7 and 8 ran"
    );
    {
        let status = kiosk
            .lock()
            .map_err(|_| anyhow::anyhow!("kiosk lock"))?
            .status()?;
        ensure!(status.counts.persons == 4, "{status:?}");
        ensure!(status.pending_changes > 0, "the offline registration waits");
    }
    sync_until_complete(&kiosk)?;
    let roster = server_roster(&server, CLASS)?;
    for id in AT_KIOSK.iter().chain([&BY_PHONE, &OFFLINE]) {
        ensure!(roster.contains_key(*id), "{id} in {roster:?}");
    }
    check_replicas(&server, MAL, &[&kiosk])?;
    Ok(())
}
