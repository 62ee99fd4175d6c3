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
    #[error("another Blisko kiosk process is using {0}")]
    Busy(String),
    #[error("unknown branch code {0:?}")]
    UnknownBranch(String),
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
    /// True when the person at the kiosk can fix it by changing what they entered.
    pub fn is_user_error(&self) -> bool {
        if let KioskError::Sync(e) = self {
            // A mistyped address or enrollment code is the person's to fix.
            return matches!(e, SyncError::BadUrl(_))
                || matches!(e, SyncError::Unauthorized { code, .. } if code == "bad_enrollment_code");
        }
        !matches!(
            self,
            KioskError::Protocol(_)
                | KioskError::Store(_)
                | KioskError::Document(_)
                | KioskError::Io { .. }
                | KioskError::Busy(_)
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
            KioskError::UnknownResidentCode(_) => "unknown_resident_code",
            KioskError::ClassFull { .. } => "class_full",
            KioskError::AlreadyRegistered { .. } => "already_registered",
            KioskError::AlreadyCancelled => "already_cancelled",
            KioskError::RegistrationClosed { .. } => "registration_closed",
            KioskError::NotSetUp(_) => "not_set_up",
            KioskError::AlreadySetUp(_) => "already_set_up",
            KioskError::Busy(_) => "busy",
            KioskError::UnknownBranch(_) => "unknown_branch",
            KioskError::Sync(e) => e.code(),
            KioskError::Protocol(_) => "protocol",
            KioskError::Store(StoreError::DiskFull { .. }) => "disk_full",
            KioskError::Store(_) => "storage",
            KioskError::Document(_) => "document",
            KioskError::Io { .. } => "io",
        }
    }

    /// The message for a person at the kiosk.
    pub fn message(&self, lang: Lang) -> String {
        let pl = |s: &str| s.to_owned();
        match (self, lang) {
            (KioskError::Invalid(e), lang) => e.message(lang),
            (KioskError::ConsentRequired, Lang::Pl) => {
                pl("Prosimy potwierdzić, że zapoznali się Państwo z klauzulą informacyjną.")
            }
            (KioskError::DeclarationRequired, Lang::Pl) => {
                pl("Prosimy potwierdzić oświadczenie o spełnianiu warunków.")
            }
            (KioskError::PeselRequired, Lang::Pl) => pl("Ta usługa wymaga podania numeru PESEL."),
            (KioskError::UnknownClass(_), Lang::Pl) => pl("Nie ma takich zajęć w tym punkcie."),
            (KioskError::UnknownService(_), Lang::Pl) => pl("Nie ma takiej usługi w tym punkcie."),
            (KioskError::UnknownRegistration(_), Lang::Pl) => pl("Nie znaleziono takiego zapisu."),
            (KioskError::UnknownResidentCode(_), Lang::Pl) => {
                pl("Nie znaleziono takiego kodu. Prosimy sprawdzić kod lub zapytać obsługę.")
            }
            (KioskError::ClassFull { title }, Lang::Pl) => {
                format!("Niestety, na zajęcia „{title}” nie ma już miejsc ani listy rezerwowej.")
            }
            (KioskError::AlreadyRegistered { title }, Lang::Pl) => {
                format!("Ta osoba jest już zapisana na zajęcia „{title}”.")
            }
            (KioskError::AlreadyCancelled, Lang::Pl) => pl("Ten zapis został już odwołany."),
            (KioskError::RegistrationClosed { title }, Lang::Pl) => {
                format!("Zapisy na zajęcia „{title}” są dziś zamknięte.")
            }
            (KioskError::Store(StoreError::DiskFull { .. }), Lang::Pl) => pl(
                "Brak miejsca w pamięci kiosku. Nic nie zostało zapisane. Prosimy zgłosić to obsłudze.",
            ),
            (KioskError::Store(StoreError::DiskFull { .. }), Lang::En) => {
                pl("The kiosk's storage is full. Nothing was saved. Please tell a member of staff.")
            }
            (KioskError::Sync(e), lang) => sync_message(e, lang),
            (e, Lang::Pl) if !e.is_user_error() => {
                pl("Coś poszło nie tak. Nic nie zostało zapisane. Prosimy zgłosić to obsłudze.")
            }
            (e, Lang::En) if !e.is_user_error() => {
                pl("Something went wrong. Nothing was saved. Please tell a member of staff.")
            }
            (e, _) => e.to_string(),
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
        SyncError::Unauthorized { code, .. } if code == "bad_enrollment_code" => (
            "Kod rejestracji kiosku jest nieprawidłowy, został już użyty lub wygasł.",
            "The enrollment code is wrong, already used or expired.",
        ),
        SyncError::Unauthorized { .. } => (
            "Serwer nie przyjmuje już tego kiosku. Prosimy zgłosić to administratorowi.",
            "The server no longer accepts this kiosk. Please tell the administrator.",
        ),
        SyncError::UpdateRequired(_) => (
            "Oprogramowanie kiosku wymaga aktualizacji, aby łączyć się z serwerem.",
            "The kiosk software must be updated to sync with the server.",
        ),
        SyncError::Refused { .. } | SyncError::BadResponse(_) => (
            "Serwer nie przyjął danych. Dane są bezpieczne w kiosku; prosimy zgłosić to obsłudze.",
            "The server did not accept the data. It is safe on the kiosk; please tell staff.",
        ),
    };
    match lang {
        Lang::Pl => pl.to_owned(),
        Lang::En => en.to_owned(),
    }
}
