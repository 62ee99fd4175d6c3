//! The sender: takes due notices from the outbox, makes each message from the person's
//! people document (number, consent, language) and the template, and hands it to the
//! gateway, at least once: a notice is marked `sending` (committed) before the gateway is
//! asked, and a notice found `sending` is sent again with the same id, which the gateway
//! refuses to deliver twice. Network errors and 5xx are retried with growing pauses;
//! permanent errors are recorded with their reason. Nothing goes out in quiet hours or
//! beyond the daily limit per person: such notices wait.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Time;

use blisko_shared::i18n::Lang;
use blisko_shared::ids::PersonId;
use blisko_shared::model::{ConsentKind, RequestStatus};
use blisko_shared::sms::{self, Message, RequestOutcome, SessionWhen};

use super::gateway::{Accepted, Gateway, GatewayError, Outgoing};
use super::{Notice, When, reason, zone};
use crate::central::persons::find_person;
use crate::central::{Central, CentralError, Result, now_text};
use crate::office::projection;
use crate::store::{NewNotice, NoticeRow, NoticeStatus, Outcome};

/// Tries before a notice is given up (with the pauses, about nine hours).
pub const MAX_ATTEMPTS: i64 = 10;
const FIRST_PAUSE_MS: i64 = 30_000;
const LONGEST_PAUSE_MS: i64 = 3_600_000;
/// Notices taken in one pass.
const BATCH: usize = 50;

/// Hours in which no message goes out, e.g. 20:00-08:00 (local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub from: Time,
    pub until: Time,
}

impl FromStr for QuietHours {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<QuietHours, String> {
        let bad = || format!("{s:?} is not quiet hours: write them as 20:00-08:00, or off");
        let (from, until) = s.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| Time::strptime("%H:%M", t.trim()).map_err(|_| bad());
        let (from, until) = (time(from)?, time(until)?);
        if from == until {
            return Err(format!("{s:?}: quiet hours must not start and end at once"));
        }
        Ok(QuietHours { from, until })
    }
}

impl QuietHours {
    /// When the quiet hours that `now` falls in end (None outside them).
    pub fn end_after(&self, now: Timestamp) -> Option<Timestamp> {
        let local = now.to_zoned(zone());
        let t = local.time();
        let quiet = if self.from < self.until {
            t >= self.from && t < self.until
        } else {
            t >= self.from || t < self.until
        };
        if !quiet {
            return None;
        }
        let mut day = local.date();
        if t >= self.until {
            day = day.tomorrow().ok()?;
        }
        day.to_datetime(self.until)
            .to_zoned(zone())
            .ok()
            .map(|z| z.timestamp())
    }
}

/// How the sender works (`serve`'s `--sms-*` options).
#[derive(Debug, Clone)]
pub struct SmsConfig {
    /// None: messages go out at any hour.
    pub quiet: Option<QuietHours>,
    /// Messages a day to one person at most; more wait for the next day.
    pub daily_limit: u32,
    /// Polish letters written without accents, so that a part holds 153 characters, not 67.
    pub transliterate: bool,
    /// When the day-before reminders go out (local time).
    pub reminder_at: Time,
    /// Who the message is from, at its end (e.g. "CUS Wola").
    pub signature: String,
}

impl Default for SmsConfig {
    fn default() -> SmsConfig {
        SmsConfig {
            quiet: Some(QuietHours {
                from: Time::constant(20, 0, 0, 0),
                until: Time::constant(8, 0, 0, 0),
            }),
            daily_limit: 3,
            transliterate: false,
            reminder_at: Time::constant(10, 0, 0, 0),
            signature: "CUS".to_owned(),
        }
    }
}

/// A message ready to hand to the gateway.
#[derive(Debug, Clone)]
pub struct Ready {
    pub out: Outgoing,
    pub segments: i64,
    pub attempts: i64,
}

/// What one pass did, for the log and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub reminders: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    pub held: usize,
    pub dropped: usize,
}

fn session_when(w: &When) -> std::result::Result<SessionWhen, String> {
    Ok(SessionWhen {
        date: w
            .date
            .parse()
            .map_err(|_| format!("a notice names the date {:?}", w.date))?,
        start: w.start.clone(),
        room: w.room.clone(),
    })
}

