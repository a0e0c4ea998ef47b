//! Signals: wait for Ctrl-C, SIGTERM and the rest on the loop, as tokio's `signal`
//! module offers them.
//!
//! A listener installs a process-wide handler for its signal (through signal-hook,
//! which lets many handlers share one signal) that writes to a pipe registered with the
//! runtime's reactor, so a signal is one more readiness event: it ends a park and wakes
//! the task waiting in [`unix::Signal::recv`]. Signals that arrive while no one is
//! waiting are kept (coalesced into one) for the next `recv`.
//!
//! Installing a handler replaces the signal's default action for the rest of the
//! process (a SIGTERM no longer kills it), as in tokio: that is the point of listening.
//!
//! ```no_run
//! # let rt = turnstile::Runtime::new()?;
//! rt.block_on(async {
//!     turnstile::signal::ctrl_c().await?;
//!     println!("Ctrl-C: shutting down");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod unix;

use std::io;

/// Waits for the next Ctrl-C (SIGINT) after its first poll.
///
/// The handler is installed at the first poll and stays for the rest of the process:
/// from then on Ctrl-C no longer ends the program by itself.
///
/// # Errors
/// If the handler cannot be installed or registered with the reactor.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use std::time::Duration;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let waiting = turnstile::spawn(turnstile::signal::ctrl_c());
///     turnstile::time::sleep(Duration::from_millis(5)).await; // it is listening
///     // SAFETY (of the call): raising a signal in our own process.
///     unsafe { libc::raise(libc::SIGINT) };
///     waiting.await.unwrap()
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupt = unix::signal(unix::SignalKind::interrupt())?;
    interrupt.recv().await;
    Ok(())
}
