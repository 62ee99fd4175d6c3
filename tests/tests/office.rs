//! The office page over real HTTP against a real `blisko-server` process and database,
//! with kiosks that register and sync through the real sync API: access (every page
//! refuses an anonymous visitor; roles see only what they may), log-in security (cookie
//! flags, CSRF, rate limits, audit), the overview of merged data, the request queue with
//! a status that reaches the kiosk, classes and allotments through the catalog, exports.

use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_tests::for_each_backend;
use blisko_tests::harness::{
    ServerProcess, ServerSql, StorePart, branch_id, enroll_kiosk, key_file, server_command, sync,
};
use blisko_tests::kiosk_bin;
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};

/// Every office page a GET may ask for (ids need not exist: the refusal comes first).
const GET_PAGES: &[&str] = &[
    "/office",
    "/office/requests",
    "/office/requests/0190c6e2-0000-7000-8000-000000000000",
    "/office/classes",
    "/office/classes/0190c6e2-0000-7000-8000-000000000000",
    "/office/classes/0190c6e2-0000-7000-8000-000000000000/sessions/0190c6e2-0000-7000-8000-000000000001/print",
    "/office/export/roster/0190c6e2-0000-7000-8000-000000000000",
    "/office/export/attendance/0190c6e2-0000-7000-8000-000000000000",
    "/office/export/requests",
    "/office/export/roster/0190c6e2-0000-7000-8000-000000000000/xlsx",
    "/office/export/attendance/0190c6e2-0000-7000-8000-000000000000/xlsx",
    "/office/export/requests/xlsx",
    "/office/charts",
    "/office/persons",
    "/office/persons/0190c6e2-0000-7000-8000-000000000000",
    "/office/reconcile",
    "/office/my-classes",
];

const POST_ACTIONS: &[&str] = &[
    "/office/logout",
    "/office/requests/0190c6e2-0000-7000-8000-000000000000",
    "/office/classes",
    "/office/classes/0190c6e2-0000-7000-8000-000000000000",
    "/office/classes/0190c6e2-0000-7000-8000-000000000000/sessions",
    "/office/classes/0190c6e2-0000-7000-8000-000000000000/allotments",
    "/office/persons/0190c6e2-0000-7000-8000-000000000000/erase",
    "/office/reconcile/attendance",
    "/office/reconcile/persons",
    "/office/reconcile/allotments",
    "/office/kiosks/0190c6e2-0000-7000-8000-000000000000/reenroll",
    "/office/requests/0190c6e2-0000-7000-8000-000000000000/assign",
    "/office/requests/0190c6e2-0000-7000-8000-000000000000/pesel",
];

fn audit(server: &ServerProcess) -> Result<Vec<Value>> {
    Ok(server
        .admin(&["audit", "--limit", "1000"])?
        .as_array()
        .context("audit is a list")?
        .clone())
}

fn actions(log: &[Value]) -> Vec<String> {
    log.iter()
        .filter_map(|r| r["action"].as_str().map(str::to_owned))
        .collect()
}

fn register(kiosk: &Mutex<Kiosk>, class: &str, given: &str, family: &str) -> Result<String> {
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

#[test]
fn every_page_refuses_an_anonymous_visitor() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let server = ServerProcess::start_backend(backend, &tmp.path().join("server"), true)?;
        let anon = Office::anonymous(&server.url())?;
        for path in GET_PAGES {
            let response = anon.get(path)?;
            ensure!(
                response.status().as_u16() == 303,
                "GET {path}: {}",
                response.status()
            );
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            ensure!(
                location == "/office/login",
                "GET {path} sends to {location}"
            );
            ensure!(
                response.text()?.is_empty(),
                "GET {path}: no content for a stranger"
            );
        }
        for path in POST_ACTIONS {
            let response = anon
                .http
                .post(format!("{}{path}", server.url()))
                .form(&[("csrf", "x")])
                .send()?;
            ensure!(
                response.status().as_u16() == 303,
                "POST {path}: {}",
                response.status()
            );
        }
        // A forged session cookie is no better.
        let forged = anon
            .http
            .get(format!("{}/office", server.url()))
            .header("cookie", format!("blisko_office={}", "ab".repeat(32)))
            .send()?;
        assert_eq!(forged.status().as_u16(), 303);
        // The log-in form itself is open, and the stylesheet.
        assert_eq!(anon.get("/office/login")?.status().as_u16(), 200);
        assert_eq!(anon.get("/office/style.css")?.status().as_u16(), 200);
        Ok(())
    })
}

