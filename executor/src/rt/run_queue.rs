//! The ready queue: tasks woken since the last snapshot, and the snapshot a turn polls.
//!
//! Fairness lives here. A turn takes the whole queue as its batch ([`RunQueue::take_batch`])
//! and polls each task in it once, until the event interval runs out: then the batch
//! is cut, and the tasks it did not reach go back to the front of the queue, ahead of
//! everything woken since, for the next turn (which looks at I/O first). A task woken
//! meanwhile, including one that wakes itself, is pushed onto the fresh queue and
//! waits for the next turn: no task is polled twice in one batch. The tasks a look at
//! the reactor woke (sockets, timers) are moved ahead of the queue
//! ([`RunQueue::promote`]), up to a bound that leaves the queued tasks their share.
//!
//! The queue holds raw task pointers; a queued task is always owned by the slab (its
//! state machine releases it only when it is not queued), so they stay valid. Two
//! buffers are swapped rather than reallocated: after warm-up a turn allocates nothing.
//! The batch's buffer is borrowed (shared) while the batch runs; nothing but the
//! [`Batch`] guard ever touches it, so no user code can run into that borrow.
//!
//! If the batch is cut, or a panic escapes the turn mid-batch (a subscriber, a hook, a
//! waker), the [`Batch`] guard puts the tasks it did not reach back at the front of the
//! queue, still queued, so none is lost and none is polled twice.

use std::cell::RefCell;

use crate::raw::TaskPtr;

/// Tasks to poll, in wake order. Loop thread only; never borrowed across user code.
#[derive(Default)]
pub(crate) struct RunQueue {
    /// Woken since the current batch was taken: the next turn's batch.
    ready: RefCell<Vec<TaskPtr>>,
    /// The other buffer: the batch being polled, empty between batches.
    batch: RefCell<Vec<TaskPtr>>,
}

impl RunQueue {
    /// Queues a task that was just marked `QUEUED`.
    #[inline(always)]
    pub(crate) fn push(&self, task: TaskPtr) {
        self.ready.borrow_mut().push(task);
    }

    /// Whether nothing is queued for the next batch.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.ready.borrow().is_empty()
    }

    /// Tasks queued for the next batch.
    pub(crate) fn len(&self) -> usize {
        self.ready.borrow().len()
    }

    /// Runs `f` over the tasks queued for the next batch (no user code may run in `f`).
    pub(crate) fn with_queued<R>(&self, f: impl FnOnce(&[TaskPtr]) -> R) -> R {
        f(&self.ready.borrow())
    }

    /// Takes everything queued as this turn's batch; wakes from now on queue for the next.
    #[inline]
    pub(crate) fn take_batch(&self) -> Batch<'_> {
        self.ready.swap(&self.batch);
        Batch {
            queue: self,
            next: 0,
        }
    }

    /// Moves up to `max` of the tasks queued from position `from` on (the first ones)
    /// to position `at`, ahead of the rest, keeping their order; returns how many moved.
    /// The turn calls it after a look at the reactor, for the tasks it woke.
    #[cold]
    pub(crate) fn promote(&self, at: usize, from: usize, max: usize) -> usize {
        let mut ready = self.ready.borrow_mut();
        let moved = ready.len().saturating_sub(from).min(max);
        if moved > 0 && at < from {
            ready[at..from + moved].rotate_right(moved);
        }
        moved
    }

    /// Forgets every queued pointer (the runtime is dropping its tasks).
    pub(crate) fn clear(&self) {
        self.ready.borrow_mut().clear();
    }
}

/// A turn's batch. Dropped at the end of the batch, or during an unwind: either way it
/// empties its buffer, and any task not yet taken goes back to the front of the queue.
pub(crate) struct Batch<'a> {
    queue: &'a RunQueue,
    /// The first task not yet taken.
    next: usize,
}

