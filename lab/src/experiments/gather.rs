//! `gather`: how many tasks can a loop take at once?
//!
//! N tasks, each awaiting three 100 ms sleeps in a row, started three ways: all at once,
//! in 5 batches (each batch finishes before the next starts), and all at once behind a
//! semaphore of K permits (by default N / 5, the batches' concurrency). Each run is a
//! fresh child process, so its peak RSS is its own. Reported: wall time, the ideal (the
//! sleeps alone), the overhead above it, peak RSS, peak heap, and the loop's counts;
//! beside the blog post's Python figures.

use std::path::Path;
use std::time::{Duration, Instant};

use clap::value_parser;
use serde::{Deserialize, Serialize};
use turnstile_compare::tally::{counted, take_tally};
use turnstile_compare::Runtime;

use std::sync::Arc;

use super::{Experiment, Lab};
use crate::machine;
use crate::plot::{self, Bars, Series, Who};
use crate::report::{self, bytes, opt, thousands, Report, Section};
use crate::runtimes::{Counts, Rt};
use crate::python::{self, Py, PyRuns};
use crate::sources;
use crate::worker::{self, ChildJob, JobEntry};

/// The knobs of `gather`.
#[derive(clap::Args, Clone, Debug)]
pub struct GatherArgs {
    /// Task counts to run, comma-separated [default: 10000,100000; 200 with --smoke].
    #[arg(long, value_delimiter = ',',
          value_parser = value_parser!(u64).range(1..=10_000_000))]
    pub tasks: Vec<u64>,
    /// Also run 1,000,000 tasks.
    #[arg(long)]
    pub full: bool,
    /// Sleeps each task awaits, one after the other.
    #[arg(long, default_value_t = 3, value_parser = value_parser!(u32).range(1..=100))]
    pub sleeps: u32,
    /// Length of each sleep, in milliseconds [default: 100; 10 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=10_000))]
    pub sleep_ms: Option<u64>,
    /// Batches of the batched run.
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u64).range(1..=10_000))]
    pub batches: u64,
    /// Permits of the semaphore run [default: tasks / batches, the batches'
    /// concurrency].
    #[arg(long, value_parser = value_parser!(u64).range(1..))]
    pub permits: Option<u64>,
    /// The tour's short form: all at once and in batches, as the blog post ran them
    /// (the semaphore run only outside the tour).
    #[arg(skip)]
    pub tour: bool,
}

/// How the tasks are started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// All spawned at once, then all awaited.
    AllAtOnce,
    /// This many batches, one after the other.
    Batches(u64),
    /// All spawned at once behind a semaphore of this many permits.
    Semaphore(u64),
}

impl Shape {
    fn label(self) -> String {
        match self {
            Shape::AllAtOnce => "all at once".into(),
            Shape::Batches(b) => format!("{b} batches"),
            Shape::Semaphore(k) => format!("semaphore {}", thousands(k)),
        }
    }
}

impl From<Shape> for GatherShape {
    fn from(shape: Shape) -> GatherShape {
        match shape {
            Shape::AllAtOnce => GatherShape::AllAtOnce,
            Shape::Batches(b) => GatherShape::Batches(b),
            Shape::Semaphore(k) => GatherShape::Semaphore(k),
        }
    }
}

/// One run, done in a child process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GatherJob {
    /// The runtime.
    pub runtime: Rt,
    /// Tasks.
    pub tasks: u64,
    /// How they start.
    pub shape: Shape,
    /// Sleeps per task.
    pub sleeps: u32,
    /// Each sleep, ms.
    pub sleep_ms: u64,
}

impl ChildJob for GatherJob {
    const NAME: &'static str = "gather";
    type Output = GatherRow;

    fn run(&self) -> anyhow::Result<GatherRow> {
        Ok(run_job(self))
    }
}

