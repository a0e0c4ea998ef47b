//! tokio's readiness and non-waiting calls on TCP and UDP (`readable`, `try_read`,
//! `ready`, `peek`, `poll_accept`, `poll_send`/`poll_recv`), fd access through
//! `socket2::SockRef`, `TcpSocket`, `into_std`/`from_std`, and errors that are
//! `io::Error`s, each with the exact counts the probes give.
// Miri has no sockets.
#![cfg(not(miri))]

mod common;

use std::future::poll_fn;
use std::io::{self, ErrorKind};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt, FutureExt};
use socket2::SockRef;
use turnstile::net::{Interest, TcpListener, TcpSocket, TcpStream, UdpSocket};
use turnstile::probes::Level;

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

#[test]
fn try_read_on_an_empty_socket_is_would_block_and_counts_nothing() {
    let rt = counting();
    let before = rt.block_on(async {
        let (_client, server) = connected_pair().await;
        let before = turnstile::probes::snapshot().counters;
        let mut buf = [0; 8];
        // The first asks the OS; the second knows from the reactor, without asking.
        for _ in 0..2 {
            let err = server.try_read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
        }
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!(
        (d.tcp_reads_inline, d.tcp_reads_waited, d.tcp_bytes_read),
        (0, 0, 0)
    );
    assert_eq!(
        d.polls_pending + d.budget_yields,
        0,
        "try_read never yields"
    );
}

#[test]
fn readable_waits_for_the_reactor_then_try_read_succeeds() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut client, server) = connected_pair().await;
        let mut buf = [0; 16];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let before = turnstile::probes::snapshot().counters;
        let reader = turnstile::spawn(async move {
            let mut buf = [0; 16];
            loop {
                server.readable().await.unwrap();
                match server.try_read(&mut buf) {
                    Ok(n) => return buf[..n].to_vec(),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
                    Err(e) => panic!("{e}"),
                }
            }
        });
        turnstile::yield_now().await; // the reader runs and waits
        client.write_all(b"hello").await.unwrap();
        assert_eq!(reader.await.unwrap(), b"hello");
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.ready_waited, d.ready_inline), (1, 0));
    // The wait is counted by `readable`; the read after it found the data at once.
    assert_eq!(
        (d.tcp_reads_inline, d.tcp_reads_waited, d.tcp_bytes_read),
        (1, 0, 5)
    );
    assert_eq!(d.wakes_io, 1);
    assert_eq!((d.polls, d.polls_pending), (2, 1));
}

#[test]
fn readiness_found_at_once_does_not_yield_and_try_write_counts_as_a_write() {
    let rt = counting();
    let before = rt.block_on(async {
        let (client, _server) = connected_pair().await;
        let before = turnstile::probes::snapshot().counters;
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"hello").unwrap(), 5);
        let ready = client
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable());
        assert!(!ready.is_read_closed());
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.ready_inline, d.ready_waited), (2, 0));
    assert_eq!((d.tcp_writes_inline, d.tcp_bytes_written), (1, 5));
    assert_eq!(d.main_polls, 0, "nothing went back to the loop");
}

#[test]
fn a_closed_peer_shows_as_read_closed_and_try_read_gives_eof() {
    let rt = counting();
    rt.block_on(async {
        let (client, server) = connected_pair().await;
        let mut buf = [0; 8];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        drop(client);
        let ready = server.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && ready.is_read_closed());
        assert_eq!(server.try_read(&mut buf).unwrap(), 0);
    });
}

#[test]
fn vectored_try_calls_move_every_buffer_in_order() {
    let rt = counting();
    let before = rt.block_on(async {
        let (client, server) = connected_pair().await;
        let before = turnstile::probes::snapshot().counters;
        let sent = client
            .try_write_vectored(&[io::IoSlice::new(b"abc"), io::IoSlice::new(b"def")])
            .unwrap();
        assert_eq!(sent, 6);
        server.readable().await.unwrap();
        let (mut x, mut y) = ([0; 4], [0; 4]);
        let n = server
            .try_read_vectored(&mut [io::IoSliceMut::new(&mut x), io::IoSliceMut::new(&mut y)])
            .unwrap();
        assert_eq!((n, &x, &y[..2]), (6, b"abcd", &b"ef"[..]));
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.tcp_bytes_written, d.tcp_bytes_read), (6, 6));
}

