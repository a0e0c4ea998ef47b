//! The watchdog: a thread that notices a poll that has been running too long, while it
//! is still running.
//!
//! A stall report is written when the poll returns; a loop that never comes back (a
//! deadlock, an endless loop, a read with no timeout) never writes one. So the loop
//! publishes "polling task N since T" in a [`Beacon`] of atomics (two relaxed stores per
//! poll, at `Level::Timing` and above, only when a watchdog runs), and a watchdog thread
//! looks at it a few times per period. A poll older than the period is reported once:
//! to the user's callback if one was given, else as a `tracing` warning under target
//! `turnstile`, and counted in the next snapshot (`watchdog_reports`).
//!
//! The report says which task and where it was spawned, what the kernel says the loop
//! thread is doing (running, or blocked in which system call: read from `/proc`, safe
//! and always on), and, if the runtime was built with `watchdog_backtrace(true)`, a
//! backtrace of the loop thread taken through a signal (see `loop_thread.rs` for how
//! and its caveats).

use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::loop_thread::{self, LoopThread};

/// What the loop publishes for the watchdog: the poll in progress.
///
/// ```
/// let beacon = turnstile_probes::Beacon::default();
/// beacon.poll_started(7, 100, std::panic::Location::caller());
/// beacon.poll_ended();
/// assert_eq!(beacon.reports(), 0);
/// ```
#[derive(Debug, Default)]
pub struct Beacon {
    /// Clock ticks at the start of the poll in progress; zero when not polling.
    started: AtomicU64,
    /// The id of the task being polled.
    task: AtomicU64,
    /// Where that task was spawned.
    spawned_at: AtomicPtr<Location<'static>>,
    /// Reports made so far.
    reports: AtomicU64,
    /// The loop thread's kernel id (zero: unknown).
    loop_tid: AtomicI64,
    /// Take a backtrace of the loop thread with each report.
    backtraces: AtomicBool,
    /// The turn in progress (published at `Level::Timing`, for the inspector).
    turn: AtomicU64,
    /// Clock ticks when the loop parked; zero when not parked.
    parked_since: AtomicU64,
}

