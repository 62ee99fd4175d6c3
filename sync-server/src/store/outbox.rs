//! SQL of the outbox: notices to residents, written with the events that cause them and
//! delivered by the sender (see `crate::notices`).

use super::sql::{OptionalExtension, params};
use serde::Serialize;

use super::sql::Context;
use super::{Db, Result};

/// Where a notice is. `queued` and `sending` are still to go (a notice found `sending`
/// after a crash is sent again); the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    Queued,
    Sending,
    Sent,
    /// The gateway refused it for good, or the tries ran out.
    Failed,
    /// Not for sending: no consent, no Polish mobile number.
    Skipped,
    /// Withdrawn: the person erased, the session changed, the seat shown at the kiosk.
    Cancelled,
    /// Its moment passed (a reminder after its session began).
    Expired,
}

impl NoticeStatus {
    pub const ALL: [NoticeStatus; 7] = [
        NoticeStatus::Queued,
        NoticeStatus::Sending,
        NoticeStatus::Sent,
        NoticeStatus::Failed,
        NoticeStatus::Skipped,
        NoticeStatus::Cancelled,
        NoticeStatus::Expired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoticeStatus::Queued => "queued",
            NoticeStatus::Sending => "sending",
            NoticeStatus::Sent => "sent",
            NoticeStatus::Failed => "failed",
            NoticeStatus::Skipped => "skipped",
            NoticeStatus::Cancelled => "cancelled",
            NoticeStatus::Expired => "expired",
        }
    }

    pub fn from_code(code: &str) -> Option<NoticeStatus> {
        NoticeStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

impl std::fmt::Display for NoticeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Tests and JSON readers compare with the stored words.
impl PartialEq<&str> for NoticeStatus {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

impl super::sql::FromSql for NoticeStatus {
    fn from_value(value: super::sql::Value<'_>) -> std::result::Result<Self, String> {
        match value {
            super::sql::Value::Text(text) => {
                NoticeStatus::from_code(text).ok_or_else(|| format!("notice status {text:?}"))
            }
            v => Err(format!("expected a notice status, found {v:?}")),
        }
    }
}

impl super::sql::ToSql for NoticeStatus {
    fn to_value(&self) -> super::sql::Value<'_> {
        super::sql::Value::Text(self.code())
    }
}

/// A notice as stored. No phone number and no message text: those are made when it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeRow {
    pub id: String,
    /// What it is about, by ids only (`seat_freed:<registration>`,
    /// `reminder:<session>:<date>:<registration>`, `request_status:<request>:<status>:<stamp>`).
    pub about: String,
    pub kind: String,
    pub person_id: Option<String>,
    pub branch_id: Option<String>,
    /// The template's data, as JSON.
    #[serde(skip)]
    pub params: String,
    pub created: String,
    pub due_ms: i64,
    pub expires_ms: Option<i64>,
    pub status: NoticeStatus,
    pub reason: Option<String>,
    pub attempts: i64,
    pub segments: Option<i64>,
    pub gateway_id: Option<String>,
    pub sent_ms: Option<i64>,
    pub updated: String,
}

/// A new notice.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub id: &'a str,
    pub dedup: &'a str,
    pub kind: &'a str,
    pub person_id: Option<&'a str>,
    pub branch_id: Option<&'a str>,
    pub params: &'a str,
    pub due_ms: i64,
    pub expires_ms: Option<i64>,
}

/// Which notices a list shows; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeFilter {
    pub kind: Option<String>,
    pub status: Option<NoticeStatus>,
    pub person: Option<String>,
}

