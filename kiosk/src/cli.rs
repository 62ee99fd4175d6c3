//! The kiosk's command line: the same core as the touch app, for staff, scripts and tests.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};

use blisko_shared::i18n::Lang;

use crate::error::KioskError;
use crate::key::{self, StoreKey};
use crate::kiosk::{self, IntakeForm, Kiosk, RegistrationForm};
use crate::sync::{self, SyncClient, SyncError, lock};

#[derive(Debug, Parser)]
#[command(
    name = "blisko-kiosk",
    version,
    about = "Blisko kiosk: registration for classes and intake requests, offline first",
    long_about = "Blisko kiosk: registration for classes and intake requests at a branch point.\n\
                  Everything works offline; data lives in one SQLite file under --data."
)]
pub struct Cli {
    /// The kiosk's data folder.
    #[arg(
        long,
        global = true,
        env = "BLISKO_KIOSK_DATA",
        default_value = "blisko-kiosk-data"
    )]
    pub data: PathBuf,
    /// The key of the kiosk's encrypted store, a file outside the data folder; set-up
    /// creates it if it does not exist. Without it, systemd's credential
    /// `blisko-kiosk.key` ($CREDENTIALS_DIRECTORY) is used.
    #[arg(long, global = true, env = "BLISKO_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// A configuration file (TOML) with these options (not the commands' own); flags and
    /// environment variables win over it. Without it /etc/blisko/kiosk.toml is read when
    /// it exists.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print machine-readable JSON (errors too, on standard error).
    #[arg(long, global = true)]
    pub json: bool,
    /// Language of messages for people: pl (the default) or en.
    #[arg(long, global = true, env = "BLISKO_LANG", default_value = "pl")]
    pub lang: Lang,
    /// Touch app: run fullscreen as a kiosk (no window decorations; closing needs
    /// the staff PIN).
    #[arg(long)]
    pub fullscreen: bool,
    /// Touch app: window size in logical points, e.g. 1280x1024.
    #[arg(long, value_parser = parse_size, default_value = "1280x1024")]
    pub size: [f32; 2],
    /// Touch app: seconds without a touch before the "are you still there?" warning;
    /// the warning then counts down 30 seconds before the screen is cleared.
    #[arg(long, default_value_t = 90)]
    pub idle_seconds: u64,
    /// Days a resident's details (name, birth year, phone) stay readable on this kiosk
    /// once the server holds them; residents registered for a coming session keep them
    /// longer. The office still reads them afterwards.
    #[arg(
        long,
        global = true,
        env = "BLISKO_RETENTION_DAYS",
        default_value_t = crate::kiosk::DEFAULT_RETENTION_DAYS
    )]
    pub retention_days: u32,
    /// Touch app: trust only this CA certificate (PEM) for an https:// server when the
    /// kiosk is enrolled from its set-up screen (as `enroll --ca-cert` does).
    #[arg(long = "ca-cert", value_name = "PEM_FILE")]
    pub app_ca_cert: Option<PathBuf>,
    /// Touch app: the program that reads screens aloud when a resident switches "Czytaj
    /// na głos" on; espeak-ng, or another taking espeak-ng's options (-v pl|en, -a, -s,
    /// --stdin).
    #[arg(long, env = "BLISKO_SPEECH_PROGRAM", default_value = crate::speech::ESPEAK)]
    pub speech_program: PathBuf,
    /// Touch app: the reading voice's volume, 1 (quietest) to 5; staff change it in
    /// staff mode until the app is closed.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub speech_volume: u8,
    /// Touch app: the reading voice's speed, 1 (slowest) to 5.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub speech_speed: u8,
    /// Touch app: the CUPS queue of a receipt printer; receipts then offer to print a
    /// slip (`lp -d QUEUE`). Without it there is no print button.
    #[arg(long, value_name = "QUEUE")]
    pub printer: Option<String>,
    /// Touch app: the receipt printer's paper width in millimetres, 58 or 80.
    #[arg(long, value_name = "MM", value_parser = parse_slip_width, default_value = "80")]
    pub slip_width: crate::kiosk::slip::PaperWidth,
    /// Touch app: milliseconds after a screen change during which touches are ignored,
    /// so that the second tap of a double tap does nothing on the new screen.
    #[arg(long, default_value_t = crate::app::DEFAULT_TOUCH_GUARD_MS)]
    pub touch_guard_ms: u64,
    /// Touch app: milliseconds within which a second press of the same on-screen key
    /// counts once (a shaky finger); at most 500.
    #[arg(long, value_parser = parse_repeat_guard, default_value_t = crate::app::DEFAULT_REPEAT_GUARD_MS)]
    pub repeat_guard_ms: u64,
    /// What to do; without a command the touch app opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The store's key file for this data folder.
    pub fn key_file(&self) -> Result<PathBuf, KioskError> {
        key::key_file(self.key_file.as_deref(), &self.data)
    }

    /// Open the kiosk set up in the data folder.
    fn open(&self) -> Result<Kiosk, KioskError> {
        // A folder not set up yet says so, before any question about its key.
        if !self.data.join(crate::store::DB_FILE).exists() {
            return Err(KioskError::NotSetUp(self.data.display().to_string()));
        }
        Kiosk::open(&self.data, &StoreKey::load(&self.key_file()?)?)
    }
}

