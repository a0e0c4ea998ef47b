//! `yield_now`: go back to the loop once.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use turnstile_probes::SiteTag;

/// Yields to the loop once: the task wakes itself and returns `Pending`, so every other
/// ready task runs before it is polled again (in a later turn).
///
/// Costs one self-wake and one extra poll. Unlike tokio's `yield_now`, it does not force
/// a reactor poll: the loop looks at I/O every `event_interval` task polls.
///
/// ```
/// let rt = turnstile::Runtime::builder()
///     .probes(turnstile::probes::Level::Counters)
///     .build()?;
/// rt.block_on(async {
///     turnstile::spawn(async {
///         for _ in 0..3 {
///             turnstile::yield_now().await;
///         }
///     })
///     .await
///     .unwrap();
/// });
/// let c = rt.probes().counters;
/// assert_eq!((c.polls, c.wakes_self), (4, 3));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    /// `#[track_caller]`: through `.await` the caller is the `.await` expression, so
    /// the yield's site is that line (no location is stored in the future).
    #[inline]
    #[track_caller]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        crate::observe::site::leave_site(SiteTag::code(Location::caller()));
        Poll::Pending
    }
}
