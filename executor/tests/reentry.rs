//! The loop survives the code it runs: user code reached from inside the loop (a
//! `tracing` subscriber, the `on_turn` and `on_watchdog` hooks, a future's destructor,
//! a custom `Wake`) may spawn, take a snapshot, abort a task and drop a `Handle`; and a
//! panic from any of those points leaves the runtime consistent and reusable.
//!
//! Every test follows one script (`Scene`): a runtime with a victim task to abort and
//! futures that keep a ledger (made, dropped, polled after `Ready`); user code at the
//! point under test calls [`reenter`], which acts once; then the counts are checked,
//! exactly. The `_panics` twin of each test panics there after acting, catches the
//! panic outside `block_on`, and uses the runtime again.
//!
//! One test binary, tests run one at a time: `tracing` caches call-site interest
//! globally, and each test here installs its own thread-local subscriber.
//!
//! Under Miri (scripts/miri.sh) the tests that reach the unsafe code run: the panic
//! and drop paths of the task cell, the batch guard, release after the runtime's drop.
//! The subscriber tests need the timing probes, which Miri runs too slowly to be worth
//! it, and the outbox they exercise has no unsafe code.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;
use turnstile::probes::Level;
use turnstile::{AbortHandle, Handle, JoinHandle, Runtime};

use common::{ms, panic_message};

/// Tests here run one at a time (see the module docs).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The payload of the injected panics.
const INJECTED: &str = "injected by the test";

/// Counts what happens to the futures a test makes.
#[derive(Default)]
struct Ledger {
    made: Cell<usize>,
    dropped: Cell<usize>,
    polled_after_ready: Cell<usize>,
}

/// A future that keeps its ledger: made, dropped, and polled after it returned `Ready`.
struct Tracked<F> {
    inner: Pin<Box<F>>,
    done: bool,
    ledger: Rc<Ledger>,
}

fn tracked<F: Future>(ledger: &Rc<Ledger>, inner: F) -> Tracked<F> {
    ledger.made.set(ledger.made.get() + 1);
    Tracked {
        inner: Box::pin(inner),
        done: false,
        ledger: ledger.clone(),
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if self.done {
            let l = &self.ledger;
            l.polled_after_ready.set(l.polled_after_ready.get() + 1);
            return Poll::Pending;
        }
        let out = self.inner.as_mut().poll(cx);
        self.done = out.is_ready();
        out
    }
}

impl<F> Drop for Tracked<F> {
    fn drop(&mut self) {
        self.ledger.dropped.set(self.ledger.dropped.get() + 1);
    }
}

/// What user code inside the loop does, once: spawn a task, take a snapshot, abort
/// the victim and drop a `Handle`; then panic, if the test injects one.
struct Reentry {
    ledger: Rc<Ledger>,
    victim: Cell<Option<AbortHandle>>,
    handle: Cell<Option<Handle>>,
    spawned: Cell<Option<JoinHandle<u32>>>,
    snapshot_spawns: Cell<Option<u64>>,
    acted: Cell<u32>,
    panic: bool,
}

thread_local! {
    /// The `Reentry` of the test running on this thread, for user code that cannot
    /// capture it (a subscriber is `Send + Sync`).
    static HERE: RefCell<Option<Rc<Reentry>>> = const { RefCell::new(None) };
}

/// Called by user code at the point under test.
fn reenter() {
    let here = HERE.with(|h| h.borrow().clone());
    if let Some(here) = here {
        here.act();
    }
}

impl Reentry {
    /// The user code of this thread's test, armed with `victim` to abort and a handle
    /// of `rt` to drop.
    fn here(ledger: &Rc<Ledger>, victim: &JoinHandle<()>, rt: &Runtime, panic: bool) -> Rc<Self> {
        let reentry = Rc::new(Reentry {
            ledger: ledger.clone(),
            victim: Cell::new(Some(victim.abort_handle())),
            handle: Cell::new(Some(rt.handle())),
            spawned: Cell::new(None),
            snapshot_spawns: Cell::new(None),
            acted: Cell::new(0),
            panic,
        });
        HERE.with(|h| *h.borrow_mut() = Some(reentry.clone()));
        reentry
    }

