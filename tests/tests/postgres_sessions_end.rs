//! PostgreSQL ends every session of the server's database, as on a database restart or a
//! failover: the server's writer and its readers connect again at their next transaction
//! (a connection idle for a second is checked first, so after a quiet moment nothing
//! fails), and `/health` asks again on a new connection when it finds its own closed, so
//! it is ok at the first ask after the cut. The kiosks see at most a few transient
//! failures, which they retry; a registration made meanwhile lands, reaches the other
//! kiosk and the office.

use std::time::Duration;

use anyhow::{Context, Result, ensure};

use blisko_tests::harness::{
    ServerProcess, branch_id, enroll_kiosk_at, kiosk_roster, server_and_mal_kiosk_on,
    server_roster, sync, sync_until_complete,
};
use blisko_tests::pg::{Backend, backends};
use blisko_tests::workload::form;

/// End every session on the server's database but this one; how many there were.
fn end_sessions(server: &ServerProcess) -> Result<i64> {
    let database = server.database().context("the server is on PostgreSQL")?;
    let ended = database.connect()?.query_one(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
         FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
        &[],
    )?;
    Ok(ended.get(0))
}

fn health(server: &ServerProcess) -> Result<reqwest::StatusCode> {
    Ok(reqwest::blocking::get(format!("{}/health", server.url()))?.status())
}

#[test]
fn the_server_connects_again_when_postgresql_ends_its_sessions() -> Result<()> {
    if !backends().contains(&Backend::Postgres) {
        eprintln!("PostgreSQL is not among the backends tested: nothing to do");
        return Ok(());
    }
    let tmp = tempfile::tempdir()?;
    let (server, a) = server_and_mal_kiosk_on(Backend::Postgres, tmp.path())?;
    let mal = branch_id(&server.data, "MAL")?;
    let b = enroll_kiosk_at(&server, &server.url(), &mal, &tmp.path().join("b"))?;
    sync(&b)?;
    // Idle syncs now, so that readers are connected too.
    sync(&a)?;
    sync(&b)?;
    let class = a.lock().expect("kiosk").classes()?[0].id.to_string();

    for round in 0..2 {
        let ended = end_sessions(&server)?;
        ensure!(
            ended >= 2,
            "round {round}: the writer and a reader were connected, but {ended} sessions ended"
        );
        if round == 1 {
            // Left idle past a second, a connection is asked whether it still answers
            // before its next transaction: the first request after the cut is served.
            std::thread::sleep(Duration::from_millis(1500));
        }
        // Right after the cut (round 0: the connection was busy a moment ago, so it is
        // not asked first) or after an idle second (round 1), /health answers ok at the
        // first ask: it connects again when it finds the connection closed.
        ensure!(
            health(&server)? == reqwest::StatusCode::OK,
            "round {round}: /health is ok at the first ask after the cut"
        );
        let receipt = b
            .lock()
            .expect("kiosk")
            .register(&form(2, round, class.parse()?))?;
        sync_until_complete(&b).context("kiosk b after the sessions ended")?;
        sync_until_complete(&a).context("kiosk a after the sessions ended")?;
        let id = receipt.registration_id.to_string();
        ensure!(
            kiosk_roster(&a, &class)?.contains_key(&id),
            "round {round}: kiosk a has kiosk b's registration"
        );
        let office = server_roster(&server, &class)?;
        ensure!(office.contains_key(&id), "round {round}: the office has it");
        ensure!(
            health(&server)? == reqwest::StatusCode::OK,
            "round {round}: /health is ok again"
        );
    }
    Ok(())
}
