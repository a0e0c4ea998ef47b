//! turnstile: a single-threaded, run-once async executor over mio that counts every
//! poll, every wake and every turn of its loop.
//!
//! It exists to make visible what an async runtime does: when an `.await` really goes
//! back to the loop, what one yield costs, and who stalled everyone else. Its loop is
//! small enough to read in one sitting (the [`turn`](crate#the-run-once-turn) below),
//! and fast enough to be compared with tokio's current-thread runtime on equal terms.
//!
//! ```
//! use std::time::Duration;
//!
//! let rt = turnstile::Runtime::builder()
//!     .probes(turnstile::probes::Level::Counters)
//!     .build()?;
//! rt.block_on(async {
//!     let task = turnstile::spawn(async {
//!         turnstile::time::sleep(Duration::from_millis(1)).await;
//!         "slept"
//!     });
//!     assert_eq!(task.await.unwrap(), "slept");
//! });
//! let counters = rt.probes().counters;
//! // The task was polled twice: once to start the sleep, once when its timer fired.
//! assert_eq!((counters.polls, counters.polls_pending), (2, 1));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # The run-once turn
//!
//! Each turn: take in wakes from other threads; drive the reactor (park when nothing is
//! ready, otherwise a non-blocking look once `event_interval` task polls have passed)
//! and fire expired timers, serving the tasks they woke first; poll each task that was
//! ready when the step began, once, until `event_interval` polls have passed (the rest
//! wait at the front of the queue for the next turn); poll the `block_on` future if it
//! was woken. A *yield* is a poll that returned `Pending`; an
//! `.await` that completes without one never reaches the loop. See `docs/architecture.md`.
//!
//! # Cargo features
//!
//! - `hyper`: hyper 1.x on turnstile (`turnstile::hyper`: I/O traits for `TcpStream`
//!   and, through `HyperIo`, for any futures-io stream such as TLS; a timer, an
//!   executor; `turnstile::hyper::serve` for tower services such as axum's `Router`).
//! - `tokio-io`: tokio's `AsyncRead`/`AsyncWrite` on `TcpStream`, `UnixStream` and
//!   their halves, over the same readiness, counting and budget as their futures-io
//!   impls; tokio's traits only, no tokio runtime.
//! - `tower`: `turnstile::tower::TimeoutLayer`, a request timeout on turnstile's timers
//!   that answers `408 Request Timeout` itself (implies `hyper`).
//! - `compat`: `turnstile::compat`, async-compat's bridge for crates that need a tokio
//!   runtime's context (a tokio runtime on a thread of its own; its wakes arrive as
//!   remote wakes).
//! - `console`: tokio-console shows turnstile's tasks. Each task gets a `runtime.spawn`
//!   span, entered around each of its polls, and its wakers emit `runtime::waker`
//!   events; install `console_subscriber::init()` in `main` and build with
//!   `--cfg console_without_tokio_unstable`. Off, none of it is compiled. See
//!   `docs/probes.md`, "tokio-console".
//! - `metrics`: the probes published through the `metrics` facade, for Prometheus and
//!   the rest of the monitoring stack: counters, gauges and exact histogram buckets,
//!   labelled by runtime name (see the `metrics` module and
//!   `docs/beyond-one-loop.md`).
//! - `test-util`: the paused clock for tests, as tokio's `test-util`:
//!   `time::{pause, resume, advance}`, `Builder::start_paused`,
//!   `#[turnstile::test(start_paused = true)]`; while paused, a loop with only timers
//!   pending jumps to the next deadline at once (see `docs/testing.md`). Off,
//!   `time::Instant::now()` is std's, and a sleep costs no more than before.

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctest;

/// docs/testing.md's examples (the paused clock), compiled and run as doctests.
#[cfg(all(doctest, feature = "test-util"))]
#[doc = include_str!("../../docs/testing.md")]
pub struct TestingDoctest;

// The layers, bottom up; each imports only from the ones above it in this list
// (docs/architecture.md draws them): the task layer, the probes' event layer, the
// driver, the loop's core, the public runtime, and the modules users import.
mod driver;
mod observe;
mod raw;
mod rt;
mod runtime;

