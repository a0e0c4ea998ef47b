//! The run-once turn: the one place that decides what runs next.
//!
//! `block_on` calls [`Core::turn`] until its future completes. One turn, top to bottom:
//!
//! 1. **Remote wakes in.** Wakes from other threads wait in a lock-free queue; if any
//!    arrived (one atomic load says so), they go onto the local ready queue.
//! 2. **Reactor.** If nothing is ready (no task queued, the `block_on` future not woken),
//!    the loop *parks*: it blocks in `epoll_wait` until the next timer deadline, a
//!    readiness event or a remote wake. If work is ready, it polls without blocking only
//!    every `event_interval` turns, so a task that yields in a tight loop does not pay a
//!    syscall per yield, and I/O is still never starved. Whenever the reactor was polled,
//!    expired timers fire (their wakes are counted as `timer`).
//! 3. **Snapshot.** Each task that was on the ready queue when this step began is polled
//!    once. A task woken during the step, including one that wakes itself, goes to the
//!    back of the queue and runs in the next turn, so one busy task cannot starve the
//!    others or the reactor.
//! 4. **The `block_on` future**, if it was woken (by a task finishing, a timer, ...).
//!
//! Everything the probes count is about this loop. A *yield* is a task poll that
//! returned `Pending`: the task goes back to the loop. An `.await` that completes
//! without `Pending` never reaches the loop: it is a function call inside the poll.

use std::time::{Duration, Instant};

use turnstile_probes::{Counter, Timing, Turn};

use crate::runtime::{Activity, Core};

/// What a turn did that the counters do not say, for the `on_turn` hook.
#[derive(Default)]
struct TurnNotes {
    parked: bool,
    polled_io: bool,
    io_events: u64,
    timers_fired: u64,
    parked_for: Duration,
}

impl Core {
    /// Runs one turn. `poll_main` polls the `block_on` future and returns true once it
    /// has completed; so does this function.
    ///
    /// Whether the turn is timed (`Level::Timing` and above) is decided here, once: the
    /// turn below exists in two instances, and the untimed one has no timing code.
    pub(crate) fn turn(&self, poll_main: &mut dyn FnMut() -> bool) -> bool {
        match self.timing.as_deref() {
            None => self.run_turn::<false>(None, poll_main),
            Some(timing) => self.run_turn::<true>(Some(timing), poll_main),
        }
    }

    /// One turn, top to bottom. `timing` is `Some` exactly when `TIMED`.
    #[inline(always)]
    fn run_turn<const TIMED: bool>(
        &self,
        timing: Option<&Timing>,
        poll_main: &mut dyn FnMut() -> bool,
    ) -> bool {
        let number = self.turn.get() + 1;
        self.turn.set(number);
        self.counters.bump(Counter::Turns);
        let before = self.has_on_turn.then(|| self.counters.get());
        let mut notes = TurnNotes::default();
        let timing = timing.filter(|_| TIMED);
        if let Some(timing) = timing {
            timing.turn_started(number);
            // A site left outside any poll (by a destructor, say) is no poll's: each
            // timed poll takes the site its own leaf left when it returns.
            crate::context::take_site();
        }

        // 1. Remote wakes in.
        if self.shared.has_remote() {
            self.take_remote_wakes();
        }

        // 2. Reactor: park when idle, otherwise a non-blocking look every few turns.
        let idle = !self.main_woken.get() && self.ready.borrow().is_empty();
        if idle {
            self.park(&mut notes);
        } else if self.io_due() {
            notes.polled_io = true;
            self.drive_reactor(Some(Duration::ZERO), &mut notes);
        }

        // 3. The snapshot: tasks that were ready when this step began, once each. The
        //    ready queue is swapped for an empty buffer first, so tasks woken during the
        //    step (itself included) queue up for the next turn.
        std::mem::swap(&mut *self.ready.borrow_mut(), &mut *self.batch.borrow_mut());
        let batch = self.batch.borrow(); // only `turn` touches `batch`, never re-entered
        let polled = batch.len() as u64;
        self.counters.add(Counter::Polls, polled);
        if TIMED {
            for (i, &task) in batch.iter().enumerate() {
                self.poll_task_timed(task, &batch[i + 1..]);
            }
        } else {
            for &task in batch.iter() {
                self.poll_task::<false>(task, &[]);
            }
        }
        drop(batch);
        self.batch.borrow_mut().clear();

        // 4. The block_on future, if woken.
        let main_polled = self.main_woken.replace(false);
        let done = main_polled && {
            self.counters.bump(Counter::MainPolls);
            self.current.set(self.main_marker());
            let done = if TIMED {
                self.timed_main_poll(poll_main)
            } else {
                poll_main()
            };
            self.current.set(std::ptr::null());
            done
        };

        if let Some(timing) = timing {
            timing.turn_ended(number, self.ready.borrow().len() as u64);
        }

        if let Some(before) = before {
            if let Some(timing) = timing {
                timing.break_chain(); // the hook is the user's code
            }
            self.report_turn(number, polled, main_polled, &before, notes);
        }
        done
    }

