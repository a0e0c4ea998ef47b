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

use bytes::BufMut;
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
    /// Finishing a connect (not counted).
    const CONNECT: Op;
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    fn read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
    fn write(&self, buf: &[u8]) -> io::Result<usize>;
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// `SO_ERROR`: a connect's failure, say.
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// Whether the socket has a peer (`getpeername`).
    fn has_peer(&self) -> io::Result<()>;
}

macro_rules! stream_socket {
    ($socket:ty, $read:ident, $write:ident, $connect:ident) => {
        impl StreamSocket for $socket {
            #[inline(always)]
            fn read_op(asked: usize) -> Op {
                Op::$read(asked)
            }
            const WRITE: Op = Op::$write;
            const CONNECT: Op = Op::$connect;
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
            fn take_error(&self) -> io::Result<Option<io::Error>> {
                <$socket>::take_error(self)
            }
            fn has_peer(&self) -> io::Result<()> {
                <$socket>::peer_addr(self).map(drop)
            }
        }
    };
}

stream_socket!(mio::net::TcpStream, TcpRead, TcpWrite, TcpConnect);
stream_socket!(mio::net::UnixStream, UnixRead, UnixWrite, UnixConnect);

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
        if super::unix_addr::abstract_name(target).is_some() {
            let to = super::unix_addr::sock_addr(target)?;
            return socket2::SockRef::from(self).send_to(buf, &to);
        }
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

    /// `poll_read_ready` / `poll_recv_ready` (`dir` Read) and `poll_write_ready` /
    /// `poll_send_ready` (Write): a readiness wait without a future, its site at `at`.
    pub(crate) fn poll_side_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        at: &'static Location<'static>,
    ) -> Poll<io::Result<()>> {
        let interest = match dir {
            Direction::Read => Interest::READABLE,
            Direction::Write => Interest::WRITABLE,
        };
        self.poll_ready_once(cx, interest, at).map_ok(drop)
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

/// The spare capacity of `buf` (its `chunk_mut`, which grows a full `Vec`), zeroed, as
/// the `&mut [u8]` a read fills: the OS is handed initialized memory only, so no
/// uninitialized byte is ever seen as a `u8`. The zeroing is a `memset` of the chunk,
/// done only once the reactor says the side may be ready.
fn spare<B: BufMut + ?Sized>(buf: &mut B) -> &mut [u8] {
    let chunk = buf.chunk_mut();
    let len = chunk.len();
    let ptr = chunk.as_mut_ptr();
    // SAFETY: `ptr` points at the chunk's `len` writable bytes, which stay borrowed
    // from `buf` for as long as the returned slice lives; they are all written (zeroed)
    // before the slice is made, so every byte it covers is initialized.
    unsafe {
        std::ptr::write_bytes(ptr, 0, len);
        std::slice::from_raw_parts_mut(ptr, len)
    }
}

/// Advances `buf` over the `n` bytes a read put at the start of its [`spare`] chunk.
fn filled<B: BufMut + ?Sized>(buf: &mut B, n: usize) {
    // SAFETY: `spare` zeroed the whole chunk and the read wrote its first `n` bytes (a
    // read returns at most the length it was given): they are initialized.
    unsafe { buf.advance_mut(n) }
}

/// The stream operations, for TCP and Unix streams and their halves.
impl<S: StreamSocket> IoSource<S> {
    /// Waits for a non-blocking connect to finish: it has when the socket turns
    /// writable, connected if it has a peer, refused (or failed) if it holds an error.
    /// Until then the socket has no peer yet, which counts as "would block".
    pub(crate) async fn finish_connect(&self) -> io::Result<()> {
        self.wait_io(Direction::Write, S::CONNECT, |s| {
            if let Some(e) = s.take_error()? {
                return Err(e);
            }
            match s.has_peer() {
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                other => other,
            }
        })
        .await
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

    pub(crate) fn try_read_buf<B: BufMut + ?Sized>(&self, buf: &mut B) -> io::Result<usize> {
        let asked = buf.chunk_mut().len();
        let n = self.try_io(Direction::Read, S::read_op(asked), |s| s.read(spare(buf)))?;
        filled(buf, n);
        Ok(n)
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

    pub(crate) async fn recv_buf<B: BufMut + ?Sized>(&self, buf: &mut B) -> io::Result<usize> {
        let n = self
            .wait_io(Direction::Read, S::RECV, |s| s.recv(spare(buf)))
            .await?;
        filled(buf, n);
        Ok(n)
    }

    pub(crate) fn try_recv_buf<B: BufMut + ?Sized>(&self, buf: &mut B) -> io::Result<usize> {
        let n = self.try_io(Direction::Read, S::RECV, |s| s.recv(spare(buf)))?;
        filled(buf, n);
        Ok(n)
    }

    pub(crate) async fn recv_buf_from<B: BufMut + ?Sized>(
        &self,
        buf: &mut B,
    ) -> io::Result<(usize, S::Addr)> {
        let (n, from) = self
            .wait_io(Direction::Read, S::RECV, |s| s.recv_from(spare(buf)))
            .await?;
        filled(buf, n);
        Ok((n, from))
    }

    pub(crate) fn try_recv_buf_from<B: BufMut + ?Sized>(
        &self,
        buf: &mut B,
    ) -> io::Result<(usize, S::Addr)> {
        let (n, from) = self.try_io(Direction::Read, S::RECV, |s| s.recv_from(spare(buf)))?;
        filled(buf, n);
        Ok((n, from))
    }
}

/// Gives a public socket type (with its registered source in a field `io`) its
/// readiness, `try_*` and other shared methods, in one of two forms:
///
/// ```text
/// // A group, with the docs written here once; `$setup` opens each doc example and
/// // binds a connected pair `a` and `b` of the type (or of its halves).
/// // The stream group gives the stream's halves theirs too (`b` is then a read half,
/// // `a` a write half).
/// socket_methods!(TcpStream, OwnedReadHalf, OwnedWriteHalf: stream("tcp", "    let (a, b) = ...;"));
/// socket_methods!(UdpSocket: datagram("udp", SocketAddr, "..."));
///
/// // Single methods, each with the doc comment written before its name; a type in
/// // parentheses is the address type of a method that returns one.
/// socket_methods! {
///     TcpStream {
///         /// The address of the peer ... (with an example)
///         fn peer_addr(SocketAddr);
///     }
/// }
/// ```
macro_rules! socket_methods {
    ($ty:ty { $( $(#[$doc:meta])* fn $name:ident $(($addr:ty))?; )* }) => {
        impl $ty {
            $( $crate::net::io::socket_methods!(@ $name [$(#[$doc])*] $($addr)?); )*
        }
    };

    // The groups.
    ($ty:ty, $read:ty, $write:ty: stream($kind:literal, $setup:expr)) => {
        impl $ty {
            $crate::net::io::socket_methods!(@doc_stream_readable $setup);
            $crate::net::io::socket_methods!(@doc_stream_writable $setup);
            $crate::net::io::socket_methods!(@doc_stream_ready $setup);
            $crate::net::io::socket_methods!(@doc_poll_read_ready $setup);
            $crate::net::io::socket_methods!(@doc_poll_write_ready $setup);
            $crate::net::io::socket_methods!(@doc_try_read $kind $setup);
            $crate::net::io::socket_methods!(@doc_try_read_buf $kind $setup);
            $crate::net::io::socket_methods!(@doc_try_read_vectored $setup);
            $crate::net::io::socket_methods!(@doc_try_write $kind $setup);
            $crate::net::io::socket_methods!(@doc_try_write_vectored $setup);
        }
        $crate::net::io::socket_methods!(@read_half $read, $kind,
            concat!($setup, "\n    let (b, _b_write) = b.into_split();"));
        $crate::net::io::socket_methods!(@write_half $write, $kind,
            concat!($setup, "\n    let (_a_read, a) = a.into_split();"));
    };
    (@read_half $ty:ty, $kind:literal, $setup:expr) => {
        impl $ty {
            $crate::net::io::socket_methods!(@doc_stream_readable $setup);
            $crate::net::io::socket_methods!(@doc_try_read $kind $setup);
            $crate::net::io::socket_methods!(@doc_try_read_buf $kind $setup);
            $crate::net::io::socket_methods!(@doc_try_read_vectored $setup);
        }
    };
    (@write_half $ty:ty, $kind:literal, $setup:expr) => {
        impl $ty {
            $crate::net::io::socket_methods!(@doc_stream_writable $setup);
            $crate::net::io::socket_methods!(@doc_try_write $kind $setup);
            $crate::net::io::socket_methods!(@doc_try_write_vectored $setup);
        }
    };
    ($ty:ty: datagram($kind:literal, $addr:ty, $setup:expr)) => {
        impl $ty {
            $crate::net::io::socket_methods!(@datagram_docs $kind $addr, $setup);
        }
    };

    // A method with its docs: `prose` (lines), then an example of `body` (lines) after
    // the group's `setup`.
    (@with_example $name:ident $setup:expr,
        [$($prose:expr),* $(,)?] [$($body:literal),* $(,)?] $($addr:ty)?) => {
        $crate::net::io::socket_methods!(@ $name [
            $(#[doc = $prose])*
            #[doc = ""]
            #[doc = "```"]
            #[doc = "let rt = turnstile::Runtime::new()?;"]
            #[doc = "rt.block_on(async {"]
            #[doc = $setup]
            $(#[doc = $body])*
            #[doc = "    Ok::<(), std::io::Error>(())"]
            #[doc = "})?;"]
            #[doc = "# Ok::<(), std::io::Error>(())"]
            #[doc = "```"]
        ] $($addr)?);
    };

    // The streams' docs.
    (@doc_stream_readable $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example readable $setup, [
            "Waits until the stream may be read: then [`try_read`](Self::try_read) is worth",
            "a try (readiness may be stale: the try can still say `WouldBlock`, and the loop",
            "goes round). Found ready at once it completes without a yield (`ready_inline`);",
            "otherwise it goes back to the loop until the reactor reports data",
            "(`ready_waited`). Its await site is the line that calls it.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    a.try_write(b\"hello\")?;",
            "    let mut buf = [0; 16];",
            "    let n = loop {",
            "        b.readable().await?;",
            "        match b.try_read(&mut buf) {",
            "            Ok(n) => break n,",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            Err(e) => return Err(e),",
            "        }",
            "    };",
            "    assert_eq!(&buf[..n], b\"hello\");",
        ]);
    };
    (@doc_stream_writable $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example writable $setup, [
            "Waits until the stream may be written: then [`try_write`](Self::try_write) is",
            "worth a try. Counted as a read's readiness is (`ready_inline`, `ready_waited`),",
            "with its await site at the line that calls it.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    a.writable().await?;",
            "    assert_eq!(a.try_write(b\"hi\")?, 2);",
        ]);
    };
    (@doc_stream_ready $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example ready $setup, [
            "Waits until any of `interest` is ready, and says which: one task can serve both",
            "directions of a connection with `try_read` and `try_write`.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    use turnstile::net::Interest;",
            "    let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;",
            "    assert!(ready.is_writable());",
        ]);
    };
    (@doc_try_read $kind:literal $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example try_read $setup, [
            "Reads what is there now, without waiting: `WouldBlock` if nothing is (then",
            "[`readable`](Self::readable) waits for more); `Ok(0)` at EOF. Counted as a read",
            concat!("(`", $kind, "_reads_inline`, `", $kind, "_bytes_read`)."),
            "",
            "# Errors",
            "`WouldBlock` when there is no data yet; any read error as is.",
        ] [
            "    let mut buf = [0; 8];",
            "    let empty = b.try_read(&mut buf).unwrap_err();",
            "    assert_eq!(empty.kind(), std::io::ErrorKind::WouldBlock);",
            "    a.try_write(b\"hi\")?;",
            "    b.readable().await?;",
            "    assert_eq!(b.try_read(&mut buf)?, 2);",
        ]);
    };
    (@doc_poll_read_ready $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example poll_read_ready $setup, [
            "Polls for read readiness: [`readable`](Self::readable) without a future, for",
            "hand-written futures and `poll_fn`. `Ready(Ok(()))` when the stream may be read",
            "(then [`try_read`](Self::try_read); readiness may be stale), else `Pending`",
            "with the waker in `cx` stored, woken when the reactor reports data. Only the",
            "waker of the latest call is sure to be woken, as in tokio. Counted as a",
            "readiness wait (`ready_inline`, `ready_waited`); its await site is the line",
            "that calls it.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    use std::future::poll_fn;",
            "    a.try_write(b\"hi\")?;",
            "    let mut buf = [0; 8];",
            "    let n = loop {",
            "        poll_fn(|cx| b.poll_read_ready(cx)).await?;",
            "        match b.try_read(&mut buf) {",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            other => break other?,",
            "        }",
            "    };",
            "    assert_eq!(&buf[..n], b\"hi\");",
        ]);
    };
    (@doc_poll_write_ready $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example poll_write_ready $setup, [
            "Polls for write readiness: [`writable`](Self::writable) without a future.",
            "`Pending` stores the waker in `cx` (only the latest call's is sure to be",
            "woken). Counted as [`poll_read_ready`](Self::poll_read_ready) is.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    use std::future::poll_fn;",
            "    poll_fn(|cx| a.poll_write_ready(cx)).await?;",
            "    assert_eq!(a.try_write(b\"hi\")?, 2);",
        ]);
    };
    (@doc_try_read_buf $kind:literal $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example try_read_buf $setup, [
            "[`try_read`](Self::try_read) into the spare capacity of a `bytes::BufMut` (a",
            "`Vec<u8>`, a `BytesMut`), which it advances by the bytes read; a full `Vec`",
            "grows first, as `BufMut::chunk_mut` grows it. turnstile zeroes that capacity",
            "before the read (tokio hands the OS the uninitialized bytes). Counted as a",
            concat!("read (`", $kind, "_reads_inline`, `", $kind, "_bytes_read`)."),
            "",
            "# Errors",
            "As [`try_read`](Self::try_read).",
        ] [
            "    a.try_write(b\"hello\")?;",
            "    let mut buf = Vec::with_capacity(16);",
            "    let n = loop {",
            "        b.readable().await?;",
            "        match b.try_read_buf(&mut buf) {",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            other => break other?,",
            "        }",
            "    };",
            "    assert_eq!((n, &buf[..]), (5, &b\"hello\"[..]));",
        ]);
    };
    (@doc_try_read_vectored $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example try_read_vectored $setup, [
            "[`try_read`](Self::try_read) into several buffers, in order (`readv`).",
            "",
            "# Errors",
            "As [`try_read`](Self::try_read).",
        ] [
            "    use std::io::IoSliceMut;",
            "    a.try_write(b\"abcd\")?;",
            "    b.readable().await?;",
            "    let (mut x, mut y) = ([0; 2], [0; 2]);",
            "    let n = b.try_read_vectored(&mut [IoSliceMut::new(&mut x), IoSliceMut::new(&mut y)])?;",
            "    assert_eq!((n, &x, &y), (4, b\"ab\", b\"cd\"));",
        ]);
    };
    (@doc_try_write $kind:literal $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example try_write $setup, [
            "Writes what the socket takes now, without waiting: `WouldBlock` if its send",
            "buffer is full (then [`writable`](Self::writable) waits for room). Counted as a",
            concat!("write (`", $kind, "_writes_inline`, `", $kind, "_bytes_written`)."),
            "",
            "# Errors",
            "`WouldBlock` when the send buffer is full; any write error as is.",
        ] [
            "    assert_eq!(a.try_write(b\"hello\")?, 5);",
        ]);
    };
    (@doc_try_write_vectored $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example try_write_vectored $setup, [
            "[`try_write`](Self::try_write) from several buffers, in order (`writev`).",
            "",
            "# Errors",
            "As [`try_write`](Self::try_write).",
        ] [
            "    use std::io::IoSlice;",
            "    let n = a.try_write_vectored(&[IoSlice::new(b\"ab\"), IoSlice::new(b\"cd\")])?;",
            "    assert_eq!(n, 4);",
        ]);
    };

    // The datagram sockets' docs.
    (@datagram_docs $kind:literal $addr:ty, $setup:expr) => {
        $crate::net::io::socket_methods!(@with_example readable $setup, [
            "Waits until a datagram may be received: then [`try_recv`](Self::try_recv) is",
            "worth a try (readiness may be stale: the try can still say `WouldBlock`). Found",
            "ready at once it completes without a yield (`ready_inline`), else it waits for",
            "the reactor (`ready_waited`). Its await site is the line that calls it.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    a.try_send(b\"hi\")?;",
            "    let mut buf = [0; 8];",
            "    let n = loop {",
            "        b.readable().await?;",
            "        match b.try_recv(&mut buf) {",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            other => break other?,",
            "        }",
            "    };",
            "    assert_eq!(&buf[..n], b\"hi\");",
        ]);
        $crate::net::io::socket_methods!(@with_example writable $setup, [
            "Waits until a datagram may be sent: then [`try_send`](Self::try_send) is worth",
            "a try. Counted as [`readable`](Self::readable) is.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    a.writable().await?;",
            "    assert_eq!(a.try_send(b\"hi\")?, 2);",
        ]);
        $crate::net::io::socket_methods!(@with_example ready $setup, [
            "Waits until any of `interest` is ready, and says which.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    use turnstile::net::Interest;",
            "    assert!(a.ready(Interest::WRITABLE).await?.is_writable());",
        ]);
        $crate::net::io::socket_methods!(@with_example send $setup, [
            "Sends one datagram to the connected peer; returns the bytes sent. Counted as",
            concat!("`", $kind, "_sends_inline` or `", $kind, "_sends_waited`, with `",
                $kind, "_bytes_sent`."),
            "",
            "# Errors",
            "`NotConnected` before `connect`; `ConnectionRefused` if an earlier datagram",
            "found no receiver there; otherwise as `send`.",
        ] [
            "    assert_eq!(a.send(b\"hi\").await?, 2);",
        ]);
        $crate::net::io::socket_methods!(@with_example recv $setup, [
            "Receives one datagram from the connected peer; returns its length. A datagram",
            "longer than `buf` is cut to fit. Counted as",
            concat!("`", $kind, "_recvs_inline` or `", $kind, "_recvs_waited`, with `",
                $kind, "_bytes_received`."),
            "",
            "# Errors",
            "As `recv`; `ConnectionRefused` if an earlier datagram found no receiver.",
        ] [
            "    a.send(b\"hi\").await?;",
            "    let mut buf = [0; 8];",
            "    assert_eq!(b.recv(&mut buf).await?, 2);",
        ]);
        $crate::net::io::socket_methods!(@with_example recv_from $setup, [
            "Receives one datagram; returns its length and sender. A datagram longer than",
            "`buf` is cut to fit.",
            "",
            "# Errors",
            "As `recvfrom`.",
        ] [
            "    a.send(b\"hi\").await?;",
            "    let mut buf = [0; 8];",
            "    let (n, _from) = b.recv_from(&mut buf).await?;",
            "    assert_eq!(&buf[..n], b\"hi\");",
        ] $addr);
        $crate::net::io::socket_methods!(@with_example try_send $setup, [
            "Sends one datagram to the connected peer without waiting.",
            "",
            "# Errors",
            "`WouldBlock` when the send buffer is full; otherwise as [`send`](Self::send).",
        ] [
            "    assert_eq!(a.try_send(b\"hi\")?, 2);",
        ]);
        $crate::net::io::socket_methods!(@with_example try_recv $setup, [
            "Receives one datagram from the connected peer without waiting.",
            "",
            "# Errors",
            "`WouldBlock` when no datagram is waiting; otherwise as [`recv`](Self::recv).",
        ] [
            "    let mut buf = [0; 8];",
            "    let err = b.try_recv(&mut buf).unwrap_err();",
            "    assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);",
        ]);
        $crate::net::io::socket_methods!(@with_example try_recv_from $setup, [
            "Receives one datagram without waiting; returns its length and sender.",
            "",
            "# Errors",
            "`WouldBlock` when no datagram is waiting; otherwise as `recvfrom`.",
        ] [
            "    a.try_send(b\"hi\")?;",
            "    b.readable().await?;",
            "    let mut buf = [0; 8];",
            "    assert_eq!(b.try_recv_from(&mut buf)?.0, 2);",
        ] $addr);
        $crate::net::io::socket_methods!(@with_example poll_recv_ready $setup, [
            "Polls for read readiness: [`readable`](Self::readable) without a future, for",
            "hand-written futures and `poll_fn`. `Pending` stores the waker in `cx` (only the",
            "latest call's is sure to be woken, as in tokio). Counted as a readiness wait",
            "(`ready_inline`, `ready_waited`), its await site at the line that calls it.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    use std::future::poll_fn;",
            "    a.send(b\"hi\").await?;",
            "    let mut buf = [0; 8];",
            "    let n = loop {",
            "        poll_fn(|cx| b.poll_recv_ready(cx)).await?;",
            "        match b.try_recv(&mut buf) {",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            other => break other?,",
            "        }",
            "    };",
            "    assert_eq!(&buf[..n], b\"hi\");",
        ]);
        $crate::net::io::socket_methods!(@with_example poll_send_ready $setup, [
            "Polls for write readiness: [`writable`](Self::writable) without a future.",
            "Counted as [`poll_recv_ready`](Self::poll_recv_ready) is.",
            "",
            "# Errors",
            "None today; `io::Result` as in tokio.",
        ] [
            "    use std::future::poll_fn;",
            "    poll_fn(|cx| a.poll_send_ready(cx)).await?;",
            "    assert_eq!(a.try_send(b\"hi\")?, 2);",
        ]);
        $crate::net::io::socket_methods!(@with_example recv_buf $setup, [
            "[`recv`](Self::recv) into the spare capacity of a `bytes::BufMut` (a `Vec<u8>`,",
            "a `BytesMut`), which it advances by the datagram's length; a datagram longer",
            "than that capacity is cut to fit. The capacity is zeroed before each receive",
            "(tokio hands the OS the uninitialized bytes). Counted as `recv`.",
            "",
            "# Errors",
            "As [`recv`](Self::recv).",
        ] [
            "    a.send(b\"hi\").await?;",
            "    let mut buf = Vec::with_capacity(8);",
            "    assert_eq!(b.recv_buf(&mut buf).await?, 2);",
            "    assert_eq!(buf, b\"hi\");",
        ]);
        $crate::net::io::socket_methods!(@with_example try_recv_buf $setup, [
            "[`recv_buf`](Self::recv_buf) without waiting.",
            "",
            "# Errors",
            "`WouldBlock` when no datagram is waiting; otherwise as [`recv`](Self::recv).",
        ] [
            "    a.send(b\"hi\").await?;",
            "    let mut buf = Vec::with_capacity(8);",
            "    let n = loop {",
            "        b.readable().await?;",
            "        match b.try_recv_buf(&mut buf) {",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            other => break other?,",
            "        }",
            "    };",
            "    assert_eq!((n, &buf[..]), (2, &b\"hi\"[..]));",
        ]);
        $crate::net::io::socket_methods!(@with_example recv_buf_from $setup, [
            "[`recv_buf`](Self::recv_buf), with the sender's address.",
            "",
            "# Errors",
            "As [`recv_from`](Self::recv_from).",
        ] [
            "    a.send(b\"hi\").await?;",
            "    let mut buf = Vec::with_capacity(8);",
            "    let (n, _from) = b.recv_buf_from(&mut buf).await?;",
            "    assert_eq!((n, &buf[..]), (2, &b\"hi\"[..]));",
        ] $addr);
        $crate::net::io::socket_methods!(@with_example try_recv_buf_from $setup, [
            "[`recv_buf_from`](Self::recv_buf_from) without waiting.",
            "",
            "# Errors",
            "`WouldBlock` when no datagram is waiting; otherwise as `recvfrom`.",
        ] [
            "    a.send(b\"hi\").await?;",
            "    let mut buf = Vec::with_capacity(8);",
            "    let (n, _from) = loop {",
            "        b.readable().await?;",
            "        match b.try_recv_buf_from(&mut buf) {",
            "            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,",
            "            other => break other?,",
            "        }",
            "    };",
            "    assert_eq!(&buf[..n], b\"hi\");",
        ] $addr);
        $crate::net::io::socket_methods!(@with_example poll_send $setup, [
            "Polls to send one datagram to the connected peer: the building block under",
            "[`send`](Self::send), for hand-written futures and `poll_fn`. On `Pending` the",
            "waker in `cx` is woken when the socket may be written.",
            "",
            "# Errors",
            "As [`send`](Self::send).",
        ] [
            "    use std::future::poll_fn;",
            "    assert_eq!(poll_fn(|cx| a.poll_send(cx, b\"hi\")).await?, 2);",
        ]);
        $crate::net::io::socket_methods!(@with_example poll_recv $setup, [
            "Polls to receive one datagram from the connected peer into `buf`; returns its",
            "length (tokio fills a `ReadBuf`; turnstile takes a plain slice).",
            "",
            "# Errors",
            "As [`recv`](Self::recv).",
        ] [
            "    use std::future::poll_fn;",
            "    a.send(b\"hey\").await?;",
            "    let mut buf = [0; 8];",
            "    assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut buf)).await?, 3);",
        ]);
        $crate::net::io::socket_methods!(@with_example poll_recv_from $setup, [
            "Polls to receive one datagram into `buf`; returns its length and sender.",
            "",
            "# Errors",
            "As [`recv_from`](Self::recv_from).",
        ] [
            "    use std::future::poll_fn;",
            "    a.send(b\"hey\").await?;",
            "    let mut buf = [0; 8];",
            "    let (n, _from) = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await?;",
            "    assert_eq!(n, 3);",
        ] $addr);
    };

    // The methods.
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

    (@ poll_read_ready [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn poll_read_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.io.poll_side_ready(
                cx,
                ::turnstile_reactor::Direction::Read,
                ::std::panic::Location::caller(),
            )
        }
    };
    (@ poll_write_ready [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn poll_write_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.io.poll_side_ready(
                cx,
                ::turnstile_reactor::Direction::Write,
                ::std::panic::Location::caller(),
            )
        }
    };
    (@ poll_recv_ready [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn poll_recv_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.io.poll_side_ready(
                cx,
                ::turnstile_reactor::Direction::Read,
                ::std::panic::Location::caller(),
            )
        }
    };
    (@ poll_send_ready [$($doc:tt)*]) => {
        $($doc)*
        #[track_caller]
        pub fn poll_send_ready(
            &self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::io::Result<()>> {
            self.io.poll_side_ready(
                cx,
                ::turnstile_reactor::Direction::Write,
                ::std::panic::Location::caller(),
            )
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
    (@ try_read_buf [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_read_buf<B: ::bytes::BufMut>(&self, buf: &mut B) -> ::std::io::Result<usize> {
            self.io.try_read_buf(buf)
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
    (@ recv_buf [$($doc:tt)*]) => {
        $($doc)*
        pub async fn recv_buf<B: ::bytes::BufMut>(&self, buf: &mut B) -> ::std::io::Result<usize> {
            self.io.recv_buf(buf).await
        }
    };
    (@ try_recv_buf [$($doc:tt)*]) => {
        $($doc)*
        pub fn try_recv_buf<B: ::bytes::BufMut>(&self, buf: &mut B) -> ::std::io::Result<usize> {
            self.io.try_recv_buf(buf)
        }
    };
    (@ recv_buf_from [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub async fn recv_buf_from<B: ::bytes::BufMut>(
            &self,
            buf: &mut B,
        ) -> ::std::io::Result<(usize, $addr)> {
            self.io.recv_buf_from(buf).await
        }
    };
    (@ try_recv_buf_from [$($doc:tt)*] $addr:ty) => {
        $($doc)*
        pub fn try_recv_buf_from<B: ::bytes::BufMut>(
            &self,
            buf: &mut B,
        ) -> ::std::io::Result<(usize, $addr)> {
            self.io.try_recv_buf_from(buf)
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

/// `AsFd` and `AsRawFd` for socket types with their registered source in a field `io`:
/// `socket2::SockRef::from(&socket)` and every other fd-taking API see the socket.
macro_rules! fd_impls {
    ($($ty:ty),* $(,)?) => {$(
        impl ::std::os::fd::AsFd for $ty {
            fn as_fd(&self) -> ::std::os::fd::BorrowedFd<'_> {
                ::std::os::fd::AsFd::as_fd(self.io.get())
            }
        }

        impl ::std::os::fd::AsRawFd for $ty {
            fn as_raw_fd(&self) -> ::std::os::fd::RawFd {
                ::std::os::fd::AsRawFd::as_raw_fd(self.io.get())
            }
        }
    )*};
}

pub(crate) use fd_impls;

/// tokio's `TryFrom<std type>` for each socket type: the same as its `from_std` (made
/// non-blocking, registered with the current runtime; panics outside one).
macro_rules! try_from_std {
    ($($std:ty => $ty:ident),* $(,)?) => {$(
        #[doc = concat!("The same as [`", stringify!($ty), "::from_std`], as in tokio.")]
        impl ::std::convert::TryFrom<$std> for $ty {
            type Error = ::std::io::Error;

            #[track_caller]
            fn try_from(socket: $std) -> ::std::io::Result<$ty> {
                $ty::from_std(socket)
            }
        }
    )*};
}

pub(crate) use try_from_std;
