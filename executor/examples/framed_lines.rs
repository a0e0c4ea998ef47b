//! cargo run -p turnstile --features tokio-io --example framed_lines
//!
//! tokio-util's `Framed` with a `LinesCodec` over turnstile's `TcpStream`s, as on
//! tokio: the `tokio-io` feature gives the sockets tokio's `AsyncRead`/`AsyncWrite`, so
//! the codec takes them as they are. A line server answers each line in upper case; a
//! client sends three lines, prints the answers, and the probes say how many socket
//! reads went back to the loop.

use futures::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, LinesCodec};
use turnstile::net::{TcpListener, TcpStream};
use turnstile::probes::Level;

fn main() -> std::io::Result<()> {
    let rt = turnstile::Runtime::builder()
        .probes(Level::Counters)
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = turnstile::task::Builder::new()
            .name("lines server")
            .spawn(async move {
                let (stream, _) = listener.accept().await?;
                let mut lines = Framed::new(stream, LinesCodec::new());
                while let Some(line) = lines.next().await {
                    let line = line.map_err(std::io::Error::other)?;
                    lines
                        .send(line.to_uppercase())
                        .await
                        .map_err(std::io::Error::other)?;
                }
                Ok::<(), std::io::Error>(())
            });

        let mut lines = Framed::new(TcpStream::connect(addr).await?, LinesCodec::new());
        for line in ["one line", "another line", "the last line"] {
            lines.send(line).await.map_err(std::io::Error::other)?;
            match lines.next().await {
                Some(answer) => {
                    println!("{line:?} -> {:?}", answer.map_err(std::io::Error::other)?)
                }
                None => return Err(std::io::Error::other("the server closed early")),
            }
        }
        drop(lines);
        server
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        Ok(())
    })?;
    let c = rt.probes().counters;
    println!(
        "tcp reads: {} inline, {} waited (went back to the loop)",
        c.tcp_reads_inline, c.tcp_reads_waited
    );
    Ok(())
}
