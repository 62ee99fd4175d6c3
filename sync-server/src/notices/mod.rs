//! Notices to residents (SMS): what is worth a message, written to the outbox in the same
//! transaction as the event that causes it, and the sender that delivers them.
//!
//! The events: a seat freed up for someone waiting ([`seats_granted`]), a session moved
//! or cancelled ([`sessions_changed`]), a decision on an intake request
//! ([`request_decided`]), and the day-before reminder ([`schedule_reminders`], run by the
//! sender). A notice names a person and the template's data, never a phone number or a
//! text: [`sender`] makes both from the person's people document when it sends, so a
//! consent withdrawn or an erasure in between stops it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use blisko_shared::docs::{DocKey, RosterDoc};
use blisko_shared::hlc::Hlc;
use blisko_shared::ids::{BranchId, ClassId, KioskId, PersonId, RegistrationId};
use blisko_shared::model::{Catalog, IntakeRequest, Registration, RequestStatus, Session};
use blisko_shared::seats;

use crate::central::{CentralError, Result, load, policy_for, stored_catalog};
use crate::store::{Db, NewNotice};

pub mod gateway;
pub mod sender;

/// Why a notice waits or was not sent (the outbox's `reason`; a gateway's refusal is its
/// own text instead).
pub mod reason {
    /// Waits: no gateway is configured.
    pub const NO_GATEWAY: &str = "no_gateway";
    /// Waits until the quiet hours end.
    pub const QUIET_HOURS: &str = "quiet_hours";
    /// Waits for the next day: the person had their messages for today.
    pub const DAILY_LIMIT: &str = "daily_limit";
    pub const NO_CONSENT: &str = "no_consent";
    pub const NO_MOBILE: &str = "no_mobile";
    pub const ERASED: &str = "erased";
    pub const PERSON_NOT_FOUND: &str = "person_not_found";
    /// A reminder for a session that moved or was cancelled.
    pub const SESSION_CHANGED: &str = "session_changed";
    /// A seat the resident saw on the kiosk's screen.
    pub const SHOWN_AT_KIOSK: &str = "shown_at_kiosk";
}

/// How long the SMS for a seat given to a resident at a kiosk's screen is held: the kiosk
/// reports the seat shown at once (or at its next sync, within a minute), which withdraws
/// it; a kiosk that never got the answer to the screen lets it go out.
const HELD_FOR_THE_SCREEN_MS: i64 = 5 * 60 * 1000;

/// Where and when a session is, as a message names it. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    /// ISO date.
    pub date: String,
    /// "HH:MM".
    pub start: String,
    pub room: Option<String>,
}

/// What a notice says, as stored in the outbox (the template's data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    SeatFreed {
        class_title: String,
        next: Option<When>,
    },
    Reminder {
        class_title: String,
        session: When,
        /// Sessions of the class after this one (not cancelled): 0 says it is the last.
        #[serde(default)]
        sessions_left: Option<u32>,
    },
    SessionMoved {
        class_title: String,
        from: When,
        to: When,
    },
    SessionCancelled {
        class_title: String,
        session: When,
    },
    RequestStatus {
        reference: String,
        status: RequestStatus,
    },
}

/// The kinds of notices, as the outbox and its filters name them.
pub const KINDS: [&str; 5] = [
    "seat_freed",
    "reminder",
    "session_moved",
    "session_cancelled",
    "request_status",
];

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::SeatFreed { .. } => KINDS[0],
            Notice::Reminder { .. } => KINDS[1],
            Notice::SessionMoved { .. } => KINDS[2],
            Notice::SessionCancelled { .. } => KINDS[3],
            Notice::RequestStatus { .. } => KINDS[4],
        }
    }
}

/// The local time zone of the notices' dates and hours (quiet hours, reminders).
pub fn zone() -> TimeZone {
    // Bundled with the binary, so a machine without a time zone database still knows it.
    TimeZone::get("Europe/Warsaw").unwrap_or(TimeZone::UTC)
}

