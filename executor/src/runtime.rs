//! The runtime: the loop thread's state (`Core`) and the `block_on` entry point.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::pin;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::{self, Arc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use turnstile_probes::{
    Beacon, ContextSwitches, Counter, CounterValues, Counters, Level, Snapshot, TaskTiming, Timing,
    WakeSource, Watchdog,
};
use turnstile_reactor::{Driver, Timers};

use crate::builder::{Builder, TurnHook};
use crate::context;
use crate::handle::Handle;
use crate::join::{ErrorKind, JoinHandle};
use crate::slots::TaskSlots;
use crate::spawn_blocking::BlockingPool;
use crate::task::{
    header_of, Header, LocalTask, TaskCell, ABORT, DONE, ENDED_BY_POLL, QUEUED, RUNNING, TIMED,
};
use crate::waker::{MainWaker, RemoteWake, Shared};

/// A task on the ready queue: a raw pointer, valid while the task is `QUEUED` because a
/// queued task is always owned by the slab (see `task.rs`).
pub(crate) type TaskPtr = *const dyn LocalTask;

/// Names a task from outside the loop (a `JoinHandle` or `AbortHandle`): its slot and
/// its id, which must match for the key to mean anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskKey {
    pub(crate) index: u32,
    pub(crate) id: u64,
}

/// Finished tasks kept for snapshots, most recent last.
pub(crate) const TASK_HISTORY: usize = 64;

/// What the loop is doing right now; it decides how a local wake is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    /// Polling a task (the one in `Core::current`) or the `block_on` future, or between
    /// steps: wakes are local, except a task's wake of itself.
    Idle,
    /// Dispatching readiness events.
    Io,
    /// Firing expired timers.
    Timer,
    /// Taking in wakes queued by other threads.
    Remote,
}

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
}