#[test]
fn staff_accounts_log_in_with_secure_sessions_and_limits() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;

        // Bad input to `staff add` is refused and creates nothing.
        for (args, stdin) in [
            (
                vec!["--login", "ala", "--name", "Ala", "--role", "office_admin"],
                "krotkie\n",
            ),
            (
                vec![
                    "--login",
                    "Ala Ma Kota",
                    "--name",
                    "Ala",
                    "--role",
                    "office_admin",
                ],
                "dlugie-haslo-123\n",
            ),
            (
                vec!["--login", "ala", "--name", "Ala", "--role", "king"],
                "dlugie-haslo-123\n",
            ),
        ] {
            let mut child = server_command(&data)?
                .args(["staff", "add"])
                .args(&args)
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()?;
            std::io::Write::write_all(&mut child.stdin.take().context("stdin")?, stdin.as_bytes())?;
            let out = child.wait_with_output()?;
            assert_eq!(out.status.code(), Some(2), "staff add {args:?} is refused");
            ensure!(
                !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
                "it says why"
            );
        }
        let listed = server.admin(&["staff", "list"])?;
        assert_eq!(
            listed.as_array().map(Vec::len),
            Some(0),
            "nothing was created"
        );

        add_staff(&data, "ala", "office_admin", None)?;
        let listed = server.admin(&["staff", "list"])?;
        assert_eq!(listed[0]["login"], "ala");
        ensure!(
            listed[0].get("password_hash").is_none(),
            "the hash is never printed"
        );
        ensure!(
            add_staff(&data, "ala", "organizer", None).is_err(),
            "a login is taken once"
        );

        // Session cookie flags, on plain HTTP and behind a TLS proxy.
        let mut visitor = Office::anonymous(&server.url())?;
        let response = visitor.try_login("ala", PASSWORD)?;
        assert_eq!(response.status().as_u16(), 303);
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("blisko_office="))
            .context("a session cookie")?
            .to_owned();
        for flag in ["HttpOnly", "SameSite=Strict", "Path=/office"] {
            ensure!(cookie.contains(flag), "{flag} in {cookie}");
        }
        ensure!(!cookie.contains("Secure"), "plain HTTP: no Secure flag");
        let form = visitor.page("/office/login")?;
        let csrf = blisko_tests::office::csrf_in(&form).context("csrf")?;
        let tls = visitor
            .http
            .post(format!("{}/office/login", server.url()))
            .header("x-forwarded-proto", "https")
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", "ala"),
                ("password", PASSWORD),
            ])
            .send()?;
        let tls_cookie = tls
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("blisko_office="))
            .context("a session cookie over TLS")?
            .to_owned();
        ensure!(
            tls_cookie.contains("; Secure"),
            "Secure over TLS: {tls_cookie}"
        );

        // A log-in form without its CSRF token is refused.
        let no_csrf = Office::anonymous(&server.url())?
            .http
            .post(format!("{}/office/login", server.url()))
            .form(&[("login", "ala"), ("password", PASSWORD)])
            .send()?;
        assert_eq!(no_csrf.status().as_u16(), 403);

        // Wrong passwords: refused, audited without the login typed, then delayed: after
        // four failures in a row even the right password waits (a growing delay, at most a
        // minute, so a guesser cannot lock the owner out; tests/tests/office_staff.rs).
        let mut attacker = Office::anonymous(&server.url())?;
        for _ in 0..4 {
            let r = attacker.try_login("ala", "zle-haslo-zle-haslo")?;
            assert_eq!(r.status().as_u16(), 401);
            ensure!(r.text()?.contains("Nieprawidłowy login lub hasło"));
        }
        let limited = attacker.try_login("ala", PASSWORD)?;
        assert_eq!(
            limited.status().as_u16(),
            429,
            "after 4 failures even the right password waits"
        );
        assert_eq!(
            limited
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("1")
        );
        let log = audit(&server)?;
        let acts = actions(&log);
        assert_eq!(
            acts.iter().filter(|a| *a == "office_login_refused").count(),
            4
        );
        ensure!(acts.contains(&"office_login_limited".to_owned()));
        ensure!(acts.contains(&"office_login".to_owned()));
        let text = serde_json::to_string(&log)?;
        ensure!(
            !text.contains("zle-haslo") && !text.contains(PASSWORD),
            "no passwords in the audit"
        );
        ensure!(!text.contains("\"ala\""), "no login names in the audit");

        // A session works, a POST without its CSRF token is refused, log-out ends it.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        Office::login(&server.url(), "ala", PASSWORD).context("once the delay has passed")?;
        add_staff(&data, "basia", "office_admin", None)?;
        let office = Office::login(&server.url(), "basia", PASSWORD)?;
        ensure!(office.page("/office")?.contains("Przegląd"));
        let bad = office
            .http
            .post(format!("{}/office/logout", server.url()))
            .form(&[("csrf", "0".repeat(64))])
            .send()?;
        assert_eq!(bad.status().as_u16(), 403);
        assert_eq!(
            office.get("/office")?.status().as_u16(),
            200,
            "still logged in"
        );
        let out = office.post("/office/logout", &[])?;
        assert_eq!(out.status().as_u16(), 303);
        assert_eq!(office.get("/office")?.status().as_u16(), 303, "logged out");
        Ok(())
    })
}

