//! Reading aloud and help, driven as a resident would (egui_kittest): every screen says
//! its text in Polish and English when it opens, a first touch says a control and a second
//! uses it, "Powtórz" says the screen again, the "Pomoc" button is on every screen with
//! the branch's own text; and the real espeak-ng reads a screen into a WAV whose length
//! fits the text. The app's voice is a recorder here, except in the espeak-ng test.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use eframe::egui::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};

use blisko_kiosk::app::text::T;
use blisko_kiosk::app::{Action, FieldId, KioskApp, Screen};
use blisko_kiosk::kiosk::Kiosk;
use blisko_kiosk::speech::{self, Recorder, Utterance, Voice};
use blisko_shared::demo::DEMO_STAFF_PIN;
use blisko_shared::i18n::Lang;
use blisko_tests::harness::setup_key;
use blisko_tests::ui::{TestClock, harness_with, has_text, options_on, screen_name, tap};

fn pl(key: T) -> &'static str {
    key.tr(Lang::Pl)
}

/// The MAL branch's help text in the demo catalogue.
const MAL_HELP: &str = "Proszę podejść do recepcji na parterze";

struct Kit {
    _dir: tempfile::TempDir,
    rec: Arc<Recorder>,
    clock: TestClock,
}

/// A demo kiosk of MAL (or an empty store) with a recorder for a voice.
fn app_with(demo: bool) -> (Kit, Harness<'static, KioskApp>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let data = dir.path().join("kiosk");
    if demo {
        let key = setup_key(&data).expect("key");
        Kiosk::setup_demo(&data, "MAL", &key, clock.wall()).expect("demo kiosk");
    }
    let rec = Recorder::new();
    let mut options = options_on(&data, &clock);
    options.speaker = rec.clone();
    let h = harness_with(options);
    (
        Kit {
            _dir: dir,
            rec,
            clock,
        },
        h,
    )
}

fn go(h: &mut Harness<'_, KioskApp>, action: Action) {
    h.state_mut().handle(action);
    h.run();
}

/// One touch on a control, as a finger would.
fn touch(h: &mut Harness<'_, KioskApp>, role: Role, label: &str) {
    h.get_by_role_and_label(role, label).click();
    h.run();
}

/// While reading aloud: touch once to hear it, once more to use it.
fn touch_twice(h: &mut Harness<'_, KioskApp>, role: Role, label: &str) {
    touch(h, role, label);
    touch(h, role, label);
}

/// Type with speech on: the field takes two touches, keys type at once.
fn type_speaking(h: &mut Harness<'_, KioskApp>, field: &str, text: &str) {
    touch_twice(h, Role::TextInput, field);
    for c in text.chars() {
        let key = match c {
            ' ' => pl(T::Space).to_owned(),
            c => c.to_string(),
        };
        if h.query_by_role_and_label(Role::Button, &key).is_none() {
            touch(h, Role::Button, pl(T::Shift));
        }
        touch(h, Role::Button, &key);
    }
    let typed = h
        .get_by_role_and_label(Role::TextInput, field)
        .value()
        .unwrap_or_default();
    assert!(
        typed.to_lowercase().ends_with(&text.to_lowercase()),
        "typed {typed:?} into {field}"
    );
}

/// The screen's text in both languages: not empty, different, and said aloud when the
/// screen (or the language) changed; the help button is there in both.
fn check(h: &mut Harness<'_, KioskApp>, rec: &Recorder, seen: &mut BTreeSet<String>) {
    let name = screen_name(h.state().screen());
    for lang in [Lang::En, Lang::Pl] {
        let before = h.state().spoken_text();
        go(h, Action::SetLang(lang));
        let text = h.state().spoken_text();
        assert!(!text.trim().is_empty(), "{name} says nothing in {lang:?}");
        assert_ne!(text, before, "{name} says the same in both languages");
        let said = rec.said().pop().expect("something was said");
        assert_eq!(said.text, text, "{name} in {lang:?} is read aloud");
        assert_eq!(said.lang, lang);
        assert!(
            h.query_by_role_and_label(Role::Button, T::Help.tr(lang))
                .is_some(),
            "no help button on {name} in {lang:?}"
        );
    }
    // Polish again: opened in Polish, it was read in Polish first.
    seen.insert(name);
}

