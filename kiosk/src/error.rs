//! What can go wrong at the kiosk, split into what a person can fix (bad input, a full
//! class) and what they cannot (storage). Every error a person may see has a Polish and an
//! English message.

use blisko_shared::docs::DocError;
use blisko_shared::i18n::Lang;
use blisko_shared::validate::FieldError;

use crate::store::StoreError;
use crate::sync::SyncError;

#[derive(Debug, thiserror::Error)]
pub enum KioskError {
    #[error("{0}")]
    Invalid(#[from] FieldError),
    #[error("the information clause must be confirmed (--consent)")]
    ConsentRequired,
    #[error("the declaration of meeting the conditions must be confirmed (--declaration)")]
    DeclarationRequired,
    #[error("this service needs a PESEL number (--pesel)")]
    PeselRequired,
    #[error("no class with id {0} at this kiosk")]
    UnknownClass(String),
    #[error("no service with id {0} at this kiosk")]
    UnknownService(String),
    #[error("no registration with id {0} at this kiosk")]
    UnknownRegistration(String),
    #[error("no session with id {0} at this kiosk")]
    UnknownSession(String),
    #[error("no resident with code {0} at this kiosk")]
    UnknownResidentCode(String),
    #[error("{title} is full and keeps no more people waiting")]
    ClassFull { title: String },
    #[error("this person is already registered for {title}")]
    AlreadyRegistered { title: String },
    #[error("this registration is already cancelled")]
    AlreadyCancelled,
    #[error("registration for {title} is not open today")]
    RegistrationClosed { title: String },
    #[error("the data folder {0} is not set up yet: run `blisko-kiosk --data DIR demo` first")]
    NotSetUp(String),
    #[error("the data folder {0} is already set up as a kiosk")]
    AlreadySetUp(String),
    #[error(
        "no key for the kiosk's encrypted store: give --key-file PATH (or BLISKO_KEY_FILE), a file outside the data folder"
    )]
    NoKeyFile,
    #[error("the key file {0} is inside the data folder: keep it apart from the data it unlocks")]
    KeyInDataFolder(String),
    #[error("another Blisko kiosk process is using {0}")]
    Busy(String),
    #[error("unknown branch code {0:?}")]
    UnknownBranch(String),
    #[error("the given name, family name or birth year does not match the resident with this code")]
    ResidentDetailsMismatch,
    #[error(
        "this resident's details are not kept on this kiosk (erased, or dropped after the retention period)"
    )]
    PersonalDataNotHere,
    #[error(
        "this resident's details were dropped here after the retention period; the next sync asks the server for them, then try again"
    )]
    DetailsRequested,
    #[error("unknown applicant role {0:?}: expected self, legal_representative or de_facto_carer")]
    UnknownRole(String),
    #[error("this service does not need a PESEL number (leave out --pesel)")]
    PeselNotNeeded,
    #[error("SMS reminders need a phone number (--phone)")]
    SmsConsentNeedsPhone,
    #[error(
        "this kiosk is out of service: the office revoked it (its data is kept; a new enrollment code from `blisko-server kiosk reenroll` brings it back)"
    )]
    OutOfService,
    #[error(
        "the enrollment code is for kiosk {code_for}, not for this folder's kiosk {folder}; nothing here was changed"
    )]
    EnrollmentForAnotherKiosk { folder: String, code_for: String },
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error("the server broke the sync protocol: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Document(#[from] DocError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl KioskError {
    /// True when the person at the kiosk can fix it by changing what they entered, or
    /// what they asked was refused as a whole with nothing written (out of service).
    pub fn is_user_error(&self) -> bool {
        if let KioskError::Sync(e) = self {
            // A mistyped address or enrollment code is the person's to fix.
            return matches!(e, SyncError::BadUrl(_) | SyncError::BadCaCert(_))
                || matches!(e, SyncError::Unauthorized { code, .. } if code == "bad_enrollment_code");
        }
        !matches!(
            self,
            KioskError::Protocol(_)
                | KioskError::Store(_)
                | KioskError::Document(_)
                | KioskError::Io { .. }
                | KioskError::Busy(_)
                | KioskError::NoKeyFile
                | KioskError::KeyInDataFolder(_)
        )
    }

    /// A stable machine-readable code for `--json` output and tests.
    pub fn code(&self) -> &'static str {
        match self {
            KioskError::Invalid(e) => e.code(),
            KioskError::ConsentRequired => "consent_required",
            KioskError::DeclarationRequired => "declaration_required",
            KioskError::PeselRequired => "pesel_required",
            KioskError::UnknownClass(_) => "unknown_class",
            KioskError::UnknownService(_) => "unknown_service",
            KioskError::UnknownRegistration(_) => "unknown_registration",
            KioskError::UnknownSession(_) => "unknown_session",
            KioskError::UnknownResidentCode(_) => "unknown_resident_code",
            KioskError::ClassFull { .. } => "class_full",
            KioskError::AlreadyRegistered { .. } => "already_registered",
            KioskError::AlreadyCancelled => "already_cancelled",
            KioskError::RegistrationClosed { .. } => "registration_closed",
            KioskError::NotSetUp(_) => "not_set_up",
            KioskError::AlreadySetUp(_) => "already_set_up",
            KioskError::Busy(_) => "busy",
            KioskError::UnknownBranch(_) => "unknown_branch",
            KioskError::OutOfService => "out_of_service",
            KioskError::EnrollmentForAnotherKiosk { .. } => "enrollment_for_another_kiosk",
            KioskError::Sync(e) => e.code(),
            KioskError::Protocol(_) => "protocol",
            KioskError::ResidentDetailsMismatch => "resident_details_mismatch",
            KioskError::PersonalDataNotHere => "personal_data_not_here",
            KioskError::DetailsRequested => "details_requested",
            KioskError::UnknownRole(_) => "unknown_role",
            KioskError::PeselNotNeeded => "pesel_not_needed",
            KioskError::SmsConsentNeedsPhone => "sms_consent_needs_phone",
            KioskError::NoKeyFile => "no_key_file",
            KioskError::KeyInDataFolder(_) => "key_in_data_folder",
            KioskError::Store(StoreError::DiskFull { .. }) => "disk_full",
            KioskError::Store(StoreError::WrongKey) => "wrong_key",
            KioskError::Store(StoreError::KeyFile { .. }) => "key_file",
            KioskError::Store(_) => "storage",
            KioskError::Document(_) => "document",
            KioskError::Io { .. } => "io",
        }
    }

    /// The message for a person at the kiosk, in their language. It never names command
    /// line flags: the touch app shows the same sentences. For flag hints see
    /// [`KioskError::hint`] and the `Display` text.
    pub fn message(&self, lang: Lang) -> String {
        let s = |text: &str| text.to_owned();
        // No catch-all arm: a new variant does not compile until it has both texts.
        match (self, lang) {
            (KioskError::Invalid(e), lang) => e.message(lang),
            (KioskError::ConsentRequired, Lang::Pl) => {
                s("Proszę potwierdzić zapoznanie się z informacją o danych osobowych.")
            }
            (KioskError::ConsentRequired, Lang::En) => {
                s("Please confirm that you have read the information clause.")
            }
            (KioskError::DeclarationRequired, Lang::Pl) => {
                s("Proszę potwierdzić oświadczenie o spełnianiu warunków.")
            }
            (KioskError::DeclarationRequired, Lang::En) => {
                s("Please confirm the declaration that you meet the conditions.")
            }
            (KioskError::PeselRequired, Lang::Pl) => s("Ta usługa wymaga podania numeru PESEL."),
            (KioskError::PeselRequired, Lang::En) => s("This service needs your PESEL number."),
            (KioskError::UnknownClass(_), Lang::Pl) => s("Nie ma takich zajęć w tym punkcie."),
            (KioskError::UnknownClass(_), Lang::En) => {
                s("There is no such class at this branch point.")
            }
            (KioskError::UnknownService(_), Lang::Pl) => s("Nie ma takiej usługi w tym punkcie."),
            (KioskError::UnknownService(_), Lang::En) => {
                s("There is no such service at this branch point.")
            }
            (KioskError::UnknownRegistration(_), Lang::Pl) => s("Nie znaleziono takiego zapisu."),
            (KioskError::UnknownRegistration(_), Lang::En) => s("No such registration was found."),
            (KioskError::UnknownSession(_), Lang::Pl) => {
                s("Nie ma takiego spotkania w tym punkcie.")
            }
            (KioskError::UnknownSession(_), Lang::En) => {
                s("There is no such session at this branch.")
            }
            (KioskError::UnknownResidentCode(_), Lang::Pl) => {
                s("Nie znaleziono takiego kodu. Proszę sprawdzić kod lub zapytać obsługę.")
            }
            (KioskError::UnknownResidentCode(_), Lang::En) => {
                s("This code was not found. Please check the code or ask a member of staff.")
            }
            (KioskError::ClassFull { title }, Lang::Pl) => {
                format!("Niestety, na zajęcia „{title}” nie ma już miejsc ani listy rezerwowej.")
            }
            (KioskError::ClassFull { title }, Lang::En) => {
                format!("Sorry, “{title}” is full and its waiting list is full too.")
            }
            (KioskError::AlreadyRegistered { title }, Lang::Pl) => {
                format!("Ta osoba jest już zapisana na zajęcia „{title}”.")
            }
            (KioskError::AlreadyRegistered { title }, Lang::En) => {
                format!("This person is already registered for “{title}”.")
            }
            (KioskError::AlreadyCancelled, Lang::Pl) => s("Ten zapis został już odwołany."),
            (KioskError::AlreadyCancelled, Lang::En) => {
                s("This registration has already been cancelled.")
            }
            (KioskError::RegistrationClosed { title }, Lang::Pl) => {
                format!("Zapisy na zajęcia „{title}” są dziś zamknięte.")
            }
            (KioskError::RegistrationClosed { title }, Lang::En) => {
                format!("Registration for “{title}” is not open today.")
            }
            (KioskError::NotSetUp(_), Lang::Pl) => {
                s("Ten kiosk nie jest jeszcze przygotowany do pracy. Proszę zgłosić to obsłudze.")
            }
            (KioskError::NotSetUp(_), Lang::En) => {
                s("This kiosk is not set up yet. Please tell a member of staff.")
            }
            (KioskError::AlreadySetUp(_), Lang::Pl) => {
                s("Ten kiosk jest już przygotowany do pracy; nic nie zostało zmienione.")
            }
            (KioskError::AlreadySetUp(_), Lang::En) => {
                s("This kiosk is already set up; nothing was changed.")
            }
            (KioskError::UnknownBranch(code), Lang::Pl) => {
                format!("Nie ma punktu o kodzie „{code}”. Znane kody: MAL, SI, CIM, SW.")
            }
            (KioskError::UnknownBranch(code), Lang::En) => {
                format!(
                    "There is no branch point with the code “{code}”. Known codes: MAL, SI, CIM, SW."
                )
            }
            (KioskError::ResidentDetailsMismatch, Lang::Pl) => s(
                "Imię, nazwisko lub rok urodzenia nie zgadzają się z danymi zapisanymi pod tym kodem. Proszę je sprawdzić albo zapytać obsługę.",
            ),
            (KioskError::ResidentDetailsMismatch, Lang::En) => s(
                "The name or birth year does not match the details kept for this code. Please check them or ask a member of staff.",
            ),
            (KioskError::PersonalDataNotHere, Lang::Pl) => {
                s("Dane tej osoby nie są przechowywane w tym kiosku. Proszę zapytać obsługę.")
            }
            (KioskError::PersonalDataNotHere, Lang::En) => s(
                "This resident's details are not kept on this kiosk. Please ask a member of staff.",
            ),
            (KioskError::DetailsRequested, Lang::Pl) => {
                s("Sprawdzamy dane tej osoby w centrali. Za chwilę spróbujemy ponownie.")
            }
            (KioskError::DetailsRequested, Lang::En) => s(
                "Checking this resident's details with the central office. We will try again in a moment.",
            ),
            (KioskError::UnknownRole(_), Lang::Pl) => s(
                "Proszę wybrać, kto składa wniosek: sama osoba zainteresowana, jej przedstawiciel ustawowy albo opiekun faktyczny.",
            ),
            (KioskError::UnknownRole(_), Lang::En) => s(
                "Please choose who is applying: the person concerned, their legal representative or a de facto carer.",
            ),
            (KioskError::PeselNotNeeded, Lang::Pl) => {
                s("Ta usługa nie wymaga numeru PESEL. Proszę go nie podawać.")
            }
            (KioskError::PeselNotNeeded, Lang::En) => {
                s("This service does not need a PESEL number. Please leave it out.")
            }
            (KioskError::SmsConsentNeedsPhone, Lang::Pl) => {
                s("Aby dostawać przypomnienia SMS, proszę podać numer telefonu.")
            }
            (KioskError::SmsConsentNeedsPhone, Lang::En) => {
                s("To get SMS reminders, please enter your phone number.")
            }
            (KioskError::Store(StoreError::DiskFull { .. }), Lang::Pl) => s(
                "Nie można zapisać danych: pamięć kiosku jest pełna lub niedostępna. Nic nie zostało zapisane. Proszę zgłosić to obsłudze.",
            ),
            (KioskError::Store(StoreError::DiskFull { .. }), Lang::En) => s(
                "The kiosk cannot save: its storage is full or cannot be written. Nothing was saved. Please tell a member of staff.",
            ),
            (KioskError::OutOfService, Lang::Pl) => {
                s("Ten kiosk jest wyłączony z użytku. Proszę zwrócić się do obsługi.")
            }
            (KioskError::OutOfService, Lang::En) => {
                s("This kiosk is out of service, please ask staff.")
            }
            (KioskError::EnrollmentForAnotherKiosk { .. }, Lang::Pl) => s(
                "Ten kod rejestracji jest przeznaczony dla innego kiosku; w tym kiosku nic nie zostało zmienione. Proszę poprosić biuro o kod dla tego kiosku.",
            ),
            (KioskError::EnrollmentForAnotherKiosk { .. }, Lang::En) => s(
                "This enrollment code is for another kiosk; nothing was changed on this kiosk. Please ask the office for a code for this kiosk.",
            ),
            (KioskError::Sync(e), lang) => sync_message(e, lang),
            (
                KioskError::Store(_)
                | KioskError::Document(_)
                | KioskError::Io { .. }
                | KioskError::Busy(_)
                | KioskError::NoKeyFile
                | KioskError::KeyInDataFolder(_)
                | KioskError::Protocol(_),
                Lang::Pl,
            ) => s("Coś poszło nie tak. Nic nie zostało zapisane. Proszę zgłosić to obsłudze."),
            (
                KioskError::Store(_)
                | KioskError::Document(_)
                | KioskError::Io { .. }
                | KioskError::Busy(_)
                | KioskError::NoKeyFile
                | KioskError::KeyInDataFolder(_)
                | KioskError::Protocol(_),
                Lang::En,
            ) => s("Something went wrong. Nothing was saved. Please tell a member of staff."),
        }
    }

    /// What to change on the command line, for staff and scripts (never shown at the
    /// touch screen).
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            KioskError::ConsentRequired => Some("add --consent"),
            KioskError::DeclarationRequired => Some("add --declaration"),
            KioskError::PeselRequired => Some("add --pesel"),
            KioskError::NotSetUp(_) => Some("run `blisko-kiosk --data DIR demo` first"),
            KioskError::NoKeyFile | KioskError::KeyInDataFolder(_) => {
                Some("add --key-file PATH with a path outside --data")
            }
            KioskError::Store(StoreError::WrongKey) => {
                Some("use the key file this kiosk was set up with")
            }
            KioskError::UnknownBranch(_) => Some("use --branch MAL, SI, CIM or SW"),
            KioskError::UnknownRole(_) => {
                Some("use --role self, legal_representative or de_facto_carer")
            }
            KioskError::PeselNotNeeded => Some("leave out --pesel"),
            KioskError::SmsConsentNeedsPhone => Some("add --phone, or leave out --sms-consent"),
            _ => None,
        }
    }
}

