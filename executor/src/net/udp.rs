//! `UdpSocket`: datagrams on the reactor.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use mio::Interest;
use turnstile_reactor::Direction;

use super::source::{IoSource, Op};

/// A UDP socket, registered with the runtime it was created in.
///
/// Every method takes `&self`, so one task can receive while another sends (the
/// reactor keeps a reader and a writer waker per socket). A datagram already waiting
/// is received without a yield (`udp_recvs_inline`).
///
/// ```
/// use turnstile::net::UdpSocket;
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    io: IoSource<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// A socket bound to `addr` (the first address it resolves to that binds). Port 0
    /// picks a free port.
    ///
    /// # Errors
    /// As `bind`.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_ne!(socket.local_addr()?.port(), 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match mio::net::UdpSocket::bind(addr) {
                Ok(socket) => return UdpSocket::from_mio(socket),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        let io = IoSource::new(socket, Interest::READABLE | Interest::WRITABLE, "UdpSocket")?;
        Ok(UdpSocket { io })
    }

    /// Takes over a bound std socket (made non-blocking here).
    ///
    /// # Errors
    /// If the socket cannot be made non-blocking or registered.
    ///
    /// # Panics
    /// Outside a runtime.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::from_std(std_socket)?;
    ///     assert!(socket.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    /// The address it is bound to.
    ///
    /// # Errors
    /// As `getsockname`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The address it is connected to.
    ///
    /// # Errors
    /// `NotConnected` before [`UdpSocket::connect`].
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(socket.peer_addr().is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Sets the default peer, for [`UdpSocket::send`] and [`UdpSocket::recv`]; datagrams
    /// from other addresses are dropped by the kernel. Uses the first address `addr`
    /// resolves to that connects.
    ///
    /// # Errors
    /// As `connect`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for addr in addr.to_socket_addrs()? {
            match self.io.get().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_address))
    }

    /// Sends one datagram to `target` (its first resolved address); returns the bytes
    /// sent.
    ///
    /// # Errors
    /// As `sendto`: `InvalidInput` for a target that resolves to nothing, say.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.send_to(b"hi", b.local_addr()?).await?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = target.to_socket_addrs()?.next().ok_or_else(no_address)?;
        poll_fn(|cx| {
            self.io.poll_io(cx, Direction::Write, Op::UdpSend, |s| {
                s.send_to(buf, target)
            })
        })
        .await
    }

    /// Receives one datagram into `buf`; returns its length and sender. A datagram
    /// longer than `buf` is cut to fit.
    ///
    /// # Errors
    /// As `recvfrom`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv_from(&mut buf).await?, (2, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Read, Op::UdpRecv, |s| s.recv_from(buf))
        })
        .await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    /// `NotConnected` before [`UdpSocket::connect`]; `ConnectionRefused` if an earlier
    /// datagram found no listener there.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     assert_eq!(a.send(b"hi").await?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, Op::UdpSend, |s| s.send(buf))
        })
        .await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    /// As `recv`; `ConnectionRefused` if an earlier datagram found no listener.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Read, Op::UdpRecv, |s| s.recv(buf))
        })
        .await
    }
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}
