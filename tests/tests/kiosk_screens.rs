//! The touch app on every screen size it must serve (1024x768, 1280x1024, 1920x1080 and
//! 1080x1920 portrait), at three text sizes, and under shaky hands: every form keeps the
//! field being typed into and its label in view above the on-screen keyboard, after an
//! error too; a double tap never acts twice; a double press of a key types once.
//! Driven by egui_kittest with the app's clock in the test's hand.

use eframe::egui::{self, Pos2, Rect, Role};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use blisko_kiosk::app::text::T;
use blisko_kiosk::app::theme::TextStep;
use blisko_kiosk::app::{
    Action, DEFAULT_REPEAT_GUARD_MS, DEFAULT_TOUCH_GUARD_MS, FieldId, KioskApp, Screen,
};
use blisko_kiosk::kiosk::{Kiosk, RegistrationForm};
use blisko_shared::demo::DEMO_STAFF_PIN;
use blisko_shared::i18n::Lang;
use blisko_tests::harness::setup_key;
use blisko_tests::ui::{
    TestClock, harness_sized, has_text, options_on, screen_name, tap, tap_containing, tick,
    type_into,
};

const SIZES: [(f32, f32); 4] = [
    (1024.0, 768.0),
    (1280.0, 1024.0),
    (1920.0, 1080.0),
    (1080.0, 1920.0),
];

fn pl(key: T) -> &'static str {
    key.tr(Lang::Pl)
}

/// A demo kiosk of the MAL branch and the app on it in a `width` x `height` window.
/// `guards`: the touch and repeat guards at their defaults (else off, for tests that
/// tap without moving the clock).
fn app(
    width: f32,
    height: f32,
    guards: bool,
) -> (tempfile::TempDir, TestClock, Harness<'static, KioskApp>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let data = dir.path().join("kiosk");
    let key = setup_key(&data).expect("key");
    Kiosk::setup_demo(&data, "MAL", &key, clock.wall()).expect("demo kiosk");
    let mut options = options_on(&data, &clock);
    if guards {
        options.touch_guard_ms = DEFAULT_TOUCH_GUARD_MS;
        options.repeat_guard_ms = DEFAULT_REPEAT_GUARD_MS;
    }
    let h = harness_sized(options, width, height);
    (dir, clock, h)
}

fn inside(outer: Rect, inner: Rect) -> bool {
    let slack = 1.0;
    inner.min.x >= outer.min.x - slack
        && inner.min.y >= outer.min.y - slack
        && inner.max.x <= outer.max.x + slack
        && inner.max.y <= outer.max.y + slack
}

/// The top of the on-screen keyboard: every layout has one-character keys in its top row.
fn keyboard_top(h: &Harness<'_, KioskApp>) -> Option<f32> {
    let top = h
        .query_all_by_role(Role::Button)
        .filter(|n| {
            n.accesskit_node()
                .label()
                .is_some_and(|l| l.chars().count() == 1)
        })
        .map(|n| n.rect().top())
        .fold(f32::MAX, f32::min);
    (top < f32::MAX).then_some(top)
}

/// The field called `label` and its label, where they are drawn.
fn field_and_label(h: &Harness<'_, KioskApp>, label: &str) -> (Rect, Rect) {
    let field = h.get_by_role_and_label(Role::TextInput, label).rect();
    let text = h
        .query_all_by_label(label)
        .filter(|n| n.accesskit_node().role() != Role::TextInput)
        .map(|n| n.rect())
        .next()
        .unwrap_or_else(|| panic!("no label {label:?}"));
    (field, text)
}

