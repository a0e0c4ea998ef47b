//! What a task asks of the runtime that owns it: the task layer's one way up.
//!
//! A task's allocation carries a scheduler handle `S: Schedule` (the runtime's: a weak
//! reference to its remote side), and its waker calls `S::wake`. The runtime decides
//! where the wake goes (its ready queue on its own loop thread, its remote queue from
//! anywhere else); the task layer never names the runtime. Static dispatch: each task's
//! waker vtable is generic over `S`, so the wake inlines into the runtime's code, as if
//! the task layer called it directly.

use std::sync::Arc;

use super::{Header, LocalTask};

/// The runtime side of a task, held in the task's allocation.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// A wake of the task at `task`, from any thread; the caller's waker keeps it
    /// alive for the call. Where the wake must outlive the call (a queue that another
    /// thread fills), `owned` makes a counted reference to the task for it.
    ///
    /// `task` is a thin pointer to the concrete cell, so that the loop's queue entry
    /// (a `TaskPtr`) is made where the vtable is a constant: one register less on the
    /// hottest path there is.
    fn wake<T: LocalTask + 'static>(
        &self,
        task: *const T,
        owned: impl FnOnce() -> Arc<dyn LocalTask>,
    );

    /// The task's handle asks, from a thread other than the loop's, for `op` to be done
    /// on the loop thread (where the join state may be touched); `task` is the task
    /// `header` heads. If the runtime is gone, nothing is left to do.
    fn send_to_loop(&self, header: &Header, op: HandleOp, task: Arc<dyn LocalTask>);

    /// A waker of the task was cloned, woken or dropped (the `console` feature's
    /// `runtime::waker` events). `header`'s task is alive for the call.
    #[cfg(feature = "console")]
    fn waker_event(_header: &Header, _op: WakerOp) {}
}

/// What a task's handle asks of the loop thread from another thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HandleOp {
    /// Cancel the task (`JoinHandle::abort`).
    Abort,
    /// The handle was dropped: detach the join state ([`LocalTask::detach_join`]).
    Detach,
}

/// What a waker of a task did, as console-subscriber spells it in an event's `op`.
#[cfg(feature = "console")]
#[derive(Clone, Copy, Debug)]
pub(crate) enum WakerOp {
    /// `Waker::wake`: a wake that consumes the waker (console counts it as a drop too).
    Wake,
    /// `Waker::wake_by_ref`, through an owned waker or the one lent to a poll.
    WakeByRef,
    /// `Waker::clone`: a new owned waker, including a clone of the lent one.
    Clone,
    /// The drop of an owned waker (never of the one lent to a poll, which is no clone).
    Drop,
}
