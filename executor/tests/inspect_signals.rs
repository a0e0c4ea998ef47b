//! A server with an inspector that shuts down gracefully on SIGTERM (the
//! `graceful_shutdown` example's `serve`) leaves no socket behind.
//!
//! The server runs in a child process (this test binary, re-executed): the parent waits
//! for `listening on`, checks the inspector's socket is there, sends SIGTERM, and checks
//! that the child exited 0 (it handled the signal; the inspector did not take it) and
//! that the socket is gone (the runtime's drop removed it).
#![cfg(not(miri))]

#[path = "../examples/graceful_shutdown.rs"]
mod graceful;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use turnstile::net::TcpListener;
use turnstile::Runtime;

/// In the child: the inspector's path.
const CHILD: &str = "TURNSTILE_INSPECT_SIGTERM_CHILD";
const TEST_NAME: &str = "a_graceful_shutdown_on_sigterm_removes_the_inspectors_socket";

#[test]
fn a_graceful_shutdown_on_sigterm_removes_the_inspectors_socket() {
    if let Some(path) = std::env::var_os(CHILD) {
        let rt = Runtime::builder()
            .inspect(PathBuf::from(path))
            .build()
            .unwrap();
        let served = rt
            .block_on(async { graceful::serve(TcpListener::bind("127.0.0.1:0").await?).await })
            .unwrap();
        assert_eq!(served, 0);
        return; // `rt` drops here, with its inspector
    }
    let path = std::env::temp_dir().join(format!("turnstile-sigterm-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, &path)
        .stdout(Stdio::piped())
        .spawn()
        .expect("re-running the test binary");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "the child ended early"
        );
    }
    assert!(path.exists(), "the inspector's socket is up");
    let report = turnstile::probes::inspect(&path).expect("it answers its owner");
    assert_eq!(report.refused, 0);
    // SAFETY: signalling our own child, not yet waited for.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    // A guard against a hung child, not a measurement.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}: {rest}");
    assert!(rest.contains("drained 0 connections"), "{rest}");
    assert!(!path.exists(), "{} left behind", path.display());
}
