//! [`Sleep`]: a wait for a deadline on the runtime's timers.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use turnstile_probes::{Counter, SiteTag};
use turnstile_reactor::TimerKey;

use crate::rt::context;
use crate::rt::coop;
use crate::rt::Core;

use super::Instant;

/// Waits until `duration` has passed on the runtime's clock (from [`Instant::now`]
/// when `sleep` is called). A duration too long for an `Instant` saturates: the sleep
/// ends in about thirty years.
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
    // The sum's overflow path is out of line: this is a sleep's hot path.
    let deadline = match Instant::now().checked_add(duration) {
        Some(deadline) => deadline,
        None => Instant::far_future(),
    };
    sleep_until(deadline)
}

/// Waits until `deadline` on the runtime's clock. A deadline in the past completes on
/// the first poll, without a yield.
///
/// `deadline` is a [`turnstile::time::Instant`](Instant), as tokio's is a
/// `tokio::time::Instant`; from a `std::time::Instant`, `Instant::from_std(at)` or
/// `at.into()`.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::Instant;
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
    /// let at = turnstile::time::Instant::now();
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
    /// use std::time::Duration;
    /// use turnstile::time::Instant;
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
        if self.deadline.into_std() <= core.driver().now() {
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
        let key = core
            .driver()
            .insert_timer(self.deadline.into_std(), cx.waker());
        core.observe().bump(Counter::TimersCreated);
        if let Some(timing) = core.observe().timing().filter(|t| t.is_tracing()) {
            // A recording's event: which task armed a timer, due how far away.
            let now = core.driver().now();
            timing.timer_set(self.deadline.into_std().saturating_duration_since(now));
        }
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
