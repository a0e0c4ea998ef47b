//! The cooperative budget: a task whose awaits are always ready still goes back to the
//! loop, every `budget` operations, and the probes say so. Exact counts throughout; the
//! two tests against a heartbeat and a timeout compare counts and outcomes, not times.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use turnstile::probes::Level;
use turnstile::time::{sleep, timeout};
use turnstile::Runtime;

use common::ms;

fn runtime(level: Level, budget: Option<u32>) -> Runtime {
    Runtime::builder()
        .probes(level)
        .budget(budget)
        .build()
        .expect("runtime")
}

/// `m` ready operations in one task: zero-length sleeps, which are due at once.
async fn ready_sleeps(m: u32) {
    for _ in 0..m {
        sleep(Duration::ZERO).await;
    }
}
const READY_SLEEP_LINE: u32 = line!() - 3;

#[test]
fn a_task_yields_once_per_spent_budget() {
    for (n, m) in [(4, 10), (4, 12), (1, 5), (128, 1000), (7, 7), (3, 0)] {
        let rt = runtime(Level::Counters, Some(n));
        rt.block_on(async move { turnstile::spawn(ready_sleeps(m)).await.unwrap() });
        let expected = u64::from(m.div_ceil(n).saturating_sub(1));
        let c = rt.counters();
        assert_eq!(c.budget_yields, expected, "budget {n}, {m} ready sleeps");
        // Each budget yield is a yield of the task: its polls are one more.
        let task = rt.probes().tasks.into_iter().last().unwrap();
        assert_eq!((task.polls, task.yields), (expected + 1, expected));
    }
}

#[test]
fn without_a_budget_nothing_yields() {
    let rt = runtime(Level::Counters, None);
    rt.block_on(async { turnstile::spawn(ready_sleeps(10_000)).await.unwrap() });
    assert_eq!(rt.counters().budget_yields, 0);
    assert_eq!(rt.counters().polls, 1);
}

#[test]
fn finished_handles_and_due_timers_use_the_budget_too() {
    let rt = runtime(Level::Counters, Some(3));
    rt.block_on(async {
        let handles: Vec<_> = (0..6).map(|i| turnstile::spawn(async move { i })).collect();
        turnstile::yield_now().await; // every task has finished
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap(); // 6 ready handles: one budget yield
        }
        let mut every = turnstile::time::interval(Duration::from_secs(3600));
        every.tick().await; // the first tick is due at once: the third unit
        assert_eq!(sum, 15);
    });
    // The block_on future has a budget of its own: 6 handles + 1 tick = 7 units of 3.
    assert_eq!(rt.counters().budget_yields, 2);
}

#[test]
fn the_probes_say_which_task_and_which_site_the_budget_made_yield() {
    let rt = runtime(Level::Timing, Some(2));
    rt.block_on(async {
        let h = turnstile::task::Builder::new()
            .name("greedy")
            .spawn(ready_sleeps(5));
        h.await.unwrap();
    });
    let snap = rt.probes();
    let greedy = snap
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("greedy"))
        .unwrap();
    assert_eq!((greedy.yields, greedy.budget_yields), (2, 2));
    let site = snap
        .sites
        .iter()
        .find(|s| {
            s.location
                .contains(&format!("tests/budget.rs:{READY_SLEEP_LINE}:"))
        })
        .unwrap_or_else(|| panic!("the sleep's site in ready_sleeps: {:#?}", snap.sites));
    assert_eq!((site.yields, site.budget_yields), (2, 2));
}

#[test]
fn the_turn_narration_says_how_many_yields_were_the_budgets() {
    let lines = Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = lines.clone();
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .budget(Some(2))
        .on_turn(move |turn| seen.borrow_mut().push(turn.to_string()))
        .build()
        .unwrap();
    rt.block_on(async { turnstile::spawn(ready_sleeps(3)).await.unwrap() });
    let lines = lines.borrow();
    assert!(
        lines.iter().any(|l| l.contains("(1 yielded, 1 by budget)")),
        "{lines:#?}"
    );
}

