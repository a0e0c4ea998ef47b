//! What the socket kinds share, written once: the stream and datagram operations as
//! generic methods of [`IoSource`], and [`socket_methods!`], which gives each public
//! socket type its readiness and `try_*` methods from them.
//!
//! A public method is one line over a generic one, so its doc comment (with its
//! example, a doctest of that type) is the only part written per type: the invocation
//! passes the docs in, and the macro adds the signature and the body. The readiness
//! waits capture `Location::caller()` in the public method itself, so their await site
//! is the user's line, however deep the generic layer goes.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::panic::Location;
use std::path::Path;
use std::task::{Context, Poll};

use mio::event::Source;
use turnstile_reactor::Direction;

use super::ready::Interest;
use super::source::{IoSource, Moved, Op, Peeked};

/// A connected stream socket (TCP or Unix): its system calls and how they are counted.
pub(crate) trait StreamSocket: Source {
    /// A read into a buffer of `asked` bytes, for the counters.
    fn read_op(asked: usize) -> Op;
    /// A write, for the counters.
    const WRITE: Op;
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
    fn write(&self, buf: &[u8]) -> io::Result<usize>;
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

macro_rules! stream_socket {
    ($socket:ty, $read:ident, $write:ident) => {
        impl StreamSocket for $socket {
            #[inline(always)]
            fn read_op(asked: usize) -> Op {
                Op::$read(asked)
            }
            const WRITE: Op = Op::$write;
            #[inline(always)]
            fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
                Read::read(&mut &*self, buf)
            }
            #[inline(always)]
            fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                Read::read_vectored(&mut &*self, bufs)
            }
            #[inline(always)]
            fn write(&self, buf: &[u8]) -> io::Result<usize> {
                Write::write(&mut &*self, buf)
            }
            #[inline(always)]
            fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                Write::write_vectored(&mut &*self, bufs)
            }
            fn shutdown(&self, how: Shutdown) -> io::Result<()> {
                <$socket>::shutdown(self, how)
            }
        }
    };
}

stream_socket!(mio::net::TcpStream, TcpRead, TcpWrite);
stream_socket!(mio::net::UnixStream, UnixRead, UnixWrite);

/// A datagram socket (UDP or Unix): its system calls and how they are counted.
pub(crate) trait DatagramSocket: Source {
    /// The address type of a sender.
    type Addr;
    /// Where `send_to` sends.
    type Target: ?Sized;
    const SEND: Op;
    const RECV: Op;
    fn send(&self, buf: &[u8]) -> io::Result<usize>;
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn send_to(&self, buf: &[u8], target: &Self::Target) -> io::Result<usize>;
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)>;
}

impl DatagramSocket for mio::net::UdpSocket {
    type Addr = std::net::SocketAddr;
    type Target = std::net::SocketAddr;
    const SEND: Op = Op::UdpSend;
    const RECV: Op = Op::UdpRecv;
    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        mio::net::UdpSocket::send(self, buf)
    }
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        mio::net::UdpSocket::recv(self, buf)
    }
    fn send_to(&self, buf: &[u8], target: &Self::Target) -> io::Result<usize> {
        mio::net::UdpSocket::send_to(self, buf, *target)
    }
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        mio::net::UdpSocket::recv_from(self, buf)
    }
}

impl DatagramSocket for mio::net::UnixDatagram {
    type Addr = std::os::unix::net::SocketAddr;
    type Target = Path;
    const SEND: Op = Op::UnixSend;
    const RECV: Op = Op::UnixRecv;
    fn send(&self, buf: &[u8]) -> io::Result<usize> {
        mio::net::UnixDatagram::send(self, buf)
    }
    fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        mio::net::UnixDatagram::recv(self, buf)
    }
    fn send_to(&self, buf: &[u8], target: &Path) -> io::Result<usize> {
        mio::net::UnixDatagram::send_to(self, buf, target)
    }
    fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, Self::Addr)> {
        mio::net::UnixDatagram::recv_from(self, buf)
    }
}

/// Readiness waits, on every socket kind.
impl<S: Source> IoSource<S> {
    /// `readable()`: a readiness wait for reading, with its await site at `at`.
    pub(crate) fn readable(
        &self,
        at: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<()>> + '_ {
        let wait = self.ready(Interest::READABLE, at);
        async move { wait.await.map(drop) }
    }

