//! `JoinSet`: a set of tasks whose outputs come back in the order they finish.
//!
//! The handles live in a `FuturesUnordered` (futures-util), which polls only the handles
//! whose tasks have finished since it last looked: `join_next` costs the same with ten
//! tasks in the set or ten thousand.

use std::fmt;
use std::future::Future;
use std::panic::{self, Location};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_util::stream::{FuturesUnordered, Stream};

use crate::rt::coop;
use crate::rt::join::{AbortHandle, JoinError, JoinHandle};
use crate::task::{spawn_at, spawn_on_at};
use crate::Handle;

/// A set of tasks spawned on the current runtime, joined in the order they finish.
///
/// Dropping the set aborts every task still in it ([`JoinSet::detach_all`] lets them run
/// on instead). Like [`crate::spawn`], its tasks need no `Send` bound.
///
/// ```
/// use std::time::Duration;
/// use turnstile::task::JoinSet;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             turnstile::time::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(done) = set.join_next().await {
///         order.push(done.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct JoinSet<T> {
    tasks: FuturesUnordered<Joining<T>>,
}

/// One member: its handle, resolving to its id and outcome.
struct Joining<T> {
    handle: JoinHandle<T>,
}

impl<T> Future for Joining<T> {
    type Output = (u64, Result<T, JoinError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.handle.id();
        Pin::new(&mut self.handle).poll(cx).map(|r| (id, r))
    }
}

impl<T: 'static> JoinSet<T> {
    /// An empty set.
    ///
    /// ```
    /// let set = turnstile::task::JoinSet::<()>::new();
    /// assert!(set.is_empty());
    /// ```
    pub fn new() -> Self {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// Tasks in the set: spawned and not yet joined (finished ones count until
    /// [`JoinSet::join_next`] returns them).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(async {});
    ///     assert_eq!(set.len(), 1);
    ///     set.join_next().await;
    ///     assert_eq!(set.len(), 0);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set has no task.
    ///
    /// ```
    /// assert!(turnstile::task::JoinSet::<u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Spawns `future` on the current runtime as a member of the set, and returns a
    /// handle that can abort it.
    ///
    /// # Panics
    /// Outside a runtime, as [`crate::spawn`] does.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     let abort = set.spawn(std::future::pending::<()>());
    ///     abort.abort();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(spawn_at(future, None, Location::caller()))
    }

    /// Spawns `future` as a member of the set onto the runtime of `handle`, as tokio's
    /// `JoinSet::spawn_on` does, and returns a handle that can abort it.
    ///
    /// Turnstile's tasks run on their runtime's loop thread, so `handle` must be of the
    /// runtime current on this thread or of another runtime built on this thread (its
    /// tasks run in its next `block_on`); there is no `Send` bound. To start a task on
    /// a runtime of another thread, use [`Handle::spawn`](crate::Handle::spawn), whose
    /// output comes back through a `RemoteJoinHandle`.
    ///
    /// # Panics
    /// If `handle`'s runtime is not on this thread, or is gone.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let other = turnstile::Runtime::new()?; // on this thread too
    /// let (here, there) = (rt.handle(), other.handle());
    /// let mut set = rt.block_on(async move {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn_on(async { "here" }, &here);
    ///     set.spawn_on(async { "there" }, &there);
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), "here");
    ///     set
    /// });
    /// other.block_on(turnstile::yield_now()); // the other runtime runs its task
    /// assert_eq!(rt.block_on(set.join_next()).unwrap().unwrap(), "there");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(spawn_on_at(future, handle.id(), Location::caller()))
    }

    /// Adds a spawned task's handle to the set.
    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        self.tasks.push(Joining { handle });
        abort
    }

    /// The same as [`JoinSet::spawn`] (turnstile's tasks are all local); here so that
    /// code written for tokio's `JoinSet::spawn_local` compiles unchanged.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     let not_send = std::rc::Rc::new(3);
    ///     set.spawn_local(async move { *not_send });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 3);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.spawn(future)
    }

    /// Waits for the next task to finish and returns its outcome; `None` when the set
    /// is empty. Cancel-safe: dropping the future loses no outcome.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// [`JoinSet::join_next`], with the id of the task that finished.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     let id = set.spawn(async { "out" }).id();
    ///     assert_eq!(set.join_next_with_id().await.unwrap().unwrap(), (id, "out"));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(u64, T), JoinError>> {
        std::future::poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Polls for the next finished task, for code that implements `Future` by hand:
    /// `Ready(None)` when the set is empty.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(async { 2 });
    ///     let out = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    ///     assert_eq!(out.unwrap().unwrap(), 2);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|r| r.map(|(_, out)| out)))
    }

    /// [`JoinSet::poll_join_next`], with the id of the task that finished.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::<()>::new();
    ///     let none = std::future::poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
    ///     assert!(none.is_none());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(u64, T), JoinError>>> {
        Pin::new(&mut self.tasks)
            .poll_next(cx)
            .map(|next| next.map(|(id, r)| r.map(|out| (id, out))))
    }

    /// The outcome of a task that has already finished, without waiting; `None` if no
    /// task in the set has finished (or the set is empty).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(async { 4 });
    ///     assert!(set.try_join_next().is_none()); // not run yet
    ///     turnstile::yield_now().await;
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), 4);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(|r| r.map(|(_, out)| out))
    }

    /// [`JoinSet::try_join_next`], with the id of the task that finished.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::<()>::new();
    ///     assert!(set.try_join_next_with_id().is_none());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(u64, T), JoinError>> {
        // `FuturesUnordered` may stop early to be fair to its caller, waking it to be
        // polled again: a wake of this flag means "look again", not "nothing finished".
        // The cooperative budget is lifted meanwhile, as under tokio: a spent budget makes
        // a finished handle return `Pending` and wake its poller, which here would mean
        // "look again" forever.
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        coop::without_budget(|| loop {
            match self.poll_join_next_with_id(&mut cx) {
                Poll::Ready(next) => return next,
                Poll::Pending if flag.0.swap(false, Ordering::Relaxed) => continue,
                Poll::Pending => return None,
            }
        })
    }

    /// Aborts every task in the set. They stay in it until joined, and join as
    /// cancelled (unless they finished first).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.abort_all();
    ///     assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn abort_all(&mut self) {
        abort_each(&self.tasks);
    }

    /// Empties the set without aborting: its tasks run on, detached, like tasks whose
    /// `JoinHandle` was dropped.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(async move { tx.send("still ran").unwrap() });
    ///     set.detach_all();
    ///     assert!(set.is_empty());
    ///     turnstile::yield_now().await;
    /// });
    /// assert_eq!(rx.recv().unwrap(), "still ran");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn detach_all(&mut self) {
        self.tasks.clear(); // dropping a handle detaches its task
    }

    /// Aborts every task and waits until all of them have finished (cancelled, or
    /// done first), discarding their outcomes. The set is empty afterwards.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in the order they finished.
    ///
    /// # Panics
    /// If a task panicked (its panic is resumed here) or was cancelled.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut set = turnstile::task::JoinSet::new();
    ///     for i in 0..3 {
    ///         set.spawn(async move { i * 10 });
    ///     }
    ///     let mut all = set.join_all().await;
    ///     all.sort();
    ///     assert_eq!(all, [0, 10, 20]);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(next) = self.join_next().await {
            match next {
                Ok(out) => outputs.push(out),
                Err(e) if e.is_panic() => panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("JoinSet::join_all: {e}"),
            }
        }
        outputs
    }
}

