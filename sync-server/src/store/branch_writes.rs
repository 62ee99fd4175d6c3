//! Sync rounds of different branch points written side by side on PostgreSQL
//! (docs/scale.md, "Branch points side by side"). A [`super::ServerStore::write_branches`]
//! transaction takes the writers' lock shared and then its branch points' locks
//! ([`Db::lock_branches`]); what all writers share is handled here:
//!
//! - the feeds' positions: documents and keys are written at placeholder positions below
//!   zero ([`Deferred::placeholder`]) and get their real ones at the commit
//!   ([`Db::hand_out_positions`]), under a lock held to the commit's end, so positions
//!   follow commit order;
//! - the central clock's row, raised at the commit and never lowered
//!   ([`Db::store_clock`]);
//! - the office projection, of every branch point, written under a lock of its own
//!   ([`Db::lock_projection`]).
//!
//! On SQLite, and in every other transaction, these do what a single writer does.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use blisko_shared::docs::{ChangeHash, DocKey};
use blisko_shared::ids::BranchId;

use super::sql::{self, Context, params};
use super::{Db, Result, heads_from_blob, parse};

/// Feed positions and the clock's row, left by a [`super::ServerStore::write_branches`]
/// transaction to its commit ([`Db::commit`]).
#[derive(Default)]
pub(super) struct Deferred {
    /// The last placeholder position handed out: -1, -2, … in the order of the writes.
    placeholder: Cell<i64>,
    docs: Cell<bool>,
    keys: Cell<bool>,
    clock: RefCell<Option<String>>,
    /// Whether [`sql::PROJECTION_LOCK`] is held, and whether it was when the part
    /// under way began ([`Db::begin_part`]): taking a part back lets go of the locks
    /// taken in it.
    projection: Cell<bool>,
    projection_before_part: Cell<bool>,
}

impl Deferred {
    fn placeholder(&self) -> i64 {
        let next = self.placeholder.get() - 1;
        self.placeholder.set(next);
        next
    }

    /// The placeholder position of a document written.
    pub(super) fn document_placeholder(&self) -> i64 {
        self.docs.set(true);
        self.placeholder()
    }

    /// The placeholder position of a key-feed entry written.
    pub(super) fn key_placeholder(&self) -> i64 {
        self.keys.set(true);
        self.placeholder()
    }

    /// A part of the transaction begins ([`Db::begin_part`]).
    pub(super) fn part_begun(&self) {
        self.projection_before_part.set(self.projection.get());
    }

    /// The part is taken back ([`Db::undo_part`]), and the locks taken in it with it.
    pub(super) fn part_undone(&self) {
        self.projection.set(self.projection_before_part.get());
    }
}

/// The second half of a branch point's advisory lock ([`sql::BRANCH_LOCK_CLASS`]): its
/// id folded to 32 bits. Two branch points that fold alike share a lock, which costs
/// only their running side by side.
fn branch_lock_key(branch: BranchId) -> i32 {
    let id = branch.as_uuid().as_u128();
    let folded = (id ^ (id >> 32) ^ (id >> 64) ^ (id >> 96)) as u32;
    i32::from_ne_bytes(folded.to_ne_bytes())
}

