//! Seed inputs made from real documents and messages, so that fuzzing starts from what a
//! kiosk really sends instead of from random bytes (which rarely get past the first
//! check). `cargo run -p blisko-fuzz --example seed_corpus` writes them to `fuzz/corpus/`.

use std::collections::BTreeMap;

use blisko_shared::docs::{Doc, IntakeDoc, PeopleDoc, RosterDoc, RosterEdit};
use blisko_shared::hlc::Hlc;
use blisko_shared::ids::{PersonId, RegistrationId, ServiceId, SessionId, StaffId};
use blisko_shared::model::{
    ApplicantRole, AttendanceMark, AttendanceStatus, Consent, ConsentKind, IntakeRequest, Person,
    Registration, RequestStatus, StatusChange,
};
use blisko_shared::sync::{
    DocChanges, DocHave, DocHeads, EnrollRequest, KeyList, PersonList, SmsWithdrawal, SyncRequest,
    SyncResponse, encode, to_heads,
};

use crate::{doc_keys, person_key, subjects};

/// A named seed for one target.
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

fn at(wall_ms: u64) -> Hlc {
    Hlc::new(wall_ms, 0, subjects().kiosk)
}

fn registration(n: &str, wall_ms: u64) -> Registration {
    let s = subjects();
    Registration {
        id: RegistrationId::derived(n),
        class_id: s.class,
        person_id: PersonId::derived(n),
        kiosk_id: s.kiosk,
        created: at(wall_ms),
        cancelled: None,
        grants: BTreeMap::new(),
    }
}

fn roster() -> RosterDoc {
    let s = subjects();
    let first = registration("first", 1_000);
    let second = registration("second", 2_000);
    let mut roster = RosterDoc::create(s.class, s.kiosk).expect("a roster document");
    roster
        .apply(&[
            RosterEdit::Register(first.clone()),
            RosterEdit::Grant {
                registration: first.id,
                authority: s.kiosk,
                at: at(1_001),
            },
            RosterEdit::Register(second.clone()),
            RosterEdit::Cancel {
                registration: second.id,
                at: at(3_000),
            },
            RosterEdit::Mark(AttendanceMark {
                session_id: SessionId::derived("fuzz"),
                registration_id: first.id,
                status: AttendanceStatus::Present,
                by: StaffId::derived("fuzz"),
                at: at(4_000),
            }),
        ])
        .expect("roster edits");
    roster
}

fn people() -> PeopleDoc {
    let s = subjects();
    let mut people = PeopleDoc::create(s.kiosk, 0, s.kiosk).expect("a people document");
    for (n, given, phone) in [
        ("first", "Zofia", Some("600100200")),
        ("second", "Łucja", None),
    ] {
        people
            .put(
                &Person {
                    id: PersonId::derived(n),
                    given_name: given.to_owned(),
                    family_name: "Wiśniewska".to_owned(),
                    birth_year: 1948,
                    phone: phone.map(str::to_owned),
                    resident_code: "K7QX-2M".to_owned(),
                    home_branch: s.branch,
                    consents: vec![Consent {
                        kind: ConsentKind::InformationClause,
                        text_version: "klauzula-informacyjna-2026-01".to_owned(),
                        at: at(1_000),
                    }],
                    created: at(1_000),
                },
                &person_key(),
            )
            .expect("a person");
    }
    people
}

fn intake() -> IntakeDoc {
    let s = subjects();
    let submitted = StatusChange {
        status: RequestStatus::Submitted,
        by: s.kiosk.to_string(),
        at: at(5_000),
        decision_reference: None,
        appeal_info: None,
    };
    let request = IntakeRequest {
        id: s.request,
        reference: "MAL-1-0001".to_owned(),
        person_id: PersonId::derived("first"),
        branch_id: s.branch,
        kiosk_id: s.kiosk,
        service_id: ServiceId::derived("podolog"),
        applicant_role: ApplicantRole::SelfApplicant,
        description: "Proszę o wizytę u podologa, trudno mi chodzić.".to_owned(),
        pesel: Some("48010112345".to_owned()),
        declaration_version: "oswiadczenie-2026-01".to_owned(),
        consent_version: "klauzula-informacyjna-2026-01".to_owned(),
        history: vec![submitted],
        ipus_due: None,
    };
    let mut intake =
        IntakeDoc::create(&request, &person_key(), s.kiosk).expect("an intake document");
    intake
        .add_status(&StatusChange {
            status: RequestStatus::InReview,
            by: "office".to_owned(),
            at: at(6_000),
            decision_reference: None,
            appeal_info: None,
        })
        .expect("a status change");
    intake
}

