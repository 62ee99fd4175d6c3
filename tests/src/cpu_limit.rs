//! A CPU quota for one process, standing in for a machine of its own: a control group
//! that lets the process use at most `cores` cores (cgroup v1's `cpu.cfs_quota_us`, or
//! v2's `cpu.max`). The load benchmark puts each server process in one when asked
//! (`bench-load --server-cpus`): on a small machine shared with the generator and
//! PostgreSQL, processes that each have a fixed share show whether several of them do
//! more together than one, that is, whether they wait for each other in the database.
//! Needs root and a mounted cgroup file system with the cpu controller.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

/// The scheduler's period; the quota is `cores` times it.
const PERIOD_US: u64 = 100_000;

/// Where cgroup v1 mounts its cpu controller.
const V1_CPU: &str = "/sys/fs/cgroup/cpu";
/// Where cgroup v2 mounts its one hierarchy.
const V2_ROOT: &str = "/sys/fs/cgroup";

/// A process's control group with a CPU quota. Dropping it moves the processes still
/// in it back to the parent group and removes it.
pub struct CpuLimit {
    dir: PathBuf,
    parent: PathBuf,
}

impl CpuLimit {
    /// Limit process `pid` (all its threads) to `cores` cores.
    pub fn apply(pid: u32, cores: f64) -> Result<CpuLimit> {
        ensure!(
            cores.is_finite() && cores >= 0.01,
            "a CPU limit is a number of cores, at least 0.01; got {cores}"
        );
        let quota_us = (cores * PERIOD_US as f64).round() as u64;
        let v1 = Path::new(V1_CPU);
        let v2 = Path::new(V2_ROOT);
        let (parent, settings) = if v1.join("cpu.cfs_quota_us").exists() {
            (
                v1,
                vec![
                    ("cpu.cfs_period_us", PERIOD_US.to_string()),
                    ("cpu.cfs_quota_us", quota_us.to_string()),
                ],
            )
        } else if v2.join("cgroup.controllers").exists() {
            // The cpu controller must be on for the root's children.
            write(&v2.join("cgroup.subtree_control"), "+cpu")?;
            (v2, vec![("cpu.max", format!("{quota_us} {PERIOD_US}"))])
        } else {
            bail!(
                "no cgroup file system with the cpu controller under {V2_ROOT}: a CPU limit needs one"
            );
        };
        let dir = parent.join(format!("blisko-bench-{pid}"));
        std::fs::create_dir(&dir).with_context(|| {
            format!(
                "make the control group {} (a CPU limit needs root)",
                dir.display()
            )
        })?;
        // From here on, a failure removes the group again.
        let limit = CpuLimit {
            dir,
            parent: parent.to_path_buf(),
        };
        for (file, value) in settings {
            write(&limit.dir.join(file), &value)?;
        }
        write(&limit.dir.join("cgroup.procs"), &pid.to_string())?;
        Ok(limit)
    }
}

fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).with_context(|| format!("write {value:?} to {}", path.display()))
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        let procs = std::fs::read_to_string(self.dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs.lines() {
            // A process that ended meanwhile is simply gone.
            let _ = std::fs::write(self.parent.join("cgroup.procs"), pid);
        }
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!(
                "cannot remove the control group {}: {e}",
                self.dir.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::process_cpu_seconds;
    use std::time::Duration;

    /// A busy loop limited to a fifth of a core uses about a fifth of a core; once the
    /// limit is dropped, its group is gone and the process runs on.
    #[test]
    fn a_busy_process_gets_no_more_than_its_share() -> Result<()> {
        if !Path::new(V1_CPU).join("cpu.cfs_quota_us").exists()
            && !Path::new(V2_ROOT).join("cgroup.controllers").exists()
        {
            eprintln!("skipped: no cgroup file system here");
            return Ok(());
        }
        let mut busy = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .context("start a busy loop")?;
        let pid = busy.id();
        let result = (|| -> Result<()> {
            let limit = CpuLimit::apply(pid, 0.2)?;
            let dir = limit.dir.clone();
            let before = process_cpu_seconds(pid).context("the loop's CPU time")?;
            std::thread::sleep(Duration::from_secs(3));
            let used = process_cpu_seconds(pid).context("the loop's CPU time")? - before;
            drop(limit);
            // 3 s at a fifth of a core is 0.6 s, and a period's rounding; less when the
            // machine is busy with other tests.
            ensure!(
                (0.1..=0.8).contains(&used),
                "the loop used {used:.2} s of CPU in 3 s under a limit of 0.2 cores"
            );
            ensure!(!dir.exists(), "the group {} is left behind", dir.display());
            ensure!(
                CpuLimit::apply(pid, 0.0).is_err(),
                "a limit of no cores is refused"
            );
            Ok(())
        })();
        let _ = busy.kill();
        let _ = busy.wait();
        result
    }
}
