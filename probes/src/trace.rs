//! `Level::Trace`: a bounded ring buffer of what the loop did, event by event.
//!
//! Events carry nanoseconds since the runtime was built. The ring keeps the most recent
//! [`TRACE_CAPACITY`] events by default; older ones are dropped and counted, so memory
//! stays bounded however long the loop runs. Export a [`TraceLog`] as narrated text
//! ([`TraceLog::narrate`]) or as Chrome/Perfetto trace JSON ([`TraceLog::to_chrome_json`]);
//! the loop also emits each event as a `tracing` event under target `turnstile`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::counters::WakeSource;

/// Events kept by default.
pub const TRACE_CAPACITY: usize = 65_536;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum EventKind {
    /// A turn began.
    TurnStart {
        /// The turn's number.
        turn: u64,
    },
    /// A turn ended.
    TurnEnd {
        /// The turn's number.
        turn: u64,
        /// Tasks queued for the next turn.
        ready: u64,
    },
    /// A task (0: the `block_on` future) was about to be polled.
    PollStart {
        /// The task.
        task: u64,
    },
    /// That poll returned.
    PollEnd {
        /// The task.
        task: u64,
        /// It returned `Ready` (or panicked) rather than `Pending`.
        done: bool,
    },
    /// A task was woken.
    Wake {
        /// The task woken (0: the `block_on` future).
        target: u64,
        /// Where the wake came from.
        source: WakeSource,
        /// The task being polled when it happened, if any.
        by: Option<u64>,
    },
    /// The loop parked: nothing was ready.
    ParkStart,
    /// The park ended.
    ParkEnd,
    /// The reactor delivered readiness events.
    Io {
        /// How many.
        events: u64,
    },
    /// Timers fired.
    TimersFired {
        /// How many.
        count: u64,
    },
    /// A poll of `task` returned `Pending` (at `Level::Trace`, just before its
    /// [`EventKind::PollEnd`]): where it stopped, for recordings and their viewer.
    Yielded {
        /// The task (0: the `block_on` future).
        task: u64,
        /// The await site it stopped at: an index into the sites of the runtime's
        /// snapshot ([`crate::Snapshot::sites`]), `None` when its `Pending` left none.
        site: Option<u32>,
        /// The async stack it is suspended in: an index into a recording's stacks
        /// (`None`: no `#[turnstile::instrument]`ed frame).
        stack: Option<u32>,
        /// The cooperative budget, not the code, made it yield.
        budget: bool,
    },
    /// A wake of a task already queued: counted, not queued twice (at `Level::Trace`).
    Coalesced {
        /// The task woken (0: the `block_on` future).
        target: u64,
        /// Where the wake came from.
        source: WakeSource,
        /// The task being polled when it happened, if any.
        by: Option<u64>,
    },
    /// A task was spawned (at `Level::Trace`): its name and spawn location are in the
    /// tables of a recording (`Recording::tasks`).
    Spawned {
        /// The new task.
        task: u64,
        /// The task being polled when it was spawned, if any (0: the `block_on` future).
        by: Option<u64>,
    },
    /// A timer was armed (at `Level::Trace`): a `sleep`, `timeout` or `interval`
    /// waiting for its deadline.
    TimerSet {
        /// The task being polled when it was armed, the one its timer will wake (0: the
        /// `block_on` future), if any.
        task: Option<u64>,
        /// How far away its deadline was, in nanoseconds of the runtime's clock.
        due_in_ns: u64,
    },
    /// A poll was a stall.
    Stall {
        /// The task.
        task: u64,
        /// How long it ran, in nanoseconds.
        nanos: u64,
    },
}

/// One event and when it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Nanoseconds since the runtime was built.
    pub at_ns: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// The ring buffer. Loop thread only.
///
/// ```
/// use turnstile_probes::{EventKind, TraceRing};
/// let mut ring = TraceRing::with_capacity(2);
/// for turn in 1..=3 {
///     ring.push(turn, EventKind::TurnStart { turn });
/// }
/// assert_eq!((ring.len(), ring.dropped()), (2, 1));
/// ```
#[derive(Debug)]
pub struct TraceRing {
    /// The events, in the units given to `push`; once full, `head` is the oldest and
    /// each push overwrites it (no shifting, no reallocation).
    events: Vec<Event>,
    head: usize,
    capacity: usize,
    dropped: u64,
}

