//! Signals over the reactor, graceful shutdown on SIGTERM, and `shutdown_timeout`.
//!
//! Signals are process-wide and the test harness runs tests on threads of one process,
//! so each test uses a signal of its own. The SIGTERM test runs the example server in a
//! child process (this test binary, re-run with `--ignored` on one test) and signals it.

mod common;

#[path = "../examples/graceful_shutdown.rs"]
mod graceful;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use turnstile::signal::unix::{signal, SignalKind};
use turnstile::time::timeout;

use common::{counting, ms};

/// Sends `sig` to this process.
fn raise(sig: libc::c_int) {
    // SAFETY: `kill` on our own pid with a signal we listen for; no memory is involved.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

/// Sends `sig` to this thread alone: its handler has run when this returns.
fn raise_here(sig: libc::c_int) {
    // SAFETY: `raise` with a signal we listen for; no memory is involved.
    assert_eq!(unsafe { libc::raise(sig) }, 0);
}

#[test]
fn a_signal_from_another_thread_ends_a_park_and_is_counted() {
    let rt = counting();
    rt.block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        let sender = thread::spawn(|| {
            thread::sleep(Duration::from_millis(20));
            raise(libc::SIGUSR1);
        });
        assert_eq!(usr1.recv().await, Some(()));
        sender.join().unwrap();
    });
    let c = rt.probes().counters;
    assert_eq!(c.signals_received, 1);
    assert!(c.parks >= 1, "the loop parked until the signal came");
    assert_eq!(c.wakes_io, 1, "the signal's pipe woke the task, as I/O");
}

#[test]
fn deliveries_while_no_one_waits_coalesce_into_one_recv() {
    let rt = counting();
    rt.block_on(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        // Thread-directed, so each delivery's handler has run when `raise` returns: a
        // `kill` of our own pid may be handled by another thread of the test harness
        // after the first recv, which would make it a fourth delivery, not a late one.
        for _ in 0..3 {
            raise_here(libc::SIGUSR2);
        }
        assert_eq!(usr2.recv().await, Some(()));
        assert!(
            timeout(ms(20), usr2.recv()).await.is_err(),
            "one recv took all three"
        );
        raise_here(libc::SIGUSR2);
        assert_eq!(usr2.recv().await, Some(()));
    });
    assert_eq!(rt.probes().counters.signals_received, 2);
}

#[test]
fn every_listener_of_a_signal_hears_it() {
    let rt = counting();
    rt.block_on(async {
        let mut a = signal(SignalKind::hangup()).unwrap();
        let mut b = signal(SignalKind::hangup()).unwrap();
        assert_eq!(a.kind(), SignalKind::hangup());
        raise(libc::SIGHUP);
        assert_eq!(a.recv().await, Some(()));
        assert_eq!(b.recv().await, Some(()));
    });
    assert_eq!(rt.probes().counters.signals_received, 2);
}

#[test]
fn signals_that_cannot_be_listened_for_are_errors_not_panics() {
    let rt = counting();
    rt.block_on(async {
        for bad in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -3] {
            let err = signal(SignalKind::from_raw(bad)).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}: {err}");
        }
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    let rt = counting();
    rt.block_on(async {
        let waiting = turnstile::spawn(turnstile::signal::ctrl_c());
        turnstile::yield_now().await; // its first poll installed the handler
        raise(libc::SIGINT);
        waiting.await.unwrap().unwrap();
    });
    assert_eq!(rt.probes().counters.signals_received, 1);
}

// ---- graceful shutdown on SIGTERM, in a child process ----

/// The child: the example server on an ephemeral port. Run only by the parent test
/// below (`--ignored`), never by itself.
#[test]
#[ignore = "the server half of sigterm_stops_accepting_drains_and_exits_zero"]
fn graceful_server_child() {
    assert!(
        std::env::var_os("TURNSTILE_GRACEFUL_CHILD").is_some(),
        "run only by sigterm_stops_accepting_drains_and_exits_zero (it waits for a SIGTERM)"
    );
    let rt = turnstile::Runtime::new().unwrap();
    let served = rt
        .block_on(async {
            let listener = turnstile::net::TcpListener::bind("127.0.0.1:0").await?;
            graceful::serve(listener).await
        })
        .unwrap();
    assert_eq!(served, 2);
}

