//! The turn's events, one call each: what the loop tells the probes as it goes round
//! (`rt/turn.rs` calls these in order). Each fans out to whichever probes run: the
//! counters, the timing recorder, the flight recorder. `TIMED` and `FLIGHT` are the
//! turn's instance (see [`super::Mode`]): an instance without a probe compiles none of
//! its work (each test of the constant comes first, so it folds away). None of these
//! runs user code.

use turnstile_probes::{Counter, CounterValues};

use super::site::take_site;
use super::Observer;

impl Observer {
    /// Turn `number` begins. Returns the counters as they stand, when an `on_turn` hook
    /// will want what this turn added.
    #[inline(always)]
    pub(crate) fn turn_started<const TIMED: bool, const FLIGHT: bool>(
        &self,
        number: u64,
    ) -> Option<CounterValues> {
        self.bump(Counter::Turns);
        let before = self.has_on_turn().then(|| self.counters().get());
        if FLIGHT {
            if let Some(flight) = self.flight_ring() {
                flight.turn_started(number);
            }
        }
        if TIMED {
            if let Some(timing) = self.timing() {
                timing.turn_started(number);
                // A site left outside any poll (by a destructor, say) is no poll's: each
                // timed poll takes the site its own leaf left when it returns.
                take_site();
            }
        }
        before
    }

    /// The loop parks: it blocks in the reactor until a deadline, an event or a
    /// remote wake.
    #[inline]
    pub(crate) fn park_started(&self) {
        self.bump(Counter::Parks);
        if let Some(timing) = self.timing() {
            timing.park_started();
        }
        if let Some(flight) = self.flight_ring() {
            flight.park_started();
        }
    }

    /// The reactor returned `io_events` readiness events (ending a park if `parked`),
    /// before the wakes they bring are dispatched.
    #[inline]
    pub(crate) fn reactor_polled(&self, parked: bool, io_events: u64) {
        self.bump(Counter::ReactorPolls);
        self.counters().add(Counter::IoEvents, io_events);
        if let Some(flight) = self.flight_ring() {
            if parked {
                flight.park_ended(io_events);
            } else {
                flight.reactor_events(io_events, 0);
            }
        }
        if let Some(timing) = self.timing() {
            if parked {
                timing.park_ended(io_events, 0);
            } else {
                timing.reactor_events(io_events, 0);
            }
        }
    }

    /// `count` expired timers fired (their wakes follow).
    #[inline]
    pub(crate) fn timers_fired(&self, count: u64) {
        self.counters().add(Counter::TimersFired, count);
        if let Some(timing) = self.timing() {
            timing.reactor_events(0, count);
        }
        if let Some(flight) = self.flight_ring() {
            flight.reactor_events(0, count);
        }
    }

    /// The reactor is polled without parking because the event interval ran out (or
    /// a budget yield brought the look forward) while tasks were ready.
    #[inline]
    pub(crate) fn reactor_poll_forced(&self) {
        self.bump(Counter::ReactorPollsForced);
    }

    /// The turn took a batch of `len` ready tasks to poll.
    #[inline(always)]
    pub(crate) fn batch_taken<const FLIGHT: bool>(&self, len: usize) {
        if FLIGHT {
            if let Some(flight) = self.flight_ring() {
                flight.batch(len);
            }
        }
    }

    /// The batch is over (whole, or cut when the event interval ran out): `taken`
    /// tasks were taken off it and polled.
    #[inline(always)]
    pub(crate) fn batch_ended(&self, taken: usize) {
        self.counters().add(Counter::Polls, taken as u64);
    }

    /// The `block_on` future is about to be polled.
    #[inline(always)]
    pub(crate) fn main_poll_started(&self) {
        self.bump(Counter::MainPolls);
    }

    /// The `block_on` future's poll returned; `done` if it completed.
    #[inline(always)]
    pub(crate) fn main_poll_ended<const FLIGHT: bool>(&self, done: bool) {
        if FLIGHT {
            if let Some(flight) = self.flight_ring() {
                flight.poll_ended(0, done);
            }
        }
    }

    /// Turn `number` ends with `ready` tasks queued for the next one.
    #[inline(always)]
    pub(crate) fn turn_ended<const TIMED: bool, const FLIGHT: bool>(
        &self,
        number: u64,
        ready: u64,
    ) {
        if TIMED {
            if let Some(timing) = self.timing() {
                timing.turn_ended(number, ready);
            }
        }
        if FLIGHT {
            if let Some(flight) = self.flight_ring() {
                flight.turn_ended(number, ready);
            }
        }
    }
}
