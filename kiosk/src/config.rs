//! The kiosk's configuration file (TOML): the data folder, the key file and the touch
//! app's options. A flag or an environment variable wins over the file, the file over
//! the built-in default. Without `--config`, [`DEFAULT_PATH`] is read when it exists.

use std::path::{Path, PathBuf};

use blisko_shared::config::{set, set_option};
use clap::ArgMatches;
use serde::Deserialize;

use blisko_shared::i18n::Lang;

use crate::cli::Cli;

/// The file read when `--config` is not given (and it exists).
pub const DEFAULT_PATH: &str = "/etc/blisko/kiosk.toml";

/// The file's keys: the long flags' names with `_` for `-`. All optional.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskConfig {
    pub data: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub lang: Option<Lang>,
    pub retention_days: Option<u32>,
    pub fullscreen: Option<bool>,
    /// WIDTHxHEIGHT, e.g. "1280x1024".
    pub size: Option<String>,
    pub idle_seconds: Option<u64>,
    pub ca_cert: Option<PathBuf>,
    pub speech_program: Option<PathBuf>,
    pub speech_volume: Option<u8>,
    pub speech_speed: Option<u8>,
    pub printer: Option<String>,
    /// Millimetres: 58 or 80.
    pub slip_width: Option<u32>,
    pub touch_guard_ms: Option<u64>,
    pub repeat_guard_ms: Option<u64>,
}

