//! The flight recorder of one runtime (`Builder::flight_recorder`): its ring (the
//! probes crate's `FlightRecorder`), where its files go and how often, and which
//! watchdog reports it has seen. The loop writes a file from it at the end of a turn
//! (`rt/flight.rs`).

use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::time::Duration;

use turnstile_probes::{FlightFiles, FlightRecorder};

/// The flight recorder of one runtime: its ring and where its files go.
pub(crate) struct Flight {
    recorder: FlightRecorder,
    /// Where files go, and when the last one went.
    pub(crate) files: RefCell<FlightFiles>,
    /// Watchdog reports already turned into files.
    pub(crate) watchdog_seen: Cell<u64>,
}

impl Flight {
    pub(crate) fn new(window: Duration, stall: Duration, dir: PathBuf, every: Duration) -> Self {
        Flight {
            recorder: FlightRecorder::new(window, stall),
            files: RefCell::new(FlightFiles::new(dir, every)),
            watchdog_seen: Cell::new(0),
        }
    }

    /// The ring.
    #[inline(always)]
    pub(crate) fn recorder(&self) -> &FlightRecorder {
        &self.recorder
    }
}
