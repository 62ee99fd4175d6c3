//! The real touch app in a real X server (Xvfb), tapped with xdotool where the app says
//! its targets are: home, class list, the registration form with the on-screen keyboard,
//! the confirmation, and the roll call; a screenshot of each.
//!
//! `BLISKO_SCREENSHOTS=docs/screenshots cargo test -p blisko-tests --test kiosk_window`
//! refreshes the pictures in the README.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use blisko_kiosk::kiosk::{self, Kiosk, RegistrationForm};
use blisko_shared::demo::DEMO_STAFF_PIN;
use blisko_tests::harness::{open_kiosk, setup_key};
use blisko_tests::window::{KioskWindow, Xvfb};

const SIZE: (u32, u32) = (1280, 1024);

/// A screenshot that shows something: not one flat colour, and of the screen's size.
fn check_picture(path: &Path) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().context("read the PNG header")?;
    let mut buf = vec![0; reader.output_buffer_size().context("PNG size")?];
    let info = reader.next_frame(&mut buf).context("decode the PNG")?;
    assert_eq!((info.width, info.height), SIZE, "{}", path.display());
    let bytes = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for px in bytes.chunks(step).step_by(97) {
        colours.insert(px.to_vec());
    }
    assert!(colours.len() > 8, "{} looks blank", path.display());
    Ok(())
}

#[test]
fn the_real_window_registers_a_resident_and_takes_the_roll_call() -> Result<()> {
    let work = tempfile::tempdir()?;
    let data = work.path().join("kiosk");
    let shots: PathBuf = std::env::var_os("BLISKO_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.path().join("shots"));
    std::fs::create_dir_all(&shots)?;

    // A demo kiosk with one person already registered for today's first session (which is
    // Pilates on some weekdays, so Pilates' seats are counted before the window opens).
    let (session_title, pilates_before) = {
        let mut k = Kiosk::setup_demo(&data, "MAL", &setup_key(&data)?, kiosk::system_clock())?;
        let session = k
            .sessions_today()?
            .into_iter()
            .next()
            .context("the demo has a session every day")?;
        k.register(&RegistrationForm {
            class_id: session.class_id.to_string(),
            given_name: "Halina".into(),
            family_name: "Kamińska".into(),
            birth_year: 1947,
            consent: true,
            ..RegistrationForm::default()
        })?;
        (session.class_title, confirmed_in(&k, "Pilates")?)
    };

    let x = Xvfb::start(SIZE.0, SIZE.1)?;
    let mut app = KioskWindow::open(&x, &data, work.path(), SIZE)?;
    let map = app.wait_for("Home")?;
    x.screenshot(&shots.join("kiosk-home.png"))?;

    app.tap(&map, "Zapisy na zajęcia", true)?;
    let map = app.wait_for("Classes")?;
    x.screenshot(&shots.join("kiosk-classes.png"))?;

    let mut map = map;
    while !map.targets.iter().any(|t| t.label.contains("Pilates")) {
        app.tap(&map, "Następna strona", true)?;
        map = app.wait_for("Classes")?;
    }
    app.tap(&map, "Pilates", false)?;
    app.wait_for("RegisterDetails")?;
    app.type_keys("RegisterDetails", "Anna")?;
    let map = app.wait_for("RegisterDetails")?;
    x.screenshot(&shots.join("kiosk-register-keyboard.png"))?;
    app.tap(&map, "Nazwisko", true)?;
    app.type_keys("RegisterDetails", "Wójcik")?;
    let map = app.wait_for("RegisterDetails")?;
    app.tap(&map, "Rok urodzenia", true)?;
    app.type_keys("RegisterDetails", "1952")?;
    let map = app.wait_for("RegisterDetails")?;
    app.tap(&map, "Dalej", true)?;
    let map = app.wait_for("RegisterConsent")?;
    app.tap(&map, "Potwierdzam zapoznanie się z informacją", true)?;
    let map = app.wait_for("RegisterConsent")?;
    app.tap(&map, "Zapisz mnie", true)?;
    let map = app.wait_for("Registered")?;
    x.screenshot(&shots.join("kiosk-confirmation.png"))?;

    app.tap(&map, "Gotowe", true)?;
    let map = app.wait_for("Home")?;
    app.tap(&map, "Obsługa", true)?;
    app.wait_for("StaffPin")?;
    app.type_keys("StaffPin", DEMO_STAFF_PIN)?;
    let map = app.wait_for("StaffPin")?;
    app.tap(&map, "Wejdź", true)?;
    let map = app.wait_for("StaffMenu")?;
    app.tap(&map, "Lista obecności (dzisiaj)", true)?;
    let map = app.wait_for("StaffSessions")?;
    app.tap(&map, &session_title, false)?;
    let map = app.wait_for("RollCall")?;
    app.tap(&map, "Obecny", true)?;
    app.wait_for("RollCall")?;
    x.screenshot(&shots.join("kiosk-roll-call.png"))?;
    let log = app.close()?;
    assert!(
        log.contains("first frame"),
        "the app logs its start-up: {log}"
    );
    assert!(
        !log.contains("Wójcik") && !log.contains("Kamińska"),
        "no names in the log"
    );

    for name in [
        "kiosk-home.png",
        "kiosk-classes.png",
        "kiosk-register-keyboard.png",
        "kiosk-confirmation.png",
        "kiosk-roll-call.png",
    ] {
        check_picture(&shots.join(name))?;
    }

    // What the window did is in the store: the registration and the mark.
    let mut k = open_kiosk(&data)?;
    let session = k.sessions_today()?.into_iter().next().context("session")?;
    let roll = k.roll_call(session.id)?;
    assert!(
        roll.entries
            .iter()
            .any(|e| e.family_name == "Kamińska" && e.mark.is_some()),
        "the tap on the roll call was saved"
    );
    assert_eq!(
        confirmed_in(&k, "Pilates")?,
        pilates_before + 1,
        "Anna Wójcik got a seat in Pilates"
    );
    Ok(())
}

fn confirmed_in(kiosk: &Kiosk, title: &str) -> Result<u32> {
    let class = kiosk
        .classes()?
        .into_iter()
        .find(|c| c.title == title)
        .with_context(|| format!("the demo has {title}"))?;
    Ok(class.confirmed)
}
