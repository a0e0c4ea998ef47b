//! The Python side of the lab (`lab/python/*.py`) at `--smoke` size, run through the
//! real binary with `--runtime python`: every script runs on asyncio and on uvloop, its
//! JSON parses into the type the lab reads, and the counts that Python makes exact are
//! exact. These tests need python3 with venv (scripts/install-test-deps.sh installs
//! python3-venv) and PyPI for uvloop; without them they fail and say why.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::de::DeserializeOwned;
use turnstile_lab::experiments::chain::{ChainReport, Leaf};
use turnstile_lab::experiments::cpu_share::{Burst, CpuShareReport};
use turnstile_lab::experiments::echo::{EchoReport, Proto};
use turnstile_lab::experiments::gather::GatherReport;
use turnstile_lab::experiments::memory::MemoryReport;
use turnstile_lab::experiments::stall::{StallReportTable, Way};
use turnstile_lab::experiments::yield_cost::YieldCostReport;
use turnstile_lab::python::{Py, PyRuns};

/// Runs `turnstile-lab <args> --runtime python --smoke --out DIR`, insists on success,
/// and returns the report `<experiment>.json`.
fn run_python<T: DeserializeOwned>(experiment: &str, args: &[&str]) -> T {
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("lab-python")
        .join(experiment);
    let _ = std::fs::remove_dir_all(&dir);
    let mut all = vec![experiment];
    all.extend(args);
    all.extend(["--runtime", "python", "--smoke", "--out"]);
    all.push(dir.to_str().expect("a UTF-8 path"));
    let out = Command::new(env!("CARGO_BIN_EXE_turnstile-lab"))
        .args(&all)
        .output()
        .expect("the lab binary runs");
    assert!(
        out.status.success(),
        "turnstile-lab {all:?} failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.join(format!("{experiment}.json"));
    let text = std::fs::read_to_string(&file).expect("the report file exists");
    serde_json::from_str(&text).expect("the report parses into its type")
}

/// Both loops ran; a missing python3, venv or uvloop fails here, loudly.
fn both_loops<T>(what: &str, runs: &PyRuns<T>) {
    assert!(
        runs.missing.is_empty(),
        "{what}: the Python runs are missing: {:?} (install python3-venv with \
         scripts/install-test-deps.sh; uvloop comes from PyPI)",
        runs.missing
    );
    let loops: Vec<Py> = runs.runs.iter().map(|r| r.python).collect();
    assert_eq!(loops, Py::ALL, "{what}");
}

#[test]
fn chain_enters_the_loop_only_at_the_leaf_in_asyncio() {
    let report: ChainReport = run_python("chain", &["--depths", "1,5,50"]);
    assert!(
        report.rows.is_empty(),
        "--runtime python runs no Rust runtime"
    );
    both_loops("chain", &report.python);
    for run in &report.python.runs {
        assert_eq!(run.figures.rows.len(), 2 * 3, "{}", run.python);
        for r in &run.figures.rows {
            let what = format!("{} {:?} depth {}", run.python, r.leaf, r.depth);
            assert!(r.ns_per_call > 0.0, "{what}");
            // asyncio's loop, counted: a call over a sleep is 4 iterations of _run_once
            // at every depth (the task's first step, the timer, the wake-up, the stop),
            // over a ready coroutine 2 (the step, the stop). uvloop has none to count.
            let expected = match (run.python, r.leaf) {
                (Py::Asyncio, Leaf::Sleep) => Some(4),
                (Py::Asyncio, Leaf::Ready) => Some(2),
                (Py::Uvloop, _) => None,
            };
            assert_eq!(r.run_once, expected, "{what}");
        }
    }
}

#[test]
fn yield_cost_times_every_operation_in_python() {
    let report: YieldCostReport = run_python("yield-cost", &[]);
    both_loops("yield-cost", &report.python);
    for run in &report.python.runs {
        let ops: Vec<&str> = run.figures.rows.iter().map(|r| r.op.as_str()).collect();
        assert_eq!(
            ops,
            [
                "call",
                "await-ready",
                "chain-5",
                "yield",
                "ping-pong",
                "threads"
            ],
            "{}",
            run.python
        );
        for r in &run.figures.rows {
            assert_eq!(r.samples_ns.len(), 1, "{} {}", run.python, r.op);
            assert!(r.ns > 0.0, "{} {}", run.python, r.op);
        }
    }
}

#[test]
fn gather_runs_each_shape_in_its_own_python_process() {
    let report: GatherReport = run_python("gather", &[]);
    both_loops("gather", &report.python);
    for run in &report.python.runs {
        let shapes: Vec<(u64, &str)> = run
            .figures
            .iter()
            .map(|r| (r.tasks, r.shape.as_str()))
            .collect();
        assert_eq!(
            shapes,
            [(200, "all-at-once"), (200, "batched")],
            "{}",
            run.python
        );
        for r in &run.figures {
            // 3 sleeps of 10 ms: one wave at once, five in batches.
            let waves = if r.shape == "batched" { 5.0 } else { 1.0 };
            assert!((r.ideal_s - waves * 0.03).abs() < 1e-9, "{r:?}");
            assert!(r.wall_s >= r.ideal_s, "{r:?}");
            assert!(
                r.peak_rss_kib >= r.rss_before_kib && r.rss_before_kib > 0,
                "{r:?}"
            );
        }
    }
}

#[test]
fn memory_measures_python_tasks_and_coroutines() {
    let report: MemoryReport = run_python("memory", &["--tasks", "2000"]);
    assert!(report.idle.is_empty());
    both_loops("memory", &report.python);
    for run in &report.python.runs {
        let m = &run.figures;
        assert_eq!(m.tasks, 2000);
        assert!(m.coroutine_bytes > 0.0, "{m:?}");
        assert!(
            m.task_bytes > m.coroutine_bytes,
            "a task holds its coroutine: {m:?}"
        );
    }
}

#[test]
fn stall_in_python_holds_the_heartbeat() {
    let report: StallReportTable = run_python("stall", &[]);
    both_loops("stall", &report.python);
    for run in &report.python.runs {
        let ways: Vec<Way> = run.figures.rows.iter().map(|r| r.way).collect();
        assert_eq!(ways, [Way::BlockingSleep, Way::CpuLoop, Way::SpawnBlocking]);
        for r in &run.figures.rows {
            let what = format!("{} {:?}", run.python, r.way);
            assert_eq!(r.stalls, 2, "{what}");
            assert_eq!(r.lag.samples, r.ticks, "{what}");
            if r.way != Way::SpawnBlocking {
                // The heartbeat's sleep spans the whole stall: at least one late tick
                // per stall (a busy machine only adds more).
                assert!(r.late_ticks >= r.stalls, "{what}: {r:?}");
            }
        }
    }
}

#[test]
fn cpu_share_python_server_answers_every_request() {
    let report: CpuShareReport = run_python("cpu-share", &[]);
    both_loops("cpu-share", &report.python);
    for run in &report.python.runs {
        assert_eq!(
            run.figures.len(),
            2 * 2,
            "{}: two shares, two bursts",
            run.python
        );
        for burst in [Burst::Inline, Burst::SpawnBlocking] {
            assert!(run.figures.iter().any(|r| r.burst == burst));
        }
        for r in &run.figures {
            assert_eq!(r.requests, 40, "400 req/s for 0.1 s");
            assert_eq!(r.answered, r.requests, "{} {r:?}", run.python);
            assert_eq!(r.latency.samples, r.answered);
        }
    }
}

#[test]
fn echo_python_servers_answer_every_message() {
    let report: EchoReport = run_python("echo", &[]);
    both_loops("echo", &report.python);
    for run in &report.python.runs {
        assert_eq!(run.figures.len(), 3, "{}: TCP 1 and 10, UDP 10", run.python);
        for r in &run.figures {
            let what = format!("{} {:?} {}", run.python, r.proto, r.clients);
            match r.proto {
                Proto::Tcp => assert_eq!(r.load.messages, 20 * r.clients, "{what}"),
                Proto::Udp => {
                    assert_eq!(r.load.messages + r.load.lost, 20 * r.clients, "{what}")
                }
            }
            assert!(
                r.cost.server.cpu_ns > 0,
                "{what}: the Python server was metered"
            );
        }
    }
}

#[test]
fn the_runtime_flag_picks_one_python_loop() {
    for (choice, py) in [("asyncio", Py::Asyncio), ("uvloop", Py::Uvloop)] {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("lab-python")
            .join(choice);
        let _ = std::fs::remove_dir_all(&dir);
        let out = Command::new(env!("CARGO_BIN_EXE_turnstile-lab"))
            .args([
                "chain",
                "--depths",
                "5",
                "--runtime",
                choice,
                "--smoke",
                "--out",
            ])
            .arg(&dir)
            .output()
            .expect("the lab binary runs");
        assert!(out.status.success(), "--runtime {choice}: {out:?}");
        let text = std::fs::read_to_string(dir.join("chain.json")).expect("chain.json");
        let report: ChainReport = serde_json::from_str(&text).expect("parses");
        assert!(
            report.rows.is_empty(),
            "--runtime {choice} runs no Rust runtime"
        );
        assert!(
            report.python.missing.is_empty(),
            "{:?}",
            report.python.missing
        );
        let loops: Vec<Py> = report.python.runs.iter().map(|r| r.python).collect();
        assert_eq!(loops, [py]);
    }
}