const ALL_SCREENS: &[&str] = &[
    "Setup",
    "SetupDemo",
    "SetupEnroll",
    "Home",
    "Classes",
    "RegisterDetails",
    "RegisterConsent",
    "Registered",
    "Services",
    "IntakeDetails",
    "IntakeNeed",
    "IntakeDeclaration",
    "IntakeSent",
    "Lookup",
    "Resident",
    "CancelAsk",
    "SmsWithdrawAsk",
    "SmsWithdrawn",
    "StaffPin",
    "StaffMenu",
    "StaffSessions",
    "RollCall",
    "WalkIn",
    "StaffClasses",
    "StaffRoster",
    "StaffSync",
];

fn class_id(h: &Harness<'_, KioskApp>, title: &str) -> blisko_shared::ids::ClassId {
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    kiosk
        .classes()
        .expect("classes")
        .into_iter()
        .find(|c| c.title == title)
        .expect("the demo has it")
        .id
}

fn service_id(h: &Harness<'_, KioskApp>, name: &str) -> blisko_shared::ids::ServiceId {
    let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
    kiosk
        .services()
        .expect("services")
        .into_iter()
        .find(|s| s.name == name)
        .expect("the demo has it")
        .id
}

/// Every screen, entered with speech on, is read aloud from its own text, in Polish and
/// in English; forms are filled by touch with speech on.
#[test]
fn every_screen_reads_its_text_aloud_in_polish_and_english() {
    let mut seen = BTreeSet::new();

    let (kit, mut h) = app_with(false);
    tap(&mut h, pl(T::ReadAloud));
    assert!(h.state().speech_on());
    check(&mut h, &kit.rec, &mut seen);
    go(&mut h, Action::OpenSetupDemo);
    check(&mut h, &kit.rec, &mut seen);
    go(&mut h, Action::BackToSetup);
    go(&mut h, Action::OpenSetupEnroll);
    check(&mut h, &kit.rec, &mut seen);

    let (kit, mut h) = app_with(true);
    let rec = &kit.rec;
    // Off, one touch switches it on; the home screen is read at once.
    tap(&mut h, pl(T::ReadAloud));
    assert_eq!(rec.last(), Some(h.state().spoken_text()));
    assert!(h.state().spoken_text().contains(pl(T::SignUpTile)));
    check(&mut h, rec, &mut seen);

    go(&mut h, Action::OpenClasses);
    assert!(h.state().spoken_text().contains("Pilates"));
    check(&mut h, rec, &mut seen);
    let pilates = class_id(&h, "Pilates");
    go(&mut h, Action::PickClass(pilates));
    check(&mut h, rec, &mut seen);
    type_speaking(&mut h, pl(T::GivenName), "Anna");
    type_speaking(&mut h, pl(T::FamilyName), "Nowak");
    type_speaking(&mut h, pl(T::BirthYear), "1948");
    go(&mut h, Action::RegisterDetailsDone);
    check(&mut h, rec, &mut seen);
    // A tick box too: the first touch says it, the second ticks it.
    touch(&mut h, Role::CheckBox, pl(T::ConsentRead));
    assert!(!h.state().form().consent, "one touch only says it");
    assert!(
        rec.last()
            .is_some_and(|s| s.starts_with(pl(T::ConsentRead)))
    );
    touch(&mut h, Role::CheckBox, pl(T::ConsentRead));
    assert!(h.state().form().consent, "the second touch ticks it");
    assert_eq!(
        rec.last(),
        Some(format!("{}: {}", pl(T::ConsentRead), pl(T::Ticked)))
    );
    go(&mut h, Action::RegisterSubmit);
    let Screen::Registered { receipt } = h.state().screen() else {
        panic!("not on the receipt: {}", screen_name(h.state().screen()));
    };
    let code = receipt.resident_code.clone();
    // The resident's own code is read out, one character at a time.
    let spelled: String = code.chars().filter(|c| c.is_alphanumeric()).collect();
    let said = h.state().spoken_text().replace([' ', ','], "");
    assert!(said.contains(&spelled), "{said}");
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::Home);

    go(&mut h, Action::OpenServices);
    check(&mut h, rec, &mut seen);
    let podolog = service_id(&h, "Podolog");
    go(&mut h, Action::PickService(podolog));
    check(&mut h, rec, &mut seen);
    type_speaking(&mut h, pl(T::GivenName), "Anna");
    type_speaking(&mut h, pl(T::FamilyName), "Nowak");
    type_speaking(&mut h, pl(T::BirthYear), "1948");
    // A phone number's keys type, but say nothing: the whole room would hear it.
    rec.clear();
    type_speaking(&mut h, pl(T::PhoneForCall), "600700800");
    assert!(
        rec.said()
            .iter()
            .all(|u| !u.text.starts_with(['6', '7', '8', '0'])),
        "{:?}",
        rec.said()
    );
    type_speaking(&mut h, pl(T::ResidentCodeOptional), &code);
    go(&mut h, Action::IntakeDetailsDone);
    check(&mut h, rec, &mut seen);
    type_speaking(&mut h, pl(T::Description), "Bolą mnie stopy");
    go(&mut h, Action::IntakeNeedDone);
    check(&mut h, rec, &mut seen);
    touch_twice(&mut h, Role::CheckBox, pl(T::DeclarationTick));
    touch_twice(&mut h, Role::CheckBox, pl(T::ConsentRead));
    go(&mut h, Action::IntakeSubmit);
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::Home);

    go(&mut h, Action::OpenLookup);
    check(&mut h, rec, &mut seen);
    type_speaking(&mut h, pl(T::ResidentCode), &code);
    go(&mut h, Action::LookupSubmit);
    check(&mut h, rec, &mut seen);
    let Screen::Resident { overview } = h.state().screen() else {
        panic!("not on the overview: {}", screen_name(h.state().screen()));
    };
    let r = overview.registrations[0].clone();
    // Where "Wypisz mnie" was: the question puts its safe answer there.
    let at = eframe::egui::Rect::from_min_size(
        eframe::egui::pos2(400.0, 300.0),
        eframe::egui::vec2(240.0, 64.0),
    );
    go(
        &mut h,
        Action::AskCancel(r.registration_id, r.class_title, at),
    );
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::KeepRegistration);
    // "Nie chcę SMS": the question, then what happens now.
    go(&mut h, Action::AskStopSms(at));
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::ConfirmStopSms);
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::Home);

    go(&mut h, Action::OpenStaff);
    check(&mut h, rec, &mut seen);
    rec.clear();
    for c in DEMO_STAFF_PIN.chars() {
        touch(&mut h, Role::Button, &c.to_string());
    }
    assert!(
        rec.said().is_empty(),
        "the PIN's keys say nothing: {:?}",
        rec.said()
    );
    go(&mut h, Action::PinSubmit);
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::StaffSessions);
    check(&mut h, rec, &mut seen);
    let Screen::StaffSessions { sessions } = h.state().screen() else {
        panic!("not on the sessions");
    };
    let session = sessions.first().expect("the demo has Monday sessions").id;
    go(&mut h, Action::OpenRollCall(session));
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::OpenWalkIn);
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::BackToRollCall);
    go(&mut h, Action::StaffClasses);
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::StaffRoster(pilates));
    check(&mut h, rec, &mut seen);
    go(&mut h, Action::StaffSync);
    check(&mut h, rec, &mut seen);

    let all: BTreeSet<String> = ALL_SCREENS.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, all, "every screen was visited");
}

