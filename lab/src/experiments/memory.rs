//! `memory`: what does a task cost in memory, and what does a
//! deep recursive `async fn` cost against the same work as a loop?
//!
//! Idle tasks: N tasks spawned and each polled once, left waiting for a wake that never
//! comes; the heap they hold (exact, from the lab's counting allocator), allocations per
//! task, and the growth of resident memory, in a fresh child process per runtime.
//!
//! Recursion: a boxed recursive `async fn` of depth D whose every level yields once and
//! then awaits the next, against a loop of D yields: task polls, frame polls (every
//! resume passes down through every level above), the stack depth of the deepest poll,
//! and the peak heap.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use clap::value_parser;
use serde::{Deserialize, Serialize};
use turnstile_compare::tally::{counted, frame, take_tally};
use turnstile_compare::Runtime;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use super::{Experiment, Lab};
use crate::machine;
use crate::plot::{self, Bars, Series};
use crate::report::{bytes, duration_ns, opt, thousands, Report, Section};
use crate::runtimes::{Counts, Rt};
use crate::python::{self, PyRuns};
use crate::sources;
use crate::worker::{self, ChildJob, JobEntry};

/// The knobs of `memory`.
#[derive(clap::Args, Clone, Debug)]
pub struct MemoryArgs {
    /// Idle tasks to spawn [default: 1000000; 10000 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=10_000_000))]
    pub tasks: Option<u64>,
    /// Depth of the recursive async fn [default: 10000; 1000 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=100_000))]
    pub depth: Option<u64>,
    /// The tour's short form: Python makes 10,000 tasks.
    #[arg(skip)]
    pub tour: bool,
}

/// Idle tasks on one runtime, done in a child process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IdleJob {
    /// The runtime.
    pub runtime: Rt,
    /// Tasks to spawn.
    pub tasks: u64,
}

impl ChildJob for IdleJob {
    const NAME: &'static str = "memory-idle";
    type Output = IdleRow;

    fn run(&self) -> anyhow::Result<IdleRow> {
        Ok(run_idle_job(self))
    }
}

/// What idle tasks cost on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleRow {
    /// The runtime.
    pub runtime: Rt,
    /// Tasks spawned.
    pub tasks: u64,
    /// `size_of` the task's future alone, bytes.
    pub future_bytes: u64,
    /// Heap held after the tasks started, above what was held before, bytes (exact).
    pub heap_bytes: u64,
    /// Allocations made spawning and starting them.
    pub allocs: u64,
    /// Resident memory before spawning, KiB.
    pub rss_before_kib: u64,
    /// Resident memory with every task waiting, KiB.
    pub rss_after_kib: u64,
    /// Time to spawn them all and poll each once, s.
    pub spawn_s: f64,
}

/// The shape of the recursion experiment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecursionShape {
    /// A boxed recursive `async fn`: each level yields, then awaits the next.
    Recursive,
    /// The same yields in a loop.
    Loop,
}

/// One recursion run, done in a child process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecursionJob {
    /// The runtime.
    pub runtime: Rt,
    /// Recursive or loop.
    pub shape: RecursionShape,
    /// Levels (or loop iterations).
    pub depth: u64,
}

impl ChildJob for RecursionJob {
    const NAME: &'static str = "memory-recursion";
    type Output = RecursionRow;

    fn run(&self) -> anyhow::Result<RecursionRow> {
        run_recursion_job(self)
    }
}

/// What one recursion run measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecursionRow {
    /// The runtime.
    pub runtime: Rt,
    /// Recursive or loop.
    pub shape: RecursionShape,
    /// Levels (or loop iterations).
    pub depth: u64,
    /// The task's polls and yields, and the loop's counts.
    pub counts: Counts,
    /// Polls of the levels (frames) inside the task.
    pub frame_polls: u64,
    /// The deepest a level's poll sat below the task's poll, bytes of stack.
    pub stack_bytes: u64,
    /// The most heap live at once, above what was live before, bytes.
    pub heap_peak_bytes: u64,
    /// The child's peak resident memory, KiB.
    pub rss_peak_kib: u64,
    /// Wall time, s.
    pub wall_s: f64,
}

