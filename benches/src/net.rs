//! Network workloads, written once against [`NetRuntime`] so that turnstile and tokio's
//! current-thread runtime run identical server and client code: an echo server, a
//! ping-pong client, many echoing clients, and hyper's hello world.
//!
//! ```
//! use turnstile_benches::net::{self, NetRuntime};
//! use turnstile_benches::{BenchRuntime, Tokio, Turnstile};
//!
//! let tokio = Tokio::new();
//! let mut stream = tokio.block_on(async {
//!     let addr = net::echo_server::<Tokio>().await;
//!     net::connect::<Tokio>(addr).await
//! });
//! tokio.block_on(net::ping_pong::<Tokio>(&mut stream, 10, 64));
//!
//! let turnstile = Turnstile::new(turnstile::probes::Level::Counters);
//! let mut stream = turnstile.block_on(async {
//!     let addr = net::echo_server::<Turnstile>().await;
//!     net::connect::<Turnstile>(addr).await
//! });
//! turnstile.block_on(net::ping_pong::<Turnstile>(&mut stream, 10, 64));
//! assert_eq!(turnstile.runtime().probes().counters.tcp_bytes_written, 2 * 10 * 64);
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{AsyncReadExt, AsyncWriteExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use turnstile::probes::Level;

use crate::lab::LabRuntime;
use crate::{BenchRuntime, Tokio, Turnstile};

/// What the network workloads need of a runtime, on top of [`BenchRuntime`]: TCP.
pub trait NetRuntime: BenchRuntime {
    /// A listening socket.
    type Listener: Send + Sync + 'static;
    /// A connected socket.
    type Stream: Send + 'static;

    /// Listens on `addr`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    /// The address a listener is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
    /// Accepts one connection, with `TCP_NODELAY` set.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    /// Connects to `addr`, with `TCP_NODELAY` set.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    /// Reads what is there (at least one byte, or 0 at EOF).
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    /// Fills `buf`.
    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
    /// Writes all of `buf`.
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
}

impl NetRuntime for Tokio {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        tokio::net::TcpListener::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        stream.read(buf)
    }

    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<()> {
        stream.read_exact(buf).await.map(drop)
    }

    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        stream.write_all(buf)
    }
}

impl NetRuntime for Turnstile {
    type Listener = turnstile::net::TcpListener;
    type Stream = turnstile::net::TcpStream;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        turnstile::net::TcpListener::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = turnstile::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        AsyncReadExt::read(stream, buf)
    }

    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        AsyncReadExt::read_exact(stream, buf)
    }

    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        AsyncWriteExt::write_all(stream, buf)
    }
}

/// Spawns an echo server on 127.0.0.1 (a task per connection writes back what it
/// reads, until EOF) and returns its address. Call inside `block_on`; the server lives
/// as long as the runtime.
///
/// ```
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// let addr = rt.block_on(net::echo_server::<Tokio>());
/// assert!(addr.ip().is_loopback());
/// ```
pub async fn echo_server<R: NetRuntime + 'static>() -> SocketAddr {
    let listener = R::bind(([127, 0, 0, 1], 0).into()).await.expect("bind");
    let addr = R::local_addr(&listener).expect("local_addr");
    drop(R::spawn(async move {
        while let Ok(stream) = R::accept(&listener).await {
            drop(R::spawn(echo::<R>(stream)));
        }
    }));
    addr
}

