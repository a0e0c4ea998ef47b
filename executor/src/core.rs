//! `Core`: everything the loop thread owns, in four parts with private fields, and the
//! operations that span them (spawn, wake, poll, abort, release, snapshot).
//!
//! | part | type | owns |
//! |---|---|---|
//! | scheduler | [`Scheduler`] (`scheduler.rs`, `run_queue.rs`, `slots.rs`) | the task slab, the ready queue, the loop's current activity |
//! | I/O driver | [`IoDriver`] (`io_driver.rs`) | mio, socket registrations, timers |
//! | remote side | [`Remote`] (`remote.rs`) | what other threads touch: the remote queue and the eventfd |
//! | probes | [`Recorder`] (`recorder.rs`, `timing.rs`) | counters, timing cells, history, hooks, queued reports |
//!
//! A task's own state machine lives in `task/state.rs`; the turn that drives all of
//! this, in `turn.rs`. Everything here is loop-thread only, mutated through `Cell`s and
//! short `RefCell` borrows, and no borrow is held while user code runs (a poll, a waker,
//! a destructor, a hook or a subscriber), so user code may re-enter the runtime freely.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr;
use std::rc::Weak;
use std::sync::{self, Arc};
use std::task::{Poll, Waker};

use turnstile_probes::{Counter, Level, Snapshot, WakeSource};

use crate::context;
use crate::io_driver::IoDriver;
use crate::join::JoinHandle;
use crate::recorder::Recorder;
use crate::remote::{count_orphan_wake, Remote, RemoteWake};
pub(crate) use crate::scheduler::TaskKey;
use crate::scheduler::{Activity, Scheduler};
use crate::spawn_blocking::BlockingPool;
use crate::task::state::{Abort, EndPoll, StartPoll, Wake};
use crate::task::{header_of, ErrorKind, Header, LocalTask, TaskCell, TaskPtr};

/// Everything the loop thread owns.
pub(crate) struct Core {
    /// `remote.id()`, kept here so a wake compares it without a dereference.
    id: u64,
    /// Tasks and the ready queue.
    sched: Scheduler,
    /// mio, sockets and timers.
    io: IoDriver,
    /// The part other threads reach through wakers and handles.
    remote: Arc<Remote>,
    /// `Weak` to `remote`, cloned into every task for its wakers.
    weak_remote: sync::Weak<Remote>,
    /// Counters, timing, hooks.
    probes: Recorder,
    /// The `block_on` future's waker.
    main_waker: Waker,
    /// Handed to `JoinHandle`s so that `abort` works on this thread outside `block_on`.
    weak_self: Weak<Core>,
    /// Threads for `spawn_blocking`.
    blocking: BlockingPool,
    /// The runtime's name (`Builder::name`, or `turnstile-N`): the `runtime` label of
    /// its metrics.
    name: Box<str>,
}

/// Runs `f` (a destructor, typically); a panic in it is contained so the loop goes on.
/// Returns whether it panicked.
pub(crate) fn contain_panic(f: impl FnOnce()) -> bool {
    panic::catch_unwind(AssertUnwindSafe(f)).is_err()
}

impl Core {
    /// Assembles the parts; `weak_self` is the `Rc` the core is being built in.
    pub(crate) fn new(
        io: IoDriver,
        probes: Recorder,
        blocking: BlockingPool,
        weak_self: Weak<Core>,
        name: Option<Box<str>>,
        budget: Option<u32>,
    ) -> Core {
        let remote = Arc::new(Remote::new(io.remote_waker()));
        let weak_remote = Arc::downgrade(&remote);
        let main_waker = Waker::from(Arc::new(MainWaker {
            remote: weak_remote.clone(),
            runtime: remote.id(),
        }));
        let name = name.unwrap_or_else(|| format!("turnstile-{}", remote.id()).into());
        Core {
            id: remote.id(),
            name,
            sched: Scheduler::new(budget),
            io,
            remote,
            weak_remote,
            probes,
            main_waker,
            weak_self,
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

    /// The I/O driver side.
    #[inline(always)]
    pub(crate) fn io(&self) -> &IoDriver {
        &self.io
    }

    /// The probes.
    #[inline(always)]
    pub(crate) fn probes(&self) -> &Recorder {
        &self.probes
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

    /// The blocking pool.
    pub(crate) fn blocking(&self) -> &BlockingPool {
        &self.blocking
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
        let span = crate::console::task_span(id, name.as_deref(), spawned_at);
        let timed = self.probes.watches_wakes();
        let make = |index: u32| {
            let header = Header::new(
                self.weak_remote.clone(),
                self.id,
                id,
                index,
                spawned_at,
                timed,
            );
            #[cfg(not(feature = "console"))]
            let task = TaskCell::new(future, header);
            #[cfg(feature = "console")]
            let task = TaskCell::new(future, header, span);
            task
        };
        if self.sched.is_shutting_down() {
            // A destructor spawned while the runtime is dropped: never run it.
            let task = make(u32::MAX);
            task.header().state.refused();
            // SAFETY: loop thread, and the task was never polled.
            contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) });
            let key = TaskKey {
                index: u32::MAX,
                id,
            };
            return JoinHandle::new(task, self.weak_self.clone(), key);
        }
        let (index, task) = self.sched.insert_new(make);
        if self.probes.keeps_names() {
            self.probes.spawned(index, id, name);
        }
        JoinHandle::new(task, self.weak_self.clone(), TaskKey { index, id })
    }

