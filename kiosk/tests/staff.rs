//! Staff mode in the kiosk core: the PIN, today's sessions, roll call and walk-ins, on
//! a real store.

use std::path::Path;
use std::sync::{Arc, LazyLock};

use blisko_kiosk::KioskError;
use blisko_kiosk::key::StoreKey;
use blisko_kiosk::kiosk::{self, Kiosk, RegistrationForm, WallClock, hash_pin, pin_matches};
use blisko_shared::demo::DEMO_STAFF_PIN;
use blisko_shared::ids::RegistrationId;
use blisko_shared::model::AttendanceStatus;

/// Monday 23 November 2026, noon UTC: the demo's English class meets on Mondays.
fn monday() -> WallClock {
    let ms = "2026-11-23T12:00:00Z"
        .parse::<jiff::Timestamp>()
        .expect("a valid timestamp")
        .as_millisecond() as u64;
    Arc::new(move || ms)
}

/// These tests reopen stores within one process: a key in memory is enough.
static KEY: LazyLock<StoreKey> = LazyLock::new(StoreKey::random);

fn demo(dir: &Path) -> Kiosk {
    Kiosk::setup_demo(dir, "MAL", &KEY, monday()).expect("demo kiosk")
}

fn person(class: &str, given: &str, family: &str) -> RegistrationForm {
    RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: family.to_owned(),
        birth_year: 1950,
        consent: true,
        ..RegistrationForm::default()
    }
}

#[test]
fn a_pin_is_stored_only_as_an_argon2_hash_that_matches_it() {
    let hash = hash_pin("4321").expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("4321"));
    assert!(pin_matches(&hash, "4321"));
    assert!(!pin_matches(&hash, "4322"));
    assert!(!pin_matches("not a hash", "4321"));
    assert_ne!(
        hash,
        hash_pin("4321").expect("hash"),
        "salted: two hashes differ"
    );
}

#[test]
fn the_demo_pin_opens_staff_mode_and_nothing_else_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = demo(dir.path());
    let member = k
        .staff_by_pin(DEMO_STAFF_PIN)
        .expect("check")
        .expect("the demo PIN is a staff PIN");
    assert_eq!(member.name, "Obsługa MAL");
    for wrong in ["0000", "12345", "", "abcd", "1234 ", "12"] {
        assert_eq!(k.staff_by_pin(wrong).expect("check"), None, "{wrong:?}");
    }
}

#[test]
fn roll_call_marks_are_durable_and_show_the_latest_mark() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let staff = k
        .staff_by_pin(DEMO_STAFF_PIN)
        .expect("check")
        .expect("staff");
    let sessions = k.sessions_today().expect("sessions");
    assert!(!sessions.is_empty(), "the demo has sessions on Mondays");
    assert!(sessions.iter().all(|s| s.date == "2026-11-23"));
    let session = sessions[0].clone();
    let class = session.class_id.to_string();
    let anna = k.register(&person(&class, "Anna", "Nowak")).expect("anna");
    let jan = k.register(&person(&class, "Jan", "Kowalski")).expect("jan");

    k.mark_attendance(
        session.id,
        anna.registration_id,
        AttendanceStatus::Absent,
        staff.id,
    )
    .expect("mark");
    k.mark_attendance(
        session.id,
        anna.registration_id,
        AttendanceStatus::Present,
        staff.id,
    )
    .expect("re-mark");
    k.mark_attendance(
        session.id,
        jan.registration_id,
        AttendanceStatus::Excused,
        staff.id,
    )
    .expect("mark");
    drop(k);

    let mut k = Kiosk::open_with_clock(dir.path(), &KEY, monday()).expect("reopen");
    let roll = k.roll_call(session.id).expect("roll call");
    let mark = |id: RegistrationId| {
        roll.entries
            .iter()
            .find(|e| e.registration_id == id)
            .map(|e| (e.mark, e.conflict, e.family_name.clone()))
    };
    assert_eq!(
        mark(anna.registration_id),
        Some((Some(AttendanceStatus::Present), false, "Nowak".to_owned()))
    );
    assert_eq!(
        mark(jan.registration_id),
        Some((
            Some(AttendanceStatus::Excused),
            false,
            "Kowalski".to_owned()
        ))
    );
    assert!(k.verify().expect("verify").is_empty());
}

