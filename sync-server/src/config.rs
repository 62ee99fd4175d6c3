//! The server's configuration file (TOML): every `serve` option and the data folder.
//! A flag or an environment variable wins over the file, the file over the built-in
//! default. Without `--config`, [`DEFAULT_PATH`] is read when it exists.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use blisko_shared::config::{given, set, set_option};
use clap::ArgMatches;
use serde::Deserialize;

use crate::cli::{Cli, Command};

/// The file read when `--config` is not given (and it exists).
pub const DEFAULT_PATH: &str = "/etc/blisko/server.toml";

/// The file's keys: the long flags' names with `_` for `-`. All optional.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<SocketAddr>,
    pub demo: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub trusted_proxy: Option<Vec<IpAddr>>,
    pub sync_per_minute: Option<NonZeroU32>,
    pub sync_burst: Option<NonZeroU32>,
    pub enroll_failures: Option<NonZeroU32>,
    pub enroll_window_secs: Option<u64>,
    pub auth_failures: Option<NonZeroU32>,
    pub concurrent_decodes: Option<NonZeroU32>,
    pub sms_api_url: Option<String>,
    pub sms_token_file: Option<PathBuf>,
    pub sms_sender: Option<String>,
    pub sms_quiet_hours: Option<String>,
    pub sms_transliterate: Option<bool>,
    pub sms_daily_limit: Option<u32>,
    pub sms_reminder_time: Option<String>,
}

