//! A real `blisko-server` process on loopback, its admin commands, and kiosks enrolled
//! with it through real HTTP, for the sync tests and benchmarks.
//!
//! A server keeps its store in SQLite files in its data folder, or, started with
//! [`ServerProcess::start_backend`] on [`Backend::Postgres`], in a new PostgreSQL
//! database of its own. Tests name a server by its data folder (admin commands, staff,
//! restarts): every command the harness runs on a folder uses the folder's database.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use blisko_kiosk::key::StoreKey;
use blisko_kiosk::kiosk::{WallClock, local_date, system_clock};
use blisko_kiosk::sync::{SyncClient, SyncReport};
use blisko_kiosk::{Kiosk, KioskError};
use blisko_shared::docs::{ChangeHash, Doc};
use blisko_sync_server::central::Central;

use crate::bins::server_bin;
use crate::pg::{Backend, TestDatabase};

/// The server's variable naming its PostgreSQL database: never taken from the tests'
/// environment, each server gets its database from the harness.
const DATABASE_URL_ENV: &str = "BLISKO_DATABASE_URL";

/// The PostgreSQL databases of the tests' data folders. The servers on a folder hold its
/// database, which is dropped with the last of them; commands on the folder look it up.
static DATABASES: Mutex<BTreeMap<PathBuf, Weak<TestDatabase>>> = Mutex::new(BTreeMap::new());

/// The PostgreSQL database of the data folder `data`; none when its store is SQLite.
pub fn database_of(data: &Path) -> Result<Option<Arc<TestDatabase>>> {
    let databases = DATABASES
        .lock()
        .map_err(|_| anyhow!("the test databases' lock"))?;
    match databases.get(data) {
        None => Ok(None),
        Some(database) => database.upgrade().map(Some).with_context(|| {
            format!(
                "the PostgreSQL database of {} was dropped with the last server on it: keep \
                 a server of the folder alive while commands run on it",
                data.display()
            )
        }),
    }
}

/// Give the data folder `data` a new PostgreSQL database, for the servers and commands
/// on the folder from now on. The caller holds it until a server does.
fn new_database_for(data: &Path) -> Result<Arc<TestDatabase>> {
    let database = Arc::new(TestDatabase::create()?);
    DATABASES
        .lock()
        .map_err(|_| anyhow!("the test databases' lock"))?
        .insert(data.to_owned(), Arc::downgrade(&database));
    Ok(database)
}

/// A new store on `backend` for the data folder `data`: on PostgreSQL a new database,
/// which the servers and commands started on the folder use while it is held (a server
/// holds it too); on SQLite nothing to hold, the folder's files.
pub fn new_store(backend: Backend, data: &Path) -> Result<Option<Arc<TestDatabase>>> {
    match backend {
        Backend::Sqlite => {
            forget_database_of(data)?;
            Ok(None)
        }
        Backend::Postgres => Ok(Some(new_database_for(data)?)),
    }
}

/// The folder `data` keeps its store in SQLite files again.
fn forget_database_of(data: &Path) -> Result<()> {
    DATABASES
        .lock()
        .map_err(|_| anyhow!("the test databases' lock"))?
        .remove(data);
    Ok(())
}

/// The server's core opened in the test's process on the store of the data folder
/// `data` (SQLite in the folder, or the folder's PostgreSQL database), as a server on the
/// folder would open it.
pub fn open_central(data: &Path) -> Result<Central> {
    Ok(match database_of(data)? {
        None => Central::open(data)?,
        Some(database) => Central::open_postgres(database.url())?,
    })
}

/// A server's core opened in the test's process on a new store on `backend`, with the
/// database it keeps while open.
pub struct TestCentral {
    // Declared first, so that it closes before its database is dropped.
    pub central: Central,
    _database: Option<Arc<TestDatabase>>,
}

