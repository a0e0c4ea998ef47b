//! Tasks: one allocation per spawned future, the waker that points into it, and `spawn`.
//!
//! A task is an `Arc<TaskCell<F>>`: a [`Header`] (identity, scheduling state, counts),
//! the join state its output goes to, and the future. The runtime's slab owns one
//! reference, the `JoinHandle` another, and each `Waker` of the task one more. The waker's data
//! pointer is the cell itself and its vtable is generic over `F`, so polling hands the
//! future a borrowed waker without touching the reference count, and a wake on the
//! loop thread goes from the waker to the task's header in one step, with no lookup.
//!
//! # Which thread touches what
//!
//! Other threads can hold wakers, so `TaskCell` must be `Send + Sync`. They touch only
//! the reference count and the header's immutable fields (`shared`, `id`, and with the
//! `console` feature `span_id`). Everything else (the scheduling state, the counts, the
//! join state, the future and its console span) is touched only on the loop thread of
//! the runtime that owns the task, and only while that runtime is current there: a wake
//! compares runtime ids before it reads the state, the loop polls and drops futures
//! itself, and the `JoinHandle` is `!Send`. The future (and after it the span) is
//! dropped in place on the loop thread when the task finishes, is aborted, or its
//! runtime is dropped, always before the slab releases its reference; an output is
//! dropped by the handle on the loop thread, or at once if the handle is already gone.
//! So neither `F` nor its output (either may be `!Send`) is ever dropped on another
//! thread, whichever reference happens to be the last.
//!
//! # Scheduling state
//!
//! `state` holds these bits, all changed on the loop thread:
//!
//! - `QUEUED`: the task's pointer is on the ready queue. Set by a wake, cleared when
//!   the loop takes it off the queue. A wake that finds it set is coalesced.
//! - `RUNNING`: the loop is polling it. `abort` then only sets `ABORT`, and the loop
//!   finishes the job once the poll returns (a future is never dropped mid-poll).
//! - `DONE`: the payload is gone (completed, panicked or cancelled). Wakes are counted
//!   no-ops from then on.
//! - `ABORT`: cancel once the current poll returns.
//! - `ENDED_BY_POLL`: the last poll ended the task (for the yield count).
//! - `TIMED`: the task has timing cells; set at spawn at `Level::Timing`, never cleared.
//!
//! The ready queue holds raw pointers. They stay valid because a task leaves the slab
//! only once it is `DONE` and not `QUEUED`: a task aborted while queued stays owned by
//! the slab until the loop takes its pointer off the queue.

use std::cell::{Cell, UnsafeCell};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use turnstile_probes::{
    TaskState, TaskStats, TaskTiming, Ticks, Timing, WakeSource, WakesBySource,
};

#[cfg(feature = "console")]
use crate::console::WakerOp;
use crate::context;
use crate::join::{ErrorKind, Join, JoinHandle, JoinState, JoinTarget};
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
/// The task has timing cells (`Level::Timing` and above), set at spawn and never
/// cleared: a wake tests it together with `QUEUED`, so untimed runtimes pay nothing.
pub(crate) const TIMED: u8 = 32;

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
    /// `QUEUED | RUNNING | DONE | ABORT | ENDED_BY_POLL | TIMED` bits. Loop thread only.
    pub(crate) state: Cell<u8>,
    /// The join state's flags (`join.rs`), in what would otherwise be padding. Loop
    /// thread only.
    pub(crate) join: Cell<u8>,
    /// Polls of this task, when the probes count. Loop thread only. (Its yields are
    /// derived: every poll yielded except one that ended the task.)
    pub(crate) polls: Cell<u64>,
    /// Wakes of this task from every source, when the probes count. Loop thread only.
    pub(crate) wakes: Cell<u64>,
    /// Wakes of this task by itself, when the probes count. Loop thread only.
    pub(crate) wakes_self: Cell<u64>,
    /// Where `spawn` was called.
    pub(crate) spawned_at: &'static Location<'static>,
    /// The id of the task's `runtime.spawn` span, for waker events from any thread;
    /// `None` if no subscriber wanted the span. Immutable once the cell is made.
    #[cfg(feature = "console")]
    pub(crate) span_id: Option<tracing::Id>,
}

impl Header {
    /// A queued header; `timed` at `Level::Timing` and above (its timing cells live in
    /// the runtime's side table, `Core::cells`, so the header stays as small as it was).
    #[inline(always)]
    pub(crate) fn new(
        shared: Weak<Shared>,
        runtime: u64,
        id: u64,
        index: u32,
        spawned_at: &'static Location<'static>,
        timed: bool,
    ) -> Self {
        let state = if timed { QUEUED | TIMED } else { QUEUED };
        Header {
            shared,
            runtime,
            id,
            index,
            state: Cell::new(state),
            join: Cell::new(crate::join::initial_flags(timed)),
            polls: Cell::new(0),
            wakes: Cell::new(0),
            wakes_self: Cell::new(0),
            spawned_at,
            #[cfg(feature = "console")]
            span_id: None, // set by `TaskCell::new`, from the span it is given
        }
    }

