//! cargo run --release -p turnstile --features hyper --example https_server -- 127.0.0.1:3443
//!
//! HTTPS on turnstile: TLS by rustls (through futures-io, with `futures_rustls`), HTTP
//! by hyper over it, HTTP/2 or HTTP/1.1 as the TLS handshake agrees (ALPN). The
//! certificate is self-signed and made at start, so tell the client not to verify it:
//!
//! ```text
//! curl -k --http2 https://127.0.0.1:3443/     # hello over TLS, HTTP/2.0
//! curl -k --http1.1 https://127.0.0.1:3443/   # hello over TLS, HTTP/1.1
//! ```
//!
//! The glue is `turnstile::hyper::HyperIo`, which gives hyper's I/O traits to any
//! futures-io stream (here `futures_rustls::server::TlsStream<TcpStream>`). With a
//! second argument, a number of seconds, it stops after that long and prints what the
//! loop did.

#[path = "shared/https.rs"]
mod https;

use std::time::Duration;

use turnstile::net::TcpListener;
use turnstile::probes::Level;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3443".into());
    let run_for = args
        .next()
        .map(|s| s.parse().map(Duration::from_secs_f64))
        .transpose()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let rt = turnstile::Runtime::builder()
        .probes(Level::Counters)
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        let acceptor = https::self_signed_acceptor()?;
        println!(
            "https_server: listening on https://{}",
            listener.local_addr()?
        );
        let served = https::serve(listener, acceptor);
        match run_for {
            None => served.await,
            Some(d) => match turnstile::time::timeout(d, served).await {
                Ok(result) => result,
                Err(_elapsed) => Ok(()),
            },
        }
    })?;
    let c = rt.probes().counters;
    println!(
        "turns {}, parks {}, accepts {}, reads inline {} / waited {}",
        c.turns,
        c.parks,
        c.tcp_accepts_inline + c.tcp_accepts_waited,
        c.tcp_reads_inline,
        c.tcp_reads_waited
    );
    Ok(())
}
