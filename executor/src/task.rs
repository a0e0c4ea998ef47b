//! Tasks: one allocation per spawned future, the waker that points into it, and `spawn`.
//!
//! A task is an `Arc<TaskCell<F>>`: a [`Header`] (identity, scheduling state, counts)
//! followed by the payload (the future and the cell its output goes to). The runtime's
//! slab owns one reference; each `Waker` of the task owns another. The waker's data
//! pointer is the cell itself and its vtable is generic over `F`, so polling hands the
//! future a borrowed waker without touching the reference count, and a wake on the
//! loop thread goes from the waker to the task's header in one step, with no lookup.
//!
//! # Which thread touches what
//!
//! Other threads can hold wakers, so `TaskCell` must be `Send + Sync`. They touch only
//! the reference count and the header's immutable fields (`shared`, `id`). Everything
//! else (the scheduling state, the counts and the payload) is touched only on the loop
//! thread of the runtime that owns the task, and only while that runtime is current
//! there: `wake_by_ref` checks `Core::owns` before it reads the state, and the loop
//! polls and drops payloads itself. The payload is dropped in place on the loop thread
//! when the task finishes, is aborted, or its runtime is dropped, always before the
//! slab releases its reference, so neither `F` nor the output (which may be `!Send`)
//! is ever dropped on another thread.
//!
//! # Scheduling state
//!
//! `state` holds four bits, all changed on the loop thread:
//!
//! - `QUEUED`: the task's pointer is on the ready queue. Set by a wake, cleared when
//!   the loop takes it off the queue. A wake that finds it set is coalesced.
//! - `RUNNING`: the loop is polling it. `abort` then only sets `ABORT`, and the loop
//!   finishes the job once the poll returns (a future is never dropped mid-poll).
//! - `DONE`: the payload is gone (completed, panicked or cancelled). Wakes are counted
//!   no-ops from then on.
//! - `ABORT`: cancel once the current poll returns.
//!
//! The ready queue holds raw pointers. They stay valid because a task leaves the slab
//! only once it is `DONE` and not `QUEUED`: a task aborted while queued stays owned by
//! the slab until the loop takes its pointer off the queue.

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::rc::Rc;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use turnstile_probes::{TaskState, TaskStats};

use crate::context;
use crate::join::{JoinError, JoinHandle, JoinState};
use crate::waker::{RemoteWake, Shared};

/// The pointer to a task is on the ready queue.
pub(crate) const QUEUED: u8 = 1;
/// The task is being polled.
pub(crate) const RUNNING: u8 = 2;
/// The task's payload is gone: completed, panicked or cancelled.
pub(crate) const DONE: u8 = 4;
/// Abort once the current poll returns.
pub(crate) const ABORT: u8 = 8;
/// The task's last poll ended it (`Ready` or a panic): its yields are `polls - 1`.
pub(crate) const ENDED_BY_POLL: u8 = 16;

/// What every task has, whatever its future.
pub(crate) struct Header {
    /// The runtime's cross-thread part, for wakes from elsewhere. Weak: a waker that
    /// outlives its runtime must not keep it alive.
    pub(crate) shared: Weak<Shared>,
    /// The owning runtime's id: a wake on the loop thread compares it with the current
    /// runtime's, which is cheaper than comparing `shared` pointers.
    pub(crate) runtime: u64,
    /// Unique for the runtime's life; never reused.
    pub(crate) id: u64,
    /// The task's slot in the runtime's slab.
    pub(crate) index: u32,
    /// `QUEUED | RUNNING | DONE | ABORT` bits. Loop thread only.
    pub(crate) state: Cell<u8>,
    /// Polls of this task, when the probes count. Loop thread only. (Its yields are
    /// derived: every poll yielded except one that ended the task.)
    pub(crate) polls: Cell<u64>,
    /// Wakes of this task from every source, when the probes count. Loop thread only.
    pub(crate) wakes: Cell<u64>,
    /// Wakes of this task by itself, when the probes count. Loop thread only.
    pub(crate) wakes_self: Cell<u64>,
    pub(crate) name: Option<Box<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
}

