//! Task lifecycles: completion at scale, panics, aborts, detaching, and runtime drop.

mod common;

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

use common::{counting, ms, panic_message};

/// Counts its drops in a shared counter.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn many_spawned_tasks_all_complete() {
    let n: u64 = if cfg!(miri) { 200 } else { 100_000 };
    let rt = counting();
    let total = rt.block_on(async move {
        let handles: Vec<_> = (0..n).map(|i| turnstile::spawn(async move { i })).collect();
        let mut total = 0;
        for h in handles {
            total += h.await.unwrap();
        }
        total
    });
    assert_eq!(total, n * (n - 1) / 2);
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.completions, c.polls), (n, n, n));
}

#[test]
fn a_panicking_task_is_caught_and_the_others_finish() {
    let rt = counting();
    let (ok, err) = rt.block_on(async {
        let a = turnstile::spawn(async {
            turnstile::yield_now().await;
            1
        });
        let bad = turnstile::spawn(async {
            turnstile::yield_now().await;
            panic!("task exploded");
        });
        let b = turnstile::spawn(async {
            turnstile::yield_now().await;
            2
        });
        let err = bad.await.unwrap_err();
        (a.await.unwrap() + b.await.unwrap(), err)
    });
    assert_eq!(ok, 3);
    assert!(err.is_panic() && !err.is_cancelled());
    assert!(err.to_string().contains("task exploded"), "{err}");
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task exploded"));
    let c = rt.probes().counters;
    assert_eq!((c.panics, c.completions, c.spawns), (1, 2, 3));
}

#[test]
fn abort_wakes_the_awaiting_task_with_cancelled() {
    let rt = counting();
    let dropped = Rc::new(Cell::new(0));
    let guard = DropCounter(dropped.clone());
    let outcome = rt.block_on(async move {
        let victim = turnstile::spawn(async move {
            let _guard = guard;
            turnstile::time::sleep(Duration::from_secs(3600)).await;
        });
        let abort = victim.abort_handle();
        let waiter = turnstile::spawn(victim); // a task whose only job is to await the victim
        turnstile::yield_now().await; // both tasks run once and go idle
        abort.abort();
        waiter.await.expect("the waiter itself finished")
    });
    assert!(outcome.unwrap_err().is_cancelled());
    assert_eq!(
        dropped.get(),
        1,
        "the aborted future is dropped exactly once"
    );
    let c = rt.probes().counters;
    assert_eq!(c.cancellations, 1);
    assert_eq!(
        c.timers_cancelled, 1,
        "dropping the aborted sleep cancels its timer"
    );
    assert_eq!(c.completions, 1, "only the waiter completed");
}

#[test]
fn a_task_that_aborts_itself_is_dropped_after_its_poll() {
    let rt = counting();
    let dropped = Rc::new(Cell::new(0));
    let guard = DropCounter(dropped.clone());
    let me = Rc::new(Cell::new(None::<turnstile::AbortHandle>));
    let slot = me.clone();
    let err = rt.block_on(async move {
        let h = turnstile::spawn(async move {
            let _guard = guard;
            loop {
                if let Some(abort) = slot.take() {
                    abort.abort();
                }
                turnstile::yield_now().await;
            }
        });
        me.set(Some(h.abort_handle()));
        h.await.unwrap_err()
    });
    assert!(err.is_cancelled());
    assert_eq!(dropped.get(), 1);
}

#[test]
fn abort_after_completion_does_nothing() {
    let rt = counting();
    rt.block_on(async {
        let h = turnstile::spawn(async { 5 });
        turnstile::yield_now().await;
        assert!(h.is_finished());
        h.abort();
        assert_eq!(h.await.unwrap(), 5);
    });
    assert_eq!(rt.probes().counters.cancellations, 0);
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    let rt = counting();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    rt.block_on(async move {
        drop(turnstile::spawn(async move {
            turnstile::yield_now().await;
            r.set(true);
        }));
        turnstile::yield_now().await;
        turnstile::yield_now().await;
    });
    assert!(ran.get());
}

