//! `chain`: does every `.await` go back to the loop?
//!
//! An await chain of depth 1, 5 and 50 over (a) a sleep and (b) a ready future, each
//! chain run once as a spawned task (to count turns, polls, yields and parks) and many
//! times in a row (to time one call). Each depth is built two ways: nested `async`
//! blocks whose depth is in their type (what nested `async fn`s compile to), and boxed
//! levels (`Pin<Box<dyn Future>>`, what a recursive `async fn` must be). `--narrate`
//! prints the turn-by-turn trace of the depth-5 chain from turnstile's `on_turn` hook,
//! interleaved with the chain's own prints.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::hint::black_box;
use std::marker::PhantomData;
use std::path::Path;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::value_parser;
use serde::{Deserialize, Serialize};
use turnstile::probes::Level;
use turnstile_compare::tally::{counted, take_tally};
use turnstile_compare::Runtime;

use std::task::{Context, Poll};

use super::{Experiment, Lab};
use crate::plot::{self, Strip, StripRow, Who};
use crate::report::{self, duration_ns, opt, Report, Section};
use crate::runtimes::{Counts, Rt};
use crate::python::{self, PyRuns};
use crate::sources;

/// The knobs of `chain`.
#[derive(clap::Args, Clone, Debug)]
pub struct ChainArgs {
    /// Chain depths to measure, comma-separated, each from 1 to 64.
    #[arg(long, value_delimiter = ',', default_value = "1,5,50",
          value_parser = value_parser!(u32).range(1..=MAX_CHAIN_DEPTH as i64))]
    pub depths: Vec<u32>,
    /// The sleep at the leaf of the sleeping chain, in milliseconds.
    #[arg(long, default_value_t = 1, value_parser = value_parser!(u64).range(1..=1000))]
    pub sleep_ms: u64,
    /// Calls per timing sample of the ready chain [default: 200000; 2000 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=100_000_000))]
    pub calls: Option<u64>,
    /// Calls of the sleeping chain timed in a row [default: 20; 2 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=10_000))]
    pub sleep_calls: Option<u64>,
    /// Timing samples of the ready chain; the median is reported [default: 5; 1 with
    /// --smoke].
    #[arg(long, value_parser = value_parser!(u32).range(1..=101))]
    pub samples: Option<u32>,
    /// Print the turn-by-turn trace of the depth-5 chain (turnstile's on_turn hook).
    #[arg(long)]
    pub narrate: bool,
    /// The tour's short form: Python runs a fiftieth of the calls, one sample.
    #[arg(skip)]
    pub tour: bool,
}

/// What the chain awaits at its bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Leaf {
    /// A sleep: the leaf really waits, so the task must go back to the loop.
    Sleep,
    /// A future that is ready on its first poll.
    Ready,
}

impl fmt::Display for Leaf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Leaf::Sleep => "sleep",
            Leaf::Ready => "ready",
        })
    }
}

/// How the levels of the chain are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// Nested `async` blocks, the depth in the type: one state machine.
    Nested,
    /// Each level a `Pin<Box<dyn Future>>`: an allocation and an indirect poll per level.
    Boxed,
}

/// One chain, on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainRow {
    /// The runtime.
    pub runtime: Rt,
    /// What the chain awaits.
    pub leaf: Leaf,
    /// How its levels are built.
    pub shape: Shape,
    /// Levels of `async` above the leaf.
    pub depth: u32,
    /// One call, spawned as a task and awaited by `block_on`.
    pub counts: Counts,
    /// Time per call: the median over samples for the ready leaf, the mean of
    /// `sleep_calls` calls for the sleep leaf.
    pub ns_per_call: f64,
}

/// What `chain` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainReport {
    /// The depths measured.
    pub depths: Vec<u32>,
    /// The leaf sleep, ms.
    pub sleep_ms: u64,
    /// Calls per timing sample of the ready chain.
    pub calls: u64,
    /// Calls of the sleeping chain timed in a row.
    pub sleep_calls: u64,
    /// Timing samples of the ready chain.
    pub samples: u32,
    /// One row per runtime, leaf, shape and depth.
    pub rows: Vec<ChainRow>,
    /// The narrated trace of the depth-5 chain (empty without `--narrate`).
    pub narration: Vec<String>,
    /// The same chains in Python (`lab/python/chain.py`).
    #[serde(default)]
    pub python: PyRuns<PyChain>,
}

