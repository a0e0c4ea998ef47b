//! Wakers: how a wake finds its way back to the loop.
//!
//! Every task (and the `block_on` future) has one [`TaskWaker`], shared by `Arc`: cloning
//! a task's `Waker` is a reference-count increment, never an allocation. A wake takes
//! one of two paths:
//!
//! - On the loop thread, inside this runtime's `block_on`: straight onto the local ready
//!   queue (`Core::wake_local`), classified as self, local, I/O or timer by what the loop
//!   is doing at that moment.
//! - Anywhere else (another thread, or this thread outside `block_on`): the key goes onto
//!   the lock-free remote queue, and the first such wake since the loop last looked
//!   writes to the reactor's eventfd, which ends a park. The loop drains the queue at the
//!   start of the next turn and counts those wakes as remote.
//!
//! A wake whose task has finished is a counted no-op (the slot's id no longer matches
//! the key). A wake after the runtime is gone is also a no-op, counted in a
//! process-wide total ([`crate::orphan_wakes`]), since no runtime is left to count it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Wake;

use crossbeam_queue::SegQueue;
use turnstile_reactor::RemoteWaker;

use crate::context;

/// Names a task slot and the task in it. The id is unique for the runtime's life, so a
/// key held by a stale waker never matches a later task that reuses the slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskKey {
    pub(crate) index: u32,
    pub(crate) id: u64,
}

impl TaskKey {
    /// The `block_on` future's key: id 0 is never given to a task.
    pub(crate) const MAIN: TaskKey = TaskKey {
        index: u32::MAX,
        id: 0,
    };
}

/// Wakes that reached a runtime after it was dropped, in this process.
static ORPHAN_WAKES: AtomicU64 = AtomicU64::new(0);

/// Wakes that arrived after their runtime was dropped, process-wide. Such wakes are
/// no-ops; this total is the only trace they leave.
///
/// ```
/// let before = turnstile::orphan_wakes();
/// let waker = turnstile::Runtime::new()?.block_on(std::future::poll_fn(|cx| {
///     std::task::Poll::Ready(cx.waker().clone())
/// }));
/// waker.wake(); // its runtime is gone
/// assert!(turnstile::orphan_wakes() > before);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn orphan_wakes() -> u64 {
    ORPHAN_WAKES.load(Ordering::Relaxed)
}

/// The part of a runtime that other threads may touch.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Keys woken from other threads, drained by the loop at the start of each turn.
    remote: SegQueue<TaskKey>,
    /// Set by the first remote wake since the loop last drained; only that wake pays for
    /// the eventfd write.
    notified: AtomicBool,
    /// Ends the loop's park.
    waker: RemoteWaker,
    /// Cleared when the runtime is dropped.
    alive: AtomicBool,
    /// Unique per runtime in this process: lets a `Sleep` (which is `Send`) tell whether
    /// the runtime dropping it is the one holding its timer.
    pub(crate) id: u64,
}

/// The next runtime id.
static NEXT_RUNTIME_ID: AtomicU64 = AtomicU64::new(1);

impl Shared {
    pub(crate) fn new(waker: RemoteWaker) -> Self {
        Shared {
            remote: SegQueue::new(),
            notified: AtomicBool::new(false),
            waker,
            alive: AtomicBool::new(true),
            id: NEXT_RUNTIME_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    fn wake_remote(&self, key: TaskKey) {
        if !self.alive.load(Ordering::Acquire) {
            ORPHAN_WAKES.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.remote.push(key);
        // Push before the swap: a loop that clears `notified` and then drains is bound to
        // see this key, and a loop that has not cleared it yet will, after us.
        if !self.notified.swap(true, Ordering::AcqRel) {
            // An eventfd write can only fail if its counter is saturated, which already
            // means "wake up": ignoring the error loses nothing.
            let _ = self.waker.wake();
        }
    }

    /// Whether remote wakes may be waiting (a cheap load the loop makes every turn).
    #[inline]
    pub(crate) fn has_remote(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Takes every queued remote wake, in order.
    pub(crate) fn drain_remote(&self, mut each: impl FnMut(TaskKey)) {
        // A swap, not a store: reading the pushers' `true` is what makes their pushes
        // visible to the pops below.
        self.notified.swap(false, Ordering::AcqRel);
        while let Some(key) = self.remote.pop() {
            each(key);
        }
    }

    /// Marks the runtime gone: later wakes become counted no-ops.
    pub(crate) fn shut_down(&self) {
        self.alive.store(false, Ordering::Release);
        while self.remote.pop().is_some() {}
    }
}

/// The waker of one task, or of the `block_on` future.
#[derive(Debug)]
pub(crate) struct TaskWaker {
    pub(crate) shared: Arc<Shared>,
    pub(crate) key: TaskKey,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    #[inline]
    fn wake_by_ref(self: &Arc<Self>) {
        let local = context::with_current(|core| {
            let ours = core.owns(&self.shared);
            if ours {
                core.wake_local(self.key);
            }
            ours
        });
        if local != Some(true) {
            self.shared.wake_remote(self.key);
        }
    }
}
