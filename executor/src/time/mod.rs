//! Time: `sleep`, `sleep_until`, `timeout`, `timeout_at`, `interval` and `interval_at`,
//! on the runtime's timers.
//!
//! A [`Sleep`] registers a timer on its first poll (unless its deadline has already
//! passed, in which case it completes without reaching the loop) and learns that the
//! timer fired when its key no longer names a pending timer. Dropping a pending `Sleep`
//! on the loop thread cancels its timer and frees the slot. A `Sleep` is `Send + Sync`;
//! one dropped elsewhere cannot reach its runtime, and its timer simply fires into a
//! no-op at its deadline.
//!
//! Timers fire when the loop drives its reactor: whenever it parks, and every
//! `event_interval` turns while it is busy.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;
use turnstile_probes::{Counter, SiteTag};
use turnstile_reactor::TimerKey;

use crate::rt::context;
use crate::rt::coop;
use crate::rt::Core;

/// Waits until `duration` has passed.
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = turnstile::Runtime::new()?;
/// let start = Instant::now();
/// rt.block_on(turnstile::time::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    sleep_until(now.checked_add(duration).unwrap_or_else(far_future))
}

/// Waits until `deadline`. A deadline in the past completes on the first poll, without
/// a yield.
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(turnstile::time::sleep_until(Instant::now() + Duration::from_millis(1)));
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        state: State::Unregistered,
        at: Location::caller(),
    }
}

/// Roughly thirty years from now: what an overflowing deadline becomes (as in tokio,
/// whose far-future deadline is about thirty years too).
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// The future returned by [`sleep`] and [`sleep_until`].
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Instant,
    state: State,
    /// Where `sleep`/`sleep_until` was called: its await site for the probes.
    at: &'static Location<'static>,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Unregistered,
    Registered { key: TimerKey, runtime: u64 },
    Elapsed,
}

impl Sleep {
    /// When this sleep ends.
    ///
    /// ```
    /// let at = std::time::Instant::now();
    /// assert_eq!(turnstile::time::sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut s = turnstile::time::sleep(std::time::Duration::ZERO);
    ///     (&mut s).await;
    ///     assert!(s.is_elapsed());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, State::Elapsed)
    }

    /// Moves the deadline, cancelling the current timer if one is registered.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut s = turnstile::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now());
    ///     s.await;
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
        self.state = State::Unregistered;
    }

    fn cancel(&mut self) {
        if let State::Registered { key, runtime } = self.state {
            context::with_current(|core| {
                if core.id() == runtime && core.driver().cancel_timer(key) {
                    core.observe().bump(Counter::TimersCancelled);
                }
            });
        }
    }

    fn poll_in(&mut self, core: &Core, cx: &mut Context<'_>) -> Poll<()> {
        if let State::Registered { key, runtime } = self.state {
            if runtime == core.id() {
                if core.driver().set_timer_waker(key, cx.waker()) {
                    crate::observe::site::leave_site(SiteTag::code(self.at).again());
                    return Poll::Pending;
                }
                // Fired: complete, if the poll's cooperative budget allows.
                let at = self.at;
                if coop::poll_proceed(cx, || SiteTag::code(at).again()).is_pending() {
                    return Poll::Pending;
                }
                self.state = State::Elapsed;
                return Poll::Ready(());
            }
        }
        // First poll (or first on this runtime): done already, or register a timer.
        if self.deadline <= Instant::now() {
            let at = self.at;
            if coop::poll_proceed(cx, || SiteTag::code(at)).is_pending() {
                return Poll::Pending; // due, but the budget is spent: yield first
            }
            self.state = State::Elapsed;
            if let Some(timing) = core.observe().timing() {
                timing.inline(SiteTag::code(self.at));
            }
            return Poll::Ready(());
        }
        let key = core.driver().insert_timer(self.deadline, cx.waker());
        core.observe().bump(Counter::TimersCreated);
        self.state = State::Registered {
            key,
            runtime: core.id(),
        };
        crate::observe::site::leave_site(SiteTag::code(self.at));
        Poll::Pending
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if let State::Elapsed = this.state {
            return Poll::Ready(());
        }
        context::with_current(|core| this.poll_in(core, cx)).unwrap_or_else(|| {
            panic!(
                "a turnstile Sleep was polled outside a runtime: await it inside \
                 Runtime::block_on"
            )
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &self.state)
            .field("at", &self.at)
            .finish()
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(e: Elapsed) -> Self {
        std::io::Error::new(std::io::ErrorKind::TimedOut, e)
    }
}

/// Awaits `future` for at most `duration`: its output, or [`Elapsed`].
///
/// The future is polled first, so one that is ready completes even with a zero timeout.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{sleep, timeout};
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     assert!(timeout(Duration::from_millis(1), sleep(Duration::from_secs(60))).await.is_err());
///     assert_eq!(timeout(Duration::from_secs(60), async { 5 }).await, Ok(5));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep(duration),
    }
}

/// Awaits `future` until `deadline` at most: its output, or [`Elapsed`]. Like
/// [`timeout`], with an instant instead of a duration (so one deadline can bound several
/// steps).
///
/// ```
/// use std::time::{Duration, Instant};
/// use turnstile::time::{sleep, timeout_at};
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     assert_eq!(timeout_at(deadline, async { 1 }).await, Ok(1));
///     assert!(timeout_at(deadline, sleep(Duration::from_secs(60))).await.is_err());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// When the timeout elapses.
    ///
    /// ```
    /// let at = std::time::Instant::now();
    /// assert_eq!(turnstile::time::timeout_at(at, async {}).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }

    /// The future inside, by reference.
    ///
    /// ```
    /// let t = turnstile::time::timeout(std::time::Duration::from_secs(1), std::future::ready(3));
    /// let _inner: &std::future::Ready<i32> = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// The future inside, given back (its timer, if any, is cancelled).
    ///
    /// ```
    /// let t = turnstile::time::timeout(std::time::Duration::from_secs(1), std::future::ready(3));
    /// let rt = turnstile::Runtime::new()?;
    /// assert_eq!(rt.block_on(t.into_inner()), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(Ok(out));
        }
        // The deadline is checked even when the future spent the poll's budget: a
        // future that never stops being ready still times out.
        match coop::without_budget(|| Pin::new(this.sleep).poll(cx)) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Ticks every `period`, the first tick at once.
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

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// use std::time::{Duration, Instant};
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
        .unwrap_or_else(far_future)
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
                    due.checked_add(self.period).unwrap_or_else(far_future)
                };
                self.sleep.reset(self.next);
                Poll::Ready(due)
            }
        }
    }

    /// Restarts the schedule: the next tick is due one period from now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
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
        self.reset_at(
            Instant::now()
                .checked_add(self.period)
                .unwrap_or_else(far_future),
        );
    }

    /// Restarts the schedule with a tick due now.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
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
    /// use std::time::{Duration, Instant};
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
