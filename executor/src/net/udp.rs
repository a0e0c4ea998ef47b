//! `UdpSocket`: datagrams on the reactor.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::task::{Context, Poll};

use turnstile_reactor::Direction;

use super::io::{fd_impls, socket_methods, try_from_std};
use super::source::{IoSource, Op, Peeked};

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
        let io = IoSource::new(
            socket,
            mio::Interest::READABLE | mio::Interest::WRITABLE,
            "UdpSocket",
        )?;
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
                Ok(()) => {
                    self.io.probe().forget(); // its waits are named after the peer now
                    return Ok(());
                }
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
        self.io.send_to(buf, &target).await
    }

    /// Gives the socket back as a std socket (still non-blocking), deregistered from
    /// the runtime; its bound address stays. Call it inside the runtime it belongs to.
    ///
    /// # Errors
    /// If the descriptor cannot be duplicated (out of descriptors).
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// let (std_socket, addr) = rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let addr = socket.local_addr()?;
    ///     Ok::<_, std::io::Error>((socket.into_std()?, addr))
    /// })?;
    /// assert_eq!(std_socket.local_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_owned_fd()?.into())
    }

    /// Sends one datagram to `target` without waiting.
    ///
    /// # Errors
    /// `WouldBlock` when the send buffer is full; otherwise as `sendto`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert_eq!(a.try_send_to(b"hi", a.local_addr()?)?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io.try_send_to(buf, &target)
    }

    /// Receives the next datagram without taking it off the queue: the next receive
    /// returns it again. Counted as a peek.
    ///
    /// # Errors
    /// As `recvfrom(MSG_PEEK)`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"hi", a.local_addr()?).await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(a.peek_from(&mut buf).await?, (2, a.local_addr()?));
    ///     assert_eq!(a.recv_from(&mut buf).await?, (2, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            self.io.poll_io(cx, Direction::Read, Op::Peek, |s| {
                s.peek_from(buf).map(Peeked)
            })
        })
        .await
        .map(|Peeked(r)| r)
    }

    /// [`peek_from`](Self::peek_from) without waiting.
    ///
    /// # Errors
    /// `WouldBlock` when no datagram is waiting; otherwise as `recvfrom(MSG_PEEK)`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let mut buf = [0; 8];
    ///     let err = a.try_peek_from(&mut buf).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     a.send_to(b"hi", a.local_addr()?).await?;
    ///     a.readable().await?;
    ///     assert_eq!(a.try_peek_from(&mut buf)?, (2, a.local_addr()?));
    ///     assert_eq!(a.try_recv_from(&mut buf)?, (2, a.local_addr()?)); // still there
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, Op::Peek, |s| s.peek_from(buf).map(Peeked))
            .map(|Peeked(r)| r)
    }

    /// The sender of the next datagram, which stays queued: waits for one as
    /// [`peek_from`](Self::peek_from) does, without copying any of it (so it sees the
    /// whole datagram's sender, however long it is). Counted as a peek.
    ///
    /// # Errors
    /// As `recvfrom(MSG_PEEK)`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.send_to(b"hi", b.local_addr()?).await?;
    ///     assert_eq!(b.peek_sender().await?, a.local_addr()?);
    ///     assert_eq!(b.recv_from(&mut [0; 8]).await?, (2, a.local_addr()?));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        poll_fn(|cx| {
            self.io.poll_io(cx, Direction::Read, Op::Peek, |s| {
                peek_sender(s).map(Peeked)
            })
        })
        .await
        .map(|Peeked(r)| r)
    }

    /// [`peek_sender`](Self::peek_sender) without waiting.
    ///
    /// # Errors
    /// `WouldBlock` when no datagram is waiting; otherwise as `recvfrom(MSG_PEEK)`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let err = a.try_peek_sender().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io
            .try_io(Direction::Read, Op::Peek, |s| peek_sender(s).map(Peeked))
            .map(|Peeked(r)| r)
    }

    /// Polls to send one datagram to `target`.
    ///
    /// # Errors
    /// As [`UdpSocket::send_to`].
    ///
    /// ```
    /// use std::future::poll_fn;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     let to = a.local_addr()?;
    ///     assert_eq!(poll_fn(|cx| a.poll_send_to(cx, b"hi", to)).await?, 2);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_send_to(cx, buf, &target)
    }

    /// Sets `SO_BROADCAST`: whether it may send to a broadcast address.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_broadcast(true)?;
    ///     assert!(a.broadcast()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get().set_broadcast(on)
    }

    /// The `SO_BROADCAST` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(!a.broadcast()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get().broadcast()
    }

    /// Sets `IP_TTL`, the time-to-live of the datagrams it sends.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.set_ttl(7)?;
    ///     assert_eq!(a.ttl()?, 7);
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
    ///     let a = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     assert!(a.ttl()? > 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get().ttl()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with address
    /// `interface` (`Ipv4Addr::UNSPECIFIED` lets the system choose).
    ///
    /// # Errors
    /// As `setsockopt(IP_ADD_MEMBERSHIP)`: `InvalidInput` for an address that is not
    /// multicast.
    ///
    /// ```no_run
    /// use std::net::Ipv4Addr;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     a.join_multicast_v4(Ipv4Addr::new(239, 1, 2, 3), Ipv4Addr::UNSPECIFIED)?;
    ///     a.leave_multicast_v4(Ipv4Addr::new(239, 1, 2, 3), Ipv4Addr::UNSPECIFIED)?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get().join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group joined with [`UdpSocket::join_multicast_v4`].
    ///
    /// # Errors
    /// As `setsockopt(IP_DROP_MEMBERSHIP)`: `AddrNotAvailable` for a group not joined.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     assert!(a.leave_multicast_v4(Ipv4Addr::new(239, 1, 2, 3), Ipv4Addr::UNSPECIFIED).is_err());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Sets `IP_MULTICAST_LOOP`: whether multicast datagrams it sends come back to this
    /// host's own members of the group.
    ///
    /// # Errors
    /// As `setsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     a.set_multicast_loop_v4(false)?;
    ///     assert!(!a.multicast_loop_v4()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get().set_multicast_loop_v4(on)
    }

    /// The `IP_MULTICAST_LOOP` setting.
    ///
    /// # Errors
    /// As `getsockopt`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let a = turnstile::net::UdpSocket::bind("0.0.0.0:0").await?;
    ///     assert!(a.multicast_loop_v4()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get().multicast_loop_v4()
    }
}

