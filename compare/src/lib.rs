//! turnstile-compare: one adapter trait, [`Runtime`], over the three runtimes compared
//! (turnstile, tokio's current-thread runtime and smol), so that the criterion benches
//! and the lab run the same workload code on each.
//!
//! A runtime here is what a single-threaded async program needs: `block_on`, `spawn`
//! (and a `Send` handle to spawn from other threads), `yield_now`, timers, a blocking
//! pool, TCP and UDP sockets, and whatever the runtime counts about its own loop.
//!
//! ```
//! use turnstile_compare::{workloads, Runtime, Smol, Tokio, Turnstile};
//!
//! fn yields<R: Runtime>() {
//!     let rt = R::fresh();
//!     rt.block_on(workloads::yield_many::<R>(4, 10));
//! }
//! yields::<Turnstile>();
//! yields::<Tokio>();
//! yields::<Smol>();
//! ```
//!
//! - [`runtimes`]: the adapters, one file each: [`Turnstile`], [`Tokio`], [`Smol`].
//! - [`Rt`]: the runtimes as a value (for `--runtime` and JSON), and [`on_runtime!`] to
//!   run generic code on the one a value names.
//! - [`tally`]: polls and yields counted by the workload itself, the same on every
//!   runtime.
//! - [`workloads`] and [`net`]: the workloads the benches time (the lab's experiments
//!   keep their own).
//! - [`alloc`]: a counting global allocator, for exact heap figures.

use std::fmt::{self, Debug};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub mod alloc;
pub mod net;
pub mod runtimes;
pub mod tally;
pub mod workloads;

pub use runtimes::smol::Smol;
pub use runtimes::tokio::Tokio;
pub use runtimes::turnstile::Turnstile;

/// What a workload needs of a runtime: the same surface on every runtime compared.
///
/// Tasks are `Send` (tokio's `spawn` asks it); every runtime polls them on the thread
/// that called `block_on`, so thread-locals such as [`tally`] see every poll.
pub trait Runtime: Sized + 'static {
    /// The runtime as a value.
    const RT: Rt;

    /// A fresh runtime as the comparisons run it: turnstile with its probes at their
    /// default level (`Level::Timing`, what users run), tokio's current-thread runtime with `enable_all`, smol's
    /// `LocalExecutor` over async-io.
    fn fresh() -> Self;

    /// A label for tables and bench ids, such as `tokio` or `turnstile/Timing`.
    fn label(&self) -> String;

    /// Runs `future` to completion on this runtime.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// The error a join handle resolves to when the task did not finish.
    type JoinError: Debug;
    /// A spawned task's handle; dropping it detaches the task.
    type Join<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>>;

    /// Spawns a task (inside `block_on`). `#[track_caller]`, so that turnstile's probes
    /// name the workload's spawn line, not this wrapper's.
    #[track_caller]
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// A `Send` handle for spawning from outside the loop.
    type Handle: Clone + Send + Sync + 'static;
    /// A task spawned through a [`Runtime::Handle`].
    type RemoteJoin<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>> + Send;

    /// This runtime's handle.
    fn handle(&self) -> Self::Handle;

    /// Spawns through a handle, from any thread, inside or outside `block_on`.
    fn spawn_remote<F>(handle: &Self::Handle, future: F) -> Self::RemoteJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Yields to the loop once (`#[track_caller]`, as [`Runtime::sleep`]).
    #[track_caller]
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// The runtime's own sleep until `deadline` (inside `block_on`; the timer is
    /// registered on the first poll; `#[track_caller]`, as [`Runtime::sleep`]).
    #[track_caller]
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;

    /// Waits for `duration` on this runtime's timers. The future may be made outside
    /// the runtime (tokio's own `sleep` may not); make it where it is awaited, since
    /// turnstile counts from its making and the others from its first poll.
    /// `#[track_caller]`, so that turnstile's await sites name the workload's line.
    #[track_caller]
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static;

    /// Runs `work` on the runtime's blocking pool and waits for it (inside
    /// `block_on`). Panics if `work` panics.
    fn spawn_blocking<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;

    /// What the runtime itself has counted so far. Call it outside `block_on`, after
    /// the work.
    fn loop_counts(&self) -> LoopCounts;

    /// A listening TCP socket.
    type Listener: Send + Sync + 'static;
    /// A connected TCP socket.
    type Stream: Send + 'static;
    /// A bound UDP socket.
    type Udp: Send + Sync + 'static;

    /// Listens on `addr`.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;
    /// The address a listener is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
    /// Accepts one connection, with `TCP_NODELAY` set.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send + '_;
    /// Connects to `addr`, with `TCP_NODELAY` set.
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
    /// Reads what is there (at least one byte, or 0 at EOF).
    fn read<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
    /// Fills `buf`.
    fn read_exact<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;
    /// Writes all of `buf`.
    fn write_all<'a>(
        stream: &'a mut Self::Stream,
        buf: &'a [u8],
    ) -> impl Future<Output = io::Result<()>> + Send + 'a;

    /// Binds a UDP socket to `addr`.
    fn bind_udp(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Udp>> + Send;
    /// The address a UDP socket is bound to.
    fn udp_local_addr(socket: &Self::Udp) -> io::Result<SocketAddr>;
    /// Receives one datagram.
    fn recv_from<'a>(
        socket: &'a Self::Udp,
        buf: &'a mut [u8],
    ) -> impl Future<Output = io::Result<(usize, SocketAddr)>> + Send + 'a;
    /// Sends one datagram to `target`.
    fn send_to<'a>(
        socket: &'a Self::Udp,
        buf: &'a [u8],
        target: SocketAddr,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;
}

