//! Recordings: one runtime's run, event by event, with the tables that name what the
//! events point at (tasks, await sites, async stacks), as one versioned JSON file.
//!
//! A runtime built with `Builder::record(path)`, or run with `TURNSTILE_RECORD=FILE` in
//! the environment, records at `Level::Trace` with a ring of [`RECORD_LIMIT`] events and
//! writes a [`Recording`] when it is dropped; `turnstile-lab view FILE` turns one into a
//! page that steps through the run turn by turn. The ring keeps the *last* events: a
//! run longer than the limit loses its beginning, and [`Recording::dropped`] says how
//! many events were cut.
//!
//! [`Recording::read`] also opens the Chrome trace JSON a flight recorder writes
//! ([`Recording::from_chrome_json`]): fewer details (no await sites, stacks or
//! coalesced wakes), the same turns.
//!
//! The schema, version [`RECORDING_VERSION`]:
//!
//! ```text
//! { "format": "turnstile-recording", "version": 2, "runtime": "turnstile-1",
//!   "origin": "trace" | "flight",
//!   "limit": 300000, "dropped": 0,
//!   "tasks":  [ { "id": 1, "name": null, "spawned_at": "src/main.rs:9:5" }, ... ],
//!   "sites":  [ { "location": "src/main.rs:3:5", "label": null }, ... ],
//!   "stacks": [ { "frames": [ {"function","file","line","column"} ], "leaf": null, "truncated": false } ],
//!   "counters": { "turns": 3, ... } | null,
//!   "events": [ { "at_ns": 0, "kind": "TurnStart", "turn": 1 }, ... ] }
//! ```
//!
//! Events are [`crate::Event`]s: `at_ns` counts from the runtime's start, `kind` and
//! its fields are those of [`crate::EventKind`]. A `Yielded` event's `site` indexes
//! `sites`, its `stack` indexes `stacks`; task 0 is the `block_on` future.
//!
//! Version 2 added two events: `Spawned` (a task's id and the task that spawned it; its
//! name and spawn location are in `tasks`) and `TimerSet` (the task that armed a timer
//! and how far away its deadline was). A version 1 file is read as it is: it has
//! neither. An I/O wake names no socket of its own: the socket is the site of the wait
//! its task stopped at (its last `Yielded` before the wake), whose label names the
//! socket and the operation ("tcp read from 127.0.0.1:5432").

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::counters::WakeSource;
use crate::trace::{Event, EventKind, TraceLog};
use crate::{AsyncStack, CounterValues, Snapshot};

/// The `format` field of every recording.
pub const RECORDING_FORMAT: &str = "turnstile-recording";
/// The schema version this crate writes (and the newest it reads).
pub const RECORDING_VERSION: u32 = 2;
/// Events a recording keeps by default: the last ones, if the run had more.
pub const RECORD_LIMIT: usize = 300_000;

/// A task as a recording names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedTask {
    /// Its id (0: the `block_on` future).
    pub id: u64,
    /// The name given with `task::Builder::name`, if any.
    pub name: Option<String>,
    /// Where it was spawned (`file:line:column`; for task 0, where `block_on` was
    /// called, when known).
    pub spawned_at: String,
}

/// An await site as a recording names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedSite {
    /// `file:line:column` of the leaf future (or of the `.probe(..)` call).
    pub location: String,
    /// Its label ("tcp read", a `probe` label, an instrumented function's name).
    pub label: Option<String>,
}

/// Where a recording's events came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// A runtime's `Level::Trace` ring: every detail.
    Trace,
    /// A flight recorder's Chrome trace: no sites, stacks or coalesced wakes.
    Flight,
}