#[test]
fn dropping_the_runtime_drops_every_pending_future_exactly_once() {
    let dropped = Rc::new(Cell::new(0));
    let rt = counting();
    let kept = rt.block_on({
        let dropped = dropped.clone();
        async move {
            let mut kept = Vec::new();
            for i in 0..30 {
                let guard = DropCounter(dropped.clone());
                let h = turnstile::spawn(async move {
                    let _guard = guard;
                    match i % 3 {
                        0 => pending::<()>().await,
                        1 => turnstile::time::sleep(Duration::from_secs(3600)).await,
                        _ => loop {
                            turnstile::yield_now().await;
                        },
                    }
                });
                if i % 2 == 0 {
                    kept.push(h);
                } // odd ones are detached
            }
            turnstile::yield_now().await;
            kept
        }
    });
    assert_eq!(dropped.get(), 0);
    drop(rt);
    assert_eq!(dropped.get(), 30);
    for h in kept {
        let err = futures::executor::block_on(h).unwrap_err();
        assert!(err.is_cancelled());
    }
}

#[test]
#[allow(clippy::async_yields_async)] // the point: the handle leaves one block_on for the next
fn tasks_outlive_one_block_on_and_run_in_the_next() {
    let rt = counting();
    let h = rt.block_on(async {
        turnstile::spawn(async {
            turnstile::time::sleep(ms(1)).await;
            "later"
        })
    });
    assert_eq!(rt.block_on(h).unwrap(), "later");
}

#[test]
fn nested_block_on_panics_and_says_why() {
    let rt = counting();
    let inner = counting();
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { inner.block_on(async {}) })
    }))
    .unwrap_err();
    let msg = panic_message(payload);
    assert!(msg.contains("inside another block_on"), "{msg}");
    assert!(
        msg.contains(".await"),
        "the message should say what to do: {msg}"
    );
    // The outer runtime is still usable.
    assert_eq!(rt.block_on(async { 3 }), 3);
}

#[test]
fn spawn_outside_a_runtime_panics_and_says_what_to_do() {
    let payload = std::panic::catch_unwind(|| drop(turnstile::spawn(async {}))).unwrap_err();
    let msg = panic_message(payload);
    assert!(
        msg.contains("outside a runtime") && msg.contains("block_on"),
        "{msg}"
    );
}

#[test]
#[allow(clippy::async_yields_async)] // the handle outlives the block_on that spawned it
fn a_panic_in_the_block_on_future_reaches_the_caller_and_the_runtime_survives() {
    let rt = counting();
    let background = rt.block_on(async {
        turnstile::spawn(async {
            turnstile::time::sleep(ms(2)).await;
            7
        })
    });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { panic!("main future failed") })
    }));
    assert_eq!(panic_message(caught.unwrap_err()), "main future failed");
    assert_eq!(rt.block_on(background).unwrap(), 7);
    assert_eq!(
        rt.block_on(async { turnstile::spawn(async { 1 }).await.unwrap() }),
        1
    );
}

#[test]
fn spawn_blocking_returns_its_result_and_reports_panics() {
    let rt = counting();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let (value, err, after) = rt.block_on(async move {
        let value = turnstile::spawn_blocking(move || {
            c.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(ms(5));
            std::thread::current().name().map(str::to_owned)
        })
        .await
        .unwrap();
        let err = turnstile::spawn_blocking(|| -> u8 { panic!("blocking job failed") })
            .await
            .unwrap_err();
        // The pool survives a panicking job.
        let after = turnstile::spawn_blocking(|| 11).await.unwrap();
        (value, err, after)
    });
    assert_eq!(value.as_deref(), Some("turnstile-blocking"));
    assert!(err.is_panic());
    assert_eq!(panic_message(err.into_panic()), "blocking job failed");
    assert_eq!(after, 11);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let c = rt.probes().counters;
    assert_eq!(c.offloaded, 3);
    assert!(
        c.wakes_remote >= 1,
        "results come back through the remote wake path"
    );
}

#[test]
fn spawn_blocking_runs_alongside_the_loop() {
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .blocking_threads(2)
        .build()
        .unwrap();
    let ticks = rt.block_on(async {
        let job = turnstile::spawn_blocking(|| std::thread::sleep(ms(30)));
        let mut ticks = 0;
        while !job.is_finished() {
            turnstile::time::sleep(ms(1)).await;
            ticks += 1;
        }
        job.await.unwrap();
        ticks
    });
    assert!(
        ticks >= 2,
        "the loop kept ticking while the job blocked a pool thread"
    );
}