#[test]
fn roles_see_only_what_they_may() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "instr", "instructor", Some(&mal))?;
        add_staff(&data, "punkt", "branch_staff", Some(&mal))?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let expect = |office: &Office, path: &str, status: u16| -> Result<()> {
            let got = office.get(path)?.status().as_u16();
            ensure!(got == status, "{path}: expected {status}, got {got}");
            Ok(())
        };
        // Each role's start page after log-in, and what "/office" does for it.
        for (login, landing) in [
            ("instr", "/office/my-classes"),
            ("punkt", "/office"),
            ("org", "/office"),
            ("admin", "/office"),
        ] {
            let mut office = Office::anonymous(&server.url())?;
            let response = office.try_login(login, PASSWORD)?;
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            ensure!(location == landing, "{login} lands on {location}");
        }
        let instr = Office::login(&server.url(), "instr", PASSWORD)?;
        expect(&instr, "/office/classes", 200)?;
        expect(&instr, "/office/my-classes", 200)?;
        expect(&instr, "/office", 303)?;
        for path in [
            "/office/requests",
            "/office/charts",
            "/office/persons",
            "/office/reconcile",
            "/office/export/requests",
        ] {
            expect(&instr, path, 403)?;
        }
        // A refusal is a full page with the menu and a way back to the role's own start.
        let refusal = instr.get("/office/requests")?.text()?;
        ensure!(refusal.contains("<nav") && refusal.contains("Wróć do strony głównej"));
        ensure!(refusal.contains("href=\"/office/my-classes\""));
        let classes = instr.page("/office/classes")?;
        ensure!(
            !classes.contains("Nowe zajęcia"),
            "an instructor does not create classes"
        );
        ensure!(
            !classes.contains("href=\"/office/requests\""),
            "no link to what the role may not open"
        );
        let punkt = Office::login(&server.url(), "punkt", PASSWORD)?;
        expect(&punkt, "/office", 200)?;
        expect(&punkt, "/office/requests", 403)?;
        expect(&punkt, "/office/persons", 403)?;
        expect(&punkt, "/office/my-classes", 403)?;
        for action in ["assign", "pesel"] {
            for office in [&instr, &punkt] {
                let path =
                    format!("/office/requests/0190c6e2-0000-7000-8000-000000000000/{action}");
                let got = office.post(&path, &[("staff", "x")])?.status().as_u16();
                ensure!(got == 403, "POST {path}: {got}");
            }
        }
        let menu = punkt.page("/office")?;
        ensure!(
            menu.contains("href=\"/office/charts\"") && !menu.contains("href=\"/office/requests\""),
            "the menu offers only what the role may open"
        );
        // A branch account sees its branch only.
        let mal_classes = data_attrs(&punkt.page("/office/classes")?, "class");
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let all_classes = data_attrs(&org.page("/office/classes")?, "class");
        ensure!(!mal_classes.is_empty() && mal_classes.len() < all_classes.len());
        let other = all_classes
            .iter()
            .find(|c| !mal_classes.contains(c))
            .context("a class elsewhere")?;
        expect(&punkt, &format!("/office/classes/{other}"), 404)?;
        ensure!(
            audit(&server)?
                .iter()
                .any(|r| r["action"] == "office_forbidden_branch"
                    && r["subject"] == format!("class:{other}").as_str()),
            "another branch's class asked for is audited"
        );
        expect(&org, "/office/requests", 200)?;
        expect(&org, "/office/requests?assignee=me", 200)?;
        expect(&org, "/office/persons", 403)?;
        expect(&org, "/office/my-classes", 403)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;
        for path in ["/office", "/office/requests", "/office/classes"] {
            expect(&admin, path, 200)?;
        }
        expect(&admin, "/office/my-classes", 403)?;
        // Refusals are audited.
        ensure!(actions(&audit(&server)?).contains(&"office_forbidden".to_owned()));
        // A forbidden POST changes nothing.
        let before = org.page("/office/classes")?;
        let r = punkt.post(
            "/office/classes",
            &[
                ("branch", &mal),
                ("title", "Nowe"),
                ("capacity", "5"),
                ("waitlist_limit", "0"),
            ],
        )?;
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(
            data_attrs(&org.page("/office/classes")?, "class"),
            data_attrs(&before, "class")
        );
        Ok(())
    })
}

