//! Five kiosks of two branches work offline and sync at the same time through a proxy
//! that delays, drops, cuts, resets and replays their connections under a seeded plan.
//! Once the network is sound again, one more round of syncs makes every replica of a
//! branch identical, every acknowledged record is on every kiosk of its branch and on
//! the server, no confirmation has turned into a place on the waiting list, and the
//! other branch's kiosks hold none of it.
//!
//! It runs on each server store of `BLISKO_TEST_BACKENDS` in turn, the working time shared
//! out between them. `BLISKO_CHAOS_SECONDS` sets how long the kiosks work in all (20 by
//! default); `BLISKO_SEED` replays a seed (printed at the start). A replay makes the same
//! choices, though the threads may interleave differently.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm, local_date};
use blisko_kiosk::store::SessionRow;
use blisko_kiosk::{Kiosk, KioskError};
use blisko_shared::ids::{RegistrationId, StaffId};
use blisko_shared::model::AttendanceStatus;
use blisko_tests::harness::{
    ServerProcess, allot, branch_id, check_replicas, enroll_via, env_count, kiosk_heads,
    kiosk_roster, letters, seed, server_heads, server_roster, sync, sync_until_quiet, transient,
};
use blisko_tests::proxy::{Fault, FaultProxy};
use blisko_tests::{Backend, backends, for_each_backend};

const DEFAULT_SECONDS: u64 = 20;

/// A registration some kiosk acknowledged.
#[derive(Debug, Clone)]
struct Registered {
    branch: usize,
    class: String,
    status: String,
}

/// What the kiosks acknowledged, shared by the kiosk threads.
#[derive(Debug, Default)]
struct Ledger {
    registrations: BTreeMap<RegistrationId, Registered>,
    /// Registrations a cancellation was tried for, so that two kiosks do not both try.
    cancel_sent: HashSet<RegistrationId>,
    cancel_acked: HashSet<RegistrationId>,
    /// (branch, resident code, reference) of acknowledged intake requests.
    intakes: Vec<(usize, String, String)>,
    /// (branch, session, registration) of acknowledged attendance marks.
    marks: Vec<(usize, SessionRow, RegistrationId)>,
    syncs_ok: u64,
    syncs_broken: u64,
}

/// What one kiosk works with.
struct Station {
    kiosk: Mutex<Kiosk>,
    branch: usize,
    tag: usize,
    classes: Vec<String>,
    services: Vec<String>,
    sessions: Vec<SessionRow>,
}

/// The proxy's plan: about one connection in five passes untouched.
fn chaos_plan(seed: u64) -> impl FnMut() -> Fault + Send + 'static {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xC4A0_5EED);
    move || match rng.random_range(0..100) {
        0..20 => Fault::Pass,
        20..32 => Fault::CutResponse(rng.random_range(0..2000)),
        32..40 => Fault::CutRequest(rng.random_range(0..2000)),
        40..46 => Fault::DropRequest(Duration::from_millis(rng.random_range(0..200))),
        46..52 => Fault::CloseAtOnce,
        52..68 => Fault::Delay(Duration::from_millis(rng.random_range(0..400))),
        68..84 => Fault::Reset(rng.random_range(0..2000)),
        _ => Fault::Duplicate,
    }
}

/// Sessions of a kiosk's classes in the coming two weeks (the demo catalogue's).
fn upcoming_sessions(kiosk: &Kiosk) -> Result<Vec<SessionRow>> {
    let mut day = local_date(blisko_kiosk::kiosk::system_clock()());
    let mut sessions = Vec::new();
    for _ in 0..14 {
        sessions.extend(kiosk.store().sessions_on(&day.to_string())?);
        day = day.tomorrow()?;
    }
    Ok(sessions)
}

