//! `TcpStream`: a connected TCP socket on the reactor, with futures-io `AsyncRead` and
//! `AsyncWrite`.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::io::{fd_impls, socket_methods, try_from_std};
use super::source::IoSource;
use super::split::stream_halves;

/// A TCP connection, registered with the runtime it was created in.
///
/// Read and write it through futures-io's [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite) (with the `futures` crate's
/// `AsyncReadExt`/`AsyncWriteExt` for `read_exact`, `write_all`, ...).
/// A read that finds data already in the socket completes at once, without a yield;
/// only a read that has to wait goes back to the loop (the probes count both:
/// `tcp_reads_inline` and `tcp_reads_waited`). Split it with [`TcpStream::into_split`]
/// to read and write from two tasks, or borrow both halves with [`TcpStream::halves`].
///
/// A peer that closes gives EOF (a read of 0 bytes); a peer that resets gives an
/// `io::Error`. Neither panics nor hangs.
///
/// ```no_run
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use turnstile::net::TcpStream;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let mut stream = TcpStream::connect("127.0.0.1:7000").await?;
///     stream.write_all(b"ping").await?;
///     let mut reply = [0; 4];
///     stream.read_exact(&mut reply).await?;
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    pub(crate) io: IoSource<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn; the error of the
    /// last one if none accepts. A name is resolved with the blocking resolver (use an
    /// IP address to keep the loop from blocking on DNS).
    ///
    /// # Errors
    /// `ConnectionRefused` when nothing listens there; any other connect error as is.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match TcpStream::connect_one(addr).await {
                Ok(stream) => return Ok(stream),
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

    async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect_mio(mio::net::TcpStream::connect(addr)?).await
    }

    /// Registers a socket whose non-blocking connect has started, and waits for the
    /// connect to finish.
    pub(crate) async fn connect_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(stream)?;
        stream.io.finish_connect().await?;
        Ok(stream)
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = IoSource::new(
            stream,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
            "TcpStream",
        )?;
        Ok(TcpStream { io })
    }

    /// Takes over a connected std stream (made non-blocking here).
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// rt.block_on(async {
    ///     let stream = turnstile::net::TcpStream::from_std(std_stream)?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// Gives the connection back as a std stream (still non-blocking: call
    /// `set_nonblocking(false)` for blocking use), deregistered from the runtime. The
    /// connection stays open. Call it inside the runtime the stream belongs to; elsewhere
    /// the descriptor stays known to that runtime's poller until it closes.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated (out of descriptors); the stream is
    /// closed then.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let rt = turnstile::Runtime::new()?;
    /// let (mut std_stream, mut peer) = rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (peer, _) = listener.accept().await?;
    ///     Ok::<_, std::io::Error>((stream.into_std()?, peer.into_std()?))
    /// })?;
    /// std_stream.set_nonblocking(false)?;
    /// peer.set_nonblocking(false)?;
    /// std_stream.write_all(b"hi")?;
    /// let mut buf = [0; 2];
    /// peer.read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_owned_fd()?.into())
    }

    /// Sets `SO_LINGER`: with `Some(d)`, closing waits up to `d` for unsent data to go
    /// out (and `Some(Duration::ZERO)` resets the connection on close); `None` closes
    /// in the background, the default.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_linger(Some(Duration::from_secs(1)))?;
    ///     assert_eq!(stream.linger()?, Some(Duration::from_secs(1)));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        socket2::SockRef::from(self.io.get()).set_linger(linger)
    }

    /// Sets `SO_LINGER` to zero: closing resets the connection (RST) instead of the
    /// FIN handshake, and drops unsent data; the socket skips `TIME_WAIT`. tokio's name
    /// for `set_linger(Some(Duration::ZERO))`, the one linger that never blocks a close.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_zero_linger()?;
    ///     assert_eq!(stream.linger()?, Some(Duration::ZERO));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.set_linger(Some(Duration::ZERO))
    }

    /// Takes the pending socket error (`SO_ERROR`), if any, and clears it.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.take_error()?.is_none());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get().take_error()
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.linger()?, None);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        socket2::SockRef::from(self.io.get()).linger()
    }

    /// Sets `IP_TTL`, the time-to-live of the packets it sends.
    ///
    /// # Errors
    /// As `setsockopt`: `InvalidInput` for 0 or above 255.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_ttl(42)?;
    ///     assert_eq!(stream.ttl()?, 42);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_ttl(ttl)
    }

    /// The `IP_TTL` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(stream.ttl()? > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get().ttl()
    }

    /// Sets `TCP_NODELAY`: small writes go out at once instead of waiting to be
    /// coalesced (Nagle's algorithm). Request-response protocols want it on.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     stream.set_nodelay(true)?;
    ///     assert!(stream.nodelay()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert!(!stream.nodelay()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().nodelay()
    }
}

