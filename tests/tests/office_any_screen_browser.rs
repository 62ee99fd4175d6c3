//! Every office page on phones (390×844 and 360×740, mobile emulation) and on a desktop:
//! a crawler logs in as an office admin, follows every link of the office it finds (so a
//! new page is checked as soon as the menu or a list links to it), and asserts that no
//! page scrolls sideways and that each declares a viewport.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Mutex;

use anyhow::{Context, Result, ensure};

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_tests::browser::Browser;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::add_staff;

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

/// Visit every page reachable from the overview (at most `limit`), checking each.
fn crawl(browser: &Browser, start: &[String], limit: usize) -> Result<BTreeSet<String>> {
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
        queue.extend(links(&html));
    }
    Ok(seen)
}

#[test]
fn every_office_page_fits_a_phone_and_a_desktop() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, true)?;
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
    let pages = crawl(&phone, &start, 60)?;
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
    drop(phone);

    let small = Browser::small_phone(&server.url())?;
    small.login("admin")?;
    crawl(&small, &start, 60)?;
    drop(small);

    let desktop = Browser::desktop(&server.url())?;
    desktop.login("admin")?;
    crawl(&desktop, &start, 60)?;
    Ok(())
}