#[test]
fn overview_requests_classes_and_exports_over_merged_kiosk_data() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
        sync(&a)?;
        sync(&b)?;
        let class = a.lock().expect("kiosk").classes()?[0].id.to_string();
        register(&a, &class, "Zofia", "Wójcik")?;
        register(&a, &class, "Józef", "Łęcki")?;
        register(&b, &class, "Grażyna", "Żak")?;
        let service = a
            .lock()
            .expect("kiosk")
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?
            .id
            .to_string();
        let intake = a.lock().expect("kiosk").submit_intake(&IntakeForm {
            service_id: service,
            given_name: "Zofia".into(),
            family_name: "Wójcik".into(),
            birth_year: 1950,
            description: "Potrzebuję rehabilitacji kolana.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        for k in [&a, &b, &a] {
            sync(k)?;
        }
        add_staff(&data, "org", "organizer", None)?;
        let office = Office::login(&server.url(), "org", PASSWORD)?;

        // Overview: MAL has the three registrations of two kiosks, one open request.
        let overview = office.page("/office")?;
        let row = overview
            .split("data-branch=\"MAL\"")
            .nth(1)
            .context("MAL row")?;
        // Each number's cell: `<td class="num" data-label="…">3</td>`, from its text on.
        let cells: Vec<&str> = row
            .split("<td class=\"num\"")
            .skip(1)
            .take(4)
            .map(|cell| cell.split_once('>').map_or(cell, |(_, text)| text))
            .collect();
        ensure!(
            cells[0].starts_with('3'),
            "3 registrations this month: {:?}",
            cells[0]
        );
        ensure!(cells[3].starts_with('1'), "1 open request: {:?}", cells[3]);
        assert_eq!(data_attrs(&overview, "kiosk").len(), 2);
        ensure!(
            !overview.contains("class=\"stale\""),
            "both kiosks synced just now"
        );
        // A kiosk silent for five days stands out.
        let kiosk_b = b.lock().expect("kiosk").identity().kiosk_id.to_string();
        let five_days_ago = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * 5))?
            .to_string();
        ServerSql::open(&data, StorePart::Main)?.execute(
            "UPDATE kiosks SET last_sync = $1 WHERE id = $2",
            &[&five_days_ago, &kiosk_b],
        )?;
        let overview = office.page("/office")?;
        let stale = overview
            .split(&format!("data-kiosk=\"{kiosk_b}\""))
            .next()
            .context("kiosk row")?;
        ensure!(
            stale.ends_with("class=\"stale\" "),
            "the silent kiosk's row is marked"
        );
        ensure!(overview.matches("class=\"stale\"").count() == 1);
        ensure!(overview.contains("milczy ponad 3 dni"));

        // The roster merges both kiosks.
        let roster = office.page(&format!("/office/classes/{class}"))?;
        for name in ["Wójcik Zofia", "Łęcki Józef", "Żak Grażyna"] {
            ensure!(roster.contains(name), "{name} on the roster");
        }
        ensure!(
            actions(&audit(&server)?).contains(&"roster_read".to_owned()),
            "reading names is audited"
        );

        // The request queue, its filters, and a status change that reaches the kiosk.
        let queue = office.page("/office/requests?status=submitted")?;
        let id = intake.request_id.to_string();
        ensure!(data_attrs(&queue, "request") == vec![id.clone()]);
        ensure!(
            data_attrs(&office.page("/office/requests?status=accepted")?, "request").is_empty()
        );
        let bad_filter = office.get("/office/requests?status=nonsense")?;
        assert_eq!(bad_filter.status().as_u16(), 400);
        let path = format!("/office/requests/{id}");
        let refused = office.post(&path, &[("status", "rejected"), ("note", "brak decyzji")])?;
        assert_eq!(
            refused.status().as_u16(),
            400,
            "a rejection needs a decision reference"
        );
        ensure!(refused.text()?.contains("Nic nie zostało zmienione"));
        ensure!(office.page(&path)?.contains("złożony"), "unchanged");
        let note = "Notatka wewnętrzna: zadzwonić do pani Zofii";
        let done = office.post(
            &path,
            &[
                ("status", "rejected"),
                ("note", note),
                ("decision_reference", "CUS.4011.7.2026"),
                ("appeal_info", "Odwołanie do SKO w terminie 14 dni."),
            ],
        )?;
        assert_eq!(done.status().as_u16(), 303);
        let detail = office.page(&path)?;
        ensure!(
            detail.contains("odrzucony")
                && detail.contains(note)
                && detail.contains("CUS.4011.7.2026")
        );
        let again = office.post(&path, &[("status", "accepted")])?;
        assert_eq!(again.status().as_u16(), 400, "a final decision stays");
        let log = audit(&server)?;
        ensure!(actions(&log).contains(&"request_status".to_owned()));
        ensure!(
            !serde_json::to_string(&log)?.contains("Zofi"),
            "no personal data in the audit"
        );

        sync(&a)?;
        let seen = a.lock().expect("kiosk").resident(&intake.resident_code)?;
        assert_eq!(
            seen.requests[0].status, "rejected",
            "the kiosk sees the decision"
        );
        let kiosk_bytes =
            std::fs::read(tmp.path().join("a").join("kiosk.sqlite3")).unwrap_or_default();
        let kiosk_text = String::from_utf8_lossy(&kiosk_bytes);
        ensure!(
            !kiosk_text.contains("Notatka wewn"),
            "staff notes never reach a kiosk"
        );

        // Classes: create, add a session, allotments checked against capacity.
        let created = office.post(
            "/office/classes",
            &[
                ("branch", &mal),
                ("title", "Szachy dla seniorów"),
                ("instructor", "Pan Marek"),
                ("capacity", "4"),
                ("waitlist_limit", "2"),
            ],
        )?;
        assert_eq!(created.status().as_u16(), 303);
        let new_class = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.strip_prefix("/office/classes/"))
            .context("redirect to the new class")?
            .to_owned();
        let bad_capacity = office.post(
            &format!("/office/classes/{new_class}"),
            &[
                ("title", "Szachy"),
                ("capacity", "zero"),
                ("waitlist_limit", "0"),
            ],
        )?;
        assert_eq!(bad_capacity.status().as_u16(), 400);
        // A date in the past asks first; nothing is saved until confirmed.
        let asked = office.post(
            &format!("/office/classes/{new_class}/sessions"),
            &[
                ("date", "2026-12-01"),
                ("start", "10:00"),
                ("minutes", "90"),
            ],
        )?;
        assert_eq!(asked.status().as_u16(), 200);
        let asked = asked.text()?;
        ensure!(
            asked.contains("id=\"warnings\"") && asked.contains("1 grudnia 2026, wt. już minęła"),
            "{asked}"
        );
        ensure!(
            !office
                .page(&format!("/office/classes/{new_class}"))?
                .contains("1 grudnia 2026"),
            "nothing saved before the confirmation"
        );
        let s = office.post(
            &format!("/office/classes/{new_class}/sessions"),
            &[
                ("date", "2026-12-01"),
                ("start", "10:00"),
                ("minutes", "90"),
                ("confirm", "1"),
            ],
        )?;
        assert_eq!(s.status().as_u16(), 303);
        let bad_date = office.post(
            &format!("/office/classes/{new_class}/sessions"),
            &[
                ("date", "2026-02-30"),
                ("start", "10:00"),
                ("minutes", "90"),
            ],
        )?;
        assert_eq!(bad_date.status().as_u16(), 400);
        let kiosk_a = a.lock().expect("kiosk").identity().kiosk_id.to_string();
        let over = office.post(
            &format!("/office/classes/{new_class}/allotments"),
            &[("kiosk", &kiosk_a), ("seats", "5")],
        )?;
        assert_eq!(over.status().as_u16(), 400, "more seats than the class has");
        let ok = office.post(
            &format!("/office/classes/{new_class}/allotments"),
            &[("kiosk", &kiosk_a), ("seats", "3")],
        )?;
        assert_eq!(ok.status().as_u16(), 303);
        let page = office.page(&format!("/office/classes/{new_class}"))?;
        ensure!(page.contains("1 grudnia 2026, wt.") && page.contains("Szachy dla seniorów"));
        // The new class reaches the kiosk with the catalog, and its allotment is used offline.
        sync(&a)?;
        let titles: Vec<String> = a
            .lock()
            .expect("kiosk")
            .classes()?
            .into_iter()
            .map(|c| c.title)
            .collect();
        ensure!(
            titles.contains(&"Szachy dla seniorów".to_owned()),
            "{titles:?}"
        );
        // A session moved at the office moves at the kiosk; an unknown one is refused.
        let session = a
            .lock()
            .expect("kiosk")
            .store()
            .sessions_on("2026-12-01")?
            .into_iter()
            .find(|s| s.class_id.to_string() == new_class)
            .context("the new session reached the kiosk")?;
        let sid = session.id.to_string();
        let unknown = office.post(
            &format!("/office/classes/{new_class}/sessions"),
            &[
                ("session", "0190c6e2-0000-7000-8000-000000000009"),
                ("date", "2026-12-03"),
                ("start", "11:30"),
                ("minutes", "60"),
            ],
        )?;
        assert_eq!(unknown.status().as_u16(), 404);
        let moved = office.post(
            &format!("/office/classes/{new_class}/sessions"),
            &[
                ("session", sid.as_str()),
                ("date", "2026-12-03"),
                ("start", "11:30"),
                ("minutes", "60"),
                ("confirm", "1"),
            ],
        )?;
        assert_eq!(moved.status().as_u16(), 303);
        sync(&a)?;
        {
            let k = a.lock().expect("kiosk");
            let on = |date: &str| -> Result<Vec<_>> {
                Ok(k.store()
                    .sessions_on(date)?
                    .into_iter()
                    .filter(|s| s.id == session.id)
                    .map(|s| (s.start, s.minutes))
                    .collect())
            };
            assert_eq!(on("2026-12-03")?, vec![("11:30".to_owned(), 60)]);
            assert!(on("2026-12-01")?.is_empty(), "moved, not copied");
        }
        for (i, name) in ["Adam", "Beata", "Celina", "Dorota"].iter().enumerate() {
            let reg = register(&a, &new_class, name, "Nowak")?;
            let status = a
                .lock()
                .expect("kiosk")
                .roster(&new_class)?
                .into_iter()
                .find(|r| r.registration_id.to_string() == reg)
                .context("registered")?
                .status;
            assert_eq!(
                status,
                if i < 3 { "confirmed" } else { "waitlisted" },
                "{name}: the allotment is 3"
            );
        }

        // Exports: CSV with a BOM, Polish letters intact.
        let csv = office.get(&format!("/office/export/roster/{class}"))?;
        assert_eq!(csv.status().as_u16(), 200);
        ensure!(
            csv.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .starts_with("text/csv")
        );
        let bytes = csv.bytes()?;
        ensure!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
        let text = String::from_utf8(bytes[3..].to_vec())?;
        let mut reader = csv_reader(&text);
        assert_eq!(reader.len(), 4, "header and three people: {text}");
        ensure!(reader.remove(0)[1] == "osoba");
        ensure!(
            reader
                .iter()
                .any(|r| r[1] == "Łęcki Józef" && r[2] == "potwierdzony"),
            "{text}"
        );
        let requests_csv = office
            .get("/office/export/requests?status=rejected")?
            .bytes()?;
        let text = String::from_utf8(requests_csv[3..].to_vec())?;
        ensure!(
            text.contains(&intake.reference) && text.contains("odrzucony"),
            "{text}"
        );
        let attendance_csv = office.get(&format!("/office/export/attendance/{class}"))?;
        assert_eq!(attendance_csv.status().as_u16(), 200);

        // The kiosk's own command line shows the resident the decision.
        drop(a);
        let out = Command::new(kiosk_bin())
            .arg("--data")
            .arg(tmp.path().join("a"))
            .arg("--key-file")
            .arg(key_file(&tmp.path().join("a")))
            .args([
                "--json",
                "requests",
                "--resident-code",
                &intake.resident_code,
            ])
            .output()?;
        ensure!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: Value = serde_json::from_slice(&out.stdout)?;
        assert_eq!(seen["requests"][0]["status"], "rejected", "{seen}");
        Ok(())
    })
}

