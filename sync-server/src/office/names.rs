//! Names instead of ids: every office page shows a kiosk by its name and number ("MAL — hol
//! (kiosk nr 3)") and a staff member by their name, and the audit log's actors and details
//! the same way. Loaded once per page.

use std::collections::HashMap;

use blisko_shared::i18n::Lang;

use super::{OResult, tr};
use crate::store::Db;

/// Kiosk and staff names of one page.
pub struct Names {
    lang: Lang,
    /// Kiosk id → (name, number).
    kiosks: HashMap<String, (String, u32)>,
    /// Staff id → name.
    staff: HashMap<String, String>,
}

impl Names {
    pub fn load(db: &Db<'_>, lang: Lang) -> OResult<Names> {
        Ok(Names {
            lang,
            kiosks: db
                .kiosks()?
                .into_iter()
                .map(|k| (k.kiosk_id.to_string(), (k.name, k.number)))
                .collect(),
            staff: db.staff_names()?.into_iter().collect(),
        })
    }

    /// Also the names of the staff who sign in at kiosks (instructors marking attendance:
    /// they are in the branch catalogs, not office accounts).
    pub fn with_kiosk_staff(mut self, db: &Db<'_>) -> OResult<Names> {
        for branch in db.branches()? {
            let catalog = crate::central::stored_catalog(db, branch.id)?;
            for s in &catalog.staff {
                self.staff
                    .entry(s.id.to_string())
                    .or_insert_with(|| s.name.clone());
            }
        }
        Ok(self)
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// A kiosk as people know it: "MAL — hol (kiosk nr 3)"; "kiosk nr 3" when it has no
    /// name; "kiosk (unknown)" for an id the server does not know.
    pub fn kiosk(&self, id: &str) -> String {
        let id = id.strip_prefix("kiosk:").unwrap_or(id);
        let number = tr(self.lang, "kiosk nr", "kiosk no.");
        if id
            .parse::<blisko_shared::ids::KioskId>()
            .is_ok_and(|k| k.is_central())
        {
            // The office itself: a registration taken on the phone, an office mark.
            return tr(self.lang, "biuro (telefonicznie)", "office (by phone)").to_owned();
        }
        match self.kiosks.get(id) {
            Some((name, n)) if !name.is_empty() => format!("{name} ({number} {n})"),
            Some((_, n)) => format!("{number} {n}"),
            None => tr(self.lang, "kiosk (nieznany)", "kiosk (unknown)").to_owned(),
        }
    }

    /// A staff member's name; "staff member (unknown)" for an id the server does not know.
    pub fn staff(&self, id: &str) -> String {
        let id = id.strip_prefix("staff:").unwrap_or(id);
        self.staff.get(id).cloned().unwrap_or_else(|| {
            tr(self.lang, "pracownik (nieznany)", "staff member (unknown)").to_owned()
        })
    }

    /// Who did something, as stored in the audit log or a document's history (`staff:<id>`,
    /// `kiosk:<id>`, `admin`, `server`, `anonymous`, or a bare kiosk id).
    pub fn actor(&self, actor: &str) -> String {
        let l = self.lang;
        match actor {
            "admin" => tr(
                l,
                "administrator (wiersz poleceń)",
                "administrator (command line)",
            )
            .to_owned(),
            "server" => tr(l, "serwer", "the server").to_owned(),
            "anonymous" => tr(l, "nieznany", "unknown").to_owned(),
            "kiosk:?" => tr(l, "nieznany kiosk", "an unknown kiosk").to_owned(),
            _ if actor.starts_with("staff:") => self.staff(actor),
            _ if actor.starts_with("kiosk:") || self.kiosks.contains_key(actor) => {
                self.kiosk(actor)
            }
            other => other.to_owned(),
        }
    }

    /// Text with every `kiosk:<id>` and `staff:<id>` in it replaced by the name.
    pub fn in_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = find_reference(rest) {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            let (prefix, ids) = tail.split_at(tail.find(':').map_or(0, |i| i + 1));
            let id_len = ids
                .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
                .unwrap_or(ids.len());
            let reference = &tail[..prefix.len() + id_len];
            let known = match prefix {
                "kiosk:" => self.kiosks.contains_key(&ids[..id_len]),
                _ => self.staff.contains_key(&ids[..id_len]),
            };
            if known {
                out.push_str(&self.actor(reference));
            } else {
                out.push_str(reference);
            }
            rest = &tail[reference.len()..];
        }
        out.push_str(rest);
        out
    }
}

/// Where the next `kiosk:` or `staff:` begins.
fn find_reference(text: &str) -> Option<usize> {
    match (text.find("kiosk:"), text.find("staff:")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
