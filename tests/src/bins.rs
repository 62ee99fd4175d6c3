//! The workspace's binaries, for tests and benchmarks that run them as processes.
//!
//! They are looked up next to the running executable (`target/<profile>/`, the parent
//! of the `deps` folder that holds test executables), where cargo puts the workspace's
//! binaries. Tests build nothing: `cargo test --workspace` builds them (the kiosk and
//! the server packages have process tests of their own). A binary older than its
//! sources is refused rather than tested. The demo and the benchmarks, run with
//! `cargo run`, build the binaries they start. `BLISKO_KIOSK_BIN` / `BLISKO_SERVER_BIN` name
//! other binaries, unchecked.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

pub const KIOSK_BIN_ENV: &str = "BLISKO_KIOSK_BIN";
pub const SERVER_BIN_ENV: &str = "BLISKO_SERVER_BIN";

/// The built `blisko-kiosk` binary.
pub fn kiosk_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        find_bin(
            "blisko-kiosk",
            "blisko-kiosk",
            KIOSK_BIN_ENV,
            &["kiosk", "shared"],
        )
    })
    .clone()
}

/// The built `blisko-server` binary.
pub fn server_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        find_bin(
            "blisko-server",
            "blisko-sync-server",
            SERVER_BIN_ENV,
            &["sync-server", "shared"],
        )
    })
    .clone()
}

fn find_bin(name: &str, package: &str, env: &str, sources: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{env} is set to {}, which is not a file",
            path.display()
        );
        return path;
    }
    let exe = std::env::current_exe().expect("the path of the running executable");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    let under_test = dir.ends_with("deps");
    if under_test {
        dir.pop();
    }
    let bin = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !under_test {
        // A benchmark or the demo started with `cargo run`: build what it runs, in the
        // same profile, so one command is enough on a fresh checkout.
        build_with_cargo(package, name, dir.ends_with("release"));
    }
    let build = "run `cargo build --workspace` (or `cargo test --workspace`) with the same \
                 profile and target folder first";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is not built: {build}", bin.display()));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace folder");
    for package in sources {
        if let Some((source, changed)) = newest_file(&workspace.join(package))
            && changed > built
        {
            panic!(
                "{} is older than {}: {build}",
                bin.display(),
                source.display()
            );
        }
    }
    bin
}

fn build_with_cargo(package: &str, name: &str, release: bool) {
    let Some(cargo) = std::env::var_os("CARGO") else {
        return;
    };
    let mut command = std::process::Command::new(cargo);
    // The workspace's manifest, so that a `cargo run --manifest-path ...` started from
    // another folder builds here too.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    command.arg("build").arg("--manifest-path").arg(manifest);
    command.args(["-q", "-p", package, "--bin", name]);
    if release {
        command.arg("--release");
    }
    let status = command.status();
    assert!(
        status.as_ref().is_ok_and(|s| s.success()),
        "building {name} failed: {status:?}"
    );
}

/// The most recently modified file under `dir` (sources and manifest; `target` and
/// the package's own tests skipped).
fn newest_file(dir: &Path) -> Option<(PathBuf, SystemTime)> {
    let mut newest: Option<(PathBuf, SystemTime)> = None;
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if entry.file_name() != "target" && entry.file_name() != "tests" {
                    pending.push(path);
                }
            } else if let Ok(modified) = meta.modified()
                && newest.as_ref().is_none_or(|(_, t)| modified > *t)
            {
                newest = Some((path, modified));
            }
        }
    }
    newest
}