fn parse_slip_width(text: &str) -> Result<crate::kiosk::slip::PaperWidth, String> {
    crate::kiosk::slip::PaperWidth::from_mm(text)
        .ok_or_else(|| format!("58 or 80 (millimetres), not {text:?}"))
}

pub(crate) fn parse_repeat_guard(text: &str) -> Result<u64, String> {
    let ms: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("a number of milliseconds, not {text:?}"))?;
    let max = crate::app::MAX_REPEAT_GUARD_MS;
    if ms > max {
        return Err(format!(
            "at most {max} ms, not {ms}: a longer guard would swallow a deliberate double letter"
        ));
    }
    Ok(ms)
}

pub(crate) fn parse_size(text: &str) -> Result<[f32; 2], String> {
    let (w, h) = text
        .split_once('x')
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, e.g. 1280x1024, not {text:?}"))?;
    let parse = |v: &str| -> Result<f32, String> {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (320..=10_000).contains(n))
            .map(|n| n as f32)
            .ok_or_else(|| format!("a size between 320 and 10000, not {v:?}"))
    };
    Ok([parse(w)?, parse(h)?])
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up a standalone kiosk (no server yet) with the built-in demo catalogue.
    Demo {
        /// Branch code: MAL, SI, CIM or SW.
        #[arg(long, default_value = "MAL")]
        branch: String,
    },
    /// List classes with free seats and waiting lists.
    Classes,
    /// List the services an intake request can be made for.
    Services,
    /// Register a person for a class.
    Register(RegisterArgs),
    /// Cancel a registration; the first person waiting gets the seat.
    Cancel {
        #[arg(long)]
        registration: String,
    },
    /// Each registration of a class with its state.
    Roster {
        #[arg(long)]
        class: String,
    },
    /// Submit an intake request (wniosek) for a service.
    Intake(IntakeArgs),
    /// A resident's registrations and requests, by resident code.
    Requests {
        #[arg(long)]
        resident_code: String,
    },
    /// Counts, pending (unsynced) changes and sync state.
    Status,
    /// Check the database and that the projection agrees with the documents.
    Check,
    /// Run many actions from JSON lines on standard input (one acknowledgement line each).
    Batch,
    /// Join a central server with a one-time enrollment code from the office, then sync.
    /// On a folder enrolled before (a revoked kiosk), enroll it again as the same kiosk.
    Enroll {
        /// The server's address, e.g. http://192.168.1.10:7878
        #[arg(long)]
        server: String,
        /// The code printed by `blisko-server kiosk add`, or by `kiosk reenroll` for a
        /// folder enrolled before (a revoked kiosk): it is enrolled again as the same kiosk
        /// and keeps its data; a code for another kiosk is refused there.
        #[arg(long)]
        code: String,
        /// Trust only this CA certificate (PEM) for an https:// server, instead of the
        /// system's roots; kept for every later sync.
        #[arg(long)]
        ca_cert: Option<PathBuf>,
    },
    /// Sync once with the server: send what is new here, fetch what is new there.
    Sync,
}

