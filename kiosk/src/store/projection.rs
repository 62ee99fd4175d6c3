//! The relational projection: rows the UI and the command line read, written in the same
//! transaction as the document change they reflect.

use std::collections::BTreeMap;

use blisko_shared::sqlite::Cached as _;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use blisko_shared::collate;
use blisko_shared::ids::{BranchId, ClassId, KioskId, PersonId, RegistrationId, ServiceId};
use blisko_shared::model::{
    Branch, Catalog, ConsentKind, IntakeRequest, Person, Registration, Service, WeeklySlot,
};
use blisko_shared::seats::{SeatState, SeatStatus};

use super::{Context, Result, Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassRow {
    pub id: ClassId,
    pub branch_id: BranchId,
    pub title: String,
    pub description: String,
    pub instructor: String,
    pub room: String,
    pub capacity: u32,
    pub waitlist_limit: u32,
    pub age_group: String,
    pub schedule: Vec<WeeklySlot>,
    pub registration_opens: Option<String>,
    pub registration_closes: Option<String>,
    pub confirmed: u32,
    pub waitlisted: u32,
    /// Seats this kiosk can confirm right now.
    pub free_seats: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationRow {
    pub registration_id: RegistrationId,
    pub class_id: ClassId,
    pub person_id: PersonId,
    pub kiosk_id: KioskId,
    pub created: String,
    pub status: SeatStatus,
    pub position: Option<u32>,
    /// The office erased the person's data.
    pub person_erased: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRow {
    pub id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub birth_year: u16,
    pub resident_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    pub id: String,
    pub reference: String,
    pub service_id: ServiceId,
    pub service_name: String,
    pub status: String,
    pub created: String,
    /// The office's message to the resident, read from the request's document when the
    /// resident looks their requests up (not kept in the projection).
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub classes: u64,
    pub persons: u64,
    pub registrations_active: u64,
    pub registrations_confirmed: u64,
    pub registrations_waitlisted: u64,
    pub intake_requests: u64,
    pub documents: u64,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt {
        what: what.to_owned(),
        detail: value.chars().take(80).collect(),
    }
}

fn parse<T: std::str::FromStr>(what: &str, value: String) -> Result<T> {
    value.parse().map_err(|_| corrupt(what, &value))
}

impl Tx<'_> {
    /// Replace this branch's catalog rows. Class seat counts are kept; the caller
    /// recomputes them from the rosters.
    pub fn project_catalog(&self, catalog: &Catalog) -> Result<()> {
        let c = self.conn();
        let b = &catalog.branch;
        let branch_id = b.id.to_string();
        c.execute_cached(
            "INSERT INTO branches (id, code, name, address, opening_hours, help)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name,
                address = excluded.address, opening_hours = excluded.opening_hours,
                help = excluded.help",
            params![
                branch_id,
                b.code,
                b.name,
                b.address,
                b.opening_hours,
                b.help
            ],
        )
        .ctx("project the branch")?;

        c.execute_cached("DELETE FROM classes WHERE branch_id = ?1", [&branch_id])
            .ctx("project classes")?;
        for class in &catalog.classes {
            let schedule = serde_json::to_string(&class.schedule)
                .map_err(|e| corrupt("schedule", &e.to_string()))?;
            c.execute_cached(
                "INSERT INTO classes (id, branch_id, title, description, instructor, room, capacity,
                    waitlist_limit, age_group, schedule_json, opens, closes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    class.id.to_string(),
                    branch_id,
                    class.title,
                    class.description,
                    class.instructor,
                    class.room,
                    class.capacity,
                    class.waitlist_limit,
                    class.age_group,
                    schedule,
                    class.registration_opens,
                    class.registration_closes
                ],
            )
            .ctx("project a class")?;
            c.execute_cached(
                "DELETE FROM allotments WHERE class_id = ?1",
                [class.id.to_string()],
            )
            .ctx("project allotments")?;
            for (kiosk, seats) in catalog.allotments_of(class.id) {
                c.execute_cached(
                    "INSERT INTO allotments (class_id, kiosk_id, seats) VALUES (?1, ?2, ?3)",
                    params![class.id.to_string(), kiosk.to_string(), seats],
                )
                .ctx("project an allotment")?;
            }
            c.execute_cached(
                "DELETE FROM sessions WHERE class_id = ?1",
                [class.id.to_string()],
            )
            .ctx("project sessions")?;
        }
        // A cancelled session has no roll call: staff mode does not list it.
        for s in catalog.sessions.iter().filter(|s| !s.cancelled) {
            c.execute_cached(
                "INSERT INTO sessions (id, class_id, date, start, minutes) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET class_id = excluded.class_id, date = excluded.date,
                    start = excluded.start, minutes = excluded.minutes",
                params![s.id.to_string(), s.class_id.to_string(), s.date, s.start, s.minutes],
            )
            .ctx("project a session")?;
        }
        c.execute_cached("DELETE FROM services WHERE branch_id = ?1", [&branch_id])
            .ctx("project services")?;
        for s in &catalog.services {
            c.execute_cached(
                "INSERT INTO services (id, branch_id, name, description, requires_pesel, conditions, legal_basis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    s.id.to_string(),
                    branch_id,
                    s.name,
                    s.description,
                    s.requires_pesel,
                    s.conditions,
                    s.legal_basis
                ],
            )
            .ctx("project a service")?;
        }
        c.execute_cached("DELETE FROM staff", [])
            .ctx("project staff")?;
        for s in &catalog.staff {
            c.execute_cached(
                "INSERT INTO staff (id, name, role, pin_hash) VALUES (?1, ?2, ?3, ?4)",
                params![s.id.to_string(), s.name, s.role.code(), s.pin_hash],
            )
            .ctx("project a staff member")?;
        }
        Ok(())
    }

    pub fn upsert_person(&self, p: &Person) -> Result<()> {
        let sms_consent = p
            .consents
            .iter()
            .find(|c| c.kind == ConsentKind::SmsReminders)
            .map(|c| c.text_version.as_str());
        self.conn()
            .prepare_cached(
                "INSERT INTO persons (id, given_name, family_name, birth_year, phone, resident_code, home_branch, created, sms_consent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET given_name = excluded.given_name,
                    family_name = excluded.family_name, birth_year = excluded.birth_year,
                    phone = excluded.phone, resident_code = excluded.resident_code,
                    home_branch = excluded.home_branch, sms_consent = excluded.sms_consent",
            )
            .ctx("project a person")?
            .execute(params![
                    p.id.to_string(),
                    p.given_name,
                    p.family_name,
                    p.birth_year,
                    p.phone,
                    p.resident_code,
                    p.home_branch.to_string(),
                p.created.to_string(),
                sms_consent
            ])
            .ctx("project a person")?;
        Ok(())
    }

    /// Write registrations with their computed state.
    pub fn upsert_registration(&self, r: &Registration, state: SeatState) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO registrations (id, class_id, person_id, kiosk_id, created, cancelled, status, position)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (id) DO UPDATE SET cancelled = excluded.cancelled,
                    status = excluded.status, position = excluded.position",
            )
            .ctx("project a registration")?
            .execute(params![
                r.id.to_string(),
                r.class_id.to_string(),
                r.person_id.to_string(),
                r.kiosk_id.to_string(),
                r.created.to_string(),
                r.cancelled.map(|c| c.to_string()),
                state.code(),
                state.position()
            ])
            .ctx("project a registration")?;
        Ok(())
    }

    pub fn set_class_counts(
        &self,
        class: ClassId,
        confirmed: u32,
        waitlisted: u32,
        free_here: u32,
    ) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE classes SET confirmed = ?2, waitlisted = ?3, free_here = ?4 WHERE id = ?1",
            )
            .ctx("project class counts")?
            .execute(params![class.to_string(), confirmed, waitlisted, free_here])
            .ctx("project class counts")?;
        Ok(())
    }

    pub fn upsert_request(&self, r: &IntakeRequest) -> Result<()> {
        let created = r
            .history
            .first()
            .map(|h| h.at.to_string())
            .unwrap_or_default();
        self.conn()
            .execute_cached(
                "INSERT INTO intake_requests (id, reference, person_id, service_id, branch_id, status, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status",
                params![
                    r.id.to_string(),
                    r.reference,
                    r.person_id.to_string(),
                    r.service_id.to_string(),
                    r.branch_id.to_string(),
                    r.status().code(),
                    created
                ],
            )
            .ctx("project an intake request")?;
        Ok(())
    }
}

