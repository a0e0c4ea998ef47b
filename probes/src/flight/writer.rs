//! The flight recorder's writer: one long-lived thread per runtime ("turnstile-flight")
//! that turns the windows the loop hands over into files. The thread starts with the
//! first file handed over, not before: a process with no other thread stays
//! single-threaded until then, and the C library's system-call wrappers keep their
//! single-threaded fast path (no cancellation-point bookkeeping per `recv`, `send` or
//! `epoll_wait`). Everything a dump costs but
//! the handover (placing records in time, building the trace, serialising it, writing
//! it) runs here, at a lower scheduling priority than the loop where the OS allows.
//!
//! Failures are never panics: each is counted and queued for the loop, which reports it
//! at a safe point (a `tracing` warning), and [`FlightWriter::flush`] returns it.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use super::{FlightStall, FlightWindow};

/// The writer thread's name.
pub const FLIGHT_THREAD: &str = "turnstile-flight";

/// One file to write: a window handed over, where it goes and why.
#[derive(Debug)]
pub struct FlightJob {
    /// The window.
    pub window: FlightWindow,
    /// The file.
    pub path: PathBuf,
    /// Why it is written: `"stall"`, `"watchdog"` or `"dump"`.
    pub reason: &'static str,
    /// The turn it was handed over in.
    pub turn: u64,
    /// The stall it is for, if any (for the warning if the write fails).
    pub stall: Option<FlightStall>,
    /// The async stacks stalled tasks resumed from, by task id (put on their stalls).
    pub stall_stacks: Vec<(u64, String)>,
}

/// A write that failed, for the loop to report.
#[derive(Debug)]
pub struct WriteOutcome {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub error: String,
    /// The stall it was for, if any.
    pub stall: Option<FlightStall>,
}

impl WriteOutcome {
    /// Reports it as a `tracing` warning under target `turnstile` (with the stall, if
    /// it was for one). Call it at a safe point.
    ///
    /// ```
    /// let o = turnstile_probes::WriteOutcome {
    ///     path: "x.json".into(), error: "denied".into(), stall: None,
    /// };
    /// o.warn();
    /// ```
    pub fn warn(&self) {
        let note = format!("could not write {}: {}", self.path.display(), self.error);
        match &self.stall {
            Some(stall) => stall.warn(&note),
            None => tracing::warn!(target: "turnstile", "flight recorder: {note}"),
        }
    }
}

enum Message {
    Write(Box<FlightJob>),
    Flush(mpsc::SyncSender<()>),
}

#[derive(Default)]
struct Shared {
    /// Failures not yet reported by the loop.
    failures: Mutex<Vec<WriteOutcome>>,
    has_failures: AtomicBool,
    /// Failures since the last `flush`, for its result.
    since_flush: Mutex<Vec<String>>,
    pending: AtomicUsize,
    written: AtomicU64,
    failed: AtomicU64,
}

/// The writer thread and the queue to it. Dropping it lets the thread finish the files
/// handed over, then joins it.
///
/// ```
/// use turnstile_probes::{FlightJob, FlightRecorder, FlightWriter};
/// let writer = FlightWriter::spawn()?;
/// let f = FlightRecorder::new(std::time::Duration::from_secs(1), Default::default());
/// f.turn_started(1);
/// let path = std::env::temp_dir().join(format!("flight-writer-{}.json", std::process::id()));
/// writer.submit(FlightJob {
///     window: f.handover(f.now(), Vec::new()), path: path.clone(), reason: "dump",
///     turn: 1, stall: None, stall_stacks: Vec::new(),
/// })?;
/// writer.flush()?;
/// let file = turnstile_probes::read_flight_file(&path)?;
/// assert_eq!(file.meta.unwrap().written_by, "turnstile-flight");
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FlightWriter {
    /// The thread and the queue to it, once the first file is handed over.
    thread: OnceLock<Thread>,
    shared: Arc<Shared>,
}

struct Thread {
    tx: Option<mpsc::Sender<Message>>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FlightWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightWriter")
            .field("pending", &self.pending())
            .field("written", &self.written())
            .field("failed", &self.failed())
            .finish()
    }
}

