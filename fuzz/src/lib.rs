//! The bodies of the fuzz targets, kept in a library so that the committed corpus is
//! replayed by an ordinary test (`tests/corpus.rs`) on every `cargo test`, without
//! libFuzzer.
//!
//! Both targets feed bytes to the code that reads what a kiosk (or anyone on the network)
//! sends: a panic, a hang or an unbounded allocation there is a way to stop the server.

use blisko_shared::crypto::PersonKey;
use blisko_shared::docs::{Doc, DocKey, IntakeDoc, PeopleDoc, RosterDoc, actor_for, untrusted};
use blisko_shared::ids::{BranchId, ClassId, KioskId, RequestId};
use blisko_shared::seats::{self, SeatPolicy};
use blisko_shared::sync::{EnrollRequest, SyncRequest, SyncResponse, decode, encode};

pub mod seeds;

/// A sync body as it arrives over HTTP.
///
/// The bytes are tried twice: as the raw body (zstd framing, size limits) and compressed
/// first, so that the fuzzer's mutations reach the CBOR decoder and the message types
/// behind it. A message that decodes must survive encoding and decoding unchanged: what
/// the server stores and answers is what it understood.
pub fn sync_message(data: &[u8]) {
    let _ = decode::<SyncRequest>(data);
    let Ok(body) = zstd::bulk::compress(data, 1) else {
        return;
    };
    if let Ok(request) = decode::<SyncRequest>(&body) {
        assert_round_trip(&request);
    }
    if let Ok(response) = decode::<SyncResponse>(&body) {
        assert_round_trip(&response);
    }
    if let Ok(enroll) = decode::<EnrollRequest>(&body) {
        assert_round_trip(&enroll);
    }
}

fn assert_round_trip<T>(message: &T)
where
    T: serde::Serialize + for<'de> serde::Deserialize<'de> + PartialEq + std::fmt::Debug,
{
    let encoded = encode(message).expect("a decoded message encodes again");
    let again: T = decode(&encoded).expect("an encoded message decodes");
    assert_eq!(&again, message, "the message changed on a round trip");
}

/// The branch, kiosk, class and request every fuzzed document is about: fixed, so that
/// the corpus (changes on top of each document's deterministic genesis) stays valid
/// from one run to the next.
pub struct Subjects {
    pub branch: BranchId,
    pub kiosk: KioskId,
    pub class: ClassId,
    pub request: RequestId,
}

/// The key every fuzzed person's fields are sealed with: fixed, like the subjects.
pub fn person_key() -> PersonKey {
    PersonKey::from_bytes(&[7; 16]).expect("a 16-byte key")
}

pub fn subjects() -> Subjects {
    Subjects {
        branch: BranchId::derived("fuzz"),
        kiosk: KioskId::derived("fuzz"),
        class: ClassId::derived("fuzz"),
        request: RequestId::derived("fuzz"),
    }
}

/// The documents a kiosk may push, chosen by the first byte of an input.
pub fn doc_keys() -> [DocKey; 3] {
    let s = subjects();
    [
        DocKey::Roster(s.class),
        DocKey::People(s.kiosk, 0),
        DocKey::Intake(s.request),
    ]
}

/// Document changes pushed by a kiosk, handled as the server handles a push: checked for
/// bounds, applied under the rule that only the kiosk's own actor may write, then read through the typed
/// view the server projects from (and, for a roster, seated). The first byte picks the
/// document, the rest are the changes. Errors are the expected answer to most inputs;
/// only a panic (or a sanitizer report) is a finding.
pub fn kiosk_changes(data: &[u8]) {
    let Some((&which, changes)) = data.split_first() else {
        return;
    };
    let keys = doc_keys();
    let key = keys[usize::from(which) % keys.len()];
    let own = actor_for(subjects().kiosk);
    if untrusted::check_changes(changes).is_err() {
        return;
    }
    // The server keeps the content it read only when the whole push was accepted.
    if let Ok(doc) = Doc::from_remote(key, KioskId::CENTRAL, changes, &[], &[], |a| *a == own) {
        read_as_server(doc);
    }
}

fn read_as_server(doc: Doc) {
    match doc.key() {
        DocKey::Roster(_) => {
            let Ok(roster) = RosterDoc::from_doc(doc) else {
                return;
            };
            if let Ok(registrations) = roster.registrations() {
                let s = subjects();
                let policy = SeatPolicy {
                    capacity: 3,
                    waitlist_limit: 2,
                    allotments: [(s.kiosk, 1)].into_iter().collect(),
                    reserved: Default::default(),
                };
                let seated = seats::compute_roster(&policy, &registrations);
                assert!(
                    seated.confirmed() <= registrations.len(),
                    "more confirmed seats than registrations"
                );
            }
            let _ = roster.attendance();
        }
        DocKey::People(..) => {
            if let Ok(people) = PeopleDoc::from_doc(doc) {
                let _ = people.persons_with(|_| Some(person_key()));
            }
        }
        DocKey::Intake(_) => {
            if let Ok(intake) = IntakeDoc::from_doc(doc) {
                let _ = intake.read(Some(&person_key()));
            }
        }
        DocKey::Catalog(_) => {}
    }
}
