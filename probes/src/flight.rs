//! The flight recorder: the last stretch of loop events, kept in a ring of compact
//! records cheap enough to leave on in a service, and turned into a Chrome/Perfetto
//! trace when something goes wrong (a stall, a watchdog report) or on demand.
//!
//! It works at every probe level, `Off` included, and shares nothing with the
//! `Level::Trace` ring but the exporter: a [`FlightWindow::log`] is a [`TraceLog`], so
//! the file it writes is the one [`TraceLog::to_chrome_json`] makes, with the
//! recorder's own figures beside it (see [`FlightMeta`]).
//!
//! # What runs where
//!
//! The loop thread only appends 16-byte records to a segment of [`FLIGHT_SEGMENT`]
//! records: no allocation, lock, atomic or text per event. A full segment is moved (not
//! copied) into the shared, sealed ones and a spare (or an unzeroed allocation) takes its
//! place; sealed segments older than the window are let go, and at most
//! [`FlightRecorder::max_records`] are kept (the cap on memory). Task names go into an
//! append-only table at spawn ([`FlightRecorder::task_spawned`]). A dump
//! ([`FlightRecorder::handover`]) costs the loop the copy of the partial segment, a
//! reference count per sealed segment and per full chunk of names: it hands a [`FlightWindow`]
//! to a [`FlightWriter`] thread, which places the records in time, builds the trace,
//! serialises it and writes the file. The loop's share is counted as turnstile's own
//! time ([`FlightRecorder::own_time`]) and written in the file.
//!
//! # The clock
//!
//! One TSC read costs more than a whole untimed yield on the machines this project is
//! measured on, so the recorder reads it at a park's end and, within a turn, once per
//! poll only while the batch is small: a batch of more than [`SPARSE_BATCH`] tasks
//! reads it every [`SPARSE_EVERY`]th poll. A turn's start and end and a park's start
//! take the last reading (the turn's end and the park's start read the clock only after
//! untimed polls). Every poll and every wake is still a record (two stores, a pointer
//! bump), but for a task's wake of itself during its poll, a bit of the poll's end
//! record (read back as a wake within the poll); an untimed poll's end is
//! placed, when the window is read, evenly between the readings around it. A stall is a
//! gap between two readings longer than the stall threshold: exact (one poll in the
//! gap) in a small batch; in a large one it is one of at most `SPARSE_EVERY` polls,
//! named together, and the recorder then reads the clock at every poll for the next
//! [`EXACT_TURNS`] turns so that a stall that comes back is pinned to its task.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::mem::MaybeUninit;
use std::panic::Location;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::clock::{Clock, Ticks};
use crate::counters::WakeSource;
use crate::trace::{Event, EventKind, TraceLog};

mod file;
mod writer;

pub use file::{read_flight_file, FlightFile, FlightMeta};
pub use writer::{FlightJob, FlightWriter, WriteOutcome, FLIGHT_THREAD};

/// The window the recorder's costs are stated for: 65,536 records (1 MiB). The ring
/// itself keeps as many as the window needs, up to [`FlightRecorder::max_records`].
pub const FLIGHT_CAPACITY: usize = 1 << 16;
/// Records per segment of the ring (a power of two: 64 KiB of 16-byte records).
pub const FLIGHT_SEGMENT: usize = 1 << 12;
/// The default cap on the records kept: 2,097,152 (32 MiB), two seconds at a million
/// events a second.
pub const FLIGHT_MAX_RECORDS: usize = 1 << 21;
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
/// A poll's end record with this bit (a source bit, unused by polls) says that the task
/// woke itself during the poll: the self-wake is folded into it, not a record of its
/// own, and the reader unfolds it.
const SELF_WOKE: u64 = 1 << SOURCE_SHIFT;
/// Cap drops remembered, to say how many records of a window the cap let go.
const CAP_DROPS_KEPT: usize = 1024;
/// Emptied segments kept for reuse.
const SPARES_KEPT: usize = 4;
/// Task labels per chunk of the name table.
pub const NAME_CHUNK: usize = 256;

/// A segment's storage while it is written.
type Block = [MaybeUninit<Record>; FLIGHT_SEGMENT];

/// A segment's storage, uninitialised: from a spare (a sealed segment let go) if one is
/// there, otherwise a fresh allocation, not zeroed.
fn block(spare: Option<Box<[Record]>>) -> Box<Block> {
    if let Some(spare) = spare.and_then(|s| Box::<[Record; FLIGHT_SEGMENT]>::try_from(s).ok()) {
        // SAFETY: `[Record; N]` and `[MaybeUninit<Record>; N]` have the same layout,
        // and every `Record` is a valid `MaybeUninit<Record>`.
        return unsafe { Box::from_raw(Box::into_raw(spare).cast::<Block>()) };
    }
    // SAFETY: an array of `MaybeUninit` needs no initialisation.
    unsafe { Box::<Block>::new_uninit().assume_init() }
}

/// One event: when (zero: no clock read, placed when the window is read) and what.
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

/// A full segment, moved out of the loop's: shared by the ring and the windows handed
/// over, never written again.
#[derive(Debug)]
struct Segment {
    records: Box<[Record]>,
    /// The index (records written before it) of its first record.
    first: usize,
    /// Its first and last clock readings (zero: none).
    first_at: Ticks,
    last_at: Ticks,
}

