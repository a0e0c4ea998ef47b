//! The ready queue: tasks woken since the last snapshot, and the snapshot a turn polls.
//!
//! Fairness lives here. A turn takes the whole queue as its batch ([`RunQueue::take_batch`])
//! and polls each task in it once, until the event interval runs out: then the batch
//! is cut, and the tasks it did not reach stay at the front of the queue (where they
//! are, in the batch's buffer: no copy), ahead of everything woken since, and are the
//! next turn's batch (which looks at I/O first). A task woken
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
//! waker), the [`Batch`] guard leaves the tasks it did not reach at the front of the
//! queue, still queued, so none is lost and none is polled twice.

use std::cell::{Cell, RefCell};

use crate::raw::TaskPtr;

/// Tasks to poll, in wake order. Loop thread only; never borrowed across user code.
///
/// The queue, front to back, is the rest of a cut batch (`batch[rest..]`, empty unless
/// the last batch was cut or unwound), then `ready`.
#[derive(Default)]
pub(crate) struct RunQueue {
    /// Woken since the current batch was taken: queued behind the batch's rest.
    ready: RefCell<Vec<TaskPtr>>,
    /// The other buffer: the batch being polled; between batches, from `rest` on, the
    /// tasks a cut batch did not reach (the slots before `rest` are spent).
    batch: RefCell<Vec<TaskPtr>>,
    /// Where the rest of the last batch begins (`batch.len()`: no rest).
    rest: Cell<usize>,
    /// How many tasks that rest holds (`batch.len() - rest`), kept apart so that the
    /// turn's checks (`is_empty`, `len`, `take_batch`) need no borrow of `batch`.
    left: Cell<usize>,
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
        self.ready.borrow().is_empty() && self.rest_len() == 0
    }

    /// Tasks queued for the next batch (between batches).
    pub(crate) fn len(&self) -> usize {
        self.ready.borrow().len() + self.rest_len()
    }

    /// Tasks of a cut batch not yet polled (between batches).
    #[inline(always)]
    fn rest_len(&self) -> usize {
        self.left.get()
    }

    /// Runs `f` over the tasks woken since the batch in progress was taken (no user
    /// code may run in `f`); the batch's own rest is the batch's to say.
    pub(crate) fn with_queued<R>(&self, f: impl FnOnce(&[TaskPtr]) -> R) -> R {
        f(&self.ready.borrow())
    }

    /// Takes this turn's batch: the rest of a cut batch if there is one (what was
    /// woken since waits behind it), else everything queued; wakes from now on queue
    /// for later.
    #[inline]
    pub(crate) fn take_batch(&self) -> Batch<'_> {
        if self.rest_len() == 0 {
            let mut batch = self.batch.borrow_mut();
            batch.clear();
            std::mem::swap(&mut *batch, &mut *self.ready.borrow_mut());
            self.rest.set(0);
            self.left.set(batch.len());
        }
        let next = self.rest.get();
        Batch {
            queue: self,
            next,
            end: next + self.left.get(),
        }
    }

    /// Where `promote` would take tasks from if they were queued now: call it before
    /// the wakes to promote.
    #[inline]
    pub(crate) fn mark(&self) -> usize {
        self.ready.borrow().len()
    }

    /// Moves up to `max` of the tasks woken since `mark` (the first ones) to position
    /// `at` of the queue, ahead of the rest, keeping their order; returns how many
    /// moved. The turn calls it after a look at the reactor, for the tasks it woke.
    #[inline]
    pub(crate) fn promote(&self, at: usize, mark: usize, max: usize) -> usize {
        let moved = self.ready.borrow().len().saturating_sub(mark).min(max);
        if moved > 0 && (at > 0 || mark > 0 || self.rest_len() > 0) {
            self.move_ahead(at, mark, moved);
        }
        moved
    }

    /// `promote`'s move, out of line: only a look that woke tasks behind others needs
    /// it. Into the spent slots before a cut batch's rest when there is room (no copy
    /// of the rest), else by rotating or splicing.
    #[cold]
    #[inline(never)]
    fn move_ahead(&self, at: usize, mark: usize, moved: usize) {
        let mut ready = self.ready.borrow_mut();
        let rest = self.rest.get();
        let rest_len = self.left.get();
        if rest_len == 0 {
            // Everything queued is in `ready`.
            ready[at..mark + moved].rotate_right(moved);
            return;
        }
        let mut batch = self.batch.borrow_mut();
        let woken = ready.drain(mark..mark + moved);
        if at <= rest_len && moved <= rest {
            let front = rest - moved;
            batch.copy_within(rest..rest + at, front);
            for (slot, task) in batch[front + at..rest + at].iter_mut().zip(woken) {
                *slot = task;
            }
            self.rest.set(front);
            self.left.set(rest_len + moved);
        } else if at <= rest_len {
            batch.splice(rest + at..rest + at, woken);
            self.left.set(rest_len + moved);
        } else {
            // `at` reaches into `ready` (more promoted than the rest holds).
            let at = at - rest_len;
            let woken: Vec<TaskPtr> = woken.collect();
            ready.splice(at..at, woken);
        }
    }

    /// Forgets every queued pointer (the runtime is dropping its tasks).
    pub(crate) fn clear(&self) {
        self.ready.borrow_mut().clear();
        self.batch.borrow_mut().clear();
        self.rest.set(0);
        self.left.set(0);
    }
}