#[test]
fn a_mark_for_someone_not_in_the_class_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let staff = k
        .staff_by_pin(DEMO_STAFF_PIN)
        .expect("check")
        .expect("staff");
    let sessions = k.sessions_today().expect("sessions");
    let pending = k.store().pending_changes().expect("pending");
    let err = k
        .mark_attendance(
            sessions[0].id,
            RegistrationId::new(),
            AttendanceStatus::Present,
            staff.id,
        )
        .expect_err("refused");
    assert!(matches!(err, KioskError::UnknownRegistration(_)), "{err:?}");
    let err = k
        .roll_call(blisko_shared::ids::SessionId::new())
        .expect_err("no such session");
    assert!(matches!(err, KioskError::UnknownSession(_)), "{err:?}");
    assert_eq!(k.store().pending_changes().expect("pending"), pending);
}

#[test]
fn a_walk_in_past_capacity_waits_for_a_seat_but_is_marked_present() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let staff = k
        .staff_by_pin(DEMO_STAFF_PIN)
        .expect("check")
        .expect("staff");
    let session = k.sessions_today().expect("sessions")[0].clone();
    let class = k.class(&session.class_id.to_string()).expect("class");
    for i in 0..class.capacity {
        k.register(&person(
            &class.id.to_string(),
            "Osoba",
            &format!("Numer{}", letters(i)),
        ))
        .expect("register");
    }
    let receipt = k
        .add_walk_in(session.id, &person("", "Zofia", "Wiśniewska"), staff.id)
        .expect("walk-in");
    assert_eq!(receipt.status, "waitlisted");
    let roll = k.roll_call(session.id).expect("roll call");
    let entry = roll
        .entries
        .iter()
        .find(|e| e.registration_id == receipt.registration_id)
        .expect("the walk-in is on the roll call");
    assert_eq!(entry.mark, Some(AttendanceStatus::Present));
    assert_eq!(entry.seat, "waitlisted");
    assert_eq!(roll.entries.len() as u32, class.capacity + 1);
}

/// Names take letters only: 0 -> "A", 27 -> "Bb".
fn letters(mut n: u32) -> String {
    let mut s = String::new();
    loop {
        s.insert(0, (b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            break;
        }
    }
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[test]
fn the_kiosk_clock_decides_what_today_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    let k = demo(dir.path());
    assert_eq!(k.today(), "2026-11-23");
    assert_eq!(kiosk::local_date(monday()()).to_string(), "2026-11-23");
}

#[test]
fn the_roll_call_lists_names_in_polish_alphabetical_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let sessions = k.sessions_today().expect("sessions");
    let session = sessions
        .first()
        .expect("the demo has sessions on Mondays")
        .clone();
    let class = session.class_id.to_string();
    for (given, family) in [
        ("Zofia", "Żak"),
        ("Ewa", "Wójcik"),
        ("Adam", "Łukasiewicz"),
        ("Olga", "Ćwiklińska"),
        ("Piotr", "Wąsowicz"),
        ("Jan", "Lis"),
        ("Maria", "Czarnecka"),
        ("Iga", "Źródło"),
        ("Ala", "Zięba"),
    ] {
        k.register(&person(&class, given, family))
            .expect("register");
    }
    let roll = k.roll_call(session.id).expect("roll call");
    let families: Vec<String> = roll.entries.iter().map(|e| e.family_name.clone()).collect();
    let ours: Vec<&str> = families
        .iter()
        .map(String::as_str)
        .filter(|f| {
            [
                "Czarnecka",
                "Ćwiklińska",
                "Lis",
                "Łukasiewicz",
                "Wąsowicz",
                "Wójcik",
                "Zięba",
                "Źródło",
                "Żak",
            ]
            .contains(f)
        })
        .collect();
    // Who got a seat depends on this kiosk's share of the class; those who did come
    // in Polish order.
    let expected: Vec<&str> = [
        "Czarnecka",
        "Ćwiklińska",
        "Lis",
        "Łukasiewicz",
        "Wąsowicz",
        "Wójcik",
        "Zięba",
        "Źródło",
        "Żak",
    ]
    .into_iter()
    .filter(|f| ours.contains(f))
    .collect();
    assert!(ours.len() >= 3, "roll call: {families:?}");
    assert_eq!(ours, expected, "roll call: {families:?}");
    // The whole confirmed part of the roll call is in that order, not just ours.
    let confirmed: Vec<(String, String)> = roll
        .entries
        .iter()
        .filter(|e| e.seat == blisko_shared::seats::SeatStatus::Confirmed)
        .map(|e| (e.family_name.clone(), e.given_name.clone()))
        .collect();
    let mut sorted = confirmed.clone();
    sorted.sort_by_cached_key(|(f, g)| blisko_shared::collate::person_sort_key(f, g));
    assert_eq!(confirmed, sorted);
}
