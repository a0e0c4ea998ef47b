//! The recorder behind `Level::Timing` and `Level::Trace`: what the executor calls
//! around each poll, wake, turn and park, and what it turns into a snapshot.
//!
//! The executor keeps one [`Timing`] per runtime (none at `Off` and `Counters`, so those
//! levels never reach this code) and one [`TaskTiming`] per task. Everything here runs
//! on the loop thread; the `RefCell` inside is never borrowed across user code.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, Ticks};
use crate::counters::WakeSource;
use crate::histogram::{LatencyHistogram, LatencySummary};
use crate::lost::{LostWaker, LOST_KEPT};
use crate::outbox::{Outbox, Outgoing};
use crate::sites::{SiteStats, SiteTag, Sites};
use crate::stall::{CpuSampler, StallKind, StallReport, STALLS_KEPT};
use crate::task_timing::{TaskTiming, NO_SITE};
use crate::trace::{EventKind, TraceLog, TraceRing};
use crate::watchdog::Beacon;
use crate::Level;

/// `Timing::polling` between polls.
const NOT_POLLING: u64 = u64::MAX;
/// `PollStarted::delay` of a poll that no wake queued (none of the loop's polls).
const NOT_WOKEN: u64 = u64::MAX;

/// What a poll's start left for its end.
#[derive(Clone, Copy, Debug)]
pub struct PollStarted {
    /// The clock at the start.
    pub at: Ticks,
    /// The scheduling delay that ended at the start, in ticks (`NOT_WOKEN`: none).
    delay: u64,
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
/// let timing = Timing::new(Level::Timing, Duration::from_millis(10), 1024);
/// let task = TaskTiming::new(timing.now());
/// let start = timing.poll_started(&task, 1);
/// let stalled = timing.poll_ended(&task, 1, start, SiteTag::NONE, true, false);
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
    /// When the CPU clock was last sampled (zero: sample before the next poll), outside
    /// the `RefCell` so the per-poll check needs no borrow; and the ticks between samples.
    cpu_sampled: Cell<Ticks>,
    cpu_refresh: u64,
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
    turn: LatencyHistogram,
    park: LatencyHistogram,
    sites: Sites,
    cpu: CpuSampler,
    stalls: VecDeque<StallReport>,
    stalls_total: u64,
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
                turn: LatencyHistogram::new(),
                park: LatencyHistogram::new(),
                sites: Sites::new(),
                cpu: CpuSampler::new(),
                stalls: VecDeque::new(),
                stalls_total: 0,
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

    #[cold]
    fn event(&self, at: Ticks, kind: EventKind) {
        // The ring keeps raw ticks; `trace` converts them when the log is read.
        if let Some(ring) = self.inner.borrow_mut().ring.as_mut() {
            ring.push(at, kind);
        }
        if tracing::enabled!(target: "turnstile", tracing::Level::TRACE) {
            let at_ns = self.since_origin(at);
            self.post(Outgoing::Trace { at_ns, kind });
        }
    }

    /// Queues a `tracing` event for [`Timing::take_outbox`]: never emitted from here,
    /// where the caller may be in the middle of a change.
    fn post(&self, item: Outgoing) {
        self.outbox.borrow_mut().items.push(item);
        self.posted.set(true);
    }

    /// Whether events wait in the outbox (one load: the loop asks after every batch).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(!t.has_outbox());
    /// ```
    #[inline(always)]
    pub fn has_outbox(&self) -> bool {
        self.posted.get()
    }

    /// Takes the queued `tracing` events, for the caller to [`Outbox::emit`] once it
    /// holds no borrow that a subscriber could run into.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.take_outbox().is_empty());
    /// ```
    pub fn take_outbox(&self) -> Outbox {
        self.posted.set(false);
        std::mem::take(&mut *self.outbox.borrow_mut())
    }

