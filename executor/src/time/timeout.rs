//! [`Timeout`]: a future raced against a deadline, which is checked even when the
//! future has spent the poll's cooperative budget.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::sleep::{sleep, sleep_until, Sleep};
use super::Instant;
use crate::rt::coop;

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
/// steps). The deadline is on the runtime's clock, a [`turnstile::time::Instant`](Instant).
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{sleep, timeout_at, Instant};
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
    /// let at = turnstile::time::Instant::now();
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
