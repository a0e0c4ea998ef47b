//! [`serve`]: a tower service (axum's `Router` as it is) or a hyper service served on a
//! turnstile listener in one call, as `axum::serve` does on tokio's.
//!
//! The accept loop goes past every error that is one connection's or a shortage of
//! descriptors ([`AcceptError`]: it backs off on the latter), and ends only when the
//! listener is broken. Each connection is a task named `conn`, served by hyper-util's
//! `auto` connection (HTTP/1.1, or HTTP/2 when the client opens with its preface) on
//! turnstile's timer and executor. With a shutdown signal, the loop stops accepting
//! when it fires, tells every connection to finish (HTTP/1.1 closes after its
//! response in flight, HTTP/2 sends GOAWAY), and the future completes when the last
//! connection has.

use std::error::Error as StdError;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::body::{Body, Incoming};
use ::hyper::rt;
use futures_util::future::{select, Either};
use http::{Request, Response};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;

use super::{HyperIo, TurnstileExecutor, TurnstileTimer};
use crate::net::{AcceptError, TcpListener, TcpStream, UnixListener, UnixStream};

/// How long the accept loop waits after an [`AcceptError::Resources`] error.
const RESOURCES_BACKOFF: Duration = Duration::from_millis(50);

/// What [`serve`] accepts connections from: a [`TcpListener`] or a [`UnixListener`].
pub trait Listener: 'static {
    /// The accepted connection, as hyper reads and writes it.
    type Io: rt::Read + rt::Write + Unpin + Send + 'static;
    /// The peer's address.
    type Addr: fmt::Debug;

    /// Accepts the next connection.
    ///
    /// ```
    /// use turnstile::hyper::Listener;
    ///
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     let _client = turnstile::net::TcpStream::connect(addr).await?;
    ///     let (_io, peer) = Listener::accept(&listener).await?;
    ///     assert!(peer.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Io, Self::Addr)>>;
}

/// TCP connections with Nagle's algorithm off (a failure to set it is ignored: the
/// connection is only slower to answer small writes).
impl Listener for TcpListener {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&self) -> io::Result<(TcpStream, std::net::SocketAddr)> {
        let (stream, addr) = TcpListener::accept(self).await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, addr))
    }
}

impl Listener for UnixListener {
    type Io = HyperIo<UnixStream>;
    type Addr = std::os::unix::net::SocketAddr;

    async fn accept(&self) -> io::Result<(HyperIo<UnixStream>, Self::Addr)> {
        let (stream, addr) = UnixListener::accept(self).await?;
        Ok((HyperIo::new(stream), addr))
    }
}

/// Serves `service` on `listener`: every connection accepted, each in a task named
/// `conn`, HTTP/1.1 and HTTP/2 alike. `service` is any tower
/// `Service<Request<Incoming>>` that is `Clone` (one clone per connection), axum's
/// `Router` as it is; wrap a hyper service (`hyper::service::service_fn`) in
/// [`FromHyper`]. Await the returned [`Serve`] (or spawn it); it runs until the
/// listener is broken, or with [`Serve::with_graceful_shutdown`] until its signal.
///
/// The services' futures need not be `Send` (axum's are, which does no harm).
///
/// # Errors
/// The awaited future returns an error only when the listener is broken
/// ([`AcceptError::Fatal`]), at once: the connections still open go on until they
/// close. One connection's errors end that connection only.
///
/// ```
/// use std::convert::Infallible;
/// use std::future::IntoFuture;
///
/// use http_body_util::{BodyExt, Empty, Full};
/// use hyper::body::Bytes;
/// use hyper::{Request, Response};
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let service = tower::service_fn(|_req: Request<hyper::body::Incoming>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hello"))))
///     });
///     let _server = turnstile::spawn(turnstile::hyper::serve(listener, service).into_future());
///
///     let stream = turnstile::net::TcpStream::connect(addr).await?;
///     let (mut sender, connection) = hyper::client::conn::http1::handshake(stream).await.unwrap();
///     let _connection = turnstile::spawn(connection);
///     let response = sender.send_request(Request::new(Empty::<Bytes>::new())).await.unwrap();
///     assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "hello");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve<L, S, B>(listener: L, service: S) -> Serve<L, S>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    Serve { listener, service }
}

/// The server [`serve`] returns: await it (it is `IntoFuture`), or add a shutdown
/// signal first with [`with_graceful_shutdown`](Serve::with_graceful_shutdown).
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve<L, S> {
    listener: L,
    service: S,
}

impl<L, S> fmt::Debug for Serve<L, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve").finish_non_exhaustive()
    }
}

