//! The probes' side of the loop: what it counts and times, and the reports it owes the
//! user (the `on_turn` hook, `tracing` events), which it hands over only at safe points.
//!
//! The turn and `Core` tell it what happens through named events (a spawn, a task
//! retired, a turn's end ...) and read it back for snapshots. Its fields are private.
//! The `Level::Timing` recorder itself lives in the probes crate (`Timing`); this part
//! adds what is per task (timing cells by slab slot, the finished tasks' history and
//! names) and the hooks.
//!
//! Safe points: user code reached from here (the hook, a subscriber) runs only from
//! [`Observer::flush`] and [`Observer::call_on_turn`], which the turn calls between its
//! steps, where neither the scheduler, the I/O side nor the recorder holds a borrow. The
//! hook is taken out of its slot while it runs and put back even if it panics.

use std::cell::{Cell, OnceCell, Ref, RefCell};
use std::collections::{HashMap, VecDeque};
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use turnstile_probes::{
    ContextSwitches, Counter, Counters, FlightRecorder, Level, TaskTiming, Timing, Turn, Watchdog,
};

use super::{Flight, Inspect, Mode};
use crate::raw::{Header, LocalTask};

/// The user's per-turn hook (`Builder::on_turn`), boxed.
pub(crate) type TurnHook = Box<dyn FnMut(&Turn)>;

/// Finished tasks kept for snapshots, most recent last.
pub(crate) const TASK_HISTORY: usize = 64;

/// What the loop records, and the hooks it calls.
pub(crate) struct Observer {
    /// What the probes record.
    level: Level,
    /// The loop's counters (no-ops at `Level::Off`).
    counters: Counters,
    /// The timing recorder: `Some` at `Level::Timing` and above only, so `Off` and
    /// `Counters` never reach its code. The turn checks it once per turn; polls are
    /// timed by a separate instance of `poll_task` chosen then (see `timing.rs`).
    timing: Option<Box<Timing>>,
    /// The flight recorder (`Builder::flight_recorder`), at any level. The turn checks
    /// it once per turn, as it checks `timing`.
    flight: Option<Box<Flight>>,
    /// The inspector (`Builder::inspect`), set once the runtime is built.
    inspect: OnceCell<Inspect>,
    /// Which instance of the turn runs (see `rt/turn.rs`).
    mode: Mode,
    /// Whether task names are kept: when the probes count, or for the flight recorder.
    keeps_names: bool,
    /// Each task's timing cells (busy, scheduled and idle time, its await site), by
    /// slab slot: a side table rather than a header field, so that untimed runtimes
    /// spawn tasks exactly as small and as fast as before. Borrowed mutably only by
    /// `spawned`.
    cells: RefCell<Vec<TaskTiming>>,
    /// The cells of the tasks in `history`, by task id (their slots are reused).
    finished_cells: RefCell<VecDeque<(u64, TaskTiming)>>,
    /// The `block_on` future's timing cells (its scheduling delay and await sites),
    /// `Some` with `timing`.
    main_timing: Option<Box<TaskTiming>>,
    /// Where the `block_on` in progress was called: the "spawn location" of its future.
    main_at: Cell<&'static Location<'static>>,
    /// The most recently finished tasks (their payloads already dropped), for snapshots.
    history: RefCell<VecDeque<Arc<dyn LocalTask>>>,
    /// Names of the named tasks that are live or in `history`, by task id: kept here
    /// rather than in every header, which unnamed tasks would pay for. Filled only when
    /// the probes count (nothing reads a name at `Level::Off`).
    names: RefCell<HashMap<u64, Box<str>>>,
    /// Finished tasks whose names are kept, oldest first, when there is no history
    /// (`Level::Off` with the flight recorder).
    finished_names: RefCell<VecDeque<u64>>,
    /// The user's per-turn hook; `None` while it runs.
    on_turn: Cell<Option<TurnHook>>,
    /// Whether an `on_turn` hook was given (checked every turn without touching it).
    has_on_turn: bool,
    /// Total time parked.
    parked: Cell<Duration>,
    /// Total time inside `block_on`, finished calls only.
    running: Cell<Duration>,
    /// Start of the `block_on` call in progress.
    running_since: Cell<Option<Instant>>,
    /// The watchdog thread, if one was asked for (at `Level::Timing` and above).
    /// Stopped and joined when the runtime drops.
    watchdog: Option<Watchdog>,
    /// The loop thread's context switches when the runtime was built.
    switches_at_start: ContextSwitches,
    /// What the `metrics` feature has handed to the `metrics` recorder so far.
    #[cfg(feature = "metrics")]
    published: super::metrics::Published,
}

