//! The touch app, driven as a resident or staff member would: taps on widgets found by
//! their accessible names (egui_kittest), typing on the on-screen keyboard, a clock the
//! test moves. Every screen visited is also checked for touch targets under 48x48.

use eframe::egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use blisko_kiosk::app::{Action, KioskApp, Screen};
use blisko_kiosk::kiosk::RegistrationForm;
use blisko_shared::demo::DEMO_STAFF_PIN;
use blisko_shared::hlc::Hlc;
use blisko_tests::ui::{
    TestClock, assert_targets, demo_app as app, enroll_through_screens, harness_on, has_text,
    screen_name, tap, tap_containing, tick, type_into, wait_until,
};

/// Register a person for "Pilates" through the screens, up to the receipt.
fn register_for_pilates(h: &mut Harness<'_, KioskApp>, given: &str, family: &str) {
    tap(h, "Zapisy na zajęcia");
    tap_containing(h, "Pilates");
    type_into(h, "Imię", given);
    type_into(h, "Nazwisko", family);
    type_into(h, "Rok urodzenia", "1948");
    tap(h, "Dalej");
    tick(h, "Potwierdzam zapoznanie się z informacją");
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
    register_for_pilates(&mut h, "Łucja", "Żółkiewska");
    assert!(has_text(&h, "Miejsce przyznane!"));
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
    register_for_pilates(&mut h, "Jan", "Kowalski");
    assert!(has_text(
        &h,
        "Zapis na liście rezerwowej — obecnie około 1. miejsce na liście"
    ));
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt");
    };
    assert_eq!(
        (receipt.status.code(), receipt.position),
        ("waitlisted", Some(1))
    );
}

#[test]
fn a_bad_field_is_explained_and_the_form_stays() {
    let (_kit, mut h) = app();
    tap(&mut h, "Zapisy na zajęcia");
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

/// The lowest bottom edge of the fields on screen, and the top of the on-screen keyboard.
fn fields_bottom_and_keyboard_top(h: &Harness<'_, KioskApp>) -> (f32, f32) {
    // Every layout of the keyboard has one-character keys in its top row.
    let keyboard_top = h
        .query_all_by_role(Role::Button)
        .filter(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.chars().count() == 1)
        })
        .map(|n| n.rect().top())
        .fold(f32::MAX, f32::min);
    assert!(keyboard_top < f32::MAX, "the on-screen keyboard is shown");
    let fields_bottom = h
        .query_all_by_role(Role::TextInput)
        .map(|n| n.rect().bottom())
        .fold(f32::MIN, f32::max);
    (fields_bottom, keyboard_top)
}

#[test]
fn every_field_of_the_form_shows_above_the_keyboard_without_scrolling() {
    let (_kit, mut h) = app();
    tap(&mut h, "Zapisy na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Anna");
    let count = h.query_all_by_role(Role::TextInput).count();
    assert_eq!(
        count, 5,
        "name, family name, birth year, phone, resident code"
    );
    let (fields_bottom, keyboard_top) = fields_bottom_and_keyboard_top(&h);
    assert!(
        fields_bottom <= keyboard_top,
        "the lowest field ends at {fields_bottom}, the keyboard starts at {keyboard_top}"
    );

    // Large text may not fit: with the keyboard hidden every field shows, and the field
    // a finger taps stays in view above the keyboard that opens for it.
    h.state_mut().handle(Action::ToggleLargeText);
    h.run();
    tap(&mut h, "Schowaj klawiaturę");
    type_into(&mut h, "Kod mieszkańca (jeśli jest)", "AB");
    let code = h
        .get_by_role_and_label(Role::TextInput, "Kod mieszkańca (jeśli jest)")
        .rect();
    let (_, keyboard_top) = fields_bottom_and_keyboard_top(&h);
    assert!(
        code.bottom() <= keyboard_top,
        "the tapped field ends at {}, the keyboard starts at {keyboard_top}",
        code.bottom()
    );
}

