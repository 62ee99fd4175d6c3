//! SMS consent at the touch app, driven as a resident would (egui_kittest): a landline
//! with the SMS box ticked is refused with its reason and kept without the box; a mobile
//! gets the consent to the text of the language the form was shown in; and "Nie chcę
//! SMS" on the resident's overview asks first (the safe answer where the finger was),
//! then withdraws, at 1024x768 with every touch target checked.

use eframe::egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use blisko_kiosk::app::text::{T, wording_problems};
use blisko_kiosk::app::{Action, DEFAULT_TOUCH_GUARD_MS, KioskApp, Screen};
use blisko_kiosk::kiosk::{Kiosk, RegistrationForm};
use blisko_shared::i18n::Lang;
use blisko_shared::validate::FieldError;
use blisko_tests::harness::setup_key;
use blisko_tests::ui::{
    TestClock, assert_targets, demo_app as app, harness_sized, has_text, options_on, screen_name,
    tap, tap_containing, tick, type_into,
};

fn en(key: T) -> &'static str {
    key.tr(Lang::En)
}

fn pl(key: T) -> &'static str {
    key.tr(Lang::Pl)
}

/// Switch the home screen to English (each resident chooses anew: "Done" goes back to
/// Polish), fill in the details for "Pilates" and reach the consent screen.
fn details_in_english(h: &mut Harness<'_, KioskApp>, family: &str, phone: &str) {
    h.state_mut().handle(Action::SetLang(Lang::En));
    h.run();
    tap(h, en(T::SignUpTile));
    tap_containing(h, "Pilates");
    type_into(h, en(T::GivenName), "Ewa");
    type_into(h, en(T::FamilyName), family);
    type_into(h, en(T::BirthYear), "1950");
    type_into(h, en(T::Phone), phone);
    tap(h, en(T::Next));
    assert!(
        matches!(h.state().screen(), Screen::RegisterConsent { .. }),
        "on {}",
        screen_name(h.state().screen())
    );
}

fn sms_consent_of(h: &Harness<'_, KioskApp>, code: &str) -> Option<String> {
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    let person = kiosk.resident(code).expect("stored").person_id;
    kiosk.sms_consent(person).expect("read")
}

#[test]
fn sms_needs_a_polish_mobile_and_english_forms_record_the_english_text() {
    let (_kit, mut h) = app();

    // A Warsaw landline with the box ticked: refused, with the reason, on this screen.
    details_in_english(&mut h, "Lis", "221234567");
    tick(&mut h, en(T::ConsentRead));
    tick(&mut h, en(T::SmsConsent));
    tap(&mut h, en(T::SignMeUp));
    assert!(matches!(h.state().screen(), Screen::RegisterConsent { .. }));
    let notice = h.state().notice().expect("an error is shown").clone();
    assert!(!notice.ok);
    assert_eq!(
        notice.text,
        FieldError::SmsNeedsPolishMobile.message(Lang::En)
    );
    assert!(has_text(&h, &notice.text), "the reason is on screen");
    // Without the box the landline is fine, and nobody gets SMS.
    tick(&mut h, en(T::SmsConsent));
    tap(&mut h, en(T::SignMeUp));
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    let landline_code = receipt.resident_code.clone();
    assert_eq!(sms_consent_of(&h, &landline_code), None);
    tap(&mut h, en(T::Done));

    // A mobile with the box ticked: the consent to the English text.
    details_in_english(&mut h, "Sowa", "601234567");
    tick(&mut h, en(T::ConsentRead));
    tick(&mut h, en(T::SmsConsent));
    tap(&mut h, en(T::SignMeUp));
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    let code = receipt.resident_code.clone();
    assert_eq!(
        sms_consent_of(&h, &code).as_deref(),
        Some("zgoda-sms-2026-02-en")
    );
}

/// The new screens' Polish texts follow the wording rules, as every screen's must.
fn assert_polite(h: &Harness<'_, KioskApp>) {
    let mut problems = Vec::new();
    for node in h.query_all_by(|_| true) {
        if let Some(text) = node.accesskit_node().label() {
            problems.extend(
                wording_problems(&text)
                    .into_iter()
                    .map(|p| format!("{text:?}: {p}")),
            );
        }
    }
    assert!(
        problems.is_empty(),
        "on {}: {problems:#?}",
        screen_name(h.state().screen())
    );
}