impl TestCentral {
    /// A new store for the data folder `data` on `backend` (on PostgreSQL a new database,
    /// which servers and commands on the folder use while this is open).
    pub fn open(backend: Backend, data: &Path) -> Result<TestCentral> {
        let database = new_store(backend, data)?;
        Ok(TestCentral {
            central: open_central(data)?,
            _database: database,
        })
    }
}

impl std::ops::Deref for TestCentral {
    type Target = Central;
    fn deref(&self) -> &Central {
        &self.central
    }
}

impl std::ops::DerefMut for TestCentral {
    fn deref_mut(&mut self) -> &mut Central {
        &mut self.central
    }
}

/// `blisko-server --data DIR`, with `--database URL` when the folder's store is
/// PostgreSQL, ready for more arguments.
pub fn server_command(data: &Path) -> Result<Command> {
    let mut command = Command::new(server_bin());
    command
        .arg("--data")
        .arg(data)
        .env("BLISKO_LOG", "warn")
        .env_remove(DATABASE_URL_ENV);
    if let Some(database) = database_of(data)? {
        command.arg("--database").arg(database.url());
    }
    Ok(command)
}

/// A running `blisko-server serve`. Killed when dropped.
pub struct ServerProcess {
    child: Child,
    pub data: PathBuf,
    pub addr: SocketAddr,
    /// "http", or "https" when started with `--tls-cert`.
    scheme: &'static str,
    /// The store's database on PostgreSQL, kept while the server runs.
    database: Option<Arc<TestDatabase>>,
}

impl ServerProcess {
    /// Start on a free loopback port with its store on `backend`: on PostgreSQL, a new
    /// database, which servers started again on `data` use too.
    pub fn start_backend(backend: Backend, data: &Path, demo: bool) -> Result<ServerProcess> {
        Self::start_backend_on(backend, data, "127.0.0.1:0".parse()?, demo)
    }

    /// [`ServerProcess::start_backend`] on a given address.
    pub fn start_backend_on(
        backend: Backend,
        data: &Path,
        listen: SocketAddr,
        demo: bool,
    ) -> Result<ServerProcess> {
        Self::start_backend_with::<&str>(backend, data, listen, demo, &[])
    }

    /// [`ServerProcess::start_backend`] with more `serve` options.
    pub fn start_backend_with<S: AsRef<OsStr>>(
        backend: Backend,
        data: &Path,
        listen: SocketAddr,
        demo: bool,
        options: &[S],
    ) -> Result<ServerProcess> {
        // Held until the server holds it.
        let _database = new_store(backend, data)?;
        Self::start_with(data, listen, demo, options)
    }

    /// Start on a free loopback port; `demo` loads the demo catalogue on first start. The
    /// store is SQLite, unless a server was started on the folder with
    /// [`ServerProcess::start_backend`] on PostgreSQL: then it is that server's database.
    pub fn start(data: &Path, demo: bool) -> Result<ServerProcess> {
        Self::start_on(data, "127.0.0.1:0".parse()?, demo)
    }

    /// Start on a given address (a restart keeps the port kiosks know).
    pub fn start_on(data: &Path, listen: SocketAddr, demo: bool) -> Result<ServerProcess> {
        Self::start_with::<&str>(data, listen, demo, &[])
    }

    /// Start with more `serve` options (TLS, rate limits).
    pub fn start_with<S: AsRef<OsStr>>(
        data: &Path,
        listen: SocketAddr,
        demo: bool,
        options: &[S],
    ) -> Result<ServerProcess> {
        let mut command = server_command(data)?;
        command.stderr(Stdio::inherit());
        Self::spawn(command, data, listen, demo, options)
    }

    /// Start on a free loopback port with its log at info level written to `log`.
    pub fn start_logged(data: &Path, demo: bool, log: &Path) -> Result<ServerProcess> {
        let file = std::fs::File::create(log).context("create the server's log file")?;
        let mut command = server_command(data)?;
        command.env("BLISKO_LOG", "info").stderr(file);
        Self::spawn::<&str>(command, data, "127.0.0.1:0".parse()?, demo, &[])
    }