/// Sync problems are shown to staff (residents only see a calm indicator); they never
/// mean that something stored at the kiosk was lost.
fn sync_message(e: &SyncError, lang: Lang) -> String {
    let (pl, en) = match e {
        SyncError::NotEnrolled => (
            "Ten kiosk nie jest połączony z serwerem.",
            "This kiosk is not enrolled with a server.",
        ),
        SyncError::BadUrl(_) => (
            "Adres serwera jest nieprawidłowy (powinien zaczynać się od http:// lub https://).",
            "The server address is not valid (it should start with http:// or https://).",
        ),
        SyncError::Unreachable(_) => (
            "Brak połączenia z serwerem. Dane są bezpieczne w kiosku i zostaną wysłane później.",
            "No connection to the server. The data is safe on the kiosk and will be sent later.",
        ),
        SyncError::Untrusted(_) => (
            "Certyfikat serwera nie jest zaufany, więc kiosk nic nie wysłał. Dane są bezpieczne w kiosku; proszę zgłosić to administratorowi.",
            "The server's certificate is not trusted, so the kiosk sent nothing. The data is safe on the kiosk; please tell the administrator.",
        ),
        SyncError::BadCaCert(_) => (
            "Plik certyfikatu CA jest nieprawidłowy (potrzebny jest certyfikat PEM i adres https://).",
            "The CA certificate file is not usable (a PEM certificate and an https:// address are needed).",
        ),
        SyncError::RateLimited { .. } => (
            "Serwer prosi o chwilę przerwy. Dane są bezpieczne w kiosku i zostaną wysłane później.",
            "The server asks the kiosk to wait a moment. The data is safe on the kiosk and will be sent later.",
        ),
        SyncError::Unauthorized { code, .. } if code == "bad_enrollment_code" => (
            "Kod rejestracji kiosku jest nieprawidłowy, został już użyty lub wygasł.",
            "The enrollment code is wrong, already used or expired.",
        ),
        SyncError::Revoked(_) => (
            "Biuro wyłączyło ten kiosk. Dane są bezpieczne w kiosku; wyśle je po ponownej rejestracji nowym kodem z biura.",
            "The office has revoked this kiosk. The data is safe on the kiosk; it sends them once enrolled again with a new code from the office.",
        ),
        SyncError::Unauthorized { .. } => (
            "Serwer nie przyjmuje już tego kiosku. Proszę zgłosić to administratorowi.",
            "The server no longer accepts this kiosk. Please tell the administrator.",
        ),
        SyncError::UpdateRequired(_) => (
            "Oprogramowanie kiosku wymaga aktualizacji, aby łączyć się z serwerem.",
            "The kiosk software must be updated to sync with the server.",
        ),
        SyncError::Refused { .. } | SyncError::BadResponse(_) => (
            "Serwer nie przyjął danych. Dane są bezpieczne w kiosku; proszę zgłosić to obsłudze.",
            "The server did not accept the data. It is safe on the kiosk; please tell staff.",
        ),
    };
    match lang {
        Lang::Pl => pl.to_owned(),
        Lang::En => en.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each error a person can cause.
    fn user_errors() -> Vec<KioskError> {
        vec![
            KioskError::Invalid(FieldError::InvalidPhone),
            KioskError::Invalid(FieldError::SmsNeedsPolishMobile),
            KioskError::ConsentRequired,
            KioskError::DeclarationRequired,
            KioskError::PeselRequired,
            KioskError::UnknownClass("x".into()),
            KioskError::UnknownService("x".into()),
            KioskError::UnknownRegistration("x".into()),
            KioskError::UnknownSession("x".into()),
            KioskError::UnknownResidentCode("x".into()),
            KioskError::ClassFull {
                title: "Joga".into(),
            },
            KioskError::AlreadyRegistered {
                title: "Joga".into(),
            },
            KioskError::AlreadyCancelled,
            KioskError::RegistrationClosed {
                title: "Joga".into(),
            },
            KioskError::NotSetUp("dir".into()),
            KioskError::AlreadySetUp("dir".into()),
            KioskError::UnknownBranch("XYZ".into()),
            KioskError::SmsConsentNeedsPhone,
            KioskError::PeselNotNeeded,
            KioskError::UnknownRole("boss".into()),
            KioskError::ResidentDetailsMismatch,
            KioskError::PersonalDataNotHere,
            KioskError::DetailsRequested,
            KioskError::OutOfService,
            KioskError::EnrollmentForAnotherKiosk {
                folder: "a".into(),
                code_for: "b".into(),
            },
        ]
    }

    #[test]
    fn every_user_error_has_its_own_polish_and_english_text_without_flags() {
        for e in user_errors() {
            assert!(e.is_user_error(), "{e:?}");
            let pl = e.message(Lang::Pl);
            let en = e.message(Lang::En);
            assert!(!pl.trim().is_empty() && !en.trim().is_empty(), "{e:?}");
            assert_ne!(pl, en, "{e:?} has no Polish text");
            for text in [&pl, &en] {
                assert!(!text.contains("--"), "{e:?} names a flag: {text}");
                assert!(
                    !text.contains("blisko-kiosk"),
                    "{e:?} names a command: {text}"
                );
                assert!(text.ends_with('.'), "{e:?} is not a sentence: {text}");
            }
        }
    }

    #[test]
    fn every_polish_message_follows_the_wording_rules() {
        use blisko_shared::validate::Field;
        let mut errors = user_errors();
        errors.extend([
            KioskError::Store(StoreError::DiskFull { context: "commit" }),
            KioskError::Busy("dir".into()),
            KioskError::Invalid(FieldError::Empty {
                field: Field::GivenName,
            }),
            KioskError::Invalid(FieldError::InvalidPesel),
            KioskError::Invalid(FieldError::BirthYearOutOfRange {
                min: 1900,
                max: 2026,
            }),
            KioskError::Sync(SyncError::NotEnrolled),
            KioskError::Sync(SyncError::Revoked("x".into())),
        ]);
        let mut problems = Vec::new();
        for e in &errors {
            for p in crate::app::text::wording_problems(&e.message(Lang::Pl)) {
                problems.push(format!("{e:?}: {p}"));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn a_full_disk_says_so_in_both_languages() {
        let e = KioskError::Store(StoreError::DiskFull { context: "commit" });
        assert!(!e.is_user_error());
        assert_eq!(e.code(), "disk_full");
        assert!(e.message(Lang::Pl).contains("pamięć kiosku jest pełna"));
        assert!(e.message(Lang::En).contains("storage is full"));
        assert!(e.message(Lang::En).contains("Nothing was saved"));
    }

    #[test]
    fn failures_have_a_generic_text_in_both_languages() {
        let e = KioskError::Busy("dir".into());
        assert!(!e.is_user_error());
        assert!(e.message(Lang::Pl).contains("obsłudze"));
        assert!(e.message(Lang::En).contains("member of staff"));
    }
}