/// What `chain.py` reports on one loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyChain {
    /// One row per leaf and depth.
    pub rows: Vec<PyChainRow>,
}

/// One chain in Python.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyChainRow {
    /// What the chain awaits.
    pub leaf: Leaf,
    /// Levels of coroutines above the leaf.
    pub depth: u32,
    /// Iterations of the loop's `_run_once` for one call run as a task (asyncio's loop
    /// only; uvloop's has no `_run_once` to count).
    pub run_once: Option<u64>,
    /// Time per call, ns.
    pub ns_per_call: f64,
}

/// The sizes one run uses.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    sleep: Duration,
    calls: u64,
    sleep_calls: u64,
    samples: u32,
}

/// Counts and time per call of one chain on one runtime.
struct Measured {
    counts: Counts,
    ns_per_call: f64,
}

impl Experiment for super::Chain {
    const NAME: &'static str = "chain";
    type Args = ChainArgs;
    type Report = ChainReport;

    fn tour_args(_full: bool) -> ChainArgs {
        let mut args: ChainArgs = super::default_args();
        args.narrate = true;
        args.tour = true;
        args
    }

    fn run(args: &ChainArgs, lab: &Lab) -> anyhow::Result<ChainReport> {
        let sizes = Sizes {
            sleep: Duration::from_millis(args.sleep_ms),
            calls: lab.size(args.calls, 200_000, 2_000),
            sleep_calls: lab.size(args.sleep_calls, 20, 2),
            samples: lab.size(args.samples, 5, 1),
        };
        let mut depths = args.depths.clone();
        depths.sort_unstable();
        depths.dedup();

        let narration = if args.narrate && lab.runtimes.contains(&Rt::Turnstile) {
            record_page(Duration::from_millis(10), &lab.out)?;
            narrate(Duration::from_millis(10))?
        } else if args.narrate {
            vec!["(narration uses turnstile's on_turn hook; tokio and smol have no per-turn hook)".into()]
        } else {
            Vec::new()
        };

        let steps = lab.runtimes.len() * depths.len() * 4;
        let bar = lab.progress(steps as u64, "chain");
        let mut rows = Vec::new();
        for &runtime in &lab.runtimes {
            for &depth in &depths {
                for leaf in [Leaf::Sleep, Leaf::Ready] {
                    for shape in [Shape::Nested, Shape::Boxed] {
                        bar.set_message(format!(
                            "{runtime}, depth {depth}, {leaf} leaf, {shape:?}"
                        ));
                        let m = on_runtime!(runtime, R => measure::<R>(depth, leaf, shape, sizes));
                        rows.push(ChainRow {
                            runtime,
                            leaf,
                            shape,
                            depth,
                            counts: m.counts,
                            ns_per_call: m.ns_per_call,
                        });
                        bar.inc(1);
                    }
                }
            }
        }
        bar.finish_and_clear();
        // Python: the tour's sizes are a fiftieth of Rust's, one sample.
        let py_sizes = if args.tour {
            Sizes {
                calls: (sizes.calls / 50).max(1),
                sleep_calls: (sizes.sleep_calls / 4).max(1),
                samples: 1,
                ..sizes
            }
        } else {
            sizes
        };
        let python = python::runs(
            &lab.python,
            format!(
                "{} calls per sample of the ready chain, {} sample(s), {} calls of the sleeping one",
                report::thousands(py_sizes.calls),
                py_sizes.samples,
                py_sizes.sleep_calls
            ),
            |py, which| {
                py.run(
                    "chain",
                    which,
                    &python::knobs(&[
                        (
                            "depths",
                            depths.iter().map(u32::to_string).collect::<Vec<_>>().join(","),
                        ),
                        ("sleep-ms", args.sleep_ms.to_string()),
                        ("calls", py_sizes.calls.to_string()),
                        ("sleep-calls", py_sizes.sleep_calls.to_string()),
                        ("samples", py_sizes.samples.to_string()),
                    ]),
                )
            },
        );
        Ok(ChainReport {
            depths,
            sleep_ms: args.sleep_ms,
            calls: sizes.calls,
            sleep_calls: sizes.sleep_calls,
            samples: sizes.samples,
            rows,
            narration,
            python,
        })
    }

}

