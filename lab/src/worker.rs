//! Measurements in a fresh child process.
//!
//! Peak RSS is per process: once a process has touched memory, its high-water mark
//! stays. So a measurement whose figure is peak RSS runs in a child: the lab starts its
//! own binary as `turnstile-lab worker '<request as JSON>'`, the child does the one job
//! and prints its result as JSON on stdout, and the parent reads it back.
//!
//! This module knows no experiment. An experiment that needs a child declares its job
//! types as [`ChildJob`]s and lists them in its `Experiment::CHILD_JOBS`; the registry
//! collects those lists into the table the child looks a job up in by name
//! ([`serve`]). Parent and child are the same binary, so they agree on the table.

use std::fmt::Debug;
use std::process::Stdio;

use anyhow::{bail, Context as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A measurement that runs in a child process: its input is `Self`, its result
/// [`ChildJob::Output`], both carried as JSON.
pub trait ChildJob: Serialize + DeserializeOwned + Debug {
    /// The job's name in the child's table; unique among every experiment's jobs.
    const NAME: &'static str;
    /// What the child sends back.
    type Output: Serialize + DeserializeOwned;

    /// The child's side: does the job.
    fn run(&self) -> anyhow::Result<Self::Output>;
}

/// One row of the child's job table: a job's name and how to run it from JSON to JSON.
#[derive(Clone, Copy)]
pub struct JobEntry {
    /// [`ChildJob::NAME`].
    pub name: &'static str,
    /// Parses the job, runs it and returns its result as JSON.
    pub run: fn(serde_json::Value) -> anyhow::Result<String>,
}

impl Debug for JobEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobEntry")
            .field("name", &self.name)
            .finish()
    }
}

/// The table row of job type `J`.
pub const fn entry<J: ChildJob>() -> JobEntry {
    JobEntry {
        name: J::NAME,
        run: run_json::<J>,
    }
}

fn run_json<J: ChildJob>(job: serde_json::Value) -> anyhow::Result<String> {
    let job: J =
        serde_json::from_value(job).with_context(|| format!("parsing a {} job", J::NAME))?;
    Ok(serde_json::to_string(&job.run()?)?)
}

/// What the parent hands the child: the job's name and the job.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    name: String,
    job: serde_json::Value,
}

/// Runs `job` in a fresh child process of this binary and returns its result.
pub fn run_in_child<J: ChildJob>(job: &J) -> anyhow::Result<J::Output> {
    run_in_child_on(job, None)
}

/// Runs `job` like [`run_in_child`], pinned to core `cpu` (with `taskset`) if given.
pub fn run_in_child_on<J: ChildJob>(job: &J, cpu: Option<usize>) -> anyhow::Result<J::Output> {
    let request = Request {
        name: J::NAME.to_string(),
        job: serde_json::to_value(job)?,
    };
    let output = crate::load::lab_command(cpu, &["worker", &serde_json::to_string(&request)?])?
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("starting a worker process")?;
    if !output.status.success() {
        bail!(
            "the worker for {} {job:?} failed ({})",
            J::NAME,
            output.status
        );
    }
    serde_json::from_slice(&output.stdout).with_context(|| {
        format!(
            "reading the worker's result: {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The child's side: finds the job given as JSON in `table` by its name, does it and
/// prints the result as JSON.
pub fn serve<'a>(
    request: &str,
    table: impl IntoIterator<Item = &'a JobEntry>,
) -> anyhow::Result<()> {
    let request: Request = serde_json::from_str(request).context("parsing the worker's job")?;
    let entry = table
        .into_iter()
        .find(|e| e.name == request.name)
        .with_context(|| format!("no worker job is named {:?}", request.name))?;
    let result = (entry.run)(request.job)?;
    println!("{result}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize)]
    struct Double(u64);

    impl ChildJob for Double {
        const NAME: &'static str = "double";
        type Output = u64;

        fn run(&self) -> anyhow::Result<u64> {
            Ok(self.0 * 2)
        }
    }

    #[test]
    fn a_job_runs_from_json_to_json_by_its_name() {
        let entry = entry::<Double>();
        assert_eq!(entry.name, "double");
        assert_eq!((entry.run)(serde_json::json!(21)).unwrap(), "42");
        assert!((entry.run)(serde_json::json!("21")).is_err());
    }

    #[test]
    fn an_unknown_name_is_an_error() {
        let request = r#"{"name":"triple","job":1}"#;
        let err = serve(request, &[entry::<Double>()]).unwrap_err();
        assert!(err.to_string().contains("\"triple\""), "{err}");
    }
}
