//! The typed document API end to end: what goes in comes back out, through merges between
//! replicas, full saves and incremental chunks.

use std::collections::BTreeMap;

use blisko_shared::crypto::PersonKey;
use blisko_shared::demo;
use blisko_shared::docs::{
    CatalogDoc, CatalogEdit, Doc, DocError, DocKey, IntakeDoc, PEOPLE_PER_DOC, PeopleDoc,
    RosterDoc, RosterEdit,
};
use blisko_shared::hlc::Hlc;
use blisko_shared::ids::{
    BranchId, ClassId, KioskId, PersonId, RegistrationId, RequestId, ServiceId, SessionId, StaffId,
};
use blisko_shared::model::{
    ApplicantRole, AttendanceMark, AttendanceStatus, Catalog, Consent, ConsentKind, IntakeRequest,
    Person, Registration, RequestStatus, StaffRole, StaffUser, StatusChange,
};

type TestResult = Result<(), DocError>;

/// A stamp `ms` milliseconds into a fixed day, issued by `node`.
fn at(ms: u64, node: KioskId) -> Hlc {
    Hlc::new(1_795_000_000_000 + ms, 0, node)
}

fn registration(class_id: ClassId, kiosk_id: KioskId, ms: u64) -> Registration {
    Registration {
        id: RegistrationId::new(),
        class_id,
        person_id: PersonId::new(),
        kiosk_id,
        created: at(ms, kiosk_id),
        cancelled: None,
        grants: BTreeMap::new(),
    }
}

fn register(roster: &mut RosterDoc, r: &Registration) -> TestResult {
    roster.apply(&[RosterEdit::Register(r.clone())])
}

fn mark(
    session_id: SessionId,
    registration_id: RegistrationId,
    status: AttendanceStatus,
    at: Hlc,
) -> RosterEdit {
    RosterEdit::Mark(AttendanceMark {
        session_id,
        registration_id,
        status,
        by: StaffId::new(),
        at,
    })
}

/// Both replicas take in everything the other holds.
fn merge_both_ways(a: &mut RosterDoc, b: &mut RosterDoc, kiosk_a: KioskId, kiosk_b: KioskId) {
    a.doc_mut()
        .merge(&mut b.doc().fork_as(kiosk_b))
        .expect("merge b into a");
    b.doc_mut()
        .merge(&mut a.doc().fork_as(kiosk_a))
        .expect("merge a into b");
}

fn by_id<T, K: Ord>(mut items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    items.sort_by_key(key);
    items
}

/// The catalog with every vector in id order, as the document reads it back.
fn sorted(c: Catalog) -> Catalog {
    Catalog {
        classes: by_id(c.classes, |x| x.id),
        sessions: by_id(c.sessions, |x| x.id),
        services: by_id(c.services, |x| x.id),
        staff: by_id(c.staff, |x| x.id),
        ..c
    }
}

fn demo_catalogs(kiosk: KioskId) -> Vec<Catalog> {
    let from = jiff::civil::date(2026, 11, 23);
    let mut catalogs = demo::catalogs(from, 2, Some((kiosk, BranchId::derived("MAL"))));
    for catalog in &mut catalogs {
        catalog.staff.push(StaffUser {
            id: StaffId::new(),
            name: format!("Instruktor {}", catalog.branch.code),
            role: StaffRole::Instructor,
            pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        });
        let class = catalog
            .classes
            .first_mut()
            .expect("every branch has a class");
        class.registration_opens = Some("2026-09-01".to_owned());
        class.registration_closes = Some("2026-09-30".to_owned());
    }
    catalogs
}

#[test]
fn catalog_reads_back_what_was_created_and_survives_save_and_load() -> TestResult {
    let kiosk = KioskId::new();
    let catalogs = demo_catalogs(kiosk);
    assert_eq!(catalogs.len(), 4);
    for input in catalogs {
        let mut doc = CatalogDoc::create(&input, kiosk)?;
        assert_eq!(doc.branch_id(), input.branch.id);
        let expected = sorted(input.clone());
        assert_eq!(doc.read()?, expected);

        // Close the registration window again: the field must disappear, not linger.
        let mut class = input.classes[0].clone();
        class.registration_closes = None;
        doc.apply(&[CatalogEdit::Class(class.clone())])?;
        let read = doc.read()?;
        let read_class = read
            .class(class.id)
            .expect("the edited class is still there");
        assert_eq!(read_class.registration_closes, None);
        assert_eq!(read_class.registration_opens.as_deref(), Some("2026-09-01"));
        let mut expected = input.clone();
        expected.classes[0] = class;
        let expected = sorted(expected);
        assert_eq!(read, expected);

        let key = DocKey::Catalog(input.branch.id);
        let bytes = doc.doc_mut().save();
        let loaded = CatalogDoc::from_doc(Doc::load(key, kiosk, &bytes, [])?)?;
        assert_eq!(loaded.doc().heads(), doc.doc().heads());
        assert_eq!(loaded.read()?, expected);
    }
    Ok(())
}

