//! Behaviours that tokio's own task tests check, ported to turnstile (issue 22): each
//! test here failed before its fix. Exact counts, no wall-clock asserts.

mod common;

use std::panic::{self, AssertUnwindSafe};

use turnstile::task::JoinSet;

use common::{counting, panic_message};

// ---- JoinError's text ----

#[test]
fn join_errors_display_and_debug_as_tokio_s_do() {
    let rt = counting();
    rt.block_on(async {
        let boom = turnstile::spawn(async { panic!("boom") });
        let id = boom.id();
        let err = boom.await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("task {id} panicked with message \"boom\"")
        );
        assert_eq!(
            format!("{err:?}"),
            format!("JoinError::Panic(Id({id}), \"boom\", ...)")
        );

        let formatted = turnstile::spawn(async { panic!("{} \"quoted\"", 7) });
        let id = formatted.id();
        let err = formatted.await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(r#"task {id} panicked with message "7 \"quoted\"""#)
        );

        let opaque = turnstile::spawn(async { panic::panic_any(42u8) });
        let id = opaque.id();
        let err = opaque.await.unwrap_err();
        assert_eq!(err.to_string(), format!("task {id} panicked"));
        assert_eq!(
            format!("{err:?}"),
            format!("JoinError::Panic(Id({id}), ...)")
        );

        let cancelled = turnstile::spawn(std::future::pending::<()>());
        let id = cancelled.id();
        cancelled.abort();
        let err = cancelled.await.unwrap_err();
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
        assert_eq!(
            format!("{err:?}"),
            format!("JoinError::Cancelled(Id({id}))")
        );
    });
}

// ---- JoinSet ----

/// More finished tasks than one poll's budget (128): `try_join_next` used to see the
/// budget's `Pending` and self-wake as "look again", forever.
#[test]
fn try_join_next_takes_more_finished_tasks_than_one_budget() {
    let rt = counting();
    let joined = rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..300u32 {
            set.spawn(async move { i });
        }
        // All 300 run and finish (a turn polls at most `event_interval` tasks).
        while turnstile::probes::snapshot().counters.completions < 300 {
            turnstile::yield_now().await;
        }
        let mut joined = Vec::new();
        while let Some(out) = set.try_join_next() {
            joined.push(out.unwrap());
        }
        assert!(set.is_empty());
        joined
    });
    let mut sorted = joined.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..300).collect::<Vec<_>>());
    // It took none of the block_on future's budget: no budget yield was counted.
    assert_eq!(rt.probes().counters.budget_yields, 0);
}

// ---- #[track_caller] reaches the user ----

thread_local! {
    /// Where the last panic on this thread was raised, as the panic hook saw it, while
    /// `panic_site` listens (`Some`).
    static PANIC_AT: std::cell::RefCell<Option<Option<(String, u32)>>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the panic's file, line and message. A hook
/// installed once records the location on threads where `panic_site` listens, and
/// hands every other panic to the previous hook.
fn panic_site(f: impl FnOnce()) -> (String, u32, String) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| (l.file().to_string(), l.line()));
            let listened = PANIC_AT
                .try_with(|p| p.borrow_mut().as_mut().map(|slot| *slot = at))
                .ok()
                .flatten();
            if listened.is_none() {
                previous(info);
            }
        }));
    });
    PANIC_AT.with(|p| *p.borrow_mut() = Some(None));
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("it should panic");
    let at = PANIC_AT.with(|p| p.borrow_mut().take()).flatten();
    let (file, line) = at.expect("the hook saw the panic");
    (file, line, panic_message(payload))
}

/// Asserts that `f` panics saying `says`, at a line of this file within the macro's call
/// (`line!()` in a macro is the line where its call begins; rustfmt may spread the call).
macro_rules! assert_panics_here {
    ($f:expr, $says:expr) => {{
        let first = line!();
        let (file, line, msg) = panic_site($f);
        assert_eq!(file, file!(), "{msg}");
        assert!((first..first + 5).contains(&line), "line {line}: {msg}");
        assert!(msg.contains($says), "{msg}");
    }};
}

