//! Which probes run: the turn exists in one instance per combination, chosen once per
//! turn by this type, so that an instance without a probe has none of its code.

/// Which probes a runtime runs besides the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode {
    /// `Level::Timing` or above: polls are timed, stalls detected.
    pub(crate) timed: bool,
    /// The flight recorder keeps its ring.
    pub(crate) flight: bool,
    /// An inspector is served, and gets a snapshot now and then at a turn's end.
    pub(crate) inspect: bool,
}

impl Mode {
    /// Whether a task's wakes take the slow path (its `TIMED` bit): timing cells to
    /// stamp, or a flight recorder to tell.
    #[inline(always)]
    pub(crate) fn watches_wakes(self) -> bool {
        self.timed || self.flight
    }

    /// Whether the flight recorder is the only probe that watches wakes (no timing).
    #[inline(always)]
    pub(crate) fn flight_only(self) -> bool {
        self.flight && !self.timed
    }
}
