//! Wakes: where each one goes, and how it is counted.
//!
//! A wake takes one of two paths, decided in one place ([`wake_here`]) for tasks and for
//! the `block_on` future alike:
//!
//! - On the loop thread, inside this runtime's `block_on` (or under `Runtime::enter`):
//!   straight onto the local ready queue (`Core::wake_task`), classified as self,
//!   local, I/O or timer by what the loop is doing at that moment.
//! - Anywhere else (another thread, or this thread outside the runtime): onto the
//!   lock-free remote queue (`remote.rs`); the loop drains it at the start of the next
//!   turn and counts those wakes as remote.
//!
//! A task reaches this through its scheduler handle, [`TaskOwner`], the runtime's
//! implementation of the task layer's `Schedule`.

use std::sync::{self, Arc};

use turnstile_probes::{Counter, WakeSource};

use super::context;
use super::remote::{count_orphan_wake, Remote, RemoteWake};
use super::scheduler::Activity;
use super::Core;
use crate::raw::state::Wake;
use crate::raw::{HandleOp, Header, LocalTask, Schedule, TaskKey, TaskPtr};

/// Runs `local` with the runtime whose id is `runtime` if it is current on this thread,
/// and says whether it did: the one decision every wake makes. When it did not, the
/// wake goes through the remote queue.
#[inline(always)]
fn wake_here(runtime: u64, local: impl FnOnce(&Core)) -> bool {
    let here = context::with_current(|core| {
        let ours = core.id() == runtime;
        if ours {
            local(core);
        }
        ours
    });
    here == Some(true)
}

/// A task's way to its runtime: the runtime's remote side, weakly (a waker that
/// outlives its runtime must not keep it alive).
pub(crate) struct TaskOwner {
    remote: sync::Weak<Remote>,
}

impl TaskOwner {
    pub(crate) fn new(remote: sync::Weak<Remote>) -> Self {
        TaskOwner { remote }
    }

    /// A wake from elsewhere: onto the remote queue, which keeps `task`; a no-op,
    /// counted process-wide, once the runtime is gone.
    #[inline(never)]
    fn wake_remote(&self, task: Arc<dyn LocalTask>) {
        match self.remote.upgrade() {
            Some(remote) => remote.push(RemoteWake::Task(task)),
            None => count_orphan_wake(),
        }
    }
}

impl Schedule for TaskOwner {
    #[inline(always)]
    fn wake<T: LocalTask + 'static>(
        &self,
        task: *const T,
        owned: impl FnOnce() -> Arc<dyn LocalTask>,
    ) {
        // SAFETY: the waker that called us keeps the task alive for the call.
        let header = unsafe { &*task }.header();
        let local = context::with_current(|core| {
            let ours = core.id() == header.runtime;
            if ours {
                core.wake_task(header, task as TaskPtr);
            }
            ours
        });
        if local != Some(true) {
            self.wake_remote(owned());
        }
    }

    fn send_to_loop(&self, header: &Header, op: HandleOp, task: Arc<dyn LocalTask>) {
        let Some(remote) = self.remote.upgrade() else {
            return; // the runtime is gone: nothing to abort, no join state to keep
        };
        remote.push(match op {
            HandleOp::Abort => RemoteWake::Abort(TaskKey {
                index: header.index,
                id: header.id,
            }),
            HandleOp::Detach => RemoteWake::Detach(task),
        });
    }

    #[cfg(feature = "console")]
    #[inline(always)]
    fn waker_event(header: &Header, op: crate::raw::WakerOp) {
        crate::observe::console::waker_event(header, op);
    }
}

impl Core {
    /// A wake of one of our tasks on the loop thread: queue it unless it is queued
    /// already (coalesced) or finished (a no-op). `task` is the task `header` heads.
    #[inline(always)]
    pub(crate) fn wake_task(&self, header: &Header, task: TaskPtr) {
        match header.state.wake() {
            Wake::Queue => {
                if self.observe().is_counting() {
                    self.count_wake(header, task);
                }
                self.sched().push(task);
            }
            // A timed task that wakes itself during its poll (`yield_now`): the counters
            // only, the poll's end stamps the wake (`Mode::quiet_self_wakes`).
            Wake::QueueTimed
                if self.observe().quiet_self_wakes()
                    && self.sched().wake_source(task.cast::<()>()) == WakeSource::SelfWake =>
            {
                self.observe().counters().record_wake(WakeSource::SelfWake);
                header.count_wake(WakeSource::SelfWake);
                self.sched().push(task);
            }
            // A task of a runtime whose only watcher of wakes is the flight recorder.
            Wake::QueueTimed if self.observe().flight_only() => self.wake_flight(header, task),
            // Coalesced, finished or timed: out of line, as a tail call.
            other => self.wake_slow(header, task, other),
        }
    }