/// What `memory` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryReport {
    /// Idle tasks, one row per runtime.
    pub idle: Vec<IdleRow>,
    /// Recursion against loop, per runtime.
    pub recursion: Vec<RecursionRow>,
    /// Idle tasks and coroutines in Python (`lab/python/memory.py`).
    #[serde(default)]
    pub python: PyRuns<PyMemory>,
}

/// What `memory.py` reports on one loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyMemory {
    /// Idle tasks made.
    pub tasks: u64,
    /// Bytes tracemalloc sees held per idle task (task, coroutine, frame, the wait).
    pub task_bytes: f64,
    /// Bytes per coroutine object made and not started.
    pub coroutine_bytes: f64,
    /// Resident memory before the tasks (untraced pass), KiB.
    pub rss_before_kib: u64,
    /// Resident memory with every task waiting (untraced pass), KiB.
    pub rss_after_kib: u64,
    /// Time to make them all and run each once, s.
    pub spawn_s: f64,
}

impl Experiment for super::Memory {
    const NAME: &'static str = "memory";
    type Args = MemoryArgs;
    type Report = MemoryReport;
    const CHILD_JOBS: &'static [JobEntry] = &[
        worker::entry::<IdleJob>(),
        worker::entry::<RecursionJob>(),
    ];

    fn tour_args(_full: bool) -> MemoryArgs {
        let mut args: MemoryArgs = super::default_args();
        args.tour = true;
        args
    }

    fn run(args: &MemoryArgs, lab: &Lab) -> anyhow::Result<MemoryReport> {
        let tasks = lab.size(args.tasks, 1_000_000, 10_000);
        let depth = lab.size(args.depth, 10_000, 1_000);
        let steps = lab.runtimes.len() * 3;
        let bar = lab.progress(steps as u64, "memory");
        let mut idle = Vec::new();
        for &runtime in &lab.runtimes {
            bar.set_message(format!("{runtime}, {} idle tasks", thousands(tasks)));
            idle.push(worker::run_in_child(&IdleJob { runtime, tasks })?);
            bar.inc(1);
        }
        let mut recursion = Vec::new();
        for &runtime in &lab.runtimes {
            for shape in [RecursionShape::Recursive, RecursionShape::Loop] {
                bar.set_message(format!(
                    "{runtime}, {shape:?} of depth {}",
                    thousands(depth)
                ));
                let job = RecursionJob {
                    runtime,
                    shape,
                    depth,
                };
                recursion.push(worker::run_in_child(&job)?);
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
        // Python: at most 100,000 tasks (tracemalloc is slow), 10,000 in the tour.
        let py_tasks = tasks.min(if args.tour { 10_000 } else { 100_000 });
        let python = python::runs(
            &lab.python,
            format!("{} idle tasks and coroutines", thousands(py_tasks)),
            |py, which| {
                py.run(
                    "memory",
                    which,
                    &python::knobs(&[("tasks", py_tasks.to_string())]),
                )
            },
        );
        Ok(MemoryReport {
            idle,
            recursion,
            python,
        })
    }

}

/// The child's side of the idle-task run.
pub fn run_idle_job(job: &IdleJob) -> IdleRow {
    on_runtime!(job.runtime, R => idle_on::<R>(job))
}

fn idle_on<R: Runtime>(job: &IdleJob) -> IdleRow {
    let rt = R::fresh();
    rt.block_on(async {});
    let rss_before = machine::rss();
    let before = crate::alloc::stats();
    let start = Instant::now();
    rt.block_on(spawn_idle::<R>(job.tasks));
    let spawn_s = start.elapsed().as_secs_f64();
    let after = crate::alloc::stats();
    let rss_after = machine::rss();
    // The child exits as soon as it has printed this row: dropping a million tasks
    // would only make it slower.
    std::mem::forget(rt);
    IdleRow {
        runtime: job.runtime,
        tasks: job.tasks,
        future_bytes: std::mem::size_of_val(&idle_task()) as u64,
        heap_bytes: after.live.saturating_sub(before.live) as u64,
        allocs: after.allocs - before.allocs,
        rss_before_kib: rss_before.current_kib,
        rss_after_kib: rss_after.current_kib,
        spawn_s,
    }
}

/// The child's side of a recursion run, on a thread with a stack deep enough for it.
pub fn run_recursion_job(job: &RecursionJob) -> anyhow::Result<RecursionRow> {
    let job = job.clone();
    // Generous: a level's poll frame is a few hundred bytes in a release build, a few
    // KiB in a debug one. The stack is only reserved, not touched, until used.
    let stack = (64 << 20) + job.depth as usize * (4 << 10);
    std::thread::Builder::new()
        .name("recursion".into())
        .stack_size(stack)
        .spawn(move || on_runtime!(job.runtime, R => recursion_on::<R>(&job)))
        .context("starting the recursion thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the recursion thread panicked"))
}

