//! Workloads for the lab (`turnstile-lab`), written once and run on both runtimes.
//!
//! The lab needs a little more of a runtime than [`BenchRuntime`] offers: a sleep, a
//! fresh runtime configured the way the lab runs it, and whatever the runtime counts
//! about its own loop. [`LabRuntime`] adds those, for [`Turnstile`] and [`Tokio`].
//!
//! Counts that must be comparable across runtimes are taken by the workload itself, not
//! by the runtime: [`counted`] tallies the polls and yields of one future in a
//! thread-local, and [`frame`] tallies the polls of one level of a nested future and how
//! deep below the task's poll the stack went. Both runtimes poll their tasks on the
//! thread that called `block_on`, so the tallies see every poll.
//!
//! ```
//! use turnstile_benches::lab::{self, LabRuntime};
//! use turnstile_benches::{BenchRuntime, Tokio, Turnstile};
//!
//! fn five_deep<R: LabRuntime>() -> lab::Tally {
//!     let rt = R::fresh();
//!     lab::take_tally();
//!     rt.block_on(async {
//!         let leaf = R::sleep(std::time::Duration::from_millis(1));
//!         let chain = lab::boxed_chain(5, leaf);
//!         R::spawn(lab::counted(chain)).await.unwrap();
//!     });
//!     lab::take_tally()
//! }
//! // Five awaits, one real wait: the task is polled twice and yields once, on both.
//! for tally in [five_deep::<Turnstile>(), five_deep::<Tokio>()] {
//!     assert_eq!((tally.polls, tally.yields), (2, 1));
//! }
//! ```

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::marker::PhantomData;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::AtomicWaker;
use turnstile::probes::Level;

use crate::{BenchRuntime, Tokio, Turnstile};

/// What the lab needs of a runtime beyond [`BenchRuntime`].
pub trait LabRuntime: BenchRuntime + Sized + 'static {
    /// The runtime's short name in tables and JSON: `turnstile` or `tokio`.
    const NAME: &'static str;

    /// A fresh runtime as the lab runs it: tokio's current-thread runtime with
    /// `enable_all`, or turnstile with its probes at `Level::Counters`.
    fn fresh() -> Self;

    /// Waits for `duration` on this runtime's timers, counted from the first poll (so
    /// the future can be made outside the runtime, which tokio's own `sleep` forbids).
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static;

    /// Runs `work` on the runtime's blocking pool and waits for it (inside
    /// `block_on`). Panics if `work` panics.
    fn spawn_blocking<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;

    /// What the runtime itself has counted so far. Call it outside `block_on`, after
    /// the work: on turnstile it takes a probe snapshot, which lists every live task.
    fn loop_counts(&self) -> LoopCounts;
}

/// Counts a runtime keeps about its own loop; `None` where it keeps no such count
/// (tokio counts parks only, among its stable metrics).
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
    /// use turnstile_benches::lab::LoopCounts;
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

impl LabRuntime for Turnstile {
    const NAME: &'static str = "turnstile";

    fn fresh() -> Self {
        Turnstile::new(Level::Counters)
    }

    async fn sleep(duration: Duration) {
        turnstile::time::sleep(duration).await
    }

    /// turnstile's `JoinHandle` is not `Send`, and a workload's tasks must be (to run
    /// on tokio too); so a local carrier task awaits the blocking work and passes the
    /// result over a oneshot channel: one extra spawn and local wake per call.
    fn spawn_blocking<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        let (tx, rx) = futures::channel::oneshot::channel();
        drop(turnstile::spawn(async move {
            let out = turnstile::spawn_blocking(work)
                .await
                .expect("blocking work");
            let _ = tx.send(out);
        }));
        async move { rx.await.expect("the carrier task sends the result") }
    }

    fn loop_counts(&self) -> LoopCounts {
        let c = self.runtime().probes().counters;
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
}

impl LabRuntime for Tokio {
    const NAME: &'static str = "tokio";

    fn fresh() -> Self {
        Tokio::new()
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
        let metrics = self.rt.metrics();
        LoopCounts {
            parks: Some(metrics.worker_park_count(0)),
            ..LoopCounts::default()
        }
    }
}

/// Polls, yields and nesting seen by [`counted`] and [`frame`] on this thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Polls of futures wrapped in [`counted`] (the tasks).
    pub polls: u64,
    /// Of those, polls that returned `Pending`: yields back to the loop.
    pub yields: u64,
    /// Polls of futures wrapped in [`frame`] (the levels inside a task).
    pub frames: u64,
    /// The deepest a [`frame`] poll sat below the poll of its [`counted`] task, in bytes
    /// of stack.
    pub stack_bytes: u64,
}

