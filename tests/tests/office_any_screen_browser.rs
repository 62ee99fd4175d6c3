//! Every office page on phones (390×844 and 360×740, mobile emulation) and on a desktop:
//! a crawler logs in as an office admin, follows every link of the office it finds (so a
//! new page is checked as soon as the menu or a list links to it), and asserts that no
//! page scrolls sideways and that each declares a viewport. On a phone every data table
//! folds into one card per row (a short allow-list says which need not, and why); printed,
//! a page shows its tables as tables and none of its menu, forms or buttons.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::add_staff;
use blisko_tests::{Backend, backend_or_first};

/// Pages the crawler stops at: downloads, log-out and language switches are not pages.
fn is_page(href: &str) -> bool {
    href.starts_with("/office")
        && !href.starts_with("/office/export/")
        && !href.starts_with("/office/lang/")
        && !href.contains(".css")
        && !href.ends_with(".xlsx")
        && !href.ends_with(".csv")
}

/// The office links in a page, without their fragment.
fn links(html: &str) -> Vec<String> {
    html.match_indices("href=\"")
        .filter_map(|(i, m)| html[i + m.len()..].split('"').next())
        .map(|h| {
            h.split('#')
                .next()
                .unwrap_or_default()
                .replace("&amp;", "&")
        })
        .filter(|h| is_page(h))
        .collect()
}

fn register(kiosk: &Mutex<Kiosk>, class: usize, given: &str, family: &str) -> Result<()> {
    let mut k = kiosk.lock().map_err(|_| anyhow::anyhow!("kiosk lock"))?;
    let class_id = k.classes()?.get(class).context("a class")?.id.to_string();
    k.register(&RegistrationForm {
        class_id,
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1946,
        consent: true,
        ..RegistrationForm::default()
    })?;
    Ok(())
}

/// Tables that stay tables on a phone, by id, with the reason.
const UNFOLDED: &[(&str, &str)] = &[(
    "print",
    "the attendance list to print: a phone only previews the paper sheet, its four \
     columns fit 360 px and a card per person would show an empty signature box",
)];

/// On a narrow screen, the data tables (those with a heading row) in `main` of the page
/// shown: each must be folded (its rows laid out as blocks, the heading row hidden) and
/// each cell under a named column labelled; problems as text, one per table.
fn unfolded_tables(browser: &Browser) -> Result<Vec<String>> {
    let found = browser.run(browser.client().execute(
        "return Array.from(document.querySelectorAll('main table')).filter(t => t.tHead).map((t, i) => {
           const heads = Array.from(t.tHead.rows[0] ? t.tHead.rows[0].cells : []).map(c => c.textContent.trim());
           const rows = Array.from(t.tBodies).flatMap(b => Array.from(b.rows));
           const unlabelled = rows.flatMap(r => Array.from(r.cells)
             .filter((c, j) => heads[j] && !(c.getAttribute('data-label') || '').trim())
             .map((c, j) => heads[Array.prototype.indexOf.call(r.cells, c)]));
           return {
             name: t.id || ('table ' + (i + 1) + ' (' + heads.join(' | ') + ')'),
             id: t.id,
             rows: rows.map(r => getComputedStyle(r).display),
             head: getComputedStyle(t.tHead).display,
             unlabelled: Array.from(new Set(unlabelled)),
           };
         });",
        vec![],
    ))?;
    let path = browser.path()?;
    let mut problems = Vec::new();
    for table in found.as_array().context("a list of tables")? {
        let name = table["name"].as_str().unwrap_or("?");
        if UNFOLDED
            .iter()
            .any(|(id, _)| table["id"].as_str() == Some(*id))
        {
            continue;
        }
        let rows: Vec<&str> = table["rows"]
            .as_array()
            .context("the rows' display")?
            .iter()
            .filter_map(|d| d.as_str())
            .collect();
        if table["head"].as_str() != Some("none") || rows.iter().any(|d| *d != "block") {
            problems.push(format!(
                "{path}: {name} does not fold (heading row {}, rows {rows:?})",
                table["head"]
            ));
        }
        let unlabelled = &table["unlabelled"];
        if unlabelled.as_array().is_some_and(|u| !u.is_empty()) {
            problems.push(format!(
                "{path}: {name} has cells with no label under {unlabelled}"
            ));
        }
    }
    Ok(problems)
}