impl Observer {
    pub(crate) fn new(
        level: Level,
        timing: Option<Box<Timing>>,
        watchdog: Option<Watchdog>,
        on_turn: Option<TurnHook>,
        flight: Option<Box<Flight>>,
        inspecting: bool,
    ) -> Self {
        let main_timing = timing
            .as_deref()
            .map(|t| Box::new(TaskTiming::new(t.now())));
        Observer {
            level,
            counters: Counters::new(level),
            mode: Mode::new(
                timing.is_some(),
                flight.is_some(),
                inspecting,
                timing.as_deref().is_some_and(Timing::is_tracing),
            ),
            inspect: OnceCell::new(),
            keeps_names: level.counts() || flight.is_some(),
            flight,
            timing,
            cells: RefCell::new(Vec::new()),
            finished_cells: RefCell::new(VecDeque::new()),
            main_timing,
            main_at: Cell::new(Location::caller()),
            history: RefCell::new(VecDeque::new()),
            names: RefCell::new(HashMap::new()),
            finished_names: RefCell::new(VecDeque::new()),
            has_on_turn: on_turn.is_some(),
            on_turn: Cell::new(on_turn),
            parked: Cell::new(Duration::ZERO),
            running: Cell::new(Duration::ZERO),
            running_since: Cell::new(None),
            watchdog,
            switches_at_start: ContextSwitches::of_this_thread(),
            #[cfg(feature = "metrics")]
            published: Default::default(),
        }
    }

    /// What the probes record.
    #[inline]
    pub(crate) fn level(&self) -> Level {
        self.level
    }

    /// The counters.
    #[inline(always)]
    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Bumps one counter.
    #[inline(always)]
    pub(crate) fn bump(&self, counter: Counter) {
        self.counters.bump(counter);
    }

    /// Whether the probes count (`Level::Counters` and above).
    #[inline(always)]
    pub(crate) fn is_counting(&self) -> bool {
        self.counters.enabled()
    }

    /// The timing recorder, at `Level::Timing` and above.
    #[inline(always)]
    pub(crate) fn timing(&self) -> Option<&Timing> {
        self.timing.as_deref()
    }

    /// The flight recorder's ring, when one runs.
    #[inline(always)]
    pub(crate) fn flight_ring(&self) -> Option<&FlightRecorder> {
        self.flight.as_deref().map(Flight::recorder)
    }

    /// The flight recorder with its files, when one runs.
    pub(crate) fn flight(&self) -> Option<&Flight> {
        self.flight.as_deref()
    }

    /// The inspector, when one runs.
    pub(crate) fn inspect(&self) -> Option<&Inspect> {
        self.inspect.get()
    }

    /// Installs the inspector (once, as the runtime is built).
    pub(crate) fn set_inspect(&self, inspect: Inspect) {
        let _ = self.inspect.set(inspect);
    }

    /// Which instance of the turn runs.
    #[inline(always)]
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether a timed task's self-wake needs only the counters (see `Mode`).
    #[inline(always)]
    pub(crate) fn quiet_self_wakes(&self) -> bool {
        self.mode.quiet_self_wakes()
    }

    /// Whether the flight recorder is the only probe that watches wakes (no timing).
    #[inline(always)]
    pub(crate) fn flight_only(&self) -> bool {
        self.mode.flight_only()
    }

    /// Whether tasks' names are kept (and `spawned` must be called).
    #[inline(always)]
    pub(crate) fn keeps_names(&self) -> bool {
        self.keeps_names
    }

    /// Whether a task's wakes take the slow path (its `TIMED` bit): timing cells to
    /// stamp, or a flight recorder to tell.
    #[inline(always)]
    pub(crate) fn watches_wakes(&self) -> bool {
        self.mode.watches_wakes()
    }

