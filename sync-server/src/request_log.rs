//! One log line per request, at info level: its id, method, route, status and latency.
//!
//! The route is the pattern that matched (`/office/persons/{id}`), never the path as
//! sent: no id, no query string (a search for a resident's name), no set-up token ever
//! reaches the log. A request that matched no route is logged as `unmatched`. Every
//! answer carries its id in `x-request-id`; an id sent by a proxy in front is kept when
//! it is short and plain, replaced otherwise (a header is the sender's text).

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id kept from a proxy.
const MAX_ID_LEN: usize = 64;

/// `router` with its requests logged and given ids.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    let id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        id = %id,
                        method = %request.method(),
                        route = %route,
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                )
                // The response line carries the status already; no second line for 5xx.
                .on_failure(()),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_odd_request_id))
}

/// Drop an incoming request id that is long or holds anything but letters, digits,
/// `-`, `_` and `.`, so that a new one is made.
async fn drop_odd_request_id(mut request: Request) -> Request {
    let plain = request.headers().get(&REQUEST_ID).is_none_or(|v| {
        let v = v.as_bytes();
        !v.is_empty()
            && v.len() <= MAX_ID_LEN
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !plain {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}
