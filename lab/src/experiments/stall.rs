//! `stall`: what does one blocking call cost the loop?
//!
//! A heartbeat task sleeps 1 ms at a time and records how late each wake-up is. Beside
//! it, another task injects stalls of a fixed length, five ways: (a) a blocking
//! `std::thread::sleep`, (b) a CPU loop, (c) the same CPU loop through `spawn_blocking`,
//! (d) a greedy task: a loop of awaits that are always ready (a zero-length sleep) with
//! a little work between them, which never blocks yet never has to wait either; (e) the
//! same with reads from a socket that another thread keeps full; on turnstile (d) runs
//! once more without its cooperative budget (f).
//! Reported: the heartbeat's lateness (p50, p99, max) per way and runtime, how many
//! ticks were late by at least the stall, and on turnstile (probes at
//! `Level::Timing`, stall threshold 10 ms) the stall reports the probes produced.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::value_parser;
use serde::{Deserialize, Serialize};
use turnstile::probes::Level;
use turnstile_compare::workloads::spin;
use turnstile_compare::{Runtime, Smol, Tokio, Turnstile};

use super::{Experiment, Lab};
use crate::load::{micros, Latency};
use crate::plot::{self, Lines, Panels, Series};
use crate::report::{thousands, Report, Section};
use crate::runtimes::Rt;
use crate::python::{self, PyRuns};
use crate::sources;

/// The knobs of `stall`.
#[derive(clap::Args, Clone, Debug)]
pub struct StallArgs {
    /// Length of each injected stall, in milliseconds [default: 50; 20 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(2..=10_000))]
    pub stall_ms: Option<u64>,
    /// Stalls injected per way [default: 5; 2 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=1_000))]
    pub stalls: Option<u64>,
    /// Pause between stalls, in milliseconds.
    #[arg(long, default_value_t = 30, value_parser = value_parser!(u64).range(1..=10_000))]
    pub gap_ms: u64,
    /// The tour's short form: Python makes two stalls per way.
    #[arg(skip)]
    pub tour: bool,
}

/// How the stall is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Way {
    /// `std::thread::sleep` inside the task: the loop thread blocks off the CPU.
    BlockingSleep,
    /// A CPU loop inside the task: the loop thread computes.
    CpuLoop,
    /// The CPU loop on the blocking pool, awaited: the loop stays free.
    SpawnBlocking,
    /// Ready awaits (`sleep(ZERO)`) with a little work between them: the runtime's
    /// cooperative budget, where it has one, makes the task yield.
    Greedy,
    /// Reads from a socket that always has data (another thread keeps it full), with
    /// the same work between them.
    GreedySocket,
    /// The same greedy task on turnstile with `Builder::budget(None)` (turnstile only).
    GreedyNoBudget,
}

impl Way {
    const ALL: [Way; 6] = [
        Way::BlockingSleep,
        Way::CpuLoop,
        Way::SpawnBlocking,
        Way::Greedy,
        Way::GreedySocket,
        Way::GreedyNoBudget,
    ];

    fn label(self) -> &'static str {
        match self {
            Way::BlockingSleep => "(a) thread::sleep",
            Way::CpuLoop => "(b) CPU loop",
            Way::SpawnBlocking => "(c) spawn_blocking",
            Way::Greedy => "(d) greedy: ready sleeps",
            Way::GreedySocket => "(e) greedy: a full socket",
            Way::GreedyNoBudget => "(f) greedy sleeps, no budget",
        }
    }

    /// Whether the stall holds the loop's thread for its whole length, whatever the
    /// runtime (the greedy ways depend on the runtime's budget).
    fn blocks_the_loop(self) -> bool {
        matches!(self, Way::BlockingSleep | Way::CpuLoop)
    }
}

/// The work between two ready awaits of the greedy task.
const GREEDY_WORK: Duration = Duration::from_micros(5);

impl std::fmt::Display for Way {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One stall report from turnstile's probes, as the lab keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StallSeen {
    /// How long the poll ran, ms.
    pub duration_ms: f64,
    /// `OnCpu`, `OffCpu` or `Unknown`.
    pub kind: String,
    /// Tasks that waited behind it.
    pub tasks_waiting: u64,
    /// The report as the probes print it.
    pub text: String,
}

