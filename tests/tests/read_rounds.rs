//! Idle sync rounds are answered from a snapshot beside the writer, on both stores: while
//! the store's writer is held (another connection holds SQLite's write lock, or the lock
//! PostgreSQL's writers take turns on), an idle kiosk still syncs, and a kiosk with a new
//! registration waits for the writer. Once the writer is free, that registration reaches
//! the idle kiosk at its next sync, through the feed its snapshot read.

use std::path::Path;

use anyhow::{Context, Result, ensure};

use blisko_sync_server::store::POSTGRES_WRITE_LOCK;
use blisko_tests::harness::{
    ServerProcess, branch_id, database_of, enroll_kiosk_at, kiosk_roster, server_and_mal_kiosk_on,
    sync,
};
use blisko_tests::workload::form;
use blisko_tests::{Backend, for_each_backend};

/// The store's writer, held by another connection until dropped.
enum WriterHeld {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Client),
}

impl WriterHeld {
    fn take(data: &Path) -> Result<WriterHeld> {
        Ok(match database_of(data)? {
            None => {
                let conn = rusqlite::Connection::open(data.join("server.sqlite3"))?;
                conn.execute_batch("BEGIN IMMEDIATE")
                    .context("take SQLite's write lock")?;
                WriterHeld::Sqlite(conn)
            }
            Some(database) => {
                let mut client = database.connect()?;
                client
                    .execute("SELECT pg_advisory_lock($1)", &[&POSTGRES_WRITE_LOCK])
                    .context("take the writers' lock")?;
                WriterHeld::Postgres(client)
            }
        })
    }

    fn release(self) -> Result<()> {
        match self {
            WriterHeld::Sqlite(conn) => conn.execute_batch("ROLLBACK")?,
            WriterHeld::Postgres(mut client) => {
                client.execute("SELECT pg_advisory_unlock($1)", &[&POSTGRES_WRITE_LOCK])?;
            }
        }
        Ok(())
    }
}

/// A counter of the server's `/metrics` page.
fn counter(server: &ServerProcess, name: &str) -> Result<f64> {
    let page = reqwest::blocking::get(format!("{}/metrics", server.url()))?.text()?;
    page.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .with_context(|| format!("{name} on the metrics page"))
}

#[test]
fn idle_syncs_are_answered_while_the_writer_is_held() -> Result<()> {
    for_each_backend(|backend: Backend| {
        let tmp = tempfile::tempdir()?;
        // Kiosk a has synced once: its sync is written down, and the next, within the
        // minute, has nothing to store.
        let (server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let mal = branch_id(&server.data, "MAL")?;
        let b = enroll_kiosk_at(&server, &server.url(), &mal, &tmp.path().join("b"))?;
        sync(&b)?;
        let class = a.lock().expect("kiosk").classes()?[0].id.to_string();
        let before = kiosk_roster(&a, &class)?;
        let reads = counter(&server, "blisko_sync_reads_total")?;

        let held = WriterHeld::take(&server.data)?;
        let receipt = b
            .lock()
            .expect("kiosk")
            .register(&form(1, 0, class.parse()?))?;
        std::thread::scope(|s| -> Result<()> {
            let writing = s.spawn(|| sync(&b));
            let report = sync(&a).context("an idle sync while the writer is held")?;
            ensure!(
                report.pushed_docs == 0 && report.pending_changes == 0,
                "{report:?}"
            );
            ensure!(
                !writing.is_finished(),
                "kiosk b's sync, which stores a registration, did not wait for the writer"
            );
            held.release()?;
            let report = writing
                .join()
                .map_err(|_| anyhow::anyhow!("kiosk b's sync panicked"))??;
            ensure!(report.pushed_docs >= 1, "{report:?}");
            Ok(())
        })?;
        // Read only now: the page asks the store through the writer's connection.
        ensure!(
            counter(&server, "blisko_sync_reads_total")? > reads,
            "the idle sync was not counted as a read round"
        );

        sync(&a)?;
        let after = kiosk_roster(&a, &class)?;
        let id = receipt.registration_id.to_string();
        ensure!(
            !before.contains_key(&id) && after.contains_key(&id),
            "kiosk a sees kiosk b's registration after the writer was free"
        );
        Ok(())
    })
}

/// Whether a kiosk's sync is due to be written down is read from its row, which every
/// server process shares: a process that has not served the kiosk before answers its
/// idle sync on a reader, within the minute after another process wrote it down. (Each
/// process once kept its own memory of this, and sent every kiosk's first sync with it
/// to the writer: with kiosks spread over four processes, that was four writes a kiosk.)
#[test]
fn a_sync_written_down_by_one_process_is_not_written_again_by_the_next() -> Result<()> {
    for_each_backend(|backend: Backend| {
        let tmp = tempfile::tempdir()?;
        let (mut server, a) = server_and_mal_kiosk_on(backend, tmp.path())?;
        let written = server.admin(&["kiosk", "list"])?[0]["last_sync"].clone();
        ensure!(written.is_string(), "the first sync was written down");

        server.stop()?;
        let next = ServerProcess::start_on(&server.data, server.addr, false)?;
        let report = sync(&a)?;
        ensure!(report.pushed_docs == 0, "{report:?}");
        ensure!(
            counter(&next, "blisko_sync_reads_total")? >= 1.0,
            "the idle sync was not answered by a reader"
        );
        ensure!(
            counter(&next, "blisko_sync_batches_total")? == 0.0,
            "the idle sync went to the writer"
        );
        ensure!(
            next.admin(&["kiosk", "list"])?[0]["last_sync"] == written,
            "the sync was written down again within the minute"
        );
        Ok(())
    })
}
