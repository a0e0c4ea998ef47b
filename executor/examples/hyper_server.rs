//! cargo run --release -p turnstile --features hyper --example hyper_server -- 127.0.0.1:3000
//!
//! Hello world over HTTP/1.1 with keep-alive, hyper 1.x on turnstile. Listens on the
//! address in its first argument (default 127.0.0.1:3000). With a second argument,
//! a number of seconds, it stops after that long and prints what the loop did (turns,
//! parks, I/O events, reads inline vs waited): try it under a load generator,
//!
//! ```text
//! cargo run --release -p turnstile --features hyper --example hyper_server -- 127.0.0.1:3000 15 &
//! wrk -t1 -c50 -d10s http://127.0.0.1:3000/
//! ```

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use turnstile::hyper::TurnstileTimer;
use turnstile::net::TcpListener;
use turnstile::probes::Level;

#[path = "shared/accept.rs"]
mod accept;

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

/// Accepts connections and serves each in its own task, until the listener breaks (an
/// error of one connection is logged and the next one accepted).
async fn serve(listener: &TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = accept::next_connection(listener).await?;
        accept::nodelay(&stream);
        let _connection = turnstile::spawn(async move {
            let served = http1::Builder::new()
                .timer(TurnstileTimer)
                .serve_connection(stream, service_fn(hello))
                .await;
            if let Err(e) = served {
                eprintln!("connection error: {e}");
            }
        });
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:3000".into());
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
        println!("listening on http://{}", listener.local_addr()?);
        let serve = serve(&listener);
        match run_for {
            None => serve.await,
            Some(limit) => match turnstile::time::timeout(limit, serve).await {
                Ok(result) => result,
                Err(_elapsed) => Ok(()),
            },
        }
    })?;
    println!("{}", rt.probes());
    Ok(())
}
