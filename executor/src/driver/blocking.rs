//! The blocking pool: threads started on demand, up to a limit, that run the jobs
//! `spawn_blocking` hands them (`task/blocking.rs` is the public side). A pool thread
//! exits after a while without work; shutting down drops the jobs not yet started.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

/// A pool thread exits after this long without work.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

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

    pub(crate) fn submit(&self, job: Job) {
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
