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

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Histogram,
    Label,
};
use turnstile_probes::{BucketCounts, Level, Snapshot, TaskState, BUCKET_BOUNDS, BUCKET_BOUNDS_NS};

use crate::core::Core;
use crate::{context, JoinHandle, Runtime};

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

/// The histograms published, with their help texts, in the order of [`histograms`].
const HISTOGRAMS: [(&str, &str); 4] = [
    (
        "turnstile_poll_duration_seconds",
        "How long each task poll took.",
    ),
    (
        "turnstile_scheduling_delay_seconds",
        "From a task's wake to its poll: how long it waited in the ready queue.",
    ),
    (
        "turnstile_turn_duration_seconds",
        "How long each turn of the loop took, parked time excluded.",
    ),
    (
        "turnstile_park_duration_seconds",
        "How long each park lasted (the loop blocked in the reactor, nothing ready).",
    ),
];

/// The bucket counts of the snapshot's histograms, in the order of [`HISTOGRAMS`].
fn histograms(snap: &Snapshot) -> [BucketCounts; 4] {
    [
        snap.poll_duration.buckets,
        snap.scheduling_delay.buckets,
        snap.turn_duration.buckets,
        snap.park_duration.buckets,
    ]
}

/// What one runtime has published so far: kept by its probes (`recorder.rs`).
#[derive(Debug, Default)]
pub(crate) struct Published {
    /// Borrowed only while publishing, which calls the recorder (user code): a recorder
    /// that publishes again from inside finds it borrowed, and that inner publish is
    /// skipped rather than a panic.
    memory: RefCell<Memory>,
}

/// The state a publish needs from the previous one.
#[derive(Debug, Default)]
struct Memory {
    /// The bucket counts already handed to the recorder, per histogram: the next
    /// publish hands over only what was added since.
    fed: [BucketCounts; 4],
    /// Task names published with a live count, to set to zero once none is left.
    task_names: BTreeSet<String>,
    /// The loop's running and parked time at the previous publish.
    loop_time: (Duration, Duration),
}

/// Histogram values to hand to the recorder: `(histogram, value, count)`. Built on the
/// loop, handed over wherever it is cheapest to spend the time.
#[derive(Default)]
struct Feed(Vec<(Histogram, f64, usize)>);

impl Feed {
    fn hand_over(self) {
        for (histogram, value, count) in self.0 {
            histogram.record_many(value, count);
        }
    }
}

impl Published {
    /// Publishes `snap` under the runtime name `name`: counters and gauges now, and the
    /// histogram values to feed. `None` if a publish of this runtime is in progress.
    fn publish(&self, name: &str, snap: &Snapshot) -> Option<Feed> {
        let mut memory = self.memory.try_borrow_mut().ok()?;
        let runtime = Label::new("runtime", name.to_owned());
        let labels = || vec![runtime.clone()];

        for (counter, value, help) in snap.counters.described() {
            let key = format!("turnstile_{counter}_total");
            describe_counter!(key.clone(), help);
            counter!(key, labels()).absolute(value);
        }
        for (key, value, help) in [
            (
                "turnstile_stalls_total",
                snap.stalls_total,
                "Polls longer than the stall threshold.",
            ),
            (
                "turnstile_lost_wakers_total",
                snap.lost_wakers_total,
                "Pending tasks whose every waker was dropped: they can never run again.",
            ),
            (
                "turnstile_watchdog_reports_total",
                snap.watchdog_reports,
                "Polls the watchdog reported while they were still running.",
            ),
        ] {
            describe_counter!(key, help);
            counter!(key, labels()).absolute(value);
        }

        let alive = snap.tasks.iter().filter(|t| t.state != TaskState::Finished);
        let mut by_name = BTreeMap::<&str, u64>::new();
        let mut unnamed = 0;
        for task in alive.clone() {
            match &task.name {
                Some(task) => *by_name.entry(task).or_default() += 1,
                None => unnamed += 1,
            }
        }
        describe_gauge!(
            "turnstile_tasks_alive",
            "Live tasks: named ones by name (the task label), unnamed ones without it."
        );
        gauge!("turnstile_tasks_alive", labels()).set(unnamed as f64);
        let gone: Vec<String> = (memory.task_names.iter())
            .filter(|task| !by_name.contains_key(task.as_str()))
            .cloned()
            .collect();
        for (task, n) in by_name.iter().map(|(t, &n)| (*t, n)).chain(
            // Named tasks that are all gone since the previous publish read zero.
            gone.iter().map(|t| (t.as_str(), 0)),
        ) {
            let labels = vec![runtime.clone(), Label::new("task", task.to_owned())];
            gauge!("turnstile_tasks_alive", labels).set(n as f64);
        }
        memory.task_names = by_name.keys().map(|&t| t.to_owned()).collect();

        let queued = alive.filter(|t| t.state == TaskState::Queued).count();
        describe_gauge!(
            "turnstile_ready_queue_depth",
            "Tasks queued to be polled in the next turn."
        );
        gauge!("turnstile_ready_queue_depth", labels()).set(queued as f64);
        describe_gauge!(
            "turnstile_timers_pending",
            "Timers that have neither fired nor been cancelled."
        );
        gauge!("turnstile_timers_pending", labels()).set(snap.timers_pending as f64);

        let (running, parked) = memory.loop_time;
        let running = snap.running.saturating_sub(running).as_secs_f64();
        let parked = snap.parked.saturating_sub(parked).as_secs_f64();
        if running > 0.0 {
            describe_gauge!(
                "turnstile_loop_utilization",
                "The share of running time the loop was busy, not parked, since the previous publish."
            );
            let busy = ((running - parked) / running).clamp(0.0, 1.0);
            gauge!("turnstile_loop_utilization", labels()).set(busy);
            memory.loop_time = (snap.running, snap.parked);
        }

        let mut feed = Feed::default();
        if snap.level >= Level::Timing {
            let now = histograms(snap);
            for (((key, help), now), fed) in HISTOGRAMS.iter().zip(now).zip(&mut memory.fed) {
                describe_histogram!(*key, metrics::Unit::Seconds, *help);
                let histogram = histogram!(*key, labels());
                for i in 0..=BUCKET_BOUNDS {
                    let n = now.counts[i].saturating_sub(fed.counts[i]);
                    if n == 0 {
                        continue;
                    }
                    // The mean of values above bound i-1 and at most bound i lies between
                    // them too, so the exporter puts all n in the same bucket.
                    let mean_ns = now.sums_ns[i].saturating_sub(fed.sums_ns[i]) / n;
                    let count = usize::try_from(n).unwrap_or(usize::MAX);
                    feed.0
                        .push((histogram.clone(), mean_ns as f64 / 1e9, count));
                }
                *fed = now;
            }
        }
        Some(feed)
    }
}

