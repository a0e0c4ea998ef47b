//! One turn of the loop, as the `on_turn` hook sees it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What happened in one turn of the run-once loop.
///
/// A turn drains wakes from other threads, drives the reactor (parking when nothing is
/// ready), fires expired timers, polls each task that was ready when it began, and polls
/// the `block_on` future if it was woken. The executor hands one `Turn` to the `on_turn`
/// hook at the end of each turn; its `Display` is a one-line narration.
///
/// ```
/// let mut turn = turnstile_probes::Turn::default();
/// turn.number = 3;
/// turn.tasks_polled = 1;
/// assert!(turn.to_string().starts_with("turn 3:"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Turn {
    /// The turn's number, counting from 1 for each runtime.
    pub number: u64,
    /// Tasks polled in this turn (the `block_on` future not included).
    pub tasks_polled: u64,
    /// Of those polls, how many returned `Pending` (yields back to the loop).
    pub yields: u64,
    /// Of those, the yields the cooperative budget forced.
    #[serde(default)]
    pub budget_yields: u64,
    /// Whether the `block_on` future was polled at the end of the turn.
    pub main_polled: bool,
    /// Wakes by a task of itself during this turn.
    pub wakes_self: u64,
    /// Wakes by other tasks on the loop thread during this turn.
    pub wakes_local: u64,
    /// Wakes from other threads taken in at the start of this turn.
    pub wakes_remote: u64,
    /// Wakes from socket readiness during this turn.
    pub wakes_io: u64,
    /// Wakes from timers during this turn.
    pub wakes_timer: u64,
    /// Whether the loop parked (blocked in the reactor) because nothing was ready.
    pub parked: bool,
    /// Whether the reactor was polled without blocking (every `event_interval` busy turns).
    pub polled_io: bool,
    /// Readiness events the reactor delivered.
    pub io_events: u64,
    /// Timers that fired.
    pub timers_fired: u64,
    /// Time spent parked in this turn.
    pub parked_for: Duration,
    /// Tasks queued to run in the next turn when this one ended.
    pub ready_after: u64,
}

impl Turn {
    /// All wakes counted in this turn, from every source.
    ///
    /// ```
    /// let mut t = turnstile_probes::Turn::default();
    /// t.wakes_self = 1;
    /// t.wakes_timer = 2;
    /// assert_eq!(t.wakes(), 3);
    /// ```
    pub fn wakes(&self) -> u64 {
        self.wakes_self + self.wakes_local + self.wakes_remote + self.wakes_io + self.wakes_timer
    }
}

impl fmt::Display for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "turn {}:", self.number)?;
        if self.parked {
            write!(f, " parked {:.1?},", self.parked_for)?;
        } else if self.polled_io {
            write!(f, " polled I/O,")?;
        }
        if self.io_events > 0 {
            write!(f, " {},", plural(self.io_events, "I/O event"))?;
        }
        if self.timers_fired > 0 {
            write!(f, " {} fired,", plural(self.timers_fired, "timer"))?;
        }
        let polled = plural(self.tasks_polled, "task");
        if self.budget_yields > 0 {
            write!(
                f,
                " polled {polled} ({} yielded, {} by budget)",
                self.yields, self.budget_yields
            )?;
        } else {
            write!(f, " polled {polled} ({} yielded)", self.yields)?;
        }
        if self.main_polled {
            write!(f, " + block_on future")?;
        }
        let sources = [
            ("self", self.wakes_self),
            ("local", self.wakes_local),
            ("remote", self.wakes_remote),
            ("io", self.wakes_io),
            ("timer", self.wakes_timer),
        ];
        let mut first = true;
        for (name, n) in sources.into_iter().filter(|(_, n)| *n > 0) {
            write!(f, "{} {n} {name}", if first { "; wakes:" } else { "," })?;
            first = false;
        }
        if self.ready_after > 0 {
            write!(f, "; {} ready for the next turn", self.ready_after)?;
        }
        Ok(())
    }
}

/// "1 task", "2 tasks".
fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narration_names_what_the_turn_did() {
        let t = Turn {
            number: 2,
            parked: true,
            parked_for: Duration::from_millis(100),
            timers_fired: 1,
            tasks_polled: 1,
            main_polled: true,
            wakes_timer: 1,
            ..Default::default()
        };
        assert_eq!(
            t.to_string(),
            "turn 2: parked 100.0ms, 1 timer fired, polled 1 task (0 yielded) + block_on future; \
             wakes: 1 timer"
        );
    }
}
