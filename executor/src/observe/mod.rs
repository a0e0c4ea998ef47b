//! The probes' event layer: what the loop tells the probes, one call per event, and
//! what it reads back. It knows tasks (`crate::raw`) and the probes crate, but not the
//! runtime: `Core` owns an [`Observer`] and calls it; nothing here calls `Core`.
//!
//! | file | what |
//! |---|---|
//! | `recorder.rs` | the [`Observer`]: counters, the timing recorder, per-task cells, the history of finished tasks, names, the hooks, and the events the turn reports |
//! | `mode.rs` | [`Mode`]: which probes run, as a type the turn picks its instance by |
//! | `stats.rs` | a task's stats for a snapshot, and how reports name it |
//! | `site.rs` | the await site a leaf future leaves when it returns `Pending` |
//! | `flight.rs` | the flight recorder's ring and files |
//! | `inspect.rs` | the inspector's published state |
//! | `console.rs` | the `console` feature's spans and waker events |
//! | `metrics.rs` | the `metrics` feature's bookkeeping |
//!
//! User code reached from here (the `on_turn` hook, a `tracing` subscriber) runs only
//! from the observer's safe points, which the turn calls where it holds no borrow.

#[cfg(feature = "console")]
pub(crate) mod console;
mod events;
mod flight;
mod inspect;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
mod mode;
mod recorder;
pub(crate) mod site;
pub(crate) mod stats;

pub(crate) use flight::{Flight, MAX_PENDING};
pub(crate) use inspect::Inspect;
pub(crate) use mode::Mode;
pub(crate) use recorder::{Observer, TurnHook};
