//! What the OS knows about the loop thread: its CPU clock and its context switches.
//!
//! Both are system calls (about a microsecond each), so the probes never make them per
//! poll, nor per park: at `Level::Timing` both are sampled at most once per
//! `stall_threshold / 10` of loop time (a park is accounted for, not sampled after: see
//! `CpuSampler`), and read again at the end of a stall; a snapshot reads the context
//! switches once.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// CPU time consumed by the calling thread so far, or `None` where unsupported.
///
/// ```
/// let _ = turnstile_probes::thread_cpu_time();
/// ```
pub fn thread_cpu_time() -> Option<Duration> {
    #[cfg(all(unix, not(miri)))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call writes only into it.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
    }
    None
}

/// Context switches of one thread, from `getrusage(RUSAGE_THREAD)`.
///
/// Voluntary switches are the thread blocking (parking in `epoll_wait`, a blocking
/// call inside a task); involuntary ones are the OS preempting it: the loop's own
/// yields (a task's `Pending`) are neither, since they never leave the thread.
///
/// ```
/// let s = turnstile_probes::ContextSwitches::of_this_thread();
/// assert!(s.since(&s) == turnstile_probes::ContextSwitches::default());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextSwitches {
    /// The thread gave up the CPU (it blocked).
    pub voluntary: u64,
    /// The OS took the CPU away (time slice over, or a higher-priority thread).
    pub involuntary: u64,
}

impl ContextSwitches {
    /// The calling thread's totals (zeros where unsupported).
    ///
    /// ```
    /// let _ = turnstile_probes::ContextSwitches::of_this_thread();
    /// ```
    pub fn of_this_thread() -> Self {
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: `usage` is a valid, writable rusage; the call writes only into it.
            if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } == 0 {
                return ContextSwitches {
                    voluntary: usage.ru_nvcsw as u64,
                    involuntary: usage.ru_nivcsw as u64,
                };
            }
        }
        ContextSwitches::default()
    }

    /// The switches since `earlier`.
    ///
    /// ```
    /// let a = turnstile_probes::ContextSwitches::default();
    /// assert_eq!(a.since(&a).voluntary, 0);
    /// ```
    pub fn since(&self, earlier: &ContextSwitches) -> ContextSwitches {
        ContextSwitches {
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}
