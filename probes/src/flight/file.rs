//! The flight file: Chrome/Perfetto trace JSON (open it in `ui.perfetto.dev` or
//! `chrome://tracing`) with the recorder's figures beside the events, under the
//! top-level key `"turnstileFlight"` ([`FlightMeta`]), and a reader that turns a file
//! back into a [`TraceLog`] ([`read_flight_file`]).
//!
//! The events are those of [`TraceLog::to_chrome_json`]: a slice (`"ph":"X"`) per turn
//! (`cat` `"turn"`, named `turn N`), per poll (`"poll"`, named `poll task ID (NAME)`,
//! `args.task`, `args.done`) and per park (`"park"`); the ready queue at each turn's end
//! as a counter (`"C"`, `args.ready`); readiness (`io`, `args.events`), timers fired
//! (`timers fired`, `args.count`) and stalls (`cat` `"stall"`, `args.task`, `args.ms`,
//! `args.stack`) as instants (`"i"`); each wake that queued a task as a flow start
//! (`"s"`, `args.target`, `args.source`, `args.by`) ending at the poll it caused
//! (`"f"`). Times are microseconds since the runtime was built.

use std::io;
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::writer::FlightJob;
use crate::counters::WakeSource;
use crate::trace::{Event, EventKind, TraceLog};

/// The format's name and version, in [`FlightMeta::format`].
pub const FLIGHT_FORMAT: &str = "turnstile-flight/1";

/// What a flight file says about itself: who wrote it, why, what the loop paid for it,
/// and how much of the window asked for it holds.
///
/// ```
/// let meta = turnstile_probes::FlightMeta::default();
/// assert!(!meta.covers_window);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FlightMeta {
    /// The format, `"turnstile-flight/1"`.
    pub format: String,
    /// The name of the thread that serialised and wrote it (the writer,
    /// `"turnstile-flight"`).
    pub written_by: String,
    /// Why: `"stall"`, `"watchdog"` or `"dump"`.
    pub reason: String,
    /// The turn it was handed over in.
    pub turn: u64,
    /// The window asked for, in nanoseconds.
    pub window_asked_ns: u64,
    /// The time from its oldest event to its newest, in nanoseconds.
    pub window_kept_ns: u64,
    /// Whether it holds the whole window asked for (or everything since the runtime
    /// was built, if that is shorter).
    pub covers_window: bool,
    /// Records of the window the cap on memory let go (counted a segment at a time).
    pub events_dropped: u64,
    /// Records it holds.
    pub records: u64,
    /// Records the loop had written since the runtime was built.
    pub recorded: u64,
    /// The cap on records kept.
    pub max_records: u64,
    /// The loop's share of this dump: the handover, in nanoseconds (turnstile's own
    /// time, billed to no task).
    pub handover_ns: u64,
    /// Dumps handed over so far, this one included.
    pub handovers: u64,
    /// Their time on the loop in all, in nanoseconds.
    pub handover_total_ns: u64,
    /// The longest, in nanoseconds.
    pub handover_max_ns: u64,
    /// Segments sealed so far, and their time on the loop in all (nanoseconds).
    pub seals: u64,
    /// See `seals`.
    pub seal_total_ns: u64,
    /// The writer's time to build and serialise the trace, in nanoseconds.
    pub serialise_ns: u64,
}

/// A flight file read back: its events and its figures (`None` for a plain trace of
/// [`TraceLog::to_chrome_json`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlightFile {
    /// The events, oldest first, with the task names and stall stacks.
    pub log: TraceLog,
    /// The recorder's figures.
    pub meta: Option<FlightMeta>,
}

