//! `yield-cost`: the switch-cost table of the asyncio survey, measured here.
//!
//! From a plain function call up to an OS thread switch: an `.await` of a ready future,
//! a 5-deep ready chain, one `yield_now` through each loop, a task-to-task ping-pong on
//! each runtime, and two OS threads ping-ponging (free to use both cores, and pinned to
//! one core, where every pass is a real context switch). Each figure is the median of
//! several samples, in ns and as a multiple of the function call of the same run.

use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::path::Path;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use clap::value_parser;
use futures::task::AtomicWaker;
use serde::{Deserialize, Serialize};
use turnstile::probes::Level;
use turnstile_compare::tally::counted;
use turnstile_compare::{workloads, Runtime, Turnstile};

use super::chain::{with_chain, Chain, ChainVisitor, ReadyLeaf};

use super::{Experiment, Lab};
use crate::plot::{self, Bars, Series, Who};
use crate::report::{self, duration_ns, Report, Section};
use crate::runtimes::Rt;
use crate::python::{self, Py, PyRuns};
use crate::sources;

/// The knobs of `yield-cost`.
#[derive(clap::Args, Clone, Debug)]
pub struct YieldCostArgs {
    /// Operations per timing sample [default: 1000000; 1000 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=1_000_000_000))]
    pub ops: Option<u64>,
    /// Round trips per sample of the OS-thread ping-pong [default: 20000; 100 with
    /// --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=10_000_000))]
    pub thread_rounds: Option<u64>,
    /// Samples per operation; the median is reported [default: 5; 1 with --smoke].
    #[arg(long, value_parser = value_parser!(u32).range(1..=101))]
    pub samples: Option<u32>,
    /// The tour's short form: Python runs a hundredth of the operations.
    #[arg(skip)]
    pub tour: bool,
}

/// One operation's cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostRow {
    /// A stable key: `call`, `await-ready`, `chain-5`, `yield`, `yield-probes-off`,
    /// `ping-pong`, `threads`, `threads-one-core`.
    pub op: String,
    /// What was timed, in words.
    pub what: String,
    /// The runtime, for the rows that run on one.
    pub runtime: Option<Rt>,
    /// The median cost of one operation, ns.
    pub ns: f64,
    /// Every sample, ns per operation.
    pub samples_ns: Vec<f64>,
    /// `ns` as a multiple of the function call's.
    pub times_call: f64,
    /// The asyncio survey's figure for the same kind of operation in Python, if it
    /// gives one.
    pub python: Option<String>,
}

/// What `yield-cost` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YieldCostReport {
    /// Operations per sample.
    pub ops: u64,
    /// Round trips per sample of the thread ping-pong.
    pub thread_rounds: u64,
    /// Samples per operation.
    pub samples: u32,
    /// One row per operation.
    pub rows: Vec<CostRow>,
    /// Why a row is missing, if one is (pinning refused).
    pub skipped: Vec<String>,
    /// The same operations in Python (`lab/python/yield_cost.py`).
    #[serde(default)]
    pub python: PyRuns<PyCosts>,
}

/// What `yield_cost.py` reports on one loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyCosts {
    /// One row per operation.
    pub rows: Vec<PyCost>,
}

/// One operation's cost in Python.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyCost {
    /// The key, as the Rust rows': `call`, `await-ready`, `chain-5`, `yield`,
    /// `ping-pong`, `threads`.
    pub op: String,
    /// The median cost of one operation, ns.
    pub ns: f64,
    /// Every sample, ns per operation.
    pub samples_ns: Vec<f64>,
}

impl PyCost {
    /// What the operation is in Python, and whether it goes through the loop (so that
    /// uvloop can change it).
    fn what(&self) -> (&'static str, bool) {
        match self.op.as_str() {
            "call" => ("a plain function call", false),
            "await-ready" => ("an await of a ready coroutine", false),
            "chain-5" => ("a 5-deep await chain over a ready coroutine", false),
            "yield" => ("await asyncio.sleep(0): one trip through the loop", true),
            "ping-pong" => ("task-to-task switch (two tasks pass a baton)", true),
            "threads" => ("OS thread switch: two threads pass a baton", false),
            _ => ("?", false),
        }
    }

    fn article(&self) -> Option<&'static str> {
        match self.op.as_str() {
            "call" => Some(PYTHON_CALL),
            "yield" | "ping-pong" => Some(PYTHON_COROUTINE),
            "threads" => Some(PYTHON_THREAD),
            _ => None,
        }
    }
}

