//! The `metrics` feature: the probes, published through the [`metrics`] facade, for
//! Prometheus, Grafana and the rest of the monitoring stack.
//!
//! Publishing takes a [`Snapshot`] and hands its numbers to the recorder installed for
//! the [`metrics`] facade (the thread's local recorder if one is set, else the global
//! one). It runs when asked, never on the hot path: on demand with
//! [`Runtime::publish_metrics`] (outside the loop) or [`publish`] (inside it), or every
//! period from a task with [`Builder::metrics_period`](crate::Builder::metrics_period).
//! Nothing is published at `Level::Off`.
//!
//! Every series has a `runtime` label, the runtime's name ([`Builder::name`](crate::Builder::name)):
//!
//! | name | type | what |
//! |---|---|---|
//! | `turnstile_<counter>_total` | counter | each counter of [`CounterValues`](crate::probes::CounterValues) (`turnstile_polls_total`, `turnstile_wakes_io_total`, ...), and `turnstile_stalls_total`, `turnstile_lost_wakers_total`, `turnstile_watchdog_reports_total` |
//! | `turnstile_tasks_alive` | gauge | live tasks; named tasks by name in a `task` label, unnamed ones without it (`sum by (runtime)` is the total) |
//! | `turnstile_ready_queue_depth` | gauge | tasks queued to be polled in the next turn |
//! | `turnstile_timers_pending` | gauge | timers that have not fired or been cancelled |
//! | `turnstile_loop_utilization` | gauge | the share of running time the loop was busy (not parked) since the previous publish, 0 to 1 |
//! | `turnstile_poll_duration_seconds` | histogram | each task poll (`Level::Timing`) |
//! | `turnstile_scheduling_delay_seconds` | histogram | a task's wake to its poll (`Level::Timing`) |
//! | `turnstile_turn_duration_seconds` | histogram | each turn, parked time excluded (`Level::Timing`) |
//! | `turnstile_park_duration_seconds` | histogram | each park (`Level::Timing`) |
//!
//! # Histograms: exact counts, not re-sampled
//!
//! The probes count each histogram between the fixed bounds of [`BUCKETS_SECONDS`] (see
//! [`BucketCounts`]). The facade has no way to hand over a count directly, so each
//! publish passes the values a bucket gained since the previous publish to
//! [`metrics::Histogram::record_many`], at their mean. An exporter that uses
//! [`BUCKETS_SECONDS`] as its bucket bounds (metrics-exporter-prometheus:
//! `set_buckets_for_metric(Matcher::Prefix("turnstile_".into()), &BUCKETS_SECONDS)`)
//! therefore shows exactly the probes' bucket counts and count, and a sum within the
//! probes' 3 % resolution. With other bounds the counts stay exact in total but a
//! bucket's values land at their mean.
//!
//! # What a publish costs
//!
//! - On the loop: a snapshot, which lists every task (measured: 50 µs with no tasks,
//!   2 ms with 10,000), and a few dozen calls into the recorder.
//! - Off the loop: the histogram hand-over, in proportion to the values since the
//!   previous publish, about two per task poll. The facade's `record_many` is one
//!   `record` per value unless the recorder does better, and metrics-exporter-prometheus
//!   0.18 does not: it stores each value, timestamped, until it renders. Measured: 2.0 M
//!   values (a million polls) took 125 to 207 ms to hand over and 56 to 80 ms to
//!   render (release build, the 2-core machine of `docs/beyond-one-loop.md`). So
//!   [`publish`] sets the counters and gauges on the loop and feeds the histograms from
//!   the `spawn_blocking` pool. Below `Level::Timing` there are no histograms to feed.
//! - Task names become label values: name tasks by role (`"conn"`, `"flush"`), not by
//!   instance (`"conn-8812"`), or every instance becomes a series of its own.
//!
//! ```
//! let rt = turnstile::Runtime::builder().name("api").build()?;
//! rt.block_on(turnstile::yield_now());
//! // With a recorder installed (metrics::set_global_recorder), this is what it sees.
//! rt.publish_metrics();
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use turnstile_probes::{BUCKET_BOUNDS, BUCKET_BOUNDS_NS};

use crate::rt::context;
#[cfg(doc)]
use crate::Runtime;
#[cfg(doc)]
use turnstile_probes::{BucketCounts, Snapshot};

/// The upper bounds, in seconds, of the buckets the probes count histograms in: 1, 2.5
/// and 5 per decade from 100 ns to 10 s. Give them to the exporter as the bucket bounds
/// of the `turnstile_` histograms, and it shows the probes' exact counts.
///
/// ```
/// assert_eq!(turnstile::metrics::BUCKETS_SECONDS[0], 100e-9);
/// assert_eq!(turnstile::metrics::BUCKETS_SECONDS[24], 10.0);
/// ```
pub const BUCKETS_SECONDS: [f64; BUCKET_BOUNDS] = {
    let mut seconds = [0.0; BUCKET_BOUNDS];
    let mut i = 0;
    while i < BUCKET_BOUNDS {
        seconds[i] = BUCKET_BOUNDS_NS[i] as f64 / 1e9;
        i += 1;
    }
    seconds
};

/// Publishes the current runtime's probes through the `metrics` facade, from inside
/// `block_on` (see the [module](crate::metrics) for what is published).
///
/// The counters and gauges are set before it returns. The histogram values gained
/// since the previous publish are handed to the recorder from the blocking pool (an
/// offload in the counters, when there are any; a job, not a task, so a publish adds
/// nothing to the task table): await the returned [`Publication`] before rendering to
/// see them; dropping it does not stop them.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
/// let handle = recorder.handle();
/// metrics::with_local_recorder(&recorder, || {
///     let rt = turnstile::Runtime::builder().name("api").build()?;
///     rt.block_on(async {
///         turnstile::yield_now().await;
///         turnstile::metrics::publish().await;
///     });
///     Ok::<(), std::io::Error>(())
/// })?;
/// assert!(handle.render().contains(r#"turnstile_main_polls_total{runtime="api"} 2"#));
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn publish() -> Publication {
    let published = context::with_current(|core| {
        let feed = core.publish_metrics();
        (!feed.is_empty()).then(|| core.hand_over_off_loop(feed))
    });
    let Some(feeding) = published else {
        panic!("turnstile::metrics::publish called outside a runtime: use Runtime::publish_metrics")
    };
    Publication { feeding }
}

/// A publish whose histogram values may still be on their way to the recorder: ready
/// once they are all in. Returned by [`publish`]; dropping it detaches the hand-over.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async { turnstile::metrics::publish().await });
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "await a Publication to know its histograms reached the recorder"]
pub struct Publication {
    feeding: Option<crate::rt::metrics::HandOver>,
}

impl Future for Publication {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.feeding {
            Some(feeding) => Pin::new(feeding).poll(cx),
            None => Poll::Ready(()),
        }
    }
}

impl fmt::Debug for Publication {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publication")
            .field("feeding", &self.feeding.is_some())
            .finish()
    }
}