/// One runtime's run: its events and the tables they point into.
///
/// ```
/// use turnstile_probes::{EventKind, Recording, TraceRing};
/// let mut ring = TraceRing::with_capacity(8);
/// ring.push(0, EventKind::TurnStart { turn: 1 });
/// ring.push(5, EventKind::TurnEnd { turn: 1, ready: 0 });
/// let rec = Recording::from_log("demo", ring.log(Default::default()));
/// let back = Recording::from_json(&rec.to_json()).unwrap();
/// assert_eq!(back.events.len(), 2);
/// assert_eq!(back.turns(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Recording {
    /// Always [`RECORDING_FORMAT`].
    pub format: String,
    /// The schema version ([`RECORDING_VERSION`]).
    pub version: u32,
    /// The runtime's name.
    pub runtime: String,
    /// Where the events came from.
    pub origin: Origin,
    /// Events the recording could keep.
    pub limit: u64,
    /// Events cut because the run had more than `limit`: the earliest ones.
    pub dropped: u64,
    /// Every task the events name, as far as the runtime still knew it at the end.
    pub tasks: Vec<RecordedTask>,
    /// Await sites, indexed by `Yielded` events.
    pub sites: Vec<RecordedSite>,
    /// Async stacks, indexed by `Yielded` events.
    pub stacks: Vec<AsyncStack>,
    /// The runtime's counters at the end of the run (for the whole run, cut or not).
    pub counters: Option<CounterValues>,
    /// The events kept, oldest first.
    pub events: Vec<Event>,
}

/// Why a file is not a recording.
#[derive(Debug)]
pub struct RecordingError(String);

impl fmt::Display for RecordingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordingError {}

impl From<RecordingError> for io::Error {
    fn from(e: RecordingError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e.0)
    }
}

fn err(msg: impl Into<String>) -> RecordingError {
    RecordingError(msg.into())
}

impl Recording {
    /// A recording of `log` alone, tasks named by its `task_names`.
    ///
    /// ```
    /// let rec = turnstile_probes::Recording::from_log("rt", Default::default());
    /// assert!(rec.events.is_empty());
    /// ```
    pub fn from_log(runtime: &str, log: TraceLog) -> Recording {
        let mut tasks: Vec<RecordedTask> = log
            .task_names
            .iter()
            .map(|(&id, name)| RecordedTask {
                id,
                name: Some(name.clone()),
                spawned_at: String::new(),
            })
            .collect();
        tasks.sort_by_key(|t| t.id);
        Recording {
            format: RECORDING_FORMAT.to_string(),
            version: RECORDING_VERSION,
            runtime: runtime.to_string(),
            origin: Origin::Trace,
            limit: log.capacity,
            dropped: log.dropped,
            tasks,
            sites: Vec::new(),
            stacks: Vec::new(),
            counters: None,
            events: log.events,
        }
    }

    /// The recording of a runtime named `runtime` from its final snapshot (taken at
    /// `Level::Trace`, so with its trace), the async stacks its recorder interned
    /// (`Timing::stack_table`) and where `block_on` was called (`main_at`).
    ///
    /// ```
    /// use turnstile_probes::{Level, Recording, Snapshot};
    /// let snap = Snapshot::new(Level::Trace);
    /// let rec = Recording::from_snapshot("rt", &snap, Vec::new(), None);
    /// assert_eq!(rec.tasks[0].id, 0);
    /// ```
    pub fn from_snapshot(
        runtime: &str,
        snap: &Snapshot,
        stacks: Vec<AsyncStack>,
        main_at: Option<String>,
    ) -> Recording {
        let log = snap.trace.clone().unwrap_or_default();
        let mut rec = Recording::from_log(runtime, log);
        let mut tasks = vec![RecordedTask {
            id: 0,
            name: Some("block_on".to_string()),
            spawned_at: main_at.unwrap_or_default(),
        }];
        tasks.extend(snap.tasks.iter().map(|t| RecordedTask {
            id: t.id,
            name: t.name.clone(),
            spawned_at: t.spawned_at.clone(),
        }));
        // Tasks the trace names that the snapshot's bounded history has forgotten.
        for t in rec.tasks.drain(..) {
            if !tasks.iter().any(|known| known.id == t.id) {
                tasks.push(RecordedTask {
                    id: t.id,
                    name: None,
                    spawned_at: t.name.unwrap_or_default(),
                });
            }
        }
        tasks.sort_by_key(|t| t.id);
        rec.tasks = tasks;
        rec.sites = snap
            .sites
            .iter()
            .map(|s| RecordedSite {
                location: s.location.clone(),
                label: s.label.clone(),
            })
            .collect();
        rec.stacks = stacks;
        rec.counters = Some(snap.counters);
        rec
    }

