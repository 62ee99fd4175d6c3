//! Blisko cross-crate tests and benchmarks: helpers shared by the process tests in
//! `tests/` and the benchmark binaries in `src/bin/`.

pub mod bins;
pub mod browser;
pub mod cpu_limit;
pub mod harness;
pub mod kiosk_cli;
pub mod load;
pub mod nginx;
pub mod office;
pub mod pg;
pub mod proxy;
pub mod smsapi;
pub mod ui;
pub mod window;
pub mod wire;
pub mod workload;

pub use bins::{kiosk_bin, server_bin};
pub use pg::{Backend, backend_or_first, backends, for_each_backend};
