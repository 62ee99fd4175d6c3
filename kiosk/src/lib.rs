//! The Blisko kiosk: the offline store, the core actions, and the command line.

pub mod cli;
pub mod error;
pub mod kiosk;
pub mod store;

pub use error::KioskError;
pub use kiosk::Kiosk;
