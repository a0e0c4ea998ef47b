//! The flight recorder writes one Chrome/Perfetto trace per stall (rate-limited), and
//! the trace covers the stalled poll. Files are written by the recorder's own thread:
//! `flush` waits for them.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use turnstile::probes::Level;
use turnstile::Runtime;

use common::ms;

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("turnstile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// A runtime at `Level::Timing` with the flight recorder writing to `dir`, and a
/// 20 ms stall threshold.
fn timed_with_recorder(dir: &Path) -> Runtime {
    Runtime::builder()
        .probes(Level::Timing)
        .flight_recorder(Duration::from_secs(5))
        .flight_recorder_dir(dir)
        .stall_threshold(ms(20))
        .build()
        .unwrap()
}

/// The stall instant of task `id` in a trace file's events.
fn stall_instant(events: &[Value], id: u64) -> &Value {
    events
        .iter()
        .find(|e| e["ph"] == "i" && e["cat"] == "stall" && e["args"]["task"] == id)
        .expect("a stall instant for the task")
}

/// Spawns a task named `name` that yields three times, then blocks the loop for
/// `block`; returns its id once it has finished.
fn stall(rt: &Runtime, name: &str, block: Duration) -> u64 {
    rt.block_on(async {
        let h = turnstile::task::Builder::new()
            .name(name)
            .spawn(async move {
                for _ in 0..3 {
                    turnstile::yield_now().await;
                }
                std::thread::sleep(block);
            });
        let id = h.id();
        h.await.unwrap();
        id
    })
}

#[test]
fn one_stall_writes_one_file_that_covers_it() {
    let dir = scratch("flight-one");
    let rt = Runtime::builder()
        .probes(Level::Off) // the recorder works without any other probe
        .flight_recorder(Duration::from_secs(5))
        .flight_recorder_dir(&dir)
        .flight_recorder_min_interval(Duration::from_secs(600))
        .stall_threshold(ms(20))
        .build()
        .unwrap();
    let id = stall(&rt, "blocker", ms(60));
    rt.flight_recorder().flush().unwrap();
    let written = files(&dir);
    assert_eq!(written.len(), 1, "one stall, one file: {written:?}");

    // A second stall within the interval writes none.
    stall(&rt, "again", ms(60));
    rt.flight_recorder().flush().unwrap();
    assert_eq!(files(&dir), written);
    assert_eq!(rt.flight_recorder().files(), (1, 0));

    let json: Value = serde_json::from_str(&std::fs::read_to_string(&written[0]).unwrap())
        .expect("the file is JSON");
    let events = json["traceEvents"].as_array().unwrap();
    let stall_at = stall_instant(events, id)["ts"].as_f64().unwrap();
    let slice = events
        .iter()
        .find(|e| {
            e["ph"] == "X" && e["cat"] == "poll" && e["args"]["task"] == id && {
                let (ts, dur) = (e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap());
                // Microseconds as floats: allow for rounding.
                ts <= stall_at + 1e-3 && stall_at <= ts + dur + 1e-3
            }
        })
        .expect("a poll slice that contains the stall");
    assert!(
        slice["name"].as_str().unwrap().contains("blocker"),
        "{slice}"
    );
    // The sleep lasted at least 60 ms: so does the slice (microseconds).
    assert!(slice["dur"].as_f64().unwrap() >= 60_000.0, "{slice}");
    // The polls before it are in the window too: the blocker's three yields.
    let polls_of_blocker = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "poll" && e["args"]["task"] == id)
        .count();
    assert_eq!(polls_of_blocker, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_stall_report_names_the_file() {
    let dir = scratch("flight-report");
    let rt = timed_with_recorder(&dir);
    stall(&rt, "blocker", ms(40));
    rt.flight_recorder().flush().unwrap();
    let written = files(&dir);
    assert_eq!(written.len(), 1);
    let snap = rt.probes();
    let report = snap
        .stalls
        .iter()
        .find(|s| s.task_name.as_deref() == Some("blocker"))
        .unwrap();
    let note = report.flight_recorder.as_deref().unwrap();
    let expected = format!(
        "writing {} on the turnstile-flight thread",
        written[0].display()
    );
    assert!(note.starts_with(&expected), "{note}");
    assert!(note.ends_with(')') && note.contains("(handover "), "{note}");
    assert!(report.to_string().contains(note));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dump_writes_the_window_on_demand() {
    let dir = scratch("flight-dump");
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .flight_recorder(Duration::from_secs(5))
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..5 {
            turnstile::yield_now().await;
        }
    });
    let path = dir.join("now.json");
    rt.flight_recorder().dump(&path).unwrap();
    rt.flight_recorder().flush().unwrap();
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let polls = json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "poll")
        .count();
    assert_eq!(polls, 6, "the block_on future's six polls");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_watchdog_report_writes_a_file_too() {
    let dir = scratch("flight-watchdog");
    let rt = Runtime::builder()
        .flight_recorder(Duration::from_secs(5))
        .flight_recorder_dir(&dir)
        .stall_threshold(Duration::from_secs(3600)) // no poll here is a stall...
        .watchdog(ms(20)) // ...but the watchdog sees a 200 ms one
        .build()
        .unwrap();
    stall(&rt, "slow", ms(200));
    rt.flight_recorder().flush().unwrap();
    assert_eq!(rt.probes().stalls_total, 0);
    assert!(rt.probes().watchdog_reports >= 1);
    let written = files(&dir);
    assert_eq!(written.len(), 1, "{written:?}");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&written[0]).unwrap())
        .expect("the file is JSON");
    assert!(json["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["ph"] == "X" && e["name"].as_str().unwrap_or("").contains("slow")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[turnstile::instrument]
async fn handler(block: Duration) {
    load_user(block).await;
}

#[turnstile::instrument]
async fn load_user(block: Duration) {
    turnstile::yield_now().await; // the stack the stalled poll resumes from
    std::thread::sleep(block);
}

#[test]
fn a_stall_file_carries_the_async_stack_the_task_resumed_from() {
    let dir = scratch("flight-stack");
    let rt = timed_with_recorder(&dir);
    let id = rt.block_on(async {
        let h = turnstile::spawn(handler(ms(60)));
        let id = h.id();
        h.await.unwrap();
        id
    });
    let report = rt
        .probes()
        .stalls
        .into_iter()
        .next()
        .expect("a stall report");
    rt.flight_recorder().flush().unwrap();
    let stack = report.stack.expect("the report has the stack").to_string();
    assert!(
        stack.starts_with("handler ") && stack.contains(" > load_user "),
        "{stack}"
    );
    let written = files(&dir);
    assert_eq!(written.len(), 1);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&written[0]).unwrap()).unwrap();
    let stall = stall_instant(json["traceEvents"].as_array().unwrap(), id);
    assert_eq!(stall["args"]["stack"], Value::String(stack));
}
