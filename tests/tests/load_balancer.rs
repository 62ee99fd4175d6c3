//! A real nginx in front of two `blisko-server serve` processes on one PostgreSQL
//! database, as docs/scale.md and README configure it: it routes on the `blisko-branch`
//! header each kiosk sends, so every request of a branch point's kiosks goes to one
//! process (two processes writing rounds of one branch point wait for each other). When
//! that process dies, nginx sends the branch point's kiosks to the other, and nothing a
//! kiosk was told is saved goes missing, and the office's session holds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_shared::ids::BranchId;
use blisko_tests::harness::{ServerProcess, kiosk_roster, server_roster, sync};
use blisko_tests::nginx::Nginx;
use blisko_tests::office::{Office, PASSWORD, add_staff};
use blisko_tests::pg::Backend;
use blisko_tests::workload::{self, enroll_at, form};

/// Enough branch points that both processes get some (all on one: odds of 2 in 2^16).
const BRANCHES: usize = 16;
const ROUTE_BY_BRANCH: &str = "hash $http_blisko_branch consistent;";

#[test]
fn nginx_sends_a_branch_points_kiosks_to_one_process_and_past_a_dead_one() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let mut one = ServerProcess::start_backend(Backend::Postgres, &data, false)?;
    // The same folder, so the same database.
    let mut two = ServerProcess::start(&data, false)?;
    let catalogs = workload::catalogs(BRANCHES, 1, 5);
    workload::import(&data, &catalogs)?;
    let nginx = Nginx::start(
        &tmp.path().join("nginx"),
        &[one.addr, two.addr],
        ROUTE_BY_BRANCH,
    )?;

    // Two kiosks per branch point, enrolled through nginx; each syncs, registers one
    // resident and syncs again.
    let mut kiosks: Vec<(BranchId, Mutex<Kiosk>)> = Vec::new();
    for (b, catalog) in catalogs.iter().enumerate() {
        for i in 0..2 {
            let dir = tmp.path().join(format!("kiosk-{b}-{i}"));
            let kiosk = enroll_at(&data, &nginx.url(), catalog.branch.id, &dir)?;
            kiosks.push((catalog.branch.id, Mutex::new(kiosk)));
        }
    }
    for (k, (_, kiosk)) in kiosks.iter().enumerate() {
        sync(kiosk)?;
        let class = kiosk.lock().expect("kiosk").classes()?[0].id;
        kiosk.lock().expect("kiosk").register(&form(k, 0, class))?;
        sync(kiosk)?;
    }

    // Enrollment has no branch point to name yet; every sync request names its own.
    let routed = nginx.routed()?;
    ensure!(routed.iter().all(|r| r.status == 200), "{routed:?}");
    let unnamed = routed.iter().filter(|r| r.branch.is_empty()).count();
    ensure!(
        unnamed == kiosks.len(),
        "only enrollments go unnamed: {routed:?}"
    );
    let mut served_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in routed.iter().filter(|r| !r.branch.is_empty()) {
        served_by.entry(&r.branch).or_default().insert(r.upstream());
    }
    ensure!(served_by.len() == BRANCHES, "{served_by:?}");
    for (branch, processes) in &served_by {
        ensure!(
            processes.len() == 1,
            "branch point {branch} was served by {processes:?}"
        );
    }
    let used: BTreeSet<&str> = served_by.values().flatten().copied().collect();
    ensure!(used.len() == 2, "both processes serve: {served_by:?}");

    // The office logs in through nginx too.
    add_staff(&data, "admin", "office_admin", None)?;
    let office = Office::login(&nginx.url(), "admin", PASSWORD)?;

    // The process serving the first branch point dies; its kiosk registers and syncs
    // through nginx as before, the branch point's other kiosk sees the result, and the
    // office's session holds on whichever process is left.
    let (branch, first) = (&kiosks[0].0, &kiosks[0].1);
    let dead = served_by[branch.to_string().as_str()]
        .first()
        .context("the first branch point was served")?
        .to_string();
    let survivor = if dead == one.addr.to_string() {
        one.kill();
        &two
    } else {
        two.kill();
        &one
    };
    let class = first.lock().expect("kiosk").classes()?[0].id;
    let receipt = first.lock().expect("kiosk").register(&form(0, 1, class))?;
    sync(first)?;
    let last = nginx.routed()?.pop().context("the sync was logged")?;
    ensure!(
        last.status == 200 && last.upstream() == survivor.addr.to_string(),
        "{last:?}"
    );
    let merged = server_roster(survivor, &class.to_string())?;
    ensure!(
        merged.contains_key(&receipt.registration_id.to_string()),
        "the registration is on the server"
    );
    let second = &kiosks[1].1;
    sync(second)?;
    ensure!(kiosk_roster(second, &class.to_string())? == merged);
    ensure!(office.page("/office/classes")?.contains("Punkt 1"));
    Ok(())
}
