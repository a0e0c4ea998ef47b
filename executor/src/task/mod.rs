//! Tasks: [`spawn`] a future onto the current runtime, or name it first with a
//! [`Builder`]. A task runs on the loop thread only (no `Send` bound), is polled once per
//! turn while it is ready, and hands its output to its [`JoinHandle`].
//!
//! ```
//! let rt = turnstile::Runtime::new()?;
//! let out = rt.block_on(async {
//!     let fetch = turnstile::task::Builder::new().name("fetch").spawn(async { 40 });
//!     fetch.await.unwrap() + turnstile::spawn(async { 2 }).await.unwrap()
//! });
//! assert_eq!(out, 42);
//! # Ok::<(), std::io::Error>(())
//! ```

// How a task is built (for readers of the source; docs/architecture.md has the map).
//
// One concept per file: `header` (identity, state, counts), `state` (the state
// machine: every transition and its invariant), `cell` (the allocation, its poll
// and the drop of its future), `join_state` (where the outcome waits for the
// handle), `waker` (the waker vtable). This file has `spawn`.
//
// A task is an `Arc<TaskCell<F>>`: a `Header` (identity, scheduling state, counts),
// the join state its output goes to, and the future. The runtime's slab owns one
// reference, the `JoinHandle` another, and each `Waker` of the task one more. The waker's data
// pointer is the cell itself and its vtable is generic over `F`, so polling hands the
// future a borrowed waker without touching the reference count, and a wake on the
// loop thread goes from the waker to the task's header in one step, with no lookup.
//
// # Which thread touches what
//
// Other threads can hold wakers, so `TaskCell` must be `Send + Sync`. They touch only
// the reference count and the header's immutable fields (`remote`, `runtime`, `id`, and
// with the `console` feature `span_id`). Everything else (the scheduling state, the counts, the
// join state, the future and its console span) is touched only on the loop thread of
// the runtime that owns the task, and only while that runtime is current there: a wake
// compares runtime ids before it reads the state, the loop polls and drops futures
// itself, and the `JoinHandle` is `!Send`. The future (and after it the span) is
// dropped in place on the loop thread when the task finishes, is aborted, or its
// runtime is dropped, always before the slab releases its reference; an output is
// dropped by the handle on the loop thread, or at once if the handle is already gone.
// So neither `F` nor its output (either may be `!Send`) is ever dropped on another
// thread, whichever reference happens to be the last.
//
// # Scheduling state
//
// `state.rs` holds the bits and the only code that changes them. The ready queue holds
// raw pointers; they stay valid because a task leaves the slab only once it is done and
// not queued (`State::release`).

use std::future::Future;
use std::panic::Location;
use std::task::Poll;

use crate::context;

mod cell;
mod header;
mod join_state;
pub(crate) mod state;
mod waker;

pub use crate::coop::{unconstrained, Unconstrained};
pub use crate::join::{AbortHandle, JoinError, JoinHandle};
pub use crate::join_set::JoinSet;
pub use crate::spawn_blocking::spawn_blocking;
pub use crate::task_local::{AccessError, LocalKey, TaskLocalFuture};
pub use crate::yield_now::{yield_now, YieldNow};
pub(crate) use cell::TaskCell;
pub(crate) use header::Header;
pub(crate) use join_state::{ErrorKind, Join, JoinTarget};

/// A task on the ready queue: a raw pointer, valid while the task is queued because a
/// queued task is always owned by the slab (`state.rs`).
pub(crate) type TaskPtr = *const dyn LocalTask;

/// The header of the task at `task`.
///
/// # Safety
/// `task` must point to a live `TaskCell` (any `F`), and the returned reference must not
/// outlive it.
#[inline(always)]
pub(crate) unsafe fn header_of<'a>(task: TaskPtr) -> &'a Header {
    // SAFETY: every `LocalTask` is a `TaskCell<F>`, which is `repr(C)` with `Header` as
    // its first field, so the data pointer is a valid `*const Header`; the caller
    // guarantees the cell is alive for `'a`.
    unsafe { &*task.cast::<Header>() }
}

/// What the loop needs of a task, whatever its future. Implemented by `TaskCell<F>`.
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

    /// Drops the payload in place, first failing the handle with `error` if given.
    ///
    /// # Safety
    /// On the owning runtime's loop thread, and not while the task is being polled.
    unsafe fn finish(&self, error: Option<ErrorKind>);
}

