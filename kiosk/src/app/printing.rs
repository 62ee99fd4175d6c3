//! The slips the receipts print, built from the same strings the receipt screens show.

use blisko_shared::i18n::Lang;
use blisko_shared::seats::SeatStatus;

use super::text::{self, T};
use crate::kiosk::slip::Slip;
use crate::kiosk::{IntakeReceipt, RegistrationReceipt};

/// A receipt printer: the CUPS queue and its paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printer {
    pub queue: String,
    pub paper: crate::kiosk::slip::PaperWidth,
}

/// The registration receipt's title line: "Miejsce przyznane!" or "Zapis na liście
/// rezerwowej — obecnie około 4. miejsce na liście".
pub fn registration_status(receipt: &RegistrationReceipt, lang: Lang) -> String {
    if receipt.status == SeatStatus::Confirmed {
        T::Confirmed.tr(lang).to_owned()
    } else {
        format!(
            "{} — {}",
            T::Waitlisted.tr(lang),
            text::waitlist_place(receipt.position.unwrap_or(0), lang)
        )
    }
}

/// The next session as the receipt shows it: (date, time, room), when one is known.
pub fn next_session(receipt: &RegistrationReceipt, lang: Lang) -> Option<[(T, String); 3]> {
    let s = receipt.next_session.as_ref()?;
    Some([
        (T::Date, text::long_date(&s.date, lang)),
        (T::Time, text::time_span(&s.start, s.minutes)),
        (T::Room, s.room.clone()),
    ])
}

pub fn registration_slip(receipt: &RegistrationReceipt, place: &str, lang: Lang) -> Slip {
    let mut rows = vec![(
        T::SlipStatus.tr(lang).to_owned(),
        registration_status(receipt, lang),
    )];
    match next_session(receipt, lang) {
        Some(lines) => rows.extend(
            lines
                .into_iter()
                .map(|(label, value)| (label.tr(lang).to_owned(), value)),
        ),
        None => rows.push((
            T::NextSession.tr(lang).to_owned(),
            T::NoNextSession.tr(lang).to_owned(),
        )),
    }
    Slip {
        title: T::SlipRegistration.tr(lang).to_owned(),
        place: place.to_owned(),
        subject: receipt.class_title.clone(),
        rows,
        codes: vec![(
            T::ResidentCode.tr(lang).to_owned(),
            receipt.resident_code.clone(),
        )],
        notes: Vec::new(),
    }
}

/// What the intake receipt says happens next: a call only when a phone number was given.
pub fn intake_next(phone_given: bool) -> T {
    if phone_given {
        T::RequestNext
    } else {
        T::RequestNextNoCall
    }
}

pub fn intake_slip(receipt: &IntakeReceipt, place: &str, lang: Lang) -> Slip {
    Slip {
        title: T::SlipRequest.tr(lang).to_owned(),
        place: place.to_owned(),
        subject: receipt.service_name.clone(),
        rows: Vec::new(),
        codes: vec![
            (
                T::ReferenceLabel.tr(lang).to_owned(),
                receipt.reference.clone(),
            ),
            (
                T::ResidentCode.tr(lang).to_owned(),
                receipt.resident_code.clone(),
            ),
        ],
        notes: vec![intake_next(receipt.call_back).tr(lang).to_owned()],
    }
}
