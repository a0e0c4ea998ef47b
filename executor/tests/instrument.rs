//! `#[turnstile::instrument]`: instrumented awaits as await sites, and each task's async
//! stack, in snapshots and stall reports. Counts are exact; the expected lines come from
//! `line!()` next to the awaits.

use std::task::Poll;
use std::time::Duration;

use turnstile::probes::{AsyncStack, Level, Snapshot, TaskState, TaskStats};
use turnstile::Runtime;

fn runtime(level: Level) -> Runtime {
    Runtime::builder().probes(level).build().expect("runtime")
}

fn task(snap: &Snapshot, id: u64) -> &TaskStats {
    snap.tasks
        .iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no task {id}\n{snap}"))
}

/// `function` at `line` of this file, as a frame says it.
fn frame_is(stack: &AsyncStack, i: usize, function: &str, line: u32) {
    let f = &stack.frames[i];
    assert_eq!(
        (f.function.as_str(), f.file.as_str(), f.line),
        (function, file!(), line),
        "frame {i} of {stack}"
    );
}

#[turnstile::instrument]
async fn outer() -> u32 {
    middle().await + 1
}
const OUTER_AWAIT: u32 = line!() - 2;

#[turnstile::instrument]
async fn middle() -> u32 {
    inner().await * 2
}
const MIDDLE_AWAIT: u32 = line!() - 2;

#[turnstile::instrument]
async fn inner() -> u32 {
    turnstile::time::sleep(Duration::from_millis(20)).await;
    20
}
const SLEEP_AWAIT: u32 = line!() - 3;

#[test]
fn a_three_deep_chain_over_a_sleep_has_a_three_frame_stack_then_the_sleep() {
    let rt = runtime(Level::Timing);
    rt.block_on(async {
        let handle = turnstile::spawn(outer());
        let id = handle.id();
        turnstile::yield_now().await; // the task runs first in the next turn, to its sleep
        let snap = turnstile::probes::snapshot();
        let stats = task(&snap, id);
        assert_eq!(stats.state, TaskState::Idle);
        let stack = stats.stack.as_ref().expect("a stack");
        assert_eq!(stack.frames.len(), 3, "{stack}");
        frame_is(stack, 0, "outer", OUTER_AWAIT);
        frame_is(stack, 1, "middle", MIDDLE_AWAIT);
        frame_is(stack, 2, "inner", SLEEP_AWAIT);
        // The leaf is the sleep's own site: where it was created, on the same line.
        let leaf = stack.leaf.as_deref().expect("the sleep's site");
        assert!(
            leaf.starts_with(&format!("{}:{SLEEP_AWAIT}:", file!())),
            "{leaf}"
        );
        assert!(!stack.truncated);
        assert!(
            snap.to_string()
                .contains(&format!("waits in outer {}:{OUTER_AWAIT}:", file!())),
            "{snap}"
        );

        assert_eq!(handle.await.unwrap(), 41);
        let snap = turnstile::probes::snapshot();
        let stats = task(&snap, id);
        assert_eq!(stats.state, TaskState::Finished);
        assert_eq!(stats.stack, None);
        // The chain costs what it cost without the attribute: 2 polls, 1 yield.
        assert_eq!((stats.polls, stats.yields), (2, 1));
        // Each instrumented await is a site of its own: one wait, one yield.
        for (function, line) in [
            ("outer", OUTER_AWAIT),
            ("middle", MIDDLE_AWAIT),
            ("inner", SLEEP_AWAIT),
        ] {
            let site = snap
                .sites
                .iter()
                .find(|s| s.label.as_deref() == Some(function))
                .unwrap_or_else(|| panic!("no site for {function}\n{snap}"));
            assert!(site.location.starts_with(&format!("{}:{line}:", file!())));
            assert_eq!(
                (site.awaited, site.yields, site.inline),
                (1, 1, 0),
                "{site}"
            );
            assert!(site.total_wait > Duration::ZERO, "{site}");
        }
    });
}

#[turnstile::instrument]
async fn handler() {
    stalls().await;
}
const HANDLER_AWAIT: u32 = line!() - 2;

#[turnstile::instrument]
async fn stalls() {
    turnstile::time::sleep(Duration::from_millis(1)).await;
    std::thread::sleep(Duration::from_millis(30)); // a blocking call: the stall
}
const STALLS_AWAIT: u32 = line!() - 3;

