//! `UnixListener`: accepting Unix domain stream connections.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use turnstile_reactor::Direction;

use super::io::{fd_impls, try_from_std};
use super::source::{IoSource, Op};
use super::unix_stream::UnixStream;

/// A Unix domain socket listening for connections, registered with the runtime it was
/// created in. Accepts are counted as `unix_accepts_inline` / `unix_accepts_waited`.
///
/// The socket file it binds stays on disk after the listener is dropped (as with std
/// and tokio): remove it, or bind inside a temporary directory that is removed.
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use turnstile::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("turnstile-doc-l{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("echo.sock");
/// let _ = std::fs::remove_file(&path);
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    io: IoSource<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens (as tokio, without an `.await`).
    ///
    /// On Linux, a path that starts with a NUL byte (`"\0name"`) names a socket in the
    /// abstract namespace, as in tokio: no file is made, and the name is gone with its
    /// last socket.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// use std::os::linux::net::SocketAddrExt;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let name = format!("\0turnstile-doc-abstract-{}", std::process::id());
    ///     let listener = turnstile::net::UnixListener::bind(&name)?;
    ///     let _client = turnstile::net::UnixStream::connect(&name).await?;
    ///     let (_server, _) = listener.accept().await?;
    ///     assert_eq!(listener.local_addr()?.as_abstract_name(), Some(&name.as_bytes()[1..]));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// `AddrInUse` if the file exists; `InvalidInput` for a path too long for a Unix
    /// socket address (about 107 bytes); otherwise as `bind`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let long = "x".repeat(200);
    ///     let err = turnstile::net::UnixListener::bind(long).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let addr = super::unix_addr::socket_addr(path.as_ref())?;
        UnixListener::from_mio(mio::net::UnixListener::bind_addr(&addr)?)
    }

    #[track_caller]
    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        let io = IoSource::new(listener, mio::Interest::READABLE, "UnixListener")?;
        Ok(UnixListener { io })
    }

    /// Takes over a std listener (made non-blocking here).
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-fs{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("std.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let std_listener = std::os::unix::net::UnixListener::bind(&path)?;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::UnixListener::from_std(std_listener)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    /// Gives the listener back as a std listener (still non-blocking), deregistered
    /// from the runtime. Call it inside the runtime it belongs to.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated (out of descriptors).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-is{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("into.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// let std_listener = rt.block_on(async { turnstile::net::UnixListener::bind(&path)?.into_std() })?;
    /// assert_eq!(std_listener.local_addr()?.as_pathname(), Some(path.as_path()));
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_owned_fd()?.into())
    }

    /// The address it listens on.
    ///
    /// # Errors
    /// As `getsockname`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-la{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("addr.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::UnixListener::bind(&path)?;
    ///     assert_eq!(listener.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Waits for a connection and returns it with the peer's address. One already
    /// waiting is accepted without a yield.
    ///
    /// # Errors
    /// Any accept error, or a failure to register the new socket.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-ac{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("accept.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::UnixListener::bind(&path)?;
    ///     let _client = turnstile::net::UnixStream::connect(&path).await?;
    ///     let (_server, peer) = listener.accept().await?;
    ///     assert!(peer.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls to accept a connection: the building block under [`UnixListener::accept`].
    ///
    /// # Errors
    /// As [`UnixListener::accept`].
    ///
    /// ```
    /// use std::future::poll_fn;
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-pa{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("poll.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let listener = turnstile::net::UnixListener::bind(&path)?;
    ///     let _client = turnstile::net::UnixStream::connect(&path).await?;
    ///     let (_server, _) = poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.io
            .poll_io(cx, Direction::Read, Op::UnixAccept, |l| l.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                let stream = UnixStream::from_mio(stream)?;
                stream.io.accepted_from(&self.io);
                Ok((stream, peer))
            })
    }
}

fd_impls!(UnixListener);
try_from_std!(std::os::unix::net::UnixListener => UnixListener);

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
