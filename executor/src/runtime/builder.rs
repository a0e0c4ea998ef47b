//! Runtime configuration.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use turnstile_probes::{Level, Turn, WatchdogHook, WatchdogReport, RECORD_LIMIT, TRACE_CAPACITY};

use super::Runtime;
use crate::observe::TurnHook;

/// Builds a [`Runtime`] with chosen settings.
///
/// ```
/// use turnstile::probes::Level;
/// let turns = std::rc::Rc::new(std::cell::Cell::new(0));
/// let seen = turns.clone();
/// let rt = turnstile::Runtime::builder()
///     .probes(Level::Counters)
///     .event_interval(61)
///     .on_turn(move |_turn| seen.set(seen.get() + 1))
///     .build()?;
/// rt.block_on(async {});
/// assert_eq!(turns.get(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "a Builder does nothing until .build() is called"]
pub struct Builder {
    pub(crate) level: Level,
    pub(crate) event_interval: u32,
    pub(crate) max_events: usize,
    pub(crate) blocking_threads: usize,
    pub(crate) on_turn: Option<TurnHook>,
    pub(crate) stall_threshold: Duration,
    pub(crate) watchdog: Option<Duration>,
    pub(crate) on_watchdog: Option<WatchdogHook>,
    pub(crate) watchdog_backtrace: bool,
    pub(crate) trace_capacity: usize,
    pub(crate) name: Option<Box<str>>,
    pub(crate) budget: Option<u32>,
    pub(crate) flight_window: Option<Duration>,
    pub(crate) flight_dir: PathBuf,
    pub(crate) flight_min_interval: Duration,
    pub(crate) flight_max_records: usize,
    pub(crate) inspect: Option<PathBuf>,
    pub(crate) inspect_period: Duration,
    pub(crate) start_paused: bool,
    /// Where to write a recording of the run when the runtime drops (`record`).
    pub(crate) record: Option<PathBuf>,
    pub(crate) record_limit: usize,
    #[cfg(feature = "metrics")]
    pub(crate) metrics_period: Option<Duration>,
}

/// Operations one poll may complete on turnstile's resources before it yields, unless
/// `Builder::budget` says otherwise (tokio's figure too).
pub(crate) const DEFAULT_BUDGET: u32 = 128;

/// Where the flight recorder writes its files unless told otherwise.
pub(crate) const DEFAULT_FLIGHT_DIR: &str = "target/turnstile-flight";