/// One random action at a kiosk, recorded in the ledger once acknowledged.
fn act(station: &Station, rng: &mut StdRng, ledger: &Mutex<Ledger>, n: &mut usize) -> Result<()> {
    *n += 1;
    let mut k = station.kiosk.lock().expect("kiosk");
    let roll = rng.random_range(0..100);
    if roll < 55 {
        let form = RegistrationForm {
            class_id: station.classes[rng.random_range(0..station.classes.len())].clone(),
            given_name: format!("Osoba {}", letters(*n)),
            family_name: format!("Chaos {}", letters(station.tag)),
            birth_year: rng.random_range(1940..2005),
            consent: true,
            ..RegistrationForm::default()
        };
        match k.register(&form) {
            Ok(r) => {
                ledger.lock().expect("ledger").registrations.insert(
                    r.registration_id,
                    Registered {
                        branch: station.branch,
                        class: r.class_id.to_string(),
                        status: r.status.to_string(),
                    },
                );
            }
            Err(KioskError::ClassFull { .. }) => {}
            Err(e) => return Err(e).context("register"),
        }
    } else if roll < 67 {
        // Any registration of the branch, made here or at another kiosk.
        let candidate = {
            let mut l = ledger.lock().expect("ledger");
            let open: Vec<RegistrationId> = l
                .registrations
                .iter()
                .filter(|(id, r)| r.branch == station.branch && !l.cancel_sent.contains(*id))
                .map(|(id, _)| *id)
                .collect();
            let pick = (!open.is_empty()).then(|| open[rng.random_range(0..open.len())]);
            if let Some(id) = pick {
                l.cancel_sent.insert(id);
            }
            pick
        };
        if let Some(id) = candidate {
            match k.cancel(&id.to_string()) {
                Ok(_) => {
                    ledger.lock().expect("ledger").cancel_acked.insert(id);
                }
                // Not synced to this kiosk yet: nothing happened, another try may come.
                Err(KioskError::UnknownRegistration(_)) => {
                    ledger.lock().expect("ledger").cancel_sent.remove(&id);
                }
                Err(e) => return Err(e).context("cancel"),
            }
        }
    } else if roll < 82 {
        let form = IntakeForm {
            service_id: station.services[rng.random_range(0..station.services.len())].clone(),
            given_name: format!("Wnioskodawca {}", letters(*n)),
            family_name: format!("Chaos {}", letters(station.tag)),
            birth_year: rng.random_range(1940..2005),
            description: "Proszę o kontakt w sprawie pomocy.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        };
        let receipt = k.submit_intake(&form).context("intake")?;
        ledger.lock().expect("ledger").intakes.push((
            station.branch,
            receipt.resident_code,
            receipt.reference,
        ));
    } else if !station.sessions.is_empty() {
        let session = station.sessions[rng.random_range(0..station.sessions.len())].clone();
        let roster = k.roster(&session.class_id.to_string())?;
        if !roster.is_empty() {
            let registration = roster[rng.random_range(0..roster.len())].registration_id;
            let status = [
                AttendanceStatus::Present,
                AttendanceStatus::Absent,
                AttendanceStatus::Excused,
            ][rng.random_range(0..3)];
            k.mark_attendance(session.id, registration, status, StaffId::new())
                .context("mark attendance")?;
            ledger
                .lock()
                .expect("ledger")
                .marks
                .push((station.branch, session, registration));
        }
    }
    Ok(())
}

/// Work and sync until the deadline; a sync may fail only as a broken connection does.
fn work(station: &Station, seed: u64, until: Instant, ledger: &Mutex<Ledger>) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(seed ^ ((station.tag as u64 + 1) * 0x9E37_79B9));
    let mut n = 0;
    while Instant::now() < until {
        for _ in 0..rng.random_range(0..4) {
            act(station, &mut rng, ledger, &mut n)?;
        }
        match sync(&station.kiosk) {
            Ok(_) => ledger.lock().expect("ledger").syncs_ok += 1,
            Err(e) if transient(&e) => ledger.lock().expect("ledger").syncs_broken += 1,
            Err(e) => {
                return Err(e.context(format!(
                    "kiosk {}: a broken connection must be a transient failure",
                    station.tag
                )));
            }
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..50)));
    }
    Ok(())
}

/// Each kiosk of a branch may confirm some seats of every class offline, and the server
/// keeps a share for its pool: the small demo classes fill, and the seat promise meets
/// waiting lists.
fn share_seats(server: &ServerProcess, kiosks: &[&Mutex<Kiosk>]) -> Result<()> {
    let classes = kiosks[0].lock().expect("kiosk").classes()?;
    ensure!(!classes.is_empty(), "the kiosks have their catalog");
    for class in &classes {
        let share = class.capacity / (kiosks.len() as u32 + 1);
        for k in kiosks {
            allot(server, &class.id.to_string(), k, share)?;
        }
    }
    Ok(())
}

