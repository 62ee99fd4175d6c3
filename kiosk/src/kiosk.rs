//! The kiosk's core: every action a resident or staff member takes, on top of the local
//! store. The command line and the touch app both call this; neither re-implements it.
//!
//! Each action is one automerge change per touched document plus its projection rows,
//! committed in one SQLite transaction before anything is acknowledged. If the commit
//! fails, the in-memory documents are dropped and reloaded from disk, so memory never
//! runs ahead of what is stored.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use blisko_shared::codes;
use blisko_shared::crypto::PersonKey;
use blisko_shared::demo;
use blisko_shared::docs::{CatalogDoc, Doc, DocKey, IntakeDoc, PeopleDoc, RosterDoc, RosterEdit};
use blisko_shared::hlc::{Hlc, HlcClock};
use blisko_shared::i18n::Lang;
use blisko_shared::ids::{
    BranchId, ClassId, KioskId, PersonId, RegistrationId, RequestId, ServiceId,
};
use blisko_shared::model::{
    ApplicantRole, Catalog, Consent, ConsentKind, IntakeRequest, Person, Registration,
    RequestStatus, StatusChange, registration_open, sms_consent_version,
};
use blisko_shared::seats::{
    self, Admission, Roster, RosterLine, SeatPolicy, SeatState, SeatStatus,
};
use blisko_shared::validate::{self, Field, FieldError};

use crate::error::KioskError;
use crate::store::{
    ClassRow, Counts, PersonRow, RegistrationRow, RequestRow, Store, StoreError, StoreKey, Tx,
};

/// Text versions shown at the kiosk; recorded with every consent and declaration.
pub use blisko_shared::model::{
    INFORMATION_CLAUSE_VERSION, INTAKE_CLAUSE_VERSION, SMS_CONSENT_VERSION,
};
/// The declaration names the service's conditions (see `Service::conditions`).
pub const DECLARATION_VERSION: &str = "oswiadczenie-2026-02";

mod consents;
mod replica;
mod revocation;
pub mod slip;
mod staff;
pub use replica::{RoundOutcome, SyncPlan};
pub use staff::{RollCall, RollCallEntry, StaffMember, hash_pin, pin_matches};

const LOCK_FILE: &str = "kiosk.lock";

/// Days a resident's readable details stay on a kiosk once the server holds them, unless
/// they are registered for a coming session (`--retention-days`).
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

/// A person registered here, with the key their personal fields are sealed with.
type NewPerson = (Person, PersonKey);

pub type Result<T, E = KioskError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch; injected so tests can move time.
pub type WallClock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> WallClock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    })
}

/// The free seats a class card shows (see `blisko_shared::seats::seats_shown`): an
/// enrolled kiosk asks the server's pool before it calls a class full.
pub(crate) fn seats_shown(identity: &Identity, policy: &SeatPolicy, roster: &Roster) -> u32 {
    let asks_pool = identity.mode == KioskMode::Enrolled;
    seats::seats_shown(policy, roster, identity.kiosk_id, asks_pool)
}

/// Who this kiosk is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub kiosk_id: KioskId,
    pub branch_id: BranchId,
    pub branch_code: String,
    /// Unique number within the deployment, used in reference numbers.
    pub kiosk_number: u32,
    pub mode: KioskMode,
}

/// Whether a kiosk syncs with a server. Stored and serialized as `standalone` or
/// `enrolled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KioskMode {
    /// Set up with the demo catalogue or a catalogue file: no server.
    Standalone,
    /// Enrolled with a server, which it syncs with.
    Enrolled,
}

impl KioskMode {
    pub fn code(self) -> &'static str {
        match self {
            KioskMode::Standalone => "standalone",
            KioskMode::Enrolled => "enrolled",
        }
    }

    fn from_code(code: &str) -> Option<KioskMode> {
        match code {
            "standalone" => Some(KioskMode::Standalone),
            "enrolled" => Some(KioskMode::Enrolled),
            _ => None,
        }
    }
}

impl std::fmt::Display for KioskMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What a person types to register.
#[derive(Debug, Clone, Default)]
pub struct RegistrationForm {
    pub class_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_year: i32,
    pub phone: Option<String>,
    /// The information clause was shown and confirmed.
    pub consent: bool,
    /// Optional: reminders by SMS (needs a Polish mobile number).
    pub sms_consent: bool,
    /// The language the texts were shown in: the SMS consent is recorded as given to
    /// that language's text, and its messages come in it.
    pub lang: Lang,
    /// A returning resident's code; a new person is created without it.
    pub resident_code: Option<String>,
}