/// As screen readers on phones: with speech on, one touch says a control, and a second
/// touch on the same control uses it; touching another control in between moves the
/// choice there. Keys type at once and say their letter.
#[test]
fn one_touch_says_a_control_and_a_second_touch_uses_it() {
    let (kit, mut h) = app_with(true);
    let rec = &kit.rec;
    // Without speech one touch acts.
    tap(&mut h, pl(T::ReadAloud));
    let home = h.state().spoken_text();
    assert_eq!(rec.last(), Some(home.clone()));

    touch(&mut h, Role::Button, pl(T::SignUpTile));
    assert!(matches!(h.state().screen(), Screen::Home));
    let said = rec.last().expect("said");
    assert!(said.starts_with(pl(T::SignUpTile)), "{said}");
    // The tile's hint names the branch's own classes, as the tile shows.
    assert!(said.contains("Gimnastyka"), "{said}");
    assert!(said.ends_with(pl(T::TouchAgain)), "{said}");

    touch(&mut h, Role::Button, pl(T::RequestTile));
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(
        rec.last()
            .is_some_and(|s| s.starts_with(pl(T::RequestTile)))
    );
    // The first tile again: its first touch since another was touched.
    touch(&mut h, Role::Button, pl(T::SignUpTile));
    assert!(matches!(h.state().screen(), Screen::Home));
    touch(&mut h, Role::Button, pl(T::SignUpTile));
    assert!(matches!(h.state().screen(), Screen::Classes { .. }));
    assert_eq!(rec.last(), Some(h.state().spoken_text()));

    // "Back" too, and the new screen's controls start unarmed.
    touch(&mut h, Role::Button, pl(T::Back));
    assert!(matches!(h.state().screen(), Screen::Classes { .. }));
    touch(&mut h, Role::Button, pl(T::Back));
    assert!(matches!(h.state().screen(), Screen::Home));
    touch(&mut h, Role::Button, pl(T::MineTile));
    assert!(matches!(h.state().screen(), Screen::Home));
    touch(&mut h, Role::Button, pl(T::MineTile));
    assert!(matches!(h.state().screen(), Screen::Lookup));

    // Keys type at once and say what they typed.
    touch(&mut h, Role::Button, "7");
    assert_eq!(h.state().form().get(FieldId::LookupCode), "7");
    assert_eq!(rec.last().as_deref(), Some("7"));

    // Speech off: one touch acts again.
    go(&mut h, Action::Home);
    touch_twice(&mut h, Role::Button, pl(T::StopReadingAloud));
    assert!(!h.state().speech_on());
    tap(&mut h, pl(T::SignUpTile));
    assert!(matches!(h.state().screen(), Screen::Classes { .. }));
}