#[test]
fn a_stall_report_names_the_instrumented_fn_and_the_await_it_resumed_from() {
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .stall_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    let id = rt.block_on(async {
        let handle = turnstile::spawn(handler());
        let id = handle.id();
        handle.await.unwrap();
        id
    });
    let snap = rt.probes();
    // Its second poll, the one that resumes in `stalls`, blocks; its first poll could
    // only be a stall on a machine that preempts the loop thread, and resumes from no
    // stack.
    let ours: Vec<_> = snap
        .stalls
        .iter()
        .filter(|s| s.task_id == id && s.stack.is_some())
        .collect();
    assert_eq!(ours.len(), 1, "{snap}");
    let stall = ours[0];
    let stack = stall.stack.as_ref().expect("the stack it resumed from");
    assert_eq!(stack.frames.len(), 2, "{stack}");
    frame_is(stack, 0, "handler", HANDLER_AWAIT);
    frame_is(stack, 1, "stalls", STALLS_AWAIT);
    assert_eq!(stack.leaf, stall.resumed_from);
    let report = stall.to_string();
    assert!(
        report.contains(&format!(
            "resuming from handler {}:{HANDLER_AWAIT}:",
            file!()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("> stalls {}:{STALLS_AWAIT}:", file!())),
        "{report}"
    );
}

#[turnstile::instrument]
async fn never_waits() -> u32 {
    let a = std::future::ready(1).await;
    let b = async { 2 }.await;
    a + b
}

#[test]
fn an_instrumented_await_that_does_not_wait_records_no_stack_and_adds_no_yield() {
    let rt = runtime(Level::Timing);
    rt.block_on(async {
        let handle = turnstile::spawn(async {
            let n = never_waits().await;
            turnstile::yield_now().await; // not instrumented: the task's one yield
            n
        });
        let id = handle.id();
        turnstile::yield_now().await;
        let snap = turnstile::probes::snapshot();
        let stats = task(&snap, id);
        assert_eq!((stats.polls, stats.yields), (1, 1));
        assert_eq!(stats.stack, None, "{snap}");
        assert_eq!(handle.await.unwrap(), 3);
        let snap = turnstile::probes::snapshot();
        assert_eq!((task(&snap, id).polls, task(&snap, id).yields), (2, 1));
        let sites: Vec<_> = snap
            .sites
            .iter()
            .filter(|s| s.label.as_deref() == Some("never_waits"))
            .collect();
        assert_eq!(sites.len(), 2, "{snap}");
        for site in sites {
            assert_eq!(
                (site.awaited, site.yields, site.inline),
                (1, 0, 1),
                "{site}"
            );
        }
    });
}

#[turnstile::instrument]
async fn sleeps_then_panics_beside() {
    turnstile::time::sleep(Duration::from_millis(5)).await;
}

#[test]
fn a_panic_after_an_instrumented_pending_leaves_no_stale_stack_for_the_next_task() {
    let rt = runtime(Level::Timing);
    rt.block_on(async {
        // `join` polls the instrumented sleep (Pending: its frame joins the path), then
        // the second future, which panics in the same poll.
        let panics = turnstile::spawn(async {
            futures::future::join(sleeps_then_panics_beside(), async {
                panic!("boom");
            })
            .await;
        });
        // Polled right after it, in the same batch: it yields with no instrumented frame.
        let next = turnstile::spawn(async {
            let mut first = true;
            std::future::poll_fn(|cx| {
                if std::mem::take(&mut first) {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
            .await;
        });
        let (panicked, next_id) = (panics.id(), next.id());
        turnstile::yield_now().await;
        let snap = turnstile::probes::snapshot();
        assert_eq!(task(&snap, panicked).state, TaskState::Finished);
        assert_eq!(task(&snap, panicked).stack, None);
        assert_eq!(task(&snap, next_id).yields, 1);
        assert_eq!(task(&snap, next_id).stack, None, "{snap}");
        assert!(panics.await.unwrap_err().is_panic());
        next.await.unwrap();
    });
}

struct Db<T> {
    rows: Vec<T>,
}

#[turnstile::instrument]
impl<T: Clone> Db<T> {
    async fn load(&self, i: usize) -> T {
        turnstile::yield_now().await;
        self.rows[i].clone()
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

#[test]
fn methods_of_an_instrumented_impl_are_named_type_method() {
    let rt = runtime(Level::Timing);
    let db = Db {
        rows: vec!["a", "b"],
    };
    assert_eq!(rt.block_on(db.load(1)), "b");
    assert_eq!(db.len(), 2);
    let snap = rt.probes();
    let site = snap
        .sites
        .iter()
        .find(|s| s.label.as_deref() == Some("Db::load"))
        .unwrap_or_else(|| panic!("{snap}"));
    assert_eq!((site.awaited, site.yields), (1, 1));
}

#[test]
fn below_timing_nothing_is_recorded() {
    for level in [Level::Off, Level::Counters] {
        let rt = runtime(level);
        rt.block_on(async {
            let handle = turnstile::spawn(outer());
            let id = handle.id();
            turnstile::yield_now().await;
            let snap = turnstile::probes::snapshot();
            if level == Level::Counters {
                assert_eq!(task(&snap, id).stack, None);
            }
            assert!(snap.sites.is_empty());
            handle.await.unwrap();
        });
    }
}

#[test]
fn the_stack_serializes() {
    let rt = runtime(Level::Timing);
    rt.block_on(async {
        let handle = turnstile::spawn(outer());
        turnstile::yield_now().await;
        let snap = turnstile::probes::snapshot();
        let json = serde_json::to_string(&snap).unwrap();
        let back: Snapshot = serde_json::from_str(&json).unwrap();
        assert_eq!(back, snap);
        assert!(json.contains("\"function\":\"middle\""), "{json}");
        handle.await.unwrap();
    });
}

#[turnstile::instrument]
async fn with_a_nested_block() {
    let inner = async {
        turnstile::time::sleep(Duration::from_millis(5)).await;
    };
    inner.await;
}
const NESTED_SLEEP: u32 = line!() - 4;
const NESTED_AWAIT: u32 = line!() - 3;

#[test]
fn awaits_in_a_nested_async_block_are_frames_of_the_enclosing_fn() {
    let rt = runtime(Level::Timing);
    rt.block_on(async {
        let handle = turnstile::spawn(with_a_nested_block());
        let id = handle.id();
        turnstile::yield_now().await;
        let snap = turnstile::probes::snapshot();
        let stack = task(&snap, id).stack.clone().expect("a stack");
        assert_eq!(stack.frames.len(), 2, "{stack}");
        frame_is(&stack, 0, "with_a_nested_block", NESTED_AWAIT);
        frame_is(&stack, 1, "with_a_nested_block", NESTED_SLEEP);
        handle.await.unwrap();
    });
}
