//! hyper's hello world, the same service on every runtime: the server the `http`
//! experiment measures, and the one `examples/hyper_hello.rs` runs for an outside load
//! generator.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use turnstile_compare::{Runtime, Smol};

use crate::runtimes::Rt;

/// hyper's hello world: the same service on every runtime.
///
/// ```
/// # let _ = turnstile_lab::servers::hello::hello;
/// ```
pub async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

/// Serves [`hello`] over HTTP/1.1 (keep-alive, hyper's header-read timer on) on `addr`
/// with `runtime`, a task per connection, until `duration` has passed. For a load
/// generator such as wrk. turnstile runs with its probes at their default level (`Level::Timing`).
///
/// ```no_run
/// turnstile_lab::servers::hello::serve_hello(
///     turnstile_compare::Rt::Smol,
///     "127.0.0.1:3000".parse().unwrap(),
///     std::time::Duration::from_secs(10),
/// )?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_hello(runtime: Rt, addr: SocketAddr, duration: Duration) -> io::Result<()> {
    match runtime {
        Rt::Turnstile => serve_hello_turnstile(turnstile::probes::Level::default(), addr, duration),
        Rt::Tokio => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(serve_hello_on_tokio(addr, duration))
        }
        Rt::Smol => {
            let rt = Smol::new();
            rt.block_on(async {
                let listener = async_net::TcpListener::bind(addr).await?;
                until(Smol::sleep(duration), async {
                    loop {
                        let (stream, _) = listener.accept().await?;
                        stream.set_nodelay(true)?;
                        drop(Smol::spawn(async move {
                            let _ = http1::Builder::new()
                                .timer(smol_hyper::SmolTimer)
                                .serve_connection(smol_hyper::Io(stream), service_fn(hello))
                                .await;
                        }));
                    }
                })
                .await
            })
        }
    }
}

/// Serves [`hello`] like [`serve_hello`] on turnstile with its probes at `level`: the
/// default level's server, and the extra rows that say what the probes cost.
///
/// ```no_run
/// turnstile_lab::servers::hello::serve_hello_turnstile(
///     turnstile::probes::Level::Off,
///     "127.0.0.1:3000".parse().unwrap(),
///     std::time::Duration::from_secs(10),
/// )?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_hello_turnstile(
    level: turnstile::probes::Level,
    addr: SocketAddr,
    duration: Duration,
) -> io::Result<()> {
    let rt = turnstile::Runtime::builder().probes(level).build()?;
    rt.block_on(async {
        let listener = turnstile::net::TcpListener::bind(addr).await?;
        until(turnstile::time::sleep(duration), async {
            use turnstile::hyper::TurnstileTimer;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                drop(turnstile::spawn(async move {
                    let _ = http1::Builder::new()
                        .timer(TurnstileTimer)
                        .serve_connection(stream, service_fn(hello))
                        .await;
                }));
            }
        })
        .await
    })
}

/// Serves [`hello`] like [`serve_hello`] on tokio's multi-thread runtime with `workers`
/// worker threads: the work-stealing baseline that turnstile's `per_core` example (one
/// loop per core on SO_REUSEPORT listeners, no stealing) is measured against in
/// docs/beyond-one-loop.md. The same accept loop as on tokio's current-thread runtime;
/// each connection's task may run on any worker.
///
/// ```no_run
/// turnstile_lab::servers::hello::serve_hello_tokio_multi(
///     "127.0.0.1:3000".parse().unwrap(),
///     std::time::Duration::from_secs(10),
///     2,
/// )?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve_hello_tokio_multi(
    addr: SocketAddr,
    duration: Duration,
    workers: usize,
) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()?;
    rt.block_on(serve_hello_on_tokio(addr, duration))
}

/// The tokio server of [`serve_hello`] and [`serve_hello_tokio_multi`], on whichever
/// tokio runtime runs it.
async fn serve_hello_on_tokio(addr: SocketAddr, duration: Duration) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let listener = tokio::net::TcpListener::bind(addr).await?;
    until(tokio::time::sleep(duration), async {
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            drop(tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .serve_connection(TokioIo::new(stream), service_fn(hello))
                    .await;
            }));
        }
    })
    .await
}

/// Runs `serve` until `timer` fires (a server's time cap), whichever ends first.
async fn until(
    timer: impl Future<Output = ()>,
    serve: impl Future<Output = io::Result<()>>,
) -> io::Result<()> {
    let timer = std::pin::pin!(timer);
    let serve = std::pin::pin!(serve);
    match futures::future::select(serve, timer).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(((), _)) => Ok(()),
    }
}

/// hyper on smol: a futures-io socket as hyper's I/O, and async-io's timer as hyper's.
/// hyper-util has adapters for tokio only; these are the smol side of the same
/// comparison, built the way turnstile's `HyperIo` is (a read lands in an
/// initialized scratch buffer and is copied into hyper's).
mod smol_hyper {
    use std::cell::RefCell;
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant};

    use hyper::rt::{self, ReadBufCursor};

    /// The largest read, as in turnstile's adapter.
    const SCRATCH: usize = 16 * 1024;

    thread_local! {
        static SCRATCH_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
    }

    /// A futures-io stream as hyper's I/O.
    pub struct Io<T>(pub T);

    impl<T: futures::AsyncRead + Unpin> rt::Read for Io<T> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            mut buf: ReadBufCursor<'_>,
        ) -> Poll<io::Result<()>> {
            let want = buf.remaining().min(SCRATCH);
            SCRATCH_BUF.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let n =
                    std::task::ready!(Pin::new(&mut self.0).poll_read(cx, &mut scratch[..want]))?;
                buf.put_slice(&scratch[..n]);
                Poll::Ready(Ok(()))
            })
        }
    }

    impl<T: futures::AsyncWrite + Unpin> rt::Write for Io<T> {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.0).poll_close(cx)
        }
    }

    /// async-io's timer as hyper's.
    #[derive(Clone, Copy, Debug)]
    pub struct SmolTimer;

    /// One async-io timer, as a hyper sleep.
    struct Sleep(async_io::Timer);

    impl Future for Sleep {
        type Output = ();

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            Pin::new(&mut self.0).poll(cx).map(drop)
        }
    }

    impl rt::Sleep for Sleep {}

    impl rt::Timer for SmolTimer {
        fn sleep(&self, duration: Duration) -> Pin<Box<dyn rt::Sleep>> {
            Box::pin(Sleep(async_io::Timer::after(duration)))
        }

        fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn rt::Sleep>> {
            Box::pin(Sleep(async_io::Timer::at(deadline)))
        }
    }
}
