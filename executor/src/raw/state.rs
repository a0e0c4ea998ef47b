//! A task's state machine: the only code that reads or writes its state bits.
//!
//! Every bit lives in one `Cell<u16>` in the task's header, touched on the loop thread
//! only. Each transition below is named after what happens to the task, checks the bits
//! it needs, sets the ones it owns and returns what the caller must do next as a
//! `#[must_use]` value, so that no caller re-derives the scheduling rules from bits.
//!
//! ```text
//!            spawn
//!              │
//!              ▼          wake (coalesced while QUEUED)
//!  ┌──────► QUEUED ◄─────────────────────────────┐
//!  │           │ start_poll                      │
//!  │           ▼                                 │
//!  │        RUNNING ── end_poll: Pending ──► IDLE ┘
//!  │           │   │                             │
//!  │   end_poll│   └─ abort while running:       │ abort (not running)
//!  │   Ready / │      ABORT, cancelled when      │
//!  │   panic   │      the poll returns           │
//!  │           ▼                                 ▼
//!  │          DONE ◄──────────────────────── DONE (cancelled)
//!  │           │ release (once, when not QUEUED: the ready queue's
//!  │           ▼  pointer must stay valid until the loop takes it off)
//!  │        RELEASED
//!  └─ a wake of a DONE task is a counted no-op
//! ```
//!
//! The invariants, each kept by the transition named beside it:
//!
//! - A task's pointer is on the ready queue exactly while `QUEUED` is set (`wake`
//!   sets it and the caller pushes; `start_poll` clears it as the loop pops).
//! - The slab owns the task until `release`, which happens once (`RELEASED`), and only
//!   when the task is `DONE` and not `QUEUED`: so every queued pointer is alive.
//! - The future is polled only between `start_poll` and `end_poll` (`RUNNING`), never
//!   once `DONE` is set, and it is dropped only while not `RUNNING` (`cancel` defers to
//!   the end of the poll with `ABORT`).
//! - `DONE` is set before the future is dropped, so a destructor that wakes or aborts
//!   its own task finds a finished task.
//! - The join outcome is stored once (`JOIN_FINISHED`); once the handle is gone
//!   (`JOIN_DETACHED`) an output is dropped at once, on the loop thread.

use std::cell::Cell;

/// The task's pointer is on the ready queue.
const QUEUED: u16 = 1 << 0;
/// The loop is polling the task.
const RUNNING: u16 = 1 << 1;
/// The future is gone or going: completed, panicked or cancelled.
const DONE: u16 = 1 << 2;
/// Cancel once the current poll returns.
const ABORT: u16 = 1 << 3;
/// The last poll ended the task (`Ready` or a panic): its yields are `polls - 1`.
const ENDED_BY_POLL: u16 = 1 << 4;
/// The task has timing cells (`Level::Timing` and above). Set at spawn, never cleared;
/// tested together with `QUEUED` and `DONE` by `wake`, so untimed runtimes pay nothing.
const TIMED: u16 = 1 << 5;
/// The slab has let go of the task.
const RELEASED: u16 = 1 << 6;
/// The join state holds (or has handed out) the task's outcome.
const JOIN_FINISHED: u16 = 1 << 8;
/// The `JoinHandle` was dropped: an output has no one to go to.
const JOIN_DETACHED: u16 = 1 << 9;
/// The handle returned `Pending` before: a `Ready` now ends a wait rather than being an
/// inline await (kept for the await-site probes, so only on `TIMED` tasks).
const JOIN_WAITED: u16 = 1 << 10;

/// What a wake found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Wake {
    /// Now `QUEUED`: push the task on the ready queue.
    Queue,
    /// Now `QUEUED`, and timed: push it, and stamp the wake for its scheduling delay.
    QueueTimed,
    /// Already queued: nothing to push (the wake is coalesced).
    Coalesced,
    /// The task is done: the wake is a no-op.
    Finished,
}

/// What the loop does with a task it took off the ready queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum StartPoll {
    /// Now `RUNNING`: poll it.
    Poll,
    /// Cancelled while queued: do not poll; the queue's pointer was what kept it in
    /// the slab, so release it now.
    Release,
}

/// What a poll's end leaves to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum EndPoll {
    /// It returned `Pending` and waits for a wake (or is queued already).
    Idle,
    /// It returned `Pending` but was aborted during the poll: cancel it now.
    Cancel,
    /// It completed or panicked (now `DONE`): drop the future, then release it unless
    /// it is still queued (`release_now`).
    Finished { release_now: bool },
}

/// What `abort` may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum Abort {
    /// Now `DONE`: drop the future, then release the task if `release_now` (not queued).
    Cancel { release_now: bool },
    /// It is being polled: `ABORT` is set, and the loop cancels it when the poll returns.
    Deferred,
    /// Finished already: nothing to do.
    Finished,
}