#[test]
fn panics_of_the_task_surface_point_at_the_caller() {
    assert_panics_here!(
        || {
            turnstile::task::id();
        },
        "outside a task"
    );
    assert_panics_here!(|| drop(turnstile::spawn(async {})), "outside a runtime");
    assert_panics_here!(
        || drop(turnstile::task::spawn_local(async {})),
        "outside a runtime"
    );
    assert_panics_here!(
        || drop(turnstile::task::Builder::new().spawn(async {})),
        "outside a runtime"
    );
    assert_panics_here!(|| drop(JoinSet::new().spawn(async {})), "outside a runtime");
    assert_panics_here!(
        || drop(turnstile::spawn_blocking(|| ())),
        "outside a runtime"
    );
    assert_panics_here!(
        || drop(turnstile::Handle::current()),
        "no turnstile runtime"
    );
    turnstile::task_local! { static UNSET: u32; }
    assert_panics_here!(|| UNSET.with(|_| ()), "not set");
    assert_panics_here!(
        || {
            UNSET.get();
        },
        "not set"
    );
    let rt = counting();
    let err = rt.block_on(async {
        let h = turnstile::spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err()
    });
    assert_panics_here!(|| drop(err.into_panic()), "did not panic");
    #[cfg(feature = "metrics")]
    assert_panics_here!(|| drop(turnstile::metrics::publish()), "outside a runtime");
}

#[test]
fn a_join_handle_polled_after_its_output_points_at_the_poll() {
    use std::future::Future;
    use std::task::{Context, Poll};
    let rt = counting();
    rt.block_on(async {
        let mut h = turnstile::spawn(async { 1 });
        assert_eq!((&mut h).await.unwrap(), 1);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert_panics_here!(
            || drop::<Poll<_>>(std::pin::Pin::new(&mut h).poll(&mut cx)),
            "polled again"
        );
    });
}

// ---- aborting a task whose destructor panics ----

/// A future that never completes and panics when dropped.
struct PanicsOnDrop;

impl std::future::Future for PanicsOnDrop {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropped badly");
    }
}

#[test]
fn an_abort_whose_destructor_panics_joins_as_that_panic() {
    let rt = counting();
    rt.block_on(async {
        // Aborted after its first poll, from the block_on future...
        let polled = turnstile::spawn(PanicsOnDrop);
        turnstile::yield_now().await;
        polled.abort();
        let err = polled.await.unwrap_err();
        assert!(err.is_panic() && !err.is_cancelled(), "{err}");
        assert_eq!(panic_message(err.into_panic()), "dropped badly");
        // ... and before it ever ran, from another task.
        let queued = turnstile::spawn(PanicsOnDrop);
        let abort = queued.abort_handle();
        turnstile::spawn(async move { abort.abort() })
            .await
            .unwrap();
        let err = queued.await.unwrap_err();
        assert!(err.is_panic(), "{err}");
        assert_eq!(panic_message(err.into_panic()), "dropped badly");
    });
    let c = rt.probes().counters;
    assert_eq!((c.cancellations, c.drop_panics, c.panics), (2, 2, 0));
}

// ---- task::id outside the task's polls ----

#[test]
fn task_id_inside_spawn_blocking_is_the_blocking_task_s() {
    let rt = counting();
    rt.block_on(async {
        let h = turnstile::spawn_blocking(|| (turnstile::task::try_id(), turnstile::task::id()));
        let id = h.id();
        assert_eq!(h.await.unwrap(), (Some(id), id));
    });
}

/// Records `task::try_id()` when dropped.
struct SeesId(Seen, &'static str);

impl Drop for SeesId {
    fn drop(&mut self) {
        self.0
            .borrow_mut()
            .push((self.1, turnstile::task::try_id()));
    }
}

/// `F` with a [`SeesId`] that drops with the future itself, not when `F` completes.
struct Guarded<F> {
    _guard: SeesId,
    future: std::pin::Pin<Box<F>>,
}

fn guarded<F: std::future::Future>(seen: &Seen, what: &'static str, future: F) -> Guarded<F> {
    Guarded {
        _guard: SeesId(seen.clone(), what),
        future: Box::pin(future),
    }
}

impl<F: std::future::Future> std::future::Future for Guarded<F> {
    type Output = F::Output;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.future.as_mut().poll(cx)
    }
}