impl KioskConfig {
    /// Parse a file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<KioskConfig, String> {
        blisko_shared::config::parse(text, file)
    }

    /// The file named by `--config`, else [`DEFAULT_PATH`] when it exists, else nothing.
    /// The second value names the file read, for errors in its values.
    pub fn load(explicit: Option<&Path>) -> Result<(KioskConfig, String), String> {
        let path = explicit.unwrap_or(Path::new(DEFAULT_PATH));
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Ok((KioskConfig::parse(&text, &name)?, name)),
            Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
                Ok((KioskConfig::default(), name))
            }
            Err(e) => Err(format!("cannot read the configuration file {name}: {e}")),
        }
    }

    /// Put the file's values into `cli` where neither a flag nor an environment variable
    /// gave one, checked as the flags are. `matches` are those `cli` was made from.
    pub fn apply(self, cli: &mut Cli, matches: &ArgMatches, file: &str) -> Result<(), String> {
        let m = matches;
        let bad = |key: &str, why: String| format!("{file}, key `{key}`: {why}");
        set(&mut cli.data, self.data, m, "data");
        set_option(&mut cli.key_file, self.key_file, m, "key_file");
        set(&mut cli.lang, self.lang, m, "lang");
        set(
            &mut cli.retention_days,
            self.retention_days,
            m,
            "retention_days",
        );
        set(&mut cli.fullscreen, self.fullscreen, m, "fullscreen");
        let size = self
            .size
            .map(|s| crate::cli::parse_size(&s).map_err(|e| bad("size", e)))
            .transpose()?;
        set(&mut cli.size, size, m, "size");
        set(&mut cli.idle_seconds, self.idle_seconds, m, "idle_seconds");
        set_option(&mut cli.app_ca_cert, self.ca_cert, m, "app_ca_cert");
        set(
            &mut cli.speech_program,
            self.speech_program,
            m,
            "speech_program",
        );
        let step = |key: &str, v: Option<u8>| match v {
            Some(n) if !(1..=5).contains(&n) => Err(bad(key, format!("1 to 5, not {n}"))),
            other => Ok(other),
        };
        set(
            &mut cli.speech_volume,
            step("speech_volume", self.speech_volume)?,
            m,
            "speech_volume",
        );
        set(
            &mut cli.speech_speed,
            step("speech_speed", self.speech_speed)?,
            m,
            "speech_speed",
        );
        set_option(&mut cli.printer, self.printer, m, "printer");
        let width = self
            .slip_width
            .map(|mm| {
                crate::kiosk::slip::PaperWidth::from_mm(&mm.to_string())
                    .ok_or_else(|| bad("slip_width", format!("58 or 80 (millimetres), not {mm}")))
            })
            .transpose()?;
        set(&mut cli.slip_width, width, m, "slip_width");
        set(
            &mut cli.touch_guard_ms,
            self.touch_guard_ms,
            m,
            "touch_guard_ms",
        );
        let repeat = self
            .repeat_guard_ms
            .map(|ms| {
                crate::cli::parse_repeat_guard(&ms.to_string())
                    .map_err(|e| bad("repeat_guard_ms", e))
            })
            .transpose()?;
        set(&mut cli.repeat_guard_ms, repeat, m, "repeat_guard_ms");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::slip::PaperWidth;
    use clap::{CommandFactory, FromArgMatches};

    fn parsed(args: &[&str], file: &str) -> Result<Cli, String> {
        let matches = Cli::command()
            .try_get_matches_from(args)
            .expect("valid arguments");
        let mut cli = Cli::from_arg_matches(&matches).expect("a Cli");
        KioskConfig::parse(file, "k.toml")?.apply(&mut cli, &matches, "k.toml")?;
        Ok(cli)
    }

    const FILE: &str = r#"
data = "/var/lib/blisko-kiosk"
key_file = "/etc/blisko/kiosk.key"
lang = "en"
fullscreen = true
size = "1024x768"
speech_volume = 5
printer = "slip"
slip_width = 58
repeat_guard_ms = 250
"#;

    #[test]
    fn the_file_beats_the_built_in_defaults() {
        let cli = parsed(&["blisko-kiosk"], FILE).expect("valid");
        assert_eq!(cli.data, PathBuf::from("/var/lib/blisko-kiosk"));
        assert_eq!(
            cli.key_file.as_deref(),
            Some(Path::new("/etc/blisko/kiosk.key"))
        );
        assert_eq!(cli.lang, Lang::En);
        assert!(cli.fullscreen);
        assert_eq!(cli.size, [1024.0, 768.0]);
        assert_eq!(cli.speech_volume, 5);
        assert_eq!(cli.speech_speed, 3, "a key not in the file");
        assert_eq!(cli.printer.as_deref(), Some("slip"));
        assert_eq!(cli.slip_width, PaperWidth::Mm58);
        assert_eq!(cli.repeat_guard_ms, 250);
    }

    #[test]
    fn a_flag_beats_the_file_before_or_after_the_command() {
        let cli = parsed(
            &[
                "blisko-kiosk",
                "--lang",
                "pl",
                "--size",
                "1280x1024",
                "status",
                "--data",
                "here",
            ],
            FILE,
        )
        .expect("valid");
        assert_eq!(cli.data, PathBuf::from("here"));
        assert_eq!(cli.lang, Lang::Pl, "a flag equal to the default still wins");
        assert_eq!(cli.size, [1280.0, 1024.0]);
        assert!(cli.fullscreen, "not given: from the file");
    }

    #[test]
    fn values_are_checked_as_the_flags_are_and_name_the_key() {
        for (text, key) in [
            ("size = \"big\"\n", "size"),
            ("slip_width = 110\n", "slip_width"),
            ("speech_speed = 9\n", "speech_speed"),
            ("repeat_guard_ms = 900\n", "repeat_guard_ms"),
            ("lang = \"de\"\n", "lang"),
            ("idle_seconds = \"long\"\n", "idle_seconds"),
            ("printr = \"slip\"\n", "printr"),
        ] {
            let e = parsed(&["blisko-kiosk"], text).expect_err(text);
            assert!(e.starts_with("k.toml"), "{e}");
            assert!(e.contains(&format!("key `{key}`")), "{text}: {e}");
        }
    }

    /// The example shipped for packages names every key, commented out (`#key = value`);
    /// uncommented, it parses, and the keys that have a default give it.
    #[test]
    fn the_packaged_example_names_every_key_with_its_default() {
        let example = include_str!("../../packaging/kiosk.toml");
        let uncommented: String = example
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .map(|l| format!("{l}\n"))
            .collect();
        let config =
            KioskConfig::parse(&uncommented, "packaging/kiosk.toml").expect("the example parses");
        let every = format!("{config:?}");
        assert!(
            !every.contains("None"),
            "a key missing from the example: {every}"
        );
        // The keys without a default show an example value.
        let with_defaults = KioskConfig {
            key_file: None,
            ca_cert: None,
            printer: None,
            ..config
        };
        let matches = Cli::command()
            .try_get_matches_from(["blisko-kiosk"])
            .expect("valid arguments");
        let mut from_example = Cli::from_arg_matches(&matches).expect("a Cli");
        with_defaults
            .apply(&mut from_example, &matches, "packaging/kiosk.toml")
            .expect("valid values");
        let defaults = parsed(&["blisko-kiosk"], "").expect("valid");
        assert_eq!(format!("{from_example:?}"), format!("{defaults:?}"));
    }
}
