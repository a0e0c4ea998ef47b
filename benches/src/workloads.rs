//! The workloads, each generic over [`BenchRuntime`]. Run them inside `block_on`.

use crate::BenchRuntime;

/// One task yielding `yields` times.
///
/// ```
/// use turnstile_benches::{workloads, BenchRuntime, Tokio};
/// Tokio::new().block_on(workloads::yield_one::<Tokio>(100));
/// ```
pub async fn yield_one<R: BenchRuntime>(yields: usize) {
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
/// use turnstile_benches::{workloads, BenchRuntime, Tokio};
/// Tokio::new().block_on(workloads::yield_many::<Tokio>(10, 10));
/// ```
pub async fn yield_many<R: BenchRuntime>(tasks: usize, yields: usize) {
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
/// use turnstile_benches::{workloads, BenchRuntime, Tokio};
/// Tokio::new().block_on(workloads::spawn_many_local::<Tokio>(10));
/// ```
pub async fn spawn_many_local<R: BenchRuntime>(tasks: usize) {
    let handles: Vec<_> = (0..tasks).map(|i| R::spawn(async move { i })).collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.await.unwrap(), i);
    }
}