#[test]
fn only_the_home_branch_catalog_carries_the_standalone_allotments() -> TestResult {
    let kiosk = KioskId::new();
    for input in demo_catalogs(kiosk) {
        let read = CatalogDoc::create(&input, kiosk)?.read()?;
        let home = input.branch.id == BranchId::derived("MAL");
        assert_eq!(!read.allotments.is_empty(), home, "{}", input.branch.code);
        for class in &read.classes {
            let seats = read.allotments_of(class.id).get(&kiosk).copied();
            assert_eq!(seats, home.then_some(class.capacity));
        }
    }
    Ok(())
}

#[test]
fn roster_reads_back_registrations_grants_and_cancellations() -> TestResult {
    let class = ClassId::new();
    let (kiosk, other) = (KioskId::new(), KioskId::new());
    let mut roster = RosterDoc::create(class, kiosk)?;
    assert_eq!(roster.class_id(), class);

    let mut confirmed = registration(class, kiosk, 10);
    confirmed.grants.insert(kiosk, at(10, kiosk));
    let mut waiting = registration(class, kiosk, 20);
    let mut cancelled = registration(class, kiosk, 30);
    roster.apply(&[
        RosterEdit::Register(confirmed.clone()),
        RosterEdit::Register(waiting.clone()),
        RosterEdit::Register(cancelled.clone()),
    ])?;
    roster.apply(&[RosterEdit::Cancel {
        registration: cancelled.id,
        at: at(40, kiosk),
    }])?;
    cancelled.cancelled = Some(at(40, kiosk));

    // The office grants a seat from the central pool on its own replica.
    let mut office = RosterDoc::from_doc(roster.doc().fork_as(other))?;
    office.apply(&[RosterEdit::Grant {
        registration: waiting.id,
        authority: KioskId::CENTRAL,
        at: at(50, other),
    }])?;
    waiting.grants.insert(KioskId::CENTRAL, at(50, other));
    roster.doc_mut().merge(&mut office.doc().fork_as(other))?;

    let expected = by_id(vec![confirmed, waiting.clone(), cancelled], |r| r.id);
    assert_eq!(roster.registrations()?, expected);
    assert_eq!(office.registrations()?, expected);
    assert_eq!(roster.registration(waiting.id)?, Some(waiting));
    assert_eq!(roster.registration(RegistrationId::new())?, None);
    Ok(())
}

#[test]
fn a_people_document_is_not_a_roster() -> TestResult {
    let kiosk = KioskId::new();
    let people = PeopleDoc::create(kiosk, 0, kiosk)?;
    let err = RosterDoc::from_doc(people.doc().clone())
        .expect_err("a people document must not open as a roster");
    assert!(
        matches!(
            &err,
            DocError::WrongKind { expected: "roster", found, .. } if found == "people"
        ),
        "{err}"
    );
    Ok(())
}

