//! What serving cost: the CPU time and system calls of a server's loop thread, and the
//! CPU time of the load generator, measured from outside both.
//!
//! A load generator on one core can saturate before the server does, and then its
//! requests per second say nothing about the server. So the I/O experiments also meter
//! the server's loop thread (the main thread of the `serve` child process) over the
//! load, and divide by the requests served:
//!
//! - CPU time from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on the CPU, kept by
//!   the scheduler for every thread);
//! - voluntary context switches from `/proc/<pid>/task/<tid>/status`: how often the
//!   thread blocked, which for an event loop is how often it parked in `epoll_wait`;
//! - system calls from a perf counter on the `raw_syscalls:sys_enter` tracepoint,
//!   attached to that one thread. It needs tracefs (mounted here when it is not and the
//!   lab runs as root) and a `perf_event_paranoid` that allows it (or root); where the
//!   kernel refuses, the count is absent and the report says why.
//!
//! The generator's CPU time is `getrusage(RUSAGE_CHILDREN)` taken around its run: the
//! parent reaps no other child while a generator runs.

use std::fs;
use std::io;
use std::os::fd::{FromRawFd as _, OwnedFd};

use serde::{Deserialize, Serialize};

/// Above this share of one core, a process counts as saturated.
pub const SATURATED: f64 = 0.85;

/// A thread's CPU time and context switches at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct ThreadSample {
    cpu_ns: u64,
    voluntary_switches: u64,
}

fn sample(pid: u32, tid: u32) -> io::Result<ThreadSample> {
    let task = format!("/proc/{pid}/task/{tid}");
    let schedstat = fs::read_to_string(format!("{task}/schedstat"))?;
    let cpu_ns = schedstat
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| io::Error::other(format!("unexpected {task}/schedstat: {schedstat:?}")))?;
    let status = fs::read_to_string(format!("{task}/status"))?;
    let voluntary_switches = status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no voluntary_ctxt_switches in {task}/status")))?;
    Ok(ThreadSample {
        cpu_ns,
        voluntary_switches,
    })
}

/// What a server's loop thread spent over a metered stretch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerCost {
    /// Time on the CPU, ns.
    pub cpu_ns: u64,
    /// Times the thread blocked (voluntary context switches): parks in `epoll_wait`.
    pub blocked: u64,
    /// System calls it made, if the kernel let the lab count them.
    pub syscalls: Option<u64>,
    /// Why `syscalls` is absent.
    pub syscalls_note: Option<String>,
}

impl ServerCost {
    /// CPU time per request, ns.
    pub fn cpu_ns_per(&self, requests: u64) -> f64 {
        self.cpu_ns as f64 / requests.max(1) as f64
    }

    /// System calls per request, if counted.
    pub fn syscalls_per(&self, requests: u64) -> Option<f64> {
        self.syscalls.map(|s| s as f64 / requests.max(1) as f64)
    }

    /// Parks per request.
    pub fn blocked_per(&self, requests: u64) -> f64 {
        self.blocked as f64 / requests.max(1) as f64
    }
}

/// Meters one thread of another process from now until [`ThreadMeter::stop`].
#[derive(Debug)]
pub struct ThreadMeter {
    pid: u32,
    tid: u32,
    start: ThreadSample,
    syscalls: Result<SyscallCounter, String>,
}

impl ThreadMeter {
    /// Starts metering the main thread of process `pid` (whose thread id is `pid`).
    ///
    /// # Errors
    /// When `/proc` does not have the thread (it exited, or `/proc` is not mounted).
    pub fn start_main_thread(pid: u32) -> io::Result<ThreadMeter> {
        let syscalls = SyscallCounter::open(pid).map_err(|e| e.to_string());
        let start = sample(pid, pid)?;
        Ok(ThreadMeter {
            pid,
            tid: pid,
            start,
            syscalls,
        })
    }

    /// What the thread spent since [`ThreadMeter::start_main_thread`].
    ///
    /// # Errors
    /// When the thread is gone.
    pub fn stop(self) -> io::Result<ServerCost> {
        let end = sample(self.pid, self.tid)?;
        let (syscalls, syscalls_note) = match self.syscalls.map(|c| c.read()) {
            Ok(Ok(n)) => (Some(n), None),
            Ok(Err(e)) => (None, Some(format!("reading the perf counter: {e}"))),
            Err(why) => (None, Some(why)),
        };
        Ok(ServerCost {
            cpu_ns: end.cpu_ns.saturating_sub(self.start.cpu_ns),
            blocked: end
                .voluntary_switches
                .saturating_sub(self.start.voluntary_switches),
            syscalls,
            syscalls_note,
        })
    }
}

/// The leading fields of the kernel's `struct perf_event_attr`, as of its first
/// published version (`PERF_ATTR_SIZE_VER0`, 64 bytes); the kernel reads `size` bytes.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    /// Bit flags; all clear: enabled at once, counting user and kernel, this thread only.
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
/// `perf_event_open`'s flag for a close-on-exec descriptor.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 1 << 3;

/// A counter of one thread's system calls (the `raw_syscalls:sys_enter` tracepoint).
#[derive(Debug)]
struct SyscallCounter {
    fd: OwnedFd,
}

impl SyscallCounter {
    fn tracepoint_id() -> io::Result<u64> {
        Self::read_tracepoint_id().or_else(|e| {
            // Many machines boot without tracefs mounted; root can mount it (as
            // `mount -t tracefs nodev /sys/kernel/tracing` would) and look again.
            if mount_tracefs() {
                Self::read_tracepoint_id()
            } else {
                Err(e)
            }
        })
    }

