//! `Handle`: spawn onto a runtime from any thread.
//!
//! A `Handle` holds the runtime's cross-thread part weakly. `Handle::spawn` boxes the
//! future into a spawn request and sends it down the same remote queue that carries
//! wakes from other threads (so it ends a park just as they do); the loop takes it in at
//! the start of its next turn and spawns it as an ordinary local task. The output comes
//! back through a mutex-guarded slot to a [`RemoteJoinHandle`], which is `Send`.

use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use turnstile_probes::Counter;

use crate::rt::context;
use crate::rt::join::JoinError;
use crate::rt::remote::{Remote, RemoteWake, SpawnRequest};

/// Spawns `Send` futures onto a runtime from any thread. Cheap to clone.
///
/// Get one with `Runtime::handle`. It does not keep the runtime alive: once the runtime
/// is dropped, spawned futures are dropped unpolled and their handles report
/// cancellation.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let handle = rt.handle();
/// let remote = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(remote).unwrap(), 42);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Handle {
    remote: Weak<Remote>,
    /// The runtime's id ([`Handle::id`]).
    id: u64,
}

impl Handle {
    pub(crate) fn new(remote: Weak<Remote>, id: u64) -> Self {
        Handle { remote, id }
    }

    /// The runtime's id: unique among the runtimes of this process (never reused, even
    /// after the runtime is dropped), the same from every handle of one runtime, as
    /// tokio's `Handle::id`. It is the `turnstile-N` of a runtime's default name.
    ///
    /// ```
    /// let a = turnstile::Runtime::new()?;
    /// let b = turnstile::Runtime::new()?;
    /// assert_eq!(a.handle().id(), a.block_on(async { turnstile::Handle::current().id() }));
    /// assert_ne!(a.handle().id(), b.handle().id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The handle of the thread's current runtime: the one whose `block_on` is
    /// running, or the one entered with [`Runtime::enter`](crate::Runtime::enter).
    ///
    /// # Panics
    /// If no runtime is current; [`Handle::try_current`] returns an error instead.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let handle = rt.block_on(async { turnstile::Handle::current() });
    /// let h = std::thread::spawn(move || handle.spawn(async { 5 })).join().unwrap();
    /// assert_eq!(rt.block_on(h).unwrap(), 5);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(e) => panic!("{e} (at {})", Location::caller()),
        }
    }

    /// The handle of the thread's current runtime, or an error outside one.
    ///
    /// ```
    /// assert!(turnstile::Handle::try_current().is_err());
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(rt.block_on(async { turnstile::Handle::try_current() }).is_ok());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        context::with_current(|core| Handle::new(core.weak_remote(), core.id()))
            .ok_or(TryCurrentError(()))
    }

    /// Spawns `future` onto the runtime. It is queued for the loop's next turn, and
    /// wakes the loop if it is parked.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let h = rt.handle().spawn(async { "from outside block_on" });
    /// assert_eq!(rt.block_on(h).unwrap(), "from outside block_on");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let at = Location::caller();
        let slot = Arc::new(Mutex::new(Slot {
            result: None,
            waker: None,
        }));
        let Some(remote) = self.remote.upgrade() else {
            lock(&slot).result = Some(Err(JoinError::cancelled(0)));
            return RemoteJoinHandle { slot };
        };
        let mut delivery = Delivery {
            slot: slot.clone(),
            id: 0,
        };
        let request: SpawnRequest = Box::new(move || {
            // Run by the loop as it drains the remote queue: its runtime is current.
            context::with_current(|core| {
                core.observe().bump(Counter::SpawnsRemote);
                delivery.id = core.sched().peek_id(); // the id `spawn` is about to give it
                let task = RemoteTask { future, delivery };
                drop(core.spawn(task, None, at)); // detached: the output goes to `slot`
            });
        });
        remote.push(RemoteWake::Spawn(request));
        RemoteJoinHandle { slot }
    }
}

/// The error of [`Handle::try_current`]: no runtime is current on this thread.
///
/// ```
/// let err = turnstile::Handle::try_current().unwrap_err();
/// assert!(err.to_string().contains("Runtime::enter"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no turnstile runtime is current on this thread: call this inside \
             Runtime::block_on, or hold a guard from Runtime::enter",
        )
    }
}

impl std::error::Error for TryCurrentError {}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("id", &self.id)
            .field("runtime_alive", &(self.remote.strong_count() > 0))
            .finish()
    }
}

struct Slot<T> {
    result: Option<Result<T, JoinError>>,
    waker: Option<Waker>,
}

/// A panic never happens while the lock is held, so poison carries no meaning.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Delivers the task's outcome to its remote handle; if dropped undelivered (the task
/// was aborted, or the runtime dropped), delivers a cancellation.
struct Delivery<T> {
    slot: Arc<Mutex<Slot<T>>>,
    id: u64,
}

impl<T> Delivery<T> {
    fn deliver(&self, result: Result<T, JoinError>) {
        let waker = {
            let mut slot = lock(&self.slot);
            if slot.result.is_some() {
                return;
            }
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Delivery<T> {
    fn drop(&mut self) {
        // A no-op if the task already delivered its output or its panic.
        self.deliver(Err(JoinError::cancelled(self.id)));
    }
}

pin_project! {
    /// The task a remote spawn runs: the user's future, and where its outcome goes.
    struct RemoteTask<F: Future> {
        #[pin]
        future: F,
        delivery: Delivery<F::Output>,
    }
}

impl<F: Future> Future for RemoteTask<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        match panic::catch_unwind(AssertUnwindSafe(|| this.future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                this.delivery.deliver(Ok(output));
                Poll::Ready(())
            }
            Err(payload) => {
                let id = this.delivery.id;
                this.delivery.deliver(Err(JoinError::panic(id, payload)));
                // Unwind again so that the loop counts this task's panic like any other;
                // the payload itself has gone to the remote handle.
                panic::resume_unwind(Box::new("remote task panicked; see its handle"))
            }
        }
    }
}

/// The handle to a task spawned with [`Handle::spawn`]: a `Send` future of its output.
///
/// ```
/// fn assert_send<T: Send>(_: &T) {}
/// let rt = turnstile::Runtime::new()?;
/// let h = rt.handle().spawn(async { 1 });
/// assert_send(&h);
/// assert_eq!(rt.block_on(h).unwrap(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct RemoteJoinHandle<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> RemoteJoinHandle<T> {
    /// True once the task has completed, panicked or been cancelled.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let h = rt.handle().spawn(async {});
    /// assert!(!h.is_finished()); // not spawned until the loop's next turn
    /// rt.block_on(turnstile::yield_now());
    /// assert!(h.is_finished());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_finished(&self) -> bool {
        lock(&self.slot).result.is_some()
    }
}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = lock(&self.slot);
        match slot.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                // Registered under the lock the task delivers under: no lost wake.
                match &mut slot.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    other => *other = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}