/// Spawns each future on the current runtime into a new set, as tokio's
/// `FromIterator` for `JoinSet` does.
///
/// # Panics
/// Outside a runtime, as [`crate::spawn`] does.
///
/// ```
/// use turnstile::task::JoinSet;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let set: JoinSet<u32> = (1..=3).map(|i| async move { i * 2 }).collect();
///     let mut all = set.join_all().await;
///     all.sort();
///     assert_eq!(all, [2, 4, 6]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
impl<T: 'static, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> Self {
        let mut set = JoinSet::new();
        set.extend(futures);
        set
    }
}

/// Spawns each future on the current runtime into the set, as tokio's `Extend` for
/// `JoinSet` does.
///
/// # Panics
/// Outside a runtime, as [`crate::spawn`] does.
///
/// ```
/// use turnstile::task::JoinSet;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let mut set = JoinSet::new();
///     set.spawn(async { 0 });
///     set.extend((1..=2).map(|i| async move { i }));
///     assert_eq!(set.len(), 3);
///     let mut all = set.join_all().await;
///     all.sort();
///     assert_eq!(all, [0, 1, 2]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
impl<T: 'static, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        let at = Location::caller();
        for future in futures {
            self.insert(spawn_at(future, None, at));
        }
    }
}

impl<T: 'static> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        abort_each(&self.tasks);
    }
}

/// Aborts every task in `tasks` (they stay in it, to join as cancelled).
fn abort_each<T>(tasks: &FuturesUnordered<Joining<T>>) {
    for member in tasks.iter() {
        member.handle.abort();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet")
            .field("len", &self.tasks.len())
            .finish()
    }
}

/// A waker that only raises a flag.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Relaxed);
    }
}
