//! Reading a configuration file (TOML) of the server or the kiosk: the text is parsed
//! here, the file is read by the binary. An error names the file, the line and the key,
//! in one line, so that it reads well in a journal and in a JSON error.

use std::process::ExitCode;

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::de::DeserializeOwned;

/// Parse a configuration file's text. `file` names it in the error.
pub fn parse<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| describe(text, file, &e))
}

fn describe(text: &str, file: &str, e: &toml::de::Error) -> String {
    // toml's own message is several lines with a drawing of the place; one line is
    // enough when it names the line and the key.
    let message = e.message().trim().replace('\n', " ");
    let Some(span) = e.span() else {
        return format!("{file}: {message}");
    };
    let start = span.start.min(text.len());
    let line_no = text.get(..start).unwrap_or(text).matches('\n').count() + 1;
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
    match line.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() && !line.starts_with('[') => {
            format!(
                "{file}, line {line_no}, key `{}`: {message}",
                key.trim().trim_matches('"')
            )
        }
        _ => format!("{file}, line {line_no}: {message}"),
    }
}

/// Why a binary could not start.
#[derive(Debug)]
pub enum StartError {
    /// Clap refused the arguments, or was asked for help or the version.
    Arguments(clap::Error),
    /// The configuration file is missing, unreadable or wrong.
    Config(String),
}

/// Print why the process could not start, as JSON when `--json` is among the arguments
/// (the shape of every other error), and give the exit code: 2, as for any refused input
/// (help and the version: 0). The messages are for staff and scripts, in English like
/// clap's.
pub fn report_start_error(e: StartError, json: bool) -> ExitCode {
    let (code, message) = match e {
        StartError::Arguments(e) => {
            use clap::error::ErrorKind;
            if !json || matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                e.exit();
            }
            ("bad_arguments", clap_message(&e))
        }
        StartError::Config(message) => ("bad_config", message),
    };
    if json {
        eprintln!(
            "{}",
            serde_json::json!({ "error": { "code": code, "message": message } })
        );
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(2)
}

/// Clap's message in one line, without its usage block.
fn clap_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let text = text.split("\nUsage:").next().unwrap_or(&text);
    let text = text.split("For more information").next().unwrap_or(text);
    let text = text.trim().strip_prefix("error:").unwrap_or(text);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether the person (a flag) or the environment gave this argument.
pub fn given(m: &ArgMatches, id: &str) -> bool {
    matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

/// Put the file's value in `slot` unless a flag or the environment gave one.
pub fn set<T>(slot: &mut T, file: Option<T>, m: &ArgMatches, id: &str) {
    if let Some(value) = file
        && !given(m, id)
    {
        *slot = value;
    }
}

/// [`set`] for an optional argument.
pub fn set_option<T>(slot: &mut Option<T>, file: Option<T>, m: &ArgMatches, id: &str) {
    if file.is_some() && !given(m, id) {
        *slot = file;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        name: Option<String>,
        count: Option<u32>,
    }

    #[test]
    fn a_good_file_reads_into_the_struct() {
        let s: Sample = parse("name = \"x\"\ncount = 3\n", "a.toml").expect("valid");
        assert_eq!(
            s,
            Sample {
                name: Some("x".into()),
                count: Some(3)
            }
        );
        let empty: Sample = parse("# nothing set\n", "a.toml").expect("valid");
        assert_eq!(
            empty,
            Sample {
                name: None,
                count: None
            }
        );
    }

    #[test]
    fn an_unknown_key_is_named_with_the_file_and_the_line() {
        let e = parse::<Sample>("name = \"x\"\ncolour = 3\n", "/etc/a.toml").unwrap_err();
        assert!(e.starts_with("/etc/a.toml, line 2, key `colour`:"), "{e}");
        assert!(e.contains("unknown field"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn a_wrong_type_names_the_key() {
        let e = parse::<Sample>("count = \"three\"\n", "a.toml").unwrap_err();
        assert!(e.starts_with("a.toml, line 1, key `count`:"), "{e}");
    }

    #[test]
    fn broken_syntax_names_the_line() {
        let e = parse::<Sample>("name = \"x\"\ncount = \n", "a.toml").unwrap_err();
        assert!(e.starts_with("a.toml, line 2"), "{e}");
    }
}