    fn act(&self) {
        self.acted.set(self.acted.get() + 1);
        if self.acted.get() > 1 {
            return;
        }
        self.spawned
            .set(Some(turnstile::spawn(tracked(&self.ledger, async { 7 }))));
        let snapshot = turnstile::probes::snapshot();
        self.snapshot_spawns.set(Some(snapshot.counters.spawns));
        if let Some(victim) = self.victim.take() {
            victim.abort();
        }
        drop(self.handle.take());
        if self.panic {
            panic!("{INJECTED}");
        }
    }
}

/// One test's runtime, victim and ledger.
struct Scene {
    rt: Runtime,
    ledger: Rc<Ledger>,
    reentry: Rc<Reentry>,
    victim: JoinHandle<()>,
}

impl Scene {
    fn new(builder: turnstile::Builder, panic: bool) -> Scene {
        Scene::with_runtime(builder.build().expect("runtime"), panic)
    }

    fn with_runtime(rt: Runtime, panic: bool) -> Scene {
        let ledger = Rc::new(Ledger::default());
        #[allow(clippy::async_yields_async)] // the handle outlives this block_on
        let victim = rt.block_on(async {
            let victim = turnstile::spawn(tracked(&ledger, pending::<()>()));
            turnstile::yield_now().await; // polled once, before the scene begins
            victim
        });
        let reentry = Reentry::here(&ledger, &victim, &rt, panic);
        Scene {
            rt,
            ledger,
            reentry,
            victim,
        }
    }

    /// Runs `work` on the runtime; with `panic`, expects the injected panic to leave
    /// `block_on` with its own payload.
    fn run<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        let out = panic::catch_unwind(AssertUnwindSafe(|| self.rt.block_on(work)));
        match out {
            Ok(value) => {
                assert!(
                    !self.reentry.panic,
                    "the injected panic did not leave block_on"
                );
                Some(value)
            }
            Err(payload) => {
                assert!(self.reentry.panic, "an unexpected panic");
                assert_eq!(panic_message(payload), INJECTED);
                None
            }
        }
    }

    /// What the user code did is all there: the task it spawned runs (the runtime is
    /// reused for this after a panic), the victim was cancelled, the snapshot was taken.
    /// Then the counts: every future made was dropped exactly once by the end, none was
    /// polled after `Ready`, and the counters add up.
    fn check(self) {
        let r = &self.reentry;
        assert_eq!(r.acted.get().min(1), 1, "the user code never ran");
        assert!(r.snapshot_spawns.get().is_some());
        let spawned = r.spawned.take().expect("the user code spawned a task");
        let victim = self.victim;
        let (out, victim_out) = self.rt.block_on(async {
            // A fresh task works too, after whatever happened.
            turnstile::spawn(tracked(&self.ledger, turnstile::yield_now()))
                .await
                .unwrap();
            (spawned.await, victim.await)
        });
        assert_eq!(out.unwrap(), 7);
        assert!(victim_out.unwrap_err().is_cancelled());
        let c = self.rt.probes().counters;
        let live = self
            .rt
            .probes()
            .tasks
            .iter()
            .filter(|t| t.state != turnstile::probes::TaskState::Finished)
            .count() as u64;
        assert_eq!(c.spawns, c.completions + c.cancellations + c.panics + live);
        HERE.with(|h| *h.borrow_mut() = None);
        drop(self.rt);
        let l = &self.ledger;
        assert_eq!(
            l.dropped.get(),
            l.made.get(),
            "a future dropped twice or never"
        );
        assert_eq!(l.polled_after_ready.get(), 0);
    }
}

/// A subscriber that calls [`reenter`] on the events `pick` picks (by level and their
/// `event` field, which names a `Level::Trace` event's kind).
fn subscriber(
    pick: fn(&tracing::Level, &str) -> bool,
) -> impl tracing::Subscriber + Send + Sync + 'static {
    struct Pick(fn(&tracing::Level, &str) -> bool);
    impl<S: tracing::Subscriber> Layer<S> for Pick {
        fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            if e.metadata().target() != "turnstile" {
                return;
            }
            struct Kind(String);
            impl tracing::field::Visit for Kind {
                fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                    if f.name() == "event" || f.name() == "message" {
                        self.0 = format!("{v:?}");
                    }
                }
            }
            let mut kind = Kind(String::new());
            e.record(&mut kind);
            if (self.0)(e.metadata().level(), &kind.0) {
                reenter();
            }
        }
    }
    tracing_subscriber::registry().with(Pick(pick))
}

