//! Join handles: how a task's output, panic or cancellation reaches whoever awaits it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::{self, Arc};
use std::task::{Context, Poll};

use turnstile_probes::SiteTag;

use crate::raw::{ErrorKind, HandleOp, Join, JoinTarget, TaskKey};
use crate::rt::context;
use crate::rt::coop;
use crate::rt::remote::{Remote, RemoteWake};
use crate::rt::Core;

/// Why a task produced no output.
///
/// ```
/// # let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let err = turnstile::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinError {
    kind: ErrorKind,
    task_id: u64,
}

impl JoinError {
    pub(crate) fn new(kind: ErrorKind, task_id: u64) -> Self {
        JoinError { kind, task_id }
    }

    pub(crate) fn cancelled(task_id: u64) -> Self {
        JoinError {
            kind: ErrorKind::Cancelled,
            task_id,
        }
    }

    pub(crate) fn panic(task_id: u64, payload: Box<dyn Any + Send + 'static>) -> Self {
        JoinError {
            kind: ErrorKind::Panic(payload),
            task_id,
        }
    }

    /// True when the task was aborted (or its runtime dropped) before it finished.
    ///
    /// ```
    /// # let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, ErrorKind::Cancelled)
    }

    /// True when the task panicked.
    ///
    /// ```
    /// # let rt = turnstile::Runtime::new()?;
    /// let err = rt.block_on(async { turnstile::spawn(async { panic!("no") }).await });
    /// assert!(err.unwrap_err().is_panic());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, ErrorKind::Panic(_))
    }

    /// The id of the task that failed.
    ///
    /// ```
    /// # let rt = turnstile::Runtime::new()?;
    /// let err = rt.block_on(async { turnstile::spawn(async { panic!("no") }).await });
    /// assert!(err.unwrap_err().task_id() > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn task_id(&self) -> u64 {
        self.task_id
    }

    /// The id of the task that failed: [`JoinError::task_id`] under tokio's name.
    ///
    /// ```
    /// # let rt = turnstile::Runtime::new()?;
    /// let h = rt.block_on(async { turnstile::spawn(async { panic!("no") }) });
    /// let id = h.id();
    /// assert_eq!(rt.block_on(h).unwrap_err().id(), id);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.task_id
    }

    /// The panic payload, to rethrow with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicked; check [`JoinError::is_panic`] first
    /// or use [`JoinError::try_into_panic`].
    ///
    /// ```
    /// # let rt = turnstile::Runtime::new()?;
    /// let err = rt.block_on(async { turnstile::spawn(async { panic!("at the disco") }).await });
    /// let payload = err.unwrap_err().into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"at the disco"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(e) => panic!("JoinError::into_panic on a task that did not panic: {e}"),
        }
    }

    /// The panic payload, or the error back if the task was cancelled.
    ///
    /// ```
    /// # let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().try_into_panic().is_err());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.kind {
            ErrorKind::Panic(payload) => Ok(payload),
            ErrorKind::Cancelled => Err(self),
        }
    }
}

/// The panic payload as text, when it is text (`panic!` makes a `&'static str` or a
/// `String`; other payloads have no message).
fn panic_text(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&'static str>().copied())
}

/// As tokio's: `task 1 was cancelled`, `task 1 panicked with message "boom"` (the
/// message quoted and escaped as by `{:?}`), or `task 1 panicked` for a payload that
/// is not text.
impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Cancelled => write!(f, "task {} was cancelled", self.task_id),
            ErrorKind::Panic(p) => match panic_text(&**p) {
                Some(msg) => write!(f, "task {} panicked with message {msg:?}", self.task_id),
                None => write!(f, "task {} panicked", self.task_id),
            },
        }
    }
}

