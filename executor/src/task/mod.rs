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

// The public side of tasks: spawning, the ids, task-locals, `JoinSet`, `yield_now`,
// `spawn_blocking`. What a task is lives in `crate::raw` (the task layer), how the
// loop runs it in `crate::rt`.

use std::future::Future;
use std::panic::Location;

use crate::rt::context;

mod blocking;
mod join_set;
mod local;
mod yield_now;

pub use crate::rt::coop::{unconstrained, Unconstrained};
pub use crate::rt::join::{AbortHandle, JoinError, JoinHandle};
pub use blocking::spawn_blocking;
pub use join_set::JoinSet;
pub use local::{AccessError, LocalKey, TaskLocalFuture};
pub use yield_now::{yield_now, YieldNow};

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

/// `#[track_caller]` so that the panic outside a runtime points at the user's call (of
/// `spawn` and the others, all `#[track_caller]` too), not at this file.
#[track_caller]
pub(crate) fn spawn_at<F>(
    future: F,
    name: Option<Box<str>>,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    // A `match`, not `unwrap_or_else`: a closure would not pass on the caller's location.
    match context::with_current(|core| core.spawn(future, name, at)) {
        Some(handle) => handle,
        None => panic!(
            "turnstile::spawn called at {at} outside a runtime: spawn from inside \
             Runtime::block_on (or from a task it runs), or hold a guard from \
             Runtime::enter"
        ),
    }
}

/// Spawns onto the runtime `runtime` (an id, [`crate::Handle::id`]), which must be the
/// current one or one built on this thread (a task runs on its runtime's loop thread).
#[track_caller]
pub(crate) fn spawn_on_at<F>(
    future: F,
    runtime: u64,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let mut future = Some(future);
    let mut spawn = |core: &crate::rt::Core| {
        let future = future.take().expect("spawned once");
        core.spawn(future, None, at)
    };
    let current = context::with_current(|core| (core.id() == runtime).then(|| spawn(core)));
    if let Some(Some(handle)) = current {
        return handle;
    }
    match context::runtime_here(runtime) {
        Some(core) => spawn(&core),
        None => panic!(
            "spawn_on called at {at} with the Handle of a runtime that is not on this \
             thread (or is gone): turnstile spawns a local task onto a runtime built on \
             this thread only; from another thread, use Handle::spawn"
        ),
    }
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
/// As under tokio, a task's id is also its code's outside its polls: in the destructor
/// of its future and of its output wherever the runtime drops them (when the task
/// completes, is aborted, its handle is dropped, or the runtime shuts down), and inside
/// a [`spawn_blocking`] closure, on the pool thread, where it is the id of the blocking
/// task whose [`JoinHandle`] awaits it.
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
    match try_id() {
        Some(id) => id,
        None => panic!(
            "turnstile::task::id called at {} outside a task: the block_on future and \
             code outside the runtime have no task id (use task::try_id)",
            Location::caller()
        ),
    }
}

/// The id of the task being polled, or `None` outside a task (in the `block_on`
/// future, or outside a runtime); where [`id`] says.
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
    context::guarded_task_id()
        .or_else(|| context::with_current(|core| core.sched().current_task_id()).flatten())
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