fn measure<R: Runtime>(depth: u32, leaf: Leaf, shape: Shape, sizes: Sizes) -> Measured {
    match (shape, leaf) {
        (Shape::Nested, _) => with_chain(
            depth,
            Nested::<R> {
                leaf,
                sizes,
                runtime: PhantomData,
            },
        )
        .expect("depths are validated to 1..=MAX_CHAIN_DEPTH"),
        (Shape::Boxed, Leaf::Ready) => {
            measure_ready::<R, _, _>(sizes, move |n| boxed_chain(depth, ReadyLeaf(n)))
        }
        (Shape::Boxed, Leaf::Sleep) => {
            measure_sleep::<R, _, _>(sizes, move || boxed_chain(depth, R::sleep(sizes.sleep)))
        }
    }
}

/// Measures the nested chain of the depth `with_chain` picked.
struct Nested<R> {
    leaf: Leaf,
    sizes: Sizes,
    runtime: PhantomData<R>,
}

impl<R: Runtime> ChainVisitor for Nested<R> {
    type Output = Measured;

    fn visit<C: Chain>(self) -> Measured {
        let sizes = self.sizes;
        match self.leaf {
            Leaf::Ready => measure_ready::<R, _, _>(sizes, |n| C::call(ReadyLeaf(n))),
            Leaf::Sleep => measure_sleep::<R, _, _>(sizes, move || C::call(R::sleep(sizes.sleep))),
        }
    }
}

/// One call spawned as a task on a fresh runtime: what the runtime and the task's
/// poll tally counted. The call is made once the runtime is up, so a sleep's deadline
/// is not spent while the runtime starts (its probes calibrate a clock).
fn count_one_call<R: Runtime, F, M: FnOnce() -> F>(make: M) -> Counts
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = R::fresh();
    let chain = make();
    let before = rt.loop_counts();
    take_tally();
    rt.block_on(async move {
        R::spawn(counted(chain)).await.expect("the chain task");
    });
    let tally = take_tally();
    Counts::new(rt.loop_counts().since(&before), tally)
}

fn measure_ready<R, F, Fut>(sizes: Sizes, make: F) -> Measured
where
    R: Runtime,
    F: Fn(u64) -> Fut,
    Fut: Future<Output = u64> + Send + 'static,
{
    let counts = count_one_call::<R, _, _>(|| make(1));
    let rt = R::fresh();
    let samples: Vec<f64> = (0..sizes.samples)
        .map(|_| {
            rt.block_on(async {
                let start = Instant::now();
                let mut acc = 0u64;
                for i in 0..sizes.calls {
                    acc = acc.wrapping_add(make(black_box(i)).await);
                }
                black_box(acc);
                start.elapsed().as_nanos() as f64 / sizes.calls as f64
            })
        })
        .collect();
    Measured {
        counts,
        ns_per_call: report::median(&samples),
    }
}

fn measure_sleep<R, F, Fut>(sizes: Sizes, make: F) -> Measured
where
    R: Runtime,
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let counts = count_one_call::<R, _, _>(&make);
    let rt = R::fresh();
    let ns_per_call = rt.block_on(async {
        let start = Instant::now();
        for _ in 0..sizes.sleep_calls {
            make().await;
        }
        start.elapsed().as_nanos() as f64 / sizes.sleep_calls as f64
    });
    Measured {
        counts,
        ns_per_call,
    }
}

type Log = Rc<RefCell<Vec<String>>>;