/// As tokio's: `JoinError::Cancelled(Id(1))`, `JoinError::Panic(Id(1), "boom", ...)`,
/// or `JoinError::Panic(Id(1), ...)` for a payload that is not text.
impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.task_id;
        match &self.kind {
            ErrorKind::Cancelled => write!(f, "JoinError::Cancelled(Id({id}))"),
            ErrorKind::Panic(p) => match panic_text(&**p) {
                Some(msg) => write!(f, "JoinError::Panic(Id({id}), {msg:?}, ...)"),
                None => write!(f, "JoinError::Panic(Id({id}), ...)"),
            },
        }
    }
}

impl std::error::Error for JoinError {}

/// An owned permission to await a task's output (`Result<T, JoinError>`).
///
/// Awaiting it yields back to the loop until the task finishes. Dropping it detaches
/// the task, which keeps running; [`JoinHandle::abort`] cancels it.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let out = rt.block_on(async {
///     let h: turnstile::JoinHandle<u32> = turnstile::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Threads
///
/// As tokio's, a `JoinHandle<T>` is `Send` and `Sync` when `T` is `Send`, so that a
/// `Send` future (an axum handler, say) may hold one across an `.await`. The task and
/// its join state stay on the runtime's loop thread, the thread that built the runtime,
/// which is where the handle is for all it does; elsewhere:
///
/// - dropping it, and [`abort`](JoinHandle::abort), are sent to the loop down its
///   remote queue (as a wake from another thread is), and take effect at its next turn;
/// - [`id`](JoinHandle::id) works anywhere;
/// - awaiting (polling) it, [`is_finished`](JoinHandle::is_finished) and
///   [`abort_handle`](JoinHandle::abort_handle) panic, saying so: a single-threaded
///   runtime's future never runs on another thread, so a handle awaited there is a bug.
///   For a task whose output another thread awaits, spawn it with
///   [`Handle::spawn`](crate::Handle::spawn), whose [`RemoteJoinHandle`](crate::RemoteJoinHandle)
///   any thread may await.
///
/// ```
/// fn assert_send<T: Send>(_: &T) {}
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let h = turnstile::spawn(async { 1 });
///     assert_send(&h);
///     let handler = async move { h.await.unwrap() }; // a `Send` future
///     assert_send(&handler);
///     assert_eq!(handler.await, 1);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinHandle<T> {
    /// The task itself: its allocation holds the join state, which only the loop
    /// thread touches (see the `Send` impl below).
    task: Arc<dyn JoinTarget<T>>,
    /// The owning runtime's id.
    runtime: u64,
    /// The owning runtime's loop thread (`context::thread_id`).
    thread: u64,
    key: TaskKey,
}

