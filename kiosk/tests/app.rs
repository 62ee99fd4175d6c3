//! The touch app, driven as a resident or staff member would: taps on widgets found by
//! their accessible names (egui_kittest), typing on the on-screen keyboard, a clock the
//! test moves. Every screen visited is also checked for touch targets under 48x48.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use eframe::egui::{Role, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};

use blisko_kiosk::app::session::IdleTimeouts;
use blisko_kiosk::app::{Action, AppOptions, KioskApp, Screen};
use blisko_kiosk::kiosk::{Kiosk, RegistrationForm, WallClock};
use blisko_shared::demo::DEMO_STAFF_PIN;

/// A clock the test moves: Monday 23 November 2026, noon UTC, to start.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn monday() -> TestClock {
        let ms = "2026-11-23T12:00:00Z"
            .parse::<jiff::Timestamp>()
            .expect("a valid timestamp")
            .as_millisecond() as u64;
        TestClock(Arc::new(AtomicU64::new(ms)))
    }

    fn wall(&self) -> WallClock {
        let t = self.0.clone();
        Arc::new(move || t.load(Ordering::SeqCst))
    }

    fn advance_s(&self, seconds: u64) {
        self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

const IDLE: IdleTimeouts = IdleTimeouts {
    idle_ms: 60_000,
    warning_ms: 30_000,
};

struct Kit {
    _dir: tempfile::TempDir,
    clock: TestClock,
}

/// A demo kiosk of the MAL branch, and the app on it, in a 1280x1024 window.
fn app() -> (Kit, Harness<'static, KioskApp>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    Kiosk::setup_demo(dir.path(), "MAL", clock.wall()).expect("demo kiosk");
    let harness = harness_on(dir.path(), &clock);
    (Kit { _dir: dir, clock }, harness)
}

fn harness_on(dir: &Path, clock: &TestClock) -> Harness<'static, KioskApp> {
    let mut options = AppOptions::new(dir);
    options.clock = clock.wall();
    options.idle = IDLE;
    let app = KioskApp::new(options).expect("the app opens");
    let mut harness = Harness::builder()
        .with_size(Vec2::new(1280.0, 1024.0))
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app);
    harness.run();
    harness
}

/// Tap the button (or tile, or card) with exactly this accessible name.
fn tap(h: &mut Harness<'_, KioskApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.run();
    assert_targets(h);
}

/// Tap the one button whose accessible name contains `part` (a class card, say).
/// Turns pages of a list until it is there, as a person would.
fn tap_containing(h: &mut Harness<'_, KioskApp>, part: &str) {
    for _ in 0..50 {
        if h.query(By::new().role(Role::Button).label_contains(part))
            .is_some()
        {
            break;
        }
        match ["Następna strona", "Next page"]
            .into_iter()
            .find(|next| h.query_by_role_and_label(Role::Button, next).is_some())
        {
            Some(next) => tap(h, next),
            None => break,
        }
    }
    h.get(By::new().role(Role::Button).label_contains(part))
        .click();
    h.run();
    assert_targets(h);
}

fn tick(h: &mut Harness<'_, KioskApp>, label: &str) {
    h.get_by_role_and_label(Role::CheckBox, label).click();
    h.run();
}

fn has_text(h: &Harness<'_, KioskApp>, part: &str) -> bool {
    h.query_by_label_contains(part).is_some()
}

/// Type on the on-screen keyboard, key by key, into the field called `field`.
fn type_into(h: &mut Harness<'_, KioskApp>, field: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, field).click();
    h.run();
    for c in text.chars() {
        let key = match c {
            ' ' => "Spacja".to_owned(),
            c => c.to_string(),
        };
        if h.query_by_role_and_label(Role::Button, &key).is_none() {
            // The keyboard shows the other case: flip it.
            tap(h, "Wielkie litery");
        }
        tap(h, &key);
    }
    let typed = h
        .get_by_role_and_label(Role::TextInput, field)
        .value()
        .unwrap_or_default();
    assert!(typed.ends_with(text), "typed {typed:?} into {field}");
}

/// Every widget a finger can touch is at least 48x48 points.
fn assert_targets(h: &Harness<'_, KioskApp>) {
    let clickable = h.query_all_by(|n| {
        matches!(
            n.role(),
            Role::Button | Role::CheckBox | Role::TextInput | Role::RadioButton | Role::Link
        )
    });
    let mut count = 0;
    for node in clickable {
        let r = node.rect();
        count += 1;
        assert!(
            r.width() >= 48.0 && r.height() >= 48.0,
            "{:?} {:?} is {}x{} on {:?}",
            node.accesskit_node().role(),
            node.accesskit_node().label(),
            r.width(),
            r.height(),
            screen_name(h.state().screen())
        );
    }
    assert!(
        count > 0,
        "no touch targets on {:?}",
        screen_name(h.state().screen())
    );
}

