//! `ProbeExt::probe`: names an await site around a future turnstile does not own.
//!
//! turnstile's own leaf futures leave their source line when they return `Pending`; a
//! foreign future (a channel, a lock, another crate's I/O) leaves nothing, so its
//! yields show up as "no site". Wrapping it with `.probe("label")` makes it a site of
//! its own, named by the label and the line of the `.probe` call. Below
//! `Level::Timing` the wrapper only forwards the poll (a null check per `Pending`).

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::rt::context;

/// Adds [`ProbeExt::probe`] to every future.
pub trait ProbeExt: Future + Sized {
    /// Names this await site `label` in the probes' sites table.
    ///
    /// ```
    /// use turnstile::probes::ProbeExt;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    ///     turnstile::spawn(async move { tx.send(7).unwrap() });
    ///     assert_eq!(rx.probe("answer").await.unwrap(), 7);
    /// });
    /// let snap = rt.probes();
    /// let site = snap.sites.iter().find(|s| s.label.as_deref() == Some("answer")).unwrap();
    /// assert_eq!(site.yields, 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    fn probe(self, label: &'static str) -> Probed<Self> {
        Probed {
            inner: self,
            label,
            at: Location::caller(),
            yielded: false,
        }
    }
}

impl<F: Future> ProbeExt for F {}

pin_project! {
    /// A future with a named await site: see [`ProbeExt::probe`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Probed<F> {
        #[pin]
        inner: F,
        label: &'static str,
        at: &'static Location<'static>,
        yielded: bool,
    }
}

impl<F: Future> Future for Probed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let result = this.inner.poll(cx);
        let (label, at, first) = (*this.label, *this.at, !*this.yielded);
        context::with_current(|core| {
            let Some(timing) = core.observe().timing() else {
                return;
            };
            let tag = timing.label_tag(label, at);
            match result {
                // Overrides whatever site a leaf inside left: the label is the user's name.
                Poll::Pending => crate::observe::site::leave_site(tag.again_unless(first)),
                Poll::Ready(_) if first => timing.inline(tag),
                Poll::Ready(_) => {}
            }
        });
        if result.is_pending() {
            *this.yielded = true;
        }
        result
    }
}
