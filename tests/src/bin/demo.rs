//! The demo: a central server with the built-in demo catalogue, an office admin account
//! and one kiosk enrolled with it, on this machine. Data stays in `--data` (default `blisko-demo-data/`) so a
//! second run carries on where the first stopped. Runs until Ctrl-C.

use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result};
use clap::Parser;
use rand::RngExt;

use blisko_kiosk::kiosk::RegistrationForm;
use blisko_kiosk::sync::{SyncClient, register, sync_once};
use blisko_tests::harness::{ServerProcess, branch_id, enroll_kiosk, key_file, open_kiosk};
use blisko_tests::office::add_staff_with;

/// The demo's office admin.
const ADMIN_LOGIN: &str = "admin";
/// Where the demo keeps the admin's password, so a second run can print it again.
const ADMIN_PASSWORD_FILE: &str = "office-admin.txt";

#[derive(Debug, Parser)]
#[command(about = "Blisko demo: a server and a kiosk on the demo catalogue")]
struct Args {
    #[arg(long, default_value = "blisko-demo-data")]
    data: PathBuf,
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: std::net::SocketAddr,
    /// Do not open the kiosk's touch app, only the server and the command line.
    #[arg(long)]
    no_window: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let stop = StopSignals::listen()?;
    let demo = run(&args, &stop);
    if stop.stopping.load(std::sync::atomic::Ordering::SeqCst) {
        // Stopped on purpose, maybe halfway through setting up: not an error.
        return Ok(());
    }
    demo
}

fn run(args: &Args, stop: &StopSignals) -> Result<()> {
    std::fs::create_dir_all(&args.data)?;
    let server_data = args.data.join("server");
    let kiosk_dir = args.data.join("kiosk");
    let mut server = ServerProcess::start_on(&server_data, args.listen, true)
        .with_context(|| format!("start the server on {} (is the port free?)", args.listen))?;
    stop.add(server.pid());
    println!(
        "Server:  {} (data in {})",
        server.url(),
        server_data.display()
    );

    let password = office_admin(&args.data, &server_data)?;
    println!(
        "Office:  {}/office  (log in as \"{ADMIN_LOGIN}\", password {password})",
        server.url()
    );

    let kiosk = if kiosk_dir.join(blisko_kiosk::store::DB_FILE).exists() {
        Mutex::new(open_kiosk(&kiosk_dir)?)
    } else {
        let mal = branch_id(&server_data, "MAL")?;
        let kiosk = enroll_kiosk(&server, &mal, &kiosk_dir)?;
        let client = SyncClient::for_kiosk(&kiosk.lock().expect("kiosk"))?;
        sync_once(&kiosk, &client)?;
        // Two residents, so the rosters are not empty.
        let classes = kiosk.lock().expect("kiosk").classes()?;
        for (class, given, family, year) in [
            (&classes[0], "Krystyna", "Zawadzka", 1948),
            (&classes[1 % classes.len()], "Józef", "Wróbel", 1951),
        ] {
            // Online, as in the touch app: a place on the waiting list is a seat from the
            // server's pool once the sync right after it is through.
            let receipt = register(
                &kiosk,
                &RegistrationForm {
                    class_id: class.id.to_string(),
                    given_name: given.into(),
                    family_name: family.into(),
                    birth_year: year,
                    consent: true,
                    ..RegistrationForm::default()
                },
            )?;
            println!(
                "Registered {given} {family} for {}: {} (resident code {})",
                class.title, receipt.status, receipt.resident_code
            );
        }
        kiosk
    };
    let client = SyncClient::for_kiosk(&kiosk.lock().expect("kiosk"))?;
    let report = sync_once(&kiosk, &client)?;
    println!(
        "Kiosk:   {} (branch MAL), synced: {} documents sent, {} received",
        kiosk_dir.display(),
        report.pushed_docs,
        report.pulled_docs
    );
    drop(kiosk);

    let data = args.data.display();
    println!();
    println!("Try, in another terminal (the kiosk's commands while its app is closed: one");
    println!("process at a time uses a kiosk's folder):");
    println!(
        "  cargo run -p blisko-kiosk -- --data {data}/kiosk --key-file {data}/kiosk.key --lang en classes"
    );
    println!(
        "  cargo run -p blisko-kiosk -- --data {data}/kiosk --key-file {data}/kiosk.key register --class ID --given Anna --family Nowak --birth-year 1950 --consent"
    );
    println!("  cargo run -p blisko-kiosk -- --data {data}/kiosk --key-file {data}/kiosk.key sync");
    println!("  cargo run -p blisko-sync-server -- --data {data}/server roster --class ID");
    println!("  cargo run -p blisko-sync-server -- --data {data}/server kiosk list");
    let display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    // The touch app on the same kiosk store, syncing in the background; Ctrl-C stops
    // both (they share the terminal's process group).
    let _app = if display && !args.no_window {
        let child = std::process::Command::new(blisko_tests::kiosk_bin())
            .arg("--data")
            .arg(&kiosk_dir)
            .arg("--key-file")
            .arg(key_file(&kiosk_dir))
            .spawn()
            .context("open the kiosk app")?;
        stop.add(child.id());
        println!();
        println!(
            "The kiosk's touch app is open. Staff mode: the \"Obsługa\" button, PIN {}.",
            blisko_shared::demo::DEMO_STAFF_PIN
        );
        Some(child)
    } else {
        println!();
        println!("No desktop here (DISPLAY is not set): the touch app is not opened.");
        println!(
            "  With one: cargo run -p blisko-kiosk -- --data {data}/kiosk --key-file {data}/kiosk.key"
        );
        None
    };
    println!();
    println!(
        "Open the office in a browser: {}/office (login \"{ADMIN_LOGIN}\", password {password}).",
        server.url()
    );
    println!("The server runs until Ctrl-C.");
    server.wait()
}