/// Rows of a CSV text (quotes handled by a simple parser good for these files).
fn csv_reader(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut fields = Vec::new();
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ';' if !quoted => fields.push(std::mem::take(&mut cur)),
                other => cur.push(other),
            }
        }
        fields.push(cur);
        rows.push(fields);
    }
    rows
}

#[test]
fn reconciliation_persons_and_charts() -> Result<()> {
    for_each_backend(|backend| {
        use blisko_shared::ids::{RegistrationId, SessionId};
        use blisko_shared::model::AttendanceStatus;
        use blisko_tests::office::mark_attendance;

        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
        sync(&a)?;
        sync(&b)?;
        let classes = a.lock().expect("kiosk").classes()?;
        let (x, y) = (classes[0].clone(), classes[1].clone());
        let reg_a = register(&a, &x.id.to_string(), "Anna", "Kowalska")?;
        register(&b, &x.id.to_string(), "Anna", "Kowalska")?;
        for k in [&a, &b, &a, &b] {
            sync(k)?;
        }
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;

        // Two staff mark the same person differently at the same session, on two kiosks.
        let class_page = org.page(&format!("/office/classes/{}", x.id))?;
        let session: SessionId = data_attrs(&class_page, "session")
            .first()
            .context("a session")?
            .parse()?;
        let registration: RegistrationId = reg_a.parse()?;
        // Kiosk b has not seen a's mark when it marks: the two marks are concurrent.
        mark_attendance(&a, session, registration, AttendanceStatus::Present)?;
        mark_attendance(&b, session, registration, AttendanceStatus::Absent)?;
        let page = org.page("/office/reconcile")?;
        let conflict = format!("{session}/{registration}");
        ensure!(
            data_attrs(&page, "conflict") == vec![conflict.clone()],
            "the conflict is shown"
        );
        ensure!(
            page.contains("obecny") && page.contains("nieobecny"),
            "both sides are shown"
        );
        let bad = org.post(
            "/office/reconcile/attendance",
            &[
                ("class", &x.id.to_string()),
                ("session", &session.to_string()),
                ("registration", &reg_a),
                ("status", "maybe"),
            ],
        )?;
        assert_eq!(bad.status().as_u16(), 400);
        ensure!(
            data_attrs(&org.page("/office/reconcile")?, "conflict").len() == 1,
            "unchanged"
        );
        let done = org.post(
            "/office/reconcile/attendance",
            &[
                ("class", &x.id.to_string()),
                ("session", &session.to_string()),
                ("registration", &reg_a),
                ("status", "present"),
            ],
        )?;
        assert_eq!(done.status().as_u16(), 303);
        ensure!(
            data_attrs(&org.page("/office/reconcile")?, "conflict").is_empty(),
            "resolved in one click"
        );
        let csv = org
            .get(&format!("/office/export/attendance/{}", x.id))?
            .bytes()?;
        let text = String::from_utf8(csv[3..].to_vec())?;
        ensure!(text.contains("Kowalska Anna;obecny"), "{text}");

        // The same person registered at two kiosks: suggested, merged, everything kept.
        let page = org.page("/office/reconcile")?;
        let pairs = data_attrs(&page, "pair");
        assert_eq!(pairs.len(), 1, "one suggested pair");
        let (pa, pb) = pairs[0].split_once('/').context("pair")?;
        let merged = org.post(
            "/office/reconcile/persons",
            &[("a", pa), ("b", pb), ("decision", "same")],
        )?;
        assert_eq!(merged.status().as_u16(), 303);
        ensure!(data_attrs(&org.page("/office/reconcile")?, "pair").is_empty());
        let person = admin.page(&format!("/office/persons/{pa}"))?;
        assert_eq!(person.matches("Potwierdzam usunięcie").count(), 1);
        ensure!(
            data_attrs(&person, "registration").len() == 2,
            "both registrations kept under one person"
        );

        // Seats to rebalance: kiosk A's allotment is used up while B's is idle.
        let kid_a = a.lock().expect("k").identity().kiosk_id.to_string();
        let kid_b = b.lock().expect("k").identity().kiosk_id.to_string();
        let y_id = y.id.to_string();
        assert_eq!(
            org.post(
                &format!("/office/classes/{y_id}/allotments"),
                &[("kiosk", &kid_a), ("seats", "1")]
            )?
            .status()
            .as_u16(),
            303
        );
        let b_seats = (y.capacity - 1).to_string();
        assert_eq!(
            org.post(
                &format!("/office/classes/{y_id}/allotments"),
                &[("kiosk", &kid_b), ("seats", &b_seats)]
            )?
            .status()
            .as_u16(),
            303
        );
        sync(&a)?;
        register(&a, &y_id, "Ewa", "Mazur")?;
        let waiting = register(&a, &y_id, "Olga", "Mazur")?;
        sync(&a)?;
        let page = org.page("/office/reconcile")?;
        ensure!(page.contains("id=\"rebalance\""), "a move is suggested");
        let moved = org.post(
            "/office/reconcile/allotments",
            &[
                ("class", &y_id),
                ("from", &kid_b),
                ("to", &kid_a),
                ("seats", "1"),
            ],
        )?;
        assert_eq!(moved.status().as_u16(), 303);
        let too_many = org.post(
            "/office/reconcile/allotments",
            &[
                ("class", &y_id),
                ("from", &kid_b),
                ("to", &kid_a),
                ("seats", "1000"),
            ],
        )?;
        assert_eq!(too_many.status().as_u16(), 400);
        // The move waits for kiosk B, which may have used the seat offline: once B has synced
        // under the cut, the seat is A's.
        let class_page = org.page(&format!("/office/classes/{y_id}"))?;
        ensure!(
            class_page.contains("czeka na synchronizację: kiosk nr"),
            "the move is pending"
        );
        sync(&b)?;
        sync(&a)?;
        sync(&a)?;
        let status = a
            .lock()
            .expect("k")
            .roster(&y_id)?
            .into_iter()
            .find(|r| r.registration_id.to_string() == waiting)
            .context("waiting one")?
            .status;
        assert_eq!(
            status, "confirmed",
            "the moved seat went to the person waiting at kiosk A"
        );
        let log = actions(&audit(&server)?);
        for act in [
            "attendance_resolve",
            "person_merge",
            "allotment_rebalance",
            "person_read",
        ] {
            ensure!(log.contains(&act.to_owned()), "{act} audited");
        }

        // Charts are inline SVG.
        let charts = org.page(&format!("/office/charts?class={}", x.id))?;
        ensure!(
            charts.matches("<svg").count() >= 5,
            "branch charts, a class chart, requests"
        );
        ensure!(charts.contains("<rect"), "bars drawn");

        // Erase: refused without confirmation; then the person's data is gone from the
        // server's documents and reaches the kiosk at its next sync.
        let erase = format!("/office/persons/{pa}/erase");
        assert_eq!(admin.post(&erase, &[])?.status().as_u16(), 400);
        ensure!(
            admin
                .page(&format!("/office/persons/{pa}"))?
                .contains("Kowalska")
        );
        assert_eq!(
            admin.post(&erase, &[("confirm", "yes")])?.status().as_u16(),
            303
        );
        let after = admin.page(&format!("/office/persons/{pa}"))?;
        ensure!(after.contains("dane usunięte (RODO)"), "erased");
        ensure!(
            !after
                .split("<h1>")
                .nth(1)
                .unwrap_or_default()
                .starts_with("Anna"),
            "no name left"
        );
        ensure!(actions(&audit(&server)?).contains(&"person_erase".to_owned()));
        Ok(())
    })
}