impl Builder {
    /// The same as [`Builder::new`]: turnstile has only a current-thread runtime. Here
    /// so that `Builder::new_current_thread().enable_all().build()`, as written for
    /// tokio, builds a turnstile runtime unchanged.
    ///
    /// ```
    /// let rt = turnstile::Builder::new_current_thread().enable_all().build()?;
    /// assert_eq!(rt.block_on(async { 3 }), 3);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_current_thread() -> Self {
        Builder::new()
    }

    /// Changes nothing: I/O, time and signals are always on in turnstile. Here so that
    /// builder chains written for tokio compile unchanged.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().enable_all().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_all(self) -> Self {
        self
    }

    /// Changes nothing: the reactor is always on. See [`Builder::enable_all`].
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().enable_io().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_io(self) -> Self {
        self
    }

    /// Changes nothing: timers are always on. See [`Builder::enable_all`].
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().enable_time().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable_time(self) -> Self {
        self
    }

    /// The defaults: probes at `Level::Timing`, `event_interval` 61, at most 1024 events
    /// per reactor poll, one blocking thread per available core.
    ///
    /// ```
    /// let rt = turnstile::Builder::new().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new() -> Self {
        Builder {
            level: Level::default(),
            event_interval: 61,
            max_events: 1024,
            blocking_threads: std::thread::available_parallelism().map_or(4, |n| n.get()),
            on_turn: None,
            stall_threshold: Duration::from_millis(10),
            watchdog: None,
            on_watchdog: None,
            watchdog_backtrace: false,
            trace_capacity: TRACE_CAPACITY,
            name: None,
            budget: Some(DEFAULT_BUDGET),
            flight_window: None,
            flight_dir: PathBuf::from(DEFAULT_FLIGHT_DIR),
            flight_min_interval: Duration::from_secs(10),
            flight_max_records: turnstile_probes::FLIGHT_MAX_RECORDS,
            inspect: None,
            inspect_period: Duration::from_millis(250),
            start_paused: false,
            record: None,
            record_limit: RECORD_LIMIT,
            #[cfg(feature = "metrics")]
            metrics_period: None,
        }
    }

    /// Starts the runtime's clock paused (default: not), as
    /// [`time::pause`](crate::time::pause) would as the first thing in `block_on`:
    /// [`time::Instant::now`](crate::time::Instant::now) stands still until
    /// [`time::advance`](crate::time::advance) moves it, or until the loop has nothing
    /// to do but wait for a timer, when it jumps to the timer's deadline at once. For
    /// tests of timers: see `docs/testing.md`. `#[turnstile::test(start_paused = true)]`
    /// calls this. With the `test-util` feature only, as tokio's.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile::time::{sleep, Instant};
    ///
    /// let rt = turnstile::Runtime::builder().start_paused(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(86_400)).await; // a day, in microseconds
    ///     assert_eq!(start.elapsed(), Duration::from_secs(86_400));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "test-util")]
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.start_paused = paused;
        self
    }

    /// What the probes record: `Off`, `Counters`, `Timing` (the default) or `Trace`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().probes(turnstile::probes::Level::Off).build()?;
    /// assert_eq!(rt.probes().counters.turns, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn probes(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// How many task polls pass between two non-blocking polls of the reactor (default
    /// 61, as tokio's; 1 looks after every poll). The polls are counted across turns and
    /// within one: a turn's batch is cut when the count runs out, and the next turn
    /// looks at sockets and timers first, so however many tasks are ready, I/O and due
    /// timers are seen within this many polls. A parked loop always polls. Zero is
    /// taken as 1.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().event_interval(1).build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn event_interval(mut self, polls: u32) -> Self {
        self.event_interval = polls.max(1);
        self
    }

    /// At most this many readiness events are taken in per reactor poll (default 1024);
    /// the rest wait for the next poll. Zero is taken as 1.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().max_events(256).build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max_events(mut self, events: usize) -> Self {
        self.max_events = events.max(1);
        self
    }

    /// Threads in the `spawn_blocking` pool (default: available parallelism). Threads
    /// start on demand and exit after 10 s idle. Zero is taken as 1.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().blocking_threads(2).build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn blocking_threads(mut self, threads: usize) -> Self {
        self.blocking_threads = threads.max(1);
        self
    }

    /// Calls `hook` at the end of every turn with what the turn did, like a subclass of
    /// asyncio's loop that prints in `_run_once`. The numbers come from the counters, so
    /// they are zeros at `Level::Off`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Counters)
    ///     .on_turn(|turn| println!("{turn}"))
    ///     .build()?;
    /// rt.block_on(turnstile::yield_now());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_turn(mut self, hook: impl FnMut(&Turn) + 'static) -> Self {
        self.on_turn = Some(Box::new(hook));
        self
    }

    /// A poll longer than this is a stall (default 10 ms): reported in the snapshot and
    /// as a `tracing` warning, with the task, the site it resumed from, on- or off-CPU,
    /// and the tasks it kept waiting. Needs `Level::Timing` or above.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .stall_threshold(std::time::Duration::from_millis(5))
    ///     .build()?;
    /// rt.block_on(async { std::thread::sleep(std::time::Duration::from_millis(20)) });
    /// assert!(rt.probes().stalls_total >= 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stall_threshold(mut self, threshold: Duration) -> Self {
        self.stall_threshold = threshold;
        self
    }

    /// Starts a watchdog thread that reports any poll running longer than `period`
    /// while it is still running (see [`Builder::on_watchdog`]; by default a `tracing`
    /// warning under target `turnstile`), counted in the snapshot's `watchdog_reports`.
    /// Needs `Level::Timing` or above (it reads the poll timestamps); ignored below.
    ///
    /// With a watchdog, stall reports also say the line that blocked and how the stall
    /// spent its time: when a poll runs past `stall_threshold`, the watchdog signals
    /// the loop thread once, takes its stack (glibc's `backtrace(3)`, in the signal
    /// handler, into a preallocated buffer), names it on its own threads and keeps the
    /// first frame in the user's code ("blocked at src/main.rs:176 in slow"), with the
    /// system call the thread is blocked in and its CPU clock and run-queue delay
    /// (`/proc/self/task/TID/schedstat`) from before the poll. The cost is per stall,
    /// never per poll; the watchdog thread looks four times per `stall_threshold`
    /// (one `pread` and one `clock_gettime` each). Linux with glibc; see
    /// `docs/stall.md` for where the line cannot be found.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .watchdog(std::time::Duration::from_millis(100))
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn watchdog(mut self, period: Duration) -> Self {
        self.watchdog = Some(period);
        self
    }

    /// Where the watchdog's reports go (called on the watchdog thread) instead of the
    /// `tracing` log.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .watchdog(std::time::Duration::from_millis(100))
    ///     .on_watchdog(|report| eprintln!("{report}"))
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn on_watchdog(mut self, hook: impl Fn(&WatchdogReport) + Send + Sync + 'static) -> Self {
        self.on_watchdog = Some(Arc::new(hook));
        self
    }

    /// With each watchdog report and stall report, also keep the loop thread's whole
    /// stack, not only its first frame in the user's code (off by default; the first
    /// frame is kept whenever a watchdog runs, see [`Builder::watchdog`]). Linux with
    /// glibc only. The signal interrupts a system call in progress (those that do not
    /// restart return `EINTR`). With this option `build` fails if the platform is not
    /// supported or the signal (`SIGRTMIN + 3`) already has a handler; without it, the
    /// reports then say why they name no line. Every report also says, without any
    /// signal, whether the loop thread is running or blocked in a system call.
    ///
    /// ```no_run
    /// let rt = turnstile::Runtime::builder()
    ///     .watchdog(std::time::Duration::from_millis(100))
    ///     .watchdog_backtrace(true)
    ///     .on_watchdog(|report| eprintln!("{report}"))
    ///     .build()?;
    /// rt.block_on(async { std::thread::sleep(std::time::Duration::from_millis(300)) });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn watchdog_backtrace(mut self, on: bool) -> Self {
        self.watchdog_backtrace = on;
        self
    }

    /// Events the `Level::Trace` ring keeps (default 65 536); older ones are dropped
    /// and counted.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Trace)
    ///     .trace_capacity(1024)
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn trace_capacity(mut self, events: usize) -> Self {
        self.trace_capacity = events.max(1);
        self
    }

    /// The cooperative budget: how many operations on turnstile's own resources one poll
    /// of a task may complete before the next one yields (default 128; `None`: no
    /// budget). Socket reads, writes, sends, receives, accepts and connects, a sleep or
    /// interval tick that is due, and a `JoinHandle` whose task has finished each use
    /// one unit when they complete. Once the budget is spent, the next such operation
    /// wakes its task and returns `Pending` (a *budget yield*, counted in
    /// `budget_yields`), so a task whose awaits are always ready still lets the loop, the
    /// reactor and the other tasks run. `yield_now` is always a yield and needs no
    /// budget; `task::unconstrained` opts a future out; `time::timeout` checks its
    /// deadline even when the future inside spent the budget. The `block_on` future
    /// gets a budget too. Zero is taken as 1.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Counters)
    ///     .budget(Some(2))
    ///     .build()?;
    /// rt.block_on(async {
    ///     for _ in 0..5 {
    ///         turnstile::time::sleep(std::time::Duration::ZERO).await; // due at once
    ///     }
    /// });
    /// // Five ready sleeps, two per poll: the budget made the future yield twice.
    /// assert_eq!(rt.counters().budget_yields, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn budget(mut self, operations: Option<u32>) -> Self {
        self.budget = operations;
        self
    }

    /// The runtime's name (default `turnstile-N`, N its process-wide id): the `runtime`
    /// label of its published metrics, and what tells one loop from another when a
    /// service runs several.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().name("loop-0").build()?;
    /// assert_eq!(rt.name(), "loop-0");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Keeps the last `window` of loop events (turns, polls, wakes with their source,
    /// parks, I/O, timers) in a ring, at any probe level (`Off` included), and writes
    /// it as a Chrome/Perfetto trace whenever a poll stalls the loop (longer than
    /// [`Builder::stall_threshold`]) or the watchdog reports one: at the end of that
    /// turn, at most one file per [`Builder::flight_recorder_min_interval`] (10 s by
    /// default), into [`Builder::flight_recorder_dir`] (`target/turnstile-flight/` by
    /// default), named by the time and the turn. The stall's report and `tracing`
    /// warning name the file. [`Runtime::flight_recorder`] dumps it on demand.
    ///
    /// The loop only appends 16-byte records and, for a file, hands the window over
    /// (a copy of at most 4,096 records and a reference per 4,096 more) to a thread of
    /// the recorder's own, `turnstile-flight`, which builds and writes the file; the
    /// handover is counted as turnstile's own time, never a task's. The ring keeps as
    /// many records as `window` needs, up to [`Builder::flight_recorder_max_records`];
    /// a file whose window was cut says how much it kept. The clock is read once per
    /// turn and once per poll, except in batches of more than 32 tasks, which read it
    /// every 8th poll (see `docs/probes.md`).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("flight-builder-{}", std::process::id()));
    /// let rt = turnstile::Runtime::builder()
    ///     .probes(turnstile::probes::Level::Off)
    ///     .flight_recorder(std::time::Duration::from_secs(2))
    ///     .flight_recorder_dir(&dir)
    ///     .stall_threshold(std::time::Duration::from_millis(5))
    ///     .build()?;
    /// rt.block_on(async { std::thread::sleep(std::time::Duration::from_millis(20)) });
    /// rt.flight_recorder().flush()?; // the file is written by the recorder's thread
    /// assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
    /// # std::fs::remove_dir_all(dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder(mut self, window: Duration) -> Self {
        self.flight_window = Some(window);
        self
    }

    /// Where the flight recorder writes its files (default `target/turnstile-flight`,
    /// relative to the working directory); created when the first file is written.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(2))
    ///     .flight_recorder_dir("/tmp/flight")
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.flight_dir = dir.into();
        self
    }

    /// At most one flight-recorder file per `interval` (default 10 s): a stall within
    /// it writes none (its report says so).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(2))
    ///     .flight_recorder_min_interval(std::time::Duration::from_secs(60))
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder_min_interval(mut self, interval: Duration) -> Self {
        self.flight_min_interval = interval;
        self
    }

    /// The most records the flight recorder keeps, 16 bytes each (default 2,097,152:
    /// 32 MiB, two seconds at a million events a second), in whole segments of 4,096:
    /// the cap on its memory. A window that needs more is cut, and its files say how
    /// much they kept.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .flight_recorder(std::time::Duration::from_secs(2))
    ///     .flight_recorder_max_records(1 << 16)
    ///     .build()?;
    /// assert_eq!(rt.flight_recorder().max_records(), 1 << 16);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn flight_recorder_max_records(mut self, records: usize) -> Self {
        self.flight_max_records = records;
        self
    }

    /// Serves an inspector on a Unix socket at `path` (opt-in), from a thread of its
    /// own, so that it answers while the loop is blocked: `turnstile-lab inspect PATH`
    /// prints what the loop is doing (polling which task for how long, or parked; the
    /// system call its thread is in; the turn; utilization), every live task (state,
    /// polls, busy time, the await site it waits at and for how long), the busiest
    /// sites and the recent stalls. `--json` prints one report as JSON.
    ///
    /// The loop publishes what the inspector reads without its cooperation: the task
    /// being polled, since when, the turn and the park in progress in atomics (at
    /// `Level::Timing` and above; below, only the kernel's view of the thread is live),
    /// and a snapshot at the end of a turn, at most once per
    /// [`Builder::inspect_period`]. A stale socket at `path` is replaced. The socket is
    /// mode 0600 from the moment it appears, and answers only this process's uid and
    /// root: any other peer reads one line of refusal and is counted in the report's
    /// `refused`. It is removed when the runtime drops, and also when SIGTERM or SIGINT
    /// ends the process by its default action. `build` fails if `path` cannot be bound.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("inspect-builder-{}.sock", std::process::id()));
    /// let rt = turnstile::Runtime::builder().inspect(&path).build()?;
    /// rt.block_on(turnstile::yield_now());
    /// let report = turnstile::probes::inspect(&path)?;
    /// assert_eq!(report.runtime, rt.name());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inspect(mut self, path: impl Into<PathBuf>) -> Self {
        self.inspect = Some(path.into());
        self
    }

    /// How often, at most, the loop publishes a snapshot for the inspector (default
    /// 250 ms; at the end of a turn). The task being polled is live whatever the period.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .inspect_period(std::time::Duration::from_millis(100))
    ///     .build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inspect_period(mut self, period: Duration) -> Self {
        self.inspect_period = period;
        self
    }

    /// Publishes the probes through the `metrics` facade every `period` (the `metrics`
    /// feature), from a task named `turnstile-metrics` that the runtime spawns: it runs
    /// whenever a `block_on` drives the loop, and is counted like any task (a spawn, and
    /// a poll and a timer per period). Without it, publish on demand with
    /// [`Runtime::publish_metrics`] or [`crate::metrics::publish`]. A period under 1 ms
    /// is taken as 1 ms (publishing costs a snapshot: it is not for every turn).
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder()
    ///     .metrics_period(std::time::Duration::from_secs(10))
    ///     .build()?;
    /// rt.block_on(turnstile::yield_now());
    /// let publisher = rt.probes().tasks.into_iter().find(|t| t.name.is_some()).unwrap();
    /// assert_eq!(publisher.name.as_deref(), Some("turnstile-metrics"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics_period(mut self, period: Duration) -> Self {
        self.metrics_period = Some(period.max(Duration::from_millis(1)));
        self
    }

    /// Records the run: when the runtime is dropped, it writes a recording of what
    /// its loop did (every turn, poll, wake and park, with the tasks, await sites and
    /// async stacks they name) to `path`, for `turnstile-lab view` to step through.
    /// Recording runs the probes at `Level::Trace` (whatever [`Builder::probes`] says)
    /// with a ring of [`Builder::record_limit`] events; a longer run keeps its last
    /// events, and the file says how many were cut.
    ///
    /// `TURNSTILE_RECORD=FILE` in the environment does the same for every runtime of
    /// the process without a code change: the first runtime built writes `FILE`, each
    /// later one `FILE` with its name before the extension (`run.turnstile-2.rec`).
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("run.rec");
    /// let rt = turnstile::Runtime::builder().record(&path).build()?;
    /// rt.block_on(turnstile::yield_now());
    /// drop(rt);
    /// let rec = turnstile::probes::Recording::read(&path)?;
    /// assert_eq!(rec.turns(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn record(mut self, path: impl Into<PathBuf>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Events a recording keeps (default [`RECORD_LIMIT`]): the last ones, when the
    /// run had more. Also the limit of `TURNSTILE_RECORD` recordings.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().record_limit(1_000).build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn record_limit(mut self, events: usize) -> Self {
        self.record_limit = events.max(1);
        self
    }

    /// Builds the runtime.
    ///
    /// # Errors
    /// If the OS refuses an epoll instance or an eventfd.
    ///
    /// ```
    /// let rt = turnstile::Runtime::builder().build()?;
    /// # drop(rt);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        Runtime::from_builder(self)
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("level", &self.level)
            .field("event_interval", &self.event_interval)
            .field("max_events", &self.max_events)
            .field("blocking_threads", &self.blocking_threads)
            .field("on_turn", &self.on_turn.is_some())
            .field("stall_threshold", &self.stall_threshold)
            .field("watchdog", &self.watchdog)
            .field("watchdog_backtrace", &self.watchdog_backtrace)
            .field("trace_capacity", &self.trace_capacity)
            .field("name", &self.name)
            .field("budget", &self.budget)
            .field("flight_recorder", &self.flight_window)
            .field("flight_recorder_dir", &self.flight_dir)
            .field("flight_recorder_min_interval", &self.flight_min_interval)
            .field("flight_recorder_max_records", &self.flight_max_records)
            .field("inspect", &self.inspect)
            .field("inspect_period", &self.inspect_period)
            .field("start_paused", &self.start_paused)
            .field("record", &self.record)
            .field("record_limit", &self.record_limit)
            .finish()
    }
}
