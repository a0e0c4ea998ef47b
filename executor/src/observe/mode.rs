//! Which probes run: the turn exists in one instance per combination, chosen once per
//! turn by this type, so that an instance without a probe has none of its code.

/// Which probes a runtime runs besides the counters: a set of three flags, kept in one
/// byte so that the wake path tests two of them in one comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode(u8);

impl Mode {
    /// `Level::Timing` or above: polls are timed, stalls detected.
    const TIMED: u8 = 0b001;
    /// The flight recorder keeps its ring.
    const FLIGHT: u8 = 0b010;
    /// An inspector is served, and gets a snapshot now and then at a turn's end.
    const INSPECT: u8 = 0b100;

    /// The mode of a runtime that is `timed`, has a flight recorder (`flight`) and an
    /// inspector (`inspect`).
    pub(crate) fn new(timed: bool, flight: bool, inspect: bool) -> Self {
        let bit = |on: bool, flag: u8| if on { flag } else { 0 };
        Mode(bit(timed, Self::TIMED) | bit(flight, Self::FLIGHT) | bit(inspect, Self::INSPECT))
    }

    /// Whether polls are timed (`Level::Timing` and above).
    #[inline(always)]
    pub(crate) fn timed(self) -> bool {
        self.0 & Self::TIMED != 0
    }

    /// Whether the flight recorder runs.
    #[inline(always)]
    pub(crate) fn flight(self) -> bool {
        self.0 & Self::FLIGHT != 0
    }

    /// Whether an inspector is served.
    #[inline(always)]
    pub(crate) fn inspect(self) -> bool {
        self.0 & Self::INSPECT != 0
    }

    /// Whether a task's wakes take the slow path (its `TIMED` bit): timing cells to
    /// stamp, or a flight recorder to tell.
    #[inline(always)]
    pub(crate) fn watches_wakes(self) -> bool {
        self.0 & (Self::TIMED | Self::FLIGHT) != 0
    }

    /// Whether the flight recorder is the only probe that watches wakes (no timing).
    #[inline(always)]
    pub(crate) fn flight_only(self) -> bool {
        self.0 & (Self::TIMED | Self::FLIGHT) == Self::FLIGHT
    }
}