    fn read_tracepoint_id() -> io::Result<u64> {
        let mut last = None;
        for root in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] {
            match fs::read_to_string(format!("{root}/events/raw_syscalls/sys_enter/id")) {
                Ok(id) => {
                    return id
                        .trim()
                        .parse()
                        .map_err(|_| io::Error::other(format!("a tracepoint id {id:?}")))
                }
                Err(e) => last = Some(e),
            }
        }
        Err(io::Error::other(format!(
            "the raw_syscalls:sys_enter tracepoint is not visible (tracefs not mounted?): {}",
            last.map_or_else(String::new, |e| e.to_string())
        )))
    }

    fn open(tid: u32) -> io::Result<SyscallCounter> {
        let attr = PerfEventAttr {
            kind: PERF_TYPE_TRACEPOINT,
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config: Self::tracepoint_id()?,
            ..PerfEventAttr::default()
        };
        // SAFETY: `attr` is a valid, initialized `perf_event_attr` prefix whose `size`
        // says how much of it the kernel may read; the other arguments are plain
        // integers (this thread id, any CPU, no group, no flags).
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const PerfEventAttr,
                tid as libc::pid_t,
                -1 as libc::c_int,
                -1 as libc::c_int,
                PERF_FLAG_FD_CLOEXEC,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "perf_event_open refused ({e}); system calls are counted as root or with \
                     kernel.perf_event_paranoid <= 1"
                ),
            ));
        }
        // SAFETY: the kernel just returned this descriptor to us and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) };
        Ok(SyscallCounter { fd })
    }

    fn read(&self) -> io::Result<u64> {
        use std::io::Read as _;
        let mut buf = [0u8; 8];
        fs::File::from(self.fd.try_clone()?).read_exact(&mut buf)?;
        Ok(u64::from_ne_bytes(buf))
    }
}

/// Mounts tracefs at `/sys/kernel/tracing` when this process runs as root and it is not
/// mounted there yet; says whether it did.
fn mount_tracefs() -> bool {
    let dir = std::path::Path::new("/sys/kernel/tracing");
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 || !dir.is_dir() || dir.join("events").exists() {
        return false;
    }
    // SAFETY: every pointer is a NUL-terminated string that outlives the call; no
    // mount data is passed.
    let rc = unsafe {
        libc::mount(
            c"nodev".as_ptr(),
            c"/sys/kernel/tracing".as_ptr(),
            c"tracefs".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    rc == 0
}

/// CPU time (user and system) of every child this process has reaped so far, ns.
///
/// ```
/// let before = turnstile_lab::cost::reaped_children_cpu_ns();
/// std::process::Command::new("true").status().unwrap();
/// assert!(turnstile_lab::cost::reaped_children_cpu_ns() >= before);
/// ```
pub fn reaped_children_cpu_ns() -> u64 {
    // SAFETY: an all-zero `rusage` is a valid value, and getrusage only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return 0;
    }
    let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1_000;
    ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// Which side limited a load test's throughput.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bottleneck {
    /// Both sides were busy: the rate is where the two met, and the server's CPU per
    /// request is the figure that compares the runtimes.
    Both,
    /// The server's loop thread was busy ([`SATURATED`] of a core or more) and the
    /// generator was not.
    Server,
    /// The load generator was busy and the server was not: the rate is the
    /// generator's, and the server's CPU per request is the figure to compare.
    Client,
    /// Neither was busy: round trips in lockstep bound by latency, or both sides
    /// kept off their cores by other work on the machine.
    Neither,
}

impl Bottleneck {
    /// Judges from the share of a core each side used over `seconds`.
    ///
    /// ```
    /// use turnstile_lab::cost::Bottleneck;
    /// assert_eq!(Bottleneck::of(0.5, 1.0), Bottleneck::Client);
    /// assert_eq!(Bottleneck::of(0.99, 0.5), Bottleneck::Server);
    /// assert_eq!(Bottleneck::of(0.99, 1.0), Bottleneck::Both);
    /// assert_eq!(Bottleneck::of(0.3, 0.4), Bottleneck::Neither);
    /// ```
    pub fn of(server_busy: f64, client_busy: f64) -> Bottleneck {
        match (server_busy >= SATURATED, client_busy >= SATURATED) {
            (true, true) => Bottleneck::Both,
            (true, false) => Bottleneck::Server,
            (false, true) => Bottleneck::Client,
            (false, false) => Bottleneck::Neither,
        }
    }

    /// How a table says it.
    pub fn label(self) -> &'static str {
        match self {
            Bottleneck::Both => "both",
            Bottleneck::Server => "server",
            Bottleneck::Client => "generator",
            Bottleneck::Neither => "neither",
        }
    }
}

/// What one side used of a core over a run: CPU seconds over wall seconds.
pub fn busy(cpu_ns: u64, seconds: f64) -> f64 {
    cpu_ns as f64 / 1e9 / seconds.max(1e-9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attr_prefix_is_the_kernels_first_version() {
        assert_eq!(std::mem::size_of::<PerfEventAttr>(), 64);
    }

    #[test]
    fn this_thread_can_be_sampled() {
        let pid = std::process::id();
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        let a = sample(pid, tid).unwrap();
        let mut x = 0u64;
        for i in 0..1_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i));
        }
        std::hint::black_box(x);
        let b = sample(pid, tid).unwrap();
        assert!(b.cpu_ns > a.cpu_ns, "{a:?} then {b:?}");
    }
}