    fn spawn<S: AsRef<OsStr>>(
        mut command: Command,
        data: &Path,
        listen: SocketAddr,
        demo: bool,
        options: &[S],
    ) -> Result<ServerProcess> {
        let database = database_of(data)?;
        command
            .arg("serve")
            .arg("--listen")
            .arg(listen.to_string())
            .args(options)
            .stdout(Stdio::piped());
        if demo {
            command.arg("--demo");
        }
        // A restart may race the old socket's release for a moment.
        for attempt in 0..50 {
            let mut child = command.spawn().context("start blisko-server")?;
            let stdout = child.stdout.take().context("server stdout")?;
            let mut line = String::new();
            BufReader::new(stdout)
                .read_line(&mut line)
                .context("read the server's first line")?;
            let listening = line.trim().strip_prefix("listening on ");
            let found = listening
                .and_then(|url| url.strip_prefix("https://").map(|a| ("https", a)))
                .or_else(|| {
                    listening.and_then(|url| url.strip_prefix("http://").map(|a| ("http", a)))
                });
            if let Some((scheme, addr)) = found {
                let addr = addr.parse().context("parse the server address")?;
                return Ok(ServerProcess {
                    child,
                    data: data.to_owned(),
                    addr,
                    scheme,
                    database,
                });
            }
            let _ = child.wait();
            if attempt == 49 {
                bail!("blisko-server did not start: {line:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unreachable!()
    }

    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Where the server keeps its store.
    pub fn backend(&self) -> Backend {
        match self.database {
            Some(_) => Backend::Postgres,
            None => Backend::Sqlite,
        }
    }

    /// The store's PostgreSQL database, when it has one.
    pub fn database(&self) -> Option<&TestDatabase> {
        self.database.as_deref()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no chance to clean up.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait for the graceful shutdown.
    pub fn stop(&mut self) -> Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the server exited with {status} on SIGTERM");
        }
        Ok(())
    }

    /// Wait until the server exits on its own (e.g. Ctrl-C in its terminal).
    pub fn wait(&mut self) -> Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the server exited with {status}");
        }
        Ok(())
    }

