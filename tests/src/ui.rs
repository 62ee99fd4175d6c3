//! Driving the touch app in tests (egui_kittest): taps on widgets found by their
//! accessible names, typing on the on-screen keyboard, a clock the test moves, and the
//! 48-point check of every touch target on screen.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use eframe::egui::{Role, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{By, NodeT, Queryable};

use blisko_kiosk::app::session::IdleTimeouts;
use blisko_kiosk::app::{AppOptions, KioskApp, Screen};
use blisko_kiosk::kiosk::{Kiosk, WallClock, system_clock as kiosk_system_clock};

use crate::harness::{key_file, setup_key};

/// A clock the test moves: Monday 23 November 2026, noon UTC, to start.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn monday() -> TestClock {
        let ms = "2026-11-23T12:00:00Z"
            .parse::<jiff::Timestamp>()
            .expect("a valid timestamp")
            .as_millisecond() as u64;
        TestClock(Arc::new(AtomicU64::new(ms)))
    }

    /// The real time now, for a kiosk that talks to a real server (whose clock is real).
    pub fn now() -> TestClock {
        TestClock(Arc::new(AtomicU64::new((kiosk_system_clock())())))
    }

    pub fn wall(&self) -> WallClock {
        let t = self.0.clone();
        Arc::new(move || t.load(Ordering::SeqCst))
    }

    pub fn advance_s(&self, seconds: u64) {
        self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
    }

    pub fn advance_ms(&self, ms: u64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

pub const IDLE: IdleTimeouts = IdleTimeouts {
    idle_ms: 60_000,
    warning_ms: 30_000,
};

pub struct Kit {
    pub dir: tempfile::TempDir,
    pub clock: TestClock,
}

/// A demo kiosk of the MAL branch, and the app on it, in a 1280x1024 window.
pub fn demo_app() -> (Kit, Harness<'static, KioskApp>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = TestClock::monday();
    let data = dir.path().join("kiosk");
    let key = setup_key(&data).expect("key");
    Kiosk::setup_demo(&data, "MAL", &key, clock.wall()).expect("demo kiosk");
    let harness = harness_on(&data, &clock);
    (Kit { dir, clock }, harness)
}

pub fn harness_on(dir: &Path, clock: &TestClock) -> Harness<'static, KioskApp> {
    harness_with(options_on(dir, clock))
}

/// The app's options for a store in `dir` on `clock`, with the tests' short idle times.
/// Taps follow each other without the clock moving, so the touch guard after a screen
/// change and the keyboard's repeat guard are off here; `tests/tests/kiosk_screens.rs`
/// tests both with the clock.
pub fn options_on(dir: &Path, clock: &TestClock) -> AppOptions {
    let mut options = AppOptions::new(dir, key_file(dir));
    options.clock = clock.wall();
    options.idle = IDLE;
    options.touch_guard_ms = 0;
    options.repeat_guard_ms = 0;
    options
}

pub fn harness_with(options: AppOptions) -> Harness<'static, KioskApp> {
    harness_sized(options, 1280.0, 1024.0)
}

/// The app in a window of `width` x `height` pixels (one pixel per point before the app
/// scales itself to the screen).
pub fn harness_sized(options: AppOptions, width: f32, height: f32) -> Harness<'static, KioskApp> {
    let app = KioskApp::new(options).expect("the app opens");
    // A new text size or screen settles its layout (and scrolls the active field into
    // view) over a few frames.
    let mut harness = Harness::builder()
        .with_size(Vec2::new(width, height))
        .with_max_steps(10)
        .build_ui_state(|ui, app: &mut KioskApp| app.show(ui), app);
    harness.run();
    harness
}

/// Tap the button (or tile, or card) with exactly this accessible name.
pub fn tap(h: &mut Harness<'_, KioskApp>, label: &str) {
    h.get_by_role_and_label(Role::Button, label).click();
    h.run();
    assert_targets(h);
}

/// Tap the one button whose accessible name contains `part` (a class card, say).
/// Turns pages of a list until it is there, as a person would.
pub fn tap_containing(h: &mut Harness<'_, KioskApp>, part: &str) {
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

pub fn tick(h: &mut Harness<'_, KioskApp>, label: &str) {
    h.get_by_role_and_label(Role::CheckBox, label).click();
    h.run();
}

pub fn has_text(h: &Harness<'_, KioskApp>, part: &str) -> bool {
    h.query_by_label_contains(part).is_some()
}

/// Type on the on-screen keyboard, key by key, into the field called `field`.
pub fn type_into(h: &mut Harness<'_, KioskApp>, field: &str, text: &str) {
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
    // Code fields show capitals whatever was typed.
    assert!(
        typed.to_lowercase().ends_with(&text.to_lowercase()),
        "typed {typed:?} into {field}"
    );
}

/// Every widget a finger can touch is at least 48x48 points.
pub fn assert_targets(h: &Harness<'_, KioskApp>) {
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

pub fn screen_name(screen: &Screen) -> String {
    format!("{screen:?}")
        .split([' ', '{', '('])
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Enroll the app's empty kiosk with the server at `url` through the set-up screens,
/// as staff would, with the code from `blisko-server kiosk add`.
pub fn enroll_through_screens(h: &mut Harness<'_, KioskApp>, url: &str, code: &str) {
    tap(h, "Połącz z serwerem");
    // The address field is active first; letters, digits, ':' '/' and '.' are keys.
    type_into(h, "Adres serwera", url);
    h.get_by_role_and_label(Role::TextInput, "Kod rejestracji kiosku")
        .click();
    h.run();
    type_into(h, "Kod rejestracji kiosku", &code.to_lowercase());
    tap(h, "Połącz");
}

/// Run frames until `done`, for at most 30 seconds (the background sync is real).
pub fn wait_until(
    h: &mut Harness<'_, KioskApp>,
    what: &str,
    done: impl Fn(&Harness<'_, KioskApp>) -> bool,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done(h) {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
        h.run();
    }
}
