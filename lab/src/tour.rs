//! The tour: every experiment in its short form, one after the other. By default it
//! shows one screen, the narrated chain and a verdict per claim ([`screen`]); with
//! `--verbose`, every table as each experiment ends. Either way it writes the files
//! that hold everything: `tour.json` ([`TourReport`]), `summary.md`, `index.html`
//! ([`index_html`]), and the book's generated pages under `book/` ([`book_files`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::experiments::{self, ExperimentReport, Lab};
use crate::machine::Machine;
use crate::report::{self, duration_ns, to_markdown};
use crate::runtimes::{Py, Rt};

/// The widest line the default screen may print.
pub const SCREEN_COLUMNS: usize = 100;
/// The most lines the default screen may print.
pub const SCREEN_LINES: usize = 60;

/// Every experiment in its short form, then the files. `verbose` prints every table.
pub fn run(full: bool, verbose: bool, lab: &Lab) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut head = header(lab);
    print!("{head}");
    let mut each = |report: &ExperimentReport, files: &[PathBuf], took| {
        let r = report.as_report();
        if verbose {
            print!("{}", report::to_terminal(r));
            println!("{}", report::wrote(r.name(), took, files));
        } else if !r.preface().is_empty() {
            let text = narration(r);
            print!("{text}");
            head.push_str(&text);
        }
    };
    let experiments = experiments::tour(full, lab, &mut each)?;
    let tour = TourReport {
        machine: lab.machine.clone(),
        command: std::env::args().collect::<Vec<_>>().join(" "),
        seconds: start.elapsed().as_secs_f64(),
        experiments,
    };
    write(&lab.out, "tour.json", &serde_json::to_string_pretty(&tour)?)?;
    write(&lab.out, "summary.md", &tour.markdown())?;
    let index = write(&lab.out, "index.html", &index_html(&tour, &lab.out))?;
    for (name, text) in book_files(&tour) {
        write(&lab.out.join("book"), &name, &text)?;
    }
    let viewer = lab.runtimes.contains(&Rt::Turnstile);
    print!("{}", verdict_screen(&tour, &lab.out, &index, viewer));
    Ok(())
}

/// The first lines: what runs where.
fn header(lab: &Lab) -> String {
    let text = format!(
        "turnstile-lab tour: every experiment on {} ({})\nmachine: {}",
        lab.runtimes
            .iter()
            .map(|r| r.name())
            .chain(lab.python.iter().map(|p| p.name()))
            .collect::<Vec<_>>()
            .join(", "),
        if lab.smoke {
            "smoke sizes"
        } else {
            "short forms"
        },
        lab.machine
    );
    let mut out = String::new();
    for line in text.lines() {
        wrap(&mut out, line, SCREEN_COLUMNS);
    }
    out.push('\n');
    out
}

/// An experiment's narrated trace (the chain's turns), headed by its title: its first
/// block only (the chain over a sleep), lines wrapped to [`SCREEN_COLUMNS`].
fn narration(report: &dyn report::Report) -> String {
    let mut out = format!("{}\n", report.title());
    let preface = report.preface();
    let first: Vec<&String> = preface
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .collect();
    for line in &first {
        wrap(&mut out, line, SCREEN_COLUMNS);
    }
    if first.len() < preface.len() {
        let _ = writeln!(out, "(the rest of the narration: --verbose, or summary.md)");
    }
    out.push('\n');
    out
}

/// Appends `line` to `out`, broken at spaces into lines of at most `width` characters;
/// continuation lines are indented under the first.
fn wrap(out: &mut String, line: &str, width: usize) {
    if line.chars().count() <= width {
        let _ = writeln!(out, "{line}");
        return;
    }
    let lead = line.len() - line.trim_start().len();
    let mut current = line[..lead].to_string();
    let mut empty = true;
    for word in line.trim_start().split(' ') {
        if !empty && current.chars().count() + 1 + word.chars().count() > width {
            let _ = writeln!(out, "{current}");
            current = " ".repeat(lead + 4);
            empty = true;
        }
        if !empty {
            current.push(' ');
        }
        current.push_str(word);
        empty = false;
    }
    let _ = writeln!(out, "{current}");
}

