//! Identifiers generated offline that never collide (UUIDv7: time-ordered, 74 random bits).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    fn garbage_is_a_clear_error() {
        let err = "not-an-id".parse::<ClassId>().unwrap_err();
        assert_eq!(err.kind, "class");
    }
}
