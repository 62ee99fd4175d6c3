//! The touch app on a kiosk the office revoked: where a resident would start, a polite
//! sign that the kiosk is out of service (in both languages) instead of the tiles, kept
//! across a restart; staff enroll it again from the sync screen with a new code, and
//! what it took in before reaches the server.

use egui_kittest::Harness;

use blisko_kiosk::KioskError;
use blisko_kiosk::app::{KioskApp, Screen};
use blisko_kiosk::kiosk::RegistrationForm;
use blisko_shared::demo::DEMO_STAFF_PIN;
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, server_roster, sync};
use blisko_tests::ui::{TestClock, harness_on, has_text, tap, type_into, wait_until};

const SIGN_PL: &str = "Ten kiosk jest wyłączony z użytku. Proszę zwrócić się do obsługi.";
const SIGN_EN: &str = "This kiosk is out of service, please ask staff.";

fn form(class: &str, given: &str) -> RegistrationForm {
    RegistrationForm {
        class_id: class.to_owned(),
        given_name: given.to_owned(),
        family_name: "Nowak".to_owned(),
        birth_year: 1950,
        consent: true,
        ..RegistrationForm::default()
    }
}

fn register(h: &Harness<'_, KioskApp>, class: &str, given: &str) -> Result<(), KioskError> {
    let mut kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    kiosk.register(&form(class, given)).map(|_| ())
}

#[test]
fn a_revoked_kiosk_shows_it_is_out_of_service_and_staff_enroll_it_again() {
    let work = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(&work.path().join("server"), true).expect("server");
    let mal = branch_id(&server.data, "MAL").expect("branch");
    let dir = work.path().join("kiosk");
    // An enrolled kiosk with its catalogue, a registration it has not sent yet, revoked.
    let (id, class) = {
        let kiosk = enroll_kiosk(&server, &mal, &dir).expect("enrolled");
        sync(&kiosk).expect("first sync");
        let mut k = kiosk.lock().expect("lock");
        let class = k.classes().expect("classes")[0].id.to_string();
        k.register(&form(&class, "Anna")).expect("registered");
        (k.identity().kiosk_id.to_string(), class)
    };
    server.admin(&["kiosk", "revoke", &id]).expect("revoke");

    let clock = TestClock::now();
    let mut h = harness_on(&dir, &clock);
    // The background sync learns it is revoked: the tiles give way to the sign.
    wait_until(&mut h, "the out-of-service sign", |h| has_text(h, SIGN_PL));
    assert!(has_text(&h, SIGN_EN), "both languages");
    assert!(!has_text(&h, "Zapisy na zajęcia"), "no tile to start from");
    assert!(!has_text(&h, "Wniosek o usługę"));
    assert!(matches!(
        register(&h, &class, "Barbara"),
        Err(KioskError::OutOfService)
    ));
    drop(h);

    // After a restart, before any sync: still out of service.
    let mut h = harness_on(&dir, &clock);
    assert!(h.state().out_of_service());
    assert!(has_text(&h, SIGN_PL));
    assert!(!has_text(&h, "Zapisy na zajęcia"));

    // Staff enroll it again from the sync screen with a new code for the same kiosk.
    let code = server.admin(&["kiosk", "reenroll", &id]).expect("reenroll")["code"]
        .as_str()
        .expect("code")
        .to_owned();
    tap(&mut h, "Obsługa");
    for c in DEMO_STAFF_PIN.chars() {
        tap(&mut h, &c.to_string());
    }
    tap(&mut h, "Wejdź");
    tap(&mut h, "Synchronizacja");
    assert!(has_text(&h, "Biuro wyłączyło ten kiosk"));
    type_into(&mut h, "Kod rejestracji kiosku", &code.to_lowercase());
    tap(&mut h, "Zarejestruj ponownie");
    assert!(
        has_text(&h, "Kiosk zarejestrowany ponownie"),
        "{:?}",
        h.state().notice()
    );
    assert!(!h.state().out_of_service());
    wait_until(&mut h, "the registration reached the server", |_| {
        server_roster(&server, &class).expect("roster").len() == 1
    });
    tap(&mut h, "Wstecz");
    tap(&mut h, "Zakończ tryb obsługi");
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(has_text(&h, "Zapisy na zajęcia"), "back in service");
    assert!(!has_text(&h, SIGN_PL));
    register(&h, &class, "Barbara").expect("registrations are taken again");
}