// SAFETY: the fields a handle touches on any thread are `key`, `runtime` and `thread`
// (plain immutable numbers) and the `Arc`'s reference count (atomic). Everything else
// behind `task` (the join state's `Cell`s, the task's state bits) is the loop thread's:
// every method that touches it first compares `context::thread_id()` with `thread`,
// which is the thread that built the runtime (a `Runtime` is `!Send`, so its `Core`,
// which spawned this task and made this handle, never leaves it; thread numbers are
// never reused). On any other thread `poll`, `is_finished` and `abort_handle` panic
// before touching anything, and `abort` and `drop` go through the task's scheduler
// handle (`Send + Sync`) to the runtime's remote queue, as a wake from another thread
// does, and the loop does the rest on its thread (`RemoteWake::Abort`/`Detach`). So the
// loop-thread-only state is never touched off the loop thread, and, `T` being `Send`,
// what may be dropped on another thread (the task's allocation, when this handle holds
// its last reference: by then its future is dropped, on the loop thread, and its join
// state holds at most a `T`, a waker or a `JoinError`, all `Send`) may be.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: the same argument: every `&self` method checks the thread before it touches
// the loop thread's state, and does only `Send + Sync` things elsewhere.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(
        task: Arc<dyn JoinTarget<T>>,
        runtime: u64,
        thread: u64,
        key: TaskKey,
    ) -> Self {
        JoinHandle {
            task,
            runtime,
            thread,
            key,
        }
    }

    /// Whether this is the loop thread, where the join state may be touched.
    #[inline(always)]
    fn on_loop_thread(&self) -> bool {
        context::thread_id() == self.thread
    }

    /// Sends `op` to the loop thread (this is another thread). Out of line: the common
    /// paths stay small.
    #[cold]
    #[inline(never)]
    fn send_to_loop(&self, op: HandleOp) {
        Arc::clone(&self.task).send_to_loop(op);
    }

    /// The join state: only on the loop thread (the caller checked).
    fn join(&self) -> Join<'_, T> {
        debug_assert!(self.on_loop_thread());
        self.task.join()
    }

    /// Runs `f` with the owning runtime, on its loop thread: the current one, or
    /// (outside its `block_on`) the one built on this thread; `None` once it is gone.
    fn with_runtime<R>(&self, f: impl FnOnce(&Core) -> R) -> Option<R> {
        let mut f = Some(f);
        let current = context::with_current(|core| {
            (core.id() == self.runtime).then(|| (f.take().expect("called once"))(core))
        })
        .flatten();
        match (current, f) {
            (Some(out), _) => Some(out),
            (None, Some(f)) => context::runtime_here(self.runtime).map(|core| f(&core)),
            (None, None) => None,
        }
    }

    /// Cancels the task: it is dropped before its next poll (or right after the current
    /// one, if it aborts itself), and the handle resolves to a cancelled [`JoinError`].
    /// Does nothing if the task has finished.
    ///
    /// On the loop thread the task is cancelled at once, even outside `block_on`; from
    /// another thread, at the loop's next turn (see [Threads](JoinHandle#threads)).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(turnstile::time::sleep(std::time::Duration::from_secs(60)));
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        if !self.on_loop_thread() {
            return self.send_to_loop(HandleOp::Abort);
        }
        if self.join().is_finished() {
            return;
        }
        // The `Rc` of `runtime_here` keeps the runtime's core alive while the task's
        // destructor runs, even if that destructor drops the `Runtime`.
        self.with_runtime(|core| core.abort(self.key));
    }

    /// True once the task has completed, panicked or been cancelled.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(async {});
    ///     assert!(!h.is_finished());
    ///     turnstile::yield_now().await;
    ///     assert!(h.is_finished());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Off the runtime's loop thread (see [Threads](JoinHandle#threads)).
    #[track_caller]
    pub fn is_finished(&self) -> bool {
        if !self.on_loop_thread() {
            elsewhere("JoinHandle::is_finished");
        }
        self.join().is_finished()
    }

    /// A cloneable handle that can abort the task from elsewhere, while this handle is
    /// kept to await the result.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(std::future::pending::<()>());
    ///     let abort = h.abort_handle();
    ///     turnstile::spawn(async move { abort.abort() });
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    /// Off the runtime's loop thread (see [Threads](JoinHandle#threads)).
    #[track_caller]
    pub fn abort_handle(&self) -> AbortHandle {
        if !self.on_loop_thread() {
            elsewhere("JoinHandle::abort_handle");
        }
        let remote = self.with_runtime(|core| core.weak_remote());
        AbortHandle {
            runtime: if remote.is_some() { self.runtime } else { 0 },
            remote: remote.unwrap_or_default(),
            key: self.key,
        }
    }

    /// The id of the task, as it appears in probe snapshots.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async { assert!(turnstile::spawn(async {}).id() > 0) });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.key.id
    }
}

/// The await site of a `JoinHandle` is where it is *awaited*, not where it was made:
/// `poll` is `#[track_caller]`, and the `.await` desugaring calls it from the `.await`
/// expression, so `h.await` reports its own line. (The spawn line says which task it
/// is; the task's stats already have it.) Polled by hand or through a combinator, the
/// site is the line that calls `poll`.
impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.on_loop_thread() {
            elsewhere("a JoinHandle was awaited (polled)");
        }
        let join = self.join();
        let id = self.key.id;
        if join.is_finished() && budget_spent(cx, Location::caller()) {
            return Poll::Pending; // the outcome waits for the next poll of this task
        }
        if join.is_timed() {
            return poll_timed(&join, id, cx, Location::caller());
        }
        join.poll(cx)
            .map(|r| r.map_err(|kind| JoinError::new(kind, id)))
    }
}

