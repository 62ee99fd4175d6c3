//! Daily work on the office page, over real HTTP against a real `blisko-server` with real
//! kiosks syncing: a registration taken on the phone takes a pool seat (never a kiosk's),
//! the waiting list and its phone numbers, cancellations reaching the kiosk, attendance
//! from a paper list reaching the kiosk's roll call and the export, sessions cancelled,
//! deleted and generated without public holidays, and a capacity below the confirmed
//! count only with a confirmation.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::RegistrationForm;
use blisko_shared::ids::{RegistrationId, SessionId, StaffId};
use blisko_shared::model::AttendanceStatus;
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{
    Office, PASSWORD, add_staff, add_staff_with, audit_actions, data_attrs, location,
};

/// A new class of the branch (capacity, waiting list limit), by the office.
fn new_class(
    org: &Office,
    branch: &str,
    title: &str,
    capacity: u32,
    waitlist: u32,
) -> Result<String> {
    let response = org.post(
        "/office/classes",
        &[
            ("branch", branch),
            ("title", title),
            ("capacity", &capacity.to_string()),
            ("waitlist_limit", &waitlist.to_string()),
        ],
    )?;
    ensure!(response.status().as_u16() == 303, "class created");
    Ok(location(&response)?
        .rsplit('/')
        .next()
        .context("class id")?
        .to_owned())
}

fn phone_register(
    org: &Office,
    class: &str,
    given: &str,
    family: &str,
    year: &str,
    phone: &str,
) -> Result<reqwest::blocking::Response> {
    org.post(
        &format!("/office/classes/{class}/daily/register"),
        &[
            ("given", given),
            ("family", family),
            ("birth_year", year),
            ("phone", phone),
            ("clause", "1"),
        ],
    )
}

fn kiosk_register(kiosk: &Mutex<Kiosk>, class: &str, given: &str, family: &str) -> Result<String> {
    let receipt = kiosk.lock().expect("kiosk").register(&RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1950,
        consent: true,
        ..RegistrationForm::default()
    })?;
    Ok(receipt.registration_id.to_string())
}

/// The status the kiosk's roster shows for a registration.
fn kiosk_status(kiosk: &Mutex<Kiosk>, class: &str, registration: &str) -> Result<String> {
    Ok(kiosk
        .lock()
        .expect("kiosk")
        .roster(class)?
        .into_iter()
        .find(|r| r.registration_id.to_string() == registration)
        .context("the registration is on the kiosk's roster")?
        .status
        .to_string())
}

