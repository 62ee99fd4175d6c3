//! The office pages reached only by sending a form, and the daily actions, clicked in a
//! real headless Chromium at 1366×900 and at 390×844 with mobile emulation: the waiting
//! list's phone numbers, "is this the same person?", a refused phone registration that
//! keeps what was typed, a seat confirmed by hand while the pool is full (refused), a
//! registration cancelled (its seat goes to the first person waiting), a capacity below
//! the confirmed count, a session added with warnings then cancelled, restored and
//! deleted, a request's PESEL, a refused status change, a refused branch. Each page
//! declares a viewport, keeps the menu and does not scroll sideways. Then markup typed
//! into session, attendance, branch, kiosk staff and request fields comes back as text
//! on every page that shows it, and no alert ever opens.

use anyhow::{Context, Result, ensure};

use blisko_kiosk::kiosk::IntakeForm;
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff, data_attrs, location};
use blisko_tests::{Backend, backend_or_first};

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "\"><img src=x onerror=alert(1)>";
const SCRIPT_ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";
const PESEL: &str = "44051401359";

/// Fails when a JavaScript alert is open (markup typed into a field ran).
fn no_alert(c: &Browser) -> Result<()> {
    if let Ok(text) = c.run(c.client().get_alert_text()) {
        anyhow::bail!("an alert opened: {text:?}");
    }
    Ok(())
}

/// A page reached by a form: once it shows `needle`, it declares a viewport, keeps the
/// menu, does not scroll sideways and opened no alert; its HTML.
fn check(c: &Browser, what: &str, needle: &str) -> Result<String> {
    let html = c
        .wait_for_html(needle)
        .with_context(|| format!("{what}: {needle}"))?;
    ensure!(
        html.contains("name=\"viewport\""),
        "{what}: no viewport meta"
    );
    ensure!(html.contains("<nav"), "{what}: no menu");
    c.wait_for("header.top nav")
        .with_context(|| format!("{what}: the menu"))?;
    c.assert_no_sideways_scroll()
        .with_context(|| what.to_owned())?;
    no_alert(c)?;
    Ok(html)
}

/// Set a field's value as the browser's own picker would.
fn set_value(c: &Browser, css: &str, value: &str) -> Result<()> {
    c.run(c.client().execute(
        "document.querySelector(arguments[0]).value = arguments[1];",
        vec![css.into(), value.into()],
    ))
    .with_context(|| format!("set {css}"))?;
    Ok(())
}

/// The part of `html` inside the element `id` (up to its table's end).
fn table<'a>(html: &'a str, id: &str) -> &'a str {
    let Some(start) = html.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let rest = &html[start..];
    &rest[..rest.find("</table>").unwrap_or(rest.len())]
}

fn new_class(office: &Office, branch: &str, title: &str, capacity: &str) -> Result<String> {
    let created = office.post(
        "/office/classes",
        &[
            ("branch", branch),
            ("title", title),
            ("capacity", capacity),
            ("waitlist_limit", "5"),
        ],
    )?;
    ensure!(created.status().as_u16() == 303, "{}", created.status());
    Ok(location(&created)?
        .rsplit('/')
        .next()
        .context("class id")?
        .to_owned())
}

fn phone_register(
    office: &Office,
    class: &str,
    given: &str,
    family: &str,
    year: &str,
    phone: &str,
) -> Result<()> {
    let response = office.post(
        &format!("/office/classes/{class}/daily/register"),
        &[
            ("given", given),
            ("family", family),
            ("birth_year", year),
            ("phone", phone),
            ("clause", "1"),
            ("new_person", "1"),
        ],
    )?;
    ensure!(
        response.status().as_u16() == 303,
        "{given} {family}: {}",
        response.status()
    );
    Ok(())
}

