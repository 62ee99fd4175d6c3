//! Blisko cross-crate tests and benchmarks: helpers shared by the process tests in
//! `tests/` and the benchmark binaries in `src/bin/`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::SystemTime;

/// Environment variable that points the process tests at a kiosk binary of choice.
pub const KIOSK_BIN_ENV: &str = "BLISKO_KIOSK_BIN";

/// The built `blisko-kiosk` binary, for tests that run the kiosk as a process.
///
/// It is looked up in the folder above the one holding the running test executable
/// (`target/<profile>/deps/..`), where cargo puts the workspace's binaries. Nothing is
/// built here, and cargo does not build another package's binary for this package's
/// tests: build it first (`cargo build -p blisko-kiosk` with the same profile and target
/// folder). A binary older than the kiosk's or the shared library's sources is refused
/// rather than tested. `BLISKO_KIOSK_BIN` names another binary, unchecked.
pub fn kiosk_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(find_kiosk_bin).clone()
}

fn find_kiosk_bin() -> PathBuf {
    if let Some(path) = std::env::var_os(KIOSK_BIN_ENV) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{KIOSK_BIN_ENV} is set to {}, which is not a file",
            path.display()
        );
        return path;
    }
    let exe = std::env::current_exe().expect("the path of the running test executable");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test executable sits in target/<profile>/deps");
    let bin = profile_dir.join(format!("blisko-kiosk{}", std::env::consts::EXE_SUFFIX));
    let build = "run `cargo build -p blisko-kiosk` with the same profile and target folder \
                 as the tests (e.g. `cargo build -p blisko-kiosk && cargo test -p blisko-tests`)";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("the kiosk binary {} is not built: {build}", bin.display()));
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace folder");
    for package in ["kiosk", "shared"] {
        if let Some((source, changed)) = newest_file(&workspace.join(package))
            && changed > built
        {
            panic!(
                "the kiosk binary {} is older than {}: {build}",
                bin.display(),
                source.display()
            );
        }
    }
    bin
}

/// The most recently modified file under `dir` (sources and manifest; `target` skipped).
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
