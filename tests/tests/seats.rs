//! The seat escrow where the office, offline kiosks and the network meet (a real server
//! process, real kiosk stores, real HTTP): an allotment the pool cannot cover is refused,
//! a cut stays reserved until its kiosk acknowledges it, what a merge leaves beyond a
//! class's limits is named as a compensation task, and an online kiosk asks the pool
//! before it calls a class full.

use std::sync::Mutex;

use anyhow::{Context, Result};
use serde_json::Value;

use blisko_kiosk::kiosk::{RegistrationForm, RegistrationReceipt};
use blisko_kiosk::{Kiosk, KioskError};
use blisko_tests::harness::{
    ServerProcess, admin_refused, allot, branch_id, enroll_kiosk, letters, server_roster,
    set_class_seats, sync,
};
use blisko_tests::office::{Office, PASSWORD, add_staff};
use blisko_tests::{Backend, for_each_backend};

fn form(class: &str, tag: &str, i: usize) -> RegistrationForm {
    RegistrationForm {
        class_id: class.to_owned(),
        given_name: format!("Osoba {}", letters(i)),
        family_name: format!("Nowak-{tag}"),
        birth_year: 1950,
        consent: true,
        ..RegistrationForm::default()
    }
}

/// Register `count` people at an online kiosk, each asking the pool as the touch app and
/// the command line do.
fn register_online(
    kiosk: &Mutex<Kiosk>,
    class: &str,
    tag: &str,
    count: usize,
) -> Result<Vec<RegistrationReceipt>> {
    (0..count)
        .map(|i| Ok(blisko_kiosk::sync::register(kiosk, &form(class, tag, i))?))
        .collect()
}

/// Register `count` people at a kiosk without syncing (offline).
fn register_offline(
    kiosk: &Mutex<Kiosk>,
    class: &str,
    tag: &str,
    count: usize,
) -> Result<Vec<RegistrationReceipt>> {
    let mut k = kiosk.lock().expect("kiosk");
    (0..count)
        .map(|i| Ok(k.register(&form(class, tag, i))?))
        .collect()
}

fn count(roster: &blisko_tests::harness::Roster, status: &str) -> usize {
    roster.values().filter(|(s, _)| s == status).count()
}

fn kiosk_id(kiosk: &Mutex<Kiosk>) -> String {
    kiosk.lock().expect("kiosk").identity().kiosk_id.to_string()
}

struct World {
    _tmp: tempfile::TempDir,
    server: ServerProcess,
    a: Mutex<Kiosk>,
    b: Mutex<Kiosk>,
    class: String,
}

/// A demo server on `backend`, two MAL kiosks, and one MAL class set to `capacity` seats
/// and a waiting list of `waitlist`.
fn world(backend: Backend, capacity: u32, waitlist: u32) -> Result<World> {
    let tmp = tempfile::tempdir()?;
    let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
    let mal = branch_id(&server.data, "MAL")?;
    let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
    let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
    sync(&a)?;
    let class = a.lock().expect("kiosk").classes()?[0].id.to_string();
    set_class_seats(&server, "MAL", &class, capacity, waitlist, tmp.path())?;
    sync(&a)?;
    sync(&b)?;
    Ok(World {
        _tmp: tmp,
        server,
        a,
        b,
        class,
    })
}

fn compensation(server: &ServerProcess) -> Result<Vec<Value>> {
    Ok(server
        .admin(&["compensation"])?
        .as_array()
        .context("compensation is an array")?
        .clone())
}

#[test]
fn allotments_the_pool_has_already_granted_are_refused() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend, 10, 10)?;
        let receipts = register_online(&w.a, &w.class, "a", 13)?;
        let confirmed = receipts.iter().filter(|r| r.status == "confirmed").count();
        assert_eq!(confirmed, 10, "ten seats from the pool, three waiting");

        // The pool has granted all ten: there is nothing to allot.
        for (kiosk, seats) in [(&w.a, "6"), (&w.b, "4")] {
            let (code, message) = admin_refused(
                &w.server.data,
                &[
                    "allot",
                    "--class",
                    &w.class,
                    "--kiosk",
                    &kiosk_id(kiosk),
                    "--seats",
                    seats,
                ],
            )?;
            assert_eq!(code, 2, "a refusal, not a failure");
            assert!(
                message.contains("0 free"),
                "says how many are free: {message}"
            );
        }
        sync(&w.a)?;
        sync(&w.b)?;
        register_offline(&w.a, &w.class, "late", 2)?;
        sync(&w.a)?;
        let roster = server_roster(&w.server, &w.class)?;
        assert_eq!(
            count(&roster, "confirmed"),
            10,
            "never more than the capacity"
        );
        assert!(compensation(&w.server)?.is_empty());
        Ok(())
    })
}

