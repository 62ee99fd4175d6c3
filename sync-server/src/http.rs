//! HTTP: the sync API kiosks call. Bodies are CBOR compressed with zstd (see
//! docs/sync-protocol.md); errors are small JSON objects with a stable code.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Bytes, HttpBody};
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use blisko_shared::sync::{
    self, CONTENT_TYPE, EnrollRequest, ErrorBody, MAX_BODY_BYTES, MAX_DECOMPRESSED_BYTES,
    PROTOCOL_HEADER, PROTOCOL_VERSION, SyncRequest,
};

use sha2::{Digest, Sha256};

use crate::central::{Central, CentralError};
use crate::limits::{FailureLimit, KnownCredentials, Limits, RateLimit, retry_after_seconds};
use crate::metrics::{Metrics, SyncOutcome};
use crate::read_rounds::{ReadRounds, Served};
use crate::sync_queue::SyncQueue;

/// Reader connections serving read-only sync rounds beside the writer: a few per core
/// keep the cores busy while some wait for the disk or the database.
const READERS: usize = 4;

/// Largest enrollment request after decompression: a code and a version need far less,
/// and an address without a credential gets no more work than that.
const MAX_ENROLL_DECOMPRESSED_BYTES: usize = 16 * 1024;

/// Shared by all requests. The store is one SQLite connection; requests take turns, on a
/// blocking thread so the async runtime stays free.
#[derive(Clone)]
pub struct AppState {
    central: Arc<tokio::sync::Mutex<Central>>,
    /// Sync rounds that only read are served here, beside the writer.
    read_rounds: Arc<ReadRounds>,
    /// Sync rounds that write go through here, many to a transaction (group commit).
    sync_rounds: SyncQueue,
    pub limits: Arc<ApiLimits>,
    /// The counters `/metrics` shows.
    pub metrics: Arc<Metrics>,
    pub sms: Sms,
}

/// The SMS sender's settings and gateway (none configured: notices wait in the outbox).
#[derive(Clone)]
pub struct Sms {
    pub config: Arc<crate::notices::sender::SmsConfig>,
    pub gateway: Option<Arc<dyn crate::notices::gateway::Gateway>>,
}

impl AppState {
    /// `synced` are the digests of the credentials that have synced before
    /// ([`Central::synced_credentials`]).
    pub fn new(central: Central, limits: Limits, synced: Vec<Vec<u8>>, sms: Sms) -> AppState {
        let read_rounds = Arc::new(central.read_rounds(READERS));
        let central = Arc::new(tokio::sync::Mutex::new(central));
        let metrics = Arc::new(Metrics::new());
        AppState {
            sms,
            read_rounds,
            sync_rounds: SyncQueue::start(Arc::clone(&central), metrics.sync_batches()),
            central,
            limits: Arc::new(ApiLimits::new(limits, synced)),
            metrics,
        }
    }

    /// Run `f` on the store on a blocking thread once it is this request's turn. The
    /// turn is awaited here, so a waiting request is a parked task, not a blocked thread:
    /// with hundreds of kiosks syncing at once, one blocking thread works and the others
    /// wait in the queue (a blocking mutex held one thread, and its stack, per waiter).
    /// A panic in `f` releases the store (its transaction rolls back) instead of
    /// poisoning it for every later request.
    pub async fn with_central<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Central) -> R + Send + 'static,
    ) -> Result<R, tokio::task::JoinError> {
        let mut central = Arc::clone(&self.central).lock_owned().await;
        // The request's span goes along, so what `f` logs carries the request's id.
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| f(&mut central))).await
    }
}

/// Who a sync request is counted against: the credential it presents (as a digest, so
/// no secret is kept), or its address when it presents none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SyncKey {
    Credential(Vec<u8>),
    Address(IpAddr),
}

/// The kiosk API's rate limits (see `crate::limits`).
pub struct ApiLimits {
    sync: RateLimit<SyncKey>,
    enroll_failures: FailureLimit<IpAddr>,
    /// Refused credentials and unreadable sync bodies, per address; known credentials
    /// pass it.
    auth_failures: FailureLimit<IpAddr>,
    known: KnownCredentials,
    /// Bodies being decompressed and decoded: each may take up to
    /// `MAX_DECOMPRESSED_BYTES` of memory and a core, so only so many at once.
    decoding: tokio::sync::Semaphore,
}