    /// CPU time the server has used so far (user + system), in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        process_cpu_seconds(self.pid())
    }

    /// Peak resident memory so far (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> Option<u64> {
        process_status_value(self.pid(), "VmHWM")
    }

    /// Resident memory now (VmRSS), in KiB.
    pub fn memory_kib(&self) -> Option<u64> {
        process_status_value(self.pid(), "VmRSS")
    }

    /// Threads the server runs now.
    pub fn threads(&self) -> Option<u64> {
        process_status_value(self.pid(), "Threads")
    }

    /// File descriptors the server holds open now.
    pub fn open_files(&self) -> Option<usize> {
        Some(
            std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
                .ok()?
                .count(),
        )
    }

    pub fn admin(&self, args: &[&str]) -> Result<Value> {
        admin(&self.data, args)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run `blisko-server --data DIR --json ARGS` and parse its output.
pub fn admin(data: &Path, args: &[&str]) -> Result<Value> {
    let output = server_command(data)?
        .arg("--json")
        .args(args)
        .output()
        .context("run blisko-server")?;
    if !output.status.success() {
        bail!(
            "blisko-server {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "blisko-server {args:?} printed no JSON: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A demo server, and a kiosk of its MAL branch in `<tmp>/a`, synced once.
pub fn server_and_mal_kiosk(tmp: &Path) -> Result<(ServerProcess, Mutex<Kiosk>)> {
    server_and_mal_kiosk_on(Backend::Sqlite, tmp)
}

/// [`server_and_mal_kiosk`] with the server's store on `backend`.
pub fn server_and_mal_kiosk_on(
    backend: Backend,
    tmp: &Path,
) -> Result<(ServerProcess, Mutex<Kiosk>)> {
    let server = ServerProcess::start_backend(backend, &tmp.join("server"), true)?;
    let mal = branch_id(&server.data, "MAL")?;
    let a = enroll_kiosk_at(&server, &server.url(), &mal, &tmp.join("a"))?;
    sync(&a)?;
    Ok((server, a))
}

/// The id of a branch by its code.
pub fn branch_id(data: &Path, code: &str) -> Result<String> {
    let branches = admin(data, &["branches"])?;
    branches
        .as_array()
        .and_then(|bs| bs.iter().find(|b| b["code"] == code))
        .and_then(|b| b["id"].as_str())
        .map(str::to_owned)
        .with_context(|| format!("no branch {code}"))
}

/// The key file of a test kiosk whose data folder is `dir`: beside the folder, never in
/// it (tests keep their data folders inside a temporary directory, so it goes with them).
pub fn key_file(dir: &Path) -> PathBuf {
    dir.with_extension("key")
}

/// The key for setting up a test kiosk in `dir`, created on first use.
pub fn setup_key(dir: &Path) -> Result<StoreKey> {
    Ok(StoreKey::load_or_create(&key_file(dir))?)
}

/// A plain SQL connection to a test kiosk's encrypted store, for what the kiosk's API has
/// no query for. (The key file holds the raw key as hex, which SQLCipher takes as is.)
pub fn kiosk_sql(dir: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(dir.join(blisko_kiosk::store::DB_FILE))?;
    let hex = std::fs::read_to_string(key_file(dir))?;
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex.trim()))?;
    Ok(conn)
}

/// A decrypted copy of a test kiosk's store at `out` (SQLCipher's `sqlcipher_export`), so
/// that a test can search what the store holds, not only its encrypted bytes.
pub fn kiosk_plain_copy(dir: &Path, out: &Path) -> Result<()> {
    let conn = kiosk_sql(dir)?;
    conn.execute(
        "ATTACH DATABASE ?1 AS plain KEY ''",
        [out.to_str().context("a UTF-8 path")?],
    )?;
    conn.query_row("SELECT sqlcipher_export('plain')", [], |_| Ok(()))?;
    conn.execute_batch("DETACH DATABASE plain")?;
    Ok(())
}

/// Open the test kiosk set up in `dir` with its key.
pub fn open_kiosk(dir: &Path) -> Result<Kiosk> {
    Ok(Kiosk::open(dir, &StoreKey::load(&key_file(dir))?)?)
}

/// Add a kiosk to a branch on the server and enroll a new kiosk store in `dir` with it.
pub fn enroll_kiosk(server: &ServerProcess, branch: &str, dir: &Path) -> Result<Mutex<Kiosk>> {
    enroll_kiosk_with_clock(server, branch, dir, system_clock())
}

/// [`enroll_kiosk`] with the kiosk's wall clock given (a wrong one, in the clock tests).
pub fn enroll_kiosk_with_clock(
    server: &ServerProcess,
    branch: &str,
    dir: &Path,
    wall: WallClock,
) -> Result<Mutex<Kiosk>> {
    let code = kiosk_code(server, branch)?;
    let kiosk =
        blisko_kiosk::sync::enroll(dir, &server.url(), &code, None, &setup_key(dir)?, wall)?;
    Ok(Mutex::new(kiosk))
}

/// Like [`enroll_kiosk`], the kiosk talking to the server at `url` (a proxy in front of
/// it, say).
pub fn enroll_kiosk_at(
    server: &ServerProcess,
    url: &str,
    branch: &str,
    dir: &Path,
) -> Result<Mutex<Kiosk>> {
    let code = kiosk_code(server, branch)?;
    let kiosk =
        blisko_kiosk::sync::enroll(dir, url, &code, None, &setup_key(dir)?, system_clock())?;
    Ok(Mutex::new(kiosk))
}

/// Add a kiosk to a branch and enroll it through `url` (a proxy): the kiosk keeps that
/// address as its server's.
pub fn enroll_via(
    server: &ServerProcess,
    branch: &str,
    url: &str,
    dir: &Path,
) -> Result<Mutex<Kiosk>> {
    let code = kiosk_code(server, branch)?;
    let kiosk =
        blisko_kiosk::sync::enroll(dir, url, &code, None, &setup_key(dir)?, system_clock())?;
    anyhow::ensure!(
        kiosk.status()?.server_url.as_deref() == Some(url),
        "the kiosk keeps the address it enrolled through"
    );
    Ok(Mutex::new(kiosk))
}

/// Make a demo branch's classes large (400 seats, 400 waiting), so hundreds of people fit.
pub fn enlarge_classes(server: &ServerProcess, branch_code: &str, dir: &Path) -> Result<()> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let mut catalogs = blisko_shared::demo::catalogs(local_date(now_ms), 6, None);
    catalogs.retain(|c| c.branch.code == branch_code);
    for class in &mut catalogs.first_mut().context("the branch")?.classes {
        class.capacity = 400;
        class.waitlist_limit = 400;
    }
    let file = dir.join(format!("catalog-{branch_code}.json"));
    std::fs::write(&file, serde_json::to_vec(&catalogs)?)?;
    server.admin(&["catalog-import", &file.display().to_string()])?;
    Ok(())
}

/// Set one class's capacity and waiting-list limit (a catalog import of its branch, as
/// the office would; the import keeps the seat rules). `dir` holds the file.
pub fn set_class_seats(
    server: &ServerProcess,
    branch_code: &str,
    class: &str,
    capacity: u32,
    waitlist_limit: u32,
    dir: &Path,
) -> Result<()> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let mut catalogs = blisko_shared::demo::catalogs(local_date(now_ms), 6, None);
    catalogs.retain(|c| c.branch.code == branch_code);
    let catalog = catalogs.first_mut().context("the branch")?;
    let found = catalog
        .classes
        .iter_mut()
        .find(|c| c.id.to_string() == class)
        .context("the class")?;
    found.capacity = capacity;
    found.waitlist_limit = waitlist_limit;
    let file = dir.join(format!("catalog-{branch_code}-{class}.json"));
    std::fs::write(&file, serde_json::to_vec(&catalogs)?)?;
    server.admin(&["catalog-import", &file.display().to_string()])?;
    Ok(())
}