/// The active field `label`, its label and any error under it lie in the part of the
/// form shown above the keyboard; in portrait the keyboard is right under them.
fn assert_in_view(h: &Harness<'_, KioskApp>, label: &str, size: (f32, f32), when: &str) {
    let screen = screen_name(h.state().screen());
    let visible = h
        .state()
        .visible_area()
        .unwrap_or_else(|| panic!("{screen} is not drawn as a form"));
    let (field, text) = field_and_label(h, label);
    let at = format!("{label:?} on {screen} at {}x{} {when}", size.0, size.1);
    assert!(
        inside(visible, field),
        "field {field:?} outside {visible:?}: {at}"
    );
    assert!(
        inside(visible, text),
        "label {text:?} outside {visible:?}: {at}"
    );
    let area = h.state().active_field_area().expect("an active field");
    // An error under the field shows with it where both fit.
    if area.height() <= visible.height() {
        assert!(
            inside(visible, area),
            "field with its error {area:?} outside {visible:?}: {at}"
        );
    }
    let top = keyboard_top(h).unwrap_or_else(|| panic!("no keyboard: {at}"));

    assert!(
        visible.bottom() <= top + 1.0,
        "the form runs under the keyboard: {at}"
    );
    assert!(
        field.bottom() <= top,
        "the field is under the keyboard: {at}"
    );
    if size.1 > size.0 {
        // Portrait: the keyboard follows the form, not the bottom of the screen.
        let gap = top - visible.bottom();
        assert!(
            gap < 100.0,
            "the keyboard is {gap} points below the form: {at}"
        );
    }
}

/// Tap `x` at `pos` (a finger, not a widget).
fn tap_at(h: &mut Harness<'_, KioskApp>, pos: Pos2) {
    h.hover_at(pos);
    h.drag_at(pos);
    h.drop_at(pos);
    h.run();
}

/// Make the field called `label` active as a person would: hide the keyboard if the field
/// is under it, drag the form until the field shows, and tap it.
fn activate(h: &mut Harness<'_, KioskApp>, label: &str) {
    for _ in 0..20 {
        let visible = h.state().visible_area().expect("a form");
        let (field, _) = field_and_label(h, label);
        let covered = keyboard_top(h).is_some_and(|top| field.bottom() > top);
        if inside(visible, field) && !covered {
            break;
        }
        if covered
            && h.query_by_role_and_label(Role::Button, pl(T::HideKeyboard))
                .is_some()
        {
            tap(h, pl(T::HideKeyboard));
            continue;
        }
        // A finger drags the form up (or down) by a third of what shows.
        let from = visible.center();
        let by = visible.height() / 3.0;
        let to = if field.bottom() > visible.bottom() {
            from - egui::vec2(0.0, by)
        } else {
            from + egui::vec2(0.0, by)
        };
        h.hover_at(from);
        h.drag_at(from);
        h.run();
        for i in 1..=10 {
            h.hover_at(from + (to - from) * (i as f32 / 10.0));
            h.run();
        }
        h.drop_at(to);
        h.run();
    }
    h.get_by_role_and_label(Role::TextInput, label).click();
    h.run();
    assert_eq!(
        h.state().form().active,
        field_id(h, label),
        "tapping {label:?} made it active"
    );
}

