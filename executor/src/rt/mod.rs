//! `Core`: everything the loop thread owns, in four parts with private fields, and the
//! operations that span them (spawn, wake, poll, abort, release, snapshot).
//!
//! | part | type | owns |
//! |---|---|---|
//! | scheduler | [`Scheduler`] (`scheduler.rs`, `run_queue.rs`, `slots.rs`) | the task slab, the ready queue, the loop's current activity |
//! | driver | [`Driver`] (`crate::driver`) | mio, socket registrations, timers, when to look at I/O |
//! | remote side | [`Remote`] (`remote.rs`) | what other threads touch: the remote queue and the eventfd |
//! | observer | [`Observer`] (`crate::observe`) | counters, timing cells, history, hooks, queued reports |
//!
//! The files of this folder: this one (the parts, spawning, polling, cancelling,
//! releasing, shutting down), `turn.rs` (the turn that drives all of it), `wake.rs`
//! (where a wake goes), `timing.rs` (the timed poll and the stall and lost-waker
//! reports), `snapshot.rs`, `flight.rs` and `inspect.rs` (what the probes read back),
//! `context.rs` (the thread's current runtime), `coop.rs` (the cooperative budget),
//! `join.rs` (join and abort handles).
//!
//! Imports go one way: this folder uses the task layer (`crate::raw`), the probes' event
//! layer (`crate::observe`) and the driver (`crate::driver`); none of those knows
//! `Core`. A task's own state machine lives in `raw/state.rs`. Everything here is
//! loop-thread only, mutated through `Cell`s and short `RefCell` borrows, and no borrow
//! is held while user code runs (a poll, a waker, a destructor, a hook or a subscriber),
//! so user code may re-enter the runtime freely.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr;
use std::rc::Weak;
use std::sync::{self, Arc};
use std::task::{Poll, Waker};
use std::time::Instant;

use turnstile_probes::Counter;

use crate::driver::{BlockingPool, Driver, Job, PoolWaiter};
use crate::observe::Observer;
use crate::raw::state::{Abort, EndPoll, StartPoll};
use crate::raw::{header_of, ErrorKind, Header, LocalTask, TaskCell, TaskKey, TaskPtr};
use join::JoinHandle;
use remote::Remote;
use scheduler::Scheduler;
use wake::{MainWaker, TaskOwner};

mod blocking;
pub(crate) mod context;
pub(crate) mod coop;
mod flight;
mod inspect;
pub(crate) mod join;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
mod record;
pub(crate) mod remote;
mod run_queue;
pub(crate) mod scheduler;
mod slots;
mod snapshot;
mod timing;
mod turn;
pub(crate) mod wake;

/// Everything the loop thread owns.
pub(crate) struct Core {
    /// `remote.id()`, kept here so a wake compares it without a dereference.
    id: u64,
    /// Tasks and the ready queue.
    sched: Scheduler,
    /// mio, sockets and timers.
    driver: Driver,
    /// The part other threads reach through wakers and handles.
    remote: Arc<Remote>,
    /// `Weak` to `remote`, cloned into every task for its wakers.
    weak_remote: sync::Weak<Remote>,
    /// Counters, timing, hooks.
    observe: Observer,
    /// The `block_on` future's waker.
    main_waker: Waker,
    /// The loop thread's number (`context::thread_id`), handed to `JoinHandle`s: the
    /// thread where their join state may be touched.
    thread: u64,
    /// Threads for `spawn_blocking`.
    blocking: BlockingPool,
    /// The runtime's name (`Builder::name`, or `turnstile-N`): the `runtime` label of
    /// its metrics.
    name: Box<str>,
}

/// Runs `f` (a destructor, typically); a panic in it is contained so the loop goes on.
/// Returns what `f` returned, or `None` if it panicked. Inlined: it is on the path of
/// every task's end.
#[inline(always)]
pub(crate) fn contain_panic<R>(f: impl FnOnce() -> R) -> Option<R> {
    panic::catch_unwind(AssertUnwindSafe(f)).ok()
}

