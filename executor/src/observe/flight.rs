//! The flight recorder of one runtime (`Builder::flight_recorder`): its ring (the
//! probes crate's `FlightRecorder`), the writer thread its files are made on, where
//! they go and how often, and which watchdog reports it has seen. The loop hands the
//! window to the writer at the end of a turn (`rt/flight.rs`); the writer is joined
//! when the runtime drops, after the files handed over are written.

use std::cell::{Cell, RefCell};
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use turnstile_probes::{FlightFiles, FlightRecorder, FlightWriter};

/// The flight recorder of one runtime: its ring, its writer and where its files go.
pub(crate) struct Flight {
    recorder: FlightRecorder,
    /// The thread that turns windows into files ("turnstile-flight").
    pub(crate) writer: FlightWriter,
    /// Where files go, and when the last one went.
    pub(crate) files: RefCell<FlightFiles>,
    /// Watchdog reports already turned into files.
    pub(crate) watchdog_seen: Cell<u64>,
}

/// Windows handed to the writer and not yet written, at most: a stall beyond that
/// writes no file (the writer is behind, and each window holds memory).
pub(crate) const MAX_PENDING: usize = 2;

impl Flight {
    /// The recorder, and its writer thread started.
    pub(crate) fn new(
        window: Duration,
        stall: Duration,
        max_records: usize,
        dir: PathBuf,
        every: Duration,
    ) -> io::Result<Self> {
        Ok(Flight {
            recorder: FlightRecorder::with_max_records(window, stall, max_records),
            writer: FlightWriter::spawn()?,
            files: RefCell::new(FlightFiles::new(dir, every)),
            watchdog_seen: Cell::new(0),
        })
    }

    /// The ring.
    #[inline(always)]
    pub(crate) fn recorder(&self) -> &FlightRecorder {
        &self.recorder
    }
}
