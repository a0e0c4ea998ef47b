//! The book's recorded run (`docs/generated/`, written by `scripts/record-book.sh`)
//! against the lab's code: the pages the chapters include are exactly what this code
//! renders from the recorded `tour.json`, so a change to a report's shape fails here
//! until the book is recorded again; and the tour's default screen, rendered from the
//! same record, fits one screen.
//!
//! With `TURNSTILE_BOOK_RENDER=1` (what `scripts/record-book.sh` sets) the first two
//! tests write the pages and README's verdicts instead of comparing them.

use std::path::{Path, PathBuf};

use turnstile_lab::experiments::echo::Proto;
use turnstile_lab::experiments::stall::Way;
use turnstile_lab::experiments::{ExperimentReport, Lab, NAMES};
use turnstile_lab::load::{micros, rate};
use turnstile_lab::report::{bytes, duration_ns};
use turnstile_lab::runtimes::{Py, Rt};
use turnstile_lab::tour::{self, TourReport};

fn generated() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/generated")
}

/// Whether to write the pages rather than compare them.
fn rendering() -> bool {
    std::env::var_os("TURNSTILE_BOOK_RENDER").is_some_and(|v| v == "1")
}

/// The lab of a default tour, as the record ran it.
fn lab(tour: &TourReport) -> Lab {
    Lab {
        runtimes: Rt::ALL.to_vec(),
        python: Py::ALL.to_vec(),
        smoke: false,
        out: PathBuf::from("target/lab"),
        machine: tour.machine.clone(),
    }
}

const RECORD_AGAIN: &str = "run `bash scripts/record-book.sh` and commit docs/generated/";

fn recorded() -> TourReport {
    let path = generated().join("tour.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; {RECORD_AGAIN}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("the recorded tour.json no longer fits the lab's reports ({e}); {RECORD_AGAIN}")
    })
}

#[test]
fn the_generated_pages_are_what_the_lab_renders_from_the_record() {
    let tour = recorded();
    let names: Vec<&str> = tour
        .experiments
        .iter()
        .map(|e| e.as_report().name())
        .collect();
    assert_eq!(
        names, NAMES,
        "the record has every experiment; {RECORD_AGAIN}"
    );
    for (name, text) in tour::book_files(&tour) {
        let path = generated().join(&name);
        if rendering() {
            std::fs::write(&path, &text).expect("writing a generated page");
        }
        let committed = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {RECORD_AGAIN}", path.display()));
        assert!(
            committed == text,
            "{name} is not what the lab's code renders from the record; {RECORD_AGAIN}"
        );
    }
    // The plots, drawn again from the record by the lab's code: the same SVG.
    let dir = tempfile::tempdir().expect("a temporary directory");
    for e in &tour.experiments {
        let report = e.as_report();
        let name = report.name();
        let drawn = dir.path().join(format!("{name}.svg"));
        report.plot(&drawn).expect("drawing a plot");
        let drawn = std::fs::read_to_string(&drawn).expect("the drawn plot");
        let svg = generated().join(format!("{name}.svg"));
        if rendering() {
            std::fs::write(&svg, &drawn).expect("writing a plot");
        }
        let committed = std::fs::read_to_string(&svg)
            .unwrap_or_else(|e| panic!("{}: {e}; {RECORD_AGAIN}", svg.display()));
        assert!(
            committed == drawn,
            "{name}.svg is not what the lab's code draws from the record; {RECORD_AGAIN}"
        );
    }
    let screen = generated().join("screen.txt");
    let text = tour::screen(&tour, &lab(&tour));
    if rendering() {
        std::fs::write(&screen, &text).expect("writing screen.txt");
    }
    assert!(
        std::fs::read_to_string(&screen).is_ok_and(|s| s == text),
        "screen.txt is not the screen the lab renders from the record; {RECORD_AGAIN}"
    );
    assert!(
        generated().join("header.md").exists(),
        "header.md: missing; {RECORD_AGAIN}"
    );
}

#[test]
fn the_readme_quotes_the_recorded_verdicts() {
    let tour = recorded();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let mut readme = std::fs::read_to_string(&path).expect("README.md");
    let table = tour::verdict_table(&tour::verdicts(&tour), "```text\n", "```\n");
    if rendering() {
        let (begin, end) = (
            "<!-- BEGIN generated/verdicts.md -->\n",
            "<!-- END generated/verdicts.md -->",
        );
        let from = readme
            .find(begin)
            .expect("README.md has the verdicts' markers")
            + begin.len();
        let to = readme
            .find(end)
            .expect("README.md has the verdicts' end marker");
        readme.replace_range(from..to, &table);
        std::fs::write(&path, &readme).expect("writing README.md");
    }
    assert!(
        readme.contains(&table),
        "README.md's verdicts are not the record's; {RECORD_AGAIN}"
    );
}

#[test]
fn the_default_screen_fits_sixty_lines_of_a_hundred_columns() {
    let tour = recorded();
    let screen = tour::screen(&tour, &lab(&tour));
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines.len() <= tour::SCREEN_LINES,
        "{} lines:\n{screen}",
        lines.len()
    );
    for line in &lines {
        let width = line.chars().count();
        assert!(width <= tour::SCREEN_COLUMNS, "{width} columns: {line}");
    }
    assert!(
        screen.contains("[loop] end of turn 3"),
        "the narrated chain"
    );
    for v in tour::verdicts(&tour) {
        assert!(screen.contains(v.experiment), "{}'s verdict", v.experiment);
    }
    assert!(lines.last().unwrap().ends_with("target/lab/stall.html"));
    assert!(lines[lines.len() - 2].ends_with("target/lab/index.html"));
}