    /// Counts down the busy turns to the next non-blocking reactor poll.
    #[inline]
    fn io_due(&self) -> bool {
        let left = self.io_countdown.get();
        if left <= 1 {
            self.io_countdown.set(self.event_interval);
            true
        } else {
            self.io_countdown.set(left - 1);
            false
        }
    }

    /// Blocks in the reactor until the next timer deadline, an event or a remote wake.
    #[inline(never)]
    fn park(&self, notes: &mut TurnNotes) {
        let start = Instant::now();
        let timeout = self
            .timers
            .borrow_mut()
            .next_deadline()
            .map(|deadline| deadline.saturating_duration_since(start));
        self.counters.bump(Counter::Parks);
        notes.parked = true;
        if let Some(timing) = &self.timing {
            timing.park_started();
        }
        self.drive_reactor(timeout, notes);
        let parked_for = start.elapsed();
        notes.parked_for = parked_for;
        self.parked.set(self.parked.get() + parked_for);
        // A park ends an event-interval period: the reactor was just polled.
        self.io_countdown.set(self.event_interval);
    }

    /// Polls the reactor, takes in remote wakes it signalled, and fires expired timers.
    #[inline(never)]
    fn drive_reactor(&self, timeout: Option<Duration>, notes: &mut TurnNotes) {
        self.counters.bump(Counter::ReactorPolls);
        // The reactor hands back the wakers of sockets that became ready; they are woken
        // below, with no borrow held (a waker may be anyone's code). The timers' waker
        // buffer is borrowed for it: it is empty between uses.
        let mut woken = std::mem::take(&mut *self.fired.borrow_mut());
        let outcome = self
            .driver
            .borrow_mut()
            .poll_events(timeout, &mut woken)
            .unwrap_or_else(|e| {
                // epoll_wait fails only on a broken epoll descriptor: the loop cannot go on.
                panic!("turnstile: polling the reactor failed ({e}); the loop cannot continue")
            });
        notes.io_events = outcome.io_events as u64;
        self.counters.add(Counter::IoEvents, notes.io_events);
        if let Some(timing) = &self.timing {
            // A park ends when epoll returns, before the wakes it brought are dispatched.
            if notes.parked {
                timing.park_ended(notes.io_events, 0);
            } else {
                timing.reactor_events(notes.io_events, 0);
            }
        }
        if !woken.is_empty() {
            self.activity.set(Activity::Io);
            for waker in woken.drain(..) {
                waker.wake();
            }
            self.activity.set(Activity::Idle);
        }
        *self.fired.borrow_mut() = woken;
        if outcome.remote_woken || self.shared.has_remote() {
            self.take_remote_wakes();
        }
        self.fire_timers(notes);
    }

    /// Wakes the owners of every timer whose deadline has passed.
    fn fire_timers(&self, notes: &mut TurnNotes) {
        let mut fired = std::mem::take(&mut *self.fired.borrow_mut());
        let count = {
            let mut timers = self.timers.borrow_mut();
            if timers.is_empty() {
                return;
            }
            timers.fire_expired(Instant::now(), &mut fired)
        };
        notes.timers_fired = count as u64;
        self.counters.add(Counter::TimersFired, notes.timers_fired);
        if let Some(timing) = &self.timing {
            timing.reactor_events(0, notes.timers_fired);
        }
        // Wake with no borrow held: a waker may be anyone's code.
        self.activity.set(Activity::Timer);
        for waker in fired.drain(..) {
            waker.wake();
        }
        self.activity.set(Activity::Idle);
        *self.fired.borrow_mut() = fired;
    }

    #[cold]
    #[inline(never)]
    fn report_turn(
        &self,
        number: u64,
        tasks_polled: u64,
        main_polled: bool,
        before: &turnstile_probes::CounterValues,
        notes: TurnNotes,
    ) {
        let d = self.counters.get().since(before);
        let mut turn = Turn::default();
        turn.number = number;
        turn.tasks_polled = tasks_polled;
        turn.yields = d.polls_pending;
        turn.main_polled = main_polled;
        turn.wakes_self = d.wakes_self;
        turn.wakes_local = d.wakes_local;
        turn.wakes_remote = d.wakes_remote;
        turn.wakes_io = d.wakes_io;
        turn.wakes_timer = d.wakes_timer;
        turn.parked = notes.parked;
        turn.polled_io = notes.polled_io;
        turn.io_events = notes.io_events;
        turn.timers_fired = notes.timers_fired;
        turn.parked_for = notes.parked_for;
        turn.ready_after = self.ready.borrow().len() as u64;
        if let Some(hook) = self.on_turn.borrow_mut().as_mut() {
            hook(&turn);
        }
    }
}