/// Run `blisko-server --json ARGS` expecting a refusal: its exit code and error message.
pub fn admin_refused(data: &Path, args: &[&str]) -> Result<(i32, String)> {
    let output = server_command(data)?
        .arg("--json")
        .args(args)
        .output()
        .context("run blisko-server")?;
    anyhow::ensure!(
        !output.status.success(),
        "blisko-server {args:?} was expected to refuse, but it succeeded"
    );
    let error: Value = serde_json::from_slice(&output.stderr).with_context(|| {
        format!(
            "blisko-server {args:?} printed no JSON error: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    Ok((
        output.status.code().unwrap_or(-1),
        error["error"]["message"].as_str().unwrap_or("").to_owned(),
    ))
}

/// Let a kiosk confirm `seats` seats of a class offline (its allotment).
pub fn allot(server: &ServerProcess, class: &str, kiosk: &Mutex<Kiosk>, seats: u32) -> Result<()> {
    let id = kiosk.lock().expect("kiosk").identity().kiosk_id.to_string();
    server.admin(&[
        "allot",
        "--class",
        class,
        "--kiosk",
        &id,
        "--seats",
        &seats.to_string(),
    ])?;
    Ok(())
}

/// A new kiosk's one-time enrollment code (`kiosk add`).
pub fn kiosk_code(server: &ServerProcess, branch: &str) -> Result<String> {
    let added = server.admin(&["kiosk", "add", "--branch", branch])?;
    Ok(added["code"]
        .as_str()
        .context("enrollment code")?
        .to_owned())
}

/// Sync a kiosk once with its server.
pub fn sync(kiosk: &Mutex<Kiosk>) -> Result<SyncReport> {
    let client = SyncClient::for_kiosk(&kiosk.lock().expect("kiosk lock"))?;
    Ok(blisko_kiosk::sync::sync_once(kiosk, &client)?)
}

/// A sync that failed because the connection or the server broke: worth retrying.
pub fn transient(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<KioskError>(), Some(KioskError::Sync(s)) if s.is_transient())
}

