//! The halves of a `TcpStream`: one reads, one writes, each waits on its own side.
//!
//! The reactor keeps a reader waker and a writer waker per socket, so a read half
//! waiting in one task and a write half waiting in another never steal each other's
//! wake-ups.

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::SocketAddr;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use turnstile_reactor::Direction;

use super::ready::Interest;
use super::source::{Op, Peeked};
use super::stream::{self, StreamSource, TcpStream};

/// The read half of a [`TcpStream`] from [`TcpStream::into_split`]: futures-io
/// [`AsyncRead`], movable into its own task.
pub struct OwnedReadHalf {
    io: Arc<StreamSource>,
}

/// The write half of a [`TcpStream`] from [`TcpStream::into_split`]: futures-io
/// [`AsyncWrite`], movable into its own task. Dropping it shuts down the write side
/// (the peer reads EOF).
pub struct OwnedWriteHalf {
    io: Arc<StreamSource>,
}

pub(crate) fn split_owned(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let io = Arc::new(stream.io);
    (OwnedReadHalf { io: io.clone() }, OwnedWriteHalf { io })
}

impl OwnedReadHalf {
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
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }
}

impl OwnedReadHalf {
    /// Waits until the stream may be read, as [`TcpStream::readable`].
    ///
    /// # Errors
    /// None today; `io::Result` as in tokio.
    ///
    /// ```
    /// use futures::AsyncWriteExt;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let (read, _write) = server.into_split();
    ///     client.write_all(b"hi").await?;
    ///     read.readable().await?;
    ///     assert_eq!(read.try_read(&mut [0; 8])?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn readable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let wait = self.io.ready(Interest::READABLE, Location::caller());
        async move { wait.await.map(drop) }
    }

    /// Reads what is there now, without waiting, as [`TcpStream::try_read`].
    ///
    /// # Errors
    /// `WouldBlock` when there is no data yet; any read error as is.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (read, _write) = client.into_split();
    ///     let err = read.try_read(&mut [0; 8]).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let asked = buf.len();
        self.io
            .try_io(Direction::Read, Op::TcpRead(asked), |mut s| s.read(buf))
    }

    /// [`OwnedReadHalf::try_read`] into several buffers, in order.
    ///
    /// # Errors
    /// As [`OwnedReadHalf::try_read`].
    ///
    /// ```
    /// use std::io::IoSliceMut;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (read, _write) = client.into_split();
    ///     let mut buf = [0; 4];
    ///     assert!(read.try_read_vectored(&mut [IoSliceMut::new(&mut buf)]).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let asked = bufs.iter().map(|b| b.len()).sum();
        self.io
            .try_io(Direction::Read, Op::TcpRead(asked), |mut s| {
                s.read_vectored(bufs)
            })
    }

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
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Read, Op::Peek, |s| s.peek(buf).map(Peeked))
        })
        .await
        .map(|Peeked(n)| n)
    }
}

impl OwnedWriteHalf {
    /// Waits until the stream may be written, as [`TcpStream::writable`].
    ///
    /// # Errors
    /// None today; `io::Result` as in tokio.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_read, write) = client.into_split();
    ///     write.writable().await?;
    ///     assert_eq!(write.try_write(b"hi")?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn writable(&self) -> impl Future<Output = io::Result<()>> + '_ {
        let wait = self.io.ready(Interest::WRITABLE, Location::caller());
        async move { wait.await.map(drop) }
    }

    /// Writes what the socket takes now, without waiting, as [`TcpStream::try_write`].
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full; any write error as is.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_read, write) = client.into_split();
    ///     assert_eq!(write.try_write(b"hi")?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, Op::TcpWrite, |mut s| s.write(buf))
    }

    /// [`OwnedWriteHalf::try_write`] from several buffers, in order.
    ///
    /// # Errors
    /// As [`OwnedWriteHalf::try_write`].
    ///
    /// ```
    /// use std::io::IoSlice;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = turnstile::net::TcpStream::connect(listener.local_addr()?).await?;
    ///     let (_read, write) = client.into_split();
    ///     assert_eq!(write.try_write_vectored(&[IoSlice::new(b"a"), IoSlice::new(b"b")])?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, Op::TcpWrite, |mut s| {
            s.write_vectored(bufs)
        })
    }
}

impl OwnedWriteHalf {
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
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // Best effort, like closing a file: the peer learns of it as EOF.
        let _ = stream::close_write(&self.io);
    }
}

/// The read half of a [`TcpStream`] from [`TcpStream::halves`], borrowed: futures-io
/// [`AsyncRead`].
pub struct ReadHalf<'a> {
    pub(crate) io: &'a StreamSource,
}

/// The write half of a [`TcpStream`] from [`TcpStream::halves`], borrowed: futures-io
/// [`AsyncWrite`].
pub struct WriteHalf<'a> {
    pub(crate) io: &'a StreamSource,
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(&self.io, cx, buf)
    }
}

impl AsyncRead for ReadHalf<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_read(self.io, cx, buf)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(&self.io, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(&self.io, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(stream::close_write(&self.io))
    }
}

impl AsyncWrite for WriteHalf<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write(self.io, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        stream::poll_write_vectored(self.io, cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(stream::close_write(self.io))
    }
}

macro_rules! debug_half {
    ($($ty:ty),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("peer", &self.io.get().peer_addr().ok())
                    .finish()
            }
        }
    )*};
}

debug_half!(OwnedReadHalf, OwnedWriteHalf, ReadHalf<'_>, WriteHalf<'_>);