#[test]
fn cancelling_an_unknown_registration_fails_and_changes_nothing() -> TestResult {
    let class = ClassId::new();
    let kiosk = KioskId::new();
    let mut roster = RosterDoc::create(class, kiosk)?;
    let existing = registration(class, kiosk, 10);
    register(&mut roster, &existing)?;
    roster.doc_mut().save();
    let heads = roster.doc().heads();
    let changes = roster.doc().change_count();

    // The registration in the same action must be rolled back with the failed cancel.
    let unknown = RegistrationId::new();
    let err = roster
        .apply(&[
            RosterEdit::Register(registration(class, kiosk, 20)),
            RosterEdit::Cancel {
                registration: unknown,
                at: at(30, kiosk),
            },
        ])
        .expect_err("cancelling an unknown registration must fail");
    assert!(
        matches!(
            &err,
            DocError::NotFound { what: "registration", id, .. } if *id == unknown.to_string()
        ),
        "{err}"
    );
    assert_eq!(roster.doc().heads(), heads);
    assert_eq!(roster.doc().change_count(), changes);
    assert_eq!(roster.registrations()?, vec![existing]);
    assert!(roster.doc_mut().take_unsaved().is_none());

    // The document is still usable afterwards.
    roster
        .apply(&[RosterEdit::Cancel {
            registration: RegistrationId::new(),
            at: at(40, kiosk),
        }])
        .expect_err("still not found");
    let later = registration(class, kiosk, 50);
    register(&mut roster, &later)?;
    assert_eq!(roster.registrations()?.len(), 2);
    Ok(())
}

#[test]
fn rosters_created_offline_on_two_kiosks_merge_into_one() -> TestResult {
    let class = ClassId::new();
    let (kiosk_a, kiosk_b) = (KioskId::new(), KioskId::new());
    let mut a = RosterDoc::create(class, kiosk_a)?;
    let mut b = RosterDoc::create(class, kiosk_b)?;
    let from_a = registration(class, kiosk_a, 10);
    let from_b = registration(class, kiosk_b, 10);
    register(&mut a, &from_a)?;
    register(&mut b, &from_b)?;
    assert_ne!(a.doc().heads(), b.doc().heads());

    merge_both_ways(&mut a, &mut b, kiosk_a, kiosk_b);

    let expected = by_id(vec![from_a, from_b], |r| r.id);
    assert_eq!(a.registrations()?, expected);
    assert_eq!(b.registrations()?, expected);
    assert_eq!(a.doc().heads(), b.doc().heads());
    // Genesis, one registration on each side: three changes, the genesis shared.
    assert_eq!(a.doc().change_count(), 3);
    Ok(())
}

/// A roster with one registration on kiosk A and a replica of it on kiosk B.
fn two_replicas_of_one_registration() -> (RosterDoc, RosterDoc, KioskId, KioskId, RegistrationId) {
    let class = ClassId::new();
    let (kiosk_a, kiosk_b) = (KioskId::new(), KioskId::new());
    let mut a = RosterDoc::create(class, kiosk_a).expect("create roster");
    let r = registration(class, kiosk_a, 10);
    register(&mut a, &r).expect("register");
    let b = RosterDoc::from_doc(a.doc().fork_as(kiosk_b)).expect("fork roster");
    (a, b, kiosk_a, kiosk_b, r.id)
}

#[test]
fn different_concurrent_attendance_marks_conflict_until_marked_again() -> TestResult {
    let (mut a, mut b, kiosk_a, kiosk_b, reg) = two_replicas_of_one_registration();
    let session = SessionId::new();
    a.apply(&[mark(
        session,
        reg,
        AttendanceStatus::Present,
        at(100, kiosk_a),
    )])?;
    b.apply(&[mark(
        session,
        reg,
        AttendanceStatus::Absent,
        at(101, kiosk_b),
    )])?;
    merge_both_ways(&mut a, &mut b, kiosk_a, kiosk_b);

    for replica in [&a, &b] {
        let attendance = replica.attendance()?;
        assert_eq!(attendance.len(), 1);
        let only = &attendance[0];
        assert_eq!((only.session_id, only.registration_id), (session, reg));
        let statuses: Vec<_> = only.marks.iter().map(|m| m.status).collect();
        assert_eq!(
            statuses,
            [AttendanceStatus::Present, AttendanceStatus::Absent],
            "marks in stamp order"
        );
        assert!(only.is_conflict());
    }

    // Someone who saw both marks settles it.
    a.apply(&[mark(
        session,
        reg,
        AttendanceStatus::Excused,
        at(200, kiosk_a),
    )])?;
    merge_both_ways(&mut a, &mut b, kiosk_a, kiosk_b);
    for replica in [&a, &b] {
        let attendance = replica.attendance()?;
        assert_eq!(attendance.len(), 1);
        assert_eq!(attendance[0].marks.len(), 1);
        assert_eq!(attendance[0].marks[0].status, AttendanceStatus::Excused);
        assert_eq!(attendance[0].marks[0].at, at(200, kiosk_a));
        assert!(!attendance[0].is_conflict());
    }
    Ok(())
}

