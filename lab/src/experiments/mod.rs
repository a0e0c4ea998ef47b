//! The experiments, one module each, and what they share: the [`Experiment`] trait and
//! the [`Lab`] context they run in.
//!
//! An experiment is a clap `Args` struct (its knobs), a `run` that measures on each
//! chosen runtime, and a serde report that renders itself (tables, notes, a plot). To
//! add one: write its module, implement [`Experiment`] for a marker type, and add a
//! variant to `cli::Command` and to `report::ExperimentReport` and a line to the tour.

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::machine::Machine;
use crate::report::{ExperimentReport, Report};
use crate::runtimes::Rt;

pub mod chain;
pub mod cpu_share;
pub mod echo;
pub mod gather;
pub mod http;
pub mod limit;
pub mod memory;
pub mod stall;
pub mod yield_cost;

/// What every experiment runs with.
#[derive(Clone, Debug)]
pub struct Lab {
    /// The runtimes to measure, in order.
    pub runtimes: Vec<Rt>,
    /// Tiny sizes for the test suite: the counts hold, the times mean nothing.
    pub smoke: bool,
    /// Where the files go.
    pub out: PathBuf,
    /// The machine, stated in every file.
    pub machine: Machine,
}

impl Lab {
    /// A knob's value: what the user gave, else the smoke or the normal default.
    pub fn size<T>(&self, given: Option<T>, normal: T, smoke: T) -> T {
        given.unwrap_or(if self.smoke { smoke } else { normal })
    }

    /// A progress bar over `steps` steps, on stderr (hidden when stderr is not a
    /// terminal), that clears itself when finished.
    pub fn progress(&self, steps: u64, name: &str) -> ProgressBar {
        let bar = ProgressBar::new(steps);
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>11} [{bar:30}] {pos}/{len} {elapsed:>4} {wide_msg}",
            )
            .expect("a valid progress template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

/// One experiment: its knobs, how it runs, what it reports.
pub trait Experiment {
    /// The subcommand and file stem.
    const NAME: &'static str;
    /// The knobs (a clap `Args` struct).
    type Args: clap::Args + Clone + Debug;
    /// What it measured.
    type Report: Report + Serialize + DeserializeOwned;

    /// The knobs of the tour's short form.
    fn tour_args(full: bool) -> Self::Args;
    /// Measures on every runtime in `lab`.
    fn run(args: &Self::Args, lab: &Lab) -> anyhow::Result<Self::Report>;
    /// The report as one entry of the tour's report.
    fn into_tour(report: Self::Report) -> ExperimentReport;
}

/// An `Args` struct with every knob at its default, as if given no flags.
pub fn default_args<A: clap::Args>() -> A {
    let command = A::augment_args(clap::Command::new("defaults"));
    let matches = command
        .try_get_matches_from(["defaults"])
        .expect("every knob has a default");
    A::from_arg_matches(&matches).expect("defaults parse into the Args struct")
}

/// `chain`: does every `.await` go back to the loop?
#[derive(Debug)]
pub struct Chain;
/// `yield-cost`: what a call, an await, a yield and a switch cost.
#[derive(Debug)]
pub struct YieldCost;
/// `gather`: many sleeping tasks at once, or in batches.
#[derive(Debug)]
pub struct Gather;
/// `memory`: bytes per waiting task; recursion against a loop.
#[derive(Debug)]
pub struct Memory;
/// `echo`: TCP and UDP echo servers, and what each request costs them.
#[derive(Debug)]
pub struct Echo;
/// `limit`: how many requests a client should have in flight.
#[derive(Debug)]
pub struct Limit;
/// `cpu-share`: where CPU work in the loop wrecks the tail.
#[derive(Debug)]
pub struct CpuShare;
/// `http`: hyper's hello world.
#[derive(Debug)]
pub struct Http;
/// `stall`: what one blocking call costs everyone else.
#[derive(Debug)]
pub struct Stall;
