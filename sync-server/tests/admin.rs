//! The admin commands as a person runs them, on the database of a running server.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_blisko-server");

fn start(data: &Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .env("BLISKO_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the server says where it listens")
        .to_owned();
    (child, url)
}

fn run(data: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data")
        .arg(data)
        .arg("--json")
        .args(args)
        .output()
        .expect("run blisko-server")
}

fn json(data: &Path, args: &[&str]) -> Value {
    let out = run(data, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn admin_commands_work_beside_a_running_server() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path();
    let (mut server, url) = start(data);
    assert!(url.starts_with("http://127.0.0.1:"));

    let branches = json(data, &["branches"]);
    let branches = branches.as_array().expect("array");
    assert_eq!(branches.len(), 4, "the demo has four branch points");
    let mal = branches
        .iter()
        .find(|b| b["code"] == "MAL")
        .expect("MAL branch");
    assert!(mal["name"].as_str().is_some_and(|n| !n.is_empty()));
    let mal_id = mal["id"].as_str().expect("id");

    let added = json(data, &["kiosk", "add", "--branch", mal_id]);
    let kiosk_id = added["kiosk_id"].as_str().expect("kiosk_id").to_owned();
    assert!(added["code"].as_str().is_some_and(|c| c.len() >= 12));

    let list = json(data, &["kiosk", "list"]);
    assert_eq!(list[0]["kiosk_id"], kiosk_id.as_str());
    assert_eq!(list[0]["branch_id"], mal_id);
    assert!(list[0]["last_sync"].is_null(), "never synced yet");

    // An unknown branch, a kiosk that is not there: clear errors, exit 2.
    let bad = run(data, &["kiosk", "add", "--branch", &kiosk_id]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not_found"));

    json(data, &["kiosk", "revoke", &kiosk_id]);
    let again = run(data, &["kiosk", "revoke", &kiosk_id]);
    assert_eq!(again.status.code(), Some(2), "revoking twice is refused");
    let list = json(data, &["kiosk", "list"]);
    assert_eq!(list[0]["revoked"], true);

    let audit = json(data, &["audit"]);
    let actions: Vec<&str> = audit
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["action"].as_str())
        .collect();
    assert!(actions.contains(&"kiosk_add") && actions.contains(&"kiosk_revoke"));

    // Graceful shutdown on SIGTERM.
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert!(server.wait().expect("wait").success());
}

#[test]
fn a_catalog_import_that_breaks_the_seat_rules_changes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path();
    let (mut server, _) = start(data);
    let before = json(data, &["branches"]);

    let not_json = data.join("bad.json");
    std::fs::write(&not_json, "{ not a catalog").expect("write");
    let out = run(data, &["catalog-import", &not_json.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));

    // A class allotting more seats than it has.
    let class = "01a20000-0000-7000-8000-000000000001";
    let branch = "01a20000-0000-7000-8000-000000000002";
    let kiosk = "01a20000-0000-7000-8000-000000000003";
    let catalog = serde_json::json!([{
        "branch": { "id": branch, "code": "NEW", "name": "Nowy punkt", "address": "", "opening_hours": "" },
        "classes": [{
            "id": class, "branch_id": branch, "title": "Joga", "description": "", "instructor": "",
            "room": "", "capacity": 5, "waitlist_limit": 5, "age_group": "", "schedule": [],
            "registration_opens": null, "registration_closes": null
        }],
        "sessions": [], "services": [], "staff": [],
        "allotments": { class: { kiosk: 6 } }
    }]);
    let file = data.join("over.json");
    std::fs::write(&file, catalog.to_string()).expect("write");
    let out = run(data, &["catalog-import", &file.to_string_lossy()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(json(data, &["branches"]), before, "nothing was imported");

    // The same catalog within its capacity is imported.
    let fixed = catalog.to_string().replace(":6}", ":2}");
    std::fs::write(&file, fixed).expect("write");
    let imported = json(data, &["catalog-import", &file.to_string_lossy()]);
    assert_eq!(imported["created"], 1);
    let after = json(data, &["branches"]);
    assert_eq!(after.as_array().map(Vec::len), Some(5));
    let _ = server.kill();
}

/// The first line of a server started with `args`: where it listens.
fn listening_line(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("BLISKO_LISTEN")
        .env_remove("BLISKO_SERVER_DATA")
        .env("BLISKO_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let _ = child.kill();
    let out = child.wait_with_output().expect("the server ends");
    if line.is_empty() {
        line = String::from_utf8_lossy(&out.stderr).into_owned();
    }
    line
}

#[test]
fn the_configuration_file_sets_serve_options_below_the_environment_and_flags() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let config = tmp.path().join("server.toml");
    // 192.0.2.1 is a documentation address: no local interface has it.
    std::fs::write(
        &config,
        format!(
            "data = {:?}\ndemo = true\nlisten = \"192.0.2.1:7878\"\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let line = listening_line(&["--config", config, "serve"], &[]);
    assert!(
        line.contains("could not listen on 192.0.2.1:7878"),
        "the file's address: {line}"
    );
    // The environment beats the file.
    let line = listening_line(
        &["--config", config, "serve"],
        &[("BLISKO_LISTEN", "127.0.0.1:0")],
    );
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    // A flag beats the environment.
    let line = listening_line(
        &["serve", "--listen", "127.0.0.1:0", "--config", config],
        &[("BLISKO_LISTEN", "192.0.2.1:7878")],
    );
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    // The file's data folder, with the demo the file asked for, serves the admin
    // commands too.
    let out = Command::new(BIN)
        .args(["--config", config, "--json", "branches"])
        .env_remove("BLISKO_SERVER_DATA")
        .output()
        .expect("run blisko-server");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let branches: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(!branches.as_array().expect("array").is_empty());
}

#[test]
fn a_wrong_configuration_file_or_argument_is_a_json_error_and_changes_nothing() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("data");
    let config = tmp.path().join("server.toml");
    for (text, key) in [
        ("sms_dayly_limit = 3\n", "sms_dayly_limit"),
        ("sync_burst = \"many\"\n", "sync_burst"),
        ("listen = \"localhost\"\n", "listen"),
    ] {
        std::fs::write(&config, text).unwrap();
        let out = run(&data, &["--config", config.to_str().unwrap(), "serve"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(out.stdout.is_empty());
        let body: Value = serde_json::from_slice(&out.stderr).expect("a JSON error");
        assert_eq!(body["error"]["code"], "bad_config");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(config.to_str().unwrap()), "{message}");
        assert!(message.contains(&format!("`{key}`")), "{message}");
        assert!(!data.exists(), "the data folder was created");
    }
    for args in [
        &["branches", "--bogus"][..],
        &["roster"],
        &["roster", "--class", "not-an-id"],
        &["serve", "--sync-burst", "0"],
    ] {
        let out = run(&data, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        let body: Value = serde_json::from_slice(&out.stderr).expect("a JSON error");
        assert_eq!(body["error"]["code"], "bad_arguments", "{args:?}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(
            !message.is_empty() && !message.contains("Usage:"),
            "{message}"
        );
        assert!(!data.exists(), "the data folder was created");
    }
}

/// A town's first branch, as the operations guide sets it up: the packaged example
/// catalog imports into an empty folder, and `pin-hash` turns a PIN read from standard
/// input into a hash that verifies (and refuses what is not a PIN, writing nothing).
#[test]
fn the_example_catalog_imports_and_pin_hash_makes_a_staff_pin() {
    use std::io::Write;

    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    let dir = tempfile::tempdir().expect("a temp folder");
    let data = dir.path().join("data");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/catalog-example.json");
    let imported = json(
        &data,
        &["catalog-import", example.to_str().expect("a path")],
    );
    assert_eq!(imported["created"], 1, "{imported}");
    let branches = json(&data, &["branches"]);
    assert_eq!(branches[0]["code"], "MAL1", "{branches}");

    let hash_of = |pin: &str| {
        let mut child = Command::new(BIN)
            .args(["--json", "pin-hash"])
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pin-hash");
        writeln!(child.stdin.take().expect("stdin"), "{pin}").expect("write the PIN");
        child.wait_with_output().expect("pin-hash ends")
    };
    let made = hash_of("4321");
    assert!(made.status.success(), "{made:?}");
    let out: Value = serde_json::from_slice(&made.stdout).expect("JSON");
    let hash = out["pin_hash"].as_str().expect("a hash");
    let parsed = PasswordHash::new(hash).expect("a PHC string");
    assert!(
        argon2::Argon2::default()
            .verify_password(b"4321", &parsed)
            .is_ok()
    );
    assert!(
        argon2::Argon2::default()
            .verify_password(b"4322", &parsed)
            .is_err()
    );
    for bad in ["12a4", "123", "123456789"] {
        let refused = hash_of(bad);
        assert_eq!(refused.status.code(), Some(2), "{bad}: {refused:?}");
        assert!(refused.stdout.is_empty(), "{bad}");
    }
    assert!(
        !dir.path().join("blisko-server-data").exists(),
        "pin-hash touches no data folder"
    );
}
