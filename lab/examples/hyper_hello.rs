//! cargo run --release -p turnstile-lab --example hyper_hello -- turnstile 127.0.0.1:3000 15
//!
//! hyper's hello world on one runtime, for a load generator: the first argument picks
//! `turnstile` (probes at Counters), `tokio` (current_thread) or `smol`; then the
//! address and the seconds to serve. `tokio-multi` is tokio's multi-thread runtime,
//! with as many workers as the fourth argument (default: the available cores), the
//! baseline for turnstile's `per_core` example (docs/beyond-one-loop.md). The service
//! and the server loop are the ones the lab's `http` experiment measures
//! (`turnstile_lab::servers::hello::serve_hello`).
//! For example:
//!
//! ```text
//! cargo run --release -p turnstile-lab --example hyper_hello -- smol 127.0.0.1:3001 12 &
//! wrk -t1 -c50 -d10s --latency http://127.0.0.1:3001/
//! ```

use std::io::{Error, ErrorKind};
use std::time::Duration;

use clap::ValueEnum as _;
use turnstile_compare::Rt;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "turnstile".into());
    if name == "tokio-multi" {
        return tokio_multi(args);
    }
    let runtime = Rt::from_str(&name, true).map_err(|_| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("unknown runtime {name:?}: turnstile, tokio, smol or tokio-multi"),
        )
    })?;
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .map_err(|e| Error::new(ErrorKind::InvalidInput, e))?;
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(15.0);
    println!("{runtime}: serving hello world on http://{addr} for {seconds} s");
    turnstile_lab::servers::hello::serve_hello(runtime, addr, Duration::from_secs_f64(seconds))
}

/// `tokio-multi ADDR SECONDS [WORKERS]`.
fn tokio_multi(mut args: impl Iterator<Item = String>) -> std::io::Result<()> {
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
        .map_err(|e| Error::new(ErrorKind::InvalidInput, e))?;
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(15.0);
    let workers = match args.next() {
        Some(n) => n.parse().map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("{n:?} is not a number of workers: {e}"),
            )
        })?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    println!(
        "tokio-multi ({workers} workers): serving hello world on http://{addr} for {seconds} s"
    );
    turnstile_lab::servers::hello::serve_hello_tokio_multi(
        addr,
        Duration::from_secs_f64(seconds),
        workers,
    )
}