#[test]
fn a_resident_submits_an_intake_request_and_gets_a_reference_number() {
    let (_kit, mut h) = app();
    tap(&mut h, "Wniosek o usługę");
    tap_containing(&mut h, "Podolog");
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Nazwisko", "Nowak");
    type_into(&mut h, "Rok urodzenia", "1950");
    tap(&mut h, "Dalej");
    type_into(
        &mut h,
        "Proszę krótko opisać, czego potrzeba",
        "Bolą mnie stopy",
    );
    tap(&mut h, "Dalej");
    tick(&mut h, "Potwierdzam spełnienie warunków");
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");
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

/// A PESEL whose date of birth is in another year than the birth year typed is refused
/// on the details screen, in words that name both years, with the keyboard on the PESEL;
/// a PESEL of the right year moves on.
#[test]
fn a_pesel_of_another_birth_year_is_pointed_out_before_moving_on() {
    let (_kit, mut h) = app();
    tap(&mut h, "Wniosek o usługę");
    tap_containing(&mut h, "Asystent osobisty");
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Nazwisko", "Nowak");
    type_into(&mut h, "Rok urodzenia", "1950");
    // Born 14 May 1944.
    type_into(&mut h, "PESEL", "44051401359");
    tap(&mut h, "Dalej");
    assert!(
        matches!(h.state().screen(), Screen::IntakeDetails { .. }),
        "{:?}",
        screen_name(h.state().screen())
    );
    assert!(
        has_text(&h, "PESEL wskazuje rok urodzenia 1944, a podano 1950"),
        "the error names both years"
    );
    assert_eq!(
        h.state().form().active,
        Some(blisko_kiosk::app::FieldId::Pesel),
        "the keyboard is on the PESEL"
    );
    assert_eq!(
        h.state().form().get(blisko_kiosk::app::FieldId::Pesel),
        "44051401359",
        "nothing typed is lost"
    );

    // Corrected on the keyboard that is already there: born 3 March 1950.
    for _ in 0..11 {
        tap(&mut h, "Usuń");
    }
    type_into(&mut h, "PESEL", "50030300016");
    tap(&mut h, "Dalej");
    assert!(
        matches!(h.state().screen(), Screen::IntakeNeed { .. }),
        "{:?}",
        screen_name(h.state().screen())
    );
}

#[test]
fn a_returning_resident_sees_and_cancels_a_registration_after_confirming() {
    let (_kit, mut h) = app();
    let pilates = pilates_id(&h);
    let code = register_directly(&h, &pilates, "Anna", "Nowak");
    tap(&mut h, "Moje zapisy i wnioski");
    type_into(&mut h, "Kod mieszkańca", &code.replace('-', ""));
    tap(&mut h, "Pokaż");
    assert!(has_text(&h, "Dzień dobry!"));
    assert!(has_text(&h, "potwierdzony"));
    tap(&mut h, "Wypisz mnie");
    // One confirmation step; "no" keeps it.
    tap(&mut h, "Nie, zapis zostaje");
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
    assert!(!has_text(&h, "Zapisy na zajęcia"));
    tap(&mut h, "Sign up for a class");
    assert!(has_text(&h, "All days"));
    tap(&mut h, "Back");
    tap(&mut h, "Polski");
    assert!(has_text(&h, "Zapisy na zajęcia"));
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
    assert!(has_text(&h, "Zapisy na zajęcia"), "back to Polish");
}

#[test]
fn start_again_clears_the_form_at_once() {
    let (_kit, mut h) = app();
    tap(&mut h, "Zapisy na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Anna");
    tap(&mut h, "Od początku");
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(h.state().form().is_empty());
    tap(&mut h, "Zapisy na zajęcia");
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
    tap(&mut h, "Dodaj do obecnych");
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
    tap_containing(&mut h, "Asystent osobisty osoby z niepełnosprawnością");
    visit(&mut h, &[Action::OpenLookup]);
    h.state_mut().handle(Action::OpenLookup);
    type_into(&mut h, "Kod mieszkańca", &code);
    visit(&mut h, &[Action::LookupSubmit, Action::OpenStaff]);
    enter_pin(&mut h, DEMO_STAFF_PIN);
    visit(&mut h, &[Action::StaffSessions, Action::StaffClasses]);
    tap_containing(&mut h, "Pilates");
    visit(&mut h, &[Action::StaffSync, Action::StaffMenu]);
}

#[test]
fn an_empty_store_offers_the_demo_catalogue() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let mut h = harness_on(&dir.path().join("kiosk"), &clock);
    assert!(has_text(&h, "Ten kiosk nie jest jeszcze przygotowany"));
    tap(&mut h, "Uruchom z katalogiem demonstracyjnym");
    tap(&mut h, "SI");
    assert!(matches!(h.state().screen(), Screen::Home));
    let kiosk = h.state().kiosk().expect("set up").lock().expect("lock");
    assert_eq!(kiosk.identity().branch_code, "SI");
}

