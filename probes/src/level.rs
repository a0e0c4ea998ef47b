//! How much the probes record.

use serde::{Deserialize, Serialize};

/// How much the runtime records, from nothing to a full event trace.
///
/// Levels are ordered: each records everything the one before it does.
///
/// ```
/// use turnstile_probes::Level;
/// assert!(Level::Timing > Level::Counters);
/// assert!(Level::Off.is_off());
/// ```
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Level {
    /// Nothing is recorded: the baseline for overhead figures.
    Off,
    /// Plain counters, bumped on the loop thread (about a nanosecond each).
    Counters,
    /// Counters plus timestamps around each poll, histograms and stall detection.
    #[default]
    Timing,
    /// Timing plus a bounded ring buffer of loop events.
    Trace,
}

impl Level {
    /// True when nothing is recorded.
    ///
    /// ```
    /// assert!(!turnstile_probes::Level::Counters.is_off());
    /// ```
    pub fn is_off(self) -> bool {
        self == Level::Off
    }

    /// True when counters are recorded (every level but `Off`).
    ///
    /// ```
    /// assert!(turnstile_probes::Level::Trace.counts());
    /// ```
    pub fn counts(self) -> bool {
        self >= Level::Counters
    }
}