/// What one run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatherRow {
    /// The runtime.
    pub runtime: Rt,
    /// Tasks.
    pub tasks: u64,
    /// How they started.
    pub shape: Shape,
    /// From the first spawn to the last task done, s.
    pub wall_s: f64,
    /// The sleeps alone: what a loop with no cost of its own would take, s.
    pub ideal_s: f64,
    /// `wall_s - ideal_s`.
    pub overhead_s: f64,
    /// The child's resident memory before the run (runtime built), KiB.
    pub rss_before_kib: u64,
    /// The child's peak resident memory (`VmHWM`), KiB.
    pub rss_peak_kib: u64,
    /// The most heap live at once during the run, above what was live before, bytes.
    pub heap_peak_bytes: u64,
    /// Sleeps completed (should be tasks x sleeps).
    pub sleeps_done: u64,
    /// The loop's counts.
    pub counts: Counts,
}

/// What `gather` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GatherReport {
    /// Sleeps per task.
    pub sleeps: u32,
    /// Each sleep, ms.
    pub sleep_ms: u64,
    /// One row per task count, shape and runtime.
    pub rows: Vec<GatherRow>,
    /// The same runs in Python (`lab/python/gather.py`).
    #[serde(default)]
    pub python: PyRuns<Vec<PyGatherRow>>,
}

/// What `gather.py` reports for one run (one process) on one loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyGatherRow {
    /// Coroutines.
    pub tasks: u64,
    /// `all-at-once` or `batched`.
    pub shape: String,
    /// From the first task made to the last one done, s.
    pub wall_s: f64,
    /// The sleeps alone, s.
    pub ideal_s: f64,
    /// Resident memory before the run (interpreter and loop), KiB.
    pub rss_before_kib: u64,
    /// Peak resident memory of the process, KiB.
    pub peak_rss_kib: u64,
}

impl PyGatherRow {
    /// The Rust shape this run matches.
    fn matches(&self, tasks: u64, shape: Shape) -> bool {
        self.tasks == tasks
            && match shape {
                Shape::AllAtOnce => self.shape == "all-at-once",
                Shape::Batches(_) => self.shape == "batched",
                Shape::Semaphore(_) => false,
            }
    }
}

impl Experiment for super::Gather {
    const NAME: &'static str = "gather";
    type Args = GatherArgs;
    type Report = GatherReport;
    const CHILD_JOBS: &'static [JobEntry] = &[worker::entry::<GatherJob>()];

    fn tour_args(full: bool) -> GatherArgs {
        let mut args: GatherArgs = super::default_args();
        args.full = full;
        args.tour = true;
        args
    }

    fn run(args: &GatherArgs, lab: &Lab) -> anyhow::Result<GatherReport> {
        let mut counts = if !args.tasks.is_empty() {
            args.tasks.clone()
        } else if lab.smoke {
            vec![200]
        } else {
            vec![10_000, 100_000]
        };
        if args.full {
            counts.push(1_000_000);
        }
        counts.sort_unstable();
        counts.dedup();
        let sleep_ms = lab.size(args.sleep_ms, 100, 10);

        let mut jobs = Vec::new();
        for &tasks in &counts {
            let permits = args
                .permits
                .unwrap_or_else(|| tasks.div_ceil(args.batches).max(1));
            let shapes = [
                Shape::AllAtOnce,
                Shape::Batches(args.batches),
                Shape::Semaphore(permits),
            ];
            let shapes = if args.tour { &shapes[..2] } else { &shapes[..] };
            for &shape in shapes {
                for &runtime in &lab.runtimes {
                    jobs.push(GatherJob {
                        runtime,
                        tasks,
                        shape,
                        sleeps: args.sleeps,
                        sleep_ms,
                    });
                }
            }
        }
        let bar = lab.progress(jobs.len() as u64, "gather");
        let mut rows = Vec::new();
        for job in jobs {
            bar.set_message(format!(
                "{}, {} tasks, {}",
                job.runtime,
                thousands(job.tasks),
                job.shape.label()
            ));
            rows.push(worker::run_in_child(&job)?);
            bar.inc(1);
        }
        bar.finish_and_clear();
        // Python: all at once and in batches, as the blog post ran them, up to 100,000
        // coroutines; the tour runs only 10,000 (or the smoke size) all at once.
        let py_cases: Vec<(u64, &str)> = if args.tour {
            vec![(counts[0], "all-at-once")]
        } else {
            counts
                .iter()
                .filter(|&&n| n <= 100_000)
                .flat_map(|&n| [(n, "all-at-once"), (n, "batched")])
                .collect()
        };
        let python = python::runs(
            &lab.python,
            format!(
                "{} (one process each{})",
                py_cases
                    .iter()
                    .map(|(n, shape)| format!("{} {shape}", thousands(*n)))
                    .collect::<Vec<_>>()
                    .join(", "),
                if args.tour {
                    "; the tour's short form: `turnstile-lab gather` runs 10,000 and \
                     100,000, all at once and batched"
                } else {
                    ""
                }
            ),
            |py, which| {
                py_cases
                    .iter()
                    .map(|&(tasks, shape)| {
                        py.run(
                            "gather",
                            which,
                            &python::knobs(&[
                                ("tasks", tasks.to_string()),
                                ("shape", shape.to_string()),
                                ("sleeps", args.sleeps.to_string()),
                                ("sleep-ms", sleep_ms.to_string()),
                                ("batches", args.batches.to_string()),
                            ]),
                        )
                    })
                    .collect()
            },
        );
        Ok(GatherReport {
            sleeps: args.sleeps,
            sleep_ms,
            rows,
            python,
        })
    }

}