/// A server with the demo catalogue, and the app on an empty kiosk folder enrolled with
/// it through the set-up screens; returns once the catalogue has arrived.
fn enrolled_app(
    work: &std::path::Path,
    clock: &TestClock,
) -> (
    blisko_tests::harness::ServerProcess,
    Harness<'static, KioskApp>,
) {
    use blisko_tests::harness::{ServerProcess, branch_id};
    let server_data = work.join("server");
    let server = ServerProcess::start(&server_data, true).expect("server");
    let mal = branch_id(&server_data, "MAL").expect("branch");
    let added = server
        .admin(&["kiosk", "add", "--branch", &mal])
        .expect("kiosk add");
    let code = added["code"].as_str().expect("code").to_owned();

    let mut h = harness_on(&work.join("kiosk"), clock);
    enroll_through_screens(&mut h, &server.url(), &code);
    assert!(
        matches!(h.state().screen(), Screen::Home),
        "{:?}",
        h.state().notice()
    );
    // The background sync brings the branch's catalogue at once.
    wait_until(&mut h, "the catalogue arrived", |h| {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        !kiosk.classes().expect("classes").is_empty()
    });
    (server, h)
}

#[test]
fn staff_enroll_an_empty_kiosk_with_a_server_and_sync_from_staff_mode() {
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let (server, mut h) = enrolled_app(work.path(), &clock);
    let class = {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk.classes().expect("classes")[0].id.to_string()
    };
    // A registration at the kiosk, then "sync now" from staff mode: the server has it.
    register_directly(&h, &class, "Anna", "Nowak");
    tap(&mut h, "Obsługa");
    for c in DEMO_STAFF_PIN.chars() {
        tap(&mut h, &c.to_string());
    }
    tap(&mut h, "Wejdź");
    tap(&mut h, "Synchronizacja");
    assert!(has_text(&h, &server.url()));
    tap(&mut h, "Synchronizuj teraz");
    wait_until(&mut h, "the registration reached the server", |_| {
        blisko_tests::harness::server_roster(&server, &class)
            .expect("roster")
            .len()
            == 1
    });
    // Once the sync is recorded: this kiosk's clock is the server's.
    wait_until(&mut h, "the clock checked", |h| {
        has_text(h, "zgodny z serwerem")
    });
    assert!(!has_text(&h, "Proszę ustawić zegar kiosku"));

    // The kiosk set up through the screens runs on the app's clock: a registration an
    // hour on is stamped an hour on.
    let hour_on = (clock.wall())() + 3_600_000;
    clock.advance_s(3600);
    register_directly(&h, &class, "Jan", "Kowalski");
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    let newest = kiosk
        .roster(&class)
        .expect("roster")
        .iter()
        .map(|r| r.created.parse::<Hlc>().expect("a stamp").wall_ms)
        .max();
    assert!(newest.is_some_and(|ms| ms >= hour_on), "{newest:?}");
}

#[test]
fn online_a_waiting_resident_sees_the_pool_seat_the_server_grants() {
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let (_server, mut h) = enrolled_app(work.path(), &clock);
    // The server gives this new kiosk no allotment: offline it could only put people on
    // the waiting list; online the sync right after claims a seat from the pool.
    {
        let pilates = pilates_id(&h);
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        let own = kiosk
            .store()
            .allotments(pilates.parse().expect("class id"))
            .expect("allotments")
            .get(&kiosk.identity().kiosk_id)
            .copied()
            .unwrap_or(0);
        assert_eq!(own, 0, "a seat can only come from the server's pool");
    }
    register_for_pilates(&mut h, "Anna", "Nowak");
    wait_until(
        &mut h,
        "the receipt shows the pool seat",
        |h| matches!(h.state().screen(), Screen::Registered { receipt } if receipt.status == "confirmed"),
    );
    assert!(has_text(&h, "Miejsce przyznane!"));
}

