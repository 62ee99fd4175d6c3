//! The office page benchmark: a year of data of a 15,000-resident town (4 branches, 48
//! classes with weekly sessions, 4,000 residents taking part, their registrations,
//! attendance at every past session, 1,600 intake requests), pushed by kiosks through the
//! server's own sync path; then a real `blisko-server` process serves the office page and
//! the render time of the overview and of a class roster is measured over HTTP.
//! Prints one JSON line.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use clap::Parser;
use jiff::ToSpan;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use serde_json::json;

use blisko_shared::codes;
use blisko_shared::crypto::PersonKey;
use blisko_shared::demo;
use blisko_shared::docs::{Doc, IntakeDoc, PeopleDoc, RosterDoc, RosterEdit};
use blisko_shared::hlc::Hlc;
use blisko_shared::ids::{ClassId, KioskId, PersonId, RegistrationId, RequestId, StaffId};
use blisko_shared::model::{
    ApplicantRole, AttendanceMark, AttendanceStatus, Consent, ConsentKind, IntakeRequest, Person,
    Registration, RequestStatus, StatusChange,
};
use blisko_shared::sync::{DocChanges, EnrollRequest, KeyList, SyncRequest, to_heads};
use blisko_sync_server::central::Central;
use blisko_tests::harness::ServerProcess;
use blisko_tests::office::{Office, PASSWORD, add_staff};

#[derive(Debug, Parser)]
#[command(about = "Office page benchmark: a year of a 15,000-resident town")]
struct Args {
    /// Residents who take part (registrations or requests).
    #[arg(long, default_value_t = 4000)]
    persons: usize,
    /// Each demo class is offered this many times (groups) per branch.
    #[arg(long, default_value_t = 4)]
    groups: usize,
    /// Registrations per class over the year.
    #[arg(long, default_value_t = 60)]
    registrations_per_class: usize,
    #[arg(long, default_value_t = 1600)]
    requests: usize,
    /// Page loads measured per page.
    #[arg(long, default_value_t = 30)]
    rounds: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn push(
    central: &mut Central,
    token: &str,
    docs: &mut Vec<Doc>,
    keys: Vec<(PersonId, PersonKey)>,
) -> Result<()> {
    let kiosk = central.authenticate(token)?;
    let chunks: Vec<&[Doc]> = docs.chunks(1000).collect();
    let mut keys = Some(keys);
    for (i, chunk) in chunks.iter().enumerate() {
        // The keys go with the last chunk, once all of their people documents are there.
        let keys = if i + 1 == chunks.len() {
            keys.take().unwrap_or_default()
        } else {
            Vec::new()
        };
        let request = SyncRequest {
            cursor: 0,
            push: chunk
                .iter()
                .map(|d| {
                    Ok(DocChanges {
                        doc: d.key(),
                        changes: d.changes_since(&[])?,
                        heads: to_heads(&d.heads()),
                        seal: None,
                    })
                })
                .collect::<Result<_>>()?,
            pull: Vec::new(),
            app_version: "bench".to_owned(),
            keys: KeyList(keys),
            key_cursor: 0,
            want_keys: Default::default(),
            catalog_heads: None,
            awaiting: Vec::new(),
            shown: Vec::new(),
            sms_withdrawals: Vec::new(),
            server_instance: None,
        };
        central.sync(&kiosk, &request)?;
    }
    docs.clear();
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.seed);
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let today = jiff::Zoned::now().date();
    let year_ago = today.checked_sub(52.weeks())?;
    let started = Instant::now();

    // Catalogs: the demo branches, each class offered in several groups, a year of
    // weekly sessions.
    let mut catalogs = demo::catalogs(year_ago, 53, None);
    for catalog in &mut catalogs {
        let base = catalog.classes.clone();
        for g in 2..=args.groups {
            for c in &base {
                let mut copy = c.clone();
                copy.id = ClassId::derived(&format!("{}/group{g}", c.id));
                copy.title = format!("{} (grupa {g})", c.title);
                catalog.classes.push(copy);
            }
        }
        catalog.sessions = catalog
            .classes
            .iter()
            .flat_map(|c| demo::sessions_for(c, year_ago, 53))
            .collect();
    }
    let mut central = Central::open(&data)?;
    central.import_catalogs(&catalogs)?;

