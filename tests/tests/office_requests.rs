//! Requests as a caseworker's queue, over real HTTP against a real server with kiosks
//! that sync: the list's columns and its statutory deadline (marked when close or past),
//! search by reference, assignment and "mine", a message to the resident that reaches the
//! kiosk, the PESEL behind an audited button, a refused form that keeps what was typed,
//! an instructor's own classes, and other branches' objects answered as not found and
//! audited.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, IntakeReceipt};
use blisko_tests::for_each_backend;
use blisko_tests::harness::{ServerProcess, ServerSql, StorePart, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

fn audit(server: &ServerProcess) -> Result<Vec<Value>> {
    Ok(server
        .admin(&["audit", "--limit", "2000"])?
        .as_array()
        .context("audit is a list")?
        .clone())
}

fn audited(log: &[Value], action: &str, subject: &str) -> bool {
    log.iter()
        .any(|r| r["action"] == action && r["subject"] == subject)
}

fn service(kiosk: &Mutex<Kiosk>, pesel: bool) -> Result<String> {
    Ok(kiosk
        .lock()
        .expect("kiosk")
        .services()?
        .into_iter()
        .find(|s| s.requires_pesel == pesel)
        .context("a service")?
        .id
        .to_string())
}

fn file(
    kiosk: &Mutex<Kiosk>,
    service: &str,
    given: &str,
    family: &str,
    pesel: Option<&str>,
) -> Result<IntakeReceipt> {
    Ok(kiosk.lock().expect("kiosk").submit_intake(&IntakeForm {
        service_id: service.to_owned(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1944,
        description: "Proszę o pomoc.".into(),
        pesel: pesel.map(str::to_owned),
        declaration: true,
        consent: true,
        ..IntakeForm::default()
    })?)
}

/// The part of the queue's HTML for one request's row.
fn row_of<'a>(page: &'a str, request: &str) -> Result<&'a str> {
    let after = page
        .split(&format!("data-request=\"{request}\""))
        .nth(1)
        .context("the request's row")?;
    Ok(after.split("</tr>").next().unwrap_or(after))
}

/// File the request as filed `days` ago (the office projection keeps the filing time;
/// it is written again only when the request's document changes).
fn filed_days_ago(data: &std::path::Path, request: &str, days: i64) -> Result<()> {
    let ms = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * days))?
        .as_millisecond();
    let changed = ServerSql::open(data, StorePart::Main)?.execute(
        "UPDATE o_requests SET submitted_ms = CAST(CAST($1 AS TEXT) AS BIGINT) WHERE id = $2",
        &[&ms.to_string(), request],
    )?;
    ensure!(changed == 1, "request {request} projected");
    Ok(())
}

