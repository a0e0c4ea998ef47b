//! turnstile, at a chosen probe level.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use turnstile::probes::Level;

use crate::{LoopCounts, Rt, Runtime};

/// A turnstile runtime recording at one probe level.
#[derive(Debug)]
pub struct Turnstile {
    rt: turnstile::Runtime,
    level: Level,
    /// Built with the flight recorder on (labelled `turnstile/Flight`).
    flight: bool,
}

impl Turnstile {
    /// A fresh runtime recording at `level`.
    ///
    /// ```
    /// use turnstile_compare::Runtime;
    /// let rt = turnstile_compare::Turnstile::new(turnstile::probes::Level::Off);
    /// assert_eq!(rt.block_on(async { 2 }), 2);
    /// ```
    pub fn new(level: Level) -> Self {
        let rt = turnstile::Runtime::builder()
            .probes(level)
            .build()
            .expect("turnstile runtime");
        Turnstile {
            rt,
            level,
            flight: false,
        }
    }

    /// A fresh runtime at `Level::Off` with the flight recorder on (a 10 s window,
    /// files into the system's temporary directory), labelled `turnstile/Flight`: what
    /// the recorder costs on its own. Its stall threshold is 1 s, so that a bench
    /// process the OS preempts for a few milliseconds (or one slowed down by valgrind)
    /// does not write a file in the middle of a measurement: the recording is measured,
    /// not the rare file.
    ///
    /// ```
    /// use turnstile_compare::Runtime;
    /// let rt = turnstile_compare::Turnstile::flight();
    /// assert_eq!(rt.label(), "turnstile/Flight");
    /// assert!(rt.runtime().flight_recorder().is_on());
    /// ```
    pub fn flight() -> Self {
        let rt = turnstile::Runtime::builder()
            .probes(Level::Off)
            .flight_recorder(Duration::from_secs(10))
            .flight_recorder_dir(std::env::temp_dir().join("turnstile-flight"))
            .stall_threshold(Duration::from_secs(1))
            .build()
            .expect("turnstile runtime");
        Turnstile {
            rt,
            level: Level::Off,
            flight: true,
        }
    }

    /// A runtime built by `builder` (its probe level is `level`): for settings the
    /// adapter does not choose, such as `Builder::budget`.
    ///
    /// ```
    /// use turnstile::probes::Level;
    /// let builder = turnstile::Runtime::builder().probes(Level::Counters).budget(None);
    /// let rt = turnstile_compare::Turnstile::from_builder(builder, Level::Counters);
    /// assert_eq!(rt.runtime().counters().budget_yields, 0);
    /// ```
    pub fn from_builder(builder: turnstile::Builder, level: Level) -> Self {
        let rt = builder.build().expect("turnstile runtime");
        Turnstile {
            rt,
            level,
            flight: false,
        }
    }

    /// The runtime inside, for its probes.
    ///
    /// ```
    /// let rt = turnstile_compare::Turnstile::new(turnstile::probes::Level::Counters);
    /// assert_eq!(rt.runtime().probes().counters.turns, 0);
    /// ```
    pub fn runtime(&self) -> &turnstile::Runtime {
        &self.rt
    }
}

impl Runtime for Turnstile {
    const RT: Rt = Rt::Turnstile;

    fn fresh() -> Self {
        // The level users run: the comparisons say what the default costs.
        Turnstile::new(Level::default())
    }

    fn label(&self) -> String {
        if self.flight {
            return "turnstile/Flight".into();
        }
        format!("turnstile/{:?}", self.level)
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    type JoinError = turnstile::JoinError;
    type Join<T: Send + 'static> = turnstile::JoinHandle<T>;

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        turnstile::spawn(future)
    }

    type Handle = turnstile::Handle;
    type RemoteJoin<T: Send + 'static> = turnstile::RemoteJoinHandle<T>;

    fn handle(&self) -> Self::Handle {
        self.rt.handle()
    }

    fn spawn_remote<F>(handle: &Self::Handle, future: F) -> Self::RemoteJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.spawn(future)
    }

    // turnstile's leaf futures record their caller as the await site; these wrappers
    // pass the workload's own line through (`#[track_caller]`), so that stall reports
    // and site tables name the experiment, not this adapter.
    #[track_caller]
    fn yield_now() -> impl Future<Output = ()> + Send {
        turnstile::yield_now()
    }

    #[track_caller]
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        turnstile::time::sleep_until(turnstile::time::Instant::from_std(deadline))
    }

    #[track_caller]
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        turnstile::time::sleep(duration)
    }

    /// turnstile's `JoinHandle` is `Send` when its output is, so a workload's `Send`
    /// task awaits it directly, as on tokio.
    fn spawn_blocking<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        let handle = turnstile::spawn_blocking(work);
        async move { handle.await.expect("blocking work") }
    }

    fn loop_counts(&self) -> LoopCounts {
        let c = self.rt.probes().counters;
        LoopCounts {
            turns: Some(c.turns),
            parks: Some(c.parks),
            polls: Some(c.polls),
            yields: Some(c.polls_pending),
            spawns: Some(c.spawns),
            completions: Some(c.completions),
            timers_fired: Some(c.timers_fired),
        }
    }

    type Listener = turnstile::net::TcpListener;
    type Stream = turnstile::net::TcpStream;
    type Udp = turnstile::net::UdpSocket;

    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        turnstile::net::TcpListener::bind(addr)
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
        let stream = turnstile::net::TcpStream::connect(addr).await?;
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
        turnstile::net::UdpSocket::bind(addr).await
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

    /// Every line above this one is the adapter's.
    const TESTS_START: u32 = line!();

    /// A generic workload's awaits.
    async fn wait_twice<R: Runtime>() {
        R::yield_now().await;
        R::sleep(Duration::from_millis(1)).await;
    }

    #[test]
    fn await_sites_name_the_workload_not_the_adapter() {
        let rt = Turnstile::new(Level::Timing);
        rt.block_on(async { Turnstile::spawn(wait_twice::<Turnstile>()).await.unwrap() });
        let sites: Vec<String> = rt
            .runtime()
            .probes()
            .sites
            .iter()
            .map(|s| s.location.clone())
            .collect();
        // The yield, the sleep, and the join handle awaited in block_on.
        assert_eq!(sites.len(), 3, "{sites:?}");
        for site in &sites {
            let line: u32 = site.split(':').nth(1).and_then(|l| l.parse().ok()).unwrap();
            assert!(
                site.starts_with(file!()) && line > TESTS_START,
                "{site}: an adapter line, not the workload's"
            );
        }
    }
}
