//! The public face of a runtime's flight recorder: [`FlightRecorderRef`], from
//! [`Runtime::flight_recorder`].

use std::io;
use std::path::Path;
use std::time::Duration;

use turnstile_probes::{FlightOwnTime, TraceLog};

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
/// rt.flight_recorder().dump(&path)?; // handed to the recorder's thread
/// rt.flight_recorder().flush()?; // and written
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

    /// The window kept, as a trace log (empty without a flight recorder), built on the
    /// calling thread: in a service, prefer [`FlightRecorderRef::dump`], which builds
    /// it on the recorder's.
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

    /// Hands the window kept to the recorder's thread (`turnstile-flight`), which
    /// writes it to `path` as Chrome/Perfetto trace JSON (open it in
    /// `ui.perfetto.dev`; read it back with [`crate::probes::read_flight_file`]),
    /// creating its directory. Not rate-limited. The loop's share is the handover only
    /// (returned, and counted in [`FlightRecorderRef::own_time`]); a write that fails
    /// is reported as a `tracing` warning and by [`FlightRecorderRef::flush`].
    ///
    /// # Errors
    /// If the runtime has no flight recorder, or its thread is gone.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// assert!(rt.flight_recorder().dump("never.json").is_err()); // no recorder
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self, path: impl AsRef<Path>) -> io::Result<Duration> {
        self.core.flight_dump(path.as_ref().to_path_buf())
    }

    /// Waits until every file handed over so far (by a stall, the watchdog or
    /// [`FlightRecorderRef::dump`]) is written. Meant for tests and shutdown: called
    /// from a task, it blocks the loop while the files are written. Dropping the
    /// runtime waits for them too.
    ///
    /// # Errors
    /// The first write that failed since the last flush (each failure is also a
    /// `tracing` warning), or if the runtime has no flight recorder.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(1))
    ///     .build()?;
    /// rt.flight_recorder().flush()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flush(&self) -> io::Result<()> {
        self.core.flight_flush()
    }

    /// The recorder's own time on the loop so far: its dumps' handovers and its
    /// segments' seals (all zero without a recorder).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(1))
    ///     .build()?;
    /// rt.flight_recorder().dump(std::env::temp_dir().join("own-time.json"))?;
    /// assert_eq!(rt.flight_recorder().own_time().handovers, 1);
    /// # rt.flight_recorder().flush()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn own_time(&self) -> FlightOwnTime {
        self.core
            .observe()
            .flight_ring()
            .map(|f| f.own_time())
            .unwrap_or_default()
    }

    /// Files the recorder's thread has written, and those it could not write.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(1))
    ///     .build()?;
    /// assert_eq!(rt.flight_recorder().files(), (0, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn files(&self) -> (u64, u64) {
        self.core
            .observe()
            .flight()
            .map_or((0, 0), |f| (f.writer.written(), f.writer.failed()))
    }

    /// The most records the ring keeps (see [`crate::Builder::flight_recorder_max_records`];
    /// zero without a recorder).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(1))
    ///     .build()?;
    /// assert_eq!(rt.flight_recorder().max_records(), turnstile::probes::FLIGHT_MAX_RECORDS);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_records(&self) -> usize {
        self.core
            .observe()
            .flight_ring()
            .map_or(0, |f| f.max_records())
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