#[test]
fn the_request_queue_for_caseworkers() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let si = branch_id(&data, "SI")?;
        let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
        let s = enroll_kiosk(&server, &si, &tmp.path().join("s"))?;
        sync(&a)?;
        sync(&s)?;
        let plain = service(&a, false)?;
        let with_pesel = service(&a, true)?;
        // 44051401359: born 14 May 1944.
        let old = file(&a, &plain, "Zofia", "Wójcik", None)?;
        let overdue = file(&a, &with_pesel, "Józef", "Łęcki", Some("44051401359"))?;
        let fresh = file(&a, &plain, "Grażyna", "Żak", None)?;
        let elsewhere = file(&s, &service(&s, false)?, "Tadeusz", "Kamiński", None)?;
        sync(&a)?;
        sync(&s)?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "admin", "office_admin", None)?;
        add_staff(&data, "punkt", "branch_staff", Some(&mal))?;
        add_staff(&data, "instr", "instructor", Some(&mal))?;
        add_staff(&data, "orgsi", "organizer", Some(&si))?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let admin = Office::login(&server.url(), "admin", PASSWORD)?;
        // The first page projects the requests; then two of them are made older.
        org.page("/office/requests")?;
        let [old_id, overdue_id, fresh_id, elsewhere_id] =
            [&old, &overdue, &fresh, &elsewhere].map(|r| r.request_id.to_string());
        filed_days_ago(&data, &old_id, 27)?;
        filed_days_ago(&data, &overdue_id, 40)?;

        // The list: applicant, days waiting, the deadline marked when close or past, nearest
        // deadline first.
        let queue = org.page("/office/requests")?;
        assert_eq!(
            data_attrs(&queue, "request")[..3],
            [overdue_id.clone(), old_id.clone(), fresh_id.clone()]
        );
        let row = row_of(&queue, &old_id)?;
        ensure!(row.contains("Wójcik Zofia"), "{row}");
        ensure!(
            row.contains("class=\"num waiting\" data-label=\"Dni oczekiwania\">27<"),
            "{row}"
        );
        ensure!(
            row.contains("deadline-soon") && row.contains("termin "),
            "{row}"
        );
        ensure!(row.contains("zostało: 3 dni"), "{row}");
        let row = row_of(&queue, &overdue_id)?;
        ensure!(
            row.contains("deadline-past") && row.contains("po terminie: 10 dni"),
            "{row}"
        );
        let row = row_of(&queue, &fresh_id)?;
        ensure!(!row.contains("deadline-") && row.contains(">0<"), "{row}");
        let due = jiff::Zoned::now()
            .date()
            .checked_add(jiff::Span::new().days(30))?;
        ensure!(
            row.contains(&format!("data-deadline=\"{due}\"")),
            "30 days from today: {row}"
        );
        let log = audit(&server)?;
        ensure!(
            log.iter().any(|r| r["action"] == "request_queue_read"),
            "reading names is audited"
        );

        // Search by reference: any case, exact or its beginning.
        let exact = org.page(&format!(
            "/office/requests?q={}",
            old.reference.to_lowercase().replace('/', "%2F")
        ))?;
        assert_eq!(data_attrs(&exact, "request"), vec![old_id.clone()]);
        let branch_prefix = old.reference.split('/').next().context("a prefix")?;
        let mal_only = data_attrs(
            &org.page(&format!("/office/requests?q={branch_prefix}"))?,
            "request",
        );
        ensure!(mal_only.len() == 3 && !mal_only.contains(&elsewhere_id));
        ensure!(data_attrs(&org.page("/office/requests?q=ZZZ")?, "request").is_empty());
        let xss = org.page(&format!("/office/requests?q={}", urlencoding(SCRIPT)))?;
        ensure!(
            !xss.contains(SCRIPT) && xss.contains("&lt;script&gt;"),
            "escaped"
        );
        assert_eq!(
            org.get("/office/requests?assignee=x")?.status().as_u16(),
            400
        );

        // Assignment: take it; assign through the list of caseworkers; "mine" and unassigned.
        let old_path = format!("/office/requests/{old_id}");
        let detail = org.page(&old_path)?;
        ensure!(detail.contains("Biorę ten wniosek") && detail.contains("nieprzydzielony"));
        let me = org_staff_id(&detail)?;
        assert_eq!(
            org.post(&format!("{old_path}/assign"), &[("staff", &me)])?
                .status()
                .as_u16(),
            303
        );
        ensure!(org.page(&old_path)?.contains("Pracownik org"));
        let instr_id = staff_id(&server, "instr")?;
        let refused = admin.post(
            &format!("/office/requests/{fresh_id}/assign"),
            &[("staff", &instr_id)],
        )?;
        assert_eq!(
            refused.status().as_u16(),
            400,
            "an instructor does not decide"
        );
        let assigned = admin.post(
            &format!("/office/requests/{fresh_id}/assign"),
            &[("staff", &me)],
        )?;
        assert_eq!(assigned.status().as_u16(), 303);
        let mine = data_attrs(&org.page("/office/requests?assignee=me")?, "request");
        assert_eq!(mine, vec![old_id.clone(), fresh_id.clone()]);
        ensure!(data_attrs(&admin.page("/office/requests?assignee=me")?, "request").is_empty());
        let unassigned = data_attrs(&org.page("/office/requests?assignee=none")?, "request");
        ensure!(unassigned.contains(&overdue_id) && !unassigned.contains(&old_id));
        ensure!(row_of(&org.page("/office/requests")?, &old_id)?.contains("Pracownik org"));
        let log = audit(&server)?;
        ensure!(audited(
            &log,
            "request_assigned",
            &format!("intake:{old_id}")
        ));

        // The PESEL: a button for the roles that decide; each reading audited.
        let overdue_path = format!("/office/requests/{overdue_id}");
        let detail = org.page(&overdue_path)?;
        ensure!(detail.contains("Pokaż PESEL") && !detail.contains("44051401359"));
        let shown = org.post(&format!("{overdue_path}/pesel"), &[])?;
        assert_eq!(shown.status().as_u16(), 200);
        ensure!(shown.text()?.contains("44051401359"));
        let log = audit(&server)?;
        ensure!(audited(&log, "pesel_read", &format!("intake:{overdue_id}")));
        ensure!(
            !serde_json::to_string(&log)?.contains("44051401359"),
            "no PESEL in the log"
        );
        let punkt = Office::login(&server.url(), "punkt", PASSWORD)?;
        assert_eq!(
            punkt
                .post(&format!("{overdue_path}/pesel"), &[])?
                .status()
                .as_u16(),
            403
        );

        // A refused status change shows the form again, with the menu and what was typed.
        let note = format!("Notatka {SCRIPT}");
        let message = format!("Wiadomość {IMG}");
        let refused = org.post(
            &old_path,
            &[
                ("status", "rejected"),
                ("note", &note),
                ("resident_message", &message),
            ],
        )?;
        assert_eq!(refused.status().as_u16(), 400);
        let page = refused.text()?;
        ensure!(
            page.contains("<nav") && page.contains("id=\"refusal\""),
            "{page}"
        );
        ensure!(page.contains("podaj znak decyzji"), "says what to correct");
        ensure!(
            page.contains("Notatka &lt;script&gt;alert(1)&lt;/script&gt;"),
            "note kept"
        );
        ensure!(page.contains("Wiadomość &quot;&gt;&lt;img"), "message kept");
        ensure!(
            !page.contains(SCRIPT) && !page.contains("<img src=x"),
            "escaped"
        );
        ensure!(
            page.contains("value=\"rejected\" selected"),
            "the status chosen"
        );
        ensure!(
            org.page(&old_path)?.contains("class=\"status-submitted\""),
            "nothing changed"
        );

        // A message to the resident travels with the status; the staff note does not.
        let please = "Proszę przynieść zaświadczenie lekarskie.";
        let done = org.post(
            &old_path,
            &[
                ("status", "more_information_needed"),
                ("note", "Zadzwonić w poniedziałek"),
                ("resident_message", please),
            ],
        )?;
        assert_eq!(done.status().as_u16(), 303);
        ensure!(org.page(&old_path)?.contains(please));
        sync(&a)?;
        let seen = a.lock().expect("kiosk").resident(&old.resident_code)?;
        let request = seen
            .requests
            .iter()
            .find(|r| r.id == old_id)
            .context("the request at the kiosk")?;
        assert_eq!(request.status, "more_information_needed");
        assert_eq!(request.message.as_deref(), Some(please));
        let kiosk_bytes = std::fs::read(tmp.path().join("a").join("kiosk.sqlite3"))?;
        ensure!(
            !String::from_utf8_lossy(&kiosk_bytes).contains("Zadzwoni"),
            "staff notes never reach a kiosk"
        );
        // The next step without a message takes the message away.
        org.post(&old_path, &[("status", "in_review")])?;
        sync(&a)?;
        let seen = a.lock().expect("kiosk").resident(&old.resident_code)?;
        ensure!(seen.requests.iter().all(|r| r.message.is_none()));

        // Another branch's request, for an account limited to its own branch: not found,
        // and audited with its kind and id only.
        let orgsi = Office::login(&server.url(), "orgsi", PASSWORD)?;
        let other = orgsi.get(&old_path)?;
        assert_eq!(other.status().as_u16(), 404);
        ensure!(
            other.text()?.contains("<nav"),
            "the error page has the menu"
        );
        ensure!(data_attrs(&orgsi.page("/office/requests")?, "request") == vec![elsewhere_id]);
        assert_eq!(
            orgsi
                .post(&format!("{old_path}/assign"), &[("staff", &me)])?
                .status()
                .as_u16(),
            404
        );
        // An office admin has every branch (one of a single branch is refused), so the
        // person pages, which only office admins see, are never of another branch.
        ensure!(add_staff(&data, "adminsi", "office_admin", Some(&si)).is_err());
        let log = audit(&server)?;
        ensure!(audited(
            &log,
            "office_forbidden_branch",
            &format!("intake:{old_id}")
        ));
        ensure!(
            !serde_json::to_string(&log)?.contains("Wójcik"),
            "no personal data in the audit"
        );
        Ok(())
    })
}