    /// `writable()`: a readiness wait for writing, with its await site at `at`.
    pub(crate) fn writable(
        &self,
        at: &'static Location<'static>,
    ) -> impl Future<Output = io::Result<()>> + '_ {
        let wait = self.ready(Interest::WRITABLE, at);
        async move { wait.await.map(drop) }
    }

    /// An operation on one side that may wait, as a future (the `.await`ed `send`,
    /// `recv`, `peek`, ...).
    async fn wait_io<R: Moved>(
        &self,
        dir: Direction,
        kind: Op,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(cx, dir, kind, &mut op)).await
    }
}

/// The stream operations, for TCP and Unix streams and their halves.
impl<S: StreamSocket> IoSource<S> {
    #[inline]
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let asked = buf.len();
        self.poll_io(cx, Direction::Read, S::read_op(asked), |s| s.read(buf))
    }

    #[inline]
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, S::WRITE, |s| s.write(buf))
    }

    #[inline]
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, S::WRITE, |s| s.write_vectored(bufs))
    }

    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let asked = buf.len();
        self.try_io(Direction::Read, S::read_op(asked), |s| s.read(buf))
    }

    pub(crate) fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let asked = bufs.iter().map(|b| b.len()).sum();
        self.try_io(Direction::Read, S::read_op(asked), |s| {
            s.read_vectored(bufs)
        })
    }

    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Direction::Write, S::WRITE, |s| s.write(buf))
    }

    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.try_io(Direction::Write, S::WRITE, |s| s.write_vectored(bufs))
    }

    /// Closing the write side: FIN to the peer. A connection already gone counts as
    /// closed.
    pub(crate) fn close_write(&self) -> io::Result<()> {
        match self.get().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }
}

/// `peek`: TCP's only (std's `UnixStream::peek` is unstable, and mio has none).
impl IoSource<mio::net::TcpStream> {
    pub(crate) async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.wait_io(Direction::Read, Op::Peek, |s| s.peek(buf).map(Peeked))
            .await
            .map(|Peeked(n)| n)
    }
}

/// The datagram operations, for UDP and Unix datagram sockets.
impl<S: DatagramSocket> IoSource<S> {
    pub(crate) fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, S::SEND, |s| s.send(buf))
    }

    pub(crate) fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Read, S::RECV, |s| s.recv(buf))
    }

    pub(crate) fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: &S::Target,
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, S::SEND, |s| s.send_to(buf, target))
    }

    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, S::Addr)>> {
        self.poll_io(cx, Direction::Read, S::RECV, |s| s.recv_from(buf))
    }

    pub(crate) async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.wait_io(Direction::Write, S::SEND, |s| s.send(buf))
            .await
    }

    pub(crate) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.wait_io(Direction::Read, S::RECV, |s| s.recv(buf))
            .await
    }

    pub(crate) async fn send_to(&self, buf: &[u8], target: &S::Target) -> io::Result<usize> {
        self.wait_io(Direction::Write, S::SEND, |s| s.send_to(buf, target))
            .await
    }

    pub(crate) async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, S::Addr)> {
        self.wait_io(Direction::Read, S::RECV, |s| s.recv_from(buf))
            .await
    }

    pub(crate) fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Direction::Write, S::SEND, |s| s.send(buf))
    }

    pub(crate) fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io(Direction::Read, S::RECV, |s| s.recv(buf))
    }

    pub(crate) fn try_send_to(&self, buf: &[u8], target: &S::Target) -> io::Result<usize> {
        self.try_io(Direction::Write, S::SEND, |s| s.send_to(buf, target))
    }

    pub(crate) fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, S::Addr)> {
        self.try_io(Direction::Read, S::RECV, |s| s.recv_from(buf))
    }
}

