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
//! Before that, as soon as a poll has run past the stall threshold, the watchdog finds
//! where the loop thread is: it signals the thread, whose handler stores the stack's
//! return addresses into a preallocated buffer (`loop_thread.rs`), names them on the
//! watchdog thread, and keeps the first frame in the user's code ("blocked at
//! src/main.rs:176 in slow") in the beacon's [`Capture`] slot, with what the kernel
//! says the thread is doing (running, or blocked in which system call) and a sample
//! of its scheduling counters (`sched.rs`) from the tick before the poll began. The
//! loop takes the slot when the poll ends, for its stall report; the inspector reads
//! it while the poll still runs. So a stall report names the line that blocked and
//! splits its time into on-CPU, runnable and blocked, at a cost per stall, never per
//! poll: the loop's side is the two stores it already made.
//!
//! With `watchdog_backtrace(true)` each report also carries the whole stack.

use std::fmt;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::{Clock, Ticks};
use crate::loop_thread::{self, LoopThread};
use crate::sched::{SchedReader, SchedSample};

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
    /// Keep the whole backtrace of the loop thread with each capture (the first user
    /// frame is kept whenever the capture's signal handler is installed).
    backtraces: AtomicBool,
    /// Polls at least this many nanoseconds long are captured (zero: the watchdog's
    /// period).
    stall_nanos: AtomicU64,
    /// What the watchdog found out about the poll in progress (or the last one).
    capture: Mutex<Capture>,
    /// The turn in progress (published at `Level::Timing`, for the inspector).
    turn: AtomicU64,
    /// Clock ticks when the loop parked; zero when not parked.
    parked_since: AtomicU64,
}

impl Beacon {
    /// A beacon for a loop running on the calling thread, so that reports can say what
    /// the thread is doing; with `backtraces`, each report also carries the whole
    /// backtrace of it, taken through a signal (Linux with glibc; see the module docs).
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

