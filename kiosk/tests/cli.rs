//! Process-level tests of the `blisko-kiosk` command line: each test runs the real binary
//! on its own data folder and checks what a member of staff or a script would see: the
//! JSON output, the messages and the exit codes (0 done, 2 refused, 1 failed).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_blisko-kiosk");

/// A valid PESEL (born 14 May 1944).
/// Born 3 March 1950, the birth year the intake arguments give.
const VALID_PESEL: &str = "50030300016";

/// A data folder inside a temporary directory that is removed after the test.
struct DataDir {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

impl DataDir {
    /// A data folder that does not exist yet.
    fn empty() -> DataDir {
        let tmp = tempfile::tempdir().expect("temporary directory");
        let path = tmp.path().join("kiosk");
        DataDir { _tmp: tmp, path }
    }

    /// A kiosk set up with the demo catalogue of `branch`.
    fn demo(branch: &str) -> DataDir {
        let d = DataDir::empty();
        d.ok(&["demo", "--branch", branch]);
        d
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--data")
            .arg(&self.path)
            .arg("--key-file")
            .arg(self.key_file())
            .args(args)
            .env_remove("BLISKO_KIOSK_DATA")
            .env_remove("BLISKO_KEY_FILE")
            .env_remove("BLISKO_LANG")
            .env_remove("BLISKO_LOG")
            .stdin(Stdio::null());
        cmd
    }

    /// The store's key, beside the data folder (never in it).
    fn key_file(&self) -> PathBuf {
        self.path.with_extension("key")
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run blisko-kiosk")
    }

    fn run_with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start blisko-kiosk");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for blisko-kiosk")
    }

    /// Run with `--json`, expect success, return the parsed output.
    fn ok(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Run with `--json --lang en`, expect exit 2, return the error's code and message.
    fn refused(&self, args: &[&str]) -> (String, String) {
        self.refused_in("en", args)
    }

    fn refused_in(&self, lang: &str, args: &[&str]) -> (String, String) {
        let mut all = vec!["--json", "--lang", lang];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} was not refused: stdout {} stderr {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "a refused command printed a result: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let body: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
            panic!(
                "no JSON error ({e}): {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let code = body["error"]["code"]
            .as_str()
            .expect("error code")
            .to_owned();
        let message = body["error"]["message"]
            .as_str()
            .expect("error message")
            .to_owned();
        assert!(!message.trim().is_empty(), "empty message for {code}");
        (code, message)
    }

    /// Like [`DataDir::refused`], and also check that nothing was written: the counts
    /// and the pending changes are the same before and after.
    fn refused_unchanged(&self, args: &[&str]) -> (String, String) {
        let before = self.ok(&["status"]);
        let refusal = self.refused(args);
        let after = self.ok(&["status"]);
        assert_eq!(before, after, "{args:?} was refused but changed the kiosk");
        refusal
    }

    fn status(&self) -> Value {
        self.ok(&["status"])
    }

    fn count(&self, name: &str) -> u64 {
        self.status()["counts"][name]
            .as_u64()
            .unwrap_or_else(|| panic!("no count {name}"))
    }

    fn class_id(&self, title: &str) -> String {
        let classes = self.ok(&["classes"]);
        classes
            .as_array()
            .expect("class list")
            .iter()
            .find(|c| c["title"] == title)
            .unwrap_or_else(|| panic!("no class {title}"))["id"]
            .as_str()
            .expect("class id")
            .to_owned()
    }

    fn service_id(&self, name: &str) -> String {
        let services = self.ok(&["services"]);
        services
            .as_array()
            .expect("service list")
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no service {name}"))["id"]
            .as_str()
            .expect("service id")
            .to_owned()
    }

    /// Register a new person with valid details.
    fn register(&self, class: &str, given: &str) -> Value {
        self.ok(&[
            "register",
            "--class",
            class,
            "--given",
            given,
            "--family",
            "Kowalska",
            "--birth-year",
            "1956",
            "--consent",
        ])
    }

    fn roster(&self, class: &str) -> Vec<Value> {
        self.ok(&["roster", "--class", class])
            .as_array()
            .expect("roster rows")
            .clone()
    }
}

/// Given names for many different people.
const NAMES: &[&str] = &[
    "Anna", "Barbara", "Celina", "Danuta", "Ewa", "Felicja", "Grażyna", "Halina", "Irena",
    "Jadwiga", "Krystyna", "Lucyna", "Maria",
];

fn current_year() -> i32 {
    i32::from(jiff::Zoned::now().year())
}

fn register_args<'a>(class: &'a str, given: &'a str, year: &'a str) -> Vec<&'a str> {
    vec![
        "register",
        "--class",
        class,
        "--given",
        given,
        "--family",
        "Nowak",
        "--birth-year",
        year,
        "--consent",
    ]
}

fn intake_args<'a>(service: &'a str, given: &'a str) -> Vec<&'a str> {
    vec![
        "intake",
        "--service",
        service,
        "--given",
        given,
        "--family",
        "Nowak",
        "--birth-year",
        "1950",
        "--description",
        "Ból kolana po upadku, proszę o termin.",
        "--declaration",
        "--consent",
    ]
}

fn without<'a>(args: &[&'a str], flag: &str) -> Vec<&'a str> {
    let out: Vec<&str> = args.iter().copied().filter(|a| *a != flag).collect();
    assert_eq!(out.len() + 1, args.len(), "{flag} was not in {args:?}");
    out
}

// ----- setting up -----

