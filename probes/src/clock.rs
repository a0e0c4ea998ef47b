//! The cheap clock behind `Level::Timing`: raw TSC ticks, scaled to nanoseconds only
//! when a duration is needed.
//!
//! `Instant::now` costs about 45 ns on the machines this project is measured on (a
//! vDSO call plus a conversion); `rdtsc` costs about 11 ns. The loop reads this clock
//! about once per poll at `Level::Timing` (a pending poll's end is the next poll's
//! start; a wake reuses the latest reading), so the clock is most of the level's cost.
//! Under Miri, which cannot execute `rdtsc`, the clock falls back to
//! `std::time::Instant`.
//!
//! On x86-64, when quanta's raw clock is the TSC (checked at construction: its reading
//! falls between two `rdtsc`s), the clock reads `rdtsc` itself and scales with a
//! fixed-point factor taken from quanta's calibration: quanta's own `raw` and
//! `delta_as_nanos` are not inlined across crates, which cost the loop about 30
//! instructions per poll.

use std::time::Duration;

/// A point on a [`Clock`]: raw ticks, comparable only with ticks of the same clock.
pub type Ticks = u64;

/// A calibrated, monotonic, cheap clock (TSC-based where the CPU allows).
///
/// ```
/// let clock = turnstile_probes::Clock::new();
/// let a = clock.now();
/// let b = clock.now();
/// assert!(clock.nanos_between(a, b) < 1_000_000_000);
/// ```
#[derive(Clone, Debug)]
pub struct Clock {
    #[cfg(not(miri))]
    inner: quanta::Clock,
    /// Nanoseconds per 2^32 TSC ticks, when the clock reads the TSC directly.
    #[cfg(not(miri))]
    tsc_scale: Option<u64>,
    #[cfg(miri)]
    base: std::time::Instant,
}

/// One TSC reading.
#[cfg(all(target_arch = "x86_64", not(miri)))]
#[inline(always)]
fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` has no preconditions on x86-64 (every x86-64 CPU has it); it
    // only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Whether `clock`'s raw readings are the TSC, and if so its scale.
#[cfg(not(miri))]
fn tsc_scale(clock: &quanta::Clock) -> Option<u64> {
    #[cfg(target_arch = "x86_64")]
    {
        let is_tsc = (0..3).all(|_| {
            let before = rdtsc();
            let raw = clock.raw();
            let after = rdtsc();
            before <= raw && raw <= after
        });
        let scale = clock.delta_as_nanos(0, 1 << 32);
        if is_tsc && scale > 0 {
            return Some(scale);
        }
    }
    let _ = clock;
    None
}

impl Clock {
    /// A clock calibrated against the OS monotonic clock (once per process).
    ///
    /// ```
    /// let _clock = turnstile_probes::Clock::new();
    /// ```
    pub fn new() -> Self {
        #[cfg(not(miri))]
        let inner = quanta::Clock::new();
        Clock {
            #[cfg(not(miri))]
            tsc_scale: tsc_scale(&inner),
            #[cfg(not(miri))]
            inner,
            #[cfg(miri)]
            base: std::time::Instant::now(),
        }
    }

    /// The current time in raw ticks (never zero: zero means "no time" in the probes).
    ///
    /// ```
    /// assert!(turnstile_probes::Clock::new().now() > 0);
    /// ```
    #[inline(always)]
    pub fn now(&self) -> Ticks {
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        let raw = if self.tsc_scale.is_some() {
            rdtsc()
        } else {
            self.inner.raw()
        };
        #[cfg(all(not(target_arch = "x86_64"), not(miri)))]
        let raw = self.inner.raw();
        #[cfg(miri)]
        let raw = self.base.elapsed().as_nanos() as u64;
        raw | 1
    }

    /// Nanoseconds from `start` to `end` (zero if `end` is not after `start`).
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// let t = clock.now();
    /// assert_eq!(clock.nanos_between(t, t), 0);
    /// ```
    #[inline]
    pub fn nanos_between(&self, start: Ticks, end: Ticks) -> u64 {
        #[cfg(not(miri))]
        return match self.tsc_scale {
            Some(scale) if end > start => {
                ((u128::from(end - start) * u128::from(scale)) >> 32) as u64
            }
            Some(_) => 0,
            None => self.inner.delta_as_nanos(start, end),
        };
        #[cfg(miri)]
        return end.saturating_sub(start);
    }

    /// Converts a span of raw ticks (a difference of two readings) to nanoseconds. The
    /// probes keep sums and histograms in ticks and convert when they are read, so the
    /// hot path never multiplies.
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// assert_eq!(clock.ticks_to_nanos(0), 0);
    /// ```
    #[inline]
    pub fn ticks_to_nanos(&self, ticks: u64) -> u64 {
        self.nanos_between(1, ticks.saturating_add(1))
    }

    /// The time from `start` to `end` as a `Duration`.
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// let t = clock.now();
    /// assert_eq!(clock.between(t, t), std::time::Duration::ZERO);
    /// ```
    #[inline]
    pub fn between(&self, start: Ticks, end: Ticks) -> Duration {
        Duration::from_nanos(self.nanos_between(start, end))
    }

    /// Roughly how many ticks make `d` (for thresholds compared against raw ticks).
    ///
    /// ```
    /// let clock = turnstile_probes::Clock::new();
    /// assert!(clock.ticks_for(std::time::Duration::from_millis(1)) > 0);
    /// ```
    pub fn ticks_for(&self, d: Duration) -> u64 {
        // Measure the scale once: ticks per nanosecond over a known raw span.
        let probe = 1u64 << 32;
        let nanos = self.nanos_between(1, 1 + probe).max(1);
        let ticks = (d.as_nanos() * u128::from(probe) / u128::from(nanos)).max(1);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
