//! The flight recorder: the last stretch of loop events, kept in a ring of compact
//! records cheap enough to leave on in a service, and turned into a Chrome/Perfetto
//! trace when something goes wrong (a stall, a watchdog report) or on demand.
//!
//! It works at every probe level, `Off` included, and shares nothing with the
//! `Level::Trace` ring but the exporter: a [`FlightRecorder::log`] is a [`TraceLog`], so
//! the file it writes is the one [`TraceLog::to_chrome_json`] makes.
//!
//! What makes it cheap is the clock. One TSC read costs more than a whole untimed yield
//! on the machines this project is measured on (about 13 ns against 10), so the recorder
//! reads it once per turn (its start and end) and, within a turn, once per poll only
//! while the batch is small: a batch of more than [`SPARSE_BATCH`] tasks reads it every
//! [`SPARSE_EVERY`]th poll. Every poll and every wake is still a record (16 bytes, two
//! stores); an untimed poll's end is placed, when the log is read, evenly between the
//! readings around it. A stall is a gap between two readings longer than the stall
//! threshold: exact (one poll in the gap) in a small batch; in a large one it is one of
//! at most `SPARSE_EVERY` polls, named together, and the recorder then reads the clock
//! at every poll for the next [`EXACT_TURNS`] turns so that a stall that comes back is
//! pinned to its task.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::clock::{Clock, Ticks};
use crate::counters::WakeSource;
use crate::trace::{Event, EventKind, TraceLog};

/// Records the ring keeps (a power of two: 1 MiB of 16-byte records).
pub const FLIGHT_CAPACITY: usize = 1 << 16;
/// Batches larger than this read the clock every [`SPARSE_EVERY`]th poll only.
pub const SPARSE_BATCH: usize = 32;
/// How often a large batch reads the clock, in polls.
pub const SPARSE_EVERY: u32 = 8;
/// Turns timed at every poll after a stall that a large batch could not pin down.
pub const EXACT_TURNS: u32 = 1_000;

/// Record kinds, in the top four bits of [`Record::word`].
const TURN_START: u64 = 1;
const TURN_END: u64 = 2;
const POLL: u64 = 3;
const POLL_DONE: u64 = 4;
const WAKE: u64 = 5;
const PARK_START: u64 = 6;
const PARK_END: u64 = 7;
const IO: u64 = 8;
const TIMERS: u64 = 9;
const KIND_SHIFT: u32 = 60;
/// A wake's source sits in the three bits below the kind.
const SOURCE_SHIFT: u32 = 57;
const ARG_MASK: u64 = (1 << SOURCE_SHIFT) - 1;

/// One event: when (zero: no clock read, placed when the log is read) and what.
#[derive(Clone, Copy, Debug, Default)]
struct Record {
    at: Ticks,
    word: u64,
}

impl Record {
    fn kind(self) -> u64 {
        self.word >> KIND_SHIFT
    }
    fn arg(self) -> u64 {
        self.word & ARG_MASK
    }
}

/// A stall the recorder saw, waiting for the end of its turn to be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlightStall {
    /// The turn it happened in.
    pub turn: u64,
    /// The task that stalled, or the tasks among which one did (a large batch).
    pub tasks: Vec<u64>,
    /// How long the gap between clock readings that contains it lasted.
    pub duration: Duration,
    /// What found it: `"stall"` (the loop, after the poll) or `"watchdog"`.
    pub reason: &'static str,
}

/// The ring of compact records and the stall detection on it. Loop thread only: every
/// field is a `Cell`, so recording takes no borrow.
///
/// ```
/// use std::time::Duration;
/// use turnstile_probes::FlightRecorder;
///
/// let f = FlightRecorder::new(Duration::from_secs(1), Duration::from_secs(60));
/// f.turn_started(1);
/// f.batch(1);
/// f.poll_ended(7, false);
/// f.turn_ended(1, 0);
/// let log = f.log(Default::default());
/// assert!(log.events.iter().any(|e| e.kind == turnstile_probes::EventKind::PollStart { task: 7 }));
/// assert!(f.take_stall().is_none());
/// ```
pub struct FlightRecorder {
    clock: Clock,
    /// The clock when the recorder was made: trace times count from here.
    origin: Ticks,
    /// A fixed-size array, so that indexing by `head & (FLIGHT_CAPACITY - 1)` needs
    /// no bounds check.
    records: Box<[Cell<Record>; FLIGHT_CAPACITY]>,
    /// Records written so far (the next goes at `head & (len - 1)`).
    head: Cell<usize>,
    /// The latest clock reading.
    last: Cell<Ticks>,
    /// Polls since `last` was read.
    untimed: Cell<u32>,
    /// Polls per clock read in this batch: 1, or `SPARSE_EVERY` in a large batch.
    every: Cell<u32>,
    /// Turns left that read the clock at every poll (after a group stall).
    exact_turns: Cell<u32>,
    turn: Cell<u64>,
    stall_ticks: u64,
    window: Duration,
    stall: Cell<Option<Box<FlightStall>>>,
}