/// The template a notice fills.
pub fn message(notice: &Notice) -> std::result::Result<Message, String> {
    Ok(match notice {
        Notice::SeatFreed { class_title, next } => Message::SeatFreed {
            class_title: class_title.clone(),
            next: next.as_ref().map(session_when).transpose()?,
        },
        Notice::Reminder {
            class_title,
            session,
            sessions_left,
        } => Message::Reminder {
            class_title: class_title.clone(),
            session: session_when(session)?,
            sessions_left: *sessions_left,
        },
        Notice::SessionMoved {
            class_title,
            from,
            to,
        } => Message::SessionMoved {
            class_title: class_title.clone(),
            from: session_when(from)?,
            to: session_when(to)?,
        },
        Notice::SessionCancelled {
            class_title,
            session,
        } => Message::SessionCancelled {
            class_title: class_title.clone(),
            session: session_when(session)?,
        },
        Notice::RequestStatus { reference, status } => Message::RequestStatus {
            reference: reference.clone(),
            outcome: match status {
                RequestStatus::Accepted => RequestOutcome::Accepted,
                RequestStatus::Rejected => RequestOutcome::Rejected,
                _ => RequestOutcome::NeedsInformation,
            },
        },
    })
}

/// The text as it goes out, and its parts.
pub fn text(message: &Message, lang: Lang, config: &SmsConfig) -> (String, i64) {
    let mut text = message.render(lang, &config.signature);
    if config.transliterate {
        text = sms::transliterate(&text);
    }
    let parts = sms::segments(&text).count as i64;
    (text, parts)
}

/// The pause before try number `attempts + 1`.
fn pause_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_PAUSE_MS
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_PAUSE_MS)
}

/// The start of the local day after `now`'s, plus the end of the quiet hours if any.
fn next_morning(now: Timestamp, config: &SmsConfig) -> i64 {
    let local = now.to_zoned(zone());
    let start = config.quiet.map_or(Time::MIN, |q| q.until);
    local
        .date()
        .tomorrow()
        .ok()
        .and_then(|d| d.to_datetime(start).to_zoned(zone()).ok())
        .map_or(now.as_millisecond() + 86_400_000, |z| {
            z.timestamp().as_millisecond()
        })
}

fn local_midnight_ms(now: Timestamp) -> i64 {
    now.to_zoned(zone())
        .start_of_day()
        .map_or(now.as_millisecond(), |z| z.timestamp().as_millisecond())
}

impl Central {
    /// With the store, in one transaction: queue the reminders that are due, settle the
    /// notices that cannot or need not go (expired, erased, no consent, no mobile number),
    /// hold those that must wait (quiet hours, the daily limit, no gateway), and mark the
    /// rest as sending. Returns the messages to hand to the gateway now.
    pub fn prepare_notices(
        &mut self,
        config: &SmsConfig,
        has_gateway: bool,
        now: Timestamp,
    ) -> Result<(Vec<Ready>, PassReport)> {
        let now_ms = now.as_millisecond();
        let stamp = now_text();
        // Most passes find nothing to do. That is asked in a read, which waits for no
        // writer: a pass every few seconds in each server process taking the store for
        // itself would make every sync round of every process wait for it.
        {
            let db = self.store.read()?;
            let idle = super::reminders_day(&db, now, config.reminder_at)?.is_none()
                && db.next_notice_due()?.is_none_or(|due| due > now_ms);
            drop(db);
            if idle {
                return Ok((Vec::new(), PassReport::default()));
            }
        }
        let db = self.store.write()?;
        let mut report = PassReport {
            reminders: super::schedule_reminders(&db, now, config.reminder_at)?,
            ..PassReport::default()
        };
        let due = db.due_notices(now_ms, BATCH)?;
        if due.is_empty() {
            db.commit()?;
            return Ok((Vec::new(), report));
        }
        // A notice names persons the office projection may not have reached yet.
        projection::refresh(&db).map_err(|e| CentralError::Internal(e.to_string()))?;
        let quiet_end = config.quiet.and_then(|q| q.end_after(now));
        let today_from = local_midnight_ms(now);
        let mut sent_today: HashMap<String, i64> = HashMap::new();
        let mut ready = Vec::new();
        for notice in due {
            let settled = settle(&db, &notice, now_ms, has_gateway, quiet_end)?;
            let (to, lang, message) = match settled {
                Settle::Outcome(outcome) => {
                    match outcome {
                        Outcome::Held { .. } => report.held += 1,
                        _ => report.dropped += 1,
                    }
                    db.notice_outcome(&notice.id, &outcome, &stamp)?;
                    continue;
                }
                Settle::Send { to, lang, message } => (to, lang, message),
            };
            let person = notice.person_id.clone().unwrap_or_default();
            let count = match sent_today.get(&person) {
                Some(n) => *n,
                None => db.notices_sent_to(&person, today_from)?,
            };
            if count >= i64::from(config.daily_limit) {
                report.held += 1;
                db.notice_outcome(
                    &notice.id,
                    &Outcome::Held {
                        due_ms: next_morning(now, config),
                        reason: reason::DAILY_LIMIT,
                    },
                    &stamp,
                )?;
                continue;
            }
            sent_today.insert(person, count + 1);
            let (text, segments) = text(&message, lang, config);
            db.notice_sending(&notice.id, &stamp)?;
            ready.push(Ready {
                out: Outgoing {
                    idx: notice.id.clone(),
                    to,
                    text,
                },
                segments,
                attempts: notice.attempts + 1,
            });
        }
        db.commit()?;
        Ok((ready, report))
    }