#[derive(Debug, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterArgs {
    #[arg(long)]
    pub class: String,
    #[arg(long)]
    pub given: String,
    #[arg(long)]
    pub family: String,
    #[arg(long)]
    pub birth_year: i32,
    #[arg(long)]
    #[serde(default)]
    pub phone: Option<String>,
    /// The person confirmed the information clause.
    #[arg(long)]
    #[serde(default)]
    pub consent: bool,
    /// The person agreed to SMS reminders (needs --phone).
    #[arg(long)]
    #[serde(default)]
    pub sms_consent: bool,
    /// A returning resident's code.
    #[arg(long)]
    #[serde(default)]
    pub resident_code: Option<String>,
}

#[derive(Debug, Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeArgs {
    #[arg(long)]
    pub service: String,
    #[arg(long)]
    pub given: String,
    #[arg(long)]
    pub family: String,
    #[arg(long)]
    pub birth_year: i32,
    #[arg(long)]
    #[serde(default)]
    pub phone: Option<String>,
    /// self, legal_representative or de_facto_carer.
    #[arg(long)]
    #[serde(default)]
    pub role: Option<String>,
    #[arg(long)]
    pub description: String,
    /// Only for services that need it.
    #[arg(long)]
    #[serde(default)]
    pub pesel: Option<String>,
    /// The applicant confirmed the declaration of meeting the conditions.
    #[arg(long)]
    #[serde(default)]
    pub declaration: bool,
    /// The applicant confirmed the information clause.
    #[arg(long)]
    #[serde(default)]
    pub consent: bool,
    /// Optional: SMS about the request's decision (needs a Polish mobile --phone).
    #[arg(long)]
    #[serde(default)]
    pub sms_consent: bool,
    #[arg(long)]
    #[serde(default)]
    pub resident_code: Option<String>,
}

impl From<&RegisterArgs> for RegistrationForm {
    fn from(a: &RegisterArgs) -> Self {
        RegistrationForm {
            class_id: a.class.clone(),
            given_name: a.given.clone(),
            family_name: a.family.clone(),
            birth_year: a.birth_year,
            phone: a.phone.clone(),
            consent: a.consent,
            sms_consent: a.sms_consent,
            // The command line records consents to the Polish texts.
            lang: Lang::Pl,
            resident_code: a.resident_code.clone(),
        }
    }
}

impl From<&IntakeArgs> for IntakeForm {
    fn from(a: &IntakeArgs) -> Self {
        IntakeForm {
            service_id: a.service.clone(),
            given_name: a.given.clone(),
            family_name: a.family.clone(),
            birth_year: a.birth_year,
            phone: a.phone.clone(),
            applicant_role: a.role.clone(),
            description: a.description.clone(),
            pesel: a.pesel.clone(),
            declaration: a.declaration,
            consent: a.consent,
            sms_consent: a.sms_consent,
            // The command line records consents to the Polish texts.
            lang: Lang::Pl,
            resident_code: a.resident_code.clone(),
        }
    }
}

/// One line of `batch` input.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum BatchItem {
    Register(RegisterArgs),
    Intake(IntakeArgs),
    Cancel { registration: String },
}

/// Parse the command line, run, and map the outcome to an exit code: 0 done, 2 the input
/// was refused (nothing written), 1 the kiosk failed (nothing acknowledged).
pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = args.iter().skip(1).any(|a| a == "--json");
    let cli = match parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_start_error(e, json),
    };
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            report_error(&cli, &e);
            if e.is_user_error() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

pub use blisko_shared::config::StartError;
use blisko_shared::config::report_start_error;

