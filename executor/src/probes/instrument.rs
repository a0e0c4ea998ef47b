//! `Instrumented`: the probed `.await` that `#[turnstile::instrument]` writes.
//!
//! The macro turns each `fut.await` in an instrumented function into
//! `Instrumented::new(fut.into_future(), &FRAME).await`, with one `static FRAME` per
//! await naming the function and the await's line. What the wrapper does:
//!
//! - **Ready on its first poll** (the await never reached the loop): at `Level::Timing`
//!   and above, counts an inline completion at its site; below, one thread-local load
//!   and a null check, and nothing else.
//! - **Pending**: at `Level::Timing` and above, appends its frame to the runtime's
//!   pending path (`Timing::frame_pending`) and counts a yield at its site (a wait
//!   begins on the first one). Inner awaits return `Pending` first, so the path is built
//!   innermost first; the timing recorder clears it when a poll starts and keeps it as
//!   the task's async stack when the poll ends. Below `Timing`, nothing is recorded:
//!   one thread-local load and a null check.
//! - **Ready after waiting**: at `Timing`, ends its site's wait.
//!
//! It never changes the site a leaf inside it left: the leaf stays the task's await
//! site, and the frames are the stack above it. When nothing inside left a site (a
//! foreign future: a tokio or futures channel, a lock), the innermost instrumented
//! await is the site the task waits at ([`SiteTag::frame`]): the yield is attributed to
//! its line, where it is counted already, instead of to no site.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use turnstile_probes::{Frame, SiteTag, Ticks};

use crate::rt::context;

pin_project! {
    /// An `.await` in a `#[turnstile::instrument]`ed function: a future with its frame
    /// (see the [`instrument`](crate::instrument) macro). Written by the macro; build one
    /// by hand only to instrument an await the macro cannot see (inside another macro).
    ///
    /// ```
    /// use turnstile::probes::{Frame, Instrumented};
    /// static FRAME: Frame = Frame::new("by_hand", file!(), line!(), column!());
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let task = turnstile::spawn(async {
    ///         Instrumented::new(turnstile::yield_now(), &FRAME).await;
    ///     });
    ///     task.await.unwrap();
    /// });
    /// let site = rt.probes().sites.into_iter().find(|s| s.label.as_deref() == Some("by_hand")).unwrap();
    /// assert_eq!((site.awaited, site.yields), (1, 1));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Instrumented<F> {
        #[pin]
        inner: F,
        frame: &'static Frame,
        // The clock when its wait began (`Level::Timing`), once it has yielded.
        since: Option<Ticks>,
        yielded: bool,
    }
}

impl<F: Future> Instrumented<F> {
    /// `inner`, awaited at `frame`.
    ///
    /// ```
    /// static FRAME: turnstile::probes::Frame =
    ///     turnstile::probes::Frame::new("f", file!(), line!(), column!());
    /// let fut = turnstile::probes::Instrumented::new(async { 1 }, &FRAME);
    /// assert_eq!(turnstile::Runtime::new()?.block_on(fut), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline(always)]
    pub fn new(inner: F, frame: &'static Frame) -> Self {
        Instrumented {
            inner,
            frame,
            since: None,
            yielded: false,
        }
    }
}

impl<F: Future> Future for Instrumented<F> {
    type Output = F::Output;

    // `#[track_caller]`: a leaf inside that names its site by its caller (`yield_now`,
    // `JoinHandle`) still names the user's `.await`, not this line.
    #[inline]
    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(out) => {
                context::with_current(|core| {
                    if let Some(timing) = core.observe().timing() {
                        ready_at(timing, this.frame, *this.since, *this.yielded);
                    }
                });
                Poll::Ready(out)
            }
            Poll::Pending => {
                pending_at(this.frame, this.since, this.yielded);
                Poll::Pending
            }
        }
    }
}

/// The timed side of a `Ready`: an inline completion, or the end of a wait.
#[cold]
#[inline(never)]
fn ready_at(
    timing: &turnstile_probes::Timing,
    frame: &'static Frame,
    since: Option<Ticks>,
    yielded: bool,
) {
    match (yielded, since) {
        (false, _) => timing.frame_ready(frame, None),
        (true, Some(since)) => timing.frame_ready(frame, Some(since)),
        (true, None) => {} // it yielded where nothing was timed
    }
}

/// A `Pending`: the frame joins the pending path, and its site counts the yield.
#[cold]
#[inline(never)]
fn pending_at(frame: &'static Frame, since: &mut Option<Ticks>, yielded: &mut bool) {
    let first = !std::mem::replace(yielded, true);
    context::with_current(|core| {
        let Some(timing) = core.observe().timing() else {
            return;
        };
        let began = timing.frame_pending(frame, first);
        if first {
            *since = Some(began);
        }
        if !crate::observe::site::site_left() {
            // A foreign future: this await's line is where the task waits.
            crate::observe::site::leave_site(SiteTag::frame(frame).again_unless(first));
        }
    });
}
