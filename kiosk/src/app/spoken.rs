//! What the kiosk says aloud when "Czytaj na głos" is on: each screen's heading and its
//! essential text, built from the same `T` keys and data the screen shows. The match
//! over [`Screen`] has no catch-all arm, so a new screen cannot be left silent.
//!
//! Codes to keep (resident code, reference number) are spelled out character by
//! character. Only what is on the screen is spoken; none of it is logged.

use blisko_shared::i18n::Lang;
use blisko_shared::model::{ApplicantRole, Branch};
use blisko_shared::seats::{self, Admission, SeatStatus};

use super::printing;
use super::session::Idle;
use super::text::{self, T};
use super::{FieldId, KioskApp, Screen};
use crate::error::KioskError;
use crate::speech::Voice;
use crate::store::ClassRow;

/// Whether the app reads aloud, how, and what it last said about the screen.
#[derive(Debug, Clone, Default)]
pub struct SpeechState {
    /// The resident's (or staff's) switch; it goes back off when the session resets.
    pub on: bool,
    /// Volume and speed: set in staff mode, kept across sessions.
    pub voice: Voice,
    /// The screen text spoken last: a change of it is spoken.
    pub last: Option<String>,
}

/// Parts of speech joined into sentences: each part ends with a full stop unless it has
/// its own punctuation.
fn join(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
        if !part.ends_with(['.', '!', '?', ':', '…']) {
            out.push('.');
        }
    }
    out
}

