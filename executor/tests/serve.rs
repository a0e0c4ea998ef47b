//! `turnstile::hyper::serve` serves axum's `Router` as it is, over HTTP/1.1 and HTTP/2
//! (hyper's clients), on TCP and Unix listeners; its graceful shutdown lets a request
//! in flight finish; and `turnstile::tower::TimeoutLayer` answers a slow handler 408
//! without a tokio runtime (and without a panic).
#![cfg(not(miri))]

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use tokio::sync::{oneshot, Notify};
use turnstile::hyper::{serve, HyperIo, TurnstileExecutor};
use turnstile::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use turnstile::probes::Level;
use turnstile::tower::TimeoutLayer;
use turnstile::Runtime;

fn runtime() -> Runtime {
    Runtime::builder().probes(Level::Timing).build().unwrap()
}

/// A GET over a fresh HTTP/1.1 connection: the status and the body.
async fn get1<T>(io: T, path: &str) -> (StatusCode, String)
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    let _conn = turnstile::spawn(conn);
    let request = Request::get(path)
        .header("host", "turnstile")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn hello() -> &'static str {
    "hello from axum"
}

#[test]
fn an_axum_router_over_http1_and_http2() {
    let rt = runtime();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(hello));
        let _server = turnstile::spawn(serve(listener, app).into_future());

        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            get1(stream, "/").await,
            (StatusCode::OK, "hello from axum".into())
        );

        // HTTP/2 with prior knowledge, two requests on one connection.
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http2::handshake(TurnstileExecutor, stream)
            .await
            .unwrap();
        let _conn = turnstile::spawn(conn);
        for _ in 0..2 {
            let request = Request::get(format!("http://{addr}/"))
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = sender.send_request(request).await.unwrap();
            assert_eq!(response.version(), hyper::Version::HTTP_2);
            let body = response.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(body, "hello from axum");
        }

        // A missing route is axum's 404, not an error of the server's.
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(get1(stream, "/nope").await.0, StatusCode::NOT_FOUND);
    });
    let snap = rt.probes();
    assert_eq!(snap.counters.panics, 0);
    // Each of the three connections was a task named "conn".
    let conns = snap
        .tasks
        .iter()
        .filter(|t| t.name.as_deref() == Some("conn"))
        .count();
    assert_eq!(conns, 3, "{:#?}", snap.tasks);
}

#[test]
fn a_unix_listener_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.sock");
    let rt = runtime();
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let app = Router::new().route("/", get(hello));
        let _server = turnstile::spawn(serve(listener, app).into_future());
        let stream = UnixStream::connect(&path).await.unwrap();
        assert_eq!(
            get1(HyperIo::new(stream), "/").await,
            (StatusCode::OK, "hello from axum".into())
        );
    });
}

/// The handler of `/wait`: says it started, then answers when released.
#[derive(Clone)]
struct Gate {
    started: Arc<Notify>,
    release: Arc<Notify>,
}

async fn wait(State(gate): State<Gate>) -> &'static str {
    gate.started.notify_one();
    gate.release.notified().await;
    "finished"
}

#[test]
fn graceful_shutdown_lets_a_request_in_flight_finish() {
    let rt = runtime();
    rt.block_on(async {
        let gate = Gate {
            started: Arc::new(Notify::new()),
            release: Arc::new(Notify::new()),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/wait", get(wait))
            .with_state(gate.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = turnstile::spawn(
            serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .into_future(),
        );

        let stream = TcpStream::connect(addr).await.unwrap();
        let request = turnstile::spawn(get1(stream, "/wait"));
        gate.started.notified().await;

        stop.send(()).unwrap();
        for _ in 0..10 {
            turnstile::yield_now().await;
        }
        // Not accepting any more, but the request in flight holds the server open.
        assert!(TcpStream::connect(addr).await.is_err());
        assert!(!server.is_finished());
        assert!(!request.is_finished());

        gate.release.notify_one();
        assert_eq!(request.await.unwrap(), (StatusCode::OK, "finished".into()));
        server.await.unwrap().unwrap();
    });
    assert_eq!(rt.probes().counters.panics, 0);
}

#[test]
fn a_turnstile_timeout_layer_answers_408_without_a_tokio_runtime() {
    async fn slow() -> &'static str {
        turnstile::time::sleep(Duration::from_secs(30)).await;
        "too late"
    }
    async fn fast() -> &'static str {
        "in time"
    }
    let rt = runtime();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/slow", get(slow))
            .route("/fast", get(fast))
            .layer(TimeoutLayer::new(Duration::from_millis(20)));
        let _server = turnstile::spawn(serve(listener, app).into_future());
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(get1(stream, "/slow").await.0, StatusCode::REQUEST_TIMEOUT);
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            get1(stream, "/fast").await,
            (StatusCode::OK, "in time".into())
        );
    });
    assert_eq!(rt.probes().counters.panics, 0);
}

#[test]
fn a_hyper_service_through_from_hyper() {
    use std::convert::Infallible;
    use turnstile::hyper::FromHyper;
    let rt = runtime();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let service = hyper::service::service_fn(|_req| async {
            Ok::<_, Infallible>(hyper::Response::new(http_body_util::Full::new(
                Bytes::from("plain hyper"),
            )))
        });
        let _server = turnstile::spawn(serve(listener, FromHyper(service)).into_future());
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            get1(stream, "/").await,
            (StatusCode::OK, "plain hyper".into())
        );
    });
}

/// A listener whose accepts fail with `errors` first, in order, then accept for real;
/// once `broken` is set, the accept after the next real one fails with EBADF.
struct Faulty {
    listener: TcpListener,
    errors: std::cell::RefCell<std::collections::VecDeque<i32>>,
    broken: std::rc::Rc<std::cell::Cell<bool>>,
}

impl turnstile::hyper::Listener for Faulty {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&self) -> std::io::Result<(TcpStream, SocketAddr)> {
        let injected = self.errors.borrow_mut().pop_front();
        if let Some(errno) = injected {
            return Err(std::io::Error::from_raw_os_error(errno));
        }
        if self.broken.get() {
            return Err(std::io::Error::from_raw_os_error(libc::EBADF));
        }
        self.listener.accept().await
    }
}

use std::net::SocketAddr;

#[test]
fn the_accept_loop_goes_past_connection_errors_and_emfile_and_stops_on_a_broken_listener() {
    let rt = runtime();
    let outcome = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let broken = std::rc::Rc::new(std::cell::Cell::new(false));
        let faulty = Faulty {
            listener,
            errors: std::cell::RefCell::new(
                [libc::ECONNABORTED, libc::EMFILE, libc::EPROTO].into(),
            ),
            broken: broken.clone(),
        };
        let app = Router::new().route("/", get(hello));
        let server = turnstile::spawn(serve(faulty, app).into_future());
        // Served past the three errors, by the one real accept.
        let stream = TcpStream::connect(addr).await.unwrap();
        assert_eq!(
            get1(stream, "/").await,
            (StatusCode::OK, "hello from axum".into())
        );
        // Then EBADF (after one more real accept, which the flag cannot interrupt):
        // the listener is broken, and `serve` says so.
        broken.set(true);
        let _last = TcpStream::connect(addr).await.unwrap();
        server.await.unwrap()
    });
    let e = outcome.unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EBADF));
    // The EMFILE back-off was a timer of turnstile's.
    assert!(rt.probes().counters.timers_fired >= 1);
}
