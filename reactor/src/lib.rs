//! The reactor under turnstile: where the loop parks, and what ends a park.
//!
//! It knows nothing about tasks. The executor drives it once per turn:
//!
//! - [`Driver`] owns the `mio::Poll`. Parking is a blocking `poll` with a timeout (the
//!   next timer deadline); a busy loop polls it with a zero timeout every
//!   `event_interval` turns. Its [`RemoteWaker`] lets other threads end a park.
//! - [`Timers`] holds pending deadlines with their wakers. Inserting and cancelling are
//!   cheap enough for a million pending sleeps, and cancelled slots are reused.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use turnstile_reactor::{Driver, Timers};
//!
//! let mut driver = Driver::new(1024)?;
//! let mut timers = Timers::new();
//! let key = timers.insert(Instant::now() + Duration::from_millis(5), None);
//! let wait = timers.next_deadline().unwrap().saturating_duration_since(Instant::now());
//! driver.poll(Some(wait))?;
//! let mut fired = Vec::new();
//! timers.fire_expired(Instant::now() + Duration::from_millis(5), &mut fired);
//! assert!(!timers.is_pending(key));
//! # Ok::<(), std::io::Error>(())
//! ```

mod driver;
mod registration;
mod timer;

pub use driver::{Driver, PollOutcome, RemoteWaker};
pub use registration::{Direction, IoKey, Orphans, Registrations};
pub use timer::{Displaced, TimerKey, Timers};