#[test]
fn peek_does_not_consume() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut client, mut server) = connected_pair().await;
        client.write_all(b"hello").await.unwrap();
        let before = turnstile::probes::snapshot().counters;
        let mut peeked = [0; 5];
        for _ in 0..2 {
            let n = server.peek(&mut peeked).await.unwrap();
            assert_eq!(&peeked[..n], &b"hello"[..n]);
        }
        let mut read = [0; 5];
        server.read_exact(&mut read).await.unwrap();
        assert_eq!(&read, b"hello");
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.peeks_inline, d.peeks_waited), (2, 0));
    assert_eq!(d.tcp_bytes_read, 5, "a peek moves no bytes");
}

#[test]
fn a_peek_that_waits_is_counted_as_waited() {
    let rt = counting();
    let before = rt.block_on(async {
        let (mut client, server) = connected_pair().await;
        let before = turnstile::probes::snapshot().counters;
        let peeker = turnstile::spawn(async move {
            let mut buf = [0; 2];
            let n = server.peek(&mut buf).await.unwrap();
            buf[..n].to_vec()
        });
        turnstile::yield_now().await;
        client.write_all(b"hi").await.unwrap();
        assert_eq!(peeker.await.unwrap().first(), Some(&b'h'));
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.peeks_inline, d.peeks_waited), (0, 1));
}

#[test]
fn readiness_waits_use_the_cooperative_budget() {
    let rt = turnstile::Runtime::builder()
        .probes(Level::Counters)
        .budget(Some(2))
        .build()
        .unwrap();
    let before = rt.block_on(async {
        let (client, _server) = connected_pair().await;
        turnstile::yield_now().await; // a fresh poll, with a whole budget
        let before = turnstile::probes::snapshot().counters;
        for _ in 0..10 {
            client.writable().await.unwrap();
        }
        before
    });
    let d = rt.probes().counters.since(&before);
    // Two waits per poll: yields after the 2nd, 4th, 6th and 8th.
    assert_eq!(d.budget_yields, 4);
    assert_eq!((d.ready_inline, d.ready_waited), (10, 0));
}

#[test]
fn a_waited_readiness_is_an_await_site_at_the_callers_line() {
    let rt = turnstile::Runtime::builder()
        .probes(Level::Timing)
        .build()
        .unwrap();
    let line = rt.block_on(async {
        let (mut client, server) = connected_pair().await;
        let (tx, rx) = futures::channel::oneshot::channel();
        let reader = turnstile::spawn(async move {
            let empty = server.try_read(&mut [0; 1]).unwrap_err();
            assert_eq!(empty.kind(), ErrorKind::WouldBlock);
            let line = line!() + 1;
            server.readable().await.unwrap();
            tx.send(line).unwrap();
        });
        turnstile::yield_now().await;
        client.write_all(b"x").await.unwrap();
        reader.await.unwrap();
        rx.await.unwrap()
    });
    let site = format!("{}:{line}:", file!());
    let snapshot = rt.probes();
    let text = serde_json::to_string(&snapshot).unwrap();
    assert!(text.contains(&site), "no await site {site} in {text}");
}

#[test]
fn poll_accept_accepts_through_poll_fn() {
    let rt = counting();
    let before = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let before = turnstile::probes::snapshot().counters;
        let accepter =
            turnstile::spawn(async move { poll_fn(|cx| listener.poll_accept(cx)).await });
        turnstile::yield_now().await; // it waits for a connection
        let client = TcpStream::connect(addr).await.unwrap();
        let (_server, peer) = accepter.await.unwrap().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.tcp_accepts_inline, d.tcp_accepts_waited), (0, 1));
}

