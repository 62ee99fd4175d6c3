//! Talking to the central server: enrollment, one full sync, and the background worker
//! the touch app runs. The wire format is in docs/sync-protocol.md; the messages are
//! shared with the server (`blisko_shared::sync`).

use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use blisko_shared::ids::BranchId;
use blisko_shared::seats::SeatStatus;
use blisko_shared::sync::{
    self as protocol, BRANCH_HEADER, CONTENT_TYPE, EnrollRequest, EnrollResponse, ErrorBody,
    PROTOCOL_HEADER, PROTOCOL_VERSION, SyncRequest, SyncResponse,
};

use crate::error::KioskError;
use crate::kiosk::{Kiosk, RegistrationReceipt, Result, WallClock};
use crate::store::StoreKey;

/// Sent with every request, so the office sees which kiosks run old software.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A sync stops after this many rounds even if the server keeps listing work; the next
/// sync goes on from the stored cursor.
const MAX_ROUNDS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("this kiosk is not enrolled with a server")]
    NotEnrolled,
    #[error("the server address {0:?} is not a valid http:// or https:// URL")]
    BadUrl(String),
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    #[error("the server's certificate is not trusted, nothing was sent: {0}")]
    Untrusted(String),
    #[error("the CA certificate is not usable: {0}")]
    BadCaCert(String),
    #[error("the server asks this kiosk to slow down ({message}); retry in {} s", retry_after.as_secs())]
    RateLimited {
        retry_after: Duration,
        message: String,
    },
    #[error("the server refused this kiosk's credential ({code}): {message}")]
    Unauthorized { code: String, message: String },
    /// The office revoked this kiosk: nothing is sent until it is enrolled again.
    #[error("the office revoked this kiosk: {0}")]
    Revoked(String),
    #[error("this kiosk's software is too old for the server: {0}")]
    UpdateRequired(String),
    #[error("the server refused the request ({status}, {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("the server's answer could not be read: {0}")]
    BadResponse(String),
}

impl SyncError {
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::NotEnrolled => "not_enrolled",
            SyncError::BadUrl(_) => "bad_server_url",
            SyncError::Unreachable(_) => "offline",
            SyncError::Untrusted(_) => "untrusted_server",
            SyncError::BadCaCert(_) => "bad_ca_cert",
            SyncError::RateLimited { .. } => "rate_limited",
            SyncError::Unauthorized { .. } => "unauthorized",
            SyncError::Revoked(_) => "revoked",
            SyncError::UpdateRequired(_) => "update_required",
            SyncError::Refused { .. } => "refused",
            SyncError::BadResponse(_) => "bad_response",
        }
    }

    /// Worth retrying later on its own (the network or the server may come back);
    /// the others need a person.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Unreachable(_) | SyncError::BadResponse(_) => true,
            SyncError::RateLimited { .. } => true,
            SyncError::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// How long the server asked the kiosk to wait (a 429's Retry-After).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// How long a revoked kiosk's worker sleeps unless asked to sync (a day: in effect, until
/// asked).
const REVOKED_WAIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The server's error code for a revoked kiosk's credential.
const REVOKED: &str = "revoked";

/// A 429 without a usable Retry-After still waits this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// rustls needs its cryptography chosen once per process: ring, as on the server.
/// Anything in this process that builds a reqwest client calls this first.
pub fn install_tls_provider() {
    // Err means a provider is installed already: the same one, or the host's choice.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The HTTP side of sync. Cheap to clone.
#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::blocking::Client,
    base: String,
    token: Option<String>,
    /// The kiosk's branch point, sent with each request (`BRANCH_HEADER`).
    branch: Option<BranchId>,
}

/// Bytes of one exchange (bodies as sent, compressed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    pub requests: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Microseconds spent waiting for the server's answers: from sending a request to
    /// holding its whole answer (the network, the server's work, and this thread's turn
    /// on the CPU once the answer is in; not the kiosk's own work on the round).
    pub waited_us: u64,
    /// The server's clock at its last answer (its `Date` header, ms since the epoch,
    /// whole seconds), to tell staff when this kiosk's clock is off.
    #[serde(skip)]
    pub server_clock_ms: Option<u64>,
}