impl Header {
    pub(crate) fn stats(&self) -> TaskStats {
        let state = self.state.get();
        let mut stats = TaskStats::new(
            self.id,
            self.name.as_deref().map(str::to_owned),
            self.spawned_at.to_string(),
        );
        stats.state = if state & DONE != 0 {
            TaskState::Finished
        } else if state & RUNNING != 0 {
            TaskState::Running
        } else if state & QUEUED != 0 {
            TaskState::Queued
        } else {
            TaskState::Idle
        };
        stats.polls = self.polls.get();
        stats.yields = self.polls.get() - u64::from(state & ENDED_BY_POLL != 0);
        stats.wakes = self.wakes.get();
        stats.wakes_self = self.wakes_self.get();
        stats
    }
}

/// The future and where its output goes: dropped in place when the task finishes.
struct Payload<F: Future> {
    future: F,
    join: Rc<JoinState<F::Output>>,
}

/// One spawned task, always allocated inside an `Arc` (see [`TaskCell::new`]).
///
/// `repr(C)` with the header first, so a pointer to any task is also a pointer to its
/// header ([`header_of`]): the loop reads scheduling state without a virtual call.
#[repr(C)]
pub(crate) struct TaskCell<F: Future> {
    header: Header,
    /// `Some` until the task finishes. Loop thread only; pinned in place (never moved
    /// out while `Some`, only dropped in place).
    payload: UnsafeCell<Option<Payload<F>>>,
}

// SAFETY: other threads reach a `TaskCell` only through its wakers, which use the
// reference count and the header's immutable `shared` and `id` (both `Send + Sync`).
// The `Cell`s and the payload are accessed only on the owning runtime's loop thread
// while that runtime is current (see the module documentation), and the payload is
// dropped there before the slab gives up its reference, so a `!Send` future or output
// never crosses threads.
unsafe impl<F: Future> Send for TaskCell<F> {}
// SAFETY: as for `Send`: shared access from other threads is limited to fields that
// are `Sync` themselves.
unsafe impl<F: Future> Sync for TaskCell<F> {}

/// The header of the task at `task`.
///
/// # Safety
/// `task` must point to a live `TaskCell` (any `F`), and the returned reference must not
/// outlive it.
#[inline(always)]
pub(crate) unsafe fn header_of<'a>(task: *const dyn LocalTask) -> &'a Header {
    // SAFETY: every `LocalTask` is a `TaskCell<F>`, which is `repr(C)` with `Header` as
    // its first field, so the data pointer is a valid `*const Header`; the caller
    // guarantees the cell is alive for `'a`.
    unsafe { &*task.cast::<Header>() }
}

/// What the loop needs of a task, whatever its future. Implemented by `TaskCell<F>`.
pub(crate) trait LocalTask: Send + Sync {
    fn header(&self) -> &Header;

    /// Polls the future once with the task's waker.
    ///
    /// # Safety
    /// On the owning runtime's loop thread, with the task `RUNNING` (so nothing else
    /// polls or drops the payload meanwhile), and not `DONE`.
    unsafe fn poll(&self) -> Poll<()>;

    /// Drops the payload in place, first failing the handle with `error` if given.
    ///
    /// # Safety
    /// On the owning runtime's loop thread, and not while the task is being polled.
    unsafe fn finish(&self, error: Option<JoinError>);

    /// This task's wake, when it is known to come from another thread's point of view:
    /// queue it on the runtime's remote queue.
    fn wake_remote(&self);
}

