//! Daily work on the office page in a real browser (headless Chromium), at desktop and
//! phone size: a registration taken on the phone with its printable receipt, the waiting
//! list, the paper attendance grid and the weekly sessions preview; no page scrolls
//! sideways on a phone, and names typed as markup come back as text.

use anyhow::{Context, Result, ensure};

use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id};
use blisko_tests::office::{Office, PASSWORD, add_staff};
use blisko_tests::{Backend, backend_or_first};

const XSS: [&str; 2] = [
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
];

/// Set a date or time field's value as the browser's own picker would (typing into them
/// depends on the browser's locale).
fn set_value(c: &Browser, css: &str, value: &str) -> Result<()> {
    c.run(c.client().execute(
        "document.querySelector(arguments[0]).value = arguments[1];",
        vec![css.into(), value.into()],
    ))
    .with_context(|| format!("set {css}"))?;
    Ok(())
}

/// One pass through the daily pages in `c`; `suffix` names the screenshots.
fn walk(c: &Browser, class: &str, given: &str, suffix: &str, phone: bool) -> Result<()> {
    let daily = format!("/office/classes/{class}/daily");
    c.goto(&daily)?;
    c.wait_for("#phone-form")?;
    if phone {
        c.assert_no_sideways_scroll()?;
    }
    c.shot(&format!("office-daily{suffix}.png"))?;
    c.fill("#phone-form input[name=given]", given)?;
    c.fill("#phone-form input[name=family]", "Wójcik")?;
    c.fill("#phone-form input[name=birth_year]", "1948")?;
    c.fill("#phone-form input[name=phone]", "600 100 200")?;
    c.click("#phone-form input[name=clause]")?;
    c.click("#phone-form button")?;
    c.wait_for("#resident-code")
        .context("the receipt with the resident code")?;
    let receipt = c.html()?;
    ensure!(receipt.contains(given), "the receipt names the person");
    if phone {
        c.assert_no_sideways_scroll()?;
    }
    c.shot(&format!("office-daily-receipt{suffix}.png"))?;

    c.goto(&format!("{daily}/attendance"))?;
    c.wait_for("#grid")?;
    if phone {
        c.assert_no_sideways_scroll()?;
    }
    c.shot(&format!("office-daily-attendance{suffix}.png"))?;
    c.select("#grid select", "present")?;
    c.click_and_load("#grid button")?;
    c.wait_for_html("value=\"present\" selected")
        .context("the mark is saved and shown")?;

    c.goto(&daily)?;
    c.wait_for("#generate input[name=from]")?;
    set_value(c, "#generate input[name=from]", "2026-12-01")?;
    set_value(c, "#generate input[name=to]", "2026-12-31")?;
    c.select("#generate select[name=weekday]", "3")?;
    set_value(c, "#generate input[name=start]", "17:00")?;
    c.click("#generate button")?;
    c.wait_for("#dates")?;
    let preview = c.html()?;
    ensure!(preview.contains("Wigilia"), "the skipped holiday is listed");
    if phone {
        c.assert_no_sideways_scroll()?;
    }
    c.shot(&format!("office-daily-sessions{suffix}.png"))?;
    Ok(())
}

/// On the SQLite store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn daily_work_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Sqlite), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    add_staff(&data, "koordynator", "organizer", None)?;
    let org = Office::login(&server.url(), "koordynator", PASSWORD)?;
    let created = org.post(
        "/office/classes",
        &[
            ("branch", &mal),
            ("title", "Szachy"),
            ("capacity", "1"),
            ("waitlist_limit", "5"),
        ],
    )?;
    let class = created
        .headers()
        .get("location")
        .context("class created")?
        .to_str()?
        .rsplit('/')
        .next()
        .context("class id")?
        .to_owned();
    // A past session for the paper list.
    let added = org.post(
        &format!("/office/classes/{class}/daily/sessions"),
        &[
            ("date", "2026-01-08"),
            ("start", "10:00"),
            ("minutes", "60"),
            ("confirm", "1"),
        ],
    )?;
    ensure!(added.status().as_u16() == 303, "session added");

    let desktop = Browser::desktop(&server.url())?;
    desktop.login("koordynator")?;
    walk(&desktop, &class, "Zofia", "", false)?;

    let phone = Browser::phone(&server.url())?;
    phone.login("koordynator")?;
    walk(&phone, &class, "Halina", "-phone", true)?;
    // The second phone call went on the waiting list; its row is there.
    phone.goto(&format!("/office/classes/{class}/daily"))?;
    phone.wait_for("#daily-waiting")?;
    ensure!(
        phone.html()?.contains("Wójcik Halina"),
        "on the waiting list"
    );

    // Markup typed into the name fields is text on every page that shows it.
    for payload in XSS {
        let response = org.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", payload),
                ("family", payload),
                ("birth_year", "1950"),
                ("clause", "1"),
                ("new_person", "1"),
            ],
        )?;
        let body = match response.status().as_u16() {
            303 => {
                let to = response
                    .headers()
                    .get("location")
                    .context("receipt")?
                    .to_str()?
                    .to_owned();
                org.page(&to)?
            }
            _ => response.text()?,
        };
        ensure!(!body.contains(payload), "escaped: {payload}");
        let daily = org.page(&format!("/office/classes/{class}/daily"))?;
        ensure!(!daily.contains(payload), "escaped on the list: {payload}");
        // The phone field on its own, with a valid name.
        let response = org.post(
            &format!("/office/classes/{class}/daily/register"),
            &[
                ("given", "Ida"),
                ("family", "Nowak"),
                ("birth_year", "1950"),
                ("phone", payload),
                ("clause", "1"),
                ("new_person", "1"),
            ],
        )?;
        ensure!(response.status().as_u16() == 400, "not a phone number");
        ensure!(!response.text()?.contains(payload), "escaped: {payload}");
    }
    Ok(())
}