/// Counts a runtime keeps about its own loop; `None` where it keeps no such count
/// (tokio counts parks only among its stable metrics; smol counts nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopCounts {
    /// Turns of the loop.
    pub turns: Option<u64>,
    /// Times the loop blocked waiting for a timer, I/O or a wake.
    pub parks: Option<u64>,
    /// Polls of spawned tasks.
    pub polls: Option<u64>,
    /// Task polls that returned `Pending`.
    pub yields: Option<u64>,
    /// Tasks spawned.
    pub spawns: Option<u64>,
    /// Tasks that ran to completion.
    pub completions: Option<u64>,
    /// Timers that fired.
    pub timers_fired: Option<u64>,
}

impl LoopCounts {
    /// The counts since `earlier`, field by field (`None` stays `None`).
    ///
    /// ```
    /// use turnstile_compare::LoopCounts;
    /// let a = LoopCounts { turns: Some(5), ..Default::default() };
    /// let b = LoopCounts { turns: Some(2), ..Default::default() };
    /// assert_eq!(a.since(&b).turns, Some(3));
    /// assert_eq!(a.since(&b).parks, None);
    /// ```
    pub fn since(&self, earlier: &LoopCounts) -> LoopCounts {
        let d = |now: Option<u64>, then: Option<u64>| Some(now?.saturating_sub(then.unwrap_or(0)));
        LoopCounts {
            turns: d(self.turns, earlier.turns),
            parks: d(self.parks, earlier.parks),
            polls: d(self.polls, earlier.polls),
            yields: d(self.yields, earlier.yields),
            spawns: d(self.spawns, earlier.spawns),
            completions: d(self.completions, earlier.completions),
            timers_fired: d(self.timers_fired, earlier.timers_fired),
        }
    }
}

/// One runtime under comparison, as a value: the `--runtime` option's values and the
/// `runtime` field of every JSON row.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Rt {
    /// turnstile, probes at their default level (`Level::Timing`).
    Turnstile,
    /// tokio's current-thread runtime, `enable_all`.
    Tokio,
    /// smol: async-executor's `LocalExecutor` over async-io.
    Smol,
}

impl Rt {
    /// Every runtime, in the order the comparisons run them.
    pub const ALL: [Rt; 3] = [Rt::Turnstile, Rt::Tokio, Rt::Smol];

    /// The name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Rt::Turnstile => "turnstile",
            Rt::Tokio => "tokio",
            Rt::Smol => "smol",
        }
    }
}

impl fmt::Display for Rt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `$body` with `$R` naming the [`Runtime`] type that the [`Rt`] value `$rt`
/// names, so that generic code is written once and chosen at run time.
///
/// ```
/// use turnstile_compare::{on_runtime, Rt, Runtime};
/// for rt in Rt::ALL {
///     let name = on_runtime!(rt, R => R::RT.name());
///     assert_eq!(name, rt.name());
/// }
/// ```
#[macro_export]
macro_rules! on_runtime {
    ($rt:expr, $R:ident => $body:expr) => {
        match $rt {
            $crate::Rt::Turnstile => {
                type $R = $crate::Turnstile;
                $body
            }
            $crate::Rt::Tokio => {
                type $R = $crate::Tokio;
                $body
            }
            $crate::Rt::Smol => {
                type $R = $crate::Smol;
                $body
            }
        }
    };
}