#[test]
fn equal_concurrent_attendance_marks_are_not_a_conflict() -> TestResult {
    let (mut a, mut b, kiosk_a, kiosk_b, reg) = two_replicas_of_one_registration();
    let session = SessionId::new();
    a.apply(&[mark(
        session,
        reg,
        AttendanceStatus::Present,
        at(100, kiosk_a),
    )])?;
    b.apply(&[mark(
        session,
        reg,
        AttendanceStatus::Present,
        at(101, kiosk_b),
    )])?;
    merge_both_ways(&mut a, &mut b, kiosk_a, kiosk_b);

    let attendance = a.attendance()?;
    assert_eq!(attendance, b.attendance()?);
    assert_eq!(attendance.len(), 1);
    assert_eq!(attendance[0].marks.len(), 2, "both marks are kept");
    assert!(!attendance[0].is_conflict());
    Ok(())
}

fn person() -> Person {
    let kiosk = KioskId::new();
    Person {
        id: PersonId::new(),
        given_name: "Zażółć".to_owned(),
        family_name: "Gęślą Jaźń".to_owned(),
        birth_year: 1948,
        phone: Some("+48 601 234 567".to_owned()),
        resident_code: "ŁĄKA-7Ś".to_owned(),
        home_branch: BranchId::derived("SI"),
        // In key order, as the document reads them back.
        consents: vec![
            Consent {
                kind: ConsentKind::InformationClause,
                text_version: "klauzula-informacyjna-2026-01".to_owned(),
                at: at(1, kiosk),
            },
            Consent {
                kind: ConsentKind::SmsReminders,
                text_version: "zgoda-sms-2026-01".to_owned(),
                at: at(2, kiosk),
            },
        ],
        created: at(0, kiosk),
    }
}

#[test]
fn person_reads_back_with_polish_letters_and_loses_a_removed_phone() -> TestResult {
    let kiosk = KioskId::new();
    let mut input = person();
    let secret = PersonKey::generate();
    let key = DocKey::People(kiosk, 3);
    let mut doc = PeopleDoc::create(kiosk, 3, kiosk)?;
    assert_eq!(doc.doc().key(), key);
    assert_eq!(doc.volume(), 3);
    doc.put(&input, &secret)?;
    assert_eq!(doc.person(input.id, Some(&secret))?, Some(input.clone()));

    input.phone = None;
    doc.put(&input, &secret)?;
    let read = doc
        .person(input.id, Some(&secret))?
        .expect("the person is there");
    assert_eq!(read.phone, None);
    assert_eq!(read, input);

    let bytes = doc.doc_mut().save();
    let loaded = PeopleDoc::from_doc(Doc::load(key, kiosk, &bytes, [])?)?;
    let keys = |id| (id == input.id).then(|| secret.clone());
    assert_eq!(loaded.persons_with(keys)?, vec![input.clone()]);
    assert_eq!(loaded.person(PersonId::new(), Some(&secret))?, None);
    assert_eq!(loaded.owner(), kiosk);
    Ok(())
}

/// Personal fields are in the document only sealed: not in its bytes, blank without the
/// key, unreadable with another key, and after erasure gone from the current state.
#[test]
fn personal_fields_are_sealed_with_the_persons_key() -> TestResult {
    let kiosk = KioskId::new();
    let input = person();
    let secret = PersonKey::generate();
    let mut doc = PeopleDoc::create(kiosk, 0, kiosk)?;
    doc.put(&input, &secret)?;
    let bytes = doc.doc_mut().save();
    for needle in ["Gęślą", "601 234", "Zażółć"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} is in the saved document"
        );
    }
    let blank = doc.person(input.id, None)?.expect("the person is there");
    assert!(blank.is_sealed());
    assert_eq!(blank.resident_code, input.resident_code);
    assert_eq!((blank.birth_year, blank.phone), (0, None));
    assert!(
        doc.person(input.id, Some(&PersonKey::generate())).is_err(),
        "another key does not open it"
    );

    doc.erase(input.id)?;
    assert_eq!(doc.erased()?, vec![input.id]);
    let keys = |_| Some(secret.clone());
    assert_eq!(
        doc.persons_and_erased(keys)?,
        (doc.persons_with(keys)?, vec![input.id])
    );
    let erased = doc
        .person(input.id, Some(&secret))?
        .expect("still countable");
    assert!(erased.is_sealed());
    Ok(())
}