#[test]
fn demo_sets_up_a_kiosk_and_refuses_a_second_setup() {
    let d = DataDir::empty();
    let id = d.ok(&["demo", "--branch", "SI"]);
    assert_eq!(id["branch_code"], "SI");
    assert_eq!(id["mode"], "standalone");
    assert_eq!(id["kiosk_number"], 1);
    let kiosk_id = id["kiosk_id"].as_str().expect("kiosk id").to_owned();

    let status = d.status();
    assert_eq!(status["kiosk_id"], kiosk_id.as_str());
    assert_eq!(status["branch_code"], "SI");
    assert_eq!(status["counts"]["classes"], 3);
    assert_eq!(status["counts"]["persons"], 0);

    let (code, message) = d.refused_unchanged(&["demo", "--branch", "MAL"]);
    assert_eq!(code, "already_set_up");
    assert!(message.contains("already set up"), "{message}");
    // Still the first kiosk, with the first branch.
    assert_eq!(d.status()["kiosk_id"], kiosk_id.as_str());
    assert_eq!(d.status()["branch_code"], "SI");
}

#[test]
fn demo_branch_code_is_case_insensitive_and_text_output_names_it() {
    let d = DataDir::empty();
    let out = d.run(&["demo", "--branch", "cim"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("branch CIM"), "{text}");
    assert!(text.contains("3 classes"), "{text}");
}

#[test]
fn demo_with_an_unknown_branch_writes_nothing() {
    let d = DataDir::empty();
    let (code, message) = d.refused(&["demo", "--branch", "XYZ"]);
    assert_eq!(code, "unknown_branch");
    assert!(message.contains("XYZ"), "{message}");
    assert!(!d.path.exists(), "the data folder was created");
    assert!(!d.key_file().exists(), "a key file was left behind");
    let (code, _) = d.refused(&["status"]);
    assert_eq!(code, "not_set_up");
    // The folder can still be set up properly afterwards.
    assert_eq!(d.ok(&["demo", "--branch", "MAL"])["branch_code"], "MAL");
}

#[test]
fn the_touch_app_refuses_an_unusable_ca_certificate_before_opening() {
    let d = DataDir::empty();
    let junk = d.key_file().with_extension("pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    for file in [junk.clone(), junk.with_extension("missing")] {
        let (code, message) = d.refused(&["--ca-cert", file.to_str().unwrap()]);
        assert_eq!(code, "bad_ca_cert", "{file:?}");
        assert!(!message.is_empty());
    }
    assert!(!d.path.exists(), "the data folder was created");
}

#[test]
fn commands_on_a_folder_that_is_not_set_up_are_refused() {
    let d = DataDir::empty();
    for args in [
        &["classes"][..],
        &["services"],
        &["status"],
        &["check"],
        &["requests", "--resident-code", "ACDE-FHJK"],
    ] {
        let (code, _) = d.refused(args);
        assert_eq!(code, "not_set_up", "{args:?}");
    }
    assert!(
        !d.path.exists(),
        "a read-only command created the data folder"
    );
}

// ----- reading the catalogue -----

#[test]
fn classes_json_has_the_fields_a_screen_needs() {
    let d = DataDir::empty();
    let id = d.ok(&["demo", "--branch", "MAL"]);
    let classes = d.ok(&["classes"]);
    let classes = classes.as_array().expect("class list");
    assert_eq!(classes.len(), 4);
    for c in classes {
        assert!(c["id"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        assert!(c["title"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        assert_eq!(c["branch_id"], id["branch_id"], "{c}");
        let capacity = c["capacity"].as_u64().expect("capacity");
        assert!(capacity > 0, "{c}");
        // A new standalone kiosk holds every seat of its branch.
        assert_eq!(c["free_seats"].as_u64(), Some(capacity), "{c}");
        assert_eq!(c["confirmed"], 0);
        assert_eq!(c["waitlisted"], 0);
    }
    let english = classes
        .iter()
        .find(|c| c["title"] == "Język angielski z native speakerem")
        .expect("the English class");
    assert_eq!(english["capacity"], 10);
    assert_eq!(english["waitlist_limit"], 10);
}

#[test]
fn services_json_marks_the_ones_that_need_a_pesel() {
    let d = DataDir::demo("MAL");
    let services = d.ok(&["services"]);
    let services = services.as_array().expect("service list");
    assert_eq!(services.len(), 7);
    let needs = |name: &str| {
        services
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no service {name}"))["requires_pesel"]
            .as_bool()
            .expect("requires_pesel")
    };
    assert!(!needs("Rehabilitacja w gabinecie"));
    assert!(needs("Mieszkanie treningowe"));
}

// ----- registering -----

#[test]
fn registrations_fill_a_class_then_wait_in_order() {
    let d = DataDir::demo("SI");
    let class = d.class_id("Trening pamięci"); // 8 seats, 6 waiting
    let mut confirmed = Vec::new();
    for name in &NAMES[..8] {
        let r = d.register(&class, name);
        assert_eq!(r["status"], "confirmed", "{r}");
        assert!(r["position"].is_null(), "{r}");
        assert_eq!(r["class_id"], class.as_str());
        assert_eq!(r["class_title"], "Trening pamięci");
        assert!(r["registration_id"].as_str().is_some_and(|s| !s.is_empty()));
        let code = r["resident_code"].as_str().expect("resident code");
        assert_eq!(code.len(), 9, "{code}");
        assert_eq!(&code[4..5], "-", "{code}");
        confirmed.push(r["registration_id"].as_str().unwrap().to_owned());
    }
    let mut waiting = Vec::new();
    for (i, name) in NAMES[8..11].iter().enumerate() {
        let r = d.register(&class, name);
        assert_eq!(r["status"], "waitlisted", "{r}");
        assert_eq!(r["position"].as_u64(), Some(i as u64 + 1), "{r}");
        waiting.push(r["registration_id"].as_str().unwrap().to_owned());
    }

    let row = d
        .ok(&["classes"])
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == class.as_str())
        .cloned()
        .unwrap();
    assert_eq!(row["confirmed"], 8);
    assert_eq!(row["waitlisted"], 3);
    assert_eq!(row["free_seats"], 0);

    let roster = d.roster(&class);
    assert_eq!(roster.len(), 11);
    for r in &roster {
        let id = r["registration_id"].as_str().unwrap();
        assert_eq!(r["class_id"], class.as_str());
        if let Some(i) = waiting.iter().position(|w| w == id) {
            assert_eq!(r["status"], "waitlisted");
            assert_eq!(r["position"].as_u64(), Some(i as u64 + 1));
        } else {
            assert!(confirmed.iter().any(|c| c == id), "unknown row {r}");
            assert_eq!(r["status"], "confirmed");
            assert!(r["position"].is_null());
        }
    }

    let status = d.status();
    assert_eq!(status["counts"]["persons"], 11);
    assert_eq!(status["counts"]["registrations_confirmed"], 8);
    assert_eq!(status["counts"]["registrations_waitlisted"], 3);
    assert_eq!(d.ok(&["check"])["ok"], true);
}

#[test]
fn a_full_waiting_list_refuses_more_people() {
    let d = DataDir::demo("SI");
    let class = d.class_id("Trening pamięci"); // 8 seats, 6 waiting
    for i in 0..14 {
        let r = d.register(&class, NAMES[i % NAMES.len()]);
        assert_ne!(r["status"], "cancelled");
    }
    let (code, message) = d.refused_unchanged(&register_args(&class, "Zofia", "1950"));
    assert_eq!(code, "class_full");
    assert!(message.contains("Trening pamięci"), "{message}");
}

#[test]
fn register_text_output_shows_the_outcome_and_the_codes() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let out = d.run(&register_args(&class, "Anna", "1970"));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Pilates: confirmed"), "{text}");
    assert!(text.contains("registration: "), "{text}");
    assert!(text.contains("resident code: "), "{text}");
}

#[test]
fn cancel_gives_the_seat_to_the_first_person_waiting() {
    let d = DataDir::demo("SI");
    let class = d.class_id("Trening pamięci");
    let confirmed: Vec<String> = NAMES[..8]
        .iter()
        .map(|n| {
            d.register(&class, n)["registration_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let first_waiting = d.register(&class, "Zofia")["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second_waiting = d.register(&class, "Teresa")["registration_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let receipt = d.ok(&["cancel", "--registration", &confirmed[3]]);
    assert_eq!(receipt["registration_id"], confirmed[3].as_str());
    assert_eq!(receipt["status"], "cancelled");
    assert_eq!(receipt["promoted"], serde_json::json!([first_waiting]));

    let roster = d.roster(&class);
    let state = |id: &str| {
        roster
            .iter()
            .find(|r| r["registration_id"] == id)
            .map(|r| (r["status"].clone(), r["position"].clone()))
            .unwrap_or_else(|| panic!("{id} not in the roster"))
    };
    assert_eq!(state(&confirmed[3]).0, "cancelled");
    assert_eq!(state(&first_waiting), ("confirmed".into(), Value::Null));
    assert_eq!(state(&second_waiting), ("waitlisted".into(), 1.into()));
    let counts = d.status()["counts"].clone();
    assert_eq!(counts["registrations_confirmed"], 8);
    assert_eq!(counts["registrations_waitlisted"], 1);
    assert_eq!(counts["registrations_active"], 9);

    // The next cancellation promotes the second person; after that nobody is waiting.
    let receipt = d.ok(&["cancel", "--registration", &confirmed[0]]);
    assert_eq!(receipt["promoted"], serde_json::json!([second_waiting]));
    let receipt = d.ok(&["cancel", "--registration", &confirmed[1]]);
    assert_eq!(receipt["promoted"], serde_json::json!([]));
    assert_eq!(d.count("registrations_confirmed"), 7);

    let (code, _) = d.refused_unchanged(&["cancel", "--registration", &confirmed[3]]);
    assert_eq!(code, "already_cancelled");
    assert_eq!(d.ok(&["check"])["ok"], true);
}

#[test]
fn cancel_of_an_unknown_registration_is_refused() {
    let d = DataDir::demo("MAL");
    let (code, _) = d.refused_unchanged(&["cancel", "--registration", "no-such-thing"]);
    assert_eq!(code, "unknown_registration");
    let (code, _) = d.refused_unchanged(&[
        "cancel",
        "--registration",
        "01890a5d-ac96-774b-bcce-b302099a8057",
    ]);
    assert_eq!(code, "unknown_registration");
}

#[test]
fn a_class_without_a_waiting_list_refuses_when_full() {
    let d = DataDir::demo("SW");
    let class = d.class_id("Męska Szopa"); // 6 seats, no waiting list
    for name in [
        "Adam",
        "Bogdan",
        "Cezary",
        "Dariusz",
        "Edward",
        "Franciszek",
    ] {
        assert_eq!(d.register(&class, name)["status"], "confirmed");
    }
    let (code, message) = d.refused_unchanged(&register_args(&class, "Grzegorz", "1960"));
    assert_eq!(code, "class_full");
    assert!(message.contains("Męska Szopa"), "{message}");
    assert_eq!(d.count("registrations_waitlisted"), 0);
    assert_eq!(d.roster(&class).len(), 6);
}

#[test]
fn roster_of_an_unknown_class_is_refused() {
    let d = DataDir::demo("MAL");
    let (code, _) = d.refused(&["roster", "--class", "nope"]);
    assert_eq!(code, "unknown_class");
}

// ----- intake requests -----

#[test]
fn intake_gives_a_reference_number() {
    let d = DataDir::demo("MAL");
    let service = d.service_id("Rehabilitacja w gabinecie");
    let year = current_year();
    let first = d.ok(&intake_args(&service, "Jan"));
    assert_eq!(first["reference"], format!("MAL/01/{year}/00001"));
    assert_eq!(first["status"], "submitted");
    assert_eq!(first["service_name"], "Rehabilitacja w gabinecie");
    assert!(
        first["resident_code"]
            .as_str()
            .is_some_and(|c| c.len() == 9)
    );
    let second = d.ok(&intake_args(&service, "Piotr"));
    assert_eq!(second["reference"], format!("MAL/01/{year}/00002"));
    assert_ne!(first["resident_code"], second["resident_code"]);
    assert_eq!(d.count("intake_requests"), 2);
    assert_eq!(d.count("persons"), 2);
}

#[test]
fn intake_for_a_service_that_needs_a_pesel() {
    let d = DataDir::demo("MAL");
    let service = d.service_id("Mieszkanie treningowe");
    let args = intake_args(&service, "Jan");
    let (code, message) = d.refused_unchanged(&args);
    assert_eq!(code, "pesel_required");
    assert!(message.contains("PESEL"), "{message}");

    let mut bad = args.clone();
    bad.extend(["--pesel", "44051401358"]);
    let (code, _) = d.refused_unchanged(&bad);
    assert_eq!(code, "invalid_pesel");

    // Valid, but born in 1944: not the 1950 given.
    let mut other_year = args.clone();
    other_year.extend(["--pesel", "44051401359"]);
    let (code, message) = d.refused_unchanged(&other_year);
    assert_eq!(code, "pesel_birth_year_mismatch");
    assert!(
        message.contains("The PESEL gives birth year 1944, but 1950 was entered"),
        "{message}"
    );
    let (_, polish) = d.refused_in("pl", &other_year);
    assert!(
        polish.contains("PESEL wskazuje rok urodzenia 1944, a podano 1950"),
        "{polish}"
    );

    let mut good = args.clone();
    good.extend(["--pesel", VALID_PESEL]);
    let r = d.ok(&good);
    assert!(
        r["reference"]
            .as_str()
            .is_some_and(|s| s.starts_with("MAL/"))
    );
}

#[test]
fn a_pesel_for_a_service_that_does_not_need_one_is_refused() {
    let d = DataDir::demo("MAL");
    let service = d.service_id("Rehabilitacja w gabinecie");
    for pesel in [VALID_PESEL, "12345"] {
        let mut args = intake_args(&service, "Jan");
        args.extend(["--pesel", pesel]);
        let (code, message) = d.refused_unchanged(&args);
        assert_eq!(code, "pesel_not_needed", "{pesel}");
        assert!(message.contains("does not need a PESEL"), "{message}");
        let (_, polish) = d.refused_in("pl", &args);
        assert!(polish.contains("nie wymaga numeru PESEL"), "{polish}");
    }
    // An empty value is the same as none.
    let mut args = intake_args(&service, "Jan");
    args.extend(["--pesel", " "]);
    d.ok(&args);
}

#[test]
fn intake_roles() {
    let d = DataDir::demo("MAL");
    let service = d.service_id("Psycholog dziecięcy");
    for role in ["self", "legal_representative", "de_facto_carer"] {
        let mut args = intake_args(&service, "Ewa");
        args.extend(["--role", role]);
        d.ok(&args);
    }
    assert_eq!(d.count("intake_requests"), 3);

    let mut args = intake_args(&service, "Ewa");
    args.extend(["--role", "bogus"]);
    let (code, message) = d.refused_unchanged(&args);
    assert_eq!(code, "unknown_role");
    assert!(message.contains("legal representative"), "{message}");
    assert!(!message.contains("note"), "{message}");
    let (_, polish) = d.refused_in("pl", &args);
    assert!(polish.contains("opiekun faktyczny"), "{polish}");
}

// ----- returning residents -----

#[test]
fn requests_show_a_residents_registrations_and_requests() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let service = d.service_id("Podolog");
    let reg = d.ok(&register_args(&class, "Jan", "1950"));
    let code = reg["resident_code"].as_str().unwrap().to_owned();

    let mut args = intake_args(&service, "Jan");
    args.extend(["--resident-code", &code]);
    let req = d.ok(&args);
    assert_eq!(req["resident_code"], code.as_str());
    assert_eq!(req["person_id"], reg["person_id"]);

    // Somebody else's records do not show up.
    d.register(&class, "Anna");

    // Case, spaces and dashes in a typed code do not matter.
    let typed = code.replace('-', " ").to_lowercase();
    let overview = d.ok(&["requests", "--resident-code", &typed]);
    assert_eq!(overview["resident_code"], code.as_str());
    assert_eq!(overview["given_name"], "Jan");
    let regs = overview["registrations"].as_array().unwrap();
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0]["registration_id"], reg["registration_id"]);
    assert_eq!(regs[0]["class_title"], "Pilates");
    assert_eq!(regs[0]["status"], "confirmed");
    let reqs = overview["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0]["reference"], req["reference"]);
    assert_eq!(reqs[0]["service_name"], "Podolog");
    assert_eq!(reqs[0]["status"], "submitted");

    let out = d.run(&["requests", "--resident-code", &code]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Pilates: confirmed"), "{text}");
    assert!(text.contains(req["reference"].as_str().unwrap()), "{text}");
}

#[test]
fn requests_with_an_unknown_or_malformed_code_are_refused() {
    let d = DataDir::demo("MAL");
    let (code, _) = d.refused(&["requests", "--resident-code", "ACDE-FHJK"]);
    assert_eq!(code, "unknown_resident_code");
    let (code, _) = d.refused(&["requests", "--resident-code", "hello"]);
    assert_eq!(code, "unknown_resident_code");
}

#[test]
fn a_returning_resident_registers_with_their_code() {
    let d = DataDir::demo("MAL");
    let pilates = d.class_id("Pilates");
    let yoga_like = d.class_id("Gimnastyka");
    let first = d.ok(&register_args(&pilates, "Jan", "1950"));
    let code = first["resident_code"].as_str().unwrap().to_owned();

    let mut args = register_args(&yoga_like, "Jan", "1950");
    args.extend(["--resident-code", &code]);
    let second = d.ok(&args);
    assert_eq!(second["person_id"], first["person_id"]);
    assert_eq!(second["resident_code"], code.as_str());
    assert_eq!(d.count("persons"), 1);
    assert_eq!(d.count("registrations_active"), 2);

    // The same person cannot hold two places in one class.
    let mut again = register_args(&pilates, "Jan", "1950");
    again.extend(["--resident-code", &code]);
    let (err, message) = d.refused_unchanged(&again);
    assert_eq!(err, "already_registered");
    assert!(message.contains("Pilates"), "{message}");

    // An unknown code is refused, not turned into a new person.
    let mut unknown = register_args(&pilates, "Jan", "1950");
    unknown.extend(["--resident-code", "ACDE-FHJK"]);
    let (err, _) = d.refused_unchanged(&unknown);
    assert_eq!(err, "unknown_resident_code");
}

#[test]
fn a_resident_code_with_other_details_is_refused() {
    let d = DataDir::demo("MAL");
    let pilates = d.class_id("Pilates");
    let gym = d.class_id("Gimnastyka");
    let service = d.service_id("Podolog");
    let first = d.ok(&register_args(&pilates, "Jan", "1950"));
    let code = first["resident_code"].as_str().unwrap().to_owned();

    let with_code = |given: &'static str, family: &'static str, year: &'static str| {
        let mut args = register_args(&gym, given, year);
        args[6] = family;
        args.extend(["--resident-code", code.as_str()]);
        args.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    for (given, family, year) in [
        ("Janusz", "Nowak", "1950"),
        ("Jan", "Nowakowski", "1950"),
        ("Jan", "Nowak", "1951"),
        ("Anna", "Kowalska", "1980"),
    ] {
        let args = with_code(given, family, year);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (err, message) = d.refused_unchanged(&args);
        assert_eq!(err, "resident_details_mismatch", "{given} {family} {year}");
        // The message does not reveal the stored details.
        assert!(
            !message.contains("Jan") && !message.contains("1950"),
            "{message}"
        );
        let (_, polish) = d.refused_in("pl", &args);
        assert!(polish.contains("kodem"), "{polish}");
    }

    let mut intake = intake_args(&service, "Jan");
    intake[8] = "1949";
    intake.extend(["--resident-code", &code]);
    let (err, _) = d.refused_unchanged(&intake);
    assert_eq!(err, "resident_details_mismatch");

    // Letter case and stray spaces are typing slips, not other people.
    let args = with_code("  jAN ", " NOWAK", "1950");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let second = d.ok(&args);
    assert_eq!(second["person_id"], first["person_id"]);
    assert_eq!(d.count("persons"), 1);
}

// ----- status and check -----

#[test]
fn status_shows_counts_and_pending_changes() {
    let d = DataDir::demo("MAL");
    let before = d.status();
    assert_eq!(before["mode"], "standalone");
    assert_eq!(before["branch_code"], "MAL");
    assert_eq!(before["pending_changes"], 0);
    assert!(before["last_sync"].is_null());
    assert_eq!(before["counts"]["classes"], 4);
    assert_eq!(before["counts"]["registrations_active"], 0);

    let class = d.class_id("Pilates");
    d.register(&class, "Anna");
    let after = d.status();
    let pending = after["pending_changes"].as_u64().unwrap();
    assert!(pending > 0, "{after}");
    assert_eq!(after["counts"]["persons"], 1);
    assert_eq!(after["counts"]["registrations_active"], 1);
    assert_eq!(after["counts"]["registrations_confirmed"], 1);

    let service = d.service_id("Wolontariat");
    d.ok(&intake_args(&service, "Ewa"));
    let later = d.status();
    assert!(later["pending_changes"].as_u64().unwrap() > pending);
    assert_eq!(later["counts"]["intake_requests"], 1);

    let out = d.run(&["status"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 persons"), "{text}");
    assert!(text.contains("1 requests"), "{text}");
    assert!(text.contains("last sync: never"), "{text}");
}

#[test]
fn check_reports_ok() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    for name in &NAMES[..3] {
        d.register(&class, name);
    }
    let report = d.ok(&["check"]);
    assert_eq!(report, serde_json::json!({ "ok": true, "problems": [] }));
    let out = d.run(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
}

// ----- refused input: a clear message, exit 2, nothing written -----

#[test]
fn registration_without_consent_is_refused() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let args = register_args(&class, "Anna", "1950");
    let (code, message) = d.refused_unchanged(&without(&args, "--consent"));
    assert_eq!(code, "consent_required");
    assert!(message.contains("information clause"), "{message}");
}

#[test]
fn sms_reminders_without_a_phone_are_refused() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let mut args = register_args(&class, "Anna", "1950");
    args.push("--sms-consent");
    let (code, message) = d.refused_unchanged(&args);
    assert_eq!(code, "sms_consent_needs_phone");
    assert!(message.contains("phone number"), "{message}");
    let mut blank = args.clone();
    blank.extend(["--phone", "  "]);
    let (code, _) = d.refused_unchanged(&blank);
    assert_eq!(code, "sms_consent_needs_phone");
    let mut bad = args.clone();
    bad.extend(["--phone", "12"]);
    let (code, _) = d.refused_unchanged(&bad);
    assert_eq!(code, "invalid_phone");
    args.extend(["--phone", "600-100-200"]);
    assert_eq!(d.ok(&args)["status"], "confirmed");
}

#[test]
fn registration_for_an_unknown_class_is_refused() {
    let d = DataDir::demo("MAL");
    let (code, _) = d.refused_unchanged(&register_args("no-such-class", "Anna", "1950"));
    assert_eq!(code, "unknown_class");
    // A real class of another branch is not this kiosk's.
    let other = DataDir::demo("SW");
    let shed = other.class_id("Męska Szopa");
    let (code, _) = d.refused_unchanged(&register_args(&shed, "Anna", "1950"));
    assert_eq!(code, "unknown_class");
}

#[test]
fn absurd_birth_years_are_refused() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let next_year = (current_year() + 1).to_string();
    for year in ["1800", next_year.as_str(), "0"] {
        let (code, message) = d.refused_unchanged(&register_args(&class, "Anna", year));
        assert_eq!(code, "birth_year_out_of_range", "{year}");
        assert!(message.contains("birth year"), "{message}");
    }
    // The edges of the range are accepted.
    d.ok(&register_args(&class, "Anna", &current_year().to_string()));
    d.ok(&register_args(
        &class,
        "Ewa",
        &(current_year() - 120).to_string(),
    ));
}

#[test]
fn empty_names_are_refused() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let (code, message) = d.refused_unchanged(&register_args(&class, "", "1950"));
    assert_eq!(code, "empty");
    assert!(message.contains("given name"), "{message}");
    let (code, _) = d.refused_unchanged(&register_args(&class, "   ", "1950"));
    assert_eq!(code, "empty");
    let mut args = register_args(&class, "Anna", "1950");
    args[6] = " ";
    let (code, message) = d.refused_unchanged(&args);
    assert_eq!(code, "empty");
    assert!(message.contains("family name"), "{message}");
}

#[test]
fn names_with_digits_are_refused() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let (code, message) = d.refused_unchanged(&register_args(&class, "Anna2", "1950"));
    assert_eq!(code, "invalid_characters");
    assert!(message.contains("given name"), "{message}");
    let service = d.service_id("Podolog");
    let (code, _) = d.refused_unchanged(&intake_args(&service, "4nna"));
    assert_eq!(code, "invalid_characters");
}

#[test]
fn intake_without_declaration_or_consent_is_refused() {
    let d = DataDir::demo("MAL");
    let service = d.service_id("Podolog");
    let args = intake_args(&service, "Anna");
    let (code, message) = d.refused_unchanged(&without(&args, "--declaration"));
    assert_eq!(code, "declaration_required");
    assert!(message.contains("declaration"), "{message}");
    let (code, _) = d.refused_unchanged(&without(&args, "--consent"));
    assert_eq!(code, "consent_required");
}

#[test]
fn intake_with_an_unknown_service_or_empty_description_is_refused() {
    let d = DataDir::demo("MAL");
    let (code, _) = d.refused_unchanged(&intake_args("no-such-service", "Anna"));
    assert_eq!(code, "unknown_service");
    let service = d.service_id("Podolog");
    let mut args = intake_args(&service, "Anna");
    args[10] = "  ";
    let (code, message) = d.refused_unchanged(&args);
    assert_eq!(code, "empty");
    assert!(message.contains("description"), "{message}");
}

#[test]
fn refusals_in_text_mode_print_an_error_line() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let args = register_args(&class, "Anna", "1800");
    let mut all = vec!["--lang", "en"];
    all.extend(args);
    let out = d.run(&all);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.starts_with("error: "), "{text}");
    assert!(text.contains("birth year"), "{text}");
}

#[test]
fn messages_never_name_flags_but_text_mode_gives_a_hint() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let args = without(&register_args(&class, "Anna", "1950"), "--consent");
    for lang in ["en", "pl"] {
        let (_, message) = d.refused_in(lang, &args);
        assert!(!message.contains("--"), "{message}");
    }
    let mut all = vec!["--lang", "en"];
    all.extend(args);
    let out = d.run(&all);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("hint: add --consent"), "{text}");

    let empty = DataDir::empty();
    let out = empty.run(&["--lang", "en", "classes"]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("not set up"), "{text}");
    assert!(
        text.contains("hint: run `blisko-kiosk --data DIR demo` first"),
        "{text}"
    );
}

