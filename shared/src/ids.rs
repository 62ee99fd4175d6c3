//! Identifiers generated offline that never collide.
//!
//! Most are UUIDv7 (time-ordered, 74 random bits). What a kiosk creates for residents
//! (persons, registrations, intake requests) is instead made from the kiosk's clock stamp
//! (see [`PersonId::stamped`]): unique because a kiosk never issues the same stamp twice,
//! and cheap on the wire because consecutive ids of one kiosk share most of their bytes,
//! where random bits would cost about ten incompressible bytes each time an id travels.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::hlc::Hlc;

/// Namespace for deterministic ids (demo data, document genesis), so that two
/// machines that build the same demo catalogue agree on every id.
const BLISKO_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_9c2e_0d4a_4e57_9a61_b1c5_a0e2_7d33);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind} id: {reason}")]
pub struct ParseIdError {
    pub kind: &'static str,
    pub reason: String,
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $kind:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh id, unique without any coordination.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// A stable id derived from a name (used for demo data).
            pub fn derived(name: &str) -> Self {
                Self(Uuid::new_v5(&BLISKO_NAMESPACE, format!("{}/{}", $kind, name).as_bytes()))
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self).map_err(|e| ParseIdError {
                    kind: $kind,
                    reason: e.to_string(),
                })
            }
        }
    };
}

/// What a stamped id names: part of the id, so that a person and a registration made with
/// the same stamp still differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum StampedKind {
    Person = 1,
    Registration = 2,
    Request = 3,
}

/// A UUIDv8 (RFC 9562, custom layout) from a kiosk's clock stamp:
/// `wall ms (48 bits) | version 8 | kind (4) | node tag (38) | counter (32)`, with the
/// variant bits inside the node tag. The node tag is 40 random bits of the issuing
/// kiosk's id (UUIDv7), so two kiosks share one with odds of about 2⁻³⁸ a pair, and even
/// then collide only on the same stamp. A kiosk issues each stamp once (its clock is
/// saved with every record it stamps), so its ids are unique.
fn stamped_uuid(at: &Hlc, kind: StampedKind) -> Uuid {
    let wall = at.wall_ms.to_be_bytes();
    let node = at.node.0.as_bytes();
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&wall[2..]);
    bytes[6] = kind as u8;
    bytes[7..12].copy_from_slice(&node[11..16]);
    bytes[12..].copy_from_slice(&at.counter.to_be_bytes());
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

macro_rules! stamped_id {
    ($name:ident, $kind:expr) => {
        impl $name {
            /// The id of what a kiosk creates with stamp `at` (see [`stamped_uuid`]).
            pub fn stamped(at: &Hlc) -> Self {
                Self(stamped_uuid(at, $kind))
            }
        }
    };
}

id_type!(BranchId, "branch");
id_type!(ClassId, "class");
id_type!(SessionId, "session");
id_type!(ServiceId, "service");
id_type!(PersonId, "person");
id_type!(RegistrationId, "registration");
id_type!(RequestId, "request");
id_type!(StaffId, "staff");
id_type!(AuditId, "audit");
id_type!(
    /// A kiosk, and also a seat authority: the central office grants seats from the
    /// shared pool under [`KioskId::CENTRAL`].
    KioskId,
    "kiosk"
);

stamped_id!(PersonId, StampedKind::Person);
stamped_id!(RegistrationId, StampedKind::Registration);
stamped_id!(RequestId, StampedKind::Request);

impl KioskId {
    /// The central office, acting as the authority for the shared seat pool.
    pub const CENTRAL: KioskId = KioskId(Uuid::nil());

    pub fn is_central(&self) -> bool {
        self.0.is_nil()
    }
}

/// The stable v5 uuid for a name in Blisko's namespace (document genesis actors).
pub(crate) fn derived_uuid(name: &str) -> Uuid {
    Uuid::new_v5(&BLISKO_NAMESPACE, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_ids_differ_and_round_trip() {
        let a = ClassId::new();
        let b = ClassId::new();
        assert_ne!(a, b);
        assert_eq!(a.to_string().parse::<ClassId>(), Ok(a));
    }

    #[test]
    fn derived_ids_are_stable_and_typed() {
        assert_eq!(ClassId::derived("joga"), ClassId::derived("joga"));
        assert_ne!(ClassId::derived("joga").0, BranchId::derived("joga").0);
    }

    #[test]
    fn stamped_ids_differ_by_stamp_kind_and_kiosk() {
        let kiosk = KioskId::new();
        let at = Hlc::new(1_763_900_000_123, 7, kiosk);
        let person = PersonId::stamped(&at);
        assert_eq!(
            person,
            PersonId::stamped(&at),
            "the same stamp, the same id"
        );
        assert_eq!(person.0.get_version_num(), 8);
        assert_eq!(person.0.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(person.0, RegistrationId::stamped(&at).0);
        assert_ne!(person.0, RequestId::stamped(&at).0);
        let next = [
            Hlc::new(at.wall_ms, at.counter + 1, kiosk),
            Hlc::new(at.wall_ms + 1, at.counter, kiosk),
            Hlc::new(at.wall_ms, at.counter, KioskId::new()),
        ];
        for other in next {
            assert_ne!(person, PersonId::stamped(&other), "{other}");
        }
        assert_eq!(person.to_string().parse::<PersonId>(), Ok(person));
    }

    #[test]
    fn a_kiosks_stamped_ids_share_most_of_their_text() {
        // Why they exist: consecutive ids compress, random ones do not.
        let kiosk = KioskId::new();
        let ids: Vec<String> = (0..500u32)
            .map(|i| PersonId::stamped(&Hlc::new(1_763_900_000_000 + 40 * i as u64, 0, kiosk)))
            .map(|id| id.to_string())
            .collect();
        let random: Vec<String> = (0..500).map(|_| PersonId::new().to_string()).collect();
        let packed = |ids: &[String]| {
            zstd::bulk::compress(ids.concat().as_bytes(), 6)
                .unwrap()
                .len()
        };
        assert!(
            packed(&ids) * 3 < packed(&random),
            "stamped {} vs random {}",
            packed(&ids),
            packed(&random)
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        let err = "not-an-id".parse::<ClassId>().unwrap_err();
        assert_eq!(err.kind, "class");
    }
}
