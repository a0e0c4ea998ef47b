//! The paused clock, for tests: [`pause`], [`resume`], [`advance`]. The clock itself is
//! the driver's (`driver/clock.rs`); the loop's auto-advance is in `rt/turn.rs`.

use std::time::Duration;

use crate::rt::context;
use crate::rt::Core;

/// Runs `f` on the current runtime's core; panics, naming `what`, outside one.
#[track_caller]
fn on_current<T>(what: &str, f: impl FnOnce(&Core) -> T) -> T {
    match context::with_current(f) {
        Some(out) => out,
        None => panic!("turnstile::time::{what} called outside a turnstile runtime"),
    }
}

/// Stops the current runtime's clock where it stands.
///
/// From then on [`Instant::now`](super::Instant::now) returns the same instant, until
/// [`advance`] moves it, or until the loop has nothing to do but wait for a timer: then
/// the clock jumps to the timer's deadline at once (auto-advance), so a sleep of an hour
/// completes in microseconds, at exactly the hour. As in tokio, auto-advance does not
/// wait for I/O that has not arrived (a socket already ready is looked at first), and
/// does not happen while a [`spawn_blocking`](crate::spawn_blocking) job is under way.
/// `std::time::Instant` is not affected. [`Builder::start_paused`](crate::Builder::start_paused)
/// starts a runtime paused. See `docs/testing.md`.
///
/// # Panics
/// Outside a runtime (`block_on` or `Runtime::enter`), or if the clock is paused
/// already.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{self, Instant};
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await;
///     assert_eq!(Instant::now(), start + Duration::from_secs(3600));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn pause() {
    if !on_current("pause", |core| core.driver().clock().pause()) {
        panic!("turnstile::time::pause: the clock is already paused");
    }
}

/// Lets a paused clock run again, at std's rate, from the instant it stands at (which
/// is ahead of std's clock by whatever it was advanced, behind by the real time it was
/// paused for).
///
/// # Panics
/// Outside a runtime, or if the clock is not paused.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{self, Instant};
///
/// let rt = turnstile::Runtime::builder().start_paused(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     time::advance(Duration::from_secs(60)).await;
///     time::resume();
///     time::sleep(Duration::from_millis(1)).await; // a real millisecond
///     assert!(Instant::now() >= start + Duration::from_millis(60_001));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn resume() {
    if !on_current("resume", |core| core.driver().clock().resume()) {
        panic!("turnstile::time::resume: the clock is not paused");
    }
}

/// Moves the paused clock forward by `duration`, then yields once so that the timers
/// now due fire: the tasks whose sleeps ended are polled, in deadline order, before
/// this returns (those that then wait on something else go on waiting).
///
/// The jump is one step: every timer due by the new instant fires "at the same time",
/// and a task that reads [`Instant::now`](super::Instant::now) after its sleep sees the
/// new instant, not its deadline. To stop at each deadline, sleep instead and let
/// auto-advance (see [`pause`]) do it. An advance past what an `Instant` holds stops
/// about thirty years ahead; it never panics on a long duration.
///
/// # Panics
/// Outside a runtime, or if the clock is not paused.
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{self, Instant};
///
/// let rt = turnstile::Runtime::builder().start_paused(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let task = turnstile::spawn(async {
///         time::sleep(Duration::from_secs(5)).await;
///         Instant::now()
///     });
///     turnstile::yield_now().await; // the task starts its sleep
///     time::advance(Duration::from_secs(8)).await;
///     assert!(task.is_finished());
///     assert_eq!(task.await.unwrap(), start + Duration::from_secs(8));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn advance(duration: Duration) {
    let advanced = on_current("advance", |core| {
        let advanced = core.driver().clock().advance(duration);
        // The next turn fires the timers now due, even if the loop stays busy.
        core.driver().poll_soon();
        advanced
    });
    if !advanced {
        panic!("turnstile::time::advance: the clock is not paused (call time::pause first)");
    }
    crate::task::yield_now().await;
}