impl ServerConfig {
    /// Parse a file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ServerConfig, String> {
        let config: ServerConfig = blisko_shared::config::parse(text, file)?;
        // Checked here, as the flags are, so that a wrong value stops the server before
        // it opens (and perhaps creates) the data folder.
        let bad = |key: &str, why: String| format!("{file}, key `{key}`: {why}");
        if config.enroll_window_secs == Some(0) {
            return Err(bad(
                "enroll_window_secs",
                "must be at least 1 (seconds)".into(),
            ));
        }
        if config.sms_daily_limit == Some(0) {
            return Err(bad("sms_daily_limit", "must be at least 1".into()));
        }
        if let Some(hours) = &config.sms_quiet_hours
            && hours.trim() != "off"
        {
            hours
                .parse::<crate::notices::sender::QuietHours>()
                .map_err(|e| bad("sms_quiet_hours", e))?;
        }
        if let Some(time) = &config.sms_reminder_time {
            jiff::civil::Time::strptime("%H:%M", time.trim()).map_err(|_| {
                bad(
                    "sms_reminder_time",
                    format!("{time:?}: write the time as HH:MM, e.g. 10:00"),
                )
            })?;
        }
        Ok(config)
    }

    /// The file named by `--config`, else [`DEFAULT_PATH`] when it exists, else nothing.
    pub fn load(explicit: Option<&Path>) -> Result<ServerConfig, String> {
        let path = explicit.unwrap_or(Path::new(DEFAULT_PATH));
        match std::fs::read_to_string(path) {
            Ok(text) => ServerConfig::parse(&text, &path.display().to_string()),
            Err(e) if explicit.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
                Ok(ServerConfig::default())
            }
            Err(e) => Err(format!(
                "cannot read the configuration file {}: {e}",
                path.display()
            )),
        }
    }

    /// Put the file's values into `cli` where neither a flag nor an environment variable
    /// gave one. `matches` are those `cli` was made from.
    pub fn apply(self, cli: &mut Cli, matches: &ArgMatches) {
        set(&mut cli.data, self.data, matches, "data");
        set_option(&mut cli.database, self.database_url, matches, "database");
        let Command::Serve {
            listen,
            demo,
            tls_cert,
            tls_key,
            trusted_proxies,
            limits,
            sms,
        } = &mut cli.command
        else {
            return;
        };
        let Some(m) = matches.subcommand_matches("serve") else {
            return;
        };
        set(listen, self.listen, m, "listen");
        set(demo, self.demo, m, "demo");
        // The certificate and its key go together: a flag for either one takes both
        // from the command line, so a file never pairs its key with another certificate.
        if !given(m, "tls_cert") && !given(m, "tls_key") {
            if self.tls_cert.is_some() {
                *tls_cert = self.tls_cert;
            }
            if self.tls_key.is_some() {
                *tls_key = self.tls_key;
            }
        }
        set(trusted_proxies, self.trusted_proxy, m, "trusted_proxies");
        set(
            &mut limits.sync_per_minute,
            self.sync_per_minute,
            m,
            "sync_per_minute",
        );
        set(&mut limits.sync_burst, self.sync_burst, m, "sync_burst");
        set(
            &mut limits.enroll_failures,
            self.enroll_failures,
            m,
            "enroll_failures",
        );
        set(
            &mut limits.enroll_window_secs,
            self.enroll_window_secs,
            m,
            "enroll_window_secs",
        );
        set(
            &mut limits.auth_failures,
            self.auth_failures,
            m,
            "auth_failures",
        );
        set(
            &mut limits.concurrent_decodes,
            self.concurrent_decodes,
            m,
            "concurrent_decodes",
        );
        set(&mut sms.sms_api_url, self.sms_api_url, m, "sms_api_url");
        set_option(
            &mut sms.sms_token_file,
            self.sms_token_file,
            m,
            "sms_token_file",
        );
        set_option(&mut sms.sms_sender, self.sms_sender, m, "sms_sender");
        set(
            &mut sms.sms_quiet_hours,
            self.sms_quiet_hours,
            m,
            "sms_quiet_hours",
        );
        set(
            &mut sms.sms_transliterate,
            self.sms_transliterate,
            m,
            "sms_transliterate",
        );
        set(
            &mut sms.sms_daily_limit,
            self.sms_daily_limit,
            m,
            "sms_daily_limit",
        );
        set(
            &mut sms.sms_reminder_time,
            self.sms_reminder_time,
            m,
            "sms_reminder_time",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn parsed(args: &[&str], file: &str) -> Cli {
        let matches = Cli::command()
            .try_get_matches_from(args)
            .expect("valid arguments");
        let mut cli = Cli::from_arg_matches(&matches).expect("a Cli");
        ServerConfig::parse(file, "test.toml")
            .expect("a valid file")
            .apply(&mut cli, &matches);
        cli
    }

    fn serve(
        cli: &Cli,
    ) -> (
        &SocketAddr,
        &bool,
        &crate::cli::LimitArgs,
        &crate::cli::SmsArgs,
    ) {
        match &cli.command {
            Command::Serve {
                listen,
                demo,
                limits,
                sms,
                ..
            } => (listen, demo, limits, sms),
            other => panic!("not serve: {other:?}"),
        }
    }

    const FILE: &str = r#"
data = "/var/lib/blisko"
listen = "0.0.0.0:8443"
demo = true
sync_burst = 7
sms_daily_limit = 5
sms_sender = "CUS Wola"
trusted_proxy = ["10.0.0.1"]
"#;

    #[test]
    fn the_file_beats_the_built_in_defaults() {
        let cli = parsed(&["blisko-server", "serve"], FILE);
        assert_eq!(cli.data, PathBuf::from("/var/lib/blisko"));
        let (listen, demo, limits, sms) = serve(&cli);
        assert_eq!(listen.to_string(), "0.0.0.0:8443");
        assert!(*demo);
        assert_eq!(limits.sync_burst.get(), 7);
        assert_eq!(limits.sync_per_minute.get(), 120, "a key not in the file");
        assert_eq!(sms.sms_daily_limit, 5);
        assert_eq!(sms.sms_sender.as_deref(), Some("CUS Wola"));
        match &cli.command {
            Command::Serve {
                trusted_proxies, ..
            } => assert_eq!(trusted_proxies, &["10.0.0.1".parse::<IpAddr>().unwrap()]),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_flag_beats_the_file() {
        let cli = parsed(
            &[
                "blisko-server",
                "serve",
                "--data",
                "here",
                "--listen",
                "127.0.0.1:1",
                "--sync-burst",
                "9",
                "--sms-daily-limit",
                "3",
            ],
            FILE,
        );
        assert_eq!(cli.data, PathBuf::from("here"));
        let (listen, _, limits, sms) = serve(&cli);
        assert_eq!(listen.to_string(), "127.0.0.1:1");
        assert_eq!(limits.sync_burst.get(), 9);
        assert_eq!(
            sms.sms_daily_limit, 3,
            "a flag equal to the default still wins"
        );
    }

    #[test]
    fn the_data_key_applies_to_the_admin_commands_too() {
        let cli = parsed(&["blisko-server", "branches"], FILE);
        assert_eq!(cli.data, PathBuf::from("/var/lib/blisko"));
    }

    #[test]
    fn a_tls_flag_takes_the_pair_from_the_command_line() {
        let file = "tls_cert = \"/etc/c.pem\"\ntls_key = \"/etc/k.pem\"\n";
        let cli = parsed(&["blisko-server", "serve"], file);
        match &cli.command {
            Command::Serve {
                tls_cert, tls_key, ..
            } => {
                assert_eq!(tls_cert.as_deref(), Some(Path::new("/etc/c.pem")));
                assert_eq!(tls_key.as_deref(), Some(Path::new("/etc/k.pem")));
            }
            _ => unreachable!(),
        }
        let cli = parsed(
            &[
                "blisko-server",
                "serve",
                "--tls-cert",
                "c2.pem",
                "--tls-key",
                "k2.pem",
            ],
            file,
        );
        match &cli.command {
            Command::Serve {
                tls_cert, tls_key, ..
            } => {
                assert_eq!(tls_cert.as_deref(), Some(Path::new("c2.pem")));
                assert_eq!(tls_key.as_deref(), Some(Path::new("k2.pem")));
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_key() {
        let e =
            ServerConfig::parse("listen = \"x:1\"\nsms_dayly_limit = 3\n", "s.toml").unwrap_err();
        assert!(e.contains("key `listen`"), "{e}");
        let e = ServerConfig::parse("sms_dayly_limit = 3\n", "s.toml").unwrap_err();
        assert!(e.contains("s.toml, line 1, key `sms_dayly_limit`"), "{e}");
        let e = ServerConfig::parse("sync_burst = 0\n", "s.toml").unwrap_err();
        assert!(e.contains("key `sync_burst`"), "{e}");
        for (text, key) in [
            ("enroll_window_secs = 0\n", "enroll_window_secs"),
            ("sms_daily_limit = 0\n", "sms_daily_limit"),
            ("sms_quiet_hours = \"nights\"\n", "sms_quiet_hours"),
            ("sms_reminder_time = \"10\"\n", "sms_reminder_time"),
        ] {
            let e = ServerConfig::parse(text, "s.toml").unwrap_err();
            assert!(e.starts_with(&format!("s.toml, key `{key}`")), "{e}");
        }
        assert!(ServerConfig::parse("sms_quiet_hours = \"off\"\n", "s.toml").is_ok());
    }

    /// The example shipped for packages names every key, commented out (`#key = value`);
    /// uncommented, it parses, and the keys that have a default give it, so the file and
    /// the code cannot drift apart.
    #[test]
    fn the_packaged_example_names_every_key_with_its_default() {
        let example = include_str!("../../packaging/server.toml");
        let uncommented: String = example
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .map(|l| format!("{l}\n"))
            .collect();
        let config =
            ServerConfig::parse(&uncommented, "packaging/server.toml").expect("the example parses");
        let every = format!("{config:?}");
        assert!(
            !every.contains("None"),
            "a key missing from the example: {every}"
        );
        // The keys without a default show an example value.
        let with_defaults = ServerConfig {
            database_url: None,
            tls_cert: None,
            tls_key: None,
            trusted_proxy: None,
            sms_token_file: None,
            sms_sender: None,
            ..config
        };
        let matches = Cli::command()
            .try_get_matches_from(["blisko-server", "serve"])
            .expect("valid arguments");
        let mut from_example = Cli::from_arg_matches(&matches).expect("a Cli");
        with_defaults.apply(&mut from_example, &matches);
        let defaults = parsed(&["blisko-server", "serve"], "");
        assert_eq!(from_example.data, defaults.data);
        assert_eq!(
            format!("{:?}", from_example.command),
            format!("{:?}", defaults.command),
            "the example's values are the defaults"
        );
    }
}