#[test]
fn an_allotment_cut_stays_reserved_until_its_kiosk_has_synced() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend, 10, 10)?;
        allot(&w.server, &w.class, &w.a, 4)?;
        sync(&w.a)?;
        // Offline, kiosk A confirms its four seats.
        let offline = register_offline(&w.a, &w.class, "a", 4)?;
        assert!(offline.iter().all(|r| r.status == "confirmed"));
        // Meanwhile the office takes A's allotment away: a request until A syncs.
        let cut = w.server.admin(&[
            "allot",
            "--class",
            &w.class,
            "--kiosk",
            &kiosk_id(&w.a),
            "--seats",
            "0",
        ])?;
        assert_eq!(cut["reserved_until_sync"], 4);
        // The office page says the cut waits for the kiosk.
        add_staff(&w.server.data, "biuro", "office_admin", None)?;
        let office = Office::login(&w.server.url(), "biuro", PASSWORD)?;
        let page = office.page(&format!("/office/classes/{}", w.class))?;
        let number = w.a.lock().expect("kiosk").identity().kiosk_number;
        assert!(
            page.contains(&format!("czeka na synchronizację: kiosk nr {number}")),
            "{page}"
        );
        // Kiosk B, online, gets only the pool's six.
        let online = register_online(&w.b, &w.class, "b", 10)?;
        let b_confirmed = online.iter().filter(|r| r.status == "confirmed").count();
        assert_eq!(b_confirmed, 6, "A's four stay reserved for A");

        sync(&w.a)?;
        sync(&w.b)?;
        let roster = server_roster(&w.server, &w.class)?;
        assert_eq!(count(&roster, "confirmed"), 10);
        assert!(compensation(&w.server)?.is_empty());
        for r in &offline {
            assert_eq!(roster[&r.registration_id.to_string()].0, "confirmed");
        }
        // A synced under the new catalog: the hold is gone, and A keeps what it granted.
        assert_eq!(
            w.server
                .admin(&["audit", "--limit", "200"])?
                .as_array()
                .context("audit")?
                .iter()
                .filter(|r| r["action"] == "allotment_acknowledged")
                .count(),
            1
        );
        // Two of A's residents cancel at A: with no allotment left, A gives the seats back,
        // and the pool gives them to the first two waiting at B.
        for r in &offline[..2] {
            w.a.lock()
                .expect("kiosk")
                .cancel(&r.registration_id.to_string())?;
        }
        sync(&w.a)?;
        let roster = server_roster(&w.server, &w.class)?;
        assert_eq!(count(&roster, "confirmed"), 10);
        assert_eq!(count(&roster, "waitlisted"), 2);
        let page = office.page(&format!("/office/classes/{}", w.class))?;
        assert!(!page.contains("czeka, aż kiosk"), "the hold is released");
        Ok(())
    })
}

