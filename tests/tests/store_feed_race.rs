//! The change feed and the key feed under concurrent writers, on every backend: several
//! store connections (as several server processes have) add documents and person keys to
//! two branch points while reader connections follow each branch's feeds with a cursor,
//! as kiosks' idle syncs do. An entry that became visible behind a cursor already passed
//! would never reach that reader; the checker finds it.
//!
//! Run twice: with writers that each take the store for themselves (office edits), and
//! with writers of sync rounds, which on PostgreSQL write the two branch points side by
//! side and take their feed positions at commit.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, ensure};
use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::DocKey;
use blisko_shared::ids::{BranchId, KioskId, PersonId};
use blisko_sync_server::store::ServerStore;
use blisko_tests::pg::{Backend, TestDatabase, feed_only_document, for_each_backend};

const WRITERS: usize = 4;
const READERS: usize = 4;
const TRANSACTIONS: usize = 25;

/// Where the store is: each connection opens it anew, as a process would.
enum StoreAt {
    Folder(tempfile::TempDir),
    Postgres(TestDatabase),
}

impl StoreAt {
    fn new(backend: Backend) -> Result<StoreAt> {
        Ok(match backend {
            Backend::Sqlite => StoreAt::Folder(tempfile::tempdir()?),
            Backend::Postgres => StoreAt::Postgres(TestDatabase::create()?),
        })
    }
}

fn open(at: &StoreAt) -> Result<ServerStore> {
    Ok(match at {
        StoreAt::Folder(dir) => ServerStore::open(dir.path())?,
        StoreAt::Postgres(db) => ServerStore::open_postgres(db.url())?,
    })
}

/// How the writers take the store.
#[derive(Debug, Clone, Copy)]
enum Writers {
    /// Each transaction for itself ([`ServerStore::write`]).
    Alone,
    /// Transactions of sync rounds of their branch point ([`ServerStore::write_branches`]).
    Branches,
}

/// What one branch point's feeds hold once the writers are done.
#[derive(Default)]
struct Written {
    docs: BTreeSet<DocKey>,
    persons: BTreeSet<PersonId>,
}

/// Each writer commits transactions of up to three new documents and a person key,
/// pausing between its writes and its commit, so that transactions overlap.
fn write(at: &StoreAt, writers: Writers, branch: BranchId, writer: usize) -> Result<Written> {
    let mut store = open(at)?;
    let mut written = Written::default();
    for t in 0..TRANSACTIONS {
        let db = match writers {
            Writers::Alone => store.write()?,
            Writers::Branches => {
                let db = store.write_branches()?;
                db.lock_branches([branch])?;
                db
            }
        };
        // Some transactions bring a key alone, as a round that registers a person
        // already in a people document does.
        let documents = if (t + writer) % 4 == 3 {
            0
        } else {
            1 + (t + writer) % 3
        };
        for _ in 0..documents {
            written
                .docs
                .insert(feed_only_document(&db, branch, writer as u8)?);
        }
        let person = PersonId::new();
        db.put_person_key(person, branch, KioskId::new(), &PersonKey::generate())?;
        written.persons.insert(person);
        std::thread::sleep(Duration::from_millis(((t * 7 + writer * 3) % 5) as u64));
        db.commit()?;
    }
    Ok(written)
}

