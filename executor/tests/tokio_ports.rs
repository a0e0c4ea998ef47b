//! Behaviours that tokio's own task tests check, ported to turnstile (issue 22): each
//! test here failed before its fix. Exact counts, no wall-clock asserts.

mod common;

use std::panic::{self, AssertUnwindSafe};

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
