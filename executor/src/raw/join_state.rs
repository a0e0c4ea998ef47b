//! The task's side of joining: where a task leaves its outcome for its `JoinHandle`
//! (`join.rs`, which hands it to the user), and the waker of whoever awaits it.

use std::any::Any;
use std::cell::Cell;
use std::task::{Context, Poll, Waker};

use std::sync::Arc;

use super::schedule::HandleOp;
use super::state::{JoinFinish, State};

/// Why a task failed, as its join state keeps it: the task id is added when the
/// handle hands the error out (it knows the id), so the task does not store it twice.
pub(crate) enum ErrorKind {
    /// Aborted, or its runtime dropped, before it finished.
    Cancelled,
    /// It panicked; the payload.
    Panic(Box<dyn Any + Send + 'static>),
}

/// Where a task leaves its result for its handle. Lives inside the task's allocation
/// and is touched on the loop thread only (see `task/mod.rs`). Its flags are part of the
/// task's state machine (`task/state.rs`; [`Join`] pairs the two); both are `Cell`s,
/// never borrowed across user code (an output's or a waker's destructor, a wake).
///
/// One slot holds, in turn, the waker of whoever awaits the handle and then the
/// outcome: never both at once (finishing takes the waker out to wake it), so they
/// share the space. For `T = ()` the state is three words.
pub(crate) struct JoinState<T> {
    slot: Cell<Slot<T>>,
}

/// What a join state holds.
enum Slot<T> {
    /// Nothing: no one waits yet, or the outcome was taken (then `FINISHED` is set).
    Empty,
    /// The handle is awaited by this waker.
    Waiting(Waker),
    /// The task's outcome, until the handle takes it.
    Done(Result<T, ErrorKind>),
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> Self {
        JoinState {
            slot: Cell::new(Slot::Empty),
        }
    }

    fn take(&self) -> Slot<T> {
        self.slot.replace(Slot::Empty)
    }
}

/// A task's join state with its flags: what the task and its handle work with.
pub(crate) struct Join<'a, T> {
    flags: &'a State,
    slot: &'a JoinState<T>,
}

impl<'a, T> Join<'a, T> {
    pub(crate) fn new(flags: &'a State, slot: &'a JoinState<T>) -> Self {
        Join { flags, slot }
    }

    /// Stores the task's outcome and wakes whoever awaits it. The first outcome wins.
    pub(crate) fn finish(&self, result: Result<T, ErrorKind>) {
        match self.flags.join_finish() {
            // `result` drops here, on the loop thread, with nothing borrowed.
            JoinFinish::Ignore | JoinFinish::Drop => {}
            JoinFinish::Deliver => {
                if let Slot::Waiting(waiter) = self.slot.slot.replace(Slot::Done(result)) {
                    waiter.wake();
                }
            }
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.flags.join_finished()
    }

    /// A poll of the handle: the outcome if there is one, else the waker is stored.
    #[inline(always)]
    #[track_caller] // the assert below names the handle's `.await`
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<T, ErrorKind>> {
        let waiter = match self.slot.take() {
            Slot::Done(result) => return Poll::Ready(result),
            Slot::Waiting(w) if w.will_wake(cx.waker()) => w,
            Slot::Waiting(_) | Slot::Empty => {
                assert!(
                    !self.is_finished(),
                    "JoinHandle polled again after it returned its result"
                );
                cx.waker().clone() // an old waker drops here: nothing is borrowed
            }
        };
        self.slot.slot.set(Slot::Waiting(waiter));
        Poll::Pending
    }

    /// Whether the handle's polls take the timed path (await sites, `Level::Timing`).
    #[inline(always)]
    pub(crate) fn is_timed(&self) -> bool {
        self.flags.is_timed()
    }

    /// Whether the handle has returned `Pending` before.
    pub(crate) fn has_waited(&self) -> bool {
        self.flags.join_has_waited()
    }

    /// The handle returned `Pending`.
    pub(crate) fn waited(&self) {
        let _first = self.flags.join_waited();
    }

    /// The handle is gone: any future output is dropped on arrival, and what the slot
    /// held (a waker or an output) is returned, for the caller to drop (user code;
    /// nothing is borrowed by then).
    #[must_use = "the slot's contents are dropped by the caller"]
    pub(crate) fn detach(&self) -> Leftover<T> {
        self.flags.join_detach();
        Leftover(self.slot.take())
    }
}

/// What a detached handle's slot held: dropping it drops a waker or an output.
pub(crate) struct Leftover<T>(Slot<T>);

impl<T> Leftover<T> {
    /// Whether there is nothing to drop (the common case: the output was taken).
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self.0, Slot::Empty)
    }
}

/// A task's join state, reachable from a handle that does not know the task's future
/// type. Implemented by every `TaskCell<F>` for `T = F::Output`.
pub(crate) trait JoinTarget<T> {
    fn join(&self) -> Join<'_, T>;

    /// Asks the task's runtime, from a thread other than its loop's, to do `op` there
    /// ([`super::Schedule::send_to_loop`]). Touches only the reference count, the
    /// scheduler handle and the header's immutable fields.
    fn send_to_loop(self: Arc<Self>, op: HandleOp);
}
