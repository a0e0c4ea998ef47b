//! Per-task timing at `Level::Timing`: busy, scheduled and idle time, the longest poll,
//! and the await site the task is waiting at.

use std::cell::Cell;
use std::time::Duration;

use crate::clock::{Clock, Ticks};
use crate::counters::WakeSource;
use crate::sites::SiteId;
use crate::stack::{StackId, NO_STACK};

/// No site: the task is not waiting at a known site.
pub(crate) const NO_SITE: SiteId = SiteId::MAX;

/// The timing cells of one task, owned by its header. Loop thread only.
///
/// A task's life splits into three: *busy* (being polled), *scheduled* (woken, waiting
/// in the ready queue) and *idle* (waiting for a wake), so that idle is derived. Times
/// are kept in the clock's raw ticks (no conversion on the hot path) and read through
/// the clock.
///
/// ```
/// let clock = turnstile_probes::Clock::new();
/// let t = turnstile_probes::TaskTiming::new(clock.now());
/// assert_eq!(t.busy(&clock), std::time::Duration::ZERO);
/// ```
#[derive(Clone, Debug)]
pub struct TaskTiming {
    /// When the task was spawned.
    pub(crate) spawned: Ticks,
    /// When it was last woken (queued), zero while not queued.
    pub(crate) woken_at: Cell<Ticks>,
    /// When it finished, zero while alive.
    pub(crate) ended: Cell<Ticks>,
    /// Ticks spent being polled.
    pub(crate) busy: Cell<u64>,
    /// Ticks spent queued.
    pub(crate) scheduled: Cell<u64>,
    /// The longest poll, in ticks.
    pub(crate) longest_poll: Cell<u64>,
    /// Wakes that reached the task, by source (`WakeSource as usize`).
    pub(crate) wakes: [Cell<u64>; 5],
    /// The site of the wait in progress (or of the last `Pending`), or `NO_SITE`.
    pub(crate) waiting_site: Cell<SiteId>,
    /// When that wait began.
    pub(crate) waiting_since: Cell<Ticks>,
    /// Already reported as a lost waker.
    pub(crate) lost: Cell<bool>,
    /// Yields the cooperative budget forced.
    pub(crate) budget_yields: Cell<u64>,
    /// Queued by a socket's readiness (the reactor's wake): its scheduling delay is
    /// also an I/O delay.
    pub(crate) io_woken: Cell<bool>,
    /// The async stack the task is suspended in (interned in its runtime's `Timing`),
    /// or `NO_STACK`.
    pub(crate) stack: Cell<StackId>,
}

impl TaskTiming {
    /// Cells that are never used (a task of an untimed runtime): all zeros.
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// assert_eq!(turnstile_probes::TaskTiming::unused().busy(&clock).as_nanos(), 0);
    /// ```
    #[inline]
    pub const fn unused() -> TaskTiming {
        TaskTiming {
            spawned: 0,
            woken_at: Cell::new(0),
            ended: Cell::new(0),
            busy: Cell::new(0),
            scheduled: Cell::new(0),
            longest_poll: Cell::new(0),
            wakes: [const { Cell::new(0) }; 5],
            waiting_site: Cell::new(NO_SITE),
            waiting_since: Cell::new(0),
            lost: Cell::new(false),
            budget_yields: Cell::new(0),
            io_woken: Cell::new(false),
            stack: Cell::new(NO_STACK),
        }
    }

    /// Fresh cells for a task spawned (and queued) at `now`.
    ///
    /// ```
    /// let t = turnstile_probes::TaskTiming::new(1);
    /// let clock = turnstile_probes::Clock::new();
    /// assert_eq!(t.longest_poll(&clock), std::time::Duration::ZERO);
    /// ```
    pub fn new(now: Ticks) -> Self {
        TaskTiming {
            spawned: now,
            woken_at: Cell::new(now),
            ..TaskTiming::unused()
        }
    }

    /// The task was queued at `now` (a wake that was not coalesced).
    ///
    /// ```
    /// let t = turnstile_probes::TaskTiming::new(1);
    /// t.woken(5);
    /// ```
    #[inline(always)]
    pub fn woken(&self, now: Ticks) {
        self.woken_at.set(now);
    }

    /// A wake from `source` reached the task (coalesced or not).
    ///
    /// ```
    /// use turnstile_probes::{TaskTiming, WakeSource};
    /// let t = TaskTiming::new(1);
    /// t.count_wake(WakeSource::Io);
    /// assert_eq!(t.wakes_from(WakeSource::Io), 1);
    /// ```
    #[inline(always)]
    pub fn count_wake(&self, source: WakeSource) {
        let cell = &self.wakes[source as usize];
        cell.set(cell.get() + 1);
    }

    /// Wakes from `source` so far.
    ///
    /// ```
    /// use turnstile_probes::{TaskTiming, WakeSource};
    /// assert_eq!(TaskTiming::new(1).wakes_from(WakeSource::Timer), 0);
    /// ```
    pub fn wakes_from(&self, source: WakeSource) -> u64 {
        self.wakes[source as usize].get()
    }

    /// The task's yields that the cooperative budget forced.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).budget_yields(), 0);
    /// ```
    pub fn budget_yields(&self) -> u64 {
        self.budget_yields.get()
    }

    /// The task finished at `now`.
    ///
    /// ```
    /// let t = turnstile_probes::TaskTiming::new(1);
    /// t.ended(9);
    /// ```
    pub fn ended(&self, now: Ticks) {
        if self.ended.get() == 0 {
            self.ended.set(now);
        }
    }

    /// Time spent being polled.
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).busy(&clock).as_nanos(), 0);
    /// ```
    pub fn busy(&self, clock: &Clock) -> Duration {
        Duration::from_nanos(clock.ticks_to_nanos(self.busy.get()))
    }

    /// Time spent queued, woken but not yet polled.
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).scheduled(&clock).as_nanos(), 0);
    /// ```
    pub fn scheduled(&self, clock: &Clock) -> Duration {
        Duration::from_nanos(clock.ticks_to_nanos(self.scheduled.get()))
    }

    /// The longest single poll.
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).longest_poll(&clock).as_nanos(), 0);
    /// ```
    pub fn longest_poll(&self, clock: &Clock) -> Duration {
        Duration::from_nanos(clock.ticks_to_nanos(self.longest_poll.get()))
    }

    /// Time neither polled nor queued, up to `now` (or the task's end).
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// let t = turnstile_probes::TaskTiming::new(clock.now());
    /// let _ = t.idle(&clock, clock.now());
    /// ```
    pub fn idle(&self, clock: &Clock, now: Ticks) -> Duration {
        let end = match self.ended.get() {
            0 => now,
            ended => ended,
        };
        // A task queued right now has been "scheduled" since its wake, not idle.
        let queued_for = match self.woken_at.get() {
            0 => 0,
            woken => end.saturating_sub(woken),
        };
        let life = end.saturating_sub(self.spawned);
        let idle = life.saturating_sub(self.busy.get() + self.scheduled.get() + queued_for);
        Duration::from_nanos(clock.ticks_to_nanos(idle))
    }
}
