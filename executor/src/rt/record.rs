//! Recordings (`Builder::record`, `TURNSTILE_RECORD`): the `Level::Trace` ring and the
//! snapshot's tables, made into a `Recording` when the runtime drops. Taken between
//! turns, after the loop has stopped; nothing here runs on a hot path.

use turnstile_probes::{Recording, Timing};

use super::Core;

impl Core {
    /// What the loop recorded so far, as a recording (its trace is empty below
    /// `Level::Trace`).
    pub(crate) fn recording(&self) -> Recording {
        let snap = self.snapshot();
        let stacks = self
            .observe()
            .timing()
            .map(Timing::stack_table)
            .unwrap_or_default();
        let main_at = self.observe().main_at().to_string();
        Recording::from_snapshot(self.name(), &snap, stacks, Some(main_at))
    }
}
