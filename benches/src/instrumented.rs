//! The same loops with and without `#[turnstile::instrument]`, to measure what an
//! instrumented await costs: one that completes at once (`ready_*`), and a yield that
//! returns through three instrumented frames (`chain3_*`).

use std::future::ready;
use std::hint::black_box;

/// `n` awaits of futures that are ready at once, in an uninstrumented `async fn`.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// assert_eq!(rt.block_on(turnstile_benches::instrumented::ready_plain(4)), 6);
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn ready_plain(n: usize) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(ready(black_box(i as u64)).await);
    }
    sum
}

/// `ready_plain` under `#[turnstile::instrument]`: every await is instrumented.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// assert_eq!(rt.block_on(turnstile_benches::instrumented::ready_instrumented(4)), 6);
/// # Ok::<(), std::io::Error>(())
/// ```
#[turnstile::instrument]
pub async fn ready_instrumented(n: usize) -> u64 {
    let mut sum = 0u64;
    for i in 0..n {
        sum = sum.wrapping_add(ready(black_box(i as u64)).await);
    }
    sum
}

/// One spawned task yielding `n` times at the bottom of a 3-deep chain of
/// uninstrumented `async fn`s.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(turnstile_benches::instrumented::chain3_plain(3));
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn chain3_plain(n: usize) {
    async fn one() {
        two().await
    }
    async fn two() {
        three().await
    }
    async fn three() {
        turnstile::yield_now().await
    }
    turnstile::spawn(async move {
        for _ in 0..n {
            one().await;
        }
    })
    .await
    .unwrap();
}

/// `chain3_plain` with the three `async fn`s instrumented: each yield returns through
/// three instrumented frames.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(turnstile_benches::instrumented::chain3_instrumented(3));
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn chain3_instrumented(n: usize) {
    #[turnstile::instrument]
    async fn one() {
        two().await
    }
    #[turnstile::instrument]
    async fn two() {
        three().await
    }
    #[turnstile::instrument]
    async fn three() {
        turnstile::yield_now().await
    }
    turnstile::spawn(async move {
        for _ in 0..n {
            one().await;
        }
    })
    .await
    .unwrap();
}
