//! SQL of the office's audit-log page: the audit table read with filters, a page at a
//! time, newest first.

use super::sql::params_from_iter;

use super::sql::Context;

use super::{AuditRow, Db, Result};

/// Which audit records to show. Every field narrows; `None` (or empty) does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// The actor exactly as stored (`staff:<id>`, `kiosk:<id>`, `admin`, `server`, …).
    pub actor: Option<String>,
    /// The action exactly as stored (`class_edit`, `kiosk_revoke`, …).
    pub action: Option<String>,
    /// Records at or after this time (RFC 3339, compared as text: both are UTC).
    pub from: Option<String>,
    /// Records before this time.
    pub until: Option<String>,
    /// Records about one of these subjects (`person:<id>`, …).
    pub subjects: Vec<String>,
}

/// One page of the audit log and how many records match in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub total: u64,
}

impl AuditFilter {
    fn sql_where(&self) -> (String, Vec<String>) {
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        let mut push = |clause: &str, value: &str| {
            values.push(value.to_owned());
            clauses.push(clause.replace('?', &format!("?{}", values.len())));
        };
        if let Some(actor) = &self.actor {
            push("actor = ?", actor);
        }
        if let Some(action) = &self.action {
            push("action = ?", action);
        }
        if let Some(from) = &self.from {
            push("at >= ?", from);
        }
        if let Some(until) = &self.until {
            push("at < ?", until);
        }
        if !self.subjects.is_empty() {
            let first = values.len() + 1;
            let marks: Vec<String> = (first..first + self.subjects.len())
                .map(|i| format!("?{i}"))
                .collect();
            values.extend(self.subjects.iter().cloned());
            clauses.push(format!("subject IN ({})", marks.join(", ")));
        }
        let sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        (sql, values)
    }
}

impl Db<'_> {
    /// The records matching `filter`, newest first, `limit` of them after skipping `skip`.
    pub fn audit_search(&self, filter: &AuditFilter, skip: u64, limit: u64) -> Result<AuditPage> {
        let (sql_where, values) = filter.sql_where();
        let total: i64 = self
            .tx
            .query_row(
                &format!("SELECT count(*) FROM audit {sql_where}"),
                params_from_iter(values.iter()),
                |r| r.get(0),
            )
            .ctx("count audit records")?;
        let total = u64::try_from(total).unwrap_or_default();
        let mut stmt = self
            .tx
            .prepare(&format!(
                "SELECT at, actor, action, subject, detail FROM audit {sql_where}
                 ORDER BY id DESC LIMIT {limit} OFFSET {skip}"
            ))
            .ctx("read the audit log")?;
        let rows = stmt
            .query_map(params_from_iter(values.iter()), |r| {
                Ok(AuditRow {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    subject: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .ctx("read the audit log")?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx("read the audit log")?;
        Ok(AuditPage { rows, total })
    }

    /// Every action that occurs in the audit log, for the page's filter.
    pub fn audit_actions(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare("SELECT DISTINCT action FROM audit ORDER BY action")
            .ctx("list audit actions")?;
        let rows = stmt
            .query_map((), |r| r.get(0))
            .ctx("list audit actions")?
            .collect::<super::sql::SqlResult<Vec<String>>>()
            .ctx("list audit actions")?;
        Ok(rows)
    }
}
