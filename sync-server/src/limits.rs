//! Rate limits: how often a kiosk may sync, and how many wrong enrollment codes,
//! refused credentials, unreadable bodies or office passwords an address (or a login) may
//! send before it has to wait.
//!
//! Two kinds, for two purposes. Sync is limited by request rate per credential (GCRA,
//! the `governor` crate): a burst for a kiosk catching up, then a steady rate, so a
//! runaway or hostile client cannot monopolise the server. Guessing secrets (enrollment
//! codes, passwords) is limited by *failures* in a sliding window: a right code or
//! password is never the problem, so installing many kiosks from one office is never
//! slowed down, while a guesser is stopped after a few tries.
//!
//! Credentials that have synced successfully are [`KnownCredentials`]: the per-address
//! limit on refused credentials does not apply to them, so an attacker behind the same
//! address (a NAT) as real kiosks cannot lock those kiosks out with made-up tokens.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Every this many checks, keys that are idle again are forgotten (a flood of made-up
/// credentials or addresses must not grow memory without bound).
const FORGET_EVERY: u64 = 10_000;

/// The limits `blisko-server serve` applies (its options; the defaults are there).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sync rounds per minute per credential, after the burst.
    pub sync_per_minute: NonZeroU32,
    /// Sync rounds a credential may make at once (a catching-up kiosk's rounds).
    pub sync_burst: NonZeroU32,
    /// Wrong enrollment codes per address in the window.
    pub enroll_failures: NonZeroU32,
    pub enroll_window: Duration,
    /// Sync requests with a refused credential or an unreadable body per address in a
    /// minute (made-up tokens would otherwise each get a fresh sync allowance, and each
    /// refusal is audited; garbage would cost a decompression each).
    pub auth_failures: NonZeroU32,
    /// Request bodies decompressed and decoded at once; more wait their turn.
    pub concurrent_decodes: NonZeroU32,
}

/// Requests per key at a steady rate after a burst.
pub struct RateLimit<K: Hash + Eq + Clone> {
    inner: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

impl<K: Hash + Eq + Clone> RateLimit<K> {
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        RateLimit {
            inner: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            checks: AtomicU64::new(0),
        }
    }

    /// Let one request through, or say how long to wait before the next one would be.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            self.inner.retain_recent();
        }
        self.inner
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Failures per key in a sliding window; past the maximum, every attempt is refused until
/// the oldest failures leave the window.
pub struct FailureLimit<K: Hash + Eq + Clone> {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<K, Vec<Instant>>>,
    records: AtomicU64,
}

impl<K: Hash + Eq + Clone> FailureLimit<K> {
    pub fn new(max: usize, window: Duration) -> Self {
        FailureLimit {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
            records: AtomicU64::new(0),
        }
    }

    /// `Some(wait)` while the key is over its limit: how long until one more try is let in.
    pub fn retry_after(&self, key: &K) -> Option<Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let times = map.get_mut(key)?;
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() < self.max {
            return None;
        }
        // Times are in order: one more try once all but max-1 of them have expired.
        let oldest_counted = times[times.len() - self.max];
        Some(
            self.window
                .saturating_sub(now.duration_since(oldest_counted)),
        )
    }

    pub fn record(&self, key: &K) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if self.records.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            let now = Instant::now();
            map.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
        map.entry(key.clone()).or_default().push(Instant::now());
    }

    pub fn clear(&self, key: &K) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

/// Consecutive failures per key with a delay that grows with them: the first
/// `free_failures` cost nothing, then each further one makes the next try wait 1, 2, 4, …
/// seconds, at most `cap`. A success clears the key. Unlike [`FailureLimit`], a guesser
/// cannot lock the owner of a key out for long: the owner waits at most `cap`.
pub struct Backoff<K: Hash + Eq + Clone> {
    free_failures: u32,
    cap: Duration,
    /// Consecutive failures and the time of the last one.
    failures: Mutex<HashMap<K, (u32, Instant)>>,
    records: AtomicU64,
}

/// A key idle this long starts again from no failures (and is forgotten).
const BACKOFF_FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

impl<K: Hash + Eq + Clone> Backoff<K> {
    pub fn new(free_failures: u32, cap: Duration) -> Self {
        Backoff {
            free_failures,
            cap,
            failures: Mutex::new(HashMap::new()),
            records: AtomicU64::new(0),
        }
    }

    /// The wait after `failures` consecutive failures.
    pub fn delay_after(&self, failures: u32) -> Duration {
        match failures.checked_sub(self.free_failures + 1) {
            None => Duration::ZERO,
            Some(doublings) => Duration::from_secs(1u64 << doublings.min(32)).min(self.cap),
        }
    }

    /// `Some(wait)` while the key must still wait before its next try.
    pub fn retry_after(&self, key: &K) -> Option<Duration> {
        let map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let (failures, last) = map.get(key)?;
        let wait = self.delay_after(*failures).saturating_sub(last.elapsed());
        (!wait.is_zero()).then_some(wait)
    }

    /// One more failure; returns how many in a row the key has now.
    pub fn record(&self, key: &K) -> u32 {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if self.records.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            map.retain(|_, (_, last)| last.elapsed() < BACKOFF_FORGET_AFTER);
        }
        let entry = map.entry(key.clone()).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= BACKOFF_FORGET_AFTER {
            entry.0 = 0;
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = Instant::now();
        entry.0
    }