// Readiness, `send`/`recv` and their `try_*` and `poll_*` forms, with the docs all
// datagram sockets share: `a` and `b` in the examples are connected to each other.
socket_methods!(UdpSocket: datagram("udp", SocketAddr, concat!(
    "    let a = turnstile::net::UdpSocket::bind(\"127.0.0.1:0\").await?;\n",
    "    let b = turnstile::net::UdpSocket::bind(\"127.0.0.1:0\").await?;\n",
    "    a.connect(b.local_addr()?).await?;\n",
    "    b.connect(a.local_addr()?).await?;",
)));

socket_methods! {
    UdpSocket {
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
        fn local_addr(SocketAddr);
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
        fn peer_addr(SocketAddr);
    }
}

/// The next datagram's sender, through socket2 (`recvfrom(MSG_PEEK)` into no buffer).
fn peek_sender(socket: &mio::net::UdpSocket) -> io::Result<SocketAddr> {
    socket2::SockRef::from(socket)
        .peek_sender()?
        .as_socket()
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the sender is not an IP address",
            )
        })
}

fn no_address() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any address",
    )
}

try_from_std!(std::net::UdpSocket => UdpSocket);

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

fd_impls!(UdpSocket);

impl UdpSocket {
    /// Names this socket in the probes: the await sites of its waits carry `name` after
    /// its peer's address ("udp recv from 10.0.0.53:53 (dns)" once connected), so that waits for one service read apart
    /// from waits for another in the sites table and the async stacks. A
    /// socket without a name is known by its peer alone. tokio has no such method;
    /// nothing but the probes reads the name.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.set_probe_name("dns");
    ///     assert_eq!(socket.probe_name().as_deref(), Some("dns"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_probe_name(&self, name: impl Into<String>) {
        self.io.probe().set_name(Some(name.into().into()));
    }

    /// The name given with [`set_probe_name`](UdpSocket::set_probe_name), if any.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0").await?;
    ///     socket.set_probe_name("dns");
    ///     assert_eq!(socket.probe_name().as_deref(), Some("dns"));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn probe_name(&self) -> Option<String> {
        self.io.probe().name().map(String::from)
    }
}
