//! The task allocation: header, join state and future in one `Arc`, and what the loop
//! does with it (poll it, drop its future).

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::header::Header;
use super::join_state::{ErrorKind, Join, JoinState, JoinTarget};
use super::schedule::HandleOp;
use super::{LocalTask, Schedule};

/// One spawned task, always allocated inside an `Arc` (see [`TaskCell::new`]), owned by
/// the runtime that `S` reaches.
///
/// `repr(C)` with the header first, so a pointer to any task is also a pointer to its
/// header ([`super::header_of`]): the loop reads its state without a virtual call.
#[repr(C)]
pub(crate) struct TaskCell<F: Future, S> {
    pub(super) header: Header,
    /// How the task's wakers reach its runtime, from any thread (`Send + Sync`).
    pub(super) owner: S,
    /// Where the output goes, for the `JoinHandle` (which holds a reference to this
    /// cell). Loop thread only; an output is never left in it once the handle is gone.
    join: JoinState<F::Output>,
    /// The future: `Some` until the task finishes. Loop thread only; pinned in place
    /// (never moved out while `Some`, only dropped in place).
    payload: UnsafeCell<Option<F>>,
    /// The task's `runtime.spawn` span (see `console.rs`): entered around each poll of
    /// the future, and replaced by `Span::none()`, which closes it, right after the
    /// future is dropped. Loop thread only, under the same rules as `payload`.
    #[cfg(feature = "console")]
    span: UnsafeCell<tracing::Span>,
}

// SAFETY: other threads reach a `TaskCell` only through its wakers, which use the
// reference count, the scheduler handle `S` (`Send + Sync` by `Schedule`'s bound) and
// the header's immutable `runtime`, `id` and (`console`) `span_id`, all `Send + Sync`. The `Cell`s, the payload and the span are accessed only
// on the owning runtime's loop thread while that runtime is current (see the module
// documentation of `task`), and the payload and the span are dropped there before the
// slab gives up its reference, so a `!Send` future or output never crosses threads.
unsafe impl<F: Future, S: Schedule> Send for TaskCell<F, S> {}
// SAFETY: as for `Send`: shared access from other threads is limited to fields that
// are `Sync` themselves.
unsafe impl<F: Future, S: Schedule> Sync for TaskCell<F, S> {}

impl<F, S> TaskCell<F, S>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    /// The task, in its `Arc`, owned by the runtime `owner` reaches. With `console`,
    /// `span` is its `runtime.spawn` span (made by the caller before it borrowed
    /// anything: a subscriber is the user's code).
    pub(crate) fn new(
        future: F,
        header: Header,
        owner: S,
        #[cfg(feature = "console")] span: tracing::Span,
    ) -> Arc<TaskCell<F, S>> {
        #[cfg(feature = "console")]
        let header = Header {
            span_id: span.id(),
            ..header
        };
        Arc::new(TaskCell {
            header,
            owner,
            join: JoinState::new(),
            payload: UnsafeCell::new(Some(future)),
            #[cfg(feature = "console")]
            span: UnsafeCell::new(span),
        })
    }
}

/// Drops a future in place if its poll unwinds, while the panic is still in flight:
/// a `MutexGuard` it owns then poisons its mutex, as under tokio, and nothing is left
/// for the loop to drop after the unwind. Forgotten when the poll returns.
struct DropOnUnwind<'a, F>(&'a UnsafeCell<Option<F>>);

impl<F> Drop for DropOnUnwind<'_, F> {
    fn drop(&mut self) {
        // SAFETY: only made in `poll`, which the loop calls with the task `RUNNING` on
        // its thread: no other access to the payload exists, and the `Pin<&mut F>` lent
        // to the poll is dead (the poll unwound). Assigning `None` drops the future
        // where it lies, as pinning requires.
        unsafe { *self.0.get() = None };
    }
}

impl<F, S> JoinTarget<F::Output> for TaskCell<F, S>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    fn join(&self) -> Join<'_, F::Output> {
        Join::new(&self.header.state, &self.join)
    }

    fn send_to_loop(self: Arc<Self>, op: HandleOp) {
        let task: Arc<dyn LocalTask> = self.clone();
        self.owner.send_to_loop(&self.header, op, task);
    }
}

impl<F, S> LocalTask for TaskCell<F, S>
where
    F: Future + 'static,
    F::Output: 'static,
    S: Schedule,
{
    #[inline]
    fn header(&self) -> &Header {
        &self.header
    }

    #[inline]
    unsafe fn poll(&self, data: *const ()) -> Poll<()> {
        // SAFETY: the caller guarantees we are on the loop thread and that this task is
        // `RUNNING`, so no other reference to the payload exists during this call.
        let payload = unsafe { &mut *self.payload.get() };
        let Some(future) = payload.as_mut() else {
            return Poll::Ready(());
        };
        // SAFETY: the future lives inside the `Arc` allocation and is never moved out of
        // it: it is only ever dropped in place (`finish`, `DropOnUnwind`), so it is pinned.
        let future = unsafe { Pin::new_unchecked(future) };
        // SAFETY: `data` is this task's pointer with its `Arc`'s provenance (contract).
        let waker = unsafe { Self::borrowed_waker(data) };
        let mut cx = Context::from_waker(&waker);
        let unwind = DropOnUnwind(&self.payload);
        let poll = {
            // In the task's span for exactly the future's poll; the guard exits it even
            // if the poll unwinds (`Core::poll_task` catches the panic outside).
            #[cfg(feature = "console")]
            // SAFETY: as for the payload: loop thread, `RUNNING`, so nothing replaces
            // the span during the poll (only `finish` does, never mid-poll).
            let _in_span = unsafe { &*self.span.get() }.enter();
            future.poll(&mut cx)
        };
        mem::forget(unwind);
        match poll {
            Poll::Ready(output) => {
                self.join().finish(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    unsafe fn finish(&self, error: Option<ErrorKind>) -> bool {
        // SAFETY: the caller guarantees the loop thread and that no poll is in progress,
        // so this is the only access to the payload. Assigning `None` drops the future
        // where it lies, as pinning requires (`take` would move it out).
        let slot = unsafe { &mut *self.payload.get() };
        // The span closes when this local drops: after the future (console then sees the
        // task end), and even if the future's destructor panics. It is not entered for
        // the drop: console would count that enter as one more poll.
        #[cfg(feature = "console")]
        // SAFETY: as for the payload (loop thread, no poll in progress).
        let _span = std::mem::replace(unsafe { &mut *self.span.get() }, tracing::Span::none());
        // The future first, then the handle: a cancellation whose destructor panicked
        // fails the handle with that panic, as under tokio. (The task's state says done
        // already, so a destructor that wakes or aborts the task again is a no-op.)
        let Some(error) = error else {
            // Completed: the output is delivered already, and a panic of the destructor
            // is the caller's to contain (the common path: no unwinding guard of ours).
            *slot = None;
            return false;
        };
        let dropped = panic::catch_unwind(AssertUnwindSafe(|| *slot = None));
        let panicked = dropped.is_err();
        let error = match (error, dropped) {
            (ErrorKind::Cancelled, Err(payload)) => ErrorKind::Panic(payload),
            (error, _) => error,
        };
        self.join().finish(Err(error)); // no-op if the task had already completed
        panicked
    }

    unsafe fn detach_join(&self) {
        // The caller guarantees the loop thread: the join state's only.
        drop(self.join().detach());
    }
}
