//! The inspector's socket is gone after SIGTERM or SIGINT ends the process, and a
//! process that handles the signal itself keeps it, and its own shutdown, until the
//! inspector is dropped.
//!
//! Each case runs in a child process: this test binary, re-executed with the case and
//! the socket's path in an environment variable. The parent waits for the child's
//! `ready` line, signals it and checks how it ended and that the path is gone.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use turnstile_probes::{Beacon, Clock, InspectState, Inspector, Level};

/// In the child: `CASE PATH`.
const CHILD: &str = "TURNSTILE_INSPECT_SIGNAL_CHILD";
/// The child's line once its inspector is up (and its handler, if any, installed).
const READY: &str = "child: inspector ready";

fn start(path: &Path) -> Inspector {
    let state = Arc::new(InspectState::new(
        "signals",
        Level::Off,
        Clock::new(),
        Arc::new(Beacon::default()),
    ));
    Inspector::start(path, state).expect("the inspector starts")
}

fn ready() {
    let mut out = std::io::stdout().lock();
    // On a line of its own: libtest has just written "test the_child ... " unended.
    writeln!(out, "\n{READY}").unwrap();
    out.flush().unwrap();
}

static STOP: AtomicBool = AtomicBool::new(false);
static mut PREVIOUS: usize = libc::SIG_DFL;

extern "C" fn set_stop(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// A handler that chains to the one it replaced, as signal-hook does.
extern "C" fn set_stop_and_chain(sig: libc::c_int) {
    // SAFETY: written once before this handler was installed, read-only after.
    let previous = unsafe { PREVIOUS };
    if previous != libc::SIG_DFL && previous != libc::SIG_IGN {
        // SAFETY: a handler installed with the plain (one-argument) form.
        let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(previous) };
        f(sig);
    }
    STOP.store(true, Ordering::SeqCst);
}

/// Installs `handler` for SIGTERM, keeping the previous handler in `PREVIOUS`.
fn handle_sigterm(handler: extern "C" fn(libc::c_int)) {
    // SAFETY: zeroed is a valid sigaction; `sa_mask` is emptied before use; the
    // handlers touch only atomics (and call the handler they replaced).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(libc::SIGTERM, &action, &mut old), 0);
        PREVIOUS = old.sa_sigaction;
    }
}

/// The child: an inspector, then whatever the case says, until a signal.
fn child(case: &str, path: &Path) {
    match case {
        // The default action ends the process.
        "default" => {
            let _inspector = start(path);
            ready();
            loop {
                std::thread::park();
            }
        }
        // The application handles SIGTERM (installed before the inspector started),
        // drops the inspector when it comes, and exits normally.
        "handled-before" | "handled-after" => {
            let inspector;
            if case == "handled-before" {
                handle_sigterm(set_stop);
                inspector = start(path);
            } else {
                inspector = start(path);
                handle_sigterm(set_stop_and_chain);
            }
            ready();
            while !STOP.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            // Still there: the application's shutdown decides when it goes.
            assert!(
                path.exists(),
                "the socket stays until the inspector is dropped"
            );
            assert!(turnstile_probes::inspect(path).is_ok(), "it still answers");
            drop(inspector);
            println!("dropped");
        }
        other => panic!("unknown case {other}"),
    }
}

/// Runs `case` in a child, sends it `sig` once it is ready; how it ended and its output.
fn run(case: &str, sig: libc::c_int) -> (PathBuf, ExitStatus, String) {
    let path = std::env::temp_dir().join(format!(
        "turnstile-signal-{case}-{sig}-{}.sock",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["the_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, format!("{case} {}", path.display()))
        .stdout(Stdio::piped())
        .spawn()
        .expect("re-running the test binary");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line.trim_end() != READY {
        line.clear();
        assert_ne!(
            out.read_line(&mut line).unwrap(),
            0,
            "the child ended before ready"
        );
    }
    assert!(path.exists(), "the child's socket is there");
    // SAFETY: signalling our own child, which has not been waited for yet.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, sig) };
    assert_eq!(rc, 0);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    // A guard against a hung child, not a measurement.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not end after signal {sig}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (path, status, rest)
}

#[test]
fn the_child() {
    if let Some(spec) = std::env::var_os(CHILD) {
        let spec = spec.into_string().unwrap();
        let (case, path) = spec.split_once(' ').unwrap();
        child(case, Path::new(path));
    }
}

#[test]
fn sigterm_removes_the_socket_and_still_ends_the_process() {
    let (path, status, _) = run("default", libc::SIGTERM);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(!path.exists(), "{} left behind", path.display());
}

#[test]
fn sigint_removes_the_socket_and_still_ends_the_process() {
    let (path, status, _) = run("default", libc::SIGINT);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert!(!path.exists(), "{} left behind", path.display());
}

#[test]
fn a_handler_installed_before_the_inspector_keeps_the_signal_and_the_drop_removes_it() {
    let (path, status, out) = run("handled-before", libc::SIGTERM);
    assert!(status.success(), "{status:?}: {out}");
    assert!(out.contains("dropped"), "{out}");
    assert!(!path.exists(), "{} left behind", path.display());
}

#[test]
fn a_chaining_handler_installed_after_the_inspector_keeps_the_signal_too() {
    let (path, status, out) = run("handled-after", libc::SIGTERM);
    assert!(status.success(), "{status:?}: {out}");
    assert!(out.contains("dropped"), "{out}");
    assert!(!path.exists(), "{} left behind", path.display());
}
