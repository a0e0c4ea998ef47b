//! The driver: what the loop waits on. mio's poller with the sockets' registrations,
//! the timers and the clock they are measured on (`clock.rs`: std's, or paused for
//! tests), when a busy loop looks at them ([`IoInterval`]: every `event_interval` task
//! polls), the buffer of wakers they hand back, and the blocking pool (`blocking.rs`).
//! It knows nothing of tasks: it hands back wakers, and the loop wakes them.
//!
//! Its fields are private: the net types (`net/source.rs`), `time/` and the turn go
//! through the methods below. No method calls a waker or drops one while it holds a
//! borrow: wakers that fire, and wakers that are displaced or cancelled, are handed back
//! to be woken or dropped by the caller once the borrow has ended, since a waker may be
//! anyone's code (and may reach the timers or a socket again).

use std::cell::{Cell, RefCell};
use std::io;
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::Interest;
use turnstile_reactor::{
    Direction, Driver as Reactor, IoKey, Orphans, PollOutcome, TimerKey, Timers,
};

mod blocking;
pub(crate) mod clock;

pub(crate) use blocking::{BlockingPool, Job, PoolWaiter};
use clock::Clock;

/// mio, the registrations and the timers of one runtime. Loop thread only.
pub(crate) struct Driver {
    /// mio: parking and readiness, and each socket's waiting wakers.
    driver: RefCell<Reactor>,
    /// Pending sleeps, their deadlines on `clock`.
    timers: RefCell<Timers>,
    /// The time the timers are measured on.
    clock: Clock,
    /// A reused buffer for the wakers that a reactor poll or the timers hand back.
    woken: Cell<Vec<Waker>>,
    /// When a busy loop looks at I/O and timers.
    interval: IoInterval,
}

/// The busy-loop policy: a loop that always has work polls the reactor without
/// blocking once every `event_interval` task polls, counted across turns and within
/// one, so a task that yields in a tight loop does not pay a system call per yield,
/// and I/O and timers are looked at within `event_interval` polls however many tasks
/// are ready. The turn counts each poll down ([`Driver::polled`]) and cuts its batch
/// when the count runs out; the next turn looks.
struct IoInterval {
    /// Task polls between two non-blocking reactor polls.
    event_interval: u32,
    /// Task polls left until the reactor is due; 0: the next turn looks.
    countdown: Cell<u32>,
}

impl IoInterval {
    fn new(event_interval: u32) -> Self {
        IoInterval {
            event_interval,
            countdown: Cell::new(event_interval),
        }
    }

    /// Whether the reactor is due: `event_interval` polls passed since the last look.
    #[inline(always)]
    fn due(&self) -> bool {
        self.countdown.get() == 0
    }

    /// Counts down one task poll: true if it was the last one before the reactor is
    /// due. A batch polls only while the count is above zero (a look or a park
    /// restarts it, and the batch is cut when it reaches zero), so this never wraps.
    #[inline(always)]
    fn polled(&self) -> bool {
        let left = self.countdown.get() - 1;
        self.countdown.set(left);
        left == 0
    }

    /// Counts down a poll of the `block_on` future, which may come after the batch
    /// was cut (the count is then zero already, and stays so).
    #[inline]
    fn main_polled(&self) {
        self.countdown.set(self.countdown.get().saturating_sub(1));
    }

    /// The reactor is due after the poll in progress, whatever the countdown says.
    #[inline]
    fn soon(&self) {
        self.countdown.set(1);
    }

    /// The reactor was polled: a new period begins.
    #[inline]
    fn restart(&self) {
        self.countdown.set(self.event_interval);
    }
}

/// The timers, counted for a snapshot.
pub(crate) struct TimerCount {
    pub(crate) pending: u64,
    pub(crate) slots: u64,
    pub(crate) heap: u64,
}

