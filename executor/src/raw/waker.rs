//! A task's waker: a `RawWaker` whose data pointer is the task's own allocation, with
//! a vtable generic over the future, so a wake on the loop thread goes from the waker to
//! the task's header in one step and polling lends the future a waker without touching
//! the reference count.
//!
//! Where a wake goes is the runtime's business: the waker hands it to the task's
//! scheduler handle ([`Schedule::wake`]), with a way to make a counted reference to the
//! task for a queue that must keep one (a wake from another thread).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::sync::Arc;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::cell::TaskCell;
#[cfg(feature = "console")]
use super::header::Header;
#[cfg(feature = "console")]
use super::WakerOp;
use super::{LocalTask, Schedule};

impl<F, S> TaskCell<F, S>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        Self::clone_waker,
        Self::wake,
        Self::wake_by_ref,
        Self::drop_waker,
    );

    /// A waker for the task at `data` that borrows it: no reference count is taken, so
    /// it must not outlive the caller's own reference (`ManuallyDrop` keeps it from
    /// releasing one it never took). Cloning it takes a real reference.
    ///
    /// # Safety
    /// `data` must point to a live `TaskCell<F>` inside its `Arc`, with the provenance of
    /// the `Arc`'s pointer (not of a `&TaskCell`).
    pub(super) unsafe fn borrowed_waker(data: *const ()) -> ManuallyDrop<Waker> {
        // SAFETY: `data` is what the vtable's functions expect (caller's contract); the
        // waker is never dropped, so it never releases the reference it did not take.
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &Self::VTABLE)) })
    }

    // With `console`, each of the four reports itself (`Schedule::waker_event`) while the
    // waker's reference still keeps the task alive. The waker lent to a poll is never
    // cloned into being nor dropped (`ManuallyDrop`), so it reports only what is done
    // through it: a `wake_by_ref`, or a clone (an owned waker, which reports its own end).

    unsafe fn clone_waker(data: *const ()) -> RawWaker {
        // SAFETY: `data` came from a waker of this type, so it points into a live
        // `Arc<Self>`: the waker being cloned holds (or borrows from the loop) a reference.
        unsafe { Arc::increment_strong_count(data.cast::<Self>()) };
        #[cfg(feature = "console")]
        // SAFETY: alive (the reference just taken); only the immutable `span_id` is read.
        S::waker_event(unsafe { Self::header_at(data) }, WakerOp::Clone);
        RawWaker::new(data, &Self::VTABLE)
    }

    unsafe fn wake(data: *const ()) {
        #[cfg(feature = "console")]
        // SAFETY: the owned waker being consumed holds a reference until `release` below.
        S::waker_event(unsafe { Self::header_at(data) }, WakerOp::Wake);
        // SAFETY: an owned waker of this type holds one reference, alive for the call.
        unsafe { Self::wake_at(data) };
        // SAFETY: that reference is the waker's, consumed by `wake`: release it (with no
        // `waker.drop` of its own: console counts a `waker.wake` as the waker's end).
        unsafe { Self::release(data) };
    }

    unsafe fn wake_by_ref(data: *const ()) {
        #[cfg(feature = "console")]
        // SAFETY: the waker (owned or lent) keeps the task alive for the call.
        S::waker_event(unsafe { Self::header_at(data) }, WakerOp::WakeByRef);
        // SAFETY: the waker (owned or borrowed) keeps the `Arc<Self>` alive for the call.
        unsafe { Self::wake_at(data) };
    }

    unsafe fn drop_waker(data: *const ()) {
        #[cfg(feature = "console")]
        // SAFETY: the waker's reference is released only below, after this read.
        S::waker_event(unsafe { Self::header_at(data) }, WakerOp::Drop);
        // SAFETY: an owned waker of this type holds exactly one reference to release.
        unsafe { Self::release(data) };
    }

    /// Releases the reference an owned waker held.
    ///
    /// # Safety
    /// `data` points to a live `TaskCell<F>` with its `Arc`'s provenance, and the caller
    /// owns one of its references, which it gives up.
    #[inline(always)]
    unsafe fn release(data: *const ()) {
        // SAFETY: the caller's reference is the one released (caller's contract).
        unsafe { Arc::decrement_strong_count(data.cast::<Self>()) };
    }

    /// The header of the task at `data`, for the waker events.
    ///
    /// # Safety
    /// `data` points to a live `TaskCell<F>`, which outlives the returned reference.
    #[cfg(feature = "console")]
    #[inline(always)]
    unsafe fn header_at<'a>(data: *const ()) -> &'a Header {
        // SAFETY: alive for `'a` (caller's contract); a shared reference to the header
        // is what other threads may hold (its immutable fields are all they read).
        unsafe { &(*data.cast::<Self>()).header }
    }

    /// A wake, handed to the task's runtime.
    ///
    /// # Safety
    /// `data` points to a live `TaskCell<F, S>` with its `Arc`'s provenance.
    #[inline]
    unsafe fn wake_at(data: *const ()) {
        let task = data.cast::<Self>();
        // SAFETY: alive for the call (caller's contract); the scheduler handle is what
        // any thread may read.
        let owner = unsafe { &(*task).owner };
        let owned = || -> Arc<dyn LocalTask> {
            // SAFETY: `task` came from an `Arc<Self>` that the caller's waker keeps
            // alive; we take one more reference, for whoever keeps the result.
            unsafe {
                Arc::increment_strong_count(task);
                Arc::from_raw(task)
            }
        };
        owner.wake(task, owned);
    }
}