#[test]
fn many_people_share_one_document_and_merge_with_the_office() -> TestResult {
    let kiosk = KioskId::new();
    let mut people = Vec::new();
    let secret = PersonKey::generate();
    let mut doc = PeopleDoc::create(kiosk, 0, kiosk)?;
    for i in 0..20 {
        let mut p = person();
        p.id = PersonId::new();
        p.resident_code = format!("CODE-{i:04}");
        doc.put(&p, &secret)?;
        people.push(p);
    }
    // The office corrects one person while the kiosk adds another.
    let mut office = PeopleDoc::from_doc(doc.doc().fork_as(KioskId::CENTRAL))?;
    let mut corrected = people[3].clone();
    corrected.family_name = "Nowak".to_owned();
    office.put(&corrected, &secret)?;
    let mut late = person();
    late.id = PersonId::new();
    doc.put(&late, &secret)?;
    doc.doc_mut().merge(office.doc_mut())?;
    people[3] = corrected;
    people.push(late);
    people.sort_by_key(|p| p.id.to_string());
    assert_eq!(doc.persons_with(|_| Some(secret.clone()))?, people);
    assert!(!doc.is_full()?);
    Ok(())
}

/// The office withdraws a resident's SMS consent in its copy while the kiosk adds
/// someone else: after the merge the consent is gone, the information clause and the
/// details stay, and withdrawing again changes nothing.
#[test]
fn the_office_withdraws_an_sms_consent() -> TestResult {
    let kiosk = KioskId::new();
    let secret = PersonKey::generate();
    let mut doc = PeopleDoc::create(kiosk, 0, kiosk)?;
    let resident = person();
    doc.put(&resident, &secret)?;
    let mut office = PeopleDoc::from_doc(doc.doc().fork_as(KioskId::CENTRAL))?;
    assert!(office.withdraw_consent(resident.id, ConsentKind::SmsReminders)?);
    let heads = office.doc().heads();
    assert!(!office.withdraw_consent(resident.id, ConsentKind::SmsReminders)?);
    assert_eq!(
        office.doc().heads(),
        heads,
        "a second withdrawal is no change"
    );
    assert!(!office.withdraw_consent(PersonId::new(), ConsentKind::SmsReminders)?);

    let mut other = person();
    other.id = PersonId::new();
    doc.put(&other, &secret)?;
    doc.doc_mut().merge(office.doc_mut())?;
    let read = doc
        .person(resident.id, Some(&secret))?
        .expect("the person is there");
    let mut expected = resident.clone();
    expected
        .consents
        .retain(|c| c.kind != ConsentKind::SmsReminders);
    assert_eq!(read, expected);
    let untouched = doc.person(other.id, Some(&secret))?.expect("added");
    assert_eq!(untouched.consents, other.consents);
    Ok(())
}

#[test]
fn a_people_document_is_full_at_its_bound() -> TestResult {
    let kiosk = KioskId::new();
    let secret = PersonKey::generate();
    let mut doc = PeopleDoc::create(kiosk, 0, kiosk)?;
    for i in 0..PEOPLE_PER_DOC {
        let mut p = person();
        p.id = PersonId::new();
        p.resident_code = format!("CODE-{i:04}");
        doc.put(&p, &secret)?;
        assert_eq!(
            doc.is_full()?,
            i + 1 == PEOPLE_PER_DOC,
            "after {} persons",
            i + 1
        );
    }
    Ok(())
}

fn intake_request(kiosk: KioskId) -> IntakeRequest {
    IntakeRequest {
        id: RequestId::new(),
        reference: "MAL/3/0042".to_owned(),
        person_id: PersonId::new(),
        branch_id: BranchId::derived("MAL"),
        kiosk_id: kiosk,
        service_id: ServiceId::derived("asystent-osobisty"),
        applicant_role: ApplicantRole::DeFactoCarer,
        description: "Pomoc w dojazdach do przychodni dla mamy.".to_owned(),
        pesel: Some("44051401359".to_owned()),
        declaration_version: "oswiadczenie-2026-01".to_owned(),
        consent_version: "klauzula-informacyjna-2026-01".to_owned(),
        history: vec![StatusChange {
            status: RequestStatus::Submitted,
            by: kiosk.to_string(),
            at: at(10, kiosk),
            decision_reference: None,
            appeal_info: None,
        }],
        ipus_due: None,
    }
}

