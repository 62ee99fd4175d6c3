//! The office page in a real browser: headless Chromium driven over WebDriver
//! (chromedriver), against a real server with two kiosks that synced. Logs in, sees the
//! merged data, changes a request's status and sees it arrive at the kiosk, resolves an
//! attendance conflict, downloads a CSV, and saves screenshots under docs/screenshots/.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without
//! them the test fails and says so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_shared::ids::{RegistrationId, SessionId};
use blisko_shared::model::AttendanceStatus;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{PASSWORD, add_staff, data_attrs, mark_attendance};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_driver() -> Result<(Driver, u16)> {
    for needed in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(needed).exists() {
            bail!(
                "{needed} is missing: the browser test needs Debian's chromium and chromedriver \
                 (apt-get install -y chromium chromium-driver)"
            );
        }
    }
    let port = free_port()?;
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start chromedriver")?;
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        ensure!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((driver, port))
}

async fn browser(port: u16, profile: &Path, downloads: &Path) -> Result<Client> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            }
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("connect to chromedriver")
}

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

/// Where the screenshots go: `BLISKO_SCREENSHOTS=$PWD/docs/screenshots` refreshes the
/// README's pictures; otherwise a scratch folder, so a test run leaves the tree clean.
fn screenshots() -> PathBuf {
    std::env::var_os("BLISKO_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("blisko-office-{}", std::process::id()))
        })
}

async fn html(c: &Client) -> Result<String> {
    Ok(c.source().await?)
}

async fn fill(c: &Client, css: &str, value: &str) -> Result<()> {
    c.find(Locator::Css(css)).await?.send_keys(value).await?;
    Ok(())
}

async fn click(c: &Client, css: &str) -> Result<()> {
    c.find(Locator::Css(css)).await?.click().await?;
    Ok(())
}

/// The text of element `id` once it reads `expected` (the page may still be loading),
/// or whatever it reads after 10 seconds.
async fn text_of(c: &Client, id: &str, expected: &str) -> Result<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = match c.find(Locator::Id(id)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if got == expected || Instant::now() > deadline {
            return Ok(got);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn path(c: &Client) -> Result<String> {
    Ok(c.current_url().await?.path().to_owned())
}

async fn shot(c: &Client, name: &str) -> Result<()> {
    std::fs::create_dir_all(screenshots())?;
    let png = c.screenshot().await?;
    ensure!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    std::fs::write(screenshots().join(name), png)?;
    Ok(())
}

/// The browser part runs on a runtime of its own; the kiosks' blocking HTTP runs
/// between its steps, outside it.
#[test]
fn the_office_in_a_browser() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, true)?;
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

    let (_driver, port) = start_driver()?;
    let profile = tempfile::tempdir()?;
    let downloads = tempfile::tempdir()?;
    let rt = tokio::runtime::Runtime::new()?;
    let c = rt.block_on(browser(port, profile.path(), downloads.path()))?;
    let base = server.url();
    let result = (|| -> Result<()> {
        // Log in.
        rt.block_on(c.goto(&format!("{base}/office")))?;
        ensure!(rt.block_on(path(&c))? == "/office/login", "sent to log in");
        rt.block_on(fill(&c, "input[name=login]", "koordynator"))?;
        rt.block_on(fill(&c, "input[name=password]", PASSWORD))?;
        rt.block_on(click(&c, "form.login button"))?;
        rt.block_on(
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css("header.top nav")),
        )
        .context("logged in")?;
        ensure!(rt.block_on(path(&c))? == "/office", "logged in");
        let overview = rt.block_on(html(&c))?;
        let row = overview
            .split("data-branch=\"MAL\"")
            .nth(1)
            .context("MAL row")?;
        ensure!(
            row.contains(">4<"),
            "4 registrations from two kiosks in MAL"
        );
        rt.block_on(shot(&c, "office-overview.png"))?;

        // The merged roster.
        rt.block_on(c.goto(&format!("{base}/office/classes/{class}")))?;
        let roster = rt.block_on(html(&c))?;
        for name in [
            "Wójcik Zofia",
            "Łęcki Józef",
            "Żak Grażyna",
            "Kamiński Tadeusz",
        ] {
            ensure!(roster.contains(name), "{name} on the roster");
        }
        rt.block_on(shot(&c, "office-roster.png"))?;

        // The request queue, and a status change that reaches the kiosk.
        rt.block_on(c.goto(&format!("{base}/office/requests")))?;
        rt.block_on(shot(&c, "office-requests.png"))?;
        rt.block_on(async {
            c.find(Locator::LinkText(&intake.reference))
                .await?
                .click()
                .await?;
            c.find(Locator::Css("select[name=status]"))
                .await?
                .select_by_value("in_review")
                .await?;
            Ok::<(), anyhow::Error>(())
        })?;
        rt.block_on(fill(&c, "textarea[name=note]", "Sprawdzić skierowanie."))?;
        rt.block_on(click(&c, "form.stack button"))?;
        let status = rt.block_on(text_of(&c, "status", "w rozpatrzeniu"))?;
        ensure!(status == "w rozpatrzeniu", "status shown: {status}");
        sync(&a)?;
        let seen = a.lock().expect("kiosk").resident(&intake.resident_code)?;
        ensure!(seen.requests[0].status == "in_review", "the kiosk sees it");

        // An attendance conflict from two kiosks, resolved in one click.
        rt.block_on(c.goto(&format!("{base}/office/classes/{class}")))?;
        let sessions = data_attrs(&rt.block_on(html(&c))?, "session");
        let session: SessionId = sessions.first().context("a session")?.parse()?;
        let registration: RegistrationId = reg.parse()?;
        mark_attendance(&a, session, registration, AttendanceStatus::Present)?;
        mark_attendance(&b, session, registration, AttendanceStatus::Excused)?;
        // The page is loaded again until it shows the conflict (a loaded machine may
        // hand back the page before the navigation settled).
        let deadline = Instant::now() + Duration::from_secs(15);
        let listed = loop {
            rt.block_on(c.goto(&format!("{base}/office/reconcile")))?;
            let page = rt.block_on(html(&c))?;
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
        rt.block_on(click(&c, "#conflicts button[value=excused]"))?;
        let resolved = rt.block_on(
            c.wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Id("no-conflicts")),
        );
        ensure!(resolved.is_ok(), "resolved");

        // Download the roster as CSV and read it.
        rt.block_on(c.goto(&format!("{base}/office/classes/{class}")))?;
        rt.block_on(click(
            &c,
            &format!("a[href='/office/export/roster/{class}']"),
        ))?;
        let file = downloads.path().join(format!("roster-{class}.csv"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !file.exists() {
            ensure!(Instant::now() < deadline, "the CSV was not downloaded");
            std::thread::sleep(Duration::from_millis(100));
        }
        let bytes = std::fs::read(&file)?;
        ensure!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM");
        let csv = String::from_utf8(bytes[3..].to_vec())?;
        ensure!(csv.lines().count() == 5, "header and 4 people: {csv}");
        ensure!(csv.contains("Żak Grażyna,potwierdzony"), "{csv}");
        Ok(())
    })();
    let _ = rt.block_on(c.close());
    result
}
