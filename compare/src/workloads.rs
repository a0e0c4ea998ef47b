//! The workloads the benches time, each generic over [`Runtime`]. Run them inside
//! `block_on`.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::Runtime;

/// One task yielding `yields` times.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// Tokio::new().block_on(workloads::yield_one::<Tokio>(100));
/// ```
pub async fn yield_one<R: Runtime>(yields: usize) {
    R::spawn(async move {
        for _ in 0..yields {
            R::yield_now().await;
        }
    })
    .await
    .unwrap();
}

/// `tasks` tasks each yielding `yields` times, interleaved by the loop.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// Tokio::new().block_on(workloads::yield_many::<Tokio>(10, 10));
/// ```
pub async fn yield_many<R: Runtime>(tasks: usize, yields: usize) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            R::spawn(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}

/// `tasks` spawns from the `block_on` future, each awaited.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// Tokio::new().block_on(workloads::spawn_many_local::<Tokio>(10));
/// ```
pub async fn spawn_many_local<R: Runtime>(tasks: usize) {
    let handles: Vec<_> = (0..tasks).map(|i| R::spawn(async move { i })).collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.await.unwrap(), i);
    }
}

/// `tasks` spawns through the runtime's handle from outside `block_on`, then one
/// `block_on` that awaits them all: the spawns travel the remote path.
///
/// ```
/// use turnstile_compare::{workloads, Tokio};
/// workloads::spawn_many_remote(&Tokio::new(), 10);
/// ```
pub fn spawn_many_remote<R: Runtime>(rt: &R, tasks: usize) {
    let handle = rt.handle();
    let handles: Vec<_> = (0..tasks)
        .map(|i| R::spawn_remote(&handle, async move { i }))
        .collect();
    rt.block_on(async move {
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i);
        }
    });
}

/// Spawns a task that spawns its successor forever: the loop always has work. Call it
/// once inside `block_on` before a `spawn_many_remote` measured on a busy loop.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// let rt = Tokio::new();
/// rt.block_on(async { workloads::keep_busy::<Tokio>() });
/// workloads::spawn_many_remote(&rt, 10);
/// ```
pub fn keep_busy<R: Runtime>() {
    drop(R::spawn(async { keep_busy::<R>() }));
}

/// `round_trips` times: spawn a task, send it a message over a oneshot channel, and
/// await its reply over another.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// Tokio::new().block_on(workloads::ping_pong::<Tokio>(10));
/// ```
pub async fn ping_pong<R: Runtime>(round_trips: usize) {
    for _ in 0..round_trips {
        let (ping_tx, ping_rx) = oneshot::channel::<()>();
        let (pong_tx, pong_rx) = oneshot::channel::<()>();
        drop(R::spawn(async move {
            ping_rx.await.unwrap();
            pong_tx.send(()).unwrap();
        }));
        ping_tx.send(()).unwrap();
        pong_rx.await.unwrap();
    }
}

/// A chain of `depth` tasks, each spawning the next; the last one signals the end.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// Tokio::new().block_on(workloads::chained_spawn::<Tokio>(10));
/// ```
pub async fn chained_spawn<R: Runtime>(depth: usize) {
    fn link<R: Runtime>(done: oneshot::Sender<()>, left: usize) {
        if left == 0 {
            done.send(()).unwrap();
        } else {
            drop(R::spawn(async move { link::<R>(done, left - 1) }));
        }
    }
    let (done_tx, done_rx) = oneshot::channel();
    link::<R>(done_tx, depth);
    done_rx.await.unwrap();
}

async fn ready_leaf() -> u64 {
    std::hint::black_box(1)
}
async fn chain4() -> u64 {
    ready_leaf().await
}
async fn chain3() -> u64 {
    chain4().await
}
async fn chain2() -> u64 {
    chain3().await
}
async fn chain1() -> u64 {
    chain2().await
}

/// `calls` awaits of a 5-deep chain of async fns over a leaf that is always ready: no
/// await reaches the loop, so this measures what the runtime adds around plain calls.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// assert_eq!(Tokio::new().block_on(workloads::await_chain(10)), 10);
/// ```
pub async fn await_chain(calls: usize) -> u64 {
    let mut sum = 0;
    for _ in 0..calls {
        sum += chain1().await;
    }
    sum
}

/// `tasks` tasks each sleeping `sleep` on the runtime's timers, all awaited.
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// let d = std::time::Duration::from_millis(1);
/// Tokio::new().block_on(workloads::timers::<Tokio>(10, d));
/// ```
pub async fn timers<R: Runtime>(tasks: usize, sleep: Duration) {
    let handles: Vec<_> = (0..tasks)
        .map(|_| R::spawn(async move { R::sleep_until(Instant::now() + sleep).await }))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
}

/// `timers` sleeps of an hour, each polled once (so its timer is registered) and
/// dropped (so it is cancelled).
///
/// ```
/// use turnstile_compare::{workloads, Runtime, Tokio};
/// Tokio::new().block_on(workloads::timer_cancel::<Tokio>(10));
/// ```
pub async fn timer_cancel<R: Runtime>(timers: usize) {
    let far = Instant::now() + Duration::from_secs(3600);
    poll_fn(|cx| {
        for _ in 0..timers {
            let mut sleep = pin!(R::sleep_until(far));
            assert!(sleep.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await;
}

/// Spins on the CPU for `duration` of wall time.
///
/// ```
/// let start = std::time::Instant::now();
/// turnstile_compare::workloads::spin(std::time::Duration::from_millis(1));
/// assert!(start.elapsed() >= std::time::Duration::from_millis(1));
/// ```
pub fn spin(duration: Duration) {
    let start = std::time::Instant::now();
    let mut x = 0u64;
    while start.elapsed() < duration {
        for i in 0..64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    std::hint::black_box(x);
}