type Seen = std::rc::Rc<std::cell::RefCell<Vec<(&'static str, Option<u64>)>>>;

#[test]
fn task_id_inside_a_task_s_destructors_is_the_task_s() {
    let seen = Seen::default();
    let rt = counting();
    let (ids, aborted_outside) = rt.block_on(async {
        let s = &seen;
        let mut ids = Vec::new();
        // Completes: its future drops after its last poll, its output when the handle
        // that holds it is dropped.
        let out = SeesId(s.clone(), "output in a dropped handle");
        let done = turnstile::spawn(guarded(s, "future after completion", async move { out }));
        ids.push(done.id());
        // Aborted while pending, from the block_on future.
        let aborted = turnstile::spawn(guarded(
            s,
            "future after abort",
            std::future::pending::<()>(),
        ));
        ids.push(aborted.id());
        // Its handle dropped first: it completes later, its output dropped on arrival.
        let out = SeesId(s.clone(), "output of a detached task");
        let detached = turnstile::spawn(guarded(s, "future of a detached task", async move {
            turnstile::yield_now().await;
            out
        }));
        ids.push(detached.id());
        drop(detached);
        turnstile::yield_now().await; // all three polled once: `done` completes
        aborted.abort();
        turnstile::yield_now().await; // the detached task completes
        drop(done);
        // Still pending when the runtime drops.
        let at_shutdown = turnstile::spawn(guarded(
            s,
            "future at shutdown",
            std::future::pending::<()>(),
        ));
        ids.push(at_shutdown.id());
        // Aborted outside block_on (below).
        let outside = turnstile::spawn(guarded(
            s,
            "future aborted outside block_on",
            std::future::pending::<()>(),
        ));
        ids.push(outside.id());
        turnstile::yield_now().await;
        (ids, outside)
    });
    aborted_outside.abort();
    drop(rt);
    let [done, aborted, detached, at_shutdown, outside] = ids[..] else {
        unreachable!()
    };
    assert_eq!(
        *seen.borrow(),
        [
            ("future after completion", Some(done)),
            ("future after abort", Some(aborted)),
            ("output of a detached task", Some(detached)),
            ("future of a detached task", Some(detached)),
            ("output in a dropped handle", Some(done)),
            ("future aborted outside block_on", Some(outside)),
            ("future at shutdown", Some(at_shutdown)),
        ]
    );
}

// ---- JoinHandle: Send ----

fn assert_send<T: Send>(_: &T) {}
fn assert_sync<T: Sync>(_: &T) {}

#[test]
fn join_handles_of_send_outputs_are_send_so_send_futures_may_await_them() {
    let rt = counting();
    rt.block_on(async {
        let h: turnstile::JoinHandle<u32> = turnstile::spawn(async { 1 });
        assert_send(&h);
        assert_sync(&h);
        let blocking = turnstile::spawn_blocking(|| 2u32);
        assert_send(&blocking);
        // What an axum handler is: a `Send` future that awaits a blocking job.
        let handler = async move {
            let offloaded = turnstile::spawn_blocking(|| 3u32).await.unwrap();
            h.await.unwrap() + blocking.await.unwrap() + offloaded
        };
        assert_send(&handler);
        assert_eq!(handler.await, 6);
        #[cfg(feature = "metrics")]
        {
            let publication = async { turnstile::metrics::publish().await };
            assert_send(&publication);
            publication.await;
        }
    });
}

/// Counts its drops, from any thread.
struct CountsDrops(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for CountsDrops {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn a_join_handle_dropped_on_another_thread_is_detached_by_the_loop() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = counting();
    let (done, pending) = rt.block_on(async {
        let d = drops.clone();
        let done = turnstile::spawn(async move { CountsDrops(d) });
        let pending = turnstile::spawn(std::future::pending::<()>());
        turnstile::yield_now().await; // `done` has finished: its output waits in it
        (done, pending)
    });
    std::thread::spawn(move || drop((done, pending)))
        .join()
        .unwrap();
    // The output is dropped by the loop, at its next turn (not on the other thread).
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    rt.block_on(turnstile::yield_now());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.completions, c.cancellations), (2, 1, 0));
    drop(rt); // the detached pending task is dropped with the runtime
}

#[test]
#[allow(clippy::async_yields_async)] // the handle is carried out of block_on on purpose
fn a_join_handle_aborts_from_another_thread_and_comes_back_to_be_awaited() {
    let rt = counting();
    let h = rt.block_on(async {
        let h = turnstile::spawn(std::future::pending::<()>());
        turnstile::yield_now().await;
        h
    });
    let id = h.id();
    let h = std::thread::spawn(move || {
        assert_eq!(h.id(), id); // works anywhere
        h.abort();
        h
    })
    .join()
    .unwrap();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(rt.probes().counters.cancellations, 1);
}

