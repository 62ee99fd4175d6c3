//! SQL of the office page: staff accounts and sessions, staff notes, duplicate decisions,
//! and the office projection of the merged documents (tables `o_*`).

use super::sql::{OptionalExtension, Row, params};
use serde::Serialize;

use blisko_shared::collate;
use blisko_shared::docs::DocKey;
use blisko_shared::fold::{fold, name_matches};

use super::sql::Context;
use super::{Db, Result, parse};
use blisko_shared::seats::SeatStatus;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffRow {
    pub id: String,
    pub login: String,
    pub name: String,
    pub role: String,
    pub branch_id: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    /// A temporary password: the account may do nothing but change it.
    pub must_change_password: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

pub(super) fn staff_row(r: &Row<'_>) -> super::sql::SqlResult<StaffRow> {
    Ok(StaffRow {
        id: r.get(0)?,
        login: r.get(1)?,
        name: r.get(2)?,
        role: r.get(3)?,
        branch_id: r.get(4)?,
        password_hash: r.get(5)?,
        disabled: r.get(6)?,
        must_change_password: r.get(7)?,
        created_at: r.get(8)?,
        last_login_at: r.get(9)?,
    })
}

pub(super) const STAFF_COLUMNS: &str = "id, login, name, role, branch_id, password_hash, disabled_at IS NOT NULL, must_change_password, created_at, last_login_at";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub staff: StaffRow,
    pub csrf: String,
    pub expires_at: String,
}

