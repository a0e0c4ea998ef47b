//! Time: `sleep`, `sleep_until`, `timeout`, `timeout_at`, `interval` and `interval_at`,
//! on the runtime's timers, and the runtime's clock ([`Instant`]), which tests may
//! pause, advance and resume with the `test-util` feature (`pause`, `advance`,
//! `resume`; see `docs/testing.md`).
//!
//! A [`Sleep`] registers a timer on its first poll (unless its deadline has already
//! passed, in which case it completes without reaching the loop) and learns that the
//! timer fired when its key no longer names a pending timer. Dropping a pending `Sleep`
//! on the loop thread cancels its timer and frees the slot. A `Sleep` is `Send + Sync`;
//! one dropped elsewhere cannot reach its runtime, and its timer simply fires into a
//! no-op at its deadline.
//!
//! Timers fire when the loop drives its reactor: whenever it parks, and every
//! `event_interval` task polls while it is busy.
//!
//! One file each: `sleep.rs` ([`Sleep`]), `timeout.rs` ([`Timeout`], [`Elapsed`]),
//! `interval.rs` ([`Interval`], [`MissedTickBehavior`]), `instant.rs` ([`Instant`]),
//! `pause.rs` (`pause`, `resume`, `advance`, with `test-util`).

mod instant;
mod interval;
#[cfg(feature = "test-util")]
mod pause;
mod sleep;
mod timeout;

pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
#[cfg(feature = "test-util")]
pub use pause::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