#[test]
fn nie_chce_sms_asks_first_then_withdraws_at_1024x768() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let data = dir.path().join("kiosk");
    let key = setup_key(&data).expect("key");
    let mut kiosk = Kiosk::setup_demo(&data, "MAL", &key, clock.wall()).expect("demo kiosk");
    let class = kiosk.classes().expect("classes")[0].id.to_string();
    let code = kiosk
        .register(&RegistrationForm {
            class_id: class,
            given_name: "Józef".into(),
            family_name: "Kwiatek".into(),
            birth_year: 1944,
            phone: Some("601 234 567".into()),
            consent: true,
            sms_consent: true,
            ..RegistrationForm::default()
        })
        .expect("register")
        .resident_code;
    drop(kiosk);
    // The touch guard on, as at a real kiosk: the clock moves between taps.
    let mut options = options_on(&data, &clock);
    options.touch_guard_ms = DEFAULT_TOUCH_GUARD_MS;
    let mut h = harness_sized(options, 1024.0, 768.0);
    let tap_slowly = |h: &mut Harness<'_, KioskApp>, label: &str| {
        clock.advance_ms(DEFAULT_TOUCH_GUARD_MS + 100);
        h.run();
        tap(h, label);
    };

    tap_slowly(&mut h, pl(T::MineTile));
    clock.advance_ms(DEFAULT_TOUCH_GUARD_MS + 100);
    h.run();
    type_into(&mut h, pl(T::ResidentCode), &code.to_lowercase());
    tap_slowly(&mut h, pl(T::Show));
    assert!(matches!(h.state().screen(), Screen::Resident { .. }));
    assert!(has_text(&h, pl(T::SmsReminders)));
    assert_polite(&h);

    // "No, keep them" comes where the finger was; "yes" is elsewhere.
    let stop = h.get_by_role_and_label(Role::Button, pl(T::StopSms)).rect();
    tap_slowly(&mut h, pl(T::StopSms));
    assert!(matches!(h.state().screen(), Screen::SmsWithdrawAsk { .. }));
    assert_polite(&h);
    let no = h
        .get_by_role_and_label(Role::Button, pl(T::NoKeepSms))
        .rect();
    let yes = h
        .get_by_role_and_label(Role::Button, pl(T::YesStopSms))
        .rect();
    assert!(
        no.contains(stop.center()),
        "{no:?} under the tap at {stop:?}"
    );
    assert!(!yes.intersects(stop), "{yes:?} near the tap at {stop:?}");
    let area = h.ctx.content_rect();
    assert!(
        area.contains_rect(no) && area.contains_rect(yes),
        "{no:?} {yes:?} in {area:?}"
    );
    tap_slowly(&mut h, pl(T::NoKeepSms));
    assert!(matches!(h.state().screen(), Screen::Resident { .. }));
    assert!(sms_consent_of(&h, &code).is_some(), "kept");

    tap_slowly(&mut h, pl(T::StopSms));
    tap_slowly(&mut h, pl(T::YesStopSms));
    assert!(
        matches!(h.state().screen(), Screen::SmsWithdrawn { .. }),
        "on {}",
        screen_name(h.state().screen())
    );
    assert!(has_text(&h, pl(T::SmsStopped)));
    assert_polite(&h);
    assert_targets(&h);
    assert_eq!(sms_consent_of(&h, &code), None, "withdrawn at once");
    tap_slowly(&mut h, pl(T::Done));
    assert!(matches!(h.state().screen(), Screen::Home));

    // Looked up again: no SMS line, no button.
    tap_slowly(&mut h, pl(T::MineTile));
    clock.advance_ms(DEFAULT_TOUCH_GUARD_MS + 100);
    h.run();
    type_into(&mut h, pl(T::ResidentCode), &code.to_lowercase());
    tap_slowly(&mut h, pl(T::Show));
    assert!(matches!(h.state().screen(), Screen::Resident { .. }));
    assert!(
        h.query_by_role_and_label(Role::Button, pl(T::StopSms))
            .is_none()
    );
    assert!(!has_text(&h, pl(T::SmsReminders)));
}

/// The real window at 1024x768, tapped with xdotool as a finger would: a resident with
/// the SMS consent looks up their registrations by code and stops SMS. The store then has
/// no consent, and the app's log holds no name. `BLISKO_SCREENSHOTS=docs/screenshots`
/// keeps the pictures.
#[test]
fn the_real_window_at_1024x768_stops_sms_by_touch() -> anyhow::Result<()> {
    use blisko_tests::window::{KioskWindow, Xvfb};
    let work = tempfile::tempdir()?;
    let data = work.path().join("kiosk");
    let shots = std::env::var_os("BLISKO_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| work.path().join("shots"));
    std::fs::create_dir_all(&shots)?;
    let key = setup_key(&data)?;
    let mut kiosk = Kiosk::setup_demo(&data, "MAL", &key, blisko_kiosk::kiosk::system_clock())?;
    let class = kiosk.classes()?[0].id.to_string();
    let receipt = kiosk.register(&RegistrationForm {
        class_id: class,
        given_name: "Józef".into(),
        family_name: "Kwiatek".into(),
        birth_year: 1944,
        phone: Some("601 234 567".into()),
        consent: true,
        sms_consent: true,
        ..RegistrationForm::default()
    })?;
    drop(kiosk);

    let x = Xvfb::start(1024, 768)?;
    let mut w = KioskWindow::open(&x, &data, work.path(), (1024, 768))?;
    let map = w.wait_for("Home")?;
    w.tap(&map, pl(T::MineTile), true)?;
    w.wait_for("Lookup")?;
    w.type_keys("Lookup", &receipt.resident_code)?;
    let map = w.wait_for("Lookup")?;
    w.tap(&map, pl(T::Show), true)?;
    let map = w.wait_for("Resident")?;
    x.screenshot(&shots.join("kiosk-1024-sms-on.png"))?;
    w.tap(&map, pl(T::StopSms), true)?;
    let map = w.wait_for("SmsWithdrawAsk")?;
    x.screenshot(&shots.join("kiosk-1024-sms-ask.png"))?;
    w.tap(&map, pl(T::YesStopSms), true)?;
    w.wait_for("SmsWithdrawn")?;
    x.screenshot(&shots.join("kiosk-1024-sms-stopped.png"))?;
    let log = w.close()?;
    for personal in ["Kwiatek", "601 234 567", "601234567"] {
        assert!(!log.contains(personal), "{personal} in {log}");
    }

    let k = blisko_tests::harness::open_kiosk(&data)?;
    assert_eq!(
        k.sms_consent(receipt.person_id)?,
        None,
        "withdrawn by touch"
    );
    Ok(())
}
