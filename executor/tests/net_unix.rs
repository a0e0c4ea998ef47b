//! Unix domain sockets on the reactor: stream echo through a listener bound to a path,
//! datagrams between bound paths and in pairs, readiness and `try_*` calls, std
//! round trips, and errors, with the exact counts the probes give.
// Miri has no sockets.
#![cfg(not(miri))]

mod common;

use std::io::ErrorKind;
use std::path::Path;

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{UnixDatagram, UnixListener, UnixStream};

use common::counting;

/// An echo server on `listener` for one connection: writes back what it reads until
/// EOF, then ends.
fn spawn_echo(listener: UnixListener) -> turnstile::JoinHandle<()> {
    turnstile::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buf).await {
            stream.write_all(&buf[..n]).await.unwrap();
        }
    })
}

#[test]
fn stream_echo_through_a_listener_in_a_tempdir_counts_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("echo.sock");
    let rt = counting();
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let server = spawn_echo(listener);
        let mut client = UnixStream::connect(&path).await.unwrap();
        for message in [&b"ping"[..], &b"a longer message"[..]] {
            client.write_all(message).await.unwrap();
            let mut back = vec![0; message.len()];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, message);
        }
        client.close().await.unwrap(); // the server reads EOF and ends its task
        server.await.unwrap();
    });
    let c = rt.probes().counters;
    // 20 bytes each way: the client wrote them and the server read them, then back.
    assert_eq!((c.unix_bytes_written, c.unix_bytes_read), (40, 40));
    // Two writes each side; two reads by the client, and three by the server: two
    // messages and the EOF.
    assert_eq!(c.unix_writes_inline + c.unix_writes_waited, 4);
    assert_eq!(c.unix_reads_inline + c.unix_reads_waited, 5);
    assert_eq!(c.unix_accepts_inline + c.unix_accepts_waited, 1);
    assert_eq!(
        (c.tcp_bytes_read, c.tcp_bytes_written),
        (0, 0),
        "not counted as TCP"
    );
    drop(rt);
    // The socket file lives as long as the directory; removing the directory removes it.
    assert!(path.exists());
    let dir_path = dir.path().to_path_buf();
    dir.close().unwrap();
    assert!(!dir_path.exists() && !path.exists());
}

#[test]
fn a_stream_pair_counts_inline_and_waited_reads_exactly() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let before = turnstile::probes::snapshot().counters;
        a.write_all(b"hello").await.unwrap(); // inline: room in the buffer
        let mut buf = [0; 5];
        b.read_exact(&mut buf).await.unwrap(); // inline: the data is there
        assert_eq!(&buf, b"hello");
        let reader = turnstile::spawn(async move {
            let mut buf = [0; 3];
            b.read_exact(&mut buf).await.unwrap(); // waits: nothing there yet
            buf
        });
        turnstile::yield_now().await; // the reader runs and waits
        a.write_all(b"abc").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"abc");
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.unix_writes_inline, d.unix_writes_waited), (2, 0));
    assert_eq!((d.unix_reads_inline, d.unix_reads_waited), (1, 1));
    assert_eq!((d.unix_bytes_written, d.unix_bytes_read), (8, 8));
    assert_eq!(d.wakes_io, 1);
    assert_eq!((d.polls, d.polls_pending), (2, 1));
}

#[test]
fn datagrams_between_bound_paths_carry_their_sender() {
    let dir = tempfile::tempdir().unwrap();
    let (server_path, client_path) = (dir.path().join("server"), dir.path().join("client"));
    let rt = counting();
    let before = rt.block_on(async {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        let before = turnstile::probes::snapshot().counters;
        let echo = turnstile::spawn(async move {
            let mut buf = [0; 64];
            let (n, from) = server.recv_from(&mut buf).await.unwrap(); // waits
            let to = from.as_pathname().unwrap().to_path_buf();
            server.send_to(&buf[..n], &to).await.unwrap();
            to
        });
        turnstile::yield_now().await; // the server waits for a datagram
        client.send_to(b"ping!", &server_path).await.unwrap();
        let mut buf = [0; 64];
        let (n, from) = client.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping!");
        assert_eq!(from.as_pathname(), Some(server_path.as_path()));
        assert_eq!(echo.await.unwrap(), client_path);
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.unix_sends_inline, d.unix_sends_waited), (2, 0));
    // Both receives waited: the server's for the client's datagram, the client's for
    // the echo (the server task sends it in the next turn).
    assert_eq!((d.unix_recvs_inline, d.unix_recvs_waited), (0, 2));
    assert_eq!(d.wakes_io, 2);
    assert_eq!((d.unix_bytes_sent, d.unix_bytes_received), (10, 10));
    assert_eq!(
        (d.udp_bytes_sent, d.udp_bytes_received),
        (0, 0),
        "not counted as UDP"
    );
}