#[test]
fn yield_now_is_a_yield_but_not_a_budget_yield() {
    let rt = runtime(Level::Counters, Some(1));
    rt.block_on(async {
        turnstile::spawn(async {
            for _ in 0..10 {
                turnstile::yield_now().await;
            }
        })
        .await
        .unwrap()
    });
    let c = rt.counters();
    assert_eq!(c.budget_yields, 0);
    assert_eq!(c.polls_pending, 10);
}

#[test]
fn unconstrained_never_yields_by_budget() {
    let rt = runtime(Level::Counters, Some(1));
    rt.block_on(async {
        turnstile::spawn(turnstile::task::unconstrained(ready_sleeps(100)))
            .await
            .unwrap();
        // The budget is back after it: the ready handle and 3 ready sleeps are 4 units
        // of the block_on future's budget of 1, so 3 budget yields, all outside.
        ready_sleeps(3).await;
    });
    assert_eq!(rt.counters().budget_yields, 3);
}

/// A task that only ever awaits ready sleeps, for `run_for` of wall time.
async fn greedy(run_for: Duration, running: Rc<Cell<bool>>) -> u64 {
    running.set(true);
    let start = Instant::now();
    let mut iterations = 0;
    while start.elapsed() < run_for {
        sleep(Duration::ZERO).await;
        iterations += 1;
    }
    running.set(false);
    iterations
}

/// A 1 ms heartbeat beside the greedy task: how many of its ticks came while the
/// greedy task was running.
fn heartbeat_ticks_during_greedy(budget: Option<u32>) -> u64 {
    let rt = runtime(Level::Counters, budget);
    rt.block_on(async {
        let running = Rc::new(Cell::new(false));
        let during = Rc::new(Cell::new(0u64));
        let (r, d) = (running.clone(), during.clone());
        let heartbeat = turnstile::spawn(async move {
            let mut every = turnstile::time::interval(ms(1));
            loop {
                every.tick().await;
                if r.get() {
                    d.set(d.get() + 1);
                }
            }
        });
        turnstile::yield_now().await; // the heartbeat is running
        turnstile::spawn(greedy(ms(100), running)).await.unwrap();
        heartbeat.abort();
        during.get()
    })
}

#[test]
fn a_heartbeat_keeps_ticking_beside_a_greedy_task() {
    // With the budget the greedy task yields every 128 ready sleeps, and the loop fires
    // the heartbeat's timer in between; without it, the greedy task holds the loop for
    // its whole run and the heartbeat never ticks while it runs.
    assert!(heartbeat_ticks_during_greedy(Some(128)) > 0);
    assert_eq!(heartbeat_ticks_during_greedy(None), 0);
}

#[test]
fn a_timeout_fires_even_when_the_future_never_stops_being_ready() {
    let rt = runtime(Level::Counters, Some(128));
    let (out, finished) = rt.block_on(async {
        let running = Rc::new(Cell::new(false));
        let out = timeout(ms(5), greedy(ms(300), running.clone())).await;
        (out, !running.get())
    });
    // The deadline was checked while the loop was still going: it never finished.
    assert!(out.is_err(), "the greedy loop ran to its end");
    assert!(!finished);
    assert!(rt.counters().budget_yields > 0);
}

#[test]
fn a_budget_yield_makes_the_next_turn_look_at_timers_and_sockets() {
    // Without it, a busy loop polls the reactor only every `event_interval` turns, so
    // a greedy task would still keep due timers waiting for 61 of its budgets.
    let polled_io = Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = polled_io.clone();
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .budget(Some(4))
        .on_turn(move |turn| seen.borrow_mut().push((turn.budget_yields, turn.polled_io)))
        .build()
        .unwrap();
    rt.block_on(async { turnstile::spawn(ready_sleeps(9)).await.unwrap() });
    let turns = polled_io.borrow();
    // Two budget yields (9 sleeps, 4 a poll); each turn after one polled the reactor.
    let after_budget: Vec<bool> = turns
        .windows(2)
        .filter(|w| w[0].0 > 0)
        .map(|w| w[1].1)
        .collect();
    assert_eq!(after_budget, [true, true], "{turns:?}");
}