/// Every office page for every role, as one table: the status each role gets.
#[test]
fn the_role_by_page_matrix() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        add_staff(&data, "instr", "instructor", Some(&mal))?;
        add_staff(&data, "punkt", "branch_staff", Some(&mal))?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "admin", "office_admin", None)?;
        let logins = ["instr", "punkt", "org", "admin"];
        let roles: Vec<Office> = logins
            .into_iter()
            .map(|login| Office::login(&server.url(), login, PASSWORD))
            .collect::<Result<_>>()?;
        let class = data_attrs(&roles[1].page("/office/classes")?, "class")
            .into_iter()
            .next()
            .context("a class of the branch")?;
        let (org, admin) = (&roles[2], &roles[3]);
        // A class the instructor leads (by name), a session of each, a phone registration.
        let created = org.post(
            "/office/classes",
            &[
                ("branch", mal.as_str()),
                ("title", "Zajęcia instruktora"),
                ("instructor", "Pracownik instr"),
                ("capacity", "5"),
                ("waitlist_limit", "0"),
            ],
        )?;
        let led = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.rsplit('/').next())
            .context("the instructor's class")?
            .to_owned();
        let mut session_of = std::collections::HashMap::new();
        for c in [&class, &led] {
            let added = org.post(
                &format!("/office/classes/{c}/daily/sessions"),
                &[
                    ("date", "2026-01-08"),
                    ("start", "10:00"),
                    ("minutes", "60"),
                    ("confirm", "1"),
                ],
            )?;
            ensure!(added.status().as_u16() == 303, "a session");
            let daily = org.page(&format!("/office/classes/{c}/daily"))?;
            let session = daily
                .split("data-session=\"")
                .skip(1)
                .find(|row| row.contains("2026-01-08"))
                .and_then(|row| row.split('"').next())
                .context("the session")?
                .to_owned();
            session_of.insert(c.clone(), session);
        }
        let session = &session_of[&class];
        let led_session = &session_of[&led];
        let registered = org.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", "Irena"),
                ("family", "Kowalczyk"),
                ("birth_year", "1950"),
                ("clause", "1"),
            ],
        )?;
        let reg = registered
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.rsplit('/').next())
            .context("a registration")?
            .to_owned();
        let added = admin.post(
            "/office/kiosks",
            &[("branch", mal.as_str()), ("name", "Kiosk MAL")],
        )?;
        let code = data_attrs(&added.text()?, "code")
            .into_iter()
            .next()
            .context("an enrollment code")?;
        let kiosk = data_attrs(&admin.page("/office/kiosks")?, "kiosk")
            .into_iter()
            .next()
            .context("a kiosk")?;
        let staff_page = admin.page("/office/staff")?;
        let punkt_id = staff_page
            .split("data-staff=\"punkt\"")
            .nth(1)
            .and_then(|row| row.split("href=\"/office/staff/").nth(1))
            .and_then(|rest| rest.split('"').next())
            .context("the branch staff account's id")?
            .to_owned();
        //            instructor, branch staff, organizer, office admin
        let matrix: Vec<(String, [u16; 4])> = vec![
            ("/office".into(), [303, 200, 200, 200]),
            ("/office/my-classes".into(), [200, 403, 403, 403]),
            ("/office/classes".into(), [200, 200, 200, 200]),
            (format!("/office/classes/{class}"), [200, 200, 200, 200]),
            (
                format!("/office/classes/{class}/daily"),
                [200, 200, 200, 200],
            ),
            (
                format!("/office/classes/{class}/daily/attendance"),
                [403, 200, 200, 200],
            ),
            ("/office/requests".into(), [403, 403, 200, 200]),
            ("/office/charts".into(), [403, 200, 200, 200]),
            ("/office/reconcile".into(), [403, 403, 200, 200]),
            ("/office/persons".into(), [403, 403, 403, 200]),
            ("/office/kiosks".into(), [403, 403, 403, 200]),
            ("/office/branches".into(), [403, 403, 403, 200]),
            (format!("/office/branches/{mal}"), [403, 403, 403, 200]),
            ("/office/staff".into(), [403, 403, 403, 200]),
            ("/office/audit".into(), [403, 403, 403, 200]),
            ("/office/password".into(), [200, 200, 200, 200]),
            (
                format!("/office/export/roster/{class}"),
                [403, 200, 200, 200],
            ),
            (
                format!("/office/export/roster/{class}/xlsx"),
                [403, 200, 200, 200],
            ),
            (
                format!("/office/export/attendance/{class}"),
                [403, 200, 200, 200],
            ),
            (
                format!("/office/export/attendance/{class}/xlsx"),
                [403, 200, 200, 200],
            ),
            ("/office/export/requests".into(), [403, 403, 200, 200]),
            ("/office/export/requests/xlsx".into(), [403, 403, 200, 200]),
            ("/office/sms".into(), [403, 403, 200, 200]),
            (format!("/office/staff/{punkt_id}"), [403, 403, 403, 200]),
            (
                format!("/office/kiosks/{kiosk}/revoke"),
                [403, 403, 403, 200],
            ),
            (
                format!("/office/classes/{class}/daily/receipt/{reg}"),
                [403, 403, 200, 200],
            ),
            (
                format!("/office/classes/{class}/daily/cancel/{reg}"),
                [403, 403, 200, 200],
            ),
            (
                format!("/office/classes/{class}/sessions/{session}/print"),
                [200, 200, 200, 200],
            ),
            // The roll call: an instructor only of the class they lead.
            (
                format!("/office/classes/{led}/sessions/{led_session}/roll-call"),
                [200, 200, 200, 200],
            ),
            (
                format!("/office/classes/{class}/sessions/{session}/roll-call"),
                [403, 200, 200, 200],
            ),
        ];
        let mut wrong = Vec::new();
        for (path, expected) in &matrix {
            for ((office, login), want) in roles.iter().zip(logins).zip(expected) {
                let got = office.get(path)?.status().as_u16();
                if got != *want {
                    wrong.push(format!("{path}: {login} {got}, not {want}"));
                }
            }
        }
        ensure!(wrong.is_empty(), "{wrong:#?}");

        // Kiosk and staff actions by every role without the right: refused, nothing changed.
        let table = |html: &str, id: &str| -> Result<String> {
            let at = html
                .find(&format!(" id=\"{id}\""))
                .with_context(|| format!("table {id}"))?;
            let start = html[..at].rfind("<table").context("the table's start")?;
            let end = html[start..].find("</table>").context("table end")? + start;
            Ok(html[start..end].to_owned())
        };
        let kiosks_before = table(&admin.page("/office/kiosks")?, "kiosks")?;
        let staff_before = table(&admin.page("/office/staff")?, "staff")?;
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                "/office/kiosks".into(),
                vec![("branch", mal.as_str()), ("name", "Obcy kiosk")],
            ),
            (
                format!("/office/kiosks/{kiosk}/rename"),
                vec![("name", "Przejęty")],
            ),
            (
                format!("/office/kiosks/{kiosk}/revoke"),
                vec![("confirm", "yes")],
            ),
            (
                format!("/office/kiosks/{kiosk}/sheet"),
                vec![("code", code.as_str())],
            ),
            (
                format!("/office/staff/{punkt_id}"),
                vec![
                    ("name", "Przejęte konto"),
                    ("role", "office_admin"),
                    ("branch", ""),
                ],
            ),
            (format!("/office/staff/{punkt_id}/disable"), vec![]),
            (format!("/office/staff/{punkt_id}/enable"), vec![]),
            (format!("/office/staff/{punkt_id}/password"), vec![]),
        ];
        for (path, fields) in &posts {
            for (office, login) in roles.iter().zip(logins).take(3) {
                let got = office.post(path, fields)?.status().as_u16();
                if got != 403 {
                    wrong.push(format!("POST {path}: {login} {got}, not 403"));
                }
            }
        }
        ensure!(wrong.is_empty(), "{wrong:#?}");
        assert_eq!(
            table(&admin.page("/office/kiosks")?, "kiosks")?,
            kiosks_before,
            "no kiosk added, renamed or revoked"
        );
        assert_eq!(
            table(&admin.page("/office/staff")?, "staff")?,
            staff_before,
            "no account changed"
        );
        Office::login(&server.url(), "punkt", PASSWORD).context("the password is unchanged")?;
        // Each refusal is a page with the menu, and it is audited.
        let refusal = roles[0].get("/office/staff")?.text()?;
        ensure!(refusal.contains("<nav"), "a refusal keeps the menu");
        ensure!(
            audit(&server)?
                .iter()
                .any(|r| r["action"] == "office_forbidden" && r["subject"] == "page:staff"),
            "refusals are audited"
        );
        Ok(())
    })
}

