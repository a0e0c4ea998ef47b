//! The `console` feature: what tokio-console's subscriber sees of turnstile's tasks, caught
//! by a `tracing_subscriber::Layer` over a registry, as console-subscriber's own layer
//! would see it: one root `runtime.spawn` span per task with its fields, entered around
//! exactly its polls and closed when it ends, and `runtime::waker` events naming that
//! span, counted per operation for known workloads.
//!
//! The tests take turns (`serial`): tracing caches each call site's interest
//! process-wide, and a subscriber that comes and goes on one thread while another test
//! hits the same call sites can make either miss what it should see.

mod common;

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::thread::{self, ThreadId};

use tracing::span::{Attributes, Id};
use tracing::{Dispatch, Level as TraceLevel, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;
use turnstile::probes::Level;
use turnstile::Runtime;

use common::counting;

/// A recorded field value.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String),
    U64(u64),
    Other(String),
}

/// Collects the fields of a span or event.
#[derive(Default)]
struct Fields(BTreeMap<String, Value>);

impl tracing::field::Visit for Fields {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().into(), Value::Str(value.into()));
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().into(), Value::U64(value));
    }
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::Other(format!("{value:?}")));
    }
}

/// One span as the layer saw it.
#[derive(Debug)]
struct SpanSeen {
    id: u64,
    name: &'static str,
    target: &'static str,
    level: TraceLevel,
    /// `parent: None`: no parent, explicit or contextual.
    root: bool,
    fields: BTreeMap<String, Value>,
    made_on: ThreadId,
    enters: u64,
    exits: u64,
    /// Threads it was entered on.
    entered_on: Vec<ThreadId>,
    closed: bool,
}

/// One event as the layer saw it.
#[derive(Debug)]
struct EventSeen {
    target: &'static str,
    fields: BTreeMap<String, Value>,
    thread: ThreadId,
}

#[derive(Default, Debug)]
struct Seen {
    spans: Vec<SpanSeen>,
    events: Vec<EventSeen>,
}

impl Seen {
    fn span_mut(&mut self, id: &Id) -> &mut SpanSeen {
        let id = id.into_u64();
        self.spans
            .iter_mut()
            .find(|s| s.id == id)
            .expect("a span the layer saw made")
    }

    /// The `runtime.spawn` spans, in the order they were made.
    fn task_spans(&self) -> Vec<&SpanSeen> {
        self.spans
            .iter()
            .filter(|s| s.name == "runtime.spawn")
            .collect()
    }

    /// The span whose `task.id` field is `task`.
    fn span_of(&self, task: u64) -> &SpanSeen {
        let mut spans = self
            .task_spans()
            .into_iter()
            .filter(|s| s.fields.get("task.id") == Some(&Value::U64(task)));
        let span = spans.next().expect("a runtime.spawn span for the task");
        assert!(spans.next().is_none(), "one span per task");
        span
    }

    /// How many `runtime::waker` events of each `op` named the span `span`.
    fn waker_ops(&self, span: u64) -> BTreeMap<String, u64> {
        let mut ops = BTreeMap::new();
        for e in self.waker_events() {
            if e.fields.get("task.id") == Some(&Value::U64(span)) {
                let Some(Value::Str(op)) = e.fields.get("op") else {
                    panic!("a waker event without a string op: {e:?}");
                };
                *ops.entry(op.clone()).or_insert(0) += 1;
            }
        }
        ops
    }

    fn waker_events(&self) -> impl Iterator<Item = &EventSeen> {
        self.events.iter().filter(|e| e.target == "runtime::waker")
    }
}

/// The capturing layer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

impl Capture {
    fn seen(&self) -> MutexGuard<'_, Seen> {
        self.0.lock().unwrap()
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let meta = attrs.metadata();
        self.seen().spans.push(SpanSeen {
            id: id.into_u64(),
            name: meta.name(),
            target: meta.target(),
            level: *meta.level(),
            root: attrs.is_root(),
            fields: fields.0,
            made_on: thread::current().id(),
            enters: 0,
            exits: 0,
            entered_on: Vec::new(),
            closed: false,
        });
    }
    fn on_enter(&self, id: &Id, _: Context<'_, S>) {
        let mut seen = self.seen();
        let span = seen.span_mut(id);
        span.enters += 1;
        span.entered_on.push(thread::current().id());
    }
    fn on_exit(&self, id: &Id, _: Context<'_, S>) {
        self.seen().span_mut(id).exits += 1;
    }
    fn on_close(&self, id: Id, _: Context<'_, S>) {
        self.seen().span_mut(&id).closed = true;
    }
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        self.seen().events.push(EventSeen {
            target: event.metadata().target(),
            fields: fields.0,
            thread: thread::current().id(),
        });
    }
}

