//! The thread's current runtime: what `spawn`, `sleep` and local wakes talk to.
//!
//! A thread-local raw pointer, set by `block_on` (and by `Runtime::drop`) for exactly the
//! span in which the runtime's `Core` is borrowed by this thread, and cleared by a guard
//! on the way out, unwinding included. A raw pointer rather than an `Rc` keeps the hot
//! path (a wake on the loop thread) to one thread-local load and no reference counting.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};

use super::Core;

/// The next thread number ([`thread_id`]); 0 means "not numbered yet".
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static CURRENT: Cell<*const Core> = const { Cell::new(ptr::null()) };
    /// The sequence number of the innermost live `EnterGuard` (0: none is trusted), and
    /// the last number handed out. A guard restores the previous runtime only if it is
    /// still the innermost one; see `EnterGuard::drop`.
    static TOP: Cell<u64> = const { Cell::new(0) };
    static SEQ: Cell<u64> = const { Cell::new(0) };
    /// A `block_on` is running on this thread (nesting is refused; `Runtime::enter`
    /// alone sets `CURRENT` but not this).
    static RUNNING: Cell<bool> = const { Cell::new(false) };
    /// The id of the task whose future or output is being dropped outside its polls (an
    /// abort, a runtime's shutdown, a dropped handle), or whose `spawn_blocking` closure
    /// runs on this pool thread; 0: none. `task::id` reads it before the poll's task.
    static TASK_ID: Cell<u64> = const { Cell::new(0) };
    /// This thread's number (see [`thread_id`]); 0 until first asked.
    static THREAD: Cell<u64> = const { Cell::new(0) };
    /// The runtimes built on this thread and not yet dropped, by id: how a handle on
    /// its loop thread reaches its runtime outside `block_on` (an abort takes effect at
    /// once there).
    static RUNTIMES: RefCell<Vec<(u64, Weak<Core>)>> = const { RefCell::new(Vec::new()) };
}

/// This thread's number, unique in the process for its whole run and never reused
/// (unlike a thread-local's address): what a `JoinHandle` compares to know whether it
/// is on its runtime's loop thread. A thread-local load and a compare once numbered.
#[inline(always)]
pub(crate) fn thread_id() -> u64 {
    let id = THREAD.with(Cell::get);
    if id != 0 {
        id
    } else {
        number_thread()
    }
}

#[cold]
#[inline(never)]
fn number_thread() -> u64 {
    let id = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
    THREAD.with(|t| t.set(id));
    id
}

/// `core` (its id, weakly) was built on this thread.
pub(crate) fn register(id: u64, core: Weak<Core>) {
    RUNTIMES.with(|r| r.borrow_mut().push((id, core)));
}

/// The runtime `id` is being dropped.
pub(crate) fn unregister(id: u64) {
    // `try_with`: the thread may be tearing down its thread-locals (a runtime in one).
    let _ = RUNTIMES.try_with(|r| r.borrow_mut().retain(|(i, _)| *i != id));
}

/// The runtime `id` if it was built on this thread and is still alive.
pub(crate) fn runtime_here(id: u64) -> Option<Rc<Core>> {
    RUNTIMES
        .try_with(|r| {
            let r = r.borrow();
            r.iter()
                .find(|(i, _)| *i == id)
                .and_then(|(_, c)| c.upgrade())
        })
        .ok()
        .flatten()
}

/// Makes `id` what `task::id` returns on this thread until dropped (see `TASK_ID`).
pub(crate) struct TaskIdGuard {
    previous: u64,
}

impl TaskIdGuard {
    /// `task::id` is `id` until the guard drops; then it is what it was.
    pub(crate) fn enter(id: u64) -> TaskIdGuard {
        TaskIdGuard {
            previous: TASK_ID.with(|t| t.replace(id)),
        }
    }
}

impl Drop for TaskIdGuard {
    fn drop(&mut self) {
        TASK_ID.with(|t| t.set(self.previous));
    }
}

/// The task a [`TaskIdGuard`] names on this thread, if one is live.
pub(crate) fn guarded_task_id() -> Option<u64> {
    Some(TASK_ID.with(Cell::get)).filter(|&id| id != 0)
}

/// Restores the previous current runtime when dropped.
///
/// Guards must drop in the reverse order of their making, as scopes do. One dropped out
/// of order (moved out of its scope, or held in a struct) cannot restore a runtime that
/// may be gone: it clears the current runtime instead, and so does every guard made
/// before it, so `CURRENT` never points at a dropped `Core`. The public
/// [`crate::runtime::EnterGuard`] also reports the misuse.
pub(crate) struct EnterGuard {
    previous: *const Core,
    previous_top: u64,
    seq: u64,
}

impl EnterGuard {
    /// Restores the previous runtime; false if the guard was not the innermost one (the
    /// current runtime is then cleared).
    fn exit(&self) -> bool {
        let innermost = TOP.with(|t| t.get()) == self.seq;
        if innermost {
            CURRENT.with(|c| c.set(self.previous));
            TOP.with(|t| t.set(self.previous_top));
        } else {
            CURRENT.with(|c| c.set(ptr::null()));
            TOP.with(|t| t.set(0));
        }
        innermost
    }

    /// Exits, and tells whether the guard was the innermost one.
    pub(crate) fn exit_in_order(self) -> bool {
        let innermost = self.exit();
        std::mem::forget(self);
        innermost
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        self.exit();
    }
}

/// Makes `core` the current runtime until the guard drops. `block_on` calls this only
/// when no runtime is running here (it refuses nesting); `Runtime::drop` and
/// `Runtime::enter` may nest.
pub(crate) fn enter(core: &Core) -> EnterGuard {
    let seq = SEQ.with(|s| {
        let n = s.get() + 1;
        s.set(n);
        n
    });
    let previous_top = TOP.with(|t| t.replace(seq));
    let previous = CURRENT.with(|c| c.replace(core as *const Core));
    EnterGuard {
        previous,
        previous_top,
        seq,
    }
}

/// Whether a `block_on` is running on this thread.
pub(crate) fn is_running() -> bool {
    RUNNING.with(Cell::get)
}

/// Marks whether a `block_on` is running on this thread.
pub(crate) fn set_running(running: bool) {
    RUNNING.with(|r| r.set(running));
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