const PYTHON_CALL: &str = "50-100 ns";
const PYTHON_COROUTINE: &str = "800-1,200 ns";
const PYTHON_THREAD: &str = "5,000-20,000 ns";

impl Experiment for super::YieldCost {
    const NAME: &'static str = "yield-cost";
    type Args = YieldCostArgs;
    type Report = YieldCostReport;

    fn tour_args(_full: bool) -> YieldCostArgs {
        let mut args: YieldCostArgs = super::default_args();
        args.tour = true;
        args
    }

    fn run(args: &YieldCostArgs, lab: &Lab) -> anyhow::Result<YieldCostReport> {
        let ops = lab.size(args.ops, 1_000_000, 1_000);
        let thread_rounds = lab.size(args.thread_rounds, 20_000, 100);
        let samples = lab.size(args.samples, 5, 1);
        let has = |rt| lab.runtimes.contains(&rt);

        type Op<'a> = (
            &'a str,
            String,
            Option<Rt>,
            Option<&'a str>,
            Box<dyn Fn() -> Option<f64> + 'a>,
        );
        let mut plan: Vec<Op> = vec![
            (
                "call",
                "a plain function call (not inlined)".into(),
                None,
                Some(PYTHON_CALL),
                Box::new(move || Some(time_calls(ops))),
            ),
            (
                "await-ready",
                "an .await of a ready future".into(),
                None,
                None,
                Box::new(move || Some(time_ready_awaits(ops))),
            ),
            (
                "chain-5",
                "a 5-deep await chain over a ready future".into(),
                None,
                None,
                Box::new(move || with_chain(5, ReadyChain { ops })),
            ),
        ];
        if has(Rt::Turnstile) {
            plan.push((
                "yield-probes-off",
                "one yield_now through the loop (probes Off)".into(),
                Some(Rt::Turnstile),
                Some(PYTHON_COROUTINE),
                Box::new(move || Some(time_yields(&Turnstile::new(Level::Off), ops))),
            ));
        }
        for &rt in &lab.runtimes {
            plan.push((
                "yield",
                "one yield_now through the loop".into(),
                Some(rt),
                Some(PYTHON_COROUTINE),
                Box::new(move || Some(on_runtime!(rt, R => time_yields(&R::fresh(), ops)))),
            ));
        }
        for &rt in &lab.runtimes {
            plan.push((
                "ping-pong",
                "task-to-task switch (two tasks pass a baton)".into(),
                Some(rt),
                Some(PYTHON_COROUTINE),
                Box::new(move || Some(on_runtime!(rt, R => time_ping_pong::<R>(ops)))),
            ));
        }
        plan.push((
            "threads",
            "OS thread switch: two threads pass a baton, any core".into(),
            None,
            Some(PYTHON_THREAD),
            Box::new(move || time_threads(thread_rounds, None)),
        ));
        let mut skipped = Vec::new();
        let one_core = current_cpu();
        match one_core {
            Some(cpu) if time_threads(1, Some(cpu)).is_some() => plan.push((
                "threads-one-core",
                format!("OS thread switch: both threads pinned to CPU {cpu}"),
                None,
                Some(PYTHON_THREAD),
                Box::new(move || time_threads(thread_rounds, Some(cpu))),
            )),
            _ => skipped.push("threads-one-core: pinning threads to one CPU was refused".into()),
        }

        let bar = lab.progress(plan.len() as u64 * u64::from(samples), "yield-cost");
        let mut rows = Vec::new();
        for (op, what, runtime, python, measure) in &plan {
            let label = runtime.map_or_else(|| what.clone(), |rt| format!("{what}, {rt}"));
            bar.set_message(label);
            let samples_ns: Option<Vec<f64>> = (0..samples)
                .map(|_| {
                    let ns = measure();
                    bar.inc(1);
                    ns
                })
                .collect();
            let Some(samples_ns) = samples_ns else {
                skipped.push(format!("{op}: the measurement could not run"));
                continue;
            };
            rows.push(CostRow {
                op: op.to_string(),
                what: what.clone(),
                runtime: *runtime,
                ns: report::median(&samples_ns),
                samples_ns,
                times_call: 0.0,
                python: python.map(str::to_string),
            });
        }
        bar.finish_and_clear();
        // Python: a tenth of the operations (a hundredth in the tour), since each costs
        // more.
        let py_ops = (ops / if args.tour { 100 } else { 10 }).max(1);
        let py_rounds = (thread_rounds / if args.tour { 100 } else { 10 }).max(1);
        let py_samples = if args.tour { samples.min(3) } else { samples };
        let python = python::runs(
            &lab.python,
            format!(
                "{} operations per sample, {} thread round trips, {} sample(s)",
                report::thousands(py_ops),
                report::thousands(py_rounds),
                py_samples
            ),
            |py, which| {
                py.run(
                    "yield_cost",
                    which,
                    &python::knobs(&[
                        ("ops", py_ops.to_string()),
                        ("thread-rounds", py_rounds.to_string()),
                        ("samples", py_samples.to_string()),
                    ]),
                )
            },
        );
        let call = rows[0].ns.max(f64::MIN_POSITIVE);
        for row in &mut rows {
            row.times_call = row.ns / call;
        }
        Ok(YieldCostReport {
            ops,
            thread_rounds,
            samples,
            rows,
            skipped,
            python,
        })
    }

}

