//! cargo run --release -p turnstile --example inspector -- /tmp/turnstile.sock
//!
//! A server whose loop blocks in `std::thread::sleep` for 2 s every 3 s, with an
//! inspector on the Unix socket given as the first argument. While it runs, look at it
//! from another terminal, including during a stall, when the loop itself cannot answer:
//!
//! ```text
//! cargo run --release -p turnstile-lab -- inspect /tmp/turnstile.sock
//! cargo run --release -p turnstile-lab -- inspect /tmp/turnstile.sock --json
//! cargo run --release -p turnstile-lab -- inspect /tmp/turnstile.sock --watch
//! ```
//!
//! It runs until interrupted (Ctrl-C), or for the number of seconds given as the second
//! argument.

use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};

#[path = "shared/accept.rs"]
mod accept;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let socket = args
        .next()
        .unwrap_or_else(|| "/tmp/turnstile.sock".to_string());
    let seconds: Option<u64> = match args.next().map(|s| s.parse()) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("the second argument is a number of seconds: {e}");
            std::process::exit(2);
        }
    };
    let rt = turnstile::Runtime::builder()
        .name("inspector-example")
        .inspect(&socket)
        .build()?;
    println!("inspector on {socket}: turnstile-lab inspect {socket}");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let _accept = turnstile::task::Builder::new()
            .name("accept")
            .spawn(async move {
                while let Ok((stream, _)) = accept::next_connection(&listener).await {
                    drop(
                        turnstile::task::Builder::new()
                            .name("echo")
                            .spawn(echo(stream)),
                    ); // detached
                }
            });
        for c in 0..4 {
            drop(
                turnstile::task::Builder::new()
                    .name(format!("client {c}"))
                    .spawn(client(addr)),
            ); // detached
        }
        let blocker = turnstile::task::Builder::new()
            .name("nightly-report")
            .spawn(async {
                let mut every = turnstile::time::interval(Duration::from_secs(3));
                every.tick().await;
                loop {
                    every.tick().await;
                    println!("nightly-report: blocking the loop for 2 s");
                    std::thread::sleep(Duration::from_secs(2)); // the bad call
                }
            });
        let start = Instant::now();
        match seconds {
            Some(s) => turnstile::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending::<()>().await,
        }
        blocker.abort();
        println!("ran {:.1?}", start.elapsed());
        Ok(())
    })
}

async fn echo(mut stream: TcpStream) {
    let mut buf = [0u8; 64];
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// One request every 100 ms.
async fn client(addr: std::net::SocketAddr) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let mut buf = [0u8; 4];
    loop {
        stream.write_all(b"ping").await?;
        stream.read_exact(&mut buf).await?;
        turnstile::time::sleep(Duration::from_millis(100)).await;
    }
}
