//! `/metrics`: counters kept in memory since the server started, and gauges read from the
//! store at scrape time, in Prometheus's text format (version 0.0.4).
//!
//! Only counts, sizes and stable codes: no kiosk id, no person, no name, no address, so
//! the page may be scraped without a log-in (see README, monitoring).

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::central::health::StoreGauges;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SyncResult {
    /// "ok", "refused" (the kiosk's request was refused) or "error" (the server failed).
    result: &'static str,
    /// The error code of the answer ("none" when ok).
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AgeLabel {
    age: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FileLabel {
    file: &'static str,
}

/// What a sync round came to, for the counters.
pub enum SyncOutcome {
    Ok,
    /// The kiosk's request was refused, with this error code.
    Refused(String),
    /// The server failed, with this error code.
    Error(String),
}

/// What an office log-in came to.
#[derive(Debug, Clone, Copy)]
pub enum LoginOutcome {
    Ok,
    Refused,
    /// Not even checked: the login or the address waits after failures.
    Limited,
}

impl LoginOutcome {
    const ALL: [LoginOutcome; 3] = [
        LoginOutcome::Ok,
        LoginOutcome::Refused,
        LoginOutcome::Limited,
    ];

    fn label(self) -> &'static str {
        match self {
            LoginOutcome::Ok => "ok",
            LoginOutcome::Refused => "refused",
            LoginOutcome::Limited => "limited",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    syncs: Family<SyncResult, Counter>,
    sync_seconds: Histogram,
    sync_request_bytes: Counter,
    sync_response_bytes: Counter,
    sync_reads: Counter,
    sync_batches: Counter,
    office_logins: Family<ResultLabel, Counter>,
    enrolled_kiosks: Gauge,
    kiosks_by_sync_age: Family<AgeLabel, Gauge>,
    compensation_open: Gauge,
    store_bytes: Family<FileLabel, Gauge>,
    sms_notices: Family<StatusLabel, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("blisko");
        let syncs = Family::<SyncResult, Counter>::default();
        registry.register(
            "syncs",
            "Sync rounds answered, by result (ok, refused, error) and error code",
            syncs.clone(),
        );
        // 5 ms to about 20 s.
        let sync_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 13));
        registry.register_with_unit(
            "sync_duration",
            "Time to answer a sync round, from its arrival to its answer",
            Unit::Seconds,
            sync_seconds.clone(),
        );
        let sync_request_bytes = Counter::default();
        registry.register_with_unit(
            "sync_request",
            "Bytes of sync request bodies read (compressed, as sent)",
            Unit::Bytes,
            sync_request_bytes.clone(),
        );
        let sync_response_bytes = Counter::default();
        registry.register_with_unit(
            "sync_response",
            "Bytes of sync answers sent (compressed, errors included)",
            Unit::Bytes,
            sync_response_bytes.clone(),
        );
        let sync_reads = Counter::default();
        registry.register(
            "sync_reads",
            "Sync rounds answered from a reader's snapshot, beside the writer (they stored nothing)",
            sync_reads.clone(),
        );
        let sync_batches = Counter::default();
        registry.register(
            "sync_batches",
            "Write transactions taken by the sync rounds the readers left to the writer, each holding one or more of them (group commit)",
            sync_batches.clone(),
        );
        let office_logins = Family::<ResultLabel, Counter>::default();
        registry.register(
            "office_logins",
            "Office log-ins, by result (ok, refused, limited)",
            office_logins.clone(),
        );
        let enrolled_kiosks = Gauge::default();
        registry.register(
            "kiosks_enrolled",
            "Kiosks enrolled and not revoked",
            enrolled_kiosks.clone(),
        );
        let kiosks_by_sync_age = Family::<AgeLabel, Gauge>::default();
        registry.register(
            "kiosks_by_last_sync",
            "Enrolled kiosks by how long ago they last synced (under_5m, under_1h, under_1d, older, never)",
            kiosks_by_sync_age.clone(),
        );
        let compensation_open = Gauge::default();
        registry.register(
            "compensation_tasks_open",
            "Compensation tasks to be done (residents confirmed or waiting beyond a class's seats or waiting list, to be called)",
            compensation_open.clone(),
        );
        let store_bytes = Family::<FileLabel, Gauge>::default();
        registry.register_with_unit(
            "store",
            "Size on disk of each database file with its write-ahead log (server, personal)",
            Unit::Bytes,
            store_bytes.clone(),
        );
        let sms_notices = Family::<StatusLabel, Gauge>::default();
        registry.register(
            "sms_notices",
            "SMS notices in the outbox by status (queued, sending, sent, failed, skipped, cancelled, expired)",
            sms_notices.clone(),
        );
        // Shown from the start, at zero.
        drop(syncs.get_or_create(&SyncResult {
            result: "ok",
            code: "none".to_owned(),
        }));
        Metrics {
            registry,
            syncs,
            sync_seconds,
            sync_request_bytes,
            sync_response_bytes,
            sync_reads,
            sync_batches,
            office_logins,
            enrolled_kiosks,
            kiosks_by_sync_age,
            compensation_open,
            store_bytes,
            sms_notices,
        }
    }

    pub fn sync_answered(&self, outcome: SyncOutcome, took: Duration, response_bytes: u64) {
        let (result, code) = match outcome {
            SyncOutcome::Ok => ("ok", "none".to_owned()),
            SyncOutcome::Refused(code) => ("refused", code),
            SyncOutcome::Error(code) => ("error", code),
        };
        self.syncs.get_or_create(&SyncResult { result, code }).inc();
        self.sync_seconds.observe(took.as_secs_f64());
        self.sync_response_bytes.inc_by(response_bytes);
    }

    pub fn sync_request_read(&self, bytes: u64) {
        self.sync_request_bytes.inc_by(bytes);
    }

    /// A sync round was answered by a reader ([`crate::read_rounds`]).
    pub fn sync_read(&self) {
        self.sync_reads.inc();
    }

    /// The counter of the writer's sync transactions, for the writer to count them.
    pub fn sync_batches(&self) -> Counter {
        self.sync_batches.clone()
    }

    pub fn office_login(&self, outcome: LoginOutcome) {
        self.office_logins
            .get_or_create(&ResultLabel {
                result: outcome.label(),
            })
            .inc();
    }

    /// The page: the counters, and the gauges set from `gauges` first.
    pub fn render(&self, gauges: &StoreGauges) -> Result<String, std::fmt::Error> {
        self.enrolled_kiosks.set(saturating(gauges.enrolled_kiosks));
        for (age, count) in &gauges.kiosks_by_sync_age {
            self.kiosks_by_sync_age
                .get_or_create(&AgeLabel { age: age.label() })
                .set(saturating(*count));
        }
        self.compensation_open
            .set(saturating(gauges.compensation_open));
        for (status, count) in &gauges.notices_by_status {
            self.sms_notices
                .get_or_create(&StatusLabel {
                    status: status.clone(),
                })
                .set(saturating(*count));
        }
        for (file, bytes) in &gauges.store_bytes {
            self.store_bytes
                .get_or_create(&FileLabel { file })
                .set(saturating(*bytes));
        }
        // The login results are shown from the start, at zero.
        for outcome in LoginOutcome::ALL {
            drop(self.office_logins.get_or_create(&ResultLabel {
                result: outcome.label(),
            }));
        }
        let mut page = String::new();
        prometheus_text::encode(&mut page, &self.registry)?;
        Ok(page)
    }
}

fn saturating(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
