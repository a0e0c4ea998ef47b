//! Where the loop thread's wall time went, from the kernel: on a CPU, waiting in a run
//! queue for one, or neither (blocked in a system call or a fault).
//!
//! Two counters say it: the thread's CPU clock (on-CPU time, exact to the nanosecond
//! at any moment, `clock_gettime` on the thread's clock id) and the second field of
//! `/proc/self/task/TID/schedstat` (`run_delay`: nanoseconds spent runnable but waiting
//! for a CPU; it grows when a wait ends, so a wait in progress counts once the thread
//! runs again). Neither is read per poll: the watchdog thread samples both every tick
//! (a `pread` of a file it keeps open and a `clock_gettime`, on its own thread), and
//! the loop reads them once more when a stall ends. The wall time that is neither on a
//! CPU nor in a run queue is time the thread was blocked.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The loop thread's two counters at one moment, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SchedSample {
    /// On a CPU so far.
    pub(crate) on_cpu: u64,
    /// Runnable and waiting for a CPU so far (`schedstat`'s second field).
    pub(crate) run_delay: u64,
}

/// How a stall's wall time was spent, measured (see `docs/stall.md`).
///
/// ```
/// use std::time::Duration;
/// let t = turnstile_probes::StallTimes {
///     on_cpu: Duration::from_micros(60),
///     runnable: Duration::from_micros(12_500),
///     blocked: Duration::from_micros(40),
/// };
/// assert_eq!(t.to_string(), "12.5ms runnable (preempted), 60.0µs on-CPU, 40.0µs blocked");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StallTimes {
    /// On a CPU: computing (the task's code, or anything else the thread ran).
    pub on_cpu: Duration,
    /// Runnable but not running: the OS had given the CPU to another thread.
    pub runnable: Duration,
    /// Neither: blocked in a system call (a sleep, a lock, a synchronous read).
    pub blocked: Duration,
}

impl StallTimes {
    /// Splits a stall of `duration` by the counters' growth from `before` (taken up to
    /// one watchdog tick before the poll began) to `after` (its end). The window can
    /// be longer than the poll, so each part is clamped to what is left of the
    /// duration, in this order: on-CPU, runnable, and the rest is blocked.
    pub(crate) fn between(before: SchedSample, after: SchedSample, duration: Duration) -> Self {
        let on_cpu = Duration::from_nanos(after.on_cpu.saturating_sub(before.on_cpu)).min(duration);
        let runnable = Duration::from_nanos(after.run_delay.saturating_sub(before.run_delay))
            .min(duration.saturating_sub(on_cpu));
        let blocked = duration.saturating_sub(on_cpu).saturating_sub(runnable);
        StallTimes {
            on_cpu,
            runnable,
            blocked,
        }
    }

    /// The largest part: what the stall mostly was.
    pub(crate) fn kind(&self) -> crate::stall::StallKind {
        use crate::stall::StallKind;
        if self.blocked >= self.on_cpu && self.blocked >= self.runnable {
            StallKind::OffCpu
        } else if self.runnable > self.on_cpu {
            StallKind::Preempted
        } else {
            StallKind::OnCpu
        }
    }
}

impl std::fmt::Display for StallTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = [
            (self.on_cpu, "on-CPU"),
            (self.runnable, "runnable (preempted)"),
            (self.blocked, "blocked"),
        ];
        parts.sort_by_key(|p| std::cmp::Reverse(p.0));
        let mut first = true;
        for (time, what) in parts {
            if time.is_zero() && !first {
                continue;
            }
            if !first {
                write!(f, ", ")?;
            }
            write!(f, "{time:.1?} {what}")?;
            first = false;
        }
        Ok(())
    }
}

/// Reads another thread's two counters (the watchdog reading the loop thread's).
#[derive(Debug)]
pub(crate) struct SchedReader {
    #[cfg(all(target_os = "linux", not(miri)))]
    schedstat: std::fs::File,
    #[cfg(all(target_os = "linux", not(miri)))]
    cpu_clock: libc::clockid_t,
}