/// A code read one character at a time ("K 7 M 2"), a hyphen as a pause.
pub fn spell(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => ",".to_owned(),
            c => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "Pola do wypełnienia: Imię, Nazwisko, …".
fn list(lang: Lang, head: T, items: &[String]) -> String {
    format!("{}: {}", head.tr(lang), items.join(", "))
}

fn main_button(lang: Lang, key: T) -> String {
    format!("{}: {}", T::SpokenMainButton.tr(lang), key.tr(lang))
}

fn keys(lang: Lang, keys: &[T]) -> Vec<String> {
    keys.iter().map(|k| k.tr(lang).to_owned()).collect()
}

fn seats_text(class: &ClassRow, lang: Lang) -> String {
    match seats::admission_for(class.free_seats, class.waitlisted, class.waitlist_limit) {
        Admission::Confirm => text::free_seats(class.free_seats, lang),
        Admission::Full => T::NoWaitlist.tr(lang).to_owned(),
        Admission::Waitlist { .. } => format!(
            "{}, {}",
            T::NoFreeSeats.tr(lang),
            text::waiting(class.waitlisted, lang)
        ),
    }
}

/// The text of the current screen, as spoken: a notice first (what went wrong is what
/// matters now), then the screen.
pub fn screen_text(app: &KioskApp) -> String {
    let lang = app.lang;
    let t = |k: T| k.tr(lang).to_owned();
    let mut parts = Vec::new();
    if let Some(n) = &app.notice {
        parts.push(n.text.clone());
    }
    match &app.screen {
        Screen::Setup => {
            parts.push(t(T::SetupTitle));
            parts.push(list(
                lang,
                T::SpokenChoices,
                &keys(lang, &[T::SetupDemo, T::SetupEnroll]),
            ));
        }
        Screen::SetupDemo => {
            parts.push(t(T::ChooseBranch));
            let codes: Vec<String> = blisko_shared::demo::branch_ids()
                .into_iter()
                .map(|(_, code)| spell(code))
                .collect();
            parts.push(list(lang, T::SpokenChoices, &codes));
        }
        Screen::SetupEnroll => {
            parts.push(t(T::SetupEnroll));
            parts.push(list(
                lang,
                T::SpokenFields,
                &keys(lang, &[T::ServerAddress, T::EnrollmentCode]),
            ));
            parts.push(main_button(lang, T::Connect));
        }
        Screen::Home if app.revoked => parts.push(KioskError::OutOfService.message(lang)),
        Screen::Home => {
            if !app.branch_name.is_empty() {
                parts.push(app.branch_name.clone());
            }
            parts.push(t(T::Welcome));
            // The hints the tiles show: this branch's own classes and services.
            let classes = app.classes.iter().map(|c| c.title.as_str());
            let services = app.services.iter().map(|s| s.name.as_str());
            for (title, hint) in [
                (
                    T::SignUpTile,
                    text::offer_hint(classes, T::SignUpTileHint, lang),
                ),
                (
                    T::RequestTile,
                    text::offer_hint(services, T::RequestTileHint, lang),
                ),
                (T::MineTile, t(T::MineTileHint)),
            ] {
                parts.push(format!("{}: {hint}", title.tr(lang)));
            }
            parts.push(t(T::HelpButtonHint));
        }
        Screen::Classes { day, .. } => {
            parts.push(t(T::SignUpTile));
            parts.push(match day {
                Some(d) => text::weekday(*d, lang).to_owned(),
                None => t(T::AllDays),
            });
            let shown: Vec<String> = app
                .classes
                .iter()
                .filter(|c| day.is_none_or(|d| c.schedule.iter().any(|s| s.weekday == d)))
                .map(|c| format!("{}: {}", c.title, seats_text(c, lang)))
                .collect();
            if shown.is_empty() {
                parts.push(t(T::NoClasses));
            } else {
                parts.push(list(lang, T::SpokenChoices, &shown));
            }
        }
        Screen::RegisterDetails { class } => {
            parts.push(class.title.clone());
            parts.extend(text::waitlist_ahead(class, lang));
            parts.push(t(T::YourDetails));
            parts.push(t(T::TapFieldToType));
            parts.push(list(
                lang,
                T::SpokenFields,
                &keys(
                    lang,
                    &[
                        T::GivenName,
                        T::FamilyName,
                        T::BirthYear,
                        T::Phone,
                        T::ResidentCodeOptional,
                    ],
                ),
            ));
            parts.push(main_button(lang, T::Next));
        }
        Screen::RegisterConsent { class } => {
            parts.push(format!("{} — {}", class.title, t(T::InformationTitle)));
            parts.extend(text::waitlist_ahead(class, lang));
            parts.push(t(T::InformationClause));
            parts.push(t(T::ConsentRead));
            if app.form.optional(FieldId::Phone).is_some() {
                parts.push(t(T::SmsConsent));
            }
            parts.push(main_button(lang, T::SignMeUp));
        }
        Screen::Registered { receipt } if receipt.awaiting_pool => {
            parts.push(t(T::CheckingPool));
            parts.push(t(T::CheckingPoolDetail));
        }
        Screen::Registered { receipt } => {
            parts.push(printing::registration_status(receipt, lang));
            parts.push(receipt.class_title.clone());
            parts.push(t(if receipt.status == SeatStatus::Confirmed {
                T::ConfirmedDetail
            } else {
                T::WaitlistDetail
            }));
            parts.push(format!(
                "{} {}",
                t(T::KeepYourCode),
                spell(&receipt.resident_code)
            ));
            match printing::next_session(receipt, lang) {
                Some(lines) => {
                    parts.push(t(T::NextSession));
                    for (label, value) in lines {
                        parts.push(format!("{}: {value}", label.tr(lang)));
                    }
                }
                None => parts.push(t(T::NoNextSession)),
            }
            parts.push(main_button(lang, T::Done));
        }
        Screen::Services { .. } => {
            parts.push(t(T::ServicesTitle));
            let names: Vec<String> = app.services.iter().map(|s| s.name.clone()).collect();
            if names.is_empty() {
                parts.push(t(T::SpokenNoOptions));
            } else {
                parts.push(list(lang, T::SpokenChoices, &names));
            }
        }
        Screen::IntakeDetails { service } => {
            parts.push(service.name.clone());
            parts.push(list(
                lang,
                T::ApplicantRole,
                &keys(lang, &[T::RoleSelf, T::RoleLegal, T::RoleCarer]),
            ));
            let role = app.form.role.unwrap_or(ApplicantRole::SelfApplicant);
            parts.push(t(if role == ApplicantRole::SelfApplicant {
                T::DetailsOfSelf
            } else {
                T::DetailsOfOther
            }));
            let mut fields = vec![
                T::GivenName,
                T::FamilyName,
                T::BirthYear,
                T::PhoneForCall,
                T::ResidentCodeOptional,
            ];
            if service.requires_pesel {
                fields.push(T::Pesel);
            }
            parts.push(list(lang, T::SpokenFields, &keys(lang, &fields)));
            parts.push(main_button(lang, T::Next));
        }
        Screen::IntakeNeed { service } => {
            parts.push(service.name.clone());
            parts.push(t(T::Description));
            parts.push(main_button(lang, T::Next));
        }
        Screen::IntakeDeclaration { service } => {
            parts.push(format!("{} — {}", service.name, t(T::DeclarationTitle)));
            parts.push(t(T::ConditionsTitle));
            parts.push(match service.conditions.trim() {
                "" => t(T::NoConditions),
                conditions => conditions.to_owned(),
            });
            parts.push(text::declaration(&service.conditions, lang));
            parts.push(t(T::DeclarationTick));
            parts.push(t(T::IntakeInformationTitle));
            parts.push(t(T::ConsentRead));
            if app.form.optional(FieldId::Phone).is_some() {
                parts.push(t(T::SmsConsent));
            }
            parts.push(t(T::IntakeClause));
            if !service.legal_basis.trim().is_empty() {
                parts.push(format!(
                    "{}: {}",
                    t(T::LegalBasisTitle),
                    service.legal_basis
                ));
            }
            parts.push(main_button(lang, T::SendRequest));
        }
        Screen::IntakeSent { receipt } => {
            parts.push(t(T::RequestSent));
            parts.push(receipt.service_name.clone());
            parts.push(format!(
                "{} {}",
                t(T::ReferenceNumber),
                spell(&receipt.reference)
            ));
            parts.push(format!(
                "{} {}",
                t(T::KeepYourCode),
                spell(&receipt.resident_code)
            ));
            parts.push(t(printing::intake_next(receipt.call_back)));
            parts.push(main_button(lang, T::Done));
        }
        Screen::Lookup => {
            parts.push(t(T::EnterCode));
            parts.push(main_button(lang, T::Show));
        }
        Screen::Resident { overview } => {
            parts.push(match overview.given_name.as_str() {
                "" => format!("{}!", t(T::HelloName)),
                name => format!("{}, {name}!", t(T::HelloName)),
            });
            if overview.erased {
                parts.push(t(T::ErasedPerson));
            }
            parts.push(format!("{}:", t(T::YourRegistrations)));
            if overview.registrations.is_empty() {
                parts.push(t(T::NoneYet));
            }
            for r in &overview.registrations {
                let mut status = text::seat_status(r.status, lang).to_owned();
                if let Some(pos) = r.position {
                    status.push_str(&format!(", {}", text::waitlist_place(pos, lang)));
                }
                parts.push(format!("{} — {status}", r.class_title));
            }
            parts.push(format!("{}:", t(T::YourRequests)));
            if overview.requests.is_empty() {
                parts.push(t(T::NoneYet));
            }
            for r in &overview.requests {
                parts.push(format!(
                    "{} — {}",
                    r.service_name,
                    text::request_status(&r.status, lang)
                ));
                if let Some(message) = &r.message {
                    parts.push(format!("{} {message}", t(T::OfficeMessage)));
                }
            }
            if overview.sms_consent {
                parts.push(t(T::SmsReminders));
                parts.push(list(lang, T::SpokenChoices, &keys(lang, &[T::StopSms])));
            }
        }
        Screen::CancelAsk { title, .. } => {
            parts.push(t(T::CancelQuestion));
            parts.push(title.clone());
            parts.push(list(
                lang,
                T::SpokenChoices,
                &keys(lang, &[T::NoKeep, T::YesCancel]),
            ));
        }
        Screen::SmsWithdrawAsk { .. } => {
            parts.push(t(T::StopSmsQuestion));
            parts.push(t(T::StopSmsHint));
            parts.push(list(
                lang,
                T::SpokenChoices,
                &keys(lang, &[T::NoKeepSms, T::YesStopSms]),
            ));
        }
        Screen::SmsWithdrawn { .. } => {
            parts.push(t(T::SmsStopped));
            parts.push(t(T::SmsStoppedText));
            parts.push(main_button(lang, T::Done));
        }
        Screen::StaffPin => match app.pin_guard.locked(app.now()) {
            Some(ms) => parts.push(format!("{} {}", t(T::PinLocked), ms.div_ceil(60_000))),
            None => {
                parts.push(t(T::EnterPin));
                parts.push(main_button(lang, T::Unlock));
            }
        },
        Screen::StaffMenu => {
            parts.push(t(T::StaffMenu));
            parts.push(list(
                lang,
                T::SpokenChoices,
                &keys(
                    lang,
                    &[T::RollCallTile, T::RostersTile, T::SyncTile, T::LeaveStaff],
                ),
            ));
        }
        Screen::StaffSessions { sessions } => {
            parts.push(t(T::RollCallTile));
            if sessions.is_empty() {
                parts.push(t(T::NoSessionsToday));
            } else {
                parts.push(format!("{}: {}", t(T::SpokenSessions), sessions.len()));
                let names: Vec<String> = sessions
                    .iter()
                    .map(|s| format!("{} {}", s.start, s.class_title))
                    .collect();
                parts.push(list(lang, T::SpokenChoices, &names));
            }
        }
        Screen::RollCall { roll } => {
            let s = &roll.session;
            parts.push(format!("{}, {} {}", s.class_title, s.date, s.start));
            if roll.entries.is_empty() {
                parts.push(t(T::NoOneRegistered));
            } else {
                parts.push(format!("{}: {}", t(T::SpokenEntries), roll.entries.len()));
            }
        }
        Screen::WalkIn { session } => {
            parts.push(format!("{} — {}", session.class_title, t(T::AddWalkIn)));
            parts.push(list(
                lang,
                T::SpokenFields,
                &keys(lang, &[T::GivenName, T::FamilyName, T::BirthYear]),
            ));
            parts.push(t(T::WalkInConsent));
            parts.push(main_button(lang, T::AddPresent));
        }
        Screen::StaffClasses { .. } => {
            parts.push(t(T::RostersTile));
            let titles: Vec<String> = app.classes.iter().map(|c| c.title.clone()).collect();
            if titles.is_empty() {
                parts.push(t(T::SpokenNoOptions));
            } else {
                parts.push(list(lang, T::SpokenChoices, &titles));
            }
        }
        Screen::StaffRoster { class, rows, .. } => {
            parts.push(class.title.clone());
            let count = |status| rows.iter().filter(|r| r.status == status).count();
            parts.push(format!(
                "{}: {}",
                t(T::Roster),
                count(SeatStatus::Confirmed)
            ));
            parts.push(format!(
                "{}: {}",
                t(T::Waitlist),
                count(SeatStatus::Waitlisted)
            ));
        }
        Screen::StaffSync { status } => {
            parts.push(t(T::SyncTile));
            if status.revoked || app.revoked {
                parts.push(t(T::RevokedStaff));
            }
            parts.push(format!(
                "{}: {}",
                t(T::PendingChanges),
                status.pending_changes
            ));
            parts.push(format!(
                "{}: {}",
                t(T::LastSync),
                status.last_sync.clone().unwrap_or_else(|| t(T::SyncNever))
            ));
        }
    }
    join(&parts)
}

/// The help the "Pomoc" button gives: a title and a text. In staff mode, the notice for
/// staff; otherwise the branch's own text from the catalogue, or, where it has none,
/// its name, address and opening hours.
pub fn help(lang: Lang, branch: Option<&Branch>, staff: bool) -> (String, String) {
    if staff {
        let parts = [
            T::HelpStaffText.tr(lang).to_owned(),
            match lang {
                Lang::Pl => format!(
                    "{} „{}”",
                    T::HelpStaffLeave.tr(lang),
                    T::LeaveStaff.tr(lang)
                ),
                Lang::En => format!(
                    "{} “{}”",
                    T::HelpStaffLeave.tr(lang),
                    T::LeaveStaff.tr(lang)
                ),
            },
            T::HelpStaffIdle.tr(lang).to_owned(),
        ];
        return (T::HelpStaffTitle.tr(lang).to_owned(), join(&parts));
    }
    let title = T::HelpTitle.tr(lang).to_owned();
    let Some(b) = branch else {
        return (title, T::HelpAskStaff.tr(lang).to_owned());
    };
    let mut parts = Vec::new();
    if b.help.trim().is_empty() {
        parts.push(T::HelpAskStaff.tr(lang).to_owned());
    } else {
        parts.push(b.help.trim().to_owned());
    }
    parts.push(b.name.clone());
    if !b.address.trim().is_empty() {
        parts.push(format!("{}: {}", T::HelpAddress.tr(lang), b.address.trim()));
    }
    if !b.opening_hours.trim().is_empty() {
        parts.push(format!(
            "{}: {}",
            T::HelpHours.tr(lang),
            b.opening_hours.trim()
        ));
    }
    (title, join(&parts))
}

/// Everything spoken for the current state: the help window when it is open, the idle
/// warning when it shows, the screen otherwise.
pub fn current(app: &KioskApp, idle: Idle) -> String {
    if app.help_open {
        let (title, body) = help(app.lang, app.branch.as_ref(), app.staff.is_some());
        return join(&[title, body]);
    }
    if let Idle::Warning { .. } = idle {
        return join(&[
            T::IdleTitle.tr(app.lang).to_owned(),
            T::IdleText.tr(app.lang).to_owned(),
            T::MoreTime.tr(app.lang).to_owned(),
        ]);
    }
    screen_text(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use blisko_shared::ids::BranchId;

    #[test]
    fn parts_become_sentences() {
        let parts = ["Dzień dobry!", "Proszę wybrać", "", "Kod:"].map(str::to_owned);
        assert_eq!(join(&parts), "Dzień dobry! Proszę wybrać. Kod:");
    }

    #[test]
    fn codes_are_spelled() {
        assert_eq!(spell("K7M-2Q"), "K 7 M , 2 Q");
    }

    fn branch(help: &str) -> Branch {
        Branch {
            id: BranchId::new(),
            code: "MAL".to_owned(),
            name: "Miejsce Aktywności Lokalnej".to_owned(),
            address: "ul. Warszawska 18".to_owned(),
            opening_hours: "pon.–pt. 9:00–19:00".to_owned(),
            help: help.to_owned(),
        }
    }

    #[test]
    fn help_is_the_branchs_text_or_a_default_from_the_catalogue() {
        let own = branch("Proszę podejść do recepcji.");
        let (title, text) = help(Lang::Pl, Some(&own), false);
        assert_eq!(title, "Jak uzyskać pomoc");
        assert!(text.starts_with("Proszę podejść do recepcji."), "{text}");
        assert!(
            text.contains("Godziny otwarcia: pon.–pt. 9:00–19:00"),
            "{text}"
        );
        let plain = branch("  ");
        let (_, text) = help(Lang::En, Some(&plain), false);
        assert!(text.starts_with(T::HelpAskStaff.tr(Lang::En)), "{text}");
        assert!(text.contains("Address: ul. Warszawska 18"), "{text}");
        let (title, text) = help(Lang::Pl, Some(&own), true);
        assert_eq!(title, T::HelpStaffTitle.tr(Lang::Pl));
        assert!(text.contains(T::LeaveStaff.tr(Lang::Pl)), "{text}");
        assert!(!text.contains("recepcji"), "staff get the staff notice");
    }
}