#[test]
fn phone_registration_waiting_list_and_cancellation() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "staff", "branch_staff", Some(&mal))?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let staff = Office::login(&server.url(), "staff", PASSWORD)?;

        // Capacity 2: one seat allotted to kiosk A, one in the office pool; one waiting place.
        let class = new_class(&org, &mal, "Szachy", 2, 1)?;
        let kid = a.lock().expect("k").identity().kiosk_id.to_string();
        let allotted = org.post(
            &format!("/office/classes/{class}/allotments"),
            &[("kiosk", &kid), ("seats", "1")],
        )?;
        assert_eq!(allotted.status().as_u16(), 303);
        sync(&a)?;

        // Branch staff may not register by phone.
        let refused = phone_register(&staff, &class, "Jan", "Nowak", "1948", "600100200")?;
        assert_eq!(refused.status().as_u16(), 403);
        // Without the clause read, nothing happens.
        let no_clause = org.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", "Jan"),
                ("family", "Nowak"),
                ("birth_year", "1948"),
            ],
        )?;
        assert_eq!(no_clause.status().as_u16(), 400);

        // A phone call: the pool's seat, a receipt with the resident code.
        let done = phone_register(&org, &class, "Jan", "Nowak", "1948", "600100200")?;
        assert_eq!(done.status().as_u16(), 303);
        let receipt_url = location(&done)?;
        let receipt = org.page(&receipt_url)?;
        ensure!(
            data_attrs(&receipt, "status") == vec!["confirmed".to_owned()],
            "{receipt}"
        );
        ensure!(
            receipt.contains("id=\"resident-code\""),
            "the resident code is shown"
        );
        let jan = receipt_url
            .rsplit('/')
            .next()
            .context("registration")?
            .to_owned();

        // The kiosk sees him after a sync, with his name, and its own seat is still free.
        sync(&a)?;
        sync(&a)?;
        assert_eq!(kiosk_status(&a, &class, &jan)?, "confirmed");
        let ewa = kiosk_register(&a, &class, "Ewa", "Mazur")?;
        assert_eq!(
            kiosk_status(&a, &class, &ewa)?,
            "confirmed",
            "the kiosk's allotment was not touched by the phone registration"
        );
        sync(&a)?;

        // The pool is full: the next call goes on the waiting list, the one after is refused.
        let piotr = phone_register(&org, &class, "Piotr", "Zieliński", "1951", "600300400")?;
        assert_eq!(piotr.status().as_u16(), 303);
        let piotr_receipt = org.page(&location(&piotr)?)?;
        ensure!(data_attrs(&piotr_receipt, "status") == vec!["waitlisted".to_owned()]);
        let piotr_id = location(&piotr)?
            .rsplit('/')
            .next()
            .context("registration")?
            .to_owned();
        let full = phone_register(&org, &class, "Olga", "Wiśniewska", "1960", "")?;
        assert_eq!(full.status().as_u16(), 400);
        ensure!(full.text()?.contains("lista rezerwowa jest pełna"));

        // By hand: refused with the number of free pool seats.
        let confirm = org.post(
            &format!("/office/classes/{class}/daily/confirm/{piotr_id}"),
            &[],
        )?;
        assert_eq!(confirm.status().as_u16(), 400);
        ensure!(confirm.text()?.contains("wolne: 0"));

        // Phone numbers: not on the page; shown on request, and the read is audited.
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        ensure!(!daily.contains("600300400"), "no phone numbers on the page");
        // The class page says where a registration came from: the office, by phone.
        let class_page = org.page(&format!("/office/classes/{class}"))?;
        ensure!(
            class_page.contains("biuro (telefonicznie)")
                && !class_page.contains("kiosk (nieznany)"),
            "a phone registration is the office's"
        );
        // The clause to read out is the kiosk's, with the version the consent records.
        ensure!(
            daily.contains(blisko_shared::model::INFORMATION_CLAUSE.0)
                && daily.contains(blisko_shared::model::INFORMATION_CLAUSE_VERSION),
            "the information clause and its version are on the phone form"
        );
        let phones = org.post(&format!("/office/classes/{class}/daily/phones"), &[])?;
        assert_eq!(phones.status().as_u16(), 200);
        ensure!(phones.text()?.contains("600300400"));
        ensure!(audit_actions(&server)?.contains(&"waitlist_phones_read".to_owned()));

        // The same person again: the office is asked first, then refused (already registered).
        let again = phone_register(&org, &class, "Ewa", "Mazur", "1950", "")?;
        assert_eq!(again.status().as_u16(), 200);
        let again = again.text()?;
        let person = data_attrs(&again, "person");
        ensure!(person.len() == 1, "Ewa is offered: {again}");
        let reuse = org.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", "Ewa"),
                ("family", "Mazur"),
                ("birth_year", "1950"),
                ("existing", &person[0]),
            ],
        )?;
        assert_eq!(reuse.status().as_u16(), 400);
        ensure!(reuse.text()?.contains("już zapisana"));

        // Cancel Jan: a confirmation step, then his pool seat goes to Piotr; the kiosk sees both.
        let ask = org.page(&format!("/office/classes/{class}/daily/cancel/{jan}"))?;
        ensure!(ask.contains("Tak, anuluj zapis"));
        let cancelled = org.post(&format!("/office/classes/{class}/daily/cancel/{jan}"), &[])?;
        assert_eq!(cancelled.status().as_u16(), 303);
        sync(&a)?;
        sync(&a)?;
        assert_eq!(kiosk_status(&a, &class, &jan)?, "cancelled");
        assert_eq!(kiosk_status(&a, &class, &piotr_id)?, "confirmed");
        let log = audit_actions(&server)?;
        for act in [
            "registration_phone",
            "registration_cancel",
            "phone_registration_matches",
        ] {
            ensure!(log.contains(&act.to_owned()), "{act} audited");
        }

        // XSS through the name fields comes back escaped.
        let xss_class = new_class(&org, &mal, "Teatr", 5, 5)?;
        let xss = phone_register(
            &org,
            &xss_class,
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "1970",
            "",
        )?;
        if xss.status().as_u16() == 303 {
            let page = org.page(&location(&xss)?)?;
            ensure!(!page.contains("<script>alert(1)"), "escaped");
            ensure!(!page.contains("<img src=x"), "escaped");
        } else {
            let text = xss.text()?;
            ensure!(!text.contains("<script>alert(1)") && !text.contains("<img src=x"));
        }
        Ok(())
    })
}