/// Everything the loop thread owns. Mutated through `Cell`/`RefCell` only, and never
/// with a `RefCell` borrow held across user code (a poll, a wake of a foreign waker, or
/// a drop of a future), so that user code may re-enter the runtime freely.
pub(crate) struct Core {
    /// The part other threads reach through wakers.
    pub(crate) shared: Arc<Shared>,
    /// `shared.id`, kept here so a wake compares it without a dereference.
    pub(crate) id: u64,
    /// Handed to `JoinHandle`s so that `abort` works on this thread outside `block_on`.
    pub(crate) weak_self: Weak<Core>,
    /// What the probes record.
    pub(crate) level: Level,
    /// Busy turns between two non-blocking reactor polls.
    pub(crate) event_interval: u32,
    /// Busy turns left until the next non-blocking reactor poll.
    pub(crate) io_countdown: Cell<u32>,
    /// The loop's counters.
    pub(crate) counters: Counters,
    /// Every task not yet released, by slot: the owning reference.
    pub(crate) tasks: RefCell<TaskSlots>,
    /// Tasks to poll in the next snapshot, in wake order.
    pub(crate) ready: RefCell<Vec<TaskPtr>>,
    /// The other half of the ready queue's double buffer: the batch a turn is polling.
    pub(crate) batch: RefCell<Vec<TaskPtr>>,
    /// `Weak` to `shared`, cloned into every task for its wakers.
    pub(crate) weak_shared: sync::Weak<Shared>,
    /// The `block_on` future was woken and is polled at the end of the turn.
    pub(crate) main_woken: Cell<bool>,
    /// The `block_on` future's waker.
    pub(crate) main_waker: Waker,
    /// What the loop is doing, to classify wakes.
    pub(crate) activity: Cell<Activity>,
    /// The task being polled (its data pointer), for self-wake detection.
    pub(crate) current: Cell<*const ()>,
    /// mio: parking and readiness.
    pub(crate) driver: RefCell<Driver>,
    /// Pending sleeps.
    pub(crate) timers: RefCell<Timers>,
    /// Reused buffer of wakers to call once no borrow is held: of fired timers, and of
    /// sockets the reactor found ready.
    pub(crate) fired: RefCell<Vec<Waker>>,
    /// The next task id (ids start at 1; 0 is the `block_on` future).
    pub(crate) next_id: Cell<u64>,
    /// Turns run so far.
    pub(crate) turn: Cell<u64>,
    /// Set while the runtime is being dropped: wakes are ignored, spawns refused.
    pub(crate) shutting_down: Cell<bool>,
    /// The user's per-turn hook.
    pub(crate) on_turn: RefCell<Option<TurnHook>>,
    /// Whether `on_turn` is set (checked every turn without a borrow).
    pub(crate) has_on_turn: bool,
    /// The most recently finished tasks (their payloads already dropped), for snapshots.
    pub(crate) history: RefCell<VecDeque<Arc<dyn LocalTask>>>,
    /// Names of the named tasks that are live or in `history`, by task id: kept here
    /// rather than in every header, which unnamed tasks would pay for. Filled only when
    /// the probes count (nothing reads a name at `Level::Off`).
    pub(crate) names: RefCell<HashMap<u64, Box<str>>>,
    /// Total time parked.
    pub(crate) parked: Cell<Duration>,
    /// Total time inside `block_on`, finished calls only.
    pub(crate) running: Cell<Duration>,
    /// Start of the `block_on` call in progress.
    pub(crate) running_since: Cell<Option<Instant>>,
    /// Threads for `spawn_blocking`.
    pub(crate) blocking: BlockingPool,
    /// The timing recorder (probes/src/timing.rs): `Some` at `Level::Timing` and above
    /// only, so `Off` and `Counters` never reach its code. The loop checks it once per
    /// turn and once per queued wake; polls are timed by a separate instance of
    /// `poll_task` chosen once per turn (see `timing.rs`).
    pub(crate) timing: Option<Box<Timing>>,
    /// Each task's timing cells (busy, scheduled and idle time, its await site), by
    /// slab slot: a side table rather than a header field, so that untimed runtimes
    /// spawn tasks exactly as small and as fast as before. Used with `timing` only;
    /// never borrowed across user code (only `spawn` borrows it mutably).
    pub(crate) cells: RefCell<Vec<TaskTiming>>,
    /// The cells of the tasks in `history`, by task id (their slots are reused).
    pub(crate) finished_cells: RefCell<VecDeque<(u64, TaskTiming)>>,
    /// The `block_on` future's timing cells (its scheduling delay and await sites),
    /// `Some` with `timing`.
    pub(crate) main_timing: Option<Box<TaskTiming>>,
    /// Where the `block_on` in progress was called: the "spawn location" of its future.
    pub(crate) main_at: Cell<&'static Location<'static>>,
    /// The watchdog thread, if `Builder::watchdog` asked for one (at `Level::Timing` and
    /// above). Stopped and joined when the runtime drops.
    pub(crate) watchdog: Option<Watchdog>,
    /// The loop thread's context switches when the runtime was built.
    pub(crate) switches_at_start: ContextSwitches,
    /// The runtime's name (`Builder::name`): the `runtime` label of its metrics.
    pub(crate) name: Box<str>,
    /// What the `metrics` feature has handed to the recorder so far (metrics.rs).
    #[cfg(feature = "metrics")]
    pub(crate) metrics: crate::metrics::Published,
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