/// A script, `timeout` or systemd stops the demo with SIGTERM (a closed terminal with
/// SIGHUP): the server and the app it started are told to stop too (the server stops
/// gracefully on SIGTERM), instead of being left holding the port and the data folder.
/// Ctrl-C reaches them anyway, through the terminal's process group.
struct StopSignals {
    children: std::sync::Mutex<Vec<u32>>,
    stopping: std::sync::atomic::AtomicBool,
}

impl StopSignals {
    /// Listen for SIGTERM and SIGHUP from now on.
    fn listen() -> Result<std::sync::Arc<StopSignals>> {
        use tokio::signal::unix::{SignalKind, signal};
        let stop = std::sync::Arc::new(StopSignals {
            children: std::sync::Mutex::new(Vec::new()),
            stopping: std::sync::atomic::AtomicBool::new(false),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .context("start the signal listener")?;
        let (mut term, mut hup) = runtime.block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::terminate())?,
                signal(SignalKind::hangup())?,
            ))
        })?;
        let on_signal = stop.clone();
        std::thread::spawn(move || {
            runtime.block_on(async {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            });
            on_signal
                .stopping
                .store(true, std::sync::atomic::Ordering::SeqCst);
            let children = on_signal
                .children
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default();
            children.into_iter().for_each(terminate);
        });
        Ok(stop)
    }

    /// A child to stop with the demo (at once, if the demo is already stopping).
    fn add(&self, pid: u32) {
        if let Ok(mut children) = self.children.lock() {
            children.push(pid);
        }
        if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            terminate(pid);
        }
    }
}

fn terminate(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a process id and a signal number has no memory effects.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
}

/// The office admin account: made on the first run with a random password, which is
/// kept beside the demo data (the server keeps only its hash) and printed on every run.
fn office_admin(data: &std::path::Path, server_data: &std::path::Path) -> Result<String> {
    let file = data.join(ADMIN_PASSWORD_FILE);
    if let Ok(saved) = std::fs::read_to_string(&file) {
        return Ok(saved.trim().to_owned());
    }
    let password = demo_password();
    add_staff_with(
        server_data,
        ADMIN_LOGIN,
        "Administrator biura",
        "office_admin",
        None,
        &password,
    )
    .context("create the demo's office admin")?;
    std::fs::write(&file, format!("{password}\n"))
        .with_context(|| format!("keep the admin's password in {}", file.display()))?;
    Ok(password)
}

/// Four groups of four letters and digits, easy to type from the screen.
fn demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..4)
        .map(|_| {
            (0..4)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}