fn say(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

/// The depth-5 chain over a sleep, then over a ready future, each spawned on a fresh
/// turnstile runtime whose `on_turn` hook writes a line at the end of every turn into
/// the same log as the chain's own prints.
fn narrate(sleep: Duration) -> anyhow::Result<Vec<String>> {
    const DEPTH: u32 = 5;
    let log: Log = Rc::default();
    for leaf in [Leaf::Sleep, Leaf::Ready] {
        let hook_log = log.clone();
        let rt = turnstile::Runtime::builder()
            .probes(Level::Counters)
            .on_turn(move |turn| say(&hook_log, format!("[loop] end of {turn}")))
            .build()?;
        let what = match leaf {
            Leaf::Sleep => format!("sleep({sleep:?})"),
            Leaf::Ready => "a ready future".to_string(),
        };
        say(
            &log,
            format!("main: spawn a {DEPTH}-deep await chain over {what} and await it"),
        );
        let task_log = log.clone();
        rt.block_on(async move {
            turnstile::spawn(narrated_level(1, DEPTH, leaf, sleep, task_log))
                .await
                .expect("the narrated chain");
        });
        let c = rt.probes().counters;
        say(
            &log,
            format!(
                "main: done in {} turns; the task was polled {} time(s) and yielded {} \
                 time(s), for {DEPTH} awaits",
                c.turns, c.polls, c.polls_pending
            ),
        );
        say(&log, "");
    }
    let mut lines = log.take();
    lines.pop();
    Ok(lines)
}

/// The viewer's page of the chain, `chain.html` in `out`: the depth-5 chain over a
/// sleep, then over a ready future, each spawned as a named task on one runtime
/// recorded at `Level::Trace`, so that a reader steps through and sees that only the
/// sleep at the leaf reaches the loop. Returns the page's path.
///
/// # Errors
/// If the runtime cannot be built or the page written.
pub fn record_page(sleep: Duration, out: &Path) -> anyhow::Result<std::path::PathBuf> {
    const DEPTH: u32 = 5;
    let rt = turnstile::Runtime::builder()
        .probes(Level::Trace)
        .name("chain")
        .build()?;
    let log: Log = Rc::default(); // the chain's own lines, not shown on the page
    rt.block_on(async move {
        for (leaf, name) in [
            (Leaf::Sleep, "chain over a sleep"),
            (Leaf::Ready, "chain over a ready future"),
        ] {
            turnstile::task::Builder::new()
                .name(name)
                .spawn(narrated_level(1, DEPTH, leaf, sleep, log.clone()))
                .await
                .expect("the recorded chain");
        }
    });
    let path = out.join("chain.html");
    crate::view::write_recording_page(&rt.recording(), &path)?;
    Ok(path)
}

fn narrated_level(
    level: u32,
    depth: u32,
    leaf: Leaf,
    sleep: Duration,
    log: Log,
) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        let pad = "  ".repeat(level as usize);
        if level < depth {
            say(
                &log,
                format!("{pad}level {level}: await level {}", level + 1),
            );
            narrated_level(level + 1, depth, leaf, sleep, log.clone()).await;
            say(
                &log,
                format!("{pad}level {level}: back from level {}", level + 1),
            );
            return;
        }
        match leaf {
            Leaf::Sleep => {
                say(&log, format!("{pad}level {level}: await sleep({sleep:?})"));
                turnstile::time::sleep(sleep).await;
                say(&log, format!("{pad}level {level}: the sleep is over"));
            }
            Leaf::Ready => {
                say(&log, format!("{pad}level {level}: await a ready future"));
                black_box(ReadyLeaf(0).await);
                say(&log, format!("{pad}level {level}: it was ready at once"));
            }
        }
    })
}

impl ChainReport {
    fn row(&self, runtime: Rt, leaf: Leaf, shape: Shape, depth: u32) -> Option<&ChainRow> {
        self.rows.iter().find(|r| {
            r.runtime == runtime && r.leaf == leaf && r.shape == shape && r.depth == depth
        })
    }

    fn runtimes(&self) -> Vec<Rt> {
        let mut rts: Vec<Rt> = self.rows.iter().map(|r| r.runtime).collect();
        rts.sort();
        rts.dedup();
        rts
    }
}

/// A count from the nested chain, with the boxed chain's beside it if it differs.
fn both(nested: Option<u64>, boxed: Option<u64>) -> String {
    if nested == boxed {
        opt(nested)
    } else {
        format!("{} / {}", opt(nested), opt(boxed))
    }
}