fn stall_builder() -> turnstile::Builder {
    // Every poll is a stall: the report comes at the first one.
    Runtime::builder().stall_threshold(Duration::ZERO)
}

fn stall_warning(panic: bool) {
    let _serial = serial();
    let _sub = tracing::subscriber::set_default(subscriber(|level, text| {
        *level == tracing::Level::WARN && text.contains("stall")
    }));
    let scene = Scene::new(stall_builder(), panic);
    let ledger = scene.ledger.clone();
    scene.run(async move {
        turnstile::spawn(tracked(&ledger, turnstile::yield_now()))
            .await
            .unwrap();
    });
    assert!(scene.rt.probes().stalls_total >= 1);
    scene.check();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_reenter_from_a_stall_warning() {
    stall_warning(false);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_panic_from_a_stall_warning() {
    stall_warning(true);
}

/// The flight recorder's own stall warning, at `Level::Counters` (below `Timing` it
/// has no stall report to ride on, so it warns itself at the end of the turn).
fn flight_warning(panic: bool) {
    let _serial = serial();
    let _sub = tracing::subscriber::set_default(subscriber(|level, text| {
        *level == tracing::Level::WARN && text.contains("flight recorder")
    }));
    let dir = std::env::temp_dir().join(format!("turnstile-reentry-flight-{}", std::process::id()));
    let builder = stall_builder()
        .probes(Level::Counters)
        .flight_recorder(Duration::from_secs(5))
        .flight_recorder_dir(&dir);
    let scene = Scene::new(builder, panic);
    let ledger = scene.ledger.clone();
    scene.run(async move {
        turnstile::spawn(tracked(&ledger, turnstile::yield_now()))
            .await
            .unwrap();
    });
    scene.check();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "writes a trace file; the flight recorder has no unsafe code of its own"
)]
fn a_subscriber_may_reenter_from_a_flight_recorder_warning() {
    flight_warning(false);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "writes a trace file; the flight recorder has no unsafe code of its own"
)]
fn a_subscriber_may_panic_from_a_flight_recorder_warning() {
    flight_warning(true);
}

