//! What the recorder has to say to the user's `tracing` subscriber, held until the
//! loop reaches a point where it holds no borrow of its own state.
//!
//! A subscriber is the user's code: it may spawn, take a snapshot or wake a task from
//! inside an event, so no event is emitted where the recorder or the executor is in the
//! middle of a change. The recorder queues each event here instead, and the executor
//! takes the queue ([`crate::Timing::take_outbox`]) and [`Outbox::emit`]s it between
//! steps of its turn.

use crate::lost::LostWaker;
use crate::stall::StallReport;
use crate::trace::EventKind;

/// One queued `tracing` event.
#[derive(Clone, Debug)]
pub enum Outgoing {
    /// A stall ended: a `WARN` event under target `turnstile`.
    Stall(Box<StallReport>),
    /// A task yielded with no waker left: a `WARN` event under target `turnstile`.
    LostWaker(LostWaker),
    /// A `Level::Trace` event: a `TRACE` event under target `turnstile`.
    Trace {
        /// Nanoseconds since the runtime was built.
        at_ns: u64,
        /// What happened.
        kind: EventKind,
    },
}

/// Events taken from the recorder, to emit with no borrow held.
///
/// ```
/// use std::time::Duration;
/// use turnstile_probes::{Level, TaskInfo, TaskTiming, Timing};
///
/// let t = Timing::new(Level::Timing, Duration::ZERO, 0);
/// let task = TaskTiming::new(t.now());
/// let start = t.poll_started(1);
/// let info = TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
/// t.stalled(info, start, std::iter::empty());
/// let outbox = t.take_outbox();
/// assert_eq!(outbox.len(), 1);
/// outbox.emit(); // a WARN event, if a subscriber listens
/// assert!(t.take_outbox().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct Outbox {
    pub(crate) items: Vec<Outgoing>,
}

impl Outbox {
    /// Whether nothing is queued.
    ///
    /// ```
    /// assert!(turnstile_probes::Outbox::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many events are queued.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Outbox::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The queued events, oldest first.
    ///
    /// ```
    /// assert!(turnstile_probes::Outbox::default().items().is_empty());
    /// ```
    pub fn items(&self) -> &[Outgoing] {
        &self.items
    }

    /// Hands every event to the `tracing` subscriber, oldest first. Call it where the
    /// subscriber may re-enter the runtime. If the subscriber panics, the events after
    /// that one are dropped (the snapshot still has every stall and lost waker).
    ///
    /// ```
    /// turnstile_probes::Outbox::default().emit();
    /// ```
    pub fn emit(self) {
        for item in self.items {
            match item {
                Outgoing::Stall(report) => tracing::warn!(
                    target: "turnstile",
                    task_id = report.task_id,
                    task_name = report.task_name.as_deref().unwrap_or(""),
                    spawned_at = %report.spawned_at,
                    duration_ms = report.duration.as_secs_f64() * 1e3,
                    kind = ?report.kind,
                    blocked_at = report.blocked_at.as_deref().unwrap_or(""),
                    "stall: {report}"
                ),
                Outgoing::LostWaker(report) => {
                    tracing::warn!(target: "turnstile", task_id = report.task_id, "{report}")
                }
                Outgoing::Trace { at_ns, kind } => {
                    tracing::trace!(target: "turnstile", at_ns, event = ?kind)
                }
            }
        }
    }
}
