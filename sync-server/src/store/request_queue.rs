//! SQL of the request queue: the office's list of requests with the applicant's name and
//! the assigned caseworker, its filters and reference search, and the assignments.

use super::sql::{OptionalExtension, params};

use super::sql::Context;
use super::{Db, ORequest, Result};

/// Whose requests the queue shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    #[default]
    Anyone,
    /// Assigned to this staff id.
    Staff(String),
    /// Assigned to nobody yet.
    Nobody,
}

/// The queue's filters; `None` means any.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueFilter {
    pub status: Option<String>,
    pub service: Option<String>,
    pub branch: Option<String>,
    pub assignee: AssigneeFilter,
    /// A reference or its beginning, any case.
    pub reference: Option<String>,
}

/// A request in the queue, with the applicant's name (`None` when the person is not in
/// the office projection: erased, or their key is not here) and the assigned staff id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRow {
    pub request: ORequest,
    pub applicant: Option<(String, String)>,
    pub assignee: Option<String>,
}

impl Db<'_> {
    /// Requests matching `filter`, oldest filing (the nearest deadline) first.
    pub fn request_queue(&self, filter: &QueueFilter, limit: usize) -> Result<Vec<QueueRow>> {
        let (assignee_mode, assignee_id) = match &filter.assignee {
            AssigneeFilter::Anyone => (0, None),
            AssigneeFilter::Staff(id) => (1, Some(id.as_str())),
            AssigneeFilter::Nobody => (2, None),
        };
        let reference = filter.reference.as_deref().map(str::to_lowercase);
        let what = "list the request queue";
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT r.id, r.reference, r.person_id, r.branch_id, r.kiosk_id, r.service_id,
                        r.status, r.submitted, r.submitted_ms, r.updated,
                        p.given, p.family, a.staff_id
                 FROM o_requests r
                 LEFT JOIN o_persons p ON p.id = r.person_id
                 LEFT JOIN office_request_assignments a ON a.request_id = r.id
                 WHERE (CAST(?1 AS TEXT) IS NULL OR r.status = ?1) AND (CAST(?2 AS TEXT) IS NULL OR r.service_id = ?2)
                   AND (CAST(?3 AS TEXT) IS NULL OR r.branch_id = ?3)
                   AND (?4 = 0 OR (?4 = 1 AND a.staff_id = ?5) OR (?4 = 2 AND a.staff_id IS NULL))
                   AND (CAST(?6 AS TEXT) IS NULL
                        OR substr(lower(r.reference), 1, length(CAST(?6 AS TEXT))) = CAST(?6 AS TEXT))
                 ORDER BY r.submitted_ms ASC, r.reference LIMIT ?7",
            )
            .ctx(what)?;
        let rows = stmt
            .query_map(
                params![
                    filter.status,
                    filter.service,
                    filter.branch,
                    assignee_mode,
                    assignee_id,
                    reference,
                    limit as i64
                ],
                |r| {
                    let given: Option<String> = r.get(10)?;
                    let family: Option<String> = r.get(11)?;
                    Ok(QueueRow {
                        request: ORequest {
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
                        },
                        applicant: given.zip(family),
                        assignee: r.get(12)?,
                    })
                },
            )
            .ctx(what)?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx(what)?;
        Ok(rows)
    }

    /// The staff id a request is assigned to.
    pub fn request_assignee(&self, request_id: &str) -> Result<Option<String>> {
        self.tx
            .query_row(
                "SELECT staff_id FROM office_request_assignments WHERE request_id = ?1",
                [request_id],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a request's assignee")
    }

    /// Assign a request to `staff_id` (replacing an earlier assignment).
    pub fn assign_request(
        &self,
        request_id: &str,
        staff_id: &str,
        assigned_by: &str,
        at: &str,
    ) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO office_request_assignments (request_id, staff_id, assigned_by, assigned_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (request_id) DO UPDATE SET staff_id = excluded.staff_id,
                     assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at",
                params![request_id, staff_id, assigned_by, at],
            )
            .ctx("assign a request")?;
        Ok(())
    }
}
