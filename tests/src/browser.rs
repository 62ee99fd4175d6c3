//! A real browser for the office page tests: headless Chromium driven over WebDriver
//! (chromedriver), with a blocking API so a test can run kiosks and the server's CLI
//! between its steps.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without
//! them [`Browser::desktop`] fails and says so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::office::PASSWORD;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The desktop window of the office tests.
pub const DESKTOP: (u32, u32) = (1366, 900);
/// A phone held upright (mobile emulation: touch, a device pixel ratio of 3).
pub const PHONE: (u32, u32) = (390, 844);
/// The narrowest screen the office is made for: a small phone.
pub const SMALL_PHONE: (u32, u32) = (360, 740);

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One browser with its own profile and download folder; closed when dropped.
pub struct Browser {
    client: Client,
    rt: tokio::runtime::Runtime,
    downloads: tempfile::TempDir,
    _profile: tempfile::TempDir,
    _driver: Driver,
    /// The server's address, e.g. `http://127.0.0.1:4321`.
    pub base: String,
    /// The width of the screen the page is laid out for.
    pub width: u32,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn start_driver() -> Result<(Driver, u16)> {
    for needed in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(needed).exists() {
            bail!(
                "{needed} is missing: the browser tests need Debian's chromium and chromedriver \
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

impl Browser {
    /// A desktop browser window of [`DESKTOP`] size.
    pub fn desktop(base: &str) -> Result<Browser> {
        Browser::open(base, DESKTOP, false)
    }

    /// A phone: [`PHONE`] size with Chromium's mobile emulation.
    pub fn phone(base: &str) -> Result<Browser> {
        Browser::open(base, PHONE, true)
    }

    /// A small phone: [`SMALL_PHONE`] size with mobile emulation.
    pub fn small_phone(base: &str) -> Result<Browser> {
        Browser::open(base, SMALL_PHONE, true)
    }

    fn open(base: &str, size: (u32, u32), mobile: bool) -> Result<Browser> {
        // A port found free can be taken by another test's chromedriver before this one
        // binds it (tests run in parallel): then the session cannot start, and a new
        // driver on a new port is tried.
        let mut last = None;
        for _ in 0..3 {
            match Browser::open_once(base, size, mobile) {
                Ok(browser) => return Ok(browser),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no browser")))
    }

    fn open_once(base: &str, (width, height): (u32, u32), mobile: bool) -> Result<Browser> {
        let (driver, port) = start_driver()?;
        let profile = tempfile::tempdir()?;
        let downloads = tempfile::tempdir()?;
        let mut options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": {
                "download.default_directory": downloads.path().display().to_string(),
                "download.prompt_for_download": false,
            }
        });
        if mobile {
            options["mobileEmulation"] = json!({
                "deviceMetrics": { "width": width, "height": height, "pixelRatio": 3.0, "touch": true },
                "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36",
            });
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".to_owned(), options);
        let rt = tokio::runtime::Runtime::new()?;
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = rt
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .context("connect to chromedriver")?;
        Ok(Browser {
            client,
            rt,
            downloads,
            _profile: profile,
            _driver: driver,
            base: base.trim_end_matches('/').to_owned(),
            width,
        })
    }

    /// The underlying WebDriver client, for what the helpers here do not cover; run its
    /// futures with [`Browser::run`].
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Send a Chrome DevTools Protocol command (chromedriver's `goog/cdp/execute`), e.g.
    /// `Emulation.setEmulatedMedia`; its result.
    pub fn cdp(&self, cmd: &str, params: serde_json::Value) -> Result<serde_json::Value> {
        self.run(self.client.issue_cmd(Cdp {
            cmd: cmd.to_owned(),
            params,
        }))
        .with_context(|| format!("the DevTools command {cmd}"))
    }

    /// Lay the page out for `media` ("print", "screen"; "" for the default), as the
    /// browser does when printing: the stylesheet's `@media print` rules apply.
    pub fn emulate_media(&self, media: &str) -> Result<()> {
        self.cdp("Emulation.setEmulatedMedia", json!({ "media": media }))?;
        Ok(())
    }

    /// Run a future on the browser's runtime.
    pub fn run<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// Load a path of the server (`/office/...`). A form sent just before may still be
    /// navigating and land after this load: the load is repeated until the browser shows
    /// the path asked for, for up to 3 seconds (a page that redirects elsewhere costs that
    /// much).
    pub fn goto(&self, path: &str) -> Result<()> {
        let wanted = path.split(['?', '#']).next().unwrap_or(path);
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            self.run(self.client.goto(&format!("{}{path}", self.base)))
                .with_context(|| format!("load {path}"))?;
            std::thread::sleep(Duration::from_millis(50));
            let now = self.path()?;
            if now == wanted || Instant::now() > deadline {
                return Ok(());
            }
        }
    }

    /// The page's HTML as it is now.
    pub fn html(&self) -> Result<String> {
        Ok(self.run(self.client.source())?)
    }

    /// The path of the current address.
    pub fn path(&self) -> Result<String> {
        Ok(self.run(self.client.current_url())?.path().to_owned())
    }

    /// Type into the element that `css` finds.
    pub fn fill(&self, css: &str, value: &str) -> Result<()> {
        self.run(async {
            let field = self.client.find(Locator::Css(css)).await?;
            field.clear().await?;
            field.send_keys(value).await
        })
        .with_context(|| format!("type into {css}"))
    }

    /// Pick the option with `value` in the `<select>` that `css` finds.
    pub fn select(&self, css: &str, value: &str) -> Result<()> {
        self.run(async {
            self.client
                .find(Locator::Css(css))
                .await?
                .select_by_value(value)
                .await
        })
        .with_context(|| format!("choose {value} in {css}"))
    }

    /// Click the element that `css` finds.
    pub fn click(&self, css: &str) -> Result<()> {
        self.run(async { self.client.find(Locator::Css(css)).await?.click().await })
            .with_context(|| format!("click {css}"))
    }

    /// Click the element that `css` finds (a form's button, a link) and wait (up to 10 s)
    /// until the next page has replaced this one.
    pub fn click_and_load(&self, css: &str) -> Result<()> {
        self.run(
            self.client
                .execute("window.blisko_old_page = true;", vec![]),
        )?;
        self.click(css)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let old = self
                .run(
                    self.client
                        .execute("return window.blisko_old_page === true;", vec![]),
                )
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(true);
            if !old {
                return Ok(());
            }
            ensure!(Instant::now() < deadline, "{css}: no new page came");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Click the link whose text is `text`.
    pub fn click_link(&self, text: &str) -> Result<()> {
        self.run(async {
            self.client
                .find(Locator::LinkText(text))
                .await?
                .click()
                .await
        })
        .with_context(|| format!("click the link {text:?}"))
    }

    /// Wait (up to 10 s) until an element matches `css`.
    pub fn wait_for(&self, css: &str) -> Result<()> {
        self.run(
            self.client
                .wait()
                .at_most(Duration::from_secs(10))
                .for_element(Locator::Css(css)),
        )
        .with_context(|| format!("wait for {css}"))?;
        Ok(())
    }

    /// The page's HTML once it contains `needle` (after a form was sent, the old page may
    /// still be showing for a moment); fails after 10 seconds.
    pub fn wait_for_html(&self, needle: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let html = self.html()?;
            if html.contains(needle) {
                return Ok(html);
            }
            ensure!(
                Instant::now() < deadline,
                "{} never showed {needle:?}",
                self.path().unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The text of element `id` once it reads `expected` (the page may still be loading),
    /// or whatever it reads after 10 seconds.
    pub fn text_of(&self, id: &str, expected: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.run(async {
                match self.client.find(Locator::Id(id)).await {
                    Ok(e) => e.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                }
            });
            if got == expected || Instant::now() > deadline {
                return Ok(got);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Log in through the form as `login` (with the tests' password) and wait for the menu.
    pub fn login(&self, login: &str) -> Result<()> {
        self.login_with(login, PASSWORD)
    }

    pub fn login_with(&self, login: &str, password: &str) -> Result<()> {
        self.goto("/office/login")?;
        self.fill("input[name=login]", login)?;
        self.fill("input[name=password]", password)?;
        self.click("form.login button")?;
        self.wait_for("header.top nav")
            .with_context(|| format!("{login} logged in"))
    }

    /// The page's width in CSS pixels (`scrollWidth` of the document).
    pub fn page_width(&self) -> Result<u64> {
        let value = self.run(
            self.client
                .execute("return document.documentElement.scrollWidth;", vec![]),
        )?;
        value.as_u64().context("scrollWidth is a number")
    }

    /// Fails when the page is wider than the screen (it would scroll sideways). Headless
    /// Chromium reports an 800 px screen whatever the window's size, so a desktop window
    /// counts as its own width.
    pub fn assert_no_sideways_scroll(&self) -> Result<()> {
        let value = self.run(self.client.execute(
            "return [document.documentElement.scrollWidth, Math.max(screen.width, window.innerWidth)];",
            vec![],
        ))?;
        let (page, screen) = (
            value[0].as_u64().context("scrollWidth")?,
            value[1].as_u64().context("the screen's width")?,
        );
        if page <= screen {
            return Ok(());
        }
        // Name the innermost elements that reach past the screen's edge.
        let culprits = self.run(self.client.execute(
            "const w = Math.max(screen.width, window.innerWidth); return Array.from(document.querySelectorAll('body *'))
               .filter(e => e.getBoundingClientRect().right > w + 1
                 && !Array.from(e.children).some(c => c.getBoundingClientRect().right > w + 1))
               .slice(0, 5)
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '')
                 + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)');",
            vec![],
        ))?;
        bail!(
            "{} scrolls sideways: the page is {page} px wide on a {screen} px screen; \
             reaching past the edge: {culprits}",
            self.path().unwrap_or_default()
        )
    }

    /// Save a screenshot as `name` under [`screenshots`].
    pub fn shot(&self, name: &str) -> Result<()> {
        let dir = screenshots();
        std::fs::create_dir_all(&dir)?;
        let png = self.run(self.client.screenshot())?;
        ensure!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
        std::fs::write(dir.join(name), png)?;
        Ok(())
    }

    /// Wait (up to 20 s) for a downloaded file named `name`; its bytes.
    pub fn download(&self, name: &str) -> Result<Vec<u8>> {
        let file = self.downloads.path().join(name);
        let deadline = Instant::now() + Duration::from_secs(20);
        // Chromium reserves the name with an empty file and writes the download beside
        // it (`.crdownload`), renaming it over the name when done: wait for that.
        let done = || -> Result<bool> {
            let writing = std::fs::read_dir(self.downloads.path())?
                .filter_map(|e| e.ok())
                .any(|e| e.file_name().to_string_lossy().ends_with(".crdownload"));
            Ok(!writing && std::fs::metadata(&file).is_ok_and(|m| m.len() > 0))
        };
        while !done()? {
            ensure!(
                Instant::now() < deadline,
                "{name} was not downloaded (folder holds: {:?})",
                std::fs::read_dir(self.downloads.path())?
                    .filter_map(|e| e.ok().map(|e| e.file_name()))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(std::fs::read(&file)?)
    }
}

/// A DevTools protocol command, sent through chromedriver's vendor endpoint.
#[derive(Debug)]
struct Cdp {
    cmd: String,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let client = self.client.clone();
        let _ = self.rt.block_on(client.close());
    }
}

/// Where the screenshots go: `BLISKO_SCREENSHOTS=$PWD/docs/screenshots` refreshes the
/// README's pictures; otherwise a scratch folder, so a test run leaves the tree clean.
pub fn screenshots() -> PathBuf {
    std::env::var_os("BLISKO_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("blisko-office-{}", std::process::id()))
        })
}