/// A branch-limited account asking for another branch's daily page, kiosk or a class in
/// it: refused as not found, nothing changed, and each probe is one
/// `office_forbidden_branch` audit row naming what was asked for.
#[test]
fn another_branch_probed_by_a_branch_account_is_refused_and_audited() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let si = branch_id(&data, "SI")?;
        add_staff(&data, "admin", "office_admin", None)?;
        // An organizer of MAL (an office admin always has every branch, so the kiosk pages'
        // own branch check cannot be reached from the outside).
        add_staff(&data, "maladmin", "organizer", Some(&mal))?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;
        let local = Office::login(&server.url(), "maladmin", PASSWORD)?;
        let created = admin.post(
            "/office/classes",
            &[
                ("branch", si.as_str()),
                ("title", "Warsztaty w SI"),
                ("capacity", "5"),
                ("waitlist_limit", "0"),
            ],
        )?;
        ensure!(created.status().as_u16() == 303, "a class of SI");
        let class = created
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|l| l.rsplit('/').next())
            .context("class id")?
            .to_owned();
        let added = admin.post(
            "/office/kiosks",
            &[("branch", si.as_str()), ("name", "Kiosk SI")],
        )?;
        ensure!(added.status().as_u16() == 200, "a kiosk of SI");
        let code = data_attrs(&added.text()?, "code")
            .into_iter()
            .next()
            .context("its enrollment code")?;
        let kiosks_before = admin.page("/office/kiosks")?;
        let classes_before = admin.page("/office/classes")?;

        let probes: Vec<(reqwest::blocking::Response, String)> = vec![
            (
                local.get(&format!("/office/classes/{class}/daily"))?,
                format!("class:{class}"),
            ),
            (
                local.post(
                    &format!("/office/classes/{class}/daily/register"),
                    &[
                        ("given", "Jan"),
                        ("family", "Obcy"),
                        ("birth_year", "1950"),
                        ("clause", "1"),
                    ],
                )?,
                format!("class:{class}"),
            ),
            (
                local.post(
                    "/office/classes",
                    &[
                        ("branch", si.as_str()),
                        ("title", "Obce zajęcia"),
                        ("capacity", "5"),
                        ("waitlist_limit", "0"),
                    ],
                )?,
                format!("branch:{si}"),
            ),
        ];
        let mut wanted: Vec<String> = Vec::new();
        for (response, subject) in probes {
            let status = response.status().as_u16();
            let text = response.text()?;
            ensure!(status == 404, "{subject}: {status}");
            ensure!(
                !text.contains(&code) && !text.contains("Warsztaty w SI"),
                "{subject}: nothing of the other branch is shown"
            );
            wanted.push(subject);
        }
        let log = audit(&server)?;
        let mut got: Vec<String> = log
            .iter()
            .filter(|r| r["action"] == "office_forbidden_branch")
            .filter(|r| r["actor"].as_str().is_some_and(|a| a.starts_with("staff:")))
            .filter_map(|r| r["subject"].as_str().map(str::to_owned))
            .collect();
        got.sort();
        wanted.sort();
        assert_eq!(got, wanted, "one audit row per probe");
        let kiosks_after = admin.page("/office/kiosks")?;
        assert_eq!(
            data_attrs(&kiosks_after, "kiosk"),
            data_attrs(&kiosks_before, "kiosk"),
            "no kiosk added"
        );
        ensure!(
            kiosks_after.contains("Kiosk SI") && !kiosks_after.contains("Przejęty"),
            "no kiosk renamed"
        );
        let classes_after = admin.page("/office/classes")?;
        assert_eq!(
            data_attrs(&classes_after, "class"),
            data_attrs(&classes_before, "class"),
            "no class created"
        );
        Ok(())
    })
}
