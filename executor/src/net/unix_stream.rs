//! `UnixStream`: a connected Unix domain stream socket on the reactor, with futures-io
//! `AsyncRead` and `AsyncWrite`, counted as TCP is (`unix_reads_inline`, ...).

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::panic::Location;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use turnstile_reactor::Direction;

use super::ready::{Interest, Ready};
use super::source::{IoSource, Op};

/// A Unix domain stream connection, registered with the runtime it was created in.
///
/// Read and write it through futures-io's [`AsyncRead`] and [`AsyncWrite`], or with
/// the readiness calls ([`UnixStream::readable`], [`UnixStream::try_read`], ...) as on
/// a [`TcpStream`](super::TcpStream). The probes count its operations apart from
/// TCP's: `unix_reads_inline`, `unix_reads_waited`, `unix_bytes_read`, ...
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use turnstile::net::UnixStream;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    io: IoSource<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`.
    ///
    /// # Errors
    /// `NotFound` when nothing is bound there, `ConnectionRefused` when nothing
    /// listens, `InvalidInput` for a path too long for a Unix socket address.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("connect.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::UnixListener::bind(&path)?;
    ///     let _client = turnstile::net::UnixStream::connect(&path).await?;
    ///     let (_server, _) = listener.accept().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        poll_fn(|cx| {
            stream
                .io
                .poll_io(cx, Direction::Write, Op::UnixConnect, |s| {
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

    /// Two connected streams (`socketpair`), both registered with the current runtime.
    ///
    /// # Errors
    /// As `socketpair`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, b) = turnstile::net::UnixStream::pair()?;
    ///     assert_eq!(a.try_write(b"x")?, 1);
    ///     b.readable().await?;
    ///     let mut buf = [0; 1];
    ///     assert_eq!(b.try_read(&mut buf)?, 1);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    #[track_caller]
    pub(crate) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        let io = IoSource::new(
            stream,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
            "UnixStream",
        )?;
        Ok(UnixStream { io })
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
    /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UnixStream::from_std(a)?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Gives the connection back as a std stream (still non-blocking), deregistered
    /// from the runtime; the connection stays open. Call it inside the runtime it
    /// belongs to.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated (out of descriptors).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let (a, b) = rt.block_on(async {
    ///     let (a, b) = turnstile::net::UnixStream::pair()?;
    ///     Ok::<_, std::io::Error>((a.into_std()?, b.into_std()?))
    /// })?;
    /// use std::io::{Read, Write};
    /// (&a).write_all(b"hi")?;
    /// b.set_nonblocking(false)?;
    /// let mut buf = [0; 2];
    /// (&b).read_exact(&mut buf)?;
    /// assert_eq!(&buf, b"hi");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_owned_fd()?.into())
    }

    /// The address of this end (unnamed for a connecting client or a pair).
    ///
    /// # Errors
    /// As `getsockname`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     assert!(a.local_addr()?.is_unnamed());
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
    /// As `getpeername`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     assert!(a.peer_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Shuts down the read side, the write side or both; shutting down writes gives
    /// the peer EOF.
    ///
    /// # Errors
    /// `NotConnected` if the connection is already gone.
    ///
    /// ```
    /// use futures::AsyncReadExt;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, mut b) = turnstile::net::UnixStream::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     assert_eq!(b.read(&mut [0; 4]).await?, 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// Waits until the stream may be read (see [`TcpStream::readable`](super::TcpStream::readable)).
    ///
    /// # Errors
    /// None today; `io::Result` as in tokio.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, b) = turnstile::net::UnixStream::pair()?;
    ///     a.try_write(b"x")?;
    ///     b.readable().await?;
    ///     assert_eq!(b.try_read(&mut [0; 4])?, 1);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let wait = self.io.ready(Interest::READABLE, Location::caller());
        async move { wait.await.map(drop) }
    }

    /// Waits until the stream may be written.
    ///
    /// # Errors
    /// None today; `io::Result` as in tokio.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     a.writable().await?;
    ///     assert_eq!(a.try_write(b"x")?, 1);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let wait = self.io.ready(Interest::WRITABLE, Location::caller());
        async move { wait.await.map(drop) }
    }

    /// Waits until any of `interest` is ready, and says which.
    ///
    /// # Errors
    /// None today; `io::Result` as in tokio.
    ///
    /// ```
    /// use turnstile::net::Interest;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     assert!(a.ready(Interest::WRITABLE).await?.is_writable());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn ready(&self, interest: Interest) -> impl Future<Output = io::Result<Ready>> + '_ {
        self.io.ready(interest, Location::caller())
    }

    /// Reads what is there now, without waiting (`WouldBlock` if nothing is).
    ///
    /// # Errors
    /// `WouldBlock` when there is no data yet; any read error as is.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     let err = a.try_read(&mut [0; 4]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let asked = buf.len();
        self.io
            .try_io(Direction::Read, Op::UnixRead(asked), |mut s| s.read(buf))
    }

    /// [`UnixStream::try_read`] into several buffers, in order.
    ///
    /// # Errors
    /// As [`UnixStream::try_read`].
    ///
    /// ```
    /// use std::io::IoSliceMut;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, b) = turnstile::net::UnixStream::pair()?;
    ///     a.try_write(b"abcd")?;
    ///     b.readable().await?;
    ///     let (mut x, mut y) = ([0; 2], [0; 2]);
    ///     assert_eq!(b.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let asked = bufs.iter().map(|b| b.len()).sum();
        self.io
            .try_io(Direction::Read, Op::UnixRead(asked), |mut s| {
                s.read_vectored(bufs)
            })
    }

    /// Writes what the socket takes now, without waiting.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full; any write error as is.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     assert_eq!(a.try_write(b"hello")?, 5);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, Op::UnixWrite, |mut s| s.write(buf))
    }

    /// [`UnixStream::try_write`] from several buffers, in order.
    ///
    /// # Errors
    /// As [`UnixStream::try_write`].
    ///
    /// ```
    /// use std::io::IoSlice;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     assert_eq!(a.try_write_vectored(&[IoSlice::new(b"ab"), IoSlice::new(b"cd")])?, 4);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, Op::UnixWrite, |mut s| {
            s.write_vectored(bufs)
        })
    }
}

impl AsyncRead for UnixStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let asked = buf.len();
        self.io
            .poll_io(cx, Direction::Read, Op::UnixRead(asked), |mut s| {
                s.read(buf)
            })
    }
}

impl AsyncWrite for UnixStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, Op::UnixWrite, |mut s| s.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, Op::UnixWrite, |mut s| {
                s.write_vectored(bufs)
            })
    }

    /// Writes go straight to the socket: nothing to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts down the write side; the read side stays open.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(match self.io.get().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        })
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get().as_raw_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
