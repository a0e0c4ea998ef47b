//! The public face of a runtime's flight recorder: [`FlightRecorderRef`], from
//! [`Runtime::flight_recorder`].

use std::io;
use std::path::Path;

use turnstile_probes::{write_log, TraceLog};

use super::Runtime;
use crate::rt::Core;

/// The flight recorder of a runtime, from [`Runtime::flight_recorder`].
///
/// ```
/// let rt = turnstile::Runtime::builder()
///     .flight_recorder(std::time::Duration::from_secs(1))
///     .build()?;
/// rt.block_on(turnstile::yield_now());
/// let path = std::env::temp_dir().join(format!("flight-{}.json", std::process::id()));
/// rt.flight_recorder().dump(&path)?;
/// let json = std::fs::read_to_string(&path)?;
/// assert!(json.contains("traceEvents"));
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct FlightRecorderRef<'a> {
    core: &'a Core,
}

impl std::fmt::Debug for FlightRecorderRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightRecorderRef")
            .field("on", &self.is_on())
            .finish()
    }
}

impl FlightRecorderRef<'_> {
    /// Whether the runtime was built with a flight recorder.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(!rt.flight_recorder().is_on());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_on(&self) -> bool {
        self.core.observe().flight_ring().is_some()
    }

    /// The window kept, as a trace log (empty without a flight recorder).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(1))
    ///     .build()?;
    /// rt.block_on(turnstile::yield_now());
    /// assert!(!rt.flight_recorder().log().events.is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn log(&self) -> TraceLog {
        self.core.flight_log()
    }

    /// Writes the window kept to `path` as Chrome/Perfetto trace JSON (open it in
    /// `ui.perfetto.dev`), creating its directory. Not rate-limited.
    ///
    /// # Errors
    /// If the runtime has no flight recorder, or the file cannot be written.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(rt.flight_recorder().dump("never.json").is_err()); // no recorder
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self, path: impl AsRef<Path>) -> io::Result<()> {
        if !self.is_on() {
            return Err(io::Error::other(
                "this runtime has no flight recorder: build it with Builder::flight_recorder",
            ));
        }
        let log = self.core.flight_log();
        write_log(&log, path.as_ref())
    }
}

impl Runtime {
    /// The runtime's flight recorder (see [`crate::Builder::flight_recorder`]): dump
    /// its window on demand.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(5))
    ///     .build()?;
    /// assert!(rt.flight_recorder().is_on());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder(&self) -> FlightRecorderRef<'_> {
        FlightRecorderRef { core: self.core() }
    }
}
