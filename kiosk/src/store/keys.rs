//! Person keys (see `blisko_shared::crypto`): the keys of persons registered here and of
//! the branch's persons pulled from the server, and the erasure and retention that delete
//! them together with every readable copy of the person's data on this kiosk.

use std::collections::HashMap;

use blisko_shared::sqlite::Cached as _;
use rusqlite::{OptionalExtension, params};

use blisko_shared::crypto::PersonKey;
use blisko_shared::ids::PersonId;

use super::{Context, Result, Store, StoreError, Tx};

fn person_id(id: String) -> Result<PersonId> {
    id.parse().map_err(|_| StoreError::Corrupt {
        what: "person id".into(),
        detail: id.chars().take(80).collect(),
    })
}

fn person_key(id: &str, bytes: &[u8]) -> Result<PersonKey> {
    PersonKey::from_bytes(bytes).ok_or_else(|| StoreError::Corrupt {
        what: format!("key of person {id}"),
        detail: format!("{} bytes", bytes.len()),
    })
}

impl Store {
    /// The key of one person, if held here.
    pub fn person_key(&self, id: PersonId) -> Result<Option<PersonKey>> {
        let id = id.to_string();
        let bytes: Option<Option<Vec<u8>>> = self
            .conn()
            .query_row_cached(
                "SELECT key FROM person_keys WHERE person_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()
            .ctx("read a person key")?;
        bytes.flatten().map(|b| person_key(&id, &b)).transpose()
    }

    /// Whether this kiosk has (or had: erased, dropped) a key for this person.
    pub fn has_key_row(&self, id: PersonId) -> Result<bool> {
        self.key_row_exists("SELECT 1 FROM person_keys WHERE person_id = ?1", id)
    }

    /// Whether the office erased this person (their key is gone for good).
    pub fn person_erased(&self, id: PersonId) -> Result<bool> {
        self.key_row_exists(
            "SELECT 1 FROM person_keys WHERE person_id = ?1 AND erased = 1",
            id,
        )
    }

    fn key_row_exists(&self, sql: &str, id: PersonId) -> Result<bool> {
        self.conn()
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.exists([id.to_string()]))
            .ctx("look up a person key")
    }

    /// Persons whose key the next sync asks the server for.
    pub fn wanted_keys(&self, limit: usize) -> Result<Vec<PersonId>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT person_id FROM wanted_keys ORDER BY person_id LIMIT {limit}"
            ))
            .ctx("list wanted keys")?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .ctx("list wanted keys")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list wanted keys")?;
        ids.into_iter().map(person_id).collect()
    }

    /// Whether any of these persons is projected with blank details.
    pub fn any_person_sealed(&self, ids: &[PersonId]) -> Result<bool> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT 1 FROM persons WHERE id = ?1 AND given_name = ''")
            .ctx("look up a person")?;
        for id in ids {
            if stmt.exists([id.to_string()]).ctx("look up a person")? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Every key held here, by person.
    pub fn person_keys(&self) -> Result<HashMap<PersonId, PersonKey>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT person_id, key FROM person_keys WHERE key IS NOT NULL")
            .ctx("read person keys")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .ctx("read person keys")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("read person keys")?;
        rows.into_iter()
            .map(|(id, key)| Ok((person_id(id.clone())?, person_key(&id, &key)?)))
            .collect()
    }

    /// Keys of persons registered here that the server has not acknowledged.
    pub fn unpushed_keys(&self, limit: usize) -> Result<Vec<(PersonId, PersonKey)>> {
        let mut stmt = self
            .conn()
            .prepare_cached(&format!(
                "SELECT person_id, key FROM person_keys
                 WHERE unpushed = 1 AND key IS NOT NULL ORDER BY person_id LIMIT {limit}"
            ))
            .ctx("list unsynced keys")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .ctx("list unsynced keys")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("list unsynced keys")?;
        rows.into_iter()
            .map(|(id, key)| Ok((person_id(id.clone())?, person_key(&id, &key)?)))
            .collect()
    }

    /// Persons whose data this kiosk holds readable and no longer needs: registered
    /// before `before_ms` (wall clock), the server holds their key, and they have no live
    /// registration for a class with a session on or after `today` (YYYY-MM-DD).
    pub fn persons_past_retention(&self, before_ms: u64, today: &str) -> Result<Vec<PersonId>> {
        // `created` is an HLC stamp, which starts with the zero-padded wall time.
        let before = format!("{before_ms:015}");
        let mut stmt = self
            .conn()
            .prepare_cached(
                "SELECT k.person_id FROM person_keys k JOIN persons p ON p.id = k.person_id
                 WHERE k.key IS NOT NULL AND k.unpushed = 0
                   AND substr(p.created, 1, 15) < ?1
                   AND NOT EXISTS (
                     SELECT 1 FROM registrations r JOIN sessions s ON s.class_id = r.class_id
                     WHERE r.person_id = k.person_id AND r.cancelled IS NULL AND s.date >= ?2)",
            )
            .ctx("find personal data past retention")?;
        let ids = stmt
            .query_map(params![before, today], |r| r.get::<_, String>(0))
            .ctx("find personal data past retention")?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx("find personal data past retention")?;
        ids.into_iter().map(person_id).collect()
    }

    /// Copy the write-ahead log into the file and empty it, so that deleted keys and
    /// names do not live on in old log frames.
    pub fn checkpoint(&self) -> Result<()> {
        blisko_shared::sqlite::checkpoint(self.conn())
    }
}