/// One test at a time (see the module documentation). A failed test poisons the lock;
/// the next one goes on regardless.
fn serial() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A registry with the capturing layer, as a `Dispatch` to install with `with_default`
/// (on the loop thread, and on any thread that wakes a task).
fn capture() -> (Dispatch, Capture) {
    let capture = Capture::default();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(capture.clone()));
    (dispatch, capture)
}

/// The column at which `call` starts on `line` of this file: a spawn's location as
/// `#[track_caller]` gives it (a function call's path, or a method call's name).
fn column_of(line: u32, call: &str) -> u64 {
    let text = include_str!("console.rs")
        .lines()
        .nth(line as usize - 1)
        .unwrap();
    text.find(call).expect("the call on that line") as u64 + 1
}

#[test]
fn each_task_gets_one_root_runtime_spawn_span_with_its_fields() {
    let _turn = serial();
    let (dispatch, capture) = capture();
    let rt = counting();
    let loop_thread = thread::current().id();
    let ((named, named_line), (plain, plain_line), remote_line) =
        tracing::dispatcher::with_default(&dispatch, || {
            let handle = rt.handle();
            rt.block_on(async move {
                // Spawned inside a span of the spawner's: the tasks' spans are not its children.
                let (named, plain) = {
                    let _outer = tracing::info_span!("spawner").entered();
                    let builder = turnstile::task::Builder::new().name("fetch");
                    let named = (builder.spawn(async { 1 }), line!());
                    let plain = (turnstile::spawn(async { 2 }), line!());
                    (named, plain)
                };
                // Spawned from a thread with no subscriber: the span is made on the loop.
                let remote = thread::spawn(move || (handle.spawn(async { 3 }), line!()))
                    .join()
                    .unwrap();
                let ids = (named.0.id(), plain.0.id());
                assert_eq!(named.0.await.unwrap() + plain.0.await.unwrap(), 3);
                assert_eq!(remote.0.await.unwrap(), 3);
                ((ids.0, named.1), (ids.1, plain.1), remote.1)
            })
        });
    let seen = capture.seen();
    assert_eq!(seen.task_spans().len(), 3, "{seen:?}");
    let stats = rt.probes().tasks;
    let remote = stats
        .iter()
        .find(|t| t.spawned_at.contains(&format!(":{remote_line}:")))
        .expect("the remote spawn in the probes")
        .id;
    assert!(named > 0 && plain > 0 && remote > 0);
    let expect = [
        (
            named,
            Some("fetch"),
            named_line,
            column_of(named_line, "spawn(async { 1 })"),
        ),
        (
            plain,
            None,
            plain_line,
            column_of(plain_line, "turnstile::spawn"),
        ),
        (
            remote,
            None,
            remote_line,
            column_of(remote_line, "spawn(async { 3 })"),
        ),
    ];
    for (id, name, line, col) in expect {
        let span = seen.span_of(id);
        assert_eq!(span.target, "runtime::spawn");
        assert_eq!(span.level, TraceLevel::TRACE);
        assert!(span.root, "parent: None, whatever span the spawner was in");
        assert_eq!(span.made_on, loop_thread);
        let mut fields = BTreeMap::from([
            ("kind".to_owned(), Value::Str("task".into())),
            ("task.id".to_owned(), Value::U64(id)),
            ("loc.file".to_owned(), Value::Str(file!().into())),
            ("loc.line".to_owned(), Value::U64(line.into())),
            ("loc.col".to_owned(), Value::U64(col)),
        ]);
        if let Some(name) = name {
            fields.insert("task.name".into(), Value::Str(name.into()));
        }
        assert_eq!(span.fields, fields, "task {id}");
        // The probes name the same spawn location.
        let probe = stats.iter().find(|t| t.id == id).unwrap();
        assert_eq!(probe.spawned_at, format!("{}:{line}:{col}", file!()));
        assert_eq!(probe.name.as_deref(), name);
        assert!(span.closed, "the task ended");
    }
}