/// A person as the office projection holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OPerson {
    pub id: String,
    pub branch_id: String,
    pub kiosk_id: Option<String>,
    pub given: String,
    pub family: String,
    pub birth_year: i64,
    pub phone: Option<String>,
    pub resident_code: String,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ORegistration {
    pub id: String,
    pub class_id: String,
    pub branch_id: String,
    pub person_id: String,
    pub kiosk_id: String,
    pub created: String,
    pub created_ms: i64,
    pub status: SeatStatus,
    pub position: Option<i64>,
    pub seat_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OAttendance {
    pub session_id: String,
    pub registration_id: String,
    pub class_id: String,
    pub branch_id: String,
    pub status: String,
    pub marks: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ORequest {
    pub id: String,
    pub reference: String,
    pub person_id: String,
    pub branch_id: String,
    pub kiosk_id: String,
    pub service_id: String,
    pub status: String,
    pub submitted: String,
    pub submitted_ms: i64,
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OClass {
    pub id: String,
    pub branch_id: String,
    pub title: String,
    pub instructor: String,
    pub capacity: i64,
    pub waitlist_limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OSession {
    pub id: String,
    pub class_id: String,
    pub date: String,
    pub start: String,
    pub minutes: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoteRow {
    pub request_id: String,
    pub staff_id: String,
    pub staff_name: String,
    pub at: String,
    pub status: String,
    pub note: String,
}

/// Filters of the request queue; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    pub status: Option<String>,
    pub service: Option<String>,
    pub branch: Option<String>,
    pub person: Option<String>,
}

fn person_row(r: &Row<'_>) -> super::sql::SqlResult<OPerson> {
    Ok(OPerson {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        kiosk_id: r.get(2)?,
        given: r.get(3)?,
        family: r.get(4)?,
        birth_year: r.get(5)?,
        phone: r.get(6)?,
        resident_code: r.get(7)?,
        created: r.get(8)?,
    })
}
const PERSON_COLUMNS: &str =
    "id, branch_id, kiosk_id, given, family, birth_year, phone, resident_code, created";

fn registration_row(r: &Row<'_>) -> super::sql::SqlResult<ORegistration> {
    Ok(ORegistration {
        id: r.get(0)?,
        class_id: r.get(1)?,
        branch_id: r.get(2)?,
        person_id: r.get(3)?,
        kiosk_id: r.get(4)?,
        created: r.get(5)?,
        created_ms: r.get(6)?,
        status: r.get(7)?,
        position: r.get(8)?,
        seat_of: r.get(9)?,
    })
}
const REGISTRATION_COLUMNS: &str =
    "id, class_id, branch_id, person_id, kiosk_id, created, created_ms, status, position, seat_of";

fn attendance_row(r: &Row<'_>) -> super::sql::SqlResult<OAttendance> {
    Ok(OAttendance {
        session_id: r.get(0)?,
        registration_id: r.get(1)?,
        class_id: r.get(2)?,
        branch_id: r.get(3)?,
        status: r.get(4)?,
        marks: r.get(5)?,
    })
}
const ATTENDANCE_COLUMNS: &str = "session_id, registration_id, class_id, branch_id, status, marks";

fn request_row(r: &Row<'_>) -> super::sql::SqlResult<ORequest> {
    Ok(ORequest {
        id: r.get(0)?,
        reference: r.get(1)?,
        person_id: r.get(2)?,
        branch_id: r.get(3)?,
        kiosk_id: r.get(4)?,
        service_id: r.get(5)?,
        status: r.get(6)?,
        submitted: r.get(7)?,
        submitted_ms: r.get(8)?,
        updated: r.get(9)?,
    })
}
const REQUEST_COLUMNS: &str = "id, reference, person_id, branch_id, kiosk_id, service_id, status, submitted, submitted_ms, updated";

fn class_row(r: &Row<'_>) -> super::sql::SqlResult<OClass> {
    Ok(OClass {
        id: r.get(0)?,
        branch_id: r.get(1)?,
        title: r.get(2)?,
        instructor: r.get(3)?,
        capacity: r.get(4)?,
        waitlist_limit: r.get(5)?,
    })
}

fn session_row(r: &Row<'_>) -> super::sql::SqlResult<OSession> {
    Ok(OSession {
        id: r.get(0)?,
        class_id: r.get(1)?,
        date: r.get(2)?,
        start: r.get(3)?,
        minutes: r.get(4)?,
    })
}

impl Db<'_> {
    /// How far the projection into the personal file has got (see `personal.sql`).
    pub fn personal_projected(&self, name: &str) -> Result<Option<i64>> {
        self.tx
            .query_row(
                "SELECT seq FROM personal.projected WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .ctx("read the personal projection's position")
    }

    pub fn set_personal_projected(&self, name: &str, seq: i64) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO personal.projected (name, seq) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
                params![name, seq],
            )
            .ctx("save the personal projection's position")?;
        Ok(())
    }

    fn rows<T>(
        &self,
        what: &'static str,
        sql: &str,
        params: impl super::sql::Params,
        f: impl FnMut(&Row<'_>) -> super::sql::SqlResult<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.tx.prepare_cached(sql).ctx(what)?;
        let rows = stmt
            .query_map(params, f)
            .ctx(what)?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx(what)?;
        Ok(rows)
    }

    pub(super) fn exec(
        &self,
        what: &'static str,
        sql: &str,
        params: impl super::sql::Params,
    ) -> Result<usize> {
        self.tx
            .prepare_cached(sql)
            .ctx(what)?
            .execute(params)
            .ctx(what)
    }

    // ----- staff -----

    pub fn insert_staff(&self, staff: &StaffRow, now: &str) -> Result<()> {
        self.exec(
            "add a staff account",
            "INSERT INTO staff (id, login, name, role, branch_id, password_hash, created_at, must_change_password)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                staff.id,
                staff.login,
                staff.name,
                staff.role,
                staff.branch_id,
                staff.password_hash,
                now,
                staff.must_change_password
            ],
        )?;
        Ok(())
    }

    pub fn staff_by_login(&self, login: &str) -> Result<Option<StaffRow>> {
        self.tx
            .query_row(
                &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE login = ?1"),
                [login],
                staff_row,
            )
            .optional()
            .ctx("find a staff account")
    }

    /// Accounts in Polish order of their names (then by login): the staff list and every
    /// choice of a person (the audit's "who", a request's caseworker) read as a list of names.
    pub fn staff_list(&self) -> Result<Vec<StaffRow>> {
        self.rows(
            "list staff",
            &format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY login"),
            (),
            staff_row,
        )
        .map(|mut staff: Vec<StaffRow>| {
            staff.sort_by_cached_key(|s| (collate::sort_key(&s.name), s.login.clone()));
            staff
        })
    }

    pub fn staff_names(&self) -> Result<Vec<(String, String)>> {
        self.rows("list staff", "SELECT id, name FROM staff", (), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    // ----- sessions -----

    pub fn insert_office_session(
        &self,
        token_hash: &[u8],
        staff_id: &str,
        csrf: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<()> {
        self.exec(
            "expire old sessions",
            "DELETE FROM office_sessions WHERE expires_at <= ?1",
            [now],
        )?;
        self.exec(
            "start a session",
            "INSERT INTO office_sessions (token_hash, staff_id, csrf, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, staff_id, csrf, now, expires_at],
        )?;
        Ok(())
    }

    /// A live session (unexpired, its staff account not disabled).
    pub fn office_session(&self, token_hash: &[u8], now: &str) -> Result<Option<SessionRow>> {
        let cols = STAFF_COLUMNS
            .split(", ")
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.tx
            .query_row(
                &format!(
                    "SELECT {cols}, o.csrf, o.expires_at FROM office_sessions o JOIN staff s ON s.id = o.staff_id
                     WHERE o.token_hash = ?1 AND o.expires_at > ?2 AND s.disabled_at IS NULL"
                ),
                params![token_hash, now],
                |r| {
                    Ok(SessionRow {
                        staff: staff_row(r)?,
                        csrf: r.get(10)?,
                        expires_at: r.get(11)?,
                    })
                },
            )
            .optional()
            .ctx("read a session")
    }

    pub fn delete_office_session(&self, token_hash: &[u8]) -> Result<()> {
        self.exec(
            "end a session",
            "DELETE FROM office_sessions WHERE token_hash = ?1",
            [token_hash],
        )?;
        Ok(())
    }

    // ----- notes -----

    pub fn add_note(
        &self,
        request_id: &str,
        staff_id: &str,
        at: &str,
        status: &str,
        note: &str,
    ) -> Result<()> {
        self.exec(
            "save a staff note",
            "INSERT INTO office_notes (request_id, staff_id, at, status, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![request_id, staff_id, at, status, note],
        )?;
        Ok(())
    }

    pub fn notes(&self, request_id: &str) -> Result<Vec<NoteRow>> {
        self.rows(
            "read staff notes",
            "SELECT n.request_id, n.staff_id, coalesce(s.name, ''), n.at, n.status, n.note
             FROM office_notes n LEFT JOIN staff s ON s.id = n.staff_id
             WHERE n.request_id = ?1 ORDER BY n.id",
            [request_id],
            |r| {
                Ok(NoteRow {
                    request_id: r.get(0)?,
                    staff_id: r.get(1)?,
                    staff_name: r.get(2)?,
                    at: r.get(3)?,
                    status: r.get(4)?,
                    note: r.get(5)?,
                })
            },
        )
    }

    /// Blank the text of the notes on these requests (an erased person's).
    pub fn erase_notes(&self, request_ids: &[String], placeholder: &str) -> Result<usize> {
        let mut n = 0;
        for id in request_ids {
            n += self.exec(
                "erase staff notes",
                "UPDATE office_notes SET note = ?2 WHERE request_id = ?1",
                params![id, placeholder],
            )?;
        }
        Ok(n)
    }

    // ----- duplicates -----

    pub fn decide_pair(
        &self,
        a: &str,
        b: &str,
        decision: &str,
        staff_id: &str,
        at: &str,
    ) -> Result<()> {
        self.exec(
            "record a duplicate decision",
            "INSERT INTO office_person_decisions (person_a, person_b, decision, staff_id, at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (person_a, person_b) DO UPDATE SET decision = excluded.decision,
                staff_id = excluded.staff_id, at = excluded.at",
            params![a, b, decision, staff_id, at],
        )?;
        if decision == "same" {
            // b and everyone already linked to b now follow a.
            self.exec(
                "link persons",
                "UPDATE office_person_links SET canonical_id = ?1 WHERE canonical_id = ?2",
                params![a, b],
            )?;
            self.exec(
                "link persons",
                "INSERT INTO office_person_links (person_id, canonical_id) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO UPDATE SET canonical_id = excluded.canonical_id",
                params![b, a],
            )?;
        }
        Ok(())
    }

    /// Pairs of persons with the same name and birth year not yet decided, at most `limit`.
    pub fn duplicate_candidates(&self, limit: usize) -> Result<Vec<(OPerson, OPerson)>> {
        let cols_a = PERSON_COLUMNS
            .split(", ")
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let cols_b = PERSON_COLUMNS
            .split(", ")
            .map(|c| format!("b.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.rows(
            "suggest duplicates",
            &format!(
                "SELECT {cols_a}, {cols_b} FROM o_persons a JOIN o_persons b
                   ON a.name_key = b.name_key AND a.id < b.id
                 WHERE a.birth_year > 0
                   AND NOT EXISTS (SELECT 1 FROM office_person_decisions d WHERE d.person_a = a.id AND d.person_b = b.id)
                   AND NOT EXISTS (SELECT 1 FROM office_person_links l WHERE l.person_id IN (a.id, b.id))
                 ORDER BY a.id LIMIT ?1"
            ),
            [limit as i64],
            |r| {
                let a = person_row(r)?;
                let b = OPerson {
                    id: r.get(9)?,
                    branch_id: r.get(10)?,
                    kiosk_id: r.get(11)?,
                    given: r.get(12)?,
                    family: r.get(13)?,
                    birth_year: r.get(14)?,
                    phone: r.get(15)?,
                    resident_code: r.get(16)?,
                    created: r.get(17)?,
                };
                Ok((a, b))
            },
        )
        .map(|mut pairs| {
            pairs.sort_by_cached_key(|(a, _)| collate::person_sort_key(&a.family, &a.given));
            pairs
        })
    }

    /// Every person id linked to this one by duplicate merges, however indirectly: the
    /// person first, then the others in id order. A merge links b to a, and a may itself
    /// have been linked to c by an earlier merge, so links are followed both ways until
    /// no new id turns up.
    pub fn person_group(&self, person: &str) -> Result<Vec<String>> {
        // PostgreSQL wants both halves of the recursion in the columns' collation.
        let start = match self.dialect() {
            super::sql::Dialect::Sqlite => "?1",
            super::sql::Dialect::Postgres => "CAST(?1 AS TEXT) COLLATE \"C\"",
        };
        let mut ids = self.rows(
            "read person links",
            &format!(
                "WITH RECURSIVE grp(id) AS (
                 SELECT {start}
                 UNION
                 SELECT CASE WHEN l.person_id = grp.id THEN l.canonical_id ELSE l.person_id END
                 FROM office_person_links l JOIN grp ON grp.id IN (l.person_id, l.canonical_id)
             )
             SELECT id FROM grp WHERE id <> ?1 ORDER BY id"
            ),
            [person],
            |r| r.get::<_, String>(0),
        )?;
        ids.insert(0, person.to_owned());
        Ok(ids)
    }

    // ----- projection: writing -----

    /// Documents changed after `after` in the feed: (key, seq), oldest first.
    pub fn changed_since(&self, after: i64, limit: usize) -> Result<Vec<(DocKey, i64)>> {
        let rows = self.rows(
            "read the change feed",
            &format!("SELECT doc_id, seq FROM documents WHERE seq > ?1 ORDER BY seq LIMIT {limit}"),
            params![after],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
        )?;
        rows.into_iter()
            .map(|(id, seq)| Ok((parse("document id", &id)?, seq)))
            .collect()
    }

    pub fn doc_keys_of_branch(&self, kind: &str, branch: &str) -> Result<Vec<DocKey>> {
        let ids = self.rows(
            "list documents",
            "SELECT doc_id FROM documents WHERE kind = ?1 AND branch_id = ?2",
            params![kind, branch],
            |r| r.get::<_, String>(0),
        )?;
        ids.iter().map(|id| parse("document id", id)).collect()
    }

    pub fn project_office_catalog(
        &self,
        branch: &str,
        classes: &[OClass],
        sessions: &[OSession],
        services: &[(String, String)],
    ) -> Result<()> {
        self.exec(
            "project classes",
            "DELETE FROM o_sessions WHERE class_id IN (SELECT id FROM o_classes WHERE branch_id = ?1)",
            [branch],
        )?;
        self.exec(
            "project classes",
            "DELETE FROM o_classes WHERE branch_id = ?1",
            [branch],
        )?;
        self.exec(
            "project services",
            "DELETE FROM o_services WHERE branch_id = ?1",
            [branch],
        )?;
        for c in classes {
            self.exec(
                "project a class",
                "INSERT INTO o_classes (id, branch_id, title, instructor, capacity, waitlist_limit)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    c.id,
                    c.branch_id,
                    c.title,
                    c.instructor,
                    c.capacity,
                    c.waitlist_limit
                ],
            )?;
        }
        for s in sessions {
            self.exec(
                "project a session",
                "INSERT INTO o_sessions (id, class_id, date, start, minutes) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET class_id = excluded.class_id, date = excluded.date,
                    start = excluded.start, minutes = excluded.minutes",
                params![s.id, s.class_id, s.date, s.start, s.minutes],
            )?;
        }
        for (id, name) in services {
            self.exec(
                "project a service",
                "INSERT INTO o_services (id, branch_id, name) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id, branch_id) DO UPDATE SET name = excluded.name",
                params![id, branch, name],
            )?;
        }
        Ok(())
    }

    pub fn project_office_person(&self, p: &OPerson, name_key: &str) -> Result<()> {
        self.exec(
            "project a person",
            "INSERT INTO o_persons (id, branch_id, kiosk_id, given, family, birth_year, phone, resident_code, created, name_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET branch_id = excluded.branch_id, kiosk_id = excluded.kiosk_id,
                given = excluded.given, family = excluded.family, birth_year = excluded.birth_year,
                phone = excluded.phone, resident_code = excluded.resident_code, created = excluded.created,
                name_key = excluded.name_key",
            params![p.id, p.branch_id, p.kiosk_id, p.given, p.family, p.birth_year, p.phone, p.resident_code, p.created, name_key],
        )?;
        Ok(())
    }

    pub fn project_office_roster(
        &self,
        class: &str,
        registrations: &[ORegistration],
        attendance: &[OAttendance],
    ) -> Result<()> {
        self.exec(
            "project a roster",
            "DELETE FROM o_registrations WHERE class_id = ?1",
            [class],
        )?;
        self.exec(
            "project attendance",
            "DELETE FROM o_attendance WHERE class_id = ?1",
            [class],
        )?;
        for r in registrations {
            self.exec(
                "project a registration",
                "INSERT INTO o_registrations (id, class_id, branch_id, person_id, kiosk_id, created, created_ms, status, position, seat_of)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![r.id, r.class_id, r.branch_id, r.person_id, r.kiosk_id, r.created, r.created_ms, r.status, r.position, r.seat_of],
            )?;
        }
        for a in attendance {
            self.exec(
                "project attendance",
                "INSERT INTO o_attendance (session_id, registration_id, class_id, branch_id, status, marks)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![a.session_id, a.registration_id, a.class_id, a.branch_id, a.status, a.marks],
            )?;
        }
        Ok(())
    }

    pub fn project_office_request(&self, r: &ORequest) -> Result<()> {
        self.exec(
            "project a request",
            "INSERT INTO o_requests (id, reference, person_id, branch_id, kiosk_id, service_id, status, submitted, submitted_ms, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (id) DO UPDATE SET reference = excluded.reference, person_id = excluded.person_id,
                branch_id = excluded.branch_id, kiosk_id = excluded.kiosk_id, service_id = excluded.service_id,
                status = excluded.status, submitted = excluded.submitted,
                submitted_ms = excluded.submitted_ms, updated = excluded.updated",
            params![r.id, r.reference, r.person_id, r.branch_id, r.kiosk_id, r.service_id, r.status, r.submitted, r.submitted_ms, r.updated],
        )?;
        Ok(())
    }

    // ----- projection: reading -----

    pub fn o_classes(&self, branch: Option<&str>) -> Result<Vec<OClass>> {
        self.rows(
            "list classes",
            "SELECT id, branch_id, title, instructor, capacity, waitlist_limit FROM o_classes
             WHERE CAST(?1 AS TEXT) IS NULL OR branch_id = ?1",
            [branch],
            class_row,
        )
        .map(|mut classes| {
            // Titles in Polish alphabetical order, per branch.
            classes.sort_by_cached_key(|c| (c.branch_id.clone(), collate::sort_key(&c.title)));
            classes
        })
    }

    pub fn o_class(&self, id: &str) -> Result<Option<OClass>> {
        self.tx
            .query_row(
                "SELECT id, branch_id, title, instructor, capacity, waitlist_limit FROM o_classes WHERE id = ?1",
                [id],
                class_row,
            )
            .optional()
            .ctx("read a class")
    }

    pub fn o_sessions(&self, class: &str) -> Result<Vec<OSession>> {
        self.rows(
            "list sessions",
            "SELECT id, class_id, date, start, minutes FROM o_sessions WHERE class_id = ?1 ORDER BY date, start",
            [class],
            session_row,
        )
    }

    pub fn o_session(&self, id: &str) -> Result<Option<OSession>> {
        self.tx
            .query_row(
                "SELECT id, class_id, date, start, minutes FROM o_sessions WHERE id = ?1",
                [id],
                session_row,
            )
            .optional()
            .ctx("read a session")
    }

    pub fn o_services(&self) -> Result<Vec<(String, String)>> {
        self.rows(
            "list services",
            "SELECT id, min(name) FROM o_services GROUP BY id",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(|mut services: Vec<(String, String)>| {
            services.sort_by_cached_key(|(_, name)| collate::sort_key(name));
            services
        })
    }

    pub fn o_registrations_of_class(&self, class: &str) -> Result<Vec<ORegistration>> {
        self.rows(
            "read a roster",
            &format!(
                "SELECT {REGISTRATION_COLUMNS} FROM o_registrations WHERE class_id = ?1
                 ORDER BY CASE status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END, position, created"
            ),
            [class],
            registration_row,
        )
    }

    pub fn o_registration(&self, id: &str) -> Result<Option<ORegistration>> {
        self.tx
            .query_row(
                &format!("SELECT {REGISTRATION_COLUMNS} FROM o_registrations WHERE id = ?1"),
                [id],
                registration_row,
            )
            .optional()
            .ctx("read a registration")
    }

    pub fn o_registrations_of_persons(&self, persons: &[String]) -> Result<Vec<ORegistration>> {
        let mut out = Vec::new();
        for p in persons {
            out.extend(self.rows(
                "read registrations",
                &format!("SELECT {REGISTRATION_COLUMNS} FROM o_registrations WHERE person_id = ?1 ORDER BY created"),
                [p],
                registration_row,
            )?);
        }
        Ok(out)
    }

    pub fn o_attendance_of_class(&self, class: &str) -> Result<Vec<OAttendance>> {
        self.rows(
            "read attendance",
            &format!("SELECT {ATTENDANCE_COLUMNS} FROM o_attendance WHERE class_id = ?1"),
            [class],
            attendance_row,
        )
    }

    pub fn o_attendance_of_registration(&self, registration: &str) -> Result<Vec<OAttendance>> {
        self.rows(
            "read attendance",
            &format!("SELECT {ATTENDANCE_COLUMNS} FROM o_attendance WHERE registration_id = ?1"),
            [registration],
            attendance_row,
        )
    }

    pub fn o_conflicts(&self, branch: Option<&str>, limit: usize) -> Result<Vec<OAttendance>> {
        self.rows(
            "list attendance conflicts",
            &format!(
                "SELECT {ATTENDANCE_COLUMNS} FROM o_attendance WHERE status = 'conflict'
                 AND (CAST(?1 AS TEXT) IS NULL OR branch_id = ?1) LIMIT ?2"
            ),
            params![branch, limit as i64],
            attendance_row,
        )
    }

    pub fn o_person(&self, id: &str) -> Result<Option<OPerson>> {
        self.tx
            .query_row(
                &format!("SELECT {PERSON_COLUMNS} FROM o_persons WHERE id = ?1"),
                [id],
                person_row,
            )
            .optional()
            .ctx("read a person")
    }

    /// The persons with this resident code (as stored: upper case, with its dash).
    pub fn o_persons_by_code(&self, code: &str) -> Result<Vec<OPerson>> {
        self.rows(
            "find persons by resident code",
            &format!("SELECT {PERSON_COLUMNS} FROM o_persons WHERE resident_code = ?1 ORDER BY id"),
            [code],
            person_row,
        )
    }

    /// Persons whose given or family name (in either order, each word by its beginning,
    /// ignoring case and diacritics) or resident code matches `text`, in Polish
    /// alphabetical order (sorted here: SQLite knows only byte order), at most `limit`.
    pub fn o_person_search(&self, text: &str, limit: usize) -> Result<Vec<OPerson>> {
        let code = fold(text);
        let mut found: Vec<OPerson> = self
            .rows(
                "search persons",
                &format!("SELECT {PERSON_COLUMNS} FROM o_persons"),
                (),
                person_row,
            )?
            .into_iter()
            .filter(|p| fold(&p.resident_code) == code || name_matches(text, &p.given, &p.family))
            .collect();
        found.sort_by_cached_key(|p| collate::person_sort_key(&p.family, &p.given));
        found.truncate(limit);
        Ok(found)
    }

    pub fn o_request(&self, id: &str) -> Result<Option<ORequest>> {
        self.tx
            .query_row(
                &format!("SELECT {REQUEST_COLUMNS} FROM o_requests WHERE id = ?1"),
                [id],
                request_row,
            )
            .optional()
            .ctx("read a request")
    }

    pub fn o_requests(&self, filter: &RequestFilter, limit: usize) -> Result<Vec<ORequest>> {
        self.rows(
            "list requests",
            &format!(
                "SELECT {REQUEST_COLUMNS} FROM o_requests
                 WHERE (CAST(?1 AS TEXT) IS NULL OR status = ?1) AND (CAST(?2 AS TEXT) IS NULL OR service_id = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR branch_id = ?3) AND (CAST(?4 AS TEXT) IS NULL OR person_id = ?4)
                 ORDER BY submitted_ms DESC LIMIT ?5"
            ),
            params![
                filter.status,
                filter.service,
                filter.branch,
                filter.person,
                limit as i64
            ],
            request_row,
        )
    }

    /// Per branch: registrations created since `since_ms`, people waiting, open requests.
    pub fn o_branch_counts(&self, since_ms: i64) -> Result<Vec<(String, i64, i64, i64)>> {
        self.rows(
            "count per branch",
            "SELECT b.id,
                (SELECT count(*) FROM o_registrations r WHERE r.branch_id = b.id AND r.created_ms >= ?1 AND r.status != 'cancelled'),
                (SELECT count(*) FROM o_registrations r WHERE r.branch_id = b.id AND r.status = 'waitlisted'),
                (SELECT count(*) FROM o_requests q WHERE q.branch_id = b.id AND q.status IN ('submitted', 'in_review', 'more_information_needed'))
             FROM branches b ORDER BY b.code",
            [since_ms],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
    }

    /// Per branch: (present, marked) at sessions dated from `from` to `to` (ISO dates).
    pub fn o_attendance_rate(&self, from: &str, to: &str) -> Result<Vec<(String, i64, i64)>> {
        self.rows(
            "attendance per branch",
            "SELECT a.branch_id, sum(CASE WHEN a.status = 'present' THEN 1 ELSE 0 END), count(*)
             FROM o_attendance a JOIN o_sessions s ON s.id = a.session_id
             WHERE s.date >= ?1 AND s.date <= ?2 AND a.status != 'conflict'
             GROUP BY a.branch_id",
            params![from, to],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Attendance per month: (month "YYYY-MM", present, marked), for a class or a branch.
    pub fn o_attendance_by_month(
        &self,
        class: Option<&str>,
        branch: Option<&str>,
    ) -> Result<Vec<(String, i64, i64)>> {
        self.rows(
            "attendance per month",
            "SELECT substr(s.date, 1, 7) AS month, sum(CASE WHEN a.status = 'present' THEN 1 ELSE 0 END), count(*)
             FROM o_attendance a JOIN o_sessions s ON s.id = a.session_id
             WHERE (CAST(?1 AS TEXT) IS NULL OR a.class_id = ?1) AND (CAST(?2 AS TEXT) IS NULL OR a.branch_id = ?2)
               AND a.status != 'conflict'
             GROUP BY month ORDER BY month",
            params![class, branch],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Requests per (service id, status).
    pub fn o_requests_by_service(&self) -> Result<Vec<(String, String, i64)>> {
        self.rows(
            "requests per service",
            "SELECT service_id, status, count(*) FROM o_requests GROUP BY service_id, status",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Per class: confirmed, waitlisted.
    pub fn o_class_counts(&self) -> Result<Vec<(String, i64, i64)>> {
        self.rows(
            "count per class",
            "SELECT class_id, sum(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), sum(CASE WHEN status = 'waitlisted' THEN 1 ELSE 0 END)
             FROM o_registrations GROUP BY class_id",
            (),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Per (class, kiosk): confirmed registrations whose seat is that kiosk's allotment.
    pub fn o_allotment_use(&self, class: &str) -> Result<Vec<(String, i64)>> {
        self.rows(
            "allotment use",
            "SELECT seat_of, count(*) FROM o_registrations
             WHERE class_id = ?1 AND status = 'confirmed' AND seat_of IS NOT NULL GROUP BY seat_of",
            [class],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Waiting people per (class, kiosk where they registered).
    pub fn o_waiting_by_kiosk(&self, class: &str) -> Result<Vec<(String, i64)>> {
        self.rows(
            "waiting per kiosk",
            "SELECT kiosk_id, count(*) FROM o_registrations
             WHERE class_id = ?1 AND status = 'waitlisted' GROUP BY kiosk_id",
            [class],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Audit records whose subject is one of these, newest first.
    pub fn audit_about(&self, subjects: &[String], limit: usize) -> Result<Vec<super::AuditRow>> {
        let mut out = Vec::new();
        for s in subjects {
            out.extend(self.rows(
                "read the audit log",
                "SELECT at, actor, action, subject, detail FROM audit WHERE subject = ?1 ORDER BY id DESC LIMIT ?2",
                params![s, limit as i64],
                |r| {
                    Ok(super::AuditRow {
                        at: r.get(0)?,
                        actor: r.get(1)?,
                        action: r.get(2)?,
                        subject: r.get(3)?,
                        detail: r.get(4)?,
                    })
                },
            )?);
        }
        out.sort_by(|a, b| b.at.cmp(&a.at));
        Ok(out)
    }
}
