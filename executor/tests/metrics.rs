//! The `metrics` feature: what a recorder receives is exactly what the probes counted.
//!
//! Each test publishes into its own metrics-exporter-prometheus recorder, set as the
//! thread's local recorder, and reads the rendered exposition back.
// Miri has no need to check the facade, and would take minutes over the exporter.
#![cfg(not(miri))]

mod common;

use std::collections::BTreeMap;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusRecorder};
use turnstile::metrics::BUCKETS_SECONDS;
use turnstile::probes::Level;
use turnstile::Runtime;

use common::ms;

/// A recorder whose `turnstile_` histograms use the probes' own bucket bounds.
fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Prefix("turnstile_".into()), &BUCKETS_SECONDS)
        .expect("bucket bounds")
        .build_recorder()
}

/// One sample of an exposition: the metric name, its labels, its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text exposition (comments skipped).
fn samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            let labels = labels
                .split(',')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').expect("label=value");
                    (k.to_string(), v.trim_matches('"').to_string())
                })
                .collect();
            Sample {
                name: name.to_string(),
                labels,
                value: value.parse().expect("a number"),
            }
        })
        .collect()
}

/// The value of `name` with exactly `labels`, if the exposition has it.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    samples(text)
        .into_iter()
        .find(|s| s.name == name && s.labels == want)
        .map(|s| s.value)
}

fn named(name: &str, level: Level) -> Runtime {
    Runtime::builder()
        .name(name)
        .probes(level)
        .build()
        .expect("runtime")
}

