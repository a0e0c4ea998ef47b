//! [`Instant`]: a point on the runtime's clock, which `time::pause` can stop (`test-util`).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::driver::clock::{saturating_add, FAR_FUTURE};

/// A point in time on the current runtime's clock: `std::time::Instant`, except that
/// [`Instant::now`] reads the clock of the runtime it is called in, which a test may
/// pause and advance (`time::pause`, `time::advance`, with the `test-util` feature; see
/// `docs/testing.md`). Outside any runtime, on a runtime whose clock was never paused,
/// and always without `test-util`, it is std's `Instant::now()`.
///
/// [`sleep_until`](super::sleep_until), [`timeout_at`](super::timeout_at),
/// [`interval_at`](super::interval_at) and [`Interval::tick`](super::Interval::tick)
/// speak in these instants. Convert with [`Instant::from_std`] and
/// [`Instant::into_std`] (or `From`); the two agree until a clock is paused.
///
/// The operators are std's: `+` and `-` with a [`Duration`] panic on overflow (use
/// [`Instant::checked_add`] and [`Instant::checked_sub`] to avoid it), and
/// `later - earlier` saturates at zero, as tokio's.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{self, Instant};
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     time::sleep_until(start + Duration::from_millis(2)).await;
///     assert!(start.elapsed() >= Duration::from_millis(2));
///     assert!(Instant::now() - start >= Duration::from_millis(2));
///     let std: std::time::Instant = start.into();
///     assert_eq!(Instant::from(std), start);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current instant on the current runtime's clock (std's, outside a runtime,
    /// and always without `test-util`). On a paused clock it stands still.
    ///
    /// ```
    /// let a = turnstile::time::Instant::now();
    /// std::thread::sleep(std::time::Duration::from_millis(1));
    /// assert!(turnstile::time::Instant::now() > a); // not paused: it moves
    /// ```
    #[inline(always)]
    pub fn now() -> Instant {
        // Without `test-util` no clock can be paused, and the runtime's clock is std's.
        #[cfg(not(feature = "test-util"))]
        let std = std::time::Instant::now();
        #[cfg(feature = "test-util")]
        let std = crate::rt::context::with_current(|core| core.driver().now())
            .unwrap_or_else(std::time::Instant::now);
        Instant { std }
    }

    /// The same instant, from std's type.
    ///
    /// ```
    /// let at = std::time::Instant::now();
    /// assert_eq!(turnstile::time::Instant::from_std(at).into_std(), at);
    /// ```
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The same instant, as std's type (on a paused clock, std's instant of the same
    /// value, which std's own clock knows nothing of).
    ///
    /// ```
    /// let at = turnstile::time::Instant::now();
    /// let std: std::time::Instant = at.into_std();
    /// assert_eq!(turnstile::time::Instant::from(std), at);
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time from `earlier` to this instant; zero if `earlier` is later.
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = turnstile::time::Instant::now();
    /// let b = a + Duration::from_secs(2);
    /// assert_eq!(b.duration_since(a), Duration::from_secs(2));
    /// assert_eq!(a.duration_since(b), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time from `earlier` to this instant, or `None` if `earlier` is later.
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = turnstile::time::Instant::now();
    /// let b = a + Duration::from_secs(2);
    /// assert_eq!(b.checked_duration_since(a), Some(Duration::from_secs(2)));
    /// assert_eq!(a.checked_duration_since(b), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time from `earlier` to this instant; zero if `earlier` is later.
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = turnstile::time::Instant::now();
    /// assert_eq!(a.saturating_duration_since(a + Duration::from_secs(1)), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time since this instant on the current runtime's clock; zero if it is later
    /// than now.
    ///
    /// ```
    /// use std::time::Duration;
    /// let later = turnstile::time::Instant::now() + Duration::from_secs(60);
    /// assert_eq!(later.elapsed(), Duration::ZERO); // in the future: zero
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, or `None` if it does not fit.
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = turnstile::time::Instant::now();
    /// assert!(a.checked_add(Duration::from_secs(1)).is_some());
    /// assert!(a.checked_add(Duration::MAX).is_none());
    /// ```
    #[inline]
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if it does not fit.
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = turnstile::time::Instant::now();
    /// assert!(a.checked_sub(Duration::MAX).is_none());
    /// ```
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }

    /// `self + duration`, saturating about thirty years ahead: what a deadline that does
    /// not fit becomes.
    pub(crate) fn saturating_add(self, duration: Duration) -> Instant {
        Instant {
            std: saturating_add(self.std, duration),
        }
    }

    /// About thirty years from now: a deadline that never comes.
    #[cold]
    #[inline(never)]
    pub(crate) fn far_future() -> Instant {
        Instant::now().saturating_add(FAR_FUTURE)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(at: Instant) -> std::time::Instant {
        at.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result does not fit, as std's.
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub for Instant {
    type Output = Duration;

    /// Saturates at zero when `rhs` is later, as tokio's.
    fn sub(self, rhs: Instant) -> Duration {
        self.std.saturating_duration_since(rhs.std)
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// If the result does not fit, as std's.
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}
