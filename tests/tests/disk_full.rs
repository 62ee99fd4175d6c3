//! A full disk at the kiosk, made real with a file size limit (RLIMIT_FSIZE, SIGXFSZ
//! ignored so that a write past it fails with EFBIG): writing fails with a message that
//! says the kiosk cannot save (on the command line and in the touch app), nothing stored
//! before is damaged, and once there is space again the kiosk works on.
//!
//! One test function: part of it limits this test process's own files, which must not
//! overlap with other tests of the same binary.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use blisko_kiosk::KioskError;
use blisko_kiosk::app::Screen;
use blisko_kiosk::kiosk::{IntakeForm, RegistrationForm};
use blisko_shared::i18n::Lang;
use blisko_shared::sqlite::StoreError;
use blisko_tests::kiosk_cli::{kiosk, kiosk_command, kiosk_json, text};
use blisko_tests::ui::{
    TestClock, harness_on, has_text, screen_name, tap, tap_containing, tick, type_into,
};

/// The smallest limit SQLite opens the store with: its shared-memory index is 32 KiB. A
/// registration's transaction is larger, so it cannot be written.
const TIGHT: libc::rlim_t = 32 * 1024;

/// Limit the size of files the current process writes (soft limit; the hard limit stays,
/// so the limit can be lifted again).
fn limit_files(bytes: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain system calls with a valid struct; called in a child before exec or
    // in this process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0, "setrlimit");
    }
}

/// Change the file size limit of a running child process (the disk fills while it runs).
fn limit_files_of(pid: u32, bytes: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: a valid struct; the old value is not asked for.
    let done = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(done, 0, "prlimit");
}

/// The kiosk command line with its files limited to `bytes`.
fn limited_kiosk(dir: &Path, bytes: libc::rlim_t) -> Command {
    let mut command = kiosk_command(dir);
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        command.pre_exec(move || {
            limit_files(bytes);
            Ok(())
        });
    }
    command
}

/// What the kiosk acknowledged so far.
#[derive(Default)]
struct Acknowledged {
    registrations: Vec<(String, String)>,
    cancelled: Vec<String>,
    requests: Vec<(String, String)>,
}

fn register_args<'a>(class: &'a str, given: &'a str) -> Vec<&'a str> {
    vec![
        "register",
        "--class",
        class,
        "--given",
        given,
        "--family",
        "Pełna",
        "--birth-year",
        "1951",
        "--consent",
    ]
}

/// Everything acknowledged is there, and nothing else; the store is sound.
fn check_store(dir: &Path, acked: &Acknowledged, classes: &[String]) {
    let check = kiosk(dir, &["check"]);
    assert!(
        check.status.success(),
        "check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let k = blisko_tests::harness::open_kiosk(dir).expect("open the kiosk");
    assert_eq!(k.store().integrity_check().expect("integrity check"), "ok");
    let mut stored = Vec::new();
    for class in classes {
        for row in k.roster(class).expect("roster") {
            stored.push((row.registration_id.to_string(), row.status));
        }
    }
    assert_eq!(
        stored.len(),
        acked.registrations.len(),
        "only acknowledged registrations are stored: {stored:?}"
    );
    for (id, class) in &acked.registrations {
        let row = k
            .roster(class)
            .expect("roster")
            .into_iter()
            .find(|r| r.registration_id.to_string() == *id)
            .unwrap_or_else(|| panic!("acknowledged registration {id} is lost"));
        assert_eq!(
            row.status == "cancelled",
            acked.cancelled.contains(id),
            "registration {id} is {}",
            row.status
        );
    }
    for (code, reference) in &acked.requests {
        let overview = k.resident(code).expect("the resident");
        assert!(
            overview.requests.iter().any(|r| r.reference == *reference),
            "acknowledged request {reference} is lost"
        );
    }
    assert_eq!(
        k.status().expect("status").counts.intake_requests as usize,
        acked.requests.len()
    );
}

/// The command line, one command at a time: a registration that cannot be written is
/// refused with the disk's message, in Polish and in English.
fn one_command_on_a_full_disk(dir: &Path, class: &str, acked: &Acknowledged, classes: &[String]) {
    let out = limited_kiosk(dir, TIGHT)
        .env("BLISKO_LANG", "pl")
        .args(register_args(class, "Zofia"))
        .output()
        .expect("run the kiosk");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failure, not refused input: {stderr}"
    );
    assert!(
        stderr.contains("pamięć kiosku jest pełna") && stderr.contains("Nic nie zostało zapisane"),
        "the Polish message says the disk is full: {stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing acknowledged");

    let out = limited_kiosk(dir, TIGHT)
        .arg("--json")
        .args(register_args(class, "Zofia"))
        .output()
        .expect("run the kiosk");
    let error: Value = serde_json::from_slice(&out.stderr).expect("a JSON error");
    assert_eq!(error["error"]["code"], "disk_full", "{error}");
    let message = text(&error["error"], "message");
    assert!(message.contains("storage is full"), "{message}");
    check_store(dir, acked, classes);
}

