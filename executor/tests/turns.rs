//! Exact counts of polls, yields, wakes and turns for workloads whose shape fixes them.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use turnstile::probes::{CounterValues, Level};
use turnstile::Runtime;

use common::{chain5, counting, ms};

/// An await chain `depth` async calls deep over one 10 ms sleep.
fn chain(depth: usize) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(async move {
        if depth <= 1 {
            turnstile::time::sleep(ms(10)).await;
        } else {
            chain(depth - 1).await;
        }
    })
}

fn run_spawned(fut: impl Future<Output = ()> + 'static) -> CounterValues {
    let rt = counting();
    rt.block_on(async move { turnstile::spawn(fut).await.unwrap() });
    rt.probes().counters
}

#[test]
fn five_deep_await_chain_polls_twice_and_yields_once() {
    let c = run_spawned(chain5());
    assert_eq!(
        c.polls, 2,
        "the task is polled to start the sleep and when it fires"
    );
    assert_eq!(c.polls_pending, 1, "only the sleep reaches the loop");
    assert_eq!(c.polls_ready, 1);
    assert_eq!(c.wakes_timer, 1);
    assert_eq!(c.timers_created, 1);
    assert_eq!(c.timers_fired, 1);
    // block_on polls the JoinHandle (pending), the task starts the sleep, the loop
    // parks until it fires, and the finished task wakes block_on in that same turn.
    assert_eq!(c.turns, 3);
    assert_eq!(c.main_polls, 2);
    assert_eq!(c.parks, 1);
}

#[test]
fn chain_depth_does_not_change_polls_yields_or_turns() {
    let shallow = run_spawned(chain(1));
    for depth in [5, 50] {
        let deep = run_spawned(chain(depth));
        assert_eq!(
            (deep.polls, deep.polls_pending, deep.turns, deep.wakes),
            (
                shallow.polls,
                shallow.polls_pending,
                shallow.turns,
                shallow.wakes
            ),
            "depth {depth} differs from depth 1"
        );
    }
    assert_eq!(
        (shallow.polls, shallow.polls_pending, shallow.turns),
        (2, 1, 3)
    );
}

#[test]
fn a_ready_leaf_never_reaches_the_loop() {
    let c = run_spawned(async {
        for _ in 0..10 {
            std::future::ready(()).await;
        }
        // A sleep whose deadline has already passed completes without a yield.
        turnstile::time::sleep(Duration::ZERO).await;
    });
    assert_eq!((c.polls, c.polls_pending, c.timers_created), (1, 0, 0));
}

#[test]
fn yield_now_n_times_is_n_self_wakes_and_n_plus_one_polls() {
    for n in [1u64, 10, 1000] {
        let c = run_spawned(async move {
            for _ in 0..n {
                turnstile::yield_now().await;
            }
        });
        assert_eq!(c.wakes_self, n);
        assert_eq!(c.polls, n + 1);
        assert_eq!(c.polls_pending, n);
        assert_eq!(c.wakes_coalesced, 0);
    }
}

#[test]
fn a_task_woken_during_a_turn_runs_in_the_next_one() {
    let turns_seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = turns_seen.clone();
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .on_turn(move |t| log.borrow_mut().push((t.number, t.tasks_polled, t.yields)))
        .build()
        .unwrap();
    rt.block_on(async {
        let a = turnstile::spawn(async {
            for _ in 0..3 {
                turnstile::yield_now().await;
            }
        });
        let b = turnstile::spawn(async {
            for _ in 0..3 {
                turnstile::yield_now().await;
            }
        });
        a.await.unwrap();
        b.await.unwrap();
    });
    let turns = turns_seen.borrow();
    // Turn 1 polls only block_on (spawning both); turns 2-5 poll both tasks once each:
    // three yields each, then completion.
    let polled: Vec<u64> = turns.iter().map(|t| t.1).collect();
    assert_eq!(polled, vec![0, 2, 2, 2, 2]);
    let yields: Vec<u64> = turns.iter().map(|t| t.2).collect();
    assert_eq!(yields, vec![0, 2, 2, 2, 0]);
}

#[test]
fn on_turn_hook_sees_every_turn_in_order() {
    let numbers = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = numbers.clone();
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .on_turn(move |t| log.borrow_mut().push((t.number, t.parked, t.timers_fired)))
        .build()
        .unwrap();
    rt.block_on(async { turnstile::spawn(chain5()).await.unwrap() });
    assert_eq!(
        *numbers.borrow(),
        vec![(1, false, 0), (2, false, 0), (3, true, 1)]
    );
}

#[test]
fn level_off_records_nothing() {
    let rt = Runtime::builder().probes(Level::Off).build().unwrap();
    rt.block_on(async {
        turnstile::spawn(async { turnstile::yield_now().await })
            .await
            .unwrap();
    });
    let snap = rt.probes();
    assert_eq!(snap.counters, CounterValues::default());
    assert!(snap.tasks.is_empty());
}

#[test]
fn busy_loop_polls_io_every_event_interval_turns() {
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .event_interval(10)
        .build()
        .unwrap();
    rt.block_on(async {
        turnstile::spawn(async {
            for _ in 0..99 {
                turnstile::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    let c = rt.probes().counters;
    // 101 turns (1 for block_on, 100 polls of the task), never idle: a non-blocking
    // reactor poll on turns 10, 20, ..., 100.
    assert_eq!(c.turns, 101);
    assert_eq!(c.parks, 0);
    assert_eq!(c.reactor_polls, 10);
}

#[test]
fn snapshot_names_tasks_and_their_spawn_lines() {
    let rt = counting();
    rt.block_on(async {
        turnstile::task::Builder::new()
            .name("fetch")
            .spawn(async { turnstile::yield_now().await })
            .await
            .unwrap();
    });
    let snap = rt.probes();
    let task = snap
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("fetch"))
        .unwrap();
    assert!(
        task.spawned_at.contains("tests/turns.rs"),
        "{}",
        task.spawned_at
    );
    assert_eq!((task.polls, task.yields, task.wakes_self), (2, 1, 1));
    let table = snap.to_string();
    assert!(
        table.contains("fetch") && table.contains("wakes_self"),
        "{table}"
    );
    let json = serde_json::to_value(&snap).unwrap();
    assert_eq!(json["counters"]["spawns"], 1);
}

#[test]
fn the_block_on_future_waking_itself_is_a_self_wake() {
    let rt = counting();
    rt.block_on(turnstile::yield_now());
    let c = rt.probes().counters;
    assert_eq!(
        (c.main_polls, c.wakes_self, c.wakes_local, c.turns),
        (2, 1, 0, 2)
    );
}

#[test]
fn counters_alone_match_the_snapshot_and_are_zero_when_off() {
    let rt = common::counting();
    rt.block_on(async {
        for _ in 0..3 {
            turnstile::spawn(async { turnstile::yield_now().await })
                .await
                .unwrap();
        }
    });
    assert_eq!(rt.counters(), rt.probes().counters);
    assert_eq!((rt.counters().spawns, rt.counters().wakes_self), (3, 3));

    let off = Runtime::builder()
        .probes(Level::Off)
        .build()
        .expect("runtime");
    off.block_on(turnstile::yield_now());
    assert_eq!(off.counters(), Default::default());
}
