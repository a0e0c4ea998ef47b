//! `spawn_blocking`: run a blocking closure on a thread pool, await it from the loop.
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

use crate::rt::context;
use crate::rt::join::JoinHandle;
use crate::task::spawn_at;

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
    let job: Box<dyn FnOnce() + Send> = Box::new(move || {
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
    context::with_current(|core| core.offload(job)).unwrap_or_else(|| {
        panic!(
            "turnstile::spawn_blocking called at {at} outside a runtime: call it from \
             inside Runtime::block_on"
        )
    });
    spawn_at(BlockingResult { slot }, None, at)
}
