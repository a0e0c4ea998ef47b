//! The tokio-shaped task and context API: `Runtime::enter`, `Handle::current`,
//! `task::id`, `AbortHandle` from other threads, `JoinSet` and `task_local!`. Exact
//! counts from the probes where they make the claim exact.

mod common;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use turnstile::task::JoinSet;
use turnstile::time::sleep;
use turnstile::{Handle, Runtime};

use common::{counting, ms, panic_message};

// ---- context ----

#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP sockets")]
fn enter_lets_code_outside_block_on_make_sockets_timers_and_tasks() {
    let rt = counting();
    let (listener, nap, task) = {
        let _guard = rt.enter();
        assert!(Handle::try_current().is_ok());
        // `bind` is async (as in tokio), but completes in its first poll.
        let bind = turnstile::net::TcpListener::bind("127.0.0.1:0");
        let listener = bind.now_or_never().unwrap().unwrap();
        let nap = sleep(ms(1));
        let task = turnstile::spawn(async { turnstile::task::id() });
        (listener, nap, task)
    };
    assert!(Handle::try_current().is_err());
    let addr = listener.local_addr().unwrap();
    let id = task.id();
    rt.block_on(async move {
        nap.await;
        assert_eq!(task.await.unwrap(), id);
        let client =
            turnstile::spawn(
                async move { turnstile::net::TcpStream::connect(addr).await.unwrap() },
            );
        let (_conn, _) = listener.accept().await.unwrap();
        client.await.unwrap();
    });
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.completions), (2, 2));
}

#[test]
fn block_on_runs_under_an_enter_guard_and_guards_nest() {
    let a = counting();
    let b = counting();
    let _ga = a.enter();
    {
        let _gb = b.enter();
        // b is current: a task spawned here lands on b.
        let h = turnstile::spawn(async { 1 });
        assert_eq!(b.block_on(h).unwrap(), 1);
    }
    // Back to a.
    let h = turnstile::spawn(async { 2 });
    assert_eq!(a.block_on(h).unwrap(), 2);
    assert_eq!(a.probes().counters.spawns, 1);
    assert_eq!(b.probes().counters.spawns, 1);
}

#[test]
fn an_enter_guard_dropped_out_of_order_panics_and_leaves_no_runtime_current() {
    let a = counting();
    let b = counting();
    let ga = a.enter();
    let gb = b.enter();
    let err = panic::catch_unwind(AssertUnwindSafe(|| drop(ga))).unwrap_err();
    assert!(panic_message(err).contains("out of order"));
    assert!(Handle::try_current().is_err());
    // The later guard finds itself out of order too, and never restores `a`.
    let err = panic::catch_unwind(AssertUnwindSafe(|| drop(gb))).unwrap_err();
    assert!(panic_message(err).contains("out of order"));
    assert!(Handle::try_current().is_err());
    // Both runtimes still work.
    assert_eq!(a.block_on(async { 1 }), 1);
    assert_eq!(b.block_on(async { 2 }), 2);
}

#[test]
#[cfg_attr(miri, ignore = "leaks the runtime on purpose, which Miri reports")]
fn a_forgotten_enter_guard_never_leaves_a_dangling_runtime() {
    let rt = counting();
    std::mem::forget(rt.enter());
    drop(rt);
    // The runtime is shut down but its state stays allocated (the guard's reference
    // leaked with it): spawning here is refused as after shutdown, never a use after
    // free.
    let h = Handle::current();
    let remote = h.spawn(async { 1 });
    let other = counting();
    assert!(other.block_on(remote).unwrap_err().is_cancelled());
}

#[test]
fn handle_current_outside_a_runtime_says_what_to_do() {
    let err = Handle::try_current().unwrap_err();
    assert!(err.to_string().contains("Runtime::enter"));
    let msg = panic_message(panic::catch_unwind(Handle::current).unwrap_err());
    assert!(
        msg.contains("block_on") && msg.contains("Runtime::enter"),
        "{msg}"
    );
}

#[test]
fn task_id_names_the_task_being_polled_and_none_elsewhere() {
    let rt = counting();
    rt.block_on(async {
        assert_eq!(turnstile::task::try_id(), None);
        let mut ids = Vec::new();
        let mut hs = Vec::new();
        for _ in 0..3 {
            let h = turnstile::spawn(async {
                let before = turnstile::task::id();
                turnstile::yield_now().await;
                assert_eq!(turnstile::task::id(), before);
                before
            });
            ids.push(h.id());
            hs.push(h);
        }
        for (h, id) in hs.into_iter().zip(ids) {
            assert_eq!(h.await.unwrap(), id);
        }
        let msg = panic_message(panic::catch_unwind(turnstile::task::id).unwrap_err());
        assert!(msg.contains("outside a task"), "{msg}");
    });
}