/// What a join outcome's arrival found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub(crate) enum JoinFinish {
    /// First outcome, and a handle to give it to: store it and wake its waiter.
    Deliver,
    /// First outcome, but the handle is gone: drop it now.
    Drop,
    /// An outcome arrived already: this one is dropped.
    Ignore,
}

/// Where a task stands, as a snapshot names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    Queued,
    Running,
    Idle,
    Finished,
}

/// The state bits of one task. Loop thread only (the header's `Cell` makes it `!Sync`
/// as far as the compiler knows; `task.rs` explains why other threads never touch it).
pub(crate) struct State(Cell<u16>);

impl State {
    /// A spawned task: queued for its first poll; `timed` at `Level::Timing` and above.
    #[inline(always)]
    pub(crate) fn new(timed: bool) -> Self {
        State(Cell::new(if timed { QUEUED | TIMED } else { QUEUED }))
    }

    /// A task spawned while its runtime shuts down: done before it ever ran, never in
    /// the slab.
    pub(crate) fn refused(&self) {
        self.0.set(DONE | RELEASED | (self.0.get() & TIMED));
    }

    /// A wake. One test decides the common case (neither queued, done nor timed).
    #[inline(always)]
    pub(crate) fn wake(&self) -> Wake {
        let s = self.0.get();
        if s & (QUEUED | DONE | TIMED) == 0 {
            self.0.set(s | QUEUED);
            return Wake::Queue;
        }
        self.wake_slow(s)
    }

    /// The rest of `wake`: inlined, so that a timed task's wake (every wake at
    /// `Level::Timing`, the default) pays no call; the common untimed case is still
    /// decided by the one test above.
    #[inline(always)]
    fn wake_slow(&self, s: u16) -> Wake {
        if s & DONE != 0 {
            Wake::Finished
        } else if s & QUEUED != 0 {
            Wake::Coalesced
        } else {
            self.0.set(s | QUEUED);
            Wake::QueueTimed
        }
    }

    /// The loop took the task off the ready queue.
    #[inline(always)]
    pub(crate) fn start_poll(&self) -> StartPoll {
        let s = self.0.get() & !QUEUED;
        debug_assert!(
            s & (RUNNING | RELEASED) == 0,
            "polled a running or released task"
        );
        if s & DONE != 0 {
            self.0.set(s);
            return StartPoll::Release;
        }
        self.0.set(s | RUNNING);
        StartPoll::Poll
    }

    /// The poll returned (`finished`: `Ready`, or it panicked).
    #[inline(always)]
    pub(crate) fn end_poll(&self, finished: bool) -> EndPoll {
        let s = self.0.get() & !RUNNING;
        if finished {
            self.0.set(s | DONE | ENDED_BY_POLL);
            return EndPoll::Finished {
                release_now: s & QUEUED == 0,
            };
        }
        self.0.set(s);
        if s & ABORT != 0 {
            EndPoll::Cancel
        } else {
            EndPoll::Idle
        }
    }

    /// Cancellation (an abort, or the end of a poll that was aborted).
    pub(crate) fn abort(&self) -> Abort {
        let s = self.0.get();
        if s & DONE != 0 {
            Abort::Finished
        } else if s & RUNNING != 0 {
            self.0.set(s | ABORT);
            Abort::Deferred
        } else {
            self.0.set(s | DONE);
            Abort::Cancel {
                release_now: s & QUEUED == 0,
            }
        }
    }

    /// The runtime is going away: the task is done whatever it was doing (no poll can be
    /// in progress: `block_on` borrows the runtime). Returns whether its future is still
    /// there to drop.
    #[must_use]
    pub(crate) fn shut_down(&self) -> bool {
        let s = self.0.get();
        self.0.set(s | DONE | RELEASED);
        s & DONE == 0
    }

    /// The slab lets go of the task. Returns false if it had already (the runtime was
    /// dropped meanwhile, taking every task out at once): the caller must not touch the
    /// slot again.
    #[must_use]
    pub(crate) fn release(&self) -> bool {
        let s = self.0.get();
        if s & RELEASED != 0 {
            return false;
        }
        debug_assert!(
            s & DONE != 0 && s & QUEUED == 0,
            "released a live or queued task"
        );
        self.0.set(s | RELEASED);
        true
    }

    /// Whether the task has timing cells.
    #[inline(always)]
    pub(crate) fn is_timed(&self) -> bool {
        self.0.get() & TIMED != 0
    }

    /// Whether it is queued, running, idle or finished.
    pub(crate) fn phase(&self) -> Phase {
        let s = self.0.get();
        if s & DONE != 0 {
            Phase::Finished
        } else if s & RUNNING != 0 {
            Phase::Running
        } else if s & QUEUED != 0 {
            Phase::Queued
        } else {
            Phase::Idle
        }
    }

