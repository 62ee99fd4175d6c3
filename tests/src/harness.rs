//! A real `blisko-server` process on loopback, its admin commands, and kiosks enrolled
//! with it through real HTTP, for the sync tests and benchmarks.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use blisko_kiosk::Kiosk;
use blisko_kiosk::kiosk::system_clock;
use blisko_kiosk::sync::SyncClient;

use crate::bins::server_bin;

/// A running `blisko-server serve`. Killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub data: PathBuf,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Start on a free loopback port; `demo` loads the demo catalogue on first start.
    pub fn start(data: &Path, demo: bool) -> Result<ServerProcess> {
        Self::start_on(data, "127.0.0.1:0".parse()?, demo)
    }

    /// Start on a given address (a restart keeps the port kiosks know).
    pub fn start_on(data: &Path, listen: SocketAddr, demo: bool) -> Result<ServerProcess> {
        let mut command = Command::new(server_bin());
        command
            .arg("--data")
            .arg(data)
            .arg("serve")
            .arg("--listen")
            .arg(listen.to_string())
            .env("BLISKO_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if demo {
            command.arg("--demo");
        }
        // A restart may race the old socket's release for a moment.
        for attempt in 0..50 {
            let mut child = command.spawn().context("start blisko-server")?;
            let stdout = child.stdout.take().context("server stdout")?;
            let mut line = String::new();
            BufReader::new(stdout)
                .read_line(&mut line)
                .context("read the server's first line")?;
            if let Some(url) = line.trim().strip_prefix("listening on http://") {
                let addr = url.parse().context("parse the server address")?;
                return Ok(ServerProcess {
                    child,
                    data: data.to_owned(),
                    addr,
                });
            }
            let _ = child.wait();
            if attempt == 49 {
                bail!("blisko-server did not start: {line:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unreachable!()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the graceful shutdown.
    pub fn stop(&mut self) -> Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the server exited with {status} on SIGTERM");
        }
        Ok(())
    }

    /// Wait until the server exits on its own (e.g. Ctrl-C in its terminal).
    pub fn wait(&mut self) -> Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the server exited with {status}");
        }
        Ok(())
    }

    /// CPU time the server has used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.pid())
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    pub fn admin(&self, args: &[&str]) -> Result<Value> {
        admin(&self.data, args)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run `blisko-server --data DIR --json ARGS` and parse its output.
pub fn admin(data: &Path, args: &[&str]) -> Result<Value> {
    let output = Command::new(server_bin())
        .arg("--data")
        .arg(data)
        .arg("--json")
        .args(args)
        .env("BLISKO_LOG", "warn")
        .output()
        .context("run blisko-server")?;
    if !output.status.success() {
        bail!(
            "blisko-server {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "blisko-server {args:?} printed no JSON: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The id of a branch by its code.
pub fn branch_id(data: &Path, code: &str) -> Result<String> {
    let branches = admin(data, &["branches"])?;
    branches
        .as_array()
        .and_then(|bs| bs.iter().find(|b| b["code"] == code))
        .and_then(|b| b["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no branch {code}"))
}

/// Add a kiosk to a branch on the server and enroll a new kiosk store in `dir` with it.
pub fn enroll_kiosk(server: &ServerProcess, branch: &str, dir: &Path) -> Result<Mutex<Kiosk>> {
    enroll_kiosk_at(server, &server.url(), branch, dir)
}

/// Like [`enroll_kiosk`], the kiosk talking to the server at `url` (a proxy in front of
/// it, say).
pub fn enroll_kiosk_at(
    server: &ServerProcess,
    url: &str,
    branch: &str,
    dir: &Path,
) -> Result<Mutex<Kiosk>> {
    let added = server.admin(&["kiosk", "add", "--branch", branch])?;
    let code = added["code"].as_str().context("enrollment code")?;
    let client = SyncClient::new(url, None)?;
    let enrolled = client.enroll(code)?;
    let kiosk = Kiosk::setup_enrolled(dir, &enrolled, url, system_clock())?;
    Ok(Mutex::new(kiosk))
}

/// Sync a kiosk once with its server.
pub fn sync(kiosk: &Mutex<Kiosk>) -> Result<blisko_kiosk::sync::SyncReport> {
    let client = SyncClient::for_kiosk(&kiosk.lock().expect("kiosk lock"))?;
    Ok(blisko_kiosk::sync::sync_once(kiosk, &client)?)
}

/// A class roster as the tests compare it: registration id to (status, position).
pub type Roster = BTreeMap<String, (String, Option<u32>)>;

/// The merged roster of a class on the server (`roster --json`).
pub fn server_roster(server: &ServerProcess, class: &str) -> Result<Roster> {
    let rows = server.admin(&["roster", "--class", class])?;
    rows.as_array()
        .context("roster is an array")?
        .iter()
        .map(|r| {
            Ok((
                r["registration_id"].as_str().context("id")?.to_owned(),
                (
                    r["status"].as_str().context("status")?.to_owned(),
                    r["position"].as_u64().map(|p| p as u32),
                ),
            ))
        })
        .collect()
}

/// The roster of a class as a kiosk projects it.
pub fn kiosk_roster(kiosk: &Mutex<Kiosk>, class: &str) -> Result<Roster> {
    let rows = kiosk.lock().expect("kiosk").roster(class)?;
    Ok(rows
        .into_iter()
        .map(|r| (r.registration_id.to_string(), (r.status, r.position)))
        .collect())
}

/// A number written in letters (a, b, ... z, ba, ...): names take letters only.
pub fn letters(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return s;
        }
    }
}

/// The seed of a randomized test: `BLISKO_SEED` to repeat a run, else a fresh one,
/// printed so a failure can be replayed.
pub fn seed() -> u64 {
    let seed: u64 = std::env::var("BLISKO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed {seed} (set BLISKO_SEED to repeat)");
    seed
}

/// CPU time a process has used so far (user + system), in seconds, from /proc.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}
