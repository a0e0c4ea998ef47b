//! The halves of a `UnixStream` (`into_split`, `halves`): an echo through owned halves
//! in two tasks, borrowed halves in one, readiness and `try_*` calls on the halves, and
//! the exact counts the probes give, the same as for the whole stream.
// Miri has no sockets.
#![cfg(not(miri))]

mod common;

use std::io::ErrorKind;

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::unix::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use turnstile::net::UnixStream;
use turnstile::probes::Level;

use common::counting;

#[test]
fn an_echo_through_owned_halves_in_two_tasks_counts_as_the_stream_does() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut client, server) = UnixStream::pair().unwrap();
        let (mut read, mut write): (OwnedReadHalf, OwnedWriteHalf) = server.into_split();
        let before = turnstile::probes::snapshot().counters;
        // One task reads, the other writes back what it is handed, until EOF.
        let (tx, mut rx) = futures::channel::mpsc::unbounded::<Vec<u8>>();
        let reader = turnstile::spawn(async move {
            let mut buf = [0; 64];
            while let Ok(n @ 1..) = read.read(&mut buf).await {
                tx.unbounded_send(buf[..n].to_vec()).unwrap();
            }
        });
        let writer = turnstile::spawn(async move {
            use futures::StreamExt;
            while let Some(chunk) = rx.next().await {
                write.write_all(&chunk).await.unwrap();
            }
            // `write` drops here: the client reads EOF.
        });
        for message in [&b"ping"[..], &b"a longer message"[..]] {
            client.write_all(message).await.unwrap();
            let mut back = vec![0; message.len()];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, message);
        }
        client.close().await.unwrap(); // the reader sees EOF and ends
        reader.await.unwrap();
        writer.await.unwrap();
        assert_eq!(client.read(&mut [0; 8]).await.unwrap(), 0, "EOF");
        before
    });
    let d = rt.probes().counters.since(&before);
    // 20 bytes each way.
    assert_eq!((d.unix_bytes_written, d.unix_bytes_read), (40, 40));
    // Two writes each side. Reads: the client's two and its EOF; the server's two and
    // its EOF.
    assert_eq!(d.unix_writes_inline + d.unix_writes_waited, 4);
    assert_eq!(d.unix_reads_inline + d.unix_reads_waited, 6);
    // No write waited. Of the reads, two found their data there: the server's first
    // (the reader first runs when the client already sent "ping") and the client's
    // final EOF; the client's two echoes and the server's second message and EOF
    // waited for the reactor.
    assert_eq!((d.unix_writes_inline, d.unix_writes_waited), (4, 0));
    assert_eq!((d.unix_reads_inline, d.unix_reads_waited), (2, 4));
    assert_eq!(d.wakes_io, 4);
    assert_eq!(
        (d.tcp_bytes_read, d.tcp_bytes_written),
        (0, 0),
        "not counted as TCP"
    );
}

#[test]
fn borrowed_halves_read_and_write_at_once_from_one_task() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let before = turnstile::probes::snapshot().counters;
        {
            let (mut read, mut write): (ReadHalf<'_>, WriteHalf<'_>) = a.halves();
            let mut buf = [0; 2];
            let (sent, got) = futures::join!(write.write_all(b"hi"), async {
                b.write_all(b"yo").await?;
                read.read_exact(&mut buf).await
            });
            sent.unwrap();
            got.unwrap();
            assert_eq!(&buf, b"yo");
            write.close().await.unwrap(); // shuts down a's write side
        }
        let mut buf = [0; 4];
        b.read_exact(&mut buf[..2]).await.unwrap();
        assert_eq!(&buf[..2], b"hi");
        assert_eq!(b.read(&mut buf).await.unwrap(), 0, "EOF after close");
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.unix_writes_inline, d.unix_writes_waited), (2, 0));
    // Every read found its data (or EOF) already there.
    assert_eq!((d.unix_reads_inline, d.unix_reads_waited), (3, 0));
    assert_eq!((d.unix_bytes_written, d.unix_bytes_read), (4, 4));
}

#[test]
fn owned_halves_have_readiness_and_try_calls_counted_as_the_stream_is() {
    let rt = counting();
    let before = rt.block_on(async {
        let (client, server) = UnixStream::pair().unwrap();
        let (read, write) = server.into_split();
        let (_client_read, client_write) = client.into_split();
        assert!(read.peer_addr().unwrap().is_unnamed());
        assert!(write.peer_addr().unwrap().is_unnamed());
        let before = turnstile::probes::snapshot().counters;
        let mut buf = [0; 8];
        assert_eq!(
            read.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let reader = turnstile::spawn(async move {
            let mut buf = [0; 8];
            read.readable().await.unwrap(); // waits
            let n = read.try_read(&mut buf).unwrap();
            buf[..n].to_vec()
        });
        turnstile::yield_now().await;
        client_write.writable().await.unwrap();
        assert_eq!(client_write.try_write(b"split").unwrap(), 5);
        assert_eq!(reader.await.unwrap(), b"split");
        write.writable().await.unwrap();
        assert_eq!(
            write
                .try_write_vectored(&[std::io::IoSlice::new(b"!")])
                .unwrap(),
            1
        );
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.ready_waited, d.ready_inline), (1, 2));
    assert_eq!((d.unix_reads_inline, d.unix_bytes_read), (1, 5));
    assert_eq!((d.unix_writes_inline, d.unix_bytes_written), (2, 6));
}

#[test]
fn a_waited_readiness_of_a_half_is_an_await_site_at_the_callers_line() {
    let rt = turnstile::Runtime::builder()
        .probes(Level::Timing)
        .build()
        .unwrap();
    let line = rt.block_on(async {
        let (mut client, server) = UnixStream::pair().unwrap();
        let (read, _write) = server.into_split();
        let (tx, rx) = futures::channel::oneshot::channel();
        let reader = turnstile::spawn(async move {
            // A try that says WouldBlock clears the readiness: the wait goes to the loop.
            let empty = read.try_read(&mut [0; 1]).unwrap_err();
            assert_eq!(empty.kind(), ErrorKind::WouldBlock);
            let line = line!() + 1;
            read.readable().await.unwrap();
            tx.send(line).unwrap();
        });
        turnstile::yield_now().await;
        client.write_all(b"x").await.unwrap();
        reader.await.unwrap();
        rx.await.unwrap()
    });
    let site = format!("{}:{line}:", file!());
    let text = serde_json::to_string(&rt.probes()).unwrap();
    assert!(text.contains(&site), "no await site {site} in {text}");
}

#[test]
fn dropping_the_owned_write_half_gives_the_peer_eof() {
    let rt = counting();
    rt.block_on(async {
        let (mut a, b) = UnixStream::pair().unwrap();
        let (_read, write) = b.into_split();
        drop(write);
        assert_eq!(a.read(&mut [0; 4]).await.unwrap(), 0);
    });
}
