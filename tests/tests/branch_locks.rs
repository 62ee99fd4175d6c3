//! Sync rounds of different branch points write side by side on PostgreSQL, and the
//! feeds' positions still follow commit order. Four store connections, as four server
//! processes would have:
//!
//! - branch point A's transaction writes a document and a key, and stays open;
//! - branch point B's transaction, begun after it, writes and commits meanwhile;
//! - another transaction of A waits for the first (the database shows it waiting);
//! - an office edit, which takes the store for itself, waits for both of A's;
//!
//! then A commits, and the positions are handed out in the order of the commits: B's,
//! A's, A's second, the office's. The clock's row only ever moves forward.
//!
//! And the office projection, whose rows are of every branch point, is written by one
//! such transaction at a time, also after a part that took it was taken back.
//!
//! SQLite has one writer at a time, so this runs on PostgreSQL only.

use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::DocKey;
use blisko_shared::ids::{BranchId, KioskId, PersonId};
use blisko_sync_server::store::{POSTGRES_PROJECTION_LOCK, ServerStore};
use blisko_tests::pg::{Backend, TestDatabase, backends, feed_only_document};

/// Long enough for any machine; a transaction that has not finished by then is stuck.
const STUCK: Duration = Duration::from_secs(60);

/// One transaction on a connection of its own, in a thread: `Ok` with what it wrote
/// once it committed.
fn in_another_process(
    url: &str,
    work: impl FnOnce(&mut ServerStore) -> Result<(DocKey, Option<PersonId>)> + Send + 'static,
) -> mpsc::Receiver<Result<(DocKey, Option<PersonId>)>> {
    let url = url.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let done = ServerStore::open_postgres(&url)
            .map_err(anyhow::Error::from)
            .and_then(|mut store| work(&mut store));
        let _ = tx.send(done);
    });
    rx
}

fn on_postgres() -> bool {
    let on = backends().contains(&Backend::Postgres);
    if !on {
        eprintln!("-- PostgreSQL is not among the backends to test");
    }
    on
}