    // ---- waking ----

    /// A wake of one of our tasks on the loop thread: queue it unless it is queued
    /// already (coalesced) or finished (a no-op). `task` is the task `header` heads.
    #[inline(always)]
    pub(crate) fn wake_task(&self, header: &Header, task: TaskPtr) {
        match header.state.wake() {
            Wake::Queue => {
                if self.probes.is_counting() {
                    self.count_wake(header, task);
                }
                self.sched.push(task);
            }
            // A task of a runtime whose only watcher of wakes is the flight recorder.
            Wake::QueueTimed if self.probes.flight_only() => self.wake_flight(header, task),
            // Coalesced, finished or timed: out of line, as a tail call.
            other => self.wake_slow(header, task, other),
        }
    }

    /// Counts a wake of `task` and returns its source.
    #[inline(always)]
    fn count_wake(&self, header: &Header, task: TaskPtr) -> WakeSource {
        let source = self.sched.wake_source(task.cast::<()>());
        self.probes.counters().record_wake(source);
        header.count_wake(source);
        source
    }

    /// The rest of `wake_task`: a coalesced or no-op wake, or one that queues a timed
    /// task (stamped for its scheduling delay, and traced at `Level::Trace`). A timed
    /// task here means `Level::Timing`: a runtime whose only watcher of wakes is the
    /// flight recorder takes `wake_flight` in `wake_task` instead.
    #[inline(never)]
    fn wake_slow(&self, header: &Header, task: TaskPtr, wake: Wake) {
        if wake == Wake::Finished {
            self.probes.bump(Counter::WakesNoop);
            return;
        }
        let source = self.count_wake(header, task);
        if let (Some(timing), Some(cells)) = (self.probes.timing(), self.probes.cells(header)) {
            cells.count_wake(source);
            if wake == Wake::QueueTimed {
                timing.woken(&cells, header.id, source);
            }
        }
        if wake == Wake::QueueTimed {
            if let Some(flight) = self.probes.flight() {
                flight.woken(header.id, source);
            }
        }
        match wake {
            Wake::Coalesced => self.probes.bump(Counter::WakesCoalesced),
            _ => self.sched.push(task),
        }
    }

    /// A wake that queues `task` on a runtime whose only watcher of wakes is the flight
    /// recorder (no `Level::Timing`).
    #[inline(always)]
    fn wake_flight(&self, header: &Header, task: TaskPtr) {
        let source = if self.probes.is_counting() {
            self.count_wake(header, task)
        } else {
            self.sched.wake_source(task.cast::<()>())
        };
        if let Some(flight) = self.probes.flight() {
            flight.woken(header.id, source);
        }
        self.sched.push(task);
    }

    /// A wake of the `block_on` future on the loop thread.
    pub(crate) fn wake_main(&self) {
        if self.sched.is_shutting_down() {
            return;
        }
        let source = self.sched.wake_source(self.sched.main_marker());
        self.probes.counters().record_wake(source);
        if self.sched.wake_main() {
            self.probes.bump(Counter::WakesCoalesced);
            return;
        }
        if let Some(flight) = self.probes.flight() {
            flight.woken(0, source);
        }
        if let (Some(timing), Some(main)) = (self.probes.timing(), self.probes.main_timing()) {
            timing.woken(main, 0, source);
        }
    }

    /// The wakes (and spawns) queued by other threads, onto the ready queue.
    #[inline(never)]
    pub(crate) fn take_remote_wakes(&self) {
        self.sched.set_activity(Activity::Remote);
        self.remote.drain(|wake| match wake {
            RemoteWake::Main => self.wake_main(),
            RemoteWake::Spawn(request) => request(),
            RemoteWake::Abort(key) => self.abort(key),
            RemoteWake::Task(task) => {
                if task.header().runtime == self.id {
                    self.wake_task(task.header(), Arc::as_ptr(&task));
                }
            }
        });
        self.sched.set_activity(Activity::Idle);
    }

    // ---- polling ----