impl Segment {
    fn new(records: Box<[Record]>, first: usize) -> Self {
        let first_at = records.iter().find(|r| r.at != 0).map_or(0, |r| r.at);
        let last_at = records.iter().rev().find(|r| r.at != 0).map_or(0, |r| r.at);
        Segment {
            records,
            first,
            first_at,
            last_at,
        }
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

/// What a task is called in a flight file: its name, or where it was spawned. Cheap to
/// collect on the loop (a copy of a name or of a `&'static` location); turned into text
/// on the writer thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskLabel {
    /// The name given at spawn.
    Named(Box<str>),
    /// No name: where it was spawned.
    SpawnedAt(&'static Location<'static>),
}

/// A full chunk of the name table: the labels of [`NAME_CHUNK`] tasks in spawn order,
/// shared with the windows handed over.
#[derive(Debug)]
struct NameChunk {
    labels: Arc<[(u64, TaskLabel)]>,
    /// The first task's id (ids grow with each spawn).
    first_id: u64,
    /// Its tasks not yet ended.
    live: u32,
    /// The clock when the last of its tasks ended (zero: none yet).
    last_end: Ticks,
}

/// What the recorder's tasks are called: an append-only table filled at spawn
/// ([`FlightRecorder::task_spawned`]), in chunks. A chunk is let go once all its tasks
/// have ended and the last of them ended before the window; a handover shares the full
/// chunks (a reference count each) and copies the one being filled (at most
/// [`NAME_CHUNK`] labels), whatever the number of live tasks.
#[derive(Debug, Default)]
struct NameTable {
    sealed: VecDeque<NameChunk>,
    current: Vec<(u64, TaskLabel)>,
    current_live: u32,
    current_end: Ticks,
}

/// The recorder's own time on the loop: the dumps' handovers and the segments' seals,
/// counted as turnstile's, never billed to a task.
///
/// ```
/// let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
/// assert_eq!(f.own_time().handovers, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FlightOwnTime {
    /// Windows handed over (dumps).
    pub handovers: u64,
    /// Their time on the loop, in all, in nanoseconds.
    pub handover_ns: u64,
    /// The longest one, in nanoseconds.
    pub handover_max_ns: u64,
    /// Segments sealed (each moved into the sealed ones, with a spare or a fresh
    /// allocation in its place).
    pub seals: u64,
    /// Their time on the loop, in all, in nanoseconds.
    pub seal_ns: u64,
}

/// The ring of compact records and the stall detection on it. Loop thread only: the
/// hot fields are `Cell`s, so recording takes no borrow.
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
    /// The segment being written: the storage of a `Box<Block>` (of FLIGHT_SEGMENT
    /// records), owned by the recorder through this pointer (`Box::into_raw`; given
    /// back in `seal` and `drop`). The records below `cursor` are written; the rest
    /// are not yet. A full one is moved (not copied) into `sealed` and a spare (or a
    /// fresh, unzeroed allocation) takes its place (`seal`). Written by `push` and
    /// `seal` only, read by `record` and `handover`: loop thread only (the recorder is
    /// not `Sync`), and no reference into it outlives a call.
    current: Cell<*mut Record>,
    /// Where the next record goes: a pointer bumped by `push`, from `current` up to
    /// `end` (one past the segment's last record), where the segment is full.
    cursor: Cell<*mut Record>,
    end: Cell<*mut Record>,
    /// The index (records written before it) of the segment being written's first
    /// record.
    current_first: Cell<usize>,
    /// Full segments still in the window (or under the cap), oldest first. Borrowed
    /// only by `seal`, `stalled` and `handover`, which call no user code.
    sealed: RefCell<VecDeque<Arc<Segment>>>,
    /// Emptied segments' memory, for the next seals.
    spares: RefCell<Vec<Box<[Record]>>>,
    /// Segments let go by the cap while inside the window: their newest reading and
    /// their records.
    cap_drops: RefCell<VecDeque<(Ticks, usize)>>,
    /// Records let go by the cap in all.
    cap_dropped: Cell<u64>,
    /// Whether any record has been let go (by the window or the cap).
    let_go: Cell<bool>,
    /// Sealed segments kept at most.
    max_segments: usize,
    /// The latest clock reading.
    last: Cell<Ticks>,
    /// Polls since `last` was read.
    untimed: Cell<u32>,
    /// `SELF_WOKE` if the poll in progress woke its own task (folded into the poll's
    /// end record), else zero.
    self_woke: Cell<u64>,
    /// Polls per clock read in this batch: 1, or `SPARSE_EVERY` in a large batch.
    every: Cell<u32>,
    /// Turns left that read the clock at every poll (after a group stall).
    exact_turns: Cell<u32>,
    turn: Cell<u64>,
    stall_ticks: u64,
    window: Duration,
    window_ticks: u64,
    stall: Cell<Option<Box<FlightStall>>>,
    own: Cell<FlightOwnTime>,
    /// The last handover's time so far (`add_handover_time` adds to it).
    last_handover_ns: Cell<u64>,
    /// What the tasks are called. Borrowed only by the calls below, which run no user
    /// code.
    names: RefCell<NameTable>,
}

impl Drop for FlightRecorder {
    fn drop(&mut self) {
        // SAFETY: the segment being written came from `Box::<Block>::into_raw` and is
        // given back once, here (`seal` replaced the ones before).
        drop(unsafe { Box::from_raw(self.current.get().cast::<Block>()) });
    }
}

// SAFETY: the recorder owns the segment its pointers point into (as a `Box<Block>`
// would) and shares it with nothing: moving the recorder to another thread moves the
// segment with it. It stays `!Sync` (its `Cell`s).
unsafe impl Send for FlightRecorder {}

impl std::fmt::Debug for FlightRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightRecorder")
            .field("window", &self.window)
            .field("recorded", &self.head())
            .field("turn", &self.turn.get())
            .finish_non_exhaustive()
    }
}

