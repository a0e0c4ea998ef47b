//! Chrome / Perfetto trace JSON (the "Trace Event Format").
//!
//! Polls and parks are complete slices (`"ph":"X"`) nested inside a slice per turn;
//! the ready-queue depth at the end of each turn is a counter (`"ph":"C"`); a stall is
//! an instant (`"ph":"i"`); each wake that queued a task is a flow (`"ph":"s"` at the
//! wake, `"ph":"f"` at the start of the poll it caused). Open the file in
//! `ui.perfetto.dev` or `chrome://tracing`.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::trace::{EventKind, TraceLog};

/// Microseconds, as the format wants them.
fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
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
        let mut out: Vec<Value> = Vec::new();
        let base = json!({"pid": 1, "tid": 1});
        let slice = |name: String, cat: &str, start: u64, end: u64, args: Value| {
            let mut v = json!({
                "name": name, "cat": cat, "ph": "X",
                "ts": us(start), "dur": us(end.saturating_sub(start)), "args": args,
            });
            merge(&mut v, &base);
            v
        };
        out.push(json!({"name": "thread_name", "ph": "M", "pid": 1, "tid": 1,
            "args": {"name": "turnstile loop"}}));
        let mut turn_open: Option<(u64, u64)> = None;
        let mut poll_open: Option<(u64, u64)> = None;
        let mut park_open: Option<u64> = None;
        // Wakes waiting for the poll they caused: target -> flow id.
        let mut flows: HashMap<u64, u64> = HashMap::new();
        let mut next_flow = 1u64;
        let last = self.events.last().map_or(0, |e| e.at_ns);
        for e in &self.events {
            let at = e.at_ns;
            match e.kind {
                EventKind::TurnStart { turn } => turn_open = Some((turn, at)),
                EventKind::TurnEnd { turn, ready } => {
                    if let Some((n, start)) = turn_open.take() {
                        out.push(slice(format!("turn {n}"), "turn", start, at, json!({})));
                    }
                    let mut c = json!({"name": "ready queue", "ph": "C", "ts": us(at),
                        "args": {"ready": ready}});
                    merge(&mut c, &base);
                    out.push(c);
                    let _ = turn;
                }
                EventKind::PollStart { task } => {
                    poll_open = Some((task, at));
                    if let Some(id) = flows.remove(&task) {
                        let mut f = json!({"name": "wake", "cat": "wake", "ph": "f",
                            "bp": "e", "id": id, "ts": us(at)});
                        merge(&mut f, &base);
                        out.push(f);
                    }
                }
                EventKind::PollEnd { task, done } => {
                    if let Some((t, start)) = poll_open.take() {
                        debug_assert_eq!(t, task);
                        out.push(slice(
                            format!("poll {}", self.task_name(task)),
                            "poll",
                            start,
                            at,
                            json!({"task": task, "done": done}),
                        ));
                    }
                }
                EventKind::Wake { target, source, by } => {
                    if flows.contains_key(&target) {
                        continue;
                    }
                    let id = next_flow;
                    next_flow += 1;
                    flows.insert(target, id);
                    let mut s = json!({"name": "wake", "cat": "wake", "ph": "s", "id": id,
                        "ts": us(at), "args": {"target": target, "source": format!("{source:?}"),
                        "by": by}});
                    merge(&mut s, &base);
                    out.push(s);
                }
                EventKind::ParkStart => park_open = Some(at),
                EventKind::ParkEnd => {
                    if let Some(start) = park_open.take() {
                        out.push(slice("park".into(), "park", start, at, json!({})));
                    }
                }
                EventKind::Io { events } => {
                    let mut i = json!({"name": "io", "ph": "i", "s": "t", "ts": us(at),
                        "args": {"events": events}});
                    merge(&mut i, &base);
                    out.push(i);
                }
                EventKind::TimersFired { count } => {
                    let mut i = json!({"name": "timers fired", "ph": "i", "s": "t",
                        "ts": us(at), "args": {"count": count}});
                    merge(&mut i, &base);
                    out.push(i);
                }
                // Recordings' details: the viewer reads them, a Chrome trace has no place.
                EventKind::Yielded { .. }
                | EventKind::Coalesced { .. }
                | EventKind::Spawned { .. }
                | EventKind::TimerSet { .. } => {}
                EventKind::Stall { task, nanos } => {
                    let mut args = json!({"task": task, "ms": nanos as f64 / 1e6});
                    if let Some(stack) = self.stall_stacks.get(&task) {
                        args["stack"] = json!(stack);
                    }
                    let mut i = json!({"name": "stall", "cat": "stall", "ph": "i", "s": "t",
                        "ts": us(at), "args": args});
                    merge(&mut i, &base);
                    out.push(i);
                }
            }
        }
        // A trace taken mid-turn (a snapshot from inside a task) closes what is open.
        if let Some((task, start)) = poll_open {
            out.push(slice(
                format!("poll {}", self.task_name(task)),
                "poll",
                start,
                last,
                json!({"task": task, "open": true}),
            ));
        }
        if let Some((n, start)) = turn_open {
            out.push(slice(
                format!("turn {n}"),
                "turn",
                start,
                last,
                json!({"open": true}),
            ));
        }
        json!({
            "traceEvents": out,
            "displayTimeUnit": "ns",
            "otherData": {"dropped_events": self.dropped, "capacity": self.capacity},
        })
        .to_string()
    }
}

fn merge(v: &mut Value, extra: &Value) {
    if let (Some(v), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in extra {
            v.insert(k.clone(), x.clone());
        }
    }
}
