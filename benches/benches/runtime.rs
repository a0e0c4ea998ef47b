//! turnstile against tokio current_thread and smol on identical workloads.
//!
//! `cargo bench -p turnstile-benches --bench runtime` runs every group; each has one
//! entry per runtime: `tokio`, `smol`, then `turnstile/Off`, `/Counters`, `/Timing`,
//! `/Trace`, and `/Flight` (`Off` with the flight recorder on).
//! Group names follow tokio's own benches. Compare entries as ratios within one run:
//! `cargo run --release -p turnstile-benches --bin ratios` prints them.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use turnstile::probes::Level;
use turnstile_compare::{workloads, Runtime, Smol, Tokio, Turnstile};

const LEVELS: [Level; 4] = [Level::Off, Level::Counters, Level::Timing, Level::Trace];

/// A workload written once, run on any runtime.
trait Workload {
    fn run<R: Runtime>(&self, rt: &R);
}

/// Benches `work` on tokio and on turnstile at every probe level, in one group.
/// `setup` runs once per runtime before measuring (e.g. to start a busy task).
fn group(c: &mut Criterion, name: &str, elements: u64, work: impl Workload, setup: impl Workload) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(elements));
    configure(&mut g, name);
    let rt = Tokio::new();
    setup.run(&rt);
    g.bench_function(rt.label(), |b| b.iter(|| work.run(&rt)));
    let rt = Smol::new();
    setup.run(&rt);
    g.bench_function(rt.label(), |b| b.iter(|| work.run(&rt)));
    for level in LEVELS {
        let rt = Turnstile::new(level);
        setup.run(&rt);
        g.bench_function(rt.label(), |b| b.iter(|| work.run(&rt)));
    }
    let rt = Turnstile::flight();
    setup.run(&rt);
    g.bench_function(rt.label(), |b| b.iter(|| work.run(&rt)));
    g.finish();
}

/// Long workloads take fewer samples.
fn configure(g: &mut BenchmarkGroup<'_, WallTime>, name: &str) {
    match name {
        "yield_one" | "timers" => {
            g.sample_size(10).measurement_time(Duration::from_secs(4));
        }
        "yield_many" | "timer_cancel" => {
            g.sample_size(20);
        }
        _ => {}
    }
}

struct Nothing;
impl Workload for Nothing {
    fn run<R: Runtime>(&self, _: &R) {}
}

macro_rules! workload {
    ($name:ident, |$rt:ident: $R:ident| $body:expr) => {
        struct $name;
        impl Workload for $name {
            fn run<$R: Runtime>(&self, $rt: &$R) {
                $body
            }
        }
    };
}

const SPAWNS: usize = 1_000;
workload!(SpawnManyLocal, |rt: R| rt
    .block_on(workloads::spawn_many_local::<R>(black_box(SPAWNS))));
workload!(SpawnManyRemote, |rt: R| workloads::spawn_many_remote(
    rt,
    black_box(SPAWNS)
));
workload!(StartBusyTask, |rt: R| rt
    .block_on(async { workloads::keep_busy::<R>() }));
const YIELD_ONE: usize = 1_000_000;
workload!(YieldOne, |rt: R| rt
    .block_on(workloads::yield_one::<R>(black_box(YIELD_ONE))));
const YIELD_TASKS: usize = 200;
const YIELDS_EACH: usize = 1_000;
workload!(YieldMany, |rt: R| rt.block_on(workloads::yield_many::<R>(
    YIELD_TASKS,
    black_box(YIELDS_EACH)
)));
const ROUND_TRIPS: usize = 1_000;
workload!(PingPong, |rt: R| rt
    .block_on(workloads::ping_pong::<R>(black_box(ROUND_TRIPS))));
const CHAIN: usize = 1_000;
workload!(ChainedSpawn, |rt: R| rt
    .block_on(workloads::chained_spawn::<R>(black_box(CHAIN))));
const CALLS: usize = 1_000;
workload!(AwaitChain, |rt: R| {
    black_box(rt.block_on(workloads::await_chain(black_box(CALLS))));
});
const TIMER_TASKS: usize = 100_000;
workload!(Timers, |rt: R| rt.block_on(workloads::timers::<R>(
    TIMER_TASKS,
    Duration::from_millis(1)
)));
const CANCELS: usize = 100_000;
workload!(TimerCancel, |rt: R| rt
    .block_on(workloads::timer_cancel::<R>(black_box(CANCELS))));

fn benches(c: &mut Criterion) {
    group(
        c,
        "spawn_many_local",
        SPAWNS as u64,
        SpawnManyLocal,
        Nothing,
    );
    group(
        c,
        "spawn_many_remote_idle",
        SPAWNS as u64,
        SpawnManyRemote,
        Nothing,
    );
    group(
        c,
        "spawn_many_remote_busy",
        SPAWNS as u64,
        SpawnManyRemote,
        StartBusyTask,
    );
    group(c, "yield_one", YIELD_ONE as u64, YieldOne, Nothing);
    group(
        c,
        "yield_many",
        (YIELD_TASKS * YIELDS_EACH) as u64,
        YieldMany,
        Nothing,
    );
    group(c, "ping_pong", ROUND_TRIPS as u64, PingPong, Nothing);
    group(c, "chained_spawn", CHAIN as u64, ChainedSpawn, Nothing);
    group(c, "await_chain", CALLS as u64, AwaitChain, Nothing);
    group(c, "timers", TIMER_TASKS as u64, Timers, Nothing);
    group(c, "timer_cancel", CANCELS as u64, TimerCancel, Nothing);
}

criterion_group!(runtime, benches);
criterion_main!(runtime);