/// The command line, with the configuration file's values where neither a flag nor an
/// environment variable gave one.
pub fn parse_from<I, T>(args: I) -> Result<Cli, StartError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches};
    let matches = Cli::command()
        .try_get_matches_from(args)
        .map_err(StartError::Arguments)?;
    let mut cli = Cli::from_arg_matches(&matches).map_err(StartError::Arguments)?;
    let (config, file) =
        crate::config::KioskConfig::load(cli.config.as_deref()).map_err(StartError::Config)?;
    config
        .apply(&mut cli, &matches, &file)
        .map_err(StartError::Config)?;
    Ok(cli)
}

fn report_error(cli: &Cli, e: &KioskError) {
    // Personal data never goes to logs; the message names fields, not their values.
    tracing::debug!(code = e.code(), "command failed");
    if cli.json {
        let body =
            serde_json::json!({ "error": { "code": e.code(), "message": e.message(cli.lang) } });
        eprintln!("{body}");
    } else {
        eprintln!("error: {}", e.message(cli.lang));
        if let Some(hint) = e.hint() {
            eprintln!("  hint: {hint}");
        }
        if !e.is_user_error() {
            eprintln!("  cause: {e}");
        }
    }
}

/// After the acknowledgement is out: a failure here loses nothing (the record is stored)
/// and is only logged.
fn housekeeping(k: &mut Kiosk) {
    if let Err(e) = k.housekeeping() {
        tracing::warn!(code = e.code(), "housekeeping failed");
    }
}

fn print_json(value: &impl Serialize) -> Result<(), KioskError> {
    let text = serde_json::to_string(value).map_err(|e| KioskError::Io {
        context: "encode JSON output".into(),
        source: std::io::Error::other(e),
    })?;
    println!("{text}");
    Ok(())
}

