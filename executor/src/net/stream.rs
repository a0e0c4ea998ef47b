//! `TcpStream`: a connected TCP socket on the reactor, with futures-io `AsyncRead` and
//! `AsyncWrite`.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use mio::Interest;
use turnstile_reactor::Direction;

use super::source::{IoSource, Op};
use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};

/// What the stream's halves share.
pub(crate) type StreamSource = IoSource<mio::net::TcpStream>;

/// A TCP connection, registered with the runtime it was created in.
///
/// Read and write it through futures-io's [`AsyncRead`] and [`AsyncWrite`] (with the
/// `futures` crate's `AsyncReadExt`/`AsyncWriteExt` for `read_exact`, `write_all`, ...).
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
    pub(crate) io: StreamSource,
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
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
        // A non-blocking connect finishes when the socket turns writable: connected if
        // it has a peer, refused (or failed) if it holds an error. Until then the
        // socket has no peer yet, which counts as "would block".
        poll_fn(|cx| {
            stream
                .io
                .poll_io(cx, Direction::Write, Op::TcpConnect, |s| {
                    if let Some(e) = s.take_error()? {
                        return Err(e);
                    }
                    match s.peer_addr() {
                        Ok(_) => Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            Err(io::ErrorKind::WouldBlock.into())
                        }
                        Err(e) => Err(e),
                    }
                })
        })
        .await?;
        Ok(stream)
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let io = IoSource::new(stream, Interest::READABLE | Interest::WRITABLE, "TcpStream")?;
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
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

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
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
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
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

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
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split::split_owned(self)
    }

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
    pub fn halves(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf { io: &self.io }, WriteHalf { io: &self.io })
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

/// One read on the stream: the heart of `AsyncRead` for the stream and its read halves.
#[inline]
pub(crate) fn poll_read(
    io: &StreamSource,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let asked = buf.len();
    io.poll_io(cx, Direction::Read, Op::TcpRead(asked), |mut s| s.read(buf))
}

#[inline]
pub(crate) fn poll_write(
    io: &StreamSource,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    io.poll_io(cx, Direction::Write, Op::TcpWrite, |mut s| s.write(buf))
}

#[inline]
pub(crate) fn poll_write_vectored(
    io: &StreamSource,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    io.poll_io(cx, Direction::Write, Op::TcpWrite, |mut s| {
        s.write_vectored(bufs)
    })
}

/// Closing the write side: FIN to the peer. A connection already gone counts as closed.
pub(crate) fn close_write(io: &StreamSource) -> io::Result<()> {
    match io.get().shutdown(Shutdown::Write) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read(&self.io, cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        poll_write(&self.io, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        poll_write_vectored(&self.io, cx, bufs)
    }

    /// Writes go straight to the socket: nothing to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side (FIN); the read side stays open.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(close_write(&self.io))
    }
}
