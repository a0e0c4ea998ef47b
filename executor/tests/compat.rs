//! The bridge for crates that need a tokio runtime's context (`turnstile::compat`,
//! async-compat underneath): tokio's timers and tower-http's `TimeoutLayer` work inside
//! it, panic outside it, and what the probes see through it is counted exactly (the
//! wake from tokio's thread is a remote wake, no turnstile timer fires).
#![cfg(not(miri))]

use std::convert::Infallible;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use tower::{Service, ServiceBuilder, ServiceExt};
use turnstile::compat::{Compat, CompatExt};
use turnstile::probes::{Level, ProbeExt};
use turnstile::Runtime;

#[test]
fn a_tokio_sleep_inside_compat_is_one_remote_wake() {
    let rt = Runtime::builder().probes(Level::Timing).build().unwrap();
    rt.block_on(async {
        turnstile::task::Builder::new()
            .name("tokio-timer")
            .spawn(
                async { tokio::time::sleep(Duration::from_millis(5)).await }
                    .compat()
                    .probe("tokio sleep"),
            )
            .await
            .unwrap();
    });
    let snap = rt.probes();
    let c = snap.counters;
    // tokio's timer thread woke the task; turnstile's timers never saw the sleep.
    assert_eq!(c.wakes_remote, 1, "{c:#?}");
    assert_eq!(c.timers_fired, 0);
    assert_eq!(c.wakes_timer, 0);
    let task = snap
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("tokio-timer"))
        .unwrap();
    assert_eq!((task.polls, task.yields), (2, 1));
    // The wait has no site of turnstile's own, only the one the probe names.
    let site = snap
        .sites
        .iter()
        .find(|s| s.label.as_deref() == Some("tokio sleep"))
        .unwrap_or_else(|| panic!("the probe's site: {:#?}", snap.sites));
    assert_eq!((site.awaited, site.yields), (1, 1));
    // The only other site is the block_on future's await of the join handle.
    let others: Vec<_> = snap.sites.iter().filter(|s| s.label.is_none()).collect();
    assert_eq!(others.len(), 1, "{others:#?}");
    assert!(
        others[0].location.contains("tests/compat.rs"),
        "{others:#?}"
    );
}

#[test]
fn without_compat_tokio_timers_panic_and_say_why() {
    let rt = Runtime::new().unwrap();
    let panicked = rt.block_on(async {
        turnstile::spawn(async { tokio::time::sleep(Duration::from_millis(1)).await })
            .await
            .unwrap_err()
    });
    assert!(panicked.is_panic());
    let message = panicked.into_panic();
    let message = message
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| message.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(message.contains("Tokio 1.x runtime"), "{message}");
}

/// A handler slower than any timeout here (turnstile's own timer: not the point).
async fn slow(_req: Request<()>) -> Result<Response<String>, Infallible> {
    turnstile::time::sleep(Duration::from_secs(30)).await;
    Ok(Response::new("too late".into()))
}

#[test]
fn tower_https_timeout_works_inside_compat() {
    let rt = Runtime::builder().probes(Level::Counters).build().unwrap();
    let status = rt.block_on(Compat::new(async {
        // The layer makes its tokio sleep in `call`: inside Compat's context.
        let mut service = ServiceBuilder::new()
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(10),
            ))
            .service_fn(slow);
        let response = service
            .ready()
            .await
            .unwrap()
            .call(Request::new(()))
            .await
            .unwrap();
        response.status()
    }));
    assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
    let c = rt.probes().counters;
    assert_eq!(c.panics, 0);
    // The timeout came from tokio's thread; turnstile's 30 s timer never fired.
    assert_eq!((c.wakes_remote, c.timers_fired), (1, 0), "{c:#?}");
}
