//! What the store tells `/health` and `/metrics`: whether it answers, and the gauges read
//! at scrape time. Only counts leave here, never a kiosk, a person or a name.

use super::{Central, Result, seats};

/// How long ago an enrolled kiosk last synced, in the buckets `/metrics` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncAge {
    Under5Minutes,
    Under1Hour,
    Under1Day,
    Older,
    Never,
}

impl SyncAge {
    pub const ALL: [SyncAge; 5] = [
        SyncAge::Under5Minutes,
        SyncAge::Under1Hour,
        SyncAge::Under1Day,
        SyncAge::Older,
        SyncAge::Never,
    ];

    /// The bucket of a last sync `seconds` ago (`None`: never synced).
    pub fn of(seconds: Option<i64>) -> SyncAge {
        match seconds {
            None => SyncAge::Never,
            Some(s) if s < 5 * 60 => SyncAge::Under5Minutes,
            Some(s) if s < 3600 => SyncAge::Under1Hour,
            Some(s) if s < 24 * 3600 => SyncAge::Under1Day,
            Some(_) => SyncAge::Older,
        }
    }

    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            SyncAge::Under5Minutes => "under_5m",
            SyncAge::Under1Hour => "under_1h",
            SyncAge::Under1Day => "under_1d",
            SyncAge::Older => "older",
            SyncAge::Never => "never",
        }
    }
}

/// The gauges read from the store at scrape time.
#[derive(Debug, Clone, Default)]
pub struct StoreGauges {
    /// Kiosks enrolled and not revoked.
    pub enrolled_kiosks: u64,
    /// Those kiosks by how long ago they last synced.
    pub kiosks_by_sync_age: Vec<(SyncAge, u64)>,
    /// Compensation tasks still to be done (phone calls for seats given away twice).
    pub compensation_open: u64,
    /// Bytes on disk of each file (with its write-ahead log): "server", "personal".
    pub store_bytes: Vec<(&'static str, u64)>,
    /// SMS notices in the outbox by status (queued, sending, sent, failed, ...).
    pub notices_by_status: Vec<(String, u64)>,
}

impl Central {
    /// Whether both database files answer (see `ServerStore::check_health`).
    pub fn health(&mut self) -> Result<()> {
        Ok(self.store.check_health()?)
    }

    /// The gauges as of `now`. Reading them costs what the office's overview costs (the
    /// compensation tasks are computed from the rosters).
    pub fn gauges(&mut self, now: jiff::Timestamp) -> Result<StoreGauges> {
        let store_bytes = self.store.file_sizes()?;
        // A read, which waits for no writer: a scrape does not hold up the sync rounds
        // (of every server process, on PostgreSQL).
        let db = self.store.read()?;
        let kiosks = db.kiosks()?;
        let compensation_open = seats::compensation(&db, None)?.len() as u64;
        let notices_by_status = db
            .notice_counts()?
            .into_iter()
            .map(|(status, n)| (status.code().to_owned(), u64::try_from(n).unwrap_or(0)))
            .collect();
        drop(db);
        let mut by_age: Vec<(SyncAge, u64)> = SyncAge::ALL.iter().map(|a| (*a, 0)).collect();
        let mut enrolled_kiosks = 0;
        for kiosk in kiosks.iter().filter(|k| k.enrolled && !k.revoked) {
            enrolled_kiosks += 1;
            let seconds = kiosk.last_sync.as_deref().map(|at| {
                at.parse::<jiff::Timestamp>()
                    .map(|at| now.duration_since(at).as_secs().max(0))
                    // A stamp that does not read counts as long ago.
                    .unwrap_or(i64::MAX)
            });
            let age = SyncAge::of(seconds);
            if let Some(slot) = by_age.iter_mut().find(|(a, _)| *a == age) {
                slot.1 += 1;
            }
        }
        Ok(StoreGauges {
            enrolled_kiosks,
            kiosks_by_sync_age: by_age,
            compensation_open,
            store_bytes,
            notices_by_status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SyncAge;

    #[test]
    fn sync_age_buckets_have_their_edges() {
        assert_eq!(SyncAge::of(None), SyncAge::Never);
        assert_eq!(SyncAge::of(Some(0)), SyncAge::Under5Minutes);
        assert_eq!(SyncAge::of(Some(299)), SyncAge::Under5Minutes);
        assert_eq!(SyncAge::of(Some(300)), SyncAge::Under1Hour);
        assert_eq!(SyncAge::of(Some(3599)), SyncAge::Under1Hour);
        assert_eq!(SyncAge::of(Some(3600)), SyncAge::Under1Day);
        assert_eq!(SyncAge::of(Some(86_399)), SyncAge::Under1Day);
        assert_eq!(SyncAge::of(Some(86_400)), SyncAge::Older);
    }
}
