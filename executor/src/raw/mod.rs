//! The task layer: what a task is, whatever runtime runs it. It knows no runtime: a
//! task reaches the one that owns it only through its [`Schedule`], a type parameter
//! of the task's allocation, so the waker's path to the ready queue is static dispatch.
//!
//! One concept per file: `header` (identity, state, counts), `state` (the state
//! machine: every transition and its invariant), `cell` (the allocation, its poll and
//! the drop of its future), `join_state` (where the outcome waits for the handle),
//! `waker` (the waker vtable), `schedule` (what a task asks of its runtime). This file
//! has the loop's view of a task ([`LocalTask`], [`TaskPtr`]) and the key that names
//! one from outside ([`TaskKey`]).
//!
//! A task is an `Arc<TaskCell<F, S>>`: a `Header` (identity, scheduling state, counts),
//! its scheduler handle `S`, the join state its output goes to, and the future. The
//! runtime's slab owns one reference, the `JoinHandle` another, and each `Waker` of the
//! task one more. The waker's data pointer is the cell itself and its vtable is generic
//! over `F` and `S`, so polling hands the future a borrowed waker without touching the
//! reference count, and a wake on the loop thread goes from the waker to the task's
//! header in one step, with no lookup.
//!
//! # Which thread touches what
//!
//! Other threads can hold wakers, so `TaskCell` must be `Send + Sync`. They touch only
//! the reference count, the scheduler handle (`Send + Sync`) and the header's immutable
//! fields (`runtime`, `id`, and with the `console` feature `span_id`). Everything else
//! (the scheduling state, the counts, the join state, the future and its console span)
//! is touched only on the loop thread of the runtime that owns the task, and only while
//! that runtime is current there: a wake compares runtime ids before it reads the
//! state, the loop polls and drops futures itself, and the `JoinHandle` (`Send` when
//! its output is) checks its thread before it touches the join state: elsewhere it
//! sends its abort or its drop to the loop ([`Schedule::send_to_loop`]).
//! The future (and after it the span) is dropped in place on the loop thread when the
//! task finishes, is aborted, or its runtime is dropped, always before the slab
//! releases its reference; an output is dropped by the handle on the loop thread, or at
//! once if the handle is already gone. So neither `F` nor its output (either may be
//! `!Send`) is ever dropped on another thread, whichever reference happens to be the
//! last; except an output that a handle dropped on another thread leaves behind when
//! the runtime is gone before the loop could detach it, and such a handle (so its
//! output) is `Send`.
//!
//! # Scheduling state
//!
//! `state.rs` holds the bits and the only code that changes them. The ready queue holds
//! raw pointers; they stay valid because a task leaves the slab only once it is done and
//! not queued (`State::release`).

use std::task::Poll;

mod cell;
mod header;
mod join_state;
mod schedule;
pub(crate) mod state;
mod waker;

pub(crate) use cell::TaskCell;
pub(crate) use header::Header;
pub(crate) use join_state::{ErrorKind, Join, JoinTarget};
#[cfg(feature = "console")]
pub(crate) use schedule::WakerOp;
pub(crate) use schedule::{HandleOp, Schedule};

/// A task on the ready queue: a raw pointer, valid while the task is queued because a
/// queued task is always owned by the slab (`state.rs`).
pub(crate) type TaskPtr = *const dyn LocalTask;

/// Names a task from outside the loop (a `JoinHandle` or `AbortHandle`): its slot and
/// its id, which must match for the key to mean anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TaskKey {
    pub(crate) index: u32,
    pub(crate) id: u64,
}

/// The header of the task at `task`.
///
/// # Safety
/// `task` must point to a live `TaskCell` (any `F`), and the returned reference must not
/// outlive it.
#[inline(always)]
pub(crate) unsafe fn header_of<'a>(task: TaskPtr) -> &'a Header {
    // SAFETY: every `LocalTask` is a `TaskCell<F, S>`, which is `repr(C)` with `Header`
    // as its first field, so the data pointer is a valid `*const Header`; the caller
    // guarantees the cell is alive for `'a`.
    unsafe { &*task.cast::<Header>() }
}

/// What the loop needs of a task, whatever its future. Implemented by `TaskCell<F, S>`.
pub(crate) trait LocalTask: Send + Sync {
    fn header(&self) -> &Header;

    /// Polls the future once with the task's waker. If the poll panics, the future is
    /// dropped during the unwind, before the panic reaches the caller.
    ///
    /// # Safety
    /// On the owning runtime's loop thread, with the task `RUNNING` (so nothing else
    /// polls or drops the payload meanwhile), and not `DONE`. `data` must be this task's
    /// pointer as it came from its `Arc` (`Arc::as_ptr`, or a waker's data pointer): the
    /// waker lent to the future is made from it, and waker clones touch the reference
    /// count, which lies outside what a pointer derived from `&self` may reach.
    unsafe fn poll(&self, data: *const ()) -> Poll<()>;

    /// Drops the payload in place, then fails the handle with `error` if given (with the
    /// destructor's panic instead, if it panicked while cancelling). Returns whether the
    /// destructor panicked (the panic is caught here).
    ///
    /// # Safety
    /// On the owning runtime's loop thread, and not while the task is being polled.
    unsafe fn finish(&self, error: Option<ErrorKind>) -> bool;

    /// The task's handle is gone (it was dropped on another thread, and the loop does
    /// what its drop could not there): any output is dropped now, any future one on
    /// arrival.
    ///
    /// # Safety
    /// On the owning runtime's loop thread.
    unsafe fn detach_join(&self);
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;
    use crate::raw::join_state::JoinState;

    /// A scheduler handle of one word, the size of the runtime's own (never built:
    /// only its size is asked).
    #[allow(dead_code)]
    struct OneWord(Box<()>);

    impl Schedule for OneWord {
        fn wake<T: LocalTask + 'static>(
            &self,
            _: *const T,
            _: impl FnOnce() -> std::sync::Arc<dyn LocalTask>,
        ) {
        }
        fn send_to_loop(&self, _: &Header, _: HandleOp, _: std::sync::Arc<dyn LocalTask>) {}
    }

    /// The per-task memory figure in docs/performance.md rests on these sizes (64-bit
    /// targets): a header of seven words (its state bits and the join flags share one
    /// `u16`), the scheduler handle's word, a join state of three, the future after them.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_task_cell_stays_small() {
        #[cfg(feature = "console")]
        let span_id = size_of::<Option<tracing::Id>>();
        #[cfg(not(feature = "console"))]
        let span_id = 0;
        assert_eq!(size_of::<Header>(), 56 + span_id);
        assert_eq!(size_of::<JoinState<()>>(), 24);
        #[cfg(not(feature = "console"))]
        assert_eq!(
            size_of::<TaskCell<std::future::Pending<()>, OneWord>>(),
            64 + 24 + 8
        );
    }
}