impl Driver {
    /// A driver whose clock starts `paused` or not.
    pub(crate) fn new(reactor: Reactor, event_interval: u32, paused: bool) -> Self {
        Driver {
            driver: RefCell::new(reactor),
            timers: RefCell::new(Timers::new()),
            clock: Clock::new(paused),
            woken: Cell::new(Vec::new()),
            interval: IoInterval::new(event_interval),
        }
    }

    /// The handle other threads use to end a park.
    pub(crate) fn remote_waker(&self) -> turnstile_reactor::RemoteWaker {
        self.driver.borrow().remote_waker()
    }

    /// The task polls between two non-blocking reactor polls.
    pub(crate) fn event_interval(&self) -> u32 {
        self.interval.event_interval
    }

    // ---- sockets ----

    /// Registers a socket; returns its key and the list its slot goes to if it is
    /// dropped where this runtime cannot be reached.
    pub(crate) fn register(
        &self,
        io: &mut impl Source,
        interest: Interest,
    ) -> io::Result<(IoKey, Orphans)> {
        let mut driver = self.driver.borrow_mut();
        let key = driver.register(io, interest)?;
        Ok((key, driver.orphans()))
    }

    /// Deregisters a socket; the wakers it held are dropped after the borrow ends.
    pub(crate) fn deregister(&self, io: &mut impl Source, key: IoKey) {
        let wakers = self.driver.borrow_mut().deregister(io, key);
        drop(wakers);
    }

    /// Whether side `dir` of the socket may be ready (an operation is worth trying).
    #[inline]
    pub(crate) fn is_ready(&self, key: IoKey, dir: Direction) -> bool {
        self.driver.borrow().io().is_ready(key, dir)
    }

    /// A non-waiting operation said `WouldBlock`: side `dir` is not ready, and nobody
    /// waits for its next edge (the edge is kept as readiness when it comes).
    #[inline]
    pub(crate) fn clear(&self, key: IoKey, dir: Direction) {
        self.driver.borrow_mut().io_mut().clear(key, dir);
    }

    /// Whether the socket's read side was reported closed (EOF, reset, error).
    #[inline]
    pub(crate) fn is_read_closed(&self, key: IoKey) -> bool {
        self.driver.borrow().io().is_read_closed(key)
    }

    /// Waits on side `dir` without touching its readiness (it was not tried).
    #[inline]
    pub(crate) fn wait(&self, key: IoKey, dir: Direction, waker: &Waker) {
        self.wait_on(key, dir, waker, false);
    }

    /// The operation said `WouldBlock`: side `dir` is not ready; wait for its next edge.
    #[inline]
    pub(crate) fn clear_and_wait(&self, key: IoKey, dir: Direction, waker: &Waker) {
        self.wait_on(key, dir, waker, true);
    }

    /// Registers `waker` for `dir`, cloning it (anyone's code) before the borrow; a
    /// clone that turns out not to be needed (the same task waits there already) is
    /// dropped after it.
    #[inline]
    fn wait_on(&self, key: IoKey, dir: Direction, waker: &Waker, clear: bool) {
        let owned = waker.clone();
        let unused = self
            .driver
            .borrow_mut()
            .io_mut()
            .wait_owned(key, dir, owned, clear);
        drop(unused);
    }

    /// An operation on `dir` completed; `drained` if it proved the socket's read queue
    /// empty (a short stream read). Returns whether it had waited for readiness first.
    #[inline]
    pub(crate) fn complete(&self, key: IoKey, dir: Direction, drained: bool) -> bool {
        let mut driver = self.driver.borrow_mut();
        let io = driver.io_mut();
        let waited = io.complete(key, dir);
        if drained {
            io.drained(key);
        }
        waited
    }

    // ---- the clock and the timers ----

