//! hyper 1.x on turnstile (the `hyper` feature): what hyper asks of a runtime.
//!
//! - [`TcpStream`] implements `hyper::rt::Read` and `hyper::rt::Write`, so a stream is
//!   handed to hyper as is (no adapter type). A read goes straight into hyper's buffer:
//!   the system call writes into its unfilled part, and hyper is told how many bytes
//!   it wrote, with no copy.
//! - [`HyperIo`] gives hyper's traits to any futures-io `AsyncRead + AsyncWrite`: a
//!   [`UnixStream`](crate::net::UnixStream), or TLS over a `TcpStream`
//!   (`futures_rustls::server::TlsStream<TcpStream>`; see the `https_server` example).
//! - [`TurnstileTimer`] is a `hyper::rt::Timer` over [`crate::time::sleep`]; hyper
//!   needs one for its timeouts (header read timeout, keep-alive).
//! - [`TurnstileExecutor`] is a `hyper::rt::Executor` that spawns on the current
//!   runtime, for the futures hyper runs in the background.
//! - [`serve`] serves a tower service (axum's `Router` as it is) or a hyper one
//!   ([`FromHyper`]) on a [`TcpListener`](crate::net::TcpListener) or a
//!   [`UnixListener`](crate::net::UnixListener), HTTP/1.1 and HTTP/2, with graceful
//!   shutdown: the accept loop, the builders and the per-connection tasks written once.
//!
//! ```no_run
//! use std::convert::Infallible;
//!
//! use http_body_util::Full;
//! use hyper::body::Bytes;
//! use hyper::server::conn::http1;
//! use hyper::service::service_fn;
//! use hyper::{Request, Response};
//! use turnstile::hyper::TurnstileTimer;
//!
//! async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from_static(b"Hello, World!"))))
//! }
//!
//! async fn serve(listener: turnstile::net::TcpListener) -> std::io::Result<()> {
//!     loop {
//!         let (stream, _) = listener.accept().await?;
//!         let _connection = turnstile::spawn(async move {
//!             let _ = http1::Builder::new()
//!                 .timer(TurnstileTimer)
//!                 .serve_connection(stream, service_fn(hello))
//!                 .await;
//!         });
//!     }
//! }
//!
//! let rt = turnstile::Runtime::new()?;
//! rt.block_on(async { serve(turnstile::net::TcpListener::bind("127.0.0.1:3000").await?).await })?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use ::hyper::rt::{self, ReadBufCursor};

use turnstile_reactor::Direction;

use crate::net::source::Op;
use crate::net::TcpStream;
use crate::time::{self, Sleep};

mod serve;

pub use serve::{serve, FromHyper, Listener, Serve, WithGracefulShutdown};

/// Bytes read per call through hyper's buffer at most (hyper asks for 8 KiB at first).
const SCRATCH: usize = 64 * 1024;

thread_local! {
    /// Initialized bytes to read into: hyper hands out uninitialized memory, which safe
    /// code may not read into, so a read lands here and is copied into hyper's buffer
    /// (a copy of the bytes read, cheaper than zeroing hyper's whole buffer per read).
    static SCRATCH_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
}

/// One futures-io read into hyper's buffer, through the scratch buffer (for
/// [`HyperIo`]: a futures-io reader takes initialized bytes only).
#[inline]
fn read_into<R: futures_io::AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    mut buf: ReadBufCursor<'_>,
) -> Poll<io::Result<()>> {
    let want = buf.remaining().min(SCRATCH);
    SCRATCH_BUF.with(|scratch| {
        // A reader that reads a socket of this thread's runtime never reaches this
        // buffer again while it reads, but a foreign reader might: it then gets a
        // buffer of its own rather than a second borrow.
        match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                let n = std::task::ready!(reader.poll_read(cx, &mut scratch[..want]))?;
                buf.put_slice(&scratch[..n]);
            }
            Err(_) => {
                let mut own = vec![0; want];
                let n = std::task::ready!(reader.poll_read(cx, &mut own))?;
                buf.put_slice(&own[..n]);
            }
        }
        Poll::Ready(Ok(()))
    })
}

