//! The kiosk's store is encrypted at rest: its files (the database, its write-ahead log,
//! a copy of the folder) hold no personal data in clear, a wrong or missing key is
//! refused and changes nothing, and the key lives outside the data folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use blisko_kiosk::Kiosk;
use blisko_kiosk::KioskError;
use blisko_kiosk::key::StoreKey;
use blisko_kiosk::kiosk::{RegistrationForm, system_clock};
use blisko_kiosk::store::{DB_FILE, StoreError};

const BIN: &str = env!("CARGO_BIN_EXE_blisko-kiosk");

/// Names no catalogue text contains, so finding their bytes means a leak.
const GIVEN: &str = "Bronisława";
const FAMILY: &str = "Szczęsnowicz";
const PHONE: &str = "+48 601 234 567";

struct Folder {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    key_file: PathBuf,
}

fn folder() -> Folder {
    let tmp = tempfile::tempdir().expect("tempdir");
    Folder {
        data: tmp.path().join("kiosk"),
        key_file: tmp.path().join("kiosk.key"),
        _tmp: tmp,
    }
}

/// A demo kiosk with one person registered.
fn demo_with_registration(f: &Folder) -> (Kiosk, String) {
    let key = StoreKey::load_or_create(&f.key_file).expect("key");
    let mut k = Kiosk::setup_demo(&f.data, "MAL", &key, system_clock()).expect("demo kiosk");
    let class = k.classes().expect("classes")[0].id.to_string();
    let receipt = k
        .register(&RegistrationForm {
            class_id: class,
            given_name: GIVEN.into(),
            family_name: FAMILY.into(),
            birth_year: 1947,
            phone: Some(PHONE.into()),
            consent: true,
            ..RegistrationForm::default()
        })
        .expect("register");
    (k, receipt.resident_code)
}

/// Every file in `dir` (recursively) with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("read the folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            all.extend(files(&path));
        } else {
            let bytes = std::fs::read(&path).expect("read a file");
            all.insert(path, bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn assert_no_plaintext(dir: &Path) {
    for (path, bytes) in files(dir) {
        for needle in [GIVEN, FAMILY, PHONE] {
            assert!(
                !contains(&bytes, needle),
                "{} holds {needle:?} in clear",
                path.display()
            );
        }
    }
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the folder") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a file");
    }
}

#[test]
fn the_store_its_log_and_a_copy_hold_no_plaintext() {
    let f = folder();
    let (k, code) = demo_with_registration(&f);
    // While the kiosk runs, the registration sits in the write-ahead log.
    let wal = f.data.join(format!("{DB_FILE}-wal"));
    assert!(
        std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) > 0,
        "the write-ahead log holds the last writes"
    );
    assert_no_plaintext(&f.data);
    // A backup taken the plain way: a copy of the folder, log included.
    let backup = f.data.with_extension("backup");
    copy_folder(&f.data, &backup);
    assert_no_plaintext(&backup);
    // The person is there for whoever has the key.
    let overview = k.resident(&code).expect("resident");
    assert_eq!(overview.given_name, GIVEN);
    drop(k);

    // Closed: the log is folded into the database, still encrypted.
    assert_no_plaintext(&f.data);
    let key = StoreKey::load(&f.key_file).expect("key");
    let k = Kiosk::open(&f.data, &key).expect("reopen");
    assert_eq!(k.resident(&code).expect("resident").given_name, GIVEN);
    drop(k);
    // The copy opens with the same key, and only with it.
    assert!(Kiosk::open(&backup, &key).is_ok());
    assert!(matches!(
        Kiosk::open(&backup, &StoreKey::random()),
        Err(KioskError::Store(StoreError::WrongKey))
    ));
}

#[test]
fn a_wrong_or_missing_key_is_refused_and_changes_nothing() {
    let f = folder();
    let (k, code) = demo_with_registration(&f);
    drop(k);
    let before = files(&f.data);

    let wrong = Kiosk::open(&f.data, &StoreKey::random()).err();
    assert!(
        matches!(wrong, Some(KioskError::Store(StoreError::WrongKey))),
        "{wrong:?}"
    );

    // The command line: a key file with another key, then none at all.
    let other = f.key_file.with_extension("other");
    StoreKey::create(&other).expect("another key");
    let missing = f.key_file.with_extension("missing");
    for (key_file, code_expected) in [(&other, "wrong_key"), (&missing, "key_file")] {
        let out = Command::new(BIN)
            .arg("--data")
            .arg(&f.data)
            .arg("--key-file")
            .arg(key_file)
            .args(["--json", "status"])
            .env_remove("BLISKO_KEY_FILE")
            .env_remove("CREDENTIALS_DIRECTORY")
            .output()
            .expect("run blisko-kiosk");
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains(code_expected), "{text}");
    }
    assert!(!missing.exists(), "opening never creates a key");
    // Without any key the command line says how to give one.
    let out = Command::new(BIN)
        .arg("--data")
        .arg(&f.data)
        .args(["--lang", "en", "status"])
        .env_remove("BLISKO_KEY_FILE")
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("run blisko-kiosk");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--key-file"),
        "{out:?}"
    );

    assert_eq!(
        files(&f.data),
        before,
        "a refused key changed the data folder"
    );
    let key = StoreKey::load(&f.key_file).expect("key");
    let k = Kiosk::open(&f.data, &key).expect("the right key opens it");
    assert_eq!(k.resident(&code).expect("resident").given_name, GIVEN);
}

#[test]
fn set_up_writes_a_private_key_outside_the_data_folder() {
    let f = folder();
    let out = Command::new(BIN)
        .arg("--data")
        .arg(&f.data)
        .arg("--key-file")
        .arg(&f.key_file)
        .args(["--json", "demo", "--branch", "MAL"])
        .env_remove("BLISKO_KEY_FILE")
        .output()
        .expect("run blisko-kiosk");
    assert!(out.status.success(), "{out:?}");
    let key = StoreKey::load(&f.key_file).expect("set-up wrote the key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f.key_file)
            .expect("key file")
            .permissions();
        assert_eq!(
            mode.mode() & 0o077,
            0,
            "the key is readable by its owner only"
        );
    }
    assert!(Kiosk::open(&f.data, &key).is_ok());

    // A key file inside the data folder is refused before anything is written.
    let g = folder();
    let inside = g.data.join("kiosk.key");
    let out = Command::new(BIN)
        .arg("--data")
        .arg(&g.data)
        .arg("--key-file")
        .arg(&inside)
        .args(["--json", "demo", "--branch", "MAL"])
        .env_remove("BLISKO_KEY_FILE")
        .output()
        .expect("run blisko-kiosk");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("key_in_data_folder"));
    assert!(!g.data.exists());
}