impl SyncClient {
    /// A client for `base`. Over https it trusts the system's roots, or, given `ca_pem`
    /// (the office's own CA, given at enrollment), that CA alone.
    pub fn new(
        base: &str,
        token: Option<String>,
        ca_pem: Option<&str>,
    ) -> Result<SyncClient, SyncError> {
        let base = base.trim().trim_end_matches('/').to_owned();
        let scheme = reqwest::Url::parse(&base)
            .ok()
            .filter(|u| u.host().is_some())
            .map(|u| u.scheme().to_owned());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            return Err(SyncError::BadUrl(base));
        }
        install_tls_provider();
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(format!("blisko-kiosk/{APP_VERSION}"));
        if let Some(pem) = ca_pem {
            if scheme.as_deref() != Some("https") {
                return Err(SyncError::BadCaCert(format!(
                    "a CA certificate is for an https:// server, not {base}"
                )));
            }
            builder = builder.tls_certs_only(ca_certificates(pem)?);
        }
        let http = builder.build().map_err(|e| match ca_pem {
            Some(_) => SyncError::BadCaCert(describe(&e)),
            None => SyncError::Unreachable(describe(&e)),
        })?;
        Ok(SyncClient {
            http,
            base,
            token,
            branch: None,
        })
    }

    /// The client for an enrolled kiosk (with the CA it was enrolled with, if any).
    pub fn for_kiosk(kiosk: &Kiosk) -> Result<SyncClient> {
        let (url, token) = kiosk.server()?.ok_or(SyncError::NotEnrolled)?;
        let ca = kiosk.server_ca()?;
        Ok(SyncClient::new(&url, Some(token), ca.as_deref())?
            .for_branch(kiosk.identity().branch_id))
    }

    /// The same client, naming `branch` in each request, so that a load balancer in
    /// front of several server processes can send a branch point's kiosks to one.
    pub fn for_branch(mut self, branch: BranchId) -> SyncClient {
        self.branch = Some(branch);
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The same server with another credential, sharing this client's connections (and
    /// its one runtime thread): a program speaking for many kiosks at once (the load
    /// benchmark) needs no client, thread and connection pool of its own per kiosk.
    pub fn with_token(&self, token: Option<String>) -> SyncClient {
        SyncClient {
            http: self.http.clone(),
            base: self.base.clone(),
            token,
            branch: self.branch,
        }
    }

    fn post<T: Serialize, R: for<'de> serde::Deserialize<'de>>(
        &self,
        path: &str,
        message: &T,
        traffic: &mut Traffic,
    ) -> Result<R, SyncError> {
        let body = protocol::encode(message).map_err(|e| SyncError::BadResponse(e.to_string()))?;
        traffic.requests += 1;
        traffic.bytes_sent += body.len() as u64;
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(reqwest::header::CONTENT_ENCODING, "zstd")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(branch) = self.branch {
            request = request.header(BRANCH_HEADER, branch.to_string());
        }
        let sent = Instant::now();
        let response = request.send().map_err(|e| send_error(&e))?;
        let status = response.status();
        if let Some(at) = server_clock_ms(response.headers()) {
            traffic.server_clock_ms = Some(at);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response
            .bytes()
            .map_err(|e| SyncError::Unreachable(describe(&e)))?;
        traffic.bytes_received += bytes.len() as u64;
        traffic.waited_us += u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        if status.is_success() {
            return protocol::decode(&bytes).map_err(|e| SyncError::BadResponse(e.to_string()));
        }
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
            code: "http_error".into(),
            message: format!("HTTP {status}"),
        });
        Err(match status.as_u16() {
            401 if body.code == REVOKED => SyncError::Revoked(body.message),
            401 => SyncError::Unauthorized {
                code: body.code,
                message: body.message,
            },
            426 => SyncError::UpdateRequired(body.message),
            429 => SyncError::RateLimited {
                retry_after: retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
                message: body.message,
            },
            code => SyncError::Refused {
                status: code,
                code: body.code,
                message: body.message,
            },
        })
    }

    pub fn enroll(&self, code: &str) -> Result<EnrollResponse, SyncError> {
        let request = EnrollRequest {
            code: code.to_owned(),
            app_version: APP_VERSION.to_owned(),
        };
        self.post("/api/v1/enroll", &request, &mut Traffic::default())
    }

    pub fn round(
        &self,
        request: &SyncRequest,
        traffic: &mut Traffic,
    ) -> Result<SyncResponse, SyncError> {
        self.post("/api/v1/sync", request, traffic)
    }

    /// Whether the server's port answers at all: a cheap check while offline.
    pub fn reachable(&self) -> bool {
        let Ok(url) = reqwest::Url::parse(&self.base) else {
            return false;
        };
        // Name resolution included: no network often means no DNS either.
        let Ok(addrs) = url.socket_addrs(|| None) else {
            return false;
        };
        addrs
            .into_iter()
            .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
    }
}

