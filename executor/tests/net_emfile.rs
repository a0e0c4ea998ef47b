//! Running out of file descriptors: `accept` backs off on a timer instead of spinning
//! the loop, and accepts the waiting connection once descriptors are free.
//!
//! Lowering `RLIMIT_NOFILE` affects the whole process, so the test re-runs this test
//! binary as a child process (selected by an environment variable) and checks that the
//! child ran the scenario and passed.
// Miri has no sockets; the net code has no `unsafe` of its own to check.
#![cfg(not(miri))]

use std::fs::File;
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

use futures::AsyncWriteExt;
use turnstile::net::TcpListener;
use turnstile::probes::Level;
use turnstile::Runtime;

/// Set in the child process: run the starved server instead of spawning.
const CHILD: &str = "TURNSTILE_EMFILE_CHILD";
const TEST_NAME: &str = "accept_backs_off_while_out_of_descriptors_and_recovers";
/// The child's descriptor limit: small, so that filling it is quick.
const FD_LIMIT: u64 = 64;
/// How long the child stays starved while the loop is watched.
const STARVED: Duration = Duration::from_millis(300);

#[test]
fn accept_backs_off_while_out_of_descriptors_and_recovers() {
    if std::env::var_os(CHILD).is_some() {
        starved_server();
        return;
    }
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("re-running the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("emfile child: recovered"),
        "the starved child failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    println!(
        "{}",
        stdout
            .lines()
            .find(|l| l.contains("emfile child"))
            .unwrap_or_default()
    );
}

/// The child: a server whose process has no descriptor left for the next connection.
fn starved_server() {
    set_fd_limit(FD_LIMIT);
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();

        // Take every free descriptor, give one back for the client, which takes it:
        // none is left for the server's side of the connection.
        let mut hogs = Vec::new();
        loop {
            match File::open("/dev/null") {
                Ok(file) => hogs.push(file),
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
                Err(e) => panic!("unexpected error while filling the descriptor table: {e}"),
            }
        }
        assert!(!hogs.is_empty(), "the limit left no descriptor to hog");
        hogs.pop();
        let mut client = std::net::TcpStream::connect(addr).expect("client connect");
        assert_eq!(
            File::open("/dev/null").map_err(|e| e.raw_os_error()).err(),
            Some(Some(libc::EMFILE)),
            "a descriptor is still free"
        );

        let server = turnstile::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            stream.write_all(b"welcome").await.expect("write");
        });

        // Starved: the accept task fails with EMFILE and backs off. Watch the loop.
        let before = turnstile::probes::snapshot().counters;
        let (cpu0, wall0) = (thread_cpu(), Instant::now());
        turnstile::time::sleep(STARVED).await;
        let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed());
        let d = turnstile::probes::snapshot().counters.since(&before);
        assert!(!server.is_finished(), "accepted with no descriptor free?");
        assert_eq!(d.tcp_accepts_inline + d.tcp_accepts_waited, 0);
        // At least the first retry happened (its 1 ms timer fires before our sleep's).
        assert!(d.accept_backoffs >= 2, "no backoff: {d:?}");
        // Backoffs double from 1 ms to 100 ms: 8 fit in the first 227 ms, then one per
        // 100 ms. A loop that retried at once would make thousands.
        let most = 9 + wall.as_millis() as u64 / 100;
        assert!(
            d.accept_backoffs <= most,
            "{} backoffs in {wall:?}",
            d.accept_backoffs
        );
        assert!(
            d.turns <= 3 * d.accept_backoffs + 10,
            "the loop spun: {d:?}"
        );
        // A load on the machine stretches the wall time, never the CPU time.
        assert!(
            cpu < wall / 2,
            "the loop used {cpu:?} of CPU in {wall:?} while starved"
        );

        // Free the descriptors: the next retry accepts the waiting connection.
        drop(hogs);
        turnstile::time::timeout(Duration::from_secs(10), server)
            .await
            .expect("accept did not recover within 10 s")
            .expect("server task");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut buf = [0; 7];
        client.read_exact(&mut buf).expect("read from the server");
        assert_eq!(&buf, b"welcome");
        println!(
            "emfile child: recovered after {} backoffs, {} turns, {cpu:?} CPU in {wall:?} starved",
            d.accept_backoffs, d.turns
        );
    });
}

/// Sets this process's soft limit on open descriptors.
fn set_fd_limit(soft: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(got, 0, "getrlimit: {}", std::io::Error::last_os_error());
    limit.rlim_cur = soft.min(limit.rlim_max);
    // SAFETY: `limit` is a valid `rlimit`; lowering the soft limit needs no privilege
    // and only makes later `open`s and `accept`s fail with EMFILE, which is the point.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(set, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

/// CPU time used by the calling thread (the loop thread) so far.
fn thread_cpu() -> Duration {
    // SAFETY: `rusage` is plain old data; all zeros is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the duration of the call.
    let got = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) };
    assert_eq!(got, 0, "getrusage: {}", std::io::Error::last_os_error());
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}
