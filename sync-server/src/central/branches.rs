//! Branch points and their kiosk staff, from the office: a new branch gets its catalog
//! (no classes yet, the services every branch offers); its name, address, hours and help
//! text can change; the people who open a kiosk's staff mode get a PIN (stored as an
//! argon2 hash in the catalog, never the PIN) and lose it again. Every change goes to the
//! branch's kiosks with their next sync. The command line's `catalog-import` is the
//! administrator's alternative; the office page and it share these rules.

use blisko_shared::docs::{CatalogDoc, CatalogEdit, DocKey};
use blisko_shared::hlc::HlcClock;
use blisko_shared::ids::{BranchId, KioskId, StaffId};
use blisko_shared::model::{Branch, Catalog, StaffRole, StaffUser};
use blisko_shared::{demo, validate};

use super::audit_detail::change_detail;
use super::seats::{self, Editor};
use super::{CentralError, Result, load, now_text, project_catalog};
use crate::store::Db;

fn refused(pl: impl Into<String>, en: impl Into<String>) -> CentralError {
    CentralError::Refused {
        pl: pl.into(),
        en: en.into(),
    }
}

/// A branch's details as the office types them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchFields {
    pub code: String,
    pub name: String,
    pub address: String,
    pub opening_hours: String,
    pub help: String,
}

/// One line of text, trimmed, not empty (unless `optional`), at most `max` characters.
fn line(value: &str, max: usize, optional: bool, pl: &str, en: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() && !optional {
        return Err(refused(
            format!("Proszę wypełnić pole „{pl}”."),
            format!("Please fill in \"{en}\"."),
        ));
    }
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(refused(
            format!("„{pl}”: najwyżej {max} znaków w jednym wierszu."),
            format!("\"{en}\": at most {max} characters on one line."),
        ));
    }
    Ok(value.to_owned())
}

/// The fields checked: a code of 2 to 8 capital letters or digits (it begins request
/// references, e.g. `MAL/2026/00012`), unique among the branches.
fn checked(db: &Db<'_>, fields: &BranchFields, this: Option<BranchId>) -> Result<BranchFields> {
    let code = fields.code.trim().to_uppercase();
    if !(2..=8).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return Err(refused(
            "„Skrót”: od 2 do 8 wielkich liter lub cyfr, np. MAL albo KS2.",
            "\"Code\": 2 to 8 capital letters or digits, e.g. MAL or KS2.",
        ));
    }
    if db
        .branches()?
        .iter()
        .any(|b| b.code.eq_ignore_ascii_case(&code) && Some(b.id) != this)
    {
        return Err(refused(
            format!("Skrót {code} ma już inny punkt."),
            format!("Another branch already uses the code {code}."),
        ));
    }
    Ok(BranchFields {
        code,
        name: line(&fields.name, 120, false, "Nazwa", "Name")?,
        address: line(&fields.address, 200, false, "Adres", "Address")?,
        opening_hours: line(
            &fields.opening_hours,
            120,
            false,
            "Godziny otwarcia",
            "Opening hours",
        )?,
        help: line(
            &fields.help,
            300,
            true,
            "Pomoc w kiosku",
            "Help at the kiosk",
        )?,
    })
}

/// The catalog of one branch, as stored.
pub(crate) fn catalog_of(db: &Db<'_>, branch: BranchId) -> Result<Catalog> {
    let key = DocKey::Catalog(branch);
    CatalogDoc::from_doc(load(db, key)?.ok_or_else(|| CentralError::NotFound(key.to_string()))?)
        .and_then(|c| c.read())
        .map_err(CentralError::Document)
}

/// Add a branch: its catalog with no classes, and the services of the branches already
/// there (the standard list of a CUS for the first one).
pub fn add(db: &Db<'_>, fields: &BranchFields, actor: &str) -> Result<BranchId> {
    let fields = checked(db, fields, None)?;
    let services = match db.branches()?.first() {
        Some(other) => catalog_of(db, other.id)?.services,
        None => demo::standard_services(),
    };
    let id = BranchId::new();
    let catalog = Catalog {
        branch: Branch {
            id,
            code: fields.code.clone(),
            name: fields.name,
            address: fields.address,
            opening_hours: fields.opening_hours,
            help: fields.help,
        },
        classes: Vec::new(),
        sessions: Vec::new(),
        services,
        allotments: Default::default(),
        staff: Vec::new(),
    };
    let mut doc = CatalogDoc::create(&catalog, KioskId::CENTRAL).map_err(CentralError::Document)?;
    let bytes = doc.doc_mut().save();
    let now = now_text();
    db.insert_document(
        doc.doc().key(),
        Some(id),
        None,
        &bytes,
        &doc.doc().heads(),
        &now,
    )?;
    project_catalog(db, &catalog)?;
    db.audit(
        &now,
        actor,
        "branch_add",
        &format!("branch:{id}"),
        Some(&change_detail(
            serde_json::Value::Null,
            serde_json::json!({ "code": fields.code, "name": catalog.branch.name }),
        )),
    )?;
    Ok(id)
}