fn screen_name(screen: &Screen) -> String {
    format!("{screen:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Register a person for "Pilates" through the screens, up to the receipt.
fn register_for_yoga(h: &mut Harness<'_, KioskApp>, given: &str, family: &str) {
    tap(h, "Zapisz się na zajęcia");
    tap_containing(h, "Pilates");
    type_into(h, "Imię", given);
    type_into(h, "Nazwisko", family);
    type_into(h, "Rok urodzenia", "1948");
    tap(h, "Dalej");
    tick(h, "Przeczytałem/am informację o danych");
    tap(h, "Zapisz mnie");
}

fn pilates_id(h: &Harness<'_, KioskApp>) -> String {
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    kiosk
        .classes()
        .expect("classes")
        .into_iter()
        .find(|c| c.title == "Pilates")
        .expect("the demo has Pilates")
        .id
        .to_string()
}

fn register_directly(h: &Harness<'_, KioskApp>, class: &str, given: &str, family: &str) -> String {
    let mut kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    kiosk
        .register(&RegistrationForm {
            class_id: class.to_owned(),
            given_name: given.to_owned(),
            family_name: family.to_owned(),
            birth_year: 1950,
            consent: true,
            ..RegistrationForm::default()
        })
        .expect("register")
        .resident_code
}

#[test]
fn a_resident_registers_and_is_told_the_seat_is_confirmed() {
    let (_kit, mut h) = app();
    assert_targets(&h);
    register_for_yoga(&mut h, "Łucja", "Żółkiewska");
    assert!(has_text(&h, "Masz miejsce!"));
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt: {:?}", screen_name(h.state().screen()));
    };
    assert_eq!(receipt.status, "confirmed");
    assert!(has_text(&h, &receipt.resident_code), "the code is shown");
    let code = receipt.resident_code.clone();
    // It is really stored, under the name typed on the on-screen keyboard.
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    let overview = kiosk.resident(&code).expect("stored");
    assert_eq!(overview.given_name, "Łucja");
    assert_eq!(overview.registrations[0].status, "confirmed");
}

#[test]
fn a_resident_past_the_last_seat_is_told_the_waiting_list_position() {
    let (_kit, mut h) = app();
    let pilates = pilates_id(&h);
    let capacity = {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk.class(&pilates).expect("class").capacity
    };
    for i in 0..capacity {
        let family = format!("Nowak{}", char::from(b'a' + i as u8));
        register_directly(&h, &pilates, "Anna", &family);
    }
    register_for_yoga(&mut h, "Jan", "Kowalski");
    assert!(has_text(
        &h,
        "Jesteś na liście rezerwowej — Miejsce na liście: 1"
    ));
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt");
    };
    assert_eq!(
        (receipt.status.as_str(), receipt.position),
        ("waitlisted", Some(1))
    );
}

#[test]
fn a_bad_field_is_explained_and_the_form_stays() {
    let (_kit, mut h) = app();
    tap(&mut h, "Zapisz się na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Rok urodzenia", "1800");
    tap(&mut h, "Dalej");
    assert!(matches!(h.state().screen(), Screen::RegisterDetails { .. }));
    assert!(
        h.state().notice().is_some_and(|n| !n.ok),
        "an error is shown"
    );
    assert_eq!(
        h.state().form().get(blisko_kiosk::app::FieldId::GivenName),
        "Anna"
    );
}

#[test]
fn a_resident_submits_an_intake_request_and_gets_a_reference_number() {
    let (_kit, mut h) = app();
    tap(&mut h, "Złóż wniosek o usługę");
    tap(&mut h, "Podolog");
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Nazwisko", "Nowak");
    type_into(&mut h, "Rok urodzenia", "1950");
    tap(&mut h, "Dalej");
    type_into(
        &mut h,
        "Opisz krótko, czego potrzebujesz",
        "Bolą mnie stopy",
    );
    tap(&mut h, "Dalej");
    tick(&mut h, "Oświadczam, że spełniam warunki");
    tick(&mut h, "Przeczytałem/am informację o danych");
    tap(&mut h, "Wyślij wniosek");
    let Screen::IntakeSent { receipt } = h.state().screen() else {
        panic!("not on the receipt: {:?}", screen_name(h.state().screen()));
    };
    assert!(
        receipt.reference.starts_with("MAL/"),
        "{}",
        receipt.reference
    );
    assert!(has_text(&h, &receipt.reference));
    assert!(has_text(&h, "Wniosek przyjęty"));
}

