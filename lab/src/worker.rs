//! Measurements in a fresh child process.
//!
//! Peak RSS is per process: once a process has touched memory, its high-water mark
//! stays. So a measurement whose figure is peak RSS runs in a child: the lab starts its
//! own binary as `turnstile-lab worker '<job as JSON>'`, the child does the one job and
//! prints its result as JSON on stdout, and the parent reads it back.

use std::process::Stdio;

use anyhow::{bail, Context as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::experiments::echo::{self, EchoLoadJob};
use crate::experiments::gather::{self, GatherJob};
use crate::experiments::http::{self, HttpLoadJob};
use crate::experiments::memory::{self, IdleJob, RecursionJob};

/// One job for a child process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Job {
    /// One `gather` run.
    Gather(GatherJob),
    /// `memory`: idle tasks.
    Idle(IdleJob),
    /// `memory`: a recursive `async fn` or its loop.
    Recursion(RecursionJob),
    /// `echo`: the load generator.
    EchoLoad(EchoLoadJob),
    /// `http`: the lab's own load generator.
    HttpLoad(HttpLoadJob),
}

/// Runs `job` in a fresh child process of this binary and returns its result.
pub fn run_in_child<T: DeserializeOwned>(job: &Job) -> anyhow::Result<T> {
    run_in_child_on(job, None)
}

/// Runs `job` like [`run_in_child`], pinned to core `cpu` (with `taskset`) if given.
pub fn run_in_child_on<T: DeserializeOwned>(job: &Job, cpu: Option<usize>) -> anyhow::Result<T> {
    let output = crate::load::lab_command(cpu, &["worker", &serde_json::to_string(job)?])?
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("starting a worker process")?;
    if !output.status.success() {
        bail!("the worker for {job:?} failed ({})", output.status);
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "reading the worker's result: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The child's side: does the job given as JSON and prints the result as JSON.
pub fn serve(job: &str) -> anyhow::Result<()> {
    let job: Job = serde_json::from_str(job).context("parsing the worker's job")?;
    let result = match job {
        Job::Gather(job) => serde_json::to_string(&gather::run_job(&job))?,
        Job::Idle(job) => serde_json::to_string(&memory::run_idle_job(&job))?,
        Job::Recursion(job) => serde_json::to_string(&memory::run_recursion_job(&job)?)?,
        Job::EchoLoad(job) => serde_json::to_string(&echo::run_load(&job)?)?,
        Job::HttpLoad(job) => serde_json::to_string(&http::run_load(&job)?)?,
    };
    println!("{result}");
    Ok(())
}