/// Builds, serialises and writes one job's file (on the writer thread). The file
/// appears whole: it is written beside its path and renamed.
pub(crate) fn write_job(job: &FlightJob) -> io::Result<()> {
    let started = Instant::now();
    let (mut log, figures) = job.window.log_and_meta();
    log.stall_stacks.extend(job.stall_stacks.iter().cloned());
    let mut meta = FlightMeta {
        format: FLIGHT_FORMAT.to_owned(),
        written_by: std::thread::current().name().unwrap_or("").to_owned(),
        reason: job.reason.to_owned(),
        turn: job.turn,
        window_asked_ns: figures.window_asked_ns,
        window_kept_ns: figures.window_kept_ns,
        covers_window: figures.covers_window,
        events_dropped: figures.events_dropped,
        records: figures.records,
        recorded: figures.recorded,
        max_records: figures.max_records,
        handover_ns: figures.handover_ns,
        handovers: figures.own.handovers,
        handover_total_ns: figures.own.handover_ns,
        handover_max_ns: figures.own.handover_max_ns,
        seals: figures.own.seals,
        seal_total_ns: figures.own.seal_ns,
        serialise_ns: 0,
    };
    let mut out = chrome_json(&log, &meta)?;
    meta.serialise_ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    out.push_str(&serde_json::to_string(&meta).map_err(io::Error::other)?);
    out.push('}');
    let path = &job.path;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, out)?;
    std::fs::rename(&partial, path)
}

/// The file's text but `meta`'s value and the closing brace: the events of
/// [`TraceLog::to_chrome_json`], written straight into one string (no JSON tree: the
/// writer's time is the machine's CPU too), with a process name that says what the
/// window kept (Perfetto shows it on the track).
fn chrome_json(log: &TraceLog, meta: &FlightMeta) -> io::Result<String> {
    let mut out = String::with_capacity(log.events.len() * 96 + 1024);
    write_chrome(&mut out, log, meta).map_err(io::Error::other)?;
    Ok(out)
}

