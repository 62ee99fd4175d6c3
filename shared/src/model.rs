//! The domain model as plain data. Documents (`crate::docs`) map these to automerge;
//! rules (`crate::seats`) are pure functions over them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::hlc::Hlc;
use crate::i18n::Lang;
use crate::ids::*;

/// A branch point: MAL, a senior club, an intergenerational centre, a day room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    pub id: BranchId,
    /// Short code used in reference numbers, e.g. "MAL".
    pub code: String,
    pub name: String,
    pub address: String,
    pub opening_hours: String,
    /// How a resident gets help here, shown by the kiosk's "Pomoc" button; empty means
    /// the kiosk's own wording from the branch's name, address and hours. Documents from
    /// before it existed read as empty.
    #[serde(default)]
    pub help: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    pub fn from_code(code: &str) -> Option<Weekday> {
        Weekday::ALL.into_iter().find(|d| d.code() == code)
    }

    /// Days since Monday (0..=6).
    pub fn index(self) -> u32 {
        self as u32
    }
}

/// A weekly slot of a class, e.g. Tuesdays 10:00 for 60 minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklySlot {
    pub weekday: Weekday,
    /// "HH:MM", local time of the branch.
    pub start: String,
    pub minutes: u32,
}

/// A class (zajęcia) offered at one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Class {
    pub id: ClassId,
    pub branch_id: BranchId,
    pub title: String,
    pub description: String,
    pub instructor: String,
    pub room: String,
    pub capacity: u32,
    /// How many people may wait for a seat; 0 means the class keeps no waiting list.
    pub waitlist_limit: u32,
    /// e.g. "60+", "dzieci 7-12", "wszyscy".
    pub age_group: String,
    pub schedule: Vec<WeeklySlot>,
    /// Registration window as ISO dates ("2026-09-01"); open-ended when absent.
    pub registration_opens: Option<String>,
    pub registration_closes: Option<String>,
}

/// Whether registration is open on `date` (ISO, "2026-09-01") for a class whose window
/// is `opens`..=`closes`; a missing end leaves that side open.
pub fn registration_open(opens: Option<&str>, closes: Option<&str>, date: &str) -> bool {
    opens.is_none_or(|o| date >= o) && closes.is_none_or(|c| date <= c)
}

/// One dated occurrence of a class; attendance is taken per session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub class_id: ClassId,
    /// ISO date "YYYY-MM-DD".
    pub date: String,
    /// "HH:MM".
    pub start: String,
    pub minutes: u32,
    /// Called off (a holiday, the instructor ill): still listed, nobody attends. Catalogs
    /// written before the flag existed read as not cancelled.
    #[serde(default)]
    pub cancelled: bool,
}

/// A social service that can be requested (usługa społeczna).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    /// A plain description a resident understands.
    pub description: String,
    /// Some services legally need the PESEL number; class registration never does.
    pub requires_pesel: bool,
    /// Who may use the service, in plain words, shown before the declaration that names
    /// them ("mieszkańcy gminy w wieku 60+ ..."). Empty in catalogues written before it.
    #[serde(default)]
    pub conditions: String,
    /// The law the service is provided under, for the full information text only.
    #[serde(default)]
    pub legal_basis: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    Instructor,
    BranchStaff,
    Organizer,
    OfficeAdmin,
}

impl StaffRole {
    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Instructor => "instructor",
            StaffRole::BranchStaff => "branch_staff",
            StaffRole::Organizer => "organizer",
            StaffRole::OfficeAdmin => "office_admin",
        }
    }

    pub fn from_code(code: &str) -> Option<StaffRole> {
        [
            StaffRole::Instructor,
            StaffRole::BranchStaff,
            StaffRole::Organizer,
            StaffRole::OfficeAdmin,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

/// A staff member as a kiosk knows them: enough to check a PIN for staff mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub id: StaffId,
    pub name: String,
    pub role: StaffRole,
    /// argon2 PHC string; never the PIN itself.
    pub pin_hash: String,
}

/// Everything a branch's kiosks need to know, written by the office only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub branch: Branch,
    pub classes: Vec<Class>,
    pub sessions: Vec<Session>,
    pub services: Vec<Service>,
    /// Seats each kiosk may confirm on its own, per class (the escrow).
    pub allotments: BTreeMap<ClassId, BTreeMap<KioskId, u32>>,
    pub staff: Vec<StaffUser>,
}

