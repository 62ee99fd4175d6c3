//! `blisko-server`: serve the sync API, and administer kiosks and seats on the same
//! database (the admin commands work while the server runs).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde::Serialize;

use blisko_shared::ids::{BranchId, ClassId, KioskId, PersonId, RegistrationId};
use blisko_shared::model::{Catalog, StaffRole};

use crate::central::{Central, CentralError};
use crate::http::{AppState, router};
use crate::limits::Limits;
use crate::store::StoreError;

/// Held by the serving process (see [`lock_serving`]).
const SERVE_LOCK_FILE: &str = "server.lock";
/// How often the SMS sender looks at the outbox.
const SENDER_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Parser)]
#[command(
    name = "blisko-server",
    version,
    about = "Blisko central server: sync for kiosks, central store, administration"
)]
pub struct Cli {
    /// The server's data folder.
    #[arg(
        long,
        global = true,
        env = "BLISKO_SERVER_DATA",
        default_value = "blisko-server-data"
    )]
    pub data: PathBuf,
    /// Keep the store in this PostgreSQL database (postgres://user@host:port/name; the
    /// database must exist) instead of SQLite files in the data folder. Several server
    /// processes may serve one database.
    #[arg(long, global = true, env = "BLISKO_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// A configuration file (TOML) with the `serve` options and `data`; flags and
    /// environment variables win over it. Without it /etc/blisko/server.toml is read when
    /// it exists.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Print machine-readable JSON (errors too, on standard error).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the sync API until SIGTERM or Ctrl-C.
    Serve {
        #[arg(long, env = "BLISKO_LISTEN", default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Load the built-in demo catalogue on first start.
        #[arg(long)]
        demo: bool,
        /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
        #[arg(long, env = "BLISKO_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
        #[arg(long, env = "BLISKO_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// A reverse proxy in front of the server (repeatable): its `X-Forwarded-For` header
        /// names the client that the office log-in limits count. Without it the header is
        /// ignored and the connection's address counts.
        #[arg(long = "trusted-proxy", value_name = "IP")]
        trusted_proxies: Vec<IpAddr>,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        sms: SmsArgs,
    },
    /// The outbox of SMS notices: kind, person id, status, attempts, segments (never a
    /// phone number or a message text). Newest first.
    Notices {
        /// Only this kind (seat_freed, reminder, session_moved, session_cancelled,
        /// request_status, test).
        #[arg(long)]
        kind: Option<String>,
        /// Only this status (queued, sending, sent, failed, skipped, cancelled, expired).
        #[arg(long, value_parser = notice_status)]
        status: Option<crate::store::NoticeStatus>,
        #[arg(long, default_value = "100")]
        limit: usize,
    },
    /// Copy the data folder into one new backup file while the server runs (a tar: a
    /// manifest with checksums, then both database files). Never overwrites a file.
    Backup {
        /// The backup file to write (it must not exist yet).
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty or new data folder (--data), after checking it
    /// whole; a damaged backup is refused and nothing is written. Then start the server
    /// on the folder as usual.
    Restore {
        /// The backup file, as written by `backup`.
        #[arg(long)]
        from: PathBuf,
        /// The erasure log (`erasures.log`) of the folder the backup was taken from, kept
        /// since: erasures made after the backup are made again in the restored copy.
        #[arg(long)]
        erasure_log: Option<PathBuf>,
    },
    /// List the branches.
    Branches,
    /// Manage kiosks.
    Kiosk {
        #[command(subcommand)]
        command: KioskCommand,
    },
    /// The merged roster of a class.
    Roster {
        #[arg(long)]
        class: ClassId,
    },
    /// Give a kiosk an allotment of seats in a class (it may confirm them offline).
    Allot {
        #[arg(long)]
        class: ClassId,
        #[arg(long)]
        kiosk: KioskId,
        #[arg(long)]
        seats: u32,
    },
    /// Registrations a merge left beyond a class's limits (confirmed beyond capacity,
    /// waiting beyond the list's limit), newest first per class: staff call these people.
    /// Also the allotment cuts still waiting for their kiosk to sync.
    Compensation,
    /// Create or update branch catalogs from a JSON file (an array of catalogs: branch,
    /// classes, sessions, services, staff, allotments). Nothing is removed.
    CatalogImport {
        /// The JSON file; `-` reads standard input.
        file: PathBuf,
    },
    /// Staff accounts for the office page (`/office`).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Persons' personal data (for data-protection requests handled outside the office
    /// page).
    Person {
        #[command(subcommand)]
        command: PersonCommand,
    },
    /// Withdraw a resident's SMS consent, as the office page's button and the kiosk's
    /// "Nie chcę SMS" do: no more SMS go to them, and the branch's kiosks learn it at
    /// their next sync. Prints whether a consent was withdrawn.
    SmsConsentWithdraw {
        /// The person's id (as on the office's person page).
        #[arg(long)]
        person: PersonId,
    },
    /// Register a person for a class as the office does on the phone: a seat from the
    /// server's pool (never a kiosk's allotment), else the waiting list, else refused.
    /// Prints the registration, the person and their resident code.
    Register {
        #[arg(long)]
        class: ClassId,
        #[arg(long)]
        given_name: String,
        #[arg(long)]
        family_name: String,
        #[arg(long)]
        birth_year: u16,
        #[arg(long)]
        phone: Option<String>,
        /// The information clause was read to the person and they accepted it.
        #[arg(long)]
        clause_read: bool,
        /// The person agrees to SMS reminders (needs --phone).
        #[arg(long)]
        sms: bool,
    },
    /// Cancel a registration (its pool seat goes to the first person waiting).
    CancelRegistration {
        #[arg(long)]
        class: ClassId,
        #[arg(long)]
        registration: RegistrationId,
    },
    /// The latest audit records.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// The hash of a kiosk staff PIN (4 to 8 digits, read from standard input, never an
    /// argument) for the `pin_hash` of a staff member in a `catalog-import` file. Touches
    /// no data folder.
    PinHash,
}

