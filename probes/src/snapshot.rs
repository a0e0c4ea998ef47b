//! A point-in-time report of everything the probes recorded.

use std::fmt;
use std::time::Duration;

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde::{Deserialize, Serialize};

use crate::histogram::nanos;
use crate::{
    AsyncStack, ContextSwitches, CounterValues, LatencySummary, Level, LostWaker, SiteStats,
    StallReport, TraceLog,
};

/// Where a task is in its life when a snapshot is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaskState {
    /// Queued to be polled in the next turn.
    Queued,
    /// Being polled right now (the snapshot was taken from inside it).
    Running,
    /// Waiting for a wake.
    Idle,
    /// Finished: completed, panicked or aborted.
    Finished,
}

/// What the probes know about one task.
///
/// ```
/// let t = turnstile_probes::TaskStats::new(7, Some("fetch".into()), "src/main.rs:3:5".into());
/// assert_eq!(t.polls, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TaskStats {
    /// The task's id, unique for the runtime's lifetime.
    pub id: u64,
    /// The name given with `task::Builder::name`, if any.
    pub name: Option<String>,
    /// Where the task was spawned (`file:line:column`).
    pub spawned_at: String,
    /// Where the task is in its life.
    pub state: TaskState,
    /// Polls of this task.
    pub polls: u64,
    /// Polls that returned `Pending`.
    pub yields: u64,
    /// Wakes that reached this task, from every source.
    pub wakes: u64,
    /// Wakes of this task by itself.
    pub wakes_self: u64,
    /// Time spent being polled (`Level::Timing`).
    pub busy: Duration,
    /// Time spent woken but waiting in the ready queue (`Level::Timing`).
    pub scheduled: Duration,
    /// Time spent waiting for a wake (`Level::Timing`).
    pub idle: Duration,
    /// The longest single poll (`Level::Timing`).
    pub longest_poll: Duration,
    /// Where the wakes that are not self-wakes came from (`Level::Timing`; `None` below).
    pub wakes_by_source: Option<WakesBySource>,
    /// Of its yields, those the cooperative budget forced (`Level::Timing`).
    #[serde(default)]
    pub budget_yields: u64,
    /// The async stack the task is suspended in: the `#[turnstile::instrument]`ed
    /// frames it waits in, outermost first, over the leaf site it waits at
    /// (`Level::Timing`; `None` when it waits in no instrumented frame, and once it
    /// has finished).
    #[serde(default)]
    pub stack: Option<AsyncStack>,
    /// The await site the task waits at now (where it last yielded), if known
    /// (`Level::Timing`).
    #[serde(default)]
    pub waiting_at: Option<String>,
    /// How long it has waited there when the snapshot was taken (`Level::Timing`).
    #[serde(default)]
    pub waiting_for: Duration,
}

/// A task's wakes by where they came from, besides its self-wakes (`Level::Timing`).
///
/// `local + remote + io + timer + wakes_self` is the task's `wakes`, counting the wakes
/// made while the runtime was timed (all of them, for a runtime built at `Timing`).
///
/// ```
/// let w = turnstile_probes::WakesBySource::default();
/// assert_eq!(w.local + w.remote + w.io + w.timer, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WakesBySource {
    /// By another task or the `block_on` future, on the loop thread.
    pub local: u64,
    /// From another thread.
    pub remote: u64,
    /// By the reactor: a socket became ready.
    pub io: u64,
    /// By a timer.
    pub timer: u64,
}

impl TaskStats {
    /// Fresh statistics for a task that has just been spawned.
    ///
    /// ```
    /// let t = turnstile_probes::TaskStats::new(1, None, "here".into());
    /// assert_eq!(t.state, turnstile_probes::TaskState::Queued);
    /// ```
    pub fn new(id: u64, name: Option<String>, spawned_at: String) -> Self {
        TaskStats {
            id,
            name,
            spawned_at,
            state: TaskState::Queued,
            polls: 0,
            yields: 0,
            wakes: 0,
            wakes_self: 0,
            busy: Duration::ZERO,
            scheduled: Duration::ZERO,
            idle: Duration::ZERO,
            longest_poll: Duration::ZERO,
            wakes_by_source: None,
            budget_yields: 0,
            stack: None,
            waiting_at: None,
            waiting_for: Duration::ZERO,
        }
    }
}

