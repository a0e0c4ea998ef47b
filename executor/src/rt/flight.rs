//! The loop's side of the flight recorder: at the end of a turn in which a stall (or a
//! watchdog report) happened, the window is handed to the recorder's writer thread,
//! unless a file went too recently, and the stall's report and warning say so.
//!
//! The loop never builds, serialises or writes a file. Its share of a dump is the
//! handover (`FlightRecorder::handover`: a copy of the partial segment, a reference
//! per sealed one and per full chunk of the name table), counted as the recorder's own time; the timing
//! probes' chain is broken after it, so the next poll is not billed for it. The end of
//! the turn is a safe point: no part of `Core` is borrowed there, so the writer's
//! failures are reported (as `tracing` warnings) from here too.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use turnstile_probes::{FlightJob, FlightStall, Timing, TraceLog, FLIGHT_THREAD};

use super::Core;
use crate::observe::{Flight, MAX_PENDING};

impl Core {
    /// The end of a turn with the flight recorder: if a stall (or a watchdog report)
    /// happened, hand the window to the writer, unless a file went too recently, and
    /// say so in the stall's report and warning; report the writer's failures.
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
            self.hand_over_stall(flight, timing);
        }
        if flight.writer.has_failures() {
            report_failures(flight);
        }
    }

    #[cold]
    #[inline(never)]
    fn hand_over_stall(&self, flight: &Flight, timing: Option<&Timing>) {
        let Some(stall) = flight.recorder().take_stall() else {
            return;
        };
        let claimed = flight.files.borrow_mut().claim(stall.turn);
        let note = match claimed {
            None => {
                let every = flight.files.borrow().min_interval();
                format!("no file written (at most one per {every:.1?})")
            }
            Some(_) if flight.writer.pending() >= MAX_PENDING => format!(
                "no file written (the {FLIGHT_THREAD} thread is still writing {} files)",
                flight.writer.pending()
            ),
            Some(path) => {
                let stacks = timing
                    .map(|t| t.stall_stacks(stall.turn))
                    .unwrap_or_default();
                let shown = path.display().to_string();
                match self.flight_hand_over(flight, path, stall.reason, Some(stall.clone()), stacks)
                {
                    Ok(took) => format!(
                        "writing {shown} on the {FLIGHT_THREAD} thread (handover {took:.1?})"
                    ),
                    Err(e) => format!("could not hand {shown} over: {e}"),
                }
            }
        };
        let noted = timing.is_some_and(|t| t.note_flight_file(stall.turn, &note));
        if !noted {
            // No stall report of the probes' own to carry the note: a warning of its own,
            // emitted here, at the end of the turn, where nothing is borrowed.
            stall.warn(&note);
        }
        if let Some(timing) = timing {
            timing.break_chain(); // the handover is turnstile's time, not the next poll's
        }
    }

    /// Hands the window to the writer thread, to be written to `path`; returns the
    /// loop's share (counted as the recorder's own time).
    pub(crate) fn flight_hand_over(
        &self,
        flight: &Flight,
        path: PathBuf,
        reason: &'static str,
        stall: Option<FlightStall>,
        stall_stacks: Vec<(u64, String)>,
    ) -> io::Result<Duration> {
        let recorder = flight.recorder();
        let since = recorder.now();
        // The names come from the recorder's own table, filled at spawn: nothing
        // here is proportional to the live tasks.
        let window = recorder.handover(since, Vec::new());
        let took = window.handover();
        let submitted = recorder.now();
        let sent = flight.writer.submit(FlightJob {
            window,
            path,
            reason,
            turn: recorder.turn(),
            stall,
            stall_stacks,
        });
        // The first file starts the writer thread: the loop's time too.
        let extra = recorder.nanos_since(submitted);
        recorder.add_handover_time(extra);
        sent?;
        Ok(took + Duration::from_nanos(extra))
    }

    /// Waits for the writer to finish the files handed over, and reports its failures.
    pub(crate) fn flight_flush(&self) -> io::Result<()> {
        let flight = self.observe().flight().ok_or_else(no_recorder)?;
        let result = flight.writer.flush();
        report_failures(flight);
        result
    }

    /// A dump on demand: the window handed to the writer, for `path`.
    pub(crate) fn flight_dump(&self, path: PathBuf) -> io::Result<Duration> {
        let flight = self.observe().flight().ok_or_else(no_recorder)?;
        let took = self.flight_hand_over(flight, path, "dump", None, Vec::new());
        if let Some(timing) = self.observe().timing() {
            timing.break_chain(); // the handover is turnstile's time, not the next poll's
        }
        took
    }

    /// The recorder's window as a trace log, with the names of the tasks it knows,
    /// built on the calling thread.
    pub(crate) fn flight_log(&self) -> TraceLog {
        let Some(flight) = self.observe().flight_ring() else {
            return TraceLog::default();
        };
        flight.handover(flight.now(), Vec::new()).log()
    }
}

fn no_recorder() -> io::Error {
    io::Error::other("this runtime has no flight recorder: build it with Builder::flight_recorder")
}

/// Reports the writer's failures as `tracing` warnings (at a safe point).
#[cold]
#[inline(never)]
pub(crate) fn report_failures(flight: &Flight) {
    for failure in flight.writer.take_failures() {
        failure.warn();
    }
}