#[test]
fn the_last_seat_taken_by_phone_while_a_kiosk_registers_offline() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        add_staff(&data, "org", "organizer", None)?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        // One seat, all of it the pool's; one waiting place.
        let class = new_class(&org, &mal, "Joga", 1, 1)?;
        sync(&a)?;
        // The kiosk sees a free pool seat and takes the registration, waiting for the pool.
        let at_kiosk = kiosk_register(&a, &class, "Ewa", "Mazur")?;
        // Meanwhile the office gives the pool's last seat on the phone.
        let phone = phone_register(&org, &class, "Jan", "Nowak", "1948", "")?;
        assert_eq!(phone.status().as_u16(), 303);
        sync(&a)?;
        sync(&a)?;
        assert_eq!(
            kiosk_status(&a, &class, &at_kiosk)?,
            "waitlisted",
            "the kiosk's resident waits: the seat was the pool's and it went first"
        );
        let page = org.page(&format!("/office/classes/{class}"))?;
        ensure!(
            page.contains("<span id=\"confirmed\">1</span>"),
            "one confirmed, not two"
        );

        // No waiting list: the kiosk, seeing the pool's seat free, writes the registration
        // and asks the pool; the office gives that seat on the phone first; the kiosk's
        // attempt finds the class full and is withdrawn. Nobody is over capacity.
        let strict = new_class(&org, &mal, "Taniec", 1, 0)?;
        sync(&a)?;
        let receipt = a.lock().expect("kiosk").register(&RegistrationForm {
            class_id: strict.clone(),
            given_name: "Olga".to_owned(),
            family_name: "Lis".to_owned(),
            birth_year: 1955,
            consent: true,
            ..RegistrationForm::default()
        })?;
        ensure!(receipt.awaiting_pool, "the kiosk asks the pool");
        let phone = phone_register(&org, &strict, "Adam", "Nowak", "1947", "")?;
        assert_eq!(phone.status().as_u16(), 303);
        sync(&a)?;
        let withdrawn = a
            .lock()
            .expect("kiosk")
            .withdraw_pool_attempt(receipt.registration_id)?;
        ensure!(withdrawn, "the kiosk's attempt did not get the seat");
        sync(&a)?;
        assert_eq!(
            kiosk_status(&a, &strict, &receipt.registration_id.to_string())?,
            "cancelled"
        );
        let page = org.page(&format!("/office/classes/{strict}"))?;
        ensure!(page.contains("<span id=\"confirmed\">1</span>"));
        let tasks = server.admin(&["compensation"])?;
        ensure!(
            !tasks.to_string().contains(&strict),
            "no compensation task: {tasks}"
        );
        Ok(())
    })
}