/// Writes back what it reads until EOF or an error.
async fn echo<R: NetRuntime>(mut stream: R::Stream) {
    let mut buf = vec![0; 16 * 1024];
    while let Ok(n @ 1..) = R::read(&mut stream, &mut buf).await {
        if R::write_all(&mut stream, &buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Connects to `addr` (with `TCP_NODELAY`).
///
/// ```
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let addr = net::echo_server::<Tokio>().await;
///     net::connect::<Tokio>(addr).await;
/// });
/// ```
pub async fn connect<R: NetRuntime>(addr: SocketAddr) -> R::Stream {
    R::connect(addr).await.expect("connect")
}

/// `round_trips` times: write a `size`-byte message, read its echo.
///
/// ```
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let mut stream = net::connect::<Tokio>(net::echo_server::<Tokio>().await).await;
///     net::ping_pong::<Tokio>(&mut stream, 3, 64).await;
/// });
/// ```
pub async fn ping_pong<R: NetRuntime>(stream: &mut R::Stream, round_trips: u64, size: usize) {
    let message = vec![0xA5; size];
    let mut echo = vec![0; size];
    for _ in 0..round_trips {
        R::write_all(stream, &message).await.expect("write");
        R::read_exact(stream, &mut echo).await.expect("read");
    }
    assert_eq!(echo, message);
}

/// `connections` connections to the echo server at `addr`.
///
/// ```
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// let streams = rt.block_on(async {
///     net::connect_many::<Tokio>(net::echo_server::<Tokio>().await, 3).await
/// });
/// assert_eq!(streams.len(), 3);
/// ```
pub async fn connect_many<R: NetRuntime>(addr: SocketAddr, connections: usize) -> Vec<R::Stream> {
    let mut streams = Vec::with_capacity(connections);
    for _ in 0..connections {
        streams.push(connect::<R>(addr).await);
    }
    streams
}

/// Every stream echoes `messages` messages of `size` bytes, all at once: one task
/// per connection, each doing round trips in lockstep. The streams come back in order.
///
/// ```
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let streams = net::connect_many::<Tokio>(net::echo_server::<Tokio>().await, 4).await;
///     let streams = net::echo_many::<Tokio>(streams, 5, 1024).await;
///     assert_eq!(streams.len(), 4);
/// });
/// ```
pub async fn echo_many<R: NetRuntime + 'static>(
    streams: Vec<R::Stream>,
    messages: u64,
    size: usize,
) -> Vec<R::Stream> {
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            R::spawn(async move {
                ping_pong::<R>(&mut stream, messages, size).await;
                stream
            })
        })
        .collect();
    let mut streams = Vec::with_capacity(tasks.len());
    for task in tasks {
        streams.push(task.await.expect("echo client"));
    }
    streams
}

/// hyper's hello world: the same service on both runtimes.
///
/// ```
/// # let _ = turnstile_benches::net::hello;
/// ```
pub async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

/// Serves [`hello`] over HTTP/1.1 (keep-alive, hyper's header-read timer on) on
/// `addr` with turnstile at probe `level`, for `duration`, then returns the runtime's
/// probes. For a load generator such as wrk.
///
/// ```no_run
/// let snapshot = turnstile_benches::net::serve_hello_turnstile(
///     "127.0.0.1:3000".parse().unwrap(),
///     std::time::Duration::from_secs(10),
///     turnstile::probes::Level::Off,
/// )?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_hello_turnstile(
    addr: SocketAddr,
    duration: Duration,
    level: Level,
) -> io::Result<turnstile::probes::Snapshot> {
    let rt = turnstile::Runtime::builder().probes(level).build()?;
    rt.block_on(async {
        let listener = turnstile::net::TcpListener::bind(addr).await?;
        match turnstile::time::timeout(duration, accept_turnstile(&listener)).await {
            Ok(result) => result,
            Err(_elapsed) => Ok(()),
        }
    })?;
    Ok(rt.probes())
}

/// Serves [`hello`] like [`serve_hello_turnstile`], on tokio's current-thread runtime
/// (hyper-util's `TokioIo` and `TokioTimer`).
///
/// ```no_run
/// turnstile_benches::net::serve_hello_tokio(
///     "127.0.0.1:3000".parse().unwrap(),
///     std::time::Duration::from_secs(10),
/// )?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_hello_tokio(addr: SocketAddr, duration: Duration) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        match tokio::time::timeout(duration, accept_tokio(&listener)).await {
            Ok(result) => result,
            Err(_elapsed) => Ok(()),
        }
    })
}

/// Serves [`hello`] on tokio's multi-thread runtime with `workers` worker threads for
/// `duration`: the work-stealing baseline that `turnstile`'s per-core example (one loop
/// per core, SO_REUSEPORT, no stealing) is measured against in docs/beyond-one-loop.md.
/// The same accept loop as [`serve_hello_tokio`]; each connection's task may run on any
/// worker.
///
/// # Errors
/// If the runtime cannot start or the address cannot be bound.
///
/// ```no_run
/// turnstile_benches::net::serve_hello_tokio_multi(
///     "127.0.0.1:3000".parse().unwrap(),
///     std::time::Duration::from_secs(10),
///     2,
/// )?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_hello_tokio_multi(
    addr: SocketAddr,
    duration: Duration,
    workers: usize,
) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        match tokio::time::timeout(duration, accept_tokio(&listener)).await {
            Ok(result) => result,
            Err(_elapsed) => Ok(()),
        }
    })
}

/// turnstile's accept loop for [`serve_hello_turnstile`]: a task per connection.
async fn accept_turnstile(listener: &turnstile::net::TcpListener) -> io::Result<()> {
    use turnstile::hyper::TurnstileTimer;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        drop(turnstile::spawn(async move {
            let _ = http1::Builder::new()
                .timer(TurnstileTimer)
                .serve_connection(stream, service_fn(hello))
                .await;
        }));
    }
}

