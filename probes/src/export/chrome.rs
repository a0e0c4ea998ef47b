//! Chrome / Perfetto trace JSON (the "Trace Event Format"), one encoder for every trace
//! the probes write: [`TraceLog::to_chrome_json`] and the flight recorder's files
//! (`flight/file.rs`, which adds a process name and its own figures) both stream their
//! events through [`write_events`].
//!
//! Polls and parks are complete slices (`"ph":"X"`) nested inside a slice per turn;
//! the ready-queue depth at the end of each turn is a counter (`"ph":"C"`); a stall is
//! an instant (`"ph":"i"`); each wake that queued a task is a flow (`"ph":"s"` at the
//! wake, `"ph":"f"` at the start of the poll it caused). Open the file in
//! `ui.perfetto.dev` or `chrome://tracing`.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use crate::trace::{EventKind, TraceLog};

/// Microseconds, as the format wants them.
fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// A JSON string literal.
fn text(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

impl TraceLog {
    /// The trace as Chrome trace JSON (an object with a `traceEvents` array).
    ///
    /// ```
    /// use turnstile_probes::{EventKind, TraceRing};
    /// let mut ring = TraceRing::with_capacity(16);
    /// ring.push(1_000, EventKind::TurnStart { turn: 1 });
    /// ring.push(2_000, EventKind::PollStart { task: 1 });
    /// ring.push(3_000, EventKind::PollEnd { task: 1, done: true });
    /// ring.push(4_000, EventKind::TurnEnd { turn: 1, ready: 0 });
    /// let json: serde_json::Value =
    ///     serde_json::from_str(&ring.log(Default::default()).to_chrome_json()).unwrap();
    /// assert_eq!(json["traceEvents"].as_array().unwrap().iter()
    ///     .filter(|e| e["ph"] == "X").count(), 2);
    /// ```
    pub fn to_chrome_json(&self) -> String {
        let mut out = String::with_capacity(self.events.len() * 96 + 256);
        // Writing into a `String` cannot fail.
        let _ = write_events(&mut out, self, None);
        out.push('}');
        out
    }
}

/// Writes the trace's object but its closing brace: `{"traceEvents":[...]` (with a
/// `process_name` event first when `process` is given), then `"displayTimeUnit"` and
/// `"otherData"` (the log's dropped events and capacity). The caller may add keys of
/// its own before it closes the object.
pub(crate) fn write_events(out: &mut String, log: &TraceLog, process: Option<&str>) -> fmt::Result {
    out.push_str(r#"{"traceEvents":["#);
    if let Some(name) = process {
        write!(
            out,
            r#"{{"name":"process_name","ph":"M","pid":1,"args":{{"name":{}}}}},"#,
            text(name)
        )?;
    }
    out.push_str(
        r#"{"name":"thread_name","ph":"M","pid":1,"tid":1,"args":{"name":"turnstile loop"}}"#,
    );
    let slice = |out: &mut String, name: &str, cat: &str, start: u64, end: u64, args: &str| {
        write!(
            out,
            r#",{{"name":{},"cat":"{cat}","ph":"X","ts":{},"dur":{},"pid":1,"tid":1,"args":{{{args}}}}}"#,
            text(name),
            us(start),
            us(end.saturating_sub(start)),
        )
    };
    let mut turn_open: Option<(u64, u64)> = None;
    let mut poll_open: Option<(u64, u64)> = None;
    let mut park_open: Option<u64> = None;
    // Wakes waiting for the poll they caused: target -> flow id.
    let mut flows: HashMap<u64, u64> = HashMap::new();
    let mut next_flow = 1u64;
    let last = log.events.last().map_or(0, |e| e.at_ns);
    for e in &log.events {
        let at = e.at_ns;
        match e.kind {
            EventKind::TurnStart { turn } => turn_open = Some((turn, at)),
            EventKind::TurnEnd { ready, .. } => {
                if let Some((n, start)) = turn_open.take() {
                    slice(out, &format!("turn {n}"), "turn", start, at, "")?;
                }
                write!(
                    out,
                    r#",{{"name":"ready queue","ph":"C","ts":{},"pid":1,"tid":1,"args":{{"ready":{ready}}}}}"#,
                    us(at)
                )?;
            }
            EventKind::PollStart { task } => {
                poll_open = Some((task, at));
                if let Some(id) = flows.remove(&task) {
                    write!(
                        out,
                        r#",{{"name":"wake","cat":"wake","ph":"f","bp":"e","id":{id},"ts":{},"pid":1,"tid":1}}"#,
                        us(at)
                    )?;
                }
            }
            EventKind::PollEnd { task, done } => {
                if let Some((t, start)) = poll_open.take() {
                    debug_assert_eq!(t, task);
                    let name = format!("poll {}", log.task_name(task));
                    let args = format!(r#""task":{task},"done":{done}"#);
                    slice(out, &name, "poll", start, at, &args)?;
                }
            }
            EventKind::Wake { target, source, by } => {
                if flows.contains_key(&target) {
                    continue;
                }
                let id = next_flow;
                next_flow += 1;
                flows.insert(target, id);
                let by = by.map_or_else(|| "null".to_owned(), |b| b.to_string());
                write!(
                    out,
                    r#",{{"name":"wake","cat":"wake","ph":"s","id":{id},"ts":{},"pid":1,"tid":1,"args":{{"target":{target},"source":"{source:?}","by":{by}}}}}"#,
                    us(at)
                )?;
            }
            EventKind::ParkStart => park_open = Some(at),
            EventKind::ParkEnd => {
                if let Some(start) = park_open.take() {
                    slice(out, "park", "park", start, at, "")?;
                }
            }
            EventKind::Io { events } => write!(
                out,
                r#",{{"name":"io","ph":"i","s":"t","ts":{},"pid":1,"tid":1,"args":{{"events":{events}}}}}"#,
                us(at)
            )?,
            EventKind::TimersFired { count } => write!(
                out,
                r#",{{"name":"timers fired","ph":"i","s":"t","ts":{},"pid":1,"tid":1,"args":{{"count":{count}}}}}"#,
                us(at)
            )?,
            EventKind::Stall { task, nanos } => {
                let stack = log
                    .stall_stacks
                    .get(&task)
                    .map_or_else(String::new, |s| format!(r#","stack":{}"#, text(s)));
                write!(
                    out,
                    r#",{{"name":"stall","cat":"stall","ph":"i","s":"t","ts":{},"pid":1,"tid":1,"args":{{"task":{task},"ms":{}{stack}}}}}"#,
                    us(at),
                    nanos as f64 / 1e6
                )?;
            }
            // Recordings' details: the viewer reads them, a Chrome trace has no place.
            EventKind::Yielded { .. }
            | EventKind::Coalesced { .. }
            | EventKind::Spawned { .. }
            | EventKind::TimerSet { .. } => {}
        }
    }
    // A trace taken mid-turn (a dump from inside a task) closes what is open.
    if let Some((task, start)) = poll_open {
        let name = format!("poll {}", log.task_name(task));
        let args = format!(r#""task":{task},"open":true"#);
        slice(out, &name, "poll", start, last, &args)?;
    }
    if let Some((n, start)) = turn_open {
        slice(
            out,
            &format!("turn {n}"),
            "turn",
            start,
            last,
            r#""open":true"#,
        )?;
    }
    write!(
        out,
        r#"],"displayTimeUnit":"ns","otherData":{{"dropped_events":{},"capacity":{}}}"#,
        log.dropped, log.capacity,
    )
}