    /// A turn begins.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.turn_started(1);
    /// t.turn_ended(1, 0);
    /// assert_eq!(t.turn_duration().count, 1);
    /// ```
    pub fn turn_started(&self, turn: u64) {
        // Chained from the end of the last turn when nothing ran in between.
        let now = match self.chain.replace(0) {
            0 => self.read(),
            end_of_last_turn => end_of_last_turn,
        };
        self.turn.set(turn);
        self.turn_start.set(now);
        self.turn_parked.set(0);
        if self.tracing {
            self.event(now, EventKind::TurnStart { turn });
        }
        self.chain.set(now); // the first poll starts here unless the reactor runs
    }

    /// A turn ends with `ready` tasks queued for the next. Its duration (parked time
    /// excluded) goes into the turn histogram.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.turn_ended(1, 3);
    /// ```
    pub fn turn_ended(&self, turn: u64, ready: u64) {
        let now = self.read();
        let start = self.turn_start.get();
        if start != 0 {
            let busy = now
                .saturating_sub(start)
                .saturating_sub(self.turn_parked.get());
            self.inner.borrow_mut().turn.record(busy);
        }
        if self.tracing {
            self.event(now, EventKind::TurnEnd { turn, ready });
        }
        self.chain.set(now); // the next turn starts here unless something runs between
    }

    /// The loop is about to park.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.park_started();
    /// t.park_ended(0, 0);
    /// assert_eq!(t.park_duration().count, 1);
    /// ```
    pub fn park_started(&self) {
        let now = self.read();
        self.park_start.set(now);
        if self.tracing {
            self.event(now, EventKind::ParkStart);
        }
    }

    /// The park ended, with `io_events` readiness events and `timers` fired.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.park_ended(1, 0);
    /// ```
    pub fn park_ended(&self, io_events: u64, timers: u64) {
        let now = self.read();
        let parked = now.saturating_sub(self.park_start.get());
        self.turn_parked.set(self.turn_parked.get() + parked);
        self.inner.borrow_mut().park.record(parked);
        // The park was a voluntary context switch: sample afresh before the next poll,
        // so that a stall's window never contains it.
        self.cpu_sampled.set(0);
        if self.tracing {
            self.event(now, EventKind::ParkEnd);
            self.reactor_events(io_events, timers);
        }
    }

    /// Readiness events and timer fires outside a park (at `Level::Trace`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Trace, Default::default(), 8);
    /// t.reactor_events(2, 1);
    /// ```
    pub fn reactor_events(&self, io_events: u64, timers: u64) {
        if !self.tracing {
            self.chain.set(0); // wakers run next: anyone's code
            return;
        }
        let now = self.read();
        if io_events > 0 {
            self.event(now, EventKind::Io { events: io_events });
        }
        if timers > 0 {
            self.event(now, EventKind::TimersFired { count: timers });
        }
    }

    /// A wake queued `target` (at `Level::Trace`, also an event).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// t.woken(&task, 1, turnstile_probes::WakeSource::Local);
    /// ```
    #[inline]
    pub fn woken(&self, task: &TaskTiming, target: u64, source: WakeSource) {
        // No clock read per wake: the latest reading (the start of the poll that woke
        // it, or the reactor's return) is a lower bound of the wake's time, so a delay
        // is overstated by at most the rest of that poll; a task woken during its own
        // poll is restamped at the poll's end (`poll_ended`).
        let now = self.hint.get();
        task.woken(now);
        if self.tracing {
            let by = Some(self.polling.get()).filter(|&id| id != NOT_POLLING);
            self.event(now, EventKind::Wake { target, source, by });
        }
    }

