//! Fair to I/O under load (issue 27): with tasks always ready, the reactor is looked
//! at every `event_interval` task polls, counted across turns and within one, and the
//! tasks a look wakes (a socket's, a timer's) are polled first. Every figure here is a
//! count of polls, never a time.
//!
//! The bound these tests check, derived in `executor/src/rt/turn.rs`: a task whose
//! socket is ready (or whose timer is due) when a turn begins is polled after at most
//! `event_interval` polls of other tasks, when the same look woke no other task ahead
//! of it and the `block_on` future is not woken (here it waits on a handle).
// Miri has no sockets.
#![cfg(not(miri))]

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::AsyncReadExt;
use turnstile::probes::Level;
use turnstile::Runtime;

/// Always-ready tasks to keep the loop busy.
const SPINNERS: usize = 200;

/// What the spinners and the hook share: spinner polls so far, the turns ended so far,
/// and the spinner polls counted when the first turn ended after the event (so the
/// next turn is the first that started after it).
#[derive(Default)]
struct Tally {
    polls: Cell<u64>,
    turns: Cell<u64>,
    mark: Cell<Option<u64>>,
    stop: Cell<bool>,
}

/// A runtime whose `on_turn` hook marks the poll count once `happened()` says so.
fn runtime(interval: u32, tally: &Rc<Tally>, happened: impl Fn() -> bool + 'static) -> Runtime {
    let hook = tally.clone();
    Runtime::builder()
        .probes(Level::Counters)
        .event_interval(interval)
        .on_turn(move |_| {
            hook.turns.set(hook.turns.get() + 1);
            if hook.mark.get().is_none() && happened() {
                hook.mark.set(Some(hook.polls.get()));
            }
        })
        .build()
        .unwrap()
}

/// Spawns the always-ready tasks: each wakes itself at every poll until `stop`, and
/// checks the run-once rule (never polled twice in one turn).
fn spawn_spinners(tally: &Rc<Tally>) -> Vec<turnstile::JoinHandle<()>> {
    (0..SPINNERS)
        .map(|_| {
            let tally = tally.clone();
            turnstile::spawn(async move {
                let mut last_turn = None;
                while !tally.stop.get() {
                    let turn = tally.turns.get();
                    assert_ne!(last_turn, Some(turn), "polled twice in one turn");
                    last_turn = Some(turn);
                    tally.polls.set(tally.polls.get() + 1);
                    turnstile::yield_now().await;
                }
            })
        })
        .collect()
}

#[test]
fn a_readable_socket_is_served_within_the_interval_while_200_tasks_stay_ready() {
    for interval in [2, 16, 61] {
        let tally = Rc::new(Tally::default());
        let sent = Arc::new(AtomicBool::new(false));
        let seen = sent.clone();
        let rt = runtime(interval, &tally, move || seen.load(Ordering::Acquire));
        let (waited, polled_at) = rt.block_on(async {
            let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let mut ours = turnstile::net::UnixStream::from_std(ours).unwrap();
            // First in the queue: its first poll waits on the socket before any spinner.
            let reader = {
                let tally = tally.clone();
                turnstile::spawn(async move {
                    let mut byte = [0];
                    assert_eq!(ours.read(&mut byte).await.unwrap(), 1);
                    let at = tally.polls.get();
                    tally.stop.set(true);
                    at
                })
            };
            let spinners = spawn_spinners(&tally);
            turnstile::yield_now().await; // one turn: the reader waits, spinners spin
            let writer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                theirs.write_all(b"x").unwrap();
                sent.store(true, Ordering::Release);
            });
            let at = reader.await.unwrap();
            writer.join().unwrap();
            for s in spinners {
                s.await.unwrap();
            }
            (turnstile::probes::snapshot().counters.unix_reads_waited, at)
        });
        assert_eq!(waited, 1, "the read waited for readiness");
        let mark = tally.mark.get().expect("a turn ended after the write");
        assert!(
            polled_at >= mark && polled_at - mark <= u64::from(interval),
            "interval {interval}: {} spinner polls between the first turn after the \
             write and the reader's poll",
            polled_at as i64 - mark as i64,
        );
    }
}

