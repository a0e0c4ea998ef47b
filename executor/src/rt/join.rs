//! Join handles: how a task's output, panic or cancellation reaches whoever awaits it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Weak;
use std::sync::{self, Arc};
use std::task::{Context, Poll};

use turnstile_probes::SiteTag;

use crate::raw::{ErrorKind, Join, JoinTarget, TaskKey};
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
pub struct JoinHandle<T> {
    /// The task itself: its allocation holds the join state. `Send + Sync` as far as the
    /// type system knows, so `_not_send` below keeps the handle on the loop thread, where
    /// the join state may be touched.
    task: Arc<dyn JoinTarget<T>>,
    core: Weak<Core>,
    key: TaskKey,
    _not_send: PhantomData<*const ()>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Arc<dyn JoinTarget<T>>, core: Weak<Core>, key: TaskKey) -> Self {
        JoinHandle {
            task,
            core,
            key,
            _not_send: PhantomData,
        }
    }

    fn join(&self) -> Join<'_, T> {
        self.task.join()
    }

    /// Cancels the task: it is dropped before its next poll (or right after the current
    /// one, if it aborts itself), and the handle resolves to a cancelled [`JoinError`].
    /// Does nothing if the task has finished.
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
        if self.join().is_finished() {
            return;
        }
        if let Some(core) = self.core.upgrade() {
            core.abort(self.key);
        }
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
    pub fn is_finished(&self) -> bool {
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
    pub fn abort_handle(&self) -> AbortHandle {
        let core = self.core.upgrade();
        AbortHandle {
            remote: core.as_ref().map(|c| c.weak_remote()).unwrap_or_default(),
            runtime: core.map_or(0, |c| c.id()),
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

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
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
        f.debug_struct("JoinHandle")
            .field("id", &self.key.id)
            .field("finished", &self.is_finished())
            .finish()
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