thread_local! {
    static TALLY: Cell<Tally> = const { Cell::new(Tally { polls: 0, yields: 0, frames: 0, stack_bytes: 0 }) };
    /// The stack address of the [`counted`] poll in progress (0 outside one).
    static TASK_STACK: Cell<usize> = const { Cell::new(0) };
}

/// Returns this thread's tally and starts a new one.
///
/// ```
/// let _ = turnstile_benches::lab::take_tally();
/// assert_eq!(turnstile_benches::lab::take_tally().polls, 0);
/// ```
pub fn take_tally() -> Tally {
    TALLY.with(|t| t.replace(Tally::default()))
}

fn tally(update: impl FnOnce(&mut Tally)) {
    TALLY.with(|t| {
        let mut v = t.get();
        update(&mut v);
        t.set(v);
    });
}

/// An address in the caller's stack frame.
#[inline(always)]
fn stack_address() -> usize {
    let marker = 0u8;
    black_box(&marker) as *const u8 as usize
}

/// Wraps a task's future to count its polls and yields in this thread's [`Tally`].
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// lab::take_tally();
/// Tokio::new().block_on(lab::counted(async { tokio::task::yield_now().await }));
/// assert_eq!(lab::take_tally().yields, 1);
/// ```
pub async fn counted<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(move |cx| {
        let outer = TASK_STACK.with(|s| s.replace(stack_address()));
        tally(|t| t.polls += 1);
        let out = future.as_mut().poll(cx);
        if out.is_pending() {
            tally(|t| t.yields += 1);
        }
        TASK_STACK.with(|s| s.set(outer));
        out
    })
    .await
}

/// Wraps one level of a nested future to count its polls and the stack depth it runs
/// at, below the enclosing [`counted`] poll.
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// lab::take_tally();
/// Tokio::new().block_on(lab::counted(lab::frame(lab::frame(async {}))));
/// assert_eq!(lab::take_tally().frames, 2);
/// ```
pub async fn frame<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(move |cx| {
        let top = TASK_STACK.with(Cell::get);
        let depth = top.saturating_sub(stack_address()) as u64;
        tally(|t| {
            t.frames += 1;
            t.stack_bytes = t.stack_bytes.max(depth);
        });
        future.as_mut().poll(cx)
    })
    .await
}

/// A future that is ready on its first poll, with a poll that is a real (not inlined)
/// function call: the cheapest thing an `.await` can wait for.
///
/// ```
/// use turnstile_benches::{lab::ReadyLeaf, BenchRuntime, Tokio};
/// assert_eq!(Tokio::new().block_on(ReadyLeaf(3)), 3);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct ReadyLeaf(pub u64);

impl Future for ReadyLeaf {
    type Output = u64;

    #[inline(never)]
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u64> {
        Poll::Ready(black_box(self.0))
    }
}

/// An await chain whose depth is part of its type: each level is an `async fn` that
/// awaits the level below. The compiler sees the whole
/// chain and may fold it into one state machine.
pub trait Chain: 'static {
    /// How many levels of `async` sit above the leaf.
    const DEPTH: u32;

    /// The chain over `leaf`: awaiting it awaits `leaf` through every level.
    fn call<L>(leaf: L) -> impl Future<Output = L::Output> + Send
    where
        L: Future + Send,
        L::Output: Send;
}

/// The innermost level: an `async fn` awaiting the leaf.
#[derive(Debug)]
pub struct One;

/// One more level above `T`.
#[derive(Debug)]
pub struct Up<T>(PhantomData<T>);

impl Chain for One {
    const DEPTH: u32 = 1;

    async fn call<L>(leaf: L) -> L::Output
    where
        L: Future + Send,
        L::Output: Send,
    {
        leaf.await
    }
}

impl<T: Chain> Chain for Up<T> {
    const DEPTH: u32 = T::DEPTH + 1;

    async fn call<L>(leaf: L) -> L::Output
    where
        L: Future + Send,
        L::Output: Send,
    {
        T::call(leaf).await
    }
}

/// Called with the [`Chain`] type of a depth chosen at run time.
pub trait ChainVisitor {
    /// What the visit returns.
    type Output;
    /// Does the work with chain type `C`.
    fn visit<C: Chain>(self) -> Self::Output;
}