/// Follow both feeds of `branch` until the writers are done, then once more to their
/// ends, as the server's read rounds do: on a reader connection, each page from a
/// snapshot taken without waiting for the writers. Positions must only grow.
fn follow(at: &StoreAt, branch: BranchId, done: &AtomicBool) -> Result<Written> {
    let mut store = ServerStore::reader(&open(at)?.location())?;
    let kiosk = KioskId::new();
    let (mut cursor, mut key_cursor) = (0, 0);
    let mut seen = Written::default();
    loop {
        let finished = done.load(Ordering::SeqCst);
        loop {
            let db = store.read()?;
            let page = db.feed(branch, cursor, 7)?;
            let keys = db.key_feed(branch, kiosk, key_cursor, 7)?;
            drop(db);
            if page.is_empty() && keys.is_empty() {
                break;
            }
            for (key, seq, _) in page {
                ensure!(seq > cursor, "the feed went back: {seq} after {cursor}");
                cursor = seq;
                seen.docs.insert(key);
            }
            for (seq, person, _) in keys {
                ensure!(
                    seq > key_cursor,
                    "the key feed went back: {seq} after {key_cursor}"
                );
                key_cursor = seq;
                seen.persons.insert(person);
            }
        }
        if finished {
            return Ok(seen);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn race(backend: Backend, writers: Writers) -> Result<()> {
    let at = Arc::new(StoreAt::new(backend)?);
    // Made once, so the writers do not race to create the tables.
    drop(open(&at)?);
    let branches = [BranchId::new(), BranchId::new()];
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (at, done) = (Arc::clone(&at), Arc::clone(&done));
            let branch = branches[r % 2];
            (
                branch,
                std::thread::spawn(move || follow(&at, branch, &done)),
            )
        })
        .collect();
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            let at = Arc::clone(&at);
            let branch = branches[w % 2];
            (
                branch,
                std::thread::spawn(move || write(&at, writers, branch, w)),
            )
        })
        .collect();
    let mut written: [Written; 2] = Default::default();
    for (branch, w) in handles {
        let done = w
            .join()
            .map_err(|_| anyhow::anyhow!("a writer panicked"))??;
        let into = &mut written[usize::from(branch == branches[1])];
        into.docs.extend(done.docs);
        into.persons.extend(done.persons);
    }
    done.store(true, Ordering::SeqCst);
    for (i, (branch, r)) in readers.into_iter().enumerate() {
        let seen = r
            .join()
            .map_err(|_| anyhow::anyhow!("a reader panicked"))??;
        let written = &written[usize::from(branch == branches[1])];
        let missed: Vec<_> = written.docs.difference(&seen.docs).collect();
        ensure!(
            missed.is_empty(),
            "{backend:?}, {writers:?}: reader {i} never saw {} of {} documents (they appeared behind its cursor): {missed:?}",
            missed.len(),
            written.docs.len()
        );
        let missed: Vec<_> = written.persons.difference(&seen.persons).collect();
        ensure!(
            missed.is_empty(),
            "{backend:?}, {writers:?}: reader {i} never saw {} of {} keys (they appeared behind its cursor): {missed:?}",
            missed.len(),
            written.persons.len()
        );
        ensure!(
            seen.docs.len() == written.docs.len() && seen.persons.len() == written.persons.len(),
            "{backend:?}, {writers:?}: reader {i} saw entries of another branch point"
        );
    }
    // Every position was handed out once: both feeds count 1, 2, 3, … across the
    // branch points.
    let mut store = open(&at)?;
    let db = store.read()?;
    let (mut docs, mut keys) = (Vec::new(), Vec::new());
    for branch in branches {
        docs.extend(
            db.feed(branch, 0, 10_000)?
                .into_iter()
                .map(|(_, seq, _)| seq),
        );
        keys.extend(
            db.key_feed(branch, KioskId::new(), 0, 10_000)?
                .into_iter()
                .map(|(seq, _, _)| seq),
        );
    }
    for (feed, mut positions) in [("change feed", docs), ("key feed", keys)] {
        positions.sort_unstable();
        let expected: Vec<i64> = (1..=positions.len() as i64).collect();
        ensure!(
            positions == expected,
            "{backend:?}, {writers:?}: the {feed}'s positions are not 1 to {}: {positions:?}",
            positions.len()
        );
    }
    Ok(())
}

#[test]
fn no_reader_misses_a_change_while_writers_race() -> Result<()> {
    for_each_backend(|backend| race(backend, Writers::Alone))
}

#[test]
fn no_reader_misses_a_change_while_branch_points_write_side_by_side() -> Result<()> {
    for_each_backend(|backend| race(backend, Writers::Branches))
}
