//! The probes tell the truth in a real service: examples/axum_postgres.rs (axum,
//! tokio-postgres over turnstile's sockets, a real PostgreSQL from scripts/postgres.sh)
//! under wrk's load, with the watchdog on, and a handler that blocks the loop for 50 ms
//! (`GET /slow`) hit now and then. Run twice, without and with the flight recorder, and
//! checked from the runtime's own reports:
//!
//! - with the recorder on, no stall of 200 ms or more (the recorder's dumps do not stop
//!   the loop), and wrk's p99 within 1.5x (+5 ms) of the run without it;
//! - a stall report names the blocking handler's file and line, with no opt-in backtrace;
//! - the waits on the database and the waits on the HTTP clients are different sites,
//!   each named by its peer.
//!
//! It needs PostgreSQL and wrk, which `bash scripts/install-test-deps.sh` installs; without
//! them it fails and says so.
//!
//! With `TURNSTILE_CAPTURE=FILE` set, a run that passes also writes what it saw (wrk's
//! p99s, the stall reports of each kind, the flight files' figures) to FILE as a page
//! for the book: `scripts/capture-service.sh` writes docs/generated/service-capture.md.
#![cfg(not(miri))]

#[allow(dead_code)] // its `main` is the example's, not the test's
#[path = "../examples/axum_postgres.rs"]
mod app;
#[path = "common/postgres.rs"]
mod postgres;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use postgres::Postgres;
use turnstile::probes::Snapshot;

/// One HTTP/1.1 request on a fresh connection, answered in full: the response's text.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // The request comes a little after the connection, so the server's first read of
    // it waits (under wrk's load, a keep-alive connection's next request is often there
    // before the server reads, and such a read never waits).
    std::thread::sleep(Duration::from_millis(20));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: turnstile\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// wrk's p99 latency, from its `--latency` distribution.
fn p99(wrk_out: &str) -> Duration {
    let line = wrk_out
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))
        .unwrap_or_else(|| panic!("no p99 in wrk's output:\n{wrk_out}"));
    let v = line.split_whitespace().nth(1).unwrap();
    let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap());
    let num: f64 = num.parse().unwrap();
    let secs = match unit {
        "us" => num / 1e6,
        "ms" => num / 1e3,
        "s" => num,
        "m" => num * 60.0,
        other => panic!("wrk printed an unknown unit {other:?}"),
    };
    Duration::from_secs_f64(secs)
}

struct Run {
    p99: Duration,
    wrk_out: String,
    snapshot: Snapshot,
    app_port: u16,
}

/// Serves the app on a runtime of its own thread, loads it with wrk (20 connections,
/// 3 s) while another thread hits `/slow` six times, and returns wrk's p99 and the
/// runtime's snapshot after a graceful shutdown.
fn run(pg: &Postgres, flight_dir: Option<&Path>) -> Run {
    let (stop_tx, stop_rx) = futures::channel::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let url = pg.url.clone();
    let flight_dir = flight_dir.map(Path::to_path_buf);
    let server = std::thread::spawn(move || {
        let mut builder = turnstile::Runtime::builder()
            .name("real_service")
            .watchdog(Duration::from_millis(20));
        if let Some(dir) = &flight_dir {
            builder = builder
                .flight_recorder(Duration::from_secs(2))
                .flight_recorder_dir(dir);
        }
        let rt = builder.build().unwrap();
        let settings = app::Settings::new(&url, "127.0.0.1:0").unwrap();
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        rt.block_on(app::run(settings, shutdown, move |addr| {
            addr_tx.send(addr).unwrap()
        }))
        .unwrap();
        rt.probes()
    });
    let addr: SocketAddr = addr_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the app listens");
    let created = http(
        addr,
        "POST",
        "/users",
        r#"{"name":"ada","email":"ada@example.com"}"#,
    );
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");

    let slow = std::thread::spawn(move || {
        for _ in 0..6 {
            std::thread::sleep(Duration::from_millis(400));
            let out = http(addr, "GET", "/slow", "");
            assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        }
    });
    let wrk = Command::new("wrk")
        .args(["-t1", "-c20", "-d3s", "--latency"])
        .arg(format!("http://{addr}/users/1"))
        .output()
        .expect("wrk runs (is it installed? `bash scripts/install-test-deps.sh` installs it)");
    let wrk_out = String::from_utf8_lossy(&wrk.stdout).into_owned();
    assert!(wrk.status.success(), "wrk failed: {wrk_out}");
    assert!(
        !wrk_out.contains("Non-2xx") && !wrk_out.contains("Socket errors"),
        "every request answered: {wrk_out}"
    );
    slow.join().unwrap();
    stop_tx.send(()).unwrap();
    let snapshot = server.join().unwrap();
    Run {
        p99: p99(&wrk_out),
        wrk_out,
        snapshot,
        app_port: addr.port(),
    }
}

/// The line of the example's blocking call, as `file:line`.
fn blocking_line() -> String {
    let src = include_str!("../examples/axum_postgres.rs");
    let line = src
        .lines()
        .position(|l| l.contains("std::thread::sleep(Duration::from_millis(50))"))
        .expect("the example blocks in /slow")
        + 1;
    format!("axum_postgres.rs:{line}")
}