/// The deepest [`Chain`] that [`with_chain`] can build.
pub const MAX_CHAIN_DEPTH: u32 = 64;

macro_rules! dispatch_depth {
    ($depth:ident, $visitor:ident, $ty:ty, $n:expr;) => {};
    ($depth:ident, $visitor:ident, $ty:ty, $n:expr; $_level:tt $($rest:tt)*) => {
        if $depth == $n {
            return Some($visitor.visit::<$ty>());
        }
        dispatch_depth!($depth, $visitor, Up<$ty>, $n + 1; $($rest)*);
    };
}

/// Calls `visitor` with the [`Chain`] of `depth` levels (1 to [`MAX_CHAIN_DEPTH`]), or
/// returns `None` for a depth outside that range.
///
/// ```
/// use turnstile_benches::lab::{with_chain, Chain, ChainVisitor};
/// struct Depth;
/// impl ChainVisitor for Depth {
///     type Output = u32;
///     fn visit<C: Chain>(self) -> u32 { C::DEPTH }
/// }
/// assert_eq!(with_chain(50, Depth), Some(50));
/// assert_eq!(with_chain(0, Depth), None);
/// ```
pub fn with_chain<V: ChainVisitor>(depth: u32, visitor: V) -> Option<V::Output> {
    dispatch_depth!(depth, visitor, One, 1u32;
        _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _
        _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _  _ _ _ _ _ _ _ _
    );
    None
}

/// The same chain with each level boxed (`Pin<Box<dyn Future>>`), as a recursive
/// `async fn` or an `async-trait` method must be: one allocation and one indirect poll
/// per level, like a heap-allocated coroutine frame. `depth` 0 is taken as 1.
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// assert_eq!(Tokio::new().block_on(lab::boxed_chain(50, lab::ReadyLeaf(7))), 7);
/// ```
pub fn boxed_chain<L>(depth: u32, leaf: L) -> Pin<Box<dyn Future<Output = L::Output> + Send>>
where
    L: Future + Send + 'static,
    L::Output: Send,
{
    if depth <= 1 {
        // The async block is the level: one boxed frame awaiting the leaf.
        #[allow(clippy::redundant_async_block)]
        Box::pin(async move { leaf.await })
    } else {
        Box::pin(async move { boxed_chain(depth - 1, leaf).await })
    }
}

/// How [`sleepers`] starts its tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatherShape {
    /// Spawn every task at once and await them all.
    AllAtOnce,
    /// Split the tasks into this many batches; each batch runs to completion before the
    /// next is spawned.
    Batches(u64),
    /// Spawn every task at once, but each holds one of this many semaphore permits while
    /// it sleeps, so at most that many sleep at a time.
    Semaphore(u64),
}

/// `tasks` tasks, each awaiting `sleeps` sleeps of `sleep` in a row, started as `shape`
/// says. Each task is [`counted`] (behind the semaphore, its wait for a permit too).
/// Returns the number of sleeps completed.
///
/// ```
/// use std::time::Duration;
/// use turnstile_benches::{lab::{self, GatherShape}, BenchRuntime, Tokio};
/// let done = Tokio::new().block_on(lab::sleepers::<Tokio>(
///     GatherShape::Batches(2), 10, 3, Duration::from_millis(1)));
/// assert_eq!(done, 30);
/// ```
pub async fn sleepers<R: LabRuntime>(
    shape: GatherShape,
    tasks: u64,
    sleeps: u32,
    sleep: Duration,
) -> u64 {
    let sleeper = move || async move {
        for _ in 0..sleeps {
            R::sleep(sleep).await;
        }
        u64::from(sleeps)
    };
    let mut done = 0;
    match shape {
        GatherShape::AllAtOnce => {
            let handles: Vec<_> = (0..tasks).map(|_| R::spawn(counted(sleeper()))).collect();
            for h in handles {
                done += h.await.expect("sleeper task");
            }
        }
        GatherShape::Batches(batches) => {
            let size = tasks.div_ceil(batches.max(1)).max(1);
            let mut started = 0;
            while started < tasks {
                let n = size.min(tasks - started);
                let handles: Vec<_> = (0..n).map(|_| R::spawn(counted(sleeper()))).collect();
                for h in handles {
                    done += h.await.expect("sleeper task");
                }
                started += n;
            }
        }
        GatherShape::Semaphore(permits) => {
            let semaphore = Arc::new(async_lock::Semaphore::new(permits.max(1) as usize));
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let semaphore = semaphore.clone();
                    let work = sleeper();
                    R::spawn(counted(async move {
                        let _permit = semaphore.acquire_arc().await;
                        work.await
                    }))
                })
                .collect();
            for h in handles {
                done += h.await.expect("sleeper task");
            }
        }
    }
    done
}