impl Catalog {
    pub fn class(&self, id: ClassId) -> Option<&Class> {
        self.classes.iter().find(|c| c.id == id)
    }

    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| s.id == id)
    }

    /// The seat rules need every class's allotments to fit in its capacity, and
    /// allotments only for classes of this catalog. Says what is wrong otherwise.
    pub fn check_allotments(&self) -> Result<(), String> {
        for class in &self.classes {
            let allotted: u32 = self.allotments_of(class.id).values().sum();
            if allotted > class.capacity {
                return Err(format!(
                    "class {} allots {allotted} seats but has {}",
                    class.id, class.capacity
                ));
            }
        }
        match self.allotments.keys().find(|c| self.class(**c).is_none()) {
            Some(unknown) => Err(format!("allotment for unknown class {unknown}")),
            None => Ok(()),
        }
    }

    pub fn allotments_of(&self, class: ClassId) -> BTreeMap<KioskId, u32> {
        self.allotments.get(&class).cloned().unwrap_or_default()
    }
}

/// Which text a person was shown or agreed to, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub kind: ConsentKind,
    /// Version id of the exact text shown, e.g. "klauzula-informacyjna-2026-01".
    pub text_version: String,
    pub at: Hlc,
}

impl Consent {
    /// The language of the text agreed to, and so of the messages sent under it: English
    /// when the version is an English text's (it ends in "-en", see
    /// [`sms_consent_version`]), Polish otherwise.
    pub fn lang(&self) -> Lang {
        if self.text_version.ends_with(ENGLISH_TEXT_SUFFIX) {
            Lang::En
        } else {
            Lang::Pl
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// The GDPR art. 13 information clause was shown and acknowledged.
    InformationClause,
    /// Optional: reminders by SMS to the given phone number.
    SmsReminders,
}

impl ConsentKind {
    pub fn code(self) -> &'static str {
        match self {
            ConsentKind::InformationClause => "information_clause",
            ConsentKind::SmsReminders => "sms_reminders",
        }
    }

    pub fn from_code(code: &str) -> Option<ConsentKind> {
        [ConsentKind::InformationClause, ConsentKind::SmsReminders]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

/// Versions of the texts a resident agrees to, at a kiosk or read out on the phone by the
/// office; recorded with every consent. A version id is for the records only: residents
/// are shown the text, never its code.
pub const INFORMATION_CLAUSE_VERSION: &str = "klauzula-informacyjna-2026-02";
/// The information clause (art. 13 RODO) of [`INFORMATION_CLAUSE_VERSION`], in Polish and
/// English: what the kiosk shows and what the office reads out on the phone. A change of
/// the text needs a new version. Worded impersonally, like every text residents read.
pub const INFORMATION_CLAUSE: (&str, &str) = (
    "Administratorem danych osobowych jest Centrum Usług Społecznych. Dane (imię, nazwisko, rok urodzenia, telefon, jeśli został podany) służą wyłącznie do zapisów na zajęcia i kontaktu w ich sprawie, na podstawie art. 6 ust. 1 lit. e RODO. Przysługuje prawo dostępu do danych, ich sprostowania i usunięcia. Szczegóły w punkcie obsługi.",
    "Your data is held by the Social Services Centre. It (name, year of birth, phone if given) is used only to register you for classes and to contact you about them, under Art. 6(1)(e) GDPR. You may see, correct and erase your data. Ask at the desk for details.",
);
/// Version of [`INTAKE_CLAUSE`], recorded with each intake request as its consent version.
pub const INTAKE_CLAUSE_VERSION: &str = "klauzula-wniosek-2026-01";
/// The information clause of an intake request (wniosek): its own purpose and data, which
/// the class clause does not cover (the PESEL, the description of need). The legal basis
/// of the service itself is the catalogue's (`Service::legal_basis`), shown beside it.
pub const INTAKE_CLAUSE: (&str, &str) = (
    "Administratorem danych osobowych jest Centrum Usług Społecznych. Dane podane we wniosku służą wyłącznie do jego rozpatrzenia, zorganizowania usługi i kontaktu w tej sprawie. Są to: imię, nazwisko, rok urodzenia, numer PESEL (tylko gdy usługa go wymaga), telefon (jeśli został podany) oraz opis potrzeby, który może zawierać informacje o zdrowiu. Podstawa prawna: art. 6 ust. 1 lit. c i e oraz art. 9 ust. 2 lit. h RODO w związku z przepisami o usługach społecznych, wskazanymi przy usłudze. Dane są przechowywane przez czas rozpatrywania wniosku i świadczenia usługi, a następnie przez okres wymagany przepisami o archiwizacji. Przysługuje prawo dostępu do danych, ich sprostowania, ograniczenia przetwarzania oraz skargi do Prezesa Urzędu Ochrony Danych Osobowych. Szczegóły w punkcie obsługi.",
    "Your data is held by the Social Services Centre. The details in this request are used only to consider it, to arrange the service and to contact you about it. They are: name, year of birth, PESEL number (only where the service needs it), phone (if given) and the description of the need, which may include health information. Legal basis: Art. 6(1)(c) and (e) and Art. 9(2)(h) GDPR together with the social services law named with the service. The data is kept while the request is considered and the service provided, then for as long as the archiving rules require. You may see and correct your data, ask to restrict its use, and complain to the President of the Personal Data Protection Office. Ask at the desk for details.",
);
/// The Polish text of the SMS consent; [`sms_consent_version`] gives the version of the
/// text in either language.
pub const SMS_CONSENT_VERSION: &str = "zgoda-sms-2026-02";
/// The English text of the SMS consent: another text, so another version id. A resident
/// who agreed to it gets English messages (see [`Consent::lang`]).
pub const SMS_CONSENT_VERSION_EN: &str = "zgoda-sms-2026-02-en";
/// How the version id of a text shown in English ends.
const ENGLISH_TEXT_SUFFIX: &str = "-en";

/// The version of the SMS consent text shown in `lang`, recorded with the consent.
pub fn sms_consent_version(lang: Lang) -> &'static str {
    match lang {
        Lang::Pl => SMS_CONSENT_VERSION,
        Lang::En => SMS_CONSENT_VERSION_EN,
    }
}

/// A resident. Only what registration needs: no PESEL, no address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub given_name: String,
    pub family_name: String,
    pub birth_year: u16,
    pub phone: Option<String>,
    /// Short code the resident keeps to come back at any kiosk.
    pub resident_code: String,
    pub home_branch: BranchId,
    pub consents: Vec<Consent>,
    pub created: Hlc,
}

impl Person {
    /// Whether the personal fields were not readable here (no key: erased, dropped by
    /// retention, or not yet received); they read blank then.
    pub fn is_sealed(&self) -> bool {
        self.given_name.is_empty() && self.family_name.is_empty()
    }
}

/// A registration as stored in a class roster. Its state (confirmed / waitlisted) is not
/// stored: it is computed by [`crate::seats::compute_roster`] from the merged roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub class_id: ClassId,
    pub person_id: PersonId,
    /// The kiosk (or the office) where the resident registered.
    pub kiosk_id: KioskId,
    pub created: Hlc,
    pub cancelled: Option<Hlc>,
    /// Seats granted to this registration, by seat authority (a kiosk within its
    /// allotment, or the central pool). Any grant makes it confirmed for good.
    pub grants: BTreeMap<KioskId, Hlc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    Present,
    Absent,
    Excused,
}

