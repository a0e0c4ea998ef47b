//! cargo run --release -p turnstile-benches --example hyper_hello -- turnstile 127.0.0.1:3000 15
//!
//! hyper's hello world on one runtime, for a load generator: the first argument picks
//! `tokio` (current_thread), `turnstile` (probes off) or `turnstile-counters`; then the
//! address and the seconds to serve. The service and the server loop are the same code
//! on both (`turnstile_benches::net`). `tokio-multi` is tokio's multi-thread runtime,
//! with as many workers as the fourth argument (default: the available cores), the
//! baseline for turnstile's `per_core` example. For example:
//!
//! ```text
//! cargo run --release -p turnstile-benches --example hyper_hello -- tokio 127.0.0.1:3001 12 &
//! wrk -t1 -c50 -d10s --latency http://127.0.0.1:3001/
//! ```

use std::time::Duration;

use turnstile::probes::Level;
use turnstile_benches::net;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let runtime = args.next().unwrap_or_else(|| "turnstile".into());
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(15.0);
    let duration = Duration::from_secs_f64(seconds);
    println!("{runtime}: serving hello world on http://{addr} for {seconds} s");
    match runtime.as_str() {
        "tokio" => net::serve_hello_tokio(addr, duration),
        "tokio-multi" => {
            let workers = match args.next() {
                Some(n) => n.parse().map_err(|e| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("{n:?} is not a number of workers: {e}"),
                    )
                })?,
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            net::serve_hello_tokio_multi(addr, duration, workers)
        }
        "turnstile" => net::serve_hello_turnstile(addr, duration, Level::Off).map(drop),
        "turnstile-counters" => {
            let snapshot = net::serve_hello_turnstile(addr, duration, Level::Counters)?;
            let c = snapshot.counters;
            println!(
                "turns {} parks {} io_events {} wakes_io {} reads inline/waited {}/{}",
                c.turns, c.parks, c.io_events, c.wakes_io, c.tcp_reads_inline, c.tcp_reads_waited
            );
            Ok(())
        }
        other => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "unknown runtime {other:?}: tokio, tokio-multi, turnstile or turnstile-counters"
            ),
        )),
    }
}
