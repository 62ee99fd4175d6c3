//! The PESEL of a pushed intake request must agree with the person's birth year, as the
//! kiosk already checks (`validate::pesel_matches_birth_year`): a kiosk that skipped the
//! check (an old or a tampered one) cannot file a PESEL of someone else.
//!
//! Both are sealed with the person's key, which the server holds: the kiosk pushes it in
//! the same request as the person and their first request, or it is here already (a
//! returning resident). The check runs after the request's pushes and keys are applied,
//! inside its transaction, so a refusal changes nothing. A request whose key or person is
//! not at the server is taken unchecked: its content is unreadable here too, and the
//! kiosk checked it.

use std::collections::HashMap;

use blisko_shared::docs::{DocKey, IntakeDoc, PeopleDoc};
use blisko_shared::sync::SyncRequest;
use blisko_shared::validate;

use super::{CentralError, Result, from_kiosk, load};
use crate::store::{Db, KioskAuth};

/// The sealed content of each intake document a request pushes, as stored before it
/// (`None`: new, or nothing sealed).
pub(super) type SealedBefore = HashMap<DocKey, Option<Vec<u8>>>;

pub(super) fn sealed_before(db: &Db<'_>, request: &SyncRequest) -> Result<SealedBefore> {
    let mut before = SealedBefore::new();
    for push in &request.push {
        if let DocKey::Intake(_) = push.doc {
            let sealed = match load(db, push.doc)? {
                Some(doc) => IntakeDoc::from_doc(doc)
                    .map_err(CentralError::Document)?
                    .sealed(),
                None => None,
            };
            before.insert(push.doc, sealed);
        }
    }
    Ok(before)
}

/// Check the PESEL of every pushed intake document whose sealed content is new.
pub(super) fn check_pushed_intakes(
    db: &Db<'_>,
    kiosk: &KioskAuth,
    before: &SealedBefore,
) -> Result<()> {
    for (&key, sealed_before) in before {
        let Some(doc) = load(db, key)? else {
            continue;
        };
        let intake = IntakeDoc::from_doc(doc).map_err(from_kiosk)?;
        let sealed = intake.sealed();
        if sealed.is_none() || sealed == *sealed_before {
            continue;
        }
        let person = intake.read(None).map_err(from_kiosk)?.person_id;
        let Some(Some(person_key)) = db.branch_person_key(kiosk.branch_id, person)? else {
            continue;
        };
        let Some(owner) = db.person_owner(person)? else {
            continue;
        };
        let opened = intake.read(Some(&person_key)).map_err(|_| {
            CentralError::BadRequest(format!(
                "{key}: the request does not open with its person's key"
            ))
        })?;
        let Some(pesel) = opened.pesel else {
            continue;
        };
        let mut birth_year = None;
        for volume in 0.. {
            let Some(doc) = load(db, DocKey::People(owner, volume))? else {
                break;
            };
            let people = PeopleDoc::from_doc(doc).map_err(CentralError::Document)?;
            if let Some(p) = people
                .person(person, Some(&person_key))
                .map_err(CentralError::Document)?
            {
                birth_year = Some(p.birth_year);
                break;
            }
        }
        let Some(birth_year) = birth_year else {
            continue;
        };
        // The message names neither the PESEL nor the years: it may end up in a log.
        validate::pesel(&pesel)
            .map_err(|_| CentralError::BadRequest(format!("{key}: the PESEL is not valid")))?;
        validate::pesel_matches_birth_year(&pesel, i32::from(birth_year)).map_err(|_| {
            CentralError::BadRequest(format!(
                "{key}: the PESEL does not agree with the person's birth year"
            ))
        })?;
    }
    Ok(())
}
