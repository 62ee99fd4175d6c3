//! The office page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against a real server with two kiosks that synced. Logs in, sees the
//! merged data, changes a request's status and sees it arrive at the kiosk, resolves an
//! attendance conflict, downloads a CSV, and saves screenshots under docs/screenshots/.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_shared::ids::{RegistrationId, SessionId};
use blisko_shared::model::AttendanceStatus;
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{add_staff, data_attrs, mark_attendance};
use blisko_tests::{Backend, backend_or_first};

fn register(kiosk: &Mutex<Kiosk>, class: &str, given: &str, family: &str) -> Result<String> {
    Ok(kiosk
        .lock()
        .expect("kiosk")
        .register(&RegistrationForm {
            class_id: class.to_owned(),
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            birth_year: 1948,
            consent: true,
            ..RegistrationForm::default()
        })?
        .registration_id
        .to_string())
}

/// The browser part runs on a runtime of its own; the kiosks' blocking HTTP runs
/// between its steps, outside it.
/// On the SQLite store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn the_office_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Sqlite), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
    let b = enroll_kiosk(&server, &mal, &tmp.path().join("b"))?;
    sync(&a)?;
    sync(&b)?;
    let class_id = a.lock().expect("kiosk").classes()?[0].id;
    let class = class_id.to_string();
    let reg = register(&a, &class, "Zofia", "Wójcik")?;
    register(&a, &class, "Józef", "Łęcki")?;
    register(&b, &class, "Grażyna", "Żak")?;
    register(&b, &class, "Tadeusz", "Kamiński")?;
    let service = a
        .lock()
        .expect("kiosk")
        .services()?
        .into_iter()
        .find(|s| !s.requires_pesel)
        .context("a service")?
        .id
        .to_string();
    let intake = a.lock().expect("kiosk").submit_intake(&IntakeForm {
        service_id: service,
        given_name: "Zofia".into(),
        family_name: "Wójcik".into(),
        birth_year: 1948,
        description: "Proszę o rehabilitację w gabinecie.".into(),
        declaration: true,
        consent: true,
        ..IntakeForm::default()
    })?;
    for k in [&a, &b, &a, &b] {
        sync(k)?;
    }
    add_staff(&data, "koordynator", "organizer", None)?;

    let c = Browser::desktop(&server.url())?;

    // Log in.
    c.goto("/office")?;
    ensure!(c.path()? == "/office/login", "sent to log in");
    c.login("koordynator")?;
    ensure!(c.path()? == "/office", "logged in");
    let overview = c.html()?;
    let row = overview
        .split("data-branch=\"MAL\"")
        .nth(1)
        .context("MAL row")?;
    ensure!(
        row.contains(">4<"),
        "4 registrations from two kiosks in MAL"
    );
    c.shot("office-overview.png")?;

    // The merged roster.
    c.goto(&format!("/office/classes/{class}"))?;
    let roster = c.html()?;
    for name in [
        "Wójcik Zofia",
        "Łęcki Józef",
        "Żak Grażyna",
        "Kamiński Tadeusz",
    ] {
        ensure!(roster.contains(name), "{name} on the roster");
    }
    c.shot("office-roster.png")?;

    // The request queue, and a status change that reaches the kiosk.
    c.goto("/office/requests")?;
    c.click_link(&intake.reference)?;
    c.select("select[name=status]", "in_review")?;
    c.fill("textarea[name=note]", "Sprawdzić skierowanie.")?;
    c.click("form.stack button")?;
    let status = c.text_of("status", "w rozpatrzeniu")?;
    ensure!(status == "w rozpatrzeniu", "status shown: {status}");
    sync(&a)?;
    let seen = a.lock().expect("kiosk").resident(&intake.resident_code)?;
    ensure!(seen.requests[0].status == "in_review", "the kiosk sees it");

    // An attendance conflict from two kiosks, resolved in one click.
    c.goto(&format!("/office/classes/{class}"))?;
    let sessions = data_attrs(&c.html()?, "session");
    let session: SessionId = sessions.first().context("a session")?.parse()?;
    let registration: RegistrationId = reg.parse()?;
    mark_attendance(&a, session, registration, AttendanceStatus::Present)?;
    mark_attendance(&b, session, registration, AttendanceStatus::Excused)?;
    // The page is loaded again until it shows the conflict (a loaded machine may
    // hand back the page before the navigation settled).
    let deadline = Instant::now() + Duration::from_secs(15);
    let listed = loop {
        c.goto("/office/reconcile")?;
        let page = c.html()?;
        if page.contains("data-conflict") {
            break true;
        }
        if Instant::now() > deadline {
            eprintln!("reconciliation page without the conflict: {page}");
            break false;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    ensure!(listed, "the conflict is listed");
    c.click("#conflicts button[value=excused]")?;
    c.wait_for("#no-conflicts").context("resolved")?;

    // Download the roster as CSV and read it.
    c.goto(&format!("/office/classes/{class}"))?;
    c.click(&format!("a[href='/office/export/roster/{class}']"))?;
    // A readable name: the class's title with its Polish letters, and today's date.
    let title = a.lock().expect("kiosk").classes()?[0]
        .title
        .replace(' ', "-");
    let bytes = c.download(&format!("lista-{title}-{}.csv", jiff::Zoned::now().date()))?;
    ensure!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM");
    let csv = String::from_utf8(bytes[3..].to_vec())?;
    ensure!(csv.lines().count() == 5, "header and 4 people: {csv}");
    ensure!(csv.contains("Żak Grażyna;potwierdzony"), "{csv}");
    Ok(())
}