impl<F> TaskCell<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        Self::clone_waker,
        Self::wake,
        Self::wake_by_ref,
        Self::drop_waker,
    );

    pub(crate) fn new(future: F, header: Header) -> (Arc<TaskCell<F>>, Rc<JoinState<F::Output>>) {
        let join = Rc::new(JoinState::new());
        let payload = Payload {
            future,
            join: join.clone(),
        };
        let cell = Arc::new(TaskCell {
            header,
            payload: UnsafeCell::new(Some(payload)),
        });
        (cell, join)
    }

    /// A waker for this task that borrows it: no reference count is taken, so it must
    /// not outlive `self` (`ManuallyDrop` keeps it from releasing one). Cloning it takes
    /// a real reference.
    fn borrowed_waker(&self) -> ManuallyDrop<Waker> {
        let data = (self as *const Self).cast::<()>();
        // SAFETY: `self` lives inside an `Arc` (the only constructor is `new`), which is
        // what the vtable's functions expect of `data`; the waker is never dropped, so it
        // never releases the reference it did not take.
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &Self::VTABLE)) })
    }

    unsafe fn clone_waker(data: *const ()) -> RawWaker {
        // SAFETY: `data` came from a waker of this type, so it points into a live
        // `Arc<Self>`: the waker being cloned holds (or borrows from the loop) a reference.
        unsafe { Arc::increment_strong_count(data.cast::<Self>()) };
        RawWaker::new(data, &Self::VTABLE)
    }

    unsafe fn wake(data: *const ()) {
        // SAFETY: an owned waker of this type holds one reference, which we take back
        // here and release at the end of the call.
        let task = unsafe { Arc::from_raw(data.cast::<Self>()) };
        task.wake_here();
    }

    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: the waker (owned or borrowed) keeps the `Arc<Self>` alive for the call.
        let task = unsafe { &*data.cast::<Self>() };
        task.wake_here();
    }

    unsafe fn drop_waker(data: *const ()) {
        // SAFETY: an owned waker of this type holds exactly one reference to release.
        unsafe { Arc::decrement_strong_count(data.cast::<Self>()) };
    }

    /// A wake: on the loop thread of our runtime, straight onto its ready queue;
    /// anywhere else, through its remote queue.
    #[inline]
    fn wake_here(&self) {
        let local = context::with_current(|core| {
            let ours = core.id == self.header.runtime;
            if ours {
                core.wake_task(&self.header, self as *const Self as *const dyn LocalTask);
            }
            ours
        });
        if local != Some(true) {
            self.wake_remote();
        }
    }
}

impl<F> LocalTask for TaskCell<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    #[inline]
    fn header(&self) -> &Header {
        &self.header
    }

    #[inline]
    unsafe fn poll(&self) -> Poll<()> {
        // SAFETY: the caller guarantees we are on the loop thread and that this task is
        // `RUNNING`, so no other reference to the payload exists during this call.
        let payload = unsafe { &mut *self.payload.get() };
        let Some(payload) = payload.as_mut() else {
            return Poll::Ready(());
        };
        // SAFETY: the payload lives inside the `Arc` allocation and is never moved out
        // of it: it is only ever dropped in place (`finish`), so it is pinned.
        let future = unsafe { std::pin::Pin::new_unchecked(&mut payload.future) };
        let waker = self.borrowed_waker();
        let mut cx = Context::from_waker(&waker);
        match future.poll(&mut cx) {
            Poll::Ready(output) => {
                payload.join.finish(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    unsafe fn finish(&self, error: Option<JoinError>) {
        // SAFETY: the caller guarantees the loop thread and that no poll is in progress,
        // so this is the only access to the payload. Assigning `None` drops the future
        // where it lies, as pinning requires (`take` would move it out).
        let slot = unsafe { &mut *self.payload.get() };
        if let (Some(error), Some(payload)) = (error, slot.as_ref()) {
            payload.join.finish(Err(error));
        }
        *slot = None;
    }

    fn wake_remote(&self) {
        let Some(shared) = self.header.shared.upgrade() else {
            crate::waker::count_orphan_wake();
            return;
        };
        // SAFETY: `self` lives inside an `Arc` (see `TaskCell::new`) that the caller's
        // waker keeps alive; we take one more reference for the remote queue to own.
        let task: Arc<Self> = unsafe {
            Arc::increment_strong_count(self as *const Self);
            Arc::from_raw(self as *const Self)
        };
        shared.push_remote(RemoteWake::Task(task));
    }
}

/// Spawns a future onto the current runtime and returns a handle to its output.
///
/// The future needs no `Send` bound: it runs on the loop thread only. It is queued to
/// be polled in the next turn; dropping the handle detaches it.
///
/// # Panics
/// Outside `Runtime::block_on`, with a message that says so.
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
             Runtime::block_on (or from a task it runs)"
        )
    })
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