/// The time in an HTTP `Date` header (`Sun, 23 Nov 2026 18:00:00 GMT`), in ms since the
/// epoch; `None` when missing or unreadable (the kiosk then just cannot tell).
fn server_clock_ms(headers: &reqwest::header::HeaderMap) -> Option<u64> {
    let text = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(text)
        .ok()?;
    u64::try_from(at.as_millisecond()).ok()
}

/// The CA certificates in a PEM text (one or more), refused when there is none.
pub fn ca_certificates(pem: &str) -> Result<Vec<reqwest::Certificate>, SyncError> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| SyncError::BadCaCert(describe(&e)))?;
    if certs.is_empty() {
        return Err(SyncError::BadCaCert(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        ));
    }
    Ok(certs)
}

/// A request that got no answer: a certificate the kiosk does not trust (the TLS
/// handshake stopped before any request was sent), or the network.
fn send_error(e: &reqwest::Error) -> SyncError {
    match std::error::Error::source(e).and_then(tls_error) {
        Some(
            tls @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented),
        ) => SyncError::Untrusted(tls.to_string()),
        _ => SyncError::Unreachable(describe(e)),
    }
}

/// The rustls error behind a failed connection. The TLS layer wraps it in io::Errors
/// (nested), whose `source()` skips the wrapped error, so those are opened by hand.
fn tls_error<'a>(mut e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        e = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref()?,
            None => e.source()?,
        };
    }
}

