//! What every task has, whatever its future: identity, state, counts.

use std::cell::Cell;
use std::panic::Location;

use turnstile_probes::WakeSource;

use super::state::State;

/// The head of every task allocation (`TaskCell` is `repr(C)` with it first).
pub(crate) struct Header {
    /// The owning runtime's id: a wake on the loop thread compares it with the current
    /// runtime's, before it touches anything that is the loop thread's only.
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
        runtime: u64,
        id: u64,
        index: u32,
        spawned_at: &'static Location<'static>,
        timed: bool,
    ) -> Self {
        Header {
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
}