    /// Polls one task taken off the ready queue (the heart of step 3 of a turn).
    ///
    /// `TIMED_POLL` (chosen once per turn, see `turn.rs`) adds the `Level::Timing` work
    /// around the poll; the untimed instance has none of it, not even a branch. `rest`
    /// is the rest of the turn's batch: the tasks a stall makes wait.
    /// Always inlined: each instance of the turn has its own copy (the turn's own
    /// instances, `turn.rs`, are many; a shared out-of-line copy costs a call per poll).
    #[inline(always)]
    pub(crate) fn poll_task<const TIMED_POLL: bool, const FLIGHT: bool>(
        &self,
        ptr: TaskPtr,
        rest: &[TaskPtr],
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
            self.probes.bump(Counter::SkippedEntries);
            drop(self.release(header)); // the last use of the task
            return;
        }
        self.sched.set_current(ptr.cast::<()>());
        self.sched.refill_budget();
        let started = if TIMED_POLL {
            self.timed_poll_start(header)
        } else {
            None
        };
        // SAFETY: loop thread; `RUNNING` is set, so nothing else polls or drops the
        // payload during the poll; the task is not done. `ptr` came from `Arc::as_ptr`:
        // the provenance the task's waker needs. A future that panics is dropped during
        // the unwind (`TaskCell::poll`).
        let result = panic::catch_unwind(AssertUnwindSafe(|| unsafe { task.poll(ptr.cast()) }));
        self.sched.set_current(ptr::null());
        if TIMED_POLL {
            let pending = matches!(result, Ok(Poll::Pending));
            self.timed_poll_end(header, started, pending, rest);
        }
        if FLIGHT {
            if let Some(flight) = self.probes.flight() {
                flight.poll_ended(header.id, !matches!(result, Ok(Poll::Pending)));
            }
        }
        if self.probes.is_counting() {
            // `polls` is counted per batch by the turn; `polls_pending` is derived.
            header.count_poll();
        }
        let released = match result {
            Ok(Poll::Pending) => match header.state.end_poll(false) {
                EndPoll::Cancel => self.cancel(task, header),
                _ => {
                    if TIMED_POLL {
                        self.check_lost_waker(header);
                    }
                    None
                }
            },
            Ok(Poll::Ready(())) => {
                self.probes.bump(Counter::PollsReady);
                self.probes.bump(Counter::Completions);
                self.finish_polled(task, header, None)
            }
            Err(payload) => self.finish_panicked(task, header, payload),
        };
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
        if contain_panic(|| unsafe { task.finish(error) }) {
            self.probes.bump(Counter::DropPanics);
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
        self.probes.bump(Counter::Panics);
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
        self.probes.bump(Counter::Cancellations);
        if let (Some(timing), Some(cells)) = (self.probes.timing(), self.probes.cells(header)) {
            cells.ended(timing.now());
        }
        // SAFETY: loop thread, the task is not being polled, and it is done (state)
        // first, so that a destructor that wakes or aborts it again is a no-op.
        if contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) }) {
            self.probes.bump(Counter::DropPanics);
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
        self.probes.retire(owned, header)
    }

    // ---- the end ----

    /// The runtime is being dropped: every task is done and its future dropped, once.
    pub(crate) fn shut_down(&self) {
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
                    // SAFETY: on the loop thread, and no poll is in progress: `block_on`
                    // borrows the runtime, so it cannot be running while it is dropped.
                    contain_panic(|| unsafe { task.finish(Some(ErrorKind::Cancelled)) });
                }
            }
        }
        drop(self.probes.clear_history());
    }

    // ---- snapshots ----

    /// Everything the probes recorded so far.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let level = self.probes.level();
        let mut snap = Snapshot::new(level);
        if level == Level::Off {
            return snap;
        }
        snap.counters = self.probes.counters().get();
        snap.tasks = self.task_stats();
        snap.parked = self.probes.parked_total();
        snap.running = self.probes.running();
        let timers = self.io.timer_count();
        snap.timers_pending = timers.pending;
        snap.timer_slots = timers.slots;
        snap.timer_heap = timers.heap;
        snap.context_switches = self.probes.context_switches();
        self.timing_snapshot(&mut snap);
        snap
    }
}

/// The waker of the `block_on` future: on the loop thread, a flag for the turn;
/// elsewhere, a remote wake.
struct MainWaker {
    remote: sync::Weak<Remote>,
    /// The runtime's id: a wake on the loop thread compares it, as a task's wake does.
    runtime: u64,
}

impl std::task::Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let local = context::with_current(|core| {
            let ours = core.id() == self.runtime;
            if ours {
                core.wake_main();
            }
            ours
        });
        if local == Some(true) {
            return;
        }
        match self.remote.upgrade() {
            Some(remote) => remote.push(RemoteWake::Main),
            None => count_orphan_wake(),
        }
    }
}
