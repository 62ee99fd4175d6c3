//! Blisko cross-crate tests and benchmarks: helpers shared by the process tests in
//! `tests/` and the benchmark binaries in `src/bin/`.

pub mod harness;
pub mod proxy;