impl Beacon {
    /// A beacon for a loop running on the calling thread, so that reports can say what
    /// the thread is doing; with `backtraces`, each report also carries a backtrace of
    /// it, taken through a signal (Linux with glibc; see the module docs for caveats).
    ///
    /// # Errors
    /// With `backtraces`, if the signal handler cannot be installed (unsupported
    /// platform, or the signal already has a handler).
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::on_this_thread(false)?;
    /// assert_eq!(beacon.reports(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_this_thread(backtraces: bool) -> std::io::Result<Beacon> {
        if backtraces {
            loop_thread::install_backtraces()?;
        }
        let me = LoopThread::current();
        let beacon = Beacon::default();
        beacon.loop_tid.store(me.tid, Ordering::Relaxed);
        beacon.backtraces.store(backtraces, Ordering::Relaxed);
        Ok(beacon)
    }

    fn loop_thread(&self) -> LoopThread {
        LoopThread {
            tid: self.loop_tid.load(Ordering::Relaxed),
        }
    }

    /// A poll of task `id` (spawned at `at`) starts at `now`.
    ///
    /// ```
    /// turnstile_probes::Beacon::default().poll_started(1, 1, std::panic::Location::caller());
    /// ```
    #[inline]
    pub fn poll_started(&self, id: u64, now: u64, at: &'static Location<'static>) {
        self.task.store(id, Ordering::Relaxed);
        self.spawned_at
            .store(ptr::from_ref(at).cast_mut(), Ordering::Relaxed);
        // Release: the watchdog that sees this start also sees the task above.
        self.started.store(now, Ordering::Release);
    }

    /// The poll in progress returned.
    ///
    /// ```
    /// turnstile_probes::Beacon::default().poll_ended();
    /// ```
    #[inline]
    pub fn poll_ended(&self) {
        self.started.store(0, Ordering::Relaxed);
    }

    /// A turn begins (for the inspector).
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::default();
    /// beacon.turn_started(3);
    /// assert_eq!(beacon.turn(), 3);
    /// ```
    #[inline]
    pub fn turn_started(&self, turn: u64) {
        self.turn.store(turn, Ordering::Relaxed);
    }

    /// The turn last published.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Beacon::default().turn(), 0);
    /// ```
    pub fn turn(&self) -> u64 {
        self.turn.load(Ordering::Relaxed)
    }

    /// The loop parks at `now` (`0`: the park ended).
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::default();
    /// beacon.parked(5);
    /// assert_eq!(beacon.parked_since(), Some(5));
    /// beacon.parked(0);
    /// assert_eq!(beacon.parked_since(), None);
    /// ```
    #[inline]
    pub fn parked(&self, now: u64) {
        self.parked_since.store(now, Ordering::Relaxed);
    }

    /// When the park in progress began, if the loop is parked.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Beacon::default().parked_since(), None);
    /// ```
    pub fn parked_since(&self) -> Option<u64> {
        Some(self.parked_since.load(Ordering::Relaxed)).filter(|&t| t != 0)
    }

    /// The poll in progress: the task's id, when it started and where it was spawned.
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::default();
    /// assert!(beacon.polling().is_none());
    /// beacon.poll_started(7, 100, std::panic::Location::caller());
    /// assert_eq!(beacon.polling().unwrap().0, 7);
    /// ```
    pub fn polling(&self) -> Option<(u64, u64, String)> {
        let started = self.started.load(Ordering::Acquire);
        if started == 0 {
            return None;
        }
        let task = self.task.load(Ordering::Relaxed);
        Some((task, started, self.spawned_at()))
    }

    /// Where the task being polled was spawned (empty if none has been).
    fn spawned_at(&self) -> String {
        let at = self.spawned_at.load(Ordering::Relaxed);
        // SAFETY: the pointer is null or was stored from a `&'static Location`.
        unsafe { at.as_ref() }.map_or_else(String::new, ToString::to_string)
    }

    /// What the kernel says the loop thread is doing now (Linux; see the module docs).
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::on_this_thread(false)?;
    /// let _ = beacon.loop_thread_view();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn loop_thread_view(&self) -> Option<String> {
        self.loop_thread().kernel_view()
    }

    /// Reports the watchdog has made.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Beacon::default().reports(), 0);
    /// ```
    pub fn reports(&self) -> u64 {
        self.reports.load(Ordering::Relaxed)
    }
}

/// A poll the watchdog caught running longer than its period.
///
/// ```
/// let r = turnstile_probes::WatchdogReport {
///     task_id: 2,
///     spawned_at: "src/main.rs:4:5".into(),
///     running_for: std::time::Duration::from_millis(250),
///     loop_thread: Some("blocked in system call clock_nanosleep (a sleep)".into()),
///     backtrace: None,
/// };
/// assert!(r.to_string().contains("still running"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchdogReport {
    /// The task being polled (0 for the `block_on` future).
    pub task_id: u64,
    /// Where it was spawned.
    pub spawned_at: String,
    /// How long the poll had been running when the watchdog looked.
    pub running_for: Duration,
    /// What the kernel said the loop thread was doing then: running on a CPU, or
    /// blocked in which system call (Linux; `None` elsewhere).
    pub loop_thread: Option<String>,
    /// The loop thread's stack then, innermost frame first (with
    /// `Builder::watchdog_backtrace(true)`; `None` otherwise or if it could not be taken).
    pub backtrace: Option<Vec<String>>,
}

impl fmt::Display for WatchdogReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "watchdog: task {} spawned at {} has been in one poll for {:.1?} and is still running",
            self.task_id, self.spawned_at, self.running_for
        )?;
        if let Some(doing) = &self.loop_thread {
            write!(f, "; the loop thread is {doing}")?;
        }
        if let Some(frames) = &self.backtrace {
            write!(f, "; its stack:")?;
            for frame in frames {
                write!(f, "\n    {frame}")?;
            }
        }
        Ok(())
    }
}

