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
//! back of the ready queue like any task that yields, the turn's batch is cut after it,
//! and the next turn polls the reactor and fires due timers (not only once
//! `event_interval` task polls have passed), so the other
//! ready tasks, the sockets and the timers get their turn; then it resumes where it
//! was with a fresh budget.
//!
//! Budget yields are counted (`budget_yields`), and at `Level::Timing` attributed to
//! the task and the await site, so the probes tell a yield the code asked for from one
//! the budget imposed.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use turnstile_probes::{Counter, SiteTag};

use super::{context, Core};
use crate::observe::site::leave_site;

thread_local! {
    /// The cooperative budget of the poll in progress on this thread. A
    /// thread-local, so that a leaf future reads it without reaching its runtime, and
    /// the loop starts each poll's budget with one store.
    static BUDGET: Budget = const {
        Budget {
            used: Cell::new(0),
            limit: Cell::new(u32::MAX),
        }
    };
}

/// The cooperative budget of the thread's poll in progress.
struct Budget {
    /// Operations the poll in progress has used.
    used: Cell<u32>,
    /// Operations a poll may use, set by `block_on` from its runtime's settings
    /// (`UNLIMITED`: no budget).
    limit: Cell<u32>,
}

/// The budget per poll; sets it to `limit` and returns what it was.
#[inline]
pub(crate) fn replace_budget_limit(limit: u32) -> u32 {
    BUDGET.with(|b| b.limit.replace(limit))
}

/// Operations the poll in progress has used of its budget.
#[inline(always)]
pub(crate) fn budget_used() -> u32 {
    BUDGET.with(|b| b.used.get())
}

/// Sets the operations the poll in progress has used (zero: a poll begins).
#[inline(always)]
pub(crate) fn set_budget_used(used: u32) {
    BUDGET.with(|b| b.used.set(used));
}

/// A poll begins: it has used none of its budget.
#[inline(always)]
pub(crate) fn refill() {
    set_budget_used(0);
}

/// What a poll's budget is, from `Builder::budget` (`None`: unlimited).
pub(crate) fn per_poll(budget: Option<u32>) -> u32 {
    budget.map_or(UNLIMITED, |b| b.clamp(1, UNLIMITED - 1))
}

/// Takes one unit of the poll's budget: false if it is spent.
#[inline(always)]
pub(crate) fn take_budget_unit() -> bool {
    BUDGET.with(|b| {
        let used = b.used.get();
        // `UNLIMITED` is `u32::MAX`: a poll would need four billion operations
        // to reach it.
        let left = used < b.limit.get();
        if left {
            b.used.set(used + 1);
        }
        left
    })
}

/// A budget that never runs out.
pub(crate) const UNLIMITED: u32 = u32::MAX;

/// May a leaf future that is about to complete do so? `Ready` if the poll's budget
/// has a unit left, which it uses; otherwise the task is woken, the leaf's await site
/// (`site`, asked only then) is left for the probes, and the leaf must return
/// `Pending`. Outside a runtime (a future polled by hand) there is no budget.
#[inline(always)]
pub(crate) fn poll_proceed(cx: &mut Context<'_>, site: impl FnOnce() -> SiteTag) -> Poll<()> {
    if take_budget_unit() {
        return Poll::Ready(());
    }
    budget_yield(cx, site())
}

/// An operation that `poll_proceed` let through will be tried again in the same poll
/// (it was interrupted): it gives back its unit.
#[inline(always)]
pub(crate) fn refund() {
    set_budget_used(budget_used().saturating_sub(1));
}

#[cold]
#[inline(never)]
fn budget_yield(cx: &mut Context<'_>, site: SiteTag) -> Poll<()> {
    let yielded = context::with_current(|core: &Core| {
        core.observe().bump(Counter::BudgetYields);
        // A task that spends whole budgets is the kind that keeps timers and sockets
        // waiting: the next turn looks at them, rather than `event_interval` polls on.
        core.driver().poll_soon();
        if let Some(timing) = core.observe().timing() {
            timing.budget_yield();
        }
    });
    if yielded.is_none() {
        return Poll::Ready(()); // no runtime polls this future: no budget applies
    }
    leave_site(site);
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
            replace_budget_limit(self.limit);
            set_budget_used(self.used);
        }
    }
    let _restore = Restore {
        limit: replace_budget_limit(UNLIMITED),
        used: budget_used(),
    };
    f()
}