/// A batch running while the disk fills: what it acknowledged before stays, the line it
/// could not write is not acknowledged, and the batch stops with the disk's error.
fn a_batch_meets_a_full_disk(dir: &Path, class: &str, acked: &mut Acknowledged) {
    // No limit yet; SIGXFSZ ignored, as a real full disk sends no signal.
    let mut child = limited_kiosk(dir, libc::RLIM_INFINITY)
        .args(["--json", "batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the batch");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let item = |given: &str| {
        json!({ "register": {
            "class": class, "given": given, "family": "Wsadowa",
            "birth_year": 1960, "consent": true,
        }})
    };
    for given in ["Anna", "Beata", "Celina"] {
        writeln!(stdin, "{}", item(given)).expect("write a line");
        let line = lines.next().expect("an answer").expect("read an answer");
        let answer: Value = serde_json::from_str(&line).expect("JSON");
        acked
            .registrations
            .push((text(&answer["ok"], "registration_id"), class.to_owned()));
    }
    limit_files_of(child.id(), 0);
    writeln!(stdin, "{}", item("Dorota")).expect("write a line");
    drop(stdin);
    assert!(lines.next().is_none(), "the line is not acknowledged");
    let out = child.wait_with_output().expect("wait for the batch");
    assert_eq!(out.status.code(), Some(1));
    let error: Value = serde_json::from_slice(&out.stderr).expect("a JSON error");
    assert_eq!(error["error"]["code"], "disk_full", "{error}");
}

/// The kiosk core, as the touch app holds it open: every kind of write fails while the
/// disk is full, with the disk's message, and the same kiosk works on once there is space.
fn the_open_kiosk_waits_for_space(dir: &Path, class: &str, acked: &mut Acknowledged) {
    let mut k = blisko_tests::harness::open_kiosk(dir).expect("open the kiosk");
    let service = k
        .services()
        .expect("services")
        .into_iter()
        .find(|s| !s.requires_pesel)
        .expect("a service without PESEL")
        .id
        .to_string();
    let form = RegistrationForm {
        class_id: class.to_owned(),
        given_name: "Ewa".into(),
        family_name: "Cierpliwa".into(),
        birth_year: 1945,
        consent: true,
        ..RegistrationForm::default()
    };
    let intake = IntakeForm {
        service_id: service,
        given_name: "Irena".into(),
        family_name: "Cierpliwa".into(),
        birth_year: 1947,
        description: "Proszę o pomoc.".into(),
        declaration: true,
        consent: true,
        ..IntakeForm::default()
    };
    let victim = acked.registrations[0].0.clone();

    limit_files(0);
    let full = |e: KioskError| {
        assert!(
            matches!(e, KioskError::Store(StoreError::DiskFull { .. })),
            "{e:?}"
        );
        assert!(e.message(Lang::Pl).contains("pamięć kiosku jest pełna"));
        assert!(e.message(Lang::En).contains("Nothing was saved"));
    };
    full(k.register(&form).expect_err("no space to register"));
    full(k.cancel(&victim).expect_err("no space to cancel"));
    full(
        k.submit_intake(&intake)
            .expect_err("no space for a request"),
    );
    limit_files(libc::RLIM_INFINITY);

    // The same kiosk, not reopened: nothing of the failed writes lingers in memory.
    let r = k.register(&form).expect("register once there is space");
    acked
        .registrations
        .push((r.registration_id.to_string(), class.to_owned()));
    k.cancel(&victim).expect("cancel once there is space");
    acked.cancelled.push(victim);
    let i = k
        .submit_intake(&intake)
        .expect("a request once there is space");
    acked.requests.push((i.resident_code, i.reference));
    assert!(k.verify().expect("verify").is_empty());
}

/// The touch app: the person is told the kiosk cannot save, stays on the form with what
/// they typed, and the same tap saves once there is space.
fn the_app_tells_the_person(dir: &Path, acked: &mut Acknowledged) {
    let clock = TestClock::monday();
    let mut h = harness_on(dir, &clock);
    tap(&mut h, "Zapisy na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Łucja");
    type_into(&mut h, "Nazwisko", "Żółkiewska");
    type_into(&mut h, "Rok urodzenia", "1948");
    tap(&mut h, "Dalej");
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");

    limit_files(0);
    tap(&mut h, "Zapisz mnie");
    limit_files(libc::RLIM_INFINITY);
    assert!(
        has_text(&h, "pamięć kiosku jest pełna"),
        "the app says the kiosk cannot save"
    );
    assert!(
        !matches!(h.state().screen(), Screen::Registered { .. }),
        "no receipt is shown"
    );

    tap(&mut h, "Zapisz mnie");
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    acked.registrations.push((
        receipt.registration_id.to_string(),
        receipt.class_id.to_string(),
    ));
}

#[test]
fn a_full_disk_refuses_writes_clearly_and_work_resumes() {
    let folder = tempfile::tempdir().expect("a temp folder");
    let dir = folder.path();
    kiosk_json(dir, &["demo", "--branch", "MAL"]);
    let classes: Vec<String> = kiosk_json(dir, &["classes"])
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| text(c, "id"))
        .collect();
    let class = classes[0].clone();
    let mut acked = Acknowledged::default();
    for given in ["Halina", "Irena"] {
        let ack = kiosk_json(dir, &register_args(&class, given));
        acked
            .registrations
            .push((text(&ack, "registration_id"), class.clone()));
    }

    one_command_on_a_full_disk(dir, &class, &acked, &classes);
    a_batch_meets_a_full_disk(dir, &class, &mut acked);
    check_store(dir, &acked, &classes);

    // Space again: the command line writes as before.
    let ack = kiosk_json(dir, &register_args(&class, "Jadwiga"));
    acked
        .registrations
        .push((text(&ack, "registration_id"), class.clone()));
    check_store(dir, &acked, &classes);

    the_open_kiosk_waits_for_space(dir, &class, &mut acked);
    check_store(dir, &acked, &classes);

    the_app_tells_the_person(dir, &mut acked);
    check_store(dir, &acked, &classes);
}