    /// Whether the task has timing cells (`Level::Timing` and above).
    #[inline]
    pub(crate) fn is_timed(&self) -> bool {
        self.state.get() & TIMED != 0
    }

    /// What the probes know about this task (named `name`); `timing` adds its times at
    /// `Level::Timing`.
    pub(crate) fn stats(
        &self,
        name: Option<&str>,
        timing: Option<(&Timing, Ticks, &TaskTiming)>,
    ) -> TaskStats {
        let state = self.state.get();
        let mut stats = TaskStats::new(
            self.id,
            name.map(str::to_owned),
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
        if let Some((probes, now, t)) = timing {
            let clock = probes.clock();
            stats.busy = t.busy(clock);
            stats.scheduled = t.scheduled(clock);
            stats.idle = t.idle(clock, now);
            stats.longest_poll = t.longest_poll(clock);
            let mut by = WakesBySource::default();
            by.local = t.wakes_from(WakeSource::Local);
            by.remote = t.wakes_from(WakeSource::Remote);
            by.io = t.wakes_from(WakeSource::Io);
            by.timer = t.wakes_from(WakeSource::Timer);
            stats.wakes_by_source = Some(by);
        }
        stats
    }
}

/// One spawned task, always allocated inside an `Arc` (see [`TaskCell::new`]).
///
/// `repr(C)` with the header first, so a pointer to any task is also a pointer to its
/// header ([`header_of`]): the loop reads scheduling state without a virtual call.
#[repr(C)]
pub(crate) struct TaskCell<F: Future> {
    header: Header,
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
// reference count and the header's immutable `shared`, `id` and (`console`) `span_id`,
// all `Send + Sync`. The `Cell`s, the payload and the span are accessed only on the
// owning runtime's loop thread while that runtime is current (see the module
// documentation), and the payload and the span are dropped there before the slab gives
// up its reference, so a `!Send` future or output never crosses threads.
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

    /// Whether the task's `JoinHandle` has been dropped (for lost-waker detection: a
    /// live handle holds a reference that is not a waker). Loop thread only.
    fn handle_dropped(&self) -> bool;
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

    /// The task, in its `Arc`. With `console`, `span` is its `runtime.spawn` span (made
    /// by the caller before it borrowed anything: a subscriber is the user's code).
    pub(crate) fn new(
        future: F,
        header: Header,
        #[cfg(feature = "console")] span: tracing::Span,
    ) -> Arc<TaskCell<F>> {
        #[cfg(feature = "console")]
        let header = Header {
            span_id: span.id(),
            ..header
        };
        Arc::new(TaskCell {
            header,
            join: JoinState::new(),
            payload: UnsafeCell::new(Some(future)),
            #[cfg(feature = "console")]
            span: UnsafeCell::new(span),
        })
    }