/// What a plain call costs: a small function the optimizer may not inline or fold.
#[inline(never)]
fn step(x: u64) -> u64 {
    x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1)
}

fn time_calls(ops: u64) -> f64 {
    let start = Instant::now();
    let mut acc = 0u64;
    for _ in 0..ops {
        acc = step(black_box(acc));
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / ops as f64
}

/// Polls `future` once with a waker that does nothing; it must be ready. The ready
/// awaits below need no runtime: nothing in them ever reaches one.
fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("only ready futures are awaited here"),
    }
}

fn time_ready_awaits(ops: u64) -> f64 {
    run_ready(async {
        let start = Instant::now();
        let mut acc = 0u64;
        for i in 0..ops {
            acc = acc.wrapping_add(ReadyLeaf(black_box(i)).await);
        }
        black_box(acc);
        start.elapsed().as_nanos() as f64 / ops as f64
    })
}

/// Times a ready chain of the depth `with_chain` picked.
struct ReadyChain {
    ops: u64,
}

impl ChainVisitor for ReadyChain {
    type Output = f64;

    fn visit<C: Chain>(self) -> f64 {
        let ops = self.ops;
        run_ready(async move {
            let start = Instant::now();
            let mut acc = 0u64;
            for i in 0..ops {
                acc = acc.wrapping_add(C::call(ReadyLeaf(black_box(i))).await);
            }
            black_box(acc);
            start.elapsed().as_nanos() as f64 / ops as f64
        })
    }
}

fn time_yields<R: Runtime>(rt: &R, ops: u64) -> f64 {
    let start = Instant::now();
    rt.block_on(workloads::yield_one::<R>(ops as usize));
    start.elapsed().as_nanos() as f64 / ops as f64
}

fn time_ping_pong<R: Runtime>(rounds: u64) -> f64 {
    let rt = R::fresh();
    let start = Instant::now();
    rt.block_on(ping_pong::<R>(rounds));
    // Each round is two passes: one switch each way.
    start.elapsed().as_nanos() as f64 / (2 * rounds) as f64
}

/// The CPU this thread is running on.
fn current_cpu() -> Option<usize> {
    // SAFETY: sched_getcpu takes no arguments and only reads the calling thread's state.
    let cpu = unsafe { libc::sched_getcpu() };
    usize::try_from(cpu).ok()
}

/// Pins the calling thread to `cpu`; false if the kernel refused.
fn pin_to(cpu: usize) -> bool {
    // SAFETY: cpu_set_t is a plain bit array, for which all zeros is a valid (empty)
    // value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit of `set`, a valid cpu_set_t we own exclusively;
    // it checks `cpu` against the set's size.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 is the calling thread; the size and pointer describe `set`, which
    // lives across the call.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 }
}

/// Two OS threads pass a baton `rounds` times each way (an atomic count and
/// park/unpark); ns per pass. With `cpu`, both are pinned to it, so each pass is a
/// context switch on that core. `None` if pinning was refused.
fn time_threads(rounds: u64, cpu: Option<usize>) -> Option<f64> {
    let passes = Arc::new(AtomicU64::new(0));
    let threads: Arc<[OnceLock<Thread>; 2]> = Arc::new([OnceLock::new(), OnceLock::new()]);
    let ready = Arc::new(Barrier::new(2));
    let players: Vec<_> = (0..2u64)
        .map(|me| {
            let (passes, threads, ready) = (passes.clone(), threads.clone(), ready.clone());
            thread::spawn(move || {
                let pinned = cpu.is_none_or(pin_to);
                threads[me as usize]
                    .set(thread::current())
                    .expect("set once");
                ready.wait();
                if !pinned {
                    return None;
                }
                let other = threads[1 - me as usize].get().expect("both set").clone();
                let start = Instant::now();
                for _ in 0..rounds {
                    while passes.load(Ordering::Acquire) % 2 != me {
                        thread::park();
                    }
                    passes.fetch_add(1, Ordering::AcqRel);
                    other.unpark();
                }
                Some(start.elapsed())
            })
        })
        .collect();
    let times: Vec<Option<Duration>> = players
        .into_iter()
        .map(|p| p.join().expect("ping-pong thread"))
        .collect();
    let longest = times
        .iter()
        .copied()
        .collect::<Option<Vec<_>>>()?
        .into_iter()
        .max()?;
    Some(longest.as_nanos() as f64 / (2 * rounds) as f64)
}

