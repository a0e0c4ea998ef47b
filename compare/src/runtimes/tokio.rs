//! tokio's current-thread runtime (the baseline), with `enable_all`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::{LoopCounts, Rt, Runtime};

/// tokio's current-thread runtime.
#[derive(Debug)]
pub struct Tokio {
    rt: tokio::runtime::Runtime,
}

impl Tokio {
    /// A fresh current-thread runtime.
    ///
    /// ```
    /// use turnstile_compare::Runtime;
    /// assert_eq!(turnstile_compare::Tokio::new().block_on(async { 1 }), 1);
    /// ```
    pub fn new() -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        Tokio { rt }
    }
}

impl Default for Tokio {
    fn default() -> Self {
        Tokio::new()
    }
}

impl Runtime for Tokio {
    const RT: Rt = Rt::Tokio;

    fn fresh() -> Self {
        Tokio::new()
    }

    fn label(&self) -> String {
        "tokio".into()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    type JoinError = tokio::task::JoinError;
    type Join<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future)
    }

    type Handle = tokio::runtime::Handle;
    type RemoteJoin<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn handle(&self) -> Self::Handle {
        self.rt.handle().clone()
    }

    fn spawn_remote<F>(handle: &Self::Handle, future: F) -> Self::RemoteJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
    }

    async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await
    }

    async fn spawn_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(work)
            .await
            .expect("blocking work")
    }

    fn loop_counts(&self) -> LoopCounts {
        LoopCounts {
            parks: Some(self.rt.metrics().worker_park_count(0)),
            ..LoopCounts::default()
        }
    }

    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;
    type Udp = tokio::net::UdpSocket;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        tokio::net::TcpListener::bind(addr)
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
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(stream)
    }

    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        stream.read(buf)
    }

    async fn read_exact(stream: &mut Self::Stream, buf: &mut [u8]) -> io::Result<()> {
        stream.read_exact(buf).await.map(drop)
    }

    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a {
        stream.write_all(buf)
    }

    fn bind_udp(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Udp>> + Send {
        tokio::net::UdpSocket::bind(addr)
    }

    fn udp_local_addr(socket: &Self::Udp) -> io::Result<SocketAddr> {
        socket.local_addr()
    }

    fn recv_from<'a>(
        socket: &'a Self::Udp,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send + 'a {
        socket.recv_from(buf)
    }

    fn send_to<'a>(
        socket: &'a Self::Udp,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a {
        socket.send_to(buf, target)
    }
}