impl std::fmt::Debug for FlightRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightRecorder")
            .field("window", &self.window)
            .field("recorded", &self.head.get())
            .field("turn", &self.turn.get())
            .finish_non_exhaustive()
    }
}

impl FlightRecorder {
    /// A recorder that keeps the last `window` of events (at most [`FLIGHT_CAPACITY`]
    /// of them) and calls a gap between clock readings longer than `stall_threshold`
    /// a stall.
    ///
    /// ```
    /// let f = turnstile_probes::FlightRecorder::new(
    ///     std::time::Duration::from_secs(2), std::time::Duration::from_millis(10));
    /// assert_eq!(f.window(), std::time::Duration::from_secs(2));
    /// ```
    pub fn new(window: Duration, stall_threshold: Duration) -> Self {
        let clock = Clock::new();
        let origin = clock.now();
        let stall_ticks = clock.ticks_for(stall_threshold).max(1);
        FlightRecorder {
            records: (0..FLIGHT_CAPACITY)
                .map(|_| Cell::new(Record::default()))
                .collect::<Box<[_]>>()
                .try_into()
                .expect("FLIGHT_CAPACITY records"),
            head: Cell::new(0),
            last: Cell::new(origin),
            untimed: Cell::new(0),
            every: Cell::new(1),
            exact_turns: Cell::new(0),
            turn: Cell::new(0),
            stall_ticks,
            window,
            stall: Cell::new(None),
            clock,
            origin,
        }
    }

    /// The window kept.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// assert_eq!(f.window(), std::time::Duration::ZERO);
    /// ```
    pub fn window(&self) -> Duration {
        self.window
    }

    #[inline(always)]
    fn push(&self, at: Ticks, kind: u64, arg: u64) {
        let head = self.head.get();
        let slot = head & (FLIGHT_CAPACITY - 1);
        // `records` has exactly FLIGHT_CAPACITY entries: the index is in bounds, and
        // the compiler sees it from the array's type (no bounds check).
        self.records[slot].set(Record {
            at,
            word: (kind << KIND_SHIFT) | (arg & ARG_MASK),
        });
        self.head.set(head.wrapping_add(1));
    }

    /// Reads the clock; a gap since the last reading longer than the threshold that
    /// held `polls` polls (the last of them `task`) is a stall.
    #[inline(always)]
    fn stamp(&self, task: Option<u64>, polls: u32) -> Ticks {
        let now = self.clock.now();
        let gap = now.wrapping_sub(self.last.get());
        self.untimed.set(0);
        if gap > self.stall_ticks && polls > 0 && gap < u64::MAX / 2 {
            self.stalled(gap, polls, task);
        }
        self.last.set(now);
        now
    }

    /// A turn begins.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_started(1);
    /// ```
    #[inline]
    pub fn turn_started(&self, turn: u64) {
        self.turn.set(turn);
        let now = self.stamp(None, self.untimed.get());
        self.push(now, TURN_START, turn);
    }

    /// The turn's batch of `len` tasks is about to be polled: it decides how often the
    /// clock is read in it.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.batch(100);
    /// ```
    #[inline]
    pub fn batch(&self, len: usize) {
        let exact = self.exact_turns.get();
        let every = if len > SPARSE_BATCH && exact == 0 {
            SPARSE_EVERY
        } else {
            self.exact_turns.set(exact.saturating_sub(1));
            1
        };
        self.every.set(every);
    }

    /// A poll of `task` (0: the `block_on` future) returned; `done` if it finished.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.poll_ended(3, true);
    /// ```
    #[inline(always)]
    pub fn poll_ended(&self, task: u64, done: bool) {
        let kind = if done { POLL_DONE } else { POLL };
        let polls = self.untimed.get() + 1;
        if polls >= self.every.get() {
            let now = self.stamp(Some(task), polls);
            self.push(now, kind, task);
        } else {
            self.untimed.set(polls);
            self.push(0, kind, task);
        }
    }