thread_local! {
    static IDLE_STARTED: Cell<u64> = const { Cell::new(0) };
}

/// The future of one idle task: it notes that it has started, then waits forever.
///
/// ```
/// let size = std::mem::size_of_val(&turnstile_benches::lab::idle_task());
/// assert!(size < 64);
/// ```
pub async fn idle_task() {
    IDLE_STARTED.with(|n| n.set(n.get() + 1));
    std::future::pending::<()>().await
}

/// Spawns `tasks` [`idle_task`]s, detaches them, and returns once each has been polled
/// once, so that all of them are parked in the runtime waiting for a wake that never
/// comes. They live until the runtime is dropped.
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(lab::spawn_idle::<Tokio>(100));
/// ```
pub async fn spawn_idle<R: LabRuntime>(tasks: u64) {
    let start = IDLE_STARTED.with(Cell::get);
    for _ in 0..tasks {
        drop(R::spawn(idle_task()));
    }
    while IDLE_STARTED.with(Cell::get) - start < tasks {
        R::yield_now().await;
    }
}

/// Two tasks passing a baton `rounds` times each way; every pass is one wake of the
/// other task and one yield of this one: a task-to-task switch through the loop.
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// lab::take_tally();
/// Tokio::new().block_on(lab::ping_pong::<Tokio>(10));
/// // Each player passes once per poll (the first poll may find the baton elsewhere).
/// assert!(lab::take_tally().polls >= 2 * 10);
/// ```
pub async fn ping_pong<R: LabRuntime>(rounds: u64) {
    let baton = Arc::new(Baton::default());
    let players: Vec<_> = (0..2)
        .map(|me| {
            let baton = baton.clone();
            R::spawn(counted(async move { baton.play(me, rounds).await }))
        })
        .collect();
    for p in players {
        p.await.expect("ping-pong player");
    }
}

/// Whose turn it is (the count of passes so far: even for player 0), and each player's
/// waker.
#[derive(Default)]
struct Baton {
    passes: AtomicU64,
    wakers: [AtomicWaker; 2],
}

impl Baton {
    async fn play(&self, me: u64, rounds: u64) {
        for _ in 0..rounds {
            poll_fn(|cx| {
                if self.passes.load(Ordering::Acquire) % 2 == me {
                    return Poll::Ready(());
                }
                self.wakers[me as usize].register(cx.waker());
                if self.passes.load(Ordering::Acquire) % 2 == me {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
            self.passes.fetch_add(1, Ordering::AcqRel);
            self.wakers[1 - me as usize].wake();
        }
    }
}

/// `depth` levels of a boxed recursive `async fn`, each yielding once before it calls
/// the next, every level wrapped in a [`frame`]. Returns `depth`.
///
/// Each yield of level `k` resumes through the `k - 1` levels above it, so a task poll
/// costs as many frame polls as the chain is deep at that moment.
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// lab::take_tally();
/// assert_eq!(Tokio::new().block_on(lab::counted(lab::yield_recursively::<Tokio>(10))), 10);
/// let t = lab::take_tally();
/// assert_eq!((t.polls, t.frames), (11, 10 + 10 * 11 / 2));
/// ```
pub fn yield_recursively<R: LabRuntime>(depth: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(frame(async move {
        R::yield_now().await;
        if depth <= 1 {
            1
        } else {
            yield_recursively::<R>(depth - 1).await + 1
        }
    }))
}

/// The same work as [`yield_recursively`] written as a loop: `depth` yields in one
/// [`frame`]. Returns `depth`.
///
/// ```
/// use turnstile_benches::{lab, BenchRuntime, Tokio};
/// lab::take_tally();
/// Tokio::new().block_on(lab::counted(lab::yield_in_loop::<Tokio>(10)));
/// assert_eq!(lab::take_tally().frames, 11);
/// ```
pub async fn yield_in_loop<R: LabRuntime>(depth: u64) -> u64 {
    frame(async move {
        for _ in 0..depth {
            R::yield_now().await;
        }
        depth
    })
    .await
}