#[test]
fn paper_attendance_sessions_and_capacity() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "staff", "branch_staff", Some(&mal))?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let staff = Office::login(&server.url(), "staff", PASSWORD)?;
        let class = new_class(&org, &mal, "Brydż", 2, 2)?;
        let sessions = format!("/office/classes/{class}/daily/sessions");

        // A past session: a warning first, added on confirmation; a duplicate warns too.
        let past = [
            ("date", "2026-01-08"),
            ("start", "10:00"),
            ("minutes", "60"),
        ];
        let warned = org.post(&sessions, &past)?;
        assert_eq!(warned.status().as_u16(), 200);
        ensure!(warned.text()?.contains("już minęła"));
        let mut confirmed = past.to_vec();
        confirmed.push(("confirm", "1"));
        assert_eq!(org.post(&sessions, &confirmed)?.status().as_u16(), 303);
        let duplicate = org.post(&sessions, &past)?;
        ensure!(duplicate.text()?.contains("mają już spotkanie"));
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        let session: SessionId = data_attrs(&daily, "session")
            .first()
            .context("the session")?
            .parse()?;

        // Two people by phone; attendance from the paper list, by branch staff.
        for (given, family) in [("Jan", "Nowak"), ("Anna", "Lis")] {
            assert_eq!(
                phone_register(&org, &class, given, family, "1950", "")?
                    .status()
                    .as_u16(),
                303
            );
        }
        sync(&a)?;
        sync(&a)?;
        let grid = staff.page(&format!("/office/classes/{class}/daily/attendance"))?;
        let regs = data_attrs(&grid, "registration");
        ensure!(regs.len() == 2, "{grid}");
        // The kiosk's roll call marks the first person absent, offline, while the paper list
        // says present: both marks are kept and the office reconciles them.
        a.lock().expect("k").mark_attendance(
            session,
            regs[0].parse::<RegistrationId>()?,
            AttendanceStatus::Absent,
            StaffId::new(),
        )?;
        let (first, second) = (
            format!("m_{session}_{}", regs[0]),
            format!("m_{session}_{}", regs[1]),
        );
        let saved = staff.post(
            &format!("/office/classes/{class}/daily/attendance"),
            &[(first.as_str(), "present"), (second.as_str(), "excused")],
        )?;
        assert_eq!(saved.status().as_u16(), 303);
        let csv = staff
            .get(&format!("/office/export/attendance/{class}"))?
            .bytes()?;
        let text = String::from_utf8(csv.to_vec())?;
        ensure!(
            text.contains("obecny") && text.contains("usprawiedliwiony"),
            "{text}"
        );
        sync(&a)?;
        sync(&a)?;
        let roll = a.lock().expect("k").roll_call(session)?;
        let entry = |reg: &str| {
            roll.entries
                .iter()
                .find(|e| e.registration_id.to_string() == reg)
                .context("on the roll call")
        };
        ensure!(
            entry(&regs[1])?.mark == Some(AttendanceStatus::Excused) && !entry(&regs[1])?.conflict,
            "the kiosk's roll call has the paper mark"
        );
        ensure!(
            entry(&regs[0])?.conflict,
            "kiosk and paper disagree: a conflict"
        );
        let names: Vec<_> = roll
            .entries
            .iter()
            .map(|e| e.family_name.as_str())
            .collect();
        ensure!(
            names.contains(&"Nowak") && names.contains(&"Lis"),
            "the kiosk reads the names of people the office registered: {names:?}"
        );
        let reconcile = org.page("/office/reconcile")?;
        ensure!(
            data_attrs(&reconcile, "conflict").contains(&format!("{session}/{}", regs[0])),
            "the office reconciles it"
        );
        ensure!(audit_actions(&server)?.contains(&"attendance_paper".to_owned()));

        // A session with attendance cannot be deleted, only cancelled (and stays listed).
        let delete = org.post(&format!("{sessions}/{session}/delete"), &[])?;
        assert_eq!(delete.status().as_u16(), 400);
        ensure!(delete.text()?.contains("odwołać"));
        assert_eq!(
            org.post(&format!("{sessions}/{session}/cancel"), &[])?
                .status()
                .as_u16(),
            303
        );
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        ensure!(daily.contains("data-cancelled=\"true\"") && daily.contains("odwołane"));
        let class_page = org.page(&format!("/office/classes/{class}"))?;
        ensure!(
            class_page.contains("odwołane"),
            "the class page marks it too"
        );

        // Weekly sessions in December 2026 on Thursdays: 24.12 skipped, 31.12 kept with a warning.
        let generate = format!("{sessions}/generate");
        let form = [
            ("from", "2026-12-01"),
            ("to", "2026-12-31"),
            ("weekday", "3"),
            ("start", "17:00"),
            ("minutes", "90"),
        ];
        let preview = org.post(&generate, &form)?.text()?;
        ensure!(data_attrs(&preview, "date").contains(&"2026-12-24".to_owned()));
        ensure!(
            preview.contains("Wigilia") && preview.contains("sylwester"),
            "{preview}"
        );
        let mut confirm = form.to_vec();
        confirm.push(("confirm", "1"));
        assert_eq!(org.post(&generate, &confirm)?.status().as_u16(), 303);
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        for date in [
            "3 grudnia 2026, czw.",
            "10 grudnia 2026, czw.",
            "17 grudnia 2026, czw.",
            "31 grudnia 2026, czw.",
        ] {
            ensure!(daily.contains(date), "{date} added");
        }
        ensure!(!daily.contains("24 grudnia 2026"), "Christmas Eve skipped");
        // A session without attendance can be deleted.
        let catalog_sessions = data_attrs(&daily, "session");
        let last = catalog_sessions.last().context("a session")?;
        assert_eq!(
            org.post(&format!("{sessions}/{last}/delete"), &[])?
                .status()
                .as_u16(),
            303
        );
        ensure!(
            !org.page(&format!("/office/classes/{class}/daily"))?
                .contains("31 grudnia 2026")
        );

        // A session today, cancelled: the kiosk's staff mode no longer offers its roll call.
        let today = jiff::Zoned::now().date().to_string();
        let added = org.post(
            &sessions,
            &[
                ("date", today.as_str()),
                ("start", "23:00"),
                ("minutes", "30"),
            ],
        )?;
        assert_eq!(added.status().as_u16(), 303);
        sync(&a)?;
        let listed = |k: &Mutex<Kiosk>| -> Result<bool> {
            Ok(k.lock()
                .expect("k")
                .sessions_today()?
                .iter()
                .any(|s| s.start == "23:00"))
        };
        ensure!(listed(&a)?, "today's session at the kiosk");
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        let today_session = daily
            .split("data-session=\"")
            .skip(1)
            .find(|row| row.contains(&today) && row.contains("23:00"))
            .and_then(|row| row.split('"').next())
            .context("today's session")?
            .to_owned();
        assert_eq!(
            org.post(&format!("{sessions}/{today_session}/cancel"), &[])?
                .status()
                .as_u16(),
            303
        );
        sync(&a)?;
        ensure!(
            !listed(&a)?,
            "a cancelled session has no roll call at the kiosk"
        );

        // Capacity 1 with 2 confirmed: asked first, then tasks for a phone call.
        let edit = [
            ("title", "Brydż"),
            ("capacity", "1"),
            ("waitlist_limit", "2"),
        ];
        let ask = org.post(&format!("/office/classes/{class}"), &edit)?;
        assert_eq!(ask.status().as_u16(), 200);
        ensure!(ask.text()?.contains("Rozumiem: 1"));
        let mut accept = edit.to_vec();
        accept.push(("accept_over", "1"));
        assert_eq!(
            org.post(&format!("/office/classes/{class}"), &accept)?
                .status()
                .as_u16(),
            303
        );
        let class_page = org.page(&format!("/office/classes/{class}"))?;
        ensure!(
            class_page.contains("<span id=\"confirmed\">2</span>"),
            "nobody demoted"
        );
        ensure!(audit_actions(&server)?.contains(&"capacity_below_confirmed".to_owned()));
        Ok(())
    })
}

