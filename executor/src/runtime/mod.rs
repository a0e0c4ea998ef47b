//! The runtime: the public face of the loop (`block_on`, snapshots, handles) over the
//! loop thread's state, `Core` (`crate::rt`).
//!
//! `builder.rs` holds the configuration, this file [`Runtime`] (built from it) and
//! [`EnterGuard`], `handle.rs` the `Send` [`Handle`], `flight.rs` the flight recorder's
//! public face, `metrics.rs` the `metrics` feature's entry points on a `Runtime`.

use std::fmt;
use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use turnstile_probes::{
    Beacon, Clock, CounterValues, InspectState, Inspector, Level, Snapshot, Timing, Watchdog,
};
use turnstile_reactor::Driver as Reactor;

use crate::driver::{BlockingPool, Driver};
use crate::observe::{Flight, Inspect, Observer};
use crate::rt::join::JoinHandle;
use crate::rt::{context, Core};

mod builder;
mod flight;
mod handle;
#[cfg(feature = "metrics")]
mod metrics;
mod record;

pub use builder::Builder;
pub use flight::FlightRecorderRef;
pub use handle::{Handle, RemoteJoinHandle, TryCurrentError};

/// A single-threaded async runtime that counts what its loop does.
///
/// Build one with [`Runtime::new`] (probes at `Level::Timing`) or [`Runtime::builder`],
/// then drive a future with [`Runtime::block_on`]. Tasks spawned inside outlive a
/// `block_on` call and run again in the next; dropping the runtime drops every task that
/// has not finished, exactly once.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let out = rt.block_on(async {
///     turnstile::yield_now().await;
///     "done"
/// });
/// assert_eq!(out, "done");
/// assert_eq!(rt.probes().counters.main_polls, 2);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    core: Rc<Core>,
    /// Where the recording goes when the runtime drops (`Builder::record`).
    record: Option<PathBuf>,
}