#[test]
fn staff_are_asked_to_set_a_kiosk_clock_that_is_off() {
    let (kit, mut h) = app();
    // As a sync records it when the server's clock is 3 days ahead of the kiosk's (the
    // Date header itself is checked against real servers in clock_skew.rs).
    {
        let kiosk = h.state().kiosk().expect("kiosk");
        let now = (kit.clock.wall())();
        kiosk
            .lock()
            .expect("lock")
            .record_sync(None, Some(now + 3 * 86_400_000))
            .expect("record");
    }
    tap(&mut h, "Obsługa");
    enter_pin(&mut h, DEMO_STAFF_PIN);
    tap(&mut h, "Synchronizacja");
    assert!(has_text(&h, "późni się o 3 dni"));
    assert!(has_text(
        &h,
        "Proszę ustawić zegar kiosku: od niego zależy kolejność na listach rezerwowych."
    ));
}

#[test]
fn a_returning_resident_whose_details_were_dropped_waits_a_moment_and_is_registered() {
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let (_server, mut h) = enrolled_app(work.path(), &clock);
    let kiosk = h.state().kiosk().expect("kiosk").clone();
    // A resident who once asked for a service here, and whose details the kiosk dropped
    // after the retention period.
    let code = {
        let mut k = kiosk.lock().expect("lock");
        let service = k
            .services()
            .expect("services")
            .into_iter()
            .find(|s| !s.requires_pesel)
            .expect("a service without PESEL");
        k.submit_intake(&blisko_kiosk::kiosk::IntakeForm {
            service_id: service.id.to_string(),
            given_name: "Zenobia".to_owned(),
            family_name: "Kwiatkowska".to_owned(),
            birth_year: 1948,
            description: "Potrzebna rehabilitacja kolana".to_owned(),
            declaration: true,
            consent: true,
            ..Default::default()
        })
        .expect("request")
        .resident_code
    };
    blisko_tests::harness::sync(&kiosk).expect("sync");
    // A minute on, past a retention period of none.
    clock.advance_s(60);
    kiosk.lock().expect("lock").set_retention_days(0);
    // This sync or the app's own background sync drops her details, whichever runs first.
    blisko_tests::harness::sync(&kiosk).expect("sync");
    let overview = kiosk
        .lock()
        .expect("lock")
        .resident(&code)
        .expect("resident");
    assert_eq!(
        overview.given_name, "",
        "her details are gone from the kiosk"
    );
    assert!(!overview.erased, "dropped for retention, not erased");
    kiosk
        .lock()
        .expect("lock")
        .set_retention_days(blisko_kiosk::kiosk::DEFAULT_RETENTION_DAYS);

    // She comes back with her code: the kiosk asks the server, then registers her.
    tap(&mut h, "Zapisy na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Zenobia");
    type_into(&mut h, "Nazwisko", "Kwiatkowska");
    type_into(&mut h, "Rok urodzenia", "1948");
    type_into(
        &mut h,
        "Kod mieszkańca (jeśli jest)",
        &code.replace('-', ""),
    );
    tap(&mut h, "Dalej");
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");
    tap(&mut h, "Zapisz mnie");
    wait_until(&mut h, "the registration after the details came", |h| {
        matches!(h.state().screen(), Screen::Registered { .. })
    });
    assert!(has_text(&h, &code), "her own code on the receipt");
    assert!(!has_text(&h, "Proszę zapytać obsługę"));
}

#[test]
fn a_resident_the_office_erased_shows_as_erased_not_as_details_not_arrived() {
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let (server, mut h) = enrolled_app(work.path(), &clock);
    let kiosk = h.state().kiosk().expect("kiosk").clone();
    let pilates = pilates_id(&h);
    let code = register_directly(&h, &pilates, "Zenobia", "Kwiatkowska");
    blisko_tests::harness::sync(&kiosk).expect("sync");
    server
        .admin(&["person", "erase", "--resident-code", &code])
        .expect("erase");
    blisko_tests::harness::sync(&kiosk).expect("sync");

    // Staff see the registration, said to be erased, not "not here yet".
    tap(&mut h, "Obsługa");
    enter_pin(&mut h, DEMO_STAFF_PIN);
    h.state_mut()
        .handle(Action::StaffRoster(pilates.parse().expect("class id")));
    h.run();
    assert!(has_text(&h, "(dane usunięte)"), "on the roster");
    assert!(!has_text(&h, "(dane jeszcze nie dotarły)"));
    assert!(!has_text(&h, "Kwiatkowska"));
    h.state_mut().handle(Action::LeaveStaff);
    h.run();

    // The resident, back with the code, is told too.
    tap(&mut h, "Moje zapisy i wnioski");
    type_into(&mut h, "Kod mieszkańca", &code.replace('-', ""));
    tap(&mut h, "Pokaż");
    assert!(has_text(&h, "(dane usunięte)"), "on their screen");
    assert!(has_text(&h, "Pilates"), "their registration stays");
}

