//! Narrated text: a line per turn and an indented line per poll, what `await_chain`
//! prints.

use std::fmt::Write;
use std::time::Duration;

use crate::trace::{EventKind, TraceLog};

fn d(ns: u64) -> String {
    format!("{:.1?}", Duration::from_nanos(ns))
}

impl TraceLog {
    /// The trace as text: one line per turn, indented lines for what happened in it.
    ///
    /// ```
    /// use turnstile_probes::{EventKind, TraceRing};
    /// let mut ring = TraceRing::with_capacity(16);
    /// ring.push(0, EventKind::TurnStart { turn: 1 });
    /// ring.push(10, EventKind::PollStart { task: 2 });
    /// ring.push(20, EventKind::PollEnd { task: 2, done: false });
    /// ring.push(30, EventKind::TurnEnd { turn: 1, ready: 0 });
    /// let text = ring.log(Default::default()).narrate();
    /// assert!(text.starts_with("turn 1"));
    /// assert!(text.contains("poll task 2: pending after 10.0ns"));
    /// ```
    pub fn narrate(&self) -> String {
        let mut out = String::new();
        if self.dropped > 0 {
            let _ = writeln!(out, "({} earlier events dropped)", self.dropped);
        }
        let mut poll_start = 0;
        let mut park_start = 0;
        for e in &self.events {
            let _ = match e.kind {
                EventKind::TurnStart { turn } => writeln!(out, "turn {turn} at {}", d(e.at_ns)),
                EventKind::TurnEnd { ready, .. } if ready > 0 => {
                    writeln!(out, "  {ready} task(s) ready for the next turn")
                }
                EventKind::TurnEnd { .. } => Ok(()),
                EventKind::PollStart { .. } => {
                    poll_start = e.at_ns;
                    Ok(())
                }
                EventKind::PollEnd { task, done } => writeln!(
                    out,
                    "  poll {}: {} after {}",
                    self.task_name(task),
                    if done { "done" } else { "pending" },
                    d(e.at_ns.saturating_sub(poll_start))
                ),
                EventKind::Wake { target, source, by } => match by {
                    Some(by) if by != target => writeln!(
                        out,
                        "    wake {} ({source:?}) by {}",
                        self.task_name(target),
                        self.task_name(by)
                    ),
                    _ => writeln!(out, "    wake {} ({source:?})", self.task_name(target)),
                },
                EventKind::ParkStart => {
                    park_start = e.at_ns;
                    Ok(())
                }
                EventKind::ParkEnd => {
                    writeln!(out, "  parked {}", d(e.at_ns.saturating_sub(park_start)))
                }
                EventKind::Io { events } => writeln!(out, "  {events} I/O event(s)"),
                EventKind::TimersFired { count } => writeln!(out, "  {count} timer(s) fired"),
                EventKind::Yielded { .. } | EventKind::TimerSet { .. } => Ok(()),
                EventKind::Spawned { task, .. } => {
                    writeln!(out, "    spawn {}", self.task_name(task))
                }
                EventKind::Coalesced { target, source, .. } => {
                    writeln!(
                        out,
                        "    wake {} ({source:?}), coalesced",
                        self.task_name(target)
                    )
                }
                EventKind::Stall { task, nanos } => writeln!(
                    out,
                    "  STALL: {} ran {} in one poll",
                    self.task_name(task),
                    d(nanos)
                ),
            };
        }
        out
    }
}
