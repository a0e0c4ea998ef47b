//! The run-once turn: the one place that decides what runs next.
//!
//! `block_on` calls [`Core::turn`] until its future completes. One turn, top to bottom:
//!
//! 1. **Remote wakes in.** Wakes from other threads wait in a lock-free queue; if any
//!    arrived (one atomic load says so), they go onto the local ready queue.
//! 2. **Reactor.** If nothing is ready (no task queued, the `block_on` future not woken),
//!    the loop *parks*: it blocks in `epoll_wait` until the next timer deadline, a
//!    readiness event or a remote wake. If work is ready, it polls without blocking
//!    only once `event_interval` task polls have passed since the last look (counted
//!    across turns and within one, `driver::IoInterval`), so a task that yields in a
//!    tight loop does not pay a syscall per yield, and however many tasks are ready, a
//!    socket or a timer waits at most `event_interval` polls to be seen. After a
//!    budget yield (`coop.rs`) the look comes at once, since a task that spends whole
//!    budgets is the one that would keep sockets and timers waiting. Whenever the
//!    reactor was polled, expired timers fire (their wakes are counted as `timer`).
//!    The tasks the look woke, sockets' and timers', up to half the interval, move to
//!    the front of the queue: they are polled first in step 3.
//! 3. **Snapshot.** Each task that was on the ready queue when this step began is polled
//!    once, in order, until the event interval runs out: then the batch is *cut*, the
//!    tasks it did not reach go back to the front of the queue, and the next turn
//!    looks at I/O before it polls them. A task woken during the step, including one
//!    that wakes itself, goes to the back of the queue and runs in a later turn, so
//!    one busy task cannot starve the others or the reactor.
//!
//! Why cut the batch and serve the look's tasks first: counting the interval in turns
//! made a loop with N tasks always ready look at I/O only every `event_interval` x N
//! polls, and a socket's task then still waited behind the N. Cutting keeps the
//! turn's shape (the reactor is polled in step 2 only, the run-once rule holds), and
//! costs a decrement and a compare per poll. Serving the woken tasks first bounds the
//! wait of a quiet connection by the interval rather than by the queue's length; the
//! bound of half an interval keeps sockets that are always ready again from taking
//! every poll (the queued tasks get at least the other half, in order). So a task
//! whose socket is ready when a turn begins is polled after at most `event_interval`
//! polls of other tasks plus the others the same look woke ahead of it (fewer than
//! half an interval), and the `block_on` future's poll if it was woken; with
//! `event_interval(1)`, a look after every poll, nothing moves ahead.
//! 4. **The `block_on` future**, if it was woken (by a task finishing, a timer, ...).
//!
//! 5. **Reports.** What the probes owe the user (queued `tracing` events, the `on_turn`
//!    hook) goes out last, where the turn holds no borrow: user code there may spawn,
//!    wake, abort or take a snapshot.
//!
//! A panic that escapes a turn (from a hook, a subscriber or a waker) leaves it
//! consistent: the batch's guard puts the tasks it did not reach back on the queue, a
//! waker's panic is held until every other fired waker has been woken, and the next
//! `block_on` starts from a clean slate.
//!
//! Everything the probes count is about this loop. A *yield* is a task poll that
//! returned `Pending`: the task goes back to the loop. An `.await` that completes
//! without `Pending` never reaches the loop: it is a function call inside the poll.

use std::panic::{self, AssertUnwindSafe};
use std::task::Waker;
use std::time::{Duration, Instant};

use turnstile_probes::{CounterValues, Timing, Turn};

use crate::raw::TaskPtr;