#[test]
fn the_span_is_entered_around_each_poll_and_closed_when_the_task_ends() {
    let _turn = serial();
    // Off and Counters poll through the untimed instance of `poll_task`, Timing and
    // Trace through the timed one.
    for level in [Level::Off, Level::Counters, Level::Timing, Level::Trace] {
        let (dispatch, capture) = capture();
        let rt = Runtime::builder().probes(level).build().unwrap();
        let inside = Arc::new(Mutex::new(Vec::new()));
        let seen_by_task = inside.clone();
        let (id, closed_while_handle_alive) = tracing::dispatcher::with_default(&dispatch, || {
            rt.block_on(async {
                let h = turnstile::spawn(async move {
                    // The current span at the start of each of its 4 polls.
                    for _ in 0..3 {
                        seen_by_task
                            .lock()
                            .unwrap()
                            .push(tracing::Span::current().id());
                        turnstile::yield_now().await;
                    }
                    seen_by_task
                        .lock()
                        .unwrap()
                        .push(tracing::Span::current().id());
                });
                while !h.is_finished() {
                    turnstile::yield_now().await;
                }
                // The handle (and at Counters the probes' history) still holds the task:
                // its span closed with its future all the same.
                let closed = capture.seen().span_of(h.id()).closed;
                let id = h.id();
                h.await.unwrap();
                (id, closed)
            })
        });
        let seen = capture.seen();
        let span = seen.span_of(id);
        assert_eq!((span.enters, span.exits), (4, 4), "{level:?}");
        assert!(closed_while_handle_alive, "{level:?}");
        let inside = inside.lock().unwrap();
        assert_eq!(*inside, vec![Some(Id::from_u64(span.id)); 4], "{level:?}");
        assert!(span.entered_on.iter().all(|t| *t == thread::current().id()));
        if level >= Level::Counters {
            let stats = rt.probes().tasks;
            let task = stats.iter().find(|t| t.id == id).unwrap();
            assert_eq!(task.polls, span.enters, "{level:?}");
        }
    }
}

#[test]
fn a_poll_that_panics_still_exits_the_span() {
    let _turn = serial();
    let (dispatch, capture) = capture();
    let rt = counting();
    let (id, err) = tracing::dispatcher::with_default(&dispatch, || {
        rt.block_on(async {
            let h = turnstile::spawn(async {
                turnstile::yield_now().await;
                panic!("console test: a poll that panics");
            });
            let id = h.id();
            (id, h.await.unwrap_err())
        })
    });
    assert!(err.is_panic());
    let seen = capture.seen();
    let span = seen.span_of(id);
    assert_eq!((span.enters, span.exits, span.closed), (2, 2, true));
    // The loop goes on after it, in no span.
    rt.block_on(async { assert!(tracing::Span::current().is_none()) });
}