fn notice_status(text: &str) -> Result<crate::store::NoticeStatus, String> {
    crate::store::NoticeStatus::from_code(text).ok_or_else(|| {
        format!(
            "{text:?} is not a status: queued, sending, sent, failed, skipped, cancelled or expired"
        )
    })
}

/// SMS to residents (through SMSAPI.pl). Without a token, notices are still made and
/// wait in the outbox as "not sent: no gateway configured".
#[derive(Debug, Clone, clap::Args)]
pub struct SmsArgs {
    /// The gateway's API address.
    #[arg(long, env = "BLISKO_SMS_API_URL", default_value = crate::notices::gateway::SMSAPI_URL)]
    pub sms_api_url: String,
    /// A file holding the SMSAPI OAuth token. Without it, the systemd credential
    /// `sms-token` is used when present ($CREDENTIALS_DIRECTORY/sms-token).
    #[arg(long, env = "BLISKO_SMS_TOKEN_FILE")]
    pub sms_token_file: Option<PathBuf>,
    /// The sender name registered with SMSAPI (e.g. "CUS Wola"); also the signature at
    /// the end of every message. Without it SMSAPI's default sender is used.
    #[arg(long, env = "BLISKO_SMS_SENDER")]
    pub sms_sender: Option<String>,
    /// Local hours in which nothing is sent (messages wait until they end), or `off`.
    #[arg(long, default_value = "20:00-08:00")]
    pub sms_quiet_hours: String,
    /// Write Polish letters without accents (ą→a …): a part then holds 153 characters
    /// instead of 67, so messages cost fewer parts.
    #[arg(long)]
    pub sms_transliterate: bool,
    /// Messages a day to one person at most; more wait for the next day.
    #[arg(long, default_value = "3")]
    pub sms_daily_limit: u32,
    /// When the day-before reminders go out (local time, HH:MM).
    #[arg(long, default_value = "10:00")]
    pub sms_reminder_time: String,
}