impl Runtime {
    /// A runtime with the default settings: probes at `Level::Timing`, `event_interval` 61.
    ///
    /// # Errors
    /// If the OS refuses an epoll instance or an eventfd (for instance, out of file
    /// descriptors).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to set the probe level, the I/O interval, hooks and pool size.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Counters)
    ///     .event_interval(61)
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    pub(crate) fn from_builder(mut b: Builder) -> io::Result<Runtime> {
        // A recording is the `Level::Trace` ring, sized to its limit.
        let recording = record::wanted(b.record.as_deref());
        if recording {
            b.level = b.level.max(Level::Trace);
            b.trace_capacity = b.trace_capacity.max(b.record_limit);
        }
        let reactor = Reactor::new(b.max_events)?;
        let mut timing = (b.level >= Level::Timing)
            .then(|| Box::new(Timing::new(b.level, b.stall_threshold, b.trace_capacity)));
        // The beacon the timing probes publish each poll into: for a watchdog, an
        // inspector, or both. Built on the loop thread (a `Runtime` is not `Send`).
        let beacon = if b.inspect.is_some() || (timing.is_some() && b.watchdog.is_some()) {
            Some(Arc::new(if timing.is_some() && b.watchdog.is_some() {
                // The watchdog captures stalls in progress (the line that blocked).
                Beacon::watched(b.stall_threshold, b.watchdog_backtrace)?
            } else {
                Beacon::on_this_thread(false)?
            }))
        } else {
            None
        };
        if let (Some(timing), Some(beacon)) = (timing.as_deref_mut(), &beacon) {
            timing.set_beacon(beacon.clone());
        }
        let watchdog = match (timing.as_deref(), b.watchdog, &beacon) {
            (Some(timing), Some(period), Some(beacon)) => {
                let clock = timing.clock().clone();
                Some(Watchdog::start(
                    clock,
                    period,
                    beacon.clone(),
                    b.on_watchdog.clone(),
                )?)
            }
            _ => None,
        };
        // Calibrating a clock takes a while: only for an inspector.
        let inspect_clock = b.inspect.as_ref().map(|_| {
            timing
                .as_deref()
                .map_or_else(Clock::new, |t| t.clock().clone())
        });
        let driver = Driver::new(reactor, b.event_interval, b.start_paused);
        let flight = b
            .flight_window
            .map(|window| {
                Flight::new(
                    window,
                    b.stall_threshold,
                    b.flight_max_records,
                    b.flight_dir.clone(),
                    b.flight_min_interval,
                )
                .map(Box::new)
            })
            .transpose()?;
        let observe = Observer::new(
            b.level,
            timing,
            watchdog,
            b.on_turn,
            flight,
            b.inspect.is_some(),
        );
        let blocking = BlockingPool::new(b.blocking_threads);
        let core = Rc::new_cyclic(|weak_self| {
            Core::new(
                driver,
                observe,
                blocking,
                weak_self.clone(),
                b.name,
                b.budget,
            )
        });
        if let (Some(path), Some(beacon), Some(clock)) = (&b.inspect, beacon, inspect_clock) {
            let state = Arc::new(InspectState::new(core.name(), b.level, clock, beacon));
            let server = Inspector::start(path, state.clone()).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot serve the inspector at {}: {e}", path.display()),
                )
            })?;
            core.observe()
                .set_inspect(Inspect::new(state, server, b.inspect_period));
        }
        let record = if recording {
            record::path_for(core.name(), b.record.take())
        } else {
            None
        };
        let rt = Runtime { core, record };
        #[cfg(feature = "metrics")]
        if let Some(period) = b.metrics_period {
            metrics::spawn_publisher(&rt, period);
        }
        Ok(rt)
    }

    /// Runs `future` to completion on this thread, driving every spawned task meanwhile.
    ///
    /// Each iteration is one turn of the loop (see the `turn` module): remote wakes in,
    /// the reactor (parking when nothing is ready), then every task that was ready when
    /// the turn began, then this future if it was woken. Tasks still pending when it
    /// returns stay in the runtime and run in the next `block_on`.
    ///
    /// # Panics
    /// If called inside another `block_on` on this thread (the outer loop could not run
    /// while the inner one blocks: `.await` the future instead, or `spawn` it). A panic
    /// of `future` itself reaches the caller; the runtime stays usable.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let h = rt.block_on(async { turnstile::spawn(async { 7 }) });
    /// assert_eq!(rt.block_on(h).unwrap(), 7);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if context::is_running() {
            panic!(
                "Runtime::block_on called at {} inside another block_on on the same thread: \
                 the outer loop would stall until the inner one returned. `.await` the \
                 future instead, or `turnstile::spawn` it",
                Location::caller()
            );
        }
        let core = &*self.core;
        let _enter = context::enter(core);
        let _running = RunningGuard::start(core, Location::caller());
        let mut future = pin!(future);
        let main_waker = core.main_waker().clone();
        let mut cx = Context::from_waker(&main_waker);
        let mut output = None;
        loop {
            let done = core.turn(&mut || match future.as_mut().poll(&mut cx) {
                Poll::Ready(value) => {
                    output = Some(value);
                    true
                }
                Poll::Pending => false,
            });
            if done {
                return output.expect("the block_on future reported completion without output");
            }
        }
    }

    /// Makes this runtime the thread's current one until the guard drops, without
    /// running its loop: code called outside `block_on` can then create sockets, timers
    /// and tasks, which the loop drives in the next `block_on`. Library code finds the
    /// runtime with [`Handle::current`].
    ///
    /// Guards drop in the reverse order of their making (keep one in a scope). One
    /// dropped out of order clears the current runtime and panics, since the runtime
    /// it would restore may be gone.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = turnstile::Runtime::new()?;
    /// let (nap, task) = {
    ///     let _guard = rt.enter();
    ///     let nap = turnstile::time::sleep(Duration::from_millis(1));
    ///     let task = turnstile::spawn(async { "spawned before block_on" });
    ///     (nap, task)
    /// };
    /// rt.block_on(async {
    ///     nap.await;
    ///     assert_eq!(task.await.unwrap(), "spawned before block_on");
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            inner: Some(context::enter(&self.core)),
            _core: self.core.clone(),
            _runtime: PhantomData,
        }
    }

    /// Spawns `future` onto this runtime from outside `block_on`: it runs when the loop
    /// next turns. The same as `turnstile::spawn` under [`Runtime::enter`]; no `Send`
    /// bound (the runtime is on this thread).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let h = rt.spawn(async { 6 * 7 });
    /// assert_eq!(rt.block_on(h).unwrap(), 42);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.core.spawn(future, None, Location::caller())
    }

    /// Runs `f` on this runtime's blocking pool from outside `block_on`; the same as
    /// [`crate::spawn_blocking`] under [`Runtime::enter`].
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let h = rt.spawn_blocking(|| 2 + 2);
    /// assert_eq!(rt.block_on(h).unwrap(), 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.core.spawn_blocking(f, Location::caller())
    }

    /// Shuts the runtime down and waits up to `timeout` for its blocking pool: every
    /// task is dropped (as when the runtime is dropped), `spawn_blocking` jobs not yet
    /// started are dropped, and the call returns once the running ones have finished,
    /// or when `timeout` has passed (the jobs still running then go on, detached).
    ///
    /// Dropping a `Runtime` does not wait at all (tokio's drop waits without a limit);
    /// this is the call to make when the blocking work must be done before going on.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let rt = turnstile::Runtime::new()?;
    /// let flushed = Arc::new(AtomicBool::new(false));
    /// let f = flushed.clone();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// rt.block_on(async move {
    ///     let _detached = turnstile::spawn_blocking(move || {
    ///         started_tx.send(()).unwrap();
    ///         std::thread::sleep(Duration::from_millis(20));
    ///         f.store(true, Ordering::SeqCst);
    ///     });
    /// });
    /// started.recv().unwrap(); // a pool thread is running it (unstarted jobs are dropped)
    /// rt.shutdown_timeout(Duration::from_secs(10));
    /// assert!(flushed.load(Ordering::SeqCst));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        let pool = self.core.blocking_waiter();
        drop(self);
        pool.wait(timeout);
    }

    /// Shuts the runtime down without waiting for its blocking pool: the same as
    /// dropping it, spelled as in tokio (whose drop would wait).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let _never_awaited = turnstile::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_secs(1)));
    /// });
    /// rt.shutdown_background(); // returns at once; the job finishes on its own thread
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown_background(self) {
        drop(self);
    }

    /// A handle that spawns onto this runtime from any thread.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let handle = rt.handle();
    /// let h = std::thread::spawn(move || handle.spawn(async { 2 })).join().unwrap();
    /// assert_eq!(rt.block_on(h).unwrap(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn handle(&self) -> Handle {
        Handle::new(self.core.weak_remote(), self.core.id())
    }

    /// What the loop recorded so far, as a recording that `turnstile-lab view` steps
    /// through (the file `Builder::record` writes at the drop). Its events are the
    /// `Level::Trace` ring's: none below that level.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Trace)
    ///     .build()?;
    /// rt.block_on(async { turnstile::spawn(async {}).await.unwrap() });
    /// let rec = rt.recording();
    /// assert_eq!(rec.turns(), rt.probes().counters.turns);
    /// assert!(rec.tasks.iter().any(|t| t.id == 1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recording(&self) -> turnstile_probes::Recording {
        self.core.recording()
    }

    /// A snapshot of everything the probes recorded so far.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Counters)
    ///     .build()?;
    /// rt.block_on(async { turnstile::spawn(async {}).await.unwrap() });
    /// let snap = rt.probes();
    /// assert_eq!((snap.counters.spawns, snap.counters.completions), (1, 1));
    /// println!("{snap}");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn probes(&self) -> Snapshot {
        self.core.snapshot()
    }

    /// The counters alone: a copy of a few dozen integers, without the per-task tables,
    /// histograms and sites that [`Runtime::probes`] builds. Cheap enough to sample
    /// often (all zeros at `Level::Off`).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Counters)
    ///     .build()?;
    /// rt.block_on(turnstile::yield_now());
    /// assert_eq!(rt.counters().wakes_self, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn counters(&self) -> CounterValues {
        if self.core.observe().level().is_off() {
            return CounterValues::default();
        }
        self.core.observe().counters().get()
    }
}