impl ChainReport {
    /// The turn strip: a row per narrated chain on turnstile (a box per turn of its
    /// loop, from the `on_turn` lines), then a row per chain on each Python loop that
    /// counts its passes (`_run_once`), a box per pass.
    pub fn strip(&self) -> Strip {
        let mut rows: Vec<StripRow> = Vec::new();
        for line in &self.narration {
            if let Some(what) = line.strip_prefix("main: spawn a ") {
                let what = what.trim_end_matches(" and await it");
                rows.push(StripRow {
                    label: format!("turnstile: {}", what.replace(" await chain", " chain")),
                    who: Who::Rust(Rt::Turnstile),
                    variant: rows.len().min(1),
                    turns: Vec::new(),
                });
            } else if let Some(rest) = line.strip_prefix("[loop] end of turn ") {
                let what = rest.split_once(": ").map_or("", |(_, w)| w);
                if let Some(row) = rows.last_mut() {
                    row.turns.push(what.replace(", ", "; "));
                }
            }
        }
        let depth = 5;
        for run in &self.python.runs {
            for (variant, leaf) in [Leaf::Sleep, Leaf::Ready].into_iter().enumerate() {
                let passes = run
                    .figures
                    .rows
                    .iter()
                    .find(|r| r.leaf == leaf && r.depth == depth)
                    .and_then(|r| r.run_once);
                if let Some(n) = passes {
                    let over = match leaf {
                        Leaf::Sleep => "a sleep",
                        Leaf::Ready => "a ready future",
                    };
                    rows.push(StripRow {
                        label: format!("{}: {depth}-deep chain over {over}", run.python),
                        who: run.python.into(),
                        variant,
                        turns: (0..n).map(|_| "one pass of _run_once".to_string()).collect(),
                    });
                }
            }
        }
        let mut uncounted: Vec<String> = self
            .runtimes()
            .into_iter()
            .filter(|&rt| rt != Rt::Turnstile)
            .map(|rt| rt.to_string())
            .collect();
        uncounted.extend(
            self.python
                .runs
                .iter()
                .filter(|run| run.figures.rows.iter().all(|r| r.run_once.is_none()))
                .map(|run| run.python.to_string()),
        );
        let footnote = if uncounted.is_empty() {
            String::new()
        } else {
            format!(
                "no row for {}: they do not count their loop's turns",
                uncounted.join(", ")
            )
        };
        Strip {
            title: "chain: the turns of a 5-deep await chain, one box per turn".into(),
            rows,
            footnote,
        }
    }
}

