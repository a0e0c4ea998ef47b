//! The loop's side of the inspector: at the end of a turn, a snapshot for it if the
//! last one is older than its period.
//!
//! The end of a turn is a safe point (nothing borrowed, user code free to run), and a
//! snapshot is not for every poll: publishing costs one `Instant::now` per turn, and a
//! snapshot per period.

use std::time::Instant;

use turnstile_probes::{InspectState, Level};

use super::Core;

impl Core {
    /// The end of a turn with the inspector: publish a snapshot if the last one is
    /// older than the period.
    #[inline]
    pub(crate) fn inspect_turn_ended(&self, turn: u64) {
        let Some(inspect) = self.observe().inspect() else {
            return;
        };
        let now = Instant::now();
        if inspect
            .last
            .get()
            .is_some_and(|at| now.saturating_duration_since(at) < inspect.period)
        {
            return;
        }
        inspect.last.set(Some(now));
        self.publish_for_inspector(&inspect.state, turn);
    }

    #[cold]
    #[inline(never)]
    fn publish_for_inspector(&self, state: &InspectState, turn: u64) {
        let mut snap = self.snapshot();
        if snap.level == Level::Off {
            snap.tasks = self.task_stats(); // ids, names, states: known at every level
        }
        snap.trace = None; // the ring is not the inspector's to copy every period
        state.publish(snap, turn);
    }
}
