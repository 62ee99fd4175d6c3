//! What the kiosk says, read as a resident reads it: one polite register on every screen
//! of a registration and a request (no "ty", no slash forms, no codes), the intake
//! request's own information clause and the service's conditions before the declaration,
//! whose details a parent enters, a call promised only with a phone number, and warnings
//! on the form rather than after it (a full class, a resident code of someone else, an
//! error on the field it is about, gone once that field changes).

use anyhow::{Context, Result, ensure};
use eframe::egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use blisko_kiosk::app::text::wording_problems;
use blisko_kiosk::app::{FieldId, KioskApp, Screen};
use blisko_kiosk::kiosk::{DECLARATION_VERSION, IntakeForm, RegistrationForm};
use blisko_kiosk::{Kiosk, KioskError};
use blisko_shared::i18n::Lang;
use blisko_shared::model::{INFORMATION_CLAUSE_VERSION, INTAKE_CLAUSE, INTAKE_CLAUSE_VERSION};
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, sync};
use blisko_tests::office::{Office, PASSWORD, add_staff};
use blisko_tests::ui::{
    demo_app as app, has_text, screen_name, tap, tap_containing, tick, type_into,
};

/// Every text on the screen now (labels, buttons, fields), as the accessibility tree
/// has it.
fn texts_on(h: &Harness<'_, KioskApp>) -> Vec<String> {
    h.query_all_by(|_| true)
        .filter_map(|n| n.accesskit_node().label())
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The screen follows the wording rules: no familiar or mixed register, no slash forms,
/// no legal references in short texts, no version codes.
fn assert_polite(h: &Harness<'_, KioskApp>) {
    let screen = screen_name(h.state().screen());
    let mut problems = Vec::new();
    for text in texts_on(h) {
        for version in [
            INFORMATION_CLAUSE_VERSION,
            INTAKE_CLAUSE_VERSION,
            DECLARATION_VERSION,
        ] {
            if text.contains(version) {
                problems.push(format!("{text:?} shows {version}"));
            }
        }
        // A heading joins a title and a name with a dash ("Pilates — Informacja …"):
        // the dash rule is for sentences, checked on the catalogue itself.
        for p in wording_problems(&text) {
            if !p.starts_with("capital after a dash") {
                problems.push(format!("{text:?}: {p}"));
            }
        }
    }
    assert!(problems.is_empty(), "on {screen}: {problems:#?}");
}

fn service_named(h: &Harness<'_, KioskApp>, name: &str) -> blisko_shared::model::Service {
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    kiosk
        .services()
        .expect("services")
        .into_iter()
        .find(|s| s.name == name)
        .expect("the demo service")
}

fn register_directly(h: &Harness<'_, KioskApp>, title: &str, given: &str, family: &str) -> String {
    let mut kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    let class = kiosk
        .classes()
        .expect("classes")
        .into_iter()
        .find(|c| c.title == title)
        .expect("the demo class");
    kiosk
        .register(&RegistrationForm {
            class_id: class.id.to_string(),
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
fn every_screen_of_a_registration_and_a_request_speaks_one_polite_register() {
    let (_kit, mut h) = app();
    assert_polite(&h);
    tap(&mut h, "Zapisy na zajęcia");
    assert_polite(&h);
    tap_containing(&mut h, "Pilates");
    assert_polite(&h);
    type_into(&mut h, "Imię", "Stanisław");
    type_into(&mut h, "Nazwisko", "Żółkiewski");
    type_into(&mut h, "Rok urodzenia", "1946");
    tap(&mut h, "Dalej");
    assert_polite(&h);
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");
    tap(&mut h, "Zapisz mnie");
    assert!(matches!(h.state().screen(), Screen::Registered { .. }));
    assert_polite(&h);
    let Screen::Registered { receipt } = h.state().screen() else {
        unreachable!()
    };
    let code = receipt.resident_code.clone();
    tap(&mut h, "Gotowe");

    tap(&mut h, "Wniosek o usługę");
    assert_polite(&h);
    tap_containing(&mut h, "Podolog");
    assert_polite(&h);
    tap(&mut h, "Składam jako osoba opiekująca się na co dzień");
    assert_polite(&h);
    type_into(&mut h, "Imię", "Stanisław");
    type_into(&mut h, "Nazwisko", "Żółkiewski");
    type_into(&mut h, "Rok urodzenia", "1946");
    tap(&mut h, "Dalej");
    assert_polite(&h);
    type_into(
        &mut h,
        "Proszę krótko opisać, czego potrzeba",
        "Pielęgnacja stóp",
    );
    tap(&mut h, "Dalej");
    assert_polite(&h);
    tick(&mut h, "Potwierdzam spełnienie warunków");
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");
    tap(&mut h, "Wyślij wniosek");
    assert!(matches!(h.state().screen(), Screen::IntakeSent { .. }));
    assert_polite(&h);
    tap(&mut h, "Gotowe");

    tap(&mut h, "Moje zapisy i wnioski");
    assert_polite(&h);
    type_into(&mut h, "Kod mieszkańca", &code.replace('-', ""));
    tap(&mut h, "Pokaż");
    assert!(matches!(h.state().screen(), Screen::Resident { .. }));
    assert_polite(&h);
    // "Dzień dobry!" without the first name.
    assert!(has_text(&h, "Dzień dobry!"));
    assert!(!has_text(&h, "Stanisław"));
    tap(&mut h, "Wypisz mnie");
    assert_polite(&h);
}

#[test]
fn the_intake_request_shows_its_own_clause_and_names_the_conditions() {
    let (_kit, mut h) = app();
    let podolog = service_named(&h, "Podolog");
    assert!(!podolog.conditions.is_empty(), "the demo gives conditions");
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
    assert!(matches!(
        h.state().screen(),
        Screen::IntakeDeclaration { .. }
    ));
    // Its own clause: the request's purpose, the PESEL and the description; not the
    // class registration's.
    assert!(has_text(&h, INTAKE_CLAUSE.0));
    assert!(has_text(&h, "opis potrzeby"));
    assert!(has_text(&h, "numer PESEL (tylko gdy usługa go wymaga)"));
    assert!(!has_text(&h, "wyłącznie do zapisów na zajęcia"));
    // The conditions, and the declaration that names them.
    assert!(has_text(&h, "Kto może skorzystać z usługi"));
    assert!(has_text(
        &h,
        &format!(
            "spełnia warunki skorzystania z usługi: {}.",
            podolog.conditions
        )
    ));
    // Legal references in the full text, not the heading.
    let heading = "Podolog — Oświadczenie i zgoda";
    assert!(has_text(&h, heading));
    assert!(
        wording_problems(heading)
            .iter()
            .all(|p| p.starts_with("capital after a dash")),
        "{heading}"
    );

    tick(&mut h, "Potwierdzam spełnienie warunków");
    tick(&mut h, "Potwierdzam zapoznanie się z informacją");
    tap(&mut h, "Wyślij wniosek");
    let Screen::IntakeSent { receipt } = h.state().screen() else {
        panic!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    // No phone number was given: no call is promised.
    assert!(!receipt.call_back);
    assert!(has_text(
        &h,
        "Stan wniosku można sprawdzić tutaj, podając kod mieszkańca, lub w punkcie obsługi."
    ));
    assert!(!has_text(&h, "zadzwoni"));
}

#[test]
fn a_phone_number_is_checked_on_the_form_and_then_a_call_is_promised() {
    let (_kit, mut h) = app();
    tap(&mut h, "Wniosek o usługę");
    tap_containing(&mut h, "Podolog");
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Nazwisko", "Nowak");
    type_into(&mut h, "Rok urodzenia", "1950");
    type_into(&mut h, "Telefon do kontaktu (nieobowiązkowo)", "60070");
    tap(&mut h, "Dalej");
    // Refused on the form, with the phone field active for the correction.
    assert!(matches!(h.state().screen(), Screen::IntakeDetails { .. }));
    let notice = h.state().notice().expect("an error notice").text.clone();
    assert!(notice.contains("telefon"), "{notice}");
    assert_eq!(h.state().form().active, Some(FieldId::Phone));
    // Changing the value clears the notice about it.
    tap(&mut h, "0");
    assert!(
        h.state().notice().is_none(),
        "the notice stays after a change"
    );
    for digit in "800".chars() {
        tap(&mut h, &digit.to_string());
    }
    assert_eq!(
        h.state().form().get(FieldId::Phone),
        "600700800",
        "typed into the phone field"
    );
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
        panic!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    assert!(receipt.call_back);
    assert!(has_text(
        &h,
        "Pracownik zadzwoni pod podany numer telefonu."
    ));
}

#[test]
fn a_parent_or_carer_is_told_whose_details_to_enter() {
    let (_kit, mut h) = app();
    tap(&mut h, "Wniosek o usługę");
    tap_containing(&mut h, "Psycholog dziecięcy");
    assert!(has_text(&h, "Proszę wpisać swoje dane."));
    for role in [
        "Składam jako rodzic lub opiekun prawny",
        "Składam jako osoba opiekująca się na co dzień",
    ] {
        tap(&mut h, role);
        assert!(
            has_text(
                &h,
                "Proszę wpisać dane osoby, której dotyczy wniosek (np. dziecka)."
            ),
            "after {role}"
        );
    }
    tap(&mut h, "Składam wniosek we własnym imieniu");
    assert!(has_text(&h, "Proszę wpisać swoje dane."));
    // The same in English, where it reads naturally.
    assert!(
        blisko_kiosk::app::text::T::DetailsOfOther
            .tr(Lang::En)
            .contains("the person the request is for")
    );
}

#[test]
fn a_full_class_says_waiting_list_on_its_card_and_on_the_form() {
    let (_kit, mut h) = app();
    let capacity = {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        let c = kiosk
            .classes()
            .expect("classes")
            .into_iter()
            .find(|c| c.title == "Pilates")
            .expect("Pilates");
        c.free_seats
    };
    for i in 0..capacity {
        let family = format!(
            "Nowak{}",
            char::from(b'a' + u8::try_from(i).expect("small"))
        );
        register_directly(&h, "Pilates", "Anna", &family);
    }
    tap(&mut h, "Zapisy na zajęcia");
    // Pilates is on Wednesdays: its card is on that day's first page.
    tap(&mut h, "środa");
    let card = h
        .query_all_by_role(Role::Button)
        .filter_map(|n| n.accesskit_node().label())
        .find(|l| l.starts_with("Pilates"))
        .expect("the Pilates card");
    assert!(card.contains("lista rezerwowa"), "{card}");
    tap_containing(&mut h, "Pilates");
    // Before anything is typed or sent.
    assert!(matches!(h.state().screen(), Screen::RegisterDetails { .. }));
    assert!(has_text(
        &h,
        "Brak wolnych miejsc: zapis trafi na listę rezerwową."
    ));
    type_into(&mut h, "Imię", "Jan");
    type_into(&mut h, "Nazwisko", "Kowalski");
    type_into(&mut h, "Rok urodzenia", "1948");
    tap(&mut h, "Dalej");
    assert!(has_text(
        &h,
        "Brak wolnych miejsc: zapis trafi na listę rezerwową."
    ));
}

#[test]
fn a_resident_code_of_someone_else_is_said_on_the_details_form() {
    let (_kit, mut h) = app();
    let code = register_directly(&h, "Gimnastyka", "Anna", "Nowak");
    tap(&mut h, "Zapisy na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Jan");
    type_into(&mut h, "Nazwisko", "Kowalski");
    type_into(&mut h, "Rok urodzenia", "1948");
    type_into(
        &mut h,
        "Kod mieszkańca (jeśli jest)",
        &code.replace('-', ""),
    );
    tap(&mut h, "Dalej");
    assert!(
        matches!(h.state().screen(), Screen::RegisterDetails { .. }),
        "moved on to {}",
        screen_name(h.state().screen())
    );
    let expected = KioskError::ResidentDetailsMismatch.message(Lang::Pl);
    assert_eq!(
        h.state().notice().map(|n| n.text.as_str()),
        Some(expected.as_str())
    );
    assert_eq!(h.state().form().active, Some(FieldId::ResidentCode));
    // The right name with the code goes on.
    tap(&mut h, "Wstecz");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Nazwisko", "Nowak");
    type_into(&mut h, "Rok urodzenia", "1950");
    type_into(
        &mut h,
        "Kod mieszkańca (jeśli jest)",
        &code.replace('-', ""),
    );
    tap(&mut h, "Dalej");
    assert!(matches!(h.state().screen(), Screen::RegisterConsent { .. }));
}

#[test]
fn an_error_focuses_its_field_and_goes_once_that_field_changes() {
    let (_kit, mut h) = app();
    tap(&mut h, "Zapisy na zajęcia");
    tap_containing(&mut h, "Pilates");
    type_into(&mut h, "Imię", "Jan");
    type_into(&mut h, "Nazwisko", "Kowalski");
    type_into(&mut h, "Rok urodzenia", "1800");
    h.get_by_role_and_label(Role::TextInput, "Imię").click();
    h.run();
    assert_eq!(h.state().form().active, Some(FieldId::GivenName));
    tap(&mut h, "Dalej");
    assert!(h.state().notice().is_some_and(|n| !n.ok));
    assert_eq!(
        h.state().form().active,
        Some(FieldId::BirthYear),
        "the keyboard goes to the field the error is about"
    );
    // Changing another field keeps it; changing this one clears it.
    tap(&mut h, "Usuń");
    assert!(h.state().notice().is_none());
    assert_eq!(h.state().form().get(FieldId::BirthYear), "180");
}

#[test]
fn the_description_of_need_is_a_box_of_several_lines() {
    let (_kit, mut h) = app();
    tap(&mut h, "Wniosek o usługę");
    tap_containing(&mut h, "Podolog");
    let one_line = h
        .get_by_role_and_label(Role::TextInput, "Imię")
        .rect()
        .height();
    type_into(&mut h, "Imię", "Anna");
    type_into(&mut h, "Nazwisko", "Nowak");
    type_into(&mut h, "Rok urodzenia", "1950");
    tap(&mut h, "Dalej");
    let label = "Proszę krótko opisać, czego potrzeba";
    let box_height = h
        .get_by_role_and_label(Role::TextInput, label)
        .rect()
        .height();
    assert!(
        box_height >= 2.0 * one_line,
        "the box is {box_height} high, a one-line field {one_line}"
    );
}

#[test]
fn the_office_sees_which_information_clause_a_request_was_filed_under() -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let data = tmp.path().join("server");
    let server = ServerProcess::start(&data, true)?;
    let mal = branch_id(&data, "MAL")?;
    let kiosk = enroll_kiosk(&server, &mal, &tmp.path().join("k"))?;
    sync(&kiosk)?;
    let receipt = {
        let mut k: std::sync::MutexGuard<'_, Kiosk> = kiosk.lock().expect("kiosk");
        let service = k
            .services()?
            .into_iter()
            .find(|s| !s.requires_pesel)
            .context("a service without PESEL")?;
        ensure!(
            !service.conditions.is_empty(),
            "the catalogue carries conditions"
        );
        k.submit_intake(&IntakeForm {
            service_id: service.id.to_string(),
            given_name: "Zofia".into(),
            family_name: "Wójcik".into(),
            birth_year: 1944,
            description: "Proszę o pomoc.".into(),
            declaration: true,
            consent: true,
            ..IntakeForm::default()
        })?
    };
    sync(&kiosk)?;
    add_staff(&data, "org", "organizer", None)?;
    let org = Office::login(&server.url(), "org", PASSWORD)?;
    org.page("/office/requests")?;
    let page = org.page(&format!("/office/requests/{}", receipt.request_id))?;
    let shown = page
        .split("id=\"consent-version\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .context("the clause version row")?;
    ensure!(shown == INTAKE_CLAUSE_VERSION, "{shown:?}");
    ensure!(page.contains(DECLARATION_VERSION));
    Ok(())
}

/// The hint under a home tile, as screen readers get it.
fn tile_hint(h: &Harness<'_, KioskApp>, tile: &str) -> String {
    h.get_by_role_and_label(Role::Button, tile)
        .accesskit_node()
        .description()
        .unwrap_or_default()
}

#[test]
fn a_home_tile_names_only_what_this_branch_offers() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let clock = blisko_tests::ui::TestClock::monday();
    let data = tmp.path().join("si");
    let key = blisko_tests::harness::setup_key(&data).expect("key");
    Kiosk::setup_demo(&data, "SI", &key, clock.wall()).expect("a senior club kiosk");
    let h = blisko_tests::ui::harness_on(&data, &clock);
    let classes = tile_hint(&h, "Zapisy na zajęcia");
    let titles: Vec<String> = {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        kiosk
            .classes()
            .expect("classes")
            .into_iter()
            .map(|c| c.title)
            .collect()
    };
    assert!(!titles.is_empty());
    for title in &titles {
        assert!(
            classes.contains(title.as_str()),
            "{title} missing: {classes}"
        );
    }
    for elsewhere in ["Joga", "gimnastyka", "języki", "Pilates"] {
        assert!(!classes.contains(elsewhere), "{classes}");
    }
    // A branch with more classes names three of them, "and more".
    let (_kit, mal) = app();
    let hint = tile_hint(&mal, "Zapisy na zajęcia");
    assert!(hint.ends_with(" i inne"), "{hint}");
    assert_eq!(hint.matches(", ").count(), 2, "{hint}");
}

#[test]
fn the_demo_catalogue_reads_in_the_same_register() {
    let today = jiff::civil::date(2026, 11, 23);
    let mut problems = Vec::new();
    for catalog in blisko_shared::demo::catalogs(today, 1, None) {
        let services = catalog.services.iter().flat_map(|s| {
            [&s.name, &s.description, &s.conditions]
                .into_iter()
                .map(String::as_str)
        });
        let classes = catalog.classes.iter().flat_map(|c| {
            [&c.title, &c.description, &c.age_group]
                .into_iter()
                .map(String::as_str)
        });
        for text in services.chain(classes) {
            for p in wording_problems(text) {
                problems.push(format!("{text:?}: {p}"));
            }
        }
        for s in &catalog.services {
            assert!(
                !s.conditions.is_empty() && !s.legal_basis.is_empty(),
                "{} has no conditions or legal basis",
                s.name
            );
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