/// One pass through the form-only pages and the daily actions; `suffix` names the
/// screenshots.
fn pass(c: &Browser, office: &Office, mal: &str, request: &str, suffix: &str) -> Result<()> {
    let class = new_class(office, mal, &format!("Brydż{suffix}"), "2")?;
    phone_register(office, &class, "Anna", "Nowak", "1950", "600100200")?;
    phone_register(office, &class, "Zofia", "Lis", "1951", "")?;
    phone_register(office, &class, "Halina", "Wójcik", "1952", "600300400")?;
    let daily = format!("/office/classes/{class}/daily");

    // The waiting list's phone numbers.
    c.goto(&daily)?;
    c.wait_for("#phones-form")?;
    c.click_and_load("#phones-form button")?;
    let html = check(c, "phones", "id=\"phones\"")?;
    let phones = table(&html, "phones");
    ensure!(
        phones.contains("Wójcik Halina") && phones.contains("href=\"tel:"),
        "the waiting person's number: {phones}"
    );
    ensure!(!phones.contains("Nowak"), "only the waiting list");
    c.shot(&format!("office-form-phones{suffix}.png"))?;

    // The same name and year again: "is this the same person?".
    c.goto(&daily)?;
    c.wait_for("#phone-form")?;
    c.fill("#phone-form input[name=given]", "Anna")?;
    c.fill("#phone-form input[name=family]", "Nowak")?;
    c.fill("#phone-form input[name=birth_year]", "1950")?;
    c.click("#phone-form input[name=clause]")?;
    c.click_and_load("#phone-form button")?;
    let html = check(c, "matches", "id=\"matches\"")?;
    ensure!(html.contains("Czy to ta sama osoba?"));
    ensure!(table(&html, "matches").contains("Nowak Anna"));
    ensure!(
        html.contains("id=\"new-person\""),
        "a new person can be chosen"
    );
    c.shot(&format!("office-form-matches{suffix}.png"))?;

    // A refused phone registration (the clause not ticked): the daily page again, with
    // what was typed.
    c.goto(&daily)?;
    c.wait_for("#phone-form")?;
    c.fill("#phone-form input[name=given]", "Ida")?;
    c.fill("#phone-form input[name=family]", "Kosińska")?;
    c.fill("#phone-form input[name=birth_year]", "1949")?;
    c.fill("#phone-form input[name=phone]", "600 700 800")?;
    c.click_and_load("#phone-form button")?;
    let html = check(c, "refused registration", "id=\"phone-refused\"")?;
    for kept in [
        "value=\"Ida\"",
        "value=\"Kosińska\"",
        "value=\"1949\"",
        "value=\"600 700 800\"",
    ] {
        ensure!(html.contains(kept), "kept: {kept}");
    }
    ensure!(html.contains("klauzul"), "the refusal says why");
    c.shot(&format!("office-form-phone-refused{suffix}.png"))?;

    // While the pool is full, a waiting person is not offered a seat by hand.
    c.goto(&daily)?;
    let html = c.wait_for_html("brak wolnego miejsca w puli")?;
    ensure!(
        !html.contains("/confirm/"),
        "no seat button without a free pool seat"
    );

    // Cancelling a registration, through its confirmation: the freed pool seat goes to
    // the first person waiting at once (so a waiting person and a free pool seat never
    // stay side by side for "Potwierdź miejsce").
    c.goto(&daily)?;
    c.wait_for("#daily-confirmed tbody tr a")?;
    c.click_and_load("#daily-confirmed tbody tr a")?;
    let html = check(c, "cancel confirmation", "id=\"cancel-form\"")?;
    ensure!(html.contains("Anulować zapis?") && html.contains("Lis Zofia"));
    c.shot(&format!("office-form-cancel{suffix}.png"))?;
    c.click_and_load("#cancel-form button")?;
    let html = c.wait_for_html("Lista rezerwowa (0)")?;
    let confirmed = table(&html, "daily-confirmed");
    ensure!(
        confirmed.contains("Wójcik Halina") && !confirmed.contains("Lis Zofia"),
        "cancelled, and the waiting person has the seat: {confirmed}"
    );
    ensure!(html.contains("id=\"pool-free\""));

    // A capacity below the confirmed count asks first.
    c.goto(&format!("/office/classes/{class}"))?;
    let edit = format!("form.stack[action=\"/office/classes/{class}\"]");
    c.wait_for(&edit)?;
    c.fill(&format!("{edit} input[name=capacity]"), "1")?;
    c.click_and_load(&format!("{edit} button"))?;
    let html = check(c, "capacity below confirmed", "id=\"capacity-warning\"")?;
    ensure!(html.contains("id=\"capacity-confirm\""));
    c.shot(&format!("office-form-capacity{suffix}.png"))?;
    c.click("#capacity-confirm input[name=accept_over]")?;
    c.click_and_load("#capacity-confirm button")?;
    c.wait_for_html("miejsca: 1")
        .context("the capacity lowered after the confirmation")?;

    // A session on a past date: "Proszę sprawdzić", then added anyway.
    c.goto(&daily)?;
    c.wait_for("#add-session")?;
    set_value(c, "#add-session input[name=date]", "2026-01-08")?;
    set_value(c, "#add-session input[name=start]", "10:00")?;
    c.click_and_load("#add-session button")?;
    let html = check(c, "session warning", "id=\"warnings\"")?;
    ensure!(html.contains("Proszę sprawdzić") && html.contains("już minęła"));
    c.shot(&format!("office-form-session-warning{suffix}.png"))?;
    c.click_and_load("#confirm-session button")?;
    let row = "#daily-sessions tr[data-date=\"2026-01-08\"]";
    c.wait_for(&format!("{row}[data-cancelled=\"false\"]"))?;
    // Cancelled, restored, deleted, each with its button.
    c.click_and_load(&format!("{row} form[action$=\"/cancel\"] button"))?;
    c.wait_for(&format!("{row}[data-cancelled=\"true\"]"))?;
    ensure!(table(&c.html()?, "daily-sessions").contains("odwołane"));
    c.assert_no_sideways_scroll()?;
    c.click_and_load(&format!("{row} form[action$=\"/restore\"] button"))?;
    c.wait_for(&format!("{row}[data-cancelled=\"false\"]"))?;
    c.click_and_load(&format!("{row} form[action$=\"/delete\"] button"))?;
    c.wait_for("#daily-sessions")?;
    ensure!(
        !c.html()?.contains("data-date=\"2026-01-08\""),
        "the session is deleted"
    );

    // A request's PESEL, shown on request.
    c.goto(&format!("/office/requests/{request}"))?;
    c.wait_for("#status-form")?;
    if c.html()?.contains("id=\"take\"") {
        c.click_and_load("#take")?;
    }
    c.wait_for("#pesel button")?;
    c.click_and_load("#pesel button")?;
    let html = check(c, "PESEL", "class=\"pesel\"")?;
    ensure!(html.contains(PESEL), "the PESEL shown");
    c.shot(&format!("office-form-pesel{suffix}.png"))?;
    // A refused status change keeps what was typed.
    c.goto(&format!("/office/requests/{request}"))?;
    c.wait_for("#status-form")?;
    c.select("select[name=status]", "rejected")?;
    c.fill("textarea[name=note]", &format!("Notatka {SCRIPT}"))?;
    c.fill(
        "textarea[name=resident_message]",
        &format!("Wiadomość {IMG}"),
    )?;
    c.click_and_load("#status-form button")?;
    let html = check(c, "refused status", "id=\"refusal\"")?;
    ensure!(html.contains(&format!("Notatka {SCRIPT_ESCAPED}")), "kept");
    ensure!(!html.contains(SCRIPT) && !html.contains("<img src=x"));
    c.shot(&format!("office-form-status-refused{suffix}.png"))?;

    // A refused branch keeps what was typed.
    c.goto("/office/branches")?;
    c.wait_for("#branch-form")?;
    c.fill("#branch-form input[name=code]", "MAL")?;
    c.fill("#branch-form input[name=name]", "Punkt przy Rynku")?;
    c.fill("#branch-form input[name=address]", "Rynek 1")?;
    c.fill("#branch-form input[name=opening_hours]", "pon.–pt. 9–15")?;
    c.click_and_load("#branch-form button")?;
    let html = check(c, "refused branch", "id=\"branch-refused\"")?;
    ensure!(
        html.contains("value=\"Punkt przy Rynku\"") && html.contains("value=\"Rynek 1\""),
        "kept"
    );
    ensure!(html.contains("MAL"), "the refusal names the code");
    c.shot(&format!("office-form-branch-refused{suffix}.png"))?;
    Ok(())
}