    pub(crate) fn from_builder(b: Builder) -> io::Result<Runtime> {
        let driver = Driver::new(b.max_events)?;
        let shared = Arc::new(Shared::new(driver.remote_waker()));
        let weak_shared = Arc::downgrade(&shared);
        let main_waker = Waker::from(Arc::new(MainWaker {
            shared: weak_shared.clone(),
            runtime: shared.id,
        }));
        let has_on_turn = b.on_turn.is_some();
        let mut timing = (b.level >= Level::Timing)
            .then(|| Box::new(Timing::new(b.level, b.stall_threshold, b.trace_capacity)));
        let watchdog = match (timing.as_deref_mut(), b.watchdog) {
            (Some(timing), Some(period)) => {
                // Built on the loop thread (a `Runtime` is not `Send`).
                let beacon = Arc::new(Beacon::on_this_thread(b.watchdog_backtrace)?);
                timing.set_beacon(beacon.clone());
                let clock = timing.clock().clone();
                Some(Watchdog::start(clock, period, beacon, b.on_watchdog)?)
            }
            _ => None,
        };
        let main_timing = timing
            .as_deref()
            .map(|t| Box::new(TaskTiming::new(t.now())));
        let name = b
            .name
            .unwrap_or_else(|| format!("turnstile-{}", shared.id).into());
        let core = Rc::new_cyclic(|weak_self| Core {
            id: shared.id,
            shared,
            weak_self: weak_self.clone(),
            level: b.level,
            event_interval: b.event_interval,
            io_countdown: Cell::new(b.event_interval),
            counters: Counters::new(b.level),
            tasks: RefCell::new(TaskSlots::default()),
            ready: RefCell::new(Vec::new()),
            batch: RefCell::new(Vec::new()),
            weak_shared,
            main_woken: Cell::new(false),
            main_waker,
            activity: Cell::new(Activity::Idle),
            current: Cell::new(ptr::null()),
            driver: RefCell::new(driver),
            timers: RefCell::new(Timers::new()),
            fired: RefCell::new(Vec::new()),
            next_id: Cell::new(1),
            turn: Cell::new(0),
            shutting_down: Cell::new(false),
            on_turn: RefCell::new(b.on_turn),
            has_on_turn,
            history: RefCell::new(VecDeque::new()),
            names: RefCell::new(HashMap::new()),
            parked: Cell::new(Duration::ZERO),
            running: Cell::new(Duration::ZERO),
            running_since: Cell::new(None),
            blocking: BlockingPool::new(b.blocking_threads),
            timing,
            cells: RefCell::new(Vec::new()),
            finished_cells: RefCell::new(VecDeque::new()),
            main_timing,
            main_at: Cell::new(Location::caller()),
            watchdog,
            switches_at_start: ContextSwitches::of_this_thread(),
            name,
            #[cfg(feature = "metrics")]
            metrics: Default::default(),
        });
        Ok(Runtime { core })
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
        if context::is_inside() {
            panic!(
                "Runtime::block_on called at {} inside another block_on on the same thread: \
                 the outer loop would stall until the inner one returned. `.await` the \
                 future instead, or `turnstile::spawn` it",
                Location::caller()
            );
        }
        let core = &*self.core;
        let _enter = context::enter(core);
        let _running = RunningGuard::start(core);
        core.main_at.set(Location::caller());
        let mut future = pin!(future);
        let main_waker = core.main_waker.clone();
        let mut cx = Context::from_waker(&main_waker);
        let mut output = None;
        // A previous `block_on` may have unwound out of its future's poll.
        core.current.set(ptr::null());
        core.main_woken.set(true);
        if let (Some(timing), Some(main)) = (&core.timing, &core.main_timing) {
            main.woken(timing.now()); // its scheduling delay runs from here
        }
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
        Handle::new(self.core.weak_shared.clone())
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
        if self.core.level.is_off() {
            return CounterValues::default();
        }
        self.core.counters.get()
    }
}

/// The runtime's name; the `metrics` feature's entry points are in metrics.rs.
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
        &self.core.name
    }

    /// The loop's state, for the modules that extend `Runtime` from their own file.
    #[cfg(feature = "metrics")]
    pub(crate) fn core(&self) -> &Core {
        &self.core
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let core = &*self.core;
        // Current while futures drop, so that a dropped `Sleep` can cancel its timer.
        let _enter = context::enter(core);
        core.shutting_down.set(true);
        core.shared.clear_remote();
        // The queues hold raw pointers into tasks the slab owns: forget them first.
        core.ready.borrow_mut().clear();
        core.batch.borrow_mut().clear();
        loop {
            // Destructors may spawn (refused while shutting down) or wake (ignored), so
            // take the tasks out before dropping anything, and go round until none is left.
            let tasks = core.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                let header = task.header();
                let state = header.state.get();
                if state & DONE == 0 {
                    header.state.set(state | DONE);
                    // SAFETY: on the loop thread, and no poll is in progress: `block_on`
                    // borrows the runtime, so it cannot be running while it is dropped.
                    contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) });
                }
            }
        }
        core.blocking.shut_down();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("level", &self.core.level)
            .field("event_interval", &self.core.event_interval)
            .field("tasks", &self.core.tasks.borrow().len())
            .field("watchdog", &self.core.watchdog.is_some())
            .finish()
    }
}

/// Adds the time spent in one `block_on` call to the running total.
struct RunningGuard<'a> {
    core: &'a Core,
    start: Instant,
}

