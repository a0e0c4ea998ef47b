//! The loop's side of the `metrics` feature: a snapshot, published, and the hand-over
//! of its histogram values on the blocking pool, which is a job, not a task: a publish
//! leaves nothing in the snapshot's task table.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use super::Core;
use crate::observe::metrics::Feed;

impl Core {
    /// Takes a snapshot and publishes it; the histogram values are left to feed.
    pub(crate) fn publish_metrics(&self) -> Feed {
        if self.observe().level().is_off() {
            return Feed::default();
        }
        let snap = self.snapshot();
        self.observe()
            .published()
            .publish(self.name(), &snap)
            .unwrap_or_default()
    }

    /// Hands `feed` to the recorder from the blocking pool (an offload in the counters,
    /// no task): the returned future is ready once it is in.
    pub(crate) fn hand_over_off_loop(&self, feed: Feed) -> HandOver {
        let slot = Arc::new(Mutex::new(Slot::default()));
        let job_slot = slot.clone();
        // Unlike a `spawn_blocking` job, it does not hold back a paused clock's
        // auto-advance: that guard is the loop's (not `Send`), and a `Publication` is
        // awaited in `Send` futures (an axum handler's).
        self.offload(Box::new(move || {
            // A recorder that panics has nothing to report: the hand-over is over all
            // the same, and the pool thread lives on.
            let _ = panic::catch_unwind(AssertUnwindSafe(|| feed.hand_over()));
            let waker = {
                let mut slot = lock(&job_slot);
                slot.done = true;
                slot.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }));
        HandOver { slot }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the pool job and the awaiting publish share.
#[derive(Default)]
struct Slot {
    done: bool,
    waker: Option<Waker>,
}

/// A hand-over under way on the blocking pool: ready once the recorder has the values.
pub(crate) struct HandOver {
    slot: Arc<Mutex<Slot>>,
}

impl Future for HandOver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut slot = lock(&self.slot);
        if slot.done {
            return Poll::Ready(());
        }
        // Stored under the lock the job takes to say it is done: no wake is missed.
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}
