//! Network workloads the benches time (and the lab's `echo` serves): an echo server, a
//! ping-pong client, many echoing clients, and a UDP echo server, written once against
//! [`Runtime`].
//!
//! ```
//! use turnstile_compare::{net, Runtime, Smol, Tokio, Turnstile};
//!
//! fn round_trips<R: Runtime>(rt: &R) {
//!     let mut stream = rt.block_on(async {
//!         let addr = net::echo_server::<R>().await;
//!         net::connect::<R>(addr).await
//!     });
//!     rt.block_on(net::ping_pong::<R>(&mut stream, 10, 64));
//! }
//! round_trips(&Tokio::new());
//! round_trips(&Smol::new());
//! let turnstile = Turnstile::new(turnstile::probes::Level::Counters);
//! round_trips(&turnstile);
//! assert_eq!(turnstile.runtime().probes().counters.tcp_bytes_written, 2 * 10 * 64);
//! ```

use std::net::SocketAddr;

use crate::Runtime;

/// Spawns an echo server on 127.0.0.1 (a task per connection writes back what it
/// reads, until EOF) and returns its address. Call inside `block_on`; the server lives
/// as long as the runtime.
///
/// ```
/// use turnstile_compare::{net, Runtime, Tokio};
/// let rt = Tokio::new();
/// let addr = rt.block_on(net::echo_server::<Tokio>());
/// assert!(addr.ip().is_loopback());
/// ```
pub async fn echo_server<R: Runtime>() -> SocketAddr {
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
async fn echo<R: Runtime>(mut stream: R::Stream) {
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
/// use turnstile_compare::{net, Runtime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let addr = net::echo_server::<Tokio>().await;
///     net::connect::<Tokio>(addr).await;
/// });
/// ```
pub async fn connect<R: Runtime>(addr: SocketAddr) -> R::Stream {
    R::connect(addr).await.expect("connect")
}

/// `round_trips` times: write a `size`-byte message, read its echo.
///
/// ```
/// use turnstile_compare::{net, Runtime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let mut stream = net::connect::<Tokio>(net::echo_server::<Tokio>().await).await;
///     net::ping_pong::<Tokio>(&mut stream, 3, 64).await;
/// });
/// ```
pub async fn ping_pong<R: Runtime>(stream: &mut R::Stream, round_trips: u64, size: usize) {
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
/// use turnstile_compare::{net, Runtime, Tokio};
/// let rt = Tokio::new();
/// let streams = rt.block_on(async {
///     net::connect_many::<Tokio>(net::echo_server::<Tokio>().await, 3).await
/// });
/// assert_eq!(streams.len(), 3);
/// ```
pub async fn connect_many<R: Runtime>(addr: SocketAddr, connections: usize) -> Vec<R::Stream> {
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
/// use turnstile_compare::{net, Runtime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let streams = net::connect_many::<Tokio>(net::echo_server::<Tokio>().await, 4).await;
///     let streams = net::echo_many::<Tokio>(streams, 5, 1024).await;
///     assert_eq!(streams.len(), 4);
/// });
/// ```
pub async fn echo_many<R: Runtime>(
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

/// Spawns a UDP echo server on 127.0.0.1 (one task sends every datagram back to its
/// sender) and returns its address. Call inside `block_on`.
///
/// ```
/// use turnstile_compare::{net, Runtime, Tokio};
/// let rt = Tokio::new();
/// let addr = rt.block_on(net::udp_echo_server::<Tokio>());
/// assert!(addr.ip().is_loopback());
/// ```
pub async fn udp_echo_server<R: Runtime>() -> SocketAddr {
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
