//! HTTPS on turnstile: rustls through futures-io (`futures_rustls`), hyper over it with
//! [`turnstile::hyper::HyperIo`], HTTP/1.1 or HTTP/2 as the client and the server agree
//! in the TLS handshake (ALPN). Shared by the `https_server` example and
//! `tests/net_https.rs` (each includes this file with `#[path]`), so the test runs
//! exactly the code the example runs.

#![allow(dead_code)] // each includer uses its own subset

#[path = "accept.rs"]
mod accept;

use std::convert::Infallible;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use futures_rustls::rustls::{self, ServerConfig};
use futures_rustls::TlsAcceptor;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, Response};
use turnstile::hyper::{HyperIo, TurnstileExecutor, TurnstileTimer};
use turnstile::net::{TcpListener, TcpStream};

/// A TLS acceptor with a self-signed certificate for `localhost` and 127.0.0.1, made
/// now (clients must skip verification: `curl -k`), offering HTTP/2 and HTTP/1.1.
pub fn self_signed_acceptor() -> io::Result<TlsAcceptor> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).map_err(io::Error::other)?;
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .map_err(io::Error::other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The answer: which HTTP version carried the request.
async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("hello over TLS, {:?}\n", request.version());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

/// Accepts connections and serves each in its own task (TLS handshake, then HTTP/2 or
/// HTTP/1.1 by the protocol the handshake chose), until the listener breaks (an error
/// of one connection is logged and the next one accepted).
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<()> {
    loop {
        let (stream, _) = accept::next_connection(&listener).await?;
        accept::nodelay(&stream);
        let acceptor = acceptor.clone();
        let _connection = turnstile::spawn(async move {
            if let Err(e) = serve_one(stream, acceptor).await {
                eprintln!("connection error: {e}");
            }
        });
    }
}

async fn serve_one(
    stream: TcpStream,
    acceptor: TlsAcceptor,
) -> Result<(), Box<dyn std::error::Error>> {
    let tls = acceptor.accept(stream).await?;
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let io = HyperIo::new(tls);
    if h2 {
        http2::Builder::new(TurnstileExecutor)
            .timer(TurnstileTimer)
            .serve_connection(io, service_fn(hello))
            .await?;
    } else {
        http1::Builder::new()
            .timer(TurnstileTimer)
            .serve_connection(io, service_fn(hello))
            .await?;
    }
    Ok(())
}