/// Everything a document holds, as a kiosk would push it to a server that has nothing.
fn push_of(doc: &Doc) -> DocChanges {
    DocChanges {
        doc: doc.key(),
        changes: doc.changes_since(&[]).expect("changes of a document"),
        heads: to_heads(&doc.heads()),
        seal: None,
    }
}

/// The body of a message before compression: what `sync_message` compresses itself.
fn cbor_of<T: serde::Serialize>(message: &T) -> Vec<u8> {
    let body = encode(message).expect("a message encodes");
    zstd::bulk::decompress(&body, blisko_shared::sync::MAX_DECOMPRESSED_BYTES)
        .expect("an encoded message decompresses")
}

/// Every seed, for both targets.
pub fn all() -> Vec<Seed> {
    let docs = [
        roster().doc().clone(),
        people().doc().clone(),
        intake().doc().clone(),
    ];
    let mut seeds = Vec::new();
    let names = ["roster", "people", "intake"];
    // The first byte picks the document, in the order of `doc_keys`.
    for ((which, doc), name) in (0u8..).zip(&docs).zip(names) {
        assert_eq!(doc.key(), doc_keys()[usize::from(which)]);
        let mut bytes = vec![which];
        bytes.extend(doc.changes_since(&[]).expect("changes"));
        seeds.push(Seed {
            target: "kiosk_changes",
            name: name.to_owned(),
            bytes,
        });
    }

    let pushes: Vec<DocChanges> = docs.iter().map(push_of).collect();
    let request = SyncRequest {
        cursor: 7,
        push: pushes.clone(),
        pull: vec![DocHave {
            doc: docs[0].key(),
            have: to_heads(&docs[0].heads()),
        }],
        app_version: "0.1.0".to_owned(),
        keys: KeyList(vec![(PersonId::derived("first"), person_key())]),
        key_cursor: 3,
        want_keys: PersonList(vec![PersonId::derived("fourth")]),
        catalog_heads: None,
        awaiting: Vec::new(),
        shown: Vec::new(),
        sms_withdrawals: vec![SmsWithdrawal {
            person: PersonId::derived("first"),
            at: at(1_763_900_000_500),
        }],
        server_instance: None,
    };
    let idle = SyncRequest {
        cursor: 42,
        keys: KeyList(vec![(PersonId::derived("first"), person_key())]),
        key_cursor: 3,
        ..SyncRequest::new("0.1.0")
    };
    let response = SyncResponse {
        changed: docs
            .iter()
            .map(|d| DocHeads {
                doc: d.key(),
                heads: to_heads(&d.heads()),
            })
            .collect(),
        cursor: 43,
        more: true,
        pulled: pushes,
        deferred: vec![docs[2].key()],
        keys: KeyList(vec![(PersonId::derived("second"), person_key())]),
        erased: PersonList(vec![PersonId::derived("third")]),
        key_cursor: 4,
        server_instance: None,
    };
    let enroll = EnrollRequest {
        code: "7QK2-MX4P".to_owned(),
        app_version: "0.1.0".to_owned(),
    };
    // Both forms: the CBOR (which the target compresses) and the body as sent.
    for (name, cbor, body) in [
        ("request", cbor_of(&request), encode(&request)),
        ("idle", cbor_of(&idle), encode(&idle)),
        ("response", cbor_of(&response), encode(&response)),
        ("enroll", cbor_of(&enroll), encode(&enroll)),
    ] {
        seeds.push(Seed {
            target: "sync_message",
            name: format!("{name}-cbor"),
            bytes: cbor,
        });
        seeds.push(Seed {
            target: "sync_message",
            name: format!("{name}-body"),
            bytes: body.expect("a message encodes"),
        });
    }
    seeds
}