#[test]
fn a_join_handle_awaited_on_another_thread_panics_and_says_why() {
    let rt = counting();
    let (awaited, asked) =
        rt.block_on(async { (turnstile::spawn(async { 1 }), turnstile::spawn(async { 2 })) });
    let err = std::thread::spawn(move || futures::executor::block_on(awaited))
        .join()
        .unwrap_err();
    let msg = panic_message(err);
    assert!(
        msg.contains("awaited (polled) off its runtime's loop thread"),
        "{msg}"
    );
    assert!(msg.contains("Handle::spawn"), "{msg}");
    let err = std::thread::spawn(move || asked.is_finished())
        .join()
        .unwrap_err();
    assert!(panic_message(err).contains("is_finished off its runtime's loop thread"));
    // Both handles were dropped over there (one while unwinding): the loop detaches them.
    rt.block_on(turnstile::yield_now());
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.completions), (2, 2));
}

// ---- the task API tokio's tests use ----

#[test]
fn handle_id_names_one_runtime_from_all_its_handles() {
    let a = counting();
    let b = counting();
    let from_inside = a.block_on(async { turnstile::Handle::current().id() });
    assert_eq!(a.handle().id(), from_inside);
    assert_eq!(a.handle().clone().id(), from_inside);
    assert_ne!(a.handle().id(), b.handle().id());
    // The id outlives the runtime, and is the N of its default name.
    let handle = b.handle();
    assert_eq!(b.name(), format!("turnstile-{}", handle.id()));
    drop(b);
    assert_ne!(handle.id(), a.handle().id());
}

#[test]
fn join_sets_collect_and_extend_from_futures() {
    let rt = counting();
    let all = rt.block_on(async {
        let mut set: JoinSet<u32> = (0..4).map(|i| async move { i }).collect();
        assert_eq!(set.len(), 4);
        set.extend((4..6).map(|i| async move { i }));
        assert_eq!(set.len(), 6);
        set.join_all().await
    });
    let mut sorted = all;
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 1, 2, 3, 4, 5]);
    assert_eq!(rt.probes().counters.spawns, 6);
}

#[test]
fn join_set_spawn_on_spawns_onto_a_runtime_of_this_thread() {
    let rt = counting();
    let other = counting();
    let (here, there) = (rt.handle(), other.handle());
    let mut set = rt.block_on(async move {
        let mut set = JoinSet::new();
        set.spawn_on(async { turnstile::Handle::current().id() }, &here);
        set.spawn_on(async { turnstile::Handle::current().id() }, &there);
        let first = set.join_next().await.unwrap().unwrap();
        assert_eq!(first, here.id()); // the other runtime's task has not run
        set
    });
    other.block_on(turnstile::yield_now());
    let second = rt.block_on(set.join_next()).unwrap().unwrap();
    assert_eq!(second, other.handle().id());
    assert_eq!(rt.probes().counters.spawns, 1);
    assert_eq!(other.probes().counters.spawns, 1);
    // A runtime on another thread is refused, saying what to use instead.
    let foreign = std::thread::spawn(|| counting().handle()).join().unwrap();
    let msg = rt.block_on(async {
        let payload = panic::catch_unwind(AssertUnwindSafe(|| {
            JoinSet::new().spawn_on(async {}, &foreign);
        }))
        .unwrap_err();
        panic_message(payload)
    });
    assert!(msg.contains("Handle::spawn"), "{msg}");
}

#[test]
fn task_local_values_can_be_taken_and_tried() {
    use std::pin::pin;
    turnstile::task_local! { static KEY: u32; }
    let rt = counting();
    rt.block_on(async {
        assert!(KEY.try_get().is_err());
        let mut scoped = pin!(KEY.scope(7, async {
            let first = KEY.try_get();
            turnstile::yield_now().await;
            (first, KEY.try_get())
        }));
        // Taken before the first poll: the future runs with the key not set.
        assert_eq!(scoped.as_mut().take_value(), Some(7));
        assert_eq!(scoped.as_mut().take_value(), None);
        let (first, second) = (&mut scoped).await;
        assert!(first.is_err() && second.is_err());

        let mut scoped = pin!(KEY.scope(8, async { KEY.try_get() }));
        assert_eq!((&mut scoped).await, Ok(8));
        assert_eq!(scoped.as_mut().take_value(), Some(8)); // back in the future once done
    });
}