    /// What the `metrics` feature has published so far.
    #[cfg(feature = "metrics")]
    pub(crate) fn published(&self) -> &super::metrics::Published {
        &self.published
    }

    /// Whether a watchdog thread runs.
    #[inline]
    pub(crate) fn has_watchdog(&self) -> bool {
        self.watchdog.is_some()
    }

    /// The loop thread's context switches since the runtime was built.
    pub(crate) fn context_switches(&self) -> ContextSwitches {
        ContextSwitches::of_this_thread().since(&self.switches_at_start)
    }

    // ---- tasks ----

    /// A task was spawned into slot `index` (called when the probes count).
    #[inline(always)]
    pub(crate) fn spawned(&self, index: u32, id: u64, name: Option<Box<str>>) {
        self.counters.bump(Counter::Spawns);
        if name.is_some() || self.timing.is_some() {
            self.spawned_named_or_timed(index, id, name);
        }
    }

    /// The rest of `spawned`: the task's name, and its timing cells.
    #[inline(never)]
    fn spawned_named_or_timed(&self, index: u32, id: u64, name: Option<Box<str>>) {
        if let Some(name) = name {
            if let Some(inspect) = self.inspect.get() {
                inspect.state.task_named(id, &name);
            }
            self.names.borrow_mut().insert(id, name);
        }
        if let Some(timing) = self.timing.as_deref() {
            timing.spawned(id); // an event at `Level::Trace`
            let mut cells = self.cells.borrow_mut();
            let index = index as usize;
            if cells.len() <= index {
                cells.resize_with(index + 1, TaskTiming::unused);
            }
            cells[index] = TaskTiming::new(timing.now());
        }
    }