/// Sync until a sync completes with nothing left; only transient failures are allowed.
pub fn sync_until_complete(kiosk: &Mutex<Kiosk>) -> Result<SyncReport> {
    let mut last = None;
    for _ in 0..20 {
        match sync(kiosk) {
            Ok(report) if !report.incomplete && report.pending_changes == 0 => return Ok(report),
            Ok(report) => last = Some(format!("{report:?}")),
            Err(e) if transient(&e) => {
                last = Some(format!("{e:#}"));
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(e.context("a sync failed for good")),
        }
    }
    bail!("no complete sync after 20 tries; last: {last:?}")
}

/// Sync every kiosk, pass after pass, until a whole pass moves nothing: then every
/// replica holds what every other holds. Returns the number of passes.
pub fn sync_until_quiet(kiosks: &[&Mutex<Kiosk>]) -> Result<usize> {
    for pass in 1..=10 {
        let mut moved = 0;
        for k in kiosks {
            let report = sync_until_complete(k)?;
            moved += report.pushed_docs + report.pulled_docs;
        }
        if moved == 0 {
            return Ok(pass);
        }
    }
    bail!("kiosks still exchanging changes after 10 passes")
}

/// Document id to heads (sorted): what a replica holds, comparable across replicas.
pub type Heads = BTreeMap<String, Vec<ChangeHash>>;

/// The heads of every document a kiosk stores.
pub fn kiosk_heads(kiosk: &Kiosk) -> Result<Heads> {
    let store = kiosk.store();
    let mut heads = Heads::new();
    for kind in ["catalog", "roster", "people", "intake"] {
        for key in store.doc_keys(kind)? {
            let stored = store.load_doc(key)?.context("a listed document loads")?;
            let doc = Doc::load(
                key,
                kiosk.identity().kiosk_id,
                &stored.snapshot,
                stored.chunks.iter().map(Vec::as_slice),
            )?;
            let mut h = doc.heads();
            h.sort();
            heads.insert(key.to_string(), h);
        }
    }
    Ok(heads)
}

/// The heads of every document of a branch in the server's store (beside the running
/// server).
pub fn server_heads(data: &Path, branch: &str) -> Result<Heads> {
    let mut sql = ServerSql::open_read_only(data, StorePart::Main)?;
    let ids = sql.texts(
        "SELECT doc_id FROM documents WHERE branch_id = $1 ORDER BY doc_id",
        &[branch],
    )?;
    let blobs = sql.blobs(
        "SELECT heads FROM documents WHERE branch_id = $1 ORDER BY doc_id",
        &[branch],
    )?;
    anyhow::ensure!(
        ids.len() == blobs.len(),
        "the documents changed between reads"
    );
    ids.into_iter()
        .flatten()
        .zip(blobs)
        .map(|(id, blob)| {
            let mut h = blisko_shared::sqlite::heads_from_blob(&blob)?;
            h.sort();
            Ok((id, h))
        })
        .collect()
}

/// Every kiosk of a branch holds what the server holds, has sent everything, agrees with
/// its documents, and every SQLite store passes SQLite's integrity check.
pub fn check_replicas(
    server: &ServerProcess,
    branch: &str,
    kiosks: &[&Mutex<Kiosk>],
) -> Result<()> {
    let on_server = server_heads(&server.data, branch)?;
    for (i, kiosk) in kiosks.iter().enumerate() {
        let mut k = kiosk.lock().expect("kiosk");
        anyhow::ensure!(
            k.status()?.pending_changes == 0,
            "kiosk {i} sent everything"
        );
        let held = kiosk_heads(&k)?;
        anyhow::ensure!(
            held == on_server,
            "kiosk {i} and the server hold different documents ({} and {})",
            held.len(),
            on_server.len()
        );
        let problems = k.verify()?;
        anyhow::ensure!(problems.is_empty(), "kiosk {i}: {problems:?}");
        anyhow::ensure!(k.store().integrity_check()? == "ok", "kiosk {i}'s store");
    }
    // PostgreSQL has no check of its files a client could ask for.
    if server.backend() == Backend::Sqlite {
        anyhow::ensure!(
            server_integrity(&server.data)? == "ok",
            "the server's database"
        );
    }
    Ok(())
}

/// `PRAGMA integrity_check` of the server's database ("ok" when sound).
pub fn server_integrity(data: &Path) -> Result<String> {
    let conn = open_server_db(data)?;
    Ok(conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
}

fn open_server_db(data: &Path) -> Result<rusqlite::Connection> {
    let path = data.join("server.sqlite3");
    rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("open {}", path.display()))
}

/// The server's two stores: the main one (documents, kiosks, audit), and the personal
/// one (people's keys and the office's names), which an erasure clears apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorePart {
    Main,
    Personal,
}