fn lost_waker_warning(panic: bool) {
    let _serial = serial();
    let _sub = tracing::subscriber::set_default(subscriber(|level, text| {
        *level == tracing::Level::WARN && text.contains("no waker")
    }));
    let scene = Scene::new(Runtime::builder(), panic);
    let ledger = scene.ledger.clone();
    scene.run(async move {
        // Pending with no waker kept, and no handle: lost at its first poll.
        drop(turnstile::spawn(tracked(
            &ledger,
            poll_fn(|_| Poll::<()>::Pending),
        )));
        turnstile::yield_now().await;
        turnstile::yield_now().await;
    });
    // The victim (a `pending()`, which keeps no waker either) was the first.
    assert_eq!(scene.rt.probes().lost_wakers_total, 2);
    scene.check();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_reenter_from_a_lost_waker_warning() {
    lost_waker_warning(false);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_panic_from_a_lost_waker_warning() {
    lost_waker_warning(true);
}

fn trace_event(panic: bool, pick: fn(&tracing::Level, &str) -> bool) {
    let _serial = serial();
    let _sub = tracing::subscriber::set_default(subscriber(pick));
    let scene = Scene::new(Runtime::builder().probes(Level::Trace), panic);
    let ledger = scene.ledger.clone();
    scene.run(async move {
        turnstile::spawn(tracked(&ledger, turnstile::yield_now()))
            .await
            .unwrap();
    });
    scene.check();
}

fn poll_start(level: &tracing::Level, text: &str) -> bool {
    *level == tracing::Level::TRACE && text.starts_with("PollStart")
}

fn wake(level: &tracing::Level, text: &str) -> bool {
    *level == tracing::Level::TRACE && text.starts_with("Wake")
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_reenter_from_a_trace_poll_event() {
    trace_event(false, poll_start);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_panic_from_a_trace_poll_event() {
    trace_event(true, poll_start);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_reenter_from_a_trace_wake_event() {
    trace_event(false, wake);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the timing probes under Miri take minutes; no unsafe code of their own"
)]
fn a_subscriber_may_panic_from_a_trace_wake_event() {
    trace_event(true, wake);
}

fn on_turn(panic: bool) {
    let _serial = serial();
    let builder = Runtime::builder().probes(Level::Counters).on_turn(|turn| {
        if turn.tasks_polled > 0 {
            reenter();
        }
    });
    let scene = Scene::new(builder, panic);
    let ledger = scene.ledger.clone();
    scene.run(async move {
        turnstile::spawn(tracked(&ledger, turnstile::yield_now()))
            .await
            .unwrap();
    });
    scene.check();
}

#[test]
fn the_on_turn_hook_may_reenter() {
    on_turn(false);
}

#[test]
fn the_on_turn_hook_may_panic() {
    on_turn(true);
}

/// A future whose destructor calls [`reenter`].
struct ReenterOnDrop;

impl Future for ReenterOnDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for ReenterOnDrop {
    fn drop(&mut self) {
        reenter();
    }
}

fn drop_during_abort(panic: bool) {
    let _serial = serial();
    let scene = Scene::new(Runtime::builder().probes(Level::Counters), panic);
    let ledger = scene.ledger.clone();
    // Not `Scene::run`: a destructor's panic never leaves `block_on`. The loop contains
    // it where it drops the future; the abort returns, and the runtime counts it. The
    // handle says cancelled, or (as under tokio) panicked if the destructor did.
    let err = scene.rt.block_on(async move {
        let h = turnstile::spawn(tracked(&ledger, ReenterOnDrop));
        turnstile::yield_now().await; // polled once: it is idle, not queued
        h.abort();
        h.await.unwrap_err()
    });
    assert_eq!(
        (err.is_cancelled(), err.is_panic()),
        (!panic, panic),
        "{err}"
    );
    assert_eq!(scene.rt.probes().counters.drop_panics, u64::from(panic));
    scene.check();
}

#[test]
fn a_destructor_run_by_abort_may_reenter() {
    drop_during_abort(false);
}

#[test]
fn a_destructor_run_by_abort_may_panic() {
    drop_during_abort(true);
}

fn drop_during_runtime_drop(panic: bool) {
    let _serial = serial();
    let rt = Runtime::builder().probes(Level::Counters).build().unwrap();
    let ledger = Rc::new(Ledger::default());
    let spawned: Rc<Cell<Option<JoinHandle<u32>>>> = Rc::default();
    let (victim, dropper) = rt.block_on(async {
        let victim = turnstile::spawn(tracked(&ledger, pending::<()>()));
        let dropper = turnstile::spawn(tracked(&ledger, ReenterOnDrop));
        turnstile::yield_now().await;
        (victim, dropper)
    });
    let reentry = Reentry::here(&ledger, &victim, &rt, panic);
    drop(rt); // contains the destructor's panic, if any
    HERE.with(|h| *h.borrow_mut() = None);
    assert_eq!(reentry.acted.get(), 1);
    assert!(reentry.snapshot_spawns.get().is_some());
    // The spawn made while the runtime was going away was refused: cancelled at once.
    let refused = reentry.spawned.take().expect("the destructor spawned");
    assert!(refused.is_finished());
    assert!(victim.is_finished() && dropper.is_finished());
    drop((refused, victim, dropper));
    drop(spawned);
    assert_eq!(ledger.dropped.get(), ledger.made.get());
    assert_eq!(ledger.polled_after_ready.get(), 0);
}

#[test]
fn a_destructor_run_by_the_runtime_drop_may_reenter() {
    drop_during_runtime_drop(false);
}

#[test]
fn a_destructor_run_by_the_runtime_drop_may_panic() {
    drop_during_runtime_drop(true);
}

/// A custom waker: wakes the task it stands for, then calls [`reenter`].
struct Relay(Waker);

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.0.wake_by_ref();
        reenter();
    }
}

fn custom_wake(panic: bool) {
    let _serial = serial();
    let scene = Scene::new(Runtime::builder().probes(Level::Counters), panic);
    let ledger = scene.ledger.clone();
    scene.run(async move {
        let sleeper = tracked(&ledger, async {
            let mut sleep = std::pin::pin!(turnstile::time::sleep(ms(1)));
            // The timer holds the relay, not the task's own waker: the timer's firing
            // calls `Relay::wake` from inside the loop.
            poll_fn(|cx| {
                let relay = Waker::from(Arc::new(Relay(cx.waker().clone())));
                sleep.as_mut().poll(&mut Context::from_waker(&relay))
            })
            .await;
        });
        turnstile::spawn(sleeper).await.unwrap();
    });
    scene.check();
}

#[test]
fn a_custom_waker_may_reenter() {
    custom_wake(false);
}

#[test]
fn a_custom_waker_may_panic() {
    custom_wake(true);
}

#[test]
#[cfg_attr(miri, ignore = "a watchdog thread and wall-clock waits")]
fn the_watchdog_hook_may_spawn_drop_a_handle_and_panic() {
    let _serial = serial();
    // The hook runs on the watchdog's thread: it reaches the loop through a `Handle`.
    let calls = Arc::new(AtomicUsize::new(0));
    let handle_slot: Arc<Mutex<Option<Handle>>> = Arc::default();
    let spawned: Arc<Mutex<Option<turnstile::RemoteJoinHandle<u32>>>> = Arc::default();
    let rt = {
        let (calls, handle_slot, spawned) = (calls.clone(), handle_slot.clone(), spawned.clone());
        Runtime::builder()
            .watchdog(Duration::from_millis(20))
            .on_watchdog(move |_| {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    let handle = handle_slot.lock().unwrap().take().unwrap();
                    *spawned.lock().unwrap() = Some(handle.spawn(async { 7 }));
                    drop(handle);
                    panic!("{INJECTED}");
                }
            })
            .build()
            .unwrap()
    };
    *handle_slot.lock().unwrap() = Some(rt.handle());
    // Two long polls, each waiting (bounded) until the watchdog has spoken of it.
    for seen in 1..=2 {
        let calls = calls.clone();
        rt.block_on(async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while calls.load(Ordering::SeqCst) < seen && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        });
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the watchdog went on after the panic"
    );
    let spawned = spawned.lock().unwrap().take().unwrap();
    assert_eq!(rt.block_on(spawned).unwrap(), 7);
    assert_eq!(rt.probes().watchdog_reports, 2);
}

