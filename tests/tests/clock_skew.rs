//! Kiosks whose clocks are wrong by days, one ahead and one behind, register alongside a
//! kiosk with the right time and sync. The hybrid logical clock keeps the order sound: a
//! kiosk stamps what it does after everything it has seen, whatever its own clock says;
//! the waiting list follows the stamps on every replica; no confirmation is taken back.
//! When the clocks are corrected (and the kiosks restarted), no stamp goes backwards.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{
    IntakeForm, RegistrationForm, RegistrationReceipt, WallClock, system_clock,
};
use blisko_shared::hlc::Hlc;
use blisko_tests::for_each_backend;
use blisko_tests::harness::{
    ServerProcess, allot, branch_id, check_replicas, enroll_kiosk_with_clock, kiosk_roster,
    letters, server_roster, sync_until_quiet,
};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A wall clock off by an offset that the test can change (an administrator fixing it).
fn skewed_clock(offset: Arc<AtomicI64>) -> WallClock {
    let system = system_clock();
    Arc::new(move || system().saturating_add_signed(offset.load(Ordering::SeqCst)))
}

struct Station {
    name: &'static str,
    kiosk: Mutex<Kiosk>,
    offset: Arc<AtomicI64>,
}

fn register(st: &Station, class: &str, n: usize) -> Result<RegistrationReceipt> {
    let form = RegistrationForm {
        class_id: class.to_owned(),
        given_name: format!("Osoba {}", letters(n)),
        family_name: format!("Zegarowa {}", st.name),
        birth_year: 1950 + (n % 40) as i32,
        consent: true,
        ..RegistrationForm::default()
    };
    Ok(st.kiosk.lock().expect("kiosk").register(&form)?)
}

/// A registration as the tests look at its order.
struct Stamped {
    id: String,
    created: Hlc,
    status: String,
    position: Option<u32>,
}

/// The registrations of a class at a kiosk, with their creation stamps.
fn stamps(kiosk: &Mutex<Kiosk>, class: &str) -> Result<Vec<Stamped>> {
    kiosk
        .lock()
        .expect("kiosk")
        .roster(class)?
        .into_iter()
        .map(|r| {
            Ok(Stamped {
                id: r.registration_id.to_string(),
                created: r.created.parse().context("a stamp")?,
                status: r.status.to_string(),
                position: r.position,
            })
        })
        .collect()
}

/// The stamp a kiosk issued last (persisted with every write).
fn last_stamp(kiosk: &Mutex<Kiosk>) -> Result<Hlc> {
    let k = kiosk.lock().expect("kiosk");
    let text = k.store().meta("hlc")?.context("a stored stamp")?;
    Ok(text.parse()?)
}

/// Every replica holds one roster; the waiting list follows the stamps; confirmations
/// shown are kept.
fn check(
    server: &ServerProcess,
    branch: &str,
    stations: &[Station],
    class: &str,
    capacity: u32,
    receipts: &[RegistrationReceipt],
    cancelled: &[String],
) -> Result<()> {
    check_replicas(server, branch, &replicas(stations))?;
    let roster = server_roster(server, class)?;
    for st in stations {
        ensure!(
            kiosk_roster(&st.kiosk, class)? == roster,
            "{} holds the server's roster",
            st.name
        );
    }

    let confirmed = roster.values().filter(|(s, _)| s == "confirmed").count();
    ensure!(confirmed as u32 <= capacity, "never past capacity");
    let mut waiting: Vec<_> = stamps(&stations[0].kiosk, class)?
        .into_iter()
        .filter(|r| r.status == "waitlisted")
        .collect();
    waiting.sort_by_key(|r| r.position);
    let positions: Vec<u32> = waiting.iter().filter_map(|w| w.position).collect();
    ensure!(
        positions == (1..=waiting.len() as u32).collect::<Vec<_>>(),
        "the waiting list is numbered 1..n"
    );
    ensure!(
        waiting.windows(2).all(|w| w[0].created < w[1].created),
        "the waiting list follows the stamps"
    );
    for r in receipts {
        let id = r.registration_id.to_string();
        let (status, _) = roster.get(&id).context("an acknowledged registration")?;
        if cancelled.contains(&id) {
            ensure!(status == "cancelled", "{id} was cancelled");
        } else if r.status == "confirmed" {
            ensure!(
                status == "confirmed",
                "confirmed {id} became {status}: the seat promise is broken"
            );
        }
    }
    Ok(())
}