impl SmsArgs {
    /// The sender's settings, checked.
    pub fn config(&self) -> Result<crate::notices::sender::SmsConfig, CentralError> {
        let quiet = match self.sms_quiet_hours.trim() {
            "off" => None,
            hours => Some(hours.parse().map_err(CentralError::BadRequest)?),
        };
        let reminder_at = jiff::civil::Time::strptime("%H:%M", self.sms_reminder_time.trim())
            .map_err(|_| {
                CentralError::BadRequest(format!(
                    "--sms-reminder-time {:?}: write the time as HH:MM, e.g. 10:00",
                    self.sms_reminder_time
                ))
            })?;
        if self.sms_daily_limit == 0 {
            return Err(CentralError::BadRequest(
                "--sms-daily-limit must be at least 1".into(),
            ));
        }
        Ok(crate::notices::sender::SmsConfig {
            quiet,
            daily_limit: self.sms_daily_limit,
            transliterate: self.sms_transliterate,
            reminder_at,
            signature: self.sms_sender.clone().unwrap_or_else(|| "CUS".to_owned()),
        })
    }

    /// The gateway, when a token is configured.
    pub fn gateway(
        &self,
    ) -> Result<Option<std::sync::Arc<dyn crate::notices::gateway::Gateway>>, CentralError> {
        let path = match &self.sms_token_file {
            Some(p) => Some(p.clone()),
            None => std::env::var_os("CREDENTIALS_DIRECTORY")
                .map(|d| PathBuf::from(d).join("sms-token"))
                .filter(|p| p.exists()),
        };
        let Some(path) = path else {
            return Ok(None);
        };
        let token = std::fs::read_to_string(&path).map_err(|e| {
            CentralError::BadRequest(format!(
                "could not read the SMS token file {}: {e}",
                path.display()
            ))
        })?;
        let gateway = crate::notices::gateway::SmsApi::new(
            &self.sms_api_url,
            &token,
            self.sms_sender.as_deref(),
        )
        .map_err(|e| CentralError::BadRequest(format!("{} ({})", e, path.display())))?;
        Ok(Some(std::sync::Arc::new(gateway)))
    }
}