/// Visit every page reachable from the overview (at most `limit`), checking each; on a
/// phone (`folds`), also that its tables fold, every problem of every page in one error.
fn crawl(
    browser: &Browser,
    start: &[String],
    limit: usize,
    folds: bool,
) -> Result<BTreeSet<String>> {
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = start.iter().cloned().collect();
    while let Some(path) = queue.pop_front() {
        // One page per route shape is enough: a second class page adds nothing.
        let shape = path
            .split('/')
            .map(|part| if part.len() > 20 { "{id}" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        if !seen.insert(shape) || seen.len() > limit {
            continue;
        }
        browser.goto(&path)?;
        let html = browser.html()?;
        ensure!(
            html.contains("name=\"viewport\""),
            "{path} declares no viewport"
        );
        browser.assert_no_sideways_scroll()?;
        if folds {
            problems.extend(unfolded_tables(browser)?);
        }
        queue.extend(links(&html));
    }
    ensure!(
        problems.is_empty(),
        "tables that do not fold on a phone:\n{}",
        problems.join("\n")
    );
    Ok(seen)
}

/// What printing the page shown lays out: the display of its menu, forms and buttons
/// (each must be "none") and of its tables and their rows.
fn print_layout(browser: &Browser) -> Result<serde_json::Value> {
    browser.emulate_media("print")?;
    let found = browser.run(browser.client().execute(
        "const shown = sel => Array.from(document.querySelectorAll(sel))
           .filter(e => getComputedStyle(e).display !== 'none')
           .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + e.textContent.trim().slice(0, 30));
         return {
           printing: matchMedia('print').matches,
           hidden: document.querySelectorAll('header.top, nav, form, button').length,
           shown: shown('header.top, nav, form, button'),
           tables: Array.from(document.querySelectorAll('main table')).map(t => getComputedStyle(t).display),
           rows: Array.from(document.querySelectorAll('main table tbody tr')).map(r => getComputedStyle(r).display),
         };",
        vec![],
    ));
    browser.emulate_media("")?;
    Ok(found?)
}

/// Printing the page at `path`: no menu, form or button, and at least one table laid out
/// as a table (with table rows, not cards, even on a phone). `chrome` is how many menu,
/// form and button elements the page has on screen (at least), so the check hides them.
fn assert_prints_as_a_list(browser: &Browser, path: &str, chrome: u64) -> Result<()> {
    browser.goto(path)?;
    let print = print_layout(browser)?;
    ensure!(
        print["printing"] == true,
        "{path}: the print media was not emulated"
    );
    ensure!(
        print["hidden"].as_u64().unwrap_or(0) >= chrome,
        "{path}: fewer than {chrome} menus, forms and buttons to hide: {print}"
    );
    ensure!(
        print["shown"].as_array().is_some_and(|s| s.is_empty()),
        "{path}: printed with its menu, forms or buttons: {}",
        print["shown"]
    );
    let tables = print["tables"].as_array().context("tables")?;
    ensure!(
        !tables.is_empty() && tables.iter().all(|d| d == "table"),
        "{path}: tables not printed as tables: {tables:?}"
    );
    let rows = print["rows"].as_array().context("rows")?;
    ensure!(
        !rows.is_empty() && rows.iter().all(|d| d == "table-row"),
        "{path}: rows not printed as table rows: {rows:?}"
    );
    // Back on screen, the same page folds again: the emulation was the print's alone.
    let screen = browser.run(browser.client().execute(
        "return getComputedStyle(document.querySelector('main table.fold tbody tr') || document.body).display;",
        vec![],
    ))?;
    ensure!(
        screen == "block" || !path.contains("/print"),
        "{path}: on screen again, a folded table shows {screen}"
    );
    Ok(())
}

/// On the PostgreSQL store only (unless `BLISKO_TEST_BACKENDS` leaves it out): the browser
/// tests are too slow to run on both, so half of them run on each.
#[test]
fn every_office_page_fits_a_phone_and_a_desktop() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start_backend(backend_or_first(Backend::Postgres), &data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("k"))?;
    sync(&kiosk)?;
    // Long names and a long title are what pushes a narrow page sideways.
    register(
        &kiosk,
        0,
        "Konstantyna-Walentyna",
        "Szczebrzeszyńska-Chrząszczewska",
    )?;
    register(&kiosk, 0, "Józef", "Łęcki")?;
    register(&kiosk, 1, "Grażyna", "Żak")?;
    let service = kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .services()?
        .into_iter()
        .find(|s| !s.requires_pesel)
        .context("a service")?
        .id
        .to_string();
    kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .submit_intake(&IntakeForm {
            service_id: service,
            given_name: "Józef".into(),
            family_name: "Łęcki".into(),
            birth_year: 1946,
            description: "Proszę o pomoc w dojeździe na rehabilitację, która odbywa się \
                          trzy razy w tygodniu w przychodni przy ulicy Długiej."
                .into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?;
    sync(&kiosk)?;
    add_staff(&data, "admin", "office_admin", None)?;
    let start = vec!["/office".to_owned(), "/office/persons?q=Łęcki".to_owned()];

    let phone = Browser::phone(&server.url())?;
    ensure!(phone.width == 390, "a phone-sized screen");
    phone.login("admin")?;
    let pages = crawl(&phone, &start, 60, true)?;
    // The menu's pages and at least one page of each kind of object were reached.
    for needed in [
        "/office/classes",
        "/office/requests",
        "/office/persons",
        "/office/reconcile",
        "/office/charts",
    ] {
        ensure!(
            pages.contains(needed),
            "the crawler did not reach {needed}: {pages:?}"
        );
    }
    ensure!(
        pages.iter().any(|p| p.starts_with("/office/classes/{id}")),
        "a class page: {pages:?}"
    );
    ensure!(
        pages.iter().any(|p| p.starts_with("/office/requests/{id}")),
        "a request page: {pages:?}"
    );
    eprintln!("{} kinds of page fit a phone: {pages:?}", pages.len());
    phone.goto("/office/classes")?;
    phone.shot("office-phone-classes.png")?;

    // Printed from a phone: the class page and its session's attendance list.
    // The class with people on its roster, so that its list has rows to print.
    let mut with_roster = None;
    for class in links(&phone.html()?)
        .into_iter()
        .filter(|l| l.starts_with("/office/classes/") && l.len() > 30)
    {
        phone.goto(&class)?;
        let html = phone.html()?;
        if html.contains("data-status=\"confirmed\"") {
            with_roster = Some((class, html));
            break;
        }
    }
    let (class, html) = with_roster.context("a class with a roster")?;
    let print_list = links(&html)
        .into_iter()
        .find(|l| l.ends_with("/print"))
        .context("a session's printable list on the class page")?;
    // The paper-attendance grid (person × session) of a class with a roster folds too:
    // a card per person, a labelled choice per session.
    // The demo's sessions are all to come; one held last month gives the grid a column.
    phone.goto(&format!("{class}/daily"))?;
    let held = jiff::Zoned::now()
        .date()
        .checked_sub(jiff::Span::new().days(30))?;
    phone.run(phone.client().execute(
        "const f = document.querySelector('#add-session');
         f.querySelector('input[name=date]').value = arguments[0];
         f.querySelector('input[name=start]').value = '10:00';",
        vec![serde_json::json!(held.to_string())],
    ))?;
    phone.click_and_load("#add-session button[type=submit]")?;
    // The office asks before adding a session in the past.
    phone.click_and_load("#confirm-session button[type=submit]")?;
    phone.goto(&format!("{class}/daily/attendance"))?;
    phone.wait_for("#grid-table")?;
    let grid = unfolded_tables(&phone)?;
    ensure!(grid.is_empty(), "the attendance grid: {grid:?}");
    phone.shot("office-phone-attendance-grid.png")?;
    assert_prints_as_a_list(&phone, &class, 5)?;
    assert_prints_as_a_list(&phone, &print_list, 0)?;
    drop(phone);

    let small = Browser::small_phone(&server.url())?;
    small.login("admin")?;
    crawl(&small, &start, 60, false)?;
    drop(small);

    let desktop = Browser::desktop(&server.url())?;
    desktop.login("admin")?;
    crawl(&desktop, &start, 60, false)?;
    Ok(())
}