#[test]
fn waker_events_count_each_operation_and_name_the_task_span() {
    let _turn = serial();
    let (dispatch, capture) = capture();
    let rt = counting();
    let remote_dispatch = dispatch.clone();
    let id = tracing::dispatcher::with_default(&dispatch, || {
        rt.block_on(async move {
            let h = turnstile::spawn(async move {
                // A clone, dropped: waker.clone + waker.drop. (Poll 1.)
                poll_fn(|cx| {
                    drop(cx.waker().clone());
                    Poll::Ready(())
                })
                .await;
                // Two yields: a wake_by_ref through the lent waker each. (Polls 1 to 3.)
                turnstile::yield_now().await;
                turnstile::yield_now().await;
                // A clone woken by value on the loop: waker.clone + waker.wake, and no
                // waker.drop (console counts the wake as the clone's end). (Polls 3, 4.)
                let mut woke = false;
                poll_fn(|cx| {
                    if std::mem::replace(&mut woke, true) {
                        return Poll::Ready(());
                    }
                    #[allow(clippy::waker_clone_wake)] // the point: a clone, woken by value
                    cx.waker().clone().wake();
                    Poll::Pending
                })
                .await;
                // A clone woken by value from another thread (with the subscriber as its
                // default there too): waker.clone on the loop, waker.wake there. (Polls
                // 4, 5.)
                let mut waking = None;
                poll_fn(|cx| {
                    if let Some(waking) = waking.take() {
                        thread::JoinHandle::join(waking).unwrap();
                        return Poll::Ready(());
                    }
                    let waker = cx.waker().clone();
                    let dispatch = remote_dispatch.clone();
                    waking = Some(thread::spawn(move || {
                        tracing::dispatcher::with_default(&dispatch, || waker.wake());
                    }));
                    Poll::Pending
                })
                .await;
            });
            let id = h.id();
            h.await.unwrap();
            id
        })
    });
    let seen = capture.seen();
    let span = seen.span_of(id);
    assert_eq!((span.enters, span.exits), (5, 5));
    assert_eq!(
        seen.waker_ops(span.id),
        BTreeMap::from([
            ("waker.clone".to_owned(), 3),
            ("waker.drop".to_owned(), 1),
            ("waker.wake".to_owned(), 2),
            ("waker.wake_by_ref".to_owned(), 2),
        ])
    );
    // Every waker event names that span, with exactly `op` and `task.id`, and one of them
    // (the remote wake) came from the other thread.
    let events: Vec<_> = seen.waker_events().collect();
    assert_eq!(events.len(), 8);
    for e in &events {
        assert_eq!(e.fields.len(), 2, "{e:?}");
        assert_eq!(e.fields.get("task.id"), Some(&Value::U64(span.id)));
    }
    let remote: Vec<_> = events
        .iter()
        .filter(|e| e.thread != thread::current().id())
        .collect();
    assert_eq!(remote.len(), 1);
    assert_eq!(remote[0].fields["op"], Value::Str("waker.wake".into()));
    let task = rt.probes().tasks.into_iter().find(|t| t.id == id).unwrap();
    assert_eq!((task.polls, task.wakes), (5, 4));
}

#[test]
fn a_disabled_task_span_silences_its_wakers() {
    let _turn = serial();
    /// Wants everything but the tasks' spans.
    struct NoTaskSpans(Capture);
    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for NoTaskSpans {
        fn enabled(&self, meta: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
            meta.name() != "runtime.spawn"
        }
        fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
            self.0.on_event(event, cx);
        }
    }
    let capture = Capture::default();
    let dispatch = Dispatch::new(tracing_subscriber::registry().with(NoTaskSpans(capture.clone())));
    let rt = counting();
    tracing::dispatcher::with_default(&dispatch, || {
        rt.block_on(async {
            turnstile::spawn(async {
                turnstile::yield_now().await;
                poll_fn(|cx| {
                    drop(cx.waker().clone());
                    Poll::Ready(())
                })
                .await;
                tracing::trace!(target: "runtime::waker", "the layer does see waker events");
            })
            .await
            .unwrap();
        });
    });
    let seen = capture.seen();
    assert_eq!(seen.waker_events().count(), 1, "{seen:?}");
    assert_eq!(rt.probes().counters.polls, 2);
}

#[test]
fn with_no_subscriber_everything_runs_as_usual() {
    let _turn = serial();
    let rt = counting();
    let out = rt.block_on(async {
        let named = turnstile::task::Builder::new().name("quiet").spawn(async {
            for _ in 0..3 {
                turnstile::yield_now().await;
            }
            let mut waking = None;
            poll_fn(|cx| {
                if let Some(waking) = waking.take() {
                    thread::JoinHandle::join(waking).unwrap();
                    return Poll::Ready(());
                }
                let waker = cx.waker().clone();
                waking = Some(thread::spawn(move || waker.wake()));
                Poll::Pending
            })
            .await;
            1
        });
        let panicked = turnstile::spawn(async { panic!("console test: no subscriber") });
        named.await.unwrap() + u32::from(panicked.await.is_err())
    });
    assert_eq!(out, 2);
    let c = rt.probes().counters;
    assert_eq!((c.spawns, c.completions, c.panics), (2, 1, 1));
    assert_eq!((c.polls, c.wakes_self, c.wakes_remote), (6, 3, 1));
}