    /// A wake queued `target` (0: the `block_on` future). No clock read: it is placed
    /// between the readings around it.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.woken(2, turnstile_probes::WakeSource::Io);
    /// ```
    #[inline(always)]
    pub fn woken(&self, target: u64, source: WakeSource) {
        let source = match source {
            WakeSource::SelfWake => 0,
            WakeSource::Local => 1,
            WakeSource::Remote => 2,
            WakeSource::Io => 3,
            WakeSource::Timer => 4,
        };
        self.push(0, WAKE, (source << SOURCE_SHIFT) | (target & ARG_MASK));
    }

    /// The turn ends with `ready` tasks queued for the next.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_ended(1, 0);
    /// ```
    #[inline]
    pub fn turn_ended(&self, turn: u64, ready: u64) {
        let now = self.stamp(None, self.untimed.get());
        let _ = turn;
        self.push(now, TURN_END, ready);
    }

    /// The loop parks.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.park_started();
    /// f.park_ended();
    /// ```
    pub fn park_started(&self) {
        let now = self.stamp(None, self.untimed.get());
        self.push(now, PARK_START, 0);
    }

    /// The park ended.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.park_ended();
    /// ```
    pub fn park_ended(&self) {
        // A park is not a stall: the reading restarts the gap.
        let now = self.clock.now();
        self.last.set(now);
        self.untimed.set(0);
        self.push(now, PARK_END, 0);
    }

    /// The reactor delivered `io_events` readiness events and `timers` timers fired.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.reactor_events(1, 0);
    /// ```
    pub fn reactor_events(&self, io_events: u64, timers: u64) {
        if io_events > 0 {
            self.push(0, IO, io_events);
        }
        if timers > 0 {
            self.push(0, TIMERS, timers);
        }
    }

    /// The watchdog reported a poll still running: write the window at the end of the
    /// turn, as for a stall.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.watchdog_reported(4);
    /// assert_eq!(f.take_stall().unwrap().reason, "watchdog");
    /// ```
    pub fn watchdog_reported(&self, task: u64) {
        let stall = self.stall.take().unwrap_or_else(|| {
            Box::new(FlightStall {
                turn: self.turn.get(),
                tasks: vec![task],
                duration: Duration::ZERO,
                reason: "watchdog",
            })
        });
        self.stall.set(Some(stall));
    }

    #[cold]
    #[inline(never)]
    fn stalled(&self, gap: u64, polls: u32, task: Option<u64>) {
        // The polls in the gap are the last `polls` poll records (the one being pushed,
        // if `task` is given, is not in the ring yet).
        let mut tasks: Vec<u64> = task.into_iter().collect();
        let head = self.head.get();
        let want = polls as usize - tasks.len();
        let mut i = head;
        while tasks.len() < polls as usize && head - i < FLIGHT_CAPACITY && i > 0 {
            i -= 1;
            let r = self.records[i & (FLIGHT_CAPACITY - 1)].get();
            if matches!(r.kind(), POLL | POLL_DONE) {
                tasks.push(r.arg());
            }
            if r.at != 0 && tasks.len() >= want {
                break;
            }
        }
        if tasks.len() > 1 {
            self.exact_turns.set(EXACT_TURNS);
        }
        let duration = self.clock.between(0, gap);
        let mut found = self.stall.take();
        // The first stall of a turn is the one written; a watchdog report waits for it.
        if found.as_ref().is_none_or(|s| s.reason == "watchdog") {
            found = Some(Box::new(FlightStall {
                turn: self.turn.get(),
                tasks,
                duration,
                reason: "stall",
            }));
        }
        self.stall.set(found);
    }

    /// Whether a stall waits to be written (one load: the turn asks at its end).
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// assert!(!f.has_stall());
    /// ```
    #[inline(always)]
    pub fn has_stall(&self) -> bool {
        let s = self.stall.take();
        let has = s.is_some();
        self.stall.set(s);
        has
    }

    /// Takes the stall waiting to be written, if any.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// assert!(f.take_stall().is_none());
    /// ```
    pub fn take_stall(&self) -> Option<FlightStall> {
        self.stall.take().map(|s| *s)
    }

    /// Nanoseconds since the recorder was made, of a reading.
    fn since_origin(&self, at: Ticks) -> u64 {
        self.clock.nanos_between(self.origin, at)
    }