/// What a new person agreed to: the information clause shown (the class registration's or
/// the intake request's) and SMS reminders.
#[derive(Debug, Clone, Copy)]
struct ConsentsGiven {
    clause_version: &'static str,
    sms: bool,
    /// The language the texts were shown in.
    lang: Lang,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistrationReceipt {
    pub registration_id: RegistrationId,
    pub person_id: PersonId,
    pub resident_code: String,
    pub class_id: ClassId,
    pub class_title: String,
    pub status: SeatStatus,
    /// On the waiting list: the place as this kiosk sees it now. Kiosks that were
    /// offline may add people ahead when they sync, so it is shown as "about".
    pub position: Option<u32>,
    /// The class is full here, but the server's shared pool may have a seat: the
    /// registration waits only until the sync that asks the pool (see
    /// [`crate::sync::claim_pool_seat`]), which confirms it or withdraws it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub awaiting_pool: bool,
    /// The class's next session (day, date, time, room), for the receipt and the slip;
    /// none when the catalogue lists no later one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_session: Option<crate::store::SessionRow>,
}

/// What a person types to submit an intake request.
#[derive(Debug, Clone, Default)]
pub struct IntakeForm {
    pub service_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_year: i32,
    pub phone: Option<String>,
    pub applicant_role: Option<String>,
    pub description: String,
    pub pesel: Option<String>,
    pub declaration: bool,
    pub consent: bool,
    /// Optional: SMS about the request (needs a Polish mobile number).
    pub sms_consent: bool,
    /// The language the form was shown in (the SMS consent's text version, and so the
    /// language of the messages).
    pub lang: Lang,
    pub resident_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IntakeReceipt {
    pub request_id: RequestId,
    pub reference: String,
    pub person_id: PersonId,
    pub resident_code: String,
    pub service_name: String,
    pub status: String,
    /// A phone number was given: staff call back (the receipt says so only then).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub call_back: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelReceipt {
    pub registration_id: RegistrationId,
    pub status: SeatStatus,
    /// Registrations moved from the waiting list into the freed seat.
    pub promoted: Vec<RegistrationId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentOverview {
    pub person_id: PersonId,
    pub resident_code: String,
    pub given_name: String,
    /// The office erased the resident's data: no name here, ever again.
    pub erased: bool,
    /// The resident agreed to SMS reminders and has not withdrawn it: the overview
    /// offers "Nie chcę SMS".
    pub sms_consent: bool,
    pub registrations: Vec<ResidentRegistration>,
    pub requests: Vec<RequestRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResidentRegistration {
    pub registration_id: RegistrationId,
    pub class_id: ClassId,
    pub class_title: String,
    pub status: SeatStatus,
    pub position: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub kiosk_id: KioskId,
    pub branch_id: BranchId,
    pub branch_code: String,
    pub mode: KioskMode,
    pub counts: Counts,
    pub pending_changes: u64,
    /// The server this kiosk syncs with (none for a standalone kiosk).
    pub server_url: Option<String>,
    pub last_sync: Option<String>,
    pub last_sync_error: Option<String>,
    /// Seconds this kiosk's clock was behind the server's at the last sync (negative:
    /// ahead); none before the first answer from a server.
    pub clock_offset_s: Option<i64>,
    /// The office revoked this kiosk: it is out of service until enrolled again.
    pub revoked: bool,
}

/// A kiosk clock further than this from the server's is shown to staff as wrong: its
/// stamps would put residents in the wrong place on waiting lists.
pub const CLOCK_WARNING_S: i64 = 120;

impl Status {
    /// Whether staff should set this kiosk's clock.
    pub fn clock_is_off(&self) -> bool {
        self.clock_offset_s
            .is_some_and(|s| s.abs() > CLOCK_WARNING_S)
    }
}

/// A roster held in memory with its decoded registrations and last computed states, so
/// that a registration costs work proportional to what changed, not to the class size.
struct CachedRoster {
    doc: RosterDoc,
    regs: BTreeMap<RegistrationId, Registration>,
    states: HashMap<RegistrationId, SeatState>,
}

pub struct Kiosk {
    dir: PathBuf,
    store: Store,
    identity: Identity,
    clock: HlcClock,
    wall: WallClock,
    rosters: HashMap<ClassId, CachedRoster>,
    /// The people document new residents go to (this kiosk's current volume), as stored.
    people: Option<PeopleDoc>,
    /// The heads of this branch's catalog with the stored size they were read at (see
    /// `Kiosk::catalog_heads`).
    catalog_heads: Option<(crate::store::DocSize, Vec<blisko_shared::docs::ChangeHash>)>,
    /// Days a resident's readable details stay here once the server has them (see
    /// [`Kiosk::apply_retention`]).
    retention_days: u32,
    /// Registrations whose resident is at the screen waiting for the server's pool (see
    /// [`crate::sync::claim_pool_seat`]): the next sync says so, and the SMS for a seat given
    /// then is held back until the kiosk reports it shown. Only for this moment, so not stored.
    awaiting: Vec<RegistrationId>,
    /// Pool seats shown at the screen, to report with the next sync (see `awaiting`).
    shown: Vec<RegistrationId>,
    // Held for the kiosk's lifetime: one process per data folder, because two writers
    // sharing one automerge actor would issue conflicting change numbers.
    _lock: File,
}

fn lock_dir(dir: &Path) -> Result<File> {
    std::fs::create_dir_all(dir).map_err(|source| KioskError::Io {
        context: format!("create the data folder {}", dir.display()),
        source,
    })?;
    blisko_shared::sqlite::lock_file(&dir.join(LOCK_FILE))
        .map_err(|source| KioskError::Io {
            context: format!("lock {}", dir.display()),
            source,
        })?
        .ok_or_else(|| KioskError::Busy(dir.display().to_string()))
}

fn read_identity(store: &Store) -> Result<Option<Identity>> {
    let get = |key: &str| store.meta(key);
    let (Some(kiosk), Some(branch), Some(code), Some(number), Some(mode)) = (
        get("kiosk_id")?,
        get("branch_id")?,
        get("branch_code")?,
        get("kiosk_number")?,
        get("mode")?,
    ) else {
        return Ok(None);
    };
    let corrupt = |what: &str, v: &str| {
        KioskError::Store(StoreError::Corrupt {
            what: what.to_owned(),
            detail: v.to_owned(),
        })
    };
    Ok(Some(Identity {
        kiosk_id: kiosk.parse().map_err(|_| corrupt("kiosk id", &kiosk))?,
        branch_id: branch.parse().map_err(|_| corrupt("branch id", &branch))?,
        branch_code: code,
        kiosk_number: number
            .parse()
            .map_err(|_| corrupt("kiosk number", &number))?,
        mode: KioskMode::from_code(&mode).ok_or_else(|| corrupt("kiosk mode", &mode))?,
    }))
}

/// Record who this kiosk is. `mode` goes last: a kiosk counts as set up once its
/// identity is complete.
fn write_identity(tx: &Tx<'_>, identity: &Identity) -> Result<()> {
    tx.set_meta("kiosk_id", &identity.kiosk_id.to_string())?;
    tx.set_meta("branch_id", &identity.branch_id.to_string())?;
    tx.set_meta("branch_code", &identity.branch_code)?;
    tx.set_meta("kiosk_number", &identity.kiosk_number.to_string())?;
    tx.set_meta("mode", identity.mode.code())?;
    Ok(())
}

fn parse_id<T: std::str::FromStr>(
    input: &str,
    err: impl FnOnce(String) -> KioskError,
) -> Result<T> {
    input
        .trim()
        .parse()
        .map_err(|_| err(input.chars().take(64).collect()))
}

impl Kiosk {
    /// Open a kiosk that was set up before, with the key of its store.
    pub fn open(dir: &Path, key: &StoreKey) -> Result<Kiosk> {
        Self::open_with_clock(dir, key, system_clock())
    }

    pub fn open_with_clock(dir: &Path, key: &StoreKey, wall: WallClock) -> Result<Kiosk> {
        if !dir.join(crate::store::DB_FILE).exists() {
            return Err(KioskError::NotSetUp(dir.display().to_string()));
        }
        let lock = lock_dir(dir)?;
        let store = Store::open(dir, key)?;
        let identity = read_identity(&store)?
            .ok_or_else(|| KioskError::NotSetUp(dir.display().to_string()))?;
        let clock = match store.meta("hlc")? {
            Some(last) => HlcClock::resume(last.parse().map_err(|_| {
                KioskError::Store(StoreError::Corrupt {
                    what: "clock stamp".into(),
                    detail: last.clone(),
                })
            })?),
            None => HlcClock::new(identity.kiosk_id),
        };
        let mut kiosk = Kiosk {
            dir: dir.to_owned(),
            store,
            identity,
            clock,
            wall,
            rosters: HashMap::new(),
            people: None,
            catalog_heads: None,
            retention_days: DEFAULT_RETENTION_DAYS,
            awaiting: Vec::new(),
            shown: Vec::new(),
            _lock: lock,
        };
        kiosk.finish_projection()?;
        Ok(kiosk)
    }

    /// Set up a standalone kiosk (no server yet) with the built-in demo catalogue of one
    /// branch, its store encrypted with `key`. The kiosk holds every seat of its branch's
    /// classes.
    pub fn setup_demo(
        dir: &Path,
        branch_code: &str,
        key: &StoreKey,
        wall: WallClock,
    ) -> Result<Kiosk> {
        // Checked before the folder is touched: a typo in the code writes nothing.
        let (branch_id, _) = demo::branch_ids()
            .into_iter()
            .find(|(_, code)| code.eq_ignore_ascii_case(branch_code))
            .ok_or_else(|| KioskError::UnknownBranch(branch_code.to_owned()))?;
        let kiosk_id = KioskId::new();
        let today = local_date(wall());
        let catalog = demo::catalogs(today, 6, Some((kiosk_id, branch_id)))
            .into_iter()
            .find(|c| c.branch.id == branch_id)
            .ok_or_else(|| KioskError::UnknownBranch(branch_code.to_owned()))?;
        Self::setup_with_catalog(dir, kiosk_id, &catalog, key, wall)
    }

    /// Set up a standalone kiosk (no server yet) as `kiosk_id`, with the catalogue of its
    /// branch. The seats it may confirm are its allotments in the catalogue.
    pub fn setup_with_catalog(
        dir: &Path,
        kiosk_id: KioskId,
        catalog: &Catalog,
        key: &StoreKey,
        wall: WallClock,
    ) -> Result<Kiosk> {
        let identity = Identity {
            kiosk_id,
            branch_id: catalog.branch.id,
            branch_code: catalog.branch.code.clone(),
            kiosk_number: 1,
            mode: KioskMode::Standalone,
        };
        let mut doc = CatalogDoc::create(catalog, identity.kiosk_id)?;
        let now = timestamp(wall());
        Self::set_up(dir, identity, key, wall, |tx| {
            tx.put_snapshot(doc.doc().key(), &doc.doc_mut().save(), false, &now)?;
            tx.project_catalog(catalog)?;
            for class in &catalog.classes {
                let free = catalog
                    .allotments_of(class.id)
                    .get(&kiosk_id)
                    .copied()
                    .unwrap_or(0);
                tx.set_class_counts(class.id, 0, 0, free)?;
            }
            Ok(())
        })
    }

    /// Set up a new kiosk in `dir`: `write` stores what it starts with, in the same
    /// transaction as its identity, so a kiosk is either fully set up or not at all.
    fn set_up(
        dir: &Path,
        identity: Identity,
        key: &StoreKey,
        wall: WallClock,
        write: impl FnOnce(&Tx<'_>) -> Result<()>,
    ) -> Result<Kiosk> {
        let lock = lock_dir(dir)?;
        let mut store = Store::open(dir, key)?;
        if read_identity(&store)?.is_some() {
            return Err(KioskError::AlreadySetUp(dir.display().to_string()));
        }
        let tx = store.write()?;
        write(&tx)?;
        write_identity(&tx, &identity)?;
        tx.commit()?;
        Ok(Kiosk {
            dir: dir.to_owned(),
            store,
            clock: HlcClock::new(identity.kiosk_id),
            identity,
            wall,
            rosters: HashMap::new(),
            people: None,
            catalog_heads: None,
            retention_days: DEFAULT_RETENTION_DAYS,
            awaiting: Vec::new(),
            shown: Vec::new(),
            _lock: lock,
        })
    }

    /// The resident of `registration` waits at the screen for the next sync's answer.
    pub fn await_answer(&mut self, registration: RegistrationId) {
        if !self.awaiting.contains(&registration) {
            self.awaiting.push(registration);
        }
    }

    /// The wait is over; `seated`: the screen showed a seat, which the next sync reports.
    pub fn answer_shown(&mut self, registration: RegistrationId, seated: bool) {
        self.awaiting.retain(|r| *r != registration);
        if seated && !self.shown.contains(&registration) {
            self.shown.push(registration);
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// How many days a resident's readable details stay on this kiosk once the server
    /// holds them.
    pub fn set_retention_days(&mut self, days: u32) {
        self.retention_days = days;
    }

    /// Drop the personal data this kiosk no longer needs: the details of residents
    /// registered more than `retention_days` ago whose key the server holds and who
    /// have no registration for a class with a session today or later. Their key copy
    /// and readable details here are deleted; they stay countable (ids, codes,
    /// registrations, attendance), and the office still reads them with the server's
    /// key. Returns how many residents it dropped.
    pub fn apply_retention(&mut self) -> Result<usize> {
        let now = (self.wall)();
        let before = now.saturating_sub(u64::from(self.retention_days) * 86_400_000);
        let today = local_date(now).to_string();
        let ids = self.store.persons_past_retention(before, &today)?;
        if ids.is_empty() {
            return Ok(0);
        }
        let tx = self.store.write()?;
        for id in &ids {
            tx.forget_person(*id, false)?;
        }
        tx.commit()?;
        // Deleted rows are zeroed (secure_delete); the log's old frames go too.
        self.store.checkpoint()?;
        Ok(ids.len())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn stamp(&mut self) -> Hlc {
        let now = (self.wall)();
        self.clock.tick(now)
    }

    // ----- reads -----

    pub fn classes(&self) -> Result<Vec<ClassRow>> {
        Ok(self.store.classes()?)
    }

    pub fn class(&self, class_id: &str) -> Result<ClassRow> {
        let id: ClassId = parse_id(class_id, KioskError::UnknownClass)?;
        self.store
            .class(id)?
            .ok_or_else(|| KioskError::UnknownClass(class_id.to_owned()))
    }

    pub fn roster(&self, class_id: &str) -> Result<Vec<RegistrationRow>> {
        let class = self.class(class_id)?;
        Ok(self.store.roster(class.id)?)
    }

    /// A class's roster in the shape the server's `roster --json` prints too: the
    /// projection's rows, with whose seat each confirmed one holds from the document.
    pub fn roster_lines(&self, class_id: &str) -> Result<Vec<RosterLine>> {
        let class = self.class(class_id)?;
        let regs: BTreeMap<RegistrationId, Registration> =
            match self.stored_doc(DocKey::Roster(class.id))? {
                Some(doc) => RosterDoc::from_doc(doc)?
                    .registrations()?
                    .into_iter()
                    .map(|r| (r.id, r))
                    .collect(),
                None => BTreeMap::new(),
            };
        Ok(self
            .store
            .roster(class.id)?
            .into_iter()
            .map(|row| RosterLine {
                seat_of: match row.status {
                    SeatStatus::Confirmed => {
                        regs.get(&row.registration_id).and_then(seats::seat_holder)
                    }
                    SeatStatus::Waitlisted | SeatStatus::Cancelled => None,
                },
                registration_id: row.registration_id,
                class_id: row.class_id,
                person_id: row.person_id,
                kiosk_id: row.kiosk_id,
                status: row.status,
                position: row.position,
                created: row.created,
            })
            .collect())
    }

    pub fn services(&self) -> Result<Vec<blisko_shared::model::Service>> {
        Ok(self.store.services()?)
    }

    /// Whether a returning resident's code fits the typed name and birth year: checked on
    /// the details form, before the consent screen, by the same rule as registration.
    /// Nothing is written. Details not readable here (dropped after the retention period,
    /// not yet received) cannot be compared: registration itself deals with them.
    pub fn check_resident_code(
        &self,
        code: &str,
        given: &str,
        family: &str,
        birth_year: i32,
    ) -> Result<()> {
        let normalized = codes::normalize_resident_code(code)
            .ok_or_else(|| KioskError::UnknownResidentCode(code.to_owned()))?;
        let person = self
            .store
            .person_by_code(&normalized)?
            .ok_or_else(|| KioskError::UnknownResidentCode(normalized.clone()))?;
        if person.given_name.is_empty() && person.family_name.is_empty() {
            return Ok(());
        }
        let given = validate::person_name(Field::GivenName, given)?;
        let family = validate::person_name(Field::FamilyName, family)?;
        let birth_year = validate::birth_year(birth_year, self.current_year())?;
        if same_person(&person, &given, &family, birth_year) {
            Ok(())
        } else {
            Err(KioskError::ResidentDetailsMismatch)
        }
    }

    /// The next session of a class from now on this kiosk's clock.
    pub fn next_session(&self, class: ClassId) -> Result<Option<crate::store::SessionRow>> {
        let now = jiff::Timestamp::from_millisecond((self.wall)() as i64)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned(jiff::tz::TimeZone::system());
        let time = format!("{:02}:{:02}", now.hour(), now.minute());
        Ok(self
            .store
            .next_session(class, &now.date().to_string(), &time)?)
    }

    /// A returning resident's registrations and requests, found by their code.
    pub fn resident(&self, code: &str) -> Result<ResidentOverview> {
        let normalized = codes::normalize_resident_code(code)
            .ok_or_else(|| KioskError::UnknownResidentCode(code.to_owned()))?;
        let person = self
            .store
            .person_by_code(&normalized)?
            .ok_or_else(|| KioskError::UnknownResidentCode(normalized.clone()))?;
        let mut registrations = Vec::new();
        for r in self.store.registrations_of(person.id)? {
            let title = self
                .store
                .class(r.class_id)?
                .map(|c| c.title)
                .unwrap_or_default();
            registrations.push(ResidentRegistration {
                registration_id: r.registration_id,
                class_id: r.class_id,
                class_title: title,
                status: r.status,
                position: r.position,
            });
        }
        let mut requests = self.store.requests_of(person.id)?;
        // The office's message opens with the person's key; without it (erased, or past
        // retention) the status alone is shown.
        if let Some(key) = self.store.person_key(person.id)? {
            for request in &mut requests {
                let Ok(id) = request.id.parse::<RequestId>() else {
                    continue;
                };
                if let Some(doc) = self.stored_doc(DocKey::Intake(id))? {
                    request.message = IntakeDoc::from_doc(doc)?.resident_message(&key);
                }
            }
        }
        Ok(ResidentOverview {
            person_id: person.id,
            sms_consent: self.store.sms_consent(person.id)?.is_some(),
            erased: self.store.person_erased(person.id)?,
            resident_code: person.resident_code,
            given_name: person.given_name,
            registrations,
            requests,
        })
    }

    pub fn status(&self) -> Result<Status> {
        Ok(Status {
            kiosk_id: self.identity.kiosk_id,
            branch_id: self.identity.branch_id,
            branch_code: self.identity.branch_code.clone(),
            mode: self.identity.mode,
            counts: self.store.counts()?,
            pending_changes: self.store.pending_changes()?,
            server_url: self.store.meta("server_url")?,
            last_sync: self.store.meta("last_sync")?,
            last_sync_error: self
                .store
                .meta("last_sync_error")?
                .filter(|e| !e.is_empty()),
            clock_offset_s: self
                .store
                .meta(replica::CLOCK_OFFSET_KEY)?
                .and_then(|s| s.parse().ok()),
            revoked: self.is_revoked()?,
        })
    }

    // ----- rosters in memory -----

    fn policy(&self, class: ClassId, row: &ClassRow) -> Result<SeatPolicy> {
        Ok(SeatPolicy {
            capacity: row.capacity,
            waitlist_limit: row.waitlist_limit,
            allotments: self.store.allotments(class)?,
            reserved: Default::default(),
        })
    }

    /// The roster of a class, loaded once and kept decoded in memory.
    fn roster_mut(&mut self, class: ClassId) -> Result<&mut CachedRoster> {
        if !self.rosters.contains_key(&class) {
            let doc = match self.stored_doc(DocKey::Roster(class))? {
                Some(doc) => RosterDoc::from_doc(doc)?,
                None => RosterDoc::create(class, self.identity.kiosk_id)?,
            };
            self.cache_roster(doc)?;
        }
        self.rosters
            .get_mut(&class)
            .ok_or_else(|| KioskError::UnknownClass(class.to_string()))
    }

    /// Keep a roster (as stored) decoded in memory, with the states last projected for
    /// its registrations.
    fn cache_roster(&mut self, doc: RosterDoc) -> Result<()> {
        let class = doc.class_id();
        let regs = doc
            .registrations()?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let states = self
            .store
            .roster(class)?
            .into_iter()
            .filter_map(|row| {
                let state = match row.status {
                    SeatStatus::Confirmed => SeatState::Confirmed,
                    SeatStatus::Waitlisted => SeatState::Waitlisted {
                        position: row.position?,
                    },
                    SeatStatus::Cancelled => SeatState::Cancelled,
                };
                Some((row.registration_id, state))
            })
            .collect();
        self.rosters
            .insert(class, CachedRoster { doc, regs, states });
        Ok(())
    }

    /// A document as stored, or `None`; from memory when it is held there (a held roster
    /// or people document that is stored always matches what is stored), else from the
    /// store.
    fn current_doc(&self, key: DocKey) -> Result<Option<Doc>> {
        if self.store.doc_size(key)?.is_none() {
            return Ok(None);
        }
        let held = match key {
            DocKey::Roster(class) => self.rosters.get(&class).map(|c| c.doc.doc()),
            DocKey::People(..) => self
                .people
                .as_ref()
                .map(PeopleDoc::doc)
                .filter(|d| d.key() == key),
            _ => None,
        };
        match held {
            Some(doc) => Ok(Some(doc.clone())),
            None => self.stored_doc(key),
        }
    }

    /// A document as stored, or `None`.
    fn stored_doc(&self, key: DocKey) -> Result<Option<Doc>> {
        let Some(stored) = self.store.load_doc(key)? else {
            return Ok(None);
        };
        Ok(Some(Doc::load(
            key,
            self.identity.kiosk_id,
            &stored.snapshot,
            stored.chunks.iter().map(Vec::as_slice),
        )?))
    }

    /// Persist a roster change, the people it creates and the projection, in one
    /// transaction. On failure the cached roster is dropped so memory matches disk.
    fn commit_roster_change(
        &mut self,
        class: ClassId,
        policy: &SeatPolicy,
        new_people: &[NewPerson],
        extra: impl FnOnce(&crate::store::Tx<'_>) -> Result<()>,
    ) -> Result<()> {
        let result = self.try_commit_roster_change(class, policy, new_people, extra);
        if result.is_err() {
            self.rosters.remove(&class);
            self.people = None;
        }
        result
    }

    /// Add new residents to this kiosk's people document in memory; returns what to
    /// write in the action's transaction. Callers drop `self.people` if that
    /// transaction fails, so memory never runs ahead of the disk.
    fn stage_people(&mut self, new_people: &[NewPerson]) -> Result<Vec<DocWrite>> {
        let mut writes: Vec<DocWrite> = Vec::new();
        for (person, secret) in new_people {
            let mut volume = match &self.people {
                Some(p) => p.volume(),
                None => self
                    .store
                    .meta(PEOPLE_VOLUME_KEY)?
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0),
            };
            if self.people.is_none() {
                self.people = Some(self.people_volume(volume)?);
            }
            let full = match &self.people {
                Some(p) => p.is_full()?,
                None => false,
            };
            if full {
                volume += 1;
                self.people = Some(self.people_volume(volume)?);
            }
            let doc = self
                .people
                .as_mut()
                .ok_or_else(|| KioskError::Protocol("no people document".into()))?;
            let key = doc.doc().key();
            doc.put(person, secret)?;
            let stored = self.store.doc_size(key)?.is_some() || writes.iter().any(|w| w.key == key);
            let write = if stored {
                doc.doc_mut().take_unsaved().map(DocBytes::Chunk)
            } else {
                Some(DocBytes::Snapshot(doc.doc_mut().save()))
            };
            if let Some(bytes) = write {
                writes.push(DocWrite { key, bytes });
            }
        }
        Ok(writes)
    }

    /// One of this kiosk's people documents, as stored, or new.
    fn people_volume(&self, volume: u32) -> Result<PeopleDoc> {
        let kiosk = self.identity.kiosk_id;
        Ok(match self.stored_doc(DocKey::People(kiosk, volume))? {
            Some(doc) => PeopleDoc::from_doc(doc)?,
            None => PeopleDoc::create(kiosk, volume, kiosk)?,
        })
    }

    fn try_commit_roster_change(
        &mut self,
        class: ClassId,
        policy: &SeatPolicy,
        new_people: &[NewPerson],
        extra: impl FnOnce(&crate::store::Tx<'_>) -> Result<()>,
    ) -> Result<()> {
        let people_writes = self.stage_people(new_people)?;
        let now = timestamp((self.wall)());
        let hlc = self.clock.last().to_string();
        let write = self.stage_roster(class, policy)?;

        let tx = self.store.write()?;
        write.store_doc(&tx, &now)?;
        for write in &people_writes {
            write.store(&tx, &now)?;
        }
        for (person, secret) in new_people {
            tx.insert_own_key(person.id, secret)?;
            tx.upsert_person(person)?;
        }
        write.store_projection(&tx)?;
        extra(&tx)?;
        tx.set_meta("hlc", &hlc)?;
        tx.commit()?;

        self.settle_roster(write);
        Ok(())
    }

    /// What a cached roster's change writes: its new bytes, the registrations whose state
    /// moved, and the class's counts. Memory counts the roster's bytes as saved; callers
    /// drop the cached roster if the transaction storing them fails.
    fn stage_roster(&mut self, class: ClassId, policy: &SeatPolicy) -> Result<RosterWrite> {
        let stored_before = self.store.doc_size(DocKey::Roster(class))?.is_some();
        let cached = self
            .rosters
            .get_mut(&class)
            .ok_or_else(|| KioskError::UnknownClass(class.to_string()))?;
        let regs: Vec<Registration> = cached.regs.values().cloned().collect();
        let roster = seats::compute_roster(policy, &regs);
        let free_here = seats_shown(&self.identity, policy, &roster);
        let changed: Vec<(Registration, SeatState)> = roster
            .entries
            .iter()
            .filter(|e| cached.states.get(&e.registration_id) != Some(&e.state))
            .filter_map(|e| {
                cached
                    .regs
                    .get(&e.registration_id)
                    .map(|r| (r.clone(), e.state))
            })
            .collect();
        let key = cached.doc.doc().key();
        let bytes = if stored_before {
            cached.doc.doc_mut().take_unsaved().map(DocBytes::Chunk)
        } else {
            Some(DocBytes::Snapshot(cached.doc.doc_mut().save()))
        };
        Ok(RosterWrite {
            class,
            doc: bytes.map(|bytes| DocWrite { key, bytes }),
            changed,
            confirmed: roster.confirmed() as u32,
            waitlisted: roster.waitlisted() as u32,
            free_here,
        })
    }

    /// After the transaction holding `write` committed: the cached states are the stored.
    fn settle_roster(&mut self, write: RosterWrite) {
        if let Some(cached) = self.rosters.get_mut(&write.class) {
            for (reg, state) in write.changed {
                cached.states.insert(reg.id, state);
            }
        }
    }

    /// Apply edits to a cached roster and refresh the decoded registrations they touch.
    fn apply_roster_edits(&mut self, class: ClassId, edits: &[RosterEdit]) -> Result<()> {
        let cached = self.roster_mut(class)?;
        if let Err(e) = cached.doc.apply(edits) {
            self.rosters.remove(&class);
            return Err(e.into());
        }
        for edit in edits {
            let id = match edit {
                RosterEdit::Register(r) => r.id,
                RosterEdit::Cancel { registration, .. }
                | RosterEdit::Grant { registration, .. } => *registration,
                RosterEdit::Mark(_) => continue,
            };
            if let Some(reg) = cached.doc.registration(id)? {
                cached.regs.insert(id, reg);
            }
        }
        Ok(())
    }

    // ----- actions -----

    fn current_year(&self) -> i32 {
        local_date((self.wall)()).year() as i32
    }

    fn existing_or_new_person(
        &mut self,
        resident_code: Option<&str>,
        given: &str,
        family: &str,
        birth_year: i32,
        phone: Option<&str>,
        consents: ConsentsGiven,
    ) -> Result<(PersonId, String, Option<NewPerson>)> {
        let ConsentsGiven {
            clause_version,
            sms: sms_consent,
            lang,
        } = consents;
        let given = validate::person_name(Field::GivenName, given)?;
        let family = validate::person_name(Field::FamilyName, family)?;
        let birth_year = validate::birth_year(birth_year, self.current_year())?;
        let phone = match phone.map(str::trim).filter(|p| !p.is_empty()) {
            Some(p) => Some(validate::phone(p)?),
            None => None,
        };
        if sms_consent && phone.is_none() {
            return Err(KioskError::SmsConsentNeedsPhone);
        }
        // SMS go only to a Polish mobile; a landline stays allowed without the consent.
        if sms_consent
            && phone
                .as_deref()
                .is_some_and(|p| !validate::is_polish_mobile(p))
        {
            return Err(FieldError::SmsNeedsPolishMobile.into());
        }
        if let Some(code) = resident_code.map(str::trim).filter(|c| !c.is_empty()) {
            let normalized = codes::normalize_resident_code(code)
                .ok_or_else(|| KioskError::UnknownResidentCode(code.to_owned()))?;
            let person = self
                .store
                .person_by_code(&normalized)?
                .ok_or_else(|| KioskError::UnknownResidentCode(normalized.clone()))?;
            // Kept countable, but without readable details here: nothing to check against.
            // Dropped after the retention period (not erased), the key can be asked for
            // again: an enrolled kiosk's next sync does.
            if person.given_name.is_empty() && person.family_name.is_empty() {
                if self.server()?.is_none() || self.store.person_erased(person.id)? {
                    return Err(KioskError::PersonalDataNotHere);
                }
                let tx = self.store.write()?;
                tx.want_key(person.id)?;
                tx.commit()?;
                return Err(KioskError::DetailsRequested);
            }
            if !same_person(&person, &given, &family, birth_year) {
                return Err(KioskError::ResidentDetailsMismatch);
            }
            return Ok((person.id, person.resident_code, None));
        }
        let mut rng = rand::rng();
        let resident_code = loop {
            let code = codes::new_resident_code(&mut rng);
            if !self.store.resident_code_taken(&code)? {
                break code;
            }
        };
        let at = self.stamp();
        let mut consents = vec![Consent {
            kind: ConsentKind::InformationClause,
            text_version: clause_version.to_owned(),
            at,
        }];
        if sms_consent && phone.is_some() {
            consents.push(Consent {
                kind: ConsentKind::SmsReminders,
                text_version: sms_consent_version(lang).to_owned(),
                at,
            });
        }
        let person = Person {
            id: PersonId::stamped(&at),
            given_name: given,
            family_name: family,
            birth_year,
            phone,
            resident_code: resident_code.clone(),
            home_branch: self.identity.branch_id,
            consents,
            created: at,
        };
        // Every person gets a key of their own, made here, where they register.
        Ok((
            person.id,
            resident_code,
            Some((person, PersonKey::generate())),
        ))
    }

    /// Register a person for a class. Returns only after the registration is durable.
    pub fn register(&mut self, form: &RegistrationForm) -> Result<RegistrationReceipt> {
        self.ensure_in_service()?;
        if !form.consent {
            return Err(KioskError::ConsentRequired);
        }
        let class = self.class(&form.class_id)?;
        if class.branch_id != self.identity.branch_id {
            return Err(KioskError::UnknownClass(form.class_id.clone()));
        }
        let today = local_date((self.wall)()).to_string();
        if !registration_open(
            class.registration_opens.as_deref(),
            class.registration_closes.as_deref(),
            &today,
        ) {
            return Err(KioskError::RegistrationClosed { title: class.title });
        }
        let (person_id, resident_code, new_person) = self.existing_or_new_person(
            form.resident_code.as_deref(),
            &form.given_name,
            &form.family_name,
            form.birth_year,
            form.phone.as_deref(),
            ConsentsGiven {
                clause_version: INFORMATION_CLAUSE_VERSION,
                sms: form.sms_consent,
                lang: form.lang,
            },
        )?;
        let policy = self.policy(class.id, &class)?;
        let kiosk = self.identity.kiosk_id;
        let cached = self.roster_mut(class.id)?;
        if new_person.is_none()
            && cached
                .regs
                .values()
                .any(|r| r.person_id == person_id && r.cancelled.is_none())
        {
            return Err(KioskError::AlreadyRegistered { title: class.title });
        }
        let regs: Vec<Registration> = cached.regs.values().cloned().collect();
        let plan = seats::plan_registration(&policy, &regs, kiosk);
        // Full here, but an online kiosk asks the pool before it refuses.
        let awaiting_pool = plan.admission == Admission::Full
            && seats::free_seats_of(
                &policy,
                &seats::compute_roster(&policy, &regs),
                KioskId::CENTRAL,
            ) > 0
            && self.server()?.is_some();
        if plan.admission == Admission::Full && !awaiting_pool {
            return Err(KioskError::ClassFull { title: class.title });
        }
        let at = self.stamp();
        let mut edits: Vec<RosterEdit> = plan
            .promote
            .iter()
            .map(|id| RosterEdit::Grant {
                registration: *id,
                authority: kiosk,
                at,
            })
            .collect();
        let registration = Registration {
            id: RegistrationId::stamped(&at),
            class_id: class.id,
            person_id,
            kiosk_id: kiosk,
            created: at,
            cancelled: None,
            grants: match plan.admission {
                Admission::Confirm => BTreeMap::from([(kiosk, at)]),
                _ => BTreeMap::new(),
            },
        };
        let id = registration.id;
        edits.push(RosterEdit::Register(registration));
        self.apply_roster_edits(class.id, &edits)?;
        let people: Vec<NewPerson> = new_person.into_iter().collect();
        self.commit_roster_change(class.id, &policy, &people, |_| Ok(()))?;
        let state = self
            .rosters
            .get(&class.id)
            .and_then(|c| c.states.get(&id).copied())
            .unwrap_or(SeatState::Cancelled);
        // The registration is durable: a failed read only leaves the date off the receipt.
        let next_session = self.next_session(class.id).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not read the next session for a receipt");
            None
        });
        Ok(RegistrationReceipt {
            registration_id: id,
            person_id,
            resident_code,
            class_id: class.id,
            class_title: class.title,
            status: state.status(),
            position: state.position(),
            awaiting_pool,
            next_session,
        })
    }

    /// Withdraw a registration that waited for a pool seat it did not get (the class is
    /// full): it is cancelled, as if never made. Nothing happens to one that got a seat.
    /// Returns whether it was withdrawn.
    pub fn withdraw_pool_attempt(&mut self, id: RegistrationId) -> Result<bool> {
        let waiting = self
            .store
            .registration(id)?
            .is_some_and(|row| row.status == SeatStatus::Waitlisted);
        if !waiting {
            return Ok(false);
        }
        self.cancel(&id.to_string())?;
        Ok(true)
    }

    /// Cancel a registration; the seat it frees goes to the first person waiting, when the
    /// seat is this kiosk's to give.
    pub fn cancel(&mut self, registration_id: &str) -> Result<CancelReceipt> {
        self.ensure_in_service()?;
        let id: RegistrationId = parse_id(registration_id, KioskError::UnknownRegistration)?;
        let row = self
            .store
            .registration(id)?
            .ok_or_else(|| KioskError::UnknownRegistration(registration_id.to_owned()))?;
        let class = self
            .store
            .class(row.class_id)?
            .ok_or_else(|| KioskError::UnknownClass(row.class_id.to_string()))?;
        let policy = self.policy(class.id, &class)?;
        let kiosk = self.identity.kiosk_id;
        let cached = self.roster_mut(class.id)?;
        let reg = cached
            .regs
            .get(&id)
            .ok_or_else(|| KioskError::UnknownRegistration(registration_id.to_owned()))?;
        if reg.cancelled.is_some() {
            return Err(KioskError::AlreadyCancelled);
        }
        let regs: Vec<Registration> = cached.regs.values().cloned().collect();
        let at = self.stamp();
        let promoted = seats::plan_cancellation(&policy, &regs, id, at, kiosk);
        let mut edits = vec![RosterEdit::Cancel {
            registration: id,
            at,
        }];
        edits.extend(promoted.iter().map(|p| RosterEdit::Grant {
            registration: *p,
            authority: kiosk,
            at,
        }));
        self.apply_roster_edits(class.id, &edits)?;
        self.commit_roster_change(class.id, &policy, &[], |_| Ok(()))?;
        Ok(CancelReceipt {
            registration_id: id,
            status: SeatStatus::Cancelled,
            promoted,
        })
    }

    /// Submit an intake request (wniosek). Returns only after it is durable.
    pub fn submit_intake(&mut self, form: &IntakeForm) -> Result<IntakeReceipt> {
        self.ensure_in_service()?;
        if !form.consent {
            return Err(KioskError::ConsentRequired);
        }
        if !form.declaration {
            return Err(KioskError::DeclarationRequired);
        }
        let service_id: ServiceId = parse_id(&form.service_id, KioskError::UnknownService)?;
        let service = self
            .store
            .services()?
            .into_iter()
            .find(|s| s.id == service_id)
            .ok_or_else(|| KioskError::UnknownService(form.service_id.clone()))?;
        let applicant_role = match form.applicant_role.as_deref().map(str::trim) {
            None | Some("") => ApplicantRole::SelfApplicant,
            Some(code) => ApplicantRole::from_code(code)
                .ok_or_else(|| KioskError::UnknownRole(code.chars().take(64).collect()))?,
        };
        let description = validate::free_text(
            Field::Description,
            &form.description,
            validate::DESCRIPTION_MAX_CHARS,
        )?;
        let pesel = match form
            .pesel
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            // Collected only when the service needs it (data minimisation); one typed for
            // another service is refused rather than silently dropped.
            Some(p) if service.requires_pesel => {
                let pesel = validate::pesel(p)?;
                // The year is checked first, so an absurd one is named as such.
                validate::birth_year(form.birth_year, self.current_year())?;
                validate::pesel_matches_birth_year(&pesel, form.birth_year)?;
                Some(pesel)
            }
            Some(_) => return Err(KioskError::PeselNotNeeded),
            None if service.requires_pesel => return Err(KioskError::PeselRequired),
            None => None,
        };
        let (person_id, resident_code, new_person) = self.existing_or_new_person(
            form.resident_code.as_deref(),
            &form.given_name,
            &form.family_name,
            form.birth_year,
            form.phone.as_deref(),
            ConsentsGiven {
                clause_version: INTAKE_CLAUSE_VERSION,
                sms: form.sms_consent,
                lang: form.lang,
            },
        )?;
        let at = self.stamp();
        let sequence = self
            .store
            .meta("request_seq")?
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        // The year of this kiosk's calendar, not of the stamp: a stamp follows the latest
        // one seen, which a kiosk whose clock runs ahead may have put in the next year.
        let wall = (self.wall)();
        let year = local_date(wall).year();
        let request = IntakeRequest {
            id: RequestId::stamped(&at),
            reference: codes::reference_number(
                &self.identity.branch_code,
                self.identity.kiosk_number,
                year,
                sequence,
            ),
            person_id,
            branch_id: self.identity.branch_id,
            kiosk_id: self.identity.kiosk_id,
            service_id,
            applicant_role,
            description,
            pesel,
            declaration_version: DECLARATION_VERSION.to_owned(),
            consent_version: INTAKE_CLAUSE_VERSION.to_owned(),
            history: vec![StatusChange {
                status: RequestStatus::Submitted,
                by: format!("kiosk:{}", self.identity.kiosk_id),
                at,
                decision_reference: None,
                appeal_info: None,
            }],
            ipus_due: None,
        };
        let secret = match &new_person {
            Some((_, secret)) => secret.clone(),
            // A returning resident's request is sealed with their key, which this kiosk
            // holds unless it was dropped (retention) or erased.
            None => self
                .store
                .person_key(person_id)?
                .ok_or(KioskError::PersonalDataNotHere)?,
        };
        let mut doc = IntakeDoc::create(&request, &secret, self.identity.kiosk_id)?;
        let now = timestamp(wall);
        let people: Vec<NewPerson> = new_person.into_iter().collect();
        let result = (|| -> Result<()> {
            let people_writes = self.stage_people(&people)?;
            let tx = self.store.write()?;
            for write in &people_writes {
                write.store(&tx, &now)?;
            }
            for (person, secret) in &people {
                tx.insert_own_key(person.id, secret)?;
                tx.upsert_person(person)?;
            }
            tx.put_snapshot(doc.doc().key(), &doc.doc_mut().save(), true, &now)?;
            tx.upsert_request(&request)?;
            tx.set_meta("request_seq", &sequence.to_string())?;
            tx.set_meta("hlc", &at.to_string())?;
            tx.commit()?;
            Ok(())
        })();
        if result.is_err() {
            self.people = None;
        }
        result?;
        Ok(IntakeReceipt {
            request_id: request.id,
            reference: request.reference,
            person_id,
            resident_code,
            service_name: service.name,
            status: RequestStatus::Submitted.code().to_owned(),
            call_back: form.phone.as_deref().is_some_and(|p| !p.trim().is_empty()),
        })
    }

    /// Housekeeping, run after an acknowledgement has been shown (or when the kiosk is
    /// idle), never before: compact the rosters in memory whose incremental chunks have
    /// outgrown their snapshot. Returns how many were compacted.
    pub fn housekeeping(&mut self) -> Result<usize> {
        let classes: Vec<ClassId> = self.rosters.keys().copied().collect();
        let mut compacted = 0;
        for class in classes {
            compacted += usize::from(self.maintain(DocKey::Roster(class))?);
        }
        if let Some(key) = self.people.as_ref().map(|p| p.doc().key()) {
            compacted += usize::from(self.maintain(key)?);
        }
        Ok(compacted)
    }

    /// Compact one document if it is due (see `housekeeping`).
    pub fn maintain(&mut self, key: DocKey) -> Result<bool> {
        let Some(size) = self.store.doc_size(key)? else {
            return Ok(false);
        };
        if !size.wants_compaction() {
            return Ok(false);
        }
        let snapshot = match key {
            DocKey::Roster(class) => match self.rosters.get_mut(&class) {
                Some(cached) => cached.doc.doc_mut().save(),
                None => return Ok(false),
            },
            DocKey::People(..) => match self.people.as_mut() {
                Some(people) if people.doc().key() == key => people.doc_mut().save(),
                _ => return Ok(false),
            },
            _ => return Ok(false),
        };
        let now = timestamp((self.wall)());
        let tx = self.store.write()?;
        tx.put_snapshot(key, &snapshot, false, &now)?;
        tx.commit()?;
        Ok(true)
    }

    /// Check that the database is sound and that the projection agrees with the
    /// documents: every registration in a roster is projected with the state the seat
    /// rules compute. Returns a list of problems (empty when all is well).
    pub fn verify(&mut self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let integrity = self.store.integrity_check()?;
        if integrity != "ok" {
            problems.push(format!("integrity_check: {integrity}"));
        }
        let projected = self.store.all_registration_states()?;
        let mut seen = 0usize;
        for key in self.store.doc_keys("roster")? {
            let DocKey::Roster(class) = key else { continue };
            let Some(row) = self.store.class(class)? else {
                problems.push(format!("roster {class} has no class"));
                continue;
            };
            let policy = self.policy(class, &row)?;
            let stored = self
                .stored_doc(key)?
                .ok_or_else(|| KioskError::UnknownClass(class.to_string()))?;
            let doc = RosterDoc::from_doc(stored)?;
            let regs = doc.registrations()?;
            let roster = seats::compute_roster(&policy, &regs);
            for e in &roster.entries {
                seen += 1;
                let expected = (e.state.status(), e.state.position());
                match projected.get(&e.registration_id) {
                    Some(p) if *p == expected => {}
                    other => problems.push(format!(
                        "registration {} is {:?} in the roster but {:?} in the projection",
                        e.registration_id, expected, other
                    )),
                }
            }
        }
        if seen != projected.len() {
            problems.push(format!(
                "{} registrations in rosters, {} in the projection",
                seen,
                projected.len()
            ));
        }
        Ok(problems)
    }
}

/// Whether typed details belong to the resident found by a resident code.
///
/// The rule: a code alone does not identify a person. Given name, family name and birth
/// year must all match what is stored for the code. Names are compared after the same
/// clean-up as when they were first stored (surrounding and repeated spaces removed) and
/// without regard to letter case; diacritics count ("Łukasz" is not "Lukasz"). The birth
/// year must be equal. The refusal does not say which detail differs, so that someone
/// holding another person's code cannot learn that person's details by trying.
fn same_person(stored: &PersonRow, given: &str, family: &str, birth_year: u16) -> bool {
    validate::same_name(&stored.given_name, given)
        && validate::same_name(&stored.family_name, family)
        && stored.birth_year == birth_year
}

/// The kiosk's local calendar date for a wall time.
pub fn local_date(wall_ms: u64) -> jiff::civil::Date {
    let ts =
        jiff::Timestamp::from_millisecond(wall_ms as i64).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.to_zoned(jiff::tz::TimeZone::system()).date()
}

/// RFC 3339 text for bookkeeping columns.
fn timestamp(wall_ms: u64) -> String {
    jiff::Timestamp::from_millisecond(wall_ms as i64)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_string()
}

/// A roster change to store: the roster's bytes and its projection.
struct RosterWrite {
    class: ClassId,
    doc: Option<DocWrite>,
    changed: Vec<(Registration, SeatState)>,
    confirmed: u32,
    waitlisted: u32,
    free_here: u32,
}

impl RosterWrite {
    /// The roster's bytes.
    fn store_doc(&self, tx: &Tx<'_>, now: &str) -> Result<()> {
        match &self.doc {
            // A roster is this kiosk's own change, to push: not a new people volume.
            Some(DocWrite {
                key,
                bytes: DocBytes::Snapshot(b),
            }) => tx.put_snapshot(*key, b, true, now)?,
            Some(DocWrite {
                key,
                bytes: DocBytes::Chunk(b),
            }) => tx.append_chunk(*key, b, true, now)?,
            None => {}
        }
        Ok(())
    }

    /// The registrations' states and the class's counts (after any new persons).
    fn store_projection(&self, tx: &Tx<'_>) -> Result<()> {
        for (reg, state) in &self.changed {
            tx.upsert_registration(reg, *state)?;
        }
        tx.set_class_counts(self.class, self.confirmed, self.waitlisted, self.free_here)?;
        Ok(())
    }
}

/// Bytes of one document to store in an action's transaction.
struct DocWrite {
    key: DocKey,
    bytes: DocBytes,
}

enum DocBytes {
    /// A new document, saved whole.
    Snapshot(Vec<u8>),
    /// The changes since the stored state.
    Chunk(Vec<u8>),
}

impl DocWrite {
    fn store(&self, tx: &Tx<'_>, now: &str) -> Result<()> {
        match &self.bytes {
            DocBytes::Snapshot(b) => {
                tx.put_snapshot(self.key, b, true, now)?;
                // A new people volume becomes the one new residents go to.
                if let DocKey::People(_, volume) = self.key {
                    tx.set_meta(PEOPLE_VOLUME_KEY, &volume.to_string())?;
                }
            }
            DocBytes::Chunk(b) => tx.append_chunk(self.key, b, true, now)?,
        }
        Ok(())
    }
}

/// Setting: the people document (volume) new residents of this kiosk go to.
const PEOPLE_VOLUME_KEY: &str = "people_volume";

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use blisko_shared::sqlite::LOCK_PATIENCE;

    use super::*;

    /// Another holder of the lock, as a second kiosk process (or a child between its fork
    /// and exec) would be: its own open file description of the lock file.
    fn hold_lock(dir: &Path) -> File {
        std::fs::create_dir_all(dir).expect("folder");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK_FILE))
            .expect("lock file");
        file.try_lock().expect("the first holder gets the lock");
        file
    }

    #[test]
    fn a_folder_whose_lock_stays_taken_is_busy() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let _other = hold_lock(tmp.path());
        let started = Instant::now();
        let err = lock_dir(tmp.path()).expect_err("the folder is in use");
        assert!(matches!(err, KioskError::Busy(_)), "{err:?}");
        assert!(started.elapsed() >= LOCK_PATIENCE);
    }

    #[test]
    fn a_lock_let_go_within_a_moment_is_taken() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let other = hold_lock(tmp.path());
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(other);
        });
        lock_dir(tmp.path()).expect("the lock, once the other holder lets go");
        release.join().expect("release thread");
    }
}