/// Register once more at a kiosk that has seen the others' work: the new stamp sorts
/// after everything the kiosk holds, whatever its clock says, and a new waiting person
/// goes to the end of the list.
fn register_after_seeing(st: &Station, class: &str, n: usize) -> Result<RegistrationReceipt> {
    let seen = stamps(&st.kiosk, class)?;
    let latest = seen
        .iter()
        .map(|s| s.created)
        .max()
        .context("registrations")?;
    let issued = last_stamp(&st.kiosk)?;
    let r = register(st, class, n)?;
    let created = stamps(&st.kiosk, class)?
        .into_iter()
        .find(|s| s.id == r.registration_id.to_string())
        .context("the new registration")?
        .created;
    ensure!(
        created > latest && created > issued,
        "{}: the new stamp {created} sorts after everything seen ({latest}) and issued ({issued})",
        st.name
    );
    if r.status == "waitlisted" {
        let last = seen.iter().filter_map(|s| s.position).max().unwrap_or(0);
        ensure!(
            r.position > Some(last),
            "{}: at the end of the list",
            st.name
        );
    }
    Ok(r)
}

/// Close a kiosk and open its folder again, as after a restart.
fn restart(st: Station) -> Result<Station> {
    let Station {
        name,
        kiosk,
        offset,
    } = st;
    let dir = kiosk.lock().expect("kiosk").dir().to_owned();
    drop(kiosk);
    let kiosk = Mutex::new(Kiosk::open_with_clock(
        &dir,
        &blisko_tests::harness::setup_key(&dir)?,
        skewed_clock(offset.clone()),
    )?);
    Ok(Station {
        name,
        kiosk,
        offset,
    })
}

fn replicas(stations: &[Station]) -> Vec<&Mutex<Kiosk>> {
    stations.iter().map(|s| &s.kiosk).collect()
}

