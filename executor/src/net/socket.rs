//! `TcpSocket`: a TCP socket not yet connected or listening, to set options first.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use super::listener::TcpListener;
use super::stream::TcpStream;

/// A TCP socket before it connects or listens: set `SO_REUSEADDR`, `SO_REUSEPORT`,
/// buffer sizes, or bind to a local address first, then [`TcpSocket::connect`] for a
/// [`TcpStream`] or [`TcpSocket::listen`] for a [`TcpListener`] (tokio's type, with
/// its names).
///
/// Creating and configuring it needs no runtime; `connect` and `listen` register the
/// socket with the current one.
///
/// ```
/// use turnstile::net::TcpSocket;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let socket = TcpSocket::new_v4()?;
///     socket.set_reuseaddr(true)?;
///     socket.bind("127.0.0.1:0".parse().unwrap())?;
///     let listener = socket.listen(128)?;
///
///     let client = TcpSocket::new_v4()?;
///     client.bind("127.0.0.1:0".parse().unwrap())?; // bind before connect
///     let from = client.local_addr()?;
///     let stream = client.connect(listener.local_addr()?).await?;
///     assert_eq!(stream.local_addr()?, from);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpSocket {
    inner: Socket,
}

impl TcpSocket {
    /// A new IPv4 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    /// As `socket`: out of descriptors, say.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV4)
    }

    /// A new IPv6 TCP socket (non-blocking, close-on-exec).
    ///
    /// # Errors
    /// As `socket`: `AddressFamilyNotSupported` where IPv6 is off.
    ///
    /// ```no_run
    /// let socket = turnstile::net::TcpSocket::new_v6()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(Domain::IPV6)
    }

    fn new(domain: Domain) -> io::Result<TcpSocket> {
        let inner = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
        inner.set_nonblocking(true)?;
        Ok(TcpSocket { inner })
    }

    /// Sets `SO_REUSEADDR`: bind to a local address still in `TIME_WAIT` (a server that
    /// restarts at once on its port wants it).
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_reuseaddr(true)?;
    /// assert!(socket.reuseaddr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        self.inner.set_reuse_address(reuseaddr)
    }

    /// The `SO_REUSEADDR` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(!turnstile::net::TcpSocket::new_v4()?.reuseaddr()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reuseaddr(&self) -> io::Result<bool> {
        self.inner.reuse_address()
    }

    /// Sets `SO_REUSEPORT`: several sockets, each with it set, may bind the same address
    /// and port; the kernel spreads incoming connections over their listeners (one
    /// runtime per core, each with its own listener).
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_reuseport(true)?;
    /// assert!(socket.reuseport()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        self.inner.set_reuse_port(reuseport)
    }

    /// The `SO_REUSEPORT` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(!turnstile::net::TcpSocket::new_v4()?.reuseport()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reuseport(&self) -> io::Result<bool> {
        self.inner.reuse_port()
    }

    /// Sets `SO_SNDBUF`, the send buffer size (Linux doubles the value it is given, for
    /// its own bookkeeping: read it back with [`TcpSocket::send_buffer_size`]).
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_send_buffer_size(64 * 1024)?;
    /// assert!(socket.send_buffer_size()? >= 64 * 1024);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_send_buffer_size(size as usize)
    }

    /// The `SO_SNDBUF` size.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(turnstile::net::TcpSocket::new_v4()?.send_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .send_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_RCVBUF`, the receive buffer size (doubled by Linux, as `SO_SNDBUF`).
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_recv_buffer_size(64 * 1024)?;
    /// assert!(socket.recv_buffer_size()? >= 64 * 1024);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        self.inner.set_recv_buffer_size(size as usize)
    }

    /// The `SO_RCVBUF` size.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(turnstile::net::TcpSocket::new_v4()?.recv_buffer_size()? > 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        self.inner
            .recv_buffer_size()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Sets `SO_KEEPALIVE`: the kernel probes an idle connection and reports it broken
    /// when the peer stops answering (after its `tcp_keepalive_*` times).
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_keepalive(true)?;
    /// assert!(socket.keepalive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        self.inner.set_keepalive(keepalive)
    }

    /// The `SO_KEEPALIVE` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(!turnstile::net::TcpSocket::new_v4()?.keepalive()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn keepalive(&self) -> io::Result<bool> {
        self.inner.keepalive()
    }

    /// Sets `SO_LINGER`: with `Some(d)`, closing the connection made from this socket
    /// waits up to `d` for unsent data to go out (a close that blocks the loop: tokio
    /// deprecates it for that; prefer [`set_zero_linger`](Self::set_zero_linger) or
    /// shutdown-then-read-EOF); `None` closes in the background, the default.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_linger(Some(Duration::from_secs(2)))?;
    /// assert_eq!(socket.linger()?, Some(Duration::from_secs(2)));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        self.inner.set_linger(dur)
    }

    /// Sets `SO_LINGER` to zero: closing resets the connection (RST) and drops unsent
    /// data instead of the FIN handshake, and the socket skips `TIME_WAIT`.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_zero_linger()?;
    /// assert_eq!(socket.linger()?, Some(Duration::ZERO));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_zero_linger(&self) -> io::Result<()> {
        self.inner.set_linger(Some(Duration::ZERO))
    }

    /// The `SO_LINGER` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert_eq!(turnstile::net::TcpSocket::new_v4()?.linger()?, None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        self.inner.linger()
    }

    /// Sets `IP_TOS`, the type-of-service byte of the IPv4 packets it sends (DSCP and
    /// ECN bits).
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_tos_v4(0x10)?;
    /// assert_eq!(socket.tos_v4()?, 0x10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        self.inner.set_tos_v4(tos)
    }

    /// The `IP_TOS` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert_eq!(turnstile::net::TcpSocket::new_v4()?.tos_v4()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tos_v4(&self) -> io::Result<u32> {
        self.inner.tos_v4()
    }

    /// [`set_tos_v4`](Self::set_tos_v4) under its old name, which tokio keeps, deprecated.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// #![allow(deprecated)]
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_tos(0x10)?;
    /// assert_eq!(socket.tos()?, 0x10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[deprecated(note = "`tos` is IPv4's: renamed `set_tos_v4`, as in tokio")]
    #[doc(hidden)]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// [`tos_v4`](Self::tos_v4) under its old name, which tokio keeps, deprecated.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// #![allow(deprecated)]
    /// assert_eq!(turnstile::net::TcpSocket::new_v4()?.tos()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[deprecated(note = "`tos` is IPv4's: renamed `tos_v4`, as in tokio")]
    #[doc(hidden)]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// Sets `IPV6_TCLASS`, the traffic class of the IPv6 packets it sends (IPv6's
    /// `IP_TOS`).
    ///
    /// # Errors
    /// As `setsockopt`: an error on an IPv4 socket.
    ///
    /// ```
    /// let Ok(socket) = turnstile::net::TcpSocket::new_v6() else { return Ok(()) }; // no IPv6 here
    /// socket.set_tclass_v6(0x10)?;
    /// assert_eq!(socket.tclass_v6()?, 0x10);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        self.inner.set_tclass_v6(tclass)
    }

    /// The `IPV6_TCLASS` setting.
    ///
    /// # Errors
    /// As `getsockopt`: an error on an IPv4 socket.
    ///
    /// ```
    /// let Ok(socket) = turnstile::net::TcpSocket::new_v6() else { return Ok(()) }; // no IPv6 here
    /// assert_eq!(socket.tclass_v6()?, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tclass_v6(&self) -> io::Result<u32> {
        self.inner.tclass_v6()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any, and clears it.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(turnstile::net::TcpSocket::new_v4()?.take_error()?.is_none());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Sets `TCP_NODELAY` before connecting.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.set_nodelay(true)?;
    /// assert!(socket.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_tcp_nodelay(nodelay)
    }

    /// The `TCP_NODELAY` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// assert!(!turnstile::net::TcpSocket::new_v4()?.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.tcp_nodelay()
    }

    /// Binds to a local address (port 0 picks one): a client that must send from a
    /// given address or port binds before [`TcpSocket::connect`].
    ///
    /// # Errors
    /// `AddrInUse` if another socket holds it (without `SO_REUSEPORT` on both);
    /// otherwise as `bind`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// socket.bind("127.0.0.1:0".parse().unwrap())?;
    /// assert_ne!(socket.local_addr()?.port(), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.bind(&addr.into())
    }

    /// The address it is bound to.
    ///
    /// # Errors
    /// As `getsockname`.
    ///
    /// ```
    /// let socket = turnstile::net::TcpSocket::new_v4()?;
    /// assert!(socket.local_addr()?.ip().is_unspecified()); // not bound yet
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket address"))
    }

    /// Connects to `addr` and gives the [`TcpStream`], registered with the current
    /// runtime. The connect goes back to the loop until it completes.
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
    ///     let socket = turnstile::net::TcpSocket::new_v4()?;
    ///     let stream = socket.connect(listener.local_addr()?).await?;
    ///     assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        match self.inner.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let std: std::net::TcpStream = self.inner.into();
        TcpStream::connect_mio(mio::net::TcpStream::from_std(std)).await
    }

    /// Listens for connections, with a backlog of `backlog` completed connections not
    /// yet accepted, and gives the [`TcpListener`], registered with the current
    /// runtime. Bind first.
    ///
    /// # Errors
    /// As `listen`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::TcpSocket::new_v4()?;
    ///     socket.bind("127.0.0.1:0".parse().unwrap())?;
    ///     let listener = socket.listen(1024)?;
    ///     assert_ne!(listener.local_addr()?.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        self.inner
            .listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        let std: std::net::TcpListener = self.inner.into();
        TcpListener::from_mio(mio::net::TcpListener::from_std(std))
    }

    /// Takes over a std stream's socket, to set options on it before handing it to
    /// [`TcpStream::from_std`] (tokio's `TcpSocket::from_std_stream`).
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr()?)?;
    /// let socket = turnstile::net::TcpSocket::from_std_stream(std_stream);
    /// assert!(socket.local_addr()?.ip().is_loopback());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_std_stream(stream: std::net::TcpStream) -> TcpSocket {
        TcpSocket {
            inner: Socket::from(stream),
        }
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