// Readiness and `try_*`, with the docs all stream types share: `a` and `b` in the
// examples are the two ends of a connection (for the halves, `b` is a read half and
// `a` a write half).
socket_methods!(TcpStream, OwnedReadHalf, OwnedWriteHalf: stream("tcp", concat!(
    "    let listener = turnstile::net::TcpListener::bind(\"127.0.0.1:0\").await?;\n",
    "    let a = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;\n",
    "    let (b, _) = listener.accept().await?;",
)));

socket_methods! {
    TcpStream {
        /// Reads the data waiting in the socket without taking it: the next read returns
        /// it again. Waits for data as a read does. Counted as a peek (`peeks_inline`,
        /// `peeks_waited`; no bytes).
        ///
        /// # Errors
        /// As `recv(MSG_PEEK)`.
        ///
        /// ```
        /// use futures::{AsyncReadExt, AsyncWriteExt};
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let mut client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     let (mut server, _) = listener.accept().await?;
        ///     client.write_all(b"hello").await?;
        ///     let mut buf = [0; 5];
        ///     let n = server.peek(&mut buf).await?;
        ///     assert_eq!(&buf[..n], &b"hello"[..n]);
        ///     server.read_exact(&mut buf).await?; // still there
        ///     assert_eq!(&buf, b"hello");
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peek;
        /// The local address of this end.
        ///
        /// # Errors
        /// As `getsockname`.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     assert!(stream.local_addr()?.ip().is_loopback());
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn local_addr(SocketAddr);
        /// The address of the peer.
        ///
        /// # Errors
        /// `NotConnected` once the connection is gone; otherwise as `getpeername`.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peer_addr(SocketAddr);
        /// Shuts down the read side, the write side or both. Shutting down writes sends
        /// FIN: the peer reads EOF once it has read everything before it (a half-close; this
        /// end can still read). `AsyncWrite::poll_close` does the same as `Shutdown::Write`.
        ///
        /// # Errors
        /// `NotConnected` if the connection is already gone.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     stream.shutdown(std::net::Shutdown::Write)?;
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn shutdown;
    }
}