// ---- AbortHandle ----

#[test]
fn abort_handles_abort_from_other_threads_as_remote_wakes() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<turnstile::AbortHandle>();

    let rt = counting();
    let dropped = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut handles = Vec::new();
        let mut aborts = Vec::new();
        for _ in 0..4 {
            let guard = DropCount(dropped.clone());
            let h = turnstile::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            aborts.push(h.abort_handle());
            handles.push(h);
        }
        turnstile::yield_now().await; // every task is parked in `pending`
        std::thread::spawn(move || aborts.iter().for_each(|a| a.abort()))
            .join()
            .unwrap();
        for h in handles {
            assert!(h.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(dropped.load(Ordering::SeqCst), 4);
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.cancellations), (4, 4));
}

#[test]
fn an_abort_handle_outliving_its_task_or_runtime_is_a_no_op() {
    let rt = counting();
    let (abort, done_id) = rt.block_on(async {
        let h = turnstile::spawn(async {});
        let abort = h.abort_handle();
        let id = h.id();
        h.await.unwrap();
        abort.abort(); // finished: nothing to do
        (abort, id)
    });
    assert_eq!(abort.id(), done_id);
    std::thread::spawn({
        let abort = abort.clone();
        move || abort.abort()
    })
    .join()
    .unwrap();
    rt.block_on(turnstile::yield_now()); // drains the remote abort: a stale key
    assert_eq!(rt.probes().counters.cancellations, 0);
    drop(rt);
    abort.abort(); // the runtime is gone
}

struct DropCount(Arc<AtomicUsize>);
impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

// ---- JoinSet ----

#[test]
fn join_set_returns_outputs_in_finishing_order() {
    let rt = counting();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for (i, n) in [3u64, 1, 2].into_iter().enumerate() {
            set.spawn(async move {
                sleep(ms(5 * n)).await;
                i
            });
        }
        assert_eq!(set.len(), 3);
        let mut order = Vec::new();
        while let Some(r) = set.join_next().await {
            order.push(r.unwrap());
        }
        assert_eq!(order, [1, 2, 0]);
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn join_set_reports_panics_and_cancellations_with_ids() {
    let rt = counting();
    rt.block_on(async {
        let mut set = JoinSet::new();
        let ok = set.spawn(async { 1 }).id();
        let boom = set.spawn(async { panic!("boom") }).id();
        let stuck = set.spawn(std::future::pending());
        stuck.abort();
        let mut seen = Vec::new();
        while let Some(r) = set.join_next_with_id().await {
            match r {
                Ok((id, out)) => seen.push((id, format!("ok {out}"))),
                Err(e) if e.is_panic() => seen.push((e.task_id(), "panic".into())),
                Err(e) => seen.push((e.task_id(), "cancelled".into())),
            }
        }
        seen.sort();
        assert_eq!(
            seen,
            [
                (ok, "ok 1".to_string()),
                (boom, "panic".into()),
                (stuck.id(), "cancelled".into())
            ]
        );
    });
}

#[test]
fn dropping_a_join_set_aborts_its_tasks_and_detach_all_does_not() {
    let rt = counting();
    let dropped = Arc::new(AtomicUsize::new(0));
    let ran = Rc::new(RefCell::new(0));
    rt.block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..5 {
            let guard = DropCount(dropped.clone());
            set.spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
        }
        turnstile::yield_now().await;
        drop(set);
        assert_eq!(dropped.load(Ordering::SeqCst), 5, "aborted at the drop");

        let mut set = JoinSet::new();
        for _ in 0..3 {
            let ran = ran.clone();
            set.spawn(async move {
                sleep(ms(1)).await;
                *ran.borrow_mut() += 1;
            });
        }
        set.detach_all();
        assert!(set.is_empty());
        drop(set);
        sleep(ms(5)).await;
    });
    assert_eq!(*ran.borrow(), 3);
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.cancellations, c.completions), (8, 5, 3));
}

