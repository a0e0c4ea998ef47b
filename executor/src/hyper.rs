//! hyper 1.x on turnstile (the `hyper` feature): what hyper asks of a runtime.
//!
//! - [`TcpStream`] implements `hyper::rt::Read` and `hyper::rt::Write`, so a stream is
//!   handed to hyper as is (no adapter type).
//! - [`TurnstileTimer`] is a `hyper::rt::Timer` over [`crate::time::sleep`]; hyper
//!   needs one for its timeouts (header read timeout, keep-alive).
//! - [`TurnstileExecutor`] is a `hyper::rt::Executor` that spawns on the current
//!   runtime, for the futures hyper runs in the background.
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

use crate::net::TcpStream;
use crate::time::{self, Sleep};

/// Bytes read per call through hyper's buffer at most (hyper asks for 8 KiB at first).
const SCRATCH: usize = 64 * 1024;

thread_local! {
    /// Initialized bytes to read into: hyper hands out uninitialized memory, which safe
    /// code may not read into, so a read lands here and is copied into hyper's buffer
    /// (a copy of the bytes read, cheaper than zeroing hyper's whole buffer per read).
    static SCRATCH_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
}

impl rt::Read for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let want = buf.remaining().min(SCRATCH);
        SCRATCH_BUF.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let n = std::task::ready!(futures_io::AsyncRead::poll_read(
                self,
                cx,
                &mut scratch[..want]
            ))?;
            buf.put_slice(&scratch[..n]);
            Poll::Ready(Ok(()))
        })
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
        Box::pin(time::sleep_until(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
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