#[test]
fn udp_try_and_poll_calls_carry_datagrams_and_count_them() {
    let rt = counting();
    let before = rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let before = turnstile::probes::snapshot().counters;
        let mut buf = [0; 16];
        assert_eq!(
            b.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        assert_eq!(a.try_send_to(b"one", b_addr).unwrap(), 3);
        b.readable().await.unwrap();
        assert_eq!(b.try_recv_from(&mut buf).unwrap(), (3, a_addr));
        assert_eq!(
            poll_fn(|cx| a.poll_send_to(cx, b"four", b_addr))
                .await
                .unwrap(),
            4
        );
        assert_eq!(
            poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap(),
            (4, a_addr)
        );
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        assert_eq!(a.try_send(b"fives").unwrap(), 5);
        assert_eq!(poll_fn(|cx| a.poll_send(cx, b"sixsix")).await.unwrap(), 6);
        b.readable().await.unwrap();
        assert_eq!(b.try_recv(&mut buf).unwrap(), 5);
        assert_eq!(poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap(), 6);
        let (n, from) = {
            a.try_send(b"p").unwrap();
            b.peek_from(&mut buf).await.unwrap()
        };
        assert_eq!((n, from), (1, a_addr));
        assert_eq!(
            b.try_recv(&mut buf).unwrap(),
            1,
            "the peeked datagram is still there"
        );
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.udp_sends_inline, d.udp_sends_waited), (5, 0));
    assert_eq!((d.udp_recvs_inline, d.udp_recvs_waited), (5, 0));
    assert_eq!((d.udp_bytes_sent, d.udp_bytes_received), (19, 19));
    // The first `readable` waited for the reactor's event (the `try_recv_from` before
    // it had cleared readiness); the second found the datagram already reported.
    assert_eq!((d.ready_inline, d.ready_waited), (1, 1));
    assert_eq!(d.peeks_inline, 1);
}

#[test]
fn sockref_options_round_trip_on_tcp_and_udp() {
    let rt = counting();
    rt.block_on(async {
        let (client, _server) = connected_pair().await;
        let sock = SockRef::from(&client);
        sock.set_keepalive(true).unwrap();
        assert!(sock.keepalive().unwrap());
        sock.set_linger(Some(Duration::from_secs(3))).unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::from_secs(3)));
        client.set_linger(None).unwrap();
        assert_eq!(sock.linger().unwrap(), None);
        client.set_ttl(33).unwrap();
        assert_eq!(sock.ttl_v4().unwrap(), 33);
        sock.set_send_buffer_size(32 * 1024).unwrap();
        sock.set_recv_buffer_size(32 * 1024).unwrap();
        // Linux doubles what it is given (its bookkeeping share).
        assert_eq!(sock.send_buffer_size().unwrap(), 64 * 1024);
        assert_eq!(sock.recv_buffer_size().unwrap(), 64 * 1024);

        let udp = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        let sock = SockRef::from(&udp);
        udp.set_broadcast(true).unwrap();
        assert!(sock.broadcast().unwrap());
        udp.set_ttl(9).unwrap();
        assert_eq!(sock.ttl_v4().unwrap(), 9);
        sock.set_multicast_loop_v4(false).unwrap();
        assert!(!udp.multicast_loop_v4().unwrap());
        udp.set_multicast_loop_v4(true).unwrap();
        assert!(sock.multicast_loop_v4().unwrap());
        // Leaving a group never joined is an error, not a panic.
        let group = Ipv4Addr::new(239, 7, 7, 7);
        assert!(udp
            .leave_multicast_v4(group, Ipv4Addr::UNSPECIFIED)
            .is_err());
    });
}

#[test]
fn a_multicast_datagram_loops_back_to_a_member() {
    let rt = counting();
    rt.block_on(async {
        let group = Ipv4Addr::new(239, 255, 42, 99);
        let member = UdpSocket::bind("0.0.0.0:0").await.unwrap();
        if let Err(e) = member.join_multicast_v4(group, Ipv4Addr::LOCALHOST) {
            panic!("join_multicast_v4 on loopback failed ({e}): this test needs a multicast route on lo");
        }
        let port = member.local_addr().unwrap().port();
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        SockRef::from(&sender)
            .set_multicast_if_v4(&Ipv4Addr::LOCALHOST)
            .unwrap();
        sender.set_multicast_loop_v4(true).unwrap();
        sender.send_to(b"all", (group, port)).await.unwrap();
        let mut buf = [0; 8];
        let (n, _) = turnstile::time::timeout(Duration::from_secs(5), member.recv_from(&mut buf))
            .await
            .expect("the looped-back datagram")
            .unwrap();
        assert_eq!(&buf[..n], b"all");
        member
            .leave_multicast_v4(group, Ipv4Addr::LOCALHOST)
            .unwrap();
    });
}

#[test]
fn tcp_socket_binds_before_connecting() {
    let rt = counting();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let bound = socket.local_addr().unwrap();
        let stream = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (_server, peer) = listener.accept().await.unwrap();
        assert_eq!(stream.local_addr().unwrap(), bound);
        assert_eq!(peer, bound);
    });
}

