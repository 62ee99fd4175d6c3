//! The kiosk's Debian packaging (packaging/): `systemd-analyze verify` accepts its unit,
//! with the drop-in blisko-kiosk-setup writes, and the key that set-up script makes once
//! opens the store when systemd hands it over as the credential `blisko-kiosk.key`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_blisko-kiosk");
const INSTALLED_BIN: &str = "/usr/bin/blisko-kiosk";

fn packaging(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging")
        .join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn show(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Run packaging/blisko-kiosk-setup with every file under `root`.
fn setup(root: &Path, args: &[&str]) -> Output {
    Command::new(packaging("blisko-kiosk-setup"))
        .args(args)
        .env("BLISKO_SETUP_ROOT", root)
        .output()
        .expect("run blisko-kiosk-setup")
}

/// `systemd-analyze verify` on a copy of the kiosk's unit (the drop-in's lines added to
/// it), in which the kiosk binary is the one just built: verify checks that the commands
/// exist. cage stays at /usr/bin/cage, the path the package's dependency installs, so
/// the unit names the real compositor (.ci/run installs cage).
#[test]
fn the_unit_with_the_setup_drop_in_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: systemd-analyze is not installed (Debian package `systemd`)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let setup_root = tmp.path().join("root");
    let out = setup(&setup_root, &["--plain"]);
    assert!(out.status.success(), "{}", show(&out));
    let dropin = read(&setup_root.join("etc/systemd/system/blisko-kiosk.service.d/store-key.conf"));

    let unit = read(&packaging("blisko-kiosk.service"));
    assert!(
        unit.contains(&format!("ExecStart=/usr/bin/cage -- {INSTALLED_BIN} ")),
        "the unit runs the kiosk under cage:\n{unit}"
    );
    let service_lines: String = dropin
        .lines()
        .filter(|line| !line.starts_with('#') && *line != "[Service]")
        .map(|line| format!("{line}\n"))
        .collect();
    let unit = unit
        .replace(INSTALLED_BIN, BIN)
        .replace("[Install]", &format!("{service_lines}\n[Install]"));
    let copy = tmp.path().join("blisko-kiosk.service");
    std::fs::write(&copy, unit).expect("write the unit's copy");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("run systemd-analyze verify");
    assert!(out.status.success(), "{}", show(&out));
    // verify is quiet about a good unit; anything it says about ours is a finding.
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("blisko-kiosk.service"),
        "systemd-analyze verify:\n{said}"
    );
}

#[test]
fn setup_makes_the_key_once_and_the_kiosk_opens_its_store_with_it_as_a_credential() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let out = setup(&root, &["--plain"]);
    assert!(out.status.success(), "{}", show(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("enroll --server"),
        "tells the next step:\n{said}"
    );

    let key = root.join("etc/blisko/kiosk-store.key");
    let mode = std::fs::metadata(&key)
        .expect("the key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key is readable by root only");
    let text = read(&key);
    assert!(
        text.trim().len() == 64 && text.trim().bytes().all(|b| b.is_ascii_hexdigit()),
        "64 hex digits: {text:?}"
    );
    let dropin = read(&root.join("etc/systemd/system/blisko-kiosk.service.d/store-key.conf"));
    assert!(
        dropin.contains("\nLoadCredential=blisko-kiosk.key:/etc/blisko/kiosk-store.key\n"),
        "{dropin}"
    );

    // Run again: refused, and the key is the same.
    let again = setup(&root, &["--plain"]);
    assert_eq!(again.status.code(), Some(1), "{}", show(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("only once"),
        "{}",
        show(&again)
    );
    assert_eq!(read(&key), text, "the key was not replaced");

    // What systemd does with LoadCredential=: a private folder with the key under the
    // credential's name, named in $CREDENTIALS_DIRECTORY. No --key-file is given.
    let credentials = tmp.path().join("credentials");
    std::fs::create_dir(&credentials).expect("credentials folder");
    std::fs::copy(&key, credentials.join("blisko-kiosk.key")).expect("copy the key");
    // The data folder exists already, empty, as the package and StateDirectory= make it.
    let data = tmp.path().join("kiosk");
    std::fs::create_dir(&data).expect("data folder");
    let kiosk = |args: &[&str]| {
        Command::new(BIN)
            .arg("--data")
            .arg(&data)
            .args(["--lang", "en"])
            .args(args)
            .env_remove("BLISKO_KEY_FILE")
            .env("CREDENTIALS_DIRECTORY", &credentials)
            .output()
            .expect("run blisko-kiosk")
    };
    let out = kiosk(&["demo", "--branch", "MAL"]);
    assert!(out.status.success(), "{}", show(&out));
    assert_eq!(
        read(&key),
        text,
        "set-up used the credential, it wrote no key"
    );
    let out = kiosk(&["--json", "status"]);
    assert!(out.status.success(), "{}", show(&out));

    // Another key under the same name does not open that store.
    std::fs::write(
        credentials.join("blisko-kiosk.key"),
        format!("{}\n", "0".repeat(64)),
    )
    .expect("write another key");
    let out = kiosk(&["--json", "status"]);
    assert!(!out.status.success(), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(r#""code":"wrong_key""#),
        "{}",
        show(&out)
    );
}

#[test]
fn setup_refuses_unknown_options_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let out = setup(&root, &["--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(!root.exists(), "nothing written");
}