use super::coop;
use super::scheduler::Activity;
use super::Core;

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
    /// So is whether the flight recorder runs (`FLIGHT`): four instances in all, and
    /// the one without either has none of their code.
    pub(crate) fn turn(&self, poll_main: &mut dyn FnMut() -> bool) -> bool {
        let timing = self.observe().timing();
        let mode = self.observe().mode();
        if mode.inspect() {
            return self.run_turn_inspected(timing, poll_main);
        }
        match (mode.timed(), mode.flight()) {
            (false, false) => self.run_turn::<false, false, false>(None, poll_main),
            (true, false) => self.run_turn_timed(timing, poll_main),
            (false, true) => self.run_turn_flight::<false>(None, poll_main),
            (true, true) => self.run_turn_flight::<true>(timing, poll_main),
        }
    }

    /// A turn of a runtime with an inspector: any of the four, then a snapshot for the
    /// inspector if one is due.
    #[inline(never)]
    fn run_turn_inspected(
        &self,
        timing: Option<&Timing>,
        poll_main: &mut dyn FnMut() -> bool,
    ) -> bool {
        // Instances of their own (`INSPECT`), so that the ones above stay used once
        // and keep their poll loops inlined.
        let mode = self.observe().mode();
        let done = match (mode.timed(), mode.flight()) {
            (false, false) => self.run_turn::<false, false, true>(None, poll_main),
            (true, false) => self.run_turn::<true, false, true>(timing, poll_main),
            (false, true) => self.run_turn::<false, true, true>(None, poll_main),
            (true, true) => self.run_turn::<true, true, true>(timing, poll_main),
        };
        self.inspect_turn_ended(self.sched().turn_number());
        done
    }

    /// The timed turn (`Level::Timing`, the default), kept out of line so that the
    /// untimed turn stays as it was; its polls are inlined into it, so a timed poll
    /// costs no call.
    #[inline(never)]
    fn run_turn_timed(&self, timing: Option<&Timing>, poll_main: &mut dyn FnMut() -> bool) -> bool {
        self.run_turn::<true, false, false>(timing, poll_main)
    }

    /// The turn with the flight recorder, kept out of line so that the turn without
    /// it stays as it was.
    #[inline(never)]
    fn run_turn_flight<const TIMED: bool>(
        &self,
        timing: Option<&Timing>,
        poll_main: &mut dyn FnMut() -> bool,
    ) -> bool {
        self.run_turn::<TIMED, true, false>(timing, poll_main)
    }

    /// One turn, top to bottom. `timing` is `Some` exactly when `TIMED`; the flight
    /// recorder is there exactly when `FLIGHT`; `INSPECT` only tells the inspector's
    /// instances apart.
    #[inline(always)]
    fn run_turn<const TIMED: bool, const FLIGHT: bool, const INSPECT: bool>(
        &self,
        timing: Option<&Timing>,
        poll_main: &mut dyn FnMut() -> bool,
    ) -> bool {
        let (sched, observe) = (self.sched(), self.observe());
        let number = sched.next_turn();
        let before = observe.turn_started::<TIMED, FLIGHT>(number);
        let mut notes = TurnNotes::default();

        // 1. Remote wakes in.
        if self.remote().has_wakes() {
            self.take_remote_wakes();
        }

        // 2. Reactor: park when idle, otherwise a non-blocking look every few turns.
        if sched.is_idle() {
            self.park(&mut notes);
        } else if self.driver().io_due() {
            notes.polled_io = true;
            observe.reactor_poll_forced();
            self.drive_reactor(Some(Duration::ZERO), &mut notes);
        }

        // 3. The snapshot: tasks that were ready when this step began, once each, until
        //    the event interval runs out (the rest go back to the front of the queue).
        //    Tasks woken during the step (itself included) queue up behind them.
        let polled = {
            let mut batch = sched.take_batch();
            observe.batch_taken::<FLIGHT>(batch.len());
            let driver = self.driver();
            if let (true, Some(timing)) = (TIMED, timing) {
                // The recorder is passed to each poll as it is, known here: no poll
                // looks it up or tests for it.
                batch.run(|task, rest| {
                    self.poll_task::<true, FLIGHT>(task, rest, Some(timing));
                    driver.polled()
                });
            } else {
                batch.run(|task: TaskPtr, _| {
                    self.poll_task::<false, FLIGHT>(task, &[], None);
                    driver.polled()
                });
            }
            observe.batch_ended(batch.taken());
            batch.taken() as u64
        }; // the batch guard drops here, in place: a cut batch's rest goes back

        // 4. The block_on future, if woken.
        let main_polled = sched.take_main_wake();
        let done = main_polled && {
            observe.main_poll_started();
            sched.set_current(sched.main_marker());
            coop::refill();
            let done = if TIMED {
                self.timed_main_poll(poll_main)
            } else {
                poll_main()
            };
            sched.set_current(std::ptr::null());
            self.driver().main_polled();
            observe.main_poll_ended::<FLIGHT>(done);
            done
        };
        observe.turn_ended::<TIMED, FLIGHT>(number, sched.queue().len() as u64);

        // 5. Reports, where nothing is borrowed: the flight recorder's file first (the
        // stall report it names is still queued, or it warns itself below
        // `Level::Timing`), then what the timing probes queued, then the hook.
        if FLIGHT {
            self.flight_turn_ended(timing);
        }
        if TIMED {
            self.observe().flush();
        }
        if let Some(before) = before {
            if let Some(timing) = timing {
                timing.break_chain(); // the hook is the user's code
            }
            self.report_turn(number, polled, main_polled, &before, notes);
        }
        done
    }

    /// Blocks in the reactor until the next timer deadline, an event or a remote wake.
    /// The park's length is on the runtime's clock, as the deadlines are.
    #[inline(never)]
    fn park(&self, notes: &mut TurnNotes) {
        if self.driver().clock().is_paused() {
            return self.park_paused(notes);
        }
        let start = self.driver().now();
        let timeout = self.driver().park_timeout(start);
        notes.parked = true;
        self.observe().park_started();
        self.drive_reactor(timeout, notes);
        self.parked(start, notes);
    }

    /// A park on a paused clock (`time::pause`). The reactor is looked at without
    /// blocking: a ready socket or a remote wake is work. If there is none, no
    /// `spawn_blocking` job is under way and a timer is pending, the clock jumps to the
    /// earliest deadline and its timers fire (auto-advance): the park lasts as long as
    /// the jump, on the clock, and microseconds really. Otherwise the loop waits for
    /// real without a timer timeout (the clock would not move), and the park lasts zero
    /// on the clock.
    #[cold]
    #[inline(never)]
    fn park_paused(&self, notes: &mut TurnNotes) {
        let driver = self.driver();
        let start = driver.now();
        notes.parked = true;
        self.observe().park_started();
        let next = driver.next_deadline();
        if next.is_some() && driver.clock().can_auto_advance() {
            self.drive_reactor(Some(Duration::ZERO), notes);
            if self.sched().is_idle() {
                if let Some(deadline) = driver.next_deadline() {
                    driver.clock().advance_to(deadline);
                    self.fire_timers(notes);
                }
            }
        } else {
            self.drive_reactor(None, notes);
        }
        self.parked(start, notes);
    }

    /// A park that began at `start` (on the runtime's clock) is over.
    #[inline]
    fn parked(&self, start: Instant, notes: &mut TurnNotes) {
        let parked_for = self.driver().now().saturating_duration_since(start);
        notes.parked_for = parked_for;
        self.observe().parked(parked_for);
    }

    /// Polls the reactor, takes in remote wakes it signalled, and fires expired timers.
    #[inline(never)]
    fn drive_reactor(&self, timeout: Option<Duration>, notes: &mut TurnNotes) {
        // The reactor hands back the wakers of sockets that became ready; they are woken
        // below, with no borrow held (a waker may be anyone's code). A park ends when
        // epoll returns, before the wakes it brought are dispatched.
        //
        // After a look (not a park: nothing was queued then), the tasks it wakes and
        // those the timers wake are served first: up to `promoted_per_look` of them
        // move ahead of the queue (see the module's doc).
        let look = !notes.parked;
        let queue = self.sched().queue();
        let mut woken = self.driver().take_buffer();
        let outcome = if self.after_stall() {
            self.poll_after_stall(timeout, &mut woken)
        } else {
            self.driver().poll(timeout, &mut woken)
        };
        notes.io_events = outcome.io_events as u64;
        self.observe().reactor_polled(notes.parked, notes.io_events);
        let (mut ahead, mut promoted) = (self.driver().promoted_per_look(), 0);
        let from = if look { queue.mark() } else { 0 };
        let after_stall = self.after_stall(); // its readiness is counted for the stall
        let queued = if after_stall { queue.len() } else { 0 };
        self.wake_all(woken, Activity::Io);
        if after_stall {
            self.count_readiness_after_stall(queue.len().saturating_sub(queued), notes.io_events);
        }
        if look {
            promoted = queue.promote(0, from, ahead);
            ahead -= promoted;
        }
        if outcome.remote_woken || self.remote().has_wakes() {
            self.take_remote_wakes();
        }
        let from = if look { queue.mark() } else { 0 };
        self.fire_timers(notes);
        if look {
            queue.promote(promoted, from, ahead);
        }
    }

    /// Wakes the owners of every timer whose deadline has passed. Inlined into the
    /// reactor's drive, its one caller, as it was before the look's tasks were promoted.
    #[inline(always)]
    fn fire_timers(&self, notes: &mut TurnNotes) {
        let mut fired = self.driver().take_buffer();
        let count = self.driver().fire_expired(&mut fired);
        if count == 0 {
            return self.driver().return_buffer(fired);
        }
        notes.timers_fired += count as u64;
        self.observe().timers_fired(count as u64);
        self.wake_all(fired, Activity::Timer);
    }

    /// Wakes every waker in `wakers` (of ready sockets or fired timers), with no borrow
    /// held, then gives the buffer back. A waker is anyone's code: if one panics, the
    /// others are still woken (none of their wakes is lost), and the first panic then
    /// continues out of the turn.
    fn wake_all(&self, mut wakers: Vec<Waker>, activity: Activity) {
        if wakers.is_empty() {
            return self.driver().return_buffer(wakers);
        }
        self.sched().set_activity(activity);
        let mut panicked = None;
        for waker in wakers.drain(..) {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| waker.wake())) {
                panicked.get_or_insert(payload);
            }
        }
        self.sched().set_activity(Activity::Idle);
        self.driver().return_buffer(wakers);
        if let Some(payload) = panicked {
            panic::resume_unwind(payload);
        }
    }

    #[cold]
    #[inline(never)]
    fn report_turn(
        &self,
        number: u64,
        tasks_polled: u64,
        main_polled: bool,
        before: &CounterValues,
        notes: TurnNotes,
    ) {
        let d = self.observe().counters().get().since(before);
        let mut turn = Turn::default();
        turn.number = number;
        turn.tasks_polled = tasks_polled;
        turn.yields = d.polls_pending;
        turn.budget_yields = d.budget_yields;
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
        turn.ready_after = self.sched().queue().len() as u64;
        self.observe().call_on_turn(&turn);
    }
}
