//! The runtime's clock: std's, or a paused one for tests (`time::pause`).
//!
//! Every time the loop compares with a timer deadline comes from here: when a sleep is
//! due, how long a park may last, which timers have expired. Deadlines are
//! `std::time::Instant`s on this clock's scale, which is std's until the clock is first
//! paused.
//!
//! - **Real**: `now` is `Instant::now()`, after one load and one branch.
//! - **Paused**: `now` is a stored instant. It moves only by [`Clock::advance`]
//!   (`time::advance`) and [`Clock::advance_to`] (the loop's auto-advance to the next
//!   deadline, when it would park with nothing to do but wait for timers).
//! - **Resumed**: running again at std's rate from where it was paused: `now` is the
//!   instant it was resumed at plus the real time since.
//!
//! While a `spawn_blocking` job is under way the clock does not auto-advance (its result
//! is work to come, as tokio rules): each job holds an [`Inhibit`] until its carrier
//! task has taken the result (or is dropped). All arithmetic saturates: advancing past
//! what an `Instant` can hold stops at about thirty years ahead.
//!
//! Only with the `test-util` feature, as in tokio: reading a clock that may be paused
//! costs a sleep a few instructions (the thread's current runtime, a flag), which
//! callgrind sees. Without it, [`Clock`] is empty, `now` is `Instant::now()`, and the
//! paused branches of the turn are compiled out (`is_paused` is a constant `false`).

#[cfg(feature = "test-util")]
use std::cell::Cell;
#[cfg(feature = "test-util")]
use std::rc::Rc;
use std::time::{Duration, Instant};

/// What an overflowing deadline or advance becomes: roughly thirty years ahead (as in
/// tokio, whose far-future deadline is about thirty years too).
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `at + by`, or as far ahead as fits: `at + FAR_FUTURE` when that fits, else `at`.
#[inline]
pub(crate) fn saturating_add(at: Instant, by: Duration) -> Instant {
    match at.checked_add(by) {
        Some(later) => later,
        None => far_from(at, by),
    }
}

/// `saturating_add` for a sum that does not fit.
#[cold]
#[inline(never)]
fn far_from(at: Instant, by: Duration) -> Instant {
    at.checked_add(by.min(FAR_FUTURE)).unwrap_or(at)
}

/// The clock without `test-util`: std's, and nothing else.
#[cfg(not(feature = "test-util"))]
#[derive(Debug)]
pub(crate) struct Clock;

/// Without `test-util`, nothing holds auto-advance back: there is none.
#[cfg(not(feature = "test-util"))]
#[derive(Debug)]
pub(crate) struct Inhibit;

#[cfg(not(feature = "test-util"))]
impl Clock {
    /// `paused` is always false here: `Builder::start_paused` needs `test-util`.
    pub(crate) fn new(_paused: bool) -> Clock {
        Clock
    }

    /// `Instant::now()`.
    #[inline(always)]
    pub(crate) fn now(&self) -> Instant {
        Instant::now()
    }

    /// Never.
    #[inline(always)]
    pub(crate) fn is_paused(&self) -> bool {
        false
    }

    /// Unreachable without a paused clock.
    pub(crate) fn advance_to(&self, _deadline: Instant) {}

    /// Always.
    pub(crate) fn can_auto_advance(&self) -> bool {
        true
    }

    /// Nothing to hold back.
    #[inline(always)]
    pub(crate) fn inhibit(&self) -> Inhibit {
        Inhibit
    }
}

#[cfg(feature = "test-util")]
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// std's clock.
    Real,
    /// Stopped at this instant.
    Paused(Instant),
    /// Running since the real instant `since`, from the instant `base` it had then.
    Resumed { base: Instant, since: Instant },
}

#[cfg(feature = "test-util")]
/// One runtime's clock. Loop thread only.
#[derive(Debug)]
pub(crate) struct Clock {
    /// `mode` is `Real`: the one thing the normal path reads (a byte and a branch; a
    /// `match` on `mode` copies the whole enum first, about ten instructions a read).
    real: Cell<bool>,
    mode: Cell<Mode>,
    /// `spawn_blocking` jobs under way: auto-advance waits while this is above zero.
    inhibitors: Rc<Cell<usize>>,
}

