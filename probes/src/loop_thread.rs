//! What the watchdog can learn about the loop thread while one poll keeps it busy: what
//! the kernel says it is doing (running, or blocked in which system call), and where
//! in the code it is, from its stack taken through a signal.
//!
//! # The kernel's view (always, on Linux)
//!
//! `/proc/self/task/<tid>/syscall` says whether the thread is running or blocked in a
//! system call (and which), and `/proc/self/task/<tid>/wchan` names the kernel function
//! it waits in. Reading them touches nothing in the loop thread, so it is always safe.
//!
//! # The stack (with a watchdog, Linux with glibc)
//!
//! Once per stall (never per poll), the watchdog sends the loop thread a real-time
//! signal (`SIGRTMIN + 3`). Its handler calls glibc's `backtrace(3)`, which walks the
//! interrupted stack and writes return addresses into a buffer on the handler's stack;
//! the handler copies them into preallocated atomics. The watchdog's namer thread then
//! turns them into functions and lines (the `backtrace` crate), outside the handler,
//! and picks the first frame in the user's code ([`first_user_frame`]).
//!
//! Why `backtrace(3)` and not a frame-pointer walk: Rust code, the user's and the
//! standard library's, is built without frame pointers by default, so a frame-pointer
//! walk stops at the first such frame; `backtrace(3)` unwinds with the `.eh_frame`
//! tables that every Rust binary has (they are what panics unwind with).
//!
//! Why it is safe in a signal handler, after the first call: the first call loads
//! libgcc's unwinder with `dlopen`, which allocates; `install` makes that call before
//! the handler exists, so the handler never loads anything. After it, the unwinder
//! reads the tables in place and allocates nothing; to find the table of an address
//! it calls glibc's `_dl_find_object` (glibc 2.35 and later, used by libgcc from
//! GCC 12), which takes no lock and is async-signal-safe. With an older glibc or libgcc
//! the lookup goes through `dl_iterate_phdr`, which takes the loader's lock: if the
//! signal landed while the loop thread held it (inside `dlopen`), the handler would
//! wait forever. The remaining caveats:
//!
//! - The signal interrupts a system call in progress. Calls that restart (`read` on a
//!   socket or a pipe, `write`, ...) do so (`SA_RESTART`); calls that do not
//!   (`nanosleep`, `epoll_wait`, `poll`) return `EINTR`, which `std` retries for sleeps
//!   and the reactor treats as an empty poll, but other code inside a task may not
//!   expect. One signal per stall (two when it outlives the watchdog's period).
//! - The signal number must be free: if something else installed a handler for it,
//!   stall reports name no line (and say why); with `watchdog_backtrace(true)` the
//!   runtime refuses to build rather than replace it.
//! - One capture at a time in the process; the watchdog gives up after 100 ms (a loop
//!   thread starved of CPU may answer later; that answer is dropped).

/// Where the loop thread is, for the watchdog: its kernel thread id, recorded on the
/// loop thread itself. Signals go by thread id (`tgkill`), never by `pthread_t`: a
/// thread id that has exited makes the call fail, where a stale `pthread_t` would be
/// undefined behaviour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LoopThread {
    /// The kernel thread id (zero where unknown).
    pub(crate) tid: i64,
}

impl LoopThread {
    /// The calling thread.
    pub(crate) fn current() -> LoopThread {
        #[cfg(all(target_os = "linux", not(miri)))]
        {
            // SAFETY: `gettid` only returns the calling thread's id.
            let tid = unsafe { libc::gettid() };
            LoopThread {
                tid: i64::from(tid),
            }
        }
        #[cfg(not(all(target_os = "linux", not(miri))))]
        LoopThread::default()
    }

