//! The server's Debian packaging (packaging/): `systemd-analyze verify` accepts its unit,
//! as shipped and with the SMS token's credential switched on as docs/operations.md says.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_blisko-server");
const INSTALLED_BIN: &str = "/usr/bin/blisko-server";
const SMS_CREDENTIAL: &str = "LoadCredential=sms-token:/etc/blisko/sms-token";

fn show(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Verify `unit` written as blisko-server.service in `dir`.
fn verify(dir: &Path, unit: &str) -> Output {
    let copy = dir.join("blisko-server.service");
    std::fs::write(&copy, unit).expect("write the unit's copy");
    Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("run systemd-analyze verify")
}

/// verify checks that the command exists, so the copies run the server just built.
#[test]
fn the_unit_passes_systemd_analyze_verify() {
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("skipped: systemd-analyze is not installed (Debian package `systemd`)");
        return;
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/blisko-server.service");
    let shipped = std::fs::read_to_string(&path).expect("read packaging/blisko-server.service");
    assert!(
        shipped.contains(&format!("ExecStart={INSTALLED_BIN} ")),
        "{shipped}"
    );
    // Off as shipped: systemd would refuse to start without the token's file.
    assert!(
        shipped.contains(&format!("\n#{SMS_CREDENTIAL}\n")),
        "{shipped}"
    );
    let unit = shipped.replace(INSTALLED_BIN, BIN);
    let with_token = unit.replace(
        &format!("\n#{SMS_CREDENTIAL}\n"),
        &format!("\n{SMS_CREDENTIAL}\n"),
    );
    assert_ne!(unit, with_token);

    let tmp = tempfile::tempdir().expect("tempdir");
    for unit in [unit, with_token] {
        let out = verify(tmp.path(), &unit);
        assert!(out.status.success(), "{}", show(&out));
        // verify is quiet about a good unit; anything it says about ours is a finding.
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(
            !said.contains("blisko-server.service"),
            "systemd-analyze verify:\n{said}"
        );
    }

    // A mistake is caught: verify is not a test that cannot fail.
    let broken = shipped.replace(INSTALLED_BIN, "/nonexistent/blisko-server");
    assert!(!verify(tmp.path(), &broken).status.success());
}