/// "Powtórz" shows while reading aloud and says the screen again; starting again (or
/// the idle reset) switches reading off with the rest of the session's choices.
#[test]
fn repeat_says_the_screen_again_and_a_new_session_starts_silent() {
    let (kit, mut h) = app_with(true);
    let rec = &kit.rec;
    assert!(
        h.query_by_role_and_label(Role::Button, pl(T::Repeat))
            .is_none()
    );
    tap(&mut h, pl(T::ReadAloud));
    go(&mut h, Action::OpenClasses);
    let text = h.state().spoken_text();
    let before = rec.said().len();
    touch_twice(&mut h, Role::Button, pl(T::Repeat));
    let said = rec.said();
    assert_eq!(
        said.len(),
        before + 2,
        "the label, then the screen: {said:?}"
    );
    assert_eq!(said[said.len() - 1].text, text);
    assert_eq!(said[said.len() - 1].voice, Voice::default());

    let stops = rec.stops();
    touch_twice(&mut h, Role::Button, pl(T::StartAgain));
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(!h.state().speech_on(), "a new session starts silent");
    assert!(rec.stops() > stops, "what was being said stops");
    assert!(has_text(&h, pl(T::ReadAloud)));
}

/// Staff mode always has the switch, and the volume and speed the voice uses.
#[test]
fn staff_switch_reading_on_and_set_volume_and_speed() {
    let (kit, mut h) = app_with(true);
    let rec = &kit.rec;
    tap(&mut h, pl(T::Staff));
    for c in DEMO_STAFF_PIN.chars() {
        tap(&mut h, &c.to_string());
    }
    tap(&mut h, pl(T::Unlock));
    assert!(matches!(h.state().screen(), Screen::StaffMenu));
    tap(&mut h, pl(T::Louder));
    tap(&mut h, pl(T::Louder));
    tap(&mut h, pl(T::Slower));
    let voice = Voice::default().louder().louder().slower();
    assert_eq!(h.state().voice(), voice);
    assert!(has_text(&h, &format!("{}: 5 / 5", pl(T::Volume))));
    assert!(has_text(&h, &format!("{}: 2 / 5", pl(T::Speed))));
    tap(&mut h, pl(T::ReadAloud));
    let said = rec.said().pop().expect("the menu is read");
    assert_eq!(said.voice, voice);
    assert_eq!(said.text, h.state().spoken_text());
    // Leaving staff mode ends reading aloud; the voice stays for the next person.
    touch_twice(&mut h, Role::Button, pl(T::LeaveStaff));
    assert!(!h.state().speech_on());
    assert_eq!(h.state().voice(), voice);
}

