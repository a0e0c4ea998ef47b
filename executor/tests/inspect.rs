//! The inspector answers from its own thread while the loop is stuck in one poll.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use turnstile::Runtime;

#[test]
fn the_inspector_answers_while_the_loop_sleeps() {
    let path = std::env::temp_dir().join(format!("turnstile-inspect-{}.sock", std::process::id()));
    let rt = Runtime::builder()
        .inspect(&path)
        .inspect_period(Duration::ZERO) // a snapshot at every turn's end
        .build()
        .unwrap();
    let slept = Arc::new(AtomicBool::new(false));
    let done = slept.clone();
    let client = {
        let path = path.clone();
        let slept = slept.clone();
        std::thread::spawn(move || {
            // Ask until the loop is seen inside the sleeper's poll.
            loop {
                assert!(!slept.load(Ordering::SeqCst), "never saw the loop blocked");
                let asked = Instant::now();
                let json = turnstile::probes::inspect_json(&path).expect("an answer");
                let latency = asked.elapsed();
                let answered_during_the_sleep = !slept.load(Ordering::SeqCst);
                let report: Value = serde_json::from_str(&json).expect("JSON");
                if report["task"]["name"] == "sleeper" {
                    return (report, latency, answered_during_the_sleep);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    rt.block_on(async move {
        let sleeper = turnstile::task::Builder::new()
            .name("sleeper")
            .spawn(async move {
                turnstile::time::sleep(Duration::from_millis(50)).await;
                std::thread::sleep(Duration::from_secs(2)); // the loop is stuck here
                done.store(true, Ordering::SeqCst);
            });
        sleeper.await.unwrap();
    });
    let (report, latency, during) = client.join().unwrap();
    println!("answered in {latency:?}: {report:#}");
    // The answer came while the 2 s sleep was still going on (the sleeper sets its flag
    // only after it), and well within it.
    assert!(during);
    assert!(latency < Duration::from_millis(100), "{latency:?}");
    assert_eq!(report["state"], "Polling");
    let syscall = report["syscall"].as_str().unwrap();
    assert!(
        syscall == "clock_nanosleep" || syscall == "nanosleep",
        "{syscall}"
    );
    let tasks = report["tasks"].as_array().unwrap();
    let sleeper = tasks.iter().find(|t| t["name"] == "sleeper").unwrap();
    assert_eq!(sleeper["state"], "Running");
    drop(rt);
    assert!(!path.exists(), "the socket goes with the runtime");
}

/// The task in the poll is named even when it was spawned after the last snapshot the
/// loop published for the inspector (here the period is an hour: only the first turn's
/// snapshot is published), and the report's text says the name.
#[test]
fn the_inspector_names_the_task_being_polled() {
    let path = std::env::temp_dir().join(format!(
        "turnstile-inspect-name-{}.sock",
        std::process::id()
    ));
    let rt = Runtime::builder()
        .inspect(&path)
        .inspect_period(Duration::from_secs(3600))
        .build()
        .unwrap();
    let blocked = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let client = {
        let (path, blocked, done) = (path.clone(), blocked.clone(), done.clone());
        std::thread::spawn(move || {
            while !blocked.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            let report = turnstile::probes::inspect(&path).expect("an answer");
            done.store(true, Ordering::SeqCst);
            report
        })
    };
    let id = rt.block_on(async move {
        turnstile::yield_now().await; // the first turn ends: its snapshot is published
        let conn = turnstile::task::Builder::new()
            .name("conn")
            .spawn(async move {
                blocked.store(true, Ordering::SeqCst);
                // The loop is stuck in this first poll until the inspector has answered.
                let until = Instant::now() + Duration::from_secs(10);
                while !done.load(Ordering::SeqCst) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(1));
                }
            });
        let id = conn.id();
        conn.await.unwrap();
        id
    });
    let report = client.join().unwrap();
    let task = report.task.as_ref().expect("a task in its poll");
    assert_eq!(task.id, id);
    assert_eq!(task.name.as_deref(), Some("conn"), "{report}");
    let text = report.to_string();
    assert!(
        text.contains(&format!("loop: polling task {id} (conn)")),
        "{text}"
    );
    assert!(
        !report.tasks.iter().any(|t| t.id == id),
        "the published table predates the task: {text}"
    );
}
