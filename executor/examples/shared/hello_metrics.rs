//! A hello-world hyper service on turnstile that also serves `/metrics`: shared by the
//! `prometheus` and `per_core` examples and by `tests/prometheus.rs` (each includes
//! this file with `#[path]`), so the test scrapes exactly the code the examples run.
//!
//! - `GET /metrics`: publishes the runtime's probes (`turnstile::metrics::publish`) and
//!   answers with the Prometheus text exposition of the recorder behind `prometheus`.
//! - any other path: `Hello, World!`.
//!
//! The exposition is rendered on the blocking pool: rendering folds every histogram
//! value recorded since the previous scrape, work the loop need not do.

#![allow(dead_code)] // each includer uses its own subset

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use turnstile::hyper::TurnstileTimer;
use turnstile::net::TcpListener;
use turnstile::probes::Snapshot;

/// A Prometheus exporter whose `turnstile_` histograms count in the probes' own
/// buckets, so that their `le` counts are the probes' exact counts.
pub fn prometheus() -> PrometheusBuilder {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Prefix("turnstile_".into()),
            &turnstile::metrics::BUCKETS_SECONDS,
        )
        .expect("the bucket bounds are not empty")
}

/// Sees the runtime's snapshot at each scrape.
pub type ScrapeHook = Rc<dyn Fn(&Snapshot)>;

/// What the service needs: the exporter to render, and an optional hook that sees the
/// runtime's own snapshot at each scrape, just before it is published (a test's
/// witness of what Prometheus must have stored).
#[derive(Clone)]
pub struct Service {
    /// Renders the recorder the runtime publishes into.
    pub prometheus: PrometheusHandle,
    /// Called with the snapshot at each scrape, before the publish.
    pub on_scrape: Option<ScrapeHook>,
}

impl Service {
    /// A service that renders `prometheus`.
    pub fn new(prometheus: PrometheusHandle) -> Self {
        Service {
            prometheus,
            on_scrape: None,
        }
    }

    async fn respond(self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        if req.uri().path() != "/metrics" {
            return Ok(Response::new(Full::new(Bytes::from_static(
                b"Hello, World!",
            ))));
        }
        if let Some(hook) = &self.on_scrape {
            // Nothing runs between this snapshot and the publish's own (same poll).
            hook(&turnstile::probes::snapshot());
        }
        turnstile::metrics::publish().await;
        let prometheus = self.prometheus.clone();
        let text = match turnstile::spawn_blocking(move || prometheus.render()).await {
            Ok(text) => text,
            Err(e) => format!("# rendering failed: {e}\n"),
        };
        let mut response = Response::new(Full::new(Bytes::from(text)));
        response.headers_mut().insert(
            CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8".parse().unwrap(),
        );
        Ok(response)
    }
}

/// Serves `service` on `listener`, a task per connection, until accept fails.
pub async fn serve(listener: TcpListener, service: Service) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let service = service.clone();
        drop(turnstile::spawn(async move {
            let respond = service_fn(move |req| service.clone().respond(req));
            let served = http1::Builder::new()
                .timer(TurnstileTimer)
                .serve_connection(stream, respond)
                .await;
            if let Err(e) = served {
                eprintln!("connection error: {e}");
            }
        }));
    }
}

/// Parses a listen address, or says what was wrong with it.
pub fn parse_addr(addr: &str) -> io::Result<SocketAddr> {
    addr.parse().map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{addr:?} is not a listen address like 127.0.0.1:9000 ({e})"),
        )
    })
}

/// Says which address could not be listened on (the port is in use, say).
pub fn cannot_listen(addr: SocketAddr) -> impl FnOnce(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
}