/// Help on every screen: the button sits in the title bar, away from the bottom bar's
/// main button; it opens the branch's own text, closes, and leaves the screen as it was.
/// Staff get the staff notice; reading aloud reads the help.
#[test]
fn help_on_every_screen_tells_how_to_get_help_here() {
    let (_kit, mut h) = app_with(true);
    let pilates = class_id(&h, "Pilates");
    let podolog = service_id(&h, "Podolog");
    let open_and_close = |h: &mut Harness<'_, KioskApp>, expect: &str| {
        let name = screen_name(h.state().screen());
        let help = h.get_by_role_and_label(Role::Button, pl(T::Help)).rect();
        let height = h.ctx.content_rect().height();
        assert!(
            help.max.y < height * 0.15,
            "help sits in the title bar on {name}: {help:?}"
        );
        for node in h.query_all(By::new().role(Role::Button)) {
            let label = node.accesskit_node().label().unwrap_or_default();
            if [
                pl(T::Next),
                pl(T::SignMeUp),
                pl(T::SendRequest),
                pl(T::Show),
            ]
            .contains(&label.as_str())
            {
                assert!(
                    !node.rect().intersects(help),
                    "help overlaps {label} on {name}"
                );
            }
        }
        tap(h, pl(T::Help));
        let (title, text) = h.state().help_shown().expect("help is open");
        assert!(text.contains(expect), "{name}: {text}");
        assert!(
            h.query_all(By::new().label_contains(expect)).count() > 0,
            "{name} shows {expect:?}"
        );
        assert!(has_text(h, &title));
        tap(h, pl(T::Close));
        assert!(h.state().help_shown().is_none(), "help closes on {name}");
        assert_eq!(screen_name(h.state().screen()), name);
        text
    };
    let resident_screens = [
        vec![],
        vec![Action::OpenClasses],
        vec![Action::PickClass(pilates)],
        vec![Action::Home, Action::OpenServices],
        vec![Action::PickService(podolog)],
        vec![Action::Home, Action::OpenLookup],
        vec![Action::Home, Action::OpenStaff],
    ];
    for actions in resident_screens {
        for a in actions {
            go(&mut h, a);
        }
        open_and_close(&mut h, MAL_HELP);
    }
    for c in DEMO_STAFF_PIN.chars() {
        tap(&mut h, &c.to_string());
    }
    tap(&mut h, pl(T::Unlock));
    for action in [
        Action::StaffMenu,
        Action::StaffSessions,
        Action::StaffClasses,
        Action::StaffSync,
    ] {
        go(&mut h, action);
        let text = open_and_close(&mut h, pl(T::LeaveStaff));
        assert!(!text.contains(MAL_HELP), "staff get the staff notice");
    }

    // Read aloud: the help's own text is what is said.
    let (kit, mut h) = app_with(true);
    tap(&mut h, pl(T::ReadAloud));
    touch_twice(&mut h, Role::Button, pl(T::Help));
    assert!(kit.rec.last().is_some_and(|s| s.contains(MAL_HELP)));
    // English: the branch's own text stays as the catalogue has it, around it English.
    go(&mut h, Action::SetLang(Lang::En));
    let (title, _) = h.state().help_shown().expect("open");
    assert_eq!(title, T::HelpTitle.tr(Lang::En));
    touch_twice(&mut h, Role::Button, T::Close.tr(Lang::En));
    assert!(h.state().help_shown().is_none());

    // Before set-up there is no branch: the plain advice.
    let (_kit, mut h) = app_with(false);
    open_and_close(&mut h, pl(T::HelpAskStaff));
}