#[test]
fn a_returning_resident_sees_and_cancels_a_registration_after_confirming() {
    let (_kit, mut h) = app();
    let pilates = pilates_id(&h);
    let code = register_directly(&h, &pilates, "Anna", "Nowak");
    tap(&mut h, "Moje zapisy i wnioski");
    type_into(&mut h, "Kod mieszkańca", &code.replace('-', ""));
    tap(&mut h, "Pokaż");
    assert!(has_text(&h, "Dzień dobry, Anna!"));
    assert!(has_text(&h, "potwierdzony"));
    tap(&mut h, "Wypisz mnie");
    // One confirmation step; "no" keeps it.
    tap(&mut h, "Nie, zostaw zapis");
    assert!(has_text(&h, "potwierdzony"));
    tap(&mut h, "Wypisz mnie");
    tap(&mut h, "Tak, wypisz mnie");
    assert!(has_text(&h, "Wypisano. Miejsce dostanie kolejna osoba."));
    assert!(has_text(&h, "wypisano"));
    assert!(
        h.query_by_role_and_label(Role::Button, "Wypisz mnie")
            .is_none()
    );
}

#[test]
fn the_language_switch_changes_every_word_and_back() {
    let (_kit, mut h) = app();
    tap(&mut h, "English");
    assert!(has_text(&h, "Sign up for a class"));
    assert!(!has_text(&h, "Zapisz się na zajęcia"));
    tap(&mut h, "Sign up for a class");
    assert!(has_text(&h, "All days"));
    tap(&mut h, "Back");
    tap(&mut h, "Polski");
    assert!(has_text(&h, "Zapisz się na zajęcia"));
}

#[test]
fn idle_warning_more_time_and_reset_that_leaves_nothing_behind() {
    let (kit, mut h) = app();
    tap(&mut h, "English");
    tap(&mut h, "Sign up for a class");
    tap_containing(&mut h, "Pilates");
    h.get_by_role_and_label(Role::TextInput, "Given name")
        .click();
    h.run();
    for key in ["G", "r", "a", "ż", "y", "n", "a"] {
        tap(&mut h, key);
    }

    kit.clock.advance_s(61);
    h.run();
    assert!(has_text(&h, "Are you still there?"), "the warning is up");
    assert!(has_text(&h, "Seconds left: 29") || has_text(&h, "Seconds left: 30"));
    tap(&mut h, "I need more time");
    assert!(!has_text(&h, "Are you still there?"));
    assert_eq!(
        h.state().form().get(blisko_kiosk::app::FieldId::GivenName),
        "Grażyna",
        "more time keeps what was typed"
    );

    kit.clock.advance_s(61);
    h.run();
    assert!(has_text(&h, "Are you still there?"));
    kit.clock.advance_s(30);
    h.run();
    h.run();
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(h.state().form().is_empty(), "every field is cleared");
    assert!(
        !has_text(&h, "Grażyna"),
        "nothing of the person is on screen"
    );
    assert!(h.query_by_value("Grażyna").is_none());
    assert!(has_text(&h, "Zapisz się na zajęcia"), "back to Polish");
}

#[test]
fn start_again_clears_the_form_at_once() {
    let (_kit, mut h) = app();
    tap(&mut h, "Zapisz się na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Anna");
    tap(&mut h, "Zacznij od nowa");
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(h.state().form().is_empty());
    tap(&mut h, "Zapisz się na zajęcia");
    tap_containing(&mut h, "Pilates");
    assert_eq!(
        h.get_by_role_and_label(Role::TextInput, "Imię")
            .value()
            .as_deref(),
        Some(""),
        "an empty field"
    );
}

fn enter_pin(h: &mut Harness<'_, KioskApp>, pin: &str) {
    for c in pin.chars() {
        tap(h, &c.to_string());
    }
    tap(h, "Wejdź");
}

