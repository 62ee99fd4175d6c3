//! The touch app's shaky-hands flags: the touch guard after a screen change and the
//! on-screen keyboard's repeat guard, with their defaults and the repeat guard's limit.

use clap::Parser;

use blisko_kiosk::app::{DEFAULT_REPEAT_GUARD_MS, DEFAULT_TOUCH_GUARD_MS, MAX_REPEAT_GUARD_MS};
use blisko_kiosk::cli::Cli;

#[test]
fn the_guards_default_to_600_and_300_ms() {
    let cli = Cli::try_parse_from(["blisko-kiosk"]).expect("no flags");
    assert_eq!(cli.touch_guard_ms, DEFAULT_TOUCH_GUARD_MS);
    assert_eq!(cli.repeat_guard_ms, DEFAULT_REPEAT_GUARD_MS);
    assert_eq!(
        (DEFAULT_TOUCH_GUARD_MS, DEFAULT_REPEAT_GUARD_MS),
        (600, 300)
    );
}

#[test]
fn a_repeat_guard_up_to_500_ms_is_taken_and_a_longer_one_refused() {
    let cli = Cli::try_parse_from([
        "blisko-kiosk",
        "--repeat-guard-ms",
        "500",
        "--touch-guard-ms",
        "900",
    ])
    .expect("500 ms is allowed");
    assert_eq!((cli.repeat_guard_ms, cli.touch_guard_ms), (500, 900));
    let e = Cli::try_parse_from(["blisko-kiosk", "--repeat-guard-ms", "800"])
        .expect_err("800 ms is refused")
        .to_string();
    assert!(e.contains("--repeat-guard-ms"), "{e}");
    assert!(
        e.contains(&format!("at most {MAX_REPEAT_GUARD_MS} ms, not 800")),
        "{e}"
    );
    let e = Cli::try_parse_from(["blisko-kiosk", "--repeat-guard-ms", "soon"])
        .expect_err("not a number")
        .to_string();
    assert!(e.contains("a number of milliseconds"), "{e}");
}