#[cfg(feature = "compat")]
pub mod compat;
#[cfg(feature = "hyper")]
pub mod hyper;
#[cfg(feature = "metrics")]
pub mod metrics;
pub mod net;
pub mod probes;
pub mod signal;
pub mod task;
pub mod time;
#[cfg(feature = "tower")]
pub mod tower;

pub use rt::remote::orphan_wakes;
pub use runtime::{
    Builder, EnterGuard, FlightRecorderRef, Handle, RemoteJoinHandle, Runtime, TryCurrentError,
};
pub use task::{spawn, spawn_blocking, yield_now, AbortHandle, JoinError, JoinHandle, YieldNow};

/// Makes each `.await` of an `async fn` an await site of its own, and a frame of the
/// async stack of the task that waits there.
///
/// At `Level::Timing` and above, each instrumented `.await` counts in the sites table
/// (labelled with the function's name, at the await's own `file:line:column`), and a
/// task suspended in instrumented functions has an async stack: the chain of frames it
/// waits in, outermost first, down to turnstile's leaf ([`probes::AsyncStack`], in
/// [`probes::TaskStats::stack`] and [`probes::StallReport::stack`]). Below `Timing`
/// nothing is recorded, and an await that completes without waiting costs a
/// thread-local load and a branch. Code without the attribute costs nothing.
///
/// - `#[turnstile::instrument] async fn f()` names the frames `f`;
///   `#[turnstile::instrument(name = "label")]` names them `label`.
/// - On an `impl` block it instruments every `async fn` of it, named `Type::method`
///   (an attribute on one method cannot see its type: there the name is the method's).
/// - Awaits inside nested `async` blocks and async closures are rewritten too, under
///   the function's name; nested items (`fn`, `impl`) are not, nor awaits inside macro
///   calls (`select!`, `join!`), whose tokens the attribute cannot see.
/// - On anything else, a plain `fn` included, it is a compile error that says so.
///
/// ```
/// use std::time::Duration;
/// use turnstile::probes::TaskState;
///
/// #[turnstile::instrument]
/// async fn handler() {
///     load_user().await;
/// }
///
/// #[turnstile::instrument]
/// async fn load_user() {
///     turnstile::time::sleep(Duration::from_millis(5)).await;
/// }
///
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let task = turnstile::spawn(handler());
///     turnstile::yield_now().await; // the task runs to its sleep
///     let snap = turnstile::probes::snapshot();
///     let stats = snap.tasks.iter().find(|t| t.state == TaskState::Idle).unwrap();
///     let stack = stats.stack.as_ref().unwrap();
///     let names: Vec<&str> = stack.frames.iter().map(|f| f.function.as_str()).collect();
///     assert_eq!(names, ["handler", "load_user"]);
///     println!("{stack}"); // handler src/main.rs:7:17 > load_user src/main.rs:12:55 > ...
///     task.await.unwrap();
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// A plain `fn` is refused:
///
/// ```compile_fail
/// #[turnstile::instrument]
/// fn not_async() {}
/// ```
pub use turnstile_macros::instrument;

/// The `.await`s of an async block (or async closure) as instrumented awaits named by
/// the first argument: [`instrument`] for async code that is not an `async fn`.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let task = turnstile::spawn(turnstile::instrument_block!("worker", async {
///         turnstile::yield_now().await;
///     }));
///     task.await.unwrap();
/// });
/// let snap = rt.probes();
/// let site = snap.sites.iter().find(|s| s.label.as_deref() == Some("worker")).unwrap();
/// assert_eq!(site.yields, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub use turnstile_macros::instrument_block;