impl Report for ChainReport {
    fn name(&self) -> &'static str {
        "chain"
    }

    fn title(&self) -> String {
        "chain: does every .await go back to the loop?".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: in asyncio, an await of a coroutine does not enter the event loop; \
             only an await of something that really waits does. A 5-deep chain of async \
             functions over one sleep enters the loop's `_run_once` only at the sleep \
             ({}). Here: chains of several depths over one real wait, and over a ready \
             future. Does each level cost a trip through the loop, or only the leaf?",
            sources::AWAIT_CHAINS
        )
    }

    fn preface(&self) -> Vec<String> {
        self.narration.clone()
    }

    fn sections(&self) -> Vec<Section> {
        let mut sections = Vec::new();
        for leaf in [Leaf::Sleep, Leaf::Ready] {
            let what = match leaf {
                Leaf::Sleep => format!("sleep({} ms)", self.sleep_ms),
                Leaf::Ready => "a ready future".into(),
            };
            let mut s = Section::new(
                format!(
                    "Await chain over {what}: one call spawned as a task (counts; \
                     nested / boxed where they differ) and time per call. In Python, turns \
                     are iterations of asyncio's `_run_once` and per call is a coroutine \
                     chain."
                ),
                &[
                    "depth",
                    "runtime",
                    "turns",
                    "polls",
                    "yields",
                    "parks",
                    "per call, nested",
                    "per call, boxed",
                ],
                2,
            );
            for &depth in &self.depths {
                for runtime in self.runtimes() {
                    let (Some(n), Some(b)) = (
                        self.row(runtime, leaf, Shape::Nested, depth),
                        self.row(runtime, leaf, Shape::Boxed, depth),
                    ) else {
                        continue;
                    };
                    s.row(vec![
                        depth.to_string(),
                        runtime.to_string(),
                        both(n.counts.turns, b.counts.turns),
                        both(Some(n.counts.polls), Some(b.counts.polls)),
                        both(Some(n.counts.yields), Some(b.counts.yields)),
                        both(n.counts.parks, b.counts.parks),
                        duration_ns(n.ns_per_call),
                        duration_ns(b.ns_per_call),
                    ]);
                }
                for run in &self.python.runs {
                    let Some(r) = run.figures.rows.iter().find(|r| r.leaf == leaf && r.depth == depth)
                    else {
                        continue;
                    };
                    s.row(vec![
                        depth.to_string(),
                        run.python.to_string(),
                        opt(r.run_once),
                        "-".into(),
                        "-".into(),
                        "-".into(),
                        duration_ns(r.ns_per_call),
                        "-".into(),
                    ]);
                }
            }
            sections.push(s);
        }
        sections
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for runtime in self.runtimes() {
            for leaf in [Leaf::Sleep, Leaf::Ready] {
                let rows: Vec<&ChainRow> = self
                    .rows
                    .iter()
                    .filter(|r| r.runtime == runtime && r.leaf == leaf)
                    .collect();
                let Some(first) = rows.first() else { continue };
                let same = rows.iter().all(|r| {
                    (r.counts.turns, r.counts.polls, r.counts.yields)
                        == (first.counts.turns, first.counts.polls, first.counts.yields)
                });
                let turns = first
                    .counts
                    .turns
                    .map_or_else(String::new, |t| format!("{t} turns, "));
                notes.push(if same {
                    format!(
                        "{runtime}, {leaf} leaf: {turns}{} polls and {} yield(s) per call at \
                         every depth ({:?}): the levels above the leaf never reach the loop.",
                        first.counts.polls, first.counts.yields, self.depths
                    )
                } else {
                    format!("{runtime}, {leaf} leaf: the counts differ between depths.")
                });
            }
        }
        for run in &self.python.runs {
            for leaf in [Leaf::Sleep, Leaf::Ready] {
                let counts: Vec<Option<u64>> = run
                    .figures
                    .rows
                    .iter()
                    .filter(|r| r.leaf == leaf)
                    .map(|r| r.run_once)
                    .collect();
                let Some(Some(first)) = counts.first().copied() else {
                    continue;
                };
                notes.push(if counts.iter().all(|&c| c == Some(first)) {
                    format!(
                        "{}, {leaf} leaf: {first} iterations of _run_once per call at every \
                         depth ({:?}): the loop is entered only at the leaf, as the article \
                         says.",
                        run.python, self.depths
                    )
                } else {
                    format!("{}, {leaf} leaf: the _run_once counts differ between depths.", run.python)
                });
            }
            let ns = |leaf, depth| {
                run.figures
                    .rows
                    .iter()
                    .find(|r| r.leaf == leaf && r.depth == depth)
                    .map(|r| r.ns_per_call)
            };
            let rust = |depth| {
                self.row(Rt::Turnstile, Leaf::Ready, Shape::Nested, depth)
                    .map(|r| r.ns_per_call)
            };
            if let Some(&d) = self.depths.iter().find(|&&d| d == 5).or(self.depths.last()) {
                if let (Some(py), Some(t)) = (ns(Leaf::Ready, d), rust(d)) {
                    notes.push(format!(
                        "A {d}-deep ready chain: {} in {} against {} on turnstile ({:.0}x).",
                        duration_ns(py),
                        run.python,
                        duration_ns(t),
                        py / t.max(1e-3)
                    ));
                }
            }
        }
        notes.extend(self.python.notes());
        if let (Some(&lo), Some(&hi)) = (self.depths.first(), self.depths.last()) {
            for runtime in self.runtimes() {
                let ns = |shape| {
                    self.row(runtime, Leaf::Ready, shape, lo)
                        .zip(self.row(runtime, Leaf::Ready, shape, hi))
                        .map(|(a, b)| (a.ns_per_call, b.ns_per_call))
                };
                if let (Some((n_lo, n_hi)), Some((b_lo, b_hi))) =
                    (ns(Shape::Nested), ns(Shape::Boxed))
                {
                    let levels = f64::from(hi.saturating_sub(lo).max(1));
                    // Checked, not assumed: the ready leaf's counted yields at every depth.
                    let yields: u64 = self
                        .rows
                        .iter()
                        .filter(|r| r.runtime == runtime && r.leaf == Leaf::Ready)
                        .map(|r| r.counts.yields)
                        .sum();
                    let reached = if yields == 0 {
                        "No level reached the loop: 0 yields at every depth.".to_string()
                    } else {
                        format!("{yields} poll(s) yielded to the loop over a ready leaf.")
                    };
                    notes.push(format!(
                        "{runtime}, ready leaf, depth {lo} -> {hi}: nested {} -> {} per call \
                         (about {} per extra level: a poll call, no allocation); boxed {} -> {} \
                         (about {} per extra level: an allocation, a free and an indirect \
                         poll). {reached}",
                        duration_ns(n_lo),
                        duration_ns(n_hi),
                        duration_ns((n_hi - n_lo).max(0.0) / levels),
                        duration_ns(b_lo),
                        duration_ns(b_hi),
                        duration_ns((b_hi - b_lo).max(0.0) / levels)
                    ));
                }
            }
        }
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        plot::turn_strip(path, &self.strip())
    }
}

