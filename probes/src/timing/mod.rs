//! The recorder behind `Level::Timing` and `Level::Trace`: what the executor calls
//! around each poll, wake, turn and park, and what it turns into a snapshot.
//!
//! The executor keeps one [`Timing`] per runtime (none at `Off` and `Counters`, so those
//! levels never reach this code) and one [`TaskTiming`] per task. Everything here runs
//! on the loop thread; the `RefCell` inside is never borrowed across user code, and
//! nothing here calls user code: `tracing` events wait in an outbox (`report.rs`).
//!
//! One concern per file: this one holds the recorder and its clock; `turn.rs` the
//! turn and park events; `poll.rs` the poll and wake events (scheduling delay, busy
//! time, await sites, the watchdog's beacon); `stack.rs` the instrumented frames and
//! async stacks of `#[turnstile::instrument]`; `report.rs` stalls, lost wakers, trace
//! events and the outbox; `readout.rs` what snapshots read.

mod poll;
mod readout;
mod report;
mod stack;
mod turn;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, Ticks};
use crate::histogram::LatencyHistogram;
use crate::lost::LostWaker;
use crate::outbox::Outbox;
use crate::sites::Sites;
use crate::stack::{PendingPath, StackId, Stacks, NO_STACK};
use crate::stall::{CpuSampler, StallReport};
use crate::trace::TraceRing;
use crate::watchdog::Beacon;
use crate::Level;

/// `Timing::polling` between polls.
pub(crate) const NOT_POLLING: u64 = u64::MAX;
/// `PollStarted::delay` of a poll that no wake queued (none of the loop's polls).
pub(crate) const NOT_WOKEN: u64 = u64::MAX;

/// What a poll's start left for its end.
#[derive(Clone, Copy, Debug)]
pub struct PollStarted {
    /// The clock at the start.
    pub at: Ticks,
    /// The scheduling delay that ended at the start, in ticks (`NOT_WOKEN`: none).
    delay: u64,
    /// The wake that queued it was a socket's readiness.
    io: bool,
    /// The site the task was waiting at (the one this poll resumes from).
    resumed_from: u32,
}

/// What the executor says about a task when a stall report needs it.
#[derive(Clone, Copy, Debug)]
pub struct TaskInfo<'a> {
    /// The task's id (0 for the `block_on` future).
    pub id: u64,
    /// Its name.
    pub name: Option<&'a str>,
    /// Where it was spawned (or where `block_on` was called).
    pub spawned_at: &'static Location<'static>,
}

/// Everything the timing probes hold for one runtime.
///
/// ```
/// use std::time::Duration;
/// use turnstile_probes::{Level, SiteTag, TaskTiming, Timing};
///
/// // A stall threshold no poll here can reach, even on a loaded machine.
/// let timing = Timing::new(Level::Timing, Duration::from_secs(60), 1024);
/// let task = TaskTiming::new(timing.now());
/// let mut start = timing.poll_started(1);
/// let stalled = timing.poll_ended(&task, 1, &mut start, SiteTag::NONE, true, false);
/// assert!(!stalled);
/// assert_eq!(timing.poll_duration().count, 1);
/// ```
#[derive(Debug)]
pub struct Timing {
    clock: Clock,
    /// The clock when the runtime was built: trace times count from here.
    origin: Ticks,
    /// Polls at least this many ticks long are stalls.
    stall_ticks: u64,
    /// Whether events go into the ring (`Level::Trace`).
    tracing: bool,
    /// Published for the watchdog, when one runs.
    beacon: Option<Arc<Beacon>>,
    /// The turn in progress, for stall reports.
    turn: Cell<u64>,
    /// The task being polled (`NOT_POLLING` between polls), for wake events.
    polling: Cell<u64>,
    /// The latest clock reading: what a wake is stamped with (see `woken`).
    hint: Cell<Ticks>,
    /// The end of the last poll, if nothing has run since (zero otherwise): the next
    /// poll's start, so that back-to-back polls read the clock once each, not twice.
    chain: Cell<Ticks>,
    /// The turn's start and the park time inside it.
    turn_start: Cell<Ticks>,
    turn_parked: Cell<u64>,
    park_start: Cell<Ticks>,
    /// When the CPU clock was last sampled, moved later by every park since (zero:
    /// sample before the next poll), outside the `RefCell` so the per-poll check needs
    /// no borrow; and the ticks of loop time between samples.
    cpu_sampled: Cell<Ticks>,
    cpu_refresh: u64,
    /// A leaf forced a budget yield in the poll in progress (`budget_yield`).
    budget_yielded: Cell<bool>,
    /// The last poll that ended ended in a budget yield (for its stall report).
    ended_by_budget: Cell<bool>,
    /// The instrumented frames that returned `Pending` in the poll in progress.
    path: PendingPath,
    /// An instrumented await has returned `Pending` in this runtime: from then on, the
    /// end of each poll keeps the path as the task's stack. Until then it costs the
    /// poll one test of this flag.
    stacks_used: Cell<bool>,
    /// The stack the last stalled poll resumed from, for its report (`NO_STACK`).
    stalled_stack: Cell<StackId>,
    /// Stall reports wait for the readiness count of the next reactor poll
    /// (`report.rs`), readable without a borrow.
    awaits_readiness: Cell<bool>,
    inner: RefCell<Recorded>,
    /// `tracing` events waiting for a safe point (see `outbox.rs`).
    outbox: RefCell<Outbox>,
    /// Whether `outbox` has anything, readable without a borrow.
    posted: Cell<bool>,
}