/// The child's side of one run.
pub fn run_job(job: &GatherJob) -> GatherRow {
    on_runtime!(job.runtime, R => run_on::<R>(job))
}

fn run_on<R: Runtime>(job: &GatherJob) -> GatherRow {
    let rt = R::fresh();
    let sleep = Duration::from_millis(job.sleep_ms);
    let rss_before = machine::rss();
    let heap_before = crate::alloc::stats().live;
    crate::alloc::reset_peak();
    let before = rt.loop_counts();
    take_tally();
    let start = Instant::now();
    let sleeps_done = rt.block_on(sleepers::<R>(
        job.shape.into(),
        job.tasks,
        job.sleeps,
        sleep,
    ));
    let wall = start.elapsed().as_secs_f64();
    let tally = take_tally();
    let heap_peak = crate::alloc::stats().peak.saturating_sub(heap_before);
    let rss_after = machine::rss();
    let counts = Counts::new(rt.loop_counts().since(&before), tally);
    let ideal = ideal_s(job.shape, job.tasks, job.sleeps, sleep);
    GatherRow {
        runtime: job.runtime,
        tasks: job.tasks,
        shape: job.shape,
        wall_s: wall,
        ideal_s: ideal,
        overhead_s: wall - ideal,
        rss_before_kib: rss_before.current_kib,
        rss_peak_kib: rss_after.peak_kib,
        heap_peak_bytes: heap_peak as u64,
        sleeps_done,
        counts,
    }
}

/// The time the sleeps alone take: one wave of tasks takes `sleeps x sleep`, and a
/// shape runs as many waves as it lets tasks through.
fn ideal_s(shape: Shape, tasks: u64, sleeps: u32, sleep: Duration) -> f64 {
    let wave = sleep.as_secs_f64() * f64::from(sleeps);
    let waves = match shape {
        Shape::AllAtOnce => 1,
        Shape::Batches(b) => {
            let size = tasks.div_ceil(b.max(1)).max(1);
            tasks.div_ceil(size)
        }
        Shape::Semaphore(k) => tasks.div_ceil(k.max(1)),
    };
    wave * waves as f64
}

/// The blog post's Python asyncio figures (2.6 GHz Core i7, 9th gen) for the same workload.
fn article_python(report: &GatherReport, tasks: u64, shape: Shape) -> Option<f64> {
    if report.sleeps != 3 || report.sleep_ms != 100 {
        return None;
    }
    match (tasks, shape) {
        (10_000, Shape::AllAtOnce) => Some(0.51),
        (10_000, Shape::Batches(5)) => Some(1.69),
        (100_000, Shape::AllAtOnce) => Some(6.24),
        (100_000, Shape::Batches(5)) => Some(5.86),
        _ => None,
    }
}