fn recursion_on<R: Runtime>(job: &RecursionJob) -> RecursionRow {
    let rt = R::fresh();
    rt.block_on(async {});
    let before = rt.loop_counts();
    take_tally();
    let heap_before = crate::alloc::stats().live;
    crate::alloc::reset_peak();
    let depth = job.depth;
    let start = Instant::now();
    let out = rt.block_on(async move {
        match job.shape {
            RecursionShape::Recursive => R::spawn(counted(yield_recursively::<R>(depth))).await,
            RecursionShape::Loop => R::spawn(counted(yield_in_loop::<R>(depth))).await,
        }
        .expect("the recursion task")
    });
    let wall_s = start.elapsed().as_secs_f64();
    assert_eq!(out, depth);
    let heap_peak = crate::alloc::stats().peak.saturating_sub(heap_before);
    let tally = take_tally();
    RecursionRow {
        runtime: job.runtime,
        shape: job.shape,
        depth,
        counts: Counts::new(rt.loop_counts().since(&before), tally),
        frame_polls: tally.frames,
        stack_bytes: tally.stack_bytes,
        heap_peak_bytes: heap_peak as u64,
        rss_peak_kib: machine::rss().peak_kib,
        wall_s,
    }
}

impl IdleRow {
    fn heap_per_task(&self) -> f64 {
        self.heap_bytes as f64 / self.tasks as f64
    }

    fn rss_per_task(&self) -> f64 {
        self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 * 1024.0 / self.tasks as f64
    }
}