#[test]
fn intake_merges_the_office_decision_into_the_kiosk_history() -> TestResult {
    let kiosk = KioskId::new();
    let mut expected = intake_request(kiosk);
    let secret = PersonKey::generate();
    let mut doc = IntakeDoc::create(&expected, &secret, kiosk)?;
    let k = Some(&secret);
    assert_eq!(doc.read(k)?, expected);
    assert_eq!(doc.read(k)?.status(), RequestStatus::Submitted);
    let blank = doc.read(None)?;
    assert_eq!((blank.description.as_str(), blank.pesel), ("", None));
    let bytes = doc.doc_mut().save();
    assert!(!bytes.windows(11).any(|w| w == b"44051401359"));

    let staff = StaffId::new().to_string();
    let mut office = IntakeDoc::from_doc(doc.doc().fork_as(KioskId::CENTRAL))?;
    let steps = [
        StatusChange {
            status: RequestStatus::InReview,
            by: staff.clone(),
            at: at(1_000, KioskId::CENTRAL),
            decision_reference: None,
            appeal_info: None,
        },
        StatusChange {
            status: RequestStatus::Rejected,
            by: staff,
            at: at(2_000, KioskId::CENTRAL),
            decision_reference: Some("CUS.4012.17.2026".to_owned()),
            appeal_info: Some(
                "Odwołanie do SKO w Warszawie za pośrednictwem CUS, w terminie 14 dni.".to_owned(),
            ),
        },
    ];
    for step in &steps {
        office.add_status(step)?;
    }
    expected.history.extend(steps);

    doc.doc_mut()
        .merge(&mut office.doc().fork_as(KioskId::CENTRAL))?;
    let read = doc.read(k)?;
    let statuses: Vec<_> = read.history.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            RequestStatus::Submitted,
            RequestStatus::InReview,
            RequestStatus::Rejected
        ]
    );
    assert_eq!(read.status(), RequestStatus::Rejected);
    assert_eq!(read, expected);
    assert_eq!(office.read(k)?, expected);

    office.erase_personal()?;
    let erased = office.read(k)?;
    assert_eq!(
        (erased.description.as_str(), erased.pesel.as_deref()),
        ("", None)
    );
    assert_eq!(erased.status(), RequestStatus::Rejected);
    Ok(())
}

#[test]
fn the_office_message_to_the_resident_is_sealed_merges_and_is_optional() -> TestResult {
    let kiosk = KioskId::new();
    let request = intake_request(kiosk);
    let secret = PersonKey::generate();
    let doc = IntakeDoc::create(&request, &secret, kiosk)?;
    // A document written before messages existed reads as having none.
    assert_eq!(doc.resident_message(&secret), None);
    assert!(!doc.has_resident_message());
    let mut office = IntakeDoc::from_doc(doc.doc().fork_as(KioskId::CENTRAL))?;
    let message = "Proszę przynieść zaświadczenie lekarskie.";
    office.set_resident_message(Some(message), &secret)?;
    assert!(
        !office
            .doc_mut()
            .save()
            .windows(11)
            .any(|w| w == "zaświadcz".as_bytes()),
        "sealed, not in the clear"
    );
    let mut at_kiosk = IntakeDoc::from_doc(doc.doc().fork_as(kiosk))?;
    at_kiosk
        .doc_mut()
        .merge(&mut office.doc().fork_as(KioskId::CENTRAL))?;
    assert_eq!(at_kiosk.resident_message(&secret).as_deref(), Some(message));
    assert!(at_kiosk.has_resident_message());
    assert_eq!(
        at_kiosk.read(Some(&secret))?,
        request,
        "the rest is unchanged"
    );
    assert_eq!(at_kiosk.resident_message(&PersonKey::generate()), None);
    office.set_resident_message(None, &secret)?;
    assert_eq!(office.resident_message(&secret), None);
    office.set_resident_message(Some(message), &secret)?;
    office.erase_personal()?;
    assert_eq!(
        office.resident_message(&secret),
        None,
        "erased with the rest"
    );
    Ok(())
}