#[test]
fn daily_pages_refuse_visitors_and_roles_without_the_right() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "teacher", "instructor", None)?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let teacher = Office::login(&server.url(), "teacher", PASSWORD)?;
        let class = new_class(&org, &mal, "Szachy", 3, 1)?;
        let anon = Office::anonymous(&server.url())?;
        let none = "0190c6e2-0000-7000-8000-000000000001";
        let daily = format!("/office/classes/{class}/daily");
        for path in [
            daily.clone(),
            format!("{daily}/attendance"),
            format!("{daily}/receipt/{none}"),
            format!("{daily}/cancel/{none}"),
        ] {
            let response = anon.get(&path)?;
            assert_eq!(response.status().as_u16(), 303, "{path}");
            assert_eq!(location(&response)?, "/office/login", "{path}");
        }
        for path in [
            format!("{daily}/register"),
            format!("{daily}/cancel/{none}"),
            format!("{daily}/confirm/{none}"),
            format!("{daily}/phones"),
            format!("{daily}/attendance"),
            format!("{daily}/sessions"),
            format!("{daily}/sessions/generate"),
            format!("{daily}/sessions/{none}/cancel"),
            format!("{daily}/sessions/{none}/restore"),
            format!("{daily}/sessions/{none}/delete"),
        ] {
            let code = anon.post(&path, &[])?.status().as_u16();
            ensure!(code == 303 || code == 403, "{path}: {code}");
            // An instructor sees the class but may do none of this.
            let code = teacher.post(&path, &[])?.status().as_u16();
            assert_eq!(code, 403, "{path}");
        }
        let page = teacher.page(&daily)?;
        ensure!(
            !page.contains("phone-form") && !page.contains("add-session"),
            "no forms"
        );
        assert_eq!(
            teacher
                .get(&format!("{daily}/attendance"))?
                .status()
                .as_u16(),
            403
        );
        Ok(())
    })
}

#[test]
fn the_command_line_registers_by_phone_and_cancels() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "org", "organizer", None)?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let class = new_class(&org, &mal, "Szachy", 1, 0)?;
        let args = |given: &str| {
            [
                "register",
                "--class",
                class.as_str(),
                "--given-name",
                given,
                "--family-name",
                "Nowak",
                "--birth-year",
                "1948",
                "--clause-read",
            ]
            .map(str::to_owned)
        };
        let args_a = args("Jan");
        let first = server.admin(&args_a.iter().map(String::as_str).collect::<Vec<_>>())?;
        assert_eq!(first["status"], "confirmed");
        ensure!(
            first["resident_code"]
                .as_str()
                .is_some_and(|c| c.len() == 9)
        );
        // No waiting list and no pool seat left: refused.
        let args_b = args("Adam");
        ensure!(
            server
                .admin(&args_b.iter().map(String::as_str).collect::<Vec<_>>())
                .is_err(),
            "the class is full"
        );
        // A person registered by the office is erased like anyone else.
        let code = first["resident_code"].as_str().context("code")?;
        let erased = server.admin(&["person", "erase", "--resident-code", code])?;
        ensure!(
            erased
                .to_string()
                .contains(first["person_id"].as_str().context("person")?)
        );
        let registration = first["registration_id"].as_str().context("id")?;
        server.admin(&[
            "cancel-registration",
            "--class",
            &class,
            "--registration",
            registration,
        ])?;
        let roster = server.admin(&["roster", "--class", &class])?;
        ensure!(roster.to_string().contains("cancelled"), "{roster}");
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        ensure!(
            data_attrs(&daily, "registration").is_empty(),
            "nobody confirmed"
        );
        Ok(())
    })
}

