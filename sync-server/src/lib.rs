//! The Blisko central server: the sync endpoint for kiosks, the central store, and the
//! administration commands.

pub mod backup;
pub mod central;
pub mod cli;
pub mod config;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod notices;
pub mod office;
pub mod read_rounds;
pub mod request_log;
pub mod store;
pub mod sync_queue;
pub mod tls;
