//! The cooperative budget: a task whose awaits are always ready still goes back to the
//! loop now and then.
//!
//! Each poll of a task (and of the `block_on` future) starts with a budget of
//! operations (`Builder::budget`, default 128), counted in a thread-local. turnstile's own
//! leaf futures, a socket operation, a due timer, a finished task's handle, take one
//! unit through [`poll_proceed`] before they complete. A socket operation that finds
//! its socket not ready uses none; one that is tried and would block keeps its unit,
//! since its task yields right after (giving it back cost every ping-pong round trip
//! a few instructions for nothing). When the budget is spent, the leaf
//! wakes its task and returns `Pending` instead: a *budget yield*. The task goes to the
//! back of the ready queue like any task that yields, and the next turn polls the
//! reactor and fires due timers (not only every `event_interval` turns), so the other
//! ready tasks, the sockets and the timers get their turn; then it resumes where it
//! was with a fresh budget.
//!
//! Budget yields are counted (`budget_yields`), and at `Level::Timing` attributed to
//! the task and the await site, so the probes tell a yield the code asked for from one
//! the budget imposed.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use turnstile_probes::{Counter, SiteTag};

use crate::context;
use crate::core::Core;

/// A budget that never runs out.
pub(crate) const UNLIMITED: u32 = u32::MAX;

/// May a leaf future that is about to complete do so? `Ready` if the poll's budget
/// has a unit left, which it uses; otherwise the task is woken, the leaf's await site
/// (`site`, asked only then) is left for the probes, and the leaf must return
/// `Pending`. Outside a runtime (a future polled by hand) there is no budget.
#[inline(always)]
pub(crate) fn poll_proceed(cx: &mut Context<'_>, site: impl FnOnce() -> SiteTag) -> Poll<()> {
    if context::take_budget_unit() {
        return Poll::Ready(());
    }
    budget_yield(cx, site())
}

/// An operation that `poll_proceed` let through will be tried again in the same poll
/// (it was interrupted): it gives back its unit.
#[inline(always)]
pub(crate) fn refund() {
    context::set_budget_used(context::budget_used().saturating_sub(1));
}

#[cold]
#[inline(never)]
fn budget_yield(cx: &mut Context<'_>, site: SiteTag) -> Poll<()> {
    let yielded = context::with_current(|core: &Core| {
        core.probes().bump(Counter::BudgetYields);
        // A task that spends whole budgets is the kind that keeps timers and sockets
        // waiting: the next turn looks at them, rather than `event_interval` turns on.
        core.io().poll_soon();
        if let Some(timing) = core.probes().timing() {
            timing.budget_yield();
        }
    });
    if yielded.is_none() {
        return Poll::Ready(()); // no runtime polls this future: no budget applies
    }
    context::leave_site(site);
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Runs `future` outside the cooperative budget: turnstile's leaf futures inside it
/// never yield because the budget is spent, and use none of the enclosing task's.
///
/// For a future that must finish its run of ready operations in one poll. Use it
/// sparingly: a loop of ready operations inside it holds the loop for as long as it
/// runs, which is what the budget exists to prevent. Outside a runtime it is the
/// future itself.
///
/// ```
/// use std::time::Duration;
/// let rt = turnstile::Runtime::builder()
///     .probes(turnstile::probes::Level::Counters)
///     .budget(Some(1))
///     .build()?;
/// rt.block_on(turnstile::task::unconstrained(async {
///     for _ in 0..10 {
///         turnstile::time::sleep(Duration::ZERO).await;
///     }
/// }));
/// assert_eq!(rt.counters().budget_yields, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { inner: future }
}

pin_project! {
    /// The future returned by [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless awaited"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        without_budget(|| inner.poll(cx))
    }
}

/// Runs `f` with the budget lifted, and puts it back after (even if `f` unwinds), as
/// it was: what `f` did uses none of it.
pub(crate) fn without_budget<R>(f: impl FnOnce() -> R) -> R {
    /// Puts the budget back: its limit and what the poll had used of it.
    struct Restore {
        limit: u32,
        used: u32,
    }
    impl Drop for Restore {
        fn drop(&mut self) {
            context::replace_budget_limit(self.limit);
            context::set_budget_used(self.used);
        }
    }
    let _restore = Restore {
        limit: context::replace_budget_limit(UNLIMITED),
        used: context::budget_used(),
    };
    f()
}