impl Core {
    /// Assembles the parts; `weak_self` is the `Rc` the core is being built in.
    pub(crate) fn new(
        driver: Driver,
        observe: Observer,
        blocking: BlockingPool,
        weak_self: Weak<Core>,
        name: Option<Box<str>>,
        budget: Option<u32>,
    ) -> Core {
        let remote = Arc::new(Remote::new(driver.remote_waker()));
        let weak_remote = Arc::downgrade(&remote);
        let main_waker = Waker::from(Arc::new(MainWaker {
            remote: weak_remote.clone(),
            runtime: remote.id(),
        }));
        let name = name.unwrap_or_else(|| format!("turnstile-{}", remote.id()).into());
        // So that a handle reaches the runtime on this thread outside `block_on`.
        context::register(remote.id(), weak_self);
        Core {
            id: remote.id(),
            name,
            sched: Scheduler::new(coop::per_poll(budget)),
            driver,
            remote,
            weak_remote,
            observe,
            main_waker,
            thread: context::thread_id(),
            blocking,
        }
    }

    /// The runtime's id, unique in this process.
    #[inline(always)]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The runtime's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The scheduler.
    #[inline(always)]
    pub(crate) fn sched(&self) -> &Scheduler {
        &self.sched
    }

    /// The driver: sockets, timers, and when to look at them.
    #[inline(always)]
    pub(crate) fn driver(&self) -> &Driver {
        &self.driver
    }

    /// The probes' event layer.
    #[inline(always)]
    pub(crate) fn observe(&self) -> &Observer {
        &self.observe
    }

    /// The remote side.
    #[inline(always)]
    pub(crate) fn remote(&self) -> &Remote {
        &self.remote
    }

    /// The remote side, weakly (for handles).
    pub(crate) fn weak_remote(&self) -> sync::Weak<Remote> {
        self.weak_remote.clone()
    }

    /// The `block_on` future's waker.
    pub(crate) fn main_waker(&self) -> &Waker {
        &self.main_waker
    }

    /// Runs `job` on the blocking pool (`spawn_blocking`).
    pub(crate) fn offload(&self, job: Job) {
        self.observe.bump(Counter::Offloaded);
        self.blocking.submit(job);
    }

    /// Waits, from any thread, for the blocking pool's running jobs
    /// (`Runtime::shutdown_timeout`).
    pub(crate) fn blocking_waiter(&self) -> PoolWaiter {
        self.blocking.waiter()
    }

    // ---- block_on ----

    /// A `block_on` called at `at` begins at `start`: its future is woken, and polls on
    /// this thread get this runtime's budget. Returns the budget limit to put back when
    /// it ends ([`Core::block_on_ended`]).
    pub(crate) fn block_on_started(&self, at: &'static Location<'static>, start: Instant) -> u32 {
        // A previous `block_on` may have unwound out of a turn mid-step.
        self.sched.reset_step();
        let _ = self.sched.wake_main();
        self.observe.block_on_started(at, start);
        coop::replace_budget_limit(self.sched.budget_per_poll())
    }

    /// The `block_on` that began at `start` (on the runtime's clock) returned (or
    /// unwound): the thread's budget limit goes back to `budget`.
    pub(crate) fn block_on_ended(&self, start: Instant, budget: u32) {
        self.observe.block_on_ended(start, self.driver.now());
        coop::replace_budget_limit(budget);
    }

    // ---- spawning ----

