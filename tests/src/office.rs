//! Helpers for the office page tests and benchmark: staff accounts made with the real
//! admin command, a logged-in HTTP client with its cookie jar, and attendance marks sent
//! over the real sync API as a kiosk's staff would.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::sync::Mutex;

use anyhow::{Context, Result, bail, ensure};
use reqwest::blocking::{Client, Response};
use reqwest::redirect::Policy;

use blisko_kiosk::Kiosk;
use blisko_shared::ids::{RegistrationId, SessionId, StaffId};
use blisko_shared::model::AttendanceStatus;

pub const PASSWORD: &str = "haslo-do-testow-123";

/// Where a redirect (an office form's answer) points.
pub fn location(response: &Response) -> Result<String> {
    Ok(response
        .headers()
        .get("location")
        .context("a redirect")?
        .to_str()?
        .to_owned())
}

/// The actions of the server's audit log, newest first (`blisko-server audit`).
pub fn audit_actions(server: &crate::harness::ServerProcess) -> Result<Vec<String>> {
    Ok(server
        .admin(&["audit", "--limit", "1000"])?
        .as_array()
        .context("audit is a list")?
        .iter()
        .filter_map(|r| r["action"].as_str().map(str::to_owned))
        .collect())
}

/// `blisko-server staff add` with the tests' password, named "Pracownik LOGIN".
pub fn add_staff(data: &Path, login: &str, role: &str, branch: Option<&str>) -> Result<()> {
    add_staff_with(
        data,
        login,
        &format!("Pracownik {login}"),
        role,
        branch,
        PASSWORD,
    )
}

/// `blisko-server staff add`, with the password on standard input.
pub fn add_staff_with(
    data: &Path,
    login: &str,
    name: &str,
    role: &str,
    branch: Option<&str>,
    password: &str,
) -> Result<()> {
    let mut command = crate::harness::server_command(data)?;
    command
        .args(["staff", "add", "--login", login, "--name", name])
        .args(["--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(b) = branch {
        command.args(["--branch", b]);
    }
    let mut child = command.spawn().context("run blisko-server staff add")?;
    child
        .stdin
        .take()
        .context("stdin")?
        .write_all(format!("{password}\n").as_bytes())?;
    let output = child.wait_with_output()?;
    ensure!(
        output.status.success(),
        "staff add failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// A browser-like client: a cookie jar, redirects not followed (so tests see them).
pub struct Office {
    pub base: String,
    pub http: Client,
    pub csrf: String,
}

/// The value of the first `name="csrf"` field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

pub fn client() -> Result<Client> {
    blisko_kiosk::sync::install_tls_provider();
    Ok(Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

impl Office {
    /// A visitor who has not logged in (but has a cookie jar).
    pub fn anonymous(base: &str) -> Result<Office> {
        Ok(Office {
            base: base.to_owned(),
            http: client()?,
            csrf: String::new(),
        })
    }

    /// Log in through the form; fails unless the server answers with the overview.
    pub fn login(base: &str, login: &str, password: &str) -> Result<Office> {
        let mut office = Office::anonymous(base)?;
        let response = office.try_login(login, password)?;
        ensure!(
            response.status().as_u16() == 303,
            "log-in of {login} answered {}",
            response.status()
        );
        let home = office.get("/office/classes")?;
        let body = home.text()?;
        office.csrf = csrf_in(&body).context("a CSRF token on the page")?;
        Ok(office)
    }

    /// Send the log-in form once (after loading it for its CSRF token).
    pub fn try_login(&mut self, login: &str, password: &str) -> Result<Response> {
        let form = self.get("/office/login")?.text()?;
        let csrf = csrf_in(&form).context("a CSRF token on the log-in form")?;
        Ok(self
            .http
            .post(format!("{}/office/login", self.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("login", login),
                ("password", password),
            ])
            .send()?)
    }

    pub fn get(&self, path: &str) -> Result<Response> {
        Ok(self.http.get(format!("{}{path}", self.base)).send()?)
    }

    /// GET a page that must answer 200; its HTML.
    pub fn page(&self, path: &str) -> Result<String> {
        let response = self.get(path)?;
        let status = response.status();
        let body = response.text()?;
        if status.as_u16() != 200 {
            bail!("GET {path}: {status}: {body}");
        }
        Ok(body)
    }

    /// POST a form with this session's CSRF token.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Result<Response> {
        let mut all: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        Ok(self
            .http
            .post(format!("{}{path}", self.base))
            .form(&all)
            .send()?)
    }
}

/// Every `data-NAME="VALUE"` attribute value in a page, in order.
pub fn data_attrs(html: &str, name: &str) -> Vec<String> {
    let needle = format!("data-{name}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| html[i + needle.len()..].split('"').next())
        .map(str::to_owned)
        .collect()
}

/// A kiosk's staff mark attendance with the kiosk's roll call, and the kiosk syncs.
pub fn mark_attendance(
    kiosk: &Mutex<Kiosk>,
    session: SessionId,
    registration: RegistrationId,
    status: AttendanceStatus,
) -> Result<()> {
    kiosk
        .lock()
        .map_err(|_| anyhow::anyhow!("kiosk lock"))?
        .mark_attendance(session, registration, status, StaffId::new())?;
    crate::harness::sync(kiosk)?;
    Ok(())
}