/// The runtime's name, and the loop's state for this folder's other files.
impl Runtime {
    /// The runtime's name: the one given to [`Builder::name`], or `turnstile-N` with N
    /// its process-wide id.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(rt.name().starts_with("turnstile-"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(&self) -> &str {
        self.core.name()
    }

    /// The loop's state, for the modules that extend `Runtime` from their own file.
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let core = &*self.core;
        if let Some(path) = self.record.take() {
            write_recording(core, &path);
        }
        // Current while futures drop, so that a dropped `Sleep` can cancel its timer.
        let _enter = context::enter(core);
        core.shut_down();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("level", &self.core.observe().level())
            .field("event_interval", &self.core.driver().event_interval())
            .field("tasks", &self.core.sched().len())
            .field("watchdog", &self.core.observe().has_watchdog())
            .finish()
    }
}

/// Writes the recording of the run that `core` made to `path`, saying on stderr where
/// it went (or why it could not): a drop has no one to return an error to.
fn write_recording(core: &Core, path: &Path) {
    let recording = core.recording();
    match recording.write(path) {
        Ok(()) => eprintln!(
            "turnstile: recorded {} turns of {} to {} ({} events{}); step through it with \
             `turnstile-lab view {}`",
            recording.turns(),
            core.name(),
            path.display(),
            recording.events.len(),
            if recording.dropped > 0 {
                format!(", {} earlier ones cut", recording.dropped)
            } else {
                String::new()
            },
            path.display()
        ),
        Err(e) => eprintln!(
            "turnstile: cannot write the recording of {} to {}: {e}",
            core.name(),
            path.display()
        ),
    }
}