    /// The timing cells of the live task `header` heads, if it is timed. Borrowed: hold
    /// the result only where no user code runs.
    #[inline]
    pub(crate) fn cells(&self, header: &Header) -> Option<Ref<'_, TaskTiming>> {
        if !header.state.is_timed() {
            return None;
        }
        Ref::filter_map(self.cells.borrow(), |c| c.get(header.index as usize)).ok()
    }

    /// A task left the slab: keep it (its future is gone, its header stays readable) in
    /// the history for snapshots. Returns what the caller must drop once it no longer
    /// uses the task: the task itself, or the oldest one the history let go.
    #[must_use = "drop the retired task only after the last use of its memory"]
    #[inline(always)]
    pub(crate) fn retire(
        &self,
        owned: Arc<dyn LocalTask>,
        header: &Header,
    ) -> Option<Arc<dyn LocalTask>> {
        if let Some(inspect) = self.inspect.get() {
            inspect.state.task_ended(header.id);
        }
        if let Some(flight) = self.flight_ring() {
            flight.task_ended(header.id);
        }
        if !self.is_counting() {
            if self.keeps_names {
                self.forget_name(header.id); // kept for the flight recorder only
            }
            return Some(owned);
        }
        self.keep(owned, header)
    }

    /// `retire` when the probes count: the history and the finished task's cells.
    /// `header` is `owned`'s.
    #[inline(always)]
    fn keep(&self, owned: Arc<dyn LocalTask>, header: &Header) -> Option<Arc<dyn LocalTask>> {
        if let Some(cells) = self.cells(header).map(|c| c.clone()) {
            let mut finished = self.finished_cells.borrow_mut();
            if finished.len() == TASK_HISTORY {
                finished.pop_front();
            }
            finished.push_back((header.id, cells));
        }
        let mut history = self.history.borrow_mut();
        let evicted = if history.len() == TASK_HISTORY {
            history.pop_front()
        } else {
            None
        };
        history.push_back(owned);
        drop(history);
        if let Some(gone) = &evicted {
            let mut names = self.names.borrow_mut();
            if !names.is_empty() {
                names.remove(&gone.header().id); // a hash only where tasks have names
            }
        }
        evicted
    }

    /// A finished task's name, kept for the flight recorder at `Level::Off` (no history
    /// keeps it there): the last `TASK_HISTORY` finished tasks keep theirs.
    #[cold]
    fn forget_name(&self, id: u64) {
        let mut names = self.names.borrow_mut();
        if names.is_empty() {
            return;
        }
        let mut finished = self.finished_names.borrow_mut();
        finished.push_back(id);
        if finished.len() > TASK_HISTORY {
            if let Some(gone) = finished.pop_front() {
                names.remove(&gone);
            }
        }
    }

    /// A task's name, copied (reports run user code: no borrow is kept).
    pub(crate) fn task_name(&self, id: u64) -> Option<Box<str>> {
        self.names.borrow().get(&id).cloned()
    }

    /// Runs `f` over the finished tasks kept, with their cells and the names table (no
    /// user code may run in `f`).
    pub(crate) fn with_history<R>(
        &self,
        f: impl FnOnce(
            &VecDeque<Arc<dyn LocalTask>>,
            &VecDeque<(u64, TaskTiming)>,
            &HashMap<u64, Box<str>>,
        ) -> R,
    ) -> R {
        f(
            &self.history.borrow(),
            &self.finished_cells.borrow(),
            &self.names.borrow(),
        )
    }

    /// Forgets the finished tasks (the runtime is being dropped).
    pub(crate) fn clear_history(&self) -> VecDeque<Arc<dyn LocalTask>> {
        self.history.take()
    }

    // ---- the block_on future ----

    /// The `block_on` future's cells, at `Level::Timing` and above.
    #[inline]
    pub(crate) fn main_timing(&self) -> Option<&TaskTiming> {
        self.main_timing.as_deref()
    }

    /// Where the `block_on` in progress was called.
    pub(crate) fn main_at(&self) -> &'static Location<'static> {
        self.main_at.get()
    }

    /// A `block_on` call began at `at`: its future is woken (its delay runs from now).
    pub(crate) fn block_on_started(&self, at: &'static Location<'static>, now: Instant) {
        self.main_at.set(at);
        self.running_since.set(Some(now));
        if let (Some(timing), Some(main)) = (self.timing(), self.main_timing()) {
            main.woken(timing.now());
        }
    }

    /// The `block_on` call that began at `start` returned (or unwound) at `end`, both
    /// on the runtime's clock (virtual when it is paused, as the park times are).
    pub(crate) fn block_on_ended(&self, start: Instant, end: Instant) {
        if let Some(timing) = self.timing() {
            timing.beacon_end(); // a block_on future that panicked is no longer polled
        }
        let ran = end.saturating_duration_since(start);
        self.running.set(self.running.get().saturating_add(ran));
        self.running_since.set(None);
    }

    /// Time inside `block_on` so far, the call in progress included (up to `now`, on
    /// the runtime's clock).
    pub(crate) fn running(&self, now: Instant) -> Duration {
        self.running.get().saturating_add(
            self.running_since
                .get()
                .map(|s| now.saturating_duration_since(s))
                .unwrap_or_default(),
        )
    }

    // ---- the turn ----

    /// The loop parked for `parked`.
    pub(crate) fn parked(&self, parked: Duration) {
        self.parked.set(self.parked.get().saturating_add(parked));
    }

    /// Total time parked.
    pub(crate) fn parked_total(&self) -> Duration {
        self.parked.get()
    }

    /// Whether an `on_turn` hook was given.
    #[inline(always)]
    pub(crate) fn has_on_turn(&self) -> bool {
        self.has_on_turn
    }

    /// Calls the `on_turn` hook (user code: the turn calls this where it holds no
    /// borrow). The hook is out of its slot while it runs, so a hook that somehow
    /// re-enters finds none, and it is put back even if it panics.
    pub(crate) fn call_on_turn(&self, turn: &Turn) {
        /// Puts the hook back, on return or unwind.
        struct PutBack<'a> {
            slot: &'a Cell<Option<TurnHook>>,
            hook: Option<TurnHook>,
        }
        impl Drop for PutBack<'_> {
            fn drop(&mut self) {
                self.slot.set(self.hook.take());
            }
        }
        let mut out = PutBack {
            slot: &self.on_turn,
            hook: self.on_turn.take(),
        };
        if let Some(hook) = out.hook.as_mut() {
            hook(turn);
        }
    }

    /// Hands the queued `tracing` events to the subscriber (user code: the turn calls
    /// this where it holds no borrow). Cheap when nothing is queued.
    #[inline]
    pub(crate) fn flush(&self) {
        if let Some(timing) = self.timing() {
            if timing.has_outbox() {
                timing.take_outbox().emit();
            }
        }
    }
}