#[test]
fn a_task_aborted_while_queued_is_never_polled_and_dropped_once() {
    let rt = counting();
    let dropped = Rc::new(Cell::new(0));
    let guard = DropCounter(dropped.clone());
    let err = rt.block_on(async move {
        let h = turnstile::spawn(async move {
            let _guard = guard;
            unreachable!("aborted before its first poll");
        });
        h.abort(); // still on the ready queue: its entry is skipped when the loop gets there
        let err = h.await.unwrap_err(); // resolved at once, in this same turn...
        turnstile::yield_now().await; // ...so give the loop a turn to reach the entry
        err
    });
    assert!(err.is_cancelled());
    assert_eq!(dropped.get(), 1);
    let c = rt.probes().counters;
    assert_eq!((c.polls, c.skipped_entries, c.cancellations), (0, 1, 1));
}

#[test]
fn a_task_that_wakes_itself_and_then_completes_is_released_once() {
    let rt = counting();
    rt.block_on(async {
        let h = turnstile::spawn(std::future::poll_fn(|cx| {
            cx.waker().wake_by_ref(); // queued again...
            std::task::Poll::Ready(5) // ...but already done: the queue entry is skipped
        }));
        assert_eq!(h.await.unwrap(), 5);
        turnstile::yield_now().await;
    });
    let c = rt.probes().counters;
    // Two self-wakes: the task's, and block_on's own yield_now.
    assert_eq!(
        (c.polls, c.completions, c.skipped_entries, c.wakes_self),
        (1, 1, 1, 2)
    );
}

/// On drop, wakes its task through a stored waker and aborts it through its handle.
struct WakeAndAbortOnDrop {
    waker: Option<std::task::Waker>,
    abort: Rc<Cell<Option<turnstile::AbortHandle>>>,
}

impl Drop for WakeAndAbortOnDrop {
    fn drop(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
        if let Some(a) = self.abort.take() {
            a.abort();
        }
    }
}

#[test]
fn a_destructor_that_wakes_and_aborts_its_own_task_is_harmless() {
    let rt = counting();
    let abort = Rc::new(Cell::new(None));
    let slot = abort.clone();
    rt.block_on(async move {
        let h = turnstile::spawn(async move {
            let waker = std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
            let _bomb = WakeAndAbortOnDrop {
                waker: Some(waker),
                abort: slot,
            };
            pending::<()>().await;
        });
        abort.set(Some(h.abort_handle()));
        turnstile::yield_now().await; // the task runs and parks on `pending`
                                      // Aborting drops the future, whose destructor wakes and aborts the same task.
        h.abort();
        assert!(h.await.unwrap_err().is_cancelled());
    });
    let c = rt.probes().counters;
    assert_eq!((c.cancellations, c.drop_panics, c.completions), (1, 0, 0));
    assert_eq!(c.wakes_noop, 1, "the destructor's wake found its task done");
}

#[test]
fn task_names_follow_their_tasks_into_the_history_and_out() {
    let rt = counting();
    rt.block_on(async {
        // 100 named tasks finish; the history keeps the last 64 of them.
        for i in 0..100 {
            turnstile::task::Builder::new()
                .name(format!("job {i}"))
                .spawn(async {})
                .await
                .unwrap();
        }
        let _live = turnstile::task::Builder::new()
            .name("still running")
            .spawn(std::future::pending::<()>());
        let _unnamed = turnstile::spawn(std::future::pending::<()>());
        turnstile::yield_now().await;
    });
    let tasks = rt.probes().tasks;
    let names: Vec<Option<&str>> = tasks.iter().map(|t| t.name.as_deref()).collect();
    assert_eq!(names.len(), 64 + 2);
    for (i, name) in names[..64].iter().enumerate() {
        assert_eq!(*name, Some(format!("job {}", 36 + i).as_str()));
    }
    assert_eq!(names[64..], [Some("still running"), None]);
}
