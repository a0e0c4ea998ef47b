//! cargo run --release -p turnstile --example trace -- target/turnstile-trace.json
//!
//! Records a small workload at `Level::Trace` and writes it as Chrome/Perfetto trace
//! JSON to the path in the first argument (open it in ui.perfetto.dev or
//! chrome://tracing): a slice per turn with the polls and parks inside it, the ready
//! queue's depth as a counter, and an arrow from each wake to the poll it caused. The
//! narrated text of the same trace is printed: a line per turn, one per poll.

use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "turnstile-trace.json".to_string());
    let rt = Runtime::builder().probes(Level::Trace).build()?;
    rt.block_on(async {
        let yielder = turnstile::task::Builder::new()
            .name("yielder")
            .spawn(async {
                for _ in 0..3 {
                    turnstile::yield_now().await;
                }
            });
        let sleeper = turnstile::task::Builder::new()
            .name("sleeper")
            .spawn(turnstile::time::sleep(Duration::from_millis(5)));
        let blocker = turnstile::task::Builder::new()
            .name("blocker")
            .spawn(async { std::thread::sleep(Duration::from_millis(15)) });
        yielder.await.unwrap();
        sleeper.await.unwrap();
        blocker.await.unwrap();
    });
    let snap = rt.probes();
    let trace = snap.trace.as_ref().expect("Level::Trace keeps a trace");
    print!("{}", trace.narrate());
    if let Some(dir) = std::path::Path::new(&path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    std::fs::write(&path, trace.to_chrome_json())?;
    println!(
        "\nwrote {} events ({} dropped) to {path}",
        trace.events.len(),
        trace.dropped
    );
    Ok(())
}
