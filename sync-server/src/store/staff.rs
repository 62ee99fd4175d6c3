//! SQL of staff account administration: edits, disabling, passwords, the last log-in,
//! and the one-time set-up links for the first office admin.

use super::sql::{OptionalExtension, params};

use super::sql::Context;

use super::{Db, Result, STAFF_COLUMNS, StaffRow, staff_row};

impl Db<'_> {
    pub fn staff_by_id(&self, id: &str) -> Result<Option<StaffRow>> {
        self.tx
            .query_row(
                &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1"),
                [id],
                staff_row,
            )
            .optional()
            .ctx("find a staff account")
    }

    /// Accounts with the office admin role that are not disabled.
    pub fn active_office_admins(&self) -> Result<i64> {
        self.tx
            .query_row(
                "SELECT count(*) FROM staff WHERE role = 'office_admin' AND disabled_at IS NULL",
                (),
                |r| r.get(0),
            )
            .ctx("count the office admins")
    }

    pub fn update_staff_details(
        &self,
        id: &str,
        name: &str,
        role: &str,
        branch_id: Option<&str>,
    ) -> Result<()> {
        self.exec(
            "change a staff account",
            "UPDATE staff SET name = ?2, role = ?3, branch_id = ?4 WHERE id = ?1",
            params![id, name, role, branch_id],
        )?;
        Ok(())
    }

    /// Disable (`Some(time)`) or re-enable (`None`) an account.
    pub fn set_staff_disabled(&self, id: &str, disabled_at: Option<&str>) -> Result<()> {
        self.exec(
            "disable or enable a staff account",
            "UPDATE staff SET disabled_at = ?2 WHERE id = ?1",
            params![id, disabled_at],
        )?;
        Ok(())
    }

    pub fn set_staff_password(
        &self,
        id: &str,
        password_hash: &str,
        must_change_password: bool,
    ) -> Result<()> {
        self.exec(
            "set a staff password",
            "UPDATE staff SET password_hash = ?2, must_change_password = ?3 WHERE id = ?1",
            params![id, password_hash, must_change_password],
        )?;
        Ok(())
    }

    pub fn set_staff_last_login(&self, id: &str, at: &str) -> Result<()> {
        self.exec(
            "record a log-in",
            "UPDATE staff SET last_login_at = ?2 WHERE id = ?1",
            params![id, at],
        )?;
        Ok(())
    }

    /// End every session of an account. Returns how many there were.
    pub fn delete_staff_sessions(&self, staff_id: &str) -> Result<usize> {
        self.exec(
            "end a staff account's sessions",
            "DELETE FROM office_sessions WHERE staff_id = ?1",
            [staff_id],
        )
    }

    /// End every session of an account but one (the one changing its password).
    pub fn delete_other_staff_sessions(&self, staff_id: &str, keep: &[u8]) -> Result<usize> {
        self.exec(
            "end a staff account's other sessions",
            "DELETE FROM office_sessions WHERE staff_id = ?1 AND token_hash <> ?2",
            params![staff_id, keep],
        )
    }

    /// Replace every set-up link with this one.
    pub fn replace_setup_token(
        &self,
        token_hash: &[u8],
        now: &str,
        expires_at: &str,
    ) -> Result<()> {
        self.delete_setup_tokens()?;
        self.exec(
            "save a set-up link",
            "INSERT INTO office_setup_tokens (token_hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash, now, expires_at],
        )?;
        Ok(())
    }

    /// Whether an unexpired set-up link has this digest.
    pub fn setup_token_valid(&self, token_hash: &[u8], now: &str) -> Result<bool> {
        self.tx
            .query_row(
                "SELECT count(*) FROM office_setup_tokens WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .ctx("check a set-up link")
    }

    pub fn delete_setup_tokens(&self) -> Result<()> {
        self.exec(
            "withdraw the set-up links",
            "DELETE FROM office_setup_tokens",
            (),
        )?;
        Ok(())
    }
}