/// Each field of the form in turn, then an error, then each field again.
fn check_form(
    h: &mut Harness<'_, KioskApp>,
    size: (f32, f32),
    fields: &[&str],
    make_error: impl FnOnce(&mut Harness<'_, KioskApp>),
) {
    for label in fields {
        activate(h, label);
        assert_in_view(h, label, size, "");
    }
    make_error(h);
    assert!(
        h.state().notice().is_some_and(|n| !n.ok),
        "an error on {}",
        screen_name(h.state().screen())
    );
    if let Some(active) = h.state().form().active {
        let label = fields
            .iter()
            .find(|l| field_id(h, l) == Some(active))
            .copied()
            .unwrap_or(fields[0]);
        assert_in_view(h, label, size, "after the error");
    }
    for label in fields {
        activate(h, label);
        assert_in_view(h, label, size, "after the error");
    }
}

/// Which field a label names (to tell the field the app made active after an error).
fn field_id(h: &Harness<'_, KioskApp>, label: &str) -> Option<FieldId> {
    let pairs = [
        (T::GivenName, FieldId::GivenName),
        (T::FamilyName, FieldId::FamilyName),
        (T::BirthYear, FieldId::BirthYear),
        (T::Phone, FieldId::Phone),
        (T::PhoneForCall, FieldId::Phone),
        (T::ResidentCodeOptional, FieldId::ResidentCode),
        (T::ResidentCode, FieldId::LookupCode),
        (T::Pesel, FieldId::Pesel),
        (T::Description, FieldId::Description),
        (T::ServerAddress, FieldId::ServerUrl),
        (T::EnrollmentCode, FieldId::EnrollmentCode),
    ];
    let _ = h;
    if label == "PIN" {
        return Some(FieldId::Pin);
    }
    pairs
        .iter()
        .find(|(t, _)| pl(*t) == label)
        .map(|(_, id)| *id)
}

fn type_year_and_next(h: &mut Harness<'_, KioskApp>, year: &str) {
    activate(h, pl(T::BirthYear));
    for _ in 0..4 {
        tap(h, pl(T::Erase));
    }
    type_into(h, pl(T::BirthYear), year);
    tap(h, pl(T::Next));
}

fn person(h: &mut Harness<'_, KioskApp>) {
    activate(h, pl(T::GivenName));
    type_into(h, pl(T::GivenName), "Anna");
    activate(h, pl(T::FamilyName));
    type_into(h, pl(T::FamilyName), "Nowak");
    activate(h, pl(T::BirthYear));
    type_into(h, pl(T::BirthYear), "1950");
}

/// The tick boxes of a consent or declaration screen show above the bottom bar.
/// After an error on a screen of tick boxes, the first box still to tick shows above
/// the bottom bar.
fn assert_ticks_in_view(h: &Harness<'_, KioskApp>, size: (f32, f32)) {
    let screen = screen_name(h.state().screen());
    let boxes: Vec<Rect> = h
        .query_all_by_role(Role::CheckBox)
        .map(|n| n.rect())
        .take(1)
        .collect();
    assert!(!boxes.is_empty(), "tick boxes on {screen}");
    let bar_top = h
        .query_all_by_role(Role::Button)
        .filter(|n| n.accesskit_node().label().as_deref() == Some(pl(T::Back)))
        .map(|n| n.rect().top())
        .fold(f32::MAX, f32::min);
    for b in boxes {
        assert!(
            b.top() >= 0.0 && b.bottom() <= bar_top,
            "the first tick box {b:?} hides under the bar at {bar_top} on {screen} at {size:?}"
        );
    }
}

fn every_form_at(width: f32, height: f32) {
    let size = (width, height);
    let (_dir, _clock, mut h) = app(width, height, false);

    // Register: details, then the consent.
    h.state_mut().handle(Action::OpenClasses);
    h.run();
    tap_containing(&mut h, "Pilates");
    let register_fields = [
        pl(T::GivenName),
        pl(T::FamilyName),
        pl(T::BirthYear),
        pl(T::Phone),
        pl(T::ResidentCodeOptional),
    ];
    check_form(&mut h, size, &register_fields, |h| {
        person(h);
        type_year_and_next(h, "1800");
    });
    type_year_and_next(&mut h, "1950");
    assert!(matches!(h.state().screen(), Screen::RegisterConsent { .. }));
    tap(&mut h, pl(T::SignMeUp));
    assert!(
        h.state().notice().is_some_and(|n| !n.ok),
        "no consent, no sign-up"
    );
    assert_ticks_in_view(&h, size);

    // An intake request with a PESEL: details, the need, the declaration.
    h.state_mut().handle(Action::OpenServices);
    h.run();
    tap_containing(&mut h, "Asystent osobisty");
    let intake_fields = [
        pl(T::GivenName),
        pl(T::FamilyName),
        pl(T::BirthYear),
        pl(T::PhoneForCall),
        pl(T::ResidentCodeOptional),
        pl(T::Pesel),
    ];
    check_form(&mut h, size, &intake_fields, |h| {
        person(h);
        tap(h, pl(T::Next));
    });
    activate(&mut h, pl(T::Pesel));
    // Born 3 March 1950.
    type_into(&mut h, pl(T::Pesel), "50030300016");
    tap(&mut h, pl(T::Next));
    assert!(
        matches!(h.state().screen(), Screen::IntakeNeed { .. }),
        "{:?} {:?}",
        screen_name(h.state().screen()),
        h.state().notice()
    );
    check_form(&mut h, size, &[pl(T::Description)], |h| tap(h, pl(T::Next)));
    activate(&mut h, pl(T::Description));
    type_into(&mut h, pl(T::Description), "Pomoc w domu");
    tap(&mut h, pl(T::Next));
    assert!(matches!(
        h.state().screen(),
        Screen::IntakeDeclaration { .. }
    ));
    tap(&mut h, pl(T::SendRequest));
    assert!(
        h.state().notice().is_some_and(|n| !n.ok),
        "no declaration, no request"
    );
    assert_ticks_in_view(&h, size);

    // Lookup of a resident code.
    h.state_mut().handle(Action::OpenLookup);
    h.run();
    check_form(&mut h, size, &[pl(T::ResidentCode)], |h| {
        type_into(h, pl(T::ResidentCode), "ABCD");
        tap(h, pl(T::Show));
    });

    // Staff PIN, wrong then right, and a walk-in on today's roll call.
    h.state_mut().handle(Action::OpenStaff);
    h.run();
    check_form(&mut h, size, &["PIN"], |h| {
        for c in "9999".chars() {
            tap(h, &c.to_string());
        }
        tap(h, pl(T::Unlock));
    });
    for c in DEMO_STAFF_PIN.chars() {
        tap(&mut h, &c.to_string());
    }
    tap(&mut h, pl(T::Unlock));
    assert!(h.state().staff().is_some(), "staff mode");
    let session = {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk.sessions_today().expect("sessions")[0].id
    };
    h.state_mut().handle(Action::OpenRollCall(session));
    h.run();
    h.state_mut().handle(Action::OpenWalkIn);
    h.run();
    let walk_in_fields = [
        pl(T::GivenName),
        pl(T::FamilyName),
        pl(T::BirthYear),
        pl(T::ResidentCodeOptional),
    ];
    check_form(&mut h, size, &walk_in_fields, |h| tap(h, pl(T::AddPresent)));

    // Set-up of a new kiosk: enrolling with a server.
    let empty = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let mut h = harness_sized(
        options_on(&empty.path().join("kiosk"), &clock),
        width,
        height,
    );
    tap(&mut h, pl(T::SetupEnroll));
    check_form(
        &mut h,
        size,
        &[pl(T::ServerAddress), pl(T::EnrollmentCode)],
        |h| tap(h, pl(T::Connect)),
    );
}

#[test]
fn every_form_at_1024x768() {
    every_form_at(1024.0, 768.0);
}

#[test]
fn every_form_at_1280x1024() {
    every_form_at(1280.0, 1024.0);
}

#[test]
fn every_form_at_1920x1080() {
    every_form_at(1920.0, 1080.0);
}

#[test]
fn every_form_at_1080x1920_portrait() {
    every_form_at(1080.0, 1920.0);
}

#[test]
fn three_text_sizes_enlarge_the_text_and_the_keys_until_the_session_resets() {
    for (width, height) in SIZES {
        let (_dir, _clock, mut h) = app(width, height, false);
        h.state_mut().handle(Action::OpenClasses);
        h.run();
        tap_containing(&mut h, "Pilates");
        let measure = |h: &Harness<'_, KioskApp>| {
            let (field, label) = field_and_label(h, pl(T::GivenName));
            let key = h.get_by_role_and_label(Role::Button, "Q").rect();
            // Widths: a label scrolled partly out of view keeps its width.
            let _ = label;
            // The text size the app draws its body text at.
            let body = h.ctx.global_style().text_styles[&egui::TextStyle::Body].size;
            (body, field.height(), key.height())
        };
        let normal = measure(&h);
        let mut last = normal;
        for (step, factor) in [(TextStep::Larger, 1.3), (TextStep::Largest, 1.6)] {
            h.state_mut().handle(Action::ToggleLargeText);
            h.run();
            assert_eq!(h.state().look().text, step);
            let now = measure(&h);
            let ratio = now.0 / normal.0;
            assert!(
                (ratio - factor).abs() < 0.12,
                "{step:?}: text {ratio:.2}x at {width}x{height}"
            );
            assert!(now.1 > last.1, "{step:?}: fields grow at {width}x{height}");
            // A 768-point window has no room for taller keys: they keep their size there.
            if height > 768.0 {
                assert!(now.2 > last.2, "{step:?}: keys grow at {width}x{height}");
            } else {
                assert!(
                    now.2 >= last.2 && now.2 >= 48.0,
                    "{step:?}: keys at {width}x{height}"
                );
            }
            assert_in_view(&h, pl(T::GivenName), (width, height), &format!("{step:?}"));
            last = now;
        }
        // The look stays from screen to screen, until the session resets.
        h.state_mut().handle(Action::OpenServices);
        h.run();
        assert_eq!(h.state().look().text, TextStep::Largest);
        h.state_mut().handle(Action::StartAgain);
        h.run();
        assert_eq!(h.state().look().text, TextStep::Normal);
        h.state_mut().handle(Action::ToggleLargeText);
        h.state_mut().handle(Action::ToggleLargeText);
        h.state_mut().handle(Action::ToggleLargeText);
        assert_eq!(h.state().look().text, TextStep::Normal, "the button cycles");
    }
}