/// One way on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StallRow {
    /// The runtime.
    pub runtime: Rt,
    /// How the stalls were made.
    pub way: Way,
    /// Stalls injected.
    pub stalls: u64,
    /// Heartbeat ticks.
    pub ticks: u64,
    /// Ticks late by at least the stall length minus the 1 ms period.
    pub late_ticks: u64,
    /// The heartbeat's lateness.
    pub lag: Latency,
    /// turnstile's stall reports (`None` on tokio, which has none).
    pub reports: Option<Vec<StallSeen>>,
    /// turnstile's budget yields (`None` elsewhere: tokio has a budget too, but does not
    /// count its yields where a user can read them).
    #[serde(default)]
    pub budget_yields: Option<u64>,
    /// The heartbeat's lag over time: `[ms since the start, longest lag in ms]` per
    /// 2 ms bin, for the plot.
    #[serde(default)]
    pub timeline: Vec<[f64; 2]>,
}

/// What `stall` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StallReportTable {
    /// Each stall, ms.
    pub stall_ms: u64,
    /// Stalls per way.
    pub stalls: u64,
    /// One row per runtime and way.
    pub rows: Vec<StallRow>,
    /// The first three ways in Python (`lab/python/stall.py`).
    #[serde(default)]
    pub python: PyRuns<PyStall>,
}

/// What `stall.py` reports on one loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyStall {
    /// One row per way: `blocking-sleep` (time.sleep), `cpu-loop`, `spawn-blocking`
    /// (run_in_executor).
    pub rows: Vec<PyStallRow>,
}

/// One way in Python.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyStallRow {
    /// How the stalls were made.
    pub way: Way,
    /// Stalls injected.
    pub stalls: u64,
    /// Heartbeat ticks.
    pub ticks: u64,
    /// Ticks late by at least the stall length minus the 1 ms period.
    pub late_ticks: u64,
    /// The heartbeat's lateness.
    pub lag: Latency,
}

impl Way {
    /// The way as Python makes it.
    fn python_label(self) -> &'static str {
        match self {
            Way::BlockingSleep => "(a) time.sleep",
            Way::CpuLoop => "(b) CPU loop",
            Way::SpawnBlocking => "(c) run_in_executor",
            _ => self.label(),
        }
    }
}

impl Experiment for super::Stall {
    const NAME: &'static str = "stall";
    type Args = StallArgs;
    type Report = StallReportTable;

    fn tour_args(_full: bool) -> StallArgs {
        let mut args: StallArgs = super::default_args();
        args.tour = true;
        args
    }

    fn run(args: &StallArgs, lab: &Lab) -> anyhow::Result<StallReportTable> {
        let stall_ms = lab.size(args.stall_ms, 50, 20);
        let stalls = lab.size(args.stalls, 5, 2);
        let setting = Setting {
            stall: Duration::from_millis(stall_ms),
            stalls,
            gap: Duration::from_millis(args.gap_ms),
        };
        if lab.runtimes.contains(&Rt::Turnstile) {
            record_page(setting.stall, &lab.out)?;
        }
        let rows = lab.sweep("stall", &Way::ALL, |runtime, &way| {
            Ok(match runtime {
                Rt::Turnstile => {
                    let mut builder = turnstile::Runtime::builder().probes(Level::Timing);
                    if way == Way::GreedyNoBudget {
                        builder = builder.budget(None);
                    }
                    let rt = Turnstile::from_builder(builder, Level::Timing);
                    let (ticks, lags, times) = heartbeat::<Turnstile>(&rt, way, setting);
                    let snap = rt.runtime().probes();
                    let reports = snap
                        .stalls
                        .iter()
                        .map(|r| StallSeen {
                            duration_ms: r.duration.as_secs_f64() * 1e3,
                            kind: format!("{:?}", r.kind),
                            tasks_waiting: r.tasks_waiting,
                            text: r.to_string(),
                        })
                        .collect();
                    let mut row = row(runtime, way, setting, (ticks, lags, times), Some(reports));
                    row.budget_yields = Some(snap.counters.budget_yields);
                    Some(row)
                }
                // Without a budget to turn off, (e) would repeat (d).
                _ if way == Way::GreedyNoBudget => None,
                Rt::Tokio => {
                    let rt = Tokio::new();
                    let (ticks, lags, times) = heartbeat::<Tokio>(&rt, way, setting);
                    Some(row(runtime, way, setting, (ticks, lags, times), None))
                }
                Rt::Smol => {
                    let rt = Smol::new();
                    let (ticks, lags, times) = heartbeat::<Smol>(&rt, way, setting);
                    Some(row(runtime, way, setting, (ticks, lags, times), None))
                }
            })
        })?;
        let rows = rows.into_iter().flatten().collect();
        // Python: in the tour, two stalls per way.
        let py_stalls = if args.tour { stalls.min(2) } else { stalls };
        let python = python::runs(
            &lab.python,
            format!(
                "{py_stalls} stalls of {stall_ms} ms per way, ways (a) to (c){}",
                if args.tour {
                    " (the tour's short form)"
                } else {
                    ""
                }
            ),
            |py, which| {
                py.run(
                    "stall",
                    which,
                    &python::knobs(&[
                        ("stall-ms", stall_ms.to_string()),
                        ("stalls", py_stalls.to_string()),
                        ("gap-ms", args.gap_ms.to_string()),
                    ]),
                )
            },
        );
        Ok(StallReportTable {
            stall_ms,
            stalls,
            rows,
            python,
        })
    }

}

