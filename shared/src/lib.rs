//! Blisko's shared core: the domain model, the CRDT documents, the seat rules, and the
//! types both the kiosk and the server use. Pure Rust, no I/O, except the SQLite
//! plumbing behind the `sqlite` feature.

pub mod codes;
pub mod collate;
pub mod config;
pub mod crypto;
pub mod deadline;
pub mod demo;
pub mod docs;
pub mod fold;
pub mod hlc;
pub mod holidays;
pub mod i18n;
pub mod ids;
pub mod model;
pub mod seats;
pub mod sms;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod sync;
pub mod validate;