/// Takes a snapshot of `core` and publishes it; the histogram values are left to feed.
fn publish_core(core: &Core) -> Feed {
    if core.probes().level().is_off() {
        return Feed::default();
    }
    let snap = core.snapshot();
    core.probes()
        .published()
        .publish(core.name(), &snap)
        .unwrap_or_default()
}

impl Runtime {
    /// Publishes the probes through the `metrics` facade now (see the [`metrics`](crate::metrics)
    /// module for what is published), to the recorder current on this thread. The
    /// histograms are fed on this thread too. For use outside `block_on`; inside it,
    /// [`publish`] feeds them off the loop.
    ///
    /// ```
    /// let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    /// let rt = turnstile::Runtime::builder().name("api").build()?;
    /// rt.block_on(turnstile::yield_now());
    /// metrics::with_local_recorder(&recorder, || rt.publish_metrics());
    /// let text = recorder.handle().render();
    /// assert!(text.contains(r#"turnstile_main_polls_total{runtime="api"} 2"#));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn publish_metrics(&self) {
        publish_core(self.core()).hand_over();
    }
}

/// Publishes the current runtime's probes through the `metrics` facade, from inside
/// `block_on` (see the [module](crate::metrics) for what is published).
///
/// The counters and gauges are set before it returns. The histogram values gained
/// since the previous publish are handed to the recorder from the `spawn_blocking`
/// pool (a spawn and an offload in the counters, when there are any): await the
/// returned [`Publication`] before rendering to see them; dropping it does not stop
/// them.
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
    let feed = context::with_current(publish_core).unwrap_or_else(|| {
        panic!("turnstile::metrics::publish called outside a runtime: use Runtime::publish_metrics")
    });
    let feeding = (!feed.0.is_empty()).then(|| crate::spawn_blocking(move || feed.hand_over()));
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
    feeding: Option<JoinHandle<()>>,
}

impl Future for Publication {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.feeding {
            // A recorder that panicked has nothing to report back: the publish is over.
            Some(feeding) => Pin::new(feeding).poll(cx).map(drop),
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

/// Spawns the task behind `Builder::metrics_period`: a publish every `period`.
#[track_caller]
pub(crate) fn spawn_publisher(rt: &Runtime, period: Duration) {
    let publisher = async move {
        loop {
            crate::time::sleep(period).await;
            publish().await;
        }
    };
    let name = Some("turnstile-metrics".into());
    // Detached: it lives as long as the runtime.
    drop(rt.core().spawn(publisher, name, Location::caller()));
}
