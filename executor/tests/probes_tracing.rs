//! Stalls reach `tracing` subscribers as warnings under target `turnstile`.
//!
//! Alone in its own test binary: tracing caches each call site's interest globally, and
//! a thread-local subscriber set while other tests emit from the same call sites on
//! other threads can miss events.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use turnstile::Runtime;

use common::ms;

#[test]
fn stalls_are_tracing_warnings() {
    struct Count(Arc<AtomicU64>);
    impl tracing::Subscriber for Count {
        fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
            m.target() == "turnstile"
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, e: &tracing::Event<'_>) {
            if *e.metadata().level() == tracing::Level::WARN {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
    let warnings = Arc::new(AtomicU64::new(0));
    let _guard = tracing::subscriber::set_default(Count(warnings.clone()));
    let rt = Runtime::builder().stall_threshold(ms(20)).build().unwrap();
    rt.block_on(async { turnstile::spawn(async { std::thread::sleep(ms(60)) }).await })
        .unwrap();
    let stalls = rt.probes().stalls_total;
    assert!(stalls >= 1);
    assert_eq!(warnings.load(Ordering::SeqCst), stalls);
}
