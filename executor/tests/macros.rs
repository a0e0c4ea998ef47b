//! `#[turnstile::test]` and `#[turnstile::main]`, used as a user would: each argument
//! takes effect (read back from the probes inside the runtime), other test attributes
//! pass through, and a test may return `Result`. The refused arguments are
//! `compile_fail` doctests on `turnstile::main` and `turnstile::test`.

use std::time::Duration;

use turnstile::probes::{snapshot, Level};
use turnstile::time::sleep;

/// `m` ready operations in one task: zero-length sleeps, due at once, each one unit of
/// the budget (as in tests/budget.rs).
async fn ready_sleeps(m: u32) {
    for _ in 0..m {
        sleep(Duration::ZERO).await;
    }
}

#[turnstile::test]
async fn the_default_probe_level_is_timing() {
    turnstile::yield_now().await;
    let snap = snapshot();
    assert_eq!(snap.level, Level::Timing);
    // The body is the block_on future: polled once, yielded once, polled again.
    assert_eq!(snap.counters.main_polls, 2);
}

#[turnstile::test(probes = Counters)]
async fn probes_counters_takes_effect() {
    assert_eq!(snapshot().level, Level::Counters);
}

#[turnstile::test(probes = Off)]
async fn probes_off_takes_effect() {
    turnstile::yield_now().await;
    let snap = snapshot();
    assert_eq!(snap.level, Level::Off);
    assert_eq!(snap.counters.main_polls, 0);
}

#[turnstile::test(probes = Trace, flavor = "current_thread")]
async fn probes_trace_and_the_current_thread_flavor() {
    assert_eq!(snapshot().level, Level::Trace);
}

#[turnstile::test(probes = Counters, budget = 4)]
async fn budget_n_takes_effect() {
    // Five ready operations on a budget of four: exactly one budget yield.
    turnstile::spawn(ready_sleeps(5)).await.unwrap();
    assert_eq!(snapshot().counters.budget_yields, 1);
    // Four fit in one poll.
    turnstile::spawn(ready_sleeps(4)).await.unwrap();
    assert_eq!(snapshot().counters.budget_yields, 1);
}

#[turnstile::test(probes = Counters)]
async fn without_the_argument_the_budget_is_the_builders_default() {
    turnstile::spawn(ready_sleeps(128)).await.unwrap();
    assert_eq!(snapshot().counters.budget_yields, 0);
    turnstile::spawn(ready_sleeps(129)).await.unwrap();
    assert_eq!(snapshot().counters.budget_yields, 1);
}

#[turnstile::test(probes = Counters, budget = None)]
async fn budget_none_takes_the_budget_away() {
    turnstile::spawn(ready_sleeps(1000)).await.unwrap();
    assert_eq!(snapshot().counters.budget_yields, 0);
}

#[turnstile::test(name = "named-by-the-attribute")]
async fn a_name_is_accepted() {
    // The name is the runtime's (`Runtime::name`), which the body cannot read back;
    // this checks that the builder call compiles and runs.
    turnstile::yield_now().await;
}

#[turnstile::test]
async fn a_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "41".parse()?;
    turnstile::yield_now().await;
    assert_eq!(n + 1, 42);
    Ok(())
}

#[turnstile::test]
#[should_panic(expected = "boom after a yield")]
async fn should_panic_passes_through() {
    turnstile::yield_now().await;
    panic!("boom after a yield");
}

#[turnstile::test]
#[should_panic(expected = "the task's panic")]
async fn a_task_panic_unwrapped_fails_the_test() {
    let task = turnstile::spawn(async { panic!("the task's panic") });
    task.await.unwrap();
}

/// Listed by the harness as ignored (`cargo test` says `1 ignored`); with `--ignored`
/// it runs and passes like the others.
#[turnstile::test]
#[ignore = "shows that #[ignore] passes through"]
async fn ignore_passes_through() {
    turnstile::yield_now().await;
}

#[turnstile::instrument]
async fn instrumented_leaf() {
    turnstile::yield_now().await;
}

#[turnstile::test]
async fn instrument_works_inside_a_turnstile_test() {
    turnstile::spawn(instrumented_leaf()).await.unwrap();
    let snap = snapshot();
    let site = snap
        .sites
        .iter()
        .find(|s| s.label.as_deref() == Some("instrumented_leaf"))
        .unwrap_or_else(|| panic!("no site for instrumented_leaf: {:#?}", snap.sites));
    assert_eq!(site.yields, 1);
}

mod renamed {
    use turnstile as ts;

    #[ts::test(crate = "ts", probes = Counters)]
    async fn crate_names_a_renamed_turnstile() {
        assert_eq!(ts::probes::snapshot().level, ts::probes::Level::Counters);
    }
}

/// `#[turnstile::main]` goes on any `async fn`, not only `main`: called, it builds a
/// runtime, runs the body to completion and returns its value.
#[turnstile::main(probes = Counters, budget = 2)]
async fn computed_on_a_runtime_of_its_own() -> (u32, u64) {
    ready_sleeps(3).await; // three on a budget of two: one budget yield
    (7, snapshot().counters.budget_yields)
}

#[test]
fn main_builds_a_runtime_and_returns_the_bodys_value() {
    assert_eq!(computed_on_a_runtime_of_its_own(), (7, 1));
    // A runtime per call: the second starts from zero counters too.
    assert_eq!(computed_on_a_runtime_of_its_own(), (7, 1));
}

#[turnstile::main]
async fn fallible_main() -> Result<u32, std::num::ParseIntError> {
    turnstile::yield_now().await;
    "x".parse::<u32>()
}

#[test]
fn main_returns_the_bodys_result() {
    assert!(fallible_main().is_err());
}

/// `start_paused = true`: the clock starts paused, so a day of sleeping takes no time
/// and the instants are exact; with the other arguments, in any order. (`Builder::
/// start_paused` needs `test-util`, as tokio's.)
#[cfg(feature = "test-util")]
#[turnstile::test(probes = Counters, start_paused = true)]
async fn start_paused_takes_effect() {
    use turnstile::time::Instant;
    let start = Instant::now();
    sleep(Duration::from_secs(86_400)).await;
    assert_eq!(Instant::now(), start + Duration::from_secs(86_400));
    let snap = snapshot();
    assert_eq!(snap.level, Level::Counters);
    assert_eq!(snap.counters.parks, 1); // one auto-advance, of exactly a day
    assert_eq!(snap.parked, Duration::from_secs(86_400));
}

/// `start_paused = false` is the default: the clock is std's, and moves on its own.
#[turnstile::test(start_paused = false)]
async fn start_paused_false_leaves_the_clock_running() {
    let start = turnstile::time::Instant::now();
    std::thread::sleep(Duration::from_millis(1));
    assert!(turnstile::time::Instant::now() > start);
}

#[cfg(feature = "test-util")]
#[turnstile::main(start_paused = true)]
async fn paused_main() -> Duration {
    let start = turnstile::time::Instant::now();
    turnstile::time::sleep(Duration::from_secs(3600)).await;
    start.elapsed()
}

#[cfg(feature = "test-util")]
#[test]
fn main_takes_start_paused_too() {
    assert_eq!(paused_main(), Duration::from_secs(3600));
}
