//! TCP on the reactor: echo round trips, many connections, half-close, refused and
//! reset connections, split halves, and the exact I/O counts the design fixes.
// Miri has no sockets; the net code has no `unsafe` of its own to check.
#![cfg(not(miri))]

mod common;

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};

use common::counting;

/// A connected client and server stream on loopback.
async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Spawns an echo server: every connection gets a task that writes back what it reads
/// until EOF, then closes. Returns its address.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let _server = turnstile::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _connection = turnstile::spawn(echo(stream));
        }
    });
    addr
}

async fn echo(mut stream: TcpStream) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if stream.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Bytes that differ at every position, so a reordering or a lost chunk shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Sends `data` through the echo server at `addr` (writing and reading at once, so a
/// payload larger than the socket buffers cannot deadlock) and returns what came back.
async fn round_trip(addr: SocketAddr, data: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).await?;
    let (mut read, mut write) = stream.halves();
    let send = async {
        write.write_all(data).await?;
        write.close().await // half-close: the server sees EOF and closes in turn
    };
    let mut back = Vec::with_capacity(data.len());
    let (sent, received) = futures::join!(send, read.read_to_end(&mut back));
    sent?;
    received?;
    Ok(back)
}

#[test]
fn echo_round_trips_of_1_byte_64_kib_and_8_mib() {
    let rt = counting();
    rt.block_on(async {
        let addr = echo_server().await;
        for len in [1, 64 * 1024, 8 * 1024 * 1024] {
            let data = pattern(len);
            let back = round_trip(addr, &data).await.expect("round trip");
            assert_eq!(back.len(), len);
            assert!(back == data, "the {len}-byte echo came back different");
        }
    });
    let c = rt.probes().counters;
    let total = (1 + 64 * 1024 + 8 * 1024 * 1024) as u64;
    // Both ends count: the client writes and reads `total`, so does the server.
    assert_eq!(c.tcp_bytes_written, 2 * total);
    assert_eq!(c.tcp_bytes_read, 2 * total);
}

#[test]
fn a_thousand_concurrent_connections_each_echo_their_own_bytes() {
    const CONNECTIONS: usize = 1000;
    const LEN: usize = 4096;
    // All thousand connect in one turn: the listener's backlog (1024) holds them until
    // they are accepted, provided net.core.somaxconn is at least that (4096 on current
    // kernels; an older 128 would drop connections here, and this test would say so).
    raise_fd_limit(2 * CONNECTIONS as u64 + 100);
    let rt = counting();
    rt.block_on(async {
        let addr = echo_server().await;
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|i| {
                turnstile::spawn(async move {
                    let data: Vec<u8> = (0..LEN).map(|j| (i * 7 + j) as u8).collect();
                    let back = round_trip(addr, &data).await.expect("round trip");
                    assert!(back == data, "connection {i} got someone else's bytes");
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client task");
        }
    });
    let c = rt.probes().counters;
    assert_eq!(
        c.tcp_accepts_inline + c.tcp_accepts_waited,
        CONNECTIONS as u64
    );
    assert_eq!(c.tcp_bytes_read, 2 * (CONNECTIONS * LEN) as u64);
    assert_eq!(c.panics, 0);
}

#[test]
fn half_close_lets_the_peer_answer_after_eof() {
    let rt = counting();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = turnstile::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap(); // ends at the client's FIN
            stream.write_all(b"bye").await.unwrap();
            got
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut reply = Vec::new();
        client.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"bye");
        assert_eq!(server.await.unwrap(), b"hello");
        // Writing after our own half-close is an error, not a panic.
        assert!(client.write_all(b"more").await.is_err());
    });
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    }; // closed again: nothing listens there now
    let rt = counting();
    let err = rt
        .block_on(TcpStream::connect(("127.0.0.1", port)))
        .expect_err("nothing listens there");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn reading_after_the_peer_resets_is_an_error() {
    let rt = counting();
    rt.block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (peer, _) = listener.accept().unwrap();
        client.write_all(b"unread").await.unwrap();
        // Wait until the bytes reached the peer, unread: closing a socket with unread
        // data sends a reset (RST), not a FIN.
        let mut seen = [0; 6];
        while peer.peek(&mut seen).unwrap() < 6 {}
        drop(peer);
        let mut buf = [0; 16];
        let err = client.read(&mut buf).await.expect_err("the peer reset");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        // The stream stays usable as a value: more I/O gives errors or EOF, never a hang.
        let again = client.read(&mut buf).await;
        assert!(matches!(again, Ok(0) | Err(_)));
        assert!(client.write_all(b"x").await.is_err());
    });
}