/// A hand-written future that holds a `MutexGuard` and panics in `poll`: it is dropped
/// during the unwind, so the guard sees the panic and poisons its mutex, as under tokio.
#[test]
fn a_future_that_panics_in_poll_is_dropped_during_the_unwind() {
    struct Holder {
        _guard: MutexGuard<'static, ()>,
        saw_panic: Arc<AtomicUsize>,
    }
    impl Future for Holder {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            panic!("{INJECTED}");
        }
    }
    impl Drop for Holder {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.saw_panic.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    static LOCK: Mutex<()> = Mutex::new(());
    let saw_panic = Arc::new(AtomicUsize::new(0));
    let rt = common::counting();
    let holder = Holder {
        _guard: LOCK.lock().unwrap(),
        saw_panic: saw_panic.clone(),
    };
    let err = rt
        .block_on(async { turnstile::spawn(holder).await })
        .unwrap_err();
    assert_eq!(panic_message(err.into_panic()), INJECTED);
    assert_eq!(saw_panic.load(Ordering::SeqCst), 1);
    assert!(LOCK.is_poisoned());
    assert_eq!(rt.probes().counters.panics, 1);
}

/// A task's destructor drops the last `Runtime` while `abort` is cancelling it, and
/// another thread keeps waking it meanwhile: no panic, every future dropped once.
#[test]
fn an_abort_whose_destructor_drops_the_runtime() {
    struct OwnsRuntime {
        rt: Option<Rc<Runtime>>,
        waker: Arc<Mutex<Option<Waker>>>,
        drops: Rc<Cell<usize>>,
    }
    impl Future for OwnsRuntime {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
    impl Drop for OwnsRuntime {
        fn drop(&mut self) {
            self.drops.set(self.drops.get() + 1);
            drop(self.rt.take()); // the last reference: the runtime drops here
        }
    }
    let rt = Rc::new(common::counting());
    let ledger = Rc::new(Ledger::default());
    let drops = Rc::new(Cell::new(0));
    let waker = Arc::new(Mutex::new(None::<Waker>));
    let (owner, others) = rt.block_on(async {
        let owner = turnstile::spawn(OwnsRuntime {
            rt: Some(rt.clone()),
            waker: waker.clone(),
            drops: drops.clone(),
        });
        let others: Vec<_> = (0..3)
            .map(|_| turnstile::spawn(tracked(&ledger, pending::<()>())))
            .collect();
        turnstile::yield_now().await; // everyone polled once
        (owner, others)
    });
    // Remote wakes of the owner, before, during and after the runtime goes away.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let waker_thread = {
        let (waker, stop) = (waker.lock().unwrap().clone().unwrap(), stop.clone());
        std::thread::spawn(move || {
            let mut wakes = 0u32;
            while !stop.load(Ordering::SeqCst) || wakes < 100 {
                waker.wake_by_ref();
                wakes += 1;
                std::thread::yield_now();
            }
        })
    };
    drop(rt);
    owner.abort(); // drops the future, which drops the runtime
    stop.store(true, Ordering::SeqCst);
    waker_thread.join().unwrap();
    assert_eq!(drops.get(), 1);
    assert!(owner.is_finished());
    assert!(others.iter().all(JoinHandle::is_finished));
    drop(others);
    assert_eq!(ledger.dropped.get(), ledger.made.get());
}

