//! Stalls: polls longer than the stall threshold, and who they cost.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::os::ContextSwitches;
use crate::sched::StallTimes;
use crate::stack::AsyncStack;

/// The thread's context switches, where the OS reports them per thread.
pub(crate) fn switches_now() -> Option<ContextSwitches> {
    cfg!(all(target_os = "linux", not(miri))).then(ContextSwitches::of_this_thread)
}

/// Stall reports kept in a runtime (the oldest are let go; the count is kept).
pub const STALLS_KEPT: usize = 32;

/// What a stalled poll mostly did: computed, blocked, or waited for a CPU.
///
/// With a watchdog, it is the largest of the measured [`StallTimes`] (the thread's CPU
/// clock and its run-queue delay from `/proc/self/task/TID/schedstat`). Without one
/// there is no sample from before the poll, and the kind is inferred from the CPU
/// clock and the context switches: mostly off the CPU with a voluntary switch is
/// blocked, with involuntary ones only is preempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StallKind {
    /// On-CPU, computing: the thread was running for most of the poll.
    OnCpu,
    /// Off-CPU, blocked: in a system call (a sleep, a lock, a synchronous read) for
    /// most of the poll.
    OffCpu,
    /// Off-CPU, runnable: the OS had given the CPU to another thread (preemption on a
    /// busy machine) for most of the poll. Neither the task's computing nor its
    /// blocking: the code may have been quick.
    Preempted,
    /// The thread's CPU clock could not be read.
    Unknown,
}

/// The readiness that arrived while a stall ran: what the first reactor poll after it
/// found (a lower bound of who waited behind it: a socket that became ready and was
/// read by a later poll, or that a task did not wait on yet, is not counted).
///
/// ```
/// let r = turnstile_probes::ReadinessAfter { tasks: 2, sources: 3 };
/// assert_eq!(r.tasks, 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadinessAfter {
    /// Tasks that readiness queued (not queued already).
    pub tasks: u64,
    /// The readiness events (sockets, pipes: one per ready source).
    pub sources: u64,
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
    /// Computing, blocked or preempted.
    pub kind: StallKind,
    /// How its wall time was spent, measured (with a watchdog on Linux; `None` without
    /// a sample from before the poll).
    #[serde(default)]
    pub times: Option<StallTimes>,
    /// The line that blocked: the first frame of the loop thread's stack in the
    /// user's code, "file:line in function", captured by the watchdog while the stall
    /// ran (see `docs/stall.md` for when it cannot be).
    #[serde(default)]
    pub blocked_at: Option<String>,
    /// Why `blocked_at` is missing, when the watchdog tried to capture it.
    #[serde(default)]
    pub no_line: Option<String>,
    /// What the kernel said the loop thread was doing during the stall: running, or
    /// blocked in which system call (with a watchdog, Linux).
    #[serde(default)]
    pub loop_thread: Option<String>,
    /// The loop thread's whole stack then (with `watchdog_backtrace(true)`).
    #[serde(default)]
    pub backtrace: Option<Vec<String>>,
    /// Tasks that were queued and waiting while it ran.
    pub tasks_waiting: u64,
    /// The readiness the first reactor poll after the stall found: more tasks that
    /// waited for it, a lower bound (`None` until that poll).
    #[serde(default)]
    pub readiness_after: Option<ReadinessAfter>,
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
            times: Some(StallTimes {
                on_cpu: Duration::from_millis(1),
                runnable: Duration::ZERO,
                blocked: Duration::from_millis(29),
            }),
            blocked_at: Some("src/main.rs:14 in query".into()),
            no_line: None,
            loop_thread: Some("blocked in system call read".into()),
            backtrace: None,
            tasks_waiting: 2,
            readiness_after: Some(ReadinessAfter {
                tasks: 5,
                sources: 5,
            }),
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
        if let Some(at) = &self.blocked_at {
            write!(f, "; blocked at {at}")?;
        }
        match (&self.stack, &self.resumed_from) {
            (Some(stack), _) => write!(f, ", resuming from {stack}")?,
            (None, Some(site)) => write!(f, ", resuming from {site}")?,
            (None, None) => {}
        }
        let call = self
            .loop_thread
            .as_deref()
            .and_then(|v| v.strip_prefix("blocked in system call "));
        match (self.kind, call) {
            (StallKind::OnCpu, _) => write!(f, "; on-CPU: computing")?,
            (StallKind::OffCpu, Some(call)) => write!(f, "; off-CPU: blocked in {call}")?,
            (StallKind::OffCpu, None) => write!(f, "; off-CPU: blocked (a blocking call)")?,
            (StallKind::Preempted, _) => {
                write!(f, "; off-CPU, runnable: preempted (waiting for a CPU)")?
            }
            (StallKind::Unknown, _) => write!(f, "; CPU use unknown")?,
        }
        match (&self.times, self.cpu_time) {
            (Some(times), _) => write!(f, " ({:.1?}: {times})", self.duration)?,
            (None, Some(cpu)) => write!(f, " ({cpu:.1?} CPU)")?,
            (None, None) => {}
        }
        write!(
            f,
            "; {} task(s) were queued behind it, the longest waited {:.1?}",
            self.tasks_waiting, self.longest_delay
        )?;
        if let Some(r) = &self.readiness_after {
            write!(
                f,
                "; by the next reactor poll, readiness for {} more task(s) ({} source(s)) had \
                 arrived (a lower bound of who waited)",
                r.tasks, r.sources
            )?;
        }
        if self.blocked_at.is_none() {
            if let Some(why) = &self.no_line {
                write!(f, "; no blocking line: {why}")?;
            }
        }
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
///
///
/// A park does not take a new sample (that would be two system calls per park, as many
/// as a request-response server makes to serve a request): it moves the sample's wall
/// time later by the time parked (`Timing::park_ended`), since the CPU clock stands
/// still while the thread sleeps in `epoll_wait`, so the window leaves parks out and
/// `refresh` counts loop time only; and it counts itself, since each park may have
/// made one voluntary context switch that is not the stall's.
#[derive(Debug)]
pub(crate) struct CpuSampler {
    /// CPU time at the last sample.
    pub(crate) cpu: Option<Duration>,
    /// The thread's context switches at the last sample (Linux only).
    pub(crate) switches: Option<ContextSwitches>,
    /// Parks since the sample.
    pub(crate) parks: u64,
}

impl CpuSampler {
    pub(crate) fn new() -> Self {
        CpuSampler {
            cpu: None,
            switches: None,
            parks: 0,
        }
    }

    /// Samples the CPU clock now (`Timing` calls this when the last sample is older than
    /// `refresh`, and records when).
    pub(crate) fn sample(&mut self) {
        self.cpu = crate::os::thread_cpu_time();
        self.switches = switches_now();
        self.parks = 0;
    }
}