    let per_branch = args.persons / catalogs.len();
    let wall = |date: jiff::civil::Date| -> u64 {
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_millisecond().max(0) as u64)
            .unwrap_or(0)
    };
    let (mut n_regs, mut n_marks, mut n_requests, mut n_sessions) =
        (0usize, 0usize, 0usize, 0usize);
    let mut a_class = None;
    for catalog in &catalogs {
        let branch = catalog.branch.id;
        let mut kiosks = Vec::new();
        for _ in 0..2 {
            let (row, code) = central.add_kiosk(branch, None)?;
            let enrolled = central.enroll(&EnrollRequest {
                code,
                app_version: "bench".to_owned(),
            })?;
            kiosks.push((row.kiosk_id, row.number, enrolled.token));
        }
        // Residents, each created at one of the two kiosks.
        let mut persons: Vec<(PersonId, usize)> = Vec::new();
        let mut keys: [Vec<(PersonId, PersonKey)>; 2] = [Vec::new(), Vec::new()];
        let mut key_of: HashMap<PersonId, PersonKey> = HashMap::new();
        let mut docs: [Vec<Doc>; 2] = [Vec::new(), Vec::new()];
        // Each kiosk's residents go into its people documents, a volume at a time.
        let mut people: [Option<PeopleDoc>; 2] = [None, None];
        let mut volumes = [0u32; 2];
        for i in 0..per_branch {
            let k = i % 2;
            let kiosk = kiosks[k].0;
            let day = year_ago.checked_add((rng.random_range(0..360) as i64).days())?;
            let created = Hlc::new(wall(day), 0, kiosk);
            let person = Person {
                id: PersonId::new(),
                given_name: [
                    "Anna",
                    "Maria",
                    "Krystyna",
                    "Jan",
                    "Józef",
                    "Zofia",
                    "Stanisław",
                    "Halina",
                ]
                .choose(&mut rng)
                .copied()
                .unwrap_or("Anna")
                .to_owned(),
                family_name: format!("Nowak-{}", blisko_tests::harness::letters(i)),
                birth_year: rng.random_range(1935..2015),
                phone: None,
                resident_code: codes::new_resident_code(&mut rng),
                home_branch: branch,
                consents: vec![Consent {
                    kind: ConsentKind::InformationClause,
                    text_version: "klauzula-2026-01".to_owned(),
                    at: created,
                }],
                created,
            };
            let doc = match &mut people[k] {
                Some(doc) => doc,
                empty => empty.insert(PeopleDoc::create(kiosk, volumes[k], kiosk)?),
            };
            let secret = PersonKey::generate();
            doc.put(&person, &secret)?;
            keys[k].push((person.id, secret.clone()));
            key_of.insert(person.id, secret);
            if doc.is_full()? {
                docs[k].push(doc.doc().clone());
                people[k] = None;
                volumes[k] += 1;
            }
            persons.push((person.id, k));
        }
        for (k, doc) in people.into_iter().enumerate() {
            if let Some(doc) = doc {
                docs[k].push(doc.doc().clone());
            }
        }
        // Rosters: written by the branch's first kiosk, registrations spread over the
        // year, attendance at every past session for the confirmed ones.
        let (k0, _, _) = kiosks[0];
        for class in &catalog.classes {
            a_class.get_or_insert(class.id);
            let mut roster = RosterDoc::create(class.id, k0)?;
            let mut regs = Vec::new();
            for r in 0..args.registrations_per_class {
                let (person, _) = *persons.choose(&mut rng).context("persons")?;
                let day = year_ago
                    .checked_add(((r * 360 / args.registrations_per_class) as i64).days())?;
                let reg = Registration {
                    id: RegistrationId::new(),
                    class_id: class.id,
                    person_id: person,
                    kiosk_id: k0,
                    created: Hlc::new(wall(day), r as u32, k0),
                    cancelled: None,
                    grants: BTreeMap::new(),
                };
                regs.push(reg.clone());
                roster.apply(&[RosterEdit::Register(reg)])?;
            }
            n_regs += regs.len();
            let present: Vec<_> = regs.iter().take(class.capacity as usize).collect();
            let staff = StaffId::new();
            let mut marks = Vec::new();
            for session in catalog
                .sessions
                .iter()
                .filter(|s| s.class_id == class.id && s.date <= today.to_string())
            {
                n_sessions += 1;
                let date: jiff::civil::Date = session.date.parse()?;
                for (i, reg) in present.iter().enumerate() {
                    let roll = rng.random_range(0..100);
                    let status = match roll {
                        0..80 => AttendanceStatus::Present,
                        80..92 => AttendanceStatus::Absent,
                        _ => AttendanceStatus::Excused,
                    };
                    marks.push(RosterEdit::Mark(AttendanceMark {
                        session_id: session.id,
                        registration_id: reg.id,
                        status,
                        by: staff,
                        at: Hlc::new(wall(date) + 3_600_000, i as u32, k0),
                    }));
                }
            }
            n_marks += marks.len();
            for chunk in marks.chunks(500) {
                roster.apply(chunk)?;
            }
            docs[0].push(roster.doc_mut().clone());
        }
        // Requests, at both kiosks, some already decided by the office.
        let services = &catalog.services;
        for i in 0..args.requests / catalogs.len() {
            let (person, k) = *persons.choose(&mut rng).context("persons")?;
            let (kiosk, number, _) = kiosks[k];
            let day = year_ago.checked_add((rng.random_range(0..360) as i64).days())?;
            let at = Hlc::new(wall(day), 0, kiosk);
            let mut history = vec![StatusChange {
                status: RequestStatus::Submitted,
                by: format!("kiosk:{kiosk}"),
                at,
                decision_reference: None,
                appeal_info: None,
            }];
            let next = [
                None,
                Some(RequestStatus::InReview),
                Some(RequestStatus::Accepted),
                Some(RequestStatus::MoreInformationNeeded),
            ];
            if let Some(Some(status)) = next.choose(&mut rng) {
                history.push(StatusChange {
                    status: *status,
                    by: format!("staff:{}", StaffId::new()),
                    at: Hlc::new(at.wall_ms + 86_400_000, 0, KioskId::CENTRAL),
                    decision_reference: None,
                    appeal_info: None,
                });
            }
            let service = services.choose(&mut rng).context("services")?;
            let request = IntakeRequest {
                id: RequestId::new(),
                reference: codes::reference_number(
                    &catalog.branch.code,
                    number,
                    day.year(),
                    i as u64 + 1,
                ),
                person_id: person,
                branch_id: branch,
                kiosk_id: kiosk,
                service_id: service.id,
                applicant_role: ApplicantRole::SelfApplicant,
                description: "Opis potrzeby mieszkańca.".to_owned(),
                pesel: None,
                declaration_version: "oswiadczenie-2026-01".to_owned(),
                consent_version: "klauzula-2026-01".to_owned(),
                history,
                ipus_due: None,
            };
            let secret = key_of.get(&person).context("the person's key")?;
            let mut doc = IntakeDoc::create(&request, secret, kiosk)?;
            docs[k].push(doc.doc_mut().clone());
            n_requests += 1;
        }
        for (k, (_, _, token)) in kiosks.iter().enumerate() {
            push(
                &mut central,
                token,
                &mut docs[k],
                std::mem::take(&mut keys[k]),
            )?;
        }
    }
    drop(central);
    let build_s = started.elapsed().as_secs_f64();

    // A real server serves the office page.
    let server = ServerProcess::start(&data, false)?;
    add_staff(&data, "bench", "office_admin", None)?;
    // The log-in opens a first page, which brings the office projection up to date
    // with the whole year: measured apart.
    let t0 = Instant::now();
    let office = Office::login(&server.url(), "bench", PASSWORD)?;
    let first_view_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let class = a_class.context("a class")?;
    let mut overview = Vec::new();
    let mut roster = Vec::new();
    let mut roster_bytes = 0;
    for _ in 0..args.rounds {
        let t = Instant::now();
        let page = office.page("/office")?;
        overview.push(t.elapsed().as_secs_f64() * 1000.0);
        ensure!(page.contains("data-branch=\"MAL\""));
        let t = Instant::now();
        let page = office.page(&format!("/office/classes/{class}"))?;
        roster.push(t.elapsed().as_secs_f64() * 1000.0);
        roster_bytes = page.len();
    }
    overview.sort_by(f64::total_cmp);
    roster.sort_by(f64::total_cmp);
    let db_bytes = std::fs::metadata(data.join("server.sqlite3"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "{}",
        json!({
            "bench": "office",
            "persons": args.persons,
            "classes": catalogs.iter().map(|c| c.classes.len()).sum::<usize>(),
            "sessions_past": n_sessions,
            "registrations": n_regs,
            "attendance_marks": n_marks,
            "requests": n_requests,
            "data_build_s": (build_s * 10.0).round() / 10.0,
            "server_db_mb": (db_bytes as f64 / 1e6 * 10.0).round() / 10.0,
            "login_and_first_page_with_projection_ms": first_view_ms.round(),
            "overview_ms_p50": (percentile(&overview, 0.5) * 10.0).round() / 10.0,
            "overview_ms_p95": (percentile(&overview, 0.95) * 10.0).round() / 10.0,
            "roster_ms_p50": (percentile(&roster, 0.5) * 10.0).round() / 10.0,
            "roster_ms_p95": (percentile(&roster, 0.95) * 10.0).round() / 10.0,
            "roster_page_kb": roster_bytes / 1024,
        })
    );
    Ok(())
}
