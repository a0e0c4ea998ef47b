//! turnstile-lab: experiments that test published claims about async runtimes, each
//! run on turnstile, on tokio's current-thread runtime and on smol with the same
//! workload code, and, where the claim is about Python, on asyncio and uvloop in the
//! same run ([`python`]).
//! The claims come from four articles about Python's asyncio ([`sources`]); each
//! report states its claim with the article's numbers and cites it by title.
//!
//! The binary (`cargo run --release` at the workspace root) runs the tour: every
//! experiment in a short form, a table per experiment on the terminal, and JSON, SVG and
//! markdown files under `target/lab/`. Each experiment is also a subcommand with its own
//! knobs (`turnstile-lab <experiment> --help`).
//!
//! How the parts fit:
//!
//! - [`experiments`]: one module per experiment. Each has its clap `Args`, a `run` that
//!   measures, and a serde `Report` that renders itself ([`report::Report`]). The
//!   [`experiments::Experiment`] trait is the one shape they all have; adding an
//!   experiment is a module, a variant of [`cli::Command`] and of
//!   [`report::ExperimentReport`], and a line in the tour.
//! - [`runtimes`]: which runtimes to run, and the counts recorded for a run.
//! - [`python`]: the same experiments in Python (`lab/python/`), on asyncio's default
//!   loop and on uvloop, run from a venv the lab makes under `target/`.
//! - [`worker`]: runs one measurement in a fresh child process of this binary, where a
//!   figure is per process (peak RSS).
//! - [`alloc`]: a counting global allocator (installed by the binary) for exact heap
//!   bytes.
//! - [`load`]: servers in pinned child processes (`serve`), latency percentiles.
//! - [`report`], [`plot`], [`machine`]: tables, markdown, JSON, SVG, machine facts.
//!
//! Every experiment owns its workloads and servers, written once against
//! [`turnstile_compare::Runtime`], the adapter trait the criterion benches use too.

#[macro_use]
extern crate turnstile_compare;

pub use turnstile_compare::alloc;
pub mod cli;
pub mod cost;
pub mod experiments;
pub mod inspect;
pub mod load;
pub mod machine;
pub mod plot;
pub mod python;
pub mod report;
pub mod runtimes;
pub mod servers;
pub mod sources;
pub mod tour;
pub mod worker;