#[test]
fn online_a_class_without_a_waiting_list_asks_the_pool_before_it_is_full() {
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let (server, mut h) = enrolled_app(work.path(), &clock);
    // One seat, no waiting list, no allotment for this kiosk: the seat is the pool's.
    let pilates = pilates_id(&h);
    blisko_tests::harness::set_class_seats(&server, "MAL", &pilates, 1, 0, work.path())
        .expect("set the class's seats");
    {
        let kiosk = h.state().kiosk().expect("kiosk").clone();
        blisko_tests::harness::sync(&kiosk).expect("sync");
    }
    wait_until(&mut h, "the new seat rules arrived", |h| {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk.class(&pilates).expect("class").waitlist_limit == 0
    });
    {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        let class = kiosk.class(&pilates).expect("class");
        assert_eq!(class.free_seats, 1, "the card offers the pool's seat");
    }
    register_for_pilates(&mut h, "Anna", "Nowak");
    wait_until(
        &mut h,
        "the receipt shows the pool seat",
        |h| matches!(h.state().screen(), Screen::Registered { receipt } if receipt.status == "confirmed" && !receipt.awaiting_pool),
    );
    assert!(has_text(&h, "Miejsce przyznane!"));
    tap(&mut h, "Gotowe");
    // The seat is taken: the next person is told the class is full, and nothing of the
    // attempt stays behind.
    wait_until(&mut h, "the card says full", |h| {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk.class(&pilates).expect("class").free_seats == 0
    });
    let rows_before = blisko_tests::harness::server_roster(&server, &pilates)
        .expect("roster")
        .len();
    assert_eq!(rows_before, 1);
    let kiosk = h.state().kiosk().expect("kiosk").clone();
    let attempt = kiosk
        .lock()
        .expect("lock")
        .register(&blisko_kiosk::kiosk::RegistrationForm {
            class_id: pilates.clone(),
            given_name: "Jan".into(),
            family_name: "Kowalski".into(),
            birth_year: 1950,
            consent: true,
            ..Default::default()
        });
    assert!(
        matches!(attempt, Err(blisko_kiosk::KioskError::ClassFull { .. })),
        "{attempt:?}"
    );
}

/// The office asks for a document: the resident looking up their requests by code sees
/// the status and the office's message with it.
#[test]
fn a_resident_sees_the_offices_message_with_the_request_status() {
    use blisko_kiosk::kiosk::IntakeForm;
    use blisko_tests::office::{Office, PASSWORD, add_staff};
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let (server, mut h) = enrolled_app(work.path(), &clock);
    let kiosk = h.state().kiosk().expect("kiosk").clone();
    let receipt = {
        let mut k = kiosk.lock().expect("lock");
        let service = k
            .services()
            .expect("services")
            .into_iter()
            .find(|s| !s.requires_pesel)
            .expect("a service")
            .id
            .to_string();
        k.submit_intake(&IntakeForm {
            service_id: service,
            given_name: "Anna".into(),
            family_name: "Nowak".into(),
            birth_year: 1950,
            description: "Bolą mnie stopy".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })
        .expect("submitted")
    };
    blisko_tests::harness::sync(&kiosk).expect("sync");
    add_staff(&work.path().join("server"), "org", "organizer", None).expect("staff");
    let office = Office::login(&server.url(), "org", PASSWORD).expect("log in");
    let please = "Proszę przynieść zaświadczenie lekarskie.";
    let changed = office
        .post(
            &format!("/office/requests/{}", receipt.request_id),
            &[
                ("status", "more_information_needed"),
                ("resident_message", please),
            ],
        )
        .expect("status");
    assert_eq!(changed.status().as_u16(), 303);
    blisko_tests::harness::sync(&kiosk).expect("sync");
    tap(&mut h, "Moje zapisy i wnioski");
    type_into(
        &mut h,
        "Kod mieszkańca",
        &receipt.resident_code.replace('-', ""),
    );
    tap(&mut h, "Pokaż");
    assert!(has_text(&h, "potrzebne"), "the status is shown");
    assert!(has_text(&h, "Wiadomość z urzędu:"));
    assert!(has_text(&h, please));
    assert_targets(&h);
}
