//! The staff pages in a real browser (headless Chromium), at desktop and phone size: an
//! office admin adds an account and sees its temporary password once, opens the account,
//! and the new person logs in, is sent to the password page and sets their own password.
//! No page scrolls sideways on a phone; names with markup come back escaped.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id};
use blisko_tests::office::{add_staff, data_attrs};
use blisko_tests::{Backend, backend_or_first};

const XSS: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";

/// Wait (up to 10 s) until the page holds `text`.
fn wait_until(browser: &Browser, text: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !browser.html()?.contains(text) {
        ensure!(Instant::now() < deadline, "the page never showed {text:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// On the phone, no page may scroll sideways (the desktop window is wider than the
/// headless screen, so the check means something only with the phone's emulation).
fn no_sideways_scroll(browser: &Browser, size: &str) -> Result<()> {
    if size == "phone" {
        browser.assert_no_sideways_scroll()?;
    }
    Ok(())
}

fn walk(browser: &Browser, size: &str, branch: &str) -> Result<()> {
    let login = format!("ewa-{size}");
    browser.login("admin")?;
    browser.goto("/office/staff")?;
    browser.wait_for("table#staff")?;
    browser.shot(&format!("office-staff-{size}.png"))?;
    no_sideways_scroll(browser, size)?;

    browser.fill("form.staff-form input[name=login]", &login)?;
    browser.fill("form.staff-form input[name=name]", XSS)?;
    browser.select("form.staff-form select[name=role]", "organizer")?;
    browser.select("form.staff-form select[name=branch]", branch)?;
    browser.click("form.staff-form button")?;
    browser.wait_for(".temp-password")?;
    let html = browser.html()?;
    let password = data_attrs(&html, "password")
        .into_iter()
        .next()
        .context("the temporary password")?;
    ensure!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped name"
    );
    ensure!(!html.contains("<img src=\"x\""), "no injected image");
    browser.shot(&format!("office-staff-password-shown-{size}.png"))?;
    no_sideways_scroll(browser, size)?;

    browser.click_link("Wróć do listy pracowników")?;
    browser.wait_for(&format!("tr[data-staff='{login}'] a"))?;
    browser.click(&format!("tr[data-staff='{login}'] a"))?;
    browser.wait_for("form.staff-form select[name=role]")?;
    let detail = browser.html()?;
    ensure!(
        !detail.contains("<script>alert(1)"),
        "escaped on the account page"
    );
    browser.shot(&format!("office-staff-account-{size}.png"))?;
    no_sideways_scroll(browser, size)?;
    browser.fill("form.staff-form input[name=name]", "Ewa Nowak")?;
    browser.click("form.staff-form button")?;
    wait_until(browser, "<h1>Ewa Nowak</h1>")?;

    // Log out; the new person logs in and must set a password first.
    browser.click("header.top form button")?;
    browser.wait_for("form.login")?;
    browser.login_with(&login, &password)?;
    ensure!(
        browser.path()? == "/office/password",
        "sent to the password page"
    );
    browser.goto("/office/classes")?;
    browser.wait_for("form.staff-form input[name=current]")?;
    ensure!(
        browser.path()? == "/office/password",
        "kept on the password page"
    );
    browser.shot(&format!("office-password-{size}.png"))?;
    no_sideways_scroll(browser, size)?;
    browser.fill("input[name=current]", &password)?;
    browser.fill("input[name=new]", "ewa-wlasne-haslo-2026")?;
    browser.fill("input[name=repeat]", "ewa-wlasne-haslo-2026")?;
    browser.click("form.staff-form button")?;
    browser.wait_for("p.ok")?;
    browser.goto("/office/classes")?;
    browser.wait_for("table#classes")?;
    browser.click("header.top form button")?;
    browser.wait_for("form.login")?;
    Ok(())
}

/// On the SQLite store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn the_staff_pages_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Sqlite), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    add_staff(&data, "admin", "office_admin", None)?;
    walk(&Browser::desktop(&server.url())?, "desktop", &mal)?;
    walk(&Browser::phone(&server.url())?, "phone", "")?;
    Ok(())
}
