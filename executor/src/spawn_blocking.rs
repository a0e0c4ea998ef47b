//! `spawn_blocking`: run a blocking closure on a thread pool, await it from the loop.
//!
//! The closure runs on a pool thread; its result (or panic) goes into a mutex-guarded
//! slot, and the pool thread wakes the awaiting carrier task. That wake comes from
//! another thread, so it travels the remote path (queue plus eventfd) and ends a park.
//! The carrier is an ordinary task, so the caller gets an ordinary [`JoinHandle`]; a
//! panicking closure becomes a `JoinError` whose `is_panic` is true, and the pool
//! thread survives it.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use turnstile_probes::Counter;

use crate::context;
use crate::join::JoinHandle;
use crate::task::spawn_at;

/// A pool thread exits after this long without work.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The runtime's blocking pool: threads started on demand, up to a limit.
#[derive(Debug)]
pub(crate) struct BlockingPool {
    inner: Arc<PoolInner>,
}

#[derive(Debug)]
struct PoolInner {
    state: Mutex<PoolState>,
    work: Condvar,
    /// Signalled when the last pool thread exits (for `Runtime::shutdown_timeout`).
    exited: Condvar,
    max_threads: usize,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

impl std::fmt::Debug for PoolState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolState")
            .field("jobs", &self.jobs.len())
            .field("threads", &self.threads)
            .field("idle", &self.idle)
            .finish()
    }
}

/// A panic inside a job never runs while the lock is held, so poison carries no meaning.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize) -> Self {
        BlockingPool {
            inner: Arc::new(PoolInner {
                state: Mutex::new(PoolState::default()),
                work: Condvar::new(),
                exited: Condvar::new(),
                max_threads: max_threads.max(1),
            }),
        }
    }

    fn submit(&self, job: Job) {
        let mut state = lock(&self.inner.state);
        state.jobs.push_back(job);
        if state.idle > 0 {
            self.inner.work.notify_one();
        } else if state.threads < self.inner.max_threads {
            state.threads += 1;
            let inner = self.inner.clone();
            let spawned = thread::Builder::new()
                .name("turnstile-blocking".into())
                .spawn(move || inner.run());
            if spawned.is_err() {
                // No thread to be had: the job waits for a running one, or for the next
                // submit to try again.
                state.threads -= 1;
                assert!(
                    state.threads > 0,
                    "turnstile::spawn_blocking could not start a single pool thread"
                );
            }
        }
    }

    /// Stops the pool: jobs not yet started are dropped (their tasks are gone with the
    /// runtime), running ones finish on their own, and then the threads exit.
    pub(crate) fn shut_down(&self) {
        let unstarted = {
            let mut state = lock(&self.inner.state);
            state.shutdown = true;
            std::mem::take(&mut state.jobs)
        };
        self.inner.work.notify_all();
        drop(unstarted); // outside the lock: a job's captures may do anything on drop
    }

    /// A handle that can wait for the pool's threads to exit after `shut_down`.
    pub(crate) fn waiter(&self) -> PoolWaiter {
        PoolWaiter {
            inner: self.inner.clone(),
        }
    }
}

/// Waits for a shut-down pool's threads to exit.
pub(crate) struct PoolWaiter {
    inner: Arc<PoolInner>,
}

impl PoolWaiter {
    /// Waits up to `timeout` for every pool thread to exit; true if they all did.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let state = lock(&self.inner.state);
        let (state, _) = self
            .inner
            .exited
            .wait_timeout_while(state, timeout, |s| s.threads > 0)
            .unwrap_or_else(PoisonError::into_inner);
        state.threads == 0
    }
}

impl PoolInner {
    fn run(&self) {
        let mut state = lock(&self.state);
        loop {
            if let Some(job) = state.jobs.pop_front() {
                drop(state);
                job(); // jobs catch their own panics
                state = lock(&self.state);
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, IDLE_TIMEOUT)
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.jobs.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        if state.threads == 0 {
            self.exited.notify_all();
        }
    }
}

/// The result slot shared by a pool job and its carrier task.
struct Slot<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// The carrier task's future: ready when the job has left its result.
struct BlockingResult<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for BlockingResult<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = lock(&self.slot);
        match slot.result.take() {
            // Re-raise inside the carrier task: the loop catches it as that task's panic,
            // which makes the handle's error `is_panic`. `resume_unwind` skips the panic
            // hook, which already reported the panic on the pool thread.
            Some(Err(payload)) => panic::resume_unwind(payload),
            Some(Ok(value)) => Poll::Ready(value),
            None => {
                // Stored under the same lock the job takes to store its result: no wake
                // can slip between this check and the registration.
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Runs `f` on the runtime's blocking pool and returns a handle to its result.
///
/// Use it for work that would stall the loop: blocking system calls, or computation
/// long enough to delay the other tasks. The loop keeps running while `f` does.
///
/// # Panics
/// Outside `Runtime::block_on`.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let sum = rt.block_on(async {
///     turnstile::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 5050);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let at = Location::caller();
    let slot = Arc::new(Mutex::new(Slot {
        result: None,
        waker: None,
    }));
    let job_slot = slot.clone();
    let job: Job = Box::new(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        let waker = {
            let mut slot = lock(&job_slot);
            slot.result = Some(result);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    });
    context::with_current(|core| {
        core.probes().bump(Counter::Offloaded);
        core.blocking().submit(job);
    })
    .unwrap_or_else(|| {
        panic!(
            "turnstile::spawn_blocking called at {at} outside a runtime: call it from \
             inside Runtime::block_on"
        )
    });
    spawn_at(BlockingResult { slot }, None, at)
}
