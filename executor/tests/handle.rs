//! Spawning from other threads through a `Handle`.

mod common;

use std::sync::mpsc;
use std::thread;

use common::{counting, panic_message};

#[test]
fn a_remote_spawn_ends_a_park_and_returns_its_output() {
    let rt = counting();
    let handle = rt.handle();
    let (tx, rx) = mpsc::channel();
    let spawner = thread::spawn(move || {
        // Spawn only once block_on is running (and, with nothing else to do, parked).
        rx.recv().unwrap();
        handle.spawn(async { 40 + 2 })
    });
    let out = rt.block_on(async move {
        tx.send(()).unwrap();
        // The remote handle is created on the other thread; fetch it without blocking
        // the loop, then await it.
        let h = turnstile::spawn_blocking(move || spawner.join().unwrap())
            .await
            .unwrap();
        h.await.unwrap()
    });
    assert_eq!(out, 42);
    let c = rt.probes().counters;
    assert_eq!(c.spawns_remote, 1);
    assert_eq!(c.spawns, 2, "the remote task and spawn_blocking's carrier");
}

#[test]
fn a_remote_task_that_panics_hands_its_payload_to_the_handle() {
    let rt = counting();
    let h = rt.handle().spawn(async { panic!("remote boom") });
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_panic());
    assert!(err.task_id() > 0);
    assert_eq!(panic_message(err.into_panic()), "remote boom");
    assert_eq!(rt.probes().counters.panics, 1);
}

#[test]
fn remote_spawns_after_the_runtime_is_gone_are_cancelled() {
    let rt = counting();
    let handle = rt.handle();
    let queued = handle.spawn(std::future::pending::<()>()); // never taken in
    drop(rt);
    assert!(futures::executor::block_on(queued)
        .unwrap_err()
        .is_cancelled());
    let late = handle.spawn(async { 1 });
    assert!(futures::executor::block_on(late)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn many_threads_spawn_and_every_output_arrives() {
    let rt = counting();
    // Fewer under Miri, which runs these threads thousands of times slower.
    let per_thread: u64 = if cfg!(miri) { 20 } else { 250 };
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let handle = rt.handle();
            thread::spawn(move || {
                (0..per_thread)
                    .map(|i| handle.spawn(async move { t * 1000 + i }))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let handles: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let sum: u64 = rt.block_on(async move {
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let expected: u64 = (0..4u64)
        .map(|t| (0..per_thread).map(|i| t * 1000 + i).sum::<u64>())
        .sum();
    assert_eq!(sum, expected);
    let c = rt.probes().counters;
    assert_eq!(
        (c.spawns_remote, c.completions),
        (4 * per_thread, 4 * per_thread)
    );
}
