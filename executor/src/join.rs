//! Join handles: how a task's output, panic or cancellation reaches whoever awaits it.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Weak;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::runtime::Core;
use crate::runtime::TaskKey;

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

enum ErrorKind {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
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
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .unwrap_or_else(|e| panic!("JoinError::into_panic on a task that did not panic: {e}"))
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

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Cancelled => write!(f, "task {} was cancelled", self.task_id),
            ErrorKind::Panic(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| p.downcast_ref::<String>().map(String::as_str));
                match msg {
                    Some(msg) => write!(f, "task {} panicked: {msg}", self.task_id),
                    None => write!(f, "task {} panicked", self.task_id),
                }
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}

/// Where a task leaves its result for its handle. Lives inside the task's allocation
/// and is touched on the loop thread only (see `task.rs`).
pub(crate) struct JoinState<T> {
    inner: RefCell<JoinInner<T>>,
}

struct JoinInner<T> {
    result: Option<Result<T, JoinError>>,
    finished: bool,
    /// The handle was dropped: an output has no one to go to and is dropped at once,
    /// on the loop thread, rather than kept in an allocation another thread may free.
    detached: bool,
    waiter: Option<Waker>,
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> Self {
        JoinState {
            inner: RefCell::new(JoinInner {
                result: None,
                finished: false,
                detached: false,
                waiter: None,
            }),
        }
    }

    /// Stores the task's outcome and wakes whoever awaits it. The first outcome wins.
    pub(crate) fn finish(&self, result: Result<T, JoinError>) {
        let waiter = {
            let mut inner = self.inner.borrow_mut();
            if inner.finished {
                return;
            }
            inner.finished = true;
            if inner.detached {
                drop(inner);
                drop(result); // no borrow held: the output's destructor is user code
                return;
            }
            inner.result = Some(result);
            inner.waiter.take()
        };
        if let Some(w) = waiter {
            w.wake();
        }
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.inner.borrow().finished
    }

    /// The handle is gone: drop any stored output now, and any future one on arrival.
    fn detach(&self) {
        let (result, waiter) = {
            let mut inner = self.inner.borrow_mut();
            inner.detached = true;
            (inner.result.take(), inner.waiter.take())
        };
        drop((result, waiter)); // outside the borrow: destructors are user code
    }
}

/// A task's join state, reachable from a handle that does not know the task's future
/// type. Implemented by every `TaskCell<F>` for `T = F::Output`.
pub(crate) trait JoinTarget<T> {
    fn join_state(&self) -> &JoinState<T>;
}

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
#[must_use = "dropping a JoinHandle detaches the task; await it or call abort()"]
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

    fn state(&self) -> &JoinState<T> {
        self.task.join_state()
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
        if self.state().is_finished() {
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
        self.state().is_finished()
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
        AbortHandle {
            core: self.core.clone(),
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

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.state().inner.borrow_mut();
        if let Some(result) = inner.result.take() {
            return Poll::Ready(result);
        }
        assert!(
            !inner.finished,
            "JoinHandle polled again after it returned its result"
        );
        match &mut inner.waiter {
            Some(w) if w.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.state().detach();
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
#[derive(Clone)]
pub struct AbortHandle {
    core: Weak<Core>,
    key: TaskKey,
}

impl AbortHandle {
    /// Cancels the task, like [`JoinHandle::abort`]. Does nothing once it has finished
    /// (the task id no longer matches a live task).
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
        if let Some(core) = self.core.upgrade() {
            core.abort(self.key);
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.key.id)
            .finish()
    }
}