impl ApiLimits {
    pub fn new(limits: Limits, synced: Vec<Vec<u8>>) -> ApiLimits {
        ApiLimits {
            known: KnownCredentials::new(synced),
            decoding: tokio::sync::Semaphore::new(limits.concurrent_decodes.get() as usize),
            sync: RateLimit::new(limits.sync_per_minute, limits.sync_burst),
            enroll_failures: FailureLimit::new(
                limits.enroll_failures.get() as usize,
                limits.enroll_window,
            ),
            auth_failures: FailureLimit::new(
                limits.auth_failures.get() as usize,
                Duration::from_secs(60),
            ),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/api/v1/enroll", post(enroll))
        .route("/api/v1/sync", post(sync_round))
        .merge(crate::office::router())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    crate::request_log::layer(routes).with_state(state)
}

/// `200 ok` when both database files answer a query, `503` otherwise (the reason goes
/// to the log, not to the caller).
async fn health(State(state): State<AppState>) -> Response {
    let answer = state.with_central(|central| central.health()).await;
    let failure = match answer {
        Ok(Ok(())) => return (StatusCode::OK, "ok").into_response(),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    tracing::error!(error = %failure, "health check failed");
    (StatusCode::SERVICE_UNAVAILABLE, "store unavailable").into_response()
}

/// The Prometheus page: counters since the start, gauges read from the store now.
async fn metrics(State(state): State<AppState>) -> Response {
    let metrics = Arc::clone(&state.metrics);
    let page = state
        .with_central(move |central| {
            let gauges = central.gauges(jiff::Timestamp::now())?;
            metrics
                .render(&gauges)
                .map_err(|e| CentralError::Internal(format!("encode the metrics: {e}")))
        })
        .await;
    match page {
        Ok(Ok(page)) => {
            ([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], page).into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "metrics could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics could not be read");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An error answer: status, stable code, and a sentence.
pub struct ApiError {
    status: StatusCode,
    code: String,
    message: String,
    /// Seconds, for `429 rate_limited`.
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// `429 rate_limited` with the wait in a Retry-After header and in the sentence.
    fn rate_limited(what: &str, wait: Duration) -> Self {
        let seconds = retry_after_seconds(wait);
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("{what}; try again in {seconds} s"),
            )
        }
    }
}

impl From<CentralError> for ApiError {
    fn from(e: CentralError) -> Self {
        let status = match &e {
            CentralError::Unauthorized
            | CentralError::Revoked
            | CentralError::BadEnrollmentCode => StatusCode::UNAUTHORIZED,
            CentralError::Forbidden(_) => StatusCode::FORBIDDEN,
            CentralError::BadRequest(_) | CentralError::Refused { .. } => StatusCode::BAD_REQUEST,
            CentralError::NotFound(_) => StatusCode::NOT_FOUND,
            CentralError::Store(_) | CentralError::Document(_) => {
                tracing::error!(error = %e, "internal error");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            // `Busy` comes only from `serve` starting, never from a request.
            CentralError::Internal(_) | CentralError::Busy(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "internal error; nothing was changed".to_owned()
        } else {
            e.to_string()
        };
        ApiError::new(status, e.code(), message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                code: self.code,
                message: self.message,
            }),
        )
            .into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}

fn check_protocol(headers: &HeaderMap) -> Result<(), ApiError> {
    let version = headers
        .get(PROTOCOL_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u32>().ok());
    match version {
        Some(PROTOCOL_VERSION) => Ok(()),
        Some(other) => Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "unsupported_protocol",
            format!(
                "this server speaks sync protocol {PROTOCOL_VERSION}, the kiosk sent {other}: please update the kiosk"
            ),
        )),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_protocol",
            format!("the {PROTOCOL_HEADER} header is required"),
        )),
    }
}

/// The request body, or the reason it could not be read, as an error body like the others
/// (axum's own answer to an oversized body is plain text). Read only once the request has
/// passed its checks: a refused one never has its body read.
async fn read_body(request: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            let status = rejection.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    status,
                    "too_large",
                    format!("body larger than {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::new(status, "malformed", rejection.body_text())
            }
        })
}

/// Decompress and decode a body, inflating at most `limit` bytes, on a blocking thread
/// once one of the few decoding turns is free (a request waits for it, it is not
/// refused).
async fn decode_body<T: for<'de> serde::Deserialize<'de> + Send + 'static>(
    state: &AppState,
    body: Bytes,
    limit: usize,
) -> Result<T, ApiError> {
    let _turn =
        state.limits.decoding.acquire().await.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
        })?;
    let decoded = tokio::task::spawn_blocking(move || sync::decode_within(&body, limit))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    decoded.map_err(|e| match e {
        sync::CodecError::TooLarge { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
        }
        _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed", e.to_string()),
    })
}

fn encoded<T: serde::Serialize>(message: &T) -> Result<Response, ApiError> {
    let body = sync::encode(message)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, CONTENT_TYPE),
            (header::CONTENT_ENCODING, "zstd"),
        ],
        body,
    )
        .into_response())
}