const CLASS_COLUMNS: &str =
    "id, branch_id, title, description, instructor, room, capacity, waitlist_limit,
    age_group, schedule_json, opens, closes, confirmed, waitlisted, free_here";

fn class_row(r: &Row<'_>) -> rusqlite::Result<[String; 3]> {
    Ok([r.get(0)?, r.get(1)?, r.get(9)?])
}

impl Store {
    fn read_class(&self, r: &Row<'_>) -> Result<ClassRow> {
        let [id, branch_id, schedule] = class_row(r).ctx("read a class")?;
        let get = |i| -> Result<String> { r.get(i).ctx("read a class") };
        let num = |i| -> Result<u32> { r.get(i).ctx("read a class") };
        Ok(ClassRow {
            id: parse("class id", id)?,
            branch_id: parse("branch id", branch_id)?,
            title: get(2)?,
            description: get(3)?,
            instructor: get(4)?,
            room: get(5)?,
            capacity: num(6)?,
            waitlist_limit: num(7)?,
            age_group: get(8)?,
            schedule: serde_json::from_str(&schedule)
                .map_err(|_| corrupt("schedule", &schedule))?,
            registration_opens: r.get(10).ctx("read a class")?,
            registration_closes: r.get(11).ctx("read a class")?,
            confirmed: num(12)?,
            waitlisted: num(13)?,
            free_seats: num(14)?,
        })
    }

