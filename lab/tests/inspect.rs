//! `turnstile-lab inspect`, through the real binary, against a runtime whose loop is
//! stuck in one poll.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnstile-lab"))
        .args(args)
        .output()
        .expect("the lab binary runs")
}

#[test]
fn inspect_prints_the_task_that_blocks_the_loop() {
    let path = std::env::temp_dir().join(format!("lab-inspect-{}.sock", std::process::id()));
    let socket = path.to_str().unwrap().to_owned();
    let done = Arc::new(AtomicBool::new(false));
    let finished = done.clone();
    let server = {
        let path = path.clone();
        std::thread::spawn(move || {
            let rt = turnstile::Runtime::builder()
                .inspect(&path)
                .inspect_period(Duration::ZERO)
                .build()
                .unwrap();
            rt.block_on(async {
                turnstile::task::Builder::new()
                    .name("blocker")
                    .spawn(async move {
                        turnstile::yield_now().await;
                        std::thread::sleep(Duration::from_millis(1500));
                        finished.store(true, Ordering::SeqCst);
                    })
                    .await
                    .unwrap();
            });
        })
    };
    // Wait until the loop is inside the blocker's sleep.
    loop {
        assert!(!done.load(Ordering::SeqCst), "never saw the loop blocked");
        if let Ok(report) = turnstile::probes::inspect(&path) {
            if report.task.as_ref().and_then(|t| t.name.as_deref()) == Some("blocker") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let json = lab(&["inspect", &socket, "--json"]);
    let text = lab(&["inspect", &socket]);
    assert!(
        !done.load(Ordering::SeqCst),
        "both answers came during the sleep"
    );
    assert!(json.status.success(), "{json:?}");
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["state"], "Polling");
    assert_eq!(report["task"]["name"], "blocker");
    assert!(text.status.success(), "{text:?}");
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("loop: polling task"), "{text}");
    assert!(text.contains("blocker"), "{text}");
    server.join().unwrap();

    // Nothing listens any more: a clear error, not a panic.
    let gone = lab(&["inspect", &socket]);
    assert!(!gone.status.success());
    let err = String::from_utf8(gone.stderr).unwrap();
    assert!(err.contains("no inspector answers"), "{err}");
}
