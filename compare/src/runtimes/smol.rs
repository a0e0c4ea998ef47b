//! smol: async-executor's `LocalExecutor` over async-io's reactor, async-net's sockets
//! and the `blocking` pool, as a single-threaded program runs it.
//!
//! `Smol::block_on` runs the local executor (and, inside it, a shared `Executor` that
//! takes the spawns made from other threads through [`Smol::handle`]) on async-io's
//! `block_on`, which parks in the reactor when nothing is ready. While it runs, a
//! thread-local names the executor, so that [`Runtime::spawn`] needs no handle, as on
//! the other runtimes.

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_executor::{Executor, LocalExecutor, Task};
use futures::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{LoopCounts, Rt, Runtime};

thread_local! {
    /// The executor of the `Smol::block_on` running on this thread, if any.
    static CURRENT: RefCell<Option<Rc<LocalExecutor<'static>>>> = const { RefCell::new(None) };
}

/// A smol runtime for one thread.
#[derive(Debug)]
pub struct Smol {
    local: Rc<LocalExecutor<'static>>,
    shared: Arc<Executor<'static>>,
}

impl Smol {
    /// A fresh executor pair.
    ///
    /// ```
    /// use turnstile_compare::Runtime;
    /// let rt = turnstile_compare::Smol::new();
    /// assert_eq!(rt.block_on(async { 3 }), 3);
    /// ```
    pub fn new() -> Self {
        Smol {
            local: Rc::new(LocalExecutor::new()),
            shared: Arc::new(Executor::new()),
        }
    }
}

impl Default for Smol {
    fn default() -> Self {
        Smol::new()
    }
}

/// Puts back the executor that was current before a `block_on`, even on unwind.
struct Restore(Option<Rc<LocalExecutor<'static>>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// A smol task's handle with the other runtimes' semantics: dropping it detaches the
/// task (async-executor's own `Task` cancels it).
#[derive(Debug)]
pub struct SmolJoin<T> {
    task: Option<Task<T>>,
}

impl<T> Future for SmolJoin<T> {
    type Output = Result<T, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let task = self
            .task
            .as_mut()
            .expect("a SmolJoin polled after it finished");
        let out = Pin::new(task).poll(cx).map(Ok);
        if out.is_ready() {
            self.task = None;
        }
        out
    }
}

impl<T> Drop for SmolJoin<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl Runtime for Smol {
    const RT: Rt = Rt::Smol;

    fn fresh() -> Self {
        Smol::new()
    }

    fn label(&self) -> String {
        "smol".into()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.local.clone()));
        let _restore = Restore(previous);
        async_io::block_on(self.local.run(self.shared.run(future)))
    }

    type JoinError = Infallible;
    type Join<T: Send + 'static> = SmolJoin<T>;

    #[track_caller]
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = CURRENT.with(|c| {
            c.borrow()
                .as_ref()
                .map(|executor| executor.spawn(future))
                .expect("Smol::spawn outside Smol::block_on: spawn inside the runtime")
        });
        SmolJoin { task: Some(task) }
    }

    type Handle = Arc<Executor<'static>>;
    type RemoteJoin<T: Send + 'static> = SmolJoin<T>;

    fn handle(&self) -> Self::Handle {
        self.shared.clone()
    }

    fn spawn_remote<F>(handle: &Self::Handle, future: F) -> Self::RemoteJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SmolJoin {
            task: Some(handle.spawn(future)),
        }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    async fn sleep_until(deadline: Instant) {
        async_io::Timer::at(deadline).await;
    }

    async fn sleep(duration: Duration) {
        async_io::Timer::after(duration).await;
    }

    async fn spawn_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        blocking::unblock(work).await
    }

    fn loop_counts(&self) -> LoopCounts {
        LoopCounts::default()
    }

    type Listener = async_net::TcpListener;
    type Stream = async_net::TcpStream;
    type Udp = async_net::UdpSocket;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        async_net::TcpListener::bind(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = async_net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        stream.read(buf)
    }

    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        stream.read_exact(buf)
    }

    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        stream.write_all(buf)
    }

    async fn bind_udp(addr: SocketAddr) -> io::Result<Self::Udp> {
        async_net::UdpSocket::bind(addr).await
    }

    fn udp_local_addr(socket: &Self::Udp) -> io::Result<SocketAddr> {
        socket.local_addr()
    }

    async fn recv_from(socket: &Self::Udp, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        socket.recv_from(buf).await
    }

    async fn send_to(socket: &Self::Udp, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        socket.send_to(buf, target).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_handle_detaches_its_task() {
        let rt = Smol::new();
        let (tx, rx) = futures::channel::oneshot::channel();
        let got = rt.block_on(async move {
            drop(Smol::spawn(async move {
                Smol::yield_now().await;
                tx.send(7).unwrap();
            }));
            rx.await.unwrap()
        });
        assert_eq!(got, 7);
    }

    #[test]
    fn a_remote_spawn_runs_on_the_loop() {
        let rt = Smol::new();
        let handle = rt.handle();
        let task = std::thread::spawn(move || Smol::spawn_remote(&handle, async { 5 }))
            .join()
            .unwrap();
        assert_eq!(rt.block_on(task), Ok(5));
    }
}