/// What the watchdog calls with each report (on the watchdog thread).
pub type WatchdogHook = Arc<dyn Fn(&WatchdogReport) + Send + Sync>;

/// The running watchdog thread; stops (and joins it) when dropped.
pub struct Watchdog {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

impl Watchdog {
    /// Starts a thread that watches `beacon` and reports any poll older than `period`.
    ///
    /// # Errors
    /// If the thread cannot be started.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let beacon = Arc::new(turnstile_probes::Beacon::default());
    /// let clock = turnstile_probes::Clock::new();
    /// let dog = turnstile_probes::Watchdog::start(
    ///     clock, std::time::Duration::from_millis(50), beacon, None)?;
    /// drop(dog);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(
        clock: Clock,
        period: Duration,
        beacon: Arc<Beacon>,
        hook: Option<WatchdogHook>,
    ) -> std::io::Result<Watchdog> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = stop.clone();
        let period = period.max(Duration::from_millis(1));
        let thread = thread::Builder::new()
            .name("turnstile-watchdog".into())
            .spawn(move || watch(&clock, period, &beacon, hook.as_deref(), &flag))?;
        Ok(Watchdog {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.stop;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cvar.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The watchdog thread: look four times per period until told to stop.
fn watch(
    clock: &Clock,
    period: Duration,
    beacon: &Beacon,
    hook: Option<&(dyn Fn(&WatchdogReport) + Send + Sync)>,
    stop: &(Mutex<bool>, Condvar),
) {
    let (lock, cvar) = stop;
    let mut reported = 0u64; // the start tick of the poll last reported
    let mut stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let (guard, _) = cvar
            .wait_timeout(stopped, period / 4)
            .unwrap_or_else(PoisonError::into_inner);
        stopped = guard;
        if *stopped {
            return;
        }
        let started = beacon.started.load(Ordering::Acquire);
        if started == 0 || started == reported {
            continue;
        }
        let running_for = clock.between(started, clock.now());
        if running_for < period {
            continue;
        }
        let task_id = beacon.task.load(Ordering::Relaxed);
        let spawned_at = beacon.spawned_at();
        // The poll may have ended and another begun since `started` was read; then the
        // report names the new task with the old start. Re-reading `started` narrows it.
        if beacon.started.load(Ordering::Acquire) != started {
            continue;
        }
        let thread = beacon.loop_thread();
        let mut loop_thread = thread.kernel_view();
        let mut frames = if beacon.backtraces.load(Ordering::Relaxed) {
            loop_thread::capture_frames(thread)
        } else {
            None
        };
        if beacon.started.load(Ordering::Acquire) != started {
            // The poll ended meanwhile: what was just read may be some later code's.
            loop_thread = None;
            frames = None;
        }
        // Naming the frames reads debug info (slow the first time): after the check.
        let backtrace = frames.map(|f| loop_thread::symbolize(&f));
        reported = started;
        beacon.reports.fetch_add(1, Ordering::Relaxed);
        let report = WatchdogReport {
            task_id,
            spawned_at,
            running_for,
            loop_thread,
            backtrace,
        };
        // The hook (or subscriber) is the user's code: called without the stop lock,
        // so that a slow hook never holds up the runtime's drop, and contained, so that
        // a panicking hook leaves the watchdog watching.
        drop(stopped);
        let told = panic::catch_unwind(AssertUnwindSafe(|| match hook {
            Some(hook) => hook(&report),
            None => tracing::warn!(
                target: "turnstile",
                task_id = report.task_id,
                spawned_at = %report.spawned_at,
                running_for_ms = report.running_for.as_millis() as u64,
                "{report}"
            ),
        }));
        drop(told); // a panic's payload: the hook already said what it had to
        stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if *stopped {
            return; // told to stop while the hook ran: its notification is spent
        }
    }
}
