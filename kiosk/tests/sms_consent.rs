//! The SMS consent in the kiosk core, on a real store: only a Polish mobile number gets
//! it, it is recorded as given to the text of the language the form was shown in, and a
//! withdrawal ("Nie chcę SMS") holds at once, survives a restart and is sent with every
//! sync until one succeeds.

use std::sync::{Arc, LazyLock};

use blisko_kiosk::KioskError;
use blisko_kiosk::key::StoreKey;
use blisko_kiosk::kiosk::{IntakeForm, Kiosk, RegistrationForm, WallClock};
use blisko_shared::i18n::Lang;
use blisko_shared::sync::{KeyList, PersonList, SyncResponse};
use blisko_shared::validate::FieldError;

/// Monday 23 November 2026, noon UTC.
fn monday() -> WallClock {
    let ms = "2026-11-23T12:00:00Z"
        .parse::<jiff::Timestamp>()
        .expect("a valid timestamp")
        .as_millisecond() as u64;
    Arc::new(move || ms)
}

/// These tests reopen stores within one process: a key in memory is enough.
static KEY: LazyLock<StoreKey> = LazyLock::new(StoreKey::random);

fn demo(dir: &std::path::Path) -> Kiosk {
    Kiosk::setup_demo(dir, "MAL", &KEY, monday()).expect("demo kiosk")
}

fn form(k: &Kiosk, phone: &str, sms: bool, lang: Lang) -> RegistrationForm {
    let class = k.classes().expect("classes")[0].id.to_string();
    RegistrationForm {
        class_id: class,
        given_name: "Halina".into(),
        family_name: "Wróbel".into(),
        birth_year: 1951,
        phone: Some(phone.into()),
        consent: true,
        sms_consent: sms,
        lang,
        ..RegistrationForm::default()
    }
}

#[test]
fn a_landline_with_the_sms_box_ticked_is_refused_on_the_phone_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    for landline in ["22 123 45 67", "(12) 345-67-89", "+44 20 7946 0958"] {
        let err = k
            .register(&form(&k, landline, true, Lang::Pl))
            .expect_err("no SMS to a landline or a foreign number");
        assert!(
            matches!(err, KioskError::Invalid(FieldError::SmsNeedsPolishMobile)),
            "{landline}: {err:?}"
        );
        assert_eq!(err.code(), "sms_needs_polish_mobile");
    }
    assert_eq!(
        k.status().expect("status").counts.persons,
        0,
        "nobody was added"
    );

    // Without the box, a landline is fine, and nobody gets SMS.
    let receipt = k
        .register(&form(&k, "22 123 45 67", false, Lang::Pl))
        .expect("a landline without SMS");
    assert_eq!(k.sms_consent(receipt.person_id).expect("read"), None);
    let overview = k.resident(&receipt.resident_code).expect("overview");
    assert!(!overview.sms_consent);
}

#[test]
fn an_intake_request_asks_for_the_sms_consent_under_the_same_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let service = k
        .services()
        .expect("services")
        .into_iter()
        .find(|s| !s.requires_pesel)
        .expect("a service without PESEL")
        .id
        .to_string();
    let intake = |phone: &str, sms: bool, lang: Lang| IntakeForm {
        service_id: service.clone(),
        given_name: "Zofia".into(),
        family_name: "Lis".into(),
        birth_year: 1940,
        phone: Some(phone.into()),
        description: "Pomoc w zakupach.".into(),
        declaration: true,
        consent: true,
        sms_consent: sms,
        lang,
        ..IntakeForm::default()
    };
    let err = k
        .submit_intake(&intake("22 123 45 67", true, Lang::Pl))
        .expect_err("no SMS to a landline");
    assert_eq!(err.code(), "sms_needs_polish_mobile");
    let receipt = k
        .submit_intake(&intake("602 345 678", true, Lang::En))
        .expect("a request with SMS about it");
    assert_eq!(
        k.sms_consent(receipt.person_id).expect("read").as_deref(),
        Some("zgoda-sms-2026-02-en")
    );
    let without = k
        .submit_intake(&intake("603 456 789", false, Lang::Pl))
        .expect("a request without SMS");
    assert_eq!(k.sms_consent(without.person_id).expect("read"), None);
}

#[test]
fn a_mobile_gets_the_consent_to_the_text_of_the_forms_language() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let polish = k
        .register(&form(&k, "601 234 567", true, Lang::Pl))
        .expect("a Polish mobile");
    let english = k
        .register(&form(&k, "+48 881 234 567", true, Lang::En))
        .expect("a Polish mobile, in English");
    assert_eq!(
        k.sms_consent(polish.person_id).expect("read").as_deref(),
        Some("zgoda-sms-2026-02")
    );
    assert_eq!(
        k.sms_consent(english.person_id).expect("read").as_deref(),
        Some("zgoda-sms-2026-02-en")
    );
    assert!(
        k.resident(&english.resident_code)
            .expect("overview")
            .sms_consent
    );
}

#[test]
fn a_withdrawal_holds_at_once_survives_a_restart_and_goes_with_the_next_sync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = demo(dir.path());
    let receipt = k
        .register(&form(&k, "601 234 567", true, Lang::Pl))
        .expect("register");
    let person = receipt.person_id;
    assert!(k.withdraw_sms_consent(person).expect("withdraw"));
    assert!(
        !k.resident(&receipt.resident_code)
            .expect("overview")
            .sms_consent
    );
    assert!(
        !k.withdraw_sms_consent(person).expect("again"),
        "withdrawing twice is no error and no second withdrawal"
    );
    drop(k);

    let mut k = Kiosk::open_with_clock(dir.path(), &KEY, monday()).expect("reopen");
    assert_eq!(
        k.sms_consent(person).expect("read"),
        None,
        "kept across a restart"
    );
    let plan = k.prepare_sync("test").expect("plan");
    let sent: Vec<_> = plan
        .request
        .sms_withdrawals
        .iter()
        .map(|w| w.person)
        .collect();
    assert_eq!(sent, vec![person]);

    // A failed round (no answer) keeps it for the next one.
    let again = k.prepare_sync("test").expect("plan");
    assert_eq!(again.request.sms_withdrawals, plan.request.sms_withdrawals);

    // An answer acknowledges it: not sent again, and the consent stays gone.
    let response = SyncResponse {
        changed: Vec::new(),
        cursor: 0,
        more: false,
        pulled: Vec::new(),
        deferred: Vec::new(),
        keys: KeyList::default(),
        erased: PersonList::default(),
        key_cursor: 0,
        server_instance: None,
    };
    k.apply_sync(plan, response).expect("apply");
    let next = k.prepare_sync("test").expect("plan");
    assert!(next.request.sms_withdrawals.is_empty());
    assert_eq!(k.sms_consent(person).expect("read"), None);
}