#[derive(Clone, Copy, Debug)]
struct Setting {
    stall: Duration,
    stalls: u64,
    gap: Duration,
}

fn row(
    runtime: Rt,
    way: Way,
    s: Setting,
    (ticks, lags, times): (u64, Vec<u64>, Vec<u64>),
    reports: Option<Vec<StallSeen>>,
) -> StallRow {
    let timeline = timeline(&lags, &times);
    let bar = s.stall.saturating_sub(Duration::from_millis(1)).as_nanos() as u64;
    StallRow {
        runtime,
        way,
        stalls: s.stalls,
        ticks,
        late_ticks: lags.iter().filter(|&&l| l >= bar).count() as u64,
        lag: Latency::of(lags),
        reports,
        budget_yields: None,
        timeline,
    }
}

/// The longest lag per 2 ms bin of the run, in ms: `lags[i]` was measured at
/// `times[i]` (both ns).
fn timeline(lags: &[u64], times: &[u64]) -> Vec<[f64; 2]> {
    const BIN_NS: u64 = 2_000_000;
    let mut out: Vec<[f64; 2]> = Vec::new();
    let mut current: Option<(u64, u64)> = None;
    for (&lag, &at) in lags.iter().zip(times) {
        let bin = at / BIN_NS;
        match current {
            Some((b, ref mut max)) if b == bin => *max = (*max).max(lag),
            _ => {
                if let Some((b, max)) = current {
                    out.push(bin_point(b, max, BIN_NS));
                }
                current = Some((bin, lag));
            }
        }
    }
    if let Some((b, max)) = current {
        out.push(bin_point(b, max, BIN_NS));
    }
    out
}

fn bin_point(bin: u64, max_ns: u64, bin_ns: u64) -> [f64; 2] {
    let round = |v: f64| (v * 100.0).round() / 100.0;
    [round((bin * bin_ns) as f64 / 1e6), round(max_ns as f64 / 1e6)]
}