#[cfg(feature = "test-util")]
/// Held for a `spawn_blocking` job under way: the clock does not auto-advance while one
/// is alive.
#[derive(Debug)]
pub(crate) struct Inhibit(Rc<Cell<usize>>);

#[cfg(feature = "test-util")]
impl Drop for Inhibit {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

#[cfg(feature = "test-util")]
impl Clock {
    /// A clock on std's time, or one paused at the current instant.
    pub(crate) fn new(paused: bool) -> Clock {
        let clock = Clock {
            real: Cell::new(true),
            mode: Cell::new(Mode::Real),
            inhibitors: Rc::new(Cell::new(0)),
        };
        if paused {
            clock.pause();
        }
        clock
    }

    /// The clock's current instant.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        if self.real.get() {
            Instant::now()
        } else {
            self.virtual_now()
        }
    }

    /// `now` on a clock that was paused at least once.
    #[cold]
    #[inline(never)]
    fn virtual_now(&self) -> Instant {
        match self.mode.get() {
            Mode::Real => Instant::now(),
            Mode::Paused(at) => at,
            Mode::Resumed { base, since } => saturating_add(base, since.elapsed()),
        }
    }

    fn set(&self, mode: Mode) {
        self.real.set(matches!(mode, Mode::Real));
        self.mode.set(mode);
    }

    /// Whether the clock is paused.
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        !self.real.get() && matches!(self.mode.get(), Mode::Paused(_))
    }

    /// Stops the clock at its current instant; false if it was paused already.
    pub(crate) fn pause(&self) -> bool {
        if self.is_paused() {
            return false;
        }
        self.set(Mode::Paused(self.now()));
        true
    }

    /// Lets a paused clock run again from where it stands; false if it was not paused.
    pub(crate) fn resume(&self) -> bool {
        let Mode::Paused(base) = self.mode.get() else {
            return false;
        };
        self.set(Mode::Resumed {
            base,
            since: Instant::now(),
        });
        true
    }

    /// Moves a paused clock forward by `by` (saturating); false if it is not paused.
    pub(crate) fn advance(&self, by: Duration) -> bool {
        let Mode::Paused(at) = self.mode.get() else {
            return false;
        };
        self.set(Mode::Paused(saturating_add(at, by)));
        true
    }

    /// Moves a paused clock forward to `deadline` if that is ahead (auto-advance).
    pub(crate) fn advance_to(&self, deadline: Instant) {
        if let Mode::Paused(at) = self.mode.get() {
            self.set(Mode::Paused(at.max(deadline)));
        }
    }

    /// Whether nothing holds auto-advance back (no `spawn_blocking` job under way).
    pub(crate) fn can_auto_advance(&self) -> bool {
        self.inhibitors.get() == 0
    }

    /// Holds auto-advance back until the guard drops.
    pub(crate) fn inhibit(&self) -> Inhibit {
        self.inhibitors.set(self.inhibitors.get() + 1);
        Inhibit(self.inhibitors.clone())
    }
}

#[cfg(all(test, feature = "test-util"))]
mod tests {
    use super::*;

    #[test]
    fn paused_clock_moves_only_when_advanced() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0);
        assert!(clock.advance(Duration::from_secs(3600)));
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        clock.advance_to(t0); // backwards: ignored
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        assert!(!clock.pause());
    }

    #[test]
    fn resumed_clock_runs_on_from_where_it_stood() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        clock.advance(Duration::from_secs(60));
        assert!(clock.resume());
        assert!(!clock.resume());
        assert!(!clock.advance(Duration::from_secs(1)));
        let now = clock.now();
        assert!(now >= t0 + Duration::from_secs(60));
        assert!(now < t0 + Duration::from_secs(3600));
    }

    #[test]
    fn advancing_saturates() {
        let clock = Clock::new(true);
        let t0 = clock.now();
        assert!(clock.advance(Duration::MAX));
        assert_eq!(clock.now(), t0 + FAR_FUTURE);
        assert!(clock.advance(Duration::MAX));
        assert_eq!(clock.now(), t0 + FAR_FUTURE + FAR_FUTURE);
    }

    #[test]
    fn blocking_jobs_inhibit_auto_advance() {
        let clock = Clock::new(true);
        let a = clock.inhibit();
        let b = clock.inhibit();
        drop(a);
        assert!(!clock.can_auto_advance());
        drop(b);
        assert!(clock.can_auto_advance());
    }
}