/// What became of a send, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    Sent {
        segments: i64,
        gateway_id: Option<&'a str>,
        at_ms: i64,
    },
    /// Tried again at `due_ms`.
    Retry { due_ms: i64, reason: &'a str },
    /// Not sent, for good (failed, skipped, cancelled or expired).
    Final {
        status: NoticeStatus,
        reason: &'a str,
    },
    /// Held, not tried: waits until `due_ms` (quiet hours, the daily limit, no gateway).
    Held { due_ms: i64, reason: &'a str },
}

const COLUMNS: &str =
    "id, dedup, kind, person_id, branch_id, params, created, due_ms, expires_ms, status,
     reason, attempts, segments, gateway_id, sent_ms, updated";

fn row(r: &super::sql::Row<'_>) -> super::sql::SqlResult<NoticeRow> {
    Ok(NoticeRow {
        id: r.get(0)?,
        about: r.get(1)?,
        kind: r.get(2)?,
        person_id: r.get(3)?,
        branch_id: r.get(4)?,
        params: r.get(5)?,
        created: r.get(6)?,
        due_ms: r.get(7)?,
        expires_ms: r.get(8)?,
        status: r.get(9)?,
        reason: r.get(10)?,
        attempts: r.get(11)?,
        segments: r.get(12)?,
        gateway_id: r.get(13)?,
        sent_ms: r.get(14)?,
        updated: r.get(15)?,
    })
}

impl Db<'_> {
    /// Queue a notice unless one about the same thing (`dedup`) exists. Returns whether
    /// it was new.
    pub fn queue_notice(&self, n: &NewNotice<'_>, now: &str) -> Result<bool> {
        let added = self
            .tx
            .prepare_cached(
                "INSERT INTO notices (id, dedup, kind, person_id, branch_id, params, created,
                                      due_ms, expires_ms, status, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?7)
                 ON CONFLICT (dedup) DO NOTHING",
            )
            .ctx("queue a notice")?
            .execute(params![
                n.id,
                n.dedup,
                n.kind,
                n.person_id,
                n.branch_id,
                n.params,
                now,
                n.due_ms,
                n.expires_ms
            ])
            .ctx("queue a notice")?;
        Ok(added == 1)
    }

    /// Notices to work on now: queued (or cut off mid-send by a crash) and due, oldest first.
    pub fn due_notices(&self, now_ms: i64, limit: usize) -> Result<Vec<NoticeRow>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM notices
                 WHERE status IN ('queued', 'sending') AND due_ms <= ?1
                 ORDER BY due_ms, id LIMIT ?2"
            ))
            .ctx("list due notices")?;
        let rows = stmt
            .query_map(params![now_ms, limit as i64], row)
            .ctx("list due notices")?
            .collect::<super::sql::SqlResult<_>>()
            .ctx("list due notices")?;
        Ok(rows)
    }

    /// When the next queued notice falls due, if any.
    pub fn next_notice_due(&self) -> Result<Option<i64>> {
        self.tx
            .query_row(
                "SELECT min(due_ms) FROM notices WHERE status IN ('queued', 'sending')",
                (),
                |r| r.get(0),
            )
            .ctx("find the next notice due")
    }

    pub fn notice(&self, id: &str) -> Result<Option<NoticeRow>> {
        self.tx
            .query_row(
                &format!("SELECT {COLUMNS} FROM notices WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .ctx("read a notice")
    }

    /// Mark a notice as being sent (one more attempt), before the gateway is asked: after
    /// a crash it is sent again with the same id, which the gateway refuses to deliver twice.
    pub fn notice_sending(&self, id: &str, now: &str) -> Result<()> {
        self.tx
            .execute(
                "UPDATE notices SET status = 'sending', attempts = attempts + 1, updated = ?2
                 WHERE id = ?1",
                params![id, now],
            )
            .ctx("mark a notice as sending")?;
        Ok(())
    }

    pub fn notice_outcome(&self, id: &str, outcome: &Outcome<'_>, now: &str) -> Result<()> {
        let what = "record what became of a notice";
        match outcome {
            Outcome::Sent {
                segments,
                gateway_id,
                at_ms,
            } => self.tx.execute(
                "UPDATE notices SET status = 'sent', reason = NULL, segments = ?2,
                        gateway_id = ?3, sent_ms = ?4, updated = ?5 WHERE id = ?1",
                params![id, segments, gateway_id, at_ms, now],
            ),
            Outcome::Retry { due_ms, reason } | Outcome::Held { due_ms, reason } => {
                self.tx.execute(
                    "UPDATE notices SET status = 'queued', reason = ?2, due_ms = ?3, updated = ?4
                     WHERE id = ?1",
                    params![id, reason, due_ms, now],
                )
            }
            Outcome::Final { status, reason } => self.tx.execute(
                "UPDATE notices SET status = ?2, reason = ?3, updated = ?4 WHERE id = ?1",
                params![id, status, reason, now],
            ),
        }
        .ctx(what)?;
        Ok(())
    }

    /// Cancel a person's notices not yet sent (an erasure). Returns how many.
    pub fn cancel_person_notices(&self, person: &str, reason: &str, now: &str) -> Result<usize> {
        self.tx
            .execute(
                "UPDATE notices SET status = 'cancelled', reason = ?2, updated = ?3
                 WHERE person_id = ?1 AND status IN ('queued', 'sending')",
                params![person, reason, now],
            )
            .ctx("cancel a person's notices")
    }

    /// Messages sent to a person since `since_ms` (for the daily limit).
    pub fn notices_sent_to(&self, person: &str, since_ms: i64) -> Result<i64> {
        self.tx
            .query_row(
                "SELECT count(*) FROM notices
                 WHERE person_id = ?1 AND status = 'sent' AND sent_ms >= ?2",
                params![person, since_ms],
                |r| r.get(0),
            )
            .ctx("count a person's messages")
    }

    /// Notices, newest first.
    pub fn notices(&self, filter: &NoticeFilter, limit: usize) -> Result<Vec<NoticeRow>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM notices
                 WHERE (CAST(?1 AS TEXT) IS NULL OR kind = ?1) AND (CAST(?2 AS TEXT) IS NULL OR status = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR person_id = ?3)
                 ORDER BY created DESC, id DESC LIMIT ?4"
            ))
            .ctx("list notices")?;
        let rows = stmt
            .query_map(
                params![filter.kind, filter.status, filter.person, limit as i64],
                row,
            )
            .ctx("list notices")?
            .collect::<super::sql::SqlResult<_>>()
            .ctx("list notices")?;
        Ok(rows)
    }

    /// How many notices are in each status (for the metrics and the office's summary).
    pub fn notice_counts(&self) -> Result<Vec<(NoticeStatus, i64)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT status, count(*) FROM notices GROUP BY status ORDER BY status")
            .ctx("count notices")?;
        let rows = stmt
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
            .ctx("count notices")?
            .collect::<super::sql::SqlResult<_>>()
            .ctx("count notices")?;
        Ok(rows)
    }

    /// Sent messages and their segments per day (`offset_ms` shifts UTC to local time),
    /// the latest `days` days, newest first.
    pub fn segments_per_day(&self, offset_ms: i64, days: usize) -> Result<Vec<(String, i64, i64)>> {
        let day = match self.dialect() {
            super::sql::Dialect::Sqlite => "date((sent_ms + ?1) / 1000, 'unixepoch')",
            super::sql::Dialect::Postgres => {
                "to_char(to_timestamp((sent_ms + ?1) / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            }
        };
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT {day} AS day, count(*), CAST(coalesce(sum(segments), 0) AS BIGINT)
                 FROM notices WHERE sent_ms IS NOT NULL
                 GROUP BY day ORDER BY day DESC LIMIT ?2"
            ))
            .ctx("sum segments per day")?;
        let rows = stmt
            .query_map(params![offset_ms, days as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .ctx("sum segments per day")?
            .collect::<super::sql::SqlResult<_>>()
            .ctx("sum segments per day")?;
        Ok(rows)
    }
}