    /// Turns that began in the recording.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Recording::from_log("rt", Default::default()).turns(), 0);
    /// ```
    pub fn turns(&self) -> u64 {
        self.events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::TurnStart { .. }))
            .count() as u64
    }

    /// The recording as JSON (the schema in the module's doc).
    ///
    /// ```
    /// let json = turnstile_probes::Recording::from_log("rt", Default::default()).to_json();
    /// assert!(json.starts_with("{\"format\":\"turnstile-recording\""));
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a recording always serializes")
    }

    /// Writes the recording to `path`.
    ///
    /// # Errors
    /// If the file cannot be written.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("run.rec");
    /// turnstile_probes::Recording::from_log("rt", Default::default()).write(&path)?;
    /// assert_eq!(turnstile_probes::Recording::read(&path)?.runtime, "rt");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write(&self, path: &Path) -> io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.to_json())
    }

    /// Reads a recording, or a flight recorder's Chrome trace, from `path`.
    ///
    /// # Errors
    /// If the file cannot be read, or holds neither (the error says which it found).
    ///
    /// ```
    /// let err = turnstile_probes::Recording::read("/nonexistent.rec".as_ref()).unwrap_err();
    /// assert!(err.to_string().contains("/nonexistent.rec"));
    /// ```
    pub fn read(path: &Path) -> io::Result<Recording> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot read {}: {e}", path.display()))
        })?;
        Recording::from_json(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a recording: {e}", path.display()),
            )
        })
    }

    /// Parses a recording, or a flight recorder's Chrome trace (an object with
    /// `traceEvents`), from JSON text.
    ///
    /// # Errors
    /// If the text is neither, or a recording of a newer version.
    ///
    /// ```
    /// use turnstile_probes::Recording;
    /// assert!(Recording::from_json("[1, 2]").is_err());
    /// let flight = r#"{"traceEvents": [
    ///   {"name": "turn 1", "cat": "turn", "ph": "X", "ts": 1.0, "dur": 2.0, "pid": 1, "tid": 1}
    /// ]}"#;
    /// assert_eq!(Recording::from_json(flight).unwrap().turns(), 1);
    /// ```
    pub fn from_json(text: &str) -> Result<Recording, RecordingError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON ({e})")))?;
        match value.get("format").and_then(Value::as_str) {
            Some(RECORDING_FORMAT) => {
                let version = value.get("version").and_then(Value::as_u64).unwrap_or(0);
                if version > u64::from(RECORDING_VERSION) {
                    return Err(err(format!(
                        "a recording of version {version}, newer than this viewer's \
                         {RECORDING_VERSION}: update turnstile-lab"
                    )));
                }
                serde_json::from_value(value).map_err(|e| err(format!("a damaged recording ({e})")))
            }
            Some(other) => Err(err(format!("a file of format {other:?}"))),
            None if value.get("traceEvents").is_some() => Recording::from_chrome(&value),
            None => Err(err(
                "JSON without a \"format\" or \"traceEvents\" field: neither a turnstile \
                 recording nor a flight recorder's trace",
            )),
        }
    }

    /// The recording a flight recorder's Chrome trace JSON holds (see
    /// `TraceLog::to_chrome_json`): its turn, poll and park slices, wake flows, I/O,
    /// timer and stall instants, put back in order as events.
    ///
    /// # Errors
    /// If the text is not a Chrome trace.
    ///
    /// ```
    /// use turnstile_probes::{EventKind, Recording, TraceRing};
    /// let mut ring = TraceRing::with_capacity(16);
    /// ring.push(1_000, EventKind::TurnStart { turn: 1 });
    /// ring.push(2_000, EventKind::PollStart { task: 1 });
    /// ring.push(3_000, EventKind::PollEnd { task: 1, done: true });
    /// ring.push(4_000, EventKind::TurnEnd { turn: 1, ready: 0 });
    /// let log = ring.log(Default::default());
    /// let rec = Recording::from_chrome_json(&log.to_chrome_json()).unwrap();
    /// assert_eq!(rec.events, log.events);
    /// ```
    pub fn from_chrome_json(text: &str) -> Result<Recording, RecordingError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| err(format!("not JSON ({e})")))?;
        Recording::from_chrome(&value)
    }

    fn from_chrome(value: &Value) -> Result<Recording, RecordingError> {
        let list = value
            .get("traceEvents")
            .and_then(Value::as_array)
            .ok_or_else(|| err("a Chrome trace without a traceEvents array"))?;
        // (time, rank, order) -> event: the rank puts what opens before what it holds
        // and what closes after, for events stamped with the same microsecond.
        let mut events: Vec<(u64, u8, usize, EventKind)> = Vec::new();
        let mut names: BTreeMap<u64, String> = BTreeMap::new();
        let ns = |v: &Value, key: &str| -> u64 {
            (v.get(key).and_then(Value::as_f64).unwrap_or(0.0) * 1000.0).round() as u64
        };
        let arg = |v: &Value, key: &str| v.get("args").and_then(|a| a.get(key)).cloned();
        let arg_u64 = |v: &Value, key: &str| arg(v, key).and_then(|a| a.as_u64());
        let mut ready_at: HashMap<u64, u64> = HashMap::new();
        for (order, e) in list.iter().enumerate() {
            let ph = e.get("ph").and_then(Value::as_str).unwrap_or("");
            let name = e.get("name").and_then(Value::as_str).unwrap_or("");
            let cat = e.get("cat").and_then(Value::as_str).unwrap_or("");
            let (ts, end) = (ns(e, "ts"), ns(e, "ts") + ns(e, "dur"));
            let mut push =
                |at: u64, rank: u8, kind: EventKind| events.push((at, rank, order, kind));
            match (ph, cat) {
                ("X", "turn") => {
                    let turn = name
                        .strip_prefix("turn ")
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| err(format!("a turn slice named {name:?}")))?;
                    push(ts, 0, EventKind::TurnStart { turn });
                    push(end, 9, EventKind::TurnEnd { turn, ready: 0 });
                }
                ("X", "park") => {
                    push(ts, 1, EventKind::ParkStart);
                    push(end, 2, EventKind::ParkEnd);
                }
                ("X", "poll") => {
                    let task = arg_u64(e, "task").unwrap_or(0);
                    let done = arg(e, "done").and_then(|d| d.as_bool()).unwrap_or(false);
                    if let Some(n) = name
                        .strip_prefix(&format!("poll task {task} ("))
                        .and_then(|n| n.strip_suffix(')'))
                    {
                        names.insert(task, n.to_string());
                    }
                    push(ts, 6, EventKind::PollStart { task });
                    push(end, 8, EventKind::PollEnd { task, done });
                }
                ("s", "wake") => {
                    let target = arg_u64(e, "target").unwrap_or(0);
                    let by = arg_u64(e, "by");
                    let source = match arg(e, "source").as_ref().and_then(Value::as_str) {
                        Some("SelfWake") => WakeSource::SelfWake,
                        Some("Remote") => WakeSource::Remote,
                        Some("Io") => WakeSource::Io,
                        Some("Timer") => WakeSource::Timer,
                        _ => WakeSource::Local,
                    };
                    // A wake made during a poll is inside it.
                    let rank = if by.is_some() { 7 } else { 5 };
                    push(ts, rank, EventKind::Wake { target, source, by });
                }
                ("i", _) if name == "io" => {
                    let events = arg_u64(e, "events").unwrap_or(0);
                    push(ts, 3, EventKind::Io { events });
                }
                ("i", _) if name == "timers fired" => {
                    let count = arg_u64(e, "count").unwrap_or(0);
                    push(ts, 4, EventKind::TimersFired { count });
                }
                ("i", "stall") => {
                    let task = arg_u64(e, "task").unwrap_or(0);
                    let ms = arg(e, "ms").and_then(|m| m.as_f64()).unwrap_or(0.0);
                    let nanos = (ms * 1e6).round() as u64;
                    push(ts, 8, EventKind::Stall { task, nanos });
                }
                ("C", _) if name == "ready queue" => {
                    if let Some(ready) = arg_u64(e, "ready") {
                        ready_at.insert(ts, ready);
                    }
                }
                _ => {}
            }
        }
        events.sort_by_key(|&(at, rank, order, _)| (at, rank, order));
        let events = events
            .into_iter()
            .map(|(at, _, _, mut kind)| {
                if let EventKind::TurnEnd { ready, .. } = &mut kind {
                    *ready = ready_at.get(&at).copied().unwrap_or(0);
                }
                Event { at_ns: at, kind }
            })
            .collect::<Vec<_>>();
        let other = value.get("otherData");
        let dropped = other
            .and_then(|o| o.get("dropped_events"))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let limit = other
            .and_then(|o| o.get("capacity"))
            .and_then(Value::as_u64)
            .unwrap_or(events.len() as u64);
        let mut tasks = vec![RecordedTask {
            id: 0,
            name: Some("block_on".to_string()),
            spawned_at: String::new(),
        }];
        tasks.extend(
            names
                .into_iter()
                .filter(|(id, _)| *id != 0)
                .map(|(id, name)| RecordedTask {
                    id,
                    name: None,
                    spawned_at: name,
                }),
        );
        Ok(Recording {
            format: RECORDING_FORMAT.to_string(),
            version: RECORDING_VERSION,
            runtime: "flight recorder".to_string(),
            origin: Origin::Flight,
            limit,
            dropped,
            tasks,
            sites: Vec::new(),
            stacks: Vec::new(),
            counters: None,
            events,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TraceRing;

    #[test]
    fn a_flight_trace_comes_back_in_order_with_its_wakes_and_parks() {
        let mut ring = TraceRing::with_capacity(64);
        let script = [
            (1_000, EventKind::TurnStart { turn: 1 }),
            (1_000, EventKind::ParkStart),
            (9_000, EventKind::ParkEnd),
            (9_000, EventKind::TimersFired { count: 1 }),
            (
                9_000,
                EventKind::Wake {
                    target: 1,
                    source: WakeSource::Timer,
                    by: None,
                },
            ),
            (10_000, EventKind::PollStart { task: 1 }),
            (
                10_000,
                EventKind::Wake {
                    target: 0,
                    source: WakeSource::Local,
                    by: Some(1),
                },
            ),
            (
                12_000,
                EventKind::PollEnd {
                    task: 1,
                    done: true,
                },
            ),
            (13_000, EventKind::TurnEnd { turn: 1, ready: 0 }),
        ];
        for (at, kind) in script {
            ring.push(at, kind);
        }
        let mut names = HashMap::new();
        names.insert(1, "src/main.rs:3:5".to_string());
        let log = ring.log(names);
        let rec = Recording::from_chrome_json(&log.to_chrome_json()).unwrap();
        assert_eq!(rec.events, log.events);
        assert_eq!(rec.origin, Origin::Flight);
        assert_eq!(rec.tasks[1].spawned_at, "src/main.rs:3:5");
    }

    #[test]
    fn a_version_1_recording_still_opens() {
        let v1 = r#"{"format":"turnstile-recording","version":1,"runtime":"rt",
            "origin":"trace","limit":8,"dropped":0,"tasks":[],"sites":[],"stacks":[],
            "counters":null,"events":[{"at_ns":0,"kind":"TurnStart","turn":1},
            {"at_ns":5,"kind":"TurnEnd","turn":1,"ready":0}]}"#;
        let rec = Recording::from_json(v1).unwrap();
        assert_eq!((rec.version, rec.turns()), (1, 1));
    }

    #[test]
    fn spawns_and_timers_go_through_json() {
        let mut ring = TraceRing::with_capacity(8);
        ring.push(
            1,
            EventKind::Spawned {
                task: 3,
                by: Some(0),
            },
        );
        ring.push(
            2,
            EventKind::TimerSet {
                task: Some(3),
                due_in_ns: 10_000_000,
            },
        );
        let rec = Recording::from_log("rt", ring.log(HashMap::new()));
        let json = rec.to_json();
        assert!(
            json.contains(r#""kind":"Spawned","task":3,"by":0"#),
            "{json}"
        );
        assert_eq!(Recording::from_json(&json).unwrap().events, rec.events);
    }

    #[test]
    fn a_newer_version_is_refused_with_a_reason() {
        let mut rec = Recording::from_log("rt", TraceLog::default());
        rec.version = RECORDING_VERSION + 1;
        let e = Recording::from_json(&rec.to_json()).unwrap_err();
        assert!(e.to_string().contains("newer"), "{e}");
    }
}