#[test]
fn a_real_service_under_load_is_reported_truthfully() {
    if Command::new("wrk").arg("--version").output().is_err() {
        panic!("wrk is not installed: `bash scripts/install-test-deps.sh` installs it");
    }
    let pg = Postgres::start("real_service_pg");
    let without = run(&pg, None);
    let dir = tempfile::tempdir().unwrap();
    let with = run(&pg, Some(dir.path()));

    // The recorder does not stop the loop: no stall of 200 ms or more, and wrk's p99
    // close to the run without it.
    let long: Vec<_> = with
        .snapshot
        .stalls
        .iter()
        .filter(|s| s.duration >= Duration::from_millis(200))
        .collect();
    assert!(long.is_empty(), "stalls of 200 ms or more: {long:#?}");
    let bound = without.p99.mul_f64(1.5) + Duration::from_millis(5);
    assert!(
        with.p99 <= bound,
        "p99 with the recorder {:?}, without {:?}",
        with.p99,
        without.p99
    );

    // The blocking handler's stall is reported at its line, with no backtrace asked for.
    let line = blocking_line();
    for run in [&without, &with] {
        let named = run
            .snapshot
            .stalls
            .iter()
            .filter(|s| s.blocked_at.as_deref().is_some_and(|b| b.contains(&line)))
            .count();
        assert!(
            named >= 1,
            "no stall report names {line}: {:#?}",
            run.snapshot.stalls
        );
        assert!(run.snapshot.stalls.iter().all(|s| s.backtrace.is_none()));

        // The database's waits and the clients' waits are two sites, named by peer.
        let label = |s: &turnstile_probes::SiteStats| s.label.clone().unwrap_or_default();
        let db = format!("from 127.0.0.1:{}", pg.port);
        let clients = format!("from a client of 127.0.0.1:{}", run.app_port);
        let db_sites: Vec<_> = run
            .snapshot
            .sites
            .iter()
            .filter(|s| label(s).contains(&db))
            .collect();
        let client_sites: Vec<_> = run
            .snapshot
            .sites
            .iter()
            .filter(|s| label(s).contains(&clients))
            .collect();
        assert!(
            !db_sites.is_empty() && !client_sites.is_empty(),
            "sites: {:#?}",
            run.snapshot.sites
        );
        assert!(db_sites.iter().all(|s| !label(s).contains("client of")));
    }
    if let Ok(path) = std::env::var("TURNSTILE_CAPTURE") {
        capture(Path::new(&path), &without, &with, dir.path());
    }
}

/// The run as a page for the book: where and when, wrk's latencies, one stall report of
/// each kind (the blocking handler's first), the flight files' figures.
fn capture(path: &Path, without: &Run, with: &Run, flight_dir: &Path) {
    let sh = |cmd: &str| {
        Command::new("sh")
            .args(["-c", cmd])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let machine = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2");
    out.push_str(&format!(
        "Captured {} on {} ({} cores), load average {}, at commit {}, by \
         `scripts/capture-service.sh` (`cargo test -p turnstile --features \
         hyper,tokio-io,tower --test real_service`, a debug build).\n\n",
        sh("date -u '+%Y-%m-%d %H:%M UTC'"),
        machine.trim(),
        sh("nproc"),
        sh("cut -d' ' -f1-3 /proc/loadavg"),
        sh("git rev-parse --short HEAD"),
    ));
    out.push_str(&format!(
        "wrk (`-t1 -c20 -d3s --latency`, `GET /users/1`) while `/slow` is hit six times: \
         p99 {:.2?} without the flight recorder, {:.2?} with it.\n\n",
        without.p99, with.p99
    ));
    let latency: Vec<&str> = with
        .wrk_out
        .lines()
        .filter(|l| l.contains("Latency") || l.contains("Requests/sec"))
        .collect();
    out.push_str("```text\n");
    for l in latency {
        out.push_str(l.trim());
        out.push('\n');
    }
    out.push_str("```\n\n");
    let line = blocking_line();
    let stalls = &with.snapshot.stalls;
    let mut shown: Vec<&turnstile::probes::StallReport> = Vec::new();
    if let Some(s) = stalls
        .iter()
        .find(|s| s.blocked_at.as_deref().is_some_and(|b| b.contains(&line)))
    {
        shown.push(s);
    }
    for s in stalls {
        if !shown.iter().any(|t| t.kind == s.kind) {
            shown.push(s);
        }
    }
    out.push_str(&format!(
        "{} stall reports with the recorder on; one of each kind seen, the blocking \
         handler's first:\n\n```text\n",
        stalls.len()
    ));
    for s in shown {
        out.push_str(&s.to_string());
        out.push_str("\n\n");
    }
    out.push_str("```\n\nThe flight files of that run (`probes::read_flight_file`):\n\n");
    out.push_str("| file | reason | records | window kept | whole window | handover on the loop | written by |\n");
    out.push_str("|---|---|---|---|---|---|---|\n");
    let mut files: Vec<_> = std::fs::read_dir(flight_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        let Ok(file) = turnstile::probes::read_flight_file(&f) else {
            continue;
        };
        let Some(meta) = file.meta else { continue };
        out.push_str(&format!(
            "| {} | {} | {} | {:.3?} | {} | {:.1?} | {} |\n",
            f.file_name().unwrap_or_default().to_string_lossy(),
            meta.reason,
            meta.records,
            Duration::from_nanos(meta.window_kept_ns),
            if meta.covers_window { "yes" } else { "no" },
            Duration::from_nanos(meta.handover_ns),
            meta.written_by,
        ));
    }
    std::fs::write(path, out).unwrap();
}
