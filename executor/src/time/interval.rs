//! [`Interval`]: ticks at a period, with tokio's ways of catching up on missed ones.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::sleep::{sleep_until, Sleep};
use super::Instant;

/// Ticks every `period`, the first tick at once. The ticks are on the runtime's clock:
/// under a paused clock (`time::pause`, with `test-util`) they come at exact multiples
/// of the period, in no real time.
///
/// A tick that is late (the loop was busy) is followed by the missed ones straight
/// away ([`MissedTickBehavior::Burst`], the default), so the count of ticks over a long
/// run matches the wall time; [`Interval::set_missed_tick_behavior`] chooses otherwise.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut every = turnstile::time::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         every.tick().await;
///     }
///     assert!(start.elapsed() >= Duration::from_millis(4));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start` (a
/// [`turnstile::time::Instant`](Instant), on the runtime's clock).
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::Instant;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let start = Instant::now() + Duration::from_millis(3);
///     let mut every = turnstile::time::interval_at(start, Duration::from_millis(2));
///     assert_eq!(every.tick().await, start);
///     assert_eq!(every.tick().await, start + Duration::from_millis(2));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "turnstile::time::interval needs a period above zero"
    );
    Interval {
        period,
        next: start,
        sleep: sleep_until(start),
        missed: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when a tick comes later than due (the loop was busy, or
/// the ticks were not awaited).
///
/// A tick counts as late when it completes more than 5 ms after it was due (the
/// timers' resolution is a millisecond, so a tick a little late is on time). The
/// behaviours differ in when the tick *after* a late one is due; with a period of
/// 10 ms, ticks due at 0, 10, 20, ..., and a tick at 0 that completes at 35:
///
/// | behaviour | the next ticks complete at                       |
/// |-----------|--------------------------------------------------|
/// | `Burst`   | 35, 35, 35 (for 10, 20, 30), then 40, 50, ...    |
/// | `Delay`   | 45, 55, 65, ... (a period after each late one)   |
/// | `Skip`    | 40, 50, ... (the missed ones dropped, in phase)  |
///
/// ```
/// use turnstile::time::{interval, MissedTickBehavior};
/// let mut i = interval(std::time::Duration::from_millis(10));
/// i.set_missed_tick_behavior(MissedTickBehavior::Skip);
/// assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Skip);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Every missed tick fires at once, as fast as they are polled, until the interval
    /// has caught up; then it ticks on its original schedule. The default.
    #[default]
    Burst,
    /// The next tick is due one period after the late one completed: the schedule
    /// shifts, and ticks are never closer together than the period.
    Delay,
    /// The missed ticks are dropped; the next tick is the next one on the original
    /// schedule that is still in the future.
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after one due at `due` but completing `now` is due.
    fn next_after(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due.checked_add(period),
            MissedTickBehavior::Delay => now.checked_add(period),
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(due).as_nanos();
                let into_period = (late % period.as_nanos()) as u64; // < period: fits
                now.checked_add(period - Duration::from_nanos(into_period))
            }
        }
        .unwrap_or_else(Instant::far_future)
    }
}

/// How late a tick may complete and still count as on time.
const LATE_AFTER: Duration = Duration::from_millis(5);

/// The stream of ticks returned by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    /// When the next tick is due.
    next: Instant,
    sleep: Sleep,
    missed: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns when it was due.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut i = turnstile::time::interval(std::time::Duration::from_millis(1));
    ///     let first = i.tick().await;
    ///     let second = i.tick().await;
    ///     assert_eq!(second - first, std::time::Duration::from_millis(1));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick, for code that implements `Future` by hand.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut i = turnstile::time::interval(std::time::Duration::from_millis(1));
    ///     std::future::poll_fn(|cx| i.poll_tick(cx)).await;
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        match Pin::new(&mut self.sleep).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                let due = self.next;
                let now = Instant::now();
                // Saturates: a period too long to add is a tick that never comes.
                self.next = if now.saturating_duration_since(due) > LATE_AFTER {
                    self.missed.next_after(due, now, self.period)
                } else {
                    due.checked_add(self.period)
                        .unwrap_or_else(Instant::far_future)
                };
                self.sleep.reset(self.next);
                Poll::Ready(due)
            }
        }
    }

    /// Restarts the schedule: the next tick is due one period from now.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile::time::Instant;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut i = turnstile::time::interval(Duration::from_millis(2));
    ///     i.tick().await;
    ///     let before = Instant::now();
    ///     i.reset();
    ///     assert!(i.tick().await >= before + Duration::from_millis(2));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self) {
        self.reset_after(self.period);
    }

    /// Restarts the schedule with the next tick due `after` from now (whatever the
    /// [`MissedTickBehavior`]), and one period apart from there; as tokio's. A duration
    /// too long for an `Instant` saturates about thirty years ahead.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile::time::{self, Instant};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut i = time::interval(Duration::from_secs(3600));
    ///     i.tick().await; // at once
    ///     let before = Instant::now();
    ///     i.reset_after(Duration::from_millis(2));
    ///     let due = i.tick().await; // 2 ms later, not an hour
    ///     assert!(due >= before + Duration::from_millis(2));
    ///     assert!(due < before + Duration::from_secs(3600));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule with a tick due now.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut i = turnstile::time::interval(Duration::from_secs(3600));
    ///     i.tick().await;
    ///     i.reset_immediately();
    ///     i.tick().await; // not an hour later
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule with the next tick due at `deadline`, and one period
    /// apart from there.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile::time::Instant;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut i = turnstile::time::interval(Duration::from_secs(3600));
    ///     let at = Instant::now() + Duration::from_millis(1);
    ///     i.reset_at(at);
    ///     assert_eq!(i.tick().await, at);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.next = deadline;
        self.sleep.reset(deadline);
    }

    /// What the interval does about late ticks.
    ///
    /// ```
    /// use turnstile::time::{interval, MissedTickBehavior};
    /// let i = interval(std::time::Duration::from_millis(10));
    /// assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Chooses what the interval does about late ticks (see [`MissedTickBehavior`]).
    ///
    /// ```
    /// use turnstile::time::{interval, MissedTickBehavior};
    /// let mut i = interval(std::time::Duration::from_millis(10));
    /// i.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period between ticks.
    ///
    /// ```
    /// let i = turnstile::time::interval(std::time::Duration::from_millis(3));
    /// assert_eq!(i.period(), std::time::Duration::from_millis(3));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}