    pub fn classes(&self) -> Result<Vec<ClassRow>> {
        let sql = format!("SELECT {CLASS_COLUMNS} FROM classes ORDER BY id");
        let mut stmt = self.conn().prepare_cached(&sql).ctx("list classes")?;
        let mut rows = stmt.query([]).ctx("list classes")?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().ctx("list classes")? {
            out.push(self.read_class(row)?);
        }
        // Titles in Polish alphabetical order ("Ćwiczenia" after "Czytanie").
        out.sort_by_cached_key(|c: &ClassRow| collate::sort_key(&c.title));
        Ok(out)
    }

    pub fn class(&self, id: ClassId) -> Result<Option<ClassRow>> {
        let sql = format!("SELECT {CLASS_COLUMNS} FROM classes WHERE id = ?1");
        let mut stmt = self.conn().prepare_cached(&sql).ctx("read a class")?;
        let mut rows = stmt.query([id.to_string()]).ctx("read a class")?;
        match rows.next().ctx("read a class")? {
            Some(row) => self.read_class(row).map(Some),
            None => Ok(None),
        }
    }

    pub fn allotments(&self, class: ClassId) -> Result<BTreeMap<KioskId, u32>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT kiosk_id, seats FROM allotments WHERE class_id = ?1")
            .ctx("read allotments")?;
        let rows = stmt
            .query_map([class.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))
            })
            .ctx("read allotments")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("read allotments")?;
        rows.into_iter()
            .map(|(kiosk, seats)| Ok((parse("kiosk id", kiosk)?, seats)))
            .collect()
    }

    pub fn branch(&self, id: BranchId) -> Result<Option<Branch>> {
        self.conn()
            .query_row_cached(
                "SELECT code, name, address, opening_hours, help FROM branches WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok(Branch {
                        id,
                        code: r.get(0)?,
                        name: r.get(1)?,
                        address: r.get(2)?,
                        opening_hours: r.get(3)?,
                        help: r.get(4)?,
                    })
                },
            )
            .optional()
            .ctx("read the branch")
    }

    pub fn services(&self) -> Result<Vec<Service>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT id, name, description, requires_pesel, conditions, legal_basis
                 FROM services",
            )
            .ctx("list services")?;
        type Row = (String, String, String, bool, String, String);
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })
            .ctx("list services")?
            .collect::<rusqlite::Result<Vec<Row>>>()
            .ctx("list services")?;
        rows.into_iter()
            .map(
                |(id, name, description, requires_pesel, conditions, legal_basis)| {
                    Ok(Service {
                        id: parse("service id", id)?,
                        name,
                        description,
                        requires_pesel,
                        conditions,
                        legal_basis,
                    })
                },
            )
            .collect::<Result<Vec<Service>>>()
            .map(|mut services| {
                // Polish order (SQLite's is by bytes: Ćwiczenia, Łucznictwo after Zumba).
                services.sort_by_cached_key(|s| collate::sort_key(&s.name));
                services
            })
    }

    pub fn person_by_code(&self, code: &str) -> Result<Option<PersonRow>> {
        let row = self
            .conn()
            .query_row_cached(
                "SELECT id, given_name, family_name, birth_year, resident_code FROM persons WHERE resident_code = ?1",
                [code],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                    ))
                },
            )
            .optional()
            .ctx("look up a resident code")?;
        row.map(|(id, given_name, family_name, birth_year, resident_code)| {
            Ok(PersonRow {
                id: parse("person id", id)?,
                given_name,
                family_name,
                birth_year,
                resident_code,
            })
        })
        .transpose()
    }

    fn registration_rows(&self, sql: &str, arg: String) -> Result<Vec<RegistrationRow>> {
        let mut stmt = self.conn().prepare_cached(sql).ctx("read registrations")?;
        let rows = stmt
            .query_map([arg], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, SeatStatus>(5)?,
                    r.get::<_, Option<u32>>(6)?,
                    r.get::<_, bool>(7)?,
                ))
            })
            .ctx("read registrations")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("read registrations")?;
        rows.into_iter()
            .map(
                |(id, class, person, kiosk, created, status, position, person_erased)| {
                    Ok(RegistrationRow {
                        registration_id: parse("registration id", id)?,
                        class_id: parse("class id", class)?,
                        person_id: parse("person id", person)?,
                        kiosk_id: parse("kiosk id", kiosk)?,
                        created,
                        status,
                        position,
                        person_erased,
                    })
                },
            )
            .collect()
    }

    /// A class's roster: confirmed, then the waiting list in order, then cancellations.
    pub fn roster(&self, class: ClassId) -> Result<Vec<RegistrationRow>> {
        self.registration_rows(
            "SELECT id, class_id, person_id, kiosk_id, created, status, position, EXISTS (SELECT 1 FROM person_keys k WHERE k.person_id = registrations.person_id AND k.erased = 1) FROM registrations
             WHERE class_id = ?1
             ORDER BY CASE status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END,
                      position, created, id",
            class.to_string(),
        )
    }

    pub fn registrations_of(&self, person: PersonId) -> Result<Vec<RegistrationRow>> {
        self.registration_rows(
            "SELECT id, class_id, person_id, kiosk_id, created, status, position, EXISTS (SELECT 1 FROM person_keys k WHERE k.person_id = registrations.person_id AND k.erased = 1) FROM registrations
             WHERE person_id = ?1 ORDER BY created",
            person.to_string(),
        )
    }

    pub fn registration(&self, id: RegistrationId) -> Result<Option<RegistrationRow>> {
        Ok(self
            .registration_rows(
                "SELECT id, class_id, person_id, kiosk_id, created, status, position, EXISTS (SELECT 1 FROM person_keys k WHERE k.person_id = registrations.person_id AND k.erased = 1) FROM registrations WHERE id = ?1",
                id.to_string(),
            )?
            .pop())
    }

    pub fn requests_of(&self, person: PersonId) -> Result<Vec<RequestRow>> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT r.id, r.reference, r.service_id, coalesce(s.name, ''), r.status, r.created
                 FROM intake_requests r LEFT JOIN services s ON s.id = r.service_id
                 WHERE r.person_id = ?1 ORDER BY r.created",
            )
            .ctx("read intake requests")?;
        let rows = stmt
            .query_map([person.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })
            .ctx("read intake requests")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("read intake requests")?;
        rows.into_iter()
            .map(|(id, reference, service, service_name, status, created)| {
                Ok(RequestRow {
                    id,
                    reference,
                    service_id: parse("service id", service)?,
                    service_name,
                    status,
                    created,
                    message: None,
                })
            })
            .collect()
    }

    pub fn resident_code_taken(&self, code: &str) -> Result<bool> {
        self.conn()
            .query_row_cached(
                "SELECT EXISTS (SELECT 1 FROM persons WHERE resident_code = ?1)",
                [code],
                |r| r.get(0),
            )
            .ctx("check a resident code")
    }

    pub fn counts(&self) -> Result<Counts> {
        self.conn()
            .query_row_cached(
                "SELECT (SELECT count(*) FROM classes),
                        (SELECT count(*) FROM persons),
                        (SELECT count(*) FROM registrations WHERE status != 'cancelled'),
                        (SELECT count(*) FROM registrations WHERE status = 'confirmed'),
                        (SELECT count(*) FROM registrations WHERE status = 'waitlisted'),
                        (SELECT count(*) FROM intake_requests),
                        (SELECT count(*) FROM documents)",
                [],
                |r| {
                    Ok(Counts {
                        classes: r.get::<_, i64>(0)? as u64,
                        persons: r.get::<_, i64>(1)? as u64,
                        registrations_active: r.get::<_, i64>(2)? as u64,
                        registrations_confirmed: r.get::<_, i64>(3)? as u64,
                        registrations_waitlisted: r.get::<_, i64>(4)? as u64,
                        intake_requests: r.get::<_, i64>(5)? as u64,
                        documents: r.get::<_, i64>(6)? as u64,
                    })
                },
            )
            .ctx("count records")
    }

    /// Projected registrations with state, for consistency checks.
    pub fn all_registration_states(
        &self,
    ) -> Result<BTreeMap<RegistrationId, (SeatStatus, Option<u32>)>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, status, position FROM registrations")
            .ctx("read registrations")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, SeatStatus>(1)?,
                    r.get::<_, Option<u32>>(2)?,
                ))
            })
            .ctx("read registrations")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("read registrations")?;
        rows.into_iter()
            .map(|(id, status, position)| Ok((parse("registration id", id)?, (status, position))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blisko_shared::sqlite::StoreKey;

    #[test]
    fn the_services_screen_lists_services_in_polish_order() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| corrupt("a scratch folder", &e.to_string()))?;
        let mut store = Store::open(dir.path(), &StoreKey::random())?;
        let from = jiff::civil::date(2026, 3, 2);
        let mut catalog = blisko_shared::demo::catalogs(from, 1, None)
            .into_iter()
            .next()
            .ok_or_else(|| corrupt("the demo catalogue", "empty"))?;
        let template = catalog
            .services
            .first()
            .cloned()
            .ok_or_else(|| corrupt("the demo services", "empty"))?;
        catalog.services = [
            "Zumba",
            "Żeglarstwo",
            "Łucznictwo",
            "Czytanie",
            "Ćwiczenia",
            "Lekcje",
        ]
        .iter()
        .map(|name| Service {
            id: blisko_shared::ids::ServiceId::new(),
            name: (*name).to_owned(),
            ..template.clone()
        })
        .collect();
        let tx = store.write()?;
        tx.project_catalog(&catalog)?;
        tx.commit()?;
        let names: Vec<String> = store.services()?.into_iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "Czytanie",
                "Ćwiczenia",
                "Lekcje",
                "Łucznictwo",
                "Zumba",
                "Żeglarstwo"
            ]
        );
        Ok(())
    }
}
