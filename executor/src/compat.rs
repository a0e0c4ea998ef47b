//! The bridge for crates that need a tokio runtime's context (the `compat` feature):
//! async-compat's [`Compat`], re-exported. A future wrapped in it is polled inside the
//! context of a tokio runtime that async-compat keeps on a thread of its own, so
//! `tokio::time::sleep` and the crates built on tokio's timers (tower-http's
//! `TimeoutLayer`: both are tested) find the timers they look for, instead of
//! panicking with "there is no reactor running, must be called from the context of a
//! Tokio 1.x runtime". `tokio::net` is served the same way when tokio's `net` feature
//! is compiled in (the bridge's runtime enables every driver tokio was built with).
//!
//! Reach for it only for what turnstile has no answer to: turnstile's sockets speak
//! tokio's I/O traits (the `tokio-io` feature), tokio::sync needs no bridge at all, and
//! `turnstile::time` and `turnstile::tower::TimeoutLayer` cover timers and request
//! timeouts natively.
//!
//! # What the probes see through it
//!
//! The wrapped future is polled by turnstile's loop as any other: its polls, yields
//! and stalls are counted and timed, in the task that awaits it. What it waits for is
//! not turnstile's: a tokio timer or socket fires on async-compat's thread, so its
//! wake arrives as a **remote wake** (`wakes_remote`, not `wakes_timer` or
//! `wakes_io`), the wait leaves no await site of turnstile's own (name it with
//! [`ProbeExt::probe`](crate::probes::ProbeExt::probe)), and the reactor's counters
//! (socket reads, timers fired) do not include tokio's. The tokio runtime's own work
//! runs on its thread, outside the loop's CPU time.
//!
//! ```
//! use std::time::Duration;
//!
//! use turnstile::compat::CompatExt;
//!
//! let rt = turnstile::Runtime::builder().probes(turnstile::probes::Level::Counters).build()?;
//! rt.block_on(async {
//!     turnstile::spawn(async { tokio::time::sleep(Duration::from_millis(5)).await }.compat())
//!         .await
//!         .unwrap();
//! });
//! // tokio's timer thread woke the task: a remote wake, not one of turnstile's timers.
//! assert_eq!(rt.probes().counters.wakes_remote, 1);
//! assert_eq!(rt.probes().counters.timers_fired, 0);
//! # Ok::<(), std::io::Error>(())
//! ```

pub use async_compat::{Compat, CompatExt};