#[test]
fn messages_are_in_polish_unless_english_is_asked_for() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let args = without(&register_args(&class, "Anna", "1950"), "--consent");
    let mut all = vec!["--json"];
    all.extend(args.iter().copied());
    let out = d.run(&all);
    assert_eq!(out.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(body["error"]["code"], "consent_required");
    let polish = body["error"]["message"].as_str().unwrap();
    assert!(polish.contains("informacją o danych osobowych"), "{polish}");

    let (_, english) = d.refused_in("en", &args);
    assert!(english.contains("information clause"), "{english}");
    // The environment can choose too.
    let out = d.command(&all).env("BLISKO_LANG", "en").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("information clause"));
}

#[test]
fn a_missing_required_flag_is_a_usage_error_with_exit_2() {
    let d = DataDir::demo("MAL");
    let before = d.status();
    let out = d.run(&["--json", "register", "--given", "Anna"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(d.status(), before);
}

#[test]
fn argument_errors_are_json_with_json_and_change_nothing() {
    let d = DataDir::demo("MAL");
    let before = d.status();
    for args in [
        &["status", "--bogus"][..],
        &["register", "--given", "Anna"],
        &["roster", "--class"],
        &["--speech-volume", "9", "status"],
        &["--slip-width", "110", "status"],
    ] {
        let (code, message) = d.refused(args);
        assert_eq!(code, "bad_arguments", "{args:?}");
        assert!(!message.contains("Usage:"), "one line: {message}");
    }
    let (_, message) = d.refused(&["status", "--bogus"]);
    assert!(message.contains("--bogus"), "names the argument: {message}");
    assert_eq!(d.status(), before);
    // Without --json, clap's own text as before.
    let out = d.run(&["status", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: unexpected argument"));
}

// ----- configuration file -----

/// Run the kiosk with only the given arguments and environment (no --data of the helper).
fn bare(args: &[&str], env: &[(&str, &std::path::Path)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("BLISKO_KIOSK_DATA")
        .env_remove("BLISKO_KEY_FILE")
        .env_remove("BLISKO_LANG")
        .env_remove("BLISKO_LOG")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run blisko-kiosk")
}

#[test]
fn the_configuration_file_sets_options_below_the_environment_and_flags() {
    let d = DataDir::demo("MAL");
    let other = DataDir::empty();
    let config = d.path.with_extension("toml");
    std::fs::write(
        &config,
        format!(
            "data = {:?}\nkey_file = {:?}\nlang = \"en\"\n",
            d.path.display().to_string(),
            d.key_file().display().to_string()
        ),
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    // The file names the folder and the key: the kiosk is found.
    let out = bare(&["--config", config_arg, "--json", "status"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["branch_code"], "MAL");
    // --config after the command works the same.
    let out = bare(&["--json", "status", "--config", config_arg], &[]);
    assert_eq!(out.status.code(), Some(0));
    // The environment beats the file: an empty folder is not set up (in English, from
    // the file's language).
    let env = [("BLISKO_KIOSK_DATA", other.path.as_path())];
    let out = bare(&["--config", config_arg, "--json", "status"], &env);
    assert_eq!(out.status.code(), Some(2));
    let body: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(body["error"]["code"], "not_set_up");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not set up"),
        "{body}"
    );
    // A flag beats the environment.
    let data = d.path.to_str().unwrap();
    let out = bare(
        &["--config", config_arg, "--data", data, "--json", "status"],
        &env,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !other.path.exists(),
        "nothing was made in the folder not used"
    );
}

#[test]
fn a_wrong_configuration_file_is_refused_with_its_key_and_changes_nothing() {
    let d = DataDir::empty();
    let config = d.path.with_extension("toml");
    let config_arg = config.to_str().unwrap();
    for (text, key) in [
        ("data = \"x\"\nprinter_queue = \"slip\"\n", "printer_queue"),
        ("speech_volume = \"loud\"\n", "speech_volume"),
        ("slip_width = 110\n", "slip_width"),
    ] {
        std::fs::write(&config, text).unwrap();
        let out = d.run(&["--config", config_arg, "--json", "demo"]);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(out.stdout.is_empty());
        let body: Value = serde_json::from_slice(&out.stderr).expect("a JSON error");
        assert_eq!(body["error"]["code"], "bad_config");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(config_arg), "names the file: {message}");
        assert!(
            message.contains(&format!("`{key}`")),
            "names the key: {message}"
        );
        assert!(!d.path.exists(), "the data folder was created");
        assert!(!d.key_file().exists(), "a key file was created");
    }
    // A file named with --config must exist.
    let out = d.run(&["--config", "/nonexistent/kiosk.toml", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/kiosk.toml"));
}

// ----- batch -----

#[test]
fn batch_acknowledges_each_line_and_refuses_bad_ones() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let service = d.service_id("Podolog");
    let register = |given: &str, year: i32, consent: bool| {
        serde_json::json!({ "register": {
            "class": class, "given": given, "family": "Nowak",
            "birth_year": year, "consent": consent,
        }})
        .to_string()
    };
    let intake = serde_json::json!({ "intake": {
        "service": service, "given": "Ewa", "family": "Nowak", "birth_year": 1948,
        "description": "Proszę o wizytę.", "declaration": true, "consent": true,
    }})
    .to_string();
    let input = [
        register("Anna", 1950, true),
        register("Barbara", 1800, true),
        String::new(),
        intake,
        register("Celina", 1960, false),
        "{ not json".to_owned(),
        register("Danuta", 1970, true),
    ]
    .join("\n");
    let out = d.run_with_stdin(&["--lang", "en", "batch"], &input);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a refused line makes the batch exit 2"
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("an acknowledgement is JSON"))
        .collect();
    // One line per non-empty input line, in order.
    let numbers: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [1, 2, 4, 5, 6, 7]);
    let ok = |i: usize| &lines[i]["ok"];
    let err = |i: usize| &lines[i]["error"];
    assert_eq!(ok(0)["status"], "confirmed");
    assert_eq!(err(1)["code"], "birth_year_out_of_range");
    assert!(err(1)["message"].as_str().unwrap().contains("birth year"));
    assert!(ok(2)["reference"].as_str().unwrap().starts_with("MAL/"));
    assert_eq!(err(3)["code"], "consent_required");
    assert_eq!(err(4)["code"], "malformed");
    assert_eq!(ok(5)["status"], "confirmed");
    for i in [0, 2, 5] {
        assert!(lines[i].get("error").is_none(), "{}", lines[i]);
    }

    let counts = d.status()["counts"].clone();
    assert_eq!(counts["persons"], 3);
    assert_eq!(counts["registrations_active"], 2);
    assert_eq!(counts["intake_requests"], 1);
    assert_eq!(d.ok(&["check"])["ok"], true);
}

#[test]
fn batch_refuses_misspelled_keys_and_never_echoes_a_bad_line() {
    let d = DataDir::demo("MAL");
    let class = d.class_id("Pilates");
    let service = d.service_id("Mieszkanie treningowe");
    let input = [
        // A misspelled optional key would silently lose the consent to SMS.
        serde_json::json!({ "register": {
            "class": class, "given": "Zenobia", "family": "Przybylska", "birth_year": 1950,
            "consent": true, "phone": "600100200", "sms_consnet": true,
        }})
        .to_string(),
        serde_json::json!({ "intake": {
            "service": service, "given": "Zenobia", "family": "Przybylska",
            "birth_year": 1950, "description": "Opis.", "declaration": true, "consent": true,
            "pesel": VALID_PESEL, "rola": "self",
        }})
        .to_string(),
        // A wrong type: the parser would quote the value.
        serde_json::json!({ "register": {
            "class": class, "given": "Zenobia", "family": "Przybylska",
            "birth_year": "Przybylska 1950", "consent": true,
        }})
        .to_string(),
        format!(r#"{{"intake": {{"given": "Zenobia", "pesel": "{VALID_PESEL}""#),
        r#"{"enrol": {"given": "Zenobia"}}"#.to_owned(),
    ]
    .join("\n");
    let before = d.status();
    let out = d.run_with_stdin(&["--lang", "en", "batch"], &input);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(d.status(), before, "a refused line wrote something");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for secret in [
        "Zenobia",
        "Przybylska",
        VALID_PESEL,
        "consnet",
        "rola",
        "enrol",
    ] {
        assert!(!stdout.contains(secret), "{secret} echoed: {stdout}");
        assert!(!stderr.contains(secret), "{secret} echoed: {stderr}");
    }
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l["line"], i + 1);
        assert_eq!(l["error"]["code"], "malformed", "{l}");
        let message = l["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("Line {} ", i + 1)),
            "{message}"
        );
    }
    assert!(
        lines[3]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    assert!(
        lines[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown")
    );

    // Polish by default.
    let out = d.run_with_stdin(&["batch"], "{");
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["error"]["message"],
        "Wiersz 1 nie jest poprawnym obiektem JSON."
    );
}

#[test]
fn batch_cancel_and_all_good_lines_exit_0() {
    let d = DataDir::demo("SW");
    let class = d.class_id("Męska Szopa");
    let ids: Vec<String> = ["Adam", "Bogdan"]
        .iter()
        .map(|n| {
            d.register(&class, n)["registration_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let input = format!(
        "{}\n{}\n",
        serde_json::json!({ "cancel": { "registration": ids[0] } }),
        serde_json::json!({ "register": {
            "class": class, "given": "Cezary", "family": "Wójcik",
            "birth_year": 1961, "consent": true, "phone": "600 100 200", "sms_consent": true,
        }}),
    );
    let out = d.run_with_stdin(&["batch"], &input);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["ok"]["status"], "cancelled");
    assert_eq!(lines[0]["ok"]["registration_id"], ids[0].as_str());
    assert_eq!(lines[1]["ok"]["status"], "confirmed");
    assert_eq!(d.count("registrations_active"), 2);
}

#[test]
fn a_failed_enrollment_leaves_no_key_file_behind() {
    let d = DataDir::empty();
    // Nothing listens on the discard port: the server cannot be reached.
    let out = d.run(&[
        "--json",
        "enroll",
        "--server",
        "http://127.0.0.1:9",
        "--code",
        "ABCD-EFGH",
    ]);
    assert_eq!(out.status.code(), Some(1), "a failure worth retrying");
    let body: Value = serde_json::from_slice(&out.stderr).expect("a JSON error");
    assert_eq!(body["error"]["code"], "offline");
    assert!(!d.path.exists(), "the data folder was created");
    assert!(!d.key_file().exists(), "a key file was left behind");
    // The folder can still be set up afterwards, with a new key.
    assert_eq!(d.ok(&["demo", "--branch", "MAL"])["branch_code"], "MAL");
    assert!(d.key_file().exists());
}