#[test]
fn a_due_timer_fires_within_the_interval_while_200_tasks_stay_ready() {
    for interval in [2, 16, 61] {
        let tally = Rc::new(Tally::default());
        let deadline = Instant::now() + Duration::from_millis(5);
        let rt = runtime(interval, &tally, move || Instant::now() >= deadline);
        let (fired, polled_at) = rt.block_on(async {
            let sleeper = {
                let tally = tally.clone();
                turnstile::spawn(async move {
                    turnstile::time::sleep_until(deadline.into()).await;
                    let at = tally.polls.get();
                    tally.stop.set(true);
                    at
                })
            };
            let spinners = spawn_spinners(&tally);
            let at = sleeper.await.unwrap();
            for s in spinners {
                s.await.unwrap();
            }
            (turnstile::probes::snapshot().counters.timers_fired, at)
        });
        assert_eq!(fired, 1);
        let mark = tally.mark.get().expect("a turn ended after the deadline");
        assert!(
            polled_at >= mark && polled_at - mark <= u64::from(interval),
            "interval {interval}: {} spinner polls between the first turn after the \
             deadline and the sleeper's poll",
            polled_at as i64 - mark as i64,
        );
    }
}

/// `rounds` rounds of `tasks` tasks that each yield `rounds` times, then end; the
/// counters after.
fn spin(interval: u32, tasks: usize, rounds: u64) -> turnstile::probes::CounterValues {
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .event_interval(interval)
        .build()
        .unwrap();
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                turnstile::spawn(async move {
                    for _ in 0..rounds {
                        turnstile::yield_now().await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    rt.probes().counters
}

#[test]
fn event_interval_1_polls_the_reactor_once_per_task_poll() {
    let c = spin(1, 10, 50);
    assert_eq!(c.polls, 10 * 51);
    // A look before every task poll: the block_on future's first poll (which spawns
    // the tasks) spends the first count, and each task poll the next.
    assert_eq!(c.reactor_polls_forced, c.polls);
    assert_eq!(c.reactor_polls, c.reactor_polls_forced + c.parks);
    assert_eq!(c.parks, 0, "tasks were always ready");
}

#[test]
fn event_interval_61_with_200_ready_tasks_looks_every_61_polls() {
    let rounds = 100;
    let c = spin(61, 200, rounds);
    assert_eq!(c.polls, 200 * (rounds + 1));
    // A round of the 200 tasks was one turn before the batch was cut: the reactor is
    // polled at least 200 x rounds / 61 times, not once every 61 rounds.
    assert!(
        c.reactor_polls_forced >= 200 * rounds / 61,
        "{} forced looks in {} polls",
        c.reactor_polls_forced,
        c.polls
    );
    // And no more than the countdown asks for: one look per 61 polls (the block_on
    // future's polls count too).
    assert!(c.reactor_polls_forced <= (c.polls + c.main_polls) / 61);
}

#[test]
fn at_timing_the_wait_of_a_task_a_socket_woke_is_an_io_delay() {
    let rt = Runtime::builder().probes(Level::Timing).build().unwrap();
    let snap = rt.block_on(async {
        let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut ours = turnstile::net::UnixStream::from_std(ours).unwrap();
        let reader = turnstile::spawn(async move {
            let mut byte = [0];
            ours.read(&mut byte).await.unwrap()
        });
        let spinner = turnstile::spawn(async {
            for _ in 0..10 {
                turnstile::yield_now().await;
            }
        });
        turnstile::yield_now().await; // the reader waits on its socket
        theirs.write_all(b"x").unwrap();
        assert_eq!(reader.await.unwrap(), 1);
        spinner.await.unwrap();
        turnstile::probes::snapshot()
    });
    assert_eq!(snap.counters.wakes_io, 1);
    // One poll followed a socket's wake; the spinner's self-wakes are not I/O delays.
    assert_eq!(snap.io_delay.count, 1);
    assert!(snap.scheduling_delay.count > snap.io_delay.count);
    assert!(snap.to_string().contains("I/O delay"));
}
