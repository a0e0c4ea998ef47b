//! The runtime: the loop thread's state (`Core`) and the `block_on` entry point.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use slab::Slab;
use turnstile_probes::{Counter, Counters, Level, Snapshot, Turn, WakeSource};
use turnstile_reactor::{Driver, Timers};

use crate::builder::Builder;
use crate::context;
use crate::join::{JoinError, JoinHandle};
use crate::spawn_blocking::BlockingPool;
use crate::task::{new_task, BoxedTask, FinishedTask, TaskCounts, TaskSlot};
use crate::waker::{Shared, TaskKey, TaskWaker};

/// Finished tasks kept for snapshots, most recent last.
const TASK_HISTORY: usize = 64;

/// What the loop is doing right now; it decides how a local wake is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    /// Between steps, or polling the `block_on` future: wakes are local.
    Idle,
    /// Polling this task: a wake of the same task is a self-wake.
    Polling(TaskKey),
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
    /// Every live task, by slot.
    pub(crate) tasks: RefCell<Slab<TaskSlot>>,
    /// Tasks to poll, in wake order. A turn polls the ones present when its step 3 begins.
    pub(crate) ready: RefCell<VecDeque<TaskKey>>,
    /// The `block_on` future was woken and is polled at the end of the turn.
    pub(crate) main_woken: Cell<bool>,
    /// The `block_on` future's waker (key `TaskKey::MAIN`).
    pub(crate) main_waker: Waker,
    /// What the loop is doing, to classify wakes.
    pub(crate) activity: Cell<Activity>,
    /// mio: parking and readiness.
    pub(crate) driver: RefCell<Driver>,
    /// Pending sleeps.
    pub(crate) timers: RefCell<Timers>,
    /// Reused buffer of wakers of fired timers.
    pub(crate) fired: RefCell<Vec<Waker>>,
    /// The next task id (ids start at 1; 0 is the `block_on` future).
    pub(crate) next_id: Cell<u64>,
    /// Turns run so far.
    pub(crate) turn: Cell<u64>,
    /// Set while the runtime is being dropped: wakes are ignored, spawns refused.
    pub(crate) shutting_down: Cell<bool>,
    /// The user's per-turn hook.
    pub(crate) on_turn: RefCell<Option<Box<dyn FnMut(&Turn)>>>,
    /// Whether `on_turn` is set (checked every turn without a borrow).
    pub(crate) has_on_turn: bool,
    /// Finished tasks, for snapshots.
    pub(crate) history: RefCell<VecDeque<FinishedTask>>,
    /// Total time parked.
    pub(crate) parked: Cell<Duration>,
    /// Total time inside `block_on`, finished calls only.
    pub(crate) running: Cell<Duration>,
    /// Start of the `block_on` call in progress.
    pub(crate) running_since: Cell<Option<Instant>>,
    /// Threads for `spawn_blocking`.
    pub(crate) blocking: BlockingPool,
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
        let main_waker = Waker::from(Arc::new(TaskWaker {
            shared: shared.clone(),
            key: TaskKey::MAIN,
        }));
        let has_on_turn = b.on_turn.is_some();
        let core = Rc::new_cyclic(|weak_self| Core {
            shared,
            weak_self: weak_self.clone(),
            level: b.level,
            event_interval: b.event_interval,
            io_countdown: Cell::new(b.event_interval),
            counters: Counters::new(b.level),
            tasks: RefCell::new(Slab::new()),
            ready: RefCell::new(VecDeque::new()),
            main_woken: Cell::new(false),
            main_waker,
            activity: Cell::new(Activity::Idle),
            driver: RefCell::new(driver),
            timers: RefCell::new(Timers::new()),
            fired: RefCell::new(Vec::new()),
            next_id: Cell::new(1),
            turn: Cell::new(0),
            shutting_down: Cell::new(false),
            on_turn: RefCell::new(b.on_turn),
            has_on_turn,
            history: RefCell::new(VecDeque::new()),
            parked: Cell::new(Duration::ZERO),
            running: Cell::new(Duration::ZERO),
            running_since: Cell::new(None),
            blocking: BlockingPool::new(b.blocking_threads),
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
        let mut future = pin!(future);
        let main_waker = core.main_waker.clone();
        let mut cx = Context::from_waker(&main_waker);
        let mut output = None;
        core.main_woken.set(true);
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
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let core = &*self.core;
        // Current while futures drop, so that a dropped `Sleep` can cancel its timer.
        let _enter = context::enter(core);
        core.shutting_down.set(true);
        core.shared.shut_down();
        loop {
            let slots: Vec<TaskSlot> = core.tasks.borrow_mut().drain().collect();
            if slots.is_empty() {
                break;
            }
            for slot in slots {
                if let Some(task) = slot.task {
                    task.fail(JoinError::cancelled(slot.id));
                    drop_quietly(task);
                }
            }
        }
        core.ready.borrow_mut().clear();
        core.blocking.shut_down();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("level", &self.core.level)
            .field("event_interval", &self.core.event_interval)
            .field("tasks", &self.core.tasks.borrow().len())
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
        core.running.set(core.running.get() + self.start.elapsed());
        core.running_since.set(None);
    }
}