impl Report for MemoryReport {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn title(&self) -> String {
        "memory: what does a task cost, and a deep recursive async fn?".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: a Python coroutine object is 200-300 bytes and a Future 400-500 \
             (sys.getsizeof), and a 10,000-deep recursive coroutine piles up frames ({}, \
             sections 2.2 and 1.2). What does a waiting task hold here, and what does \
             recursion cost against a loop?",
            sources::BOTTLENECKS
        )
    }

    fn sections(&self) -> Vec<Section> {
        let mut idle = Section::new(
            "Idle tasks: spawned, each polled once, all left waiting. Heap is exact (counting \
             allocator); RSS is the growth of a fresh child process.",
            &[
                "runtime",
                "tasks",
                "future",
                "heap per task",
                "allocs per task",
                "RSS per task",
                "RSS with all waiting",
                "spawn + first poll per task",
            ],
            1,
        );
        for r in &self.idle {
            idle.row(vec![
                r.runtime.to_string(),
                thousands(r.tasks),
                bytes(r.future_bytes as f64),
                bytes(r.heap_per_task()),
                format!("{:.2}", r.allocs as f64 / r.tasks as f64),
                bytes(r.rss_per_task()),
                bytes(r.rss_after_kib as f64 * 1024.0),
                duration_ns(r.spawn_s * 1e9 / r.tasks as f64),
            ]);
        }
        for run in &self.python.runs {
            let r = &run.figures;
            let n = r.tasks.max(1) as f64;
            idle.row(vec![
                run.python.to_string(),
                thousands(r.tasks),
                bytes(r.coroutine_bytes),
                bytes(r.task_bytes),
                "-".into(),
                bytes(r.rss_after_kib.saturating_sub(r.rss_before_kib) as f64 * 1024.0 / n),
                bytes(r.rss_after_kib as f64 * 1024.0),
                duration_ns(r.spawn_s * 1e9 / n),
            ]);
        }
        if !self.python.runs.is_empty() {
            idle.caption.push_str(
                " Python: future = a coroutine object, heap per task = what tracemalloc sees \
                 held per waiting task.",
            );
        }
        let depth = self.recursion.first().map_or(0, |r| r.depth);
        let mut rec = Section::new(
            format!(
                "Recursion of depth {} (each level yields once, then awaits the next) against \
                 a loop of as many yields, spawned as one task.",
                thousands(depth)
            ),
            &[
                "runtime",
                "shape",
                "task polls",
                "yields",
                "turns",
                "frame polls",
                "deepest stack",
                "peak heap",
                "peak RSS",
                "wall",
            ],
            2,
        );
        for r in &self.recursion {
            rec.row(vec![
                r.runtime.to_string(),
                format!("{:?}", r.shape).to_lowercase(),
                thousands(r.counts.polls),
                thousands(r.counts.yields),
                opt(r.counts.turns),
                thousands(r.frame_polls),
                bytes(r.stack_bytes as f64),
                bytes(r.heap_peak_bytes as f64),
                bytes(r.rss_peak_kib as f64 * 1024.0),
                duration_ns(r.wall_s * 1e9),
            ]);
        }
        if self.recursion.is_empty() {
            return vec![idle];
        }
        vec![idle, rec]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for run in &self.python.runs {
            let r = &run.figures;
            let rust = self
                .idle
                .iter()
                .map(|i| format!("{} {}", i.runtime, bytes(i.heap_per_task())))
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(format!(
                "{}: a coroutine object is {} here (article: 200-300 bytes); a waiting task \
                 holds {} in all{}.",
                run.python,
                bytes(r.coroutine_bytes),
                bytes(r.task_bytes),
                if rust.is_empty() {
                    String::new()
                } else {
                    format!(", against {rust}")
                }
            ));
        }
        notes.extend(self.python.notes());
        for r in &self.idle {
            notes.push(format!(
                "{}: an idle task holds {} of heap in {:.1} allocations; its future is {} of \
                 that, the rest is the runtime's task record (header, waker, join state, \
                 queue slot).",
                r.runtime,
                bytes(r.heap_per_task()),
                r.allocs as f64 / r.tasks as f64,
                bytes(r.future_bytes as f64),
            ));
        }
        let runtimes: Vec<Rt> = self.idle.iter().map(|r| r.runtime).collect();
        for runtime in runtimes {
            let find = |shape| {
                self.recursion
                    .iter()
                    .find(|r| r.runtime == runtime && r.shape == shape)
            };
            if let (Some(rec), Some(lp)) =
                (find(RecursionShape::Recursive), find(RecursionShape::Loop))
            {
                notes.push(format!(
                    "{runtime}: depth {}: the loop sees {} task polls either way, but the \
                     recursion makes {} frame polls against {} (each resume walks down every \
                     level: quadratic, not exponential), holds {} of heap against {}, and \
                     polls {} deep into the stack against {}.",
                    thousands(rec.depth),
                    thousands(rec.counts.polls),
                    thousands(rec.frame_polls),
                    thousands(lp.frame_polls),
                    bytes(rec.heap_peak_bytes as f64),
                    bytes(lp.heap_peak_bytes as f64),
                    bytes(rec.stack_bytes as f64),
                    bytes(lp.stack_bytes as f64),
                ));
            }
        }
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let runtimes: Vec<Rt> = self.idle.iter().map(|r| r.runtime).collect();
        let depth = self.recursion.first().map_or(0, |r| r.depth);
        let groups = vec![
            "idle task: its future".to_string(),
            "idle task: heap".into(),
            "idle task: RSS".into(),
            format!("recursion {}: peak heap", thousands(depth)),
            "loop: peak heap".into(),
            format!("recursion {}: stack", thousands(depth)),
            "loop: stack".into(),
        ];
        let series = runtimes
            .iter()
            .map(|&rt| {
                let idle = self.idle.iter().find(|r| r.runtime == rt);
                let rec = |shape| {
                    self.recursion
                        .iter()
                        .find(|r| r.runtime == rt && r.shape == shape)
                };
                Series::bars(
                    rt.to_string(),
                    rt,
                    vec![
                        idle.map(|r| r.future_bytes as f64),
                        idle.map(IdleRow::heap_per_task),
                        idle.map(IdleRow::rss_per_task),
                        rec(RecursionShape::Recursive).map(|r| r.heap_peak_bytes as f64),
                        rec(RecursionShape::Loop).map(|r| r.heap_peak_bytes as f64),
                        rec(RecursionShape::Recursive).map(|r| r.stack_bytes as f64),
                        rec(RecursionShape::Loop).map(|r| r.stack_bytes as f64),
                    ],
                )
            })
            .collect();
        plot::horizontal_bars(
            path,
            &Bars {
                title: "memory: bytes".into(),
                value_label: "bytes".into(),
                groups,
                series,
                format: bytes,
            },
        )
    }
}