fn station(kiosk: Mutex<Kiosk>, branch: usize, tag: usize) -> Result<Station> {
    let (classes, services, sessions) = {
        let k = kiosk.lock().expect("kiosk");
        let classes = k.classes()?.iter().map(|c| c.id.to_string()).collect();
        let services = k
            .services()?
            .into_iter()
            .filter(|s| !s.requires_pesel)
            .map(|s| s.id.to_string())
            .collect();
        (classes, services, upcoming_sessions(&k)?)
    };
    Ok(Station {
        kiosk,
        branch,
        tag,
        classes,
        services,
        sessions,
    })
}

#[test]
fn five_kiosks_sync_through_a_faulty_network_and_converge() -> Result<()> {
    let seed = seed();
    let seconds = env_count("BLISKO_CHAOS_SECONDS", DEFAULT_SECONDS);
    // The working time is shared out between the stores, each running its part.
    let share = Duration::from_secs(seconds) / backends().len() as u32;
    for_each_backend(|backend| {
        run(backend, seed, share)
            .with_context(|| format!("seed {seed} (set BLISKO_SEED={seed} to repeat)"))
    })
}

fn run(backend: Backend, seed: u64, duration: Duration) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
    let branches = [
        branch_id(&server.data, "MAL")?,
        branch_id(&server.data, "SI")?,
    ];
    let proxy = FaultProxy::start(server.addr)?;

    // Three kiosks at MAL, two at SI, enrolled through the proxy while it passes all.
    let mut kiosks = Vec::new();
    for (tag, branch) in [0, 0, 0, 1, 1].into_iter().enumerate() {
        let dir = tmp.path().join(format!("k{tag}"));
        kiosks.push((
            enroll_via(&server, &branches[branch], &proxy.url(), &dir)?,
            branch,
        ));
    }
    let all: Vec<&Mutex<Kiosk>> = kiosks.iter().map(|(k, _)| k).collect();
    sync_until_quiet(&all)?;
    for branch in 0..branches.len() {
        let of_branch: Vec<&Mutex<Kiosk>> = kiosks
            .iter()
            .filter(|(_, b)| *b == branch)
            .map(|(k, _)| k)
            .collect();
        share_seats(&server, &of_branch)?;
    }
    sync_until_quiet(&all)?;
    let stations = kiosks
        .into_iter()
        .enumerate()
        .map(|(tag, (k, branch))| station(k, branch, tag))
        .collect::<Result<Vec<_>>>()?;

    proxy.set_plan(chaos_plan(seed));
    let ledger = Mutex::new(Ledger::default());
    let until = Instant::now() + duration;
    std::thread::scope(|s| {
        let workers: Vec<_> = stations
            .iter()
            .map(|st| s.spawn(|| work(st, seed, until, &ledger)))
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a kiosk thread"))
            .collect::<Result<Vec<()>>>()
    })?;
    let ledger = ledger.into_inner().expect("ledger");
    let confirmed = ledger
        .registrations
        .values()
        .filter(|r| r.status == "confirmed")
        .count();
    eprintln!(
        "{} registrations ({confirmed} confirmed at once), {} cancellations, {} intake requests, {} marks; syncs: {} completed, {} broken; proxy: {:?}",
        ledger.registrations.len(),
        ledger.cancel_acked.len(),
        ledger.intakes.len(),
        ledger.marks.len(),
        ledger.syncs_ok,
        ledger.syncs_broken,
        proxy.stats()
    );
    ensure!(ledger.syncs_broken > 0, "the proxy broke some syncs");
    ensure!(
        confirmed > 0 && confirmed < ledger.registrations.len(),
        "the kiosks confirmed seats offline and put people on waiting lists"
    );

    proxy.pass_all();
    let all: Vec<&Mutex<Kiosk>> = stations.iter().map(|s| &s.kiosk).collect();
    let passes = sync_until_quiet(&all)?;
    eprintln!("converged in {passes} passes once the network was sound");

    for (branch, id) in branches.iter().enumerate() {
        let ours: Vec<&Station> = stations.iter().filter(|s| s.branch == branch).collect();
        let theirs: Vec<&Station> = stations.iter().filter(|s| s.branch != branch).collect();
        check_branch(&server, id, &ours, &theirs, branch, &ledger)?;
    }
    Ok(())
}

