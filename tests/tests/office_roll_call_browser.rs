//! An instructor's roll call in a real browser (headless Chromium), at desktop and phone
//! size: log in, land on "my classes", open today's roll call, mark everyone with the
//! large choices and save; the attendance export has the marks, and a kiosk that syncs
//! shows them in its own roll call. No sideways scroll on a phone.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_shared::ids::SessionId;
use blisko_shared::model::AttendanceStatus;
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, add_staff_with, data_attrs, location};
use blisko_tests::{Backend, backend_or_first};

/// The path a redirect leads to.
/// A class led by Anna with a session today and three people registered by phone; the
/// class and the session.
fn class_with_people(
    org: &Office,
    branch: &str,
    title: &str,
    people: [&str; 3],
) -> Result<(String, String)> {
    let created = org.post(
        "/office/classes",
        &[
            ("branch", branch),
            ("title", title),
            ("instructor", "Anna Wiśniewska"),
            ("capacity", "10"),
            ("waitlist_limit", "0"),
        ],
    )?;
    ensure!(created.status().as_u16() == 303, "class created");
    let class = location(&created)?
        .rsplit('/')
        .next()
        .context("class id")?
        .to_owned();
    let today = jiff::Zoned::now().date().to_string();
    let added = org.post(
        &format!("/office/classes/{class}/daily/sessions"),
        &[
            ("date", today.as_str()),
            ("start", "06:30"),
            ("minutes", "60"),
            ("confirm", "1"),
        ],
    )?;
    ensure!(added.status().as_u16() == 303, "session added");
    let daily = org.page(&format!("/office/classes/{class}/daily"))?;
    let session = data_attrs(&daily, "session")
        .into_iter()
        .next()
        .context("the session")?;
    for family in people {
        let response = org.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", "Maria"),
                ("family", family),
                ("birth_year", "1949"),
                ("clause", "1"),
            ],
        )?;
        ensure!(response.status().as_u16() == 303, "{family} registered");
    }
    Ok((class, session))
}

/// Anna's pass in `c`: from "my classes" to the roll call of `class`, everyone marked
/// with `marks` in the page's order, saved. The registrations in that order.
fn walk(
    c: &Browser,
    class: &str,
    session: &str,
    marks: [&str; 3],
    suffix: &str,
    phone: bool,
) -> Result<Vec<String>> {
    c.login("anna")?;
    ensure!(
        c.path()? == "/office/my-classes",
        "an instructor lands on her classes, not {}",
        c.path()?
    );
    let link =
        format!("a.roll-call[href=\"/office/classes/{class}/sessions/{session}/roll-call\"]");
    c.wait_for(&link)?;
    c.click_and_load(&link)?;
    c.wait_for("#roll-call")?;
    if phone {
        c.assert_no_sideways_scroll()?;
    }
    let regs = data_attrs(&c.html()?, "registration");
    ensure!(regs.len() == 3, "everyone confirmed is listed");
    // Large targets: every choice is at least 44 px tall and as wide as its words.
    let smallest = c.run(c.client().execute(
        "return Math.min(...Array.from(document.querySelectorAll('.roll .choices label')).map(l => l.getBoundingClientRect().height));",
        vec![],
    ))?;
    ensure!(
        smallest.as_f64().is_some_and(|h| h >= 44.0),
        "choices are large targets: {smallest}"
    );
    for (reg, mark) in regs.iter().zip(marks) {
        // A tap on the choice's words, as a finger would.
        c.click(&format!(
            "fieldset[data-registration=\"{reg}\"] input[value=\"{mark}\"]"
        ))?;
    }
    if phone {
        c.assert_no_sideways_scroll()?;
    }
    c.shot(&format!("office-roll-call{suffix}.png"))?;
    c.click_and_load("#roll-call button[type=submit]")?;
    c.wait_for("#saved")?;
    let html = c.html()?;
    for (reg, mark) in regs.iter().zip(marks) {
        let card = html
            .split(&format!("data-registration=\"{reg}\""))
            .nth(1)
            .and_then(|rest| rest.split("</fieldset>").next())
            .context("the person's card")?;
        ensure!(
            card.contains(&format!("value=\"{mark}\" checked")),
            "{mark} saved and shown for {reg}"
        );
    }
    Ok(regs)
}

fn kiosk_mark(kiosk: &Mutex<Kiosk>, session: &str, reg: &str) -> Result<Option<AttendanceStatus>> {
    let call = kiosk
        .lock()
        .expect("kiosk")
        .roll_call(session.parse::<SessionId>()?)?;
    Ok(call
        .entries
        .iter()
        .find(|e| e.registration_id.to_string() == reg)
        .context("on the kiosk's roll call")?
        .mark)
}

/// On the PostgreSQL store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn an_instructor_takes_the_roll_call_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Postgres), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("kiosk"))?;
    add_staff(&data, "koordynator", "organizer", None)?;
    add_staff_with(
        &data,
        "anna",
        "Anna Wiśniewska",
        "instructor",
        Some(&mal),
        PASSWORD,
    )?;
    let org = Office::login(&server.url(), "koordynator", PASSWORD)?;
    let (desk_class, desk_session) =
        class_with_people(&org, &mal, "Gimnastyka", ["Zawada", "Łapińska", "Lis"])?;
    let (phone_class, phone_session) = class_with_people(
        &org,
        &mal,
        "Zdrowy kręgosłup dla seniorów i seniorek",
        ["Żak", "Ćwik", "Szczepańska-Wiśniewska"],
    )?;
    sync(&kiosk)?;
    sync(&kiosk)?;

    let desktop = Browser::desktop(&server.url())?;
    let desk_marks = ["present", "absent", "excused"];
    let desk_regs = walk(&desktop, &desk_class, &desk_session, desk_marks, "", false)?;
    let phone = Browser::phone(&server.url())?;
    let phone_marks = ["excused", "present", "present"];
    let phone_regs = walk(
        &phone,
        &phone_class,
        &phone_session,
        phone_marks,
        "-phone",
        true,
    )?;

    // The office's export has the marks.
    for class in [&desk_class, &phone_class] {
        let csv = String::from_utf8(
            org.get(&format!("/office/export/attendance/{class}"))?
                .bytes()?
                .to_vec(),
        )?;
        ensure!(
            csv.contains("obecny") && csv.contains("usprawiedliwiony"),
            "{csv}"
        );
    }
    // A kiosk that syncs shows them in its roll call.
    sync(&kiosk)?;
    sync(&kiosk)?;
    for (session, regs, marks) in [
        (&desk_session, &desk_regs, desk_marks),
        (&phone_session, &phone_regs, phone_marks),
    ] {
        for (reg, mark) in regs.iter().zip(marks) {
            let want = AttendanceStatus::from_code(mark).context("a status")?;
            ensure!(
                kiosk_mark(&kiosk, session, reg)? == Some(want),
                "the kiosk has {mark} for {reg}"
            );
        }
    }
    Ok(())
}
