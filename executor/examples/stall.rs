//! cargo run --release -p turnstile --example stall [-- --backtrace]
//!
//! Who stalled the loop, for how long, and what did it cost the others? Three tasks do
//! 50 ms of work each: one blocks in `std::thread::sleep` (off-CPU), one burns the CPU
//! (on-CPU), one offloads the same blocking call with `spawn_blocking` (no stall). A
//! ticker task wants to run every millisecond; its scheduling delay (wake to poll)
//! shows what the stalls cost it. The watchdog reports each stall while it is still
//! going on (with `--backtrace`, with the loop thread's stack, taken through a signal:
//! see `Builder::watchdog_backtrace`); the snapshot has the stall reports and the delay
//! percentiles.

use std::time::{Duration, Instant};

use turnstile::probes::Level;
use turnstile::Runtime;

fn main() -> std::io::Result<()> {
    let backtrace = std::env::args().skip(1).any(|a| a == "--backtrace");
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .stall_threshold(Duration::from_millis(10))
        .watchdog(Duration::from_millis(25))
        .watchdog_backtrace(backtrace)
        .on_watchdog(|report| println!("[watchdog thread] {report}"))
        .build()?;

    rt.block_on(async {
        let ticker = turnstile::task::Builder::new().name("ticker").spawn(async {
            let mut every = turnstile::time::interval(Duration::from_millis(1));
            for _ in 0..200 {
                every.tick().await;
            }
        });
        turnstile::time::sleep(Duration::from_millis(20)).await;

        turnstile::task::Builder::new()
            .name("blocking sleep")
            .spawn(async { std::thread::sleep(Duration::from_millis(50)) })
            .await
            .unwrap();
        turnstile::time::sleep(Duration::from_millis(20)).await;

        turnstile::task::Builder::new()
            .name("busy loop")
            .spawn(async {
                let start = Instant::now();
                let mut x = 0u64;
                while start.elapsed() < Duration::from_millis(50) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            })
            .await
            .unwrap();
        turnstile::time::sleep(Duration::from_millis(20)).await;

        turnstile::task::Builder::new()
            .name("offloaded")
            .spawn(async {
                turnstile::spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)))
                    .await
                    .unwrap()
            })
            .await
            .unwrap();
        ticker.await.unwrap();
    });

    let snap = rt.probes();
    println!("\n{} stall(s):", snap.stalls_total);
    for stall in &snap.stalls {
        println!("  {stall}");
    }
    println!(
        "\nscheduling delay (wake to poll): {}",
        snap.scheduling_delay
    );
    println!("poll duration:                   {}", snap.poll_duration);
    println!(
        "watchdog reports: {}; loop thread context switches: {} voluntary, {} involuntary",
        snap.watchdog_reports, snap.context_switches.voluntary, snap.context_switches.involuntary
    );
    println!("\n{snap}");
    Ok(())
}