#[test]
fn two_listeners_share_a_port_with_reuseport_and_not_without() {
    let rt = counting();
    rt.block_on(async {
        let first = TcpSocket::new_v4().unwrap();
        first.set_reuseport(true).unwrap();
        first.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = first.local_addr().unwrap();
        let first = first.listen(16).unwrap();

        let second = TcpSocket::new_v4().unwrap();
        second.set_reuseport(true).unwrap();
        assert!(second.reuseport().unwrap());
        second.bind(addr).unwrap();
        let second = second.listen(16).unwrap();
        assert_eq!(first.local_addr().unwrap(), second.local_addr().unwrap());

        // The kernel spreads the connections over both listeners (by a hash of the
        // peer's port): each connection is complete in one backlog or the other, so
        // accepting what each holds, without waiting, finds all sixteen.
        let mut clients = Vec::new();
        for _ in 0..16 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut accepted = 0;
        for listener in [&first, &second] {
            while let Some(r) = listener.accept().now_or_never() {
                r.unwrap();
                accepted += 1;
            }
        }
        assert_eq!(accepted, 16);

        let third = TcpSocket::new_v4().unwrap(); // no SO_REUSEPORT
        let err = third.bind(addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    });
}

#[test]
fn tcp_socket_buffer_sizes_round_trip() {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(16 * 1024).unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    assert_eq!(socket.send_buffer_size().unwrap(), 32 * 1024);
    assert_eq!(socket.recv_buffer_size().unwrap(), 32 * 1024);
    socket.set_nodelay(true).unwrap();
    assert!(socket.nodelay().unwrap());
}

#[test]
fn into_std_and_from_std_keep_the_connection() {
    let rt = counting();
    rt.block_on(async {
        let (mut client, server) = connected_pair().await;
        let fd_peer = server.peer_addr().unwrap();
        let std_server = server.into_std().unwrap();
        assert_eq!(std_server.peer_addr().unwrap(), fd_peer);
        let mut server = TcpStream::from_std(std_server).unwrap();
        client.write_all(b"still here").await.unwrap();
        let mut buf = [0; 10];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still here");

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = TcpListener::from_std(listener.into_std().unwrap()).unwrap();
        let _c = TcpStream::connect(addr).await.unwrap();
        listener.accept().await.unwrap();

        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = udp.local_addr().unwrap();
        let udp = UdpSocket::from_std(udp.into_std().unwrap()).unwrap();
        udp.send_to(b"x", addr).await.unwrap();
        assert_eq!(udp.recv_from(&mut buf).await.unwrap(), (1, addr));
    });
}

#[test]
fn errors_are_io_errors_not_panics() {
    let rt = counting();
    rt.block_on(async {
        // A port nothing listens on: bind one, note it, close it.
        let closed: SocketAddr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpStream::connect(closed).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = TcpSocket::new_v4()
            .unwrap()
            .connect(closed)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);

        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = TcpListener::bind(taken.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = UdpSocket::bind(udp.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);

        let err = TcpStream::connect("127.0.0.1:0").await.unwrap_err();
        assert!(matches!(
            err.kind(),
            ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable
        ));
        assert!(
            TcpSocket::new_v4().unwrap().listen(16).is_ok(),
            "listen without bind picks a port"
        );
        let (client, _server) = connected_pair().await;
        assert_eq!(
            client.set_ttl(0).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    });
}

#[test]
fn owned_halves_have_readiness_and_try_calls_counted_as_the_stream_is() {
    let rt = counting();
    let before = rt.block_on(async {
        let (client, server) = connected_pair().await;
        let (read, write) = server.into_split();
        let (_client_read, client_write) = client.into_split();
        let before = turnstile::probes::snapshot().counters;
        let mut buf = [0; 8];
        assert_eq!(
            read.try_read(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let reader = turnstile::spawn(async move {
            let mut buf = [0; 8];
            read.readable().await.unwrap(); // waits
            let n = read.peek(&mut buf).await.unwrap();
            assert_eq!(read.try_read(&mut buf).unwrap(), n);
            buf[..n].to_vec()
        });
        turnstile::yield_now().await;
        client_write.writable().await.unwrap();
        assert_eq!(client_write.try_write(b"split").unwrap(), 5);
        assert_eq!(reader.await.unwrap(), b"split");
        write.writable().await.unwrap();
        assert_eq!(write.try_write(b"!").unwrap(), 1);
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.ready_waited, d.ready_inline), (1, 2));
    assert_eq!(
        (d.peeks_inline, d.tcp_reads_inline, d.tcp_bytes_read),
        (1, 1, 5)
    );
    assert_eq!((d.tcp_writes_inline, d.tcp_bytes_written), (2, 6));
}
