//! The real touch app in a real X server (Xvfb) at the smallest landscape screen it
//! serves (1024x768) and in portrait (1080x1920), tapped with xdotool: the home screen,
//! the registration form with the on-screen keyboard, and the receipt, then the home
//! screen at the largest text size; a screenshot of each, checked to be of the screen's
//! size and not blank.
//!
//! `BLISKO_SCREENSHOTS=$PWD/docs/screenshots cargo test -p blisko-tests --test
//! kiosk_window_sizes` refreshes `docs/screenshots/kiosk-1024x768-*.png` and
//! `kiosk-1080x1920-*.png`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use blisko_kiosk::app::text::T;
use blisko_kiosk::kiosk::{self, Kiosk};
use blisko_shared::i18n::Lang;
use blisko_tests::harness::setup_key;
use blisko_tests::window::{KioskWindow, Xvfb};

fn pl(key: T) -> &'static str {
    key.tr(Lang::Pl)
}

/// A screenshot that shows something: not one flat colour, of the screen's size, and
/// small enough for the repository.
fn check_picture(path: &Path, size: (u32, u32)) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let bytes = file.metadata().context("size of the PNG")?.len();
    assert!(bytes < 400_000, "{} is {bytes} bytes", path.display());
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().context("read the PNG header")?;
    let mut buf = vec![0; reader.output_buffer_size().context("PNG size")?];
    let info = reader.next_frame(&mut buf).context("decode the PNG")?;
    assert_eq!((info.width, info.height), size, "{}", path.display());
    let step = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for px in buf[..info.buffer_size()].chunks(step).step_by(97) {
        colours.insert(px.to_vec());
    }
    assert!(colours.len() > 8, "{} looks blank", path.display());
    Ok(())
}

/// Register a resident through the window at `size`, with screenshots on the way.
fn register_at(size: (u32, u32)) -> Result<()> {
    let work = tempfile::tempdir()?;
    let data = work.path().join("kiosk");
    let shots: PathBuf = std::env::var_os("BLISKO_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.path().join("shots"));
    std::fs::create_dir_all(&shots)?;
    Kiosk::setup_demo(&data, "MAL", &setup_key(&data)?, kiosk::system_clock())?;
    let name = |what: &str| shots.join(format!("kiosk-{}x{}-{what}.png", size.0, size.1));

    let x = Xvfb::start(size.0, size.1)?;
    let mut app = KioskWindow::open(&x, &data, work.path(), size)?;
    let map = app.wait_for("Home")?;
    x.screenshot(&name("home"))?;

    app.tap(&map, pl(T::SignUpTile), true)?;
    let mut map = app.wait_for("Classes")?;
    while !map.targets.iter().any(|t| t.label.contains("Pilates")) {
        app.tap(&map, pl(T::NextPage), true)?;
        map = app.wait_for("Classes")?;
    }
    app.tap(&map, "Pilates", false)?;
    app.wait_for("RegisterDetails")?;
    app.type_keys("RegisterDetails", "Anna")?;
    let map = app.wait_for("RegisterDetails")?;
    app.tap(&map, pl(T::FamilyName), true)?;
    app.type_keys("RegisterDetails", "Wójcik")?;
    let map = app.wait_for("RegisterDetails")?;
    x.screenshot(&name("register-keyboard"))?;
    // The year is in the next row, under the keyboard on a small screen: hide the
    // keyboard, then tap the field (the keyboard returns with the field above it).
    app.tap(&map, pl(T::HideKeyboard), true)?;
    let map = app.wait_for("RegisterDetails")?;
    app.tap(&map, pl(T::BirthYear), true)?;
    app.type_keys("RegisterDetails", "1952")?;
    let map = app.wait_for("RegisterDetails")?;
    app.tap(&map, pl(T::Next), true)?;
    let map = app.wait_for("RegisterConsent")?;
    app.tap(&map, pl(T::ConsentRead), true)?;
    let map = app.wait_for("RegisterConsent")?;
    app.tap(&map, pl(T::SignMeUp), true)?;
    let map = app.wait_for("Registered")?;
    x.screenshot(&name("receipt"))?;

    // The largest text: two taps on "Larger text".
    app.tap(&map, pl(T::Done), true)?;
    let map = app.wait_for("Home")?;
    app.tap(&map, pl(T::LargerText), true)?;
    let map = app.wait_for("Home")?;
    app.tap(&map, pl(T::LargerText), true)?;
    app.wait_for("Home")?;
    x.screenshot(&name("home-largest"))?;
    app.close()?;

    for what in ["home", "register-keyboard", "receipt", "home-largest"] {
        check_picture(&name(what), size)?;
    }
    // The window's taps are in the store: Anna Wójcik is registered.
    let k = blisko_tests::harness::open_kiosk(&data)?;
    let pilates = k
        .classes()?
        .into_iter()
        .find(|c| c.title == "Pilates")
        .context("the demo has Pilates")?;
    assert_eq!(pilates.confirmed, 1, "the registration typed in the window");
    Ok(())
}

/// One after the other: two X servers started at once may pick the same display.
#[test]
fn the_real_window_at_1024x768_and_in_portrait_registers_a_resident() -> Result<()> {
    register_at((1024, 768))?;
    register_at((1080, 1920))
}
