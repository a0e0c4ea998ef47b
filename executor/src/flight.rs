//! The executor's side of the flight recorder (`Builder::flight_recorder`): the ring
//! lives in the probes crate (`turnstile_probes::FlightRecorder`); this part writes it
//! to a file when a stall or a watchdog report asks for one, at the end of the turn.
//!
//! The end of the turn is a safe point: no part of `Core` is borrowed there. The file
//! is written after the ring has been copied out and the names table let go, so the
//! write holds no borrow of loop state; a write that fails is reported in the stall's
//! warning and the loop goes on.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use turnstile_probes::{write_log, FlightFiles, FlightRecorder, Timing, TraceLog};

use crate::core::Core;
use crate::Runtime;

/// The flight recorder of one runtime: its ring and where its files go.
pub(crate) struct Flight {
    recorder: FlightRecorder,
    files: RefCell<FlightFiles>,
    /// Watchdog reports already turned into files.
    watchdog_seen: Cell<u64>,
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

impl Core {
    /// The end of a turn with the flight recorder: if a stall (or a watchdog report)
    /// happened, write the window to a file, unless one was written too recently, and
    /// say so in the stall's report and warning.
    #[inline]
    pub(crate) fn flight_turn_ended(&self, timing: Option<&Timing>) {
        let Some(flight) = self.probes().flight_files() else {
            return;
        };
        if let Some(timing) = timing {
            let reports = timing.watchdog_reports();
            if reports != flight.watchdog_seen.get() {
                flight.watchdog_seen.set(reports);
                flight.recorder.watchdog_reported(0);
            }
        }
        if flight.recorder.has_stall() {
            self.write_flight_file(flight, timing);
        }
    }

    #[cold]
    #[inline(never)]
    fn write_flight_file(&self, flight: &Flight, timing: Option<&Timing>) {
        let Some(stall) = flight.recorder.take_stall() else {
            return;
        };
        let claimed = flight.files.borrow_mut().claim(stall.turn);
        let note = match claimed {
            None => {
                let every = flight.files.borrow().min_interval();
                format!("no file written (at most one per {every:.1?})")
            }
            Some(path) => {
                let mut log = self.flight_log();
                if let Some(timing) = timing {
                    log.stall_stacks.extend(timing.stall_stacks(stall.turn));
                }
                match write_log(&log, &path) {
                    Ok(()) => format!("wrote {}", path.display()),
                    Err(e) => format!("could not write {}: {e}", path.display()),
                }
            }
        };
        let noted = timing.is_some_and(|t| t.note_flight_file(stall.turn, &note));
        if !noted {
            // No stall report of the probes' own to carry the note: a warning of its own,
            // emitted here, at the end of the turn, where nothing is borrowed.
            stall.warn(&note);
        }
    }

    /// The recorder's window as a trace log, with the names of the tasks it knows.
    pub(crate) fn flight_log(&self) -> TraceLog {
        let Some(flight) = self.probes().flight() else {
            return TraceLog::default();
        };
        let names = self.task_names();
        flight.log(names)
    }

    /// Names (or spawn locations) of the live tasks and of those in the history.
    fn task_names(&self) -> HashMap<u64, String> {
        let live = self.sched().live();
        self.probes().with_history(|history, _, named| {
            let mut names: HashMap<u64, String> = named
                .iter()
                .map(|(&id, name)| (id, name.to_string()))
                .collect();
            for task in history.iter().chain(live.iter()) {
                let h = task.header();
                names
                    .entry(h.id)
                    .or_insert_with(|| h.spawned_at.to_string());
            }
            names
        })
    }
}

/// The flight recorder of a runtime, from [`Runtime::flight_recorder`].
///
/// ```
/// let rt = turnstile::Runtime::builder()
///     .flight_recorder(std::time::Duration::from_secs(1))
///     .build()?;
/// rt.block_on(turnstile::yield_now());
/// let path = std::env::temp_dir().join(format!("flight-{}.json", std::process::id()));
/// rt.flight_recorder().dump(&path)?;
/// let json = std::fs::read_to_string(&path)?;
/// assert!(json.contains("traceEvents"));
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct FlightRecorderRef<'a> {
    core: &'a Core,
}

impl std::fmt::Debug for FlightRecorderRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightRecorderRef")
            .field("on", &self.is_on())
            .finish()
    }
}

impl FlightRecorderRef<'_> {
    /// Whether the runtime was built with a flight recorder.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(!rt.flight_recorder().is_on());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_on(&self) -> bool {
        self.core.probes().flight().is_some()
    }

    /// The window kept, as a trace log (empty without a flight recorder).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(1))
    ///     .build()?;
    /// rt.block_on(turnstile::yield_now());
    /// assert!(!rt.flight_recorder().log().events.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn log(&self) -> TraceLog {
        self.core.flight_log()
    }

    /// Writes the window kept to `path` as Chrome/Perfetto trace JSON (open it in
    /// `ui.perfetto.dev`), creating its directory. Not rate-limited.
    ///
    /// # Errors
    /// If the runtime has no flight recorder, or the file cannot be written.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(rt.flight_recorder().dump("never.json").is_err()); // no recorder
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self, path: impl AsRef<Path>) -> io::Result<()> {
        if !self.is_on() {
            return Err(io::Error::other(
                "this runtime has no flight recorder: build it with Builder::flight_recorder",
            ));
        }
        let log = self.core.flight_log();
        write_log(&log, path.as_ref())
    }
}

impl Runtime {
    /// The runtime's flight recorder (see [`crate::Builder::flight_recorder`]): dump
    /// its window on demand.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(5))
    ///     .build()?;
    /// assert!(rt.flight_recorder().is_on());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder(&self) -> FlightRecorderRef<'_> {
        FlightRecorderRef { core: self.core() }
    }
}
