//! Which runtimes an experiment runs on, and the counts it records for one run.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};
use turnstile_compare::tally::Tally;
use turnstile_compare::LoopCounts;

pub use crate::python::Py;
pub use turnstile_compare::Rt;

/// The `--runtime` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum RuntimeChoice {
    /// turnstile only.
    Turnstile,
    /// tokio current_thread only.
    Tokio,
    /// smol (async-executor's LocalExecutor over async-io) only.
    Smol,
    /// The three Rust runtimes: turnstile, tokio, smol.
    Rust,
    /// Python's asyncio on its default loop only (the scripts in `lab/python/`).
    Asyncio,
    /// Python's asyncio on uvloop only.
    Uvloop,
    /// Both Python loops: asyncio and asyncio + uvloop.
    Python,
    /// Everything: turnstile, tokio, smol, asyncio, asyncio + uvloop.
    #[default]
    All,
}

impl RuntimeChoice {
    /// The Rust runtimes chosen, in the order they run.
    pub fn runtimes(self) -> Vec<Rt> {
        match self {
            RuntimeChoice::Turnstile => vec![Rt::Turnstile],
            RuntimeChoice::Tokio => vec![Rt::Tokio],
            RuntimeChoice::Smol => vec![Rt::Smol],
            RuntimeChoice::Rust | RuntimeChoice::All => Rt::ALL.to_vec(),
            RuntimeChoice::Asyncio | RuntimeChoice::Uvloop | RuntimeChoice::Python => Vec::new(),
        }
    }

    /// The Python loops chosen, in the order they run.
    pub fn python(self) -> Vec<Py> {
        match self {
            RuntimeChoice::Asyncio => vec![Py::Asyncio],
            RuntimeChoice::Uvloop => vec![Py::Uvloop],
            RuntimeChoice::Python | RuntimeChoice::All => Py::ALL.to_vec(),
            _ => Vec::new(),
        }
    }
}

/// What was counted in one run. `polls` and `yields` are taken by the workload itself
/// (`turnstile_compare::tally::counted`), the same way on every runtime; the other
/// counts come from the runtime and are `None` where it keeps no such count (tokio's
/// stable metrics count parks only; smol counts nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Turns of the loop (turnstile).
    pub turns: Option<u64>,
    /// Times the loop blocked waiting (turnstile, tokio).
    pub parks: Option<u64>,
    /// Polls of the workload's tasks.
    pub polls: u64,
    /// Task polls that returned `Pending`: yields back to the loop.
    pub yields: u64,
    /// Task polls as the runtime counted them (turnstile), a cross-check of `polls`.
    pub runtime_polls: Option<u64>,
    /// Tasks spawned (turnstile).
    pub spawns: Option<u64>,
    /// Tasks completed (turnstile).
    pub completions: Option<u64>,
    /// Timers fired (turnstile).
    pub timers_fired: Option<u64>,
}

impl Counts {
    /// Counts from what the runtime counted and what the workload tallied.
    pub fn new(runtime: LoopCounts, tally: Tally) -> Counts {
        Counts {
            turns: runtime.turns,
            parks: runtime.parks,
            polls: tally.polls,
            yields: tally.yields,
            runtime_polls: runtime.polls,
            spawns: runtime.spawns,
            completions: runtime.completions,
            timers_fired: runtime.timers_fired,
        }
    }
}