/// Rate limits of the kiosk API (answered with 429 and Retry-After).
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Sync requests per minute per kiosk credential, once its burst is used.
    #[arg(long, default_value = "120")]
    pub sync_per_minute: NonZeroU32,
    /// Sync requests a kiosk may make in a row before the per-minute rate applies.
    #[arg(long, default_value = "120")]
    pub sync_burst: NonZeroU32,
    /// Wrong enrollment codes per client address before enrollment is refused.
    #[arg(long, default_value = "5")]
    pub enroll_failures: NonZeroU32,
    /// The window, in seconds, over which wrong enrollment codes are counted.
    #[arg(long, default_value = "60", value_parser = clap::value_parser!(u64).range(1..))]
    pub enroll_window_secs: u64,
    /// Sync requests with a refused credential or an unreadable body per client address
    /// in a minute before every sync from that address is refused, except with a
    /// credential that has synced successfully before.
    #[arg(long, default_value = "20")]
    pub auth_failures: NonZeroU32,
    /// Request bodies decompressed and decoded at once; more wait their turn.
    #[arg(long, default_value = "4")]
    pub concurrent_decodes: NonZeroU32,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            sync_per_minute: self.sync_per_minute,
            sync_burst: self.sync_burst,
            enroll_failures: self.enroll_failures,
            enroll_window: Duration::from_secs(self.enroll_window_secs),
            auth_failures: self.auth_failures,
            concurrent_decodes: self.concurrent_decodes,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Create an account; the password is read from standard input (one line, at least
    /// 12 characters, not only one character repeated, not a common password).
    Add {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// instructor, branch_staff, organizer or office_admin.
        #[arg(long)]
        role: String,
        /// Limit the account to one branch's data.
        #[arg(long)]
        branch: Option<BranchId>,
    },
    /// List the accounts (never their passwords).
    List,
    /// Give an account a new temporary password (printed once), to be changed at its next
    /// log-in; its open sessions end. For an office admin who forgot theirs.
    ResetPassword {
        #[arg(long)]
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Erase a resident's personal data, and that of every record linked to them in
    /// reconciliation, as the office page's erase does. Prints the ids of the persons
    /// erased (never their data).
    Erase {
        /// The resident's code (as on their receipt, e.g. ACDE-FHJK).
        #[arg(long)]
        resident_code: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KioskCommand {
    /// Add a kiosk to a branch and print its one-time enrollment code.
    Add {
        #[arg(long)]
        branch: BranchId,
        /// What the office calls it, e.g. "MAL — hol" (without it, pages show its number).
        #[arg(long)]
        name: Option<String>,
    },
    /// Give a kiosk a new name (shown on the office page instead of its id).
    Rename { kiosk: KioskId, name: String },
    /// List kiosks with their last sync.
    List,
    /// Revoke a kiosk: its credential stops working at once.
    Revoke { kiosk: KioskId },
    /// A new one-time enrollment code for the same kiosk (after a revocation, or for a
    /// replaced device). The kiosk's folder redeems it with `enroll`; then its old
    /// credential never works again, and a revocation is lifted.
    Reenroll { kiosk: KioskId },
}

/// A kiosk with a one-time enrollment code (`kiosk add`, `kiosk reenroll`).
#[derive(Serialize)]
struct KioskCode {
    kiosk_id: KioskId,
    branch_id: BranchId,
    number: u32,
    name: String,
    code: String,
}

fn print_code(json: bool, row: crate::store::KioskRow, code: String) {
    let issued = KioskCode {
        kiosk_id: row.kiosk_id,
        branch_id: row.branch_id,
        number: row.number,
        name: row.name,
        code,
    };
    print(json, &issued, |a| {
        println!(
            "kiosk {} \"{}\" (number {}) for branch {}",
            a.kiosk_id, a.name, a.number, a.branch_id
        );
        println!("one-time enrollment code (valid 7 days): {}", a.code);
        println!(
            "on the kiosk: blisko-kiosk --data DIR enroll --server URL --code {}",
            a.code
        );
    });
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
    crate::config::ServerConfig::load(cli.config.as_deref())
        .map_err(StartError::Config)?
        .apply(&mut cli, &matches);
    Ok(cli)
}

pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let json = args.iter().skip(1).any(|a| a == "--json");
    let cli = match parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_start_error(e, json),
    };
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cli.json {
                eprintln!(
                    "{}",
                    serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } })
                );
            } else {
                eprintln!("error: {e}");
            }
            match e {
                CentralError::Store(_) | CentralError::Document(_) => ExitCode::FAILURE,
                _ => ExitCode::from(2),
            }
        }
    }
}

fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T)) {
    if json {
        match serde_json::to_string(value) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: could not encode JSON: {e}"),
        }
    } else {
        human(value);
    }
}