/// The whole default screen for a finished tour: the header, the narration, the
/// verdicts and where the details went. [`run`] prints the same text in two pieces
/// (the narration as soon as the chain is done).
pub fn screen(tour: &TourReport, lab: &Lab) -> String {
    let mut out = header(lab);
    for e in &tour.experiments {
        let r = e.as_report();
        if !r.preface().is_empty() {
            out.push_str(&narration(r));
        }
    }
    let viewer = lab.runtimes.contains(&Rt::Turnstile);
    out.push_str(&verdict_screen(
        tour,
        &lab.out,
        &lab.out.join("index.html"),
        viewer,
    ));
    out
}

/// The verdict table, then where every table and plot went: the HTML report, and on
/// the last line the viewer's pages (when the tour wrote them).
fn verdict_screen(tour: &TourReport, out: &Path, index: &Path, viewer: bool) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Verdicts: does each article's claim hold on this machine? (tour took {:.0} s)",
        tour.seconds
    );
    text.push_str(&verdict_table(&verdicts(tour), "", ""));
    let _ = writeln!(text, "{}", report::DASH);
    let footer = [
        format!(
            "Every table: {} (or --verbose); every figure: tour.json beside it.",
            out.join("summary.md").display()
        ),
        format!("Every table and plot, in a browser: {}", index.display()),
    ];
    let footer: Vec<String> = footer.into_iter().chain(viewer_line(out, viewer)).collect();
    for line in footer {
        wrap(&mut text, &line, SCREEN_COLUMNS);
    }
    text
}

/// The viewer's pages the tour wrote into `out` (the chain's and the stall's), if any.
const VIEWER_PAGES: [(&str, &str); 2] = [
    ("chain.html", "the 5-deep await chain, turn by turn"),
    ("stall.html", "a blocking task stalling the others"),
];