pub fn run(cli: &Cli) -> Result<ExitCode, KioskError> {
    let dir = &cli.data;
    let Some(command) = &cli.command else {
        let mut options = crate::app::AppOptions::new(dir, cli.key_file()?);
        options.fullscreen = cli.fullscreen;
        options.size = cli.size;
        options.idle.idle_ms = cli.idle_seconds.max(10) * 1000;
        options.ui_map = std::env::var_os("BLISKO_UI_MAP").map(PathBuf::from);
        options.retention_days = cli.retention_days;
        options.server_ca = cli.app_ca_cert.as_deref().map(read_ca_cert).transpose()?;
        options.speaker =
            std::sync::Arc::new(crate::speech::Espeak::new(cli.speech_program.clone()));
        options.voice = crate::speech::Voice::steps(cli.speech_volume, cli.speech_speed);
        options.printer = cli.printer.clone().filter(|q| !q.trim().is_empty());
        options.slip_width = cli.slip_width;
        options.touch_guard_ms = cli.touch_guard_ms;
        options.repeat_guard_ms = cli.repeat_guard_ms;
        crate::app::run(options).map_err(|e| KioskError::Io {
            context: "run the touch app".into(),
            source: std::io::Error::other(format!("{e:#}")),
        })?;
        return Ok(ExitCode::SUCCESS);
    };
    match command {
        Command::Demo { branch } => {
            let k = key::set_up_with(&cli.key_file()?, dir, |key| {
                Kiosk::setup_demo(dir, branch, key, kiosk::system_clock())
            })?;
            let id = k.identity();
            if cli.json {
                print_json(id)?;
            } else {
                println!(
                    "Demo kiosk {} set up for branch {} in {} ({} classes).",
                    id.kiosk_id,
                    id.branch_code,
                    dir.display(),
                    k.classes()?.len()
                );
                println!("Next: blisko-kiosk --data {} classes", dir.display());
            }
        }
        Command::Classes => {
            let k = cli.open()?;
            let classes = k.classes()?;
            if cli.json {
                print_json(&classes)?;
            } else {
                for c in classes {
                    let when: Vec<String> = c
                        .schedule
                        .iter()
                        .map(|s| format!("{} {}", s.weekday.code(), s.start))
                        .collect();
                    println!(
                        "{}  {:<36} {:>2}/{:<2} seats taken, {} free here, {} waiting  [{}]",
                        c.id,
                        c.title,
                        c.confirmed,
                        c.capacity,
                        c.free_seats,
                        c.waitlisted,
                        when.join(", ")
                    );
                }
            }
        }
        Command::Services => {
            let k = cli.open()?;
            let services = k.services()?;
            if cli.json {
                print_json(&services)?;
            } else {
                for s in services {
                    let pesel = if s.requires_pesel {
                        "  (needs PESEL)"
                    } else {
                        ""
                    };
                    println!("{}  {}{}", s.id, s.name, pesel);
                }
            }
        }
        Command::Register(args) => {
            let k = Mutex::new(cli.open()?);
            let receipt = sync::register(&k, &args.into())?;
            if cli.json {
                print_json(&receipt)?;
            } else {
                match receipt.position {
                    None => println!("{}: {}", receipt.class_title, receipt.status),
                    Some(p) => {
                        // Kiosks that were offline may add people ahead: an estimate.
                        println!(
                            "{}: {} (currently about number {p} on the list)",
                            receipt.class_title, receipt.status
                        )
                    }
                }
                println!("registration: {}", receipt.registration_id);
                println!("resident code: {}", receipt.resident_code);
            }
            housekeeping(&mut lock(&k));
        }
        Command::Cancel { registration } => {
            let mut k = cli.open()?;
            let receipt = k.cancel(registration)?;
            if cli.json {
                print_json(&receipt)?;
            } else {
                println!("registration {}: cancelled", receipt.registration_id);
                for p in receipt.promoted {
                    println!("promoted from the waiting list: {p}");
                }
            }
            housekeeping(&mut k);
        }
        Command::Roster { class } => {
            let k = cli.open()?;
            if cli.json {
                print_json(&k.roster_lines(class)?)?;
            } else {
                let rows = k.roster(class)?;
                for r in rows {
                    let position = r.position.map(|p| format!(" #{p}")).unwrap_or_default();
                    let erased = if r.person_erased {
                        format!("  ({})", erased_text(cli.lang))
                    } else {
                        String::new()
                    };
                    println!("{}  {}{}{}", r.registration_id, r.status, position, erased);
                }
            }
        }
        Command::Intake(args) => {
            let mut k = cli.open()?;
            let receipt = k.submit_intake(&args.into())?;
            if cli.json {
                print_json(&receipt)?;
            } else {
                println!("{}: submitted", receipt.service_name);
                println!("reference: {}", receipt.reference);
                println!("resident code: {}", receipt.resident_code);
            }
        }
        Command::Requests { resident_code } => {
            let k = cli.open()?;
            let overview = k.resident(resident_code)?;
            if cli.json {
                print_json(&overview)?;
            } else {
                println!("resident {}", overview.resident_code);
                if overview.erased {
                    println!("  {}", erased_text(cli.lang));
                }
                for r in &overview.registrations {
                    let position = r.position.map(|p| format!(" #{p}")).unwrap_or_default();
                    println!(
                        "  class    {}: {}{}  ({})",
                        r.class_title, r.status, position, r.registration_id
                    );
                }
                for r in &overview.requests {
                    println!(
                        "  request  {} {}: {}",
                        r.reference, r.service_name, r.status
                    );
                    if let Some(message) = &r.message {
                        println!("           from the office: {message}");
                    }
                }
            }
        }
        Command::Status => {
            let k = cli.open()?;
            let status = k.status()?;
            if cli.json {
                print_json(&status)?;
            } else {
                let c = status.counts;
                println!(
                    "kiosk {} ({}), branch {}",
                    status.kiosk_id, status.mode, status.branch_code
                );
                println!(
                    "{} classes, {} persons, {} active registrations ({} confirmed, {} waiting), {} requests",
                    c.classes,
                    c.persons,
                    c.registrations_active,
                    c.registrations_confirmed,
                    c.registrations_waitlisted,
                    c.intake_requests
                );
                println!(
                    "pending changes (not yet synced): {}",
                    status.pending_changes
                );
                if let Some(url) = &status.server_url {
                    println!("server: {url}");
                }
                println!(
                    "last sync: {}",
                    status.last_sync.as_deref().unwrap_or("never")
                );
                if let Some(e) = &status.last_sync_error {
                    println!("last sync error: {e}");
                }
                if status.revoked {
                    println!(
                        "revoked: the office revoked this kiosk; it takes no registrations or \
                         requests and keeps its data. To bring it back: `blisko-server kiosk \
                         reenroll KIOSK_ID`, then here `enroll --server URL --code CODE`"
                    );
                }
                if status.clock_is_off()
                    && let Some(offset) = status.clock_offset_s
                {
                    println!(
                        "warning: this kiosk's clock is {} s {} the server's; set it, \
                         waiting-list order depends on it",
                        offset.abs(),
                        if offset < 0 { "ahead of" } else { "behind" }
                    );
                }
            }
        }
        Command::Check => {
            let mut k = cli.open()?;
            let problems = k.verify()?;
            if cli.json {
                print_json(
                    &serde_json::json!({ "ok": problems.is_empty(), "problems": problems }),
                )?;
            } else if problems.is_empty() {
                println!("ok");
            } else {
                for p in &problems {
                    println!("problem: {p}");
                }
            }
            if !problems.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Batch => return run_batch(cli),
        Command::Enroll {
            server,
            code,
            ca_cert,
        } => {
            let ca = ca_cert.as_deref().map(read_ca_cert).transpose()?;
            // A folder set up before is enrolled again as the same kiosk.
            let again = dir.join(crate::store::DB_FILE).exists();
            let mut k = key::set_up_with(&cli.key_file()?, dir, |key| {
                sync::enroll(dir, server, code, ca.as_deref(), key, kiosk::system_clock())
            })?;
            k.set_retention_days(cli.retention_days);
            let identity = k.identity().clone();
            let client = SyncClient::for_kiosk(&k);
            let k = Mutex::new(k);
            let first_sync = client.and_then(|c| sync::sync_once(&k, &c));
            if cli.json {
                let sync = match &first_sync {
                    Ok(report) => serde_json::json!({ "ok": report }),
                    Err(e) => {
                        serde_json::json!({ "error": { "code": e.code(), "message": e.message(cli.lang) } })
                    }
                };
                print_json(
                    &serde_json::json!({ "kiosk": identity, "reenrolled": again, "sync": sync }),
                )?;
            } else {
                println!(
                    "{}: kiosk {} of branch {} (number {}).",
                    if again { "Enrolled again" } else { "Enrolled" },
                    identity.kiosk_id,
                    identity.branch_code,
                    identity.kiosk_number
                );
                match &first_sync {
                    Ok(r) => println!("First sync: {} documents received.", r.pulled_docs),
                    Err(e) => println!(
                        "First sync did not complete ({}); it will be retried.",
                        e.message(cli.lang)
                    ),
                }
            }
        }
        Command::Sync => {
            let mut k = cli.open()?;
            k.set_retention_days(cli.retention_days);
            let client = SyncClient::for_kiosk(&k)?;
            let report = sync::sync_once(&Mutex::new(k), &client)?;
            if cli.json {
                print_json(&report)?;
            } else {
                println!(
                    "synced in {} round(s): {} documents sent, {} received; {} bytes up, {} down; \
                     {} ms waiting for the server",
                    report.rounds,
                    report.pushed_docs,
                    report.pulled_docs,
                    report.traffic.bytes_sent,
                    report.traffic.bytes_received,
                    report.traffic.waited_us / 1000
                );
                if report.incomplete {
                    println!("more to do: run sync again");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The refusal of a batch line that is not a valid action. The parser's own message may
/// quote the line (names, PESEL numbers), so only the line number and a generic reason
/// are reported.
/// What a person the office erased shows instead of their details.
fn erased_text(lang: Lang) -> &'static str {
    match lang {
        Lang::Pl => "dane usunięte (RODO)",
        Lang::En => "data erased (GDPR)",
    }
}

fn malformed(lang: Lang, line: usize, e: &serde_json::Error) -> serde_json::Value {
    use serde_json::error::Category;
    let message = match (e.classify(), lang) {
        (Category::Syntax | Category::Eof, Lang::Pl) => {
            format!("Wiersz {line} nie jest poprawnym obiektem JSON.")
        }
        (Category::Syntax | Category::Eof, Lang::En) => {
            format!("Line {line} is not valid JSON.")
        }
        (Category::Data | Category::Io, Lang::Pl) => format!(
            "Wiersz {line} nie jest znaną czynnością albo brakuje w nim pola, ma nieznane pole \
             lub pole złego typu."
        ),
        (Category::Data | Category::Io, Lang::En) => format!(
            "Line {line} is not a known action, or a field is missing, unknown or of the wrong type."
        ),
    };
    serde_json::json!({ "code": "malformed", "message": message })
}

/// Each input line is acknowledged on its own line only after it is durable; a refused
/// line gets an error line and the batch goes on.
fn run_batch(cli: &Cli) -> Result<ExitCode, KioskError> {
    let mut k = cli.open()?;
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut refused = 0u64;
    for (index, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|source| KioskError::Io {
            context: "read standard input".into(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match serde_json::from_str::<BatchItem>(&line) {
            Err(e) => Err(malformed(cli.lang, index + 1, &e)),
            Ok(item) => {
                let result = match &item {
                    BatchItem::Register(a) => k.register(&a.into()).map(serde_json::to_value),
                    BatchItem::Intake(a) => k.submit_intake(&a.into()).map(serde_json::to_value),
                    BatchItem::Cancel { registration } => {
                        k.cancel(registration).map(serde_json::to_value)
                    }
                };
                match result {
                    Ok(Ok(value)) => Ok(value),
                    Ok(Err(e)) => {
                        Err(serde_json::json!({ "code": "encode", "message": e.to_string() }))
                    }
                    // A failing disk or database stops the batch: nothing after it is tried.
                    Err(e) if !e.is_user_error() => return Err(e),
                    Err(e) => {
                        Err(serde_json::json!({ "code": e.code(), "message": e.message(cli.lang) }))
                    }
                }
            }
        };
        let out = match outcome {
            Ok(ack) => serde_json::json!({ "line": index + 1, "ok": ack }),
            Err(error) => {
                refused += 1;
                serde_json::json!({ "line": index + 1, "error": error })
            }
        };
        writeln!(stdout, "{out}")
            .and_then(|_| stdout.flush())
            .map_err(|source| KioskError::Io {
                context: "write an acknowledgement".into(),
                source,
            })?;
        housekeeping(&mut k);
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// A CA certificate file (PEM), checked to hold at least one certificate.
fn read_ca_cert(path: &Path) -> Result<String, KioskError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|e| SyncError::BadCaCert(format!("cannot read {}: {e}", path.display())))?;
    sync::ca_certificates(&pem)?;
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::slip::PaperWidth;

    #[test]
    fn the_printer_flags_name_a_queue_and_a_paper_width() {
        let cli = Cli::try_parse_from(["blisko-kiosk", "--printer", "slip", "--slip-width", "58"])
            .expect("valid flags");
        assert_eq!(cli.printer.as_deref(), Some("slip"));
        assert_eq!(cli.slip_width, PaperWidth::Mm58);
        let plain = Cli::try_parse_from(["blisko-kiosk"]).expect("no flags");
        assert_eq!(plain.printer, None);
        assert_eq!(plain.slip_width, PaperWidth::Mm80);
        let refused = Cli::try_parse_from(["blisko-kiosk", "--slip-width", "110"]);
        assert!(refused.is_err(), "110 mm is not a receipt paper");
    }
}