/// Spawns a future onto the current runtime and returns a handle to its output.
///
/// The future needs no `Send` bound: it runs on the loop thread only. It is queued to
/// be polled in the next turn; dropping the handle detaches it.
///
/// # Panics
/// Outside a runtime (neither inside `Runtime::block_on` nor under
/// `Runtime::enter`), with a message that says so.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let n = rt.block_on(async {
///     let shared = std::rc::Rc::new(20); // not Send: fine on a single-threaded loop
///     let s = shared.clone();
///     turnstile::spawn(async move { *s + 1 }).await.unwrap() + *shared
/// });
/// assert_eq!(n, 41);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, None, Location::caller())
}

pub(crate) fn spawn_at<F>(
    future: F,
    name: Option<Box<str>>,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_current(|core| core.spawn(future, name, at)).unwrap_or_else(|| {
        panic!(
            "turnstile::spawn called at {at} outside a runtime: spawn from inside \
             Runtime::block_on (or from a task it runs), or hold a guard from \
             Runtime::enter"
        )
    })
}

/// The same as [`spawn`] (every turnstile task is local to the loop thread); here so
/// that code written for tokio's `task::spawn_local` compiles unchanged.
///
/// # Panics
/// Outside a runtime, as [`spawn`] does.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let n = rt.block_on(async {
///     let not_send = std::rc::Rc::new(5);
///     turnstile::task::spawn_local(async move { *not_send }).await.unwrap()
/// });
/// assert_eq!(n, 5);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, None, Location::caller())
}

/// The id of the task being polled, as it appears in probe snapshots and
/// [`JoinHandle::id`].
///
/// # Panics
/// Outside a task: in the `block_on` future itself, or outside a runtime.
/// [`try_id`] returns `None` there instead.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let h = turnstile::spawn(async { turnstile::task::id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), id);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn id() -> u64 {
    try_id().unwrap_or_else(|| {
        panic!(
            "turnstile::task::id called at {} outside a task: the block_on future and \
             code outside the runtime have no task id (use task::try_id)",
            Location::caller()
        )
    })
}

/// The id of the task being polled, or `None` outside a task (in the `block_on`
/// future, or outside a runtime).
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     assert_eq!(turnstile::task::try_id(), None); // the block_on future
///     let id = turnstile::spawn(async { turnstile::task::try_id() }).await.unwrap();
///     assert!(id.is_some());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn try_id() -> Option<u64> {
    context::with_current(|core| core.sched().current_task_id()).flatten()
}

/// Configures a task before spawning it: today, its name.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let h = turnstile::task::Builder::new().name("fetch").spawn(async { 1 });
///     assert_eq!(h.await.unwrap(), 1);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a task::Builder does nothing until .spawn() is called"]
pub struct Builder {
    name: Option<Box<str>>,
}

impl Builder {
    /// A builder for an unnamed task.
    ///
    /// ```
    /// let _b = turnstile::task::Builder::new();
    /// ```
    pub fn new() -> Self {
        Builder::default()
    }

    /// Names the task; the name appears in probe snapshots and stall reports.
    ///
    /// ```
    /// let _b = turnstile::task::Builder::new().name("db");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Spawns `future` onto the current runtime, like [`spawn`].
    ///
    /// # Panics
    /// Outside `Runtime::block_on`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::task::Builder::new().name("answer").spawn(async { 42 });
    ///     assert_eq!(h.await.unwrap(), 42);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_at(future, self.name, Location::caller())
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;
    use crate::task::join_state::JoinState;

    /// The per-task memory figure in docs/performance.md rests on these sizes (64-bit
    /// targets): a header of eight words (its state bits
    /// and the join flags share one `u16`), a join state of three, the future after them.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_task_cell_stays_small() {
        #[cfg(feature = "console")]
        let span_id = size_of::<Option<tracing::Id>>();
        #[cfg(not(feature = "console"))]
        let span_id = 0;
        assert_eq!(size_of::<Header>(), 64 + span_id);
        assert_eq!(size_of::<JoinState<()>>(), 24);
        #[cfg(not(feature = "console"))]
        assert_eq!(size_of::<TaskCell<std::future::Pending<()>>>(), 64 + 24 + 8);
    }
}