/// Drops a task's future; a panicking destructor is contained (the loop goes on).
fn drop_quietly(task: BoxedTask) -> bool {
    panic::catch_unwind(AssertUnwindSafe(move || drop(task))).is_err()
}

impl Core {
    /// Whether `shared` belongs to this runtime (a waker of ours).
    #[inline]
    pub(crate) fn owns(&self, shared: &Arc<Shared>) -> bool {
        Arc::ptr_eq(&self.shared, shared)
    }

    /// How a wake of `key` right now is classified.
    #[inline]
    fn wake_source(&self, key: TaskKey) -> WakeSource {
        match self.activity.get() {
            Activity::Polling(current) if current == key => WakeSource::SelfWake,
            Activity::Polling(_) | Activity::Idle => WakeSource::Local,
            Activity::Io => WakeSource::Io,
            Activity::Timer => WakeSource::Timer,
            Activity::Remote => WakeSource::Remote,
        }
    }

    /// A wake on the loop thread: queue the task unless it is queued already.
    #[inline]
    pub(crate) fn wake_local(&self, key: TaskKey) {
        if self.shutting_down.get() {
            return;
        }
        let source = self.wake_source(key);
        if key == TaskKey::MAIN {
            self.counters.record_wake(source);
            if self.main_woken.replace(true) {
                self.counters.bump(Counter::WakesCoalesced);
            }
            return;
        }
        let mut tasks = self.tasks.borrow_mut();
        let Some(slot) = tasks.get_mut(key.index as usize).filter(|s| s.id == key.id) else {
            self.counters.bump(Counter::WakesNoop);
            return;
        };
        self.counters.record_wake(source);
        if self.counters.enabled() {
            slot.counts.wakes += 1;
            slot.counts.wakes_self += u64::from(source == WakeSource::SelfWake);
        }
        if slot.queued {
            self.counters.bump(Counter::WakesCoalesced);
            return;
        }
        slot.queued = true;
        drop(tasks);
        self.ready.borrow_mut().push_back(key);
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
        let mut tasks = self.tasks.borrow_mut();
        let entry = tasks.vacant_entry();
        let index = u32::try_from(entry.key()).expect("more than 2^32 live tasks");
        let key = TaskKey { index, id };
        let waker = Waker::from(Arc::new(TaskWaker {
            shared: self.shared.clone(),
            key,
        }));
        let (task, join) = new_task(future, waker);
        let handle = JoinHandle::new(join, self.weak_self.clone(), key);
        if self.shutting_down.get() {
            // The runtime is being dropped (a destructor spawned): never run it.
            drop(tasks);
            task.fail(JoinError::cancelled(id));
            drop_quietly(task);
            return handle;
        }
        entry.insert(TaskSlot {
            id,
            queued: true,
            abort_requested: false,
            task: Some(task),
            name,
            spawned_at,
            counts: TaskCounts::default(),
        });
        drop(tasks);
        self.ready.borrow_mut().push_back(key);
        self.counters.bump(Counter::Spawns);
        handle
    }