    /// A waker for the task at `data` that borrows it: no reference count is taken, so
    /// it must not outlive the caller's own reference (`ManuallyDrop` keeps it from
    /// releasing one it never took). Cloning it takes a real reference.
    ///
    /// # Safety
    /// `data` must point to a live `TaskCell<F>` inside its `Arc`, with the provenance of
    /// the `Arc`'s pointer (not of a `&TaskCell`).
    unsafe fn borrowed_waker(data: *const ()) -> ManuallyDrop<Waker> {
        // SAFETY: `data` is what the vtable's functions expect (caller's contract); the
        // waker is never dropped, so it never releases the reference it did not take.
        ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &Self::VTABLE)) })
    }

    // With `console`, each of the four reports itself (`console::waker_event`) while the
    // waker's reference still keeps the task alive. The waker lent to a poll is never
    // cloned into being nor dropped (`ManuallyDrop`), so it reports only what is done
    // through it: a `wake_by_ref`, or a clone (an owned waker, which reports its own end).

    unsafe fn clone_waker(data: *const ()) -> RawWaker {
        // SAFETY: `data` came from a waker of this type, so it points into a live
        // `Arc<Self>`: the waker being cloned holds (or borrows from the loop) a reference.
        unsafe { Arc::increment_strong_count(data.cast::<Self>()) };
        #[cfg(feature = "console")]
        // SAFETY: alive (the reference just taken); only the immutable `span_id` is read.
        crate::console::waker_event(unsafe { Self::header_at(data) }, WakerOp::Clone);
        RawWaker::new(data, &Self::VTABLE)
    }

    unsafe fn wake(data: *const ()) {
        #[cfg(feature = "console")]
        // SAFETY: the owned waker being consumed holds a reference until `release` below.
        crate::console::waker_event(unsafe { Self::header_at(data) }, WakerOp::Wake);
        // SAFETY: an owned waker of this type holds one reference, alive for the call.
        unsafe { Self::wake_at(data) };
        // SAFETY: that reference is the waker's, consumed by `wake`: release it (with no
        // `waker.drop` of its own: console counts a `waker.wake` as the waker's end).
        unsafe { Self::release(data) };
    }

    unsafe fn wake_by_ref(data: *const ()) {
        #[cfg(feature = "console")]
        // SAFETY: the waker (owned or lent) keeps the task alive for the call.
        crate::console::waker_event(unsafe { Self::header_at(data) }, WakerOp::WakeByRef);
        // SAFETY: the waker (owned or borrowed) keeps the `Arc<Self>` alive for the call.
        unsafe { Self::wake_at(data) };
    }

    unsafe fn drop_waker(data: *const ()) {
        #[cfg(feature = "console")]
        // SAFETY: the waker's reference is released only below, after this read.
        crate::console::waker_event(unsafe { Self::header_at(data) }, WakerOp::Drop);
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

    /// A wake: on the loop thread of our runtime, straight onto its ready queue;
    /// anywhere else, through its remote queue.
    ///
    /// # Safety
    /// `data` points to a live `TaskCell<F>` with its `Arc`'s provenance.
    #[inline]
    unsafe fn wake_at(data: *const ()) {
        let task = data.cast::<Self>();
        // SAFETY: alive for the call (caller's contract); only the header is read here.
        let header = unsafe { &(*task).header };
        let local = context::with_current(|core| {
            let ours = core.id == header.runtime;
            if ours {
                core.wake_task(header, task as *const dyn LocalTask);
            }
            ours
        });
        if local != Some(true) {
            // SAFETY: as above.
            unsafe { Self::wake_remote(data) };
        }
    }

    /// Queues this task on its runtime's remote queue, which takes a reference to it.
    ///
    /// # Safety
    /// `data` points to a live `TaskCell<F>` with its `Arc`'s provenance.
    unsafe fn wake_remote(data: *const ()) {
        let task = data.cast::<Self>();
        // SAFETY: alive for the call; `shared` is immutable and `Sync`.
        let Some(shared) = (unsafe { &(*task).header.shared }).upgrade() else {
            crate::waker::count_orphan_wake();
            return;
        };
        // SAFETY: `task` came from an `Arc<Self>` that the caller's waker keeps alive; we
        // take one more reference for the remote queue to own.
        let task: Arc<Self> = unsafe {
            Arc::increment_strong_count(task);
            Arc::from_raw(task)
        };
        shared.push_remote(RemoteWake::Task(task));
    }
}

impl<F> JoinTarget<F::Output> for TaskCell<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn join(&self) -> Join<'_, F::Output> {
        Join {
            flags: &self.header.join,
            state: &self.join,
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
    unsafe fn poll(&self, data: *const ()) -> Poll<()> {
        // SAFETY: the caller guarantees we are on the loop thread and that this task is
        // `RUNNING`, so no other reference to the payload exists during this call.
        let payload = unsafe { &mut *self.payload.get() };
        let Some(future) = payload.as_mut() else {
            return Poll::Ready(());
        };
        // SAFETY: the future lives inside the `Arc` allocation and is never moved out of
        // it: it is only ever dropped in place (`finish`), so it is pinned.
        let future = unsafe { std::pin::Pin::new_unchecked(future) };
        // SAFETY: `data` is this task's pointer with its `Arc`'s provenance (contract).
        let waker = unsafe { Self::borrowed_waker(data) };
        let mut cx = Context::from_waker(&waker);
        let poll = {
            // In the task's span for exactly the future's poll; the guard exits it even
            // if the poll unwinds (`poll_task` catches the panic outside).
            #[cfg(feature = "console")]
            // SAFETY: as for the payload: loop thread, `RUNNING`, so nothing replaces
            // the span during the poll (only `finish` does, never mid-poll).
            let _in_span = unsafe { &*self.span.get() }.enter();
            future.poll(&mut cx)
        };
        match poll {
            Poll::Ready(output) => {
                self.join().finish(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    unsafe fn finish(&self, error: Option<ErrorKind>) {
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
        if let Some(error) = error {
            self.join().finish(Err(error)); // no-op if the task had already completed
        }
        *slot = None;
    }

    fn handle_dropped(&self) -> bool {
        self.join().is_detached()
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

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;

    /// The per-task memory figure in docs/performance.md rests on these sizes (64-bit
    /// targets): a header of eight words, a join state of three, the future after them.
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
