//! cargo run -p turnstile --features hyper --example hyper_client -- http://127.0.0.1:3000/ 10
//!
//! hyper 1.x's HTTP/1.1 client on turnstile: sends the number of GET requests in its
//! second argument (default 1) over one keep-alive connection to the URL in its first
//! (default http://127.0.0.1:3000/), prints the first response, then how many
//! requests it made and what the loop did. Start `hyper_server` first.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use turnstile::hyper::TurnstileExecutor;
use turnstile::net::TcpStream;
use turnstile::probes::Level;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url: hyper::Uri = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:3000/".into())
        .parse()?;
    let requests: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(1);
    let host = url.host().ok_or("the URL has no host")?.to_string();
    let port = url.port_u16().unwrap_or(80);

    let rt = turnstile::Runtime::builder()
        .probes(Level::Counters)
        .build()?;
    rt.block_on(async {
        let stream = TcpStream::connect((host.as_str(), port)).await?;
        stream.set_nodelay(true)?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await?;
        // The connection does the I/O; it runs as its own task.
        hyper::rt::Executor::execute(&TurnstileExecutor, async move {
            if let Err(e) = connection.await {
                eprintln!("connection error: {e}");
            }
        });
        let authority = url.authority().ok_or("the URL has no authority")?.clone();
        for i in 0..requests {
            sender.ready().await?;
            let req = Request::get(url.clone())
                .header(hyper::header::HOST, authority.as_str())
                .body(Empty::<Bytes>::new())?;
            let res = sender.send_request(req).await?;
            let status = res.status();
            let body = res.into_body().collect().await?.to_bytes();
            if i == 0 {
                println!("{status}: {}", String::from_utf8_lossy(&body));
            }
        }
        println!("{requests} requests over one connection");
        Ok::<(), Error>(())
    })?;
    let c = rt.probes().counters;
    println!(
        "turns {} parks {} wakes_io {} reads inline/waited {}/{}",
        c.turns, c.parks, c.wakes_io, c.tcp_reads_inline, c.tcp_reads_waited
    );
    Ok(())
}