/// What each Rust runtime costs and gives, from the record: the page
/// `docs/choosing-a-runtime.md` includes (`generated/choosing.md`).
fn choosing(tour: &TourReport) -> String {
    let mut rows: Vec<(String, [String; 3])> = Vec::new();
    let cell =
        |f: &dyn Fn(Rt) -> Option<String>| Rt::ALL.map(|rt| f(rt).unwrap_or_else(|| "-".into()));
    for e in &tour.experiments {
        match e {
            ExperimentReport::YieldCost(r) => {
                for (op, what) in [
                    (
                        "yield",
                        "one `yield_now` (a poll that returns `Pending`, and the next)",
                    ),
                    ("ping-pong", "a wake from one task to another and back"),
                ] {
                    rows.push((
                        what.into(),
                        cell(&|rt| {
                            r.rows
                                .iter()
                                .find(|x| x.op == op && x.runtime == Some(rt))
                                .map(|x| duration_ns(x.ns))
                        }),
                    ));
                }
            }
            ExperimentReport::Memory(r) => {
                rows.push((
                    "an idle task: its future".into(),
                    cell(&|rt| {
                        r.idle
                            .iter()
                            .find(|x| x.runtime == rt)
                            .map(|x| bytes(x.future_bytes as f64))
                    }),
                ));
                rows.push((
                    "an idle task: heap, all told".into(),
                    cell(&|rt| {
                        r.idle
                            .iter()
                            .find(|x| x.runtime == rt)
                            .map(|x| bytes(x.heap_bytes as f64 / x.tasks.max(1) as f64))
                    }),
                ));
            }
            ExperimentReport::Echo(r) => {
                let most = r.most_tcp_clients();
                rows.push((
                    format!("TCP echo, {most} connections: p99 round trip"),
                    cell(&|rt| {
                        r.rows
                            .iter()
                            .find(|x| x.runtime == rt && x.proto == Proto::Tcp && x.clients == most)
                            .map(|x| micros(x.load.latency.p99_us))
                    }),
                ));
            }
            ExperimentReport::Http(r) => {
                rows.push((
                    format!("hyper's hello ({}): requests per second", r.generator),
                    cell(&|rt| {
                        r.rows
                            .iter()
                            .find(|x| x.runtime == rt)
                            .map(|x| rate(x.load.per_s))
                    }),
                ));
                rows.push((
                    "hyper's hello: the server's CPU per request".into(),
                    cell(&|rt| {
                        r.rows
                            .iter()
                            .find(|x| x.runtime == rt)
                            .map(|x| duration_ns(x.cost.server.cpu_ns_per(x.load.requests)))
                    }),
                ));
            }
            ExperimentReport::Stall(r) => {
                for (way, what) in [
                    (Way::BlockingSleep, "a blocking call in a task"),
                    (Way::Greedy, "a greedy task (awaits that are always ready)"),
                ] {
                    rows.push((
                        format!("{what}, {} ms: the others' longest wait", r.stall_ms),
                        cell(&|rt| {
                            r.rows
                                .iter()
                                .find(|x| x.runtime == rt && x.way == way)
                                .map(|x| micros(x.lag.max_us))
                        }),
                    ));
                }
                rows.push((
                    "stall reports (who blocked, where, for how long)".into(),
                    cell(&|rt| {
                        r.rows
                            .iter()
                            .find(|x| x.runtime == rt && x.way == Way::BlockingSleep)
                            .map(|x| match &x.reports {
                                Some(reports) => {
                                    format!("{} of {} stalls", reports.len(), x.stalls)
                                }
                                None => "none".into(),
                            })
                    }),
                ));
            }
            ExperimentReport::Chain(r) => {
                rows.push((
                    "what it counts for you".into(),
                    cell(&|rt| {
                        let c = r.rows.iter().find(|x| x.runtime == rt)?.counts;
                        let mut kept = Vec::new();
                        if c.turns.is_some() {
                            kept.push("turns");
                        }
                        if c.parks.is_some() {
                            kept.push("parks");
                        }
                        if c.runtime_polls.is_some() {
                            kept.push("polls");
                        }
                        Some(if kept.is_empty() {
                            "nothing".into()
                        } else {
                            kept.join(", ")
                        })
                    }),
                ));
            }
            _ => {}
        }
    }
    let mut out = String::from(
        "<!-- Generated by scripts/record-book.sh (lab/tests/book.rs); do not edit. -->\n",
    );
    out.push_str("| | turnstile | tokio | smol |\n|---|---:|---:|---:|\n");
    for (what, cells) in rows {
        out.push_str(&format!(
            "| {what} | {} | {} | {} |\n",
            cells[0], cells[1], cells[2]
        ));
    }
    if out.contains("| - |") {
        out.push_str("\n(-: not measured on that runtime in this run)\n");
    }
    out
}

#[test]
fn the_choosing_page_is_the_records() {
    let tour = recorded();
    let text = choosing(&tour);
    let path = generated().join("choosing.md");
    if rendering() {
        std::fs::write(&path, &text).expect("writing choosing.md");
    }
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; {RECORD_AGAIN}", path.display()));
    assert!(
        committed == text,
        "choosing.md is not the record's; {RECORD_AGAIN}"
    );
}

#[test]
fn the_examples_output_is_recorded() {
    // Written by scripts/record-book.sh from the examples' own runs.
    for (name, must) in [
        ("probes-await-chain.txt", "turnstile probes at level"),
        ("stall-example.txt", "stall(s):"),
        ("inspector-capture.txt", "loop: polling task"),
    ] {
        let path = generated().join(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; {RECORD_AGAIN}", path.display()));
        assert!(text.contains(must), "{name} lacks {must:?}; {RECORD_AGAIN}");
    }
}
