//! The book's "predict, then run" exercises, each the changed program itself, with the
//! counts the book says to expect asserted exactly.

use std::process::Command;
use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

/// The `countdown` example's binary, built if `cargo test` did not build it.
fn countdown() -> Command {
    let debug = std::env::current_exe()
        .expect("the test's path")
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf();
    let exe = debug.join("examples").join("countdown");
    if !exe.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "turnstile", "--example", "countdown"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the countdown example");
    }
    Command::new(exe)
}

/// start-here.md: the countdown from 5 is 7 turns, 6 polls, 5 of them `Pending`, no park.
#[test]
fn start_here_countdown_from_five() {
    let out = countdown().arg("5").output().expect("the example runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.matches(", Pending").count(), 5, "{stdout}");
    assert_eq!(stdout.matches("[loop] turn").count(), 7, "{stdout}");
    assert!(
        stdout.ends_with("liftoff: 7 turns, 6 polls of the task (5 Pending), 0 parks\n"),
        "{stdout}"
    );
}

#[test]
fn start_here_countdown_refuses_a_bad_count() {
    let out = countdown().arg("three").output().expect("the example runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("is not a count"), "{stderr}");
}

async fn level(depth: u32, leaf: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    if depth == 0 {
        leaf().await;
    } else {
        Box::pin(level(depth - 1, leaf)).await;
    }
}

fn counts_of_a_chain(
    leaf: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> turnstile::probes::CounterValues {
    let rt = Runtime::builder().probes(Level::Counters).build().unwrap();
    rt.block_on(async move { turnstile::spawn(level(5, leaf)).await.unwrap() });
    rt.probes().counters
}

/// chain.md: a 5-deep chain over a sleep: 3 turns, the task polled twice, one yield,
/// one park (the sleep).
#[test]
fn chain_over_a_sleep() {
    let c = counts_of_a_chain(|| Box::pin(turnstile::time::sleep(Duration::from_millis(1))));
    assert_eq!((c.turns, c.polls, c.polls_pending, c.parks), (3, 2, 1, 1));
}

/// chain.md, the exercise: swap the sleep for `yield_now`: still 3 turns, 2 polls,
/// 1 yield, but no park: the task woke itself, so the loop never had to wait.
#[test]
fn chain_over_yield_now() {
    let c = counts_of_a_chain(|| Box::pin(turnstile::yield_now()));
    assert_eq!((c.turns, c.polls, c.polls_pending, c.parks), (3, 2, 1, 0));
    assert_eq!(c.wakes_self, 1);
}

/// stall.md, the exercise: a `thread::sleep` in a task is one stall, whose report names
/// the task and the line of this file that blocked.
#[test]
fn stall_a_thread_sleep_is_reported() {
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .stall_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    rt.block_on(async {
        turnstile::task::Builder::new()
            .name("sleepy")
            .spawn(async {
                turnstile::yield_now().await;
                std::thread::sleep(Duration::from_millis(30));
            })
            .await
            .unwrap();
    });
    // On a loaded machine another poll may pass the threshold too; the sleep's is the
    // one stall of 30 ms or more.
    let snap = rt.probes();
    let long: Vec<_> = snap
        .stalls
        .iter()
        .filter(|s| s.duration >= Duration::from_millis(30))
        .collect();
    assert_eq!(long.len(), 1, "{:?}", snap.stalls);
    assert_eq!(long[0].task_name.as_deref(), Some("sleepy"));
    assert!(
        long[0].spawned_at.contains("exercises.rs"),
        "{}",
        long[0].spawned_at
    );
}

/// yield-cost.md: ten `yield_now`s in one task: 12 turns, 11 polls, 10 yields, no park.
#[test]
fn yield_cost_ten_yields() {
    let rt = Runtime::builder().probes(Level::Counters).build().unwrap();
    rt.block_on(async {
        turnstile::spawn(async {
            for _ in 0..10 {
                turnstile::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    let c = rt.probes().counters;
    assert_eq!(
        (c.turns, c.polls, c.polls_pending, c.parks),
        (12, 11, 10, 0)
    );
    assert_eq!(c.wakes_self, 10);
}