    /// The last `window` of events as a trace log (task names by id for the exporter).
    /// Untimed records are placed evenly between the readings around them; events
    /// older than the window, or overwritten, are left out (`dropped` counts the
    /// overwritten ones).
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(std::time::Duration::from_secs(1), Default::default());
    /// f.turn_started(1);
    /// f.turn_ended(1, 0);
    /// assert_eq!(f.log(Default::default()).events.len(), 2);
    /// ```
    pub fn log(&self, task_names: HashMap<u64, String>) -> TraceLog {
        let head = self.head.get();
        let held = head.min(FLIGHT_CAPACITY);
        let records: Vec<Record> = (head - held..head)
            .map(|i| self.records[i & (FLIGHT_CAPACITY - 1)].get())
            .collect();
        // Place untimed records between the readings around them.
        let mut times = vec![0u64; records.len()];
        let mut prev: Option<(usize, u64)> = None;
        for (i, r) in records.iter().enumerate() {
            if r.at == 0 {
                continue;
            }
            let t = self.since_origin(r.at);
            times[i] = t;
            let (from, t0) = prev.map_or((0, t), |(j, t0)| (j + 1, t0));
            let gaps = (i - from + 1) as u64;
            for (k, slot) in times[from..i].iter_mut().enumerate() {
                *slot = t0 + (t.saturating_sub(t0)) * (k as u64 + 1) / gaps;
            }
            prev = Some((i, t));
        }
        if let Some((j, t)) = prev {
            for slot in &mut times[j + 1..] {
                *slot = t;
            }
        }
        let newest = times.last().copied().unwrap_or(0);
        let window = u64::try_from(self.window.as_nanos()).unwrap_or(u64::MAX);
        let oldest = newest.saturating_sub(window);
        let mut events = Vec::with_capacity(records.len() * 2);
        // The end of the last event that was not a wake inside a poll: a poll's start.
        let mut poll_from = 0u64;
        // Wakes made by the poll in progress, emitted after its start.
        let mut in_poll: Vec<Event> = Vec::new();
        for (r, &at) in records.iter().zip(&times) {
            if at < oldest {
                poll_from = at;
                continue;
            }
            let arg = r.arg();
            match r.kind() {
                WAKE => {
                    let target = arg;
                    let source = match r.word >> SOURCE_SHIFT & 0b111 {
                        0 => WakeSource::SelfWake,
                        1 => WakeSource::Local,
                        2 => WakeSource::Remote,
                        3 => WakeSource::Io,
                        _ => WakeSource::Timer,
                    };
                    let by = (source == WakeSource::SelfWake).then_some(target);
                    let e = Event {
                        at_ns: at,
                        kind: EventKind::Wake { target, source, by },
                    };
                    if matches!(source, WakeSource::SelfWake | WakeSource::Local) {
                        in_poll.push(e);
                    } else {
                        events.push(e);
                    }
                    continue;
                }
                POLL | POLL_DONE => {
                    let start = poll_from.max(oldest);
                    events.push(Event {
                        at_ns: start,
                        kind: EventKind::PollStart { task: arg },
                    });
                    events.append(&mut in_poll);
                    events.push(Event {
                        at_ns: at,
                        kind: EventKind::PollEnd {
                            task: arg,
                            done: r.kind() == POLL_DONE,
                        },
                    });
                    if at.saturating_sub(start) > self.clock.ticks_to_nanos(self.stall_ticks) {
                        events.push(Event {
                            at_ns: at,
                            kind: EventKind::Stall {
                                task: arg,
                                nanos: at - start,
                            },
                        });
                    }
                }
                other => {
                    events.append(&mut in_poll);
                    let kind = match other {
                        TURN_START => EventKind::TurnStart { turn: arg },
                        TURN_END => EventKind::TurnEnd {
                            turn: 0,
                            ready: arg,
                        },
                        PARK_START => EventKind::ParkStart,
                        PARK_END => EventKind::ParkEnd,
                        IO => EventKind::Io { events: arg },
                        TIMERS => EventKind::TimersFired { count: arg },
                        _ => continue,
                    };
                    events.push(Event { at_ns: at, kind });
                }
            }
            poll_from = at;
        }
        events.append(&mut in_poll);
        TraceLog {
            events,
            dropped: head.saturating_sub(FLIGHT_CAPACITY) as u64,
            capacity: FLIGHT_CAPACITY as u64,
            task_names,
            stall_stacks: HashMap::new(),
        }
    }

    /// The turn in progress (or the last one).
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_started(9);
    /// assert_eq!(f.turn(), 9);
    /// ```
    pub fn turn(&self) -> u64 {
        self.turn.get()
    }
}

