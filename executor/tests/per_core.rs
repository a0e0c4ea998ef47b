//! One loop per core, as the `per_core` example runs them: two loops share a port
//! through SO_REUSEPORT, each `/metrics` shows its own loop only, and between them the
//! loops accepted exactly the connections that were made.
// Miri has no sockets.
#![cfg(not(miri))]

#[path = "../examples/shared/hello_metrics.rs"]
mod hello_metrics;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;

use hello_metrics::{reuse_port_listener, serve_loop};
use turnstile::probes::Level;

const LOOPS: usize = 2;
/// Connections made to the shared port, one request each.
const CONNECTIONS: u64 = 20;

/// The body of `GET path` over HTTP/1.0: one connection, closed after the response.
fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(head.contains(" 200 "), "{head}");
    body.to_string()
}

/// The value of the series `name{runtime="<runtime>"}` in an exposition.
fn value(text: &str, name: &str, runtime: &str) -> u64 {
    let series = format!("{name}{{runtime=\"{runtime}\"}} ");
    let line = text
        .lines()
        .find(|l| l.starts_with(&series))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"));
    line[series.len()..].parse().expect("a count")
}

#[test]
fn each_loop_shows_its_own_metrics_and_they_add_up() {
    let first = reuse_port_listener("127.0.0.1:0".parse().unwrap()).expect("listen");
    let shared = first.local_addr().unwrap();
    let mut listeners = vec![first];
    for _ in 1..LOOPS {
        listeners.push(reuse_port_listener(shared).expect("a second listener, same port"));
    }
    let mut metrics_addrs = Vec::new();
    for (i, listener) in listeners.into_iter().enumerate() {
        let metrics = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        metrics_addrs.push(metrics.local_addr().unwrap());
        // The loops serve until the test process exits.
        thread::spawn(move || serve_loop(&format!("loop-{i}"), Level::Counters, listener, metrics));
    }

    for _ in 0..CONNECTIONS {
        assert_eq!(get(shared, "/"), "Hello, World!");
    }
    // Every connection above was accepted before its response came back, so each
    // loop's scrape below counts all of its share, and its own scrape connection.
    let mut accepted = 0;
    for (i, addr) in metrics_addrs.iter().enumerate() {
        let text = get(*addr, "/metrics");
        let me = format!("loop-{i}");
        for other in (0..LOOPS).filter(|&j| j != i) {
            let other = format!("runtime=\"loop-{other}\"");
            assert!(!text.contains(&other), "{me} shows {other}:\n{text}");
        }
        let mine = value(&text, "turnstile_tcp_accepts_inline_total", &me)
            + value(&text, "turnstile_tcp_accepts_waited_total", &me);
        eprintln!("{me} accepted {mine} connections (its scrape included)");
        accepted += mine;
    }
    assert_eq!(accepted, CONNECTIONS + LOOPS as u64);
}
