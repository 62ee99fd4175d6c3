//! Names instead of ids: every office page shows a kiosk by its name and number ("MAL — hol
//! (kiosk nr 3)") and a staff member by their name, and the audit log's actors and details
//! the same way. Loaded once per page; a page that shows stored references
//! (`class:<id>`, `session:<id>`, `registration:<id>`, `intake:<id>`, `person:<id>`,
//! `branch:<id>`, …) also loads the ones its texts name ([`Names::with_references`]).

use std::collections::HashMap;

use blisko_shared::i18n::Lang;

use super::{OResult, dates, people, tr};
use crate::store::Db;

/// The kinds of reference `in_text` replaces, each written `kind:<id>`.
const KINDS: [&str; 10] = [
    "kiosk",
    "staff",
    "class",
    "roster",
    "session",
    "registration",
    "intake",
    "person",
    "branch",
    "catalog",
];

/// Kiosk and staff names of one page, and the names of the references it shows.
pub struct Names {
    lang: Lang,
    /// Kiosk id → (name, number).
    kiosks: HashMap<String, (String, u32)>,
    /// Staff id → name.
    staff: HashMap<String, String>,
    /// Branch id → name.
    branches: HashMap<String, String>,
    /// Class id → title.
    classes: HashMap<String, String>,
    /// Session id → "5 grudnia 2026, sob., 10:00 · Joga".
    sessions: HashMap<String, String>,
    /// Registration id → "zapis: Nowak Anna · Joga".
    registrations: HashMap<String, String>,
    /// Request id → its reference ("CUS.4011.7.2026").
    intakes: HashMap<String, String>,
    /// Person id → name (only when the page's reader may see persons).
    persons: HashMap<String, String>,
    /// Whether the page's reader may see persons' names.
    persons_visible: bool,
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
            branches: db
                .branches()?
                .into_iter()
                .map(|b| (b.id.to_string(), b.name))
                .collect(),
            classes: HashMap::new(),
            sessions: HashMap::new(),
            registrations: HashMap::new(),
            intakes: HashMap::new(),
            persons: HashMap::new(),
            persons_visible: false,
        })
    }

    /// Also the names of what `texts` refer to: classes, sessions, registrations,
    /// requests and (when `persons_visible`, i.e. the reader may see persons) persons.
    pub fn with_references<'t>(
        mut self,
        db: &Db<'_>,
        texts: impl IntoIterator<Item = &'t str>,
        persons_visible: bool,
    ) -> OResult<Names> {
        self.persons_visible = persons_visible;
        let mut wanted: Vec<(&str, String)> = Vec::new();
        for text in texts {
            let mut rest = text;
            while let Some((at, kind, id_len)) = next_reference(rest) {
                let id = &rest[at + kind.len() + 1..at + kind.len() + 1 + id_len];
                wanted.push((kind, id.to_owned()));
                rest = &rest[at + kind.len() + 1 + id_len..];
            }
        }
        wanted.sort();
        wanted.dedup();
        // Sessions and registrations name their class and person: those first.
        let mut persons = Vec::new();
        let mut classes = Vec::new();
        let mut sessions = Vec::new();
        let mut registrations = Vec::new();
        for (kind, id) in wanted {
            match kind {
                "class" | "roster" => classes.push(id),
                "person" => persons.push(id),
                "session" => {
                    if let Some(s) = db.o_session(&id)? {
                        classes.push(s.class_id.clone());
                        sessions.push(s);
                    }
                }
                "registration" => {
                    if let Some(r) = db.o_registration(&id)? {
                        classes.push(r.class_id.clone());
                        persons.push(r.person_id.clone());
                        registrations.push(r);
                    }
                }
                "intake" => {
                    if let Some(r) = db.o_request(&id)? {
                        self.intakes.insert(id, r.reference);
                    }
                }
                _ => {}
            }
        }
        for id in classes {
            if !self.classes.contains_key(&id)
                && let Some(c) = db.o_class(&id)?
            {
                self.classes.insert(id, c.title);
            }
        }
        if persons_visible {
            for id in persons {
                if !self.persons.contains_key(&id)
                    && let Some(p) = db.o_person(&id)?
                {
                    self.persons.insert(id, people::display_name(self.lang, &p));
                }
            }
        }
        let lang = self.lang;
        for s in sessions {
            let when = format!("{}, {}", dates::day_text(lang, &s.date), s.start);
            let text = match self.classes.get(&s.class_id) {
                Some(title) => format!("{when} · {title}"),
                None => when,
            };
            self.sessions.insert(s.id, text);
        }
        for r in registrations {
            let who = self.person(&r.person_id);
            let class =
                self.classes.get(&r.class_id).cloned().unwrap_or_else(|| {
                    tr(lang, "zajęcia (nieznane)", "class (unknown)").to_owned()
                });
            let text = format!("{} {who} · {class}", tr(lang, "zapis:", "registration:"));
            self.registrations.insert(r.id, text);
        }
        Ok(self)
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
    /// `kiosk:<id>`, `admin`, `server`, `anonymous` or `unknown`, `setup`, or a bare kiosk
    /// id).
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
            "anonymous" | "unknown" => tr(l, "nieznany", "unknown").to_owned(),
            "setup" => tr(
                l,
                "link do utworzenia pierwszego administratora",
                "the first admin's set-up link",
            )
            .to_owned(),
            "kiosk:?" => tr(l, "nieznany kiosk", "an unknown kiosk").to_owned(),
            _ if actor.starts_with("staff:") => self.staff(actor),
            _ if actor.starts_with("kiosk:") || self.kiosks.contains_key(actor) => {
                self.kiosk(actor)
            }
            other => other.to_owned(),
        }
    }

    /// A person as the reader may see them: their name, "osoba" when the reader may not
    /// see persons, "osoba (nieznana)" for an id the office does not hold.
    pub fn person(&self, id: &str) -> String {
        let id = id.strip_prefix("person:").unwrap_or(id);
        if !self.persons_visible {
            return tr(self.lang, "osoba", "person").to_owned();
        }
        self.persons
            .get(id)
            .cloned()
            .unwrap_or_else(|| tr(self.lang, "osoba (nieznana)", "person (unknown)").to_owned())
    }

    /// A class's title, if the page loaded it.
    pub fn class(&self, id: &str) -> Option<&str> {
        self.classes.get(id).map(String::as_str)
    }

    /// A request's reference, if the page loaded it.
    pub fn intake(&self, id: &str) -> Option<&str> {
        self.intakes.get(id).map(String::as_str)
    }

    /// A branch's name, if it exists.
    pub fn branch(&self, id: &str) -> Option<&str> {
        self.branches.get(id).map(String::as_str)
    }

    /// The name of one reference (`kind` of [`KINDS`], `id`), `None` when it is not known
    /// (the reference then shows as it is).
    fn reference(&self, kind: &str, id: &str) -> Option<String> {
        let l = self.lang;
        match kind {
            "kiosk" => self
                .kiosks
                .contains_key(id)
                .then(|| self.kiosk(id))
                .or_else(|| {
                    id.parse::<blisko_shared::ids::KioskId>()
                        .is_ok_and(|k| k.is_central())
                        .then(|| self.kiosk(id))
                }),
            "staff" => self.staff.get(id).cloned(),
            "class" | "roster" => self.classes.get(id).cloned(),
            "session" => self.sessions.get(id).cloned(),
            "registration" => self.registrations.get(id).cloned(),
            "intake" => self
                .intakes
                .get(id)
                .map(|r| format!("{} {r}", tr(l, "wniosek", "request"))),
            "person" if !self.persons_visible => Some(tr(l, "osoba", "person").to_owned()),
            "person" => self.persons.get(id).cloned(),
            "branch" => self.branches.get(id).cloned(),
            "catalog" => self
                .branches
                .get(id)
                .map(|b| format!("{} {b}", tr(l, "katalog:", "catalog:"))),
            _ => None,
        }
    }

    /// Text with every reference in it (`kiosk:<id>`, `staff:<id>`, `class:<id>`,
    /// `session:<id>`, `registration:<id>`, `intake:<id>`, `person:<id>`, `branch:<id>`,
    /// …) replaced by its name; an unknown one stays as it is.
    pub fn in_text(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((at, kind, id_len)) = next_reference(rest) {
            out.push_str(&rest[..at]);
            let end = at + kind.len() + 1 + id_len;
            let id = &rest[at + kind.len() + 1..end];
            match self.reference(kind, id) {
                Some(name) => out.push_str(&name),
                None => out.push_str(&rest[at..end]),
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

/// The next reference in `text`: where it begins, its kind and the length of its id (hex
/// digits and dashes). A kind counts only at the start of a word (`sessions:` or
/// `xclass:` are none).
fn next_reference(text: &str) -> Option<(usize, &'static str, usize)> {
    let mut from = 0;
    while let Some(colon) = text[from..].find(':').map(|i| from + i) {
        let before = &text[..colon];
        for kind in KINDS {
            if before.ends_with(kind) {
                let at = colon - kind.len();
                let at_word_start = text[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                let ids = &text[colon + 1..];
                let id_len = ids
                    .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
                    .unwrap_or(ids.len());
                if at_word_start && id_len > 0 {
                    return Some((at, kind, id_len));
                }
            }
        }
        from = colon + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLASS: &str = "0190c6e2-0000-7000-8000-000000000001";
    const OTHER: &str = "0190c6e2-0000-7000-8000-000000000002";

    fn names(persons_visible: bool) -> Names {
        Names {
            lang: Lang::Pl,
            kiosks: HashMap::new(),
            staff: HashMap::new(),
            branches: HashMap::new(),
            classes: HashMap::from([(CLASS.to_owned(), "Joga".to_owned())]),
            sessions: HashMap::new(),
            registrations: HashMap::new(),
            intakes: HashMap::new(),
            persons: HashMap::from([(OTHER.to_owned(), "Nowak Jan".to_owned())]),
            persons_visible,
        }
    }

    #[test]
    fn references_become_names_and_unknown_ones_stay() {
        let n = names(true);
        assert_eq!(
            n.in_text(&format!("class:{CLASS} person:{OTHER} confirmed")),
            "Joga Nowak Jan confirmed"
        );
        assert_eq!(
            n.in_text(&format!("class:{OTHER}")),
            format!("class:{OTHER}")
        );
        // Only at the start of a word, and only with an id.
        assert_eq!(
            n.in_text(&format!("xclass:{CLASS}")),
            format!("xclass:{CLASS}")
        );
        assert_eq!(n.in_text("sessions:3 person:*"), "sessions:3 person:*");
    }

    #[test]
    fn a_reader_who_may_not_see_persons_reads_person() {
        let n = names(false);
        assert_eq!(n.in_text(&format!("person:{OTHER}")), "osoba");
        assert_eq!(n.person(OTHER), "osoba");
    }
}
