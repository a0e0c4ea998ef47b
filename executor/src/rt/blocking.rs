//! The loop's side of `spawn_blocking`: a job for the blocking pool, and the carrier
//! task that awaits its result.
//!
//! The closure runs on a pool thread; its result (or panic) goes into a mutex-guarded
//! slot, and the pool thread wakes the awaiting carrier task. That wake comes from
//! another thread, so it travels the remote path (queue plus eventfd) and ends a park.
//! The carrier is an ordinary task, so the caller gets an ordinary [`JoinHandle`]; a
//! panicking closure becomes a `JoinError` whose `is_panic` is true, and the pool
//! thread survives it.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;

use super::context;
use super::join::JoinHandle;
use super::Core;
use crate::driver::clock::Inhibit;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The result slot shared by a pool job and its carrier task.
struct Slot<T> {
    result: Option<thread::Result<T>>,
    waker: Option<Waker>,
}

/// The carrier task's future: ready when the job has left its result.
struct BlockingResult<T> {
    slot: Arc<Mutex<Slot<T>>>,
    /// A paused clock does not auto-advance while the job is under way: until this
    /// future is dropped (the carrier took the result, or was aborted or shut down).
    _inhibit: Inhibit,
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

impl Core {
    /// Runs `f` on the blocking pool; the handle is its carrier task's, spawned at `at`.
    pub(crate) fn spawn_blocking<F, T>(&self, f: F, at: &'static Location<'static>) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = Arc::new(Mutex::new(Slot {
            result: None,
            waker: None,
        }));
        let job_slot = slot.clone();
        // A running job holds back a paused clock's auto-advance until its carrier ends.
        let inhibit = self.driver().clock().inhibit();
        // The carrier first: its id is `task::id` inside the closure, as under tokio.
        let handle = self.spawn(
            BlockingResult {
                slot,
                _inhibit: inhibit,
            },
            None,
            at,
        );
        let id = handle.id();
        let job: Box<dyn FnOnce() + Send> = Box::new(move || {
            let result = {
                let _id = context::TaskIdGuard::enter(id);
                panic::catch_unwind(AssertUnwindSafe(f))
            };
            let waker = {
                let mut slot = lock(&job_slot);
                slot.result = Some(result);
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        });
        self.offload(job);
        handle
    }
}