#[test]
fn a_datagram_pair_echoes_with_try_calls_and_readiness() {
    let rt = counting();
    let before = rt.block_on(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let before = turnstile::probes::snapshot().counters;
        let mut buf = [0; 16];
        assert_eq!(
            b.try_recv(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(a.try_send(b"one").unwrap(), 3);
        b.readable().await.unwrap(); // waits for the reactor: the try cleared readiness
        assert_eq!(b.try_recv(&mut buf).unwrap(), 3);
        b.writable().await.unwrap(); // inline
        assert_eq!(b.try_send(b"four").unwrap(), 4);
        assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.unix_sends_inline, d.unix_recvs_inline), (2, 2));
    assert_eq!((d.unix_bytes_sent, d.unix_bytes_received), (7, 7));
    assert_eq!((d.ready_waited, d.ready_inline), (1, 1));
}

#[test]
fn stream_try_read_on_empty_is_would_block_then_readable_then_succeeds() {
    let rt = counting();
    rt.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut buf = [0; 8];
        assert_eq!(
            b.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(a.try_write(b"data").unwrap(), 4);
        b.readable().await.unwrap();
        assert_eq!(b.try_read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"data");
    });
}

#[test]
fn a_listener_bound_to_a_plain_path_leaves_its_file_until_removed() {
    let path = std::env::temp_dir().join(format!("turnstile-unix-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let rt = counting();
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        // A second bind to the same path: the file exists.
        let err = UnixListener::bind(&path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        drop(listener);
    });
    assert!(
        path.exists(),
        "std, tokio and turnstile leave the file in place"
    );
    std::fs::remove_file(&path).unwrap();
    assert!(!path.exists());
}

#[test]
fn into_std_and_from_std_keep_unix_connections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.sock");
    let rt = counting();
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let listener = UnixListener::from_std(listener.into_std().unwrap()).unwrap();
        let mut client = UnixStream::connect(&path).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut server = UnixStream::from_std(server.into_std().unwrap()).unwrap();
        client.write_all(b"kept").await.unwrap();
        let mut buf = [0; 4];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"kept");

        let (a, b) = UnixDatagram::pair().unwrap();
        let a = UnixDatagram::from_std(a.into_std().unwrap()).unwrap();
        a.send(b"x").await.unwrap();
        assert_eq!(b.recv(&mut buf).await.unwrap(), 1);
    });
}

#[test]
fn poll_accept_on_a_unix_listener() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.sock");
    let rt = counting();
    let c = rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let _client = UnixStream::connect(&path).await.unwrap();
        std::future::poll_fn(|cx| listener.poll_accept(cx))
            .await
            .unwrap();
        turnstile::probes::snapshot().counters
    });
    assert_eq!((c.unix_accepts_inline, c.unix_accepts_waited), (1, 0));
}

#[test]
fn unix_errors_are_io_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let rt = counting();
    rt.block_on(async {
        let too_long = dir.path().join("x".repeat(200));
        let err = UnixListener::bind(&too_long).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = UnixStream::connect(&too_long).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let err = UnixDatagram::bind(&too_long).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);

        let missing = dir.path().join("nobody-here.sock");
        let err = UnixStream::connect(&missing).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);

        // A bound datagram socket's path is not a listener: refused.
        let not_listening = dir.path().join("dgram.sock");
        let _d = UnixDatagram::bind(&not_listening).unwrap();
        assert!(UnixStream::connect(&not_listening).await.is_err());

        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut a = a;
        // Writing to a closed peer: an error (EPIPE), never a panic or a signal.
        let mut failed = false;
        for _ in 0..4 {
            if a.write_all(b"into the void").await.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed, "a write to a closed Unix stream fails");
    });
    assert!(Path::new(dir.path()).exists());
}

#[test]
fn datagram_poll_calls_through_poll_fn_are_counted() {
    use std::future::poll_fn;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("poll.sock");
    let rt = counting();
    let before = rt.block_on(async {
        let server = UnixDatagram::bind(&path).unwrap();
        let (a, b) = UnixDatagram::pair().unwrap();
        let before = turnstile::probes::snapshot().counters;
        assert_eq!(poll_fn(|cx| a.poll_send(cx, b"12")).await.unwrap(), 2);
        let mut buf = [0; 8];
        assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap(), 2);
        assert_eq!(
            poll_fn(|cx| a.poll_send_to(cx, b"345", &path))
                .await
                .unwrap(),
            3
        );
        let (n, from) = poll_fn(|cx| server.poll_recv_from(cx, &mut buf))
            .await
            .unwrap();
        assert_eq!((n, from.is_unnamed()), (3, true));
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.unix_sends_inline, d.unix_recvs_inline), (2, 2));
    assert_eq!((d.unix_bytes_sent, d.unix_bytes_received), (5, 5));
}
