//! cargo run --release -p turnstile --features hyper,metrics --example per_core -- 127.0.0.1:9000
//!
//! One turnstile loop per core: N runtimes on N threads (N = the available cores unless
//! the second argument says otherwise), each with its own SO_REUSEPORT listener on the
//! same address (first argument, default 127.0.0.1:9000), serving hyper's hello world.
//! The kernel spreads new connections over the listeners; a connection then stays on
//! its loop for good (there is no work stealing). The third argument is the probe level
//! (`off`, `counters` or `timing`, the default).
//!
//! Each loop is a runtime named `loop-<i>` that publishes into a Prometheus recorder of
//! its own, so `/metrics` shows the loop that answered it: on the shared port, whichever
//! loop the connection landed on; on the loop's own metrics port (the shared port + 1 +
//! i, printed at start), always that loop, for Prometheus to scrape as one target per
//! loop.
//!
//! ```text
//! cargo run --release -p turnstile --features hyper,metrics --example per_core -- 127.0.0.1:9000 2 &
//! wrk -t2 -c64 -d10s http://127.0.0.1:9000/
//! curl -s http://127.0.0.1:9001/metrics | grep turnstile_polls_total   # loop-0
//! curl -s http://127.0.0.1:9002/metrics | grep turnstile_polls_total   # loop-1
//! ```

#[path = "shared/hello_metrics.rs"]
mod hello_metrics;

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;

use hello_metrics::{cannot_listen, parse_addr, reuse_port_listener, serve_loop};
use turnstile::probes::Level;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("per_core: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = parse_addr(&args.next().unwrap_or_else(|| "127.0.0.1:9000".into()))?;
    let loops = match args.next() {
        Some(n) => n
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| invalid(format!("{n:?} is not a number of loops (1 or more)")))?,
        None => thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let level = match args.next().as_deref() {
        None | Some("timing") => Level::Timing,
        Some("counters") => Level::Counters,
        Some("off") => Level::Off,
        Some(other) => return Err(invalid(format!("{other:?}: off, counters or timing"))),
    };

    // Bound here, before any loop starts, so that a port in use is one clear error and
    // port 0 means one port for all the loops (the one the first listener got).
    let first = reuse_port_listener(addr)?;
    let shared = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..loops {
        listeners.push(reuse_port_listener(shared)?);
    }
    let mut threads = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let port = match shared.port() {
            0 => 0,
            port => port
                .checked_add(1 + i as u16)
                .ok_or_else(|| invalid(format!("no metrics port above {port} for loop {i}")))?,
        };
        let metrics_addr = SocketAddr::new(shared.ip(), port);
        let metrics =
            std::net::TcpListener::bind(metrics_addr).map_err(cannot_listen(metrics_addr))?;
        println!(
            "loop-{i}: hello world on http://{shared}/, its own metrics on http://{}/metrics",
            metrics.local_addr()?
        );
        let run_loop = move || serve_loop(&format!("loop-{i}"), level, listener, metrics);
        threads.push(
            thread::Builder::new()
                .name(format!("loop-{i}"))
                .spawn(run_loop)?,
        );
    }
    for thread in threads {
        thread
            .join()
            .map_err(|_| io::Error::other("a loop panicked"))??;
    }
    Ok(())
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}