    /// A beacon for a loop on the calling thread watched by a [`Watchdog`]: polls of
    /// `stall_threshold` or more are captured (the line that blocked, the kernel's
    /// view, the scheduling counters) for their stall reports. The capture's signal
    /// handler is installed if it can be; if not (another handler has the signal, or
    /// not Linux with glibc), stall reports say so and name no line, unless
    /// `backtraces` asked for the whole stack: then that is an error.
    ///
    /// # Errors
    /// With `backtraces`, if the signal handler cannot be installed.
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::watched(std::time::Duration::from_millis(10), false)?;
    /// assert_eq!(beacon.reports(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn watched(stall_threshold: Duration, backtraces: bool) -> std::io::Result<Beacon> {
        let installed = loop_thread::install_backtraces();
        if backtraces {
            installed?;
        }
        let beacon = Beacon::on_this_thread(false)?;
        beacon.backtraces.store(backtraces, Ordering::Relaxed);
        let nanos = u64::try_from(stall_threshold.as_nanos()).unwrap_or(u64::MAX);
        beacon.stall_nanos.store(nanos.max(1), Ordering::Relaxed);
        Ok(beacon)
    }

    /// What the watchdog found out about the poll that started at `start`, taken (the
    /// loop calls this once, when that poll ended as a stall). `None` if the watchdog
    /// did not see that poll.
    ///
    /// ```
    /// let beacon = turnstile_probes::Beacon::default();
    /// assert!(beacon.take_capture(5).is_none());
    /// ```
    pub fn take_capture(&self, start: Ticks) -> Option<Capture> {
        let mut slot = self.capture.lock().unwrap_or_else(PoisonError::into_inner);
        (slot.start == start && start != 0).then(|| std::mem::take(&mut *slot))
    }

    /// The line the poll in progress is blocked at, if the watchdog has found it (for
    /// the inspector).
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Beacon::default().blocked_at(), None);
    /// ```
    pub fn blocked_at(&self) -> Option<String> {
        let started = self.started.load(Ordering::Acquire);
        let slot = self.capture.lock().unwrap_or_else(PoisonError::into_inner);
        (started != 0 && slot.start == started)
            .then(|| slot.blocked_at.clone())
            .flatten()
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
///     blocked_at: Some("src/main.rs:9 in slow".into()),
///     backtrace: None,
/// };
/// assert!(r.to_string().contains("blocked at src/main.rs:9 in slow"));
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
    /// The first frame of the loop thread's stack in the user's code, as "file:line in
    /// function" (`None` if it could not be taken or named: see `docs/stall.md`).
    #[serde(default)]
    pub blocked_at: Option<String>,
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
        if let Some(at) = &self.blocked_at {
            write!(f, "; blocked at {at}")?;
        }
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

/// What the watchdog found out about one poll while it ran, for its stall report.
///
/// ```
/// let c = turnstile_probes::Capture::default();
/// assert!(c.blocked_at.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// The poll's start (clock ticks): which poll this is about.
    start: Ticks,
    /// The loop thread's scheduling counters at the watchdog tick before the poll
    /// began.
    pub(crate) before: Option<SchedSample>,
    /// The first frame in the user's code, "file:line in function".
    pub blocked_at: Option<String>,
    /// Why there is no `blocked_at`, when the capture was tried and failed.
    pub no_line: Option<String>,
    /// The whole stack, innermost first (with `watchdog_backtrace(true)`).
    pub backtrace: Option<Vec<String>>,
    /// What the kernel said the loop thread was doing (running, or blocked in which
    /// system call).
    pub loop_thread: Option<String>,
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
            .spawn(move || {
                let watcher = Watcher::new(clock, period, &beacon);
                watch(watcher, &beacon, hook.as_deref(), &flag);
            })?;
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

/// What the watchdog thread keeps between its looks.
struct Watcher {
    clock: Clock,
    period: Duration,
    /// Polls this long are captured.
    threshold: Duration,
    /// The time between looks.
    tick: Duration,
    /// Reads the loop thread's scheduling counters.
    sched: Option<SchedReader>,
    /// Sends captured frames to the namer thread.
    namer: Option<mpsc::Sender<NameJob>>,
    /// The counters at the last look, taken before it read the beacon.
    last_sample: Option<SchedSample>,
    /// The start of the poll seen last (zero: none).
    seen: Ticks,
    /// The start of the poll captured last, and of the one reported last.
    captured: Ticks,
    reported: Ticks,
}

impl Watcher {
    fn new(clock: Clock, period: Duration, beacon: &Arc<Beacon>) -> Watcher {
        let stall_nanos = beacon.stall_nanos.load(Ordering::Relaxed);
        let threshold = if stall_nanos == 0 {
            period
        } else {
            Duration::from_nanos(stall_nanos).min(period)
        };
        // Four looks per threshold: a stall is captured within a quarter of the
        // threshold after it becomes one.
        let tick = (threshold / 4).max(Duration::from_millis(1));
        let sched = SchedReader::of_thread(beacon.loop_tid.load(Ordering::Relaxed));
        // Naming frames reads debug info (a second or more the first time, in a large
        // debug build): a thread of its own does it, so that the watchdog keeps
        // looking meanwhile.
        let namer = loop_thread::capture_installed()
            .then(|| {
                let (jobs, queue) = mpsc::channel();
                let beacon = beacon.clone();
                thread::Builder::new()
                    .name("turnstile-namer".into())
                    .spawn(move || name_frames(&beacon, &queue))
                    .ok()
                    .map(|_| jobs)
            })
            .flatten();
        Watcher {
            clock,
            period,
            threshold,
            tick,
            sched,
            namer,
            last_sample: None,
            seen: 0,
            captured: 0,
            reported: 0,
        }
    }

    /// One look at the beacon. Returns a report to make, if the poll in progress has
    /// run past the period.
    fn look(&mut self, beacon: &Beacon) -> Option<(WatchdogReport, Option<Names>)> {
        // The counters first, then the beacon: a poll that the beacon does not show
        // yet began after this sample.
        let sample = self.sched.as_ref().and_then(SchedReader::read);
        let started = beacon.started.load(Ordering::Acquire);
        let before = std::mem::replace(&mut self.last_sample, sample);
        if started == 0 {
            return None;
        }
        if started != self.seen {
            // A poll this look sees first: the sample of the look before is from
            // before it began.
            self.seen = started;
            let mut slot = beacon
                .capture
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *slot = Capture {
                start: started,
                before,
                ..Capture::default()
            };
        }
        let running_for = self.clock.between(started, self.clock.now());
        let report_due = running_for >= self.period && self.reported != started;
        let capture_due = running_for >= self.threshold && self.captured != started;
        if !report_due {
            if capture_due {
                self.captured = started;
                self.capture(beacon, started, false);
            }
            return None;
        }
        let task_id = beacon.task.load(Ordering::Relaxed);
        let spawned_at = beacon.spawned_at();
        // The poll may have ended and another begun since `started` was read; then the
        // report names the new task with the old start. Re-reading `started` narrows it.
        if beacon.started.load(Ordering::Acquire) != started {
            return None;
        }
        self.reported = started;
        beacon.reports.fetch_add(1, Ordering::Relaxed);
        // Where it is now, for the report. The poll was seen running past the period:
        // it is reported even if it ends while its frames are being named.
        let found = if capture_due || running_for >= self.threshold * 2 {
            self.captured = started;
            self.capture(beacon, started, true)
        } else {
            let slot = beacon
                .capture
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (slot.start == started).then(|| Found {
                loop_thread: slot.loop_thread.clone(),
                blocked_at: slot.blocked_at.clone(),
                backtrace: slot.backtrace.clone(),
                names: None,
            })
        }
        .unwrap_or_default();
        let report = WatchdogReport {
            task_id,
            spawned_at,
            running_for,
            loop_thread: found.loop_thread,
            blocked_at: found.blocked_at,
            backtrace: found.backtrace,
        };
        Some((report, found.names))
    }

    /// Finds where the poll that began at `started` is, and keeps it in the slot: the
    /// kernel's view at once, the named frames once the namer thread has named them.
    /// With `wait`, the names are also sent back (`Found::names`), for a report.
    /// `None` if the poll ended before the kernel's view and the stack were read.
    fn capture(&self, beacon: &Beacon, started: Ticks, wait: bool) -> Option<Found> {
        let thread = beacon.loop_thread();
        let loop_thread = thread.kernel_view();
        let frames = if loop_thread::capture_installed() {
            loop_thread::capture_frames(thread).ok_or("the loop thread did not answer the signal")
        } else {
            Err("the capture's signal handler is not installed (see docs/stall.md)")
        };
        if beacon.started.load(Ordering::Acquire) != started {
            // The poll ended meanwhile: what was just read may be some later code's.
            return None;
        }
        let mut found = Found {
            loop_thread,
            ..Found::default()
        };
        {
            let mut slot = beacon
                .capture
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.start == started {
                slot.loop_thread.clone_from(&found.loop_thread);
                if slot.blocked_at.is_none() {
                    slot.no_line = Some(match &frames {
                        Ok(_) => "the poll ended before its frames were named (the first \
                                  stall of a process waits for the debug info to be read)"
                            .to_owned(),
                        Err(why) => (*why).to_owned(),
                    });
                }
            }
        }
        let (Ok(frames), Some(namer)) = (frames, &self.namer) else {
            return Some(found);
        };
        let (reply, answer) = if wait {
            let (tx, rx) = mpsc::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let job = NameJob {
            start: started,
            frames,
            reply,
        };
        if namer.send(job).is_ok() {
            found.names = answer;
        }
        Some(found)
    }
}

/// How long a report waits for its frames to be named (the first naming in a process
/// reads the debug info).
const NAMING_WAIT: Duration = Duration::from_secs(5);

/// Frames for the namer thread to name.
struct NameJob {
    /// The poll they are of.
    start: Ticks,
    frames: Vec<usize>,
    /// Where to send the names too (a report waits for them).
    reply: Option<mpsc::Sender<Found>>,
}

/// The namer thread: reads the debug info once, then names each capture's frames and
/// stores them in the slot, if it is still that poll's. Ends with the watchdog.
fn name_frames(beacon: &Beacon, jobs: &mpsc::Receiver<NameJob>) {
    loop_thread::warm_up_symbols();
    for job in jobs {
        let frames = loop_thread::resolve(&job.frames);
        let first = loop_thread::first_user_frame(&frames);
        let blocked_at = first.map(loop_thread::NamedFrame::blocked_at);
        let backtrace = beacon.backtraces.load(Ordering::Relaxed).then(|| {
            frames
                .iter()
                .map(loop_thread::NamedFrame::describe)
                .collect()
        });
        {
            let mut slot = beacon
                .capture
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if slot.start == job.start {
                if blocked_at.is_some() || slot.blocked_at.is_none() {
                    slot.blocked_at.clone_from(&blocked_at);
                    slot.no_line = blocked_at.is_none().then(|| {
                        "no frame of the stack is in the user's code with debug info".to_owned()
                    });
                }
                if backtrace.is_some() {
                    slot.backtrace.clone_from(&backtrace);
                }
            }
        }
        if let Some(reply) = job.reply {
            let _ = reply.send(Found {
                loop_thread: None,
                blocked_at,
                backtrace,
                names: None,
            });
        }
    }
}

/// What one capture found.
#[derive(Default)]
struct Found {
    loop_thread: Option<String>,
    blocked_at: Option<String>,
    backtrace: Option<Vec<String>>,
    /// Where the namer thread sends the names of the frames (for a report).
    names: Option<Names>,
}

/// The namer thread's answer for one report's frames.
type Names = mpsc::Receiver<Found>;

/// A report waiting for its frames' names (the watchdog keeps looking meanwhile).
struct Pending {
    report: WatchdogReport,
    names: Names,
    since: std::time::Instant,
}

impl Pending {
    /// The report with its names, once they came (or `NAMING_WAIT` passed: without
    /// them); `Err(self)` while they may still come. With `stopping`, waits for them.
    fn ready(self: Box<Self>, stopping: bool) -> Result<WatchdogReport, Box<Pending>> {
        let left = NAMING_WAIT.saturating_sub(self.since.elapsed());
        let named = if stopping {
            self.names.recv_timeout(left).ok()
        } else {
            match self.names.try_recv() {
                Ok(named) => Some(named),
                Err(mpsc::TryRecvError::Empty) if !left.is_zero() => return Err(self),
                Err(_) => None,
            }
        };
        let mut report = self.report;
        if let Some(named) = named {
            report.blocked_at = named.blocked_at.or(report.blocked_at);
            report.backtrace = named.backtrace.or(report.backtrace);
        }
        Ok(report)
    }
}

/// The watchdog thread: look four times per threshold (or period) until told to stop.
fn watch(
    mut watcher: Watcher,
    beacon: &Beacon,
    hook: Option<&(dyn Fn(&WatchdogReport) + Send + Sync)>,
    stop: &(Mutex<bool>, Condvar),
) {
    let (lock, cvar) = stop;
    // A report whose frames are still being named: made once they are, while the
    // watchdog keeps looking (the first naming in a process reads the debug info).
    let mut pending: Option<Box<Pending>> = None;
    let mut stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let (guard, _) = cvar
            .wait_timeout(stopped, watcher.tick)
            .unwrap_or_else(PoisonError::into_inner);
        stopped = guard;
        let stopping = *stopped;
        let mut due = Vec::new();
        if let Some(waiting) = pending.take() {
            match waiting.ready(stopping) {
                Ok(report) => due.push(report),
                Err(waiting) => pending = Some(waiting),
            }
        }
        if !stopping {
            match watcher.look(beacon) {
                Some((report, Some(names))) if pending.is_none() => {
                    pending = Some(Box::new(Pending {
                        report,
                        names,
                        since: std::time::Instant::now(),
                    }));
                }
                Some((report, _)) => due.push(report),
                None => {}
            }
        }
        if due.is_empty() {
            if stopping {
                return;
            }
            continue;
        }
        // The hook (or subscriber) is the user's code: called without the stop lock,
        // so that a slow hook never holds up the runtime's drop, and contained, so that
        // a panicking hook leaves the watchdog watching.
        drop(stopped);
        for report in &due {
            tell(hook, report);
        }
        stopped = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if *stopped && pending.is_none() {
            return; // told to stop while the hook ran: its notification is spent
        }
    }
}

/// Makes one report: to the hook, else as a `tracing` warning; a panic in either is
/// contained.
fn tell(hook: Option<&(dyn Fn(&WatchdogReport) + Send + Sync)>, report: &WatchdogReport) {
    let told = panic::catch_unwind(AssertUnwindSafe(|| match hook {
        Some(hook) => hook(report),
        None => tracing::warn!(
            target: "turnstile",
            task_id = report.task_id,
            spawned_at = %report.spawned_at,
            running_for_ms = report.running_for.as_millis() as u64,
            blocked_at = report.blocked_at.as_deref().unwrap_or(""),
            "{report}"
        ),
    }));
    drop(told); // a panic's payload: the hook already said what it had to
}
