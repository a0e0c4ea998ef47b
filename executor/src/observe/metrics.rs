//! The `metrics` feature's bookkeeping: what one runtime has published so far, and
//! the histogram values a publish still has to hand over (`crate::metrics` is the
//! public side, and says what is published).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Histogram,
    Label,
};
use turnstile_probes::{BucketCounts, Level, Snapshot, TaskState, BUCKET_BOUNDS};

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

/// What one runtime has published so far: kept by its observer (`recorder.rs`).
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
pub(crate) struct Feed(Vec<(Histogram, f64, usize)>);

impl Feed {
    /// Whether there is nothing to hand over.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn hand_over(self) {
        for (histogram, value, count) in self.0 {
            histogram.record_many(value, count);
        }
    }
}

impl Published {
    /// Publishes `snap` under the runtime name `name`: counters and gauges now, and the
    /// histogram values to feed. `None` if a publish of this runtime is in progress.
    pub(crate) fn publish(&self, name: &str, snap: &Snapshot) -> Option<Feed> {
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