/// Gives a public socket type (with its registered source in a field `io`) the
/// methods named in the invocation, each with the doc comment written before its name:
///
/// ```text
/// socket_methods! {
///     TcpStream {
///         /// Waits until ... (with an example)
///         fn readable;
///         /// The address of the peer ...
///         fn peer_addr(SocketAddr);
///     }
/// }
/// ```
///
/// A name in parentheses is the address type of the methods that return one.
macro_rules! socket_methods {
    ($ty:ty { $( $(#[$doc:meta])* fn $name:ident $(($addr:ty))?; )* }) => {
        impl $ty {
            $( $crate::net::io::socket_methods!(@ $name [$(#[$doc])*] $($addr)?); )*
        }
    };

    // Readiness, on every socket.
    (@ readable [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn readable(&self) -> impl ::std::future::Future<Output = ::std::io::Result<()>> + '_ {
            self.io.readable(::std::panic::Location::caller())
        }
    };
    (@ writable [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn writable(&self) -> impl ::std::future::Future<Output = ::std::io::Result<()>> + '_ {
            self.io.writable(::std::panic::Location::caller())
        }
    };
    (@ ready [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn ready(
            &self,
            interest: $crate::net::Interest,
        ) -> impl ::std::future::Future<Output = ::std::io::Result<$crate::net::Ready>> + '_ {
            self.io.ready(interest, ::std::panic::Location::caller())
        }
    };

    // Addresses.
    (@ local_addr [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub fn local_addr(&self) -> ::std::io::Result<$addr> {
            self.io.get().local_addr()
        }
    };
    (@ peer_addr [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub fn peer_addr(&self) -> ::std::io::Result<$addr> {
            self.io.get().peer_addr()
        }
    };

    // Streams.
    (@ try_read [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_read(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.io.try_read(buf)
        }
    };
    (@ try_read_vectored [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_read_vectored(
            &self,
            bufs: &mut [::std::io::IoSliceMut<'_>],
        ) -> ::std::io::Result<usize> {
            self.io.try_read_vectored(bufs)
        }
    };
    (@ try_write [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_write(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.io.try_write(buf)
        }
    };
    (@ try_write_vectored [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_write_vectored(&self, bufs: &[::std::io::IoSlice<'_>]) -> ::std::io::Result<usize> {
            self.io.try_write_vectored(bufs)
        }
    };
    (@ peek [$($doc:tt)*]) => {
        $($doc)*
        pub async fn peek(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.io.peek(buf).await
        }
    };
    (@ shutdown [$($doc:tt)*]) => {
        $($doc)*
        pub fn shutdown(&self, how: ::std::net::Shutdown) -> ::std::io::Result<()> {
            self.io.get().shutdown(how)
        }
    };

    // Datagrams.
    (@ send [$($doc:tt)*]) => {
        $($doc)*
        pub async fn send(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.io.send(buf).await
        }
    };
    (@ recv [$($doc:tt)*]) => {
        $($doc)*
        pub async fn recv(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.io.recv(buf).await
        }
    };
    (@ recv_from [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub async fn recv_from(&self, buf: &mut [u8]) -> ::std::io::Result<(usize, $addr)> {
            self.io.recv_from(buf).await
        }
    };
    (@ try_send [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_send(&self, buf: &[u8]) -> ::std::io::Result<usize> {
            self.io.try_send(buf)
        }
    };
    (@ try_recv [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_recv(&self, buf: &mut [u8]) -> ::std::io::Result<usize> {
            self.io.try_recv(buf)
        }
    };
    (@ try_recv_from [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub fn try_recv_from(&self, buf: &mut [u8]) -> ::std::io::Result<(usize, $addr)> {
            self.io.try_recv_from(buf)
        }
    };
    (@ poll_send [$($doc:tt)*]) => {
        $($doc)*
        pub fn poll_send(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &[u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.io.poll_send(cx, buf)
        }
    };
    (@ poll_recv [$($doc:tt)*]) => {
        $($doc)*
        pub fn poll_recv(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [u8],
        ) -> ::std::task::Poll<::std::io::Result<usize>> {
            self.io.poll_recv(cx, buf)
        }
    };
    (@ poll_recv_from [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub fn poll_recv_from(
            &self,
            cx: &mut ::std::task::Context<'_>,
            buf: &mut [u8],
        ) -> ::std::task::Poll<::std::io::Result<(usize, $addr)>> {
            self.io.poll_recv_from(cx, buf)
        }
    };
}

pub(crate) use socket_methods;
