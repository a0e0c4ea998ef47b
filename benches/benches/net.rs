//! Network benches: turnstile against tokio current_thread and smol, identical client and server
//! code (see `turnstile_compare::net`), over loopback.
//!
//! `CARGO_TARGET_DIR=... cargo bench -p turnstile-benches --bench net` runs both groups:
//!
//! - `tcp_ping_pong`: one connection, 64-byte messages, one round trip per iteration
//!   (the time per iteration is the round-trip time).
//! - `echo_100`: 100 connections at once, each echoing 1 KiB messages in lockstep; one
//!   iteration is one message on every connection (throughput in bytes echoed).
//!
//! Each group has `tokio`, `smol`, `turnstile/Off`, `turnstile/Counters` and
//! `turnstile/Flight` (`Off` with the flight recorder on); compare ratios within one run.

use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use turnstile::probes::Level;
use turnstile_compare::{net, Runtime};
use turnstile_compare::{Smol, Tokio, Turnstile};

const LEVELS: [Level; 2] = [Level::Off, Level::Counters];

fn tcp_ping_pong(c: &mut Criterion) {
    const SIZE: usize = 64;
    let mut g = c.benchmark_group("tcp_ping_pong");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(5));
    ping_pong_on(&mut g, Tokio::new());
    ping_pong_on(&mut g, Smol::new());
    for level in LEVELS {
        ping_pong_on(&mut g, Turnstile::new(level));
    }
    ping_pong_on(&mut g, Turnstile::flight());
    g.finish();

    fn ping_pong_on<R: Runtime>(g: &mut BenchmarkGroup<'_, WallTime>, rt: R) {
        let mut stream = rt.block_on(async {
            let addr = net::echo_server::<R>().await;
            net::connect::<R>(addr).await
        });
        g.bench_function(rt.label(), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    net::ping_pong::<R>(&mut stream, iters, SIZE).await;
                    start.elapsed()
                })
            })
        });
    }
}

fn echo_100(c: &mut Criterion) {
    const CONNECTIONS: usize = 100;
    const SIZE: usize = 1024;
    let mut g = c.benchmark_group("echo_100");
    g.throughput(Throughput::Bytes((CONNECTIONS * SIZE) as u64));
    g.measurement_time(Duration::from_secs(5));
    echo_on(&mut g, Tokio::new());
    echo_on(&mut g, Smol::new());
    for level in LEVELS {
        echo_on(&mut g, Turnstile::new(level));
    }
    echo_on(&mut g, Turnstile::flight());
    g.finish();

    fn echo_on<R: Runtime>(g: &mut BenchmarkGroup<'_, WallTime>, rt: R) {
        let mut streams = rt.block_on(async {
            let addr = net::echo_server::<R>().await;
            net::connect_many::<R>(addr, CONNECTIONS).await
        });
        g.bench_function(rt.label(), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    streams = net::echo_many::<R>(std::mem::take(&mut streams), iters, SIZE).await;
                    start.elapsed()
                })
            })
        });
    }
}

criterion_group!(benches, tcp_ping_pong, echo_100);
criterion_main!(benches);
