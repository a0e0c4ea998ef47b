//! `spawn_blocking`: run a blocking closure on a thread pool, await it from the loop
//! (the carrier task that awaits it is the loop's: `rt/blocking.rs`).

use std::panic::Location;

use crate::rt::context;
use crate::rt::join::JoinHandle;

/// Runs `f` on the runtime's blocking pool and returns a handle to its result.
///
/// Use it for work that would stall the loop: blocking system calls, or computation
/// long enough to delay the other tasks. The loop keeps running while `f` does.
///
/// # Panics
/// Outside `Runtime::block_on`.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let sum = rt.block_on(async {
///     turnstile::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 5050);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let at = Location::caller();
    match context::with_current(|core| core.spawn_blocking(f, at)) {
        Some(handle) => handle,
        None => panic!(
            "turnstile::spawn_blocking called at {at} outside a runtime: call it from \
             inside Runtime::block_on"
        ),
    }
}