/// Wait out the touch guard, as a person does between two deliberate taps.
fn pause(h: &mut Harness<'_, KioskApp>, clock: &TestClock) {
    clock.advance_ms(DEFAULT_TOUCH_GUARD_MS + 100);
    h.run();
}

fn tap_slowly(h: &mut Harness<'_, KioskApp>, clock: &TestClock, label: &str) {
    pause(h, clock);
    tap(h, label);
}

/// Type on the keyboard with a pause after each key longer than the repeat guard.
fn type_slowly(h: &mut Harness<'_, KioskApp>, clock: &TestClock, field: &str, text: &str) {
    pause(h, clock);
    h.get_by_role_and_label(Role::TextInput, field).click();
    h.run();
    for c in text.chars() {
        clock.advance_ms(DEFAULT_REPEAT_GUARD_MS + 50);
        let key = c.to_string();
        if h.query_by_role_and_label(Role::Button, &key).is_none() {
            tap(h, pl(T::Shift));
            clock.advance_ms(DEFAULT_REPEAT_GUARD_MS + 50);
        }
        tap(h, &key);
    }
}

#[test]
fn a_double_tap_on_sign_me_up_leaves_the_resident_code_on_screen() {
    let (_dir, clock, mut h) = app(1280.0, 1024.0, true);
    tap_slowly(&mut h, &clock, pl(T::SignUpTile));
    pause(&mut h, &clock);
    tap_containing(&mut h, "Pilates");
    type_slowly(&mut h, &clock, pl(T::GivenName), "Jan");
    type_slowly(&mut h, &clock, pl(T::FamilyName), "Kos");
    type_slowly(&mut h, &clock, pl(T::BirthYear), "1948");
    pause(&mut h, &clock);
    let next = h.get_by_role_and_label(Role::Button, pl(T::Next)).rect();
    tap(&mut h, pl(T::Next));
    assert!(matches!(h.state().screen(), Screen::RegisterConsent { .. }));
    // "Sign me up" is not where "Next" was.
    let sign = h
        .get_by_role_and_label(Role::Button, pl(T::SignMeUp))
        .rect();
    assert!(!sign.intersects(next), "{sign:?} where Next {next:?} was");
    pause(&mut h, &clock);
    tick(&mut h, pl(T::ConsentRead));
    pause(&mut h, &clock);
    let sign = h
        .get_by_role_and_label(Role::Button, pl(T::SignMeUp))
        .rect();
    tap(&mut h, pl(T::SignMeUp));
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt: {:?}", h.state().notice());
    };
    let code = receipt.resident_code.clone();
    assert!(
        h.state().touch_guarded(),
        "touches wait after the screen change"
    );

    // The second tap of the double tap, 300 ms later, where "Sign me up" was.
    clock.advance_ms(300);
    tap_at(&mut h, sign.center());
    assert!(matches!(h.state().screen(), Screen::Registered { .. }));
    assert!(has_text(&h, &code), "the resident code is still shown");
    // "Done" is elsewhere, and even a tap on it waits for the guard.
    let done = h.get_by_role_and_label(Role::Button, pl(T::Done)).rect();
    assert!(
        !done.intersects(sign),
        "Done {done:?} sits where Sign me up {sign:?} was"
    );
    clock.advance_ms(100);
    tap(&mut h, pl(T::Done));
    assert!(matches!(h.state().screen(), Screen::Registered { .. }));
    // A deliberate tap after the guard works.
    tap_slowly(&mut h, &clock, pl(T::Done));
    assert!(matches!(h.state().screen(), Screen::Home));
}

