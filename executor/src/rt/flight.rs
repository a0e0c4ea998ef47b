//! The loop's side of the flight recorder: at the end of a turn in which a stall (or a
//! watchdog report) happened, the window goes to a file, unless one was written too
//! recently, and the stall's report and warning say so.
//!
//! The end of the turn is a safe point: no part of `Core` is borrowed there. The file
//! is written after the ring has been copied out and the names table let go, so the
//! write holds no borrow of loop state; a write that fails is reported in the stall's
//! warning and the loop goes on.

use std::collections::HashMap;

use turnstile_probes::{write_log, Timing, TraceLog};

use super::Core;
use crate::observe::Flight;

impl Core {
    /// The end of a turn with the flight recorder: if a stall (or a watchdog report)
    /// happened, write the window to a file, unless one was written too recently, and
    /// say so in the stall's report and warning.
    #[inline]
    pub(crate) fn flight_turn_ended(&self, timing: Option<&Timing>) {
        let Some(flight) = self.observe().flight() else {
            return;
        };
        if let Some(timing) = timing {
            let reports = timing.watchdog_reports();
            if reports != flight.watchdog_seen.get() {
                flight.watchdog_seen.set(reports);
                flight.recorder().watchdog_reported(0);
            }
        }
        if flight.recorder().has_stall() {
            self.write_flight_file(flight, timing);
        }
    }

    #[cold]
    #[inline(never)]
    fn write_flight_file(&self, flight: &Flight, timing: Option<&Timing>) {
        let Some(stall) = flight.recorder().take_stall() else {
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
        let Some(flight) = self.observe().flight_ring() else {
            return TraceLog::default();
        };
        let names = self.task_names();
        flight.log(names)
    }

    /// Names (or spawn locations) of the live tasks and of those in the history.
    fn task_names(&self) -> HashMap<u64, String> {
        let live = self.sched().live();
        self.observe().with_history(|history, _, named| {
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