/// The footer's last line: where the viewer's pages are, when the tour wrote them
/// (`viewer`: turnstile was among its runtimes).
fn viewer_line(out: &Path, viewer: bool) -> Option<String> {
    let pages: Vec<String> = VIEWER_PAGES
        .iter()
        .map(|(p, _)| out.join(p).display().to_string())
        .collect();
    viewer.then(|| format!("Step through the loop: {}", pages.join(", ")))
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Everything a tour measured: `tour.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TourReport {
    /// Where it ran.
    pub machine: Machine,
    /// The command line that ran it.
    pub command: String,
    /// How long the tour took, in seconds.
    pub seconds: f64,
    /// Each experiment's report, in the order they ran.
    pub experiments: Vec<ExperimentReport>,
}

impl TourReport {
    /// The markdown summary: `summary.md`.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# turnstile-lab tour\n");
        let _ = writeln!(
            out,
            "Machine: {}.  \nCommand: `{}`.  \nThe tour took {:.1} s.\n",
            self.machine, self.command, self.seconds
        );
        let _ = writeln!(out, "{}", method());
        out.push_str(&verdict_table(&verdicts(self), "```text\n", "```\n"));
        out.push('\n');
        for experiment in &self.experiments {
            let report = experiment.as_report();
            let svg = format!("{}.svg", report.name());
            out.push_str(&to_markdown(report, Some(&svg)));
            out.push('\n');
        }
        out
    }
}

/// How every experiment runs, in one paragraph.
fn method() -> &'static str {
    "Each experiment runs the same workload code on turnstile (probes at \
     `Level::Counters` unless a report says otherwise), on tokio's current-thread runtime \
     and on smol (async-executor's `LocalExecutor` over async-io); the experiments that \
     test a claim about Python run it too, in `lab/python/`, on asyncio's loop and on \
     uvloop, at the smaller sizes each report states. Times are medians where samples \
     were repeated; the machine is shared, so read ratios within one run rather than \
     absolute figures.\n"
}

/// Whether an article's claim held in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Holds {
    /// It held on every runtime it was tested on.
    Yes,
    /// It held on some and not on others.
    Partly,
    /// It did not hold.
    No,
    /// The runtime the claim is about did not run (no Python, say).
    NotRun,
    /// The experiment measures; it tests no article's claim.
    Measured,
}

impl Holds {
    /// The word in the verdict table.
    pub fn word(self) -> &'static str {
        match self {
            Holds::Yes => "holds",
            Holds::Partly => "partly",
            Holds::No => "does not hold",
            Holds::NotRun => "not run",
            Holds::Measured => "no claim",
        }
    }

    fn of(all: &[bool]) -> Holds {
        if all.is_empty() {
            Holds::NotRun
        } else if all.iter().all(|&b| b) {
            Holds::Yes
        } else if all.iter().any(|&b| b) {
            Holds::Partly
        } else {
            Holds::No
        }
    }
}

/// The columns of the verdict table, in order: the Rust runtimes, then Python's loops.
pub const COLUMNS: [&str; 5] = ["turnstile", "tokio", "smol", "asyncio", "uvloop"];

/// One headline figure per runtime (`None`: not measured there, shown as `-`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headline {
    /// What the figure is, in a few words.
    pub what: String,
    /// One cell per [`COLUMNS`] entry.
    pub figures: [Option<String>; 5],
}

impl Headline {
    fn new(what: impl Into<String>) -> Headline {
        Headline {
            what: what.into(),
            figures: Default::default(),
        }
    }

    fn rt(&mut self, rt: Rt, figure: String) {
        let i = match rt {
            Rt::Turnstile => 0,
            Rt::Tokio => 1,
            Rt::Smol => 2,
        };
        self.figures[i] = Some(figure);
    }

    fn py(&mut self, py: Py, figure: String) {
        let i = match py {
            Py::Asyncio => 3,
            Py::Uvloop => 4,
        };
        self.figures[i] = Some(figure);
    }
}

/// One claim's verdict: the experiment, the claim in a few words, whether it held,
/// and its headline figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// The experiment's name.
    pub experiment: &'static str,
    /// The claim, shortened (the report states it in full, with the article's title).
    pub claim: String,
    /// Whether it held.
    pub holds: Holds,
    /// The figures behind the verdict, one line each.
    pub headlines: Vec<Headline>,
}

/// The verdict of every experiment in the tour, computed from its rows.
pub fn verdicts(tour: &TourReport) -> Vec<Verdict> {
    tour.experiments.iter().map(verdict).collect()
}

fn us(us: f64) -> String {
    duration_ns(us * 1e3)
}

fn verdict(e: &ExperimentReport) -> Verdict {
    use experiments::chain::{Leaf, Shape};
    use experiments::ExperimentReport as E;
    let name = e.as_report().name();
    let (claim, holds, headlines): (&str, Holds, Vec<Headline>) = match e {
        E::Chain(r) => {
            let depth = r
                .depths
                .iter()
                .copied()
                .find(|&d| d == 5)
                .or(r.depths.last().copied());
            let mut h = Headline::new(format!("{}-deep ready chain, per call", depth.unwrap_or(0)));
            let mut ok = Vec::new();
            for rt in Rt::ALL {
                let rows: Vec<_> = r.rows.iter().filter(|x| x.runtime == rt).collect();
                if rows.is_empty() {
                    continue;
                }
                let sleep: Vec<_> = rows.iter().filter(|x| x.leaf == Leaf::Sleep).collect();
                let same = sleep.windows(2).all(|w| {
                    (w[0].counts.polls, w[0].counts.yields)
                        == (w[1].counts.polls, w[1].counts.yields)
                });
                let ready_yields: u64 = rows
                    .iter()
                    .filter(|x| x.leaf == Leaf::Ready)
                    .map(|x| x.counts.yields)
                    .sum();
                ok.push(same && ready_yields == 0);
                if let Some(x) = rows.iter().find(|x| {
                    x.leaf == Leaf::Ready && x.shape == Shape::Nested && Some(x.depth) == depth
                }) {
                    h.rt(rt, duration_ns(x.ns_per_call));
                }
            }
            for run in &r.python.runs {
                let counts: Vec<_> = run
                    .figures
                    .rows
                    .iter()
                    .filter(|x| x.leaf == Leaf::Sleep)
                    .map(|x| x.run_once)
                    .collect();
                if counts.iter().all(Option::is_some) {
                    ok.push(counts.windows(2).all(|w| w[0] == w[1]));
                }
                if let Some(x) = run
                    .figures
                    .rows
                    .iter()
                    .find(|x| x.leaf == Leaf::Ready && Some(x.depth) == depth)
                {
                    h.py(run.python, duration_ns(x.ns_per_call));
                }
            }
            ("only a real wait enters the loop", Holds::of(&ok), vec![h])
        }
        E::YieldCost(r) => {
            let mut y = Headline::new("one yield_now");
            let mut s = Headline::new("task-to-task switch");
            for row in &r.rows {
                match (row.runtime, row.op.as_str()) {
                    (Some(rt), "yield") => y.rt(rt, duration_ns(row.ns)),
                    (Some(rt), "ping-pong") => s.rt(rt, duration_ns(row.ns)),
                    _ => {}
                }
            }
            let mut ok = Vec::new();
            for run in &r.python.runs {
                for row in &run.figures.rows {
                    match row.op.as_str() {
                        "yield" => y.py(run.python, duration_ns(row.ns)),
                        "ping-pong" => {
                            s.py(run.python, duration_ns(row.ns));
                            if run.python == Py::Asyncio {
                                ok.push((800.0..=1_200.0).contains(&row.ns));
                            }
                        }
                        _ => {}
                    }
                }
            }
            (
                "asyncio: a switch is 800-1,200 ns",
                Holds::of(&ok),
                vec![y, s],
            )
        }
        E::Gather(r) => {
            use experiments::gather::Shape as G;
            let most = r.rows.iter().map(|x| x.tasks).max().unwrap_or(0);
            let mut h = Headline::new(format!("overhead, {} at once", report::thousands(most)));
            let mut ok = Vec::new();
            for x in &r.rows {
                if x.shape != G::AllAtOnce {
                    continue;
                }
                if x.tasks == most {
                    h.rt(x.runtime, format!("{:.3} s", x.overhead_s));
                }
                if let Some(b) = r.rows.iter().find(|b| {
                    b.runtime == x.runtime && b.tasks == x.tasks && matches!(b.shape, G::Batches(_))
                }) {
                    ok.push(x.wall_s < b.wall_s);
                }
            }
            for run in &r.python.runs {
                for x in run.figures.iter().filter(|x| x.shape == "all-at-once") {
                    if x.tasks == run.figures.iter().map(|x| x.tasks).max().unwrap_or(0) {
                        h.py(run.python, format!("{:.3} s", x.wall_s - x.ideal_s));
                    }
                    if let Some(b) = run
                        .figures
                        .iter()
                        .find(|b| b.tasks == x.tasks && b.shape != "all-at-once")
                    {
                        ok.push(x.wall_s < b.wall_s);
                    }
                }
            }
            ("all at once beats batches", Holds::of(&ok), vec![h])
        }
        E::Memory(r) => {
            let mut h = Headline::new("heap per idle task");
            for x in &r.idle {
                h.rt(
                    x.runtime,
                    report::bytes(x.heap_bytes as f64 / x.tasks.max(1) as f64),
                );
            }
            let mut ok = Vec::new();
            for run in &r.python.runs {
                let m = &run.figures;
                h.py(run.python, report::bytes(m.task_bytes + m.coroutine_bytes));
                if run.python == Py::Asyncio {
                    ok.push(
                        (200.0..=300.0).contains(&m.coroutine_bytes)
                            && (400.0..=500.0).contains(&m.task_bytes),
                    );
                }
            }
            (
                "asyncio: coroutine 200-300 B, Future 400-500",
                Holds::of(&ok),
                vec![h],
            )
        }
        E::Echo(r) => {
            use experiments::echo::Proto;
            let most = r.most_tcp_clients();
            let mut h = Headline::new(format!("server CPU per TCP trip, {most} conns"));
            for x in r
                .rows
                .iter()
                .filter(|x| x.proto == Proto::Tcp && x.clients == most)
            {
                h.rt(
                    x.runtime,
                    duration_ns(x.cost.server.cpu_ns_per(x.load.messages)),
                );
            }
            let mut rate = |py: Py| {
                let run = r.python.get(py)?;
                let x = run
                    .iter()
                    .filter(|x| x.proto == Proto::Tcp)
                    .max_by_key(|x| x.clients)?;
                h.py(py, duration_ns(x.cost.server.cpu_ns_per(x.load.messages)));
                Some((x.clients, x.per_s))
            };
            let (a, u) = (rate(Py::Asyncio), rate(Py::Uvloop));
            let ok: Vec<bool> = match (a, u) {
                (Some((ca, a)), Some((cu, u))) if ca == cu => vec![u / a.max(1e-9) >= 2.5],
                _ => Vec::new(),
            };
            ("uvloop serves 3x asyncio (TCP)", Holds::of(&ok), vec![h])
        }
        E::Limit(r) => {
            use experiments::limit::Style;
            let most = r.rows.iter().map(|x| x.concurrency).max().unwrap_or(0);
            let mut h = Headline::new(format!("failed, plain, {most} at once"));
            let mut ok = Vec::new();
            for x in r.rows.iter().filter(|x| x.concurrency == most) {
                let failed = x.refused + x.timeouts + x.other_errors;
                if x.style == Style::Plain {
                    h.rt(x.runtime, report::thousands(failed));
                    ok.push(failed > 0);
                }
            }
            ("past 1,000 at once, calls fail", Holds::of(&ok), vec![h])
        }
        E::CpuShare(r) => {
            use experiments::cpu_share::Burst;
            let mut h = Headline::new("inline: p99 passes 2x its low at");
            let mut ok = Vec::new();
            // As the report's notes: the first share whose p99 is over twice the p99
            // at the lowest share (rows sorted by share).
            let take_off = |rows: Vec<(u64, f64)>| {
                let low = rows.first()?.1;
                rows.iter().find(|x| x.1 > 2.0 * low).map(|x| x.0)
            };
            for rt in Rt::ALL {
                let mut rows: Vec<(u64, f64)> = r
                    .rows
                    .iter()
                    .filter(|x| x.runtime == rt && x.burst == Burst::Inline)
                    .map(|x| (x.share_pct, x.latency.p99_us))
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                rows.sort_by_key(|x| x.0);
                let at = take_off(rows);
                ok.push(at.is_some_and(|s| s <= 30));
                h.rt(rt, at.map_or_else(|| "never".into(), |s| format!("{s} %")));
            }
            for run in &r.python.runs {
                let mut rows: Vec<(u64, f64)> = run
                    .figures
                    .iter()
                    .filter(|x| x.burst == Burst::Inline)
                    .map(|x| (x.share_pct, x.latency.p99_us))
                    .collect();
                rows.sort_by_key(|x| x.0);
                let at = take_off(rows);
                ok.push(at.is_some_and(|s| s <= 30));
                h.py(
                    run.python,
                    at.map_or_else(|| "never".into(), |s| format!("{s} %")),
                );
            }
            ("the tail takes off past 20 % CPU", Holds::of(&ok), vec![h])
        }
        E::Http(r) => {
            let mut h = Headline::new("server CPU per request");
            for x in &r.rows {
                h.rt(
                    x.runtime,
                    duration_ns(x.cost.server.cpu_ns_per(x.load.requests)),
                );
            }
            (
                "hyper's hello world, what it costs",
                Holds::Measured,
                vec![h],
            )
        }
        E::Stall(r) => {
            use experiments::stall::Way;
            let mut block = Headline::new("max lag: thread::sleep in a task");
            let mut off = Headline::new("max lag: the same, offloaded");
            let mut ok = Vec::new();
            let stall_us = r.stall_ms as f64 * 1e3;
            for x in &r.rows {
                match x.way {
                    Way::BlockingSleep => {
                        block.rt(x.runtime, us(x.lag.max_us));
                        ok.push(x.lag.max_us >= 0.5 * stall_us);
                    }
                    Way::CpuLoop => ok.push(x.lag.max_us >= 0.5 * stall_us),
                    Way::SpawnBlocking => off.rt(x.runtime, us(x.lag.max_us)),
                    _ => {}
                }
            }
            for run in &r.python.runs {
                for x in &run.figures.rows {
                    match x.way {
                        Way::BlockingSleep => {
                            block.py(run.python, us(x.lag.max_us));
                            ok.push(x.lag.max_us >= 0.5 * stall_us);
                        }
                        Way::CpuLoop => ok.push(x.lag.max_us >= 0.5 * stall_us),
                        Way::SpawnBlocking => off.py(run.python, us(x.lag.max_us)),
                        _ => {}
                    }
                }
            }
            (
                "a blocking call stalls the whole loop",
                Holds::of(&ok),
                vec![block, off],
            )
        }
        E::Neighbours(r) => {
            let most = r.rows.iter().map(|x| x.heavy).max().unwrap_or(0);
            let mut h = Headline::new(format!("quiet client's p99, {most} busy"));
            for x in r.rows.iter().filter(|x| x.heavy == most) {
                h.rt(x.runtime, us(x.light.p99_us));
            }
            ("the quiet connection's share", Holds::Measured, vec![h])
        }
    };
    Verdict {
        experiment: name,
        claim: claim.into(),
        holds,
        headlines,
    }
}

/// The verdicts as fixed-width text (at most [`SCREEN_COLUMNS`] wide), between `open`
/// and `close` (a markdown code fence, or nothing on the terminal).
pub fn verdict_table(verdicts: &[Verdict], open: &str, close: &str) -> String {
    const WHAT: usize = 36;
    const CELL: usize = 10;
    let mut out = String::from(open);
    let _ = write!(out, "{:WHAT$}", "");
    for c in COLUMNS {
        let _ = write!(out, " {c:>CELL$}");
    }
    out.push('\n');
    for v in verdicts {
        let _ = writeln!(
            out,
            "{}: {}: {}",
            v.experiment,
            v.claim,
            v.holds.word().to_uppercase()
        );
        for h in &v.headlines {
            let what: String = h.what.chars().take(WHAT - 2).collect();
            let _ = write!(out, "  {what:w$}", w = WHAT - 2);
            for f in &h.figures {
                let _ = write!(out, " {:>CELL$}", f.as_deref().unwrap_or("-"));
            }
            out.push('\n');
        }
    }
    out.push_str(close);
    out
}

/// `index.html`: every table and every plot of the tour, the verdicts, and links to any
/// other HTML pages in `out` (the viewer's, say).
pub fn index_html(tour: &TourReport, out: &Path) -> String {
    let mut pages: Vec<String> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".html") && n != "index.html")
        .collect();
    pages.sort();
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>turnstile-lab tour</title>\n<style>\n\
         body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; }\n\
         table { border-collapse: collapse; margin: 1em 0; }\n\
         caption { text-align: left; font-style: italic; padding: 0.3em 0; }\n\
         td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n\
         td.n { text-align: right; font-variant-numeric: tabular-nums; }\n\
         img { max-width: 100%; }\n</style>\n</head>\n<body>\n",
    );
    let _ = writeln!(
        html,
        "<h1>turnstile-lab tour</h1>\n<p>Machine: {}. Command: <code>{}</code>. \
         The tour took {:.1} s.</p>\n<p>{}</p>",
        report::html_escape(&tour.machine.to_string()),
        report::html_escape(&tour.command),
        tour.seconds,
        report::html_escape(method())
    );
    let _ = writeln!(
        html,
        "<h2>Verdicts</h2>\n<pre>{}</pre>",
        report::html_escape(&verdict_table(&verdicts(tour), "", ""))
    );
    let viewer: Vec<(&str, &str)> = VIEWER_PAGES
        .iter()
        .copied()
        .filter(|(p, _)| pages.iter().any(|q| q == p))
        .collect();
    pages.retain(|p| !viewer.iter().any(|(v, _)| v == p));
    if !viewer.is_empty() {
        html.push_str(
            "<h2>Step through the loop</h2>\n<p>Recordings of the tour's programs, \
             stepped through turn by turn in the loop viewer:</p>\n<ul>\n",
        );
        for (p, what) in viewer {
            let _ = writeln!(html, "<li><a href=\"{p}\">{p}</a>: {what}</li>");
        }
        html.push_str("</ul>\n");
    }
    if !pages.is_empty() {
        html.push_str("<h2>Other pages</h2>\n<ul>\n");
        for p in &pages {
            let p = report::html_escape(p);
            let _ = writeln!(html, "<li><a href=\"{p}\">{p}</a></li>");
        }
        html.push_str("</ul>\n");
    }
    html.push_str("<ul>\n");
    for e in &tour.experiments {
        let r = e.as_report();
        let _ = writeln!(
            html,
            "<li><a href=\"#{}\">{}</a></li>",
            r.name(),
            report::html_escape(&r.title())
        );
    }
    html.push_str("</ul>\n");
    for e in &tour.experiments {
        let r = e.as_report();
        html.push_str(&report::to_html(r, Some(&format!("{}.svg", r.name()))));
    }
    html.push_str("</body>\n</html>\n");
    html
}

/// The book's generated markdown: per experiment, `<name>.md` with its parts between
/// mdBook anchors (`question`, `preface`, `tables`, `notes`, `plot`), so that a chapter
/// includes `{{#include generated/<name>.md:tables}}`; and `verdicts.md`. The plots
/// are referred to as `generated/<name>.svg`, as a chapter in `docs/` sees them.
pub fn book_files(tour: &TourReport) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for e in &tour.experiments {
        let r = e.as_report();
        let name = r.name();
        let mut text = String::from(
            "<!-- Generated by scripts/record-book.sh from the lab's tour; do not edit. -->\n\n",
        );
        for (anchor, part) in report::markdown_parts(r, Some(&format!("generated/{name}.svg"))) {
            let _ = write!(
                text,
                "<!-- ANCHOR: {anchor} -->\n{part}<!-- ANCHOR_END: {anchor} -->\n\n"
            );
        }
        files.push((format!("{name}.md"), text));
    }
    files.push((
        "verdicts.md".into(),
        format!(
            "<!-- Generated by scripts/record-book.sh from the lab's tour; do not edit. -->\n\n{}",
            verdict_table(&verdicts(tour), "```text\n", "```\n")
        ),
    ));
    files
}
