//! Lost wakers: a task left pending with no waker anywhere can never run again.
//!
//! After a poll returns `Pending`, the references to a task are the runtime's own, its
//! `JoinHandle` (if not dropped), those held by queues (a remote wake in flight), and
//! wakers. If only the first two remain, nobody can wake the task: it is lost, and the
//! executor reports it with the site it last yielded at (where the waker should have
//! been kept).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Lost-waker reports kept in a runtime (the count is kept beyond it).
pub const LOST_KEPT: usize = 32;

/// A task found pending with no waker left to wake it.
///
/// ```
/// let lost = turnstile_probes::LostWaker {
///     task_id: 4,
///     task_name: None,
///     spawned_at: "src/main.rs:9:5".into(),
///     last_site: None,
/// };
/// assert!(lost.to_string().contains("can never be woken"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostWaker {
    /// The task's id.
    pub task_id: u64,
    /// Its name, if any.
    pub task_name: Option<String>,
    /// Where it was spawned.
    pub spawned_at: String,
    /// The await site of its last `Pending`, if known (`Level::Timing`).
    pub last_site: Option<String>,
}

impl fmt::Display for LostWaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.task_id)?;
        if let Some(name) = &self.task_name {
            write!(f, " ({name})")?;
        }
        write!(
            f,
            " spawned at {} is pending and can never be woken: no waker for it exists",
            self.spawned_at
        )?;
        if let Some(site) = &self.last_site {
            write!(f, " (it last yielded at {site})")?;
        }
        Ok(())
    }
}
