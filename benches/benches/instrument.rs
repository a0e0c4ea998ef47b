//! What `#[turnstile::instrument]` costs: the same loops with and without it, at each
//! probe level.
//!
//! `cargo bench -p turnstile-benches --bench instrument` runs two groups:
//! `instrumented_ready_await` (100,000 awaits of ready futures in one `async fn`) and
//! `instrumented_yield` (100,000 yields through a 3-deep chain of `async fn`s), each
//! with `plain/<level>` and `instrumented/<level>` entries.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use turnstile::probes::Level;
use turnstile_benches::instrumented;

const LEVELS: [Level; 3] = [Level::Off, Level::Counters, Level::Timing];
const AWAITS: usize = 100_000;

fn runtime(level: Level) -> turnstile::Runtime {
    turnstile::Runtime::builder()
        .probes(level)
        .build()
        .expect("runtime")
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("instrumented_ready_await");
    g.throughput(Throughput::Elements(AWAITS as u64));
    for level in LEVELS {
        let rt = runtime(level);
        g.bench_function(format!("plain/{level:?}"), |b| {
            b.iter(|| black_box(rt.block_on(instrumented::ready_plain(black_box(AWAITS)))))
        });
        g.bench_function(format!("instrumented/{level:?}"), |b| {
            b.iter(|| black_box(rt.block_on(instrumented::ready_instrumented(black_box(AWAITS)))))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("instrumented_yield");
    g.throughput(Throughput::Elements(AWAITS as u64));
    g.sample_size(20);
    for level in LEVELS {
        let rt = runtime(level);
        g.bench_function(format!("plain/{level:?}"), |b| {
            b.iter(|| rt.block_on(instrumented::chain3_plain(black_box(AWAITS))))
        });
        g.bench_function(format!("instrumented/{level:?}"), |b| {
            b.iter(|| rt.block_on(instrumented::chain3_instrumented(black_box(AWAITS))))
        });
    }
    g.finish();
}

criterion_group!(instrument, benches);
criterion_main!(instrument);
