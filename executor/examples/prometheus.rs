//! cargo run --release -p turnstile --features hyper,metrics --example prometheus -- 127.0.0.1:9000
//!
//! A hyper service on turnstile that Prometheus can scrape: `/metrics` publishes the
//! runtime's probes through the `metrics` facade and renders them with
//! metrics-exporter-prometheus (no HTTP listener of its own, no tokio); every other path
//! answers `Hello, World!`. Listens on the address in its first argument (default
//! 127.0.0.1:9000). The runtime is named `hello`: every series has `runtime="hello"`.
//!
//! ```text
//! cargo run --release -p turnstile --features hyper,metrics --example prometheus &
//! curl -s http://127.0.0.1:9000/metrics | grep turnstile_polls_total
//! curl -s http://127.0.0.1:9000/metrics | promtool check metrics
//! ```
//!
//! tests/prometheus.rs runs this service under a real Prometheus.

#[path = "shared/hello_metrics.rs"]
mod hello_metrics;

use std::io;
use std::process::ExitCode;

use hello_metrics::{cannot_listen, parse_addr, serve, Service};
use turnstile::net::TcpListener;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("prometheus example: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = parse_addr(addr.as_deref().unwrap_or("127.0.0.1:9000"))?;
    let prometheus = hello_metrics::prometheus()
        .install_recorder()
        .map_err(io::Error::other)?;
    // Level::Timing (the default): the histograms need it.
    let rt = turnstile::Runtime::builder().name("hello").build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(addr).await.map_err(cannot_listen(addr))?;
        let addr = listener.local_addr()?;
        println!("serving http://{addr}/ and its metrics at http://{addr}/metrics");
        serve(listener, Service::new(prometheus)).await
    })
}