    /// Counts a wake of `task` and returns its source.
    #[inline(always)]
    fn count_wake(&self, header: &Header, task: TaskPtr) -> WakeSource {
        let source = self.sched().wake_source(task.cast::<()>());
        self.observe().counters().record_wake(source);
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
            self.observe().bump(Counter::WakesNoop);
            return;
        }
        let source = self.count_wake(header, task);
        if let (Some(timing), Some(cells)) = (self.observe().timing(), self.observe().cells(header))
        {
            cells.count_wake(source);
            if wake == Wake::QueueTimed {
                timing.woken(&cells, header.id, source);
            }
        }
        if wake == Wake::QueueTimed {
            if let Some(flight) = self.observe().flight_ring() {
                flight.woken(header.id, source);
            }
        }
        match wake {
            Wake::Coalesced => {
                self.observe().bump(Counter::WakesCoalesced);
                if let Some(timing) = self.observe().timing() {
                    timing.coalesced(header.id, source); // an event at `Level::Trace`
                }
            }
            _ => self.sched().push(task),
        }
    }

    /// A wake that queues `task` on a runtime whose only watcher of wakes is the flight
    /// recorder (no `Level::Timing`).
    #[inline(always)]
    fn wake_flight(&self, header: &Header, task: TaskPtr) {
        let source = if self.observe().is_counting() {
            self.count_wake(header, task)
        } else {
            self.sched().wake_source(task.cast::<()>())
        };
        if let Some(flight) = self.observe().flight_ring() {
            flight.woken(header.id, source);
        }
        self.sched().push(task);
    }

    /// A wake of the `block_on` future on the loop thread.
    pub(crate) fn wake_main(&self) {
        if self.sched().is_shutting_down() {
            return;
        }
        let source = self.sched().wake_source(self.sched().main_marker());
        self.observe().counters().record_wake(source);
        if self.sched().wake_main() {
            self.observe().bump(Counter::WakesCoalesced);
            if let Some(timing) = self.observe().timing() {
                timing.coalesced(0, source); // an event at `Level::Trace`
            }
            return;
        }
        if let Some(flight) = self.observe().flight_ring() {
            flight.woken(0, source);
        }
        if let (Some(timing), Some(main)) = (self.observe().timing(), self.observe().main_timing())
        {
            timing.woken(main, 0, source);
        }
    }

    /// The wakes (and spawns) queued by other threads, onto the ready queue.
    #[inline(never)]
    pub(crate) fn take_remote_wakes(&self) {
        self.sched().set_activity(Activity::Remote);
        self.remote().drain(|wake| match wake {
            RemoteWake::Main => self.wake_main(),
            RemoteWake::Spawn(request) => request(),
            RemoteWake::Abort(key) => self.abort(key),
            RemoteWake::Detach(task) => {
                if task.header().runtime == self.id() {
                    // What the handle's drop did not do on its own thread (`join.rs`).
                    let _id = context::TaskIdGuard::enter(task.header().id);
                    // SAFETY: the loop thread of the task's runtime (ids compared).
                    unsafe { task.detach_join() };
                }
            }
            RemoteWake::Task(task) => {
                if task.header().runtime == self.id() {
                    self.wake_task(task.header(), Arc::as_ptr(&task));
                }
            }
        });
        self.sched().set_activity(Activity::Idle);
    }
}

/// The waker of the `block_on` future: on the loop thread, a flag for the turn;
/// elsewhere, a remote wake.
pub(super) struct MainWaker {
    pub(super) remote: sync::Weak<Remote>,
    /// The runtime's id: a wake on the loop thread compares it, as a task's wake does.
    pub(super) runtime: u64,
}

impl std::task::Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if wake_here(self.runtime, Core::wake_main) {
            return;
        }
        match self.remote.upgrade() {
            Some(remote) => remote.push(RemoteWake::Main),
            None => count_orphan_wake(),
        }
    }
}