impl Report for YieldCostReport {
    fn name(&self) -> &'static str {
        "yield-cost"
    }

    fn title(&self) -> String {
        "yield-cost: what does one switch cost?".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: in Python a function call costs 50-100 ns, a coroutine switch \
             800-1,200 ns and a thread switch 5,000-20,000 ns ({}, section 2.1). What \
             are the same steps in Rust, on each runtime?",
            sources::BOTTLENECKS
        )
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            format!(
                "Median of {} sample(s) of {} operations ({} round trips for threads).",
                self.samples,
                report::thousands(self.ops),
                report::thousands(self.thread_rounds)
            ),
            &[
                "operation",
                "runtime",
                "per op",
                "x call",
                "Python (article)",
            ],
            2,
        );
        for row in &self.rows {
            s.row(vec![
                row.what.clone(),
                row.runtime.map_or_else(|| "-".into(), |rt| rt.to_string()),
                duration_ns(row.ns),
                format!("{:.1}", row.times_call),
                row.python.clone().unwrap_or_default(),
            ]);
        }
        for run in &self.python.runs {
            let call = run
                .figures
                .rows
                .iter()
                .find(|r| r.op == "call")
                .map_or(f64::MIN_POSITIVE, |r| r.ns.max(f64::MIN_POSITIVE));
            for row in &run.figures.rows {
                let (what, through_loop) = row.what();
                // uvloop changes only what goes through the loop.
                if run.python == Py::Uvloop && !through_loop {
                    continue;
                }
                s.row(vec![
                    what.into(),
                    run.python.to_string(),
                    duration_ns(row.ns),
                    format!("{:.1}", row.ns / call),
                    row.article().unwrap_or_default().into(),
                ]);
            }
        }
        if !self.python.runs.is_empty() {
            s.caption.push_str(
                " Python rows: x call is against Python's own call; uvloop shows only what \
                 goes through the loop.",
            );
        }
        vec![s]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let find = |op: &str, rt: Option<Rt>| {
            self.rows
                .iter()
                .find(|r| r.op == op && r.runtime == rt)
                .map(|r| r.ns)
        };
        if let (Some(call), Some(chain)) = (find("call", None), find("chain-5", None)) {
            notes.push(format!(
                "An .await that does not wait is a function call: a 5-deep ready chain \
                 costs {} against {} for a call. No loop is involved.",
                duration_ns(chain),
                duration_ns(call)
            ));
        }
        for (op, what) in [
            ("yield", "One yield through the loop"),
            ("ping-pong", "A task-to-task switch"),
        ] {
            let Some(t) = find(op, Some(Rt::Turnstile)) else {
                continue;
            };
            let others: Vec<String> = Rt::ALL
                .into_iter()
                .filter(|&rt| rt != Rt::Turnstile)
                .filter_map(|rt| {
                    let k = find(op, Some(rt))?;
                    Some(format!(
                        "{rt} {} (turnstile / {rt} = {:.2})",
                        duration_ns(k),
                        t / k
                    ))
                })
                .collect();
            if !others.is_empty() {
                notes.push(format!(
                    "{what}: turnstile {}, {}.",
                    duration_ns(t),
                    others.join(", ")
                ));
            }
        }
        let switch = find("ping-pong", Some(Rt::Turnstile)).or(find("ping-pong", Some(Rt::Tokio)));
        let thread = find("threads-one-core", None).or(find("threads", None));
        if let (Some(task), Some(thread)) = (switch, thread) {
            notes.push(format!(
                "An OS thread switch ({}) costs about {:.0} task switches.",
                duration_ns(thread),
                thread / task
            ));
        }
        let py = |which: Py, op: &str| {
            self.python
                .get(which)?
                .rows
                .iter()
                .find(|r| r.op == op)
                .map(|r| r.ns)
        };
        if let Some(switch) = py(Py::Asyncio, "ping-pong") {
            let verdict = if (800.0..=1_200.0).contains(&switch) {
                "inside"
            } else if switch > 1_200.0 {
                "above"
            } else {
                "below"
            };
            let rust = find("ping-pong", Some(Rt::Turnstile))
                .map(|t| format!(", {:.0}x turnstile's {}", switch / t, duration_ns(t)))
                .unwrap_or_default();
            notes.push(format!(
                "A task switch in asyncio here: {} (await asyncio.sleep(0): {}), {verdict} the \
                 article's 800-1,200 ns{rust}.",
                duration_ns(switch),
                py(Py::Asyncio, "yield").map_or_else(|| "-".into(), duration_ns),
            ));
        }
        if let (Some(a), Some(u)) = (py(Py::Asyncio, "ping-pong"), py(Py::Uvloop, "ping-pong")) {
            notes.push(format!(
                "uvloop makes the task switch {:.2}x faster ({} against {}).",
                a / u,
                duration_ns(u),
                duration_ns(a)
            ));
        }
        if let Some(call) = py(Py::Asyncio, "call") {
            notes.push(format!(
                "A Python function call here: {} (article: 50-100 ns); an OS thread switch \
                 between Python threads: {} (article: 5,000-20,000 ns).",
                duration_ns(call),
                py(Py::Asyncio, "threads").map_or_else(|| "-".into(), duration_ns)
            ));
        }
        notes.extend(self.python.notes());
        notes.extend(self.skipped.iter().map(|s| format!("skipped {s}")));
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let mut ops: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !ops.contains(&r.op.as_str()) {
                ops.push(&r.op);
            }
        }
        let mut series = Vec::new();
        if self.rows.iter().any(|r| r.runtime.is_none()) {
            let values = ops
                .iter()
                .map(|&op| {
                    self.rows
                        .iter()
                        .find(|r| r.op == op && r.runtime.is_none())
                        .map(|r| r.ns)
                })
                .collect();
            series.push(Series::bars("Rust, no runtime", Who::Reference, values));
        }
        let mut rts: Vec<Rt> = Vec::new();
        for rt in self.rows.iter().filter_map(|r| r.runtime) {
            if !rts.contains(&rt) {
                rts.push(rt);
            }
        }
        for rt in rts {
            let values = ops
                .iter()
                .map(|&op| {
                    self.rows
                        .iter()
                        .find(|r| r.op == op && r.runtime == Some(rt))
                        .map(|r| r.ns)
                })
                .collect();
            series.push(Series::bars(rt.to_string(), rt, values));
        }
        for run in &self.python.runs {
            let values = ops
                .iter()
                .map(|&op| run.figures.rows.iter().find(|r| r.op == op).map(|r| r.ns))
                .collect();
            series.push(Series::bars(run.python.to_string(), run.python, values));
        }
        plot::horizontal_bars(
            path,
            &Bars {
                title: "cost of one operation (median)".into(),
                value_label: "time per operation".into(),
                groups: ops.iter().map(|s| s.to_string()).collect(),
                series,
                format: duration_ns,
            },
        )
    }
}