#[test]
fn staff_pin_right_wrong_and_lock_out() {
    let (kit, mut h) = app();
    tap(&mut h, "Obsługa");
    enter_pin(&mut h, "9999");
    assert!(has_text(&h, "Nieprawidłowy PIN."));
    assert!(h.state().staff().is_none());
    enter_pin(&mut h, DEMO_STAFF_PIN);
    assert_eq!(
        h.state().staff().map(|s| s.name.as_str()),
        Some("Obsługa MAL")
    );
    tap(&mut h, "Zakończ tryb obsługi");
    assert!(h.state().staff().is_none());

    tap(&mut h, "Obsługa");
    for _ in 0..5 {
        enter_pin(&mut h, "1111");
    }
    assert!(has_text(&h, "Za dużo prób"), "locked after five wrong PINs");
    assert!(h.query_by_role_and_label(Role::Button, "Wejdź").is_none());
    // Even the right PIN waits out the lock.
    h.state_mut().handle(Action::PinSubmit);
    assert!(h.state().staff().is_none());
    kit.clock.advance_s(5 * 60 + 1);
    h.run();
    // The idle reset went home meanwhile; the lock-out outlives it.
    assert!(matches!(h.state().screen(), Screen::Home));
    tap(&mut h, "Obsługa");
    enter_pin(&mut h, DEMO_STAFF_PIN);
    assert!(h.state().staff().is_some(), "the lock ran out");
}

#[test]
fn roll_call_marks_in_one_tap_and_adds_a_walk_in() {
    let (_kit, mut h) = app();
    // The demo's Monday classes: register one person for the first session's class.
    let session = {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk.sessions_today().expect("sessions")[0].clone()
    };
    register_directly(&h, &session.class_id.to_string(), "Anna", "Nowak");

    tap(&mut h, "Obsługa");
    enter_pin(&mut h, DEMO_STAFF_PIN);
    tap(&mut h, "Lista obecności (dzisiaj)");
    tap_containing(&mut h, &session.class_title);
    assert!(has_text(&h, "Nowak Anna"));
    tap(&mut h, "Obecny");
    let Screen::RollCall { roll } = h.state().screen() else {
        panic!("not on the roll call");
    };
    assert_eq!(
        roll.entries[0].mark,
        Some(blisko_shared::model::AttendanceStatus::Present)
    );

    tap(&mut h, "Dodaj osobę spoza listy");
    type_into(&mut h, "Imię", "Piotr");
    type_into(&mut h, "Nazwisko", "Zieliński");
    type_into(&mut h, "Rok urodzenia", "1961");
    tick(&mut h, "Osoba zapoznała się z informacją o danych");
    tap(&mut h, "Dodaj jako obecną");
    assert!(
        has_text(&h, "Zieliński Piotr"),
        "{:?} on {}",
        h.state().notice(),
        screen_name(h.state().screen())
    );
    let Screen::RollCall { roll } = h.state().screen() else {
        panic!("back on the roll call");
    };
    assert_eq!(roll.entries.len(), 2);
    assert!(
        roll.entries
            .iter()
            .all(|e| e.mark == Some(blisko_shared::model::AttendanceStatus::Present))
    );
}

#[test]
fn every_screen_keeps_touch_targets_of_at_least_48_points() {
    let (_kit, mut h) = app();
    let pilates = pilates_id(&h);
    let code = register_directly(&h, &pilates, "Anna", "Nowak");
    let visit = |h: &mut Harness<'_, KioskApp>, actions: &[Action]| {
        for a in actions {
            h.state_mut().handle(a.clone());
            h.run();
            assert_targets(h);
        }
    };
    visit(&mut h, &[Action::ToggleLargeText, Action::ToggleContrast]);
    visit(
        &mut h,
        &[
            Action::OpenClasses,
            Action::ClassDay(Some(blisko_shared::model::Weekday::Wed)),
        ],
    );
    tap_containing(&mut h, "Pilates");
    visit(&mut h, &[Action::OpenServices]);
    tap(&mut h, "Asystent osobisty osoby z niepełnosprawnością");
    visit(&mut h, &[Action::OpenLookup]);
    h.state_mut().handle(Action::OpenLookup);
    type_into(&mut h, "Kod mieszkańca", &code);
    visit(&mut h, &[Action::LookupSubmit, Action::OpenStaff]);
    enter_pin(&mut h, DEMO_STAFF_PIN);
    visit(&mut h, &[Action::StaffSessions, Action::StaffClasses]);
    tap(&mut h, "Pilates");
    visit(&mut h, &[Action::StaffSync, Action::StaffMenu]);
}

#[test]
fn an_empty_store_offers_the_demo_catalogue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let mut h = harness_on(dir.path(), &clock);
    assert!(has_text(&h, "Ten kiosk nie jest jeszcze przygotowany"));
    tap(&mut h, "Uruchom z katalogiem demonstracyjnym");
    tap(&mut h, "SI");
    assert!(matches!(h.state().screen(), Screen::Home));
    let kiosk = h.state().kiosk().expect("set up").lock().expect("lock");
    assert_eq!(kiosk.identity().branch_code, "SI");
}
