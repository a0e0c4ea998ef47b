//! Probes for the turnstile executor: what the loop counts and how it reports it.
//!
//! This crate knows nothing about futures or mio. The executor owns a [`Counters`]
//! block, bumps it from its loop thread, and turns it into a [`Snapshot`] on request.
//! Every number here is about one loop *turn* (see [`Turn`]): a *poll* is one call of a
//! task's `Future::poll`, a *yield* is a poll that returned `Pending` (the task goes
//! back to the loop), and a *wake* is a call to its waker, classified by where it came
//! from ([`WakeSource`]).
//!
//! At `Level::Timing` the executor also keeps a [`Timing`] recorder: a TSC [`Clock`]
//! around every poll, [`LatencyHistogram`]s, await [`Sites`], [`StallReport`]s, a
//! [`Watchdog`], [`LostWaker`] reports, the [`AsyncStack`]s of `#[turnstile::instrument]`ed
//! code, and at `Level::Trace` a [`TraceRing`] of events
//! with its exporters ([`TraceLog::narrate`], [`TraceLog::to_chrome_json`]).
//!
//! ```
//! use turnstile_probes::{Counters, Level, WakeSource};
//!
//! let counters = Counters::new(Level::Counters);
//! counters.record_wake(WakeSource::Timer);
//! counters.record_wake(WakeSource::SelfWake);
//! let c = counters.get();
//! assert_eq!((c.wakes, c.wakes_timer, c.wakes_self), (2, 1, 1));
//! ```

mod clock;
mod counters;
mod export;
mod flight;
mod histogram;
mod inspect;
mod level;
mod loop_thread;
mod lost;
mod os;
mod outbox;
mod record;
mod sched;
mod sites;
mod snapshot;
mod stack;
mod stall;
mod task_timing;
mod timing;
mod trace;
mod turn;
mod watchdog;

pub use clock::{Clock, Ticks};
pub use counters::{Counter, CounterValues, Counters, WakeSource};
pub use flight::{
    read_flight_file, write_log, FlightFile, FlightFiles, FlightJob, FlightMeta, FlightOwnTime,
    FlightRecorder, FlightStall, FlightWindow, FlightWriter, TaskLabel, WriteOutcome, EXACT_TURNS,
    FLIGHT_CAPACITY, FLIGHT_MAX_RECORDS, FLIGHT_SEGMENT, FLIGHT_THREAD, SPARSE_BATCH, SPARSE_EVERY,
};
pub use histogram::{
    BucketCounts, LatencyHistogram, LatencySummary, BUCKET_BOUNDS, BUCKET_BOUNDS_NS,
};
pub use inspect::{
    inspect, inspect_json, InspectReport, InspectState, Inspector, LoopState, LoopTask,
};
pub use level::Level;
pub use lost::LostWaker;
pub use os::{thread_cpu_time, ContextSwitches};
pub use outbox::{Outbox, Outgoing};
pub use record::{
    Origin, RecordedSite, RecordedTask, Recording, RecordingError, RECORDING_FORMAT,
    RECORDING_VERSION, RECORD_LIMIT,
};
pub use sched::StallTimes;
pub use sites::{short_path, SiteCell, SiteId, SiteStats, SiteTag, Sites};
pub use snapshot::{Snapshot, TaskState, TaskStats, WakesBySource};
pub use stack::{AsyncStack, Frame, StackFrame, STACK_DEPTH};
pub use stall::{ReadinessAfter, StallKind, StallReport};
pub use task_timing::TaskTiming;
pub use timing::{PollStarted, TaskInfo, Timing};
pub use trace::{Event, EventKind, TraceLog, TraceRing, TRACE_CAPACITY};
pub use turn::Turn;
pub use watchdog::{Beacon, Capture, Watchdog, WatchdogHook, WatchdogReport};
