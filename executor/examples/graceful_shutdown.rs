//! cargo run -p turnstile --example graceful_shutdown -- 127.0.0.1:7001
//!
//! A line echo server that shuts down gracefully: on SIGTERM (or Ctrl-C) it stops
//! accepting, lets every open connection finish (each ends when its client closes it),
//! and exits 0. Talk to it with `nc 127.0.0.1 7001`, then `kill -TERM <pid>`.
//!
//! It prints one line per event, which `tests/signals.rs` reads: `listening on ADDR`,
//! `stopped accepting (N open)`, `drained N connections`.

use std::io::{self, Write};

use futures::future::{select, Either};
use futures::{AsyncBufReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};
use turnstile::signal::unix::{signal, SignalKind};
use turnstile::task::JoinSet;

#[path = "shared/accept.rs"]
mod accept;

#[allow(dead_code)] // the test includes this file as a module and calls `serve`
fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let rt = turnstile::Runtime::new()?;
    let drained = rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        serve(listener).await
    })?;
    eprintln!("exiting after {drained} connections");
    Ok(())
}

/// Serves until SIGTERM or SIGINT, then drains; returns how many connections it served.
pub async fn serve(listener: TcpListener) -> io::Result<usize> {
    // Listen before saying we are up, so no signal can come in between unheard.
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    say(format_args!("listening on {}", listener.local_addr()?));
    let mut connections = JoinSet::new();
    let mut served = 0;
    loop {
        let stop = Box::pin(async {
            let (t, i) = (Box::pin(term.recv()), Box::pin(int.recv()));
            select(t, i).await;
        });
        match select(Box::pin(listener.accept()), stop).await {
            Either::Left((accepted, _)) => match accepted {
                Ok((stream, _peer)) => {
                    served += 1;
                    connections.spawn(echo_lines(stream));
                }
                // A failed accept (a peer that left at once, a network error) is not a
                // reason to stop serving the others; a broken listener is.
                Err(e) if accept::is_fatal(&e) => {
                    eprintln!("accept failed, the listener is broken: {e}");
                    break;
                }
                Err(e) => {
                    eprintln!("accept failed, going on: {e}");
                    if accept::classify(&e) == accept::AcceptError::Resources {
                        turnstile::time::sleep(accept::RESOURCES_BACKOFF).await;
                    }
                }
            },
            Either::Right(((), _)) => break,
        }
        // Reap the connections that have finished, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
    }
    drop(listener); // new connections are refused from here on
    say(format_args!(
        "stopped accepting ({} open)",
        connections.len()
    ));
    while let Some(done) = connections.join_next().await {
        if let Ok(Err(e)) = done {
            eprintln!("a connection failed: {e}");
        }
    }
    say(format_args!("drained {served} connections"));
    Ok(served)
}

/// Writes back each line until the client closes the connection.
async fn echo_lines(stream: TcpStream) -> io::Result<()> {
    let (read, mut write) = futures::AsyncReadExt::split(stream);
    let mut read = futures::io::BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        write.write_all(line.as_bytes()).await?;
    }
}

/// One line on stdout, flushed at once (a test reads it through a pipe).
fn say(what: std::fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{what}");
    let _ = out.flush();
}
