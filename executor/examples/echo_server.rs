//! cargo run -p turnstile --example echo_server -- 127.0.0.1:7000
//!
//! A TCP echo server: one task per connection writes back what it reads. Talk to it
//! with `nc 127.0.0.1 7000`. Every 5 seconds it prints what the loop did, including how
//! many reads found data at once (`tcp_reads_inline`) and how many waited for the
//! reactor (`tcp_reads_waited`). Stop it with Ctrl-C.
//!
//! An accept error that is one connection's (a client that left before the accept, a
//! network error pending on its socket) is logged and the next client served;
//! `tests/accept_errors.rs` runs [`serve`] over a listener that injects them.

#[path = "shared/accept.rs"]
pub mod accept;

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};
use turnstile::probes::Level;

#[allow(dead_code)] // tests/accept_errors.rs includes this file and calls `serve`
fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    let rt = turnstile::Runtime::builder()
        .probes(Level::Counters)
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("echoing on {}", listener.local_addr()?);
        let _report = turnstile::spawn(report_every(Duration::from_secs(5)));
        serve(&listener).await
    })
}

/// Accepts connections and echoes each in its own task, until the listener breaks.
pub async fn serve(listener: &impl accept::Accept<Stream = TcpStream>) -> std::io::Result<()> {
    loop {
        let (stream, peer) = accept::next_connection(listener).await?;
        println!("{peer} connected");
        let _connection = turnstile::spawn(async move {
            match echo(stream).await {
                Ok(bytes) => println!("{peer} left after {bytes} bytes"),
                Err(e) => println!("{peer} failed: {e}"),
            }
        });
    }
}

/// Writes back everything it reads until EOF; returns the bytes echoed.
async fn echo(mut stream: TcpStream) -> std::io::Result<u64> {
    accept::nodelay(&stream);
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

async fn report_every(period: Duration) {
    let mut every = turnstile::time::interval(period);
    every.tick().await;
    loop {
        every.tick().await;
        let c = turnstile::probes::snapshot().counters;
        println!(
            "turns {} parks {} io_events {} wakes_io {} reads inline/waited {}/{} bytes {}",
            c.turns,
            c.parks,
            c.io_events,
            c.wakes_io,
            c.tcp_reads_inline,
            c.tcp_reads_waited,
            c.tcp_bytes_read
        );
    }
}