// The workload of this experiment, written once against `Runtime`.

/// Two tasks passing a baton `rounds` times each way; every pass is one wake of the
/// other task and one yield of this one: a task-to-task switch through the loop.
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// use turnstile_lab::experiments::yield_cost as lab;
/// tally::take_tally();
/// Tokio::new().block_on(lab::ping_pong::<Tokio>(10));
/// // Each player passes once per poll (the first poll may find the baton elsewhere).
/// assert!(tally::take_tally().polls >= 2 * 10);
/// ```
pub async fn ping_pong<R: Runtime>(rounds: u64) {
    let baton = Arc::new(Baton::default());
    let players: Vec<_> = (0..2)
        .map(|me| {
            let baton = baton.clone();
            R::spawn(counted(async move { baton.play(me, rounds).await }))
        })
        .collect();
    for p in players {
        p.await.expect("ping-pong player");
    }
}

/// Whose turn it is (the count of passes so far: even for player 0), and each player's
/// waker.
#[derive(Default)]
struct Baton {
    passes: AtomicU64,
    wakers: [AtomicWaker; 2],
}

impl Baton {
    async fn play(&self, me: u64, rounds: u64) {
        for _ in 0..rounds {
            poll_fn(|cx| {
                if self.passes.load(Ordering::Acquire) % 2 == me {
                    return Poll::Ready(());
                }
                self.wakers[me as usize].register(cx.waker());
                if self.passes.load(Ordering::Acquire) % 2 == me {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            self.passes.fetch_add(1, Ordering::AcqRel);
            self.wakers[1 - me as usize].wake();
        }
    }
}