impl Tx<'_> {
    /// The key of a person registered here (pushed at the next sync).
    pub fn insert_own_key(&self, id: PersonId, key: &PersonKey) -> Result<()> {
        self.conn()
            .execute_cached(
                "INSERT INTO person_keys (person_id, key, unpushed) VALUES (?1, ?2, 1)",
                params![id.to_string(), key.as_bytes().as_slice()],
            )
            .ctx("save a person key")?;
        Ok(())
    }

    /// Send these keys again (the server was restored from a backup that may lack them);
    /// a key erased or dropped here stays so.
    pub fn push_keys_again(&self, ids: &[PersonId]) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare_cached(
                "UPDATE person_keys SET unpushed = 1 WHERE person_id = ?1 AND key IS NOT NULL",
            )
            .ctx("send keys again")?;
        for id in ids {
            stmt.execute([id.to_string()]).ctx("send keys again")?;
        }
        Ok(())
    }

    /// The server holds these keys now.
    pub fn ack_keys(&self, ids: &[PersonId]) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare_cached("UPDATE person_keys SET unpushed = 0 WHERE person_id = ?1")
            .ctx("acknowledge keys")?;
        for id in ids {
            stmt.execute([id.to_string()]).ctx("acknowledge keys")?;
        }
        Ok(())
    }

    /// A key pulled from the server. One dropped or erased here stays so. Returns
    /// whether it was taken in.
    pub fn take_key(&self, id: PersonId, key: &PersonKey) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(
                "INSERT INTO person_keys (person_id, key) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO NOTHING",
            )
            .ctx("save a pulled person key")?
            .execute(params![id.to_string(), key.as_bytes().as_slice()])
            .ctx("save a pulled person key")?;
        Ok(n > 0)
    }

    /// Ask the server for this person's key at the next sync.
    pub fn want_key(&self, id: PersonId) -> Result<()> {
        self.conn()
            .execute_cached(
                "INSERT INTO wanted_keys (person_id) VALUES (?1) ON CONFLICT DO NOTHING",
                [id.to_string()],
            )
            .ctx("ask for a person key")?;
        Ok(())
    }

    /// A key asked for came back: held again, unless the office erased the person
    /// meanwhile. Returns whether it was taken in.
    pub fn take_wanted_key(&self, id: PersonId, key: &PersonKey) -> Result<bool> {
        let n = self
            .conn()
            .execute_cached(
                "INSERT INTO person_keys (person_id, key) VALUES (?1, ?2)
                 ON CONFLICT (person_id) DO UPDATE SET key = excluded.key
                    WHERE person_keys.erased = 0 AND person_keys.key IS NULL",
                params![id.to_string(), key.as_bytes().as_slice()],
            )
            .ctx("save a person key asked for")?;
        Ok(n > 0)
    }

    /// The server answered for these wanted keys (with the key, an erasure, or nothing
    /// for a person not of this branch): do not ask again.
    pub fn answered_wanted(&self, ids: &[PersonId]) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare_cached("DELETE FROM wanted_keys WHERE person_id = ?1")
            .ctx("clear wanted keys")?;
        for id in ids {
            stmt.execute([id.to_string()]).ctx("clear wanted keys")?;
        }
        Ok(())
    }

    /// Delete a person's key and every readable copy of their data here; the projection
    /// keeps the person countable (id, code, branch) with blank details. `erased`: the
    /// office erased them (otherwise dropped after the retention period).
    pub fn forget_person(&self, id: PersonId, erased: bool) -> Result<()> {
        let id = id.to_string();
        self.conn()
            .execute_cached(
                "INSERT INTO person_keys (person_id, key, erased) VALUES (?1, NULL, ?2)
                 ON CONFLICT (person_id) DO UPDATE SET key = NULL, unpushed = 0,
                    erased = max(erased, excluded.erased)",
                params![id, erased as i64],
            )
            .ctx("delete a person key")?;
        self.conn()
            .execute_cached(
                "UPDATE persons SET given_name = '', family_name = '', birth_year = 0, phone = NULL
                 WHERE id = ?1",
                [&id],
            )
            .ctx("delete a person's details")?;
        Ok(())
    }
}
