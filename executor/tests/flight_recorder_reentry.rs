//! A flight-recorder file that cannot be written: the stall's warning says why, and the
//! runtime goes on.
//!
//! Alone in its own test binary, like `probes_tracing.rs`: tracing caches call sites'
//! interest process-wide.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

use common::ms;

/// Collects the messages of `turnstile` warnings.
struct Warnings(Arc<Mutex<Vec<String>>>);

struct Message(String);
impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl tracing::Subscriber for Warnings {
    fn enabled(&self, m: &tracing::Metadata<'_>) -> bool {
        m.target() == "turnstile" && *m.level() == tracing::Level::WARN
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut m = Message(String::new());
        e.record(&mut m);
        self.0.lock().unwrap().push(m.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn an_unwritable_directory_is_reported_and_the_runtime_goes_on() {
    // A directory below a plain file cannot be created, whoever runs the test.
    let file = std::env::temp_dir().join(format!("turnstile-flight-file-{}", std::process::id()));
    std::fs::write(&file, b"not a directory").unwrap();
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let _guard = tracing::subscriber::set_default(Warnings(warnings.clone()));
    for level in [Level::Off, Level::Timing] {
        warnings.lock().unwrap().clear();
        let rt = Runtime::builder()
            .probes(level)
            .flight_recorder(Duration::from_secs(5))
            .flight_recorder_dir(file.join("flight"))
            .stall_threshold(ms(10))
            .build()
            .unwrap();
        let out = rt.block_on(async {
            turnstile::spawn(async { std::thread::sleep(ms(30)) })
                .await
                .unwrap();
            // The loop goes on after the failed write.
            turnstile::spawn(async { 7 }).await.unwrap()
        });
        assert_eq!(out, 7);
        // The file is written (or not) by the recorder's thread: wait for it. The
        // failure is reported once, as a warning, whether the loop or `flush` saw it.
        let flushed = rt.flight_recorder().flush();
        assert_eq!(rt.flight_recorder().files(), (0, 1), "{level:?}");
        let seen = warnings.lock().unwrap().clone();
        let failed: Vec<_> = seen
            .iter()
            .filter(|w| w.contains("flight recorder: could not write"))
            .collect();
        assert_eq!(failed.len(), 1, "{level:?}: {seen:?}");
        assert!(failed[0].starts_with("stall: "), "{}", failed[0]);
        if let Err(e) = flushed {
            assert!(e.to_string().contains("could not write"), "{e}");
        }
        // And the runtime still runs.
        assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    }
    std::fs::remove_file(&file).unwrap();
}