pub fn run(cli: &Cli) -> Result<(), CentralError> {
    if cli.database.is_some()
        && matches!(
            cli.command,
            Command::Backup { .. } | Command::Restore { .. }
        )
    {
        return Err(CentralError::BadRequest(
            "the store is a PostgreSQL database (--database): back it up and restore it with PostgreSQL's own tools (pg_dump and pg_restore, or base backups); see docs/scale.md".into(),
        ));
    }
    // These two look at the folder before anything opens (and so creates) the store.
    match &cli.command {
        Command::Backup { to } => {
            let done = crate::backup::backup(&cli.data, to)?;
            print(cli.json, &done, |d| {
                println!(
                    "backup written: {} (schema {}, taken {})",
                    d.file.display(),
                    d.manifest.schema_version,
                    d.manifest.created
                );
                println!(
                    "keep {} with it, and copy it again after erasures: see README, backups",
                    crate::backup::ERASURE_LOG
                );
            });
            return Ok(());
        }
        Command::PinHash => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| {
                CentralError::BadRequest(format!("cannot read the PIN from stdin: {e}"))
            })?;
            let pin = blisko_shared::validate::pin(&line).map_err(|_| {
                CentralError::BadRequest("a PIN is 4 to 8 digits (0-9), nothing else".into())
            })?;
            let pin_hash = crate::central::staff::hash_password(&pin)?;
            print(
                cli.json,
                &serde_json::json!({ "pin_hash": pin_hash }),
                |_| {
                    println!("{pin_hash}");
                },
            );
            return Ok(());
        }
        Command::Restore { from, erasure_log } => {
            let done = crate::backup::restore(&cli.data, from, erasure_log.as_deref())?;
            print(cli.json, &done, |d| {
                println!(
                    "restored {} (taken {} by blisko-server {}) into {}",
                    from.display(),
                    d.manifest.created,
                    d.manifest.server_version,
                    d.data.display()
                );
                if !d.erasure_log {
                    println!(
                        "no --erasure-log given: persons erased after the backup was taken are readable again"
                    );
                }
            });
            return Ok(());
        }
        _ => {}
    }
    let mut central = match &cli.database {
        Some(url) => Central::open_postgres(url)?,
        None => Central::open(&cli.data)?,
    };
    match &cli.command {
        Command::Serve {
            listen,
            demo,
            tls_cert,
            tls_key,
            trusted_proxies,
            limits,
            sms,
        } => {
            let sms = crate::http::Sms {
                config: std::sync::Arc::new(sms.config()?),
                gateway: sms.gateway()?,
            };
            // On PostgreSQL the database's write lock lets several processes serve.
            let _serving = match cli.database {
                Some(_) => None,
                None => Some(lock_serving(&cli.data)?),
            };
            crate::limits::set_trusted_proxies(trusted_proxies.clone());
            // The demo makes its own accounts; a real office gets a set-up link.
            let setup_token = if *demo {
                None
            } else {
                central.issue_setup_token()?
            };
            if *demo && central.load_demo_if_empty()? {
                tracing::info!("demo catalogue loaded");
            }
            // Erasures a restored copy lacks, from the erasure log.
            let replayed = central.replay_erasure_log()?;
            if replayed > 0 {
                tracing::warn!(count = replayed, "erasures from the erasure log made again");
            }
            let erased = central.complete_erasures()?;
            central.log_erasures()?;
            if !erased.is_empty() {
                tracing::warn!(
                    count = erased.len(),
                    "finished erasures cut short by a crash"
                );
            }
            if sms.gateway.is_some() {
                central.release_notices_held_for_gateway()?;
            } else {
                tracing::info!(
                    "no SMS gateway configured (--sms-token-file): notices wait in the outbox"
                );
            }
            let tls = tls_cert.as_deref().zip(tls_key.as_deref());
            serve(central, *listen, tls, limits.limits(), sms, setup_token)?;
        }
        // Handled before the store was opened.
        Command::Backup { .. } | Command::Restore { .. } | Command::PinHash => {}
        Command::Branches => {
            let branches = central.branches()?;
            print(cli.json, &branches, |bs| {
                for b in bs {
                    println!("{}  {:<4} {}", b.id, b.code, b.name);
                }
            });
        }
        Command::Kiosk { command } => match command {
            KioskCommand::Add { branch, name } => {
                let (row, code) = central.add_kiosk(*branch, name.as_deref())?;
                print_code(cli.json, row, code);
            }
            KioskCommand::Rename { kiosk, name } => {
                let row = central.rename_kiosk(*kiosk, name)?;
                print(cli.json, &row, |k| {
                    println!("kiosk {} is now called \"{}\"", k.kiosk_id, k.name)
                });
            }
            KioskCommand::Reenroll { kiosk } => {
                let (row, code) = central.reenroll_kiosk(*kiosk)?;
                print_code(cli.json, row, code);
            }
            KioskCommand::List => {
                let kiosks = central.kiosks()?;
                print(cli.json, &kiosks, |ks| {
                    for k in ks {
                        let state = if k.revoked {
                            "revoked"
                        } else if k.enrolled {
                            "enrolled"
                        } else {
                            "waiting for enrollment"
                        };
                        println!(
                            "{}  #{:<3} {}  branch {}  {}  last sync {}",
                            k.kiosk_id,
                            k.number,
                            k.name,
                            k.branch_id,
                            state,
                            k.last_sync.as_deref().unwrap_or("never")
                        );
                    }
                });
            }
            KioskCommand::Revoke { kiosk } => {
                central.revoke_kiosk(*kiosk)?;
                print(cli.json, &serde_json::json!({ "revoked": kiosk }), |_| {
                    println!("kiosk {kiosk} revoked")
                });
            }
        },
        Command::Roster { class } => {
            let rows = central.roster(*class)?;
            print(cli.json, &rows, |rows| {
                for r in rows {
                    let position = r.position.map(|p| format!(" #{p}")).unwrap_or_default();
                    println!("{}  {}{}", r.registration_id, r.status, position);
                }
            });
        }
        Command::Allot {
            class,
            kiosk,
            seats,
        } => {
            central.set_allotment(*class, *kiosk, *seats)?;
            let reserved = central
                .allotment_holds()?
                .into_iter()
                .find(|h| h.class_id == *class && h.kiosk_id == *kiosk)
                .map(|h| h.reserved);
            print(
                cli.json,
                &serde_json::json!({
                    "class": class,
                    "kiosk": kiosk,
                    "seats": seats,
                    "reserved_until_sync": reserved,
                }),
                |_| {
                    println!("kiosk {kiosk} may confirm {seats} seat(s) of class {class} offline");
                    if let Some(reserved) = reserved {
                        println!(
                            "pending until the kiosk syncs: it may have granted up to {reserved} offline, \
                             so those seats stay out of the pool until then"
                        );
                    }
                },
            );
        }
        Command::Compensation => {
            let tasks = central.compensation()?;
            let holds = central.allotment_holds()?;
            if cli.json {
                print(true, &tasks, |_| {});
            } else {
                if tasks.is_empty() {
                    println!("no compensation tasks");
                }
                for t in &tasks {
                    let what = match t.kind {
                        blisko_shared::seats::CompensationKind::OverCapacity => {
                            format!("confirmed beyond capacity {}", t.capacity)
                        }
                        blisko_shared::seats::CompensationKind::OverWaitlist => {
                            format!("waiting beyond the list's limit {}", t.waitlist_limit)
                        }
                    };
                    println!(
                        "{}  {}  registration {}  person {}  ({what})",
                        t.class_id, t.class_title, t.registration_id, t.person_id
                    );
                }
                for h in &holds {
                    println!(
                        "class {}: kiosk {} keeps {} seat(s) until it syncs (then {})",
                        h.class_id, h.kiosk_id, h.reserved, h.allotment
                    );
                }
            }
        }
        Command::CatalogImport { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(file)
            }
            .map_err(|e| {
                CentralError::BadRequest(format!("cannot read {}: {e}", file.display()))
            })?;
            let catalogs: Vec<Catalog> = serde_json::from_str(&text).map_err(|e| {
                CentralError::BadRequest(format!(
                    "{} is not a list of catalogs: {e}",
                    file.display()
                ))
            })?;
            let created = central.import_catalogs(&catalogs)?;
            print(
                cli.json,
                &serde_json::json!({ "catalogs": catalogs.len(), "created": created }),
                |_| println!("{} catalog(s) imported, {created} new", catalogs.len()),
            );
        }
        Command::Staff { command } => match command {
            StaffCommand::Add {
                login,
                name,
                role,
                branch,
            } => {
                let mut password = String::new();
                std::io::stdin().read_line(&mut password).map_err(|e| {
                    CentralError::BadRequest(format!("cannot read the password from stdin: {e}"))
                })?;
                let role_code = role;
                let role = StaffRole::from_code(role_code).ok_or_else(|| {
                    CentralError::BadRequest(format!(
                        "unknown role {role_code:?}: instructor, branch_staff, organizer or office_admin"
                    ))
                })?;
                let id = central.add_staff(
                    &crate::central::staff::NewStaff {
                        login,
                        name,
                        role,
                        branch: *branch,
                    },
                    password.trim_end_matches(['\r', '\n']),
                )?;
                let role = role.code();
                print(
                    cli.json,
                    &serde_json::json!({ "staff_id": id, "login": login, "role": role }),
                    |_| println!("staff account {login} ({role}) created: {id}"),
                );
            }
            StaffCommand::ResetPassword { login } => {
                let password = central.reset_staff_password(login)?;
                print(
                    cli.json,
                    &serde_json::json!({ "login": login, "temporary_password": password }),
                    |_| {
                        println!(
                            "temporary password for {login} (must be changed at the next log-in): {password}"
                        )
                    },
                );
            }
            StaffCommand::List => {
                let staff = central.staff_list()?;
                print(cli.json, &staff, |rows| {
                    for s in rows {
                        println!(
                            "{}  {:<20} {:<14} {}{}",
                            s.id,
                            s.login,
                            s.role,
                            s.name,
                            if s.disabled { " (disabled)" } else { "" }
                        );
                    }
                });
            }
        },
        Command::Person { command } => match command {
            PersonCommand::Erase { resident_code } => {
                let erased = central.erase_resident(resident_code, "admin")?;
                print(cli.json, &serde_json::json!({ "erased": erased }), |_| {
                    for p in &erased {
                        println!("erased person {p}");
                    }
                });
            }
        },
        Command::SmsConsentWithdraw { person } => {
            let withdrawn = central.withdraw_sms_consent(*person, "admin")?;
            print(
                cli.json,
                &serde_json::json!({ "person": person, "withdrawn": withdrawn }),
                |_| {
                    if withdrawn {
                        println!("SMS consent of person {person} withdrawn");
                    } else {
                        println!("person {person} had no SMS consent: nothing changed");
                    }
                },
            );
        }
        Command::Register {
            class,
            given_name,
            family_name,
            birth_year,
            phone,
            clause_read,
            sms,
        } => {
            let receipt = central.register_by_phone(&crate::central::daily::PhoneRegistration {
                class: *class,
                existing: None,
                given_name: given_name.clone(),
                family_name: family_name.clone(),
                birth_year: birth_year.to_string(),
                phone: phone.clone(),
                clause_read: *clause_read,
                sms_consent: *sms,
            })?;
            let (status, position) = match receipt.outcome {
                crate::central::daily::PhoneOutcome::Confirmed => ("confirmed", None),
                crate::central::daily::PhoneOutcome::Waitlisted { position } => {
                    ("waitlisted", Some(position))
                }
            };
            print(
                cli.json,
                &serde_json::json!({
                    "registration_id": receipt.registration,
                    "person_id": receipt.person,
                    "resident_code": receipt.resident_code,
                    "status": status,
                    "position": position,
                }),
                |_| {
                    println!(
                        "registration {} ({status}); resident code {}",
                        receipt.registration, receipt.resident_code
                    );
                },
            );
        }
        Command::CancelRegistration {
            class,
            registration,
        } => {
            central.cancel_registration(*class, *registration)?;
            print(
                cli.json,
                &serde_json::json!({ "cancelled": registration }),
                |_| println!("registration {registration} cancelled"),
            );
        }
        Command::Notices {
            kind,
            status,
            limit,
        } => {
            let rows = central.notices(
                &crate::store::NoticeFilter {
                    kind: kind.clone(),
                    status: *status,
                    person: None,
                },
                *limit,
            )?;
            print(cli.json, &rows, |rows| {
                for n in rows {
                    println!(
                        "{}  {:<17} {:<9} attempts {:<2} segments {:<2} person {} {}",
                        n.created,
                        n.kind,
                        n.status,
                        n.attempts,
                        n.segments
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| "-".into()),
                        n.person_id.as_deref().unwrap_or("-"),
                        n.reason.as_deref().unwrap_or("")
                    );
                }
            });
        }
        Command::Audit { limit } => {
            let rows = central.audit_log(*limit)?;
            print(cli.json, &rows, |rows| {
                for r in rows {
                    println!(
                        "{}  {:<24} {:<16} {} {}",
                        r.at,
                        r.actor,
                        r.action,
                        r.subject,
                        r.detail.as_deref().unwrap_or("")
                    );
                }
            });
        }
    }
    Ok(())
}