impl Db<'_> {
    /// Take the locks of these branch points (a [`super::ServerStore::write_branches`]
    /// transaction on PostgreSQL, before it reads or writes anything of theirs): each
    /// is this transaction's until it ends. All in one round trip, in one order, so
    /// that no two transactions each hold a lock the other waits for. Elsewhere it does nothing:
    /// the transaction is the only writer already.
    pub fn lock_branches(&self, branches: impl IntoIterator<Item = BranchId>) -> Result<()> {
        if self.deferred.is_none() {
            return Ok(());
        }
        let keys: BTreeSet<i32> = branches.into_iter().map(branch_lock_key).collect();
        if keys.is_empty() {
            return Ok(());
        }
        let class = sql::BRANCH_LOCK_CLASS;
        let statements: String = keys
            .iter()
            .map(|key| format!("SELECT pg_advisory_xact_lock({class}, {key});"))
            .collect();
        self.tx
            .execute_batch(&statements)
            .ctx("lock the branch points")
    }

    /// Take the office projection for this transaction before writing it. The
    /// projection's rows and its position are of every branch point, so two
    /// [`super::ServerStore::write_branches`] transactions that write it (a round that
    /// withdraws an SMS consent brings the projection up to date first; a catalog back
    /// from a kiosk is projected again) take turns; other transactions hold the store
    /// for themselves already.
    pub fn lock_projection(&self) -> Result<()> {
        let Some(deferred) = &self.deferred else {
            return Ok(());
        };
        if !deferred.projection.replace(true) {
            self.tx
                .execute("SELECT pg_advisory_xact_lock(?1)", [sql::PROJECTION_LOCK])
                .ctx("wait for the office projection")?;
        }
        Ok(())
    }

    /// Store the central clock's last stamp (`hlc`). A [`super::ServerStore::write_branches`]
    /// transaction stores it at its commit, and only when it is later than the one
    /// stored, so that transactions of different branch points neither wait for each
    /// other's row nor move the clock back; any other writer is alone and has caught up
    /// with the stored stamp (`catch_up_clock`).
    pub fn store_clock(&self, stamp: &str) -> Result<()> {
        match &self.deferred {
            Some(deferred) => {
                *deferred.clock.borrow_mut() = Some(stamp.to_owned());
                Ok(())
            }
            None => self.set_meta("hlc", stamp),
        }
    }

    /// The feed positions of what this transaction wrote at placeholders, taken under
    /// [`sql::SEQUENCE_LOCK`], which is held to the commit: the next transaction to take
    /// positions gets later ones and commits later. Each write's position follows the
    /// order of the writes, as [`Db::next_seq`] would have given them.
    pub(super) fn hand_out_positions(&self, deferred: &Deferred) -> Result<()> {
        let clock = deferred.clock.borrow();
        if !deferred.docs.get() && !deferred.keys.get() && clock.is_none() {
            return Ok(());
        }
        self.tx
            .execute("SELECT pg_advisory_xact_lock(?1)", [sql::SEQUENCE_LOCK])
            .ctx("wait for the feed positions")?;
        if deferred.docs.get() {
            self.tx
                .execute(
                    "WITH pending AS (
                        SELECT doc_id, row_number() OVER (ORDER BY seq DESC) AS n
                        FROM documents WHERE seq < 0),
                     moved AS (
                        INSERT INTO meta (key, value)
                        VALUES ('feed_seq', CAST((SELECT count(*) FROM pending) AS TEXT))
                        ON CONFLICT (key) DO UPDATE SET value = CAST(
                            CAST(meta.value AS BIGINT) + (SELECT count(*) FROM pending) AS TEXT)
                        RETURNING CAST(value AS BIGINT) - (SELECT count(*) FROM pending) AS base)
                     UPDATE documents SET seq = moved.base + pending.n
                     FROM pending, moved WHERE documents.doc_id = pending.doc_id",
                    (),
                )
                .ctx("move the change feed on")?;
        }
        if deferred.keys.get() {
            self.tx
                .execute(
                    "WITH pending AS (
                        SELECT person_id, row_number() OVER (ORDER BY seq DESC) AS n
                        FROM personal.person_keys WHERE seq < 0),
                     last AS (
                        SELECT coalesce(max(seq), 0) AS base FROM personal.person_keys WHERE seq > 0)
                     UPDATE personal.person_keys SET seq = last.base + pending.n
                     FROM pending, last WHERE person_keys.person_id = pending.person_id",
                    (),
                )
                .ctx("move the key feed on")?;
        }
        if let Some(stamp) = clock.as_deref() {
            // Stamps sort as text (fixed-width fields).
            self.tx
                .execute(
                    "INSERT INTO meta (key, value) VALUES ('hlc', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value
                     WHERE meta.value < excluded.value",
                    [stamp],
                )
                .ctx("save the clock")?;
        }
        Ok(())
    }

    /// Documents of a branch written in this transaction that have no feed position
    /// yet (a [`super::ServerStore::write_branches`] transaction hands them out at its commit),
    /// in the order of the writes, at most `limit`. Empty in any other transaction.
    pub fn feed_unpositioned(
        &self,
        branch: BranchId,
        limit: usize,
    ) -> Result<Vec<(DocKey, Vec<ChangeHash>)>> {
        if limit == 0 || !self.deferred.as_ref().is_some_and(|d| d.docs.get()) {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT doc_id, heads FROM documents WHERE branch_id = ?1 AND seq < 0
                 ORDER BY seq DESC LIMIT {limit}"
            ))
            .ctx("read the documents written")?;
        let rows = stmt
            .query_map(params![branch.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .ctx("read the documents written")?
            .collect::<sql::SqlResult<Vec<_>>>()
            .ctx("read the documents written")?;
        rows.into_iter()
            .map(|(id, heads)| Ok((parse("document id", &id)?, heads_from_blob(&heads)?)))
            .collect()
    }
}