/// The heartbeat beside the staller; returns the ticks, each tick's lateness (ns) and
/// when it was measured (ns since the heartbeat began).
///
/// A stall that starts while the heartbeat sleeps holds its next wake-up, due at most
/// 1 ms after the stall began, until the stall ends: so each stall on the loop makes
/// one tick late by at least the stall minus 1 ms, and a busy machine only adds to it.
fn heartbeat<R: Runtime>(rt: &R, way: Way, s: Setting) -> (u64, Vec<u64>, Vec<u64>) {
    rt.block_on(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let beat_stop = stop.clone();
        let beat = R::spawn(async move {
            let period = Duration::from_millis(1);
            let mut lags = Vec::new();
            let mut times = Vec::new();
            let start = Instant::now();
            let mut due = start + period;
            while !beat_stop.load(Ordering::Acquire) {
                R::sleep_until(due).await;
                let now = Instant::now();
                lags.push(now.saturating_duration_since(due).as_nanos() as u64);
                times.push(now.duration_since(start).as_nanos() as u64);
                due = now + period;
            }
            (lags, times)
        });
        let staller = R::spawn(async move {
            // For the greedy reader: a connection another thread keeps full.
            let flood = if way == Way::GreedySocket {
                let (addr, writer) = flooder().expect("a loopback flooder");
                let stream = R::connect(addr).await.expect("connect to the flooder");
                Some((stream, writer))
            } else {
                None
            };
            let mut flood = flood;
            for _ in 0..s.stalls {
                R::sleep(s.gap).await;
                let stall = s.stall;
                match way {
                    Way::BlockingSleep => std::thread::sleep(stall),
                    Way::CpuLoop => spin(stall),
                    Way::SpawnBlocking => R::spawn_blocking(move || spin(stall)).await,
                    Way::Greedy | Way::GreedyNoBudget => {
                        let start = Instant::now();
                        while start.elapsed() < stall {
                            R::sleep(Duration::ZERO).await; // always ready
                            spin(GREEDY_WORK);
                        }
                    }
                    Way::GreedySocket => {
                        let (stream, _) = flood.as_mut().expect("the flooder's connection");
                        let mut buf = [0; 512];
                        let start = Instant::now();
                        while start.elapsed() < stall {
                            R::read(stream, &mut buf).await.expect("read"); // always data
                            spin(GREEDY_WORK);
                        }
                    }
                }
            }
            if let Some((stream, writer)) = flood {
                drop(stream); // the writer's next write fails, and it stops
                writer.join().expect("the flooder");
            }
            R::sleep(s.gap).await;
        });
        staller.await.expect("the staller");
        stop.store(true, Ordering::Release);
        let (lags, times) = beat.await.expect("the heartbeat");
        (lags.len() as u64, lags, times)
    })
}

/// The viewer's page of a stall, `stall.html` in `out`: a heartbeat task that sleeps
/// 1 ms at a time, and a blocking task that calls `std::thread::sleep(stall)` once
/// between two short sleeps, on one runtime recorded at `Level::Trace`. Stepping
/// through shows the stall turn (red on the timeline) and the heartbeat's timer that
/// came due during it and waited. Returns the page's path.
///
/// # Errors
/// If the runtime cannot be built or the page written.
pub fn record_page(stall: Duration, out: &Path) -> anyhow::Result<std::path::PathBuf> {
    let rt = turnstile::Runtime::builder()
        .probes(Level::Trace)
        .name("stall")
        .build()?;
    rt.block_on(async move {
        let stop = std::rc::Rc::new(std::cell::Cell::new(false));
        let beat_stop = stop.clone();
        let beat = turnstile::task::Builder::new()
            .name("heartbeat")
            .spawn(async move {
                while !beat_stop.get() {
                    turnstile::time::sleep(Duration::from_millis(1)).await;
                }
            });
        let blocker = turnstile::task::Builder::new()
            .name("blocker")
            .spawn(async move {
                turnstile::time::sleep(Duration::from_millis(3)).await;
                std::thread::sleep(stall); // blocks the loop: the stall
                turnstile::time::sleep(Duration::from_millis(3)).await;
            });
        blocker.await.expect("the blocker");
        stop.set(true);
        beat.await.expect("the heartbeat");
    });
    let path = out.join("stall.html");
    crate::view::write_recording_page(&rt.recording(), &path)?;
    Ok(path)
}

/// A loopback listener whose one connection another thread keeps full of data (it
/// writes until the peer closes): for the greedy reader, whose reads never wait.
fn flooder() -> std::io::Result<(std::net::SocketAddr, std::thread::JoinHandle<()>)> {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    let addr = listener.local_addr()?;
    let writer = std::thread::Builder::new()
        .name("stall-flooder".into())
        .spawn(move || {
            let Ok((mut peer, _)) = listener.accept() else {
                return;
            };
            let data = [0x5a; 64 * 1024];
            while peer.write_all(&data).is_ok() {}
        })?;
    Ok((addr, writer))
}

