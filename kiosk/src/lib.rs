//! The Blisko kiosk: the offline store, the core actions, sync with the central server,
//! the command line and the touch app.

pub mod app;
pub mod cli;
pub mod config;
pub mod error;
pub mod key;
pub mod kiosk;
pub mod speech;
pub mod store;
pub mod sync;

pub use error::KioskError;
pub use kiosk::Kiosk;
