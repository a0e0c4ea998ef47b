//! `UnixDatagram`: Unix domain datagrams on the reactor.

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use super::io::{fd_impls, socket_methods, try_from_std};
use super::source::IoSource;
use super::unix_addr;

/// A Unix domain datagram socket, registered with the runtime it was created in.
///
/// Every method takes `&self`, as [`UdpSocket`](super::UdpSocket)'s do. Datagrams
/// are counted as `unix_recvs_inline` / `unix_recvs_waited`, `unix_sends_*` and
/// `unix_bytes_received` / `unix_bytes_sent`.
///
/// ```
/// use turnstile::net::UnixDatagram;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let mut buf = [0; 16];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    io: IoSource<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// A socket bound to `path`.
    ///
    /// On Linux, a path that starts with a NUL byte (`"\0name"`) names a socket in the
    /// abstract namespace: no file is made, and the name is gone with its last socket
    /// (tokio reads such a path so for its listener and stream; turnstile for every
    /// Unix socket call that takes a path).
    ///
    /// # Errors
    /// `AddrInUse` if the file exists; `InvalidInput` for a path too long; otherwise
    /// as `bind`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-db{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("dgram.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UnixDatagram::bind(&path)?;
    ///     assert_eq!(socket.local_addr()?.as_pathname(), Some(path.as_path()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let addr = super::unix_addr::socket_addr(path.as_ref())?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind_addr(&addr)?)
    }

    /// A socket bound to no address: it can send (to a path, or after `connect`), and
    /// receive only once connected.
    ///
    /// # Errors
    /// As `socket`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UnixDatagram::unbound()?;
    ///     assert!(socket.local_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// Two connected sockets (`socketpair`).
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
    ///     let (a, b) = turnstile::net::UnixDatagram::pair()?;
    ///     a.send(b"x").await?;
    ///     assert_eq!(b.recv(&mut [0; 4]).await?, 1);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    #[track_caller]
    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        let io = IoSource::new(
            socket,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
            "UnixDatagram",
        )?;
        Ok(UnixDatagram { io })
    }

    /// Takes over a std socket (made non-blocking here).
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let std_socket = std::os::unix::net::UnixDatagram::unbound()?;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UnixDatagram::from_std(std_socket)?;
    ///     assert!(socket.local_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Gives the socket back as a std socket (still non-blocking), deregistered from
    /// the runtime. Call it inside the runtime it belongs to.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated (out of descriptors).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let (a, b) = rt.block_on(async {
    ///     let (a, b) = turnstile::net::UnixDatagram::pair()?;
    ///     Ok::<_, std::io::Error>((a.into_std()?, b.into_std()?))
    /// })?;
    /// a.send(b"hi")?;
    /// b.set_nonblocking(false)?;
    /// assert_eq!(b.recv(&mut [0; 4])?, 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_owned_fd()?.into())
    }

    /// Sets the default peer, for [`UnixDatagram::send`] and [`UnixDatagram::recv`].
    ///
    /// A path that starts with a NUL byte names a socket in the abstract namespace, as
    /// in [`UnixDatagram::bind`].
    ///
    /// # Errors
    /// As `connect`: `NotFound` when nothing is bound at `path`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UnixDatagram::unbound()?;
    ///     let err = socket.connect("/nonexistent/turnstile.sock").unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        if unix_addr::abstract_name(path).is_some() {
            socket2::SockRef::from(self.io.get()).connect(&unix_addr::sock_addr(path)?)?;
        } else {
            self.io.get().connect(path)?;
        }
        self.io.probe().forget(); // its waits are named after the peer now
        Ok(())
    }

    /// Sends one datagram to the socket bound at `path`.
    ///
    /// A path that starts with a NUL byte names a socket in the abstract namespace, as
    /// in [`UnixDatagram::bind`].
    ///
    /// # Errors
    /// `NotFound` when nothing is bound there; otherwise as `sendto`.
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("turnstile-doc-st{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("to.sock");
    /// let _ = std::fs::remove_file(&path);
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let server = turnstile::net::UnixDatagram::bind(&path)?;
    ///     let client = turnstile::net::UnixDatagram::unbound()?;
    ///     assert_eq!(client.send_to(b"hi", &path).await?, 2);
    ///     assert_eq!(server.recv(&mut [0; 8]).await?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.io.send_to(buf, path.as_ref()).await
    }

    /// Sends one datagram to the socket bound at `path` without waiting.
    ///
    /// A path that starts with a NUL byte names a socket in the abstract namespace, as
    /// in [`UnixDatagram::bind`].
    ///
    /// # Errors
    /// `WouldBlock` when the receiver's queue is full; otherwise as `sendto`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UnixDatagram::unbound()?;
    ///     let err = a.try_send_to(b"hi", "/nonexistent/turnstile.sock").unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.io.try_send_to(buf, path.as_ref())
    }

    /// Polls to send one datagram to the socket bound at `path`.
    ///
    /// # Errors
    /// As [`UnixDatagram::send_to`].
    ///
    /// ```
    /// use std::future::poll_fn;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UnixDatagram::unbound()?;
    ///     let missing = std::path::Path::new("/nonexistent/turnstile.sock");
    ///     let err = poll_fn(|cx| a.poll_send_to(cx, b"hi", missing)).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        path: &Path,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_send_to(cx, buf, path)
    }
}

// Readiness, `send`/`recv` and their `try_*` and `poll_*` forms, with the docs all
// datagram sockets share: `a` and `b` in the examples are connected to each other.
socket_methods!(UnixDatagram: datagram(
    "unix",
    SocketAddr,
    "    let (a, b) = turnstile::net::UnixDatagram::pair()?;"
));

socket_methods! {
    UnixDatagram {
        /// The address it is bound to.
        ///
        /// # Errors
        /// As `getsockname`.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let (a, _b) = turnstile::net::UnixDatagram::pair()?;
        ///     assert!(a.local_addr()?.is_unnamed());
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn local_addr(SocketAddr);
        /// The address it is connected to.
        ///
        /// # Errors
        /// `NotConnected` before [`UnixDatagram::connect`].
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let socket = turnstile::net::UnixDatagram::unbound()?;
        ///     assert!(socket.peer_addr().is_err());
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn peer_addr(SocketAddr);
        /// Shuts down receiving, sending or both.
        ///
        /// # Errors
        /// As `shutdown`.
        ///
        /// ```
        /// let rt = turnstile::Runtime::new()?;
        /// rt.block_on(async {
        ///     let (a, _b) = turnstile::net::UnixDatagram::pair()?;
        ///     a.shutdown(std::net::Shutdown::Both)?;
        ///     assert!(a.try_send(b"x").is_err());
        ///     Ok::<(), std::io::Error>(())
        /// })?;
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn shutdown;
    }
}

fd_impls!(UnixDatagram);
try_from_std!(std::os::unix::net::UnixDatagram => UnixDatagram);

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