    /// What the kernel says the thread is doing: `running`, or the system call it is
    /// blocked in and the kernel function it waits in. `None` where `/proc` is not there.
    pub(crate) fn kernel_view(&self) -> Option<String> {
        if self.tid == 0 {
            return None;
        }
        let dir = format!("/proc/self/task/{}", self.tid);
        let syscall = std::fs::read_to_string(format!("{dir}/syscall")).ok()?;
        let first = syscall.split_whitespace().next()?;
        if first == "running" {
            return Some("running on a CPU (computing, not blocked in a system call)".into());
        }
        let wchan = std::fs::read_to_string(format!("{dir}/wchan"))
            .ok()
            .filter(|w| !w.is_empty() && w != "0");
        let number: i64 = first.parse().ok()?;
        if number < 0 {
            return Some("blocked, not in a system call (a fault or the scheduler)".into());
        }
        let name = syscall_name(number).map_or_else(|| format!("#{number}"), str::to_owned);
        Some(match wchan {
            Some(w) => format!("blocked in system call {name} (waiting in kernel {w})"),
            None => format!("blocked in system call {name}"),
        })
    }
}

/// Names of the system calls a loop thread is most often found blocked in.
fn syscall_name(n: i64) -> Option<&'static str> {
    #[cfg(target_os = "linux")]
    {
        let known: &[(libc::c_long, &str)] = &[
            (libc::SYS_read, "read"),
            (libc::SYS_write, "write"),
            (libc::SYS_pread64, "pread64"),
            (libc::SYS_pwrite64, "pwrite64"),
            (libc::SYS_readv, "readv"),
            (libc::SYS_writev, "writev"),
            (libc::SYS_openat, "openat"),
            (libc::SYS_close, "close"),
            (libc::SYS_fsync, "fsync"),
            (libc::SYS_fdatasync, "fdatasync"),
            (libc::SYS_flock, "flock"),
            (libc::SYS_fcntl, "fcntl"),
            (libc::SYS_futex, "futex (a lock or a condition variable)"),
            (libc::SYS_clock_nanosleep, "clock_nanosleep (a sleep)"),
            (libc::SYS_ppoll, "ppoll"),
            (libc::SYS_pselect6, "pselect6"),
            (libc::SYS_epoll_pwait, "epoll_pwait"),
            (libc::SYS_connect, "connect"),
            (libc::SYS_accept4, "accept4"),
            (libc::SYS_sendto, "sendto"),
            (libc::SYS_recvfrom, "recvfrom"),
            (libc::SYS_sendmsg, "sendmsg"),
            (libc::SYS_recvmsg, "recvmsg"),
            (libc::SYS_wait4, "wait4"),
            (libc::SYS_waitid, "waitid"),
            #[cfg(target_arch = "x86_64")]
            (libc::SYS_nanosleep, "nanosleep (a sleep)"),
            #[cfg(target_arch = "x86_64")]
            (libc::SYS_poll, "poll"),
            #[cfg(target_arch = "x86_64")]
            (libc::SYS_select, "select"),
            #[cfg(target_arch = "x86_64")]
            (libc::SYS_epoll_wait, "epoll_wait"),
            #[cfg(target_arch = "x86_64")]
            (libc::SYS_accept, "accept"),
        ];
        #[allow(clippy::useless_conversion)] // `c_long` is `i32` on 32-bit targets
        known
            .iter()
            .find(|(num, _)| i64::from(*num) == n)
            .map(|(_, name)| *name)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = n;
        None
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
mod capture {
    use std::ffi::c_void;
    use std::io;
    use std::ptr;
    use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
    use std::sync::{Mutex, OnceLock, PoisonError};
    use std::time::{Duration, Instant};

    use super::LoopThread;

    /// How long the watchdog waits for the signal handler to finish a capture.
    const CAPTURE_TIMEOUT: Duration = Duration::from_millis(100);

    /// Frames kept per capture.
    const MAX_FRAMES: usize = 64;

    const IDLE: u8 = 0;
    const ARMED: u8 = 1;
    const CAPTURING: u8 = 2;
    const DONE: u8 = 3;

    /// The capture's state: the watchdog arms it, the handler moves it on.
    static STATE: AtomicU8 = AtomicU8::new(IDLE);
    /// The captured return addresses and how many there are: atomics, the one kind of
    /// memory a signal handler may write that another thread then reads.
    static FRAMES: [AtomicUsize; MAX_FRAMES] = [const { AtomicUsize::new(0) }; MAX_FRAMES];
    static DEPTH: AtomicUsize = AtomicUsize::new(0);
    /// One capture at a time in the process.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    /// Whether the handler is installed (or why it could not be).
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

    fn signal() -> libc::c_int {
        libc::SIGRTMIN() + 3
    }

    /// Runs on the loop thread when the watchdog signals it: walk the stack, store it.
    extern "C" fn on_signal(_: libc::c_int) {
        if STATE
            .compare_exchange(ARMED, CAPTURING, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return; // not ours, or the watchdog gave up on this capture
        }
        let mut buf = [ptr::null_mut::<c_void>(); MAX_FRAMES];
        // SAFETY: `buf` holds MAX_FRAMES pointers and `backtrace` writes at most that
        // many. libgcc was loaded before the handler was installed (`install`), so the
        // call does not allocate or load a library here.
        let n = unsafe { libc::backtrace(buf.as_mut_ptr(), MAX_FRAMES as libc::c_int) };
        let n = usize::try_from(n).unwrap_or(0).min(MAX_FRAMES);
        for (slot, &ip) in FRAMES.iter().zip(&buf[..n]) {
            slot.store(ip as usize, Ordering::Relaxed);
        }
        DEPTH.store(n, Ordering::Relaxed);
        STATE.store(DONE, Ordering::Release);
    }

    /// Installs the handler once per process. Fails if the signal already has one.
    pub(crate) fn install() -> io::Result<()> {
        INSTALLED
            .get_or_init(|| {
                let sig = signal();
                // SAFETY: a zeroed sigaction is a valid "no handler" value to read into.
                let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
                // SAFETY: querying (null new action) writes only into `old`.
                if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0 {
                    return Err(format!("sigaction: {}", io::Error::last_os_error()));
                }
                if old.sa_sigaction != libc::SIG_DFL {
                    return Err(format!(
                        "signal {sig} (SIGRTMIN+3) already has a handler; the watchdog's \
                         backtraces need it free"
                    ));
                }
                // Load libgcc now, outside any handler: its first use allocates.
                let mut warm = [ptr::null_mut::<c_void>(); 4];
                // SAFETY: `warm` has room for the 4 frames asked for.
                unsafe { libc::backtrace(warm.as_mut_ptr(), 4) };
                // SAFETY: as above, zeroed is a valid starting value.
                let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                action.sa_flags = libc::SA_RESTART;
                // SAFETY: `action.sa_mask` is a valid sigset to empty; installing a
                // handler that only touches atomics and calls `backtrace`.
                let rc = unsafe {
                    libc::sigemptyset(&mut action.sa_mask);
                    libc::sigaction(sig, &action, ptr::null_mut())
                };
                if rc != 0 {
                    return Err(format!("sigaction: {}", io::Error::last_os_error()));
                }
                Ok(())
            })
            .clone()
            .map_err(|why| {
                io::Error::other(format!("turnstile: watchdog backtraces unavailable: {why}"))
            })
    }

    /// Whether the handler is installed.
    pub(crate) fn installed() -> bool {
        matches!(INSTALLED.get(), Some(Ok(())))
    }

    /// Signals `thread` and waits for its stack. `None` if the handler is not installed,
    /// another capture is stuck, or the thread did not answer in time.
    pub(crate) fn capture(thread: LoopThread) -> Option<Vec<usize>> {
        if thread.tid == 0 || !matches!(INSTALLED.get(), Some(Ok(()))) {
            return None;
        }
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        // A capture the watchdog gave up on may have finished since (a starved loop
        // thread ran its handler late): its frames are stale, the slot is free again.
        let _ = STATE.compare_exchange(DONE, IDLE, Ordering::Acquire, Ordering::Relaxed);
        if STATE
            .compare_exchange(IDLE, ARMED, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return None; // an earlier capture never finished (see the module's caveats)
        }
        // SAFETY: `tgkill` takes plain integers: a thread id that no longer exists in
        // this process makes it fail with ESRCH. The handler is installed, so the
        // signal cannot kill the process.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                libc::getpid(),
                thread.tid as libc::pid_t,
                signal(),
            )
        };
        if rc != 0 {
            STATE.store(IDLE, Ordering::Relaxed);
            return None;
        }
        let deadline = Instant::now() + CAPTURE_TIMEOUT;
        loop {
            match STATE.load(Ordering::Acquire) {
                DONE => break,
                ARMED if Instant::now() >= deadline => {
                    // Not delivered yet: withdraw, unless the handler just took it.
                    if STATE
                        .compare_exchange(ARMED, IDLE, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                    {
                        return None;
                    }
                }
                CAPTURING if Instant::now() >= deadline => return None, // left CAPTURING
                _ => std::thread::sleep(std::time::Duration::from_micros(200)),
            }
        }
        let n = DEPTH.load(Ordering::Relaxed);
        let frames = FRAMES[..n]
            .iter()
            .map(|f| f.load(Ordering::Relaxed))
            .collect();
        STATE.store(IDLE, Ordering::Release);
        Some(frames)
    }

    /// The named frames of captured return addresses, from the interrupted code on:
    /// the handler's own frames and the kernel's signal trampoline are dropped.
    /// Inlined calls are frames of their own, innermost first, as the debug info has
    /// them.
    pub(crate) fn resolve(frames: &[usize]) -> Vec<super::NamedFrame> {
        let mut per_ip: Vec<Vec<super::NamedFrame>> = Vec::with_capacity(frames.len());
        for &ip in frames {
            let mut here = Vec::new();
            // A return address points after the call: look up the call itself.
            backtrace::resolve(ip.saturating_sub(1) as *mut c_void, |sym| {
                here.push(super::NamedFrame {
                    ip,
                    name: sym.name().map(|n| format!("{n:#}")),
                    file: sym.filename().map(super::shorten),
                    line: sym.lineno(),
                });
            });
            if here.is_empty() {
                here.push(super::NamedFrame {
                    ip,
                    name: None,
                    file: None,
                    line: None,
                });
            }
            per_ip.push(here);
        }
        // The handler, then the trampoline (`__restore_rt`), then the interrupted code.
        let handler = per_ip.iter().rposition(|names| {
            names.iter().any(|f| {
                f.name
                    .as_deref()
                    .is_some_and(|n| n.contains("loop_thread::capture::on_signal"))
            })
        });
        let from = handler.map_or(0, |i| (i + 2).min(per_ip.len()));
        per_ip.into_iter().skip(from).flatten().collect()
    }

    /// Reads the debug info of the running binary once (slow: tens to hundreds of
    /// milliseconds for a large one), so that the first stall is named in time.
    pub(crate) fn warm_up() {
        let here = warm_up as fn() as usize;
        backtrace::resolve(here as *mut c_void, |_| {});
    }
}