#[test]
fn a_double_tap_on_cancel_my_place_does_not_cancel() {
    let (_dir, clock, mut h) = app(1280.0, 1024.0, true);
    let code = {
        let mut kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        let pilates = kiosk
            .classes()
            .expect("classes")
            .into_iter()
            .find(|c| c.title == "Pilates")
            .expect("the demo has Pilates");
        kiosk
            .register(&RegistrationForm {
                class_id: pilates.id.to_string(),
                given_name: "Ewa".into(),
                family_name: "Lis".into(),
                birth_year: 1950,
                consent: true,
                ..RegistrationForm::default()
            })
            .expect("register")
            .resident_code
    };
    tap_slowly(&mut h, &clock, pl(T::MineTile));
    type_slowly(&mut h, &clock, pl(T::ResidentCode), &code.to_lowercase());
    tap_slowly(&mut h, &clock, pl(T::Show));
    assert!(matches!(h.state().screen(), Screen::Resident { .. }));
    pause(&mut h, &clock);
    let cancel = h
        .get_by_role_and_label(Role::Button, pl(T::CancelRegistration))
        .rect();
    tap(&mut h, pl(T::CancelRegistration));
    assert!(matches!(h.state().screen(), Screen::CancelAsk { .. }));
    // The second tap, 300 ms later: nothing happens.
    clock.advance_ms(300);
    tap_at(&mut h, cancel.center());
    assert!(matches!(h.state().screen(), Screen::CancelAsk { .. }));
    // The safe answer is where the finger is; "yes" is elsewhere.
    let no = h.get_by_role_and_label(Role::Button, pl(T::NoKeep)).rect();
    let yes = h
        .get_by_role_and_label(Role::Button, pl(T::YesCancel))
        .rect();
    assert!(
        no.contains(cancel.center()),
        "{no:?} under the tap at {cancel:?}"
    );
    assert!(
        !yes.intersects(cancel),
        "{yes:?} near the tap at {cancel:?}"
    );
    // Even a third tap there, after the guard, keeps the place.
    pause(&mut h, &clock);
    tap_at(&mut h, cancel.center());
    let Screen::Resident { overview } = h.state().screen() else {
        panic!(
            "back on the overview: {:?}",
            screen_name(h.state().screen())
        );
    };
    assert_eq!(overview.registrations[0].status, "confirmed");
}

