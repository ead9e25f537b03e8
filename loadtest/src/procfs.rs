//! CPU time and peak memory of processes, from Linux's `/proc`.
//!
//! CPU time is `utime + stime` from `/proc/PID/stat`, in clock ticks. Peak memory is `VmHWM`
//! from `/proc/PID/status`, the high-water mark of the resident set; it covers the process's
//! whole life unless reset, which writing `5` to `/proc/PID/clear_refs` does (Linux 4.0+).

use std::fs;

use anyhow::{bail, Context as _};

/// CPU time and peak resident memory summed over a set of processes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub cpu_ticks: u64,
    pub peak_rss_bytes: u64,
}

/// A process and, optionally, its descendants (nginx's workers), measured together.
#[derive(Debug, Clone, Copy)]
pub struct Tree {
    pub pid: u32,
    pub with_children: bool,
}

impl Tree {
    pub fn single(pid: u32) -> Self {
        Self {
            pid,
            with_children: false,
        }
    }

    pub fn with_children(pid: u32) -> Self {
        Self {
            pid,
            with_children: true,
        }
    }

    /// The pids measured now: the process, then its descendants if asked for.
    pub fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.pid];
        if self.with_children {
            // A bounded walk: proxies here fork at most two levels deep.
            let mut frontier = vec![self.pid];
            for _ in 0..4 {
                let next: Vec<u32> = frontier.iter().flat_map(|&p| children(p)).collect();
                if next.is_empty() {
                    break;
                }
                pids.extend(&next);
                frontier = next;
            }
        }
        pids
    }

    /// Current usage: CPU ticks and VmHWM summed over the processes. The sum of peaks bounds
    /// the peak of the sum from above.
    pub fn usage(&self) -> anyhow::Result<Usage> {
        let mut total = Usage::default();
        for pid in self.pids() {
            total.cpu_ticks += cpu_ticks(pid)?;
            total.peak_rss_bytes += peak_rss_bytes(pid)?;
        }
        Ok(total)
    }

    /// Resets every process's VmHWM to its current resident set.
    pub fn reset_peak(&self) -> anyhow::Result<()> {
        for pid in self.pids() {
            let path = format!("/proc/{pid}/clear_refs");
            fs::write(&path, "5").with_context(|| format!("writing {path}"))?;
        }
        Ok(())
    }
}

/// Clock ticks per second, the unit of `/proc/PID/stat`'s times.
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as u64
    } else {
        100
    }
}

/// `utime + stime` of one process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    stat_cpu_ticks(&stat).with_context(|| format!("parsing {path}"))
}

/// CPU ticks of this process, the load test's own client.
pub fn own_cpu_ticks() -> anyhow::Result<u64> {
    cpu_ticks(std::process::id())
}

/// VmHWM of one process, in bytes.
pub fn peak_rss_bytes(pid: u32) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let kib = status_kib(&status, "VmHWM").with_context(|| format!("no VmHWM in {path}"))?;
    Ok(kib * 1024)
}

/// The direct children of `pid`, from every thread's `children` list.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Ok(list) = fs::read_to_string(task.path().join("children")) else {
            continue;
        };
        out.extend(
            list.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// `utime + stime` from the text of `/proc/PID/stat`.
///
/// The command name (field 2) is in parentheses and may itself hold spaces and parentheses,
/// so the fields are counted from the last `)`: state is field 3, utime 14 and stime 15.
pub fn stat_cpu_ticks(stat: &str) -> anyhow::Result<u64> {
    let after_name = stat.rfind(')').context("no command name")?;
    let fields: Vec<&str> = stat[after_name + 1..].split_whitespace().collect();
    // fields[0] is field 3 (state), so field N is fields[N - 3].
    if fields.len() < 13 {
        bail!("only {} fields after the command name", fields.len());
    }
    let utime: u64 = fields[11].parse().context("utime")?;
    let stime: u64 = fields[12].parse().context("stime")?;
    Ok(utime + stime)
}

/// A `Name:   N kB` value from the text of `/proc/PID/status`, in KiB.
pub fn status_kib(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        if key != name {
            return None;
        }
        let mut words = value.split_whitespace();
        let number = words.next()?.parse().ok()?;
        matches!(words.next(), Some("kB") | None).then_some(number)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (nginx: worker) process) S 4241 4241 4241 0 -1 4194624 \
        1200 0 0 0 731 269 0 0 20 0 1 0 123456 12345678 900 18446744073709551615 \
        1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";

    #[test]
    fn stat_counts_fields_after_the_last_parenthesis() {
        assert_eq!(stat_cpu_ticks(STAT).unwrap(), 731 + 269);
    }

    #[test]
    fn stat_that_is_cut_short_is_an_error() {
        assert!(stat_cpu_ticks("1 (x) S 0 0").is_err());
        assert!(stat_cpu_ticks("no parenthesis").is_err());
        assert!(stat_cpu_ticks("1 (x) S 0 0 0 0 0 0 0 0 0 0 u 0").is_err());
    }

    #[test]
    fn status_reads_named_kib_values() {
        let status = "Name:\tcloak\nVmPeak:\t  99 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 10240 kB\n";
        assert_eq!(status_kib(status, "VmHWM"), Some(20480));
        assert_eq!(status_kib(status, "VmRSS"), Some(10240));
        assert_eq!(status_kib(status, "VmSwap"), None);
        assert_eq!(status_kib("VmHWMx:\t1 kB\n", "VmHWM"), None);
    }

    #[test]
    fn own_process_is_readable() {
        assert!(own_cpu_ticks().is_ok());
        assert!(peak_rss_bytes(std::process::id()).unwrap() > 0);
        assert!(ticks_per_second() > 0);
    }
}