/// Everything the probes recorded, at one moment.
///
/// Get one with `Runtime::probes()` from outside the loop or `turnstile::probes::snapshot()`
/// from inside it. It serializes and deserializes with serde (save one as JSON, read it
/// back to compare runs) and prints as tables.
///
/// ```
/// let snap = turnstile_probes::Snapshot::new(turnstile_probes::Level::Counters);
/// assert_eq!(snap.counters.turns, 0);
/// assert!(snap.to_string().contains("turns"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Snapshot {
    /// The probe level the runtime records at.
    pub level: Level,
    /// Every counter.
    pub counters: CounterValues,
    /// Live tasks, and the most recently finished ones (a bounded history).
    pub tasks: Vec<TaskStats>,
    /// Time the loop spent parked in the reactor, in total.
    pub parked: Duration,
    /// Time spent inside `block_on` with the loop running, in total (parked time included).
    pub running: Duration,
    /// Timers pending now.
    pub timers_pending: u64,
    /// Timer slots allocated: the high-water mark of pending timers. Cancelled and fired
    /// timers free their slots for reuse, so this does not grow with churn.
    pub timer_slots: u64,
    /// Entries in the timer heap, including dead ones of cancelled timers not yet
    /// cleaned up (the heap is rebuilt when they outnumber the live ones).
    pub timer_heap: u64,
    /// Context switches of the loop thread since the runtime was built (the OS's view,
    /// beside the loop's own yields).
    pub context_switches: ContextSwitches,
    /// How long each task poll took (`Level::Timing`).
    pub poll_duration: LatencySummary,
    /// From a task's wake to its poll: the loop's lag (`Level::Timing`).
    pub scheduling_delay: LatencySummary,
    /// From the reactor poll that reported a socket ready to the poll of the task it
    /// woke: I/O waiting behind ready tasks (`Level::Timing`; part of
    /// `scheduling_delay`).
    pub io_delay: LatencySummary,
    /// How long each turn took, parked time excluded (`Level::Timing`).
    pub turn_duration: LatencySummary,
    /// How long each park lasted (`Level::Timing`).
    pub park_duration: LatencySummary,
    /// Await sites, in the order first seen (`Level::Timing`).
    pub sites: Vec<SiteStats>,
    /// Yields whose `Pending` came from a future that names no site.
    pub unattributed_yields: u64,
    /// The most recent stalls (bounded).
    pub stalls: Vec<StallReport>,
    /// Stalls in all.
    pub stalls_total: u64,
    /// Polls the watchdog reported while they were still running.
    pub watchdog_reports: u64,
    /// The most recent lost wakers (bounded).
    pub lost_wakers: Vec<LostWaker>,
    /// Lost wakers in all.
    pub lost_wakers_total: u64,
    /// The event trace (`Level::Trace`).
    pub trace: Option<TraceLog>,
}

impl Snapshot {
    /// An empty snapshot at `level`.
    ///
    /// ```
    /// let s = turnstile_probes::Snapshot::new(turnstile_probes::Level::Off);
    /// assert!(s.tasks.is_empty());
    /// ```
    pub fn new(level: Level) -> Self {
        Snapshot {
            level,
            counters: CounterValues::default(),
            tasks: Vec::new(),
            parked: Duration::ZERO,
            running: Duration::ZERO,
            timers_pending: 0,
            timer_slots: 0,
            timer_heap: 0,
            context_switches: ContextSwitches::default(),
            poll_duration: LatencySummary::default(),
            scheduling_delay: LatencySummary::default(),
            io_delay: LatencySummary::default(),
            turn_duration: LatencySummary::default(),
            park_duration: LatencySummary::default(),
            sites: Vec::new(),
            unattributed_yields: 0,
            stalls: Vec::new(),
            stalls_total: 0,
            watchdog_reports: 0,
            lost_wakers: Vec::new(),
            lost_wakers_total: 0,
            trace: None,
        }
    }