impl<'a> RunningGuard<'a> {
    fn start(core: &'a Core) -> Self {
        let start = Instant::now();
        core.running_since.set(Some(start));
        RunningGuard { core, start }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        let core = self.core;
        if let Some(timing) = &core.timing {
            timing.beacon_end(); // a block_on future that panicked is no longer polled
        }
        core.running.set(core.running.get() + self.start.elapsed());
        core.running_since.set(None);
    }
}

/// Runs `f` (a destructor, typically); a panic in it is contained so the loop goes on.
/// Returns whether it panicked.
fn contain_panic(f: impl FnOnce()) -> bool {
    panic::catch_unwind(AssertUnwindSafe(f)).is_err()
}

impl Core {
    /// How a wake of the task at `data` right now is classified.
    #[inline]
    pub(crate) fn wake_source(&self, data: *const ()) -> WakeSource {
        if self.current.get() == data {
            return WakeSource::SelfWake;
        }
        match self.activity.get() {
            Activity::Idle => WakeSource::Local,
            Activity::Io => WakeSource::Io,
            Activity::Timer => WakeSource::Timer,
            Activity::Remote => WakeSource::Remote,
        }
    }

    /// What `current` holds while the `block_on` future is polled: an address unique
    /// to this runtime that is no task's, so that its self-wakes are told apart.
    #[inline]
    pub(crate) fn main_marker(&self) -> *const () {
        (&self.main_woken as *const Cell<bool>).cast::<()>()
    }

    /// A wake of the `block_on` future on the loop thread.
    pub(crate) fn wake_main(&self) {
        if self.shutting_down.get() {
            return;
        }
        let source = self.wake_source(self.main_marker());
        self.counters.record_wake(source);
        if self.main_woken.replace(true) {
            self.counters.bump(Counter::WakesCoalesced);
        } else if let (Some(timing), Some(main)) = (&self.timing, &self.main_timing) {
            timing.woken(main, 0, source);
        }
    }

    /// A wake of one of our tasks on the loop thread: queue it unless it is queued
    /// already (coalesced) or finished (a no-op). `task` is the task `header` heads.
    #[inline(always)]
    pub(crate) fn wake_task(&self, header: &Header, task: TaskPtr) {
        let state = header.state.get();
        if state & DONE != 0 || self.shutting_down.get() {
            self.counters.bump(Counter::WakesNoop);
            return;
        }
        if self.counters.enabled() {
            let source = self.wake_source(task.cast::<()>());
            self.counters.record_wake(source);
            bump(&header.wakes);
            if source == WakeSource::SelfWake {
                bump(&header.wakes_self);
            }
        }
        // One test for both: below `Level::Timing` no task has `TIMED`, so the timed
        // path costs nothing there, not even a branch of its own.
        if state & (QUEUED | TIMED) != 0 {
            // Coalesced, or a timed task (then the wake that queues it is stamped for its
            // scheduling delay): out of line, as a tail call, to keep this path small.
            return self.wake_queued_or_timed(header, task);
        }
        header.state.set(state | QUEUED);
        self.ready.borrow_mut().push(task);
    }

