//! The experiments, one module each, and what they share: the [`Experiment`] trait, the
//! [`Lab`] context they run in, and [`run_and_report`], which runs one and shows and
//! writes its report.
//!
//! An experiment is a clap `Args` struct (its knobs), a `run` that measures on each
//! chosen runtime, and a serde report that renders itself (tables, notes computed from
//! its rows, a plot). To add one: write its module (workload, report and all; a server
//! that other experiments use too goes in [`crate::servers`]), implement [`Experiment`]
//! for its marker type, and register it in the one list below, the `registry!` call.
//! The list makes its subcommand ([`ExperimentCommand`]), its place in the tour
//! ([`tour`]) and in the tour's report ([`ExperimentReport`]), its name in [`NAMES`],
//! which the smoke tests walk, and its child-process jobs part of the worker's table
//! ([`child_jobs`]).

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::machine::Machine;
use crate::report::{self, Report};
use crate::runtimes::{Py, Rt};
use crate::worker::JobEntry;

/// What every experiment runs with.
#[derive(Clone, Debug)]
pub struct Lab {
    /// The Rust runtimes to measure, in order.
    pub runtimes: Vec<Rt>,
    /// The Python loops to measure (the scripts in `lab/python/`), in order.
    pub python: Vec<Py>,
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

    /// Measures every setting on every runtime, settings outer and runtimes inner (so
    /// that a table reads the runtimes side by side), under one progress bar named
    /// `name`; returns the rows in that order. The experiment says how to measure one
    /// (runtime, setting) pair; the sweep owns the loop and the bar.
    pub fn sweep<S: std::fmt::Display, Row>(
        &self,
        name: &str,
        settings: &[S],
        mut measure: impl FnMut(Rt, &S) -> anyhow::Result<Row>,
    ) -> anyhow::Result<Vec<Row>> {
        let bar = self.progress((settings.len() * self.runtimes.len()) as u64, name);
        let mut rows = Vec::with_capacity(settings.len() * self.runtimes.len());
        for setting in settings {
            for &runtime in &self.runtimes {
                bar.set_message(format!("{runtime}, {setting}"));
                rows.push(measure(runtime, setting)?);
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
        Ok(rows)
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
    /// The jobs it runs in child processes ([`crate::worker`]), if any: each
    /// `worker::entry::<Job>()`.
    const CHILD_JOBS: &'static [JobEntry] = &[];

    /// The knobs of the tour's short form.
    fn tour_args(full: bool) -> Self::Args;
    /// Measures on every runtime in `lab`.
    fn run(args: &Self::Args, lab: &Lab) -> anyhow::Result<Self::Report>;
}

/// Runs one experiment, prints its report and writes its files.
pub fn run_and_report<E: Experiment>(args: &E::Args, lab: &Lab) -> anyhow::Result<E::Report> {
    let start = Instant::now();
    let (report, files) = run_and_write::<E>(args, lab)?;
    print!("{}", report::to_terminal(&report));
    println!("{}", report::wrote(E::NAME, start.elapsed(), &files));
    Ok(report)
}

/// Runs one experiment and writes its files, printing nothing: the tour decides what
/// to show.
pub fn run_and_write<E: Experiment>(
    args: &E::Args,
    lab: &Lab,
) -> anyhow::Result<(E::Report, Vec<PathBuf>)> {
    if !crate::alloc::installed() {
        eprintln!("note: the counting allocator is not installed: heap figures will be 0");
    }
    let report = E::run(args, lab).with_context(|| format!("running {}", E::NAME))?;
    let files = report::write_files(&report, &lab.machine, &lab.out)?;
    Ok((report, files))
}

/// An `Args` struct with every knob at its default, as if given no flags.
pub fn default_args<A: clap::Args>() -> A {
    let command = A::augment_args(clap::Command::new("defaults"));
    let matches = command
        .try_get_matches_from(["defaults"])
        .expect("every knob has a default");
    A::from_arg_matches(&matches).expect("defaults parse into the Args struct")
}

/// Declares the experiments, once each: its module, a marker type, the
/// subcommands, the tour's order, the tour report's variants, [`NAMES`], and the
/// worker's job table ([`child_jobs`]).
macro_rules! registry {
    ($($(#[doc = $doc:literal])* $Variant:ident => $module:ident,)*) => {
        $(
            pub mod $module;

            $(#[doc = $doc])*
            #[derive(Debug)]
            pub struct $Variant;
        )*

        /// One subcommand per experiment, with that experiment's knobs.
        #[derive(Debug, clap::Subcommand)]
        pub enum ExperimentCommand {
            $(
                $(#[doc = $doc])*
                $Variant(<$Variant as Experiment>::Args),
            )*
        }

        /// One experiment's report, tagged with the experiment's name in JSON.
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "experiment", content = "report", rename_all = "kebab-case")]
        pub enum ExperimentReport {
            $(
                $(#[doc = $doc])*
                $Variant(<$Variant as Experiment>::Report),
            )*
        }

        impl ExperimentReport {
            /// The report inside, to render.
            pub fn as_report(&self) -> &dyn Report {
                match self {
                    $(ExperimentReport::$Variant(r) => r,)*
                }
            }
        }

        impl ExperimentCommand {
            /// Runs the experiment with the knobs given, prints its report and writes
            /// its files.
            pub fn run(&self, lab: &Lab) -> anyhow::Result<ExperimentReport> {
                match self {
                    $(ExperimentCommand::$Variant(args) => {
                        run_and_report::<$Variant>(args, lab).map(ExperimentReport::$Variant)
                    })*
                }
            }
        }

        /// Every experiment's name (its subcommand and file stem), in the tour's order.
        pub const NAMES: &[&str] = &[$(<$Variant as Experiment>::NAME,)*];

        /// The worker's job table: every experiment's child-process jobs
        /// ([`Experiment::CHILD_JOBS`]).
        pub fn child_jobs() -> impl Iterator<Item = &'static JobEntry> {
            [$(<$Variant as Experiment>::CHILD_JOBS,)*].into_iter().flatten()
        }

        /// Runs every experiment in its tour form (`full`: the long forms), in order,
        /// handing each report, the files written and the time it took to `each` as
        /// soon as it is done.
        pub fn tour(
            full: bool,
            lab: &Lab,
            each: &mut dyn FnMut(&ExperimentReport, &[PathBuf], Duration),
        ) -> anyhow::Result<Vec<ExperimentReport>> {
            let mut reports = Vec::new();
            $(
                let start = Instant::now();
                let (report, files) =
                    run_and_write::<$Variant>(&<$Variant as Experiment>::tour_args(full), lab)?;
                let report = ExperimentReport::$Variant(report);
                each(&report, &files, start.elapsed());
                reports.push(report);
            )*
            Ok(reports)
        }
    };
}

registry! {
    /// Does every .await go back to the loop? Await chains of depth 1, 5, 50.
    Chain => chain,
    /// What one call, await, yield, task switch and thread switch cost.
    YieldCost => yield_cost,
    /// 10,000 and 100,000 tasks sleeping 3 x 100 ms: all at once, batched, behind a
    /// semaphore.
    Gather => gather,
    /// Bytes per idle task; a deep recursive async fn against a loop.
    Memory => memory,
    /// TCP and UDP echo servers: round trips per second, p99, and the server's CPU
    /// time and system calls per request, server and load generator on separate cores.
    Echo => echo,
    /// Clients against a server that serves 100 connections at once; plain, semaphore
    /// and buffer_unordered from 10 to 2,000 in flight.
    Limit => limit,
    /// Request latency against the CPU share of each request's work, inline and
    /// through spawn_blocking.
    CpuShare => cpu_share,
    /// hyper's hello world on each runtime, driven by wrk, h2load or the lab's own
    /// generator, with the server's CPU time and system calls per request.
    Http => http,
    /// A heartbeat's lateness while another task blocks, computes, or offloads;
    /// turnstile's stall reports.
    Stall => stall,
    /// One quiet keep-alive client's p99 beside N heavy pipelining clients (hyper's
    /// hello world), with the server's CPU per request.
    Neighbours => neighbours,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_child_job_has_a_name_of_its_own() {
        let mut names: Vec<&str> = child_jobs().map(|e| e.name).collect();
        assert_eq!(
            names,
            [
                "gather",
                "memory-idle",
                "memory-recursion",
                "echo-load",
                "http-load"
            ],
            "the experiments that need a child process, in the registry's order"
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), child_jobs().count(), "a name is taken twice");
    }
}
