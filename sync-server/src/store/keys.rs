//! Person keys on the server (see `blisko_shared::crypto`), in the personal file: the
//! keys kiosks push for the persons they register, the feed that hands them to the other
//! kiosks of the branch, and erasure, which destroys a key and keeps only the person id.

use std::collections::HashMap;

use super::sql::{OptionalExtension, params};

use blisko_shared::crypto::PersonKey;
use blisko_shared::ids::{BranchId, KioskId, PersonId};

use super::sql::Context;
use super::{Db, parse};
use blisko_shared::sqlite::{Result, StoreError};

/// One entry of the key feed: a key, or an erasure (`None`).
pub type KeyFeedEntry = (i64, PersonId, Option<PersonKey>);

fn key_of(id: &str, bytes: &[u8]) -> Result<PersonKey> {
    PersonKey::from_bytes(bytes).ok_or_else(|| StoreError::Corrupt {
        what: format!("key of person {id}"),
        detail: format!("{} bytes", bytes.len()),
    })
}

impl Db<'_> {
    /// The next position in the key feed (a placeholder in a
    /// [`super::ServerStore::write_branches`] transaction, see [`Db::commit`]).
    fn next_key_seq(&self) -> Result<i64> {
        if let Some(deferred) = &self.deferred {
            return Ok(deferred.key_placeholder());
        }
        Ok(self.key_position()? + 1)
    }

    /// The key feed's last position.
    pub fn key_position(&self) -> Result<i64> {
        self.tx
            .query_row(
                "SELECT coalesce(max(seq), 0) FROM personal.person_keys",
                (),
                |r| r.get(0),
            )
            .ctx("read the key feed position")
    }

    /// Store the key a kiosk made for a person it registered. A key already here (a
    /// repeated push) or erased stays as it is.
    pub fn put_person_key(
        &self,
        person: PersonId,
        branch: BranchId,
        owner: KioskId,
        key: &PersonKey,
    ) -> Result<()> {
        let seq = self.next_key_seq()?;
        self.tx
            .execute(
                "INSERT INTO personal.person_keys (person_id, branch_id, owner_kiosk, key, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (person_id) DO NOTHING",
                params![
                    person.to_string(),
                    branch.to_string(),
                    owner.to_string(),
                    key.as_bytes().as_slice(),
                    seq
                ],
            )
            .ctx("save a person key")?;
        Ok(())
    }

    pub fn person_key(&self, person: PersonId) -> Result<Option<PersonKey>> {
        let id = person.to_string();
        let bytes: Option<Option<Vec<u8>>> = self
            .tx
            .query_row(
                "SELECT key FROM personal.person_keys WHERE person_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a person key")?;
        bytes.flatten().map(|b| key_of(&id, &b)).transpose()
    }

    /// The kiosk that registered a person (whose people documents hold them), if their
    /// key was ever pushed.
    pub fn person_owner(&self, person: PersonId) -> Result<Option<KioskId>> {
        let owner: Option<String> = self
            .tx
            .query_row(
                "SELECT owner_kiosk FROM personal.person_keys WHERE person_id = ?1",
                [person.to_string()],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a person's kiosk")?;
        owner.map(|k| parse("kiosk id", &k)).transpose()
    }

    /// The keys of the persons a kiosk registered (to open its people documents).
    pub fn person_keys_of(&self, owner: KioskId) -> Result<HashMap<PersonId, PersonKey>> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT person_id, key FROM personal.person_keys
                 WHERE owner_kiosk = ?1 AND key IS NOT NULL",
            )
            .ctx("read person keys")?;
        let rows = stmt
            .query_map([owner.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .ctx("read person keys")?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx("read person keys")?;
        rows.into_iter()
            .map(|(id, key)| Ok((parse("person id", &id)?, key_of(&id, &key)?)))
            .collect()
    }

    /// The key feed of a branch after `after`, for `kiosk`: keys of persons registered
    /// at its other kiosks, and every erasure.
    pub fn key_feed(
        &self,
        branch: BranchId,
        kiosk: KioskId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<KeyFeedEntry>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT seq, person_id, key FROM personal.person_keys
                 WHERE branch_id = ?1 AND seq > ?2 AND (key IS NULL OR owner_kiosk <> ?3)
                 ORDER BY seq LIMIT {limit}"
            ))
            .ctx("read the key feed")?;
        let rows = stmt
            .query_map(params![branch.to_string(), after, kiosk.to_string()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Vec<u8>>>(2)?,
                ))
            })
            .ctx("read the key feed")?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx("read the key feed")?;
        rows.into_iter()
            .map(|(seq, id, key)| {
                let key = key.map(|k| key_of(&id, &k)).transpose()?;
                Ok((seq, parse("person id", &id)?, key))
            })
            .collect()
    }

    /// The key of a person of `branch`: `None` when the person is not of that branch (or
    /// unknown), `Some(None)` when they were erased.
    pub fn branch_person_key(
        &self,
        branch: BranchId,
        person: PersonId,
    ) -> Result<Option<Option<PersonKey>>> {
        let id = person.to_string();
        let key: Option<Option<Vec<u8>>> = self
            .tx
            .query_row(
                "SELECT key FROM personal.person_keys WHERE person_id = ?1 AND branch_id = ?2",
                params![id, branch.to_string()],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a person key")?;
        key.map(|k| k.map(|k| key_of(&id, &k)).transpose())
            .transpose()
    }

    /// Destroy a person's key, keeping only their id (and branch, so the branch's kiosks
    /// hear of it). Deleted bytes are overwritten (secure_delete).
    pub fn erase_person_key(
        &self,
        person: PersonId,
        branch: BranchId,
        owner: KioskId,
        now: &str,
    ) -> Result<()> {
        let seq = self.next_key_seq()?;
        self.tx
            .execute(
                "INSERT INTO personal.person_keys (person_id, branch_id, owner_kiosk, key, seq, erased_at)
                 VALUES (?1, ?2, ?3, NULL, ?4, ?5)
                 ON CONFLICT (person_id) DO UPDATE SET key = NULL, seq = excluded.seq,
                    erased_at = excluded.erased_at",
                params![
                    person.to_string(),
                    branch.to_string(),
                    owner.to_string(),
                    seq,
                    now
                ],
            )
            .ctx("destroy a person key")?;
        Ok(())
    }

    /// Record, in the main file, that a person's erasure reached the documents.
    pub fn record_erasure(&self, person: PersonId, now: &str) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO main.erasures (person_id, at) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO NOTHING",
                params![person.to_string(), now],
            )
            .ctx("record an erasure")?;
        Ok(())
    }

    /// Whether a person's erasure reached the documents.
    pub fn erasure_recorded(&self, person: PersonId) -> Result<bool> {
        self.tx
            .prepare_cached("SELECT 1 FROM main.erasures WHERE person_id = ?1")
            .and_then(|mut stmt| stmt.exists([person.to_string()]))
            .ctx("read an erasure")
    }

    /// Erasures only one of the two files holds (a crash between their commits): a key
    /// destroyed whose documents were not erased, or documents erased whose key (or the
    /// record of its destruction) is still there.
    pub fn unfinished_erasures(&self) -> Result<Vec<PersonId>> {
        let mut stmt = self
            .tx
            .prepare(
                "SELECT person_id FROM personal.person_keys
                 WHERE key IS NULL AND person_id NOT IN (SELECT person_id FROM main.erasures)
                 UNION
                 SELECT e.person_id FROM main.erasures e
                 LEFT JOIN personal.person_keys k ON k.person_id = e.person_id
                 WHERE k.person_id IS NULL OR k.key IS NOT NULL
                 ORDER BY 1",
            )
            .ctx("find unfinished erasures")?;
        let ids = stmt
            .query_map((), |r| r.get::<_, String>(0))
            .ctx("find unfinished erasures")?
            .collect::<super::sql::SqlResult<Vec<_>>>()
            .ctx("find unfinished erasures")?;
        ids.iter().map(|id| parse("person id", id)).collect()
    }
}