/// The moment a session starts, in `zone`.
fn session_start_ms(date: &str, start: &str, zone: &TimeZone) -> Option<i64> {
    let date: Date = date.parse().ok()?;
    let time: Time = start.parse().ok()?;
    let at = date.to_datetime(time).to_zoned(zone.clone()).ok()?;
    Some(at.timestamp().as_millisecond())
}

fn when(session: &Session, room: &str) -> When {
    When {
        date: session.date.clone(),
        start: session.start.clone(),
        room: (!room.trim().is_empty()).then(|| room.to_owned()),
    }
}

/// Queue one notice, due at `due_ms` (nothing if one with the same `dedup` exists).
fn queue(
    db: &Db<'_>,
    dedup: &str,
    person: Option<PersonId>,
    branch: Option<BranchId>,
    notice: &Notice,
    due_ms: i64,
    expires_ms: Option<i64>,
) -> Result<bool> {
    let params = serde_json::to_string(notice)
        .map_err(|e| CentralError::Internal(format!("a notice does not serialize: {e}")))?;
    let id = uuid::Uuid::now_v7().to_string();
    let person = person.map(|p| p.to_string());
    let branch = branch.map(|b| b.to_string());
    Ok(db.queue_notice(
        &NewNotice {
            id: &id,
            dedup,
            kind: notice.kind(),
            person_id: person.as_deref(),
            branch_id: branch.as_deref(),
            params: &params,
            due_ms,
            expires_ms,
        },
        &crate::central::now_text(),
    )?)
}

/// The earliest grant of a registration: the seat it holds.
fn seat(reg: &Registration) -> Option<(Hlc, KioskId)> {
    reg.grants.iter().map(|(k, at)| (*at, *k)).min()
}

/// After a roster changed (a merge, a pool grant, an office edit), in the same
/// transaction: a message for each registration that moved from the waiting list to a
/// seat. `before` is the roster as the server held it before the change (empty for a new
/// roster). A registration new to the server counts as waiting before when its seat came
/// after it was made (promoted by a kiosk offline, or given by the pool). For a resident at
/// a kiosk's screen waiting for this answer (`at_screen`, from the kiosk's sync) the SMS is
/// held a while: the kiosk reports the seat shown ([`shown_at_screen`]), which withdraws it.
pub(crate) fn seats_granted(
    db: &Db<'_>,
    class: ClassId,
    before: &[Registration],
    after: &[Registration],
    at_screen: &[RegistrationId],
) -> Result<usize> {
    let known: BTreeMap<RegistrationId, &Registration> = before.iter().map(|r| (r.id, r)).collect();
    let mut moved = Vec::new();
    for reg in after {
        if reg.cancelled.is_some() {
            continue;
        }
        let Some((granted, _)) = seat(reg) else {
            continue;
        };
        let was_waiting = match known.get(&reg.id) {
            Some(old) => old.cancelled.is_none() && old.grants.is_empty(),
            None => granted > reg.created,
        };
        if was_waiting {
            moved.push(reg);
        }
    }
    if moved.is_empty() {
        return Ok(0);
    }
    let Some(branch) = db.class_branch(class)? else {
        return Ok(0);
    };
    let catalog = stored_catalog(db, branch)?;
    let Some(c) = catalog.class(class) else {
        return Ok(0);
    };
    let zone = zone();
    let now_ms = Timestamp::now().as_millisecond();
    let next = next_session(&catalog, class, now_ms, &zone);
    // A seat in a class with nothing left to attend is not news.
    let Some(next) = next else {
        return Ok(0);
    };
    let notice = Notice::SeatFreed {
        class_title: c.title.clone(),
        next: Some(when(next, &c.room)),
    };
    let mut queued = 0;
    for reg in moved {
        let dedup = format!("seat_freed:{}", reg.id);
        let due = match at_screen.contains(&reg.id) {
            true => now_ms + HELD_FOR_THE_SCREEN_MS,
            false => now_ms,
        };
        if queue(
            db,
            &dedup,
            Some(reg.person_id),
            Some(branch),
            &notice,
            due,
            None,
        )? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// A kiosk showed these residents their seat from the pool at the screen: the SMS held for
/// it is withdrawn. Only notices of the kiosk's own branch.
pub(crate) fn shown_at_screen(
    db: &Db<'_>,
    branch: BranchId,
    shown: &[RegistrationId],
) -> Result<()> {
    let now = crate::central::now_text();
    for reg in shown {
        db.withdraw_notice(
            &format!("seat_freed:{reg}"),
            &branch.to_string(),
            reason::SHOWN_AT_KIOSK,
            &now,
        )?;
    }
    Ok(())
}

/// The next session of a class not yet begun and not cancelled.
fn next_session<'a>(
    catalog: &'a Catalog,
    class: ClassId,
    now_ms: i64,
    zone: &TimeZone,
) -> Option<&'a Session> {
    catalog
        .sessions
        .iter()
        .filter(|s| s.class_id == class && !s.cancelled)
        .filter_map(|s| session_start_ms(&s.date, &s.start, zone).map(|at| (at, s)))
        .filter(|(at, _)| *at > now_ms)
        .min_by_key(|(at, _)| *at)
        .map(|(_, s)| s)
}