/// The part that needs `&mut`.
#[derive(Debug)]
///
/// Histograms and site waits hold raw clock ticks; they are converted to nanoseconds
/// when read.
struct Recorded {
    poll: LatencyHistogram,
    delay: LatencyHistogram,
    /// The scheduling delays of tasks a socket's readiness woke.
    io_delay: LatencyHistogram,
    turn: LatencyHistogram,
    park: LatencyHistogram,
    sites: Sites,
    /// The async stacks tasks were suspended in, interned.
    stacks: Stacks,
    cpu: CpuSampler,
    stalls: VecDeque<StallReport>,
    stalls_total: u64,
    /// The stalls (turn, task, duration) whose kept reports wait for the readiness
    /// count of the first reactor poll after them (`Timing::readiness_after_stall`).
    awaiting_readiness: Vec<(u64, u64, Duration)>,
    lost: VecDeque<LostWaker>,
    lost_total: u64,
    ring: Option<TraceRing>,
}

impl Timing {
    /// The recorder for a runtime at `level` (`Timing` or `Trace`), with its stall
    /// threshold and the trace ring's capacity.
    ///
    /// ```
    /// let t = turnstile_probes::Timing::new(
    ///     turnstile_probes::Level::Trace, std::time::Duration::from_millis(10), 16);
    /// assert!(t.is_tracing());
    /// ```
    pub fn new(level: Level, stall_threshold: Duration, trace_capacity: usize) -> Self {
        let clock = Clock::new();
        let origin = clock.now();
        let stall_ticks = clock.ticks_for(stall_threshold);
        let cpu_refresh = clock.ticks_for(stall_threshold / 10);
        let tracing = level >= Level::Trace;
        Timing {
            inner: RefCell::new(Recorded {
                poll: LatencyHistogram::new(),
                delay: LatencyHistogram::new(),
                io_delay: LatencyHistogram::new(),
                turn: LatencyHistogram::new(),
                park: LatencyHistogram::new(),
                sites: Sites::new(),
                stacks: Stacks::default(),
                cpu: CpuSampler::new(),
                stalls: VecDeque::new(),
                stalls_total: 0,
                awaiting_readiness: Vec::new(),
                lost: VecDeque::new(),
                lost_total: 0,
                ring: tracing.then(|| TraceRing::with_capacity(trace_capacity)),
            }),
            clock,
            origin,
            stall_ticks,
            tracing,
            beacon: None,
            turn: Cell::new(0),
            polling: Cell::new(NOT_POLLING),
            hint: Cell::new(origin),
            chain: Cell::new(0),
            turn_start: Cell::new(0),
            turn_parked: Cell::new(0),
            park_start: Cell::new(0),
            cpu_sampled: Cell::new(0),
            cpu_refresh,
            budget_yielded: Cell::new(false),
            ended_by_budget: Cell::new(false),
            path: PendingPath::new(),
            stacks_used: Cell::new(false),
            stalled_stack: Cell::new(NO_STACK),
            awaits_readiness: Cell::new(false),
            outbox: RefCell::new(Outbox::default()),
            posted: Cell::new(false),
        }
    }

    /// Publishes every poll's start in `beacon`, for a watchdog thread.
    ///
    /// ```
    /// let mut t = turnstile_probes::Timing::new(
    ///     turnstile_probes::Level::Timing, std::time::Duration::from_millis(10), 0);
    /// t.set_beacon(std::sync::Arc::new(turnstile_probes::Beacon::default()));
    /// ```
    pub fn set_beacon(&mut self, beacon: Arc<Beacon>) {
        self.beacon = Some(beacon);
    }

    /// The clock (to hand a copy to a watchdog).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let _c = t.clock().clone();
    /// ```
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The clock, now.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.now() > 0);
    /// ```
    #[inline(always)]
    pub fn now(&self) -> Ticks {
        self.clock.now()
    }

    /// Whether events are recorded in the ring (`Level::Trace`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(!t.is_tracing());
    /// ```
    #[inline(always)]
    pub fn is_tracing(&self) -> bool {
        self.tracing
    }

    /// Reads the clock (about 11 ns here: the TSC), remembering the reading.
    #[inline(always)]
    fn read(&self) -> Ticks {
        let now = self.clock.now();
        self.hint.set(now);
        self.chain.set(0);
        now
    }

    /// Something ran since the last poll ended (a destructor, say): the next poll must
    /// read the clock rather than start where the last one ended.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.break_chain();
    /// ```
    #[inline]
    pub fn break_chain(&self) {
        self.chain.set(0);
    }

    /// Nanoseconds since the runtime was built, for trace events.
    fn since_origin(&self, at: Ticks) -> u64 {
        self.clock.nanos_between(self.origin, at)
    }
}