/// Runs an `async fn` on a turnstile runtime, as `#[tokio::main]` does on tokio's:
/// `#[turnstile::main] async fn main()` becomes a sync `main` that builds a runtime with
/// [`Runtime::builder`] and [`Runtime::block_on`]s the body, then drops the runtime.
///
/// The function must be `async`, without parameters or generics; it may return a value,
/// as `-> Result<(), E>` (the sync function returns it). It need not be `main`. The
/// arguments, `key = value` separated by commas, set the builder:
///
/// - `probes = Off|Counters|Timing|Trace`: [`Builder::probes`] (default `Timing`).
/// - `budget = N`: [`Builder::budget`]`(Some(N))`; `budget = None`: no budget.
/// - `name = "..."`: [`Builder::name`].
/// - `flavor = "current_thread"`: accepted, and changes nothing (turnstile has only that
///   flavor). `flavor = "multi_thread"` and `worker_threads = N` are compile errors:
///   turnstile is single-threaded (for more cores, one runtime per thread, as the
///   `per_core` example does; for blocking work, [`spawn_blocking`]).
/// - `start_paused = true`: calls `Builder::start_paused(true)`, and only when given:
///   the clock starts paused, as `time::pause` would (see `docs/testing.md`). Both need
///   the `test-util` feature, as tokio's do (without it the call does not compile).
///   `start_paused = false`, the default, is accepted and calls nothing.
/// - `crate = "path"`: where turnstile is, for a crate that renames it.
///
/// Any other argument, or a value of the wrong type, is a compile error pointing at it.
/// Building the runtime panics if it fails (it opens an epoll instance and an eventfd).
///
/// ```
/// use std::time::Duration;
/// use turnstile::probes::Level;
///
/// #[turnstile::main(probes = Counters, budget = 64)]
/// async fn main() {
///     let task = turnstile::spawn(async {
///         turnstile::time::sleep(Duration::from_millis(1)).await;
///         "slept"
///     });
///     assert_eq!(task.await.unwrap(), "slept");
///     assert_eq!(turnstile::probes::snapshot().level, Level::Counters);
/// }
/// ```
///
/// With a return type, `?` works in the body:
///
/// ```
/// #[turnstile::main]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = "42".parse()?;
///     turnstile::yield_now().await;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// Turnstile is single-threaded; asking for threads is refused:
///
/// ```compile_fail
/// #[turnstile::main(flavor = "multi_thread", worker_threads = 4)]
/// async fn main() {}
/// ```
///
/// So is a function that is not `async`:
///
/// ```compile_fail
/// #[turnstile::main]
/// fn main() {}
/// ```
pub use turnstile_macros::main;

/// [`main`](macro@main) for a test, as `#[tokio::test]` is: the sync function it writes
/// is a `#[test]` that builds a runtime of its own, and `block_on`s the body on it.
///
/// It takes the same arguments as [`main`](macro@main) (`probes`, `budget`, `name`,
/// `flavor = "current_thread"`, `start_paused`, `crate`) with the same errors. Other
/// attributes stay on the test, as `#[should_panic]` and `#[ignore]`; a `#[test]`
/// written too is a compile error (the function would be a test twice). A test may
/// return `Result<(), E>`, and fails when it returns `Err`.
///
/// ```
/// use std::time::Duration;
/// use turnstile::probes::Level;
///
/// #[turnstile::test(probes = Counters)]
/// async fn sleeps_once() {
///     turnstile::time::sleep(Duration::from_millis(1)).await;
///     let counters = turnstile::probes::snapshot().counters;
///     assert_eq!(counters.main_polls, 2);
/// }
///
/// #[turnstile::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     turnstile::yield_now().await;
///     panic!("boom");
/// }
///
/// #[turnstile::test]
/// async fn fallible() -> Result<(), std::num::ParseIntError> {
///     assert_eq!("7".parse::<u32>()?, 7);
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// With `start_paused = true` (and the `test-util` feature), an hour of timers takes no
/// time, and its instants are exact:
///
/// ```
/// use std::time::Duration;
/// use turnstile::time::{sleep, Instant};
///
/// # #[cfg(feature = "test-util")]
/// #[turnstile::test(start_paused = true)]
/// async fn an_hour_in_no_time() {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
///
/// Unknown arguments are refused, and so is a second `#[test]`:
///
/// ```compile_fail
/// #[turnstile::test(probes = Verbose)]
/// async fn t() {}
/// # fn main() {}
/// ```
///
/// ```compile_fail
/// #[turnstile::test]
/// #[test]
/// async fn t() {}
/// # fn main() {}
/// ```
pub use turnstile_macros::test;