#[test]
fn a_double_press_of_a_key_types_once_and_two_slow_presses_type_twice() {
    let (_dir, clock, mut h) = app(1280.0, 1024.0, true);
    tap_slowly(&mut h, &clock, pl(T::SignUpTile));
    pause(&mut h, &clock);
    tap_containing(&mut h, "Pilates");
    pause(&mut h, &clock);
    // The name starts with a capital: the key shows "T", then "t" at the same place.
    tap(&mut h, "T");
    clock.advance_ms(120);
    tap(&mut h, "t");
    assert_eq!(h.state().form().get(FieldId::GivenName), "T");
    clock.advance_ms(DEFAULT_REPEAT_GUARD_MS + 100);
    tap(&mut h, "t");
    assert_eq!(h.state().form().get(FieldId::GivenName), "Tt");
    // Two keys in quick succession both count.
    clock.advance_ms(50);
    tap(&mut h, "o");
    assert_eq!(h.state().form().get(FieldId::GivenName), "Tto");
    // A shaky double press on shift leaves it on.
    clock.advance_ms(DEFAULT_REPEAT_GUARD_MS + 100);
    tap(&mut h, pl(T::Shift));
    clock.advance_ms(100);
    tap(&mut h, pl(T::Shift));
    clock.advance_ms(DEFAULT_REPEAT_GUARD_MS + 100);
    tap(&mut h, "M");
    assert_eq!(h.state().form().get(FieldId::GivenName), "TtoM");
}

