//! Behaviours that tokio's own task tests check, ported to turnstile (issue 22): each
//! test here failed before its fix. Exact counts, no wall-clock asserts.

mod common;

use std::panic::{self, AssertUnwindSafe};

use turnstile::task::JoinSet;

use common::counting;

// ---- JoinError's text ----

#[test]
fn join_errors_display_and_debug_as_tokio_s_do() {
    let rt = counting();
    rt.block_on(async {
        let boom = turnstile::spawn(async { panic!("boom") });
        let id = boom.id();
        let err = boom.await.unwrap_err();
        assert_eq!(err.to_string(), format!("task {id} panicked with message \"boom\""));
        assert_eq!(format!("{err:?}"), format!("JoinError::Panic(Id({id}), \"boom\", ...)"));

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
        assert_eq!(format!("{err:?}"), format!("JoinError::Panic(Id({id}), ...)"));

        let cancelled = turnstile::spawn(std::future::pending::<()>());
        let id = cancelled.id();
        cancelled.abort();
        let err = cancelled.await.unwrap_err();
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
        assert_eq!(format!("{err:?}"), format!("JoinError::Cancelled(Id({id}))"));
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
        turnstile::yield_now().await; // all 300 run and finish
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