    /// Whether it waits for a wake that only a waker can bring: not queued, running,
    /// done or about to be cancelled (the lost-waker check's precondition).
    pub(crate) fn awaits_wake(&self) -> bool {
        self.0.get() & (QUEUED | RUNNING | DONE | ABORT) == 0
    }

    /// Whether its pointer is on the ready queue (woken during its own poll, say).
    #[inline]
    pub(crate) fn is_queued(&self) -> bool {
        self.0.get() & QUEUED != 0
    }

    /// Whether it was aborted during its poll (it is cancelled when the poll returns).
    #[inline]
    pub(crate) fn abort_pending(&self) -> bool {
        self.0.get() & ABORT != 0
    }

    /// Whether its last poll ended it (then every earlier poll was a yield).
    pub(crate) fn ended_by_poll(&self) -> bool {
        self.0.get() & ENDED_BY_POLL != 0
    }

    /// An outcome for the handle arrives.
    #[inline]
    pub(crate) fn join_finish(&self) -> JoinFinish {
        let s = self.0.get();
        if s & JOIN_FINISHED != 0 {
            return JoinFinish::Ignore;
        }
        self.0.set(s | JOIN_FINISHED);
        if s & JOIN_DETACHED != 0 {
            JoinFinish::Drop
        } else {
            JoinFinish::Deliver
        }
    }

    /// Whether the outcome has arrived (taken by the handle or not).
    #[inline]
    pub(crate) fn join_finished(&self) -> bool {
        self.0.get() & JOIN_FINISHED != 0
    }

    /// The handle is dropped.
    pub(crate) fn join_detach(&self) {
        self.0.set(self.0.get() | JOIN_DETACHED);
    }

    /// Whether the handle is gone.
    pub(crate) fn join_detached(&self) -> bool {
        self.0.get() & JOIN_DETACHED != 0
    }

    /// The handle returned `Pending`. Returns whether it was the first time.
    pub(crate) fn join_waited(&self) -> bool {
        let s = self.0.get();
        self.0.set(s | JOIN_WAITED);
        s & JOIN_WAITED == 0
    }

    /// Whether the handle has returned `Pending` before.
    pub(crate) fn join_has_waited(&self) -> bool {
        self.0.get() & JOIN_WAITED != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_runs_yields_and_completes() {
        let s = State::new(false);
        assert_eq!(s.phase(), Phase::Queued);
        assert_eq!(s.wake(), Wake::Coalesced);
        assert_eq!(s.start_poll(), StartPoll::Poll);
        assert_eq!(s.phase(), Phase::Running);
        assert_eq!(s.wake(), Wake::Queue); // woken during its poll: queued again
        assert_eq!(s.end_poll(false), EndPoll::Idle);
        assert_eq!(s.start_poll(), StartPoll::Poll);
        assert_eq!(s.end_poll(true), EndPoll::Finished { release_now: true });
        assert_eq!(s.wake(), Wake::Finished);
        assert!(s.ended_by_poll());
        assert!(s.release());
        assert!(!s.release(), "a second release is refused");
    }

    #[test]
    fn an_abort_while_queued_releases_when_popped() {
        let s = State::new(true);
        assert_eq!(s.abort(), Abort::Cancel { release_now: false });
        assert_eq!(s.abort(), Abort::Finished);
        assert_eq!(s.start_poll(), StartPoll::Release);
        assert!(s.release());
    }

    #[test]
    fn an_abort_while_running_is_deferred_to_the_poll_end() {
        let s = State::new(false);
        assert_eq!(s.start_poll(), StartPoll::Poll);
        assert_eq!(s.abort(), Abort::Deferred);
        assert_eq!(s.end_poll(false), EndPoll::Cancel);
        assert_eq!(s.abort(), Abort::Cancel { release_now: true });
    }

    #[test]
    fn a_timed_wake_takes_the_stamping_path() {
        let s = State::new(true);
        assert_eq!(s.start_poll(), StartPoll::Poll);
        assert_eq!(s.end_poll(false), EndPoll::Idle);
        assert!(s.awaits_wake());
        assert_eq!(s.wake(), Wake::QueueTimed);
        assert_eq!(s.wake(), Wake::Coalesced);
    }

    #[test]
    fn the_join_outcome_arrives_once() {
        let s = State::new(false);
        assert_eq!(s.join_finish(), JoinFinish::Deliver);
        assert_eq!(s.join_finish(), JoinFinish::Ignore);
        let d = State::new(false);
        d.join_detach();
        assert_eq!(d.join_finish(), JoinFinish::Drop);
        assert!(d.join_waited());
        assert!(!d.join_waited());
    }

    #[test]
    fn shutting_down_finishes_every_task_once() {
        let s = State::new(false);
        assert!(s.shut_down());
        assert!(!s.shut_down());
        assert_eq!(s.wake(), Wake::Finished);
        assert!(!s.release(), "already let go by the shutdown");
    }
}