    /// A poll of task `id` begins: its scheduling delay is measured (and recorded with
    /// the poll's duration, when it ends).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let start = t.poll_started(&task, 1);
    /// t.poll_ended(&task, 1, start, turnstile_probes::SiteTag::NONE, true, false);
    /// assert_eq!(t.scheduling_delay().count, 1);
    /// ```
    #[inline(always)]
    pub fn poll_started(&self, task: &TaskTiming, id: u64) -> PollStarted {
        let now = match self.chain.replace(0) {
            0 => self.read(),
            end_of_last_poll => end_of_last_poll,
        };
        let woken = task.woken_at.replace(0);
        let delay = if woken != 0 {
            let delay = now.saturating_sub(woken);
            task.scheduled.set(task.scheduled.get() + delay);
            delay
        } else {
            NOT_WOKEN
        };
        if now.wrapping_sub(self.cpu_sampled.get()) > self.cpu_refresh {
            self.sample_cpu(now);
        }
        self.polling.set(id);
        if self.tracing {
            self.event(now, EventKind::PollStart { task: id });
        }
        PollStarted {
            at: now,
            delay,
            resumed_from: task.waiting_site.get(),
        }
    }

    /// Samples the loop thread's CPU clock (see `CpuSampler`): at most every tenth of
    /// the stall threshold, so the hot path pays one comparison.
    #[cold]
    #[inline(never)]
    fn sample_cpu(&self, now: Ticks) {
        self.inner.borrow_mut().cpu.sample();
        self.cpu_sampled.set(now);
    }

    /// Publishes a poll's start for the watchdog (when one runs).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.beacon_start(1, 1, std::panic::Location::caller());
    /// t.beacon_end();
    /// ```
    #[inline]
    pub fn beacon_start(&self, id: u64, at: Ticks, spawned_at: &'static Location<'static>) {
        if let Some(beacon) = &self.beacon {
            beacon.poll_started(id, at, spawned_at);
        }
    }

    /// Clears the published poll.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.beacon_end();
    /// ```
    #[inline]
    pub fn beacon_end(&self) {
        if let Some(beacon) = &self.beacon {
            beacon.poll_ended();
        }
    }

    /// A poll of task `id` returned: `tag` is the site its leaf left (if it yielded),
    /// `done` whether it finished, `requeued` whether it was woken during the poll
    /// (then its wake is stamped with the poll's end). Returns true if it was a stall,
    /// for the executor to call [`Timing::stalled`] with what it knows.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = turnstile_probes::Timing::new(
    ///     turnstile_probes::Level::Timing, Duration::from_secs(10), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let start = t.poll_started(&task, 1);
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// assert!(!t.poll_ended(&task, 1, start, tag, false, false)); // not a stall
    /// assert_eq!(t.sites()[0].yields, 1);
    /// ```
    #[inline(always)]
    pub fn poll_ended(
        &self,
        task: &TaskTiming,
        id: u64,
        start: PollStarted,
        tag: SiteTag,
        done: bool,
        requeued: bool,
    ) -> bool {
        let now = self.clock.now();
        self.hint.set(now);
        // A finished task's future is dropped next (user code): no chaining then.
        self.chain.set(if done { 0 } else { now });
        if requeued {
            task.woken_at.set(now);
        }
        self.polling.set(NOT_POLLING);
        let ticks = now.saturating_sub(start.at);
        task.busy.set(task.busy.get() + ticks);
        if ticks > task.longest_poll.get() {
            task.longest_poll.set(ticks);
        }
        let mut inner = self.inner.borrow_mut();
        inner.poll.record(ticks);
        if start.delay != NOT_WOKEN {
            inner.delay.record(start.delay);
        }
        // The wait this poll resumed from (if any) ended when the poll began, unless the
        // same leaf is pending again.
        let waiting = task.waiting_site.get();
        let resolved = if done { None } else { inner.sites.resolve(tag) };
        match resolved {
            Some((site, true)) if site == waiting => inner.sites.yielded_again(site),
            _ => {
                if waiting != NO_SITE {
                    let waited = start.at.saturating_sub(task.waiting_since.get());
                    inner.sites.ended_wait(waiting, waited);
                }
                match resolved {
                    Some((site, _)) => {
                        inner.sites.began_wait(site);
                        task.waiting_site.set(site);
                        task.waiting_since.set(now);
                    }
                    None => {
                        if !done {
                            inner.sites.unattributed_yield();
                        }
                        task.waiting_site.set(NO_SITE);
                    }
                }
            }
        }
        drop(inner);
        if done {
            task.ended(now);
        }
        if self.tracing {
            self.event(now, EventKind::PollEnd { task: id, done });
        }
        ticks >= self.stall_ticks
    }