/// A turn's batch. Dropped at the end of the batch, or during an unwind: either way
/// the tasks not yet taken stay at the front of the queue, as the rest of the batch.
pub(crate) struct Batch<'a> {
    queue: &'a RunQueue,
    /// The first task not yet taken.
    next: usize,
    /// The end of the batch in `batch` (its length when taken: nothing is added to
    /// it while the batch runs).
    end: usize,
}

impl Batch<'_> {
    /// Tasks in the batch.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.end - self.next
    }

    /// Calls `poll` on each task of the batch in order, with the tasks after it (those
    /// a long poll of this one makes wait), until `poll` returns true: the batch is
    /// cut there. The tasks not reached, after a cut or if `poll` unwinds, stay queued
    /// at the front (see `Drop`).
    #[inline(always)]
    pub(crate) fn run(&mut self, mut poll: impl FnMut(TaskPtr, &[TaskPtr]) -> bool) {
        let tasks = self.queue.batch.borrow();
        let mut rest = tasks[self.next..].iter();
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
        self.next - self.queue.rest.get()
    }
}

impl Drop for Batch<'_> {
    /// The tasks not reached stay where they are, still `QUEUED`, ahead of everything
    /// woken since: no copy, however long the rest.
    #[inline]
    fn drop(&mut self) {
        self.queue.rest.set(self.next);
        self.queue.left.set(self.end - self.next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::LocalTask;

    /// The whole queue, front to back, as the fakes' numbers.
    fn order(q: &RunQueue) -> Vec<usize> {
        let batch = q.batch.borrow();
        batch[q.rest.get()..]
            .iter()
            .chain(q.ready.borrow().iter())
            .map(|p| p.cast::<()>().addr() / 8)
            .collect()
    }

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
        assert_eq!(order(&q), [3, 4, 1, 2]);
        // A look at the reactor woke 5, 6 and 7; two may go ahead (into the slots the
        // batch spent), then a timer woke 8, which goes after them.
        let mark = q.mark();
        for n in 5..=7 {
            q.push(fake(n));
        }
        assert_eq!(q.promote(0, mark, 2), 2);
        assert_eq!(order(&q), [5, 6, 3, 4, 1, 2, 7]);
        let mark = q.mark();
        q.push(fake(8));
        assert_eq!(q.promote(2, mark, 1), 1);
        assert_eq!(order(&q), [5, 6, 8, 3, 4, 1, 2, 7]);
        assert_eq!(q.promote(3, q.mark(), 2), 0);
        // The next batch is the rest, what was woken since waits behind it.
        let mut batch = q.take_batch();
        let mut seen = Vec::new();
        batch.run(|task, _| {
            seen.push(task.cast::<()>().addr() / 8);
            false
        });
        drop(batch);
        assert_eq!(seen, [5, 6, 8, 3, 4]);
        assert_eq!(order(&q), [1, 2, 7]);
        // Without a rest, promoted tasks rotate to the front of `ready`.
        let mark = q.mark();
        q.push(fake(9));
        assert_eq!(q.promote(0, mark, 1), 1);
        assert_eq!(order(&q), [9, 1, 2, 7]);
        // More promoted than the spent slots hold: spliced in.
        let mut batch = q.take_batch();
        batch.run(|_, _| true); // cut after one
        drop(batch);
        let mark = q.mark();
        q.push(fake(10));
        q.push(fake(11));
        assert_eq!(q.promote(0, mark, 2), 2);
        assert_eq!(order(&q), [10, 11, 1, 2, 7]);
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
        assert_eq!(order(&q), [2, 3, 4]);
    }
}