    /// The clock's current instant: what every timer deadline is compared with.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The clock itself: pausing, resuming, advancing.
    #[inline]
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.borrow_mut().next_deadline()
    }

    /// Adds a timer that wakes `waker` at `deadline`.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: &Waker) -> TimerKey {
        let waker = waker.clone(); // before the borrow: cloning may be anyone's code
        self.timers.borrow_mut().insert(deadline, Some(waker))
    }

    /// Points a pending timer at `waker`; false if it has fired (or was cancelled).
    pub(crate) fn set_timer_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let displaced = self.timers.borrow_mut().set_waker(key, waker);
        displaced.is_some() // a displaced waker drops here, after the borrow
    }

    /// Cancels a pending timer; false if it had fired already.
    pub(crate) fn cancel_timer(&self, key: TimerKey) -> bool {
        let cancelled = self.timers.borrow_mut().cancel(key);
        cancelled.is_some() // its waker drops here, after the borrow
    }

    /// How many timers are pending, and the store's size.
    pub(crate) fn timer_count(&self) -> TimerCount {
        let timers = self.timers.borrow();
        TimerCount {
            pending: timers.len() as u64,
            slots: timers.slot_capacity() as u64,
            heap: timers.heap_len() as u64,
        }
    }

    // ---- the turn's use ----

    /// Whether a busy turn polls the reactor: `event_interval` task polls have passed
    /// since the last look (or a budget yield brought it forward).
    #[inline(always)]
    pub(crate) fn io_due(&self) -> bool {
        self.interval.due()
    }

    /// Counts down one task poll; true if the reactor is now due, and the turn cuts
    /// its batch so that the next turn looks.
    #[inline(always)]
    pub(crate) fn polled(&self) -> bool {
        self.interval.polled()
    }

    /// Counts down a poll of the `block_on` future.
    #[inline]
    pub(crate) fn main_polled(&self) {
        self.interval.main_polled();
    }

    /// Makes the reactor due right after the poll in progress (the turn cuts its batch
    /// there, and the next turn polls the reactor and fires due timers), whatever the
    /// countdown says: after a budget yield, whose task is exactly the kind that would
    /// keep I/O and timers waiting.
    #[inline]
    pub(crate) fn poll_soon(&self) {
        self.interval.soon();
    }

    /// How many tasks woken by one look at the reactor (sockets and timers) are served
    /// ahead of the ready queue: half the interval, so that the tasks already queued
    /// still get at least half of every interval's polls and cannot be starved by
    /// sockets that are always ready again; none when the interval is 1.
    pub(crate) fn promoted_per_look(&self) -> usize {
        (self.interval.event_interval / 2) as usize
    }

    /// How long a park that begins at `now` (on the clock) may last: until the next
    /// timer deadline (none: no limit).
    pub(crate) fn park_timeout(&self, now: Instant) -> Option<Duration> {
        self.timers
            .borrow_mut()
            .next_deadline()
            .map(|deadline| deadline.saturating_duration_since(now))
    }

    /// Polls mio (blocking up to `timeout`), appending the wakers of sockets that
    /// became ready to `woken`. Any poll, a park or a look, begins a new
    /// event-interval period.
    pub(crate) fn poll(&self, timeout: Option<Duration>, woken: &mut Vec<Waker>) -> PollOutcome {
        self.interval.restart();
        self.driver
            .borrow_mut()
            .poll_events(timeout, woken)
            .unwrap_or_else(|e| {
                // epoll_wait fails only on a broken epoll descriptor: the loop cannot go on.
                panic!("turnstile: polling the reactor failed ({e}); the loop cannot continue")
            })
    }

    /// Removes every expired timer, appending its waker to `woken`; returns how many.
    pub(crate) fn fire_expired(&self, woken: &mut Vec<Waker>) -> usize {
        let mut timers = self.timers.borrow_mut();
        if timers.is_empty() {
            return 0;
        }
        timers.fire_expired(self.clock.now(), woken)
    }

    /// Lends the reused waker buffer (empty); give it back with `return_buffer`.
    pub(crate) fn take_buffer(&self) -> Vec<Waker> {
        self.woken.take()
    }

    /// Gives the waker buffer back, emptied.
    pub(crate) fn return_buffer(&self, mut woken: Vec<Waker>) {
        woken.clear();
        self.woken.set(woken);
    }
}
