//! The servers that experiments share, and the child's side of `serve`.
//!
//! A server under test runs as `turnstile-lab serve '<job as JSON>'` (a hidden
//! subcommand), started by [`crate::load::ServerProcess`]: it prints its address on its
//! first line of stdout and runs until its stdin closes (the parent dropped it) or its
//! time cap passes. The servers live here, below the experiments, so that the child's
//! side needs no experiment: the TCP and UDP echo servers of `turnstile_compare::net`,
//! and hyper's hello world ([`hello`]).

pub mod hello;

use std::io::Read as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use turnstile::probes::Level;
use turnstile_compare::{net, Runtime, Turnstile};

use crate::runtimes::Rt;

/// Which server a `serve` process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Server {
    /// `turnstile_compare::net::echo_server`: TCP, a task per connection.
    TcpEcho,
    /// `turnstile_compare::net::udp_echo_server`: one task, every datagram sent back.
    UdpEcho,
    /// hyper's hello world ([`hello::serve_hello`]).
    Hello,
}

/// A server for a child process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServeJob {
    /// The runtime it runs on.
    pub runtime: Rt,
    /// What it serves.
    pub server: Server,
    /// It stops by itself after this many seconds at the latest.
    pub max_seconds: u64,
    /// turnstile's probe level when it is not the default (`Level::Timing`): the extra
    /// rows that say what the probes cost. The other runtimes ignore it.
    #[serde(default)]
    pub level: Option<Level>,
}

/// The child's side of `serve`: prints the address, serves until stdin closes or the
/// cap passes.
pub fn serve(job: &str) -> anyhow::Result<()> {
    let job: ServeJob = serde_json::from_str(job).context("parsing the server's job")?;
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let cap = Duration::from_secs(job.max_seconds);
    let at_level = match (job.runtime, job.level) {
        (Rt::Turnstile, Some(level)) => Some(level),
        _ => None,
    };
    match (job.server, at_level) {
        (Server::TcpEcho, Some(level)) => tcp_echo(Turnstile::new(level), cap),
        (Server::TcpEcho, None) => on_runtime!(job.runtime, R => tcp_echo(R::fresh(), cap)),
        (Server::UdpEcho, Some(level)) => udp_echo(Turnstile::new(level), cap),
        (Server::UdpEcho, None) => on_runtime!(job.runtime, R => udp_echo(R::fresh(), cap)),
        (Server::Hello, level) => {
            let addr = free_port()?;
            announce(addr);
            match level {
                Some(level) => hello::serve_hello_turnstile(level, addr, cap)?,
                None => hello::serve_hello(job.runtime, addr, cap)?,
            }
        }
    }
    Ok(())
}

/// The TCP echo server on `rt`, for `cap`.
fn tcp_echo<R: Runtime>(rt: R, cap: Duration) {
    rt.block_on(async {
        announce(net::echo_server::<R>().await);
        R::sleep(cap).await;
    });
}

/// The UDP echo server on `rt`, for `cap`.
fn udp_echo<R: Runtime>(rt: R, cap: Duration) {
    rt.block_on(async {
        announce(net::udp_echo_server::<R>().await);
        R::sleep(cap).await;
    });
}

fn announce(addr: SocketAddr) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{addr}");
    let _ = out.flush();
}

/// A free port on 127.0.0.1 (bound and released: for servers that take an address).
fn free_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a port")?;
    Ok(listener.local_addr()?)
}