    /// Spawns a task onto this runtime.
    pub(crate) fn spawn<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        spawned_at: &'static Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        // Made before the slab is borrowed: a subscriber is the user's code, free to spawn.
        #[cfg(feature = "console")]
        let span = crate::console::task_span(id, name.as_deref(), spawned_at);
        let mut tasks = self.tasks.borrow_mut();
        let index = u32::try_from(tasks.next_key()).expect("more than 2^32 live tasks");
        let header = Header::new(
            self.weak_shared.clone(),
            self.id,
            id,
            index,
            spawned_at,
            self.timing.is_some(),
        );
        #[cfg(not(feature = "console"))]
        let task = TaskCell::new(future, header);
        #[cfg(feature = "console")]
        let task = TaskCell::new(future, header, span);
        let handle = JoinHandle::new(task.clone(), self.weak_self.clone(), TaskKey { index, id });
        if self.shutting_down.get() {
            // A destructor spawned while the runtime is dropped: never run it.
            drop(tasks);
            task.header().state.set(DONE);
            // SAFETY: loop thread, and the task was never polled.
            contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) });
            return handle;
        }
        let ptr: TaskPtr = Arc::<TaskCell<F>>::as_ptr(&task);
        let slot = tasks.insert(task);
        debug_assert_eq!(slot, index as usize);
        drop(tasks);
        if let Some(name) = name.filter(|_| self.counters.enabled()) {
            self.names.borrow_mut().insert(id, name);
        }
        self.ready.borrow_mut().push(ptr);
        self.counters.bump(Counter::Spawns);
        if let Some(timing) = self.timing.as_deref() {
            self.start_cells(index, timing.now());
        }
        handle
    }

    /// Cancels a task: drops its future now, or right after its poll if it is running.
    pub(crate) fn abort(&self, key: TaskKey) {
        let task = {
            let tasks = self.tasks.borrow();
            match tasks.get(key.index as usize) {
                Some(task) if task.header().id == key.id => task.clone(),
                _ => return,
            }
        };
        let header = task.header();
        let state = header.state.get();
        if state & DONE != 0 {
            return;
        }
        if state & RUNNING != 0 {
            // It aborts itself: `poll_task` finishes the job once the poll returns.
            header.state.set(state | ABORT);
            return;
        }
        let released = self.cancel(&*task);
        drop(task);
        drop(released);
    }

    /// Drops a task that is not running, resolving its handle as cancelled. Returns the
    /// slab's reference if it was released, for the caller to drop once it no longer
    /// uses the task (the drop may free it).
    #[must_use = "drop the released task only after the last use of its memory"]
    fn cancel(&self, task: &dyn LocalTask) -> Option<Arc<dyn LocalTask>> {
        let header = task.header();
        header.state.set(header.state.get() | DONE);
        self.counters.bump(Counter::Cancellations);
        if let Some(timing) = self.timing.as_deref() {
            if let Some(cells) = self.cells.borrow().get(header.index as usize) {
                cells.ended(timing.now());
            }
        }
        // SAFETY: loop thread, the task is not being polled, and `DONE` is set first so
        // that a destructor that wakes or aborts it again is a no-op.
        if contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) }) {
            self.counters.bump(Counter::DropPanics);
        }
        self.release_if_unqueued(header)
    }

    /// Takes the slab's reference to a finished task, unless its pointer is still on the
    /// ready queue (the loop releases it when it takes it off).
    #[must_use = "drop the released task only after the last use of its memory"]
    fn release_if_unqueued(&self, header: &Header) -> Option<Arc<dyn LocalTask>> {
        if header.state.get() & QUEUED == 0 {
            self.release(header.index)
        } else {
            None
        }
    }

    /// Takes a finished task out of the slab. Returns what the caller must drop (the
    /// task itself, or the oldest one the history let go), which may free it: so the
    /// caller drops it after its own last use of the task, and no reference into the
    /// task is an argument of this function.
    #[must_use = "drop the released task only after the last use of its memory"]
    fn release(&self, index: u32) -> Option<Arc<dyn LocalTask>> {
        let owned = self.tasks.borrow_mut().remove(index as usize);
        if !self.counters.enabled() {
            return Some(owned);
        }
        if self.timing.is_some() {
            self.keep_finished_cells(owned.header());
        }
        // Keep the finished task itself (its future is gone; only the header is left to
        // read), so that a snapshot can describe it without any work done here.
        let mut history = self.history.borrow_mut();
        let evicted = if history.len() == TASK_HISTORY {
            history.pop_front()
        } else {
            None
        };
        history.push_back(owned);
        drop(history);
        if let Some(gone) = &evicted {
            let mut names = self.names.borrow_mut();
            if !names.is_empty() {
                names.remove(&gone.header().id); // a hash only where tasks have names
            }
        }
        evicted
    }

    /// A task's name, copied (for reports, which run user code: no borrow is kept).
    pub(crate) fn task_name(&self, id: u64) -> Option<Box<str>> {
        self.names.borrow().get(&id).cloned()
    }

    /// Polls one task taken off the ready queue (the heart of step 3 of a turn).
    ///
    /// `TIMED_POLL` (chosen once per turn, see `turn.rs`) adds the `Level::Timing` work
    /// around the poll; the untimed instance has none of it, not even a branch. `rest`
    /// is the rest of the turn's batch: the tasks a stall makes wait.
    #[inline]
    pub(crate) fn poll_task<const TIMED_POLL: bool>(&self, ptr: TaskPtr, rest: &[TaskPtr]) {
        // SAFETY: the pointer was queued while the task was `QUEUED`, and a queued task
        // stays owned by the slab (it is released only when `DONE` and not `QUEUED`), so
        // it is alive. We clear `QUEUED` below, and from then on the reference is only
        // used while the slab still owns the task (`release` is the last use).
        let task = unsafe { &*ptr };
        // SAFETY: as above, the task is alive for this whole call.
        let header = unsafe { header_of(ptr) };
        let state = header.state.get() & !QUEUED;
        if state & DONE != 0 {
            // Aborted while queued: the queue's pointer was the last thing holding it.
            self.counters.bump(Counter::SkippedEntries);
            header.state.set(state);
            let index = header.index;
            drop(self.release(index)); // the last use of the task
            return;
        }
        header.state.set(state | RUNNING);
        self.current.set(ptr.cast::<()>());
        let started = if TIMED_POLL {
            self.timed_poll_start(header)
        } else {
            None
        };
        // SAFETY: loop thread; `RUNNING` is set, so nothing else polls or drops the
        // payload during the poll; the task is not `DONE`.
        // `ptr` came from `Arc::as_ptr`: the provenance the task's waker needs.
        let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { task.poll(ptr.cast()) }));
        self.current.set(ptr::null());
        if TIMED_POLL {
            let pending = matches!(result, Ok(Poll::Pending));
            self.timed_poll_end(task, header, started, pending, rest);
        }
        if self.counters.enabled() {
            // `polls` is counted per batch by the turn; `polls_pending` is derived.
            bump(&header.polls);
        }
        let state = header.state.get() & !RUNNING;
        let released = match result {
            Ok(Poll::Pending) => {
                header.state.set(state);
                if state & ABORT != 0 {
                    self.cancel(task)
                } else {
                    None
                }
            }
            Ok(Poll::Ready(())) => {
                self.counters.bump(Counter::PollsReady);
                self.counters.bump(Counter::Completions);
                header.state.set(state | DONE | ENDED_BY_POLL);
                // SAFETY: loop thread, poll finished, `DONE` set first.
                if contain_panic(|| unsafe { task.finish(None) }) {
                    self.counters.bump(Counter::DropPanics);
                }
                self.release_if_unqueued(header)
            }
            Err(payload) => {
                self.counters.bump(Counter::Panics);
                header.state.set(state | DONE | ENDED_BY_POLL);
                let error = ErrorKind::Panic(payload);
                // SAFETY: loop thread, the poll unwound and is over, `DONE` set first.
                if contain_panic(|| unsafe { task.finish(Some(error)) }) {
                    self.counters.bump(Counter::DropPanics);
                }
                self.release_if_unqueued(header)
            }
        };
        drop(released); // after the last use of `task` and `header`: this may free them
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot::new(self.level);
        if self.level.is_off() {
            return snap;
        }
        snap.counters = self.counters.get();
        snap.tasks = self.task_stats();
        snap.parked = self.parked.get();
        snap.running = self.running.get()
            + self
                .running_since
                .get()
                .map(|s| s.elapsed())
                .unwrap_or_default();
        let timers = self.timers.borrow();
        snap.timers_pending = timers.len() as u64;
        snap.timer_slots = timers.slot_capacity() as u64;
        snap.timer_heap = timers.heap_len() as u64;
        snap.context_switches = ContextSwitches::of_this_thread().since(&self.switches_at_start);
        self.timing_snapshot(&mut snap);
        snap
    }

    /// The wakes queued by other threads, onto the ready queue.
    #[inline(never)]
    pub(crate) fn take_remote_wakes(&self) {
        self.activity.set(Activity::Remote);
        self.shared.drain_remote(|wake| match wake {
            RemoteWake::Main => self.wake_main(),
            RemoteWake::Spawn(request) => request(self),
            RemoteWake::Task(task) => {
                if task.header().runtime == self.id {
                    self.wake_task(task.header(), Arc::as_ptr(&task));
                }
            }
        });
        self.activity.set(Activity::Idle);
    }
}

#[inline(always)]
fn bump(cell: &Cell<u64>) {
    cell.set(cell.get() + 1);
}