impl FlightWriter {
    /// Makes the writer. Its thread starts with the first file handed over
    /// ([`FlightWriter::submit`]).
    ///
    /// # Errors
    /// None so far: the thread is spawned later, and `submit` reports a failure to
    /// spawn it.
    ///
    /// ```
    /// let w = turnstile_probes::FlightWriter::spawn()?;
    /// assert_eq!((w.pending(), w.started()), (0, false));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn() -> io::Result<Self> {
        Ok(FlightWriter {
            thread: OnceLock::new(),
            shared: Arc::new(Shared::default()),
        })
    }

    /// Whether the thread has started (a file was handed over).
    ///
    /// ```
    /// assert!(!turnstile_probes::FlightWriter::spawn()?.started());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn started(&self) -> bool {
        self.thread.get().is_some()
    }

    /// The thread, started now if it was not.
    fn thread(&self) -> io::Result<&Thread> {
        if let Some(thread) = self.thread.get() {
            return Ok(thread);
        }
        let (tx, rx) = mpsc::channel::<Message>();
        let theirs = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name(FLIGHT_THREAD.into())
            .spawn(move || {
                lower_priority();
                for message in rx {
                    match message {
                        Message::Write(job) => write(&theirs, *job),
                        Message::Flush(done) => {
                            let _ = done.send(());
                        }
                    }
                }
            })?;
        let _ = self.thread.set(Thread {
            tx: Some(tx),
            handle: Some(handle),
        });
        self.thread.get().ok_or_else(gone)
    }

    /// Hands a file to the thread (a channel send: no waiting), starting the thread
    /// if this is the first.
    ///
    /// # Errors
    /// If the thread cannot be started or is gone.
    ///
    /// ```
    /// # let w = turnstile_probes::FlightWriter::spawn()?;
    /// # let _ = &w;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn submit(&self, job: FlightJob) -> io::Result<()> {
        let tx = self.thread()?.tx.as_ref().ok_or_else(gone)?;
        self.shared.pending.fetch_add(1, Ordering::Relaxed);
        tx.send(Message::Write(Box::new(job))).map_err(|_| {
            self.shared.pending.fetch_sub(1, Ordering::Relaxed);
            gone()
        })
    }

    /// Files handed over and not yet written.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::FlightWriter::spawn()?.pending(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn pending(&self) -> usize {
        self.shared.pending.load(Ordering::Relaxed)
    }

    /// Files written.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::FlightWriter::spawn()?.written(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn written(&self) -> u64 {
        self.shared.written.load(Ordering::Relaxed)
    }

    /// Files that could not be written.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::FlightWriter::spawn()?.failed(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn failed(&self) -> u64 {
        self.shared.failed.load(Ordering::Relaxed)
    }

    /// Whether failures wait to be reported (one relaxed load: the loop asks each turn).
    ///
    /// ```
    /// assert!(!turnstile_probes::FlightWriter::spawn()?.has_failures());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn has_failures(&self) -> bool {
        self.shared.has_failures.load(Ordering::Relaxed)
    }

    /// Takes the failures not yet reported.
    ///
    /// ```
    /// assert!(turnstile_probes::FlightWriter::spawn()?.take_failures().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_failures(&self) -> Vec<WriteOutcome> {
        let mut failures = lock(&self.shared.failures);
        self.shared.has_failures.store(false, Ordering::Relaxed);
        std::mem::take(&mut *failures)
    }

    /// Waits until every file handed over so far is written (or failed).
    ///
    /// # Errors
    /// The first write that failed since the last flush, or if the thread is gone.
    ///
    /// ```
    /// turnstile_probes::FlightWriter::spawn()?.flush()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flush(&self) -> io::Result<()> {
        let Some(thread) = self.thread.get() else {
            return Ok(()); // nothing was ever handed over
        };
        let tx = thread.tx.as_ref().ok_or_else(gone)?;
        let (done, wait) = mpsc::sync_channel(1);
        tx.send(Message::Flush(done)).map_err(|_| gone())?;
        wait.recv().map_err(|_| gone())?;
        let failures = std::mem::take(&mut *lock(&self.shared.since_flush));
        match failures.into_iter().next() {
            Some(first) => Err(io::Error::other(first)),
            None => Ok(()),
        }
    }
}

impl Drop for FlightWriter {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.get_mut() {
            drop(thread.tx.take());
            if let Some(handle) = thread.handle.take() {
                let _ = handle.join();
            }
        }
        for failure in self.take_failures() {
            failure.warn();
        }
    }
}

fn gone() -> io::Error {
    io::Error::other("the flight recorder's writer thread is gone")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes one file on the writer thread; a failure (or a panic in the exporter) is
/// counted and queued, never propagated.
fn write(shared: &Shared, job: FlightJob) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        super::file::write_job(&job)
    }));
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some("the exporter panicked".to_owned()),
    };
    match error {
        None => {
            shared.written.fetch_add(1, Ordering::Relaxed);
        }
        Some(error) => {
            shared.failed.fetch_add(1, Ordering::Relaxed);
            lock(&shared.since_flush)
                .push(format!("could not write {}: {error}", job.path.display()));
            lock(&shared.failures).push(WriteOutcome {
                path: job.path,
                error,
                stall: job.stall,
            });
            shared.has_failures.store(true, Ordering::Relaxed);
        }
    }
    shared.pending.fetch_sub(1, Ordering::Relaxed);
}

/// Lets the loop go first on a busy machine: the writer runs at nice 10.
fn lower_priority() {
    #[cfg(all(target_os = "linux", not(miri)))]
    // SAFETY: `gettid` has no preconditions; `setpriority` on this thread's own id only
    // changes its nice value, and a failure (a policy that forbids it) is ignored.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}