    /// The share of running time the loop spent doing work rather than parked, from 0 to 1
    /// (Node's event-loop utilization). `None` before the loop has run.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut s = turnstile_probes::Snapshot::new(turnstile_probes::Level::Counters);
    /// s.running = Duration::from_millis(10);
    /// s.parked = Duration::from_millis(4);
    /// assert_eq!(s.utilization(), Some(0.6));
    /// ```
    pub fn utilization(&self) -> Option<f64> {
        let running = self.running.as_secs_f64();
        (running > 0.0).then(|| ((running - self.parked.as_secs_f64()) / running).clamp(0.0, 1.0))
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "turnstile probes at level {:?}", self.level)?;
        if self.level.is_off() {
            return writeln!(f, "(probes are off: nothing recorded)");
        }
        let mut counters = Table::new();
        counters
            .load_preset(UTF8_BORDERS_ONLY)
            .set_header(["counter", "value"]);
        for (name, value) in self.counters.pairs() {
            counters.add_row([name.to_string(), value.to_string()]);
        }
        writeln!(f, "{counters}")?;
        if let Some(u) = self.utilization() {
            writeln!(
                f,
                "loop: {:.1?} running, {:.1?} parked, utilization {:.1} %",
                self.running,
                self.parked,
                u * 100.0
            )?;
        }
        let cs = &self.context_switches;
        writeln!(
            f,
            "loop thread context switches: {} voluntary, {} involuntary",
            cs.voluntary, cs.involuntary
        )?;
        let timed = self.level >= Level::Timing;
        if timed {
            let mut h = Table::new();
            h.load_preset(UTF8_BORDERS_ONLY).set_header([
                "latency", "count", "min", "p50", "p90", "p99", "max", "mean",
            ]);
            for (name, s) in [
                ("poll duration", &self.poll_duration),
                ("scheduling delay", &self.scheduling_delay),
                ("I/O delay", &self.io_delay),
                ("turn duration", &self.turn_duration),
                ("park duration", &self.park_duration),
            ] {
                h.add_row([
                    name.to_string(),
                    s.count.to_string(),
                    nanos(s.min_ns),
                    nanos(s.p50_ns),
                    nanos(s.p90_ns),
                    nanos(s.p99_ns),
                    nanos(s.max_ns),
                    nanos(s.mean_ns),
                ]);
            }
            writeln!(f, "{h}")?;
        }
        if !self.tasks.is_empty() {
            let mut tasks = Table::new();
            let mut header = vec![
                "task",
                "name",
                "spawned at",
                "state",
                "polls",
                "yields",
                "wakes",
                "self",
            ];
            if timed {
                header.extend(["local", "remote", "io", "timer"]);
                header.extend(["busy", "scheduled", "idle", "longest poll"]);
            }
            tasks.load_preset(UTF8_BORDERS_ONLY).set_header(header);
            for t in &self.tasks {
                let mut row = vec![
                    t.id.to_string(),
                    t.name.clone().unwrap_or_default(),
                    t.spawned_at.clone(),
                    format!("{:?}", t.state),
                    t.polls.to_string(),
                    t.yields.to_string(),
                    t.wakes.to_string(),
                    t.wakes_self.to_string(),
                ];
                if timed {
                    let by = t.wakes_by_source.unwrap_or_default();
                    for n in [by.local, by.remote, by.io, by.timer] {
                        row.push(n.to_string());
                    }
                    for d in [t.busy, t.scheduled, t.idle, t.longest_poll] {
                        row.push(format!("{d:.1?}"));
                    }
                }
                tasks.add_row(row);
            }
            writeln!(f, "{tasks}")?;
            for t in self.tasks.iter().filter(|t| t.stack.is_some()) {
                if let Some(stack) = &t.stack {
                    match &t.name {
                        Some(name) => writeln!(f, "task {} ({name}) waits in {stack}", t.id)?,
                        None => writeln!(f, "task {} waits in {stack}", t.id)?,
                    }
                }
            }
        }
        if !self.sites.is_empty() || self.unattributed_yields > 0 {
            let mut sites = Table::new();
            sites.load_preset(UTF8_BORDERS_ONLY).set_header([
                "await site",
                "awaited",
                "yields",
                "inline",
                "total wait",
                "longest wait",
            ]);
            for s in &self.sites {
                sites.add_row([
                    s.name(),
                    s.awaited.to_string(),
                    s.yields.to_string(),
                    s.inline.to_string(),
                    format!("{:.1?}", s.total_wait),
                    format!("{:.1?}", s.longest_wait),
                ]);
            }
            if self.unattributed_yields > 0 {
                sites.add_row([
                    "(no site: a foreign future; name it with .probe())".to_string(),
                    String::new(),
                    self.unattributed_yields.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
            writeln!(f, "{sites}")?;
        }
        if self.stalls_total > 0 {
            writeln!(f, "stalls: {} in all", self.stalls_total)?;
            for s in &self.stalls {
                writeln!(f, "  {s}")?;
            }
        }
        if self.watchdog_reports > 0 {
            writeln!(f, "watchdog reports: {}", self.watchdog_reports)?;
        }
        if self.lost_wakers_total > 0 {
            writeln!(f, "lost wakers: {} in all", self.lost_wakers_total)?;
            for l in &self.lost_wakers {
                writeln!(f, "  {l}")?;
            }
        }
        if let Some(trace) = &self.trace {
            writeln!(
                f,
                "trace: {} events kept, {} dropped",
                trace.events.len(),
                trace.dropped
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_serializes_every_counter() {
        let snap = Snapshot::new(Level::Counters);
        let json = serde_json::to_value(&snap).unwrap();
        for (name, _) in snap.counters.pairs() {
            assert!(
                json["counters"].get(name).is_some(),
                "{name} missing from JSON"
            );
        }
    }

    #[test]
    fn utilization_is_none_before_running() {
        assert_eq!(Snapshot::new(Level::Counters).utilization(), None);
    }
}