fn seconds(s: f64) -> String {
    format!("{s:.3} s")
}

impl GatherReport {
    fn find(&self, runtime: Rt, tasks: u64, shape: Shape) -> Option<&GatherRow> {
        self.rows
            .iter()
            .find(|r| r.runtime == runtime && r.tasks == tasks && r.shape == shape)
    }

    /// (tasks, shape) in run order, without repeats (Python's cases after Rust's).
    fn cases(&self) -> Vec<(u64, Shape)> {
        let mut cases: Vec<(u64, Shape)> = Vec::new();
        let python = self.python.runs.iter().flat_map(|run| {
            run.figures.iter().map(|r| {
                let shape = if r.shape == "batched" {
                    Shape::Batches(5)
                } else {
                    Shape::AllAtOnce
                };
                (r.tasks, shape)
            })
        });
        for case in self.rows.iter().map(|r| (r.tasks, r.shape)).chain(python) {
            let known = cases.iter().any(|&(n, s)| {
                n == case.0
                    && (s == case.1
                        || matches!((s, case.1), (Shape::Batches(_), Shape::Batches(_))))
            });
            if !known {
                cases.push(case);
            }
        }
        cases
    }

    /// Python's run for (tasks, shape) on each loop that has one.
    fn python_rows(&self, tasks: u64, shape: Shape) -> Vec<(Py, &PyGatherRow)> {
        self.python
            .runs
            .iter()
            .filter_map(|run| {
                let row = run.figures.iter().find(|r| r.matches(tasks, shape))?;
                Some((run.python, row))
            })
            .collect()
    }

    fn runtimes(&self) -> Vec<Rt> {
        let mut rts: Vec<Rt> = self.rows.iter().map(|r| r.runtime).collect();
        rts.sort();
        rts.dedup();
        rts
    }
}