/// The real voice: espeak-ng reads the home screen's Polish (and English) text into a
/// WAV file whose length fits the text (neither silence nor a cut file), and the volume
/// and speed steps reach it.
#[test]
fn espeak_ng_reads_a_screen_into_a_wav_of_plausible_length() {
    let (_kit, mut h) = app_with(true);
    let text = h.state().spoken_text();
    let dir = tempfile::tempdir().expect("tempdir");
    let program = Path::new(speech::ESPEAK);
    let synth = |voice: Voice, name: &str| {
        let path = dir.path().join(name);
        let u = Utterance {
            text: text.clone(),
            lang: Lang::Pl,
            voice,
        };
        speech::synthesize_wav(program, &u, &path).expect("espeak-ng synthesizes");
        speech::read_wav(&path).expect("a WAV file")
    };
    let normal = synth(Voice::default(), "normal.wav");
    let chars = text.chars().count() as f64;
    let per_char = normal.duration.as_secs_f64() / chars;
    assert!(
        (0.03..=0.3).contains(&per_char),
        "{chars} characters in {:?}: {per_char:.3} s each",
        normal.duration
    );
    assert!(normal.rms > 300.0, "not silence: rms {}", normal.rms);

    let quiet = synth(Voice::default().quieter().quieter(), "quiet.wav");
    assert!(
        quiet.rms < normal.rms * 0.8,
        "quieter: {} vs {}",
        quiet.rms,
        normal.rms
    );
    let slow = synth(Voice::default().slower().slower(), "slow.wav");
    assert!(
        slow.duration.as_secs_f64() > normal.duration.as_secs_f64() * 1.2,
        "slower: {:?} vs {:?}",
        slow.duration,
        normal.duration
    );

    // The English voice reads the English screen.
    go(&mut h, Action::SetLang(Lang::En));
    let english = Utterance {
        text: h.state().spoken_text(),
        lang: Lang::En,
        voice: Voice::default(),
    };
    let path = dir.path().join("en.wav");
    speech::synthesize_wav(program, &english, &path).expect("espeak-ng synthesizes");
    let en = speech::read_wav(&path).expect("a WAV file");
    let per_char = en.duration.as_secs_f64() / english.text.chars().count() as f64;
    assert!(
        (0.03..=0.3).contains(&per_char),
        "English: {per_char:.3} s each"
    );
    assert!(en.rms > 300.0, "not silence: rms {}", en.rms);
}

/// The help text comes with the branch's catalogue: a kiosk enrolled with a server shows
/// the text the server's catalogue has for its branch.
#[test]
fn an_enrolled_kiosk_shows_the_help_text_of_the_servers_catalogue() {
    use blisko_tests::harness::{ServerProcess, branch_id};
    use blisko_tests::ui::{enroll_through_screens, harness_on, wait_until};
    let work = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::now();
    let server_data = work.path().join("server");
    let server = ServerProcess::start(&server_data, true).expect("server");
    let mal = branch_id(&server_data, "MAL").expect("branch");
    let added = server
        .admin(&["kiosk", "add", "--branch", &mal])
        .expect("kiosk add");
    let code = added["code"].as_str().expect("code").to_owned();
    let mut h = harness_on(&work.path().join("kiosk"), &clock);
    enroll_through_screens(&mut h, &server.url(), &code);
    wait_until(&mut h, "the catalogue arrived", |h| {
        let kiosk = h.state().kiosk().expect("kiosk").lock().expect("lock");
        !kiosk.classes().expect("classes").is_empty()
    });
    tap(&mut h, pl(T::Help));
    // The app reads the branch again once it sees the sync that brought it.
    wait_until(&mut h, "the branch's help text", |h| {
        h.state()
            .help_shown()
            .is_some_and(|(_, text)| text.contains(MAL_HELP))
    });
    let (_, text) = h.state().help_shown().expect("help is open");
    assert!(text.contains("ul. Warszawska 18"), "{text}");
}