impl Batch<'_> {
    /// Tasks in the batch.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.queue.batch.borrow().len()
    }

    /// Calls `poll` on each task of the batch in order, with the tasks after it (those
    /// a long poll of this one makes wait), until `poll` returns true: the batch is
    /// cut there. The tasks not reached, after a cut or if `poll` unwinds, stay queued
    /// at the front (see `Drop`).
    #[inline(always)]
    pub(crate) fn run(&mut self, mut poll: impl FnMut(TaskPtr, &[TaskPtr]) -> bool) {
        let tasks = self.queue.batch.borrow();
        let mut rest = tasks.iter();
        while let Some(&task) = rest.next() {
            self.next += 1;
            if poll(task, rest.as_slice()) {
                break;
            }
        }
    }

    /// Tasks taken off the batch so far (polled, or skipped because aborted).
    #[inline]
    pub(crate) fn taken(&self) -> usize {
        self.next
    }
}

impl Drop for Batch<'_> {
    #[inline]
    fn drop(&mut self) {
        let mut tasks = self.queue.batch.borrow_mut();
        if self.next < tasks.len() {
            requeue(&self.queue.ready, &mut tasks, self.next);
        }
        tasks.clear();
    }
}

/// Puts the tasks of `batch` from `from` on back at the front of `ready` (a cut or an
/// unwind):
/// they are still `QUEUED`, and keep their places ahead of everything woken since.
#[cold]
#[inline(never)]
fn requeue(ready: &RefCell<Vec<TaskPtr>>, batch: &mut Vec<TaskPtr>, from: usize) {
    ready.borrow_mut().splice(0..0, batch.drain(from..));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::LocalTask;

    fn fake(n: usize) -> TaskPtr {
        // Never dereferenced: the queue only moves pointers.
        std::ptr::without_provenance::<
            crate::raw::TaskCell<std::future::Ready<()>, crate::rt::wake::TaskOwner>,
        >(n * 8) as *const dyn LocalTask
    }

    #[test]
    fn a_batch_is_what_was_queued_when_it_was_taken() {
        let q = RunQueue::default();
        q.push(fake(1));
        q.push(fake(2));
        let mut batch = q.take_batch();
        assert_eq!(batch.len(), 2);
        let mut seen = Vec::new();
        batch.run(|task, rest| {
            q.push(fake(3)); // woken during the batch: next turn
            seen.push((task.cast::<()>().addr() / 8, rest.len()));
            false
        });
        drop(batch);
        assert_eq!(seen, [(1, 1), (2, 0)]);
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn a_cut_batch_goes_back_to_the_front_and_promoted_tasks_go_ahead() {
        let q = RunQueue::default();
        for n in 1..=4 {
            q.push(fake(n));
        }
        let mut batch = q.take_batch();
        batch.run(|task, _| {
            q.push(task); // each wakes itself: behind the batch's rest
            std::ptr::addr_eq(task, fake(2)) // the interval runs out after task 2
        });
        assert_eq!(batch.taken(), 2);
        drop(batch);
        let order = |q: &RunQueue| -> Vec<usize> {
            q.with_queued(|t| t.iter().map(|p| p.cast::<()>().addr() / 8).collect())
        };
        assert_eq!(order(&q), [3, 4, 1, 2]);
        // A look at the reactor woke 5, 6 and 7; two may go ahead.
        let from = q.len();
        for n in 5..=7 {
            q.push(fake(n));
        }
        assert_eq!(q.promote(0, from, 2), 2);
        assert_eq!(order(&q), [5, 6, 3, 4, 1, 2, 7]);
        assert_eq!(q.promote(2, q.len(), 2), 0);
    }

    #[test]
    fn an_abandoned_batch_goes_back_to_the_front() {
        let q = RunQueue::default();
        for n in 1..=3 {
            q.push(fake(n));
        }
        let mut batch = q.take_batch();
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            batch.run(|task, _| {
                q.push(fake(4));
                assert!(
                    !std::ptr::addr_eq(task, fake(1)),
                    "a hook panics after task 1"
                );
                false
            })
        }));
        assert!(unwound.is_err());
        drop(batch);
        let order: Vec<usize> =
            q.with_queued(|t| t.iter().map(|p| p.cast::<()>().addr() / 8).collect());
        assert_eq!(order, [2, 3, 4]);
    }
}