/// The daily page as office staff read it: people in Polish alphabetical order, dates in
/// Polish with public holidays marked, a refused phone registration that keeps what was
/// typed, a receipt that says where and when, and an erased person in words.
#[test]
fn the_daily_page_reads_as_office_staff_do() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;
        let class = new_class(&org, &mal, "Brydż", 6, 2)?;
        let daily = format!("/office/classes/{class}/daily");

        // Registered in an order that is neither alphabetical nor byte order.
        let mut receipts = Vec::new();
        for (given, family) in [
            ("Zofia", "Żak"),
            ("Ewa", "Czarnecka"),
            ("Jan", "Łukasiewicz"),
            ("Anna", "Ćwiklińska"),
            ("Olga", "Lis"),
        ] {
            let done = phone_register(&org, &class, given, family, "1950", "")?;
            ensure!(done.status().as_u16() == 303, "{family}: {}", done.status());
            receipts.push(location(&done)?);
        }
        let page = org.page(&daily)?;
        let at = |name: &str| page.find(name).with_context(|| format!("{name} listed"));
        ensure!(
            at("Czarnecka Ewa")? < at("Ćwiklińska Anna")?
                && at("Ćwiklińska Anna")? < at("Lis Olga")?
                && at("Lis Olga")? < at("Łukasiewicz Jan")?
                && at("Łukasiewicz Jan")? < at("Żak Zofia")?,
            "the confirmed list is in Polish alphabetical order"
        );
        // The last seat, then a waiting place: no "confirm a seat" button without a free seat.
        for (given, family) in [("Piotr", "Zięba"), ("Marek", "Wójcik")] {
            let done = phone_register(&org, &class, given, family, "1950", "")?;
            ensure!(done.status().as_u16() == 303, "{family}: {}", done.status());
        }
        let page = org.page(&daily)?;
        ensure!(
            page.contains("brak wolnego miejsca w puli") && !page.contains("/confirm/"),
            "a waiting person without a free pool seat is not offered a seat"
        );

        // The receipt read out on the phone: where, and the next sessions in Polish.
        let added = org.post(
            &format!("{daily}/sessions"),
            &[
                ("date", "2099-01-06"),
                ("start", "10:00"),
                ("minutes", "60"),
                ("confirm", "1"),
            ],
        )?;
        ensure!(added.status().as_u16() == 303, "{}", added.status());
        let receipt = org.page(&receipts[0])?;
        ensure!(
            receipt.contains("id=\"receipt-place\"")
                && receipt.contains("Miejsce Aktywności Lokalnej"),
            "the receipt says where: {receipt}"
        );
        ensure!(
            receipt.contains("6 stycznia 2099, wt., 10:00"),
            "the receipt gives the next session in Polish: {receipt}"
        );
        let page = org.page(&daily)?;
        ensure!(
            page.contains("6 stycznia 2099, wt.") && page.contains("dzień wolny: Trzech Króli"),
            "sessions read as Polish dates and a public holiday is marked"
        );
        ensure!(!page.contains("2099-01-06<"), "no ISO date in the table");

        // A refused registration (a landline with the SMS box ticked) shows the form again
        // with everything typed, so the caller is not asked twice; nothing is written.
        let refused = org.post(
            &format!("{daily}/register"),
            &[
                ("given", "Teodor"),
                ("family", "Wąsowicz"),
                ("birth_year", "1944"),
                ("phone", "22 123 45 67"),
                ("clause", "1"),
                ("sms", "1"),
            ],
        )?;
        ensure!(refused.status().as_u16() == 400, "{}", refused.status());
        let refused = refused.text()?;
        ensure!(
            refused.contains("id=\"phone-refused\""),
            "the refusal is shown: {refused}"
        );
        for typed in [
            "value=\"Teodor\"",
            "value=\"Wąsowicz\"",
            "value=\"1944\"",
            "value=\"22 123 45 67\"",
        ] {
            ensure!(refused.contains(typed), "{typed} kept");
        }
        ensure!(
            refused.contains("id=\"phone-form\"") && refused.contains("Zapisani"),
            "the daily page itself, with its menu and lists"
        );
        ensure!(
            !org.page(&daily)?.contains("Wąsowicz Teodor"),
            "nothing was registered"
        );

        // An erased person is said so in words, never as a marker or a year 0.
        let found = data_attrs(&admin.page("/office/persons?q=zak")?, "person");
        ensure!(found.len() == 1, "zak finds Żak: {found:?}");
        let erased = admin.post(
            &format!("/office/persons/{}/erase", found[0]),
            &[("confirm", "yes")],
        )?;
        ensure!(erased.status().as_u16() == 303, "{}", erased.status());
        let page = org.page(&daily)?;
        ensure!(
            page.contains("dane usunięte (RODO)")
                && !page.contains("Żak")
                && !page.contains("[usunięto]"),
            "the erased person reads as erased"
        );
        let receipt = org.page(&receipts[0])?;
        ensure!(
            receipt.contains("dane usunięte (RODO) (—)") && !receipt.contains("(0)"),
            "the receipt too: {receipt}"
        );
        Ok(())
    })
}