/// reqwest's top-level message hides the cause ("error sending request"); add it.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Trade a one-time enrollment code for a credential and set up the kiosk in `dir`, its
/// store encrypted with `key`, on the wall clock `clock`. `ca_pem`, the office's CA
/// certificate, is kept in the store for every later sync. A folder already enrolled
/// (a revoked kiosk, say) is enrolled again as the same kiosk: see [`reenroll`].
pub fn enroll(
    dir: &Path,
    server: &str,
    code: &str,
    ca_pem: Option<&str>,
    key: &StoreKey,
    clock: WallClock,
) -> Result<Kiosk> {
    if dir.join(crate::store::DB_FILE).exists() {
        match Kiosk::open_with_clock(dir, key, clock.clone()) {
            Ok(mut kiosk) => {
                reenroll(&mut kiosk, server, code, ca_pem)?;
                return Ok(kiosk);
            }
            // A store whose set-up never completed is set up below.
            Err(KioskError::NotSetUp(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let client = SyncClient::new(server, None, ca_pem)?;
    let enrolled = client.enroll(code)?;
    Kiosk::setup_enrolled(dir, &enrolled, client.base_url(), ca_pem, key, clock)
}

/// Enroll an enrolled kiosk again with a new code the office issued for it (`kiosk
/// reenroll`): it keeps everything it holds, takes the new credential, and is back in
/// service; its next sync delivers what it acknowledged. The code is redeemed at the
/// server first; a code for another kiosk is refused here and changes nothing in the
/// folder. A standalone kiosk is refused before anything is sent.
pub fn reenroll(kiosk: &mut Kiosk, server: &str, code: &str, ca_pem: Option<&str>) -> Result<()> {
    if kiosk.identity().mode != crate::kiosk::KioskMode::Enrolled {
        return Err(KioskError::AlreadySetUp(kiosk.dir().display().to_string()));
    }
    let client = SyncClient::new(server, None, ca_pem)?;
    let enrolled = client.enroll(code)?;
    kiosk.take_new_credential(&enrolled, client.base_url(), ca_pem)
}

/// After a registration landed on the waiting list of an online kiosk: sync at once, so
/// the server can grant a seat from its shared pool, and report the state after that.
/// The registration is already durable; offline, it simply stays where it is. One that
/// only waited for the pool (`awaiting_pool`: the class is full here) and did not get a
/// seat is withdrawn, and the answer is that the class is full.
pub fn claim_pool_seat(
    kiosk: &Mutex<Kiosk>,
    receipt: RegistrationReceipt,
) -> Result<RegistrationReceipt> {
    let client = SyncClient::for_kiosk(&lock(kiosk))?;
    lock(kiosk).await_answer(receipt.registration_id);
    let synced = sync_once(kiosk, &client);
    if let Err(e) = &synced {
        tracing::info!(code = e.code(), "no pool seat claimed");
    }
    let row = lock(kiosk).store().registration(receipt.registration_id);
    let seated = matches!(&row, Ok(Some(r)) if r.status == SeatStatus::Confirmed);
    lock(kiosk).answer_shown(receipt.registration_id, seated);
    if seated && synced.is_ok() {
        // The seat goes on the screen now: the server hears it at once and withdraws the
        // SMS it holds for it (a failure leaves the report to the next sync).
        if let Err(e) = sync_once(kiosk, &client) {
            tracing::info!(
                code = e.code(),
                "the seat shown is reported at the next sync"
            );
        }
    }
    let receipt = match row? {
        Some(row) => RegistrationReceipt {
            status: row.status,
            position: row.position,
            ..receipt
        },
        None => receipt,
    };
    if receipt.awaiting_pool {
        if receipt.status == SeatStatus::Confirmed {
            return Ok(RegistrationReceipt {
                awaiting_pool: false,
                ..receipt
            });
        }
        lock(kiosk).withdraw_pool_attempt(receipt.registration_id)?;
        if synced.is_ok() {
            // Tell the other kiosks at once that the place is not taken.
            let _ = sync_once(kiosk, &client);
        }
        return Err(KioskError::ClassFull {
            title: receipt.class_title,
        });
    }
    Ok(receipt)
}

/// Register at an online kiosk: the registration is durable first; if it waits (or the
/// class is full here), one sync asks the server's pool for a seat. Offline it stays on
/// the waiting list, or, when the list has no room, the class is full.
pub fn register(
    kiosk: &Mutex<Kiosk>,
    form: &crate::kiosk::RegistrationForm,
) -> Result<RegistrationReceipt> {
    let receipt = lock(kiosk).register(form)?;
    let online = lock(kiosk).server()?.is_some();
    if receipt.status == SeatStatus::Waitlisted && online {
        claim_pool_seat(kiosk, receipt)
    } else {
        Ok(receipt)
    }
}

/// What a whole sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub rounds: u64,
    pub pushed_docs: u64,
    pub pulled_docs: u64,
    pub changed_docs: u64,
    #[serde(flatten)]
    pub traffic: Traffic,
    /// Local changes still waiting for the server (0 after a complete sync).
    pub pending_changes: u64,
    /// Whether the sync stopped with work left (it goes on next time).
    pub incomplete: bool,
    /// Residents whose details this kiosk dropped after the sync (retention).
    pub dropped_personal: u64,
}

pub(crate) fn lock(kiosk: &Mutex<Kiosk>) -> MutexGuard<'_, Kiosk> {
    // A panic while holding the kiosk cannot leave the store half-written (SQLite
    // transactions roll back), so a poisoned lock is still safe to use.
    kiosk.lock().unwrap_or_else(|p| p.into_inner())
}

/// One complete sync: rounds until nothing is left to push, list or pull. The kiosk is
/// locked only to prepare and to apply each round, never during the network wait, so
/// the touch screen keeps answering.
pub fn sync_once(kiosk: &Mutex<Kiosk>, client: &SyncClient) -> Result<SyncReport> {
    let mut report = SyncReport::default();
    let result = sync_rounds(kiosk, client, &mut report);
    let error = result.as_ref().err().map(|e| e.code().to_owned());
    if let Err(e) = &result {
        tracing::info!(code = e.code(), "sync failed");
    }
    if let Err(KioskError::Sync(SyncError::Revoked(_))) = &result {
        // Out of service from now on, across restarts, until enrolled again.
        lock(kiosk).mark_revoked()?;
    }
    // Even a refused sync tells the server's time.
    lock(kiosk).record_sync(error.as_deref(), report.traffic.server_clock_ms)?;
    result.map(|()| report)
}

fn sync_rounds(kiosk: &Mutex<Kiosk>, client: &SyncClient, report: &mut SyncReport) -> Result<()> {
    let mut more = true;
    while more && report.rounds < MAX_ROUNDS as u64 {
        let plan = lock(kiosk).prepare_sync(APP_VERSION)?;
        let response = client.round(&plan.request, &mut report.traffic)?;
        let outcome = lock(kiosk).apply_sync(plan, response)?;
        report.rounds += 1;
        report.pushed_docs += outcome.pushed as u64;
        report.pulled_docs += outcome.pulled as u64;
        report.changed_docs += outcome.changed as u64;
        more = outcome.more;
    }
    report.incomplete = more;
    report.pending_changes = lock(kiosk).store().pending_changes()?;
    // Once the server holds everything, details past retention can go.
    if !more {
        report.dropped_personal = lock(kiosk).apply_retention()? as u64;
    }
    Ok(())
}

/// What the touch app shows about sync: calm, never an alarm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SyncPhase {
    #[default]
    Idle,
    Syncing,
    /// The last attempt failed; the next one is scheduled.
    Offline,
}

#[derive(Debug, Clone, Default)]
pub struct SyncState {
    pub phase: SyncPhase,
    pub last_success: Option<Instant>,
    pub last_error: Option<String>,
    pub last_report: Option<SyncReport>,
    pub failures: u32,
    /// The wait the server asked for with the last failure (429 Retry-After).
    pub retry_after: Option<Duration>,
    /// The office revoked this kiosk: no more syncs on the timer, only when asked
    /// ("sync now"), until it is enrolled again.
    pub revoked: bool,
}

/// Timing of the background worker.
#[derive(Debug, Clone, Copy)]
pub struct SyncSchedule {
    /// Between successful syncs.
    pub interval: Duration,
    /// First wait after a failure; doubles with each further failure.
    pub backoff_start: Duration,
    pub backoff_max: Duration,
    /// While waiting out a back-off, how often to check whether the server answers
    /// again (a TCP connect, no data), to sync as soon as the network is back.
    pub probe_every: Duration,
}

impl Default for SyncSchedule {
    fn default() -> Self {
        SyncSchedule {
            interval: Duration::from_secs(60),
            backoff_start: Duration::from_secs(5),
            backoff_max: Duration::from_secs(15 * 60),
            probe_every: Duration::from_secs(15),
        }
    }
}

impl SyncSchedule {
    /// The wait after `failures` failures in a row, with ±20% jitter so that many kiosks
    /// coming back at once do not hit the server together.
    pub fn backoff(&self, failures: u32) -> Duration {
        let exp = self
            .backoff_start
            .saturating_mul(1u32 << failures.saturating_sub(1).min(16));
        let base = exp.min(self.backoff_max);
        let jitter = rand::random_range(0.8..1.2);
        base.mul_f64(jitter)
    }

    /// The wait before the next attempt, and whether to try earlier as soon as the
    /// server's port answers. A server that asked the kiosk to wait (429) answers
    /// already: then the kiosk waits at least as long as asked, without probing.
    pub fn next_wait(&self, failures: u32, retry_after: Option<Duration>) -> (Duration, bool) {
        match (failures, retry_after) {
            (0, _) => (self.interval, false),
            (n, Some(asked)) => (self.backoff(n).max(asked), false),
            (n, None) => (self.backoff(n), true),
        }
    }
}

struct Shared {
    state: Mutex<SyncState>,
    wake: Condvar,
    woken: Mutex<bool>,
    stop: AtomicBool,
}

/// The app's background sync: a thread that syncs on a timer, backs off exponentially
/// after failures, syncs as soon as the server answers again, and on request.
pub struct BackgroundSync {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundSync {
    pub fn start(kiosk: Arc<Mutex<Kiosk>>, client: SyncClient, schedule: SyncSchedule) -> Self {
        // A kiosk known to be revoked does not knock again on its own at start.
        let revoked = lock(&kiosk).is_revoked().unwrap_or(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(SyncState {
                revoked,
                last_error: revoked.then(|| "revoked".to_owned()),
                ..SyncState::default()
            }),
            wake: Condvar::new(),
            woken: Mutex::new(!revoked),
            stop: AtomicBool::new(false),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("blisko-sync".into())
            .spawn(move || run_worker(&worker, &kiosk, &client, schedule))
            .ok();
        BackgroundSync { shared, thread }
    }

    /// Sync now (the staff's "sync now" button, or right after a registration).
    pub fn sync_now(&self) {
        let mut woken = self.shared.woken.lock().unwrap_or_else(|p| p.into_inner());
        *woken = true;
        self.shared.wake.notify_all();
    }

    pub fn state(&self) -> SyncState {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Drop for BackgroundSync {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.sync_now();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run_worker(shared: &Shared, kiosk: &Mutex<Kiosk>, client: &SyncClient, schedule: SyncSchedule) {
    let set = |f: &dyn Fn(&mut SyncState)| {
        f(&mut shared.state.lock().unwrap_or_else(|p| p.into_inner()));
    };
    loop {
        // Wait for the timer, a request, or (while backing off) the server answering.
        let (failures, retry_after, revoked) = shared
            .state
            .lock()
            .map(|s| (s.failures, s.retry_after, s.revoked))
            .unwrap_or_default();
        let (wait, probe) = schedule.next_wait(failures, retry_after);
        // Revoked: every attempt would be refused (and counted against the address), so
        // only a request wakes the worker.
        let (wait, probe) = if revoked {
            (REVOKED_WAIT, false)
        } else {
            (wait, probe)
        };
        let deadline = Instant::now() + wait;
        loop {
            if shared.stop.load(Ordering::SeqCst) {
                return;
            }
            let mut woken = shared.woken.lock().unwrap_or_else(|p| p.into_inner());
            if *woken {
                *woken = false;
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let slice = if probe {
                schedule.probe_every.min(deadline - now)
            } else {
                deadline - now
            };
            let (guard, _) = shared
                .wake
                .wait_timeout(woken, slice)
                .unwrap_or_else(|p| p.into_inner());
            drop(guard);
            if probe && Instant::now() < deadline && client.reachable() {
                break;
            }
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        set(&|s| s.phase = SyncPhase::Syncing);
        match sync_once(kiosk, client) {
            Ok(report) => set(&|s| {
                s.phase = SyncPhase::Idle;
                s.last_success = Some(Instant::now());
                s.last_error = None;
                s.last_report = Some(report);
                s.failures = 0;
                s.retry_after = None;
                s.revoked = false;
            }),
            Err(e) => {
                let (code, retry_after) = match &e {
                    KioskError::Sync(e) => (e.code(), e.retry_after()),
                    other => (other.code(), None),
                };
                set(&|s| {
                    s.phase = SyncPhase::Offline;
                    s.last_error = Some(code.to_owned());
                    s.failures = s.failures.saturating_add(1);
                    s.retry_after = retry_after;
                    // Sticky: only a new credential (a new worker) ends it.
                    s.revoked |= code == "revoked";
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_asking_to_wait_is_waited_for_without_probing() {
        let schedule = SyncSchedule::default();
        assert_eq!(schedule.next_wait(0, None), (schedule.interval, false));
        let (wait, probe) = schedule.next_wait(1, None);
        assert!(probe && wait < Duration::from_secs(10));
        let asked = Duration::from_secs(120);
        let (wait, probe) = schedule.next_wait(1, Some(asked));
        assert!(!probe && wait >= asked, "{wait:?}");
        // A long back-off is not shortened by a short Retry-After.
        let (wait, _) = schedule.next_wait(12, Some(Duration::from_secs(1)));
        assert!(wait >= schedule.backoff_max.mul_f64(0.8));
    }

    #[test]
    fn a_ca_must_be_a_certificate_for_an_https_server() {
        assert!(matches!(
            SyncClient::new("https://example.test", None, Some("not a certificate")),
            Err(SyncError::BadCaCert(_))
        ));
        assert!(matches!(ca_certificates(""), Err(SyncError::BadCaCert(_))));
    }
}