impl Report for StallReportTable {
    fn name(&self) -> &'static str {
        "stall"
    }

    fn title(&self) -> String {
        "stall: what one blocking call costs everyone else".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: a blocking call (`time.sleep(1)`) or a CPU loop (`sum(range(10**7))`) \
             inside a coroutine stalls the whole loop ({}, section 1.1; {}). Here: a heartbeat task wakes every 1 ms and records how \
             late it is, while another task makes {} stalls of {} ms each, five ways; the \
             last two, greedy tasks whose awaits are always ready (zero-length sleeps, \
             reads from a full socket), and the first of them again on turnstile without \
             its cooperative budget. turnstile runs with its probes at Level::Timing \
             (stall threshold 10 ms).",
            sources::BOTTLENECKS,
            sources::NOT_CONCURRENT,
            self.stalls,
            self.stall_ms
        )
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            format!(
                "The heartbeat's lateness; late ticks = ticks at least {} ms late.",
                self.stall_ms.saturating_sub(1)
            ),
            &[
                "runtime",
                "stall made by",
                "ticks",
                "late ticks",
                "lag p50",
                "lag p99",
                "lag max",
                "stall reports",
                "budget yields",
            ],
            2,
        );
        for r in &self.rows {
            s.row(vec![
                r.runtime.to_string(),
                r.way.label().into(),
                thousands(r.ticks),
                format!("{}/{}", r.late_ticks, r.stalls),
                micros(r.lag.p50_us),
                micros(r.lag.p99_us),
                micros(r.lag.max_us),
                r.reports
                    .as_ref()
                    .map_or_else(|| "-".into(), |v| thousands(v.len() as u64)),
                r.budget_yields.map_or_else(|| "-".into(), thousands),
            ]);
        }
        for run in &self.python.runs {
            for r in &run.figures.rows {
                s.row(vec![
                    run.python.to_string(),
                    r.way.python_label().into(),
                    thousands(r.ticks),
                    format!("{}/{}", r.late_ticks, r.stalls),
                    micros(r.lag.p50_us),
                    micros(r.lag.p99_us),
                    micros(r.lag.max_us),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
        vec![s]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for run in &self.python.runs {
            let lag = |way| {
                run.figures
                    .rows
                    .iter()
                    .find(|r| r.way == way)
                    .map_or_else(|| "-".into(), |r| micros(r.lag.max_us))
            };
            notes.push(format!(
                "{}: worst lag {} under time.sleep, {} under a CPU loop, {} with the CPU loop \
                 in run_in_executor (a thread of the same process: it still holds the GIL).",
                run.python,
                lag(Way::BlockingSleep),
                lag(Way::CpuLoop),
                lag(Way::SpawnBlocking)
            ));
        }
        notes.extend(self.python.notes());
        for r in &self.rows {
            if let Some(first) = r.reports.as_ref().and_then(|v| v.first()) {
                notes.push(format!(
                    "turnstile, {}: {} report(s), the first: {}.",
                    r.way.label(),
                    r.reports.as_ref().map_or(0, Vec::len),
                    first.text
                ));
            }
        }
        // Checked from the rows: a stall on the loop holds the heartbeat for (nearly)
        // the whole stall; offloaded work holds it for well under half of one.
        let stall_us = self.stall_ms as f64 * 1e3;
        let worst = |on_loop: bool| -> Vec<(Rt, f64)> {
            self.rows
                .iter()
                .filter(|r| {
                    if on_loop {
                        r.way.blocks_the_loop()
                    } else {
                        r.way == Way::SpawnBlocking
                    }
                })
                .map(|r| (r.runtime, r.lag.max_us))
                .collect()
        };
        let list = |rows: &[(Rt, f64)]| {
            rows.iter()
                .map(|(rt, us)| format!("{rt} {}", micros(*us)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let held = worst(true);
        if !held.is_empty() {
            let all = held.iter().all(|&(_, us)| us >= 0.9 * stall_us);
            notes.push(format!(
                "On the loop, a stall of {} ms {} the heartbeat for the whole stall (worst \
                 lag per run: {}): the loop has one thread, and the stalling task does not \
                 give it back.",
                self.stall_ms,
                if all { "held" } else { "did not always hold" },
                list(&held)
            ));
        }
        let offloaded = worst(false);
        if !offloaded.is_empty() {
            let kept = offloaded.iter().all(|&(_, us)| us < 0.5 * stall_us);
            notes.push(format!(
                "Through spawn_blocking the same work {} (worst lag: {}).",
                if kept {
                    "ran on another thread and the heartbeat kept time"
                } else {
                    "still made the heartbeat late on some runtime"
                },
                list(&offloaded)
            ));
        }
        let greedy = |way: Way| -> Vec<(Rt, f64)> {
            self.rows
                .iter()
                .filter(|r| r.way == way)
                .map(|r| (r.runtime, r.lag.max_us))
                .collect()
        };
        // By runtime: its ready sleeps, then its full socket.
        let mut with_budget = greedy(Way::Greedy);
        with_budget.extend(greedy(Way::GreedySocket));
        with_budget.sort_by_key(|&(rt, _)| rt as u8);
        if !with_budget.is_empty() {
            let (kept, held): (Vec<_>, Vec<_>) =
                with_budget.iter().partition(|&&(_, us)| us < 0.5 * stall_us);
            let names = |rows: &[(Rt, f64)]| {
                let mut names: Vec<String> = rows.iter().map(|(rt, _)| rt.to_string()).collect();
                names.dedup();
                names.join(", ")
            };
            notes.push(format!(
                "The greedy tasks never block, yet only a budget makes them let go: the \
                 heartbeat kept time on {} and was held on {} (worst lag, ready sleeps then \
                 full socket: {}). turnstile \
                 and tokio give each poll a budget of 128 operations on their own \
                 resources; smol has none. A zero-length sleep is ready at once, so unlike \
                 Python's `await asyncio.sleep(0)`, which always yields, it returns to the \
                 loop only when the budget says so.",
                if kept.is_empty() { "none".into() } else { names(&kept) },
                if held.is_empty() { "none".into() } else { names(&held) },
                list(&with_budget)
            ));
        }
        let no_budget = greedy(Way::GreedyNoBudget);
        if let (Some(&(_, us)), Some(yields)) = (
            no_budget.first(),
            self.rows
                .iter()
                .find(|r| r.way == Way::Greedy && r.runtime == Rt::Turnstile)
                .and_then(|r| r.budget_yields),
        ) {
            notes.push(format!(
                "On turnstile the budget made the greedy task yield {} times; with \
                 `budget(None)` the same task {} the heartbeat (worst lag {}).",
                thousands(yields),
                if us >= 0.9 * stall_us { "held" } else { "did not hold" },
                micros(us)
            ));
        }
        notes.push(
            "Only turnstile reports stalls: its reports say which task stalled, for how \
             long, and whether it was computing (on-CPU) or blocked (off-CPU)."
                .into(),
        );
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        // Each runtime once, in the order of the rows (which go way by way).
        let mut rts: Vec<Rt> = Vec::new();
        for r in &self.rows {
            if !rts.contains(&r.runtime) {
                rts.push(r.runtime);
            }
        }
        let panels = Way::ALL
            .iter()
            .filter(|&&w| self.rows.iter().any(|r| r.way == w))
            .map(|&w| Lines {
                title: w.label().to_string(),
                x_label: "time (ms)".into(),
                y_label: "lag (ms)".into(),
                x_log: false,
                y_log: false,
                series: rts
                    .iter()
                    .filter_map(|&rt| {
                        let row = self.rows.iter().find(|r| r.runtime == rt && r.way == w)?;
                        let points = row.timeline.iter().map(|p| (p[0], p[1])).collect();
                        Some(Series::line(rt.to_string(), rt, points))
                    })
                    .collect(),
                x_format: |x| format!("{x:.0}"),
                y_format: |y| format!("{y:.0}"),
            })
            .collect();
        plot::panels(
            path,
            &Panels {
                title: format!(
                    "stall: the heartbeat's lag over time, {} stalls of {} ms per way",
                    self.stalls, self.stall_ms
                ),
                panels,
                columns: 3,
            },
        )
    }
}