/// The id of the class's session on `date` at `start`, from its daily page.
fn session_on(org: &Office, class: &str, date: &str, start: &str) -> Result<String> {
    let daily = org.page(&format!("/office/classes/{class}/daily"))?;
    Ok(daily
        .split("data-session=\"")
        .skip(1)
        .find(|row| row.contains(date) && row.contains(start))
        .and_then(|row| row.split('"').next())
        .with_context(|| format!("the session of {date} {start}"))?
        .to_owned())
}

/// A session of the class, added by the office past any warning.
fn add_session(org: &Office, class: &str, date: &str, start: &str) -> Result<String> {
    let added = org.post(
        &format!("/office/classes/{class}/daily/sessions"),
        &[
            ("date", date),
            ("start", start),
            ("minutes", "60"),
            ("confirm", "1"),
        ],
    )?;
    ensure!(added.status().as_u16() == 303, "session {date} added");
    session_on(org, class, date, start)
}

/// A class led by `instructor` (its name as in the catalog).
fn led_class(org: &Office, branch: &str, title: &str, instructor: &str) -> Result<String> {
    let response = org.post(
        "/office/classes",
        &[
            ("branch", branch),
            ("title", title),
            ("instructor", instructor),
            ("capacity", "10"),
            ("waitlist_limit", "0"),
        ],
    )?;
    ensure!(response.status().as_u16() == 303, "class created");
    Ok(location(&response)?
        .rsplit('/')
        .next()
        .context("class id")?
        .to_owned())
}