/// One server at a time serves a data folder, so that one process grants the shared
/// pool's seats and stamps the central office's changes. The admin commands, which
/// change one thing at a time in a transaction, need no lock and run beside it.
fn lock_serving(dir: &Path) -> Result<std::fs::File, CentralError> {
    let path = dir.join(SERVE_LOCK_FILE);
    blisko_shared::sqlite::lock_file(&path)
        .map_err(|source| {
            CentralError::Store(StoreError::Io {
                what: path.display().to_string(),
                source,
            })
        })?
        .ok_or_else(|| CentralError::Busy(dir.display().to_string()))
}

/// The first-run link, printed on standard output after the "listening on" line. A closed
/// standard output (nobody reading) is no reason to stop serving.
fn print_setup_link(scheme: &str, local: SocketAddr, token: Option<&str>) {
    if let Some(token) = token {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(
            out,
            "office set-up (no office admin yet; this link works once, for 24 hours): {scheme}://{local}/office/setup/{token}"
        );
        let _ = out.flush();
    }
}

fn serve(
    mut central: Central,
    listen: SocketAddr,
    tls: Option<(&Path, &Path)>,
    limits: Limits,
    sms: crate::http::Sms,
    setup_token: Option<String>,
) -> Result<(), CentralError> {
    let synced = central.synced_credentials()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CentralError::BadRequest(format!("could not start the runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| CentralError::BadRequest(format!("could not listen on {listen}: {e}")))?;
        let local = listener
            .local_addr()
            .map_err(|e| CentralError::BadRequest(format!("no local address: {e}")))?;
        let state = AppState::new(central, limits, synced, sms);
        tokio::spawn(crate::notices::sender::run(
            state.clone(),
            state.sms.gateway.clone(),
            std::sync::Arc::clone(&state.sms.config),
            SENDER_EVERY,
        ));
        let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
        let Some((cert, key)) = tls else {
            // Tests and scripts read this line to learn the port when listening on port 0.
            println!("listening on http://{local}");
            print_setup_link("http", local, setup_token.as_deref());
            tracing::info!(%local, "serving");
            return axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| CentralError::BadRequest(format!("server error: {e}")));
        };
        let config = crate::tls::server_config(cert, key)?;
        crate::office::auth::set_served_over_tls();
        let listener = listener
            .into_std()
            .map_err(|e| CentralError::BadRequest(format!("could not listen on {listen}: {e}")))?;
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            // Like the plain server: requests under way finish, then it stops.
            stopper.graceful_shutdown(Some(Duration::from_secs(30)));
        });
        let server = axum_server::from_tcp_rustls(listener, config)
            .map_err(|e| CentralError::BadRequest(format!("could not listen on {listen}: {e}")))?;
        println!("listening on https://{local}");
        print_setup_link("https", local, setup_token.as_deref());
        tracing::info!(%local, "serving over TLS");
        server
            .handle(handle)
            .serve(app)
            .await
            .map_err(|e| CentralError::BadRequest(format!("server error: {e}")))
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
