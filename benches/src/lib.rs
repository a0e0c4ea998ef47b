//! Workloads shared by the benches and the lab, written once against [`BenchRuntime`]
//! so that turnstile and tokio's current-thread runtime run identical code.
//!
//! ```
//! use turnstile_benches::{workloads, BenchRuntime, Tokio, Turnstile};
//! use turnstile::probes::Level;
//!
//! let tokio = Tokio::new();
//! let turnstile = Turnstile::new(Level::Counters);
//! tokio.block_on(workloads::yield_many::<Tokio>(4, 10));
//! turnstile.block_on(workloads::yield_many::<Turnstile>(4, 10));
//! assert_eq!(turnstile.runtime().probes().counters.wakes_self, 40);
//! ```

use std::fmt::Debug;
use std::future::Future;
use std::time::Instant;

use turnstile::probes::Level;

pub mod alloc;
pub mod lab;
pub mod net;
pub mod workloads;

/// What a workload needs of a runtime: the same small surface on both sides.
pub trait BenchRuntime {
    /// The error a join handle resolves to when the task did not finish.
    type JoinError: Debug;
    /// A spawned task's handle.
    type Join<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>>;

    /// A label for tables and bench ids, such as `tokio` or `turnstile/Counters`.
    fn label(&self) -> String;

    /// Runs `future` to completion on this runtime.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Spawns a task (inside `block_on`). `#[track_caller]`, so that turnstile's probes
    /// name the workload's spawn line, not this wrapper's.
    #[track_caller]
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Yields to the loop once.
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// The runtime's own sleep until `deadline` (inside `block_on`; the timer is
    /// registered on the first poll, on both runtimes).
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;

    /// A `Send` handle for spawning from outside the loop.
    type Handle: Clone + Send + Sync + 'static;
    /// A task spawned through a [`BenchRuntime::Handle`].
    type RemoteJoin<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>> + Send;

    /// This runtime's handle.
    fn handle(&self) -> Self::Handle;

    /// Spawns through a handle, from any thread, inside or outside `block_on`.
    fn spawn_remote<F>(handle: &Self::Handle, future: F) -> Self::RemoteJoin<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
}

/// tokio's current-thread runtime (the baseline), with `enable_all`.
#[derive(Debug)]
pub struct Tokio {
    rt: tokio::runtime::Runtime,
}

impl Tokio {
    /// A fresh current-thread runtime.
    ///
    /// ```
    /// use turnstile_benches::BenchRuntime;
    /// assert_eq!(turnstile_benches::Tokio::new().block_on(async { 1 }), 1);
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

impl BenchRuntime for Tokio {
    type JoinError = tokio::task::JoinError;
    type Join<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn label(&self) -> String {
        "tokio".into()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
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
}

/// A turnstile runtime at a chosen probe level.
#[derive(Debug)]
pub struct Turnstile {
    rt: turnstile::Runtime,
    level: Level,
}

impl Turnstile {
    /// A fresh runtime recording at `level`.
    ///
    /// ```
    /// use turnstile_benches::BenchRuntime;
    /// let rt = turnstile_benches::Turnstile::new(turnstile::probes::Level::Off);
    /// assert_eq!(rt.block_on(async { 2 }), 2);
    /// ```
    pub fn new(level: Level) -> Self {
        let rt = turnstile::Runtime::builder()
            .probes(level)
            .build()
            .expect("turnstile runtime");
        Turnstile { rt, level }
    }

    /// The runtime inside, for its probes.
    ///
    /// ```
    /// let rt = turnstile_benches::Turnstile::new(turnstile::probes::Level::Counters);
    /// assert_eq!(rt.runtime().probes().counters.turns, 0);
    /// ```
    pub fn runtime(&self) -> &turnstile::Runtime {
        &self.rt
    }
}

impl BenchRuntime for Turnstile {
    type JoinError = turnstile::JoinError;
    type Join<T: Send + 'static> = turnstile::JoinHandle<T>;

    fn label(&self) -> String {
        format!("turnstile/{:?}", self.level)
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        turnstile::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        turnstile::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        turnstile::time::sleep_until(deadline)
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
}