    /// Record what the gateway answered for a message.
    pub fn record_notice(
        &mut self,
        ready: &Ready,
        answer: &std::result::Result<Accepted, GatewayError>,
        now: Timestamp,
        report: &mut PassReport,
    ) -> Result<()> {
        let now_ms = now.as_millisecond();
        let why;
        let outcome = match answer {
            Ok(accepted) => {
                report.sent += 1;
                Outcome::Sent {
                    segments: ready.segments,
                    gateway_id: accepted.gateway_id.as_deref(),
                    at_ms: now_ms,
                }
            }
            Err(GatewayError::Temporary(e)) if ready.attempts < MAX_ATTEMPTS => {
                report.retried += 1;
                why = format!("retrying: {e}");
                Outcome::Retry {
                    due_ms: now_ms + pause_ms(ready.attempts),
                    reason: &why,
                }
            }
            Err(GatewayError::Temporary(e)) => {
                report.failed += 1;
                why = format!("gave up after {} attempts: {e}", ready.attempts);
                Outcome::Final {
                    status: NoticeStatus::Failed,
                    reason: &why,
                }
            }
            Err(GatewayError::Permanent(e)) => {
                report.failed += 1;
                why = e.clone();
                Outcome::Final {
                    status: NoticeStatus::Failed,
                    reason: &why,
                }
            }
        };
        let db = self.store.write()?;
        db.notice_outcome(&ready.out.idx, &outcome, &now_text())?;
        db.commit()?;
        if let Err(e) = answer {
            // The notice's id only: no number, no text.
            tracing::warn!(notice = %ready.out.idx, error = %e, "an SMS was not sent");
        }
        Ok(())
    }

    /// At start with a gateway configured: the notices that waited for one go out.
    pub fn release_notices_held_for_gateway(&mut self) -> Result<usize> {
        let db = self.store.write()?;
        let n = db.release_held_notices(
            reason::NO_GATEWAY,
            Timestamp::now().as_millisecond(),
            &now_text(),
        )?;
        db.commit()?;
        Ok(n)
    }
}

/// The office's test message to `phone` (as typed): the number in E.164 and the text
/// with its parts. Refused unless it is a Polish mobile number.
pub fn test_message(phone: &str, config: &SmsConfig) -> Result<(String, String, i64)> {
    let to = blisko_shared::validate::phone(phone)
        .ok()
        .filter(|p| blisko_shared::validate::is_polish_mobile(p))
        .ok_or_else(|| CentralError::Refused {
            pl: "To nie jest numer telefonu komórkowego w Polsce (9 cyfr, np. 601 234 567).".into(),
            en: "This is not a Polish mobile number (9 digits, e.g. 601 234 567).".into(),
        })?;
    let (text, segments) = text(&Message::Test, Lang::Pl, config);
    Ok((to, text, segments))
}

/// Record a test message as being sent (kind `test`, no number, no person), audited.
/// Returns its id, the gateway's `idx`.
pub fn queue_test(db: &crate::store::Db<'_>, actor: &str) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let now = now_text();
    db.queue_notice(
        &NewNotice {
            id: &id,
            dedup: &format!("test:{id}"),
            kind: "test",
            person_id: None,
            branch_id: None,
            params: "{}",
            due_ms: i64::MAX,
            expires_ms: None,
        },
        &now,
    )?;
    db.notice_sending(&id, &now)?;
    db.audit(&now, actor, "sms_test", &format!("notice:{id}"), None)?;
    Ok(id)
}

