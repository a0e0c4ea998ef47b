//! Which probes run: the turn exists in one instance per combination, chosen once per
//! turn by this type, so that an instance without a probe has none of its code.

/// Which probes a runtime runs besides the counters: a set of four flags, kept in one
/// byte so that the wake path tests several of them in one comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode(u8);

impl Mode {
    /// `Level::Timing` or above: polls are timed, stalls detected.
    const TIMED: u8 = 0b001;
    /// The flight recorder keeps its ring.
    const FLIGHT: u8 = 0b010;
    /// An inspector is served, and gets a snapshot now and then at a turn's end.
    const INSPECT: u8 = 0b100;
    /// `Level::Trace`: every wake is an event in the ring.
    const TRACE: u8 = 0b1000;

    /// The mode of a runtime that is `timed`, has a flight recorder (`flight`) and an
    /// inspector (`inspect`), and records a trace (`trace`, `Level::Trace`).
    pub(crate) fn new(timed: bool, flight: bool, inspect: bool, trace: bool) -> Self {
        let bit = |on: bool, flag: u8| if on { flag } else { 0 };
        Mode(
            bit(timed, Self::TIMED)
                | bit(flight, Self::FLIGHT)
                | bit(inspect, Self::INSPECT)
                | bit(trace, Self::TRACE),
        )
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

    /// Whether a timed task's wake of itself, during its own poll, needs nothing of the
    /// probes but the counters: `Level::Timing` without a trace or a flight recorder.
    /// The poll's end stamps such a wake (it finds the task queued again), and a task's
    /// timing cells keep no count of self-wakes (its header does).
    #[inline(always)]
    pub(crate) fn quiet_self_wakes(self) -> bool {
        self.0 & (Self::TIMED | Self::FLIGHT | Self::TRACE) == Self::TIMED
    }

    /// Whether the flight recorder is the only probe that watches wakes (no timing).
    #[inline(always)]
    pub(crate) fn flight_only(self) -> bool {
        self.0 & (Self::TIMED | Self::FLIGHT) == Self::FLIGHT
    }
}