/// A waker whose clone is user code that reaches the loop: it registers a socket (so
/// it needs the reactor's table) and re-enters as the others do. The loop clones a
/// waker when it leaves it with a socket to wait on, and must hold no borrow then.
fn reentering_waker(inner: Waker) -> Waker {
    use std::task::{RawWaker, RawWakerVTable};
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_raw);
    /// Boxes a waker as the data of a `RawWaker` of `VTABLE`.
    fn raw(waker: Waker) -> RawWaker {
        RawWaker::new(Box::into_raw(Box::new(waker)) as *const (), &VTABLE)
    }
    unsafe fn clone(data: *const ()) -> RawWaker {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        drop(turnstile::net::UdpSocket::from_std(socket).expect("a socket in the loop"));
        reenter();
        // SAFETY: `data` is the `Box<Waker>` that `raw` made, alive while its waker is.
        raw(unsafe { &*(data as *const Waker) }.clone())
    }
    unsafe fn wake(data: *const ()) {
        // SAFETY: as in `clone`; waking by value consumes the box.
        unsafe { Box::from_raw(data as *mut Waker) }.wake();
    }
    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: as in `clone`.
        unsafe { &*(data as *const Waker) }.wake_by_ref();
    }
    unsafe fn drop_raw(data: *const ()) {
        // SAFETY: as in `clone`; dropping consumes the box.
        drop(unsafe { Box::from_raw(data as *mut Waker) });
    }
    // SAFETY: `VTABLE`'s functions treat the data as the box `raw` made.
    unsafe { Waker::from_raw(raw(inner)) }
}

#[test]
#[cfg_attr(miri, ignore = "sockets")]
fn a_waker_whose_clone_reenters_may_wait_on_a_socket() {
    let _serial = serial();
    let scene = Scene::new(Runtime::builder().probes(Level::Counters), false);
    let ledger = scene.ledger.clone();
    let got = scene.run(async move {
        let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let sender = turnstile::spawn(tracked(&ledger, async move {
            turnstile::yield_now().await; // after the receiver waits
            let s = turnstile::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .unwrap();
            s.send_to(b"hi", addr).await.unwrap();
        }));
        let mut buf = [0u8; 8];
        let n = poll_fn(|cx| {
            let waker = reentering_waker(cx.waker().clone());
            let recv = std::pin::pin!(socket.recv(&mut buf));
            recv.poll(&mut Context::from_waker(&waker))
        })
        .await
        .unwrap();
        sender.await.unwrap();
        n
    });
    assert_eq!(got, Some(2));
    scene.check();
}