/// The staff id in a page's "take it" form (the visitor's own).
fn org_staff_id(page: &str) -> Result<String> {
    let form = page
        .split("name=\"staff\" value=\"")
        .nth(1)
        .context("the take-it form")?;
    Ok(form.split('"').next().unwrap_or_default().to_owned())
}

fn staff_id(server: &ServerProcess, login: &str) -> Result<String> {
    let list = server.admin(&["staff", "list"])?;
    list.as_array()
        .context("a list")?
        .iter()
        .find(|s| s["login"] == login)
        .and_then(|s| s["id"].as_str())
        .map(str::to_owned)
        .context("the account")
}

fn urlencoding(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn an_instructor_starts_on_their_classes() -> Result<()> {
    for_each_backend(|backend| {
        let tmp = tempfile::tempdir()?;
        let data = tmp.path().join("server");
        let server = ServerProcess::start_backend(backend, &data, true)?;
        let mal = branch_id(&data, "MAL")?;
        let si = branch_id(&data, "SI")?;
        add_staff(&data, "org", "organizer", None)?;
        add_staff(&data, "instr", "instructor", Some(&mal))?;
        let org = Office::login(&server.url(), "org", PASSWORD)?;
        let new_class = |branch: &str, instructor: &str, title: &str| -> Result<String> {
            let created = org.post(
                "/office/classes",
                &[
                    ("branch", branch),
                    ("title", title),
                    ("instructor", instructor),
                    ("capacity", "8"),
                    ("waitlist_limit", "2"),
                ],
            )?;
            ensure!(created.status().as_u16() == 303, "{}", created.text()?);
            created
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.strip_prefix("/office/classes/"))
                .map(str::to_owned)
                .context("the new class")
        };
        let mine = new_class(&mal, "pracownik INSTR", "Nordic walking")?;
        let not_mine = new_class(&mal, "Ktoś inny", "Brydż")?;
        let today = jiff::Zoned::now().date().to_string();
        let s = org.post(
            &format!("/office/classes/{mine}/sessions"),
            &[
                ("date", &today),
                ("start", "09:30"),
                ("minutes", "60"),
                ("confirm", "1"),
            ],
        )?;
        assert_eq!(s.status().as_u16(), 303);
        let other_branch = new_class(&si, "Pracownik instr", "Szachy")?;

        // Log-in lands on "my classes"; "/office" leads there too, not to a refusal.
        let mut instr = Office::anonymous(&server.url())?;
        let landed = instr.try_login("instr", PASSWORD)?;
        assert_eq!(
            landed
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some("/office/my-classes")
        );
        let instr = Office::login(&server.url(), "instr", PASSWORD)?;
        let start = instr.get("/office")?;
        assert_eq!(start.status().as_u16(), 303);
        assert_eq!(
            start
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok()),
            Some("/office/my-classes")
        );
        let page = instr.page("/office/my-classes")?;
        assert_eq!(data_attrs(&page, "my-class"), vec![mine.clone()]);
        ensure!(!page.contains(&not_mine) && !page.contains(&other_branch));
        ensure!(
            page.contains("Dziś 09:30") && page.contains("/print\""),
            "{page}"
        );
        ensure!(page.contains("Sprawdź obecność"));
        ensure!(page.contains("href=\"/office/my-classes\""), "in the menu");
        ensure!(
            !page.contains("href=\"/office/requests\""),
            "only its own menu"
        );
        // A page the role may not open: the menu, and a way back that does not loop.
        let forbidden = instr.get("/office/requests")?;
        assert_eq!(forbidden.status().as_u16(), 403);
        let body = forbidden.text()?;
        ensure!(body.contains("<nav") && body.contains("Wróć do strony głównej"));
        ensure!(
            body.contains("id=\"home\" href=\"/office/my-classes\""),
            "{body}"
        );
        // Another branch's class: not found, audited.
        assert_eq!(
            instr
                .get(&format!("/office/classes/{other_branch}"))?
                .status()
                .as_u16(),
            404
        );
        let log = audit(&server)?;
        ensure!(audited(
            &log,
            "office_forbidden_branch",
            &format!("class:{other_branch}")
        ));
        // Other roles have no "my classes".
        assert_eq!(org.get("/office/my-classes")?.status().as_u16(), 403);
        Ok(())
    })
}