#[test]
fn kiosks_with_wrong_clocks_keep_order_and_seats() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let mut stations = Vec::new();
        for (name, days) in [("right", 0), ("ahead", 3), ("behind", -4)] {
            let offset = Arc::new(AtomicI64::new(days * DAY_MS));
            let kiosk = enroll_kiosk_with_clock(
                &server,
                &mal,
                &tmp.path().join(name),
                skewed_clock(offset.clone()),
            )?;
            stations.push(Station {
                name,
                kiosk,
                offset,
            });
        }
        sync_until_quiet(&replicas(&stations))?;
        // Staff are told which clocks are off, and by how much (the server's Date header has
        // whole seconds, and the answer takes a moment).
        for st in &stations {
            let status = st.kiosk.lock().expect("kiosk").status()?;
            let offset = status.clock_offset_s.context("offset after a sync")?;
            let expected = -st.offset.load(Ordering::SeqCst) / 1000;
            ensure!(
                (offset - expected).abs() <= 2,
                "{}: offset {offset} s, expected about {expected} s",
                st.name
            );
            ensure!(status.clock_is_off() == (st.name != "right"), "{}", st.name);
        }

        // The smallest class, each kiosk holding two seats: it fills, people wait.
        let mut classes = stations[0].kiosk.lock().expect("kiosk").classes()?;
        classes.sort_by_key(|c| c.capacity);
        let (class, capacity) = (classes[0].id.to_string(), classes[0].capacity);
        for st in &stations {
            allot(&server, &class, &st.kiosk, 2)?;
        }
        sync_until_quiet(&replicas(&stations))?;

        // Offline, taking turns in real time: the behind kiosk's stamps are days older, the
        // ahead kiosk's days newer, than when things happened.
        let mut receipts = Vec::new();
        let mut behind_confirmed = Vec::new();
        let mut n = 0;
        for _ in 0..4 {
            for st in &stations {
                n += 1;
                let r = register(st, &class, n)?;
                if st.name == "behind" && r.status == "confirmed" {
                    behind_confirmed.push(r.registration_id.to_string());
                }
                receipts.push(r);
            }
        }
        ensure!(receipts.iter().any(|r| r.status == "waitlisted"));
        sync_until_quiet(&replicas(&stations))?;
        check(&server, &mal, &stations, &class, capacity, &receipts, &[])?;

        for st in &stations {
            n += 1;
            receipts.push(register_after_seeing(st, &class, n)?);
        }
        // The behind kiosk cancels one of its confirmed registrations: its seat goes to the
        // first in line, by stamps, on every replica.
        let cancelled: Vec<String> = behind_confirmed.into_iter().take(1).collect();
        for id in &cancelled {
            let receipt = stations[2].kiosk.lock().expect("kiosk").cancel(id)?;
            ensure!(!receipt.promoted.is_empty(), "someone was waiting");
        }
        sync_until_quiet(&replicas(&stations))?;
        check(
            &server, &mal, &stations, &class, capacity, &receipts, &cancelled,
        )?;

        // The clocks are corrected and the kiosks restarted: no stamp goes backwards, the
        // ahead kiosk's included, and the order holds.
        let mut restarted = Vec::new();
        for st in stations {
            st.offset.store(0, Ordering::SeqCst);
            restarted.push(restart(st)?);
        }
        let stations = restarted;
        for st in &stations {
            n += 1;
            receipts.push(register_after_seeing(st, &class, n)?);
        }
        sync_until_quiet(&replicas(&stations))?;
        check(
            &server, &mal, &stations, &class, capacity, &receipts, &cancelled,
        )?;
        for st in &stations {
            let status = st.kiosk.lock().expect("kiosk").status()?;
            ensure!(
                !status.clock_is_off(),
                "{}: {:?}",
                st.name,
                status.clock_offset_s
            );
        }
        Ok(())
    })
}

/// A reference number carries the year of the kiosk's own calendar. A kiosk whose clock
/// runs days ahead past New Year drags the other kiosks' stamps into the next year (as it
/// must, to keep the order), but not their reference numbers.
#[test]
fn a_clock_ahead_past_new_year_leaves_the_others_references_alone() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let mal = branch_id(&server.data, "MAL")?;
        let eve = "2026-12-31T12:00:00Z"
            .parse::<jiff::Timestamp>()?
            .as_millisecond();
        let new_year = "2027-01-01T00:00:00Z"
            .parse::<jiff::Timestamp>()?
            .as_millisecond() as u64;
        let to_eve = eve - system_clock()() as i64;
        let mut stations = Vec::new();
        for (name, offset) in [("eve", to_eve), ("ahead", to_eve + 3 * DAY_MS)] {
            let offset = Arc::new(AtomicI64::new(offset));
            let kiosk = enroll_kiosk_with_clock(
                &server,
                &mal,
                &tmp.path().join(name),
                skewed_clock(offset.clone()),
            )?;
            stations.push(Station {
                name,
                kiosk,
                offset,
            });
        }
        sync_until_quiet(&replicas(&stations))?;
        let class = stations[1].kiosk.lock().expect("kiosk").classes()?[0]
            .id
            .to_string();
        register(&stations[1], &class, 1)?;
        sync_until_quiet(&replicas(&stations))?;
        // The ahead kiosk's registration reached the eve kiosk: its clock moved past it.
        register(&stations[0], &class, 2)?;
        ensure!(last_stamp(&stations[0].kiosk)?.wall_ms >= new_year);

        let mut k = stations[0].kiosk.lock().expect("kiosk");
        let service = k
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service")?;
        let receipt = k.submit_intake(&IntakeForm {
            service_id: service.id.to_string(),
            given_name: "Teresa".into(),
            family_name: "Sylwestrowa".into(),
            birth_year: 1950,
            description: "Proszę o kontakt.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        ensure!(
            receipt.reference.contains("/2026/"),
            "the reference {} has the kiosk's year",
            receipt.reference
        );
        Ok(())
    })
}