impl SchedReader {
    /// A reader for thread `tid` of this process; `None` where the kernel does not
    /// keep `schedstat` (no `CONFIG_SCHED_INFO`) or off Linux.
    pub(crate) fn of_thread(tid: i64) -> Option<SchedReader> {
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            if tid <= 0 {
                return None;
            }
            let schedstat = std::fs::File::open(format!("/proc/self/task/{tid}/schedstat")).ok()?;
            // The kernel's per-thread CPU clock id, as glibc's `pthread_getcpuclockid`
            // makes it: the thread id, inverted, shifted past three bits that say
            // "per thread" (4) and "scheduler time" (2).
            let cpu_clock = ((!(tid as libc::clockid_t)) << 3) | 6;
            let reader = SchedReader {
                schedstat,
                cpu_clock,
            };
            reader.read().map(|_| reader)
        }
        #[cfg(not(all(target_os = "linux", not(miri))))]
        {
            let _ = tid;
            None
        }
    }

    /// Both counters now.
    pub(crate) fn read(&self) -> Option<SchedSample> {
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            use std::os::unix::fs::FileExt;
            let mut buf = [0u8; 96];
            // A `seq_file` re-generates its text for a read at offset 0.
            let n = self.schedstat.read_at(&mut buf, 0).ok()?;
            let run_delay = parse_run_delay(&buf[..n])?;
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec; the call writes only into it
            // (and fails with EINVAL once the thread has exited).
            if unsafe { libc::clock_gettime(self.cpu_clock, &mut ts) } != 0 {
                return None;
            }
            let on_cpu = (ts.tv_sec as u64).saturating_mul(1_000_000_000) + ts.tv_nsec as u64;
            Some(SchedSample { on_cpu, run_delay })
        }
        #[cfg(not(all(target_os = "linux", not(miri))))]
        None
    }
}

/// The calling thread's two counters (the loop, when a stall ends: once per stall).
pub(crate) fn of_this_thread(on_cpu: Option<Duration>) -> Option<SchedSample> {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        let text = std::fs::read("/proc/thread-self/schedstat").ok()?;
        let run_delay = parse_run_delay(&text)?;
        let on_cpu = on_cpu?.as_nanos() as u64;
        Some(SchedSample { on_cpu, run_delay })
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        let _ = on_cpu;
        None
    }
}

/// The second of `schedstat`'s three fields: "on-CPU ns, run-queue wait ns, slices".
#[cfg_attr(not(all(target_os = "linux", not(miri))), allow(dead_code))]
fn parse_run_delay(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?;
    text.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stall::StallKind;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_parts_are_clamped_to_the_stall() {
        let before = SchedSample {
            on_cpu: 0,
            run_delay: 0,
        };
        let after = SchedSample {
            on_cpu: 3_000_000,
            run_delay: 9_000_000,
        };
        let t = StallTimes::between(before, after, ms(10));
        assert_eq!((t.on_cpu, t.runnable, t.blocked), (ms(3), ms(7), ms(0)));
        assert_eq!(t.kind(), StallKind::Preempted);
        let t = StallTimes::between(before, after, ms(20));
        assert_eq!((t.on_cpu, t.runnable, t.blocked), (ms(3), ms(9), ms(8)));
        assert_eq!(t.kind(), StallKind::Preempted);
        let t = StallTimes::between(before, after, ms(40));
        assert_eq!(t.kind(), StallKind::OffCpu);
    }

    #[test]
    fn schedstat_has_three_fields() {
        assert_eq!(parse_run_delay(b"123 456 7\n"), Some(456));
        assert_eq!(parse_run_delay(b"123"), None);
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc")]
    fn this_thread_is_readable_by_another() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let tid = crate::loop_thread::LoopThread::current().tid;
        let reader = SchedReader::of_thread(tid).expect("schedstat and the thread clock");
        let sample = std::thread::scope(|s| s.spawn(|| reader.read()).join().unwrap());
        assert!(sample.expect("a sample").on_cpu > 0);
    }
}