    pub fn clear(&self, key: &K) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

/// Digests of the credentials that have synced successfully. Only real kiosks get in
/// (after a sync the store accepted), so the set is as large as the fleet, whatever a
/// flood of made-up tokens does. A credential that is later refused, or sends a body that
/// cannot be read, is taken out again.
#[derive(Default)]
pub struct KnownCredentials {
    digests: Mutex<HashSet<Vec<u8>>>,
}

impl KnownCredentials {
    pub fn new(digests: impl IntoIterator<Item = Vec<u8>>) -> Self {
        KnownCredentials {
            digests: Mutex::new(digests.into_iter().collect()),
        }
    }

    pub fn contains(&self, digest: &[u8]) -> bool {
        let set = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        set.contains(digest)
    }

    pub fn insert(&self, digest: &[u8]) {
        let mut set = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        if !set.contains(digest) {
            set.insert(digest.to_vec());
        }
    }

    pub fn remove(&self, digest: &[u8]) {
        let mut set = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        set.remove(digest);
    }
}

/// Proxies whose `X-Forwarded-For` is believed (`serve --trusted-proxy`), set once at start.
static TRUSTED_PROXIES: OnceLock<Vec<IpAddr>> = OnceLock::new();

pub fn set_trusted_proxies(proxies: Vec<IpAddr>) {
    // Set once by `serve`; a second call (none today) keeps the first list.
    let _ = TRUSTED_PROXIES.set(proxies);
}

/// The address a request is counted against. The socket's peer, unless the peer is a
/// trusted proxy: then the right-most address in `X-Forwarded-For` that is not itself a
/// trusted proxy (the left part of the header is whatever the client wrote, so it is not
/// believed). Without `--trusted-proxy`, the header is ignored: anyone could send it.
pub fn client_address(peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = TRUSTED_PROXIES.get().map(Vec::as_slice).unwrap_or_default();
    client_behind(trusted, peer, headers)
}

fn client_behind(trusted: &[IpAddr], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| hop.trim().parse::<IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted.contains(hop))
        .unwrap_or(peer)
}

/// The Retry-After value: whole seconds, rounded up, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_limit_until_the_window_passes() {
        let limit = FailureLimit::new(2, Duration::from_secs(60));
        assert_eq!(limit.retry_after(&"a"), None);
        limit.record(&"a");
        assert_eq!(limit.retry_after(&"a"), None);
        limit.record(&"a");
        let wait = limit.retry_after(&"a").expect("limited after two failures");
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert_eq!(limit.retry_after(&"b"), None, "other keys are not limited");
        limit.clear(&"a");
        assert_eq!(limit.retry_after(&"a"), None);
    }

    #[test]
    fn backoff_grows_with_failures_is_capped_and_cleared() {
        let backoff = Backoff::new(3, Duration::from_secs(60));
        let delays: Vec<u64> = (1..=12).map(|n| backoff.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        for _ in 0..3 {
            backoff.record(&"a");
            assert_eq!(
                backoff.retry_after(&"a"),
                None,
                "the first failures are free"
            );
        }
        assert_eq!(backoff.record(&"a"), 4);
        let wait = backoff.retry_after(&"a").expect("waits after the fourth");
        assert!(wait <= Duration::from_secs(1) && wait > Duration::from_millis(500));
        assert_eq!(
            backoff.retry_after(&"b"),
            None,
            "other keys are not delayed"
        );
        backoff.clear(&"a");
        assert_eq!(backoff.retry_after(&"a"), None);
        assert_eq!(backoff.record(&"a"), 1, "a success starts the count again");
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            if let Ok(v) = v.parse() {
                h.insert("x-forwarded-for", v);
            }
            h
        };
        let proxy = ip("10.0.0.5");
        let trusted = [proxy, ip("10.0.0.6")];
        let sent = headers("198.51.100.1, 203.0.113.7");
        assert_eq!(
            client_behind(&[], proxy, &sent),
            proxy,
            "no proxies: the socket"
        );
        assert_eq!(
            client_behind(&trusted, ip("192.0.2.9"), &sent),
            ip("192.0.2.9"),
            "a peer that is not a proxy: its header is ignored"
        );
        assert_eq!(
            client_behind(&trusted, proxy, &sent),
            ip("203.0.113.7"),
            "the right-most address the proxy added"
        );
        assert_eq!(
            client_behind(&trusted, proxy, &headers("203.0.113.7, 10.0.0.6")),
            ip("203.0.113.7"),
            "proxies in a chain are skipped"
        );
        assert_eq!(
            client_behind(&trusted, proxy, &headers("not an address")),
            proxy
        );
        assert_eq!(client_behind(&trusted, proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn rate_limit_allows_the_burst_then_asks_to_wait() {
        let one = NonZeroU32::MIN;
        let limit = RateLimit::new(one, NonZeroU32::new(3).unwrap_or(one));
        for _ in 0..3 {
            assert_eq!(limit.check(&1), Ok(()));
        }
        let wait = limit.check(&1).expect_err("past the burst");
        assert!(wait > Duration::from_secs(30) && wait <= Duration::from_secs(60));
        assert_eq!(limit.check(&2), Ok(()), "keys are limited apart");
    }

    #[test]
    fn known_credentials_come_and_go() {
        let known = KnownCredentials::new([vec![1u8; 32]]);
        assert!(known.contains(&[1; 32]));
        assert!(!known.contains(&[2; 32]));
        known.insert(&[2; 32]);
        known.remove(&[1; 32]);
        assert!(!known.contains(&[1; 32]));
        assert!(known.contains(&[2; 32]));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
    }
}
