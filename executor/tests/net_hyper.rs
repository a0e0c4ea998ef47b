//! hyper 1.x on turnstile (the `hyper` feature): a hyper server and a hyper client on
//! one runtime, and a client nobody on this project wrote (curl).
// Miri has no sockets.
#![cfg(not(miri))]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use turnstile::hyper::{TurnstileExecutor, TurnstileTimer};
use turnstile::net::{TcpListener, TcpStream};

use common::counting;

/// Answers `GET /anything` with `hello /anything`.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("hello {}", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Spawns a hyper HTTP/1.1 server (keep-alive on, hyper's default) on 127.0.0.1:0.
async fn serve() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let _server = turnstile::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _connection = turnstile::spawn(async move {
                let served = http1::Builder::new()
                    .timer(TurnstileTimer)
                    .serve_connection(stream, service_fn(hello))
                    .await;
                if let Err(e) = served {
                    eprintln!("connection ended with an error: {e}");
                }
            });
        }
    });
    addr
}

#[test]
fn a_thousand_keep_alive_requests_from_hypers_client() {
    const REQUESTS: usize = 1000;
    let rt = counting();
    rt.block_on(async {
        let addr = serve().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
            .handshake::<_, Full<Bytes>>(stream)
            .await
            .expect("handshake");
        hyper::rt::Executor::execute(&TurnstileExecutor, async move {
            connection.await.expect("client connection");
        });
        for i in 0..REQUESTS {
            sender.ready().await.expect("connection ready");
            let req = Request::get(format!("http://{addr}/n/{i}"))
                .header("host", addr.to_string())
                .body(Full::new(Bytes::new()))
                .unwrap();
            let res = sender.send_request(req).await.expect("response");
            assert_eq!(res.status(), StatusCode::OK);
            let body = res.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, format!("hello /n/{i}").as_bytes());
        }
    });
    let c = rt.probes().counters;
    // Keep-alive: one connection carried every request.
    assert_eq!(c.tcp_accepts_inline + c.tcp_accepts_waited, 1);
    assert_eq!(c.panics, 0);
}

#[test]
fn curl_gets_the_right_body_over_keep_alive() {
    let rt = counting();
    let (out, url) = rt.block_on(async {
        let addr = serve().await;
        let url = format!("http://{addr}");
        let args = [
            "--silent".to_string(),
            "--show-error".to_string(),
            "--max-time".to_string(),
            "10".to_string(),
            // Two URLs in one run: curl reuses the connection for the second.
            format!("{url}/first"),
            format!("{url}/second"),
        ];
        // curl blocks: run it off the loop, which must keep serving meanwhile.
        let out = turnstile::spawn_blocking(move || Command::new("curl").args(args).output())
            .await
            .expect("blocking task");
        (out, url)
    });
    let out = out.unwrap_or_else(|e| {
        panic!("could not run curl ({e}): install it with scripts/install-test-deps.sh")
    });
    assert!(
        out.status.success(),
        "curl {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello /firsthello /second"
    );
    let c = rt.probes().counters;
    assert_eq!(
        c.tcp_accepts_inline + c.tcp_accepts_waited,
        1,
        "curl reused the connection"
    );
}

#[test]
fn the_timer_sleeps_on_turnstile_and_resets() {
    use hyper::rt::Timer;
    let rt = counting();
    rt.block_on(async {
        let mut sleep = TurnstileTimer.sleep(Duration::from_secs(3600));
        TurnstileTimer.reset(&mut sleep, std::time::Instant::now());
        sleep.await;
    });
    let c = rt.probes().counters;
    assert_eq!(c.timers_fired + c.timers_cancelled, c.timers_created);
}
