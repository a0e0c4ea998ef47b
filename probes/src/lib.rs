//! Probes for the turnstile executor: what the loop counts and how it reports it.
//!
//! This crate knows nothing about futures or mio. The executor owns a [`Counters`]
//! block, bumps it from its loop thread, and turns it into a [`Snapshot`] on request.
//! Every number here is about one loop *turn* (see [`Turn`]): a *poll* is one call of a
//! task's `Future::poll`, a *yield* is a poll that returned `Pending` (the task goes
//! back to the loop), and a *wake* is a call to its waker, classified by where it came
//! from ([`WakeSource`]).
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

mod counters;
mod level;
mod snapshot;
mod turn;

pub use counters::{Counter, CounterValues, Counters, WakeSource};
pub use level::Level;
pub use snapshot::{Snapshot, TaskState, TaskStats};
pub use turn::Turn;
