//! What every task has, whatever its future: identity, state, counts.

use std::cell::Cell;
use std::panic::Location;
use std::sync::Weak;

use turnstile_probes::{
    TaskState, TaskStats, TaskTiming, Ticks, Timing, WakeSource, WakesBySource,
};

use super::state::{Phase, State};
use crate::remote::Remote;

/// The head of every task allocation (`TaskCell` is `repr(C)` with it first).
pub(crate) struct Header {
    /// The runtime's cross-thread part, for wakes from elsewhere. Weak: a waker that
    /// outlives its runtime must not keep it alive.
    pub(crate) remote: Weak<Remote>,
    /// The owning runtime's id: a wake on the loop thread compares it with the current
    /// runtime's, which is cheaper than comparing `remote` pointers.
    pub(crate) runtime: u64,
    /// Unique for the runtime's life; never reused.
    pub(crate) id: u64,
    /// The task's slot in the runtime's slab.
    pub(crate) index: u32,
    /// The state machine (`state.rs`): scheduling and join bits. Loop thread only.
    pub(crate) state: State,
    /// Polls of this task, when the probes count. Loop thread only. (Its yields are
    /// derived: every poll yielded except one that ended the task.)
    pub(crate) polls: Cell<u64>,
    /// Wakes of this task from every source, when the probes count. Loop thread only.
    pub(crate) wakes: Cell<u64>,
    /// Wakes of this task by itself, when the probes count. Loop thread only.
    pub(crate) wakes_self: Cell<u64>,
    /// Where `spawn` was called.
    pub(crate) spawned_at: &'static Location<'static>,
    /// The id of the task's `runtime.spawn` span, for waker events from any thread;
    /// `None` if no subscriber wanted the span. Immutable once the cell is made.
    #[cfg(feature = "console")]
    pub(crate) span_id: Option<tracing::Id>,
}

impl Header {
    /// A queued header; `timed` at `Level::Timing` and above (its timing cells live in
    /// the probes' side table, so the header stays as small as it was).
    #[inline(always)]
    pub(crate) fn new(
        remote: Weak<Remote>,
        runtime: u64,
        id: u64,
        index: u32,
        spawned_at: &'static Location<'static>,
        timed: bool,
    ) -> Self {
        Header {
            remote,
            runtime,
            id,
            index,
            state: State::new(timed),
            polls: Cell::new(0),
            wakes: Cell::new(0),
            wakes_self: Cell::new(0),
            spawned_at,
            #[cfg(feature = "console")]
            span_id: None, // set by `TaskCell::new`, from the span it is given
        }
    }

    /// Counts a wake from `source` (when the probes count).
    #[inline(always)]
    pub(crate) fn count_wake(&self, source: WakeSource) {
        self.wakes.set(self.wakes.get() + 1);
        if source == WakeSource::SelfWake {
            self.wakes_self.set(self.wakes_self.get() + 1);
        }
    }

    /// Counts a poll (when the probes count).
    #[inline(always)]
    pub(crate) fn count_poll(&self) {
        self.polls.set(self.polls.get() + 1);
    }

    /// What the probes know about this task (named `name`); `timing` adds its times at
    /// `Level::Timing`.
    pub(crate) fn stats(
        &self,
        name: Option<&str>,
        timing: Option<(&Timing, Ticks, &TaskTiming)>,
    ) -> TaskStats {
        let mut stats = TaskStats::new(
            self.id,
            name.map(str::to_owned),
            self.spawned_at.to_string(),
        );
        stats.state = match self.state.phase() {
            Phase::Finished => TaskState::Finished,
            Phase::Running => TaskState::Running,
            Phase::Queued => TaskState::Queued,
            Phase::Idle => TaskState::Idle,
        };
        stats.polls = self.polls.get();
        stats.yields = self.polls.get() - u64::from(self.state.ended_by_poll());
        stats.wakes = self.wakes.get();
        stats.wakes_self = self.wakes_self.get();
        if let Some((probes, now, t)) = timing {
            let clock = probes.clock();
            stats.busy = t.busy(clock);
            stats.scheduled = t.scheduled(clock);
            stats.idle = t.idle(clock, now);
            stats.longest_poll = t.longest_poll(clock);
            let mut by = WakesBySource::default();
            by.local = t.wakes_from(WakeSource::Local);
            by.remote = t.wakes_from(WakeSource::Remote);
            by.io = t.wakes_from(WakeSource::Io);
            by.timer = t.wakes_from(WakeSource::Timer);
            stats.wakes_by_source = Some(by);
            stats.budget_yields = t.budget_yields();
            if stats.state != TaskState::Finished {
                stats.stack = probes.stack(t); // an aborted task keeps none
            }
            if stats.state == TaskState::Idle {
                if let Some((site, waited)) = probes.waiting_at(t, now) {
                    stats.waiting_at = Some(site);
                    stats.waiting_for = waited;
                }
            }
        }
        stats
    }
}