stream_halves! {
    TcpStream(mio::net::TcpStream);
    /// Splits into an owned read half and an owned write half, which can move into two
    /// tasks: each side waits on its own (the reactor keeps a reader and a writer waker
    /// per socket). Dropping the write half shuts down the write side, as
    /// `Shutdown::Write` does; the socket closes when both halves are gone.
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (mut read, mut write) = server.into_split();
    ///     // The server echoes with two tasks: one reads, one writes.
    ///     let (tx, rx) = futures::channel::oneshot::channel();
    ///     turnstile::spawn(async move {
    ///         let mut buf = [0; 5];
    ///         read.read_exact(&mut buf).await.unwrap();
    ///         tx.send(buf).unwrap();
    ///     });
    ///     turnstile::spawn(async move { write.write_all(&rx.await.unwrap()).await.unwrap() });
    ///     let mut client = client;
    ///     client.write_all(b"hello").await?;
    ///     let mut echo = [0; 5];
    ///     client.read_exact(&mut echo).await?;
    ///     assert_eq!(&echo, b"hello");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn into_split;
    /// Borrows a read half and a write half, to read and write at once from one task
    /// (with `futures::join!`, say). Not named `split`: with `futures::AsyncReadExt` in
    /// scope, `stream.split()` would call that trait's `split`, which takes the stream
    /// by value and puts it behind a lock.
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (mut read, mut write) = client.halves();
    ///     let mut buf = [0; 2];
    ///     let (sent, got) = futures::join!(write.write_all(b"hi"), async {
    ///         server.write_all(b"yo").await?;
    ///         read.read_exact(&mut buf).await
    ///     });
    ///     sent?;
    ///     got?;
    ///     assert_eq!(&buf, b"yo");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn halves;
}

socket_methods! {
    OwnedReadHalf {
        /// The address of the peer.
        ///
        /// # Errors
        /// `NotConnected` once the connection is gone.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     let (read, _write) = stream.into_split();
        ///     assert_eq!(read.peer_addr()?, listener.local_addr()?);
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peer_addr(SocketAddr);
        /// Reads the waiting data without taking it, as [`TcpStream::peek`].
        ///
        /// # Errors
        /// As `recv(MSG_PEEK)`.
        ///
        /// ```
        /// use futures::AsyncWriteExt;
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let mut client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     let (server, _) = listener.accept().await?;
        ///     let (read, _write) = server.into_split();
        ///     client.write_all(b"x").await?;
        ///     assert_eq!(read.peek(&mut [0; 8]).await?, 1);
        ///     assert_eq!(read.try_read(&mut [0; 8])?, 1);
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peek;
    }
}

socket_methods! {
    OwnedWriteHalf {
        /// The address of the peer.
        ///
        /// # Errors
        /// `NotConnected` once the connection is gone.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
        ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
        ///     let (_read, write) = stream.into_split();
        ///     assert_eq!(write.peer_addr()?, listener.local_addr()?);
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peer_addr(SocketAddr);
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

fd_impls!(TcpStream);
try_from_std!(std::net::TcpStream => TcpStream);

impl TcpStream {
    /// Names this stream in the probes: the await sites of its waits carry `name` after
    /// its peer's address ("tcp read from 127.0.0.1:5432 (postgres)"), so that waits for one service read apart
    /// from waits for another in the sites table and the async stacks. The halves of [`into_split`](TcpStream::into_split) share the name. A
    /// stream without a name is known by its peer alone. tokio has no such method;
    /// nothing but the probes reads the name.
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// let rt = turnstile::Runtime::new()?;
    /// let db_addr = rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut db = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     db.set_probe_name("postgres");
    ///     let (mut server, _) = listener.accept().await?;
    ///     let query = turnstile::spawn(async move {
    ///         let mut reply = [0; 1];
    ///         db.read_exact(&mut reply).await // waits, at the socket's site
    ///     });
    ///     turnstile::yield_now().await; // the query task runs, and waits
    ///     server.write_all(b"x").await?;
    ///     query.await.unwrap()?;
    ///     listener.local_addr()
    /// })?;
    /// let site = format!("tcp read from {db_addr} (postgres)");
    /// assert!(rt.probes().sites.iter().any(|s| s.name() == site));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_probe_name(&self, name: impl Into<String>) {
        self.io.probe().set_name(Some(name.into().into()));
    }

    /// The name given with [`set_probe_name`](TcpStream::set_probe_name), if any.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let stream = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.probe_name(), None);
    ///     stream.set_probe_name("cache");
    ///     assert_eq!(stream.probe_name().as_deref(), Some("cache"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn probe_name(&self) -> Option<String> {
        self.io.probe().name().map(String::from)
    }
}