/// The registrations holding a seat in a class now (the people a session concerns).
fn confirmed(db: &Db<'_>, branch: BranchId, class: ClassId) -> Result<Vec<Registration>> {
    let Some(doc) = load(db, DocKey::Roster(class))? else {
        return Ok(Vec::new());
    };
    let regs = RosterDoc::from_doc(doc)
        .and_then(|r| r.registrations())
        .map_err(CentralError::Document)?;
    let policy = policy_for(db, branch, class)?;
    let roster = seats::compute_roster(&policy, &regs);
    let holding: BTreeSet<RegistrationId> = roster
        .entries
        .iter()
        .filter(|e| e.state == seats::SeatState::Confirmed)
        .map(|e| e.registration_id)
        .collect();
    Ok(regs
        .into_iter()
        .filter(|r| holding.contains(&r.id))
        .collect())
}

/// After an office edit of a catalog, in its transaction: a message to everyone with a
/// seat for each session moved (date or time) or cancelled that has not begun. A reminder
/// queued for the old time is withdrawn (a new one follows for the new date).
pub(crate) fn sessions_changed(
    db: &Db<'_>,
    before: &Catalog,
    after: &Catalog,
    now_ms: i64,
) -> Result<usize> {
    let zone = zone();
    let branch = after.branch.id;
    let mut queued = 0;
    for new in &after.sessions {
        let Some(old) = before.sessions.iter().find(|s| s.id == new.id) else {
            continue;
        };
        let moved = old.date != new.date || old.start != new.start;
        let cancelled = new.cancelled && !old.cancelled;
        if old.cancelled || !(moved || cancelled) {
            continue;
        }
        let Some(class) = after.class(new.class_id) else {
            continue;
        };
        let old_start = session_start_ms(&old.date, &old.start, &zone);
        let new_start = session_start_ms(&new.date, &new.start, &zone);
        // Worth saying until the later of the two times has come.
        let until = old_start.max(new_start);
        if until.is_none_or(|at| at <= now_ms) {
            continue;
        }
        let (notice, dedup) = if cancelled {
            (
                Notice::SessionCancelled {
                    class_title: class.title.clone(),
                    session: when(old, &class.room),
                },
                format!("session_cancelled:{}", new.id),
            )
        } else {
            (
                Notice::SessionMoved {
                    class_title: class.title.clone(),
                    from: when(old, &class.room),
                    to: when(new, &class.room),
                },
                format!("session_moved:{}:{}T{}", new.id, new.date, new.start),
            )
        };
        db.cancel_notices_like(
            &format!("reminder:{}:{}:%", new.id, old.date),
            reason::SESSION_CHANGED,
            &crate::central::now_text(),
        )?;
        for reg in confirmed(db, branch, new.class_id)? {
            let dedup = format!("{dedup}:{}", reg.id);
            if queue(
                db,
                &dedup,
                Some(reg.person_id),
                Some(branch),
                &notice,
                now_ms,
                until,
            )? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// After the office set a request's status, in its transaction: a message when it is a
/// decision (accepted, rejected) or more information is needed. Never the staff's note.
/// `at` is the status step's stamp: each step is its own message.
pub(crate) fn request_decided(
    db: &Db<'_>,
    request: &IntakeRequest,
    status: RequestStatus,
    at: Hlc,
    now_ms: i64,
) -> Result<bool> {
    if !matches!(
        status,
        RequestStatus::Accepted | RequestStatus::Rejected | RequestStatus::MoreInformationNeeded
    ) {
        return Ok(false);
    }
    queue(
        db,
        &format!("request_status:{}:{}:{at}", request.id, status.code()),
        Some(request.person_id),
        Some(request.branch_id),
        &Notice::RequestStatus {
            reference: request.reference.clone(),
            status,
        },
        now_ms,
        None,
    )
}

/// The day whose reminders are due at `now` and not yet queued (`None`: none are).
pub(crate) fn reminders_day(db: &Db<'_>, now: Timestamp, at: Time) -> Result<Option<String>> {
    let local = now.to_zoned(zone());
    if local.time() < at {
        return Ok(None);
    }
    let Ok(tomorrow) = local.date().tomorrow() else {
        return Ok(None);
    };
    let day = tomorrow.to_string();
    if db.meta("reminders_done")?.as_deref() >= Some(day.as_str()) {
        return Ok(None);
    }
    Ok(Some(day))
}

/// The day-before reminders: from `at` (local time) on the day before a session, one
/// message to each person holding a seat for it since before that time (someone who took
/// a seat later has just seen the date). Run by the sender; once a day is done it is
/// remembered. Returns how many were queued.
pub(crate) fn schedule_reminders(db: &Db<'_>, now: Timestamp, at: Time) -> Result<usize> {
    let Some(day) = reminders_day(db, now, at)? else {
        return Ok(0);
    };
    let zone = zone();
    let local = now.to_zoned(zone.clone());
    let cutoff_ms = local
        .date()
        .to_datetime(at)
        .to_zoned(zone.clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now.as_millisecond());
    let now_ms = now.as_millisecond();
    let mut queued = 0;
    for branch in db.branches()? {
        let catalog = stored_catalog(db, branch.id)?;
        for session in catalog
            .sessions
            .iter()
            .filter(|s| s.date == day && !s.cancelled)
        {
            let Some(class) = catalog.class(session.class_id) else {
                continue;
            };
            let expires = session_start_ms(&session.date, &session.start, &zone);
            let later = catalog
                .sessions
                .iter()
                .filter(|s| s.class_id == session.class_id && !s.cancelled)
                .filter(|s| (&s.date, &s.start) > (&session.date, &session.start))
                .count();
            let notice = Notice::Reminder {
                class_title: class.title.clone(),
                session: when(session, &class.room),
                sessions_left: u32::try_from(later).ok(),
            };
            for reg in confirmed(db, branch.id, session.class_id)? {
                let seated_before = seat(&reg).is_some_and(|(g, _)| (g.wall_ms as i64) < cutoff_ms);
                if !seated_before {
                    continue;
                }
                let dedup = format!("reminder:{}:{}:{}", session.id, session.date, reg.id);
                if queue(
                    db,
                    &dedup,
                    Some(reg.person_id),
                    Some(branch.id),
                    &notice,
                    now_ms,
                    expires,
                )? {
                    queued += 1;
                }
            }
        }
    }
    db.set_meta("reminders_done", &day)?;
    Ok(queued)
}