#[test]
fn a_capacity_cut_names_the_newest_confirmed_and_demotes_no_one() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend, 5, 5)?;
        let receipts = register_online(&w.a, &w.class, "a", 5)?;
        assert!(receipts.iter().all(|r| r.status == "confirmed"));
        let tmp = tempfile::tempdir()?;
        set_class_seats(&w.server, "MAL", &w.class, 3, 5, tmp.path())?;
        let roster = server_roster(&w.server, &w.class)?;
        assert_eq!(count(&roster, "confirmed"), 5, "nobody is demoted");
        let tasks = compensation(&w.server)?;
        let named: Vec<_> = tasks
            .iter()
            .map(|t| {
                (
                    t["registration_id"].as_str().unwrap_or("").to_owned(),
                    t["kind"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        // Newest first: the last two registered.
        let expected: Vec<_> = receipts[3..]
            .iter()
            .rev()
            .map(|r| (r.registration_id.to_string(), "over_capacity".to_owned()))
            .collect();
        assert_eq!(named, expected);
        // The office sees them on its overview, linked to the class.
        add_staff(&w.server.data, "biuro", "office_admin", None)?;
        let office = Office::login(&w.server.url(), "biuro", PASSWORD)?;
        let overview = office.page("/office")?;
        for (id, _) in &named {
            assert!(
                overview.contains(&format!(
                    "data-registration=\"{id}\" data-kind=\"over_capacity\""
                )),
                "{overview}"
            );
        }
        // The class page names them, so staff can call them.
        let class_page = office.page(&format!("/office/classes/{}", w.class))?;
        let section = class_page
            .split("id=\"compensation\"")
            .nth(1)
            .context("the class page lists the tasks")?;
        assert!(
            section.contains(&format!("Nowak-a {}", form(&w.class, "a", 4).given_name)),
            "{section}"
        );
        // The kiosk sees the same tasks after a sync.
        sync(&w.a)?;
        let at_kiosk = w.a.lock().expect("kiosk").compensation()?;
        assert_eq!(at_kiosk.len(), 2);
        Ok(())
    })
}

#[test]
fn a_waiting_list_merged_beyond_its_limit_is_named_for_staff() -> Result<()> {
    for_each_backend(|backend| {
        let w = world(backend, 1, 1)?;
        allot(&w.server, &w.class, &w.a, 1)?;
        sync(&w.a)?;
        sync(&w.b)?;
        // Offline, each kiosk takes the last place on the list.
        let at_a = register_offline(&w.a, &w.class, "a", 2)?;
        let at_b = register_offline(&w.b, &w.class, "b", 1)?;
        assert_eq!(at_a[1].position, Some(1));
        assert_eq!(at_b[0].position, Some(1));
        for _ in 0..2 {
            sync(&w.a)?;
            sync(&w.b)?;
        }
        let tasks = compensation(&w.server)?;
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        assert_eq!(tasks[0]["kind"], "over_waitlist");
        let later = if at_a[1].registration_id.to_string() > at_b[0].registration_id.to_string() {
            at_a[1].registration_id
        } else {
            at_b[0].registration_id
        };
        assert_eq!(tasks[0]["registration_id"], later.to_string());
        // A full list refuses the next person, and the kiosk's staff see why.
        let refused = w.a.lock().expect("kiosk").register(&form(&w.class, "c", 0));
        assert!(matches!(refused, Err(KioskError::ClassFull { .. })));
        assert_eq!(w.a.lock().expect("kiosk").compensation()?.len(), 1);
        Ok(())
    })
}

#[test]
fn an_online_kiosk_asks_the_pool_before_it_calls_a_class_full() -> Result<()> {
    for_each_backend(|backend| {
        // No waiting list and no allotments: every seat is the pool's.
        let w = world(backend, 2, 0)?;
        let receipts = register_online(&w.a, &w.class, "a", 2)?;
        assert!(
            receipts.iter().all(|r| r.status == "confirmed"),
            "{receipts:?}"
        );
        // The third finds the class full, and nothing of the attempt stays waiting.
        let third = blisko_kiosk::sync::register(&w.a, &form(&w.class, "a", 7));
        assert!(
            matches!(third, Err(KioskError::ClassFull { .. })),
            "{third:?}"
        );
        let roster = server_roster(&w.server, &w.class)?;
        assert_eq!(count(&roster, "confirmed"), 2);
        assert_eq!(count(&roster, "waitlisted"), 0);
        Ok(())
    })
}

#[test]
fn offline_a_kiosk_that_cannot_ask_the_pool_calls_the_class_full_and_keeps_nothing() -> Result<()> {
    for_each_backend(|backend| {
        let mut w = world(backend, 2, 0)?;
        w.server.kill();
        let attempt = blisko_kiosk::sync::register(&w.a, &form(&w.class, "a", 0));
        assert!(
            matches!(attempt, Err(KioskError::ClassFull { .. })),
            "{attempt:?}"
        );
        let rows = w.a.lock().expect("kiosk").roster(&w.class)?;
        assert!(
            rows.iter().all(|r| r.status == "cancelled"),
            "the attempt is withdrawn, not left waiting: {rows:?}"
        );
        Ok(())
    })
}
