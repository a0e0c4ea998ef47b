//! cargo run --release -p turnstile-benches --example hotloop -- yield_many counters 10
//!
//! Runs one workload a given number of times on one runtime, for profilers
//! (`perf record`, `valgrind --tool=callgrind`) that need a plain process to attach to.
//! Arguments: workload (`yield_one`, `yield_many`, `spawn_many_local`, `chained_spawn`,
//! `tcp_ping_pong`: 1,000 round trips of 64 bytes on one loopback connection, `echo_100`:
//! 10 round trips of 1 KiB on each of 100 connections; the I/O workloads set up their
//! server and connections once, before the repetitions; turnstile only: `ready_plain`,
//! `ready_instrumented`: 100,000 awaits of ready futures without and with
//! `#[turnstile::instrument]`, `chain3_plain`, `chain3_instrumented`: 100,000 yields
//! through a 3-deep chain of `async fn`s without and with it, `timer_churn`: 100,000
//! sleeps of an hour, each registered and cancelled), runtime (`tokio`, `off`,
//! `counters`, `timing`, `trace`, `flight`: `off` with the flight recorder on),
//! repetitions.

use turnstile::probes::Level;
use turnstile_benches::instrumented;
use turnstile_compare::{net, workloads, Runtime, Tokio, Turnstile};

fn run<R: Runtime>(rt: &R, workload: &str, reps: usize) {
    match workload {
        "tcp_ping_pong" => {
            let mut stream = rt.block_on(async {
                let addr = net::echo_server::<R>().await;
                net::connect::<R>(addr).await
            });
            for _ in 0..reps {
                rt.block_on(net::ping_pong::<R>(&mut stream, 1_000, 64));
            }
            return;
        }
        "echo_100" => {
            let mut streams = rt.block_on(async {
                let addr = net::echo_server::<R>().await;
                net::connect_many::<R>(addr, 100).await
            });
            for _ in 0..reps {
                streams = rt.block_on(net::echo_many::<R>(std::mem::take(&mut streams), 10, 1024));
            }
            return;
        }
        _ => {}
    }
    for _ in 0..reps {
        match workload {
            "yield_one" => rt.block_on(workloads::yield_one::<R>(100_000)),
            "yield_many" => rt.block_on(workloads::yield_many::<R>(200, 1_000)),
            "spawn_many_local" => rt.block_on(workloads::spawn_many_local::<R>(1_000)),
            "chained_spawn" => rt.block_on(workloads::chained_spawn::<R>(1_000)),
            other => {
                eprintln!(
                    "unknown workload {other:?}: yield_one, yield_many, spawn_many_local, \
                     chained_spawn, tcp_ping_pong or echo_100"
                );
                std::process::exit(2);
            }
        }
    }
}

/// The workloads that only turnstile runs (`#[turnstile::instrument]`).
fn run_instrumented(level: Level, workload: &str, reps: usize) -> bool {
    let rt = turnstile::Runtime::builder()
        .probes(level)
        .build()
        .expect("runtime");
    for _ in 0..reps {
        match workload {
            "ready_plain" => {
                std::hint::black_box(rt.block_on(instrumented::ready_plain(100_000)));
            }
            "ready_instrumented" => {
                std::hint::black_box(rt.block_on(instrumented::ready_instrumented(100_000)));
            }
            "chain3_plain" => rt.block_on(instrumented::chain3_plain(100_000)),
            "chain3_instrumented" => rt.block_on(instrumented::chain3_instrumented(100_000)),
            "timer_churn" => rt.block_on(timer_churn(100_000)),
            _ => return false,
        }
    }
    true
}

/// `n` sleeps of an hour, each polled once (its timer registered, the clock read twice)
/// and dropped (the timer cancelled): the timers' cost per sleep, without parking.
async fn timer_churn(n: usize) {
    use std::future::Future;
    for _ in 0..n {
        let mut sleep =
            std::pin::pin!(turnstile::time::sleep(std::time::Duration::from_secs(3600)));
        std::future::poll_fn(|cx| {
            let _ = sleep.as_mut().poll(cx);
            std::task::Poll::Ready(())
        })
        .await;
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let workload = args.first().map_or("yield_many", String::as_str);
    let runtime = args.get(1).map_or("counters", String::as_str);
    let reps = match args.get(2).map(|s| s.parse::<usize>()) {
        None => 10,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("repetitions must be a whole number: {e}");
            std::process::exit(2);
        }
    };
    let level = match runtime {
        "tokio" => return run(&Tokio::new(), workload, reps),
        "flight" => return run(&Turnstile::flight(), workload, reps),
        "off" => Level::Off,
        "counters" => Level::Counters,
        "timing" => Level::Timing,
        "trace" => Level::Trace,
        other => {
            eprintln!("unknown runtime {other:?}: tokio, off, counters, timing, trace or flight");
            std::process::exit(2);
        }
    };
    if !run_instrumented(level, workload, reps) {
        run(&Turnstile::new(level), workload, reps);
    }
}
