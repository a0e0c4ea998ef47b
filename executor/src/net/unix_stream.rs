//! `UnixStream`: a connected Unix domain stream socket on the reactor, with futures-io
//! `AsyncRead` and `AsyncWrite`, counted as TCP is (`unix_reads_inline`, ...).

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use super::io::{fd_impls, socket_methods, try_from_std};
use super::source::IoSource;
use super::split::stream_halves;

/// A Unix domain stream connection, registered with the runtime it was created in.
///
/// Read and write it through futures-io's [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite), or with the readiness calls
/// ([`UnixStream::readable`], [`UnixStream::try_read`], ...) as on a
/// [`TcpStream`](super::TcpStream). The probes count its operations apart from TCP's:
/// `unix_reads_inline`, `unix_reads_waited`, `unix_bytes_read`, ... Split it with
/// [`UnixStream::into_split`] to read and write from two tasks, or borrow both halves
/// with [`UnixStream::halves`].
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
    pub(crate) io: IoSource<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket bound at `path`.
    ///
    /// On Linux, a path that starts with a NUL byte (`"\0name"`) names a socket in the
    /// abstract namespace, as in tokio: no file is made, and the name is gone with its
    /// last socket.
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
        let addr = super::unix_addr::socket_addr(path.as_ref())?;
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect_addr(&addr)?)?;
        stream.io.finish_connect().await?;
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
}

// Readiness and `try_*`, with the docs all stream types share: `a` and `b` in the
// examples are the two ends of a connection (for the halves, `b` is a read half and
// `a` a write half).
socket_methods!(UnixStream, OwnedReadHalf, OwnedWriteHalf: stream(
    "unix",
    "    let (a, b) = turnstile::net::UnixStream::pair()?;"
));

socket_methods! {
    UnixStream {
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
        fn local_addr(SocketAddr);
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
        fn peer_addr(SocketAddr);
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
        fn shutdown;
    }
}

stream_halves! {
    UnixStream(mio::net::UnixStream);
    /// Splits into an owned read half and an owned write half, which can move into two
    /// tasks, as [`TcpStream::into_split`](super::TcpStream::into_split): each side waits
    /// on its own, dropping the write half shuts down the write side, and the socket closes
    /// when both halves are gone. The halves count as the stream does (`unix_reads_*`,
    /// `unix_writes_*`).
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (mut client, server) = turnstile::net::UnixStream::pair()?;
    ///     let (mut read, mut write) = server.into_split();
    ///     // The server echoes with two tasks: one reads, one writes.
    ///     let (tx, rx) = futures::channel::oneshot::channel();
    ///     turnstile::spawn(async move {
    ///         let mut buf = [0; 5];
    ///         read.read_exact(&mut buf).await.unwrap();
    ///         tx.send(buf).unwrap();
    ///     });
    ///     turnstile::spawn(async move { write.write_all(&rx.await.unwrap()).await.unwrap() });
    ///     client.write_all(b"hello").await?;
    ///     let mut echo = [0; 5];
    ///     client.read_exact(&mut echo).await?;
    ///     assert_eq!(&echo, b"hello");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn into_split;
    /// Borrows a read half and a write half, to read and write at once from one task, as
    /// [`TcpStream::halves`](super::TcpStream::halves) (tokio's `split`; not named so
    /// because `futures::AsyncReadExt::split` would be called instead).
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (mut a, mut b) = turnstile::net::UnixStream::pair()?;
    ///     let (mut read, mut write) = a.halves();
    ///     let mut buf = [0; 2];
    ///     let (sent, got) = futures::join!(write.write_all(b"hi"), async {
    ///         b.write_all(b"yo").await?;
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
        /// The address of the peer (unnamed for a pair).
        ///
        /// # Errors
        /// As `getpeername`.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
        ///     let (read, _write) = a.into_split();
        ///     assert!(read.peer_addr()?.is_unnamed());
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peer_addr(SocketAddr);
    }
}

socket_methods! {
    OwnedWriteHalf {
        /// The address of the peer (unnamed for a pair).
        ///
        /// # Errors
        /// As `getpeername`.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
        ///     let (_read, write) = a.into_split();
        ///     assert!(write.peer_addr()?.is_unnamed());
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peer_addr(SocketAddr);
    }
}

fd_impls!(UnixStream);
try_from_std!(std::os::unix::net::UnixStream => UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl UnixStream {
    /// Names this stream in the probes: the await sites of its waits carry `name` after
    /// its peer's address ("unix read from /run/app.sock (worker)"), so that waits for one service read apart
    /// from waits for another in the sites table and the async stacks. The halves of [`into_split`](UnixStream::into_split) share the name. A
    /// stream without a name is known by its peer alone. tokio has no such method;
    /// nothing but the probes reads the name.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     a.set_probe_name("worker");
    ///     assert_eq!(a.probe_name().as_deref(), Some("worker"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_probe_name(&self, name: impl Into<String>) {
        self.io.probe().set_name(Some(name.into().into()));
    }

    /// The name given with [`set_probe_name`](UnixStream::set_probe_name), if any.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     a.set_probe_name("worker");
    ///     assert_eq!(a.probe_name().as_deref(), Some("worker"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn probe_name(&self) -> Option<String> {
        self.io.probe().name().map(String::from)
    }
}
