//! A hello-world hyper service on turnstile that also serves `/metrics`, and one loop
//! of the per-core server: shared by the `prometheus` and `per_core` examples and by
//! `tests/prometheus.rs` and `tests/per_core.rs` (each includes this file with
//! `#[path]`), so the tests run exactly the code the examples run.
//!
//! - `GET /metrics`: publishes the runtime's probes (`turnstile::metrics::publish`) and
//!   answers with the Prometheus text exposition of the recorder behind `prometheus`.
//! - any other path: `Hello, World!`.
//!
//! The exposition is rendered on the blocking pool: rendering folds every histogram
//! value recorded since the previous scrape, work the loop need not do.

#![allow(dead_code)] // each includer uses its own subset

#[path = "accept.rs"]
mod accept;

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;

use bytes::Bytes;
use futures::future::{self, Either};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use socket2::{Domain, Socket, Type};
use turnstile::hyper::TurnstileTimer;
use turnstile::net::TcpListener;
use turnstile::probes::{Level, Snapshot};

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

/// Serves `service` on `listener`, a task per connection, until the listener breaks
/// (an error of one connection is logged and the next one accepted).
pub async fn serve(listener: TcpListener, service: Service) -> io::Result<()> {
    loop {
        let (stream, _) = accept::next_connection(&listener).await?;
        accept::nodelay(&stream);
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

/// One loop of the per-core server, run on the calling thread until a listener fails: a
/// runtime named `name` at probe `level`, publishing into a recorder of its own (this
/// thread's local recorder, so its `/metrics` shows this loop only), serving the
/// service on `shared` (a listener other loops share) and on `metrics` (its own).
pub fn serve_loop(
    name: &str,
    level: Level,
    shared: std::net::TcpListener,
    metrics: std::net::TcpListener,
) -> io::Result<()> {
    let recorder = prometheus().build_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let rt = turnstile::Runtime::builder()
        .name(name)
        .probes(level)
        .build()?;
    rt.block_on(async {
        let service = Service::new(recorder.handle());
        let hello = serve(TcpListener::from_std(shared)?, service.clone());
        let metrics = serve(TcpListener::from_std(metrics)?, service);
        match future::select(std::pin::pin!(hello), std::pin::pin!(metrics)).await {
            Either::Left((result, _)) | Either::Right((result, _)) => result,
        }
    })
}

/// A listener on `addr` with SO_REUSEPORT set: several may share the address, and the
/// kernel hashes each new connection to one of them.
pub fn reuse_port_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_port(true)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into()).map_err(cannot_listen(addr))?;
    socket.listen(1024)?;
    Ok(socket.into())
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