impl FlightRecorder {
    /// A recorder that keeps the last `window` of events (at most
    /// [`FLIGHT_MAX_RECORDS`] of them) and calls a gap between clock readings longer
    /// than `stall_threshold` a stall.
    ///
    /// ```
    /// let f = turnstile_probes::FlightRecorder::new(
    ///     std::time::Duration::from_secs(2), std::time::Duration::from_millis(10));
    /// assert_eq!(f.window(), std::time::Duration::from_secs(2));
    /// ```
    pub fn new(window: Duration, stall_threshold: Duration) -> Self {
        Self::with_max_records(window, stall_threshold, FLIGHT_MAX_RECORDS)
    }

    /// Like [`FlightRecorder::new`], keeping at most `max_records` records (rounded up
    /// to whole segments of [`FLIGHT_SEGMENT`], at least two): the cap on its memory
    /// (16 bytes a record). A window that needs more is cut, and the files say so.
    ///
    /// ```
    /// let f = turnstile_probes::FlightRecorder::with_max_records(
    ///     std::time::Duration::from_secs(2), std::time::Duration::from_millis(10), 10_000);
    /// assert_eq!(f.max_records(), 3 * turnstile_probes::FLIGHT_SEGMENT);
    /// ```
    pub fn with_max_records(
        window: Duration,
        stall_threshold: Duration,
        max_records: usize,
    ) -> Self {
        let clock = Clock::new();
        let origin = clock.now();
        let stall_ticks = clock.ticks_for(stall_threshold).max(1);
        let window_ticks = clock.ticks_for(window);
        // The segment being written counts as one of them.
        let max_segments = max_records.div_ceil(FLIGHT_SEGMENT).max(2) - 1;
        let current = Box::into_raw(block(None)).cast::<Record>();
        FlightRecorder {
            current: Cell::new(current),
            cursor: Cell::new(current),
            end: Cell::new(current.wrapping_add(FLIGHT_SEGMENT)),
            current_first: Cell::new(0),
            sealed: RefCell::new(VecDeque::new()),
            spares: RefCell::new(Vec::new()),
            cap_drops: RefCell::new(VecDeque::new()),
            cap_dropped: Cell::new(0),
            let_go: Cell::new(false),
            max_segments,
            last: Cell::new(origin),
            untimed: Cell::new(0),
            self_woke: Cell::new(0),
            every: Cell::new(1),
            exact_turns: Cell::new(0),
            turn: Cell::new(0),
            stall_ticks,
            window,
            window_ticks,
            stall: Cell::new(None),
            own: Cell::new(FlightOwnTime::default()),
            last_handover_ns: Cell::new(0),
            names: RefCell::new(NameTable::default()),
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

    /// The most records it keeps (the cap on its memory), in whole segments.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// assert_eq!(f.max_records(), turnstile_probes::FLIGHT_MAX_RECORDS);
    /// ```
    pub fn max_records(&self) -> usize {
        (self.max_segments + 1) * FLIGHT_SEGMENT
    }

    /// Records written so far.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_started(1);
    /// assert_eq!(f.recorded(), 1);
    /// ```
    pub fn recorded(&self) -> u64 {
        self.head() as u64
    }

    /// The recorder's clock, now (to time work of its own, see
    /// [`FlightRecorder::handover`]).
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// assert!(f.now() > 0);
    /// ```
    #[inline]
    pub fn now(&self) -> Ticks {
        self.clock.now()
    }

    /// Nanoseconds from `start` (a reading of [`FlightRecorder::now`]) to now.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// let t = f.now();
    /// assert!(f.nanos_since(t) < 1_000_000_000);
    /// ```
    pub fn nanos_since(&self, start: Ticks) -> u64 {
        self.clock.nanos_between(start, self.clock.now())
    }

    /// Its own time on the loop so far.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// let _ = f.handover(f.now(), Vec::new());
    /// assert_eq!(f.own_time().handovers, 1);
    /// ```
    pub fn own_time(&self) -> FlightOwnTime {
        self.own.get()
    }

    /// Counts `nanos` of the recorder's own work on the loop done outside
    /// [`FlightRecorder::handover`] (starting the writer thread with the first file)
    /// as part of the last handover's time.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// let _ = f.handover(f.now(), Vec::new());
    /// f.add_handover_time(5);
    /// assert!(f.own_time().handover_ns >= 5);
    /// ```
    pub fn add_handover_time(&self, nanos: u64) {
        let last = self.last_handover_ns.get() + nanos;
        self.last_handover_ns.set(last);
        let mut own = self.own.get();
        own.handover_ns += nanos;
        own.handover_max_ns = own.handover_max_ns.max(last);
        self.own.set(own);
    }

    /// Records written so far: the sealed segments' and the current one's.
    #[inline]
    fn head(&self) -> usize {
        let written = (self.cursor.get() as usize - self.current.get() as usize)
            / std::mem::size_of::<Record>();
        self.current_first.get() + written
    }

    /// Appends one record: a pointer bump, checked against the segment's end.
    #[inline(always)]
    fn push(&self, at: Ticks, kind: u64, arg: u64) {
        self.push_word(at, (kind << KIND_SHIFT) | (arg & ARG_MASK));
    }

    /// Appends one record of a ready-made word.
    #[inline(always)]
    fn push_word(&self, at: Ticks, word: u64) {
        let at_slot = self.cursor.get();
        // SAFETY: loop thread only (not `Sync`); no reference into the segment is
        // alive (none outlives a call of this recorder's, and none of them calls this
        // one while holding it). `cursor` is below `end` (a full segment is sealed at
        // once, below), so it points into the segment's storage, which the recorder
        // owns.
        unsafe {
            at_slot.write(Record { at, word });
        }
        let next = at_slot.wrapping_add(1);
        self.cursor.set(next);
        if next == self.end.get() {
            self.seal();
        }
    }

    /// The segment being written is full: move it into the sealed ones, and let go
    /// of the sealed ones the window (or the cap) no longer needs. Its time is counted
    /// as the recorder's own.
    #[cold]
    #[inline(never)]
    fn seal(&self) {
        let started = self.clock.now();
        let fresh = Box::into_raw(block(self.spares.borrow_mut().pop())).cast::<Record>();
        let full = self.current.replace(fresh);
        self.cursor.set(fresh);
        self.end.set(fresh.wrapping_add(FLIGHT_SEGMENT));
        let first = self.current_first.get();
        self.current_first.set(first + FLIGHT_SEGMENT);
        // SAFETY: `full` came from `Box::<Block>::into_raw` (`new`, or the seal
        // before) and is given back once, here; the segment is full: `push` wrote all
        // FLIGHT_SEGMENT records, and `[MaybeUninit<Record>; N]` has the layout of
        // `[Record; N]`.
        let records: Box<[Record]> =
            unsafe { Box::from_raw(full.cast::<[Record; FLIGHT_SEGMENT]>()) };
        let segment = Segment::new(records, first);
        let newest = segment.last_at;
        let mut sealed = self.sealed.borrow_mut();
        sealed.push_back(Arc::new(segment));
        let cutoff = newest.saturating_sub(self.window_ticks);
        loop {
            let over_cap = sealed.len() > self.max_segments;
            // The front segment is older than the window when the next one starts
            // before the window does.
            let stale = sealed.len() >= 2 && sealed[1].first_at != 0 && sealed[1].first_at < cutoff;
            if !over_cap && !stale {
                break;
            }
            let Some(gone) = sealed.pop_front() else {
                break;
            };
            self.let_go.set(true);
            if !stale {
                self.cap_dropped
                    .set(self.cap_dropped.get() + gone.records.len() as u64);
                let mut drops = self.cap_drops.borrow_mut();
                if drops.len() == CAP_DROPS_KEPT {
                    drops.pop_front();
                }
                drops.push_back((gone.last_at, gone.records.len()));
            }
            // Its memory is reused unless a window handed over still holds it.
            if let Ok(gone) = Arc::try_unwrap(gone) {
                let mut spares = self.spares.borrow_mut();
                if spares.len() < SPARES_KEPT {
                    spares.push(gone.records);
                }
            }
        }
        drop(sealed);
        let mut own = self.own.get();
        own.seals += 1;
        own.seal_ns += self.clock.nanos_between(started, self.clock.now());
        self.own.set(own);
    }

    /// Task `id` was spawned, with `name` (copied) or, without one, at `spawned_at`:
    /// its label goes into the name table, for the files. Ids must grow from one spawn
    /// to the next.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.task_spawned(1, Some("fetch"), std::panic::Location::caller());
    /// let log = f.handover(f.now(), Vec::new()).log();
    /// assert_eq!(log.task_names[&1], "fetch");
    /// ```
    pub fn task_spawned(
        &self,
        id: u64,
        name: Option<&str>,
        spawned_at: &'static Location<'static>,
    ) {
        let label = match name {
            Some(name) => TaskLabel::Named(name.into()),
            None => TaskLabel::SpawnedAt(spawned_at),
        };
        let mut names = self.names.borrow_mut();
        if names.current.len() == NAME_CHUNK {
            self.seal_names(&mut names);
        }
        if names.current.capacity() == 0 {
            names.current.reserve_exact(NAME_CHUNK);
        }
        names.current.push((id, label));
        names.current_live += 1;
    }

    /// Task `id` ended: once all the tasks of its chunk have, and the window has moved
    /// past the last of them, the chunk is let go.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.task_spawned(1, None, std::panic::Location::caller());
    /// f.task_ended(1);
    /// ```
    pub fn task_ended(&self, id: u64) {
        let now = self.last.get(); // the latest reading: no clock read of its own
        let mut names = self.names.borrow_mut();
        let in_current = names.current.first().is_some_and(|&(first, _)| id >= first);
        if in_current {
            names.current_live = names.current_live.saturating_sub(1);
            names.current_end = now;
            return;
        }
        let i = names.sealed.partition_point(|c| c.first_id <= id);
        if let Some(chunk) = i.checked_sub(1).and_then(|i| names.sealed.get_mut(i)) {
            chunk.live = chunk.live.saturating_sub(1);
            chunk.last_end = now;
        }
    }

    /// The chunk being filled is full: share it, and let go of the chunks no window
    /// needs.
    #[cold]
    #[inline(never)]
    fn seal_names(&self, names: &mut NameTable) {
        let labels: Arc<[(u64, TaskLabel)]> = std::mem::take(&mut names.current).into();
        let first_id = labels.first().map_or(0, |&(id, _)| id);
        names.sealed.push_back(NameChunk {
            labels,
            first_id,
            live: std::mem::take(&mut names.current_live),
            last_end: std::mem::take(&mut names.current_end),
        });
        let cutoff = self.last.get().saturating_sub(self.window_ticks);
        names.sealed.retain(|c| c.live > 0 || c.last_end > cutoff);
    }

    /// The record at index `i` (records written before it), if the ring still holds it.
    fn record(&self, i: usize) -> Option<Record> {
        let head = self.head();
        let current_start = self.current_first.get();
        if i >= head {
            return None;
        }
        if i >= current_start {
            // SAFETY: loop thread only, no other reference into the segment alive (as
            // in `push`); the records below `cursor` in it are written, and
            // `i - current_start` is below `head - current_start`.
            return Some(unsafe { self.current.get().add(i - current_start).read() });
        }
        let sealed = self.sealed.borrow();
        let seg = sealed
            .iter()
            .rev()
            .find(|s| s.first <= i && i < s.first + s.records.len())?;
        Some(seg.records[i - seg.first])
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

    /// A turn begins. No clock read of its own: it takes the last reading (the
    /// previous turn's end, or the recorder's start), which nothing but the loop's own
    /// bookkeeping separates it from.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_started(1);
    /// ```
    #[inline(always)]
    pub fn turn_started(&self, turn: u64) {
        self.turn.set(turn);
        self.push(self.last.get(), TURN_START, turn);
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
        let word = (kind << KIND_SHIFT) | self.self_woke.replace(0) | (task & ARG_MASK);
        let polls = self.untimed.get() + 1;
        if polls >= self.every.get() {
            let now = self.stamp(Some(task), polls);
            self.push_word(now, word);
        } else {
            self.untimed.set(polls);
            self.push_word(0, word);
        }
    }

    /// A wake queued `target` (0: the `block_on` future). No clock read: it is placed
    /// between the readings around it. A self-wake (the task polled waking itself) is
    /// no record of its own: it is folded into the poll's end record, and read back as
    /// a wake of that task within its poll.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.woken(2, turnstile_probes::WakeSource::Io);
    /// ```
    #[inline(always)]
    pub fn woken(&self, target: u64, source: WakeSource) {
        let source = match source {
            WakeSource::SelfWake => {
                self.self_woke.set(SELF_WOKE);
                return;
            }
            WakeSource::Local => 1,
            WakeSource::Remote => 2,
            WakeSource::Io => 3,
            WakeSource::Timer => 4,
        };
        // The source's bits sit above the argument's (`push` would mask them off).
        self.push_word(
            0,
            (WAKE << KIND_SHIFT) | (source << SOURCE_SHIFT) | (target & ARG_MASK),
        );
    }

    /// The turn ends with `ready` tasks queued for the next. It reuses the last poll's
    /// clock reading when every poll since it was timed (a small batch): nothing but
    /// the loop's own bookkeeping ran in between. After untimed polls (a large batch)
    /// it reads the clock, to close the gap they are in.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_ended(1, 0);
    /// ```
    #[inline(always)]
    pub fn turn_ended(&self, turn: u64, ready: u64) {
        let _ = turn;
        let untimed = self.untimed.get();
        let now = if untimed == 0 {
            self.last.get()
        } else {
            self.stamp(None, untimed)
        };
        self.push(now, TURN_END, ready);
    }

    /// The loop parks. Like a turn's end, it reuses the last reading when every poll
    /// since it was timed: only the loop's own bookkeeping (the turn's end and the
    /// next one's start) ran in between. After untimed polls it reads the clock, to
    /// close the gap they are in.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.park_started();
    /// f.park_ended(0);
    /// ```
    #[inline]
    pub fn park_started(&self) {
        let untimed = self.untimed.get();
        let now = if untimed == 0 {
            self.last.get()
        } else {
            self.stamp(None, untimed)
        };
        self.push(now, PARK_START, 0);
    }

    /// The park ended, with `io_events` readiness events (one record for both).
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.park_ended(2);
    /// ```
    #[inline]
    pub fn park_ended(&self, io_events: u64) {
        // A park is not a stall: the reading restarts the gap.
        let now = self.clock.now();
        self.last.set(now);
        self.untimed.set(0);
        self.push(now, PARK_END, io_events);
    }

    /// The reactor, looked at without parking, delivered `io_events` readiness events
    /// and `timers` timers fired.
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.reactor_events(1, 0);
    /// ```
    #[inline]
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
        let head = self.head();
        let want = polls as usize - tasks.len();
        let mut i = head;
        while tasks.len() < polls as usize && i > 0 {
            i -= 1;
            let Some(r) = self.record(i) else { break };
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

    /// The loop's part of a dump: the window as it stands, for another thread to turn
    /// into a trace ([`FlightWindow::log`]). It copies the partial segment being
    /// written (at most [`FLIGHT_SEGMENT`] records) and shares the sealed ones; nothing
    /// here is proportional to the window but a reference count per 4,096 records.
    /// `since` is when the caller's part of the dump began (it collected `labels`, the
    /// names of the tasks): the time from then to the end of this call is counted as
    /// the recorder's own ([`FlightRecorder::own_time`]) and carried by the window.
    ///
    /// ```
    /// use turnstile_probes::{FlightRecorder, TaskLabel};
    /// let f = FlightRecorder::new(std::time::Duration::from_secs(1), Default::default());
    /// let since = f.now();
    /// f.turn_started(1);
    /// f.turn_ended(1, 0);
    /// let window = f.handover(since, vec![(7, TaskLabel::Named("fetch".into()))]);
    /// let log = std::thread::spawn(move || window.log()).join().unwrap();
    /// assert_eq!((log.events.len(), log.task_names[&7].as_str()), (2, "fetch"));
    /// ```
    pub fn handover(&self, since: Ticks, labels: Vec<(u64, TaskLabel)>) -> FlightWindow {
        let head = self.head();
        let start = self.current_first.get();
        let mut segments: Vec<Arc<Segment>> = self.sealed.borrow().iter().cloned().collect();
        if head > start {
            // SAFETY: loop thread only, no other reference into the segment alive (as
            // in `push`); its first `head - start` records are written, and a written
            // `MaybeUninit<Record>` reads as a `Record`.
            let written = unsafe {
                std::slice::from_raw_parts(self.current.get().cast_const(), head - start)
            };
            segments.push(Arc::new(Segment::new(written.into(), start)));
        }
        let newest = segments.iter().rev().map(|s| s.last_at).find(|&t| t != 0);
        let cutoff = newest.unwrap_or(0).saturating_sub(self.window_ticks);
        let dropped_in_window = self
            .cap_drops
            .borrow()
            .iter()
            .filter(|&&(last_at, _)| last_at >= cutoff)
            .map(|&(_, n)| n as u64)
            .sum();
        let names = {
            let table = self.names.borrow();
            let mut names: Vec<Arc<[(u64, TaskLabel)]>> =
                table.sealed.iter().map(|c| c.labels.clone()).collect();
            if !table.current.is_empty() {
                names.push(table.current.as_slice().into());
            }
            names
        };
        let ended = self.clock.now();
        let took = self.clock.nanos_between(since, ended);
        let mut own = self.own.get();
        own.handovers += 1;
        own.handover_ns += took;
        own.handover_max_ns = own.handover_max_ns.max(took);
        self.own.set(own);
        self.last_handover_ns.set(took);
        FlightWindow {
            segments,
            labels,
            names,
            clock: self.clock.clone(),
            origin: self.origin,
            stall_ticks: self.stall_ticks,
            window: self.window,
            recorded: head as u64,
            dropped_in_window,
            let_go: self.let_go.get(),
            max_records: self.max_records() as u64,
            handover_ns: took,
            own,
        }
    }

    /// The last `window` of events as a trace log, converted on the caller's thread
    /// (a dump converts on the writer's: see [`FlightRecorder::handover`]).
    ///
    /// ```
    /// # let f = turnstile_probes::FlightRecorder::new(std::time::Duration::from_secs(1), Default::default());
    /// f.turn_started(1);
    /// f.turn_ended(1, 0);
    /// assert_eq!(f.log(Default::default()).events.len(), 2);
    /// ```
    pub fn log(&self, task_names: HashMap<u64, String>) -> TraceLog {
        let mut log = self.handover(self.now(), Vec::new()).log();
        log.task_names = task_names;
        log
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

/// A window handed over by the loop ([`FlightRecorder::handover`]): the records, the
/// task names and the clock to place them in time. `Send`: it goes to the writer.
///
/// ```
/// let f = turnstile_probes::FlightRecorder::new(std::time::Duration::from_secs(1), Default::default());
/// let w = f.handover(f.now(), Vec::new());
/// assert_eq!(w.records(), 0);
/// ```
#[derive(Debug)]
pub struct FlightWindow {
    segments: Vec<Arc<Segment>>,
    labels: Vec<(u64, TaskLabel)>,
    /// The name table's chunks, shared (the last one copied).
    names: Vec<Arc<[(u64, TaskLabel)]>>,
    clock: Clock,
    origin: Ticks,
    stall_ticks: u64,
    window: Duration,
    recorded: u64,
    dropped_in_window: u64,
    let_go: bool,
    max_records: u64,
    handover_ns: u64,
    own: FlightOwnTime,
}

impl FlightWindow {
    /// Records held (some may be older than the window: [`FlightWindow::log`] leaves
    /// those out).
    ///
    /// ```
    /// let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// f.turn_started(1);
    /// assert_eq!(f.handover(f.now(), Vec::new()).records(), 1);
    /// ```
    pub fn records(&self) -> u64 {
        self.segments.iter().map(|s| s.records.len() as u64).sum()
    }

    /// How long the loop's part of the handover took.
    ///
    /// ```
    /// let f = turnstile_probes::FlightRecorder::new(Default::default(), Default::default());
    /// let w = f.handover(f.now(), Vec::new());
    /// assert!(w.handover() < std::time::Duration::from_secs(1));
    /// ```
    pub fn handover(&self) -> Duration {
        Duration::from_nanos(self.handover_ns)
    }

    /// The task names, as text.
    fn task_names(&self) -> HashMap<u64, String> {
        let mut names = HashMap::with_capacity(self.labels.len());
        let table = self.names.iter().flat_map(|chunk| chunk.iter());
        for (id, label) in table.chain(&self.labels) {
            match label {
                TaskLabel::Named(name) => {
                    names.insert(*id, name.to_string());
                }
                TaskLabel::SpawnedAt(at) => {
                    names.entry(*id).or_insert_with(|| at.to_string());
                }
            }
        }
        names
    }

    /// The last `window` of events as a trace log, with the task names. Untimed records
    /// are placed evenly between the readings around them; events older than the window
    /// are left out; `dropped` counts the records of the window the cap let go.
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = turnstile_probes::FlightRecorder::new(Duration::from_secs(1), Duration::from_secs(60));
    /// f.turn_started(1);
    /// f.batch(1);
    /// f.poll_ended(3, true);
    /// f.turn_ended(1, 0);
    /// let log = f.handover(f.now(), Vec::new()).log();
    /// assert_eq!(log.events.len(), 4); // turn start, poll start and end, turn end
    /// ```
    pub fn log(&self) -> TraceLog {
        self.log_and_meta().0
    }

    /// The log, and the figures of the window for the file.
    pub(crate) fn log_and_meta(&self) -> (TraceLog, WindowFigures) {
        let records: Vec<Record> = self
            .segments
            .iter()
            .flat_map(|s| s.records.iter().copied())
            .collect();
        // Place untimed records between the readings around them.
        let since_origin = |at: Ticks| self.clock.nanos_between(self.origin, at);
        let mut times = vec![0u64; records.len()];
        let mut prev: Option<(usize, u64)> = None;
        // Records before the first reading: after the recorder's start if the window
        // reaches back to it (the first turn reads no clock), else at that reading.
        let from_origin = self.segments.first().is_some_and(|s| s.first == 0);
        for (i, r) in records.iter().enumerate() {
            if r.at == 0 {
                continue;
            }
            let t = since_origin(r.at);
            times[i] = t;
            let lead = if from_origin { 0 } else { t };
            let (from, t0) = prev.map_or((0, lead), |(j, t0)| (j + 1, t0));
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
        let stall_ns = self.clock.ticks_to_nanos(self.stall_ticks);
        let mut events = Vec::with_capacity(records.len() * 2);
        // The end of the last event that was not a wake inside a poll: a poll's start.
        let mut poll_from = 0u64;
        // Wakes made by the poll in progress, emitted after its start.
        let mut in_poll: Vec<Event> = Vec::new();
        let mut first_kept: Option<u64> = None;
        let mut kept = 0u64;
        for (r, &at) in records.iter().zip(&times) {
            if at < oldest {
                poll_from = at;
                continue;
            }
            kept += 1;
            first_kept.get_or_insert(at);
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
                    if r.word & SELF_WOKE != 0 {
                        // A self-wake folded into the poll's end: the task woke itself
                        // during the poll, placed halfway through it.
                        events.push(Event {
                            at_ns: (start + at.saturating_sub(start) / 2)
                                .max(events.last().map_or(start, |e| e.at_ns)),
                            kind: EventKind::Wake {
                                target: arg,
                                source: WakeSource::SelfWake,
                                by: Some(arg),
                            },
                        });
                    }
                    events.push(Event {
                        at_ns: at,
                        kind: EventKind::PollEnd {
                            task: arg,
                            done: r.kind() == POLL_DONE,
                        },
                    });
                    if at.saturating_sub(start) > stall_ns {
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
                        PARK_END => {
                            // A park's end carries the readiness events it brought.
                            events.push(Event {
                                at_ns: at,
                                kind: EventKind::ParkEnd,
                            });
                            if arg == 0 {
                                continue;
                            }
                            EventKind::Io { events: arg }
                        }
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
        let kept_ns = first_kept.map_or(0, |first| newest - first);
        // The whole window is there if the records held reach back past its start, or
        // if none was ever let go (the recorder has not run for a window yet).
        let reaches_back = times.first().is_some_and(|&t| t <= oldest && oldest > 0);
        let figures = WindowFigures {
            window_asked_ns: window,
            window_kept_ns: kept_ns,
            covers_window: (reaches_back || !self.let_go) && self.dropped_in_window == 0,
            events_dropped: self.dropped_in_window,
            records: kept,
            recorded: self.recorded,
            max_records: self.max_records,
            handover_ns: self.handover_ns,
            own: self.own,
        };
        let log = TraceLog {
            events,
            dropped: self.dropped_in_window,
            capacity: self.max_records,
            task_names: self.task_names(),
            stall_stacks: HashMap::new(),
        };
        (log, figures)
    }
}

/// What a window kept, for the file's metadata.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WindowFigures {
    pub(crate) window_asked_ns: u64,
    pub(crate) window_kept_ns: u64,
    pub(crate) covers_window: bool,
    pub(crate) events_dropped: u64,
    pub(crate) records: u64,
    pub(crate) recorded: u64,
    pub(crate) max_records: u64,
    pub(crate) handover_ns: u64,
    pub(crate) own: FlightOwnTime,
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

/// Writes `log` as Chrome/Perfetto trace JSON to `path`, creating its directory, on the
/// calling thread (a runtime's recorder writes on its [`FlightWriter`] thread).
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

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn turn_starts(log: &TraceLog) -> Vec<u64> {
        log.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::TurnStart { turn } => Some(turn),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn records_across_segments_come_back_in_order() {
        let f = FlightRecorder::new(HOUR, HOUR);
        let turns = (3 * FLIGHT_SEGMENT / 2 + 5) as u64; // two records a turn
        for turn in 1..=turns {
            f.turn_started(turn);
            f.turn_ended(turn, 0);
        }
        assert_eq!(f.own_time().seals, 3);
        let window = f.handover(f.now(), Vec::new());
        assert_eq!(window.records(), 2 * turns);
        let log = window.log();
        assert_eq!(turn_starts(&log), (1..=turns).collect::<Vec<_>>());
        assert_eq!(log.dropped, 0);
    }

    #[test]
    fn the_cap_keeps_whole_segments_and_counts_the_rest() {
        let f = FlightRecorder::with_max_records(HOUR, HOUR, 2 * FLIGHT_SEGMENT);
        let turns = (5 * FLIGHT_SEGMENT + 100) as u64;
        for turn in 1..=turns {
            f.turn_started(turn);
            f.turn_ended(turn, 0);
        }
        let window = f.handover(f.now(), Vec::new());
        // One sealed segment and the partial one.
        assert_eq!(window.records(), (FLIGHT_SEGMENT + 200) as u64);
        let (log, figures) = window.log_and_meta();
        assert_eq!(figures.events_dropped + figures.records, figures.recorded);
        assert!(!figures.covers_window);
        // What is kept is the newest.
        assert_eq!(turn_starts(&log).last(), Some(&turns));
        assert_eq!(turn_starts(&log).len(), FLIGHT_SEGMENT / 2 + 100);
    }

    #[test]
    fn a_group_stall_names_polls_on_both_sides_of_a_seal() {
        // Every gap between readings is a stall at a threshold of a nanosecond.
        let f = FlightRecorder::new(HOUR, Duration::from_nanos(1));
        for _ in 0..FLIGHT_SEGMENT - 3 {
            f.woken(1, WakeSource::Remote);
        }
        f.batch(SPARSE_BATCH + 1); // the clock is read every SPARSE_EVERY polls
        for task in 1..=u64::from(SPARSE_EVERY) {
            f.poll_ended(task, false);
        }
        assert_eq!(f.own_time().seals, 1, "the polls straddle a seal");
        let stall = f.take_stall().expect("a stall");
        let mut tasks = stall.tasks.clone();
        tasks.sort_unstable();
        assert_eq!(tasks, (1..=u64::from(SPARSE_EVERY)).collect::<Vec<_>>());
    }

    #[test]
    fn a_window_handed_over_keeps_its_records_while_the_ring_moves_on() {
        let f = FlightRecorder::with_max_records(HOUR, HOUR, 2 * FLIGHT_SEGMENT);
        for turn in 1..=FLIGHT_SEGMENT as u64 {
            f.turn_started(turn);
            f.turn_ended(turn, 0);
        }
        let window = f.handover(f.now(), Vec::new());
        for turn in 1..=(4 * FLIGHT_SEGMENT) as u64 {
            f.turn_started(turn);
            f.turn_ended(turn, 0);
        }
        let log = window.log();
        assert_eq!(
            turn_starts(&log),
            (FLIGHT_SEGMENT as u64 / 2 + 1..=FLIGHT_SEGMENT as u64).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_name_table_lets_go_of_ended_chunks_and_keeps_live_ones() {
        let here = Location::caller();
        // A zero window: a chunk whose tasks have all ended is let go at the next seal.
        let f = FlightRecorder::new(Duration::ZERO, HOUR);
        f.task_spawned(1, Some("long-lived"), here);
        let short = 2..=(3 * NAME_CHUNK as u64);
        for id in short.clone() {
            f.task_spawned(id, None, here);
        }
        for id in short {
            f.task_ended(id);
        }
        f.park_ended(0); // a clock reading: the window (zero) is now past their ends
        f.task_spawned(10_000, Some("new"), here); // seals the third chunk
        {
            let names = f.names.borrow();
            // The first chunk keeps its live task; the second and third, all ended
            // before the window, are gone.
            let firsts: Vec<u64> = names.sealed.iter().map(|c| c.first_id).collect();
            assert_eq!(firsts, [1]);
            assert_eq!(names.current.len(), 1);
        }
        let log = f.handover(f.now(), Vec::new()).log();
        assert_eq!(log.task_names[&1], "long-lived");
        assert_eq!(log.task_names[&10_000], "new");
        assert!(!log.task_names.contains_key(&(NAME_CHUNK as u64 + 5)));
    }

    #[test]
    fn a_handover_copies_at_most_one_chunk_of_names() {
        let f = FlightRecorder::new(HOUR, HOUR);
        let here = Location::caller();
        for id in 1..=(10 * NAME_CHUNK as u64 + 3) {
            f.task_spawned(id, None, here);
        }
        let window = f.handover(f.now(), Vec::new());
        assert_eq!(window.names.len(), 11);
        assert_eq!(window.names.last().map(|c| c.len()), Some(3));
        // The full chunks are shared with the table, not copied.
        let table = f.names.borrow();
        assert!(Arc::ptr_eq(&table.sealed[0].labels, &window.names[0]));
        assert_eq!(window.log().task_names.len(), 10 * NAME_CHUNK + 3);
    }

    #[test]
    fn a_self_wake_is_folded_into_its_polls_end_and_read_back_inside_the_poll() {
        let f = FlightRecorder::new(HOUR, HOUR);
        f.turn_started(1);
        f.batch(2);
        f.woken(4, WakeSource::Local);
        f.woken(3, WakeSource::SelfWake);
        f.poll_ended(3, false);
        f.poll_ended(4, true);
        f.turn_ended(1, 1);
        // The turn's start and end, two polls and the local wake: no self-wake record.
        assert_eq!(f.recorded(), 5);
        let kinds: Vec<EventKind> = f
            .log(HashMap::new())
            .events
            .iter()
            .map(|e| e.kind)
            .collect();
        let self_wake = EventKind::Wake {
            target: 3,
            source: WakeSource::SelfWake,
            by: Some(3),
        };
        let local = EventKind::Wake {
            target: 4,
            source: WakeSource::Local,
            by: None,
        };
        assert_eq!(
            kinds,
            [
                EventKind::TurnStart { turn: 1 },
                EventKind::PollStart { task: 3 },
                local,
                self_wake,
                EventKind::PollEnd {
                    task: 3,
                    done: false
                },
                EventKind::PollStart { task: 4 },
                EventKind::PollEnd {
                    task: 4,
                    done: true
                },
                EventKind::TurnEnd { turn: 0, ready: 1 },
            ]
        );
        let events = f.log(HashMap::new()).events;
        assert!(events.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
    }

    #[test]
    fn a_park_after_timed_polls_starts_at_the_last_reading() {
        let f = FlightRecorder::new(HOUR, HOUR);
        f.turn_started(1);
        f.batch(1);
        f.poll_ended(1, false);
        f.turn_ended(1, 0);
        f.turn_started(2);
        f.park_started();
        f.park_ended(0);
        let events = f.log(HashMap::new()).events;
        let at = |want: EventKind| events.iter().find(|e| e.kind == want).unwrap().at_ns;
        assert_eq!(
            at(EventKind::ParkStart),
            at(EventKind::PollEnd {
                task: 1,
                done: false
            })
        );
        assert!(at(EventKind::ParkEnd) >= at(EventKind::ParkStart));
    }
}