impl TraceRing {
    /// A ring that keeps the last `capacity` events (at least one).
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TraceRing::with_capacity(8).len(), 0);
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        TraceRing {
            events: Vec::with_capacity(capacity.min(TRACE_CAPACITY)),
            head: 0,
            capacity,
            dropped: 0,
        }
    }

    /// Appends an event, dropping the oldest if full. `at` is in nanoseconds, or in
    /// whatever unit the reader of [`TraceRing::log_scaled`] converts from.
    ///
    /// ```
    /// let mut ring = turnstile_probes::TraceRing::with_capacity(1);
    /// ring.push(5, turnstile_probes::EventKind::ParkStart);
    /// assert_eq!(ring.len(), 1);
    /// ```
    #[inline]
    pub fn push(&mut self, at: u64, kind: EventKind) {
        let event = Event { at_ns: at, kind };
        if self.events.len() < self.capacity {
            self.events.push(event);
            return;
        }
        self.events[self.head] = event;
        self.head += 1;
        if self.head == self.capacity {
            self.head = 0;
        }
        self.dropped += 1;
    }

    /// Events held.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TraceRing::with_capacity(4).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when no event is held.
    ///
    /// ```
    /// assert!(turnstile_probes::TraceRing::with_capacity(4).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Events dropped because the ring was full.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::TraceRing::with_capacity(4).dropped(), 0);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// A copy of what the ring holds, oldest first, with task names for the exporters.
    ///
    /// ```
    /// let ring = turnstile_probes::TraceRing::with_capacity(4);
    /// assert!(ring.log(Default::default()).events.is_empty());
    /// ```
    pub fn log(&self, task_names: HashMap<u64, String>) -> TraceLog {
        self.log_scaled(task_names, |at| at)
    }

    /// Like [`TraceRing::log`], for a ring whose times are in other units (a runtime
    /// pushes raw clock ticks): `to_ns` turns each into nanoseconds.
    ///
    /// ```
    /// let mut ring = turnstile_probes::TraceRing::with_capacity(4);
    /// ring.push(3, turnstile_probes::EventKind::ParkStart);
    /// let log = ring.log_scaled(Default::default(), |t| t * 10);
    /// assert_eq!(log.events[0].at_ns, 30);
    /// ```
    pub fn log_scaled(
        &self,
        task_names: HashMap<u64, String>,
        to_ns: impl Fn(u64) -> u64,
    ) -> TraceLog {
        let (newer, older) = self.events.split_at(self.head);
        TraceLog {
            events: older
                .iter()
                .chain(newer)
                .map(|e| Event {
                    at_ns: to_ns(e.at_ns),
                    kind: e.kind,
                })
                .collect(),
            dropped: self.dropped,
            capacity: self.capacity as u64,
            task_names,
            stall_stacks: HashMap::new(),
        }
    }
}

/// The events of a trace, oldest first, as a snapshot holds them.
///
/// ```
/// let log = turnstile_probes::TraceLog::default();
/// assert_eq!(log.narrate(), "");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TraceLog {
    /// The events kept, oldest first.
    pub events: Vec<Event>,
    /// Events dropped because the ring was full.
    pub dropped: u64,
    /// The ring's capacity.
    pub capacity: u64,
    /// Task names (or spawn locations) by id, for the exporters.
    pub task_names: HashMap<u64, String>,
    /// The async stack (`#[turnstile::instrument]` frames over the leaf site) a task
    /// resumed from when it stalled, by id: the Chrome export puts it on the task's
    /// stall event. Filled by the flight recorder's stall files.
    #[serde(default)]
    pub stall_stacks: HashMap<u64, String>,
}

impl TraceLog {
    /// A task's display name.
    pub(crate) fn task_name(&self, id: u64) -> String {
        if id == 0 {
            return "block_on".to_string();
        }
        match self.task_names.get(&id) {
            Some(name) => format!("task {id} ({name})"),
            None => format!("task {id}"),
        }
    }
}