/// The real window at 1024×768, tapped with xdotool as a finger would: "Czytaj na głos"
/// on, a tile touched once stays, touched twice opens; "Pomoc" opens the help window over
/// the screen and "Zamknij" closes it. What was read aloud never reaches the log.
/// `BLISKO_SCREENSHOTS=docs/screenshots` keeps the pictures.
#[test]
fn the_real_window_at_1024x768_reads_aloud_and_opens_help_by_touch() -> anyhow::Result<()> {
    use blisko_tests::window::{KioskWindow, Xvfb};
    let work = tempfile::tempdir()?;
    let data = work.path().join("kiosk");
    let shots = std::env::var_os("BLISKO_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| work.path().join("shots"));
    std::fs::create_dir_all(&shots)?;
    Kiosk::setup_demo(
        &data,
        "MAL",
        &setup_key(&data)?,
        blisko_kiosk::kiosk::system_clock(),
    )?;
    let x = Xvfb::start(1024, 768)?;
    let mut w = KioskWindow::open(&x, &data, work.path(), (1024, 768))?;
    let has = |map: &blisko_tests::window::UiMap, label: &str| {
        map.targets.iter().any(|t| t.label == label)
    };

    let map = w.wait_for("Home")?;
    assert!(has(&map, pl(T::Help)) && has(&map, pl(T::ReadAloud)));
    w.tap(&map, pl(T::ReadAloud), true)?;
    let map = w.wait_for("Home")?;
    assert!(has(&map, pl(T::StopReadingAloud)) && has(&map, pl(T::Repeat)));
    x.screenshot(&shots.join("kiosk-1024-read-aloud.png"))?;

    w.tap(&map, pl(T::SignUpTile), true)?;
    let map = w.wait_for("Home")?;
    w.tap(&map, pl(T::SignUpTile), true)?;
    let map = w.wait_for("Classes")?;

    w.tap(&map, pl(T::Help), true)?;
    let map = w.wait_for("Classes")?;
    assert!(!has(&map, pl(T::Close)), "one touch only says it");
    w.tap(&map, pl(T::Help), true)?;
    let map = w.wait_for("Classes")?;
    assert!(has(&map, pl(T::Close)), "the help window is open");
    x.screenshot(&shots.join("kiosk-1024-help.png"))?;
    w.tap(&map, pl(T::Close), true)?;
    let map = w.wait_for("Classes")?;
    w.tap(&map, pl(T::Close), true)?;
    let map = w.wait_for("Classes")?;
    assert!(!has(&map, pl(T::Close)), "the help window closed");

    let log = w.close()?;
    for spoken in [pl(T::Welcome), pl(T::SignUpTile), MAL_HELP] {
        assert!(!log.contains(spoken), "the log has {spoken:?}: {log}");
    }
    Ok(())
}

/// The "are you still there?" warning is read aloud when it appears, and the screen again
/// once more time is asked for; the reset at the end leaves reading off.
#[test]
fn the_idle_warning_is_read_aloud() {
    let (kit, mut h) = app_with(true);
    let rec = &kit.rec;
    tap(&mut h, pl(T::ReadAloud));
    go(&mut h, Action::OpenClasses);
    let screen = h.state().spoken_text();
    kit.clock
        .advance_s(blisko_tests::ui::IDLE.idle_ms / 1000 + 1);
    h.run();
    let said = rec.last().expect("said");
    assert!(said.starts_with(pl(T::IdleTitle)), "{said}");
    assert!(said.contains(pl(T::MoreTime)), "{said}");
    touch_twice(&mut h, Role::Button, pl(T::MoreTime));
    assert_eq!(rec.last(), Some(screen), "back to the screen, read again");
    kit.clock
        .advance_s((blisko_tests::ui::IDLE.idle_ms + blisko_tests::ui::IDLE.warning_ms) / 1000 + 1);
    h.run();
    assert!(matches!(h.state().screen(), Screen::Home));
    assert!(!h.state().speech_on());
}