fn write_chrome(out: &mut String, log: &TraceLog, meta: &FlightMeta) -> std::fmt::Result {
    let title = format!(
        "turnstile flight recorder ({}): {:.3} s of a {:.3} s window{}, {} records, written by {}",
        meta.reason,
        meta.window_kept_ns as f64 / 1e9,
        meta.window_asked_ns as f64 / 1e9,
        if meta.covers_window {
            String::new()
        } else {
            format!(" (cut: {} records dropped)", meta.events_dropped)
        },
        meta.records,
        meta.written_by,
    );
    crate::export::chrome::write_events(out, log, Some(&title))?;
    out.push_str(r#","turnstileFlight":"#);
    Ok(())
}

/// The order of events at one instant, as the loop makes them: a poll's end and its
/// stall, the turn's end, the next turn's start, a park, what the reactor delivered, a
/// wake, the next poll's start (and the end of a poll that took no time at all).
mod rank {
    pub(super) const POLL_END: u8 = 0;
    pub(super) const STALL: u8 = 1;
    pub(super) const TURN_END: u8 = 2;
    pub(super) const TURN_START: u8 = 3;
    pub(super) const PARK_START: u8 = 4;
    pub(super) const PARK_END: u8 = 5;
    pub(super) const DELIVERED: u8 = 6;
    pub(super) const WAKE: u8 = 7;
    pub(super) const POLL_START: u8 = 8;
    pub(super) const OWN_POLL_END: u8 = 9;
}

/// Reads a flight file (or any trace of [`TraceLog::to_chrome_json`]) back into a
/// [`TraceLog`] and the recorder's figures: the poll, turn and park slices become their
/// start and end events, the ready-queue counters turn ends, the instants readiness,
/// timer and stall events, the flow starts wakes; task names come from the poll
/// slices' names, stall stacks from the stalls. Times are rounded to nanoseconds.
///
/// # Errors
/// If the file cannot be read, is not JSON, or has no `traceEvents` array.
///
/// ```
/// use turnstile_probes::{EventKind, FlightRecorder, TaskLabel};
/// let f = FlightRecorder::new(std::time::Duration::from_secs(1), Default::default());
/// f.turn_started(1);
/// f.batch(1);
/// f.poll_ended(4, true);
/// f.turn_ended(1, 0);
/// let log = f.handover(f.now(), vec![(4, TaskLabel::Named("fetch".into()))]).log();
/// let path = std::env::temp_dir().join(format!("flight-read-{}.json", std::process::id()));
/// turnstile_probes::write_log(&log, &path)?;
/// let back = turnstile_probes::read_flight_file(&path)?;
/// assert!(back.log.events.iter().any(|e| e.kind == EventKind::PollEnd { task: 4, done: true }));
/// assert_eq!(back.log.task_names[&4], "fetch");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_flight_file(path: impl AsRef<Path>) -> io::Result<FlightFile> {
    let text = std::fs::read_to_string(path)?;
    let json: Value = serde_json::from_str(&text).map_err(io::Error::other)?;
    let events = json["traceEvents"]
        .as_array()
        .ok_or_else(|| io::Error::other("no traceEvents array: not a trace file"))?;
    let ns = |v: &Value| (v.as_f64().unwrap_or(0.0) * 1e3).round().max(0.0) as u64;
    let arg = |e: &Value, k: &str| e["args"][k].as_u64().unwrap_or(0);
    // (time, rank at equal times, event): see `rank`.
    let mut out: Vec<(u64, u8, Event)> = Vec::new();
    let mut push =
        |at: u64, rank: u8, kind: EventKind| out.push((at, rank, Event { at_ns: at, kind }));
    let mut log = TraceLog::default();
    for e in events {
        let (ts, ph) = (ns(&e["ts"]), e["ph"].as_str().unwrap_or(""));
        let name = e["name"].as_str().unwrap_or("");
        match (ph, e["cat"].as_str().unwrap_or("")) {
            ("X", cat) => {
                let end = ts + ns(&e["dur"]);
                match cat {
                    "turn" => {
                        let turn = name.strip_prefix("turn ").and_then(|n| n.parse().ok());
                        push(
                            ts,
                            rank::TURN_START,
                            EventKind::TurnStart {
                                turn: turn.unwrap_or(0),
                            },
                        );
                    }
                    "park" => {
                        push(ts, rank::PARK_START, EventKind::ParkStart);
                        push(end, rank::PARK_END, EventKind::ParkEnd);
                    }
                    "poll" => {
                        let task = arg(e, "task");
                        push(ts, rank::POLL_START, EventKind::PollStart { task });
                        if e["args"]["open"] != Value::Bool(true) {
                            let done = e["args"]["done"].as_bool().unwrap_or(false);
                            let rank = if end == ts {
                                rank::OWN_POLL_END
                            } else {
                                rank::POLL_END
                            };
                            push(end, rank, EventKind::PollEnd { task, done });
                        }
                        if let Some(label) = name
                            .strip_prefix(&format!("poll task {task} ("))
                            .and_then(|n| n.strip_suffix(')'))
                        {
                            log.task_names.insert(task, label.to_owned());
                        }
                    }
                    _ => {}
                }
            }
            ("C", _) if name == "ready queue" => {
                push(
                    ts,
                    rank::TURN_END,
                    EventKind::TurnEnd {
                        turn: 0,
                        ready: arg(e, "ready"),
                    },
                );
            }
            ("i", "stall") => {
                let task = arg(e, "task");
                let nanos = (e["args"]["ms"].as_f64().unwrap_or(0.0) * 1e6).round() as u64;
                push(ts, rank::STALL, EventKind::Stall { task, nanos });
                if let Some(stack) = e["args"]["stack"].as_str() {
                    log.stall_stacks.insert(task, stack.to_owned());
                }
            }
            ("i", _) if name == "io" => push(
                ts,
                rank::DELIVERED,
                EventKind::Io {
                    events: arg(e, "events"),
                },
            ),
            ("i", _) if name == "timers fired" => {
                push(
                    ts,
                    rank::DELIVERED,
                    EventKind::TimersFired {
                        count: arg(e, "count"),
                    },
                );
            }
            ("s", "wake") => {
                let source = match e["args"]["source"].as_str().unwrap_or("") {
                    "SelfWake" => WakeSource::SelfWake,
                    "Local" => WakeSource::Local,
                    "Remote" => WakeSource::Remote,
                    "Io" => WakeSource::Io,
                    _ => WakeSource::Timer,
                };
                let by = e["args"]["by"].as_u64();
                push(
                    ts,
                    rank::WAKE,
                    EventKind::Wake {
                        target: arg(e, "target"),
                        source,
                        by,
                    },
                );
            }
            _ => {}
        }
    }
    out.sort_by_key(|&(at, rank, _)| (at, rank));
    log.events = out.into_iter().map(|(_, _, e)| e).collect();
    log.dropped = json["otherData"]["dropped_events"].as_u64().unwrap_or(0);
    log.capacity = json["otherData"]["capacity"].as_u64().unwrap_or(0);
    let meta = match json.get("turnstileFlight") {
        Some(m) => Some(serde_json::from_value(m.clone()).map_err(io::Error::other)?),
        None => None,
    };
    Ok(FlightFile { log, meta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flight::{FlightRecorder, TaskLabel};
    use std::time::Duration;

    /// A window with every kind of event: turns, polls (one that finishes), wakes of
    /// each source, a park, readiness, timers, a stall with its stack.
    fn busy_log() -> TraceLog {
        let f = FlightRecorder::new(Duration::from_secs(60), Duration::from_nanos(1));
        for turn in 1..=5 {
            f.turn_started(turn);
            f.batch(2);
            f.woken(1, WakeSource::SelfWake); // folded into the poll's end
            f.poll_ended(1, false);
            f.woken(1, WakeSource::Local);
            f.poll_ended(2, turn == 5);
            f.turn_ended(turn, 1);
            f.park_started();
            f.reactor_events(2, 1);
            f.woken(1, WakeSource::Io);
            f.woken(2, WakeSource::Remote);
            f.park_ended(0);
        }
        let mut log = f
            .handover(
                f.now(),
                vec![(1, TaskLabel::Named("a \"quoted\" name".into()))],
            )
            .log();
        log.stall_stacks.insert(2, "handler src/main.rs:3".into());
        log
    }

    #[test]
    fn the_streamed_file_has_the_exporters_events() {
        let log = busy_log();
        assert!(log
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Stall { .. })));
        let mut ours = chrome_json(&log, &FlightMeta::default()).unwrap();
        ours.push_str("{}}");
        let ours: Value = serde_json::from_str(&ours).unwrap();
        let theirs: Value = serde_json::from_str(&log.to_chrome_json()).unwrap();
        let mut events = ours["traceEvents"].as_array().unwrap().clone();
        assert_eq!(events.remove(0)["name"], "process_name");
        let sorted = |v: &[Value]| {
            let mut v: Vec<String> = v.iter().map(Value::to_string).collect();
            v.sort();
            v
        };
        assert_eq!(
            sorted(&events),
            sorted(theirs["traceEvents"].as_array().unwrap())
        );
        assert_eq!(ours["otherData"], theirs["otherData"]);
    }

    #[test]
    fn a_file_reads_back_into_the_log_it_was_made_of() {
        let log = busy_log();
        let path =
            std::env::temp_dir().join(format!("flight-roundtrip-{}.json", std::process::id()));
        let mut text = chrome_json(&log, &FlightMeta::default()).unwrap();
        text.push_str(&serde_json::to_string(&FlightMeta::default()).unwrap());
        text.push('}');
        std::fs::write(&path, text).unwrap();
        let back = read_flight_file(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(back.meta, Some(FlightMeta::default()));
        assert_eq!(
            back.log.task_names.get(&1).map(String::as_str),
            Some("a \"quoted\" name")
        );
        assert_eq!(back.log.stall_stacks, log.stall_stacks);
        // Polls, parks, readiness, timers and stalls come back exactly; of the wakes,
        // those that queued a task (the first of each target before its poll).
        let kinds = |l: &TraceLog| -> Vec<EventKind> {
            l.events
                .iter()
                .map(|e| e.kind)
                .filter(|k| {
                    matches!(
                        k,
                        EventKind::PollStart { .. }
                            | EventKind::PollEnd { .. }
                            | EventKind::ParkStart
                            | EventKind::ParkEnd
                            | EventKind::Io { .. }
                            | EventKind::TimersFired { .. }
                            | EventKind::Stall { .. }
                    )
                })
                .collect()
        };
        assert_eq!(kinds(&back.log), kinds(&log));
        let turns = |l: &TraceLog| {
            l.events
                .iter()
                .filter(|e| matches!(e.kind, EventKind::TurnStart { .. }))
                .count()
        };
        assert_eq!(turns(&back.log), 5);
    }
}
