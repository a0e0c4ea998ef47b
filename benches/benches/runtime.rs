//! turnstile against tokio current_thread on identical workloads.
//!
//! `cargo bench -p turnstile-benches` runs every group; each has one entry per runtime:
//! `tokio`, `turnstile/Off`, `turnstile/Counters`. Compare them as ratios in one run.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use turnstile::probes::Level;
use turnstile_benches::{workloads, BenchRuntime, Tokio, Turnstile};

const LEVELS: [Level; 2] = [Level::Off, Level::Counters];

/// Benches `run` on tokio and on turnstile at each level, in one group.
fn each_runtime(
    group: &mut BenchmarkGroup<'_, WallTime>,
    tokio: impl Fn(&Tokio),
    turnstile: impl Fn(&Turnstile),
) {
    let rt = Tokio::new();
    group.bench_function(rt.label(), |b| b.iter(|| tokio(&rt)));
    for level in LEVELS {
        let rt = Turnstile::new(level);
        group.bench_function(rt.label(), |b| b.iter(|| turnstile(&rt)));
    }
}

fn yield_one(c: &mut Criterion) {
    const YIELDS: usize = 1_000_000;
    let mut g = c.benchmark_group("yield_one");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(YIELDS as u64));
    each_runtime(
        &mut g,
        |rt| rt.block_on(workloads::yield_one::<Tokio>(black_box(YIELDS))),
        |rt| rt.block_on(workloads::yield_one::<Turnstile>(black_box(YIELDS))),
    );
    g.finish();
}

fn yield_many(c: &mut Criterion) {
    const TASKS: usize = 200;
    const YIELDS: usize = 1_000;
    let mut g = c.benchmark_group("yield_many");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements((TASKS * YIELDS) as u64));
    each_runtime(
        &mut g,
        |rt| rt.block_on(workloads::yield_many::<Tokio>(TASKS, black_box(YIELDS))),
        |rt| rt.block_on(workloads::yield_many::<Turnstile>(TASKS, black_box(YIELDS))),
    );
    g.finish();
}

fn spawn_many_local(c: &mut Criterion) {
    const TASKS: usize = 1_000;
    let mut g = c.benchmark_group("spawn_many_local");
    g.throughput(Throughput::Elements(TASKS as u64));
    each_runtime(
        &mut g,
        |rt| rt.block_on(workloads::spawn_many_local::<Tokio>(black_box(TASKS))),
        |rt| rt.block_on(workloads::spawn_many_local::<Turnstile>(black_box(TASKS))),
    );
    g.finish();
}

criterion_group!(benches, yield_one, yield_many, spawn_many_local);
criterion_main!(benches);
