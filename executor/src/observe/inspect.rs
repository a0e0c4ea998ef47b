//! The inspector of one runtime (`Builder::inspect`): the socket and its thread live
//! in the probes crate (`turnstile_probes::Inspector`); this holds the state they read
//! and when it was last published (`rt/inspect.rs` publishes).

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use turnstile_probes::{InspectState, Inspector};

/// The inspector of one runtime.
pub(crate) struct Inspect {
    /// What the inspector's thread reads.
    pub(crate) state: Arc<InspectState>,
    /// Stops and joins the thread, and removes the socket, when the runtime drops.
    _server: Inspector,
    /// The least time between two published snapshots.
    pub(crate) period: Duration,
    /// When the last snapshot was published.
    pub(crate) last: Cell<Option<Instant>>,
}

impl Inspect {
    pub(crate) fn new(state: Arc<InspectState>, server: Inspector, period: Duration) -> Self {
        Inspect {
            state,
            _server: server,
            period,
            last: Cell::new(None),
        }
    }
}