/// A plain SQL connection to a server's store, beside the running server, on whichever
/// backend the data folder has. SQL is written once for both: tables unqualified,
/// parameters as `$1`, `$2`, ... (text), results as SQL's common types.
pub enum ServerSql {
    /// The store's file in the data folder.
    Sqlite(rusqlite::Connection),
    /// The store's database, the part's schema (`main`, `personal`) first on the search
    /// path.
    Postgres(postgres::Client),
}

impl ServerSql {
    pub fn open(data: &Path, part: StorePart) -> Result<ServerSql> {
        Self::open_with(data, part, false)
    }

    /// A connection that only reads (SQLite's file opened read-only: closing it leaves
    /// the file and its log as the server keeps them).
    pub fn open_read_only(data: &Path, part: StorePart) -> Result<ServerSql> {
        Self::open_with(data, part, true)
    }

    fn open_with(data: &Path, part: StorePart, read_only: bool) -> Result<ServerSql> {
        match database_of(data)? {
            None => {
                let file = match part {
                    StorePart::Main => "server.sqlite3",
                    StorePart::Personal => "personal.sqlite3",
                };
                let path = data.join(file);
                let flags = if read_only {
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                } else {
                    rusqlite::OpenFlags::default()
                };
                let conn = rusqlite::Connection::open_with_flags(&path, flags)
                    .with_context(|| format!("open {}", path.display()))?;
                Ok(ServerSql::Sqlite(conn))
            }
            Some(database) => {
                let mut client = database.connect()?;
                let path = match part {
                    StorePart::Main => "main",
                    StorePart::Personal => "personal, main",
                };
                client
                    .batch_execute(&format!(
                        "SET search_path = {path}; SET default_transaction_read_only = {}",
                        if read_only { "on" } else { "off" }
                    ))
                    .context("set the search path")?;
                Ok(ServerSql::Postgres(client))
            }
        }
    }

    /// One number from a query (a `count(*)`, say).
    pub fn count(&mut self, sql: &str, params: &[&str]) -> Result<i64> {
        match self {
            ServerSql::Sqlite(conn) => conn
                .query_row(
                    &sqlite_params(sql, params.len()),
                    rusqlite::params_from_iter(params),
                    |r| r.get(0),
                )
                .with_context(|| format!("SQLite: {sql}")),
            ServerSql::Postgres(client) => Ok(client
                .query_one(sql, &pg_params(params))
                .with_context(|| format!("PostgreSQL: {sql}"))?
                .try_get(0)?),
        }
    }

