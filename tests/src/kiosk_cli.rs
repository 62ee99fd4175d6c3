//! The kiosk's command line run as a process, for the tests that kill it, limit its
//! files or read its answers.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::kiosk_bin;

/// `blisko-kiosk --data DIR --key-file KEY` in English, ready for more arguments.
pub fn kiosk_command(dir: &Path) -> Command {
    let mut command = Command::new(kiosk_bin());
    command
        .arg("--data")
        .arg(dir)
        .arg("--key-file")
        .arg(crate::harness::key_file(dir))
        .env("BLISKO_LANG", "en");
    command
}

/// Run the kiosk and wait for it.
pub fn kiosk(dir: &Path, args: &[&str]) -> Output {
    kiosk_command(dir)
        .args(args)
        .output()
        .expect("run the kiosk")
}

/// Run a command that must succeed and print JSON.
pub fn kiosk_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = kiosk(dir, &all);
    assert!(
        out.status.success(),
        "blisko-kiosk {args:?} failed with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "blisko-kiosk {args:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// A text field of a JSON answer.
pub fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no text field {key:?} in {v}"))
        .to_owned()
}