impl AttendanceStatus {
    pub fn code(self) -> &'static str {
        match self {
            AttendanceStatus::Present => "present",
            AttendanceStatus::Absent => "absent",
            AttendanceStatus::Excused => "excused",
        }
    }

    pub fn from_code(code: &str) -> Option<AttendanceStatus> {
        [
            AttendanceStatus::Present,
            AttendanceStatus::Absent,
            AttendanceStatus::Excused,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// One staff member's mark for one registration at one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceMark {
    pub session_id: SessionId,
    pub registration_id: RegistrationId,
    pub status: AttendanceStatus,
    pub by: StaffId,
    pub at: Hlc,
}

/// The attendance of one registration at one session, after merge: usually one mark;
/// two staff marking differently at the same time leave a conflict for the office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub session_id: SessionId,
    pub registration_id: RegistrationId,
    pub marks: Vec<AttendanceMark>,
}

impl Attendance {
    pub fn is_conflict(&self) -> bool {
        self.marks.windows(2).any(|w| w[0].status != w[1].status)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicantRole {
    /// The person applies for themselves.
    SelfApplicant,
    LegalRepresentative,
    /// Opiekun faktyczny.
    DeFactoCarer,
}

impl ApplicantRole {
    pub fn code(self) -> &'static str {
        match self {
            ApplicantRole::SelfApplicant => "self",
            ApplicantRole::LegalRepresentative => "legal_representative",
            ApplicantRole::DeFactoCarer => "de_facto_carer",
        }
    }

    pub fn from_code(code: &str) -> Option<ApplicantRole> {
        [
            ApplicantRole::SelfApplicant,
            ApplicantRole::LegalRepresentative,
            ApplicantRole::DeFactoCarer,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Submitted,
    InReview,
    Accepted,
    Rejected,
    MoreInformationNeeded,
}

impl RequestStatus {
    pub fn code(self) -> &'static str {
        match self {
            RequestStatus::Submitted => "submitted",
            RequestStatus::InReview => "in_review",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Rejected => "rejected",
            RequestStatus::MoreInformationNeeded => "more_information_needed",
        }
    }

    pub fn from_code(code: &str) -> Option<RequestStatus> {
        [
            RequestStatus::Submitted,
            RequestStatus::InReview,
            RequestStatus::Accepted,
            RequestStatus::Rejected,
            RequestStatus::MoreInformationNeeded,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// One step in a request's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: RequestStatus,
    /// A kiosk id for submission, a staff id for office decisions.
    pub by: String,
    pub at: Hlc,
    /// For a rejection: the administrative decision reference and how to appeal.
    pub decision_reference: Option<String>,
    pub appeal_info: Option<String>,
}

/// An intake request (wniosek) for a social service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeRequest {
    pub id: RequestId,
    /// Human-readable, issued offline: branch code + kiosk number + sequence.
    pub reference: String,
    pub person_id: PersonId,
    pub branch_id: BranchId,
    pub kiosk_id: KioskId,
    pub service_id: ServiceId,
    pub applicant_role: ApplicantRole,
    pub description: String,
    pub pesel: Option<String>,
    /// Version of the declaration (oświadczenie) text the applicant confirmed.
    pub declaration_version: String,
    pub consent_version: String,
    pub history: Vec<StatusChange>,
    /// Due date of the individual plan (IPUS) when services are coordinated for 3+ months.
    pub ipus_due: Option<String>,
}

impl IntakeRequest {
    /// The latest status by clock stamp (history may merge from several writers).
    pub fn status(&self) -> RequestStatus {
        self.history
            .iter()
            .max_by_key(|c| c.at)
            .map(|c| c.status)
            .unwrap_or(RequestStatus::Submitted)
    }
}

/// A kiosk as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kiosk {
    pub id: KioskId,
    pub branch_id: BranchId,
    /// Small number unique within the deployment, used in reference numbers.
    pub number: u32,
    pub last_sync: Option<String>,
    pub app_version: Option<String>,
}

/// Append-only record of who did what, where and when. Ids only, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub id: AuditId,
    pub at: Hlc,
    /// "kiosk:<id>" or "staff:<id>".
    pub actor: String,
    pub action: String,
    /// The object acted on, e.g. "registration:<id>".
    pub subject: String,
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo;

    #[test]
    fn the_sms_consent_version_names_its_language() {
        let at = Hlc::new(1_763_900_000_000, 0, KioskId::new());
        for lang in [Lang::Pl, Lang::En] {
            let consent = Consent {
                kind: ConsentKind::SmsReminders,
                text_version: sms_consent_version(lang).to_owned(),
                at,
            };
            assert_eq!(consent.lang(), lang, "{}", consent.text_version);
        }
        assert_eq!(sms_consent_version(Lang::Pl), "zgoda-sms-2026-02");
        assert_eq!(sms_consent_version(Lang::En), "zgoda-sms-2026-02-en");
        // Versions recorded before English texts had their own read as Polish.
        let older = Consent {
            kind: ConsentKind::InformationClause,
            text_version: "klauzula-informacyjna-2026-02".to_owned(),
            at,
        };
        assert_eq!(older.lang(), Lang::Pl);
    }

    #[test]
    fn registration_windows_include_both_ends() {
        let (opens, closes) = (Some("2026-09-01"), Some("2026-09-30"));
        assert!(!registration_open(opens, closes, "2026-08-31"));
        assert!(registration_open(opens, closes, "2026-09-01"));
        assert!(registration_open(opens, closes, "2026-09-30"));
        assert!(!registration_open(opens, closes, "2026-10-01"));
        assert!(registration_open(None, None, "1999-01-01"));
    }

    #[test]
    fn allotments_must_fit_the_class_and_name_its_classes() {
        let today = jiff::civil::date(2026, 9, 1);
        let mut catalog = demo::catalogs(today, 1, None).remove(0);
        assert_eq!(catalog.check_allotments(), Ok(()));
        let class = catalog.classes[0].clone();
        let kiosk = KioskId::new();
        catalog
            .allotments
            .insert(class.id, BTreeMap::from([(kiosk, class.capacity)]));
        assert_eq!(
            catalog.check_allotments(),
            Ok(()),
            "all seats may be allotted"
        );
        catalog
            .allotments
            .insert(class.id, BTreeMap::from([(kiosk, class.capacity + 1)]));
        assert!(catalog.check_allotments().is_err());
        catalog.allotments.clear();
        catalog
            .allotments
            .insert(ClassId::new(), BTreeMap::from([(kiosk, 1)]));
        assert!(catalog.check_allotments().is_err());
    }
}