/// The guard of [`Runtime::enter`]: while it lives, its runtime is the thread's current
/// one. Not `Send`: a runtime is current on one thread.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let guard = rt.enter();
/// assert!(turnstile::Handle::try_current().is_ok());
/// drop(guard);
/// assert!(turnstile::Handle::try_current().is_err());
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "the runtime is current only while the guard lives"]
pub struct EnterGuard<'a> {
    inner: Option<context::EnterGuard>,
    /// Keeps the loop's state allocated even if the guard is forgotten (`mem::forget`)
    /// and the runtime dropped: the thread's current pointer then still points at a
    /// live, shut-down `Core`, never at freed memory.
    _core: Rc<Core>,
    _runtime: PhantomData<&'a Runtime>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        if !inner.exit_in_order() && !std::thread::panicking() {
            panic!(
                "a turnstile EnterGuard was dropped out of order (after a guard made \
                 before it): no runtime is current now. Keep each guard in its own scope"
            );
        }
    }
}

impl fmt::Debug for EnterGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard")
            .field("runtime", &self._core.name())
            .finish()
    }
}

/// One `block_on` call's bookkeeping: the thread is marked as running a `block_on` (so
/// another one nested in it is refused), its future starts woken on a clean slate,
/// polls get this runtime's budget, and its time is added to the running total when it
/// returns or unwinds.
struct RunningGuard<'a> {
    core: &'a Core,
    start: Instant,
    /// The budget limit of whatever ran on this thread before.
    budget: u32,
}

impl<'a> RunningGuard<'a> {
    fn start(core: &'a Core, at: &'static Location<'static>) -> Self {
        // On the runtime's clock, as the park time it is compared with.
        let start = core.driver().now();
        let budget = core.block_on_started(at, start);
        context::set_running(true);
        RunningGuard {
            core,
            start,
            budget,
        }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.core.block_on_ended(self.start, self.budget);
        context::set_running(false);
    }
}