#[test]
fn a_double_tap_on_send_the_request_leaves_the_reference_on_screen() {
    let (_dir, clock, mut h) = app(1280.0, 1024.0, true);
    tap_slowly(&mut h, &clock, pl(T::RequestTile));
    pause(&mut h, &clock);
    tap_containing(&mut h, "Podolog");
    type_slowly(&mut h, &clock, pl(T::GivenName), "Jan");
    type_slowly(&mut h, &clock, pl(T::FamilyName), "Kos");
    type_slowly(&mut h, &clock, pl(T::BirthYear), "1948");
    tap_slowly(&mut h, &clock, pl(T::Next));
    type_slowly(&mut h, &clock, pl(T::Description), "Stopy");
    pause(&mut h, &clock);
    let next = h.get_by_role_and_label(Role::Button, pl(T::Next)).rect();
    tap(&mut h, pl(T::Next));
    assert!(
        matches!(h.state().screen(), Screen::IntakeDeclaration { .. }),
        "{:?}",
        h.state().notice()
    );
    let send = h
        .get_by_role_and_label(Role::Button, pl(T::SendRequest))
        .rect();
    assert!(!send.intersects(next), "{send:?} where Next {next:?} was");
    pause(&mut h, &clock);
    tick(&mut h, pl(T::DeclarationTick));
    pause(&mut h, &clock);
    tick(&mut h, pl(T::ConsentRead));
    pause(&mut h, &clock);
    tap(&mut h, pl(T::SendRequest));
    let Screen::IntakeSent { receipt } = h.state().screen() else {
        panic!("not on the receipt: {:?}", h.state().notice());
    };
    let reference = receipt.reference.clone();
    // The second tap of the double tap, 300 ms later, where "Send the request" was.
    clock.advance_ms(300);
    tap_at(&mut h, send.center());
    assert!(matches!(h.state().screen(), Screen::IntakeSent { .. }));
    assert!(
        has_text(&h, &reference),
        "the reference number is still shown"
    );
    let done = h.get_by_role_and_label(Role::Button, pl(T::Done)).rect();
    assert!(
        !done.intersects(send),
        "Done {done:?} where Send {send:?} was"
    );
}

/// The receipt's resident code, the one thing a resident must take away, is in view on
/// every screen size without scrolling: above the bar with "Gotowe".
#[test]
fn the_resident_code_on_the_receipt_is_in_view_at_every_size() {
    for (width, height) in SIZES {
        let (_dir, _clock, mut h) = app(width, height, false);
        h.state_mut().handle(Action::OpenClasses);
        h.run();
        tap_containing(&mut h, "Pilates");
        person(&mut h);
        tap(&mut h, pl(T::Next));
        tick(&mut h, pl(T::ConsentRead));
        tap(&mut h, pl(T::SignMeUp));
        let Screen::Registered { receipt } = h.state().screen() else {
            panic!(
                "not on the receipt at {width}x{height}: {:?}",
                h.state().notice()
            );
        };
        let code = receipt.resident_code.clone();
        let shown = h.get_by_label(&code).rect();
        let done = h.get_by_role_and_label(Role::Button, pl(T::Done)).rect();
        let help = h.get_by_role_and_label(Role::Button, pl(T::Help)).rect();
        assert!(
            shown.top() >= help.bottom() && shown.bottom() <= done.top(),
            "the code {shown:?} is not in view between {help:?} and {done:?} at {width}x{height}"
        );
    }
}

/// A finger that lands on a field's label, not its box, opens the field: the label is
/// part of the target (a box half under the keyboard is then still easy to reach).
#[test]
fn a_tap_on_a_fields_label_opens_the_field() {
    let (_dir, _clock, mut h) = app(1024.0, 768.0, false);
    h.state_mut().handle(Action::OpenClasses);
    h.run();
    tap_containing(&mut h, "Pilates");
    let label = h
        .query_all_by_label(pl(T::BirthYear))
        .find(|n| n.accesskit_node().role() != Role::TextInput)
        .expect("the label of the year of birth");
    label.click();
    h.run();
    assert_eq!(h.state().form().active, Some(FieldId::BirthYear));
}