/// tokio's accept loop for [`serve_hello_tokio`]: the same, through hyper-util.
async fn accept_tokio(listener: &tokio::net::TcpListener) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        drop(tokio::spawn(async move {
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
        }));
    }
}

/// What the UDP workloads need of a runtime, on top of [`NetRuntime`]: a UDP socket.
pub trait UdpRuntime: NetRuntime {
    /// A bound UDP socket.
    type Udp: Send + Sync + 'static;

    /// Binds a UDP socket to `addr`.
    fn bind_udp(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Udp>> + Send;
    /// The address a socket is bound to.
    fn udp_local_addr(socket: &Self::Udp) -> io::Result<SocketAddr>;
    /// Receives one datagram.
    fn recv_from<'a>(
        socket: &'a Self::Udp,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send + 'a;
    /// Sends one datagram to `target`.
    fn send_to<'a>(
        socket: &'a Self::Udp,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
}

impl UdpRuntime for Tokio {
    type Udp = tokio::net::UdpSocket;

    fn bind_udp(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Udp>> + Send {
        tokio::net::UdpSocket::bind(addr)
    }

    fn udp_local_addr(socket: &Self::Udp) -> io::Result<SocketAddr> {
        socket.local_addr()
    }

    fn recv_from<'a>(
        socket: &'a Self::Udp,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send + 'a {
        socket.recv_from(buf)
    }

    fn send_to<'a>(
        socket: &'a Self::Udp,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        socket.send_to(buf, target)
    }
}

impl UdpRuntime for Turnstile {
    type Udp = turnstile::net::UdpSocket;

    async fn bind_udp(addr: SocketAddr) -> io::Result<Self::Udp> {
        turnstile::net::UdpSocket::bind(addr).await
    }

    fn udp_local_addr(socket: &Self::Udp) -> io::Result<SocketAddr> {
        socket.local_addr()
    }

    async fn recv_from(socket: &Self::Udp, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        socket.recv_from(buf).await
    }

    async fn send_to(socket: &Self::Udp, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        socket.send_to(buf, target).await
    }
}

/// Spawns a UDP echo server on 127.0.0.1 (one task sends every datagram back to its
/// sender) and returns its address. Call inside `block_on`.
///
/// ```
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// let addr = rt.block_on(net::udp_echo_server::<Tokio>());
/// assert!(addr.ip().is_loopback());
/// ```
pub async fn udp_echo_server<R: UdpRuntime + 'static>() -> SocketAddr {
    let socket = R::bind_udp(([127, 0, 0, 1], 0).into())
        .await
        .expect("bind udp");
    let addr = R::udp_local_addr(&socket).expect("local_addr");
    drop(R::spawn(async move {
        let mut buf = vec![0; 64 * 1024];
        while let Ok((n, from)) = R::recv_from(&socket, &mut buf).await {
            if R::send_to(&socket, &buf[..n], from).await.is_err() {
                return;
            }
        }
    }));
    addr
}

/// What a [`limited_server`] saw: how many connections it served at once at most,
/// and how many it served and refused.
#[derive(Debug, Default)]
pub struct LimitStats {
    /// Connections being served now.
    pub active: AtomicU64,
    /// The most served at once.
    pub max_active: AtomicU64,
    /// Connections served to the end (an item written).
    pub served: AtomicU64,
    /// Connections closed at once because the server was full (refuse mode).
    pub refused: AtomicU64,
}

/// What a [`limited_server`] does with a connection beyond its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Accept it and close it at once, like a database past `max_connections`.
    Refuse,
    /// Leave it in the kernel's accept queue until a slot frees.
    Queue,
}