    /// The first column of a query's rows, as bytes (a BLOB, a `bytea`).
    pub fn blobs(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<u8>>> {
        match self {
            ServerSql::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare(&sqlite_params(sql, params.len()))
                    .with_context(|| format!("SQLite: {sql}"))?;
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            }
            ServerSql::Postgres(client) => client
                .query(sql, &pg_params(params))
                .with_context(|| format!("PostgreSQL: {sql}"))?
                .iter()
                .map(|row| Ok(row.try_get(0)?))
                .collect(),
        }
    }

    /// The rows of a query whose columns are all text.
    pub fn texts(&mut self, sql: &str, params: &[&str]) -> Result<Vec<Vec<String>>> {
        match self {
            ServerSql::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare(&sqlite_params(sql, params.len()))
                    .with_context(|| format!("SQLite: {sql}"))?;
                let columns = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        (0..columns)
                            .map(|i| r.get(i))
                            .collect::<rusqlite::Result<_>>()
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            }
            ServerSql::Postgres(client) => client
                .query(sql, &pg_params(params))
                .with_context(|| format!("PostgreSQL: {sql}"))?
                .iter()
                .map(|row| {
                    (0..row.len())
                        .map(|i| Ok(row.try_get(i)?))
                        .collect::<Result<_>>()
                })
                .collect(),
        }
    }

    /// A change the tests make behind the server's back; the number of rows changed.
    pub fn execute(&mut self, sql: &str, params: &[&str]) -> Result<u64> {
        match self {
            ServerSql::Sqlite(conn) => Ok(conn
                .execute(
                    &sqlite_params(sql, params.len()),
                    rusqlite::params_from_iter(params),
                )
                .with_context(|| format!("SQLite: {sql}"))?
                as u64),
            ServerSql::Postgres(client) => client
                .execute(sql, &pg_params(params))
                .with_context(|| format!("PostgreSQL: {sql}")),
        }
    }
}

/// `$1`, `$2`, ... as SQLite's numbered parameters `?1`, `?2`, ... (the highest first, so
/// that `$1` does not eat the start of `$10`).
fn sqlite_params(sql: &str, count: usize) -> String {
    (1..=count).rev().fold(sql.to_owned(), |sql, n| {
        sql.replace(&format!("${n}"), &format!("?{n}"))
    })
}

fn pg_params<'a>(params: &'a [&'a str]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// A class roster as the tests compare it: registration id to (status, position).
pub type Roster = BTreeMap<String, (String, Option<u32>)>;

/// The merged roster of a class on the server (`roster --json`).
pub fn server_roster(server: &ServerProcess, class: &str) -> Result<Roster> {
    let rows = server.admin(&["roster", "--class", class])?;
    rows.as_array()
        .context("roster is an array")?
        .iter()
        .map(|r| {
            Ok((
                r["registration_id"].as_str().context("id")?.to_owned(),
                (
                    r["status"].as_str().context("status")?.to_owned(),
                    r["position"].as_u64().map(|p| p as u32),
                ),
            ))
        })
        .collect()
}

/// The roster of a class as a kiosk projects it.
pub fn kiosk_roster(kiosk: &Mutex<Kiosk>, class: &str) -> Result<Roster> {
    let rows = kiosk.lock().expect("kiosk").roster(class)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.registration_id.to_string(),
                (r.status.to_string(), r.position),
            )
        })
        .collect())
}

/// A number written in letters (a, b, ... z, ba, ...): names take letters only.
pub fn letters(mut n: usize) -> String {
    let mut s = String::new();
    loop {
        s.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return s;
        }
    }
}

/// The seed of a randomized test: `BLISKO_SEED` to repeat a run, else a fresh one,
/// printed so a failure can be replayed.
pub fn seed() -> u64 {
    let seed: u64 = std::env::var("BLISKO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed {seed} (set BLISKO_SEED to repeat)");
    seed
}

/// A count from an environment variable (iterations, seconds), else `default`: the
/// defaults keep CI short, the variables make long runs.
pub fn env_count(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// A number from /proc/PID/status (memory lines are in KiB).
pub fn process_status_value(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time a process has used so far (user + system), in seconds, from /proc.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}
