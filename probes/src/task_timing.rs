//! Per-task timing at `Level::Timing`: busy, scheduled and idle time, the longest poll,
//! and the await site the task is waiting at.

use std::cell::Cell;
use std::time::Duration;

use crate::clock::{Clock, Ticks};
use crate::sites::SiteId;

/// No site: the task is not waiting at a known site.
pub(crate) const NO_SITE: SiteId = SiteId::MAX;

/// The timing cells of one task, owned by its header. Loop thread only.
///
/// A task's life splits into three: *busy* (being polled), *scheduled* (woken, waiting
/// in the ready queue) and *idle* (waiting for a wake), so that idle is derived.
///
/// ```
/// let clock = turnstile_probes::Clock::new();
/// let t = turnstile_probes::TaskTiming::new(clock.now());
/// assert_eq!(t.busy(), std::time::Duration::ZERO);
/// ```
#[derive(Clone, Debug)]
pub struct TaskTiming {
    /// When the task was spawned.
    pub(crate) spawned: Ticks,
    /// When it was last woken (queued), zero while not queued.
    pub(crate) woken_at: Cell<Ticks>,
    /// When it finished, zero while alive.
    pub(crate) ended: Cell<Ticks>,
    /// Nanoseconds spent being polled.
    pub(crate) busy: Cell<u64>,
    /// Nanoseconds spent queued.
    pub(crate) scheduled: Cell<u64>,
    /// The longest poll, in nanoseconds.
    pub(crate) longest_poll: Cell<u64>,
    /// The site of the wait in progress (or of the last `Pending`), or `NO_SITE`.
    pub(crate) waiting_site: Cell<SiteId>,
    /// When that wait began.
    pub(crate) waiting_since: Cell<Ticks>,
    /// Already reported as a lost waker.
    pub(crate) lost: Cell<bool>,
}

impl TaskTiming {
    /// Cells that are never used (a task of an untimed runtime): all zeros.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TaskTiming::unused().busy().as_nanos(), 0);
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
            waiting_site: Cell::new(NO_SITE),
            waiting_since: Cell::new(0),
            lost: Cell::new(false),
        }
    }

    /// Fresh cells for a task spawned (and queued) at `now`.
    ///
    /// ```
    /// let t = turnstile_probes::TaskTiming::new(1);
    /// assert_eq!(t.longest_poll(), std::time::Duration::ZERO);
    /// ```
    pub fn new(now: Ticks) -> Self {
        TaskTiming {
            spawned: now,
            woken_at: Cell::new(now),
            ended: Cell::new(0),
            busy: Cell::new(0),
            scheduled: Cell::new(0),
            longest_poll: Cell::new(0),
            waiting_site: Cell::new(NO_SITE),
            waiting_since: Cell::new(0),
            lost: Cell::new(false),
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
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).busy().as_nanos(), 0);
    /// ```
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy.get())
    }

    /// Time spent queued, woken but not yet polled.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).scheduled().as_nanos(), 0);
    /// ```
    pub fn scheduled(&self) -> Duration {
        Duration::from_nanos(self.scheduled.get())
    }

    /// The longest single poll.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TaskTiming::new(1).longest_poll().as_nanos(), 0);
    /// ```
    pub fn longest_poll(&self) -> Duration {
        Duration::from_nanos(self.longest_poll.get())
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
            woken => clock.nanos_between(woken, end),
        };
        let life = clock.nanos_between(self.spawned, end);
        Duration::from_nanos(
            life.saturating_sub(self.busy.get() + self.scheduled.get() + queued_for),
        )
    }
}
