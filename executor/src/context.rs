//! The thread's current runtime: what `spawn`, `sleep` and local wakes talk to.
//!
//! A thread-local raw pointer, set by `block_on` (and by `Runtime::drop`) for exactly the
//! span in which the runtime's `Core` is borrowed by this thread, and cleared by a guard
//! on the way out, unwinding included. A raw pointer rather than an `Rc` keeps the hot
//! path (a wake on the loop thread) to one thread-local load and no reference counting.

use std::cell::Cell;
use std::ptr;

use turnstile_probes::SiteTag;

use crate::core::Core;

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
    /// The await site left by the last leaf future that returned `Pending` on this
    /// thread. One store per yield at every level (cheaper than asking whether anyone
    /// listens); read and cleared around each poll only at `Level::Timing` and above.
    static LEAF_SITE: Cell<SiteTag> = const { Cell::new(SiteTag::NONE) };
    /// The cooperative budget (`coop.rs`) of the poll in progress on this thread. A
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
    /// (`coop::UNLIMITED`: no budget).
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

/// Takes one unit of the poll's budget: false if it is spent.
#[inline(always)]
pub(crate) fn take_budget_unit() -> bool {
    BUDGET.with(|b| {
        let used = b.used.get();
        // `coop::UNLIMITED` is `u32::MAX`: a poll would need four billion operations
        // to reach it.
        let left = used < b.limit.get();
        if left {
            b.used.set(used + 1);
        }
        left
    })
}

/// A leaf future returns `Pending` at `site`: the executor attributes the yield to it.
#[inline(always)]
pub(crate) fn leave_site(site: SiteTag) {
    LEAF_SITE.with(|s| s.set(site));
}

/// Takes the site left since the last call (at `Level::Timing`, around each poll).
#[inline]
pub(crate) fn take_site() -> SiteTag {
    LEAF_SITE.with(|s| s.replace(SiteTag::NONE))
}

/// Restores the previous current runtime when dropped.
pub(crate) struct EnterGuard {
    previous: *const Core,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// Makes `core` the current runtime until the guard drops. `block_on` calls this only
/// when no runtime is current (it refuses nesting); `Runtime::drop` may nest.
pub(crate) fn enter(core: &Core) -> EnterGuard {
    let previous = CURRENT.with(|c| c.replace(core as *const Core));
    EnterGuard { previous }
}

/// Whether some runtime is current on this thread (inside `block_on`).
pub(crate) fn is_inside() -> bool {
    CURRENT.with(|c| !c.get().is_null())
}

/// Runs `f` with the current runtime, or returns `None` outside one.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    let core = CURRENT.with(|c| c.get());
    if core.is_null() {
        return None;
    }
    // SAFETY: `CURRENT` is non-null only between `enter` and the drop of its guard, and
    // every caller of `enter` keeps the `Core` alive (it holds an `Rc<Core>` or `&Core`)
    // for longer than the guard. The pointer is thread-local, so no other thread sees it,
    // and we only hand out a shared reference: `Core` mutates through `Cell`/`RefCell`.
    Some(f(unsafe { &*core }))
}
