//! The real kiosk window in a real X server: Xvfb for the screen, xdotool for the finger,
//! ImageMagick's `import` for the camera. The app tells where its touch targets are
//! through `BLISKO_UI_MAP` (a JSON file it rewrites when the screen changes).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::bins::kiosk_bin;

/// The Debian packages these helpers need (installed by `.ci/run`).
pub const PACKAGES: &str = "xvfb xdotool imagemagick libgl1-mesa-dri libegl1";

fn need(tool: &str) -> Result<()> {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        bail!("{tool} is missing: install the Debian packages {PACKAGES} (.ci/run does)");
    }
    Ok(())
}

/// A virtual X screen, stopped on drop.
pub struct Xvfb {
    child: Child,
    pub display: String,
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Result<Xvfb> {
        for tool in ["Xvfb", "xdotool", "import"] {
            need(tool)?;
        }
        // A display number nobody uses: Xvfb refuses a taken one, so try a few.
        let base = 90 + (std::process::id() % 400);
        for n in base..base + 40 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let mut child = Command::new("Xvfb")
                .args([
                    &display,
                    "-screen",
                    "0",
                    &format!("{width}x{height}x24"),
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .context("start Xvfb")?;
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if socket.exists() {
                    return Ok(Xvfb { child, display });
                }
                if child.try_wait()?.is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        bail!("no free X display for Xvfb")
    }

    /// Save the whole screen as a PNG.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(path)
            .status()
            .context("run import")?;
        if !status.success() {
            bail!("import failed ({status})");
        }
        Ok(())
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The kiosk app running in a window on an Xvfb screen.
pub struct KioskWindow<'x> {
    x: &'x Xvfb,
    child: Child,
    map: PathBuf,
    pub started: Instant,
}

#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone)]
pub struct UiMap {
    pub screen: String,
    pub pixels_per_point: f64,
    pub targets: Vec<Target>,
    /// The app ignores touches for a moment after a screen change.
    pub guarded: bool,
}

fn parse_map(text: &str) -> Result<UiMap> {
    let v: Value = serde_json::from_str(text).context("parse the UI map")?;
    let targets = v["targets"]
        .as_array()
        .context("targets")?
        .iter()
        .map(|t| Target {
            label: t["label"].as_str().unwrap_or_default().to_owned(),
            x: t["x"].as_f64().unwrap_or(0.0),
            y: t["y"].as_f64().unwrap_or(0.0),
        })
        .collect();
    Ok(UiMap {
        screen: v["screen"].as_str().unwrap_or_default().to_owned(),
        pixels_per_point: v["pixels_per_point"].as_f64().unwrap_or(1.0),
        targets,
        guarded: v["guarded"].as_bool().unwrap_or(false),
    })
}

impl<'x> KioskWindow<'x> {
    /// Start `blisko-kiosk` (the touch app) on the store in `data`.
    pub fn open(x: &'x Xvfb, data: &Path, work: &Path, size: (u32, u32)) -> Result<Self> {
        let map = work.join("ui-map.json");
        let _ = std::fs::remove_file(&map);
        // Found (and under `cargo run`, built) before the clock starts.
        let bin = kiosk_bin();
        let started = Instant::now();
        let child = Command::new(bin)
            .arg("--data")
            .arg(data)
            .arg("--key-file")
            .arg(crate::harness::key_file(data))
            .args(["--size", &format!("{}x{}", size.0, size.1)])
            .env("DISPLAY", &x.display)
            .env_remove("WAYLAND_DISPLAY")
            .env("BLISKO_UI_MAP", &map)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("BLISKO_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("start the kiosk app")?;
        Ok(KioskWindow {
            x,
            child,
            map,
            started,
        })
    }

    /// Wait until the app shows `screen`, its layout holds still and it takes touches
    /// (the touch guard after a screen change is over).
    pub fn wait_for(&mut self, screen: &str) -> Result<UiMap> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut last = String::new();
        let mut stable_since = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                let mut log = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = stderr.read_to_string(&mut log);
                }
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                bail!("the kiosk app exited ({status}) waiting for {screen}: {tail}");
            }
            let text = std::fs::read_to_string(&self.map).unwrap_or_default();
            if text != last {
                last = text.clone();
                stable_since = Instant::now();
            } else if !text.is_empty() && stable_since.elapsed() > Duration::from_millis(400) {
                let map = parse_map(&text)?;
                if map.screen == screen && !map.guarded {
                    return Ok(map);
                }
            }
            if Instant::now() > deadline {
                bail!("the app did not show {screen}; last map: {last}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The time from starting the process to the first UI map: the first frame.
    pub fn first_frame(&mut self) -> Result<Duration> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.map.exists() {
            if let Some(status) = self.child.try_wait()? {
                bail!("the kiosk app exited ({status}) before its first frame");
            }
            if Instant::now() > deadline {
                bail!("no first frame within 60 s");
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(self.started.elapsed())
    }

    /// Tap the target whose name is `label` (or, with `exact == false`, contains it).
    pub fn tap(&mut self, map: &UiMap, label: &str, exact: bool) -> Result<()> {
        let target = map
            .targets
            .iter()
            .find(|t| {
                if exact {
                    t.label == label
                } else {
                    t.label.contains(label)
                }
            })
            .with_context(|| format!("no {label:?} on {}", map.screen))?;
        let ppp = map.pixels_per_point;
        let (x, y) = (
            (target.x * ppp).round() as i64,
            (target.y * ppp).round() as i64,
        );
        let status = Command::new("xdotool")
            .env("DISPLAY", &self.x.display)
            .args(["mousemove", "--sync", &x.to_string(), &y.to_string()])
            .args(["click", "1"])
            .status()
            .context("run xdotool")?;
        if !status.success() {
            bail!("xdotool failed ({status})");
        }
        // Let the app draw the result before the next look at the map.
        std::thread::sleep(Duration::from_millis(150));
        Ok(())
    }

    /// Type on the on-screen keyboard: one tap per key, switching case as needed.
    pub fn type_keys(&mut self, screen: &str, text: &str) -> Result<()> {
        let mut last = None;
        for c in text.chars() {
            if last == Some(c) {
                // A second press of one key within the repeat guard counts once: a
                // person typing "nn" lifts the finger for longer than that.
                std::thread::sleep(Duration::from_millis(
                    blisko_kiosk::app::DEFAULT_REPEAT_GUARD_MS + 100,
                ));
            }
            last = Some(c);
            let key = if c == ' ' {
                "Spacja".to_owned()
            } else {
                c.to_string()
            };
            let map = self.wait_for(screen)?;
            if !map.targets.iter().any(|t| t.label == key) {
                self.tap(&map, "Wielkie litery", true)?;
            }
            let map = self.wait_for(screen)?;
            self.tap(&map, &key, true)?;
        }
        Ok(())
    }

    /// Stop the app; returns what it logged.
    pub fn close(mut self) -> Result<String> {
        use std::io::Read;
        let _ = self.child.kill();
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr
                .read_to_string(&mut log)
                .context("read the app's log")?;
        }
        let _ = self.child.wait();
        Ok(log)
    }
}

impl Drop for KioskWindow<'_> {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
