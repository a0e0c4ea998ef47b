//! `TcpListener`: accepting connections, and backing off when descriptors run out.
//!
//! # Running out of file descriptors
//!
//! When `accept` fails with `EMFILE` (this process is at its limit) or `ENFILE` (the
//! system is), the connection stays in the kernel's backlog and the listening socket
//! stays readable. Retrying at once would spin the loop at full CPU until some
//! descriptor is freed; returning the error would leave most servers to do the same.
//! So `accept` keeps the error to itself and waits on a timer instead: 1 ms, doubling
//! up to 100 ms, and retries. Once descriptors are free again, the next retry accepts
//! the waiting connection. Each backoff is counted (`accept_backoffs`).

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};
use std::time::Duration;

use turnstile_probes::Counter;
use turnstile_reactor::Direction;

use super::io::{fd_impls, try_from_std};
use super::source::{IoSource, Op};
use super::stream::TcpStream;

/// The first wait after an accept failed for want of descriptors.
const BACKOFF_MIN: Duration = Duration::from_millis(1);
/// The longest wait between two retries while descriptors are exhausted.
const BACKOFF_MAX: Duration = Duration::from_millis(100);
/// Connections the kernel may hold completed but not yet accepted (the default of
/// std and mio, 128, overflows under a burst of a thousand connects).
const BACKLOG: i32 = 1024;

/// A TCP socket listening for connections, registered with the runtime it was created
/// in.
///
/// ```no_run
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use turnstile::net::TcpListener;
///
/// async fn echo(listener: TcpListener) -> std::io::Result<()> {
///     loop {
///         let (mut stream, _peer) = listener.accept().await?;
///         let _task = turnstile::spawn(async move {
///             let mut buf = vec![0; 4096];
///             while let Ok(n @ 1..) = stream.read(&mut buf).await {
///                 if stream.write_all(&buf[..n]).await.is_err() {
///                     break;
///                 }
///             }
///         });
///     }
/// }
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async { echo(TcpListener::bind("127.0.0.1:7000").await?).await })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    io: IoSource<mio::net::TcpListener>,
}

impl TcpListener {
    /// Listens on `addr` (the first address it resolves to that binds), with
    /// `SO_REUSEADDR` and a backlog of 1024. Port 0 picks a free port: see
    /// [`TcpListener::local_addr`].
    ///
    /// # Errors
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied`, ... as `bind`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_ne!(listener.local_addr()?.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match listen(addr) {
                Ok(listener) => return TcpListener::from_mio(listener),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "could not resolve to any address",
            )
        }))
    }

    pub(crate) fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        let io = IoSource::new(listener, mio::Interest::READABLE, "TcpListener")?;
        Ok(TcpListener { io })
    }

    /// Takes over a bound std listener (made non-blocking here).
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::from_std(std_listener)?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    /// The address it listens on (with the real port when bound to port 0).
    ///
    /// # Errors
    /// As `getsockname`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Waits for a connection and returns it with the peer's address. A connection that
    /// is already waiting is accepted without a yield (`tcp_accepts_inline`).
    ///
    /// While the process or the system is out of file descriptors, it does not return
    /// the error: it waits on a timer and retries (see the module docs), so the loop
    /// stays idle and the connection is accepted once descriptors are free.
    ///
    /// # Errors
    /// Any other accept error (`ConnectionAborted`, say), or a failure to register the
    /// new socket.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut backoff = BACKOFF_MIN;
        loop {
            let accepted = poll_fn(|cx| {
                self.io
                    .poll_io(cx, Direction::Read, Op::TcpAccept, |l| l.accept())
            })
            .await;
            match accepted {
                Ok((stream, peer)) => return Ok((self.accepted(stream)?, peer)),
                Err(e) if out_of_descriptors(&e) => {
                    self.io.count(Counter::AcceptBackoffs);
                    crate::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl TcpListener {
    /// An accepted connection, registered: its waits are named after this listener.
    fn accepted(&self, stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(stream)?;
        stream.io.accepted_from(&self.io);
        Ok(stream)
    }

    /// Names this listener in the probes: its accept waits' site, and those of the
    /// connections it accepts, carry `name` ("tcp accept on 127.0.0.1:8080 (api)",
    /// "tcp read from a client of 127.0.0.1:8080 (api)"). tokio has no such method.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     listener.set_probe_name("api");
    ///     assert_eq!(listener.probe_name().as_deref(), Some("api"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_probe_name(&self, name: impl Into<String>) {
        self.io.probe().set_name(Some(name.into().into()));
    }

    /// The name given with [`set_probe_name`](TcpListener::set_probe_name), if any.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     assert_eq!(listener.probe_name(), None);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn probe_name(&self) -> Option<String> {
        self.io.probe().name().map(String::from)
    }
}

impl TcpListener {
    /// Polls to accept a connection: the building block under [`TcpListener::accept`],
    /// for hand-written futures and `poll_fn`. On `Pending` the waker in `cx` is woken
    /// when a connection arrives. Unlike `accept`, it returns `EMFILE`/`ENFILE` as
    /// errors (a poll function has no timer to back off on).
    ///
    /// # Errors
    /// Any accept error, or a failure to register the new socket.
    ///
    /// ```
    /// use std::future::poll_fn;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_server, peer) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, Op::TcpAccept, |l| l.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                Ok((self.accepted(stream)?, peer))
            })
    }

    /// Gives the listener back as a std listener (still non-blocking), deregistered
    /// from the runtime; it keeps listening. Call it inside the runtime it belongs to.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated (out of descriptors).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let (std_listener, addr) = rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let addr = listener.local_addr()?;
    ///     Ok::<_, std::io::Error>((listener.into_std()?, addr))
    /// })?;
    /// let _client = std::net::TcpStream::connect(addr)?;
    /// std_listener.set_nonblocking(false)?;
    /// let (_server, _) = std_listener.accept()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_owned_fd()?.into())
    }
}

fd_impls!(TcpListener);
try_from_std!(std::net::TcpListener => TcpListener);

/// A non-blocking listening socket on `addr`, with `SO_REUSEADDR` and [`BACKLOG`].
fn listen(addr: SocketAddr) -> io::Result<mio::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(mio::net::TcpListener::from_std(socket.into()))
}

/// Whether an accept failed because no descriptor was free for the new socket.
fn out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
