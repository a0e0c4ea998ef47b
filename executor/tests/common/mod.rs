//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

/// A runtime that counts (the level whose numbers the tests assert).
pub fn counting() -> Runtime {
    Runtime::builder()
        .probes(Level::Counters)
        .build()
        .expect("runtime")
}

/// `n` milliseconds, stretched a hundredfold under Miri. Miri runs code so slowly that a
/// few milliseconds pass between a sleep's creation and its first poll; the counts these
/// tests assert need the sleep still pending at that poll.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(if cfg!(miri) { n * 100 } else { n })
}

/// The text of a panic payload (`&str` or `String`), or an empty string.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// A 5-deep chain of async fns over one 10 ms sleep (`ms(10)`): the await-chain
/// article's workload (`chain` in the lab).
pub async fn chain5() {
    level2().await
}
async fn level2() {
    level3().await
}
async fn level3() {
    level4().await
}
async fn level4() {
    level5().await
}
async fn level5() {
    turnstile::time::sleep(ms(10)).await;
}
/// Where the sleep at the bottom of [`chain5`] is created: `file:line:` as a site shows.
pub fn chain5_sleep_site() -> String {
    format!("{}:{}:", file!(), CHAIN5_SLEEP_LINE)
}
const CHAIN5_SLEEP_LINE: u32 = line!() - 6;