enum Settle {
    Outcome(Outcome<'static>),
    Send {
        to: String,
        lang: Lang,
        message: Message,
    },
}

/// What to do with one due notice before anything is sent.
fn settle(
    db: &crate::store::Db<'_>,
    notice: &NoticeRow,
    now_ms: i64,
    has_gateway: bool,
    quiet_end: Option<Timestamp>,
) -> Result<Settle> {
    let done = |status, reason| Ok(Settle::Outcome(Outcome::Final { status, reason }));
    if notice.expires_ms.is_some_and(|at| at <= now_ms) {
        return done(
            NoticeStatus::Expired,
            "its moment passed before it could be sent",
        );
    }
    let Some(person) = notice
        .person_id
        .as_deref()
        .and_then(|p| p.parse::<PersonId>().ok())
    else {
        return done(NoticeStatus::Failed, "names no person");
    };
    if db.erasure_recorded(person)? || db.person_key(person)?.is_none() {
        return done(NoticeStatus::Cancelled, reason::ERASED);
    }
    let person = match find_person(db, person) {
        Ok((_, p)) => p,
        Err(CentralError::NotFound(_)) => {
            return done(NoticeStatus::Skipped, reason::PERSON_NOT_FOUND);
        }
        Err(e) => return Err(e),
    };
    let Some(consent) = person
        .consents
        .iter()
        .find(|c| c.kind == ConsentKind::SmsReminders)
    else {
        return done(NoticeStatus::Skipped, reason::NO_CONSENT);
    };
    let Some(to) = person
        .phone
        .filter(|p| blisko_shared::validate::is_polish_mobile(p))
    else {
        return done(NoticeStatus::Skipped, reason::NO_MOBILE);
    };
    let Ok(notice_data) = serde_json::from_str::<Notice>(&notice.params) else {
        return done(NoticeStatus::Failed, "its data does not read");
    };
    let message = match message(&notice_data) {
        Ok(m) => m,
        Err(_) => return done(NoticeStatus::Failed, "its data does not read"),
    };
    if !has_gateway {
        return Ok(Settle::Outcome(Outcome::Held {
            due_ms: now_ms + 86_400_000,
            reason: reason::NO_GATEWAY,
        }));
    }
    if let Some(end) = quiet_end {
        return Ok(Settle::Outcome(Outcome::Held {
            due_ms: end.as_millisecond(),
            reason: reason::QUIET_HOURS,
        }));
    }
    Ok(Settle::Send {
        to,
        // The language the consent was given in.
        lang: consent.lang(),
        message,
    })
}

/// One pass, start to end (prepare, send, record): what the serving loop does, and what
/// tests call with a clock of their own.
pub fn deliver_due(
    central: &mut Central,
    gateway: Option<&dyn Gateway>,
    config: &SmsConfig,
    now: Timestamp,
) -> Result<PassReport> {
    let (ready, mut report) = central.prepare_notices(config, gateway.is_some(), now)?;
    for r in ready {
        let answer = match gateway {
            Some(g) => g.send(&r.out),
            None => Err(GatewayError::Temporary(reason::NO_GATEWAY.into())),
        };
        central.record_notice(&r, &answer, now, &mut report)?;
    }
    Ok(report)
}

/// The serving loop: a pass every few seconds, the store lock held only to prepare and to
/// record, never while the gateway answers.
pub async fn run(
    state: crate::http::AppState,
    gateway: Option<Arc<dyn Gateway>>,
    config: Arc<SmsConfig>,
    every: Duration,
) {
    loop {
        let cfg = Arc::clone(&config);
        let has_gateway = gateway.is_some();
        let prepared = state
            .with_central(move |c| c.prepare_notices(&cfg, has_gateway, Timestamp::now()))
            .await;
        let (ready, mut report) = match prepared {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the SMS sender could not read the outbox");
                (Vec::new(), PassReport::default())
            }
            Err(e) => {
                tracing::error!(error = %e, "the SMS sender stopped a pass");
                (Vec::new(), PassReport::default())
            }
        };
        for r in ready {
            let Some(g) = gateway.clone() else { break };
            let out = r.out.clone();
            let answer = tokio::task::spawn_blocking(move || g.send(&out))
                .await
                .unwrap_or_else(|e| Err(GatewayError::Temporary(format!("the send stopped: {e}"))));
            let recorded = state
                .with_central(move |c| {
                    let mut report = PassReport::default();
                    c.record_notice(&r, &answer, Timestamp::now(), &mut report)
                        .map(|()| report)
                })
                .await;
            match recorded {
                Ok(Ok(r)) => {
                    report.sent += r.sent;
                    report.retried += r.retried;
                    report.failed += r.failed;
                }
                Ok(Err(e)) => tracing::error!(error = %e, "could not record an SMS sent"),
                Err(e) => tracing::error!(error = %e, "could not record an SMS sent"),
            }
        }
        if report != PassReport::default() {
            tracing::info!(
                reminders = report.reminders,
                sent = report.sent,
                retried = report.retried,
                failed = report.failed,
                held = report.held,
                dropped = report.dropped,
                "SMS pass"
            );
        }
        tokio::time::sleep(every).await;
    }
}

impl Central {
    /// The outbox, newest first (no numbers, no texts).
    pub fn notices(
        &mut self,
        filter: &crate::store::NoticeFilter,
        limit: usize,
    ) -> Result<Vec<NoticeRow>> {
        let db = self.store.write()?;
        Ok(db.notices(filter, limit)?)
    }
}
