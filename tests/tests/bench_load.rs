//! The load generator with its kiosks in two worker processes: every kiosk syncs, the
//! workers' tallies add up in the parent's report, and the numbers a reader compares
//! (offered and achieved syncs, latencies, the server's and the generator's CPU and
//! memory) are there.

use std::process::Command;

use anyhow::{Context, Result, ensure};
use serde_json::Value;

use blisko_tests::bins::SERVER_BIN_ENV;
use blisko_tests::server_bin;

fn number(report: &Value, key: &str) -> Result<f64> {
    report[key]
        .as_f64()
        .with_context(|| format!("{key} in {report}"))
}

#[test]
fn kiosks_in_two_processes_all_sync_and_their_tallies_merge() -> Result<()> {
    let kiosks = 6;
    // Each kiosk's first sync or burst of visitors falls within its first interval, well
    // inside the run however slowly the machine goes: every kiosk syncs at least once.
    let output = Command::new(env!("CARGO_BIN_EXE_bench-load"))
        .args(["--kiosks", &kiosks.to_string(), "--procs", "2"])
        .args(["--seconds", "3", "--interval", "0.5", "--burst-every", "1"])
        .args(["--branches", "2", "--classes-per-branch", "3"])
        .env("BLISKO_SEED", "19")
        .env("BLISKO_LOG", "warn")
        // The binary this test run checked, so the benchmark does not build it again.
        .env(SERVER_BIN_ENV, server_bin())
        .output()
        .context("run bench-load")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(output.status.success(), "bench-load failed: {stderr}");
    let stdout = String::from_utf8(output.stdout)?;
    let lines: Vec<&str> = stdout.lines().collect();
    ensure!(lines.len() == 1, "one JSON line on stdout: {stdout}");
    let report: Value = serde_json::from_str(lines[0])?;

    ensure!(report["procs"] == 2, "{report}");
    ensure!(report["errors"] == 0, "{report}\n{stderr}");
    let syncs = number(&report, "syncs")?;
    ensure!(syncs >= kiosks as f64, "every kiosk synced: {report}");
    // The parent's totals are the workers' added up, and each worker's three kiosks
    // synced.
    let per_process = report["per_process_syncs"]
        .as_array()
        .context("per_process_syncs")?;
    ensure!(per_process.len() == 2, "{report}");
    let mut sum = 0.0;
    for p in per_process {
        let p = p.as_f64().context("a count")?;
        ensure!(p >= 3.0, "each worker's kiosks synced: {report}");
        sum += p;
    }
    ensure!(sum == syncs, "{report}");
    // The window's syncs: no more finished than started, and the timers' first syncs
    // (within half a second of the start) among them.
    let window = number(&report, "window_syncs")?;
    let timer = number(&report, "window_timer_syncs_started")?;
    let write = number(&report, "window_write_syncs_started")?;
    ensure!(window <= timer + write && window <= syncs, "{report}");
    ensure!(timer > 0.0 && window > 0.0, "{report}");
    ensure!(number(&report, "registrations")? > 0.0, "{report}");
    // Registrations are stored by the writer, in at least one transaction, and no
    // transaction is counted without a round in it.
    let (write_rounds, batches) = (
        number(&report, "write_rounds")?,
        number(&report, "write_batches")?,
    );
    ensure!(1.0 <= batches && batches <= write_rounds, "{report}");

    let (p50, p99, max) = (
        number(&report, "sync_p50_ms")?,
        number(&report, "sync_p99_ms")?,
        number(&report, "sync_max_ms")?,
    );
    ensure!(0.0 < p50 && p50 <= p99 && p99 <= max, "{report}");
    // The wait for the server is part of each sync: never longer than the longest.
    let (wait_p50, wait_max) = (
        number(&report, "server_wait_p50_ms")?,
        number(&report, "server_wait_max_ms")?,
    );
    ensure!(
        0.0 < wait_p50 && wait_p50 <= wait_max && wait_max <= max,
        "{report}"
    );
    // Offered: six kiosks every half second on their timers, plus the writes' syncs.
    ensure!(
        number(&report, "offered_timer_syncs_per_s")? == 12.0,
        "{report}"
    );
    ensure!(
        number(&report, "offered_syncs_per_s")?
            >= 12.0 + number(&report, "write_syncs_per_s")? - 0.01,
        "{report}"
    );
    ensure!(number(&report, "achieved_syncs_per_s")? > 0.0, "{report}");
    // Started: the timers' and the writes' syncs begun in the window, each of which
    // finishes in it or after it.
    let started = (number(&report, "window_timer_syncs_started")?
        + number(&report, "window_write_syncs_started")?)
        / number(&report, "seconds")?;
    ensure!(
        (number(&report, "started_syncs_per_s")? - started).abs() < 0.01,
        "{report}"
    );
    for key in ["server_peak_mb", "server_end_mb", "host_cores"] {
        ensure!(number(&report, key)? > 0.0, "{key}: {report}");
    }
    for key in ["server_cpu_s", "generator_cpu_s", "host_busy_share"] {
        ensure!(number(&report, key)? >= 0.0, "{key}: {report}");
    }
    ensure!(
        number(&report, "server_end_mb")? <= number(&report, "server_peak_mb")?,
        "{report}"
    );
    ensure!(stderr.contains("syncs/s: offered"), "a summary: {stderr}");
    Ok(())
}