/// Spawns a server on 127.0.0.1 that serves at most `limit` connections at once. Each
/// connection sends an 8-byte item id; the server waits `service` (a database lookup)
/// and writes `item_bytes` bytes that start with the id, then closes. Beyond the limit
/// it refuses or queues, as `overflow` says. Returns the address and the live stats.
///
/// ```
/// use std::time::Duration;
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// let (addr, stats) = rt.block_on(net::limited_server::<Tokio>(
///     100, net::Overflow::Refuse, Duration::from_millis(1), 64));
/// let item = rt.block_on(net::fetch_item::<Tokio>(addr, 7, 64)).unwrap();
/// assert_eq!(item, 7);
/// assert_eq!(stats.served.load(std::sync::atomic::Ordering::Relaxed), 1);
/// ```
pub async fn limited_server<R: NetRuntime + LabRuntime>(
    limit: u64,
    overflow: Overflow,
    service: Duration,
    item_bytes: usize,
) -> (SocketAddr, Arc<LimitStats>) {
    let listener = R::bind(([127, 0, 0, 1], 0).into()).await.expect("bind");
    let addr = R::local_addr(&listener).expect("local_addr");
    let stats = Arc::new(LimitStats::default());
    let slots = Arc::new(async_lock::Semaphore::new(limit as usize));
    let server_stats = stats.clone();
    drop(R::spawn(async move {
        let stats = server_stats;
        loop {
            // Queue mode takes a slot before accepting: the rest wait in the backlog.
            let permit = match overflow {
                Overflow::Queue => Some(slots.acquire_arc().await),
                Overflow::Refuse => None,
            };
            let Ok(stream) = R::accept(&listener).await else {
                return;
            };
            if overflow == Overflow::Refuse && stats.active.load(Ordering::Relaxed) >= limit {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                drop(stream);
                continue;
            }
            let now = stats.active.fetch_add(1, Ordering::Relaxed) + 1;
            stats.max_active.fetch_max(now, Ordering::Relaxed);
            let stats = stats.clone();
            drop(R::spawn(async move {
                let _permit = permit;
                let mut stream = stream;
                let mut id = [0; 8];
                if R::read_exact(&mut stream, &mut id).await.is_ok() {
                    R::sleep(service).await;
                    let mut item = vec![0x5A; item_bytes.max(8)];
                    item[..8].copy_from_slice(&id);
                    if R::write_all(&mut stream, &item).await.is_ok() {
                        stats.served.fetch_add(1, Ordering::Relaxed);
                    }
                }
                stats.active.fetch_sub(1, Ordering::Relaxed);
            }));
        }
    }));
    (addr, stats)
}

/// Fetches item `id` from a [`limited_server`]: connect, send the id, read the item.
/// Returns the id the server sent back.
///
/// # Errors
/// A refused connection reads as `UnexpectedEof` or a reset.
pub async fn fetch_item<R: NetRuntime>(
    addr: SocketAddr,
    id: u64,
    item_bytes: usize,
) -> io::Result<u64> {
    let mut stream = R::connect(addr).await?;
    R::write_all(&mut stream, &id.to_le_bytes()).await?;
    let mut item = vec![0; item_bytes.max(8)];
    R::read_exact(&mut stream, &mut item).await?;
    let mut back = [0; 8];
    back.copy_from_slice(&item[..8]);
    Ok(u64::from_le_bytes(back))
}

/// Where the CPU part of a [`work_server`] request runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Burst {
    /// On the loop thread, inside the connection's task.
    Inline,
    /// On the runtime's blocking pool, awaited from the task.
    SpawnBlocking,
}

/// Spins on the CPU for `duration` of wall time.
///
/// ```
/// let start = std::time::Instant::now();
/// turnstile_benches::net::spin(std::time::Duration::from_millis(1));
/// assert!(start.elapsed() >= std::time::Duration::from_millis(1));
/// ```
pub fn spin(duration: Duration) {
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < duration {
        for i in 0..64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    std::hint::black_box(x);
}

/// Spawns a request/response server on 127.0.0.1: for each 8-byte request a
/// connection sends, it spins on the CPU for `cpu` (inline or on the blocking pool, as
/// `burst` says), then waits `wait` on a timer (the I/O part), then echoes the 8 bytes.
/// Requests on one connection are served in order; connections run side by side.
///
/// ```
/// use std::time::Duration;
/// use turnstile_benches::{net, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let addr = net::work_server::<Tokio>(
///         Duration::from_micros(100), Duration::from_micros(100), net::Burst::Inline).await;
///     let mut stream = net::connect::<Tokio>(addr).await;
///     net::ping_pong::<Tokio>(&mut stream, 3, 8).await;
/// });
/// ```
pub async fn work_server<R: NetRuntime + LabRuntime>(
    cpu: Duration,
    wait: Duration,
    burst: Burst,
) -> SocketAddr {
    let listener = R::bind(([127, 0, 0, 1], 0).into()).await.expect("bind");
    let addr = R::local_addr(&listener).expect("local_addr");
    drop(R::spawn(async move {
        while let Ok(mut stream) = R::accept(&listener).await {
            drop(R::spawn(async move {
                let mut request = [0; 8];
                while R::read_exact(&mut stream, &mut request).await.is_ok() {
                    if !cpu.is_zero() {
                        match burst {
                            Burst::Inline => spin(cpu),
                            Burst::SpawnBlocking => R::spawn_blocking(move || spin(cpu)).await,
                        }
                    }
                    if !wait.is_zero() {
                        R::sleep(wait).await;
                    }
                    if R::write_all(&mut stream, &request).await.is_err() {
                        return;
                    }
                }
            }));
        }
    }));
    addr
}
