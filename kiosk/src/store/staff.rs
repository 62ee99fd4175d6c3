//! Queries of staff mode: who may use it, today's sessions, and rosters with names.

use blisko_shared::sqlite::Cached as _;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use blisko_shared::collate;
use blisko_shared::ids::{ClassId, PersonId, RegistrationId, SessionId, StaffId};
use blisko_shared::model::StaffRole;
use blisko_shared::seats::SeatStatus;

use super::{Context, Result, Store, StoreError};

/// A staff member as the kiosk knows them, with the argon2 hash of their PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub id: StaffId,
    pub name: String,
    pub role: StaffRole,
    pub pin_hash: String,
}

/// One dated session of a class of this branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRow {
    pub id: SessionId,
    pub class_id: ClassId,
    pub class_title: String,
    pub room: String,
    pub date: String,
    pub start: String,
    pub minutes: u32,
}

/// A registration with the name of its person, for staff eyes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedRegistration {
    pub registration_id: RegistrationId,
    pub person_id: PersonId,
    /// Empty when the person's details are not here: not arrived yet, dropped after the
    /// retention period, or erased (see `erased`).
    pub given_name: String,
    pub family_name: String,
    /// The office erased the person's data: their details will never be here.
    pub erased: bool,
    pub status: SeatStatus,
    pub position: Option<u32>,
}

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt {
        what: what.to_owned(),
        detail: value.chars().take(80).collect(),
    }
}

impl Store {
    pub fn staff(&self) -> Result<Vec<StaffRow>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, name, role, pin_hash FROM staff ORDER BY name, id")
            .ctx("list staff")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .ctx("list staff")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list staff")?;
        rows.into_iter()
            .map(|(id, name, role, pin_hash)| {
                Ok(StaffRow {
                    id: id.parse().map_err(|_| bad("staff id", &id))?,
                    name,
                    role: StaffRole::from_code(&role).ok_or_else(|| bad("staff role", &role))?,
                    pin_hash,
                })
            })
            .collect()
    }

    /// Sessions on `date` (ISO) of this kiosk's classes, by start time.
    pub fn sessions_on(&self, date: &str) -> Result<Vec<SessionRow>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT s.id, s.class_id, c.title, c.room, s.date, s.start, s.minutes
                 FROM sessions s JOIN classes c ON c.id = s.class_id
                 WHERE s.date = ?1 ORDER BY s.id",
            )
            .ctx("list sessions")?;
        let rows = stmt
            .query_map([date], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, u32>(6)?,
                ))
            })
            .ctx("list sessions")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list sessions")?;
        let mut rows = rows;
        rows.sort_by_cached_key(|(_, _, title, _, _, start, _)| {
            (start.clone(), collate::sort_key(title))
        });
        rows.into_iter()
            .map(|(id, class, class_title, room, date, start, minutes)| {
                Ok(SessionRow {
                    id: id.parse().map_err(|_| bad("session id", &id))?,
                    class_id: class.parse().map_err(|_| bad("class id", &class))?,
                    class_title,
                    room,
                    date,
                    start,
                    minutes,
                })
            })
            .collect()
    }

    pub fn session(&self, id: SessionId) -> Result<Option<SessionRow>> {
        let row: Option<String> = self
            .conn()
            .query_row_cached(
                "SELECT date FROM sessions WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a session")?;
        let Some(date) = row else { return Ok(None) };
        Ok(self.sessions_on(&date)?.into_iter().find(|s| s.id == id))
    }

    /// The first session of `class` that starts after `date` `time` (ISO date, "HH:MM"):
    /// what a registration receipt and its slip name as the next meeting.
    pub fn next_session(
        &self,
        class: ClassId,
        date: &str,
        time: &str,
    ) -> Result<Option<SessionRow>> {
        let row: Option<(String, String)> = self
            .conn()
            .query_row_cached(
                "SELECT id, date FROM sessions
                 WHERE class_id = ?1 AND (date > ?2 OR (date = ?2 AND start >= ?3))
                 ORDER BY date, start LIMIT 1",
                params![class.to_string(), date, time],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ctx("find the next session")?;
        let Some((id, date)) = row else {
            return Ok(None);
        };
        Ok(self
            .sessions_on(&date)?
            .into_iter()
            .find(|s| s.id.to_string() == id))
    }

    /// A class's registrations with names: confirmed, then waiting, then cancelled.
    pub fn named_roster(&self, class: ClassId) -> Result<Vec<NamedRegistration>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT r.id, r.person_id, coalesce(p.given_name, ''), coalesce(p.family_name, ''),
                        r.status, r.position, coalesce(k.erased, 0)
                 FROM registrations r LEFT JOIN persons p ON p.id = r.person_id
                      LEFT JOIN person_keys k ON k.person_id = r.person_id
                 WHERE r.class_id = ?1
                 ORDER BY r.id",
            )
            .ctx("read a roster with names")?;
        let rows = stmt
            .query_map(params![class.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, SeatStatus>(4)?,
                    r.get::<_, Option<u32>>(5)?,
                    r.get::<_, bool>(6)?,
                ))
            })
            .ctx("read a roster with names")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("read a roster with names")?;
        // Names sort in Polish alphabetical order (SQLite only knows byte order, which
        // puts Łukasiewicz after Zięba): confirmed, then the waiting list by position,
        // then cancellations.
        let mut rows = rows;
        rows.sort_by_cached_key(|(_, _, given, family, status, position, _)| {
            let rank = match status {
                SeatStatus::Confirmed => 0,
                SeatStatus::Waitlisted => 1,
                _ => 2,
            };
            (rank, *position, collate::person_sort_key(family, given))
        });
        rows.into_iter()
            .map(
                |(id, person, given_name, family_name, status, position, erased)| {
                    Ok(NamedRegistration {
                        registration_id: id.parse().map_err(|_| bad("registration id", &id))?,
                        person_id: person.parse().map_err(|_| bad("person id", &person))?,
                        given_name,
                        family_name,
                        erased,
                        status,
                        position,
                    })
                },
            )
            .collect()
    }
}