/// `recv` into `len` bytes at `to`, which may be uninitialized: the OS only writes
/// them. No `&mut [u8]` is made over them, so no uninitialized byte is ever seen as a
/// `u8`.
#[inline(always)]
fn recv_into(socket: &mio::net::TcpStream, to: *mut u8, len: usize) -> io::Result<usize> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: `to` points at `len` writable bytes, borrowed from hyper's buffer by the
    // caller for this call; `recv` writes at most `len` bytes there and reads none.
    let n = unsafe { libc::recv(socket.as_raw_fd(), to.cast(), len, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

impl rt::Read for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: the unfilled bytes are only written (by the OS, in `recv_into`),
        // never read nor de-initialized.
        let unfilled = unsafe { buf.as_mut() };
        let (to, len) = (unfilled.as_mut_ptr().cast::<u8>(), unfilled.len());
        let n =
            std::task::ready!(self
                .io
                .poll_io(cx, Direction::Read, Op::TcpRead(len), |socket| recv_into(
                    socket, to, len
                ),))?;
        // SAFETY: `recv` wrote (initialized) the first `n` unfilled bytes.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl rt::Write for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(self, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(self, cx)
    }
}

pin_project_lite::pin_project! {
    /// Any futures-io stream, seen by hyper: `hyper::rt::Read` and `hyper::rt::Write`
    /// over its `AsyncRead` and `AsyncWrite` (what hyper-util's `TokioIo` is for tokio's
    /// traits). Wrap a TLS stream, a Unix stream, or any other transport in it and hand
    /// it to hyper's `serve_connection` or `handshake`. Reads go through a per-thread
    /// scratch buffer (hyper hands out uninitialized memory, which safe code may not
    /// read into) and cost one copy of the bytes read.
    ///
    /// ```
    /// use http_body_util::{BodyExt, Empty, Full};
    /// use hyper::body::Bytes;
    /// use turnstile::hyper::HyperIo;
    /// use turnstile::net::UnixStream;
    ///
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (client, server) = UnixStream::pair()?;
    ///     let _server = turnstile::spawn(async move {
    ///         let service = hyper::service::service_fn(|_req| async {
    ///             Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(Bytes::from("over unix"))))
    ///         });
    ///         hyper::server::conn::http1::Builder::new()
    ///             .serve_connection(HyperIo::new(server), service)
    ///             .await
    ///     });
    ///     let (mut sender, connection) =
    ///         hyper::client::conn::http1::handshake(HyperIo::new(client)).await.unwrap();
    ///     let _connection = turnstile::spawn(connection);
    ///     let request = hyper::Request::get("/").body(Empty::<Bytes>::new()).unwrap();
    ///     let response = sender.send_request(request).await.unwrap();
    ///     let body = response.into_body().collect().await.unwrap().to_bytes();
    ///     assert_eq!(body, "over unix");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[derive(Debug)]
    pub struct HyperIo<T> {
        #[pin]
        inner: T,
    }
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     let _io = turnstile::hyper::HyperIo::new(a);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(inner: T) -> Self {
        HyperIo { inner }
    }

    /// The wrapped stream.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     let io = turnstile::hyper::HyperIo::new(a);
    ///     assert!(io.inner().peer_addr()?.is_unnamed());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     let mut io = turnstile::hyper::HyperIo::new(a);
    ///     let _stream: &mut turnstile::net::UnixStream = io.inner_mut();
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let (a, _b) = turnstile::net::UnixStream::pair()?;
    ///     let _a: turnstile::net::UnixStream = turnstile::hyper::HyperIo::new(a).into_inner();
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: futures_io::AsyncRead> rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        read_into(self.project().inner, cx, buf)
    }
}

impl<T: futures_io::AsyncWrite> rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }
}

/// turnstile's [`Sleep`] is `Send + Sync`, as hyper's timers must be.
impl rt::Sleep for Sleep {}

/// A `hyper::rt::Timer` on the current runtime's timers. Set it on hyper's builders
/// (`.timer(TurnstileTimer)`) to enable their timeouts; its sleeps are polled on the
/// runtime that runs the connection.
///
/// ```
/// use hyper::rt::Timer;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(turnstile::hyper::TurnstileTimer.sleep(std::time::Duration::from_millis(1)));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TurnstileTimer;

impl rt::Timer for TurnstileTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
        Box::pin(time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn rt::Sleep>> {
        // hyper's deadlines are std's instants (as tokio's timer, taken as they are).
        Box::pin(time::sleep_until(time::Instant::from_std(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().reset(time::Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A `hyper::rt::Executor` that spawns hyper's background futures as turnstile tasks
/// on the current runtime (with [`crate::spawn`]: no `Send` needed).
///
/// # Panics
/// `execute` panics outside a runtime, as [`crate::spawn`] does.
///
/// ```
/// use hyper::rt::Executor;
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     turnstile::hyper::TurnstileExecutor.execute(async {});
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TurnstileExecutor;

impl<F> rt::Executor<F> for TurnstileExecutor
where
    F: Future + 'static,
    F::Output: 'static,
{
    fn execute(&self, future: F) {
        drop(crate::spawn(future));
    }
}
