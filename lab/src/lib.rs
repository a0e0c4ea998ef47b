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
//! How the parts fit, from the top down (a module uses only those below it):
//!
//! - [`cli`]: the command line. It parses the flags into an [`experiments::Lab`], runs
//!   the tour or one experiment, and routes the hidden `serve` and `worker`
//!   subcommands of the child processes to [`servers`] and [`worker`] (handing the
//!   worker the experiments' job table).
//! - [`tour`]: every experiment in its short form, then `tour.json` and `summary.md`.
//! - [`experiments`]: one module per experiment. Each has its clap `Args`, a `run` that
//!   measures, and a serde `Report` that renders itself ([`report::Report`]), all
//!   behind the [`experiments::Experiment`] trait. Adding an experiment is its module,
//!   an `impl Experiment` for its marker type, and one line in the `registry!` list in
//!   `experiments/mod.rs`; that line makes its subcommand, its place in the tour and in
//!   [`experiments::ExperimentReport`], and its name in [`experiments::NAMES`]. An
//!   experiment that measures in a child process declares its jobs as
//!   [`worker::ChildJob`]s and lists them in `Experiment::CHILD_JOBS`.
//! - [`worker`]: runs one measurement in a fresh child process of this binary, where a
//!   figure is per process (peak RSS); the child finds its job by name in the table the
//!   experiments provide, so the worker knows none of them.
//! - [`load`]: servers started in pinned child processes, what a load run cost the
//!   server and the generator, latency percentiles.
//! - [`servers`]: the servers several experiments or the examples use (the echo
//!   servers, hyper's hello world), and the child's side of `serve`.
//! - [`runtimes`]: which runtimes to run, and the counts recorded for a run.
//! - [`python`]: the same experiments in Python (`lab/python/`), on asyncio's default
//!   loop and on uvloop, run from a venv the lab makes under `target/`.
//! - [`report`], [`plot`], [`machine`], [`cost`], [`sources`]: tables, markdown, JSON
//!   and SVG; machine facts; a server thread's CPU time and system calls; the articles
//!   the reports cite.
//! - [`inspect`]: `turnstile-lab inspect`, a client of a running turnstile runtime's
//!   inspector.
//! - [`view`]: `turnstile-lab view`, a recording as a page that steps through the
//!   run turn by turn.
//! - [`alloc`]: a counting global allocator (installed by the binary) for exact heap
//!   bytes.
//!
//! Every experiment owns its workloads, written once against
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
pub mod view;
pub mod worker;
