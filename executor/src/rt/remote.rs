//! The remote side of a runtime: what other threads touch. The remote queue and the
//! eventfd that ends a park. It knows nothing of the loop's other parts: the loop
//! drains it, and wakers and handles push onto it.
//!
//! A task's own waker lives in `task/waker.rs`. Whichever it is, a wake takes one of two
//! paths:
//!
//! - On the loop thread, inside this runtime's `block_on`: straight onto the local ready
//!   queue (`Core::wake_task`), classified as self, local, I/O or timer by what the loop
//!   is doing at that moment.
//! - Anywhere else (another thread, or this thread outside `block_on`): onto the
//!   lock-free remote queue here, and the first such wake since the loop last looked
//!   writes to the reactor's eventfd, which ends a park. The loop drains the queue at
//!   the start of the next turn and counts those wakes as remote.
//!
//! Wakers hold the runtime's [`Remote`] weakly, so a waker that outlives its runtime
//! finds nothing to upgrade: its wake is a no-op, counted in a process-wide total
//! ([`crate::orphan_wakes`]), since no runtime is left to count it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crossbeam_queue::SegQueue;
use turnstile_reactor::RemoteWaker;

use crate::raw::LocalTask;
use crate::raw::TaskKey;

/// Wakes that reached a runtime after it was dropped, in this process.
static ORPHAN_WAKES: AtomicU64 = AtomicU64::new(0);

/// The next runtime id.
static NEXT_RUNTIME_ID: AtomicU64 = AtomicU64::new(1);

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

pub(crate) fn count_orphan_wake() {
    ORPHAN_WAKES.fetch_add(1, Ordering::Relaxed);
}

/// A wake queued by another thread.
pub(crate) enum RemoteWake {
    /// The `block_on` future.
    Main,
    /// A task; the queue owns a reference to it.
    Task(Arc<dyn LocalTask>),
    /// A future to spawn, sent by a `Handle`.
    Spawn(SpawnRequest),
    /// A task to cancel, sent by an `AbortHandle` or a `JoinHandle` from elsewhere.
    Abort(TaskKey),
    /// A task whose `JoinHandle` was dropped on another thread: its join state is
    /// detached on the loop thread. The queue owns a reference to it.
    Detach(Arc<dyn LocalTask>),
}

/// A request to spawn, run by the loop when it drains the remote queue: on the loop
/// thread, with its runtime current (so it spawns with `context::with_current`).
pub(crate) type SpawnRequest = Box<dyn FnOnce() + Send>;

/// The part of a runtime that other threads may touch. The runtime holds the only
/// strong reference; wakers and handles hold weak ones.
pub(crate) struct Remote {
    /// Wakes from other threads, drained by the loop at the start of each turn.
    remote: SegQueue<RemoteWake>,
    /// Set by the first remote wake since the loop last drained; only that wake pays for
    /// the eventfd write.
    notified: AtomicBool,
    /// Ends the loop's park.
    waker: RemoteWaker,
    /// The runtime has shut down: nothing pushed now will ever be drained.
    closed: AtomicBool,
    /// Unique per runtime in this process: lets a `Sleep` (which is `Send`) tell whether
    /// the runtime dropping it is the one holding its timer.
    id: u64,
}

impl Remote {
    pub(crate) fn new(waker: RemoteWaker) -> Self {
        Remote {
            remote: SegQueue::new(),
            notified: AtomicBool::new(false),
            waker,
            closed: AtomicBool::new(false),
            id: NEXT_RUNTIME_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The runtime's id, unique in this process.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Queues a wake (or a spawn) for the loop, and ends its park if it is the first
    /// since the loop last looked.
    pub(crate) fn push(&self, wake: RemoteWake) {
        self.remote.push(wake);
        // After `close`, nothing drains the queue: drop what is in it (a spawn request's
        // handle then reports cancellation). Checked after the push, so a push racing
        // with `close` is dropped by one side or the other.
        if self.closed.load(Ordering::Acquire) {
            self.clear();
            return;
        }
        // Push before the swap: a loop that clears `notified` and then drains is bound to
        // see this wake, and a loop that has not cleared it yet will, after us.
        if !self.notified.swap(true, Ordering::AcqRel) {
            // An eventfd write fails only when its counter is saturated, which already
            // means "wake up": ignoring the error loses nothing.
            let _ = self.waker.wake();
        }
    }

    /// Whether remote wakes may be waiting (a cheap load the loop makes every turn).
    #[inline]
    pub(crate) fn has_wakes(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Takes every queued remote wake, in order. If `each` panics, the wakes still
    /// queued stay for the next turn (the flag that says so is raised again).
    pub(crate) fn drain(&self, mut each: impl FnMut(RemoteWake)) {
        /// Raises `notified` again if the drain unwinds.
        struct Unfinished<'a>(&'a AtomicBool);
        impl Drop for Unfinished<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Release);
            }
        }
        // A swap, not a store: reading the pushers' `true` is what makes their pushes
        // visible to the pops below.
        self.notified.swap(false, Ordering::AcqRel);
        let unfinished = Unfinished(&self.notified);
        while let Some(wake) = self.remote.pop() {
            each(wake);
        }
        std::mem::forget(unfinished);
    }

    /// Drops every queued remote wake.
    fn clear(&self) {
        while self.remote.pop().is_some() {}
    }

    /// The runtime is shutting down: drops every queued remote wake, and every one
    /// pushed from now on (its state may outlive it, kept by a forgotten `EnterGuard`).
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.clear();
    }
}