impl Report for GatherReport {
    fn name(&self) -> &'static str {
        "gather"
    }

    fn title(&self) -> String {
        "gather: how many tasks can a loop take at once?".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: an event loop handles many coroutines at once better than batches do; \
             N coroutines each awaiting three 100 ms sleeps took 0.51 s for 10,000 and \
             6.24 s for 100,000 gathered at once, 1.69 s and 5.86 s in 5 batches, on a \
             2.6 GHz Core i7 ({}). Here: {} sleep(s) of {} ms per task. Peak RSS is of a \
             fresh child process per run (runtime and lab binary included).",
            sources::GATHER_OR_BATCH,
            self.sleeps,
            self.sleep_ms
        )
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            "Wall time from the first spawn to the last task done; ideal = the sleeps alone.",
            &[
                "tasks",
                "shape",
                "runtime",
                "wall",
                "ideal",
                "overhead",
                "Python (article)",
                "peak RSS",
                "peak heap",
                "turns",
                "polls",
                "parks",
                "timers fired",
            ],
            3,
        );
        for (tasks, shape) in self.cases() {
            for runtime in self.runtimes() {
                let Some(r) = self.find(runtime, tasks, shape) else {
                    continue;
                };
                s.row(vec![
                    thousands(tasks),
                    shape.label(),
                    runtime.to_string(),
                    seconds(r.wall_s),
                    seconds(r.ideal_s),
                    seconds(r.overhead_s),
                    article_python(self, tasks, shape).map_or_else(String::new, seconds),
                    bytes(r.rss_peak_kib as f64 * 1024.0),
                    bytes(r.heap_peak_bytes as f64),
                    opt(r.counts.turns),
                    thousands(r.counts.polls),
                    opt(r.counts.parks),
                    opt(r.counts.timers_fired),
                ]);
            }
            for (py, r) in self.python_rows(tasks, shape) {
                s.row(vec![
                    thousands(tasks),
                    shape.label(),
                    py.to_string(),
                    seconds(r.wall_s),
                    seconds(r.ideal_s),
                    seconds(r.wall_s - r.ideal_s),
                    article_python(self, tasks, shape).map_or_else(String::new, seconds),
                    bytes(r.peak_rss_kib as f64 * 1024.0),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
        vec![s]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let mut all_counts: Vec<u64> = self.cases().iter().map(|c| c.0).collect();
        all_counts.dedup();
        for tasks in all_counts {
            let mut parts = Vec::new();
            for runtime in self.runtimes() {
                if let Some(r) = self.find(runtime, tasks, Shape::AllAtOnce) {
                    let per_task = r.overhead_s.max(0.0) / tasks as f64 * 1e9;
                    parts.push(format!(
                        "{runtime} {} above the ideal ({} per task), peak RSS {} ({} per task)",
                        seconds(r.overhead_s),
                        report::duration_ns(per_task),
                        bytes(r.rss_peak_kib as f64 * 1024.0),
                        bytes(
                            r.rss_peak_kib.saturating_sub(r.rss_before_kib) as f64 * 1024.0
                                / tasks as f64
                        ),
                    ));
                }
            }
            for (py, r) in self.python_rows(tasks, Shape::AllAtOnce) {
                parts.push(format!(
                    "{py} {} above ({} per task), peak RSS {} ({} per task)",
                    seconds(r.wall_s - r.ideal_s),
                    report::duration_ns((r.wall_s - r.ideal_s).max(0.0) / tasks as f64 * 1e9),
                    bytes(r.peak_rss_kib as f64 * 1024.0),
                    bytes(
                        r.peak_rss_kib.saturating_sub(r.rss_before_kib) as f64 * 1024.0
                            / tasks as f64
                    ),
                ));
            }
            if let Some(py) = article_python(self, tasks, Shape::AllAtOnce) {
                parts.push(format!("Python (article) {} above", seconds(py - 0.3)));
            }
            notes.push(format!(
                "{} tasks all at once: {}.",
                thousands(tasks),
                parts.join("; ")
            ));
        }
        for runtime in self.runtimes() {
            let batches: Vec<String> = self
                .rows
                .iter()
                .filter(|r| r.runtime == runtime && matches!(r.shape, Shape::Batches(_)))
                .filter_map(|b| {
                    let all = self.find(runtime, b.tasks, Shape::AllAtOnce)?;
                    Some(format!(
                        "{:.1}x at {}",
                        b.wall_s / all.wall_s,
                        thousands(b.tasks)
                    ))
                })
                .collect();
            if !batches.is_empty() {
                notes.push(format!(
                    "{runtime}: batches take {} the time of all at once. A batch costs a full \
                     wave of sleeps, so batching only pays when the loop's own work for all \
                     tasks at once costs more than the waves it adds.",
                    batches.join(", ")
                ));
            }
        }
        for run in &self.python.runs {
            let batches: Vec<String> = run
                .figures
                .iter()
                .filter(|b| b.shape == "batched")
                .filter_map(|b| {
                    let all = run
                        .figures
                        .iter()
                        .find(|a| a.tasks == b.tasks && a.shape == "all-at-once")?;
                    let article = match b.tasks {
                        10_000 if self.sleeps == 3 && self.sleep_ms == 100 => " (article 3.3x)",
                        100_000 if self.sleeps == 3 && self.sleep_ms == 100 => " (article 0.94x)",
                        _ => "",
                    };
                    Some(format!(
                        "{:.2}x at {}{article}",
                        b.wall_s / all.wall_s,
                        thousands(b.tasks)
                    ))
                })
                .collect();
            if !batches.is_empty() {
                notes.push(format!(
                    "{}: batches take {} the time of all at once.",
                    run.python,
                    batches.join(", ")
                ));
            }
        }
        notes.extend(self.python.notes());
        for r in &self.rows {
            let expected = r.tasks * u64::from(self.sleeps);
            if r.sleeps_done != expected || r.counts.timers_fired.is_some_and(|t| t != expected) {
                notes.push(format!(
                    "check: {} {} {}: {} sleeps done, {} timers fired, expected {expected}",
                    r.runtime,
                    thousands(r.tasks),
                    r.shape.label(),
                    r.sleeps_done,
                    opt(r.counts.timers_fired)
                ));
            }
        }
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let cases = self.cases();
        let mut series: Vec<Series> = self
            .runtimes()
            .into_iter()
            .map(|rt| {
                let values = cases
                    .iter()
                    .map(|&(n, s)| self.find(rt, n, s).map(|r| r.wall_s))
                    .collect();
                Series::bars(rt.to_string(), rt, values)
            })
            .collect();
        for run in &self.python.runs {
            let values = cases
                .iter()
                .map(|&(n, s)| {
                    run.figures
                        .iter()
                        .find(|r| r.matches(n, s))
                        .map(|r| r.wall_s)
                })
                .collect();
            series.push(Series::bars(run.python.to_string(), run.python, values));
        }
        let ideal = cases
            .iter()
            .map(|&(n, s)| {
                self.rows
                    .iter()
                    .find(|r| r.tasks == n && r.shape == s)
                    .map(|r| r.ideal_s)
            })
            .collect();
        series.push(Series::bars("ideal (the sleeps alone)", Who::Reference, ideal));
        let article = cases
            .iter()
            .map(|&(n, s)| article_python(self, n, s))
            .collect();
        series.push(
            Series::bars("Python asyncio (article)", Who::Reference, article).variant(1),
        );
        plot::horizontal_bars(
            path,
            &Bars {
                title: "gather: wall time".into(),
                value_label: "seconds".into(),
                groups: cases
                    .iter()
                    .map(|&(n, s)| format!("{} tasks, {}", thousands(n), s.label()))
                    .collect(),
                series,
                format: |s| format!("{s:.2} s"),
            },
        )
    }
}

// The workload of this experiment, written once against `Runtime`.

/// How [`sleepers`] starts its tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatherShape {
    /// Spawn every task at once and await them all.
    AllAtOnce,
    /// Split the tasks into this many batches; each batch runs to completion before the
    /// next is spawned.
    Batches(u64),
    /// Spawn every task at once, but each holds one of this many semaphore permits while
    /// it sleeps, so at most that many sleep at a time.
    Semaphore(u64),
}

/// `tasks` tasks, each awaiting `sleeps` sleeps of `sleep` in a row, started as `shape`
/// says. Each task is [`counted`] (behind the semaphore, its wait for a permit too).
/// Returns the number of sleeps completed.
///
/// ```
/// use std::time::Duration;
/// use turnstile_compare::{Runtime, Tokio};
/// use turnstile_lab::experiments::gather::{self as lab, GatherShape};
/// let done = Tokio::new().block_on(lab::sleepers::<Tokio>(
///     GatherShape::Batches(2), 10, 3, Duration::from_millis(1)));
/// assert_eq!(done, 30);
/// ```
pub async fn sleepers<R: Runtime>(
    shape: GatherShape,
    tasks: u64,
    sleeps: u32,
    sleep: Duration,
) -> u64 {
    let sleeper = move || async move {
        for _ in 0..sleeps {
            R::sleep(sleep).await;
        }
        u64::from(sleeps)
    };
    let mut done = 0;
    match shape {
        GatherShape::AllAtOnce => {
            let handles: Vec<_> = (0..tasks).map(|_| R::spawn(counted(sleeper()))).collect();
            for h in handles {
                done += h.await.expect("sleeper task");
            }
        }
        GatherShape::Batches(batches) => {
            let size = tasks.div_ceil(batches.max(1)).max(1);
            let mut started = 0;
            while started < tasks {
                let n = size.min(tasks - started);
                let handles: Vec<_> = (0..n).map(|_| R::spawn(counted(sleeper()))).collect();
                for h in handles {
                    done += h.await.expect("sleeper task");
                }
                started += n;
            }
        }
        GatherShape::Semaphore(permits) => {
            let semaphore = Arc::new(async_lock::Semaphore::new(permits.max(1) as usize));
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    let work = sleeper();
                    R::spawn(counted(async move {
                        let _permit = semaphore.acquire_arc().await;
                        work.await
                    }))
                })
                .collect();
            for h in handles {
                done += h.await.expect("sleeper task");
            }
        }
    }
    done
}
