//! Stalls: polls longer than the stall threshold, and who they cost.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::os::ContextSwitches;
use crate::stack::AsyncStack;

/// The thread's context switches, where the OS reports them per thread.
pub(crate) fn switches_now() -> Option<ContextSwitches> {
    cfg!(all(target_os = "linux", not(miri))).then(ContextSwitches::of_this_thread)
}

/// Stall reports kept in a runtime (the oldest are let go; the count is kept).
pub const STALLS_KEPT: usize = 32;

/// Whether a stalled poll was computing or blocked, from the loop thread's CPU clock
/// and its context switches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StallKind {
    /// Computation: the thread was on the CPU for most of the poll, or it was off only
    /// because the OS preempted it (involuntary context switches, no voluntary one).
    OnCpu,
    /// A blocking call (a sleep, a lock, a synchronous read): the thread was off the CPU
    /// for most of the poll and gave it up itself (a voluntary context switch).
    OffCpu,
    /// The thread's CPU clock could not be read.
    Unknown,
}

/// One poll that ran longer than `stall_threshold`.
///
/// ```
/// let r = turnstile_probes::StallReport::example();
/// assert!(r.to_string().contains("stalled the loop"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StallReport {
    /// The task's id (0 for the `block_on` future).
    pub task_id: u64,
    /// The task's name, if it has one.
    pub task_name: Option<String>,
    /// Where the task was spawned.
    pub spawned_at: String,
    /// The await site the poll resumed from (where the task last yielded), if known.
    pub resumed_from: Option<String>,
    /// The async stack the poll resumed from: the `#[turnstile::instrument]`ed frames
    /// the task was suspended in, outermost first, over `resumed_from`. `None` when it
    /// was suspended in no instrumented frame.
    #[serde(default)]
    pub stack: Option<AsyncStack>,
    /// The turn it happened in.
    pub turn: u64,
    /// How long the poll ran.
    pub duration: Duration,
    /// CPU time of the loop thread over the poll (sampled: see `docs/probes.md`).
    pub cpu_time: Option<Duration>,
    /// The loop thread's context switches over the poll (same window; Linux only).
    pub context_switches: Option<ContextSwitches>,
    /// Computation or a blocking call.
    pub kind: StallKind,
    /// Tasks that were queued and waiting while it ran.
    pub tasks_waiting: u64,
    /// The longest any of them had been waiting when the poll returned.
    pub longest_delay: Duration,
    /// The poll ended in a yield that the cooperative budget forced: the task was
    /// running through ready operations (computing between them), rather than stuck
    /// in one call.
    #[serde(default)]
    pub ended_by_budget: bool,
    /// What the flight recorder did about this stall: the file it wrote, or why it
    /// wrote none (`None` without a flight recorder).
    #[serde(default)]
    pub flight_recorder: Option<String>,
}

impl StallReport {
    /// A made-up report, for examples and tests of the formatting.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::StallReport::example().task_id, 3);
    /// ```
    pub fn example() -> Self {
        StallReport {
            task_id: 3,
            task_name: Some("db".into()),
            spawned_at: "src/main.rs:10:5".into(),
            resumed_from: Some("src/main.rs:12:9".into()),
            stack: None,
            turn: 7,
            duration: Duration::from_millis(30),
            cpu_time: Some(Duration::from_millis(1)),
            context_switches: None,
            kind: StallKind::OffCpu,
            tasks_waiting: 2,
            longest_delay: Duration::from_millis(31),
            ended_by_budget: false,
            flight_recorder: None,
        }
    }

    /// The task as "id 3 (db)".
    fn who(&self) -> String {
        match &self.task_name {
            Some(name) => format!("task {} ({name})", self.task_id),
            None if self.task_id == 0 => "the block_on future".to_string(),
            None => format!("task {}", self.task_id),
        }
    }
}

impl fmt::Display for StallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spawned at {} stalled the loop for {:.1?} in turn {}",
            self.who(),
            self.spawned_at,
            self.duration,
            self.turn
        )?;
        match (&self.stack, &self.resumed_from) {
            (Some(stack), _) => write!(f, ", resuming from {stack}")?,
            (None, Some(site)) => write!(f, ", resuming from {site}")?,
            (None, None) => {}
        }
        match (self.kind, self.cpu_time) {
            (StallKind::OnCpu, Some(cpu)) => write!(f, "; on-CPU ({cpu:.1?} CPU): computation")?,
            (StallKind::OffCpu, Some(cpu)) => {
                write!(f, "; off-CPU ({cpu:.1?} CPU): a blocking call")?
            }
            _ => write!(f, "; CPU use unknown")?,
        }
        write!(
            f,
            "; {} task(s) waited, the longest {:.1?}",
            self.tasks_waiting, self.longest_delay
        )?;
        if self.ended_by_budget {
            write!(
                f,
                "; it ended in a budget yield (ready operations, one after another)"
            )?;
        }
        if let Some(note) = &self.flight_recorder {
            write!(f, "; flight recorder: {note}")?;
        }
        Ok(())
    }
}

/// The CPU clock of the loop thread, sampled so that the hot path never pays for it.
///
/// A stall's CPU time is `cpu(end) - cpu(sample)` over `wall(end) - wall(sample)`, where
/// the sample is at most `refresh` (`Timing::cpu_refresh`) older than the poll's start:
/// so the window may include up to `refresh` of work before the poll, which cannot turn
/// a long blocking poll into an on-CPU one when `refresh` is a tenth of the stall
/// threshold. The sample's wall time is `Timing::cpu_sampled`, read on the hot path
/// without a borrow.
#[derive(Debug)]
pub(crate) struct CpuSampler {
    /// CPU time at the last sample.
    pub(crate) cpu: Option<Duration>,
    /// The thread's context switches at the last sample (Linux only).
    pub(crate) switches: Option<ContextSwitches>,
}

impl CpuSampler {
    pub(crate) fn new() -> Self {
        CpuSampler {
            cpu: None,
            switches: None,
        }
    }

    /// Samples the CPU clock now (`Timing` calls this when the last sample is older than
    /// `refresh`, and records when).
    pub(crate) fn sample(&mut self) {
        self.cpu = crate::os::thread_cpu_time();
        self.switches = switches_now();
    }
}