async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&mut Central) -> Result<T, CentralError> + Send + 'static,
) -> Result<T, ApiError> {
    state
        .with_central(move |central| {
            crate::central::contain_panics(|| f(central)).map_err(ApiError::from)
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
}

async fn enroll(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    // Refused before the code is even looked at, so a guesser learns nothing while
    // limited, not even from a right code.
    let limits = state.limits.clone();
    if let Some(wait) = limits.enroll_failures.retry_after(&peer.ip()) {
        return Err(ApiError::rate_limited(
            "too many wrong enrollment codes from this address",
            wait,
        ));
    }
    check_protocol(&headers)?;
    // Nobody is known yet: the body may inflate only to what a code needs, and one that
    // cannot be read counts like a wrong code.
    let decoded = match read_body(request).await {
        Ok(body) => decode_body::<EnrollRequest>(&state, body, MAX_ENROLL_DECOMPRESSED_BYTES).await,
        Err(e) => Err(e),
    };
    let request = decoded.inspect_err(|_| limits.enroll_failures.record(&peer.ip()))?;
    let response = blocking(&state, move |c| c.enroll(&request)).await;
    if response
        .as_ref()
        .is_err_and(|e| e.code == CentralError::BadEnrollmentCode.code())
    {
        limits.enroll_failures.record(&peer.ip());
    }
    encoded(&response?)
}

/// Whether a refusal is of the credential itself.
fn refused_credential(e: &ApiError) -> bool {
    e.code == CentralError::Unauthorized.code() || e.code == CentralError::Revoked.code()
}

/// A sync round, counted for `/metrics` by its result, its time and its bytes.
async fn sync_round(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let started = Instant::now();
    let answer = sync_answer(&state, peer, &headers, request).await;
    let outcome = match &answer {
        Ok(_) => SyncOutcome::Ok,
        Err(e) if e.status.is_server_error() => SyncOutcome::Error(e.code.clone()),
        Err(e) => SyncOutcome::Refused(e.code.clone()),
    };
    let response = answer.into_response();
    let bytes = response.body().size_hint().exact().unwrap_or(0);
    state
        .metrics
        .sync_answered(outcome, started.elapsed(), bytes);
    response
}

/// A sync round's answer. Every check that costs little comes first, and the body is
/// read and decoded only for a credential the store accepts: rate limits, the protocol,
/// the credential, then at most `MAX_DECOMPRESSED_BYTES` of decompression in one of the few
/// decoding turns, and only then the store's sync.
async fn sync_answer(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    request: Request,
) -> Result<Response, ApiError> {
    // A missing credential is checked (and audited) like a wrong one.
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default();
    let digest = Sha256::digest(token.as_bytes()).to_vec();
    let limits = state.limits.clone();
    // Counted before any work (the store, the body), so a flood costs next to nothing.
    // A credential that has synced before is not held to its address's refusals: made-up
    // tokens sent from behind the same NAT do not lock real kiosks out.
    let known = !token.is_empty() && limits.known.contains(&digest);
    if !known && let Some(wait) = limits.auth_failures.retry_after(&peer.ip()) {
        return Err(ApiError::rate_limited(
            "too many refused credentials or unreadable bodies from this address",
            wait,
        ));
    }
    let key = if token.is_empty() {
        SyncKey::Address(peer.ip())
    } else {
        SyncKey::Credential(digest.clone())
    };
    if let Err(wait) = limits.sync.check(&key) {
        return Err(ApiError::rate_limited(
            "too many sync requests with this credential",
            wait,
        ));
    }
    check_protocol(headers)?;
    // The credential first: an unknown one never costs a decompression. One that synced
    // before (and was not refused since) goes straight on; it is checked again in the
    // round, where a revocation made meanwhile is honoured. Any other is checked on a
    // reader, and only one the reader does not accept goes to the writer (which audits
    // a refusal).
    if !known && !state.read_rounds.accepts(token.clone()).await {
        let presented = token.clone();
        let authenticated = blocking(state, move |c| c.authenticate(&presented).map(|_| ())).await;
        authenticated.inspect_err(|e| {
            if refused_credential(e) {
                limits.auth_failures.record(&peer.ip());
                limits.known.remove(&digest);
            }
        })?;
    }
    let decoded = match read_body(request).await {
        Ok(body) => {
            state.metrics.sync_request_read(body.len() as u64);
            decode_body::<SyncRequest>(state, body, MAX_DECOMPRESSED_BYTES).await
        }
        Err(e) => Err(e),
    };
    // The body of an authenticated kiosk is read only after its credential passed: one
    // that cannot be read is refused (never inflated past the cap), and it does not count
    // against the address or the kiosk's standing. On a branch's poor line uploads are cut
    // all the time, and kiosks behind one address must not lock each other out for that;
    // a kiosk that sends garbage on purpose is held by its credential's rate limit.
    let request = decoded?;
    // Again, in the round's own transaction: a revocation in between is honoured.
    let response = match state.read_rounds.run(token, request).await {
        Ok(Served::Answered(response)) => {
            state.metrics.sync_read();
            Ok(response)
        }
        Ok(Served::ToWriter(token, request)) => state.sync_rounds.run(token, request).await,
        Err(e) => Err(e),
    }
    .map_err(ApiError::from);
    match &response {
        Ok(_) => limits.known.insert(&digest),
        Err(e) if refused_credential(e) => {
            limits.auth_failures.record(&peer.ip());
            limits.known.remove(&digest);
        }
        Err(_) => {}
    }
    encoded(&response?)
}