fn check_branch(
    server: &ServerProcess,
    branch_id: &str,
    ours: &[&Station],
    theirs: &[&Station],
    branch: usize,
    ledger: &Ledger,
) -> Result<()> {
    // Every replica of the branch holds the same documents at the same heads.
    let kiosks: Vec<&Mutex<Kiosk>> = ours.iter().map(|s| &s.kiosk).collect();
    check_replicas(server, branch_id, &kiosks)?;
    let on_server = server_heads(&server.data, branch_id)?;

    // One roster per class; every acknowledged registration in it; no confirmation
    // turned into a waiting place; cancellations only where someone cancelled.
    let classes = ours[0].classes.clone();
    let mut merged = BTreeMap::new();
    for class in &classes {
        let roster = server_roster(server, class)?;
        for st in ours {
            ensure!(
                kiosk_roster(&st.kiosk, class)? == roster,
                "kiosk {} projects the server's roster of {class}",
                st.tag
            );
        }
        let mut positions: Vec<u32> = roster.values().filter_map(|(_, p)| *p).collect();
        positions.sort_unstable();
        ensure!(
            positions == (1..=positions.len() as u32).collect::<Vec<_>>(),
            "the waiting list of {class} is numbered 1..n"
        );
        merged.extend(roster);
    }
    for (id, r) in ledger
        .registrations
        .iter()
        .filter(|(_, r)| r.branch == branch)
    {
        let (status, _) = merged
            .get(&id.to_string())
            .with_context(|| format!("acknowledged registration {id} is on the server"))?;
        ensure!(classes.contains(&r.class), "registration {id} in its class");
        if ledger.cancel_acked.contains(id) {
            ensure!(status == "cancelled", "acknowledged cancellation of {id}");
        } else if status == "cancelled" {
            ensure!(
                ledger.cancel_sent.contains(id),
                "{id} cancelled though no one cancelled it"
            );
        } else if r.status == "confirmed" {
            ensure!(
                status == "confirmed",
                "confirmed registration {id} became {status}: the seat promise is broken"
            );
        }
    }

    // Every acknowledged request and mark is on every kiosk of the branch.
    for st in ours {
        let mut k = st.kiosk.lock().expect("kiosk");
        for (_, code, reference) in ledger.intakes.iter().filter(|i| i.0 == branch) {
            let overview = k.resident(code)?;
            ensure!(
                overview.requests.iter().any(|r| &r.reference == reference),
                "request {reference} is on kiosk {}",
                st.tag
            );
        }
        let sessions: BTreeSet<_> = ledger
            .marks
            .iter()
            .filter(|m| m.0 == branch)
            .map(|m| m.1.id)
            .collect();
        for session in sessions {
            let call = k.roll_call(session)?;
            for (_, _, registration) in ledger.marks.iter().filter(|m| m.1.id == session) {
                ensure!(
                    call.entries
                        .iter()
                        .any(|e| e.registration_id == *registration && e.mark.is_some()),
                    "the mark of {registration} at {session} is on kiosk {}",
                    st.tag
                );
            }
        }
    }

    // The other branch's kiosks hold none of it.
    for st in theirs {
        let k = st.kiosk.lock().expect("kiosk");
        let held = kiosk_heads(&k)?;
        ensure!(
            held.keys().all(|doc| !on_server.contains_key(doc)),
            "kiosk {} holds another branch's documents",
            st.tag
        );
        for class in &classes {
            ensure!(k.roster(class).is_err(), "kiosk {} sees {class}", st.tag);
        }
        for (_, code, _) in ledger.intakes.iter().filter(|i| i.0 == branch) {
            ensure!(
                k.resident(code).is_err(),
                "kiosk {} knows another branch's resident",
                st.tag
            );
        }
    }
    Ok(())
}