#[test]
fn sigterm_stops_accepting_drains_and_exits_zero() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "graceful_server_child",
            "--ignored",
            "--nocapture",
        ])
        .env("TURNSTILE_GRACEFUL_CHILD", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("re-running the test binary");
    let (lines_tx, lines) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let wait_for = |prefix: &str| -> String {
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("the server never printed {prefix:?}"));
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.trim().to_string();
            }
        }
    };
    let addr = wait_for("listening on ");

    let mut busy = TcpStream::connect(&addr).unwrap();
    let idle = TcpStream::connect(&addr).unwrap();
    assert_eq!(round_trip(&mut busy, "hello\n"), "hello\n");

    // SAFETY: signalling our own child process; no memory is involved.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0);
    assert_eq!(wait_for("stopped accepting ("), "2 open)");

    // No new connections, but the open ones are still served.
    assert_eq!(
        TcpStream::connect(&addr).unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    assert_eq!(round_trip(&mut busy, "still here\n"), "still here\n");
    drop(idle);
    drop(busy);
    assert_eq!(wait_for("drained "), "2 connections");
    let status = child.wait().unwrap();
    assert!(status.success(), "the server exited with {status}");
}

/// Sends `line` and reads back as many bytes.
fn round_trip(conn: &mut TcpStream, line: &str) -> String {
    conn.write_all(line.as_bytes()).unwrap();
    let mut back = vec![0; line.len()];
    conn.read_exact(&mut back).unwrap();
    String::from_utf8(back).unwrap()
}

// ---- shutdown_timeout and shutdown_background ----

#[test]
fn shutdown_timeout_waits_for_running_blocking_jobs_and_drops_unstarted_ones() {
    /// Says when the job that owns it is dropped, run or not.
    struct Tell(mpsc::Sender<()>);
    impl Drop for Tell {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let rt = turnstile::Runtime::builder()
        .blocking_threads(1)
        .build()
        .unwrap();
    let started = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
    rt.block_on({
        let (started, finished) = (started.clone(), finished.clone());
        let dropped_tx = dropped_tx.clone();
        async move {
            // The pool's one thread takes this job and holds it until `go`.
            let (s, f) = (started.clone(), finished.clone());
            let _first = turnstile::spawn_blocking(move || {
                s.fetch_add(1, Ordering::SeqCst);
                let _ = go_rx.recv();
                f.fetch_add(1, Ordering::SeqCst);
            });
            while started.load(Ordering::SeqCst) == 0 {
                turnstile::time::sleep(ms(1)).await;
            }
            // Two more queue behind it.
            for _ in 0..2 {
                let (s, f, tell) = (started.clone(), finished.clone(), Tell(dropped_tx.clone()));
                let _queued = turnstile::spawn_blocking(move || {
                    let _tell = tell;
                    s.fetch_add(1, Ordering::SeqCst);
                    f.fetch_add(1, Ordering::SeqCst);
                });
            }
        }
    });
    drop(dropped_tx);
    // Releases the first job once the shutdown has dropped both queued ones: so the
    // pool thread cannot have reached them.
    let releaser = thread::spawn(move || {
        for _ in 0..2 {
            dropped_rx.recv().unwrap();
        }
        drop(go_tx);
    });
    rt.shutdown_timeout(Duration::from_secs(60));
    releaser.join().unwrap();
    // The running job was waited for; the two queued behind it never started.
    assert_eq!(started.load(Ordering::SeqCst), 1);
    assert_eq!(finished.load(Ordering::SeqCst), 1);
}

#[test]
fn shutdown_timeout_gives_up_on_a_stuck_job_and_shutdown_background_waits_for_none() {
    for background in [false, true] {
        let rt = turnstile::Runtime::new().unwrap();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let done = Arc::new(AtomicBool::new(false));
        let (running_tx, running_rx) = mpsc::channel::<()>();
        rt.block_on({
            let done = done.clone();
            async move {
                let _detached = turnstile::spawn_blocking(move || {
                    running_tx.send(()).unwrap();
                    release_rx.recv().unwrap(); // stuck until the test says
                    done.store(true, Ordering::SeqCst);
                });
            }
        });
        running_rx.recv().unwrap();
        if background {
            rt.shutdown_background();
        } else {
            rt.shutdown_timeout(Duration::from_millis(20));
        }
        assert!(
            !done.load(Ordering::SeqCst),
            "it returned while the job was stuck"
        );
        release_tx.send(()).unwrap();
    }
}