#[test]
fn branch_points_write_side_by_side_and_positions_follow_commits() -> Result<()> {
    if !on_postgres() {
        return Ok(());
    }
    let database = TestDatabase::create()?;
    let url = database.url().to_owned();
    let (a, b) = (BranchId::new(), BranchId::new());
    let (person_a, person_b) = (PersonId::new(), PersonId::new());
    let stamp = |wall: u64| format!("{wall:015}-0000000000-{}", KioskId::CENTRAL);

    let mut first = ServerStore::open_postgres(&url)?;
    let db = first.write_branches()?;
    db.lock_branches([a])?;
    let doc_a = feed_only_document(&db, a, 1)?;
    db.put_person_key(person_a, a, KioskId::new(), &PersonKey::generate())?;
    db.store_clock(&stamp(1_000))?;

    let other_branch = in_another_process(&url, move |store| {
        let db = store.write_branches()?;
        db.lock_branches([b])?;
        let doc = feed_only_document(&db, b, 1)?;
        db.put_person_key(person_b, b, KioskId::new(), &PersonKey::generate())?;
        db.store_clock(&stamp(2_000))?;
        db.commit()?;
        Ok((doc, Some(person_b)))
    });
    let (doc_b, _) = other_branch
        .recv_timeout(STUCK)
        .context("branch point B's round waited for A's")??;

    let same_branch = in_another_process(&url, move |store| {
        let db = store.write_branches()?;
        db.lock_branches([a])?;
        let doc = feed_only_document(&db, a, 1)?;
        db.commit()?;
        Ok((doc, None))
    });
    database.wait_for_lock_waiters(1, STUCK)?;
    let office = in_another_process(&url, move |store| {
        let db = store.write()?;
        let doc = feed_only_document(&db, b, 1)?;
        db.commit()?;
        Ok((doc, None))
    });
    database.wait_for_lock_waiters(2, STUCK)?;
    if same_branch.try_recv().is_ok() || office.try_recv().is_ok() {
        bail!("a transaction finished while the one it waits for was open");
    }
    db.commit()?;
    let (doc_a2, _) = same_branch
        .recv_timeout(STUCK)
        .context("A's second round")??;
    let (doc_office, _) = office.recv_timeout(STUCK).context("the office edit")??;

    let mut store = ServerStore::open_postgres(&url)?;
    let db = store.read()?;
    let mut positions: Vec<(i64, DocKey)> = Vec::new();
    for branch in [a, b] {
        positions.extend(
            db.feed(branch, 0, 10)?
                .into_iter()
                .map(|(k, seq, _)| (seq, k)),
        );
    }
    positions.sort();
    let order: Vec<DocKey> = positions.iter().map(|(_, k)| *k).collect();
    ensure!(
        order == [doc_b, doc_a, doc_a2, doc_office],
        "the documents' positions are not in commit order: {positions:?}"
    );
    let seqs: Vec<i64> = positions.iter().map(|(seq, _)| *seq).collect();
    ensure!(seqs == [1, 2, 3, 4], "positions {seqs:?}, not 1 to 4");
    let key_seq = |branch, person| -> Result<i64> {
        db.key_feed(branch, KioskId::new(), 0, 10)?
            .into_iter()
            .find(|(_, p, _)| *p == person)
            .map(|(seq, _, _)| seq)
            .context("a key missing from its branch point's feed")
    };
    let keys = (key_seq(b, person_b)?, key_seq(a, person_a)?);
    ensure!(
        keys == (1, 2),
        "the keys' positions are not in commit order: B {}, A {}",
        keys.0,
        keys.1
    );
    ensure!(
        db.meta("hlc")? == Some(stamp(2_000)),
        "the clock went back to an earlier stamp: {:?}",
        db.meta("hlc")?
    );
    Ok(())
}

/// Whether some transaction holds the projection's lock.
fn projection_held(database: &TestDatabase) -> Result<bool> {
    let held: i64 = database
        .connect()?
        .query_one(
            "SELECT count(*) FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 1
               AND (classid::bigint << 32) | objid::bigint = $1",
            &[&POSTGRES_PROJECTION_LOCK],
        )?
        .get(0);
    Ok(held > 0)
}

#[test]
fn the_projection_is_written_by_one_branch_points_transaction_at_a_time() -> Result<()> {
    if !on_postgres() {
        return Ok(());
    }
    let database = TestDatabase::create()?;
    let url = database.url().to_owned();
    let (a, b) = (BranchId::new(), BranchId::new());

    let mut first = ServerStore::open_postgres(&url)?;
    let db = first.write_branches()?;
    db.lock_branches([a])?;
    // A round takes the projection, and is taken back: so is its lock.
    db.begin_part()?;
    db.lock_projection()?;
    ensure!(
        projection_held(&database)?,
        "the projection's lock is not taken"
    );
    db.undo_part()?;
    ensure!(
        !projection_held(&database)?,
        "the lock outlived the part that took it"
    );
    // The next round of the batch takes it again.
    db.begin_part()?;
    db.lock_projection()?;
    db.keep_part()?;
    ensure!(
        projection_held(&database)?,
        "a later round wrote the projection without its lock"
    );

    let other = in_another_process(&url, move |store| {
        let db = store.write_branches()?;
        db.lock_branches([b])?;
        let doc = feed_only_document(&db, b, 1)?;
        db.lock_projection()?;
        db.commit()?;
        Ok((doc, None))
    });
    database.wait_for_lock_waiters(1, STUCK)?;
    if other.try_recv().is_ok() {
        bail!("another branch point's transaction wrote the projection beside this one");
    }
    db.commit()?;
    other
        .recv_timeout(STUCK)
        .context("the other branch point's transaction")??;
    Ok(())
}