    /// Cancels a task: drops it now, or after its poll if it is running.
    pub(crate) fn abort(&self, key: TaskKey) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(key.index as usize) {
                Some(slot) if slot.id == key.id => {
                    if slot.task.is_none() {
                        // Being polled (it aborts itself): `poll_task` finishes the job.
                        slot.abort_requested = true;
                        None
                    } else {
                        Some(tasks.remove(key.index as usize))
                    }
                }
                _ => None,
            }
        };
        if let Some(slot) = removed {
            self.cancel_removed(slot);
        }
    }

    fn cancel_removed(&self, mut slot: TaskSlot) {
        self.counters.bump(Counter::Cancellations);
        if let Some(task) = slot.task.take() {
            task.fail(JoinError::cancelled(slot.id));
            if drop_quietly(task) {
                self.counters.bump(Counter::Panics);
            }
        }
        self.remember(slot);
    }

    /// Polls one task from the ready queue (the heart of step 3 of a turn).
    #[inline]
    pub(crate) fn poll_task(&self, key: TaskKey) {
        let mut task = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(slot) = tasks.get_mut(key.index as usize).filter(|s| s.id == key.id) else {
                return; // aborted while queued
            };
            slot.queued = false;
            match slot.task.take() {
                Some(task) => task,
                None => return,
            }
        };
        self.counters.bump(Counter::Polls);
        self.activity.set(Activity::Polling(key));
        let result = panic::catch_unwind(AssertUnwindSafe(|| task.as_mut().poll_task()));
        self.activity.set(Activity::Idle);
        let counting = self.counters.enabled();
        match result {
            Ok(Poll::Pending) => {
                self.counters.bump(Counter::PollsPending);
                let abort = {
                    let mut tasks = self.tasks.borrow_mut();
                    let slot = &mut tasks[key.index as usize];
                    if counting {
                        slot.counts.polls += 1;
                        slot.counts.yields += 1;
                    }
                    slot.task = Some(task);
                    slot.abort_requested
                        .then(|| tasks.remove(key.index as usize))
                };
                if let Some(slot) = abort {
                    self.cancel_removed(slot);
                }
            }
            Ok(Poll::Ready(())) => {
                self.counters.bump(Counter::PollsReady);
                self.counters.bump(Counter::Completions);
                let mut slot = self.tasks.borrow_mut().remove(key.index as usize);
                slot.counts.polls += u64::from(counting);
                if drop_quietly(task) {
                    self.counters.bump(Counter::Panics);
                }
                self.remember(slot);
            }
            Err(payload) => {
                self.counters.bump(Counter::Panics);
                let mut slot = self.tasks.borrow_mut().remove(key.index as usize);
                slot.counts.polls += u64::from(counting);
                task.fail(JoinError::panic(slot.id, payload));
                drop_quietly(task);
                self.remember(slot);
            }
        }
    }

    /// Keeps a finished task's numbers in the bounded history.
    fn remember(&self, slot: TaskSlot) {
        if !self.counters.enabled() {
            return;
        }
        let mut history = self.history.borrow_mut();
        if history.len() == TASK_HISTORY {
            history.pop_front();
        }
        history.push_back(FinishedTask {
            id: slot.id,
            name: slot.name,
            spawned_at: slot.spawned_at,
            counts: slot.counts,
        });
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut snap = Snapshot::new(self.level);
        if self.level.is_off() {
            return snap;
        }
        snap.counters = self.counters.get();
        snap.tasks = self
            .history
            .borrow()
            .iter()
            .map(FinishedTask::stats)
            .collect();
        snap.tasks
            .extend(self.tasks.borrow().iter().map(|(_, slot)| slot.stats()));
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
        snap
    }

    /// The wakes queued by other threads, onto the ready queue.
    pub(crate) fn take_remote_wakes(&self) {
        self.activity.set(Activity::Remote);
        self.shared.drain_remote(|key| self.wake_local(key));
        self.activity.set(Activity::Idle);
    }
}
