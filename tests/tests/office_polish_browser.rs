//! Lists, exports and search in a real browser (headless Chromium), at desktop and phone
//! size: the roster in Polish alphabetical order with CSV and XLSX links, a CSV download
//! with a readable name, and the persons search that ignores diacritics and case.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::RegistrationForm;
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{add_staff, data_attrs};
use blisko_tests::{Backend, backend_or_first};

fn register(kiosk: &Mutex<Kiosk>, class: &str, given: &str, family: &str) -> Result<()> {
    kiosk.lock().expect("kiosk").register(&RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1952,
        consent: true,
        ..RegistrationForm::default()
    })?;
    Ok(())
}

/// Where each of `names` first appears in `html`, in the order they appear.
fn order_in(html: &str, names: &[&str]) -> Vec<String> {
    let mut found: Vec<(usize, String)> = names
        .iter()
        .filter_map(|n| html.find(n).map(|at| (at, (*n).to_owned())))
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

/// On the SQLite store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn roster_and_persons_search_in_polish_at_desktop_and_phone_size() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Sqlite), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let a = enroll_kiosk(&server, &mal, &tmp.path().join("a"))?;
    sync(&a)?;
    let first = a.lock().expect("kiosk").classes()?[0].clone();
    let class = first.id.to_string();
    for (given, family) in [
        ("Zofia", "Żak"),
        ("Adam", "Łukasiewicz"),
        ("Olga", "Ćwiklińska"),
        ("Jan", "Ślązak"),
    ] {
        register(&a, &class, given, family)?;
    }
    sync(&a)?;
    add_staff(&data, "koordynator", "office_admin", None)?;
    // Seats depend on this kiosk's share: the names that got one are in Polish order.
    let expected = [
        "Ćwiklińska Olga",
        "Łukasiewicz Adam",
        "Ślązak Jan",
        "Żak Zofia",
    ];

    for (size, browser) in [
        ("desktop", Browser::desktop(&server.url())?),
        ("phone", Browser::phone(&server.url())?),
    ] {
        browser.login("koordynator")?;
        browser.goto(&format!("/office/classes/{class}"))?;
        browser.wait_for("#roster")?;
        let html = browser.html()?;
        let shown = order_in(&html, &expected);
        ensure!(shown.len() >= 2, "{size}: names on the roster: {shown:?}");
        let mut sorted = shown.clone();
        sorted.sort_by_key(|n| expected.iter().position(|e| e == n));
        ensure!(shown == sorted, "{size}: roster in Polish order: {shown:?}");
        ensure!(html.contains(&format!("/office/export/roster/{class}/xlsx")));
        if size == "phone" {
            browser.assert_no_sideways_scroll()?;
        }
        browser.shot(&format!("office-roster-polish-{size}.png"))?;

        browser.goto("/office/persons")?;
        browser.fill("input[name=q]", "slazak")?;
        browser.click_and_load("form.filters button")?;
        browser.wait_for("#persons")?;
        let html = browser.html()?;
        ensure!(html.contains("Ślązak Jan"), "{size}: slazak finds Ślązak");
        ensure!(data_attrs(&html, "person").len() == 1, "{size}: only him");
        if size == "phone" {
            browser.assert_no_sideways_scroll()?;
        }
        browser.shot(&format!("office-persons-search-{size}.png"))?;

        // XSS through the search box comes back as text.
        for payload in [
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
        ] {
            browser.goto("/office/persons")?;
            browser.fill("input[name=q]", payload)?;
            browser.click_and_load("form.filters button")?;
            browser.wait_for("form.filters")?;
            let html = browser.html()?;
            ensure!(!html.contains(payload), "{size}: escaped");
            ensure!(!html.contains("<img src=\"x\""), "{size}: no image element");
        }

        browser.goto("/office/requests?q=LUKASIEWICZ")?;
        browser.wait_for("#requests")?;
        if size == "phone" {
            browser.assert_no_sideways_scroll()?;
        }
        browser.shot(&format!("office-requests-search-{size}.png"))?;
    }

    // A CSV download at desktop size, with a readable name.
    let browser = Browser::desktop(&server.url())?;
    browser.login("koordynator")?;
    browser.goto(&format!("/office/classes/{class}"))?;
    browser.click(&format!("a[href='/office/export/attendance/{class}']"))?;
    let name = format!(
        "obecnosc-{}-{}.csv",
        first.title.replace(' ', "-"),
        jiff::Zoned::now().date()
    );
    let bytes = browser.download(&name).context("the attendance CSV")?;
    ensure!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM");
    let text = String::from_utf8(bytes[3..].to_vec())?;
    ensure!(
        text.starts_with("zajęcia;data;godzina;osoba;obecność\r\n"),
        "{text}"
    );
    Ok(())
}
