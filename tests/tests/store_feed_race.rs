//! The change feed under concurrent writers, on every backend: several store connections
//! (as several server processes have) add documents to one branch while reader
//! connections follow the feed with a cursor, as kiosks' idle syncs do. A document that became visible behind a cursor
//! already passed would never reach that reader; the checker finds it.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, ensure};
use blisko_shared::docs::{ChangeHash, DocKey};
use blisko_shared::ids::{BranchId, RequestId};
use blisko_sync_server::store::ServerStore;
use blisko_tests::pg::{Backend, TestDatabase, for_each_backend};

const WRITERS: usize = 4;
const READERS: usize = 3;
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

/// Each writer commits transactions of one to three new documents, pausing between taking
/// its feed positions and committing, so that transactions overlap.
fn write(at: &StoreAt, branch: BranchId, writer: usize) -> Result<Vec<DocKey>> {
    let mut store = open(at)?;
    let mut written = Vec::new();
    for t in 0..TRANSACTIONS {
        let db = store.write()?;
        for _ in 0..=(t + writer) % 3 {
            let key = DocKey::Intake(RequestId::new());
            db.insert_document(
                key,
                Some(branch),
                None,
                b"not a document: the feed never reads it",
                &[ChangeHash([writer as u8; 32])],
                "2026-12-06T10:00:00Z",
            )?;
            written.push(key);
        }
        std::thread::sleep(Duration::from_millis(((t * 7 + writer * 3) % 5) as u64));
        db.commit()?;
    }
    Ok(written)
}

/// Follow the feed until the writers are done, then once more to its end, as the
/// server's read rounds do: on a reader connection, each page from a snapshot taken
/// without waiting for the writers. Positions must only grow.
fn follow(at: &StoreAt, branch: BranchId, done: &AtomicBool) -> Result<BTreeSet<DocKey>> {
    let mut store = ServerStore::reader(&open(at)?.location())?;
    let mut cursor = 0;
    let mut seen = BTreeSet::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        loop {
            let db = store.read()?;
            let page = db.feed(branch, cursor, 7)?;
            drop(db);
            if page.is_empty() {
                break;
            }
            for (key, seq, _) in page {
                ensure!(seq > cursor, "the feed went back: {seq} after {cursor}");
                cursor = seq;
                seen.insert(key);
            }
        }
        if finished {
            return Ok(seen);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn race(backend: Backend) -> Result<()> {
    let at = Arc::new(StoreAt::new(backend)?);
    // Made once, so the writers do not race to create the tables.
    drop(open(&at)?);
    let branch = BranchId::new();
    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (at, done) = (Arc::clone(&at), Arc::clone(&done));
            std::thread::spawn(move || follow(&at, branch, &done))
        })
        .collect();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let at = Arc::clone(&at);
            std::thread::spawn(move || write(&at, branch, w))
        })
        .collect();
    let mut written = BTreeSet::new();
    for w in writers {
        written.extend(
            w.join()
                .map_err(|_| anyhow::anyhow!("a writer panicked"))??,
        );
    }
    done.store(true, Ordering::SeqCst);
    for (i, r) in readers.into_iter().enumerate() {
        let seen = r
            .join()
            .map_err(|_| anyhow::anyhow!("a reader panicked"))??;
        let missed: Vec<_> = written.difference(&seen).collect();
        ensure!(
            missed.is_empty(),
            "{backend:?}: reader {i} never saw {} of {} documents (they appeared behind its cursor): {missed:?}",
            missed.len(),
            written.len()
        );
    }
    Ok(())
}

#[test]
fn no_reader_misses_a_change_while_writers_race() -> Result<()> {
    for_each_backend(race)
}