    /// Spawns a task onto this runtime; it is polled in the next turn.
    #[inline]
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
        let id = self.sched.next_id();
        // Made before anything is borrowed: a subscriber is the user's code, free to spawn.
        #[cfg(feature = "console")]
        let span = crate::observe::console::task_span(id, name.as_deref(), spawned_at);
        let timed = self.observe.watches_wakes();
        let make = |index: u32| {
            let header = Header::new(self.id, id, index, spawned_at, timed);
            let owner = TaskOwner::new(self.weak_remote.clone());
            #[cfg(not(feature = "console"))]
            let task = TaskCell::new(future, header, owner);
            #[cfg(feature = "console")]
            let task = TaskCell::new(future, header, owner, span);
            task
        };
        if self.sched.is_shutting_down() {
            // A destructor spawned while the runtime is dropped: never run it.
            let task = make(u32::MAX);
            task.header().state.refused();
            let _id = context::TaskIdGuard::enter(id);
            // SAFETY: loop thread, and the task was never polled.
            contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) });
            let key = TaskKey {
                index: u32::MAX,
                id,
            };
            return JoinHandle::new(task, self.id, self.thread, key);
        }
        let (index, task) = self.sched.insert_new(make);
        if let Some(flight) = self.observe.flight_ring() {
            flight.task_spawned(id, name.as_deref(), spawned_at);
        }
        if self.observe.keeps_names() {
            self.observe.spawned(index, id, name);
        }
        JoinHandle::new(task, self.id, self.thread, TaskKey { index, id })
    }

    // ---- polling ----

    /// Polls one task taken off the ready queue (the heart of step 3 of a turn).
    ///
    /// `TIMED_POLL` (chosen once per turn, see `turn.rs`) adds the `Level::Timing` work
    /// around the poll, with the recorder the turn passes in `timing`; the untimed
    /// instance has none of it, not even a branch. `rest`
    /// is the rest of the turn's batch: the tasks a stall makes wait.
    /// Always inlined: each instance of the turn has its own copy (the turn's own
    /// instances, `turn.rs`, are many; a shared out-of-line copy costs a call per poll).
    #[inline(always)]
    pub(crate) fn poll_task<const TIMED_POLL: bool, const FLIGHT: bool>(
        &self,
        ptr: TaskPtr,
        rest: &[TaskPtr],
        timing: Option<&turnstile_probes::Timing>,
    ) {
        // SAFETY: the pointer was queued while the task was `QUEUED`, and a queued task
        // stays owned by the slab (its state releases it only when not queued), so it is
        // alive. `start_poll` clears `QUEUED`; from then on the reference is only used
        // while the slab still owns the task (`release` is the last use).
        let task = unsafe { &*ptr };
        // SAFETY: as above, the task is alive for this whole call.
        let header = unsafe { header_of(ptr) };
        if header.state.start_poll() == StartPoll::Release {
            // Aborted while queued: the queue's pointer was the last thing holding it.
            self.observe.bump(Counter::SkippedEntries);
            drop(self.release(header)); // the last use of the task
            return;
        }
        self.sched.set_current(ptr.cast::<()>());
        coop::refill();
        // `timing` is `Some` exactly in the timed instance (the turn passes it once per
        // batch), so neither instance tests it per poll.
        let timed = if TIMED_POLL { timing } else { None };
        let started = timed.map(|timing| Self::timed_poll_start(timing, header));
        // SAFETY: loop thread; `RUNNING` is set, so nothing else polls or drops the
        // payload during the poll; the task is not done. `ptr` came from `Arc::as_ptr`:
        // the provenance the task's waker needs. A future that panics is dropped during
        // the unwind (`TaskCell::poll`).
        let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { task.poll(ptr.cast()) }));
        // The task stays current until its future is dropped below (`task::id` in its
        // destructor), then `current` is cleared.
        if let (Some(timing), Some(started)) = (timed, started) {
            let pending = matches!(result, Ok(Poll::Pending));
            self.timed_poll_end(timing, header, started, pending, rest);
        }
        if FLIGHT {
            if let Some(flight) = self.observe.flight_ring() {
                flight.poll_ended(header.id, !matches!(result, Ok(Poll::Pending)));
            }
        }
        if self.observe.is_counting() {
            // `polls` is counted per batch by the turn; `polls_pending` is derived.
            header.count_poll();
        }
        let released = match result {
            Ok(Poll::Pending) => match header.state.end_poll(false) {
                EndPoll::Cancel => self.cancel(task, header),
                _ => {
                    if let Some(timing) = timed {
                        self.check_lost_waker(timing, header);
                    }
                    None
                }
            },
            Ok(Poll::Ready(())) => {
                self.observe.bump(Counter::PollsReady);
                self.observe.bump(Counter::Completions);
                self.finish_polled(task, header, None)
            }
            Err(payload) => self.finish_panicked(task, header, payload),
        };
        self.sched.set_current(ptr::null());
        drop(released); // after the last use of `task` and `header`: this may free them
    }

    /// A poll ended the task (`error`: it panicked): drop what is left of its future and
    /// fail or settle its handle, then release it unless its pointer is still queued.
    #[inline(always)]
    #[must_use = "drop the released task only after the last use of its memory"]
    fn finish_polled(
        &self,
        task: &dyn LocalTask,
        header: &Header,
        error: Option<ErrorKind>,
    ) -> Option<Arc<dyn LocalTask>> {
        let EndPoll::Finished { release_now } = header.state.end_poll(true) else {
            unreachable!("a finished poll always ends the task")
        };
        // SAFETY: loop thread, the poll is over, and the task is done (state) first.
        // The task is still `current` (`poll_task`): `task::id` works in its destructor.
        if contain_panic(|| unsafe { task.finish(error) }).unwrap_or(true) {
            self.observe.bump(Counter::DropPanics);
        }
        if release_now {
            self.release(header)
        } else {
            None
        }
    }

    /// `finish_polled` for a poll that panicked (its future is already dropped): out of
    /// line, so that the poll loop keeps only the common paths.
    #[cold]
    #[inline(never)]
    #[must_use = "drop the released task only after the last use of its memory"]
    fn finish_panicked(
        &self,
        task: &dyn LocalTask,
        header: &Header,
        payload: Box<dyn std::any::Any + Send>,
    ) -> Option<Arc<dyn LocalTask>> {
        self.observe.bump(Counter::Panics);
        self.finish_polled(task, header, Some(ErrorKind::Panic(payload)))
    }

    // ---- cancelling and releasing ----

    /// Cancels a task: drops its future now, or right after its poll if it is running.
    pub(crate) fn abort(&self, key: TaskKey) {
        let Some(task) = self.sched.get(key) else {
            return;
        };
        let released = self.cancel(&*task, task.header());
        drop(task);
        drop(released);
    }

    /// Cancels a task that is not being polled (or defers, if it is): its future is
    /// dropped and its handle resolves as cancelled. Returns the slab's reference if it
    /// was released, for the caller to drop after its own last use of the task.
    #[must_use = "drop the released task only after the last use of its memory"]
    fn cancel(&self, task: &dyn LocalTask, header: &Header) -> Option<Arc<dyn LocalTask>> {
        let Abort::Cancel { release_now } = header.state.abort() else {
            return None; // finished already, or running: the poll's end cancels it
        };
        self.observe.bump(Counter::Cancellations);
        if let (Some(timing), Some(cells)) = (self.observe.timing(), self.observe.cells(header)) {
            cells.ended(timing.now());
        }
        // The task's id is `task::id` in its destructor, wherever the abort came from.
        let _id = context::TaskIdGuard::enter(header.id);
        // SAFETY: loop thread, the task is not being polled, and it is done (state)
        // first, so that a destructor that wakes or aborts it again is a no-op. A
        // destructor that panics fails the handle with its panic (`finish`).
        if contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) }).unwrap_or(true) {
            self.observe.bump(Counter::DropPanics);
        }
        // The destructor may have dropped the runtime, which let go of every task:
        // then `release` finds this one released already.
        if release_now {
            self.release(header)
        } else {
            None
        }
    }

    /// Takes a finished task out of the slab, once. Returns what the caller must drop
    /// (the task itself, or the oldest one the history let go), which may free it: so
    /// the caller drops it after its own last use of the task.
    #[inline(always)]
    #[must_use = "drop the released task only after the last use of its memory"]
    fn release(&self, header: &Header) -> Option<Arc<dyn LocalTask>> {
        if !header.state.release() {
            return None;
        }
        let owned = self.sched.remove(header.index);
        self.observe.retire(owned, header)
    }

    // ---- the end ----

    /// The runtime is being dropped: every task is done and its future dropped, once.
    pub(crate) fn shut_down(&self) {
        context::unregister(self.id);
        self.sched.shut_down();
        self.remote.close();
        loop {
            // Destructors may spawn (refused while shutting down) or wake (ignored), so
            // take the tasks out before dropping anything, and go round until none is left.
            let tasks = self.sched.drain();
            if tasks.is_empty() {
                break;
            }
            // Every one is done before any future drops: a destructor that wakes or
            // aborts another task finds it done.
            let unfinished: Vec<bool> =
                tasks.iter().map(|t| t.header().state.shut_down()).collect();
            for (task, unfinished) in tasks.iter().zip(unfinished) {
                if unfinished {
                    let _id = context::TaskIdGuard::enter(task.header().id);
                    // SAFETY: on the loop thread, and no poll is in progress: `block_on`
                    // borrows the runtime, so it cannot be running while it is dropped.
                    contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) });
                }
            }
        }
        drop(self.observe.clear_history());
        self.blocking.shut_down();
    }
}