    /// Writes the report of a stall that just ended (a poll of `task` from `start` to
    /// now), with the tasks that waited for it. Also queues a `tracing` warning (see
    /// [`Timing::take_outbox`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile_probes::{Level, TaskInfo, TaskTiming, Timing};
    /// let t = Timing::new(Level::Timing, Duration::ZERO, 0);
    /// let task = TaskTiming::new(t.now());
    /// let start = t.poll_started(&task, 1);
    /// let info = TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
    /// t.stalled(info, start, std::iter::empty());
    /// assert_eq!(t.stalls().1, 1);
    /// ```
    #[cold]
    #[inline(never)]
    pub fn stalled<'a>(
        &self,
        task: TaskInfo<'_>,
        start: PollStarted,
        waiting: impl Iterator<Item = &'a TaskTiming>,
    ) {
        let now = self.read();
        let duration = self.clock.between(start.at, now);
        let mut tasks_waiting = 0;
        let mut longest = 0;
        for other in waiting {
            let woken = other.woken_at.get();
            if woken != 0 {
                tasks_waiting += 1;
                longest = longest.max(self.clock.nanos_between(woken, now));
            }
        }
        let mut inner = self.inner.borrow_mut();
        let cpu_now = crate::os::thread_cpu_time();
        let switches_now = crate::stall::switches_now();
        let switches = inner
            .cpu
            .switches
            .zip(switches_now)
            .map(|(a, b)| b.since(&a));
        let (cpu_time, kind) = match (inner.cpu.cpu, cpu_now) {
            (Some(before), Some(after)) => {
                // The window runs from the last sample (before the poll) to now.
                let window = self
                    .clock
                    .between(self.cpu_sampled.get(), now)
                    .max(duration);
                let cpu = after.saturating_sub(before).min(window);
                // Mostly off the CPU, and it gave the CPU up itself: blocked. Off the
                // CPU only through preemption (a loaded machine): still computation.
                let blocked = switches.is_none_or(|s| s.voluntary > 0);
                let kind = if cpu * 2 < window && blocked {
                    StallKind::OffCpu
                } else {
                    StallKind::OnCpu
                };
                (Some(cpu), kind)
            }
            _ => (None, StallKind::Unknown),
        };
        // The sample is spent: the next poll takes a fresh one.
        inner.cpu.cpu = cpu_now;
        inner.cpu.switches = switches_now;
        self.cpu_sampled.set(now);
        let resumed_from =
            (start.resumed_from != NO_SITE).then(|| inner.sites.get(start.resumed_from).name());
        let report = StallReport {
            task_id: task.id,
            task_name: task.name.map(str::to_owned),
            spawned_at: task.spawned_at.to_string(),
            resumed_from,
            turn: self.turn.get(),
            duration,
            cpu_time,
            context_switches: switches,
            kind,
            tasks_waiting,
            longest_delay: Duration::from_nanos(longest),
        };
        inner.stalls_total += 1;
        if inner.stalls.len() == STALLS_KEPT {
            inner.stalls.pop_front();
        }
        inner.stalls.push_back(report.clone());
        drop(inner);
        self.post(Outgoing::Stall(report));
        if self.tracing {
            let nanos = duration.as_nanos() as u64;
            self.event(
                now,
                EventKind::Stall {
                    task: task.id,
                    nanos,
                },
            );
        }
    }

    /// A leaf at `tag` completed on its first poll.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.inline(turnstile_probes::SiteTag::code(std::panic::Location::caller()));
    /// assert_eq!(t.sites()[0].inline, 1);
    /// ```
    pub fn inline(&self, tag: SiteTag) {
        self.inner.borrow_mut().sites.inline(tag);
    }

    /// The tag of a labelled site (`ProbeExt::probe`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let at = std::panic::Location::caller();
    /// assert_eq!(t.label_tag("db", at), t.label_tag("db", at));
    /// ```
    pub fn label_tag(&self, label: &'static str, at: &'static Location<'static>) -> SiteTag {
        self.inner.borrow_mut().sites.label_tag(label, at)
    }

    /// Reports a lost waker.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let info = turnstile_probes::TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
    /// t.lost_waker(info, Some(&task));
    /// assert_eq!(t.lost_wakers().1, 1);
    /// ```
    #[cold]
    pub fn lost_waker(&self, task: TaskInfo<'_>, timing: Option<&TaskTiming>) {
        if let Some(t) = timing {
            if t.lost.replace(true) {
                return; // reported already
            }
        }
        let mut inner = self.inner.borrow_mut();
        let site = timing.map_or(NO_SITE, |t| t.waiting_site.get());
        let report = LostWaker {
            task_id: task.id,
            task_name: task.name.map(str::to_owned),
            spawned_at: task.spawned_at.to_string(),
            last_site: (site != NO_SITE).then(|| inner.sites.get(site).name()),
        };
        inner.lost_total += 1;
        if inner.lost.len() == LOST_KEPT {
            inner.lost.pop_front();
        }
        inner.lost.push_back(report.clone());
        drop(inner);
        self.post(Outgoing::LostWaker(report));
    }

    /// Poll durations so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.poll_duration().count, 0);
    /// ```
    pub fn poll_duration(&self) -> LatencySummary {
        self.inner
            .borrow()
            .poll
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Scheduling delays (wake to poll) so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.scheduling_delay().count, 0);
    /// ```
    pub fn scheduling_delay(&self) -> LatencySummary {
        self.inner
            .borrow()
            .delay
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Turn durations (parked time excluded) so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.turn_duration().count, 0);
    /// ```
    pub fn turn_duration(&self) -> LatencySummary {
        self.inner
            .borrow()
            .turn
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Park durations so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.park_duration().count, 0);
    /// ```
    pub fn park_duration(&self) -> LatencySummary {
        self.inner
            .borrow()
            .park
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Every await site, and the yields that left no site.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.sites().is_empty());
    /// ```
    pub fn sites(&self) -> Vec<SiteStats> {
        self.inner
            .borrow()
            .sites
            .stats_scaled(&|t| self.clock.ticks_to_nanos(t))
    }

    /// Yields whose `Pending` left no site.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.unattributed_yields(), 0);
    /// ```
    pub fn unattributed_yields(&self) -> u64 {
        self.inner.borrow().sites.unattributed()
    }

    /// The stall reports kept, and how many stalls there were in all.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.stalls().1, 0);
    /// ```
    pub fn stalls(&self) -> (Vec<StallReport>, u64) {
        let inner = self.inner.borrow();
        (inner.stalls.iter().cloned().collect(), inner.stalls_total)
    }

    /// The lost wakers kept, and how many in all.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.lost_wakers().1, 0);
    /// ```
    pub fn lost_wakers(&self) -> (Vec<LostWaker>, u64) {
        let inner = self.inner.borrow();
        (inner.lost.iter().cloned().collect(), inner.lost_total)
    }

    /// Reports made by the watchdog, if one runs.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.watchdog_reports(), 0);
    /// ```
    pub fn watchdog_reports(&self) -> u64 {
        self.beacon.as_ref().map_or(0, |b| b.reports())
    }

    /// The trace ring's content (at `Level::Trace`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.trace(Default::default()).is_none());
    /// ```
    pub fn trace(&self, task_names: HashMap<u64, String>) -> Option<TraceLog> {
        self.inner
            .borrow()
            .ring
            .as_ref()
            .map(|ring| ring.log_scaled(task_names, |at| self.since_origin(at)))
    }
}