// The workload of this experiment, written once against `Runtime`.

thread_local! {
    static IDLE_STARTED: Cell<u64> = const { Cell::new(0) };
}

/// The future of one idle task: it notes that it has started, then waits forever.
///
/// ```
/// let size = std::mem::size_of_val(&turnstile_lab::experiments::memory::idle_task());
/// assert!(size < 64);
/// ```
pub async fn idle_task() {
    IDLE_STARTED.with(|n| n.set(n.get() + 1));
    std::future::pending::<()>().await
}

/// Spawns `tasks` [`idle_task`]s, detaches them, and returns once each has been polled
/// once, so that all of them are parked in the runtime waiting for a wake that never
/// comes. They live until the runtime is dropped.
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// use turnstile_lab::experiments::memory as lab;
/// let rt = Tokio::new();
/// rt.block_on(lab::spawn_idle::<Tokio>(100));
/// ```
pub async fn spawn_idle<R: Runtime>(tasks: u64) {
    let start = IDLE_STARTED.with(Cell::get);
    for _ in 0..tasks {
        drop(R::spawn(idle_task()));
    }
    while IDLE_STARTED.with(Cell::get) - start < tasks {
        R::yield_now().await;
    }
}

/// `depth` levels of a boxed recursive `async fn`, each yielding once before it calls
/// the next, every level wrapped in a [`frame`]. Returns `depth`.
///
/// Each yield of level `k` resumes through the `k - 1` levels above it, so a task poll
/// costs as many frame polls as the chain is deep at that moment.
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// use turnstile_lab::experiments::memory as lab;
/// tally::take_tally();
/// assert_eq!(Tokio::new().block_on(tally::counted(lab::yield_recursively::<Tokio>(10))), 10);
/// let t = tally::take_tally();
/// assert_eq!((t.polls, t.frames), (11, 10 + 10 * 11 / 2));
/// ```
pub fn yield_recursively<R: Runtime>(depth: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(frame(async move {
        R::yield_now().await;
        if depth <= 1 {
            1
        } else {
            yield_recursively::<R>(depth - 1).await + 1
        }
    }))
}

/// The same work as [`yield_recursively`] written as a loop: `depth` yields in one
/// [`frame`]. Returns `depth`.
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// use turnstile_lab::experiments::memory as lab;
/// tally::take_tally();
/// Tokio::new().block_on(tally::counted(lab::yield_in_loop::<Tokio>(10)));
/// assert_eq!(tally::take_tally().frames, 11);
/// ```
pub async fn yield_in_loop<R: Runtime>(depth: u64) -> u64 {
    frame(async move {
        for _ in 0..depth {
            R::yield_now().await;
        }
        depth
    })
    .await
}
