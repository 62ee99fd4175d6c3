//! The request queue, a request's page and an instructor's "my classes" in a real
//! headless Chromium, at desktop and phone size: the deadline marked, taking a request,
//! the PESEL button, a refused status change that keeps what was typed, a message to the
//! resident; no page scrolls sideways on a phone. Screenshots: office-requests.png,
//! office-request.png, office-my-classes.png.

use anyhow::{Context, Result, ensure};

use blisko_kiosk::kiosk::IntakeForm;
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, ServerSql, StorePart, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs};
use blisko_tests::{Backend, backend_or_first};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";

/// On the PostgreSQL store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn requests_and_my_classes_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Postgres), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
    sync(&a)?;
    let services = a.lock().expect("kiosk").services()?;
    let plain = services
        .iter()
        .find(|s| !s.requires_pesel)
        .context("a service")?
        .id
        .to_string();
    let with_pesel = services
        .iter()
        .find(|s| s.requires_pesel)
        .context("a PESEL service")?
        .id
        .to_string();
    let mut receipts = Vec::new();
    for (given, family, service, pesel) in [
        ("Józef", "Łęcki", &with_pesel, Some("44051401359")),
        ("Zofia", "Wójcik", &plain, None),
        ("Grażyna", "Żak", &plain, None),
    ] {
        receipts.push(a.lock().expect("kiosk").submit_intake(&IntakeForm {
            service_id: service.clone(),
            given_name: given.into(),
            family_name: family.into(),
            birth_year: 1944,
            description: "Proszę o pomoc.".into(),
            pesel: pesel.map(str::to_owned),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?);
    }
    sync(&a)?;
    add_staff(&data, "koordynator", "organizer", None)?;
    add_staff(&data, "instr", "instructor", Some(&mal))?;
    let org = Office::login(&server.url(), "koordynator", PASSWORD)?;
    // The first page projects the requests; one is then made 40 days old, one 27.
    org.page("/office/requests")?;
    let mut db = ServerSql::open(&data, StorePart::Main)?;
    for (receipt, days) in [(&receipts[0], 40), (&receipts[1], 27)] {
        let ms = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(24 * days))?
            .as_millisecond();
        db.execute(
            "UPDATE o_requests SET submitted_ms = CAST(CAST($1 AS TEXT) AS BIGINT) WHERE id = $2",
            &[&ms.to_string(), &receipt.request_id.to_string()],
        )?;
    }
    // A class led by the instructor, with a session today.
    let created = org.post(
        "/office/classes",
        &[
            ("branch", &mal),
            ("title", "Nordic walking"),
            ("instructor", "Pracownik instr"),
            ("capacity", "8"),
            ("waitlist_limit", "2"),
        ],
    )?;
    let class = created
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|l| l.strip_prefix("/office/classes/"))
        .context("the new class")?
        .to_owned();
    let today = jiff::Zoned::now().date().to_string();
    org.post(
        &format!("/office/classes/{class}/sessions"),
        &[
            ("date", &today),
            ("start", "09:30"),
            ("minutes", "60"),
            ("confirm", "1"),
        ],
    )?;

    // Desktop: the queue, a request taken, its PESEL, a refusal that keeps the text, a
    // message to the resident.
    let c = Browser::desktop(&server.url())?;
    c.login("koordynator")?;
    c.goto("/office/requests")?;
    c.wait_for("#requests .deadline-past")?;
    c.wait_for("#requests .deadline-soon")?;
    ensure!(c.html()?.contains("Łęcki Józef"));
    c.shot("office-requests.png")?;
    let reference = &receipts[0].reference;
    c.click_link(reference)?;
    c.wait_for("#take")?;
    c.click("#take")?;
    c.wait_for("#pesel button")?;
    ensure!(c.text_of("assignee", "Pracownik koordynator")? == "Pracownik koordynator");
    c.click("#pesel button")?;
    c.wait_for("#pesel .pesel")?;
    ensure!(c.html()?.contains("44051401359"), "the PESEL shown");
    c.select("select[name=status]", "rejected")?;
    c.fill("textarea[name=note]", &format!("Notatka {SCRIPT}"))?;
    c.fill(
        "textarea[name=resident_message]",
        &format!("Wiadomość {IMG}"),
    )?;
    c.click("#status-form button")?;
    c.wait_for("#refusal")?;
    let page = c.html()?;
    ensure!(
        page.contains("Notatka &lt;script&gt;alert(1)&lt;/script&gt;"),
        "kept"
    );
    ensure!(
        !page.contains(SCRIPT) && !page.contains("<img src=x"),
        "escaped"
    );
    ensure!(page.contains("<nav"), "with the menu");
    let please = "Proszę przynieść zaświadczenie lekarskie.";
    c.select("select[name=status]", "more_information_needed")?;
    c.fill("textarea[name=note]", "Zadzwonić w poniedziałek.")?;
    c.fill("textarea[name=resident_message]", please)?;
    c.click("#status-form button")?;
    ensure!(c.text_of("resident-message", please)? == please);
    c.shot("office-request.png")?;
    sync(&a)?;
    let seen = a
        .lock()
        .expect("kiosk")
        .resident(&receipts[0].resident_code)?;
    ensure!(seen.requests[0].message.as_deref() == Some(please));

    // Phone: the same pages fit the screen; the instructor starts on their classes.
    let p = Browser::phone(&server.url())?;
    p.login("koordynator")?;
    p.goto("/office/requests")?;
    p.wait_for("#requests")?;
    p.assert_no_sideways_scroll()?;
    p.goto(&format!("/office/requests/{}", receipts[1].request_id))?;
    p.wait_for("#status-form")?;
    p.assert_no_sideways_scroll()?;
    let i = Browser::phone(&server.url())?;
    i.login("instr")?;
    ensure!(
        i.path()? == "/office/my-classes",
        "the instructor's start page"
    );
    ensure!(data_attrs(&i.html()?, "my-class") == vec![class.clone()]);
    i.assert_no_sideways_scroll()?;
    i.shot("office-my-classes.png")?;
    i.goto("/office/requests")?;
    i.wait_for("#home")?;
    i.click("#home")?;
    i.wait_for(".card")?;
    ensure!(
        i.path()? == "/office/my-classes",
        "back to the start, no loop"
    );
    Ok(())
}