/// A roster saved once, then changed four times with each change stored as a chunk.
struct Stored {
    kiosk: KioskId,
    roster: RosterDoc,
    snapshot: Vec<u8>,
    chunks: Vec<Vec<u8>>,
}

fn stored_roster() -> Stored {
    let class = ClassId::new();
    let kiosk = KioskId::new();
    let mut roster = RosterDoc::create(class, kiosk).expect("create roster");
    let snapshot = roster.doc_mut().save();
    let first = registration(class, kiosk, 10);
    let second = registration(class, kiosk, 20);
    let actions = [
        vec![RosterEdit::Register(first.clone())],
        vec![RosterEdit::Register(second.clone())],
        vec![RosterEdit::Grant {
            registration: first.id,
            authority: kiosk,
            at: at(30, kiosk),
        }],
        vec![RosterEdit::Cancel {
            registration: second.id,
            at: at(40, kiosk),
        }],
    ];
    let mut chunks = Vec::new();
    for edits in actions {
        roster.apply(&edits).expect("apply");
        chunks.push(
            roster
                .doc_mut()
                .take_unsaved()
                .expect("one chunk per change"),
        );
    }
    Stored {
        kiosk,
        roster,
        snapshot,
        chunks,
    }
}

impl Stored {
    fn load<'a>(&self, chunks: impl IntoIterator<Item = &'a [u8]>) -> Result<RosterDoc, DocError> {
        let key = DocKey::Roster(self.roster.class_id());
        RosterDoc::from_doc(Doc::load(key, self.kiosk, &self.snapshot, chunks)?)
    }
}

#[test]
fn snapshot_plus_chunks_reproduce_the_roster() -> TestResult {
    let stored = stored_roster();
    let mut expected = stored.roster.clone();
    assert!(expected.doc_mut().take_unsaved().is_none());
    let expected_regs = expected.registrations()?;
    assert_eq!(expected_regs.len(), 2);
    assert!(expected_regs.iter().any(|r| r.cancelled.is_some()));
    assert!(expected_regs.iter().any(|r| !r.grants.is_empty()));

    let loaded = stored.load(stored.chunks.iter().map(|c| c.as_slice()))?;
    assert_eq!(loaded.doc().heads(), expected.doc().heads());
    assert_eq!(loaded.registrations()?, expected_regs);

    // Without the chunks only the snapshot's empty roster is there.
    assert!(stored.load([])?.registrations()?.is_empty());
    Ok(())
}

#[test]
fn chunks_load_in_any_order() -> TestResult {
    let stored = stored_roster();
    let expected_regs = stored.roster.registrations()?;
    let n = stored.chunks.len();
    let orders: [Vec<usize>; 3] = [(0..n).rev().collect(), vec![2, 0, 3, 1], vec![1, 3, 0, 2]];
    for order in orders {
        let loaded = stored.load(order.iter().map(|&i| stored.chunks[i].as_slice()))?;
        assert_eq!(
            loaded.doc().heads(),
            stored.roster.doc().heads(),
            "{order:?}"
        );
        assert_eq!(loaded.registrations()?, expected_regs, "{order:?}");
    }
    Ok(())
}

#[test]
fn a_truncated_chunk_is_an_error_not_a_panic() {
    let stored = stored_roster();
    for cut in [1, stored.chunks[1].len() / 2, stored.chunks[1].len() - 1] {
        let truncated = &stored.chunks[1][..cut];
        let chunks = [stored.chunks[0].as_slice(), truncated];
        let result = stored.load(chunks);
        assert!(
            result.is_err(),
            "a chunk cut to {cut} of {} bytes loaded silently",
            stored.chunks[1].len()
        );
    }
    let snapshot = &stored.snapshot[..stored.snapshot.len() / 2];
    let key = DocKey::Roster(stored.roster.class_id());
    assert!(Doc::load(key, stored.kiosk, snapshot, []).is_err());
}

#[test]
fn a_missing_chunk_is_refused_rather_than_showing_an_old_state() {
    let stored = stored_roster();
    assert!(stored.chunks.len() >= 3);
    let without_first = stored.chunks[1..].iter().map(|c| c.as_slice());
    match stored.load(without_first) {
        Err(DocError::Incomplete { missing, .. }) => assert!(missing >= 1),
        Err(other) => panic!("expected an incomplete document, got {other}"),
        Ok(_) => panic!("a roster with a lost change loaded as if complete"),
    }
}