/// Where the flight recorder's files go, and how often: at most one file per
/// `min_interval`, named by the time and the turn.
///
/// ```
/// let mut files = turnstile_probes::FlightFiles::new(
///     std::env::temp_dir().join("flight-doc"), std::time::Duration::from_secs(10));
/// assert!(files.due());
/// ```
#[derive(Debug)]
pub struct FlightFiles {
    dir: PathBuf,
    min_interval: Duration,
    last: Option<Instant>,
}

impl FlightFiles {
    /// Files in `dir` (created when the first is written), at most one per `min_interval`.
    ///
    /// ```
    /// let files = turnstile_probes::FlightFiles::new("target/turnstile-flight", Default::default());
    /// assert_eq!(files.dir(), std::path::Path::new("target/turnstile-flight"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>, min_interval: Duration) -> Self {
        FlightFiles {
            dir: dir.into(),
            min_interval,
            last: None,
        }
    }

    /// The directory.
    ///
    /// ```
    /// # let files = turnstile_probes::FlightFiles::new("d", Default::default());
    /// assert_eq!(files.dir().to_str(), Some("d"));
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether a file may be written now (the rate limit).
    ///
    /// ```
    /// # let files = turnstile_probes::FlightFiles::new("d", Default::default());
    /// assert!(files.due());
    /// ```
    pub fn due(&self) -> bool {
        self.last.is_none_or(|at| at.elapsed() >= self.min_interval)
    }

    /// The path of the next file, named by the time and `turn`, if one is due; it
    /// counts against the rate limit at once (so a directory that cannot be written is
    /// not retried at every stall). Write it with [`write_log`], holding no borrow.
    ///
    /// ```
    /// let mut files = turnstile_probes::FlightFiles::new("d", std::time::Duration::from_secs(60));
    /// let path = files.claim(7).unwrap();
    /// assert!(path.to_string_lossy().ends_with("-turn7.json"));
    /// assert!(files.claim(8).is_none()); // one file per minute
    /// ```
    pub fn claim(&mut self, turn: u64) -> Option<PathBuf> {
        if !self.due() {
            return None;
        }
        self.last = Some(Instant::now());
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let name = format!(
            "turnstile-flight-{}.{:03}-turn{turn}.json",
            since.as_secs(),
            since.subsec_millis()
        );
        Some(self.dir.join(name))
    }

    /// The rate limit: at most one file per this.
    ///
    /// ```
    /// # let files = turnstile_probes::FlightFiles::new("d", std::time::Duration::from_secs(3));
    /// assert_eq!(files.min_interval(), std::time::Duration::from_secs(3));
    /// ```
    pub fn min_interval(&self) -> Duration {
        self.min_interval
    }
}

/// Writes `log` as Chrome/Perfetto trace JSON to `path`, creating its directory.
///
/// # Errors
/// If the directory cannot be created or the file written.
///
/// ```
/// let path = std::env::temp_dir().join(format!("flight-{}.json", std::process::id()));
/// turnstile_probes::write_log(&turnstile_probes::TraceLog::default(), &path)?;
/// # std::fs::remove_file(path)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_log(log: &TraceLog, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, log.to_chrome_json())
}

impl FlightStall {
    /// Emits the stall as a `tracing` warning under target `turnstile`, with what the
    /// flight recorder did about it (`note`): for runtimes whose probes make no stall
    /// report of their own (`Level::Off` and `Counters`). Call it at a safe point.
    ///
    /// ```
    /// let stall = turnstile_probes::FlightStall {
    ///     turn: 3, tasks: vec![2], duration: std::time::Duration::from_millis(50), reason: "stall",
    /// };
    /// stall.warn("wrote target/turnstile-flight/x.json");
    /// ```
    pub fn warn(&self, note: &str) {
        tracing::warn!(
            target: "turnstile",
            turn = self.turn,
            duration_ms = self.duration.as_secs_f64() * 1e3,
            "stall: {self}; flight recorder: {note}"
        );
    }
}

impl std::fmt::Display for FlightStall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.reason, self.tasks.as_slice()) {
            ("watchdog", _) => write!(f, "the watchdog reported a long poll in turn {}", self.turn),
            (_, [task]) => write!(
                f,
                "task {task} stalled the loop for {:.1?} in turn {}",
                self.duration, self.turn
            ),
            (_, tasks) => write!(
                f,
                "one of tasks {tasks:?} stalled the loop (their polls took {:.1?} together) in turn {}",
                self.duration, self.turn
            ),
        }
    }
}
