//! Turn and park events: a turn's busy time, the park's length.

use super::Timing;
use crate::trace::EventKind;

impl Timing {
    /// A turn begins.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.turn_started(1);
    /// t.turn_ended(1, 0);
    /// assert_eq!(t.turn_duration().count, 1);
    /// ```
    pub fn turn_started(&self, turn: u64) {
        // Chained from the end of the last turn when nothing ran in between.
        let now = match self.chain.replace(0) {
            0 => self.read(),
            end_of_last_turn => end_of_last_turn,
        };
        self.turn.set(turn);
        if let Some(beacon) = &self.beacon {
            beacon.turn_started(turn);
        }
        self.turn_start.set(now);
        self.turn_parked.set(0);
        if self.tracing {
            self.event(now, EventKind::TurnStart { turn });
        }
        self.chain.set(now); // the first poll starts here unless the reactor runs
    }

    /// A turn ends with `ready` tasks queued for the next. Its duration (parked time
    /// excluded) goes into the turn histogram.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.turn_ended(1, 3);
    /// ```
    pub fn turn_ended(&self, turn: u64, ready: u64) {
        // The end of the turn's last poll, when nothing ran after it: no clock read.
        let now = match self.chain.get() {
            0 => self.read(),
            end_of_last_poll => end_of_last_poll,
        };
        let start = self.turn_start.get();
        if start != 0 {
            let busy = now
                .saturating_sub(start)
                .saturating_sub(self.turn_parked.get());
            self.inner.borrow_mut().turn.record(busy);
        }
        if self.tracing {
            self.event(now, EventKind::TurnEnd { turn, ready });
        }
        self.chain.set(now); // the next turn starts here unless something runs between
    }

    /// The loop is about to park.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.park_started();
    /// t.park_ended(0, 0);
    /// assert_eq!(t.park_duration().count, 1);
    /// ```
    pub fn park_started(&self) {
        let now = self.read();
        self.park_start.set(now);
        if let Some(beacon) = &self.beacon {
            beacon.parked(now);
        }
        if self.tracing {
            self.event(now, EventKind::ParkStart);
        }
    }

    /// The park ended, with `io_events` readiness events and `timers` fired.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.park_ended(1, 0);
    /// ```
    pub fn park_ended(&self, io_events: u64, timers: u64) {
        let now = self.read();
        if let Some(beacon) = &self.beacon {
            beacon.parked(0);
        }
        let parked = now.saturating_sub(self.park_start.get());
        self.turn_parked.set(self.turn_parked.get() + parked);
        let mut inner = self.inner.borrow_mut();
        inner.park.record(parked);
        // Not a new sample (`CpuSampler`): the sample's wall time moves past the park,
        // which a stall's window then leaves out, and the park is counted, since it
        // may have been a voluntary context switch.
        inner.cpu.parks += 1;
        drop(inner);
        self.cpu_sampled
            .set(self.cpu_sampled.get().saturating_add(parked));
        if self.tracing {
            self.event(now, EventKind::ParkEnd);
            self.reactor_events(io_events, timers);
        }
    }

    /// Readiness events and timer fires outside a park (at `Level::Trace`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Trace, Default::default(), 8);
    /// t.reactor_events(2, 1);
    /// ```
    pub fn reactor_events(&self, io_events: u64, timers: u64) {
        if !self.tracing {
            self.chain.set(0); // wakers run next: anyone's code
            return;
        }
        let now = self.read();
        if io_events > 0 {
            self.event(now, EventKind::Io { events: io_events });
        }
        if timers > 0 {
            self.event(now, EventKind::TimersFired { count: timers });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Level, TaskTiming, Timing};

    #[test]
    fn a_park_moves_the_cpu_sample_past_itself_instead_of_taking_a_new_one() {
        let t = Timing::new(Level::Timing, std::time::Duration::from_secs(1), 0);
        let task = TaskTiming::new(t.now());
        // The first poll samples the CPU clock.
        let mut start = t.poll_started(1);
        t.poll_ended(&task, 1, &mut start, crate::SiteTag::NONE, true, false);
        let sampled = t.cpu_sampled.get();
        assert_ne!(sampled, 0);
        t.park_started();
        std::thread::sleep(std::time::Duration::from_millis(2));
        t.park_ended(0, 0);
        let parked = t.cpu_sampled.get() - sampled;
        // The sample is as old in loop time as before the park: the next poll (well
        // within a tenth of the threshold of loop time) does not sample again.
        assert!(
            t.clock.between(0, parked) >= std::time::Duration::from_millis(2),
            "moved by the park"
        );
        assert_eq!(t.inner.borrow().cpu.parks, 1);
        let moved = t.cpu_sampled.get();
        let mut start = t.poll_started(1);
        t.poll_ended(&task, 1, &mut start, crate::SiteTag::NONE, true, false);
        assert_eq!(t.cpu_sampled.get(), moved, "no new sample");
        assert_eq!(t.inner.borrow().cpu.parks, 1);
    }
}