#[test]
fn try_join_next_takes_only_what_has_finished() {
    let rt = counting();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..100u32 {
            set.spawn(async move { i });
        }
        set.spawn(std::future::pending::<u32>());
        assert!(set.try_join_next().is_none(), "nothing has run yet");
        // One turn runs the first 60 tasks: the block_on future's poll and 60 task
        // polls spend the event interval (61 polls), which cuts the batch there.
        turnstile::yield_now().await;
        let mut sum = 0;
        while let Some(r) = set.try_join_next() {
            sum += r.unwrap();
        }
        assert_eq!(sum, (0..60u32).sum::<u32>());
        assert_eq!(set.len(), 41);
        turnstile::yield_now().await; // the other 40 ran
        while let Some(r) = set.try_join_next() {
            sum += r.unwrap();
        }
        assert_eq!(sum, (0..100u32).sum::<u32>());
        assert_eq!(set.len(), 1);
        set.shutdown().await;
        assert!(set.is_empty());
    });
    let c = rt.probes().counters;
    assert_eq!((c.completions, c.cancellations), (100, 1));
}

#[test]
fn join_all_resumes_a_task_panic() {
    let rt = counting();
    let err = panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { 1 });
            set.spawn(async { panic!("inside the set") });
            set.join_all().await
        })
    }))
    .unwrap_err();
    assert_eq!(panic_message(err), "inside the set");
    assert_eq!(rt.block_on(async { 1 }), 1, "the runtime stays usable");
}

// ---- task_local! ----

turnstile::task_local! {
    static REQUEST: u32;
    static TRAIL: RefCell<Vec<&'static str>>;
}

#[test]
fn task_locals_are_isolated_between_interleaved_tasks() {
    let rt = counting();
    rt.block_on(async {
        let mut set = JoinSet::new();
        for id in 0..10u32 {
            set.spawn(REQUEST.scope(id, async move {
                for _ in 0..3 {
                    assert_eq!(REQUEST.get(), id);
                    turnstile::yield_now().await; // the others run in between
                }
                REQUEST.get()
            }));
        }
        let mut seen: Vec<u32> = set.join_all().await;
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert!(
            REQUEST.try_with(|_| ()).is_err(),
            "the block_on future has none"
        );
    });
    // 10 tasks x 4 polls each: the scopes add no poll.
    assert_eq!(rt.probes().counters.polls, 40);
}

#[test]
fn task_local_scopes_nest_and_restore_and_survive_a_panic() {
    let rt = counting();
    rt.block_on(REQUEST.scope(1, async {
        REQUEST
            .scope(2, async {
                assert_eq!(REQUEST.get(), 2);
                turnstile::yield_now().await;
                assert_eq!(REQUEST.get(), 2);
            })
            .await;
        assert_eq!(REQUEST.get(), 1);
        let r = panic::catch_unwind(|| REQUEST.sync_scope(3, || panic!("in scope")));
        assert!(r.is_err());
        assert_eq!(
            REQUEST.get(),
            1,
            "the unwinding scope put the outer value back"
        );
    }));
    assert!(REQUEST.try_with(|_| ()).is_err());
}

#[test]
fn a_scoped_future_dropped_unfinished_sees_its_value_in_destructors() {
    struct Notes;
    impl Drop for Notes {
        fn drop(&mut self) {
            TRAIL.with(|t| t.borrow_mut().push("dropped in scope"));
        }
    }
    let rt = counting();
    let trail = rt.block_on(TRAIL.scope(RefCell::new(Vec::new()), async {
        let inner = TRAIL.scope(RefCell::new(Vec::new()), async {
            let _notes = Notes;
            std::future::pending::<()>().await
        });
        let mut inner = Box::pin(inner);
        assert!(futures::poll!(inner.as_mut()).is_pending());
        drop(inner); // `Notes` writes into the inner scope's value, not ours
        TRAIL.with(|t| t.borrow().clone())
    }));
    assert!(trail.is_empty());
}

#[test]
fn runtime_enter_and_block_on_handles_are_the_same_runtime() {
    let rt = Runtime::builder()
        .probes(turnstile::probes::Level::Counters)
        .name("same")
        .build()
        .unwrap();
    let handle = {
        let _g = rt.enter();
        Handle::current()
    };
    let h = std::thread::spawn(move || handle.spawn(async { turnstile::task::id() }))
        .join()
        .unwrap();
    let id = rt.block_on(h).unwrap();
    assert!(id > 0);
    let _ = Duration::ZERO;
}
