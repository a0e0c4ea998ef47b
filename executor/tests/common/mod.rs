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
