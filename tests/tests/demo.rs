//! The README's demo command as a new user runs it: it prints the office's address and an
//! admin's log-in, and that log-in opens the office page; a second run prints the same.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use blisko_tests::bins::{KIOSK_BIN_ENV, SERVER_BIN_ENV};
use blisko_tests::office::Office;
use blisko_tests::{kiosk_bin, server_bin};

/// The demo in a process group of its own, stopped as Ctrl-C stops it: the whole group
/// (the demo and the server it started).
struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.0.id()) {
            // SAFETY: kill(2) with a process group id and a signal number has no memory
            // effects.
            unsafe { libc::kill(-pid, libc::SIGINT) };
        }
        let _ = self.0.wait();
    }
}

/// Start the demo and read its output up to the office line: (URL, login, password).
fn start(data: &std::path::Path, port: u16) -> Result<(Demo, String, String, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_demo"))
        .arg("--data")
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-window"])
        .env("BLISKO_LOG", "warn")
        // The binaries this test run checked, so the demo does not build them again.
        .env(SERVER_BIN_ENV, server_bin())
        .env(KIOSK_BIN_ENV, kiosk_bin())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .context("start the demo")?;
    let stdout = child.stdout.take().context("the demo's output")?;
    let demo = Demo(child);
    let deadline = Instant::now() + Duration::from_secs(120);
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        ensure!(Instant::now() < deadline, "the demo printed no office line");
        if let Some(rest) = line.strip_prefix("Office:") {
            // Office:  http://127.0.0.1:PORT/office  (log in as "admin", password xxxx)
            let url = rest.split_whitespace().next().context("the office URL")?;
            let login = rest.split('"').nth(1).context("the login")?;
            let password = rest
                .rsplit("password ")
                .next()
                .context("the password")?
                .trim_end_matches(')');
            return Ok((demo, url.to_owned(), login.to_owned(), password.to_owned()));
        }
    }
    anyhow::bail!("the demo ended without printing the office line")
}

#[test]
fn the_demo_prints_the_office_and_a_working_admin_login() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let (demo, url, login, password) = start(tmp.path(), port)?;
    let base = url.strip_suffix("/office").context("an /office address")?;
    ensure!(base == format!("http://127.0.0.1:{port}"), "{url}");
    ensure!(login == "admin", "{login}");
    let office = Office::login(base, &login, &password)?;
    let page = office.page("/office")?;
    ensure!(
        page.contains("Administrator biura"),
        "the admin's name shows"
    );
    // A wrong password is refused (the printed one is not a default anyone could guess).
    let mut stranger = Office::anonymous(base)?;
    let refused = stranger.try_login(&login, "haslo-do-testow-123")?;
    ensure!(refused.status().as_u16() != 303, "a wrong password logs in");
    drop(demo);

    let (_demo, _, _, again) = start(tmp.path(), port)?;
    ensure!(again == password, "the second run prints the same password");
    Ok(())
}

/// Stopped with SIGTERM alone (a script, `timeout`, systemd), not Ctrl-C to its whole
/// group: the demo stops its server too, and the port is free for the next run.
#[test]
fn a_sigterm_to_the_demo_stops_its_server_too() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let (mut demo, _, _, _) = start(tmp.path(), port)?;
    let pid = i32::try_from(demo.0.id())?;
    // SAFETY: kill(2) with a process id and a signal number has no memory effects.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = demo.0.try_wait()? {
            break status;
        }
        ensure!(
            Instant::now() < deadline,
            "the demo did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    ensure!(status.success(), "the demo exited with {status}");
    // Its server is gone: nothing answers on the port, and it can be bound again.
    ensure!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still answers on port {port}"
    );
    std::net::TcpListener::bind(("127.0.0.1", port)).context("the port is still taken")?;
    Ok(())
}
