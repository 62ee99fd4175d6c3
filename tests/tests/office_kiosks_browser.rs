//! The kiosks page and the audit log in a real browser (headless Chromium), at desktop and
//! phone size: add a kiosk, print its enrollment sheet, enroll a real kiosk with the code,
//! rename it, revoke it after the confirmation, and filter the audit log; no page scrolls
//! sideways on a phone, and the text fields give back the payloads escaped. Screenshots:
//! office-kiosks.png, office-enroll-sheet.png, office-audit.png.

use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::kiosk::system_clock;
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, setup_key, sync};
use blisko_tests::office::{add_staff, data_attrs};
use blisko_tests::{Backend, backend_or_first};

const XSS_SCRIPT: &str = "<script>alert(1)</script>";
const XSS_IMG: &str = "\"><img src=x onerror=alert(1)>";

fn escaped(html: &str) -> Result<()> {
    ensure!(
        !html.contains(XSS_SCRIPT) && !html.contains("<img src=x"),
        "a payload came back unescaped"
    );
    Ok(())
}

/// Add a kiosk through the form; its code, from the page that shows it.
fn add_kiosk(c: &Browser, branch: &str, name: &str) -> Result<String> {
    c.goto("/office/kiosks")?;
    c.select("#add-kiosk select[name=branch]", branch)?;
    c.fill("#add-kiosk input[name=name]", name)?;
    c.click("#add-kiosk button")?;
    c.wait_for(".enroll-code")
        .with_context(|| format!("the code page: {}", c.html().unwrap_or_default()))?;
    data_attrs(&c.html()?, "code")
        .into_iter()
        .next()
        .context("the code on the page")
}

/// On the PostgreSQL store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn kiosks_and_the_audit_log_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Postgres), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let old = enroll_kiosk(&server, &mal, &tmp.path().join("old"))?;
    sync(&old)?;
    add_staff(&data, "admin", "office_admin", None)?;

    let c = Browser::desktop(&server.url())?;
    c.login("admin")?;
    c.click_link("Kioski")?;
    c.wait_for("#kiosks")?;

    // Add a kiosk: the code large, then the printable sheet with its QR code.
    let code = add_kiosk(&c, &mal, "MAL — hol")?;
    ensure!(c.html()?.contains("MAL — hol (kiosk nr 2)"));
    c.click("#sheet button")?;
    c.wait_for(".enroll-sheet svg")?;
    let sheet = c.html()?;
    ensure!(sheet.contains(&format!("blisko-enroll:{}#{code}", server.url())));
    c.shot("office-enroll-sheet.png")?;

    // A real kiosk enrolls with it and syncs; the list shows it enrolled.
    let dir = tmp.path().join("hol");
    let hol = Mutex::new(blisko_kiosk::sync::enroll(
        &dir,
        &server.url(),
        &code,
        None,
        &setup_key(&dir)?,
        system_clock(),
    )?);
    sync(&hol)?;
    let hol_id = hol.lock().expect("kiosk").identity().kiosk_id.to_string();
    c.goto("/office/kiosks")?;
    c.wait_for(&format!("tr[data-kiosk=\"{hol_id}\"][data-state=enrolled]"))?;
    c.shot("office-kiosks.png")?;

    // Rename (the payloads come back escaped), then the real name.
    let row = format!("tr[data-kiosk=\"{hol_id}\"]");
    for name in [XSS_SCRIPT, XSS_IMG, "MAL — sala 2"] {
        c.fill(&format!("{row} input[name=name]"), name)?;
        c.click_and_load(&format!("{row} form[action$=rename] button"))?;
        c.wait_for("#kiosks")?;
        escaped(&c.html()?)?;
    }
    c.wait_for_html("MAL — sala 2 (kiosk nr 2)")?;
    add_kiosk(&c, &mal, XSS_IMG)?;
    escaped(&c.html()?)?;

    // Revoke after the confirmation; the kiosk's next sync is refused.
    c.goto("/office/kiosks")?;
    c.click(&format!("{row} a.danger-link"))?;
    c.wait_for("#revoke-consequences")?;
    c.click("#revoke input[name=confirm]")?;
    c.click("#revoke button")?;
    c.wait_for(&format!("{row}[data-state=revoked]"))?;
    ensure!(sync(&hol).is_err(), "a revoked kiosk's sync is refused");

    // The audit log: renames by this admin, shown with old and new names.
    c.click_link("Dziennik zdarzeń")?;
    c.wait_for("#audit")?;
    c.select("#audit-filters select[name=what]", "kiosk_rename")?;
    c.click_and_load("#audit-filters button")?;
    c.wait_for("#audit tr[data-action=kiosk_rename]")?;
    let log = c.html()?;
    escaped(&log)?;
    ensure!(
        data_attrs(&log, "action")
            .iter()
            .all(|a| a == "kiosk_rename"),
        "filtered"
    );
    ensure!(log.contains("MAL — hol"), "the old name");
    c.fill("#audit-filters input[name=person]", XSS_SCRIPT)?;
    c.click_and_load("#audit-filters button")?;
    c.wait_for("#audit")?;
    escaped(&c.html()?)?;
    c.goto("/office/audit?what=kiosk_rename")?;
    c.wait_for("#audit")?;
    c.shot("office-audit.png")?;
    drop(c);

    // On a phone: every new page fits the screen.
    let p = Browser::phone(&server.url())?;
    p.login("admin")?;
    let code = add_kiosk(&p, &mal, "MAL — czytelnia")?;
    p.assert_no_sideways_scroll()?;
    ensure!(!code.is_empty());
    p.click("#sheet button")?;
    p.wait_for(".enroll-sheet svg")?;
    p.assert_no_sideways_scroll()?;
    for (path, ready) in [
        ("/office/kiosks".to_owned(), "#kiosks"),
        (format!("/office/kiosks/{hol_id}/revoke"), "main h1"),
        ("/office/audit".to_owned(), "#audit"),
        ("/office/audit?what=kiosk_rename".to_owned(), "#audit"),
    ] {
        p.goto(&path)?;
        p.wait_for(ready)?;
        p.assert_no_sideways_scroll()?;
    }
    Ok(())
}