/// Whether the poll's cooperative budget is spent (then the task has been woken to
/// yield, and the handle's site at `at` left for the probes); otherwise a unit is used.
#[inline]
fn budget_spent(cx: &mut Context<'_>, at: &'static Location<'static>) -> bool {
    coop::poll_proceed(cx, || SiteTag::code(at)).is_pending()
}

/// `poll` at `Level::Timing`: the same, plus the await site at `at`.
#[inline(never)]
#[track_caller]
fn poll_timed<T>(
    join: &Join<'_, T>,
    id: u64,
    cx: &mut Context<'_>,
    at: &'static Location<'static>,
) -> Poll<Result<T, JoinError>> {
    let first = !join.has_waited();
    let poll = join
        .poll(cx)
        .map(|r| r.map_err(|kind| JoinError::new(kind, id)));
    let site = SiteTag::code(at);
    match &poll {
        Poll::Pending => {
            join.waited();
            crate::observe::site::leave_site(site.again_unless(first));
        }
        Poll::Ready(_) if first => {
            // The task had finished before the handle was first polled: inline.
            context::with_current(|core| {
                if let Some(timing) = core.observe().timing() {
                    timing.inline(site);
                }
            });
        }
        Poll::Ready(_) => {}
    }
    poll
}

/// A handle used off its loop thread, for what only the loop thread may do.
#[cold]
#[inline(never)]
#[track_caller]
fn elsewhere(what: &str) -> ! {
    panic!(
        "{what} off its runtime's loop thread: a turnstile task and its JoinHandle's \
         state live on the thread that built the runtime (elsewhere a JoinHandle can only \
         be dropped, aborted or asked its id; to await a task from another thread, spawn \
         it with Handle::spawn)"
    )
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if !self.on_loop_thread() {
            // The loop detaches it at its next turn (`RemoteWake::Detach`).
            return self.send_to_loop(HandleOp::Detach);
        }
        let left = self.join().detach();
        if !left.is_empty() {
            // An output (or a waker) dropped for the task: its id is `task::id` there.
            let _id = context::TaskIdGuard::enter(self.key.id);
            drop(left);
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("JoinHandle");
        d.field("id", &self.key.id);
        if self.on_loop_thread() {
            d.field("finished", &self.is_finished());
        }
        d.finish()
    }
}

/// Aborts a task without owning its [`JoinHandle`]; see [`JoinHandle::abort_handle`].
///
/// `Send + Sync`: it may abort from any thread. On the runtime's loop thread (inside its
/// `block_on`) the task is cancelled at once; from anywhere else the abort travels down
/// the remote queue, like a wake, and the loop cancels the task at the start of its
/// next turn.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let h = turnstile::spawn(std::future::pending::<()>());
///     let abort = h.abort_handle();
///     std::thread::spawn(move || abort.abort()).join().unwrap();
///     assert!(h.await.unwrap_err().is_cancelled());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct AbortHandle {
    remote: sync::Weak<Remote>,
    /// The owning runtime's id (0 if it was gone when the handle was made).
    runtime: u64,
    key: TaskKey,
}

impl AbortHandle {
    /// Cancels the task, like [`JoinHandle::abort`]. Does nothing once it has finished
    /// (the task id no longer matches a live task) or its runtime is gone.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(std::future::pending::<()>());
    ///     h.abort_handle().abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort(&self) {
        let here = context::with_current(|core| {
            let ours = core.id() == self.runtime;
            if ours {
                core.abort(self.key);
            }
            ours
        });
        if here != Some(true) {
            if let Some(remote) = self.remote.upgrade() {
                remote.push(RemoteWake::Abort(self.key));
            }
        }
    }

    /// The id of the task, as [`JoinHandle::id`] gives it.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::spawn(async {});
    ///     assert_eq!(h.abort_handle().id(), h.id());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.key.id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.key.id)
            .finish()
    }
}