impl Db<'_> {
    /// Cancel the unsent notices whose `dedup` matches a LIKE pattern (a reminder for a
    /// session that moved). Returns how many.
    pub fn cancel_notices_like(
        &self,
        dedup_pattern: &str,
        reason: &str,
        now: &str,
    ) -> Result<usize> {
        self.tx
            .execute(
                "UPDATE notices SET status = 'cancelled', reason = ?2, updated = ?3
                 WHERE dedup LIKE ?1 AND status IN ('queued', 'sending')",
                params![dedup_pattern, reason, now],
            )
            .ctx("cancel notices")
    }

    /// Put the notices held for want of a gateway back in line (a gateway is configured now).
    pub fn release_held_notices(&self, reason: &str, now_ms: i64, now: &str) -> Result<usize> {
        self.tx
            .execute(
                "UPDATE notices SET due_ms = ?2, reason = NULL, updated = ?3
                 WHERE status = 'queued' AND reason = ?1",
                params![reason, now_ms, now],
            )
            .ctx("release held notices")
    }
}

impl Db<'_> {
    /// Withdraw one unsent notice of a branch (`dedup`), e.g. a seat the kiosk showed.
    pub fn withdraw_notice(
        &self,
        dedup: &str,
        branch: &str,
        reason: &str,
        now: &str,
    ) -> Result<usize> {
        self.tx
            .execute(
                "UPDATE notices SET status = 'cancelled', reason = ?3, updated = ?4
                 WHERE dedup = ?1 AND branch_id = ?2 AND status = 'queued'",
                params![dedup, branch, reason, now],
            )
            .ctx("withdraw a notice")
    }
}
