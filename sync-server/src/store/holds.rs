//! Allotment holds (see `schema_5_allotment_holds.sql` and `central::seats`): seats an
//! office cut from a kiosk's allotment, kept out of the pool until the kiosk acknowledges.

use std::collections::BTreeMap;

use super::sql::params;

use super::sql::Context;
use blisko_shared::docs::ChangeHash;
use blisko_shared::ids::{ClassId, KioskId};
use blisko_shared::sqlite::{Result, heads_from_blob, heads_to_blob};

use super::{Db, parse};

/// One kiosk's cut allotment for one class, not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllotmentHold {
    pub class_id: ClassId,
    pub kiosk_id: KioskId,
    /// The seats the kiosk may still hold: its allotment before the cut.
    pub seats: u32,
    /// The catalog's heads right after the cut.
    pub catalog_heads: Vec<ChangeHash>,
    pub since: String,
    /// Seats to allot to another kiosk once this one acknowledges.
    pub transfer: Option<(KioskId, u32)>,
}

const COLUMNS: &str =
    "class_id, kiosk_id, seats, catalog_heads, since, transfer_to, transfer_seats";

impl Db<'_> {
    fn holds_where(&self, filter: &str, value: Option<String>) -> Result<Vec<AllotmentHold>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM allotment_holds {filter} ORDER BY since, class_id, kiosk_id"
        );
        let mut statement = self.tx.prepare_cached(&sql).ctx("read allotment holds")?;
        let rows = match value {
            Some(v) => statement.query_map([v], row),
            None => statement.query_map((), row),
        }
        .ctx("read allotment holds")?;
        let mut holds = Vec::new();
        for r in rows {
            let (class, kiosk, seats, heads, since, to, moved) = r.ctx("read an allotment hold")?;
            let transfer = match to {
                Some(to) if moved > 0 => Some((parse("kiosk id", &to)?, moved)),
                _ => None,
            };
            holds.push(AllotmentHold {
                class_id: parse("class id", &class)?,
                kiosk_id: parse("kiosk id", &kiosk)?,
                seats,
                catalog_heads: heads_from_blob(&heads)?,
                since,
                transfer,
            });
        }
        Ok(holds)
    }

    /// Every hold, oldest first (the office's list of cuts waiting for a kiosk).
    pub fn allotment_holds(&self) -> Result<Vec<AllotmentHold>> {
        self.holds_where("", None)
    }

    /// The holds of one class, as reserved seats per kiosk.
    pub fn class_holds(&self, class: ClassId) -> Result<BTreeMap<KioskId, u32>> {
        Ok(self
            .holds_where("WHERE class_id = ?1", Some(class.to_string()))?
            .into_iter()
            .map(|h| (h.kiosk_id, h.seats))
            .collect())
    }

    /// The holds waiting for one kiosk's acknowledgement.
    pub fn kiosk_holds(&self, kiosk: KioskId) -> Result<Vec<AllotmentHold>> {
        self.holds_where("WHERE kiosk_id = ?1", Some(kiosk.to_string()))
    }

    pub fn put_allotment_hold(&self, hold: &AllotmentHold) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO allotment_holds (class_id, kiosk_id, seats, catalog_heads, since)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (class_id, kiosk_id) DO UPDATE SET
                     seats = excluded.seats, catalog_heads = excluded.catalog_heads",
                params![
                    hold.class_id.to_string(),
                    hold.kiosk_id.to_string(),
                    hold.seats,
                    heads_to_blob(&hold.catalog_heads),
                    hold.since,
                ],
            )
            .ctx("save an allotment hold")?;
        Ok(())
    }

    /// Add seats to move to `to` once the hold's kiosk acknowledges (a hold moves seats
    /// to one kiosk at a time: a move to another replaces it).
    pub fn add_hold_transfer(
        &self,
        class: ClassId,
        kiosk: KioskId,
        to: KioskId,
        seats: u32,
    ) -> Result<()> {
        self.tx
            .execute(
                "UPDATE allotment_holds SET
                     transfer_seats = CASE WHEN transfer_to = ?3 THEN transfer_seats + ?4 ELSE ?4 END,
                     transfer_to = ?3
                 WHERE class_id = ?1 AND kiosk_id = ?2",
                params![class.to_string(), kiosk.to_string(), to.to_string(), seats],
            )
            .ctx("record an allotment move")?;
        Ok(())
    }

    pub fn drop_allotment_hold(&self, class: ClassId, kiosk: KioskId) -> Result<()> {
        self.tx
            .execute(
                "DELETE FROM allotment_holds WHERE class_id = ?1 AND kiosk_id = ?2",
                params![class.to_string(), kiosk.to_string()],
            )
            .ctx("release an allotment hold")?;
        Ok(())
    }
}

type HoldRow = (String, String, u32, Vec<u8>, String, Option<String>, u32);

fn row(r: &super::sql::Row<'_>) -> super::sql::SqlResult<HoldRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}