/// Change a branch's details; its kiosks get them with their next sync.
pub fn edit(
    db: &Db<'_>,
    clock: &mut HlcClock,
    branch: BranchId,
    fields: &BranchFields,
    actor: &str,
) -> Result<()> {
    let fields = checked(db, fields, Some(branch))?;
    let updated = Branch {
        id: branch,
        code: fields.code,
        name: fields.name,
        address: fields.address,
        opening_hours: fields.opening_hours,
        help: fields.help,
    };
    seats::edit_catalog(
        db,
        clock,
        branch,
        &[CatalogEdit::Branch(updated)],
        &Editor {
            actor,
            action: "branch_edit",
            subject: &format!("branch:{branch}"),
        },
    )?;
    Ok(())
}

/// A person who opens a kiosk's staff mode, as the office types them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskStaff {
    /// Someone already listed (a new PIN), or `None` for a new person.
    pub id: Option<StaffId>,
    pub name: String,
    pub role: StaffRole,
    pub pin: String,
}

/// Give a person of the branch a PIN for the kiosk's staff mode, or a new PIN. Only
/// instructors and branch staff open a kiosk's staff mode, each with a PIN of their own
/// (the kiosk knows who it is by the PIN).
pub fn set_kiosk_staff(
    db: &Db<'_>,
    clock: &mut HlcClock,
    branch: BranchId,
    person: &KioskStaff,
    actor: &str,
) -> Result<StaffId> {
    let name = line(&person.name, 80, false, "Imię i nazwisko", "Name")?;
    let role = person.role;
    if !matches!(role, StaffRole::Instructor | StaffRole::BranchStaff) {
        return Err(refused(
            "W kiosku pracują instruktorzy i pracownicy punktu.",
            "A kiosk's staff mode is for instructors and branch staff.",
        ));
    }
    let pin = validate::pin(&person.pin)
        .map_err(|_| refused("PIN: od 4 do 8 cyfr.", "PIN: 4 to 8 digits."))?;
    let catalog = catalog_of(db, branch)?;
    let id = match person.id {
        Some(id) if catalog.staff.iter().any(|s| s.id == id) => id,
        Some(id) => return Err(CentralError::NotFound(format!("staff {id}"))),
        None => StaffId::new(),
    };
    if let Some(other) = catalog
        .staff
        .iter()
        .find(|s| s.id != id && super::staff::verify_password(&pin, &s.pin_hash))
    {
        return Err(refused(
            format!(
                "Ten PIN ma już {}: każda osoba potrzebuje własnego.",
                other.name
            ),
            format!(
                "{} already has this PIN: everyone needs their own.",
                other.name
            ),
        ));
    }
    let pin_hash = super::staff::hash_password(&pin)?;
    seats::edit_catalog(
        db,
        clock,
        branch,
        &[CatalogEdit::Staff(StaffUser {
            id,
            name,
            role,
            pin_hash,
        })],
        &Editor {
            actor,
            action: "kiosk_staff_pin",
            subject: &format!("branch:{branch}"),
        },
    )?;
    Ok(id)
}

/// Take a person's PIN away: the branch's kiosks no longer let them into staff mode
/// after their next sync.
pub fn remove_kiosk_staff(
    db: &Db<'_>,
    clock: &mut HlcClock,
    branch: BranchId,
    id: StaffId,
    actor: &str,
) -> Result<()> {
    let catalog = catalog_of(db, branch)?;
    if !catalog.staff.iter().any(|s| s.id == id) {
        return Err(CentralError::NotFound(format!("staff {id}")));
    }
    seats::edit_catalog(
        db,
        clock,
        branch,
        &[CatalogEdit::RemoveStaff(id)],
        &Editor {
            actor,
            action: "kiosk_staff_remove",
            subject: &format!("branch:{branch}"),
        },
    )?;
    Ok(())
}