#[test]
fn every_counter_is_published_with_its_exact_value() {
    let recorder = recorder();
    let rt = named("counted", Level::Counters);
    rt.block_on(async {
        let tasks: Vec<_> = (0..3)
            .map(|_| turnstile::spawn(turnstile::yield_now()))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    metrics::with_local_recorder(&recorder, || rt.publish_metrics());
    let text = recorder.handle().render();
    let counters = rt.counters();
    assert_eq!(counters.polls, 6, "three tasks, one yield each");
    for (name, expected, _) in counters.described() {
        let metric = format!("turnstile_{name}_total");
        let got = value(&text, &metric, &[("runtime", "counted")]);
        assert_eq!(got, Some(expected as f64), "{metric} in\n{text}");
    }
    assert!(text.contains("# HELP turnstile_polls_total Polls of spawned tasks"));
}

#[test]
fn gauges_count_live_tasks_by_name_and_the_ready_queue() {
    let recorder = recorder();
    let rt = named("gauged", Level::Counters);
    let workers = rt.block_on(async {
        let workers: Vec<_> = (0..3)
            .map(|_| {
                turnstile::task::Builder::new()
                    .name("worker")
                    .spawn(std::future::pending::<()>())
            })
            .collect();
        // Polled once, pending forever: alive and idle.
        turnstile::yield_now().await;
        // Spawned, never polled: queued.
        drop(turnstile::spawn(async {}));
        drop(turnstile::spawn(async {}));
        workers
    });
    let publish = || {
        metrics::with_local_recorder(&recorder, || rt.publish_metrics());
        recorder.handle().render()
    };
    let text = publish();
    let runtime = ("runtime", "gauged");
    let alive = |text: &str, task: Option<&str>| {
        let mut labels = vec![runtime];
        labels.extend(task.map(|t| ("task", t)));
        value(text, "turnstile_tasks_alive", &labels)
    };
    assert_eq!(alive(&text, Some("worker")), Some(3.0), "{text}");
    assert_eq!(alive(&text, None), Some(2.0), "{text}");
    let depth = value(&text, "turnstile_ready_queue_depth", &[runtime]);
    assert_eq!(depth, Some(2.0), "{text}");
    assert_eq!(
        value(&text, "turnstile_timers_pending", &[runtime]),
        Some(0.0)
    );

    rt.block_on(async {
        for w in workers {
            w.abort();
        }
        turnstile::yield_now().await;
    });
    let text = publish();
    assert_eq!(alive(&text, Some("worker")), Some(0.0), "gone: {text}");
    assert_eq!(alive(&text, None), Some(0.0), "{text}");
    assert_eq!(
        value(&text, "turnstile_ready_queue_depth", &[runtime]),
        Some(0.0)
    );
}

/// The exporter's `le` buckets, `_count` and the probes' own bucket counts agree, after
/// one publish and after another one that hands over only what was added since.
#[test]
fn histogram_buckets_are_the_probes_exact_counts() {
    let recorder = recorder();
    let rt = named("timed", Level::Timing);
    let work = || {
        rt.block_on(async {
            for _ in 0..20 {
                turnstile::spawn(turnstile::yield_now()).await.unwrap();
            }
            turnstile::time::sleep(ms(2)).await;
        })
    };
    for round in 0..2 {
        work();
        let snap = rt.probes();
        metrics::with_local_recorder(&recorder, || rt.publish_metrics());
        let text = recorder.handle().render();
        let runtime = ("runtime", "timed");
        for (name, summary) in [
            ("turnstile_poll_duration_seconds", snap.poll_duration),
            ("turnstile_scheduling_delay_seconds", snap.scheduling_delay),
            ("turnstile_turn_duration_seconds", snap.turn_duration),
            ("turnstile_park_duration_seconds", snap.park_duration),
        ] {
            assert!(summary.count > 0, "{name}: nothing recorded");
            let count = value(&text, &format!("{name}_count"), &[runtime]);
            assert_eq!(count, Some(summary.count as f64), "{name}, round {round}");
            let cumulative = summary.buckets.cumulative();
            for (i, bound) in BUCKETS_SECONDS.iter().enumerate() {
                let le = bound.to_string();
                let got = value(&text, &format!("{name}_bucket"), &[runtime, ("le", &le)]);
                assert_eq!(
                    got,
                    Some(cumulative[i] as f64),
                    "{name} le {le}, round {round}:\n{text}"
                );
            }
        }
        let polls = value(&text, "turnstile_polls_total", &[runtime]);
        assert_eq!(polls, Some(snap.counters.polls as f64));
    }
}

#[test]
fn nothing_is_published_with_the_probes_off() {
    let recorder = recorder();
    let rt = named("dark", Level::Off);
    rt.block_on(turnstile::yield_now());
    metrics::with_local_recorder(&recorder, || rt.publish_metrics());
    assert_eq!(recorder.handle().render().trim(), "");
}

/// The publisher task of `Builder::metrics_period` publishes from inside the loop;
/// its histogram values arrive from the blocking pool.
#[test]
fn a_period_publishes_from_a_task_named_turnstile_metrics() {
    let recorder = recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || {
        let rt = Runtime::builder()
            .name("periodic")
            .metrics_period(ms(5))
            .build()
            .expect("runtime");
        // The publisher's first timer (5 ms) fires before this one (20 ms).
        rt.block_on(turnstile::time::sleep(ms(20)));
        let snap = rt.probes();
        let publisher = snap
            .tasks
            .iter()
            .find(|t| t.name.as_deref() == Some("turnstile-metrics"))
            .expect("the publisher task");
        assert!(publisher.polls >= 2, "at least one publish: {publisher:?}");
    });
    let text = handle.render();
    let alive = value(
        &text,
        "turnstile_tasks_alive",
        &[("runtime", "periodic"), ("task", "turnstile-metrics")],
    );
    assert_eq!(alive, Some(1.0), "{text}");
    assert!(value(&text, "turnstile_turns_total", &[("runtime", "periodic")]).is_some());
}

#[test]
fn a_runtime_is_named_by_its_builder_or_by_its_id() {
    assert_eq!(named("api", Level::Counters).name(), "api");
    let a = Runtime::new().unwrap();
    let b = Runtime::new().unwrap();
    assert!(a.name().starts_with("turnstile-"));
    assert_ne!(a.name(), b.name());
}

/// A publish hands its histogram values over on the blocking pool as a job: it leaves no
/// task behind in the snapshot's task table (and no spawn in the counters).
#[test]
fn a_publish_leaves_no_carrier_task() {
    let recorder = recorder();
    let rt = named("carrier", Level::Timing);
    metrics::with_local_recorder(&recorder, || {
        rt.block_on(async {
            turnstile::spawn(turnstile::yield_now()).await.unwrap();
            let before = turnstile::probes::snapshot();
            turnstile::metrics::publish().await;
            turnstile::metrics::publish().await;
            let after = turnstile::probes::snapshot();
            assert_eq!(after.tasks.len(), before.tasks.len(), "{after}");
            assert_eq!(after.counters.spawns, before.counters.spawns);
            assert_eq!(after.counters.offloaded, before.counters.offloaded + 2);
        })
    });
}