// The workload of this experiment, written once against `Runtime`.

/// A future that is ready on its first poll, with a poll that is a real (not inlined)
/// function call: the cheapest thing an `.await` can wait for.
///
/// ```
/// use turnstile_compare::{Runtime, Tokio};
/// use turnstile_lab::experiments::chain::ReadyLeaf;
/// assert_eq!(Tokio::new().block_on(ReadyLeaf(3)), 3);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ReadyLeaf(pub u64);

impl Future for ReadyLeaf {
    type Output = u64;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u64> {
        Poll::Ready(black_box(self.0))
    }
}

/// An await chain whose depth is part of its type: each level is an `async fn` that
/// awaits the level below. The compiler sees the whole
/// chain and may fold it into one state machine.
pub trait Chain: 'static {
    /// How many levels of `async` sit above the leaf.
    const DEPTH: u32;

    /// The chain over `leaf`: awaiting it awaits `leaf` through every level.
    fn call<L>(leaf: L) -> impl Future<Output = L::Output> + Send
    where
        L: Future + Send,
        L::Output: Send;
}

/// The innermost level: an `async fn` awaiting the leaf.
#[derive(Debug)]
pub struct One;

/// One more level above `T`.
#[derive(Debug)]
pub struct Up<T>(PhantomData<T>);

impl Chain for One {
    const DEPTH: u32 = 1;

    async fn call<L>(leaf: L) -> L::Output
    where
        L: Future + Send,
        L::Output: Send,
    {
        leaf.await
    }
}

impl<T: Chain> Chain for Up<T> {
    const DEPTH: u32 = T::DEPTH + 1;

    async fn call<L>(leaf: L) -> L::Output
    where
        L: Future + Send,
        L::Output: Send,
    {
        T::call(leaf).await
    }
}

/// Called with the [`Chain`] type of a depth chosen at run time.
pub trait ChainVisitor {
    /// What the visit returns.
    type Output;
    /// Does the work with chain type `C`.
    fn visit<C: Chain>(self) -> Self::Output;
}

/// The deepest [`Chain`] that [`with_chain`] can build.
pub const MAX_CHAIN_DEPTH: u32 = 64;

macro_rules! dispatch_depth {
    ($depth:ident, $visitor:ident, $ty:ty, $n:expr;) => {};
    ($depth:ident, $visitor:ident, $ty:ty, $n:expr; $_level:tt $($rest:tt)*) => {
        if $depth == $n {
            return Some($visitor.visit::<$ty>());
        }
        dispatch_depth!($depth, $visitor, Up<$ty>, $n + 1; $($rest)*);
    };
}

/// Calls `visitor` with the [`Chain`] of `depth` levels (1 to [`MAX_CHAIN_DEPTH`]), or
/// returns `None` for a depth outside that range.
///
/// ```
/// use turnstile_lab::experiments::chain::{with_chain, Chain, ChainVisitor};
/// struct Depth;
/// impl ChainVisitor for Depth {
///     type Output = u32;
///     fn visit<C: Chain>(self) -> u32 { C::DEPTH }
/// }
/// assert_eq!(with_chain(50, Depth), Some(50));
/// assert_eq!(with_chain(0, Depth), None);
/// ```
pub fn with_chain<V: ChainVisitor>(depth: u32, visitor: V) -> Option<V::Output> {
    dispatch_depth!(depth, visitor, One, 1u32;
        _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _
        _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _
    );
    None
}

/// The same chain with each level boxed (`Pin<Box<dyn Future>>`), as a recursive
/// `async fn` or an `async-trait` method must be: one allocation and one indirect poll
/// per level, like a heap-allocated coroutine frame. `depth` 0 is taken as 1.
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// use turnstile_lab::experiments::chain as lab;
/// assert_eq!(Tokio::new().block_on(lab::boxed_chain(50, lab::ReadyLeaf(7))), 7);
/// ```
pub fn boxed_chain<L>(depth: u32, leaf: L) -> Pin<Box<dyn Future<Output = L::Output> + Send>>
where
    L: Future + Send + 'static,
    L::Output: Send,
{
    if depth <= 1 {
        // The async block is the level: one boxed frame awaiting the leaf.
        #[allow(clippy::redundant_async_block)]
        Box::pin(async move { leaf.await })
    } else {
        Box::pin(async move { boxed_chain(depth - 1, leaf).await })
    }
}