/// A frame of the loop thread's stack, with its function, file and line where the
/// debug info says them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamedFrame {
    /// The return address it was found by.
    pub(crate) ip: usize,
    /// The function, demangled without its hash.
    pub(crate) name: Option<String>,
    /// Its source file (relative to the working directory when under it).
    pub(crate) file: Option<String>,
    /// Its line.
    pub(crate) line: Option<u32>,
}

impl NamedFrame {
    /// "name at file:line", as a backtrace line.
    pub(crate) fn describe(&self) -> String {
        let name = self
            .name
            .clone()
            .unwrap_or_else(|| format!("{:#x}", self.ip));
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{name} at {file}:{line}"),
            _ => name,
        }
    }

    /// The crate a function belongs to: the first path segment of its name, looking
    /// through `<` of trait impls (`<app::Job as core::future::Future>::poll` is
    /// `app`'s).
    fn crate_name(&self) -> Option<&str> {
        let name = self.name.as_deref()?;
        let name = name.trim_start_matches(['<', '&', '*']);
        let name = name
            .strip_prefix("dyn ")
            .or_else(|| name.strip_prefix("mut "))
            .or_else(|| name.strip_prefix("const "))
            .unwrap_or(name);
        name.split("::").next()
    }

    /// Whether this frame is the user's code: a Rust function (a path) with a file and
    /// a line, whose crate is not the standard library, turnstile or a library between
    /// them and the user ([`NOT_USER_CODE`]).
    pub(crate) fn is_user_code(&self) -> bool {
        if self.file.is_none() || self.line.is_none() {
            return false; // no debug info: libc, the vDSO, a stripped library
        }
        if self
            .file
            .as_deref()
            .is_some_and(|f| f.starts_with("/rustc/"))
        {
            return false; // the standard library, inlined
        }
        if !self.name.as_deref().is_some_and(|n| n.contains("::")) {
            return false; // a C function (libc's, with its debug info installed)
        }
        match self.crate_name() {
            Some(krate) => !NOT_USER_CODE
                .iter()
                .any(|c| krate == *c || krate.starts_with(&format!("{c}_"))),
            None => false,
        }
    }

    /// "src/main.rs:176 in slow": where, then which function (its path without the
    /// crate's name).
    pub(crate) fn blocked_at(&self) -> String {
        let name = self.name.as_deref().unwrap_or("?");
        let short = match name.split_once("::") {
            Some((_, rest)) if !name.starts_with('<') => rest,
            _ => name,
        };
        format!(
            "{}:{} in {short}",
            self.file
                .as_deref()
                .map_or(std::borrow::Cow::Borrowed("?"), crate::short_path),
            self.line.unwrap_or(0)
        )
    }
}

