//! The halves of a `TcpStream`: one reads, one writes, each waits on its own side.
//!
//! The reactor keeps a reader waker and a writer waker per socket, so a read half
//! waiting in one task and a write half waiting in another never steal each other's
//! wake-ups.

use std::fmt;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

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