#[test]
fn a_read_that_finds_data_ready_completes_without_a_yield() {
    let rt = counting();
    rt.block_on(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"0123456789").await.unwrap();
        // The first byte may or may not have arrived yet: this read may wait.
        let mut first = [0; 1];
        server.read_exact(&mut first).await.unwrap();
        // The other nine came in the same segment: they are in the socket now.
        let before = turnstile::probes::snapshot().counters;
        let mut rest = [0; 9];
        server.read_exact(&mut rest).await.unwrap();
        let d = turnstile::probes::snapshot().counters.since(&before);
        assert_eq!(&rest, b"123456789");
        assert_eq!((d.tcp_reads_inline, d.tcp_reads_waited), (1, 0));
        assert_eq!(d.tcp_bytes_read, 9);
        // No yield: the block_on future was not polled again, the loop did not turn.
        assert_eq!((d.main_polls, d.turns, d.reactor_polls), (0, 0, 0));
    });
}

#[test]
fn a_read_that_waits_is_woken_by_the_reactor() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut client, mut server) = connected_pair().await;
        let before = turnstile::probes::snapshot().counters;
        let reader = turnstile::spawn(async move {
            let mut buf = [0; 4];
            server.read_exact(&mut buf).await.unwrap();
            buf
        });
        // One turn: the reader runs first, finds nothing and waits for readiness.
        turnstile::yield_now().await;
        client.write_all(b"ping").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"ping");
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.tcp_reads_waited, d.tcp_reads_inline), (1, 0));
    assert_eq!(d.tcp_writes_inline, 1);
    // The reader's one wake came from the reactor; its poll count is start + wake.
    assert_eq!(d.wakes_io, 1);
    // The loop had nothing to run while the reader waited: it parked in the reactor,
    // which delivered the readiness event.
    assert!(d.io_events >= 1);
    assert!(d.parks >= 1 && d.reactor_polls >= d.parks, "{d:?}");
    assert_eq!(d.polls, 2);
    assert_eq!(d.polls_pending, 1);
}

#[test]
fn owned_halves_read_and_write_from_two_tasks() {
    const LEN: usize = 1024 * 1024;
    let rt = counting();
    rt.block_on(async {
        let addr = echo_server().await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut read, mut write) = stream.into_split();
        let data = pattern(LEN);
        let expected = data.clone();
        let writer = turnstile::spawn(async move {
            for chunk in data.chunks(10_000) {
                write.write_all(chunk).await.unwrap();
            }
            // Dropping the write half sends FIN: the echo server closes, we read EOF.
        });
        let reader = turnstile::spawn(async move {
            let mut back = Vec::new();
            read.read_to_end(&mut back).await.unwrap();
            back
        });
        writer.await.unwrap();
        assert!(reader.await.unwrap() == expected);
    });
}

#[test]
fn a_stream_dropped_while_a_read_waits_wakes_nobody_and_closes() {
    let rt = counting();
    rt.block_on(async {
        let (mut client, server) = connected_pair().await;
        let reader = turnstile::spawn(async move {
            let mut server = server;
            let mut buf = [0; 1];
            let _ = server.read(&mut buf).await;
        });
        turnstile::yield_now().await; // the reader now waits on the socket
        reader.abort(); // drops the stream inside the task: deregistered, closed
        let mut buf = [0; 1];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0, "the peer sees EOF");
    });
}

#[test]
fn a_stream_dropped_on_another_thread_closes() {
    let rt = counting();
    let (stream, listener) = rt.block_on(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        (stream, listener)
    });
    let (mut peer, _) = listener.accept().unwrap();
    std::thread::spawn(move || drop(stream)).join().unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0; 1];
    assert_eq!(io::Read::read(&mut peer, &mut buf).unwrap(), 0);
    // The runtime goes on: its orphaned slot is freed at the next registration.
    rt.block_on(async {
        let addr = echo_server().await;
        assert_eq!(round_trip(addr, b"after").await.unwrap(), b"after");
    });
}

#[test]
fn using_a_socket_outside_a_runtime_panics_and_says_what_to_do() {
    let std_stream = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap()
    };
    let panic = catch_unwind(AssertUnwindSafe(|| TcpStream::from_std(std_stream)))
        .expect_err("no runtime here");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("outside a runtime") && message.contains("block_on"),
        "unhelpful panic: {message:?}"
    );
    let panic = catch_unwind(|| futures::executor::block_on(TcpListener::bind("127.0.0.1:0")))
        .expect_err("no runtime here");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("TcpListener used outside a runtime"),
        "{message:?}"
    );
}

/// Raises this process's soft limit on open descriptors to at least `wanted` (up to
/// the hard limit), for the many-connections test on machines with a low default.
fn raise_fd_limit(wanted: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur >= wanted {
        return;
    }
    limit.rlim_cur = wanted.min(limit.rlim_max);
    // SAFETY: `limit` is a valid `rlimit`; raising the soft limit up to the hard limit
    // needs no privilege and affects only descriptor accounting.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
}
