//! The app's background sync against a real server: it syncs on its timer, backs off
//! while the server is gone, and syncs again soon after the server is back.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use blisko_kiosk::kiosk::RegistrationForm;
use blisko_kiosk::sync::{BackgroundSync, SyncClient, SyncPhase, SyncSchedule};
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk};

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<()> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("timed out waiting for {what}")
}

#[test]
fn background_sync_backs_off_and_resumes_when_the_server_returns() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let mut server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let kiosk = Arc::new(enroll_kiosk(&server, &mal, &tmp.path().join("k"))?);
        let client = SyncClient::for_kiosk(&kiosk.lock().expect("kiosk"))?;
        let schedule = SyncSchedule {
            interval: Duration::from_millis(300),
            backoff_start: Duration::from_secs(30),
            backoff_max: Duration::from_secs(60),
            probe_every: Duration::from_millis(200),
        };
        let worker = BackgroundSync::start(kiosk.clone(), client, schedule);
        wait_for("the catalogue", Duration::from_secs(10), || {
            kiosk
                .lock()
                .is_ok_and(|k| k.classes().is_ok_and(|c| !c.is_empty()))
        })?;

        // The server goes away: the worker reports offline and backs off.
        let addr = server.addr;
        server.kill();
        let class = kiosk.lock().expect("kiosk").classes()?[0].id.to_string();
        let receipt = kiosk.lock().expect("kiosk").register(&RegistrationForm {
            class_id: class.clone(),
            given_name: "Irena".into(),
            family_name: "Sowa".into(),
            birth_year: 1947,
            consent: true,
            ..RegistrationForm::default()
        })?;
        worker.sync_now();
        wait_for("the offline state", Duration::from_secs(10), || {
            let s = worker.state();
            s.phase == SyncPhase::Offline && s.failures > 0
        })?;
        assert_eq!(worker.state().last_error.as_deref(), Some("offline"));

        // Back: the probe notices within the back-off and the registration goes up.
        let server = ServerProcess::start_on(&data, addr, true)?;
        wait_for(
            "a sync after the server returned",
            Duration::from_secs(10),
            || worker.state().failures == 0,
        )?;
        let roster = server.admin(&["roster", "--class", &class])?;
        let ids: Vec<&str> = roster
            .as_array()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r["registration_id"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(ids.contains(&receipt.registration_id.to_string().as_str()));
        assert_eq!(kiosk.lock().expect("kiosk").status()?.pending_changes, 0);
        drop(worker);
        Ok(())
    })
}
