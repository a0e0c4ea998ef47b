//! HTTPS through `turnstile::hyper::HyperIo`: rustls over a turnstile `TcpStream`
//! (futures-rustls), hyper over that, checked by a client nobody on this project wrote:
//! curl, over HTTP/1.1 and over HTTP/2 (negotiated by ALPN). The server is the
//! `https_server` example's own code.
// Miri has no sockets.
#![cfg(not(miri))]

mod common;

#[path = "../examples/shared/https.rs"]
mod https;

use std::net::SocketAddr;
use std::process::{Command, Output};

use turnstile::net::TcpListener;

use common::counting;

/// Starts the example's server on a free port.
async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = https::self_signed_acceptor().unwrap();
    let _server = turnstile::spawn(https::serve(listener, acceptor));
    addr
}

/// Runs curl with `protocol` (`--http1.1` or `--http2`) against `url`, off the loop
/// (curl blocks; the loop must keep serving meanwhile). Fails loudly without curl.
async fn curl(protocol: &'static str, urls: Vec<String>) -> Output {
    let out = turnstile::spawn_blocking(move || {
        Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "20",
                "-k",
                protocol,
            ])
            .args(["-w", "|%{http_version}\n"])
            .args(urls)
            .output()
    })
    .await
    .expect("blocking task");
    let out = out.unwrap_or_else(|e| {
        panic!("could not run curl ({e}): install it with scripts/install-test-deps.sh")
    });
    assert!(
        out.status.success(),
        "curl {protocol} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn curl_gets_the_body_over_http1_1_and_tls() {
    let rt = counting();
    let out = rt.block_on(async {
        let addr = start().await;
        let urls = vec![format!("https://{addr}/a"), format!("https://{addr}/b")];
        curl("--http1.1", urls).await
    });
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over TLS, HTTP/1.1\n|1.1\nhello over TLS, HTTP/1.1\n|1.1\n"
    );
    let c = rt.probes().counters;
    assert_eq!(
        c.tcp_accepts_inline + c.tcp_accepts_waited,
        1,
        "curl reused the TLS connection for the second URL"
    );
    assert_eq!(c.panics, 0);
    assert!(c.tcp_bytes_read > 0 && c.tcp_bytes_written > 0);
}

#[test]
fn curl_gets_the_body_over_http2_and_tls() {
    let rt = counting();
    let out = rt.block_on(async {
        let addr = start().await;
        let urls = vec![format!("https://{addr}/a"), format!("https://{addr}/b")];
        curl("--http2", urls).await
    });
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello over TLS, HTTP/2.0\n|2\nhello over TLS, HTTP/2.0\n|2\n"
    );
    let c = rt.probes().counters;
    assert_eq!(
        c.tcp_accepts_inline + c.tcp_accepts_waited,
        1,
        "both requests went over one HTTP/2 connection"
    );
    assert_eq!(c.panics, 0);
}