impl<L, S> Serve<L, S> {
    /// Stops accepting when `signal` completes, lets every open connection finish the
    /// request it is serving (HTTP/1.1 then closes, HTTP/2 sends GOAWAY and finishes
    /// its open streams), and completes once the last connection has closed, as
    /// axum's `with_graceful_shutdown` does.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::future::IntoFuture;
    ///
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let service = tower::service_fn(|_req| async {
    ///         Ok::<_, Infallible>(hyper::Response::new(String::from("hi")))
    ///     });
    ///     // A signal that fires at once: the server stops before any connection.
    ///     turnstile::hyper::serve(listener, service)
    ///         .with_graceful_shutdown(async {})
    ///         .await
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<L, S, F>
    where
        F: Future<Output = ()> + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
        }
    }
}

/// A [`Serve`] with a shutdown signal, from [`Serve::with_graceful_shutdown`]: await it.
#[must_use = "a server does nothing until it is awaited"]
pub struct WithGracefulShutdown<L, S, F> {
    serve: Serve<L, S>,
    signal: F,
}

impl<L, S, F> fmt::Debug for WithGracefulShutdown<L, S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .finish_non_exhaustive()
    }
}

impl<L, S, B> IntoFuture for Serve<L, S>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.listener, self.service, std::future::pending()))
    }
}

impl<L, S, B, F> IntoFuture for WithGracefulShutdown<L, S, F>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
    F: Future<Output = ()> + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.serve.listener, self.serve.service, self.signal))
    }
}

/// The accept loop, then the drain.
async fn run<L, S, B>(listener: L, service: S, signal: impl Future<Output = ()>) -> io::Result<()>
where
    L: Listener,
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + 'static,
    S::Future: 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut builder = auto::Builder::new(TurnstileExecutor);
    builder.http1().timer(TurnstileTimer);
    builder.http2().timer(TurnstileTimer);
    let builder = Rc::new(builder);
    // The connections learn of the shutdown through a watch (tokio::sync needs no
    // runtime); the sender's `closed` tells when the last of them has finished.
    let (shutdown, watch) = tokio::sync::watch::channel(());
    let mut signal = pin!(signal);
    let outcome = loop {
        let accepted = pin!(next_connection(&listener));
        let io = match select(accepted, signal.as_mut()).await {
            Either::Left((Ok((io, _peer)), _)) => io,
            Either::Left((Err(e), _)) => break Err(e),
            Either::Right(((), _)) => break Ok(()),
        };
        let service = TowerToHyperService::new(service.clone());
        let builder = builder.clone();
        let mut watch = watch.clone();
        let _conn = crate::task::Builder::new().name("conn").spawn(async move {
            let conn = pin!(builder.serve_connection_with_upgrades(io, service));
            // Told to shut down, or never: a server that ended on a broken listener
            // (or was dropped) leaves its open connections be. The receiver lives
            // as long as the task: the server's drain waits for it to go.
            let told = async {
                if watch.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            // A connection's error (a reset, a malformed request) is its own.
            let _ = match select(conn, pin!(told)).await {
                Either::Left((served, _)) => served,
                Either::Right((_, mut conn)) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
        });
    };
    drop(listener);
    drop(watch);
    if outcome.is_ok() {
        // Every receiver gone already (no connection open) is not an error.
        let _ = shutdown.send(());
        shutdown.closed().await;
    }
    outcome
}

/// The next connection, past every accept error that is not fatal to the listener.
async fn next_connection<L: Listener>(listener: &L) -> io::Result<(L::Io, L::Addr)> {
    loop {
        match listener.accept().await {
            Ok(accepted) => return Ok(accepted),
            Err(e) => match AcceptError::classify(&e) {
                AcceptError::Connection => {}
                AcceptError::Resources => crate::time::sleep(RESOURCES_BACKOFF).await,
                AcceptError::Fatal => return Err(e),
            },
        }
    }
}

/// A hyper service (`hyper::service::service_fn`, or any `hyper::service::Service`)
/// as a tower one, for [`serve`]: hyper's services take `&self` and are always
/// ready, so this is all it takes.
///
/// ```
/// use std::convert::Infallible;
///
/// use turnstile::hyper::FromHyper;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
///     let service = hyper::service::service_fn(|_req| async {
///         Ok::<_, Infallible>(hyper::Response::new(String::from("hi")))
///     });
///     turnstile::hyper::serve(listener, FromHyper(service))
///         .with_graceful_shutdown(async {})
///         .await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FromHyper<S>(pub S);

impl<S, R> tower_service::Service<R> for FromHyper<S>
where
    S: ::hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: R) -> S::Future {
        self.0.call(req)
    }
}