/// A request with a PESEL for each pass.
fn requests_with_pesel(
    server: &ServerProcess,
    mal: &str,
    dir: &std::path::Path,
) -> Result<Vec<String>> {
    let a = enroll_kiosk(server, mal, dir)?;
    sync(&a)?;
    let service = a
        .lock()
        .expect("kiosk")
        .services()?
        .into_iter()
        .find(|s| s.requires_pesel)
        .context("a PESEL service")?
        .id
        .to_string();
    let mut ids = Vec::new();
    for given in ["Józef", "Jerzy"] {
        let receipt = a.lock().expect("kiosk").submit_intake(&IntakeForm {
            service_id: service.clone(),
            given_name: given.into(),
            family_name: "Łęcki".into(),
            birth_year: 1944,
            description: "Proszę o pomoc.".into(),
            pesel: Some(PESEL.into()),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
        ids.push(receipt.request_id.to_string());
    }
    sync(&a)?;
    Ok(ids)
}

/// On the SQLite store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn form_pages_and_daily_actions_in_a_browser_on_a_desktop_and_a_phone() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Sqlite), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    add_staff(&data, "admin", "office_admin", None)?;
    let office = Office::login(&server.url(), "admin", PASSWORD)?;
    let requests = requests_with_pesel(&server, &mal, &tmp.path().join("k"))?;
    office.page("/office/requests")?;

    let desktop = Browser::desktop(&server.url())?;
    desktop.login("admin")?;
    pass(&desktop, &office, &mal, &requests[0], "")?;
    drop(desktop);

    let phone = Browser::phone(&server.url())?;
    ensure!(phone.width == 390, "a phone-sized screen");
    phone.login("admin")?;
    pass(&phone, &office, &mal, &requests[1], "-phone")?;
    Ok(())
}

/// `html` shows neither payload as markup.
fn escaped(html: &str, what: &str) -> Result<()> {
    ensure!(
        !html.contains(SCRIPT) && !html.contains("<img src=x"),
        "{what}: markup came back as markup"
    );
    Ok(())
}

/// On the PostgreSQL store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn markup_typed_into_office_fields_comes_back_as_text() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Postgres), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    add_staff(&data, "admin", "office_admin", None)?;
    let office = Office::login(&server.url(), "admin", PASSWORD)?;
    let requests = requests_with_pesel(&server, &mal, &tmp.path().join("k"))?;
    office.page("/office/requests")?;
    let c = Browser::desktop(&server.url())?;
    c.login("admin")?;
    // The alert check itself sees an alert that opens.
    c.run(
        c.client()
            .execute("setTimeout(() => alert('probe'), 0);", vec![]),
    )?;
    std::thread::sleep(std::time::Duration::from_millis(300));
    ensure!(no_alert(&c).is_err(), "an open alert is noticed");
    c.run(c.client().dismiss_alert())?;
    no_alert(&c)?;

    // A branch whose every field is markup, added in the browser.
    c.goto("/office/branches")?;
    c.wait_for("#branch-form")?;
    c.fill("#branch-form input[name=code]", "XSS")?;
    c.fill("#branch-form input[name=name]", SCRIPT)?;
    c.fill("#branch-form input[name=address]", IMG)?;
    c.fill("#branch-form input[name=opening_hours]", SCRIPT)?;
    c.fill("#branch-form textarea[name=help]", IMG)?;
    c.click_and_load("#branch-form button")?;
    let html = c.wait_for_html(SCRIPT_ESCAPED)?;
    escaped(&html, "the new branch")?;
    no_alert(&c)?;
    let xss = branch_id(&data, "XSS")?;
    c.goto("/office/branches")?;
    let html = c.wait_for_html(SCRIPT_ESCAPED)?;
    escaped(&html, "the branch list")?;
    no_alert(&c)?;
    // A kiosk staff person named with markup, in the browser and over HTTP.
    c.goto(&format!("/office/branches/{xss}"))?;
    c.wait_for("#kiosk-staff-form")?;
    c.fill("#kiosk-staff-form input[name=name]", IMG)?;
    c.fill("#kiosk-staff-form input[name=pin]", "4821")?;
    c.click_and_load("#kiosk-staff-form button")?;
    let html = c.wait_for_html("id=\"kiosk-staff-list\"")?;
    escaped(&html, "the kiosk staff list")?;
    ensure!(
        table(&html, "kiosk-staff-list").contains("&quot;&gt;&lt;img src=x")
            || table(&html, "kiosk-staff-list").contains("\"&gt;&lt;img src=x"),
        "the name is listed as text"
    );
    no_alert(&c)?;
    let added = office.post(
        &format!("/office/branches/{xss}/staff"),
        &[("name", SCRIPT), ("role", "branch_staff"), ("pin", "7351")],
    )?;
    let code = added.status().as_u16();
    ensure!(code == 303 || code == 400, "{code}");
    escaped(&added.text()?, "the kiosk staff answer")?;
    escaped(
        &office.page(&format!("/office/branches/{xss}"))?,
        "the branch page",
    )?;

    // The branch's name and address on class pages and a registration receipt.
    let class = new_class(&office, &xss, "Szachy", "3")?;
    let registered = office.post(
        &format!("/office/classes/{class}/daily/register"),
        &[
            ("given", "Ewa"),
            ("family", "Mazur"),
            ("birth_year", "1950"),
            ("clause", "1"),
            ("new_person", "1"),
        ],
    )?;
    ensure!(registered.status().as_u16() == 303);
    let receipt = location(&registered)?;
    for path in [
        "/office/classes".to_owned(),
        format!("/office/classes/{class}"),
        format!("/office/classes/{class}/daily"),
        receipt,
    ] {
        c.goto(&path)?;
        c.wait_for("h1").with_context(|| path.clone())?;
        escaped(&c.html()?, &path)?;
        no_alert(&c)?;
    }

    // Session fields are checked: markup is refused and not echoed.
    let daily = format!("/office/classes/{class}/daily");
    for payload in [SCRIPT, IMG] {
        for (path, fields) in [
            (
                format!("{daily}/sessions"),
                vec![("date", payload), ("start", "10:00"), ("minutes", "60")],
            ),
            (
                format!("{daily}/sessions"),
                vec![
                    ("date", "2026-12-10"),
                    ("start", payload),
                    ("minutes", "60"),
                ],
            ),
            (
                format!("{daily}/sessions"),
                vec![
                    ("date", "2026-12-10"),
                    ("start", "10:00"),
                    ("minutes", payload),
                ],
            ),
            (
                format!("{daily}/sessions/generate"),
                vec![
                    ("from", payload),
                    ("to", "2026-12-31"),
                    ("weekday", "1"),
                    ("start", "10:00"),
                    ("minutes", "60"),
                ],
            ),
            (
                format!("{daily}/sessions/generate"),
                vec![
                    ("from", "2026-12-01"),
                    ("to", "2026-12-31"),
                    ("weekday", payload),
                    ("start", payload),
                    ("minutes", "60"),
                ],
            ),
            (
                format!("/office/classes/{class}/sessions"),
                vec![
                    ("date", "2026-12-10"),
                    ("start", payload),
                    ("minutes", "60"),
                ],
            ),
        ] {
            let response = office.post(&path, &fields)?;
            ensure!(
                response.status().as_u16() == 400,
                "{path} {fields:?}: {}",
                response.status()
            );
            escaped(&response.text()?, &path)?;
        }
    }
    // The same in the browser: the start field made a text field and given markup.
    c.goto(&daily)?;
    c.wait_for("#add-session")?;
    c.run(c.client().execute(
        "const f = document.querySelector('#add-session');
         f.noValidate = true;
         const s = f.querySelector('input[name=start]'); s.type = 'text'; s.value = arguments[0];
         f.querySelector('input[name=date]').value = '2026-12-10';",
        vec![SCRIPT.into()],
    ))?;
    c.click_and_load("#add-session button")?;
    let html = c.wait_for_html("GG:MM")?;
    escaped(&html, "the refused session")?;
    no_alert(&c)?;
    ensure!(
        !office.page(&daily)?.contains("data-date=\"2026-12-10\""),
        "nothing was added"
    );

    // The paper attendance grid: markup as a cell's name or value is refused, not echoed.
    let added = office.post(
        &format!("{daily}/sessions"),
        &[
            ("date", "2026-01-08"),
            ("start", "10:00"),
            ("minutes", "60"),
            ("confirm", "1"),
        ],
    )?;
    ensure!(added.status().as_u16() == 303);
    let grid = office.page(&format!("{daily}/attendance"))?;
    let session = data_attrs(&office.page(&daily)?, "session")
        .into_iter()
        .next()
        .context("the session")?;
    let registration = data_attrs(&grid, "registration")
        .into_iter()
        .next()
        .context("a registration on the grid")?;
    for payload in [SCRIPT, IMG] {
        for (name, value) in [
            (format!("m_{session}_{registration}"), payload.to_owned()),
            (format!("m_{payload}_{registration}"), "present".to_owned()),
            (format!("m_{session}_{payload}"), "present".to_owned()),
            (format!("m_{payload}"), "present".to_owned()),
        ] {
            let response = office.post(
                &format!("{daily}/attendance"),
                &[(name.as_str(), value.as_str())],
            )?;
            ensure!(
                response.status().as_u16() == 400,
                "{name}={value}: {}",
                response.status()
            );
            escaped(&response.text()?, &name)?;
        }
    }
    // In the browser: a select given an option whose value is markup.
    c.goto(&format!("{daily}/attendance"))?;
    c.wait_for("#grid select")?;
    c.run(c.client().execute(
        "const s = document.querySelector('#grid select');
         const o = document.createElement('option'); o.value = arguments[0]; o.text = 'x';
         s.appendChild(o); s.value = arguments[0];",
        vec![IMG.into()],
    ))?;
    c.click_and_load("#grid button")?;
    let html = c.wait_for_html("obecny, nieobecny")?;
    escaped(&html, "the refused grid")?;
    no_alert(&c)?;

    // A request's note and message to the resident, saved, shown as text.
    let request = &requests[0];
    c.goto(&format!("/office/requests/{request}"))?;
    c.wait_for("#status-form")?;
    c.select("select[name=status]", "more_information_needed")?;
    c.fill("textarea[name=note]", &format!("Notatka {SCRIPT}"))?;
    c.fill(
        "textarea[name=resident_message]",
        &format!("Wiadomość {IMG}"),
    )?;
    c.click_and_load("#status-form button")?;
    let html = c.wait_for_html("id=\"resident-message\"")?;
    ensure!(!html.contains("id=\"refusal\""), "saved");
    ensure!(
        html.contains("Wiadomość \"&gt;&lt;img src=x onerror=alert(1)&gt;")
            || html.contains("Wiadomość &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
        "the message as text"
    );
    escaped(&html, "the request page")?;
    no_alert(&c)?;
    for path in [
        "/office/requests".to_owned(),
        format!("/office/requests?q={}", "%C5%81%C4%99cki"),
        "/office/audit".to_owned(),
        format!("/office/branches/{xss}"),
    ] {
        c.goto(&path)?;
        c.wait_for("header.top nav").with_context(|| path.clone())?;
        escaped(&c.html()?, &path)?;
        no_alert(&c)?;
    }
    // The audit log names the branch and staff changes: as text.
    let audit = office.page("/office/audit")?;
    escaped(&audit, "the audit log")?;
    ensure!(
        audit.contains(SCRIPT_ESCAPED),
        "the audit log shows the branch's name, escaped"
    );
    Ok(())
}