#[test]
fn an_instructor_takes_the_roll_call_of_their_own_classes_only() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff_with(
            &data,
            "anna",
            "Anna Wiśniewska",
            "instructor",
            Some(&mal),
            PASSWORD,
        )?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let anna = Office::login(&server.url(), "anna", PASSWORD)?;
        let own = led_class(&org, &mal, "Gimnastyka", "anna wiśniewska")?;
        let other = led_class(&org, &mal, "Szachy", "Piotr Zieliński")?;
        let today = jiff::Zoned::now().date();
        let next = today.checked_add(jiff::Span::new().days(7))?;
        let session = add_session(&org, &own, &today.to_string(), "07:00")?;
        let later = add_session(&org, &own, &next.to_string(), "07:00")?;
        let foreign = add_session(&org, &other, &today.to_string(), "07:00")?;
        for (class, given, family) in [
            (&own, "Ewa", "Zawada"),
            (&own, "Jan", "Łapińska"),
            (&own, "Ola", "Lis"),
            (&other, "Adam", "Nowak"),
        ] {
            let response = phone_register(&org, class, given, family, "1950", "")?;
            ensure!(response.status().as_u16() == 303, "{family} registered");
        }
        sync(&a)?;
        sync(&a)?;

        // "My classes" leads to the roll call of today's session; the next session's date is
        // in words.
        let mine = anna.page("/office/my-classes")?;
        let roll = format!("/office/classes/{own}/sessions/{session}/roll-call");
        ensure!(mine.contains(&format!("href=\"{roll}\"")), "{mine}");
        ensure!(
            !mine.contains(&format!("classes/{other}/sessions")),
            "only her own class"
        );
        ensure!(
            !mine.contains(&next.to_string()),
            "no ISO date on the page: {mine}"
        );
        ensure!(
            mine.contains(&format!("Następne: {}", next.day())),
            "the next date in words"
        );

        // The class page offers it too, for her class only.
        ensure!(
            anna.page(&format!("/office/classes/{own}"))?
                .contains(&format!("href=\"{roll}\"")),
            "the class page links to the roll call"
        );
        ensure!(
            !anna
                .page(&format!("/office/classes/{other}"))?
                .contains("roll-call"),
            "not on another instructor's class"
        );

        // Everyone confirmed, in Polish alphabetical order, with three choices each.
        let page = anna.page(&roll)?;
        ensure!(page.contains("name=\"viewport\""));
        let regs = data_attrs(&page, "registration");
        assert_eq!(regs.len(), 3);
        let order: Vec<usize> = ["Lis Ola", "Łapińska Jan", "Zawada Ewa"]
            .iter()
            .map(|n| page.find(n).context("listed"))
            .collect::<Result<_>>()?;
        ensure!(
            order.windows(2).all(|w| w[0] < w[1]),
            "Lis, Łapińska, Zawada: {order:?}"
        );
        for code in ["present", "absent", "excused"] {
            ensure!(page.matches(&format!("value=\"{code}\"")).count() == 3);
        }

        // The kiosk marks the first person absent, offline; the instructor says present.
        let session_id: SessionId = session.parse()?;
        a.lock().expect("k").mark_attendance(
            session_id,
            regs[0].parse::<RegistrationId>()?,
            AttendanceStatus::Absent,
            StaffId::new(),
        )?;
        let field = |reg: &str| format!("m_{session}_{reg}");
        let (f0, f1, f2) = (field(&regs[0]), field(&regs[1]), field(&regs[2]));
        let saved = anna.post(
            &roll,
            &[
                (f0.as_str(), "present"),
                (f1.as_str(), "excused"),
                (f2.as_str(), "absent"),
            ],
        )?;
        assert_eq!(saved.status().as_u16(), 303);
        ensure!(location(&saved)?.starts_with(&roll));
        let shown = anna.page(&format!("{roll}?saved=1"))?;
        ensure!(shown.contains("id=\"saved\""));
        ensure!(shown.matches("checked").count() == 3, "the marks are shown");
        let csv = String::from_utf8(
            org.get(&format!("/office/export/attendance/{own}"))?
                .bytes()?
                .to_vec(),
        )?;
        ensure!(
            csv.contains("obecny") && csv.contains("usprawiedliwiony") && csv.contains("nieobecny"),
            "{csv}"
        );
        sync(&a)?;
        sync(&a)?;
        let call = a.lock().expect("k").roll_call(session_id)?;
        let entry = |reg: &str| {
            call.entries
                .iter()
                .find(|e| e.registration_id.to_string() == reg)
                .context("on the kiosk's roll call")
        };
        ensure!(
            entry(&regs[1])?.mark == Some(AttendanceStatus::Excused) && !entry(&regs[1])?.conflict
        );
        ensure!(entry(&regs[2])?.mark == Some(AttendanceStatus::Absent));
        ensure!(entry(&regs[0])?.conflict, "kiosk and instructor disagree");
        ensure!(
            data_attrs(&org.page("/office/reconcile")?, "conflict")
                .contains(&format!("{session}/{}", regs[0])),
            "the office reconciles it"
        );
        ensure!(audit_actions(&server)?.contains(&"attendance_paper".to_owned()));

        // Another instructor's class: refused, audited, nothing written.
        let foreign_roll = format!("/office/classes/{other}/sessions/{foreign}/roll-call");
        assert_eq!(anna.get(&foreign_roll)?.status().as_u16(), 403);
        let foreign_regs = data_attrs(
            &org.page(&format!("/office/classes/{other}/daily/attendance"))?,
            "registration",
        );
        let foreign_field = format!("m_{foreign}_{}", foreign_regs.first().context("a person")?);
        let refused = anna.post(&foreign_roll, &[(foreign_field.as_str(), "present")])?;
        assert_eq!(refused.status().as_u16(), 403);
        let log = server.admin(&["audit", "--limit", "1000"])?;
        let refusals = log
            .as_array()
            .context("audit")?
            .iter()
            .filter(|r| {
                r["action"] == "office_forbidden"
                    && r["subject"] == format!("class:{other}").as_str()
            })
            .count();
        assert_eq!(refusals, 2, "both refusals audited");
        let foreign_csv = String::from_utf8(
            org.get(&format!("/office/export/attendance/{other}"))?
                .bytes()?
                .to_vec(),
        )?;
        ensure!(
            !foreign_csv.contains("obecny"),
            "nothing written: {foreign_csv}"
        );

        // A session not yet held has no roll call; a form naming another session is refused.
        let later_roll = format!("/office/classes/{own}/sessions/{later}/roll-call");
        ensure!(anna.page(&later_roll)?.contains("id=\"roll-closed\""));
        let future_field = format!("m_{later}_{}", regs[0]);
        assert_eq!(
            anna.post(&later_roll, &[(future_field.as_str(), "present")])?
                .status()
                .as_u16(),
            400
        );
        assert_eq!(
            anna.post(&roll, &[(future_field.as_str(), "present")])?
                .status()
                .as_u16(),
            400
        );
        Ok(())
    })
}
