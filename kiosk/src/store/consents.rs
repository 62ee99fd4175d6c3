//! SMS consents: whether a person agreed to SMS reminders (projected from their people
//! document), and the withdrawals made at this kiosk that the server has not acknowledged
//! yet. A pending withdrawal hides the consent at once; once the server has it, the
//! consent leaves the people document and the projection follows.

use rusqlite::{OptionalExtension, params};

use blisko_shared::hlc::Hlc;
use blisko_shared::ids::PersonId;
use blisko_shared::sync::SmsWithdrawal;

use super::{Context, Result, Store, StoreError, Tx};

impl Store {
    /// The version of the SMS consent text the person agreed to, unless they have none
    /// or withdrew it here.
    pub fn sms_consent(&self, id: PersonId) -> Result<Option<String>> {
        let version: Option<Option<String>> = self
            .conn()
            .prepare_cached(
                "SELECT p.sms_consent FROM persons p WHERE p.id = ?1
                   AND NOT EXISTS (SELECT 1 FROM sms_withdrawals w WHERE w.person_id = p.id)",
            )
            .ctx("read an SMS consent")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()
            .ctx("read an SMS consent")?;
        Ok(version.flatten())
    }

    /// Withdrawals made here that the server has not acknowledged, oldest first.
    pub fn pending_sms_withdrawals(&self, limit: usize) -> Result<Vec<SmsWithdrawal>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT person_id, at FROM sms_withdrawals ORDER BY at LIMIT {limit}"
            ))
            .ctx("list SMS consent withdrawals")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .ctx("list SMS consent withdrawals")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list SMS consent withdrawals")?;
        rows.into_iter()
            .map(|(person, at)| {
                let corrupt = |what: &str, value: &str| StoreError::Corrupt {
                    what: format!("SMS consent withdrawal's {what}"),
                    detail: value.chars().take(80).collect(),
                };
                Ok(SmsWithdrawal {
                    person: person.parse().map_err(|_| corrupt("person", &person))?,
                    at: at.parse().map_err(|_| corrupt("stamp", &at))?,
                })
            })
            .collect()
    }
}

impl Tx<'_> {
    /// The person withdrew their SMS consent here at `at`; kept until the server has it.
    /// A second withdrawal before then keeps the first one's stamp.
    pub fn withdraw_sms(&self, id: PersonId, at: Hlc) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sms_withdrawals (person_id, at) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO NOTHING",
            )
            .ctx("record an SMS consent withdrawal")?
            .execute(params![id.to_string(), at.to_string()])
            .ctx("record an SMS consent withdrawal")?;
        Ok(())
    }

    /// The server took in these withdrawals: it removed the consents from the people
    /// documents, whose changes this kiosk pulls. Until then the projection drops the
    /// consent itself, so it does not come back in between.
    pub fn ack_sms_withdrawals(&self, ids: &[PersonId]) -> Result<()> {
        let mut forget = self
            .conn()
            .prepare_cached("DELETE FROM sms_withdrawals WHERE person_id = ?1")
            .ctx("acknowledge SMS consent withdrawals")?;
        let mut clear = self
            .conn()
            .prepare_cached("UPDATE persons SET sms_consent = NULL WHERE id = ?1")
            .ctx("acknowledge SMS consent withdrawals")?;
        for id in ids {
            let id = id.to_string();
            forget
                .execute([&id])
                .ctx("acknowledge SMS consent withdrawals")?;
            clear
                .execute([&id])
                .ctx("acknowledge SMS consent withdrawals")?;
        }
        Ok(())
    }
}