/// Crates whose frames are never "the line that blocked": the standard library,
/// turnstile's own, and the libraries a service's code runs under. A crate named
/// `x_y` counts as `x`'s when `x` is listed (`tower_http`, `futures_util`, ...).
pub(crate) const NOT_USER_CODE: &[&str] = &[
    "std",
    "core",
    "alloc",
    "turnstile",
    "hyper",
    "h2",
    "http",
    "tower",
    "axum",
    "tokio",
    "futures",
    "mio",
    "libc",
    "backtrace",
    "tracing",
    "pin_project",
    "async_task",
    "async_executor",
    "async_io",
    "smol",
];

/// The first frame in the user's code, innermost first.
pub(crate) fn first_user_frame(frames: &[NamedFrame]) -> Option<&NamedFrame> {
    frames.iter().find(|f| f.is_user_code())
}

/// A source path relative to the working directory, when it is under it.
#[cfg_attr(
    not(all(target_os = "linux", target_env = "gnu", not(miri))),
    allow(dead_code)
)]
fn shorten(path: &std::path::Path) -> String {
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        path.strip_prefix(cwd)
            .ok()
            .map(std::path::Path::to_path_buf)
    });
    relative.as_deref().unwrap_or(path).display().to_string()
}

/// Installs the watchdog's backtrace signal handler (once per process).
///
/// # Errors
/// Where backtraces are not supported (not Linux with glibc, or under Miri), or the
/// signal already has a handler.
pub(crate) fn install_backtraces() -> std::io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    return capture::install();
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
    return Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "turnstile: watchdog backtraces need Linux with glibc",
    ));
}

/// The return addresses on `thread`'s stack, taken through the signal (fast: the slow
/// part, naming them, is [`resolve`]).
pub(crate) fn capture_frames(thread: LoopThread) -> Option<Vec<usize>> {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    return capture::capture(thread);
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
    {
        let _ = thread;
        None
    }
}

/// The named frames for return addresses from [`capture_frames`], innermost first.
pub(crate) fn resolve(frames: &[usize]) -> Vec<NamedFrame> {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    return capture::resolve(frames);
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
    return frames
        .iter()
        .map(|&ip| NamedFrame {
            ip,
            name: None,
            file: None,
            line: None,
        })
        .collect();
}

/// Reads the running binary's debug info now, on the calling thread (the watchdog's,
/// when it starts), so that naming the first stall's frames is quick.
pub(crate) fn warm_up_symbols() {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    capture::warm_up();
}

/// Whether the capture's signal handler is installed in this process.
pub(crate) fn capture_installed() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]
    return capture::installed();
    #[cfg(not(all(target_os = "linux", target_env = "gnu", not(miri))))]
    return false;
}
