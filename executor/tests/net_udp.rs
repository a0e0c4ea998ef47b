//! UDP on the reactor: send/recv on connected sockets, send_to/recv_from, and the
//! exact I/O counts.
// Miri has no sockets; the net code has no `unsafe` of its own to check.
#![cfg(not(miri))]

mod common;

use std::io;

use turnstile::net::UdpSocket;
use turnstile::probes::Level;
use turnstile::Runtime;

use common::counting;

#[test]
fn send_to_and_recv_from_carry_the_datagram_and_its_sender() {
    let rt = counting();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..100u8 {
            let payload = [i; 32];
            assert_eq!(
                a.send_to(&payload, b.local_addr().unwrap()).await.unwrap(),
                32
            );
            let mut buf = [0; 64];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&payload[..], a.local_addr().unwrap()));
        }
    });
    let c = rt.probes().counters;
    assert_eq!(c.udp_sends_inline + c.udp_sends_waited, 100);
    assert_eq!(c.udp_recvs_inline + c.udp_recvs_waited, 100);
    assert_eq!((c.udp_bytes_sent, c.udp_bytes_received), (3200, 3200));
}

#[test]
fn connected_sockets_send_and_recv() {
    let rt = counting();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        a.send(b"ping").await.unwrap();
        let mut buf = [0; 8];
        let n = b.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        b.send(b"pong").await.unwrap();
        let n = a.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"pong");
    });
}

#[test]
fn a_waiting_recv_is_woken_by_the_reactor_and_a_ready_one_is_not() {
    let rt = counting();
    let before = rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = b.local_addr().unwrap();
        let before = turnstile::probes::snapshot().counters;
        let receiver = turnstile::spawn(async move {
            let mut buf = [0; 8];
            let waited = b.recv_from(&mut buf).await.unwrap().0; // nothing there yet
            let ready = b.recv_from(&mut buf).await.unwrap().0; // sent with the first
            (waited, ready)
        });
        turnstile::yield_now().await; // the receiver runs and waits
        a.send_to(b"one", to).await.unwrap();
        a.send_to(b"two!", to).await.unwrap();
        assert_eq!(receiver.await.unwrap(), (3, 4));
        before
    });
    let d = rt.probes().counters.since(&before);
    assert_eq!((d.udp_recvs_waited, d.udp_recvs_inline), (1, 1));
    assert_eq!((d.udp_sends_inline, d.udp_sends_waited), (2, 0));
    assert_eq!(d.wakes_io, 1);
    assert_eq!((d.polls, d.polls_pending), (2, 1));
}

#[test]
fn a_datagram_longer_than_the_buffer_is_cut_not_an_error() {
    let rt = counting();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.send_to(&[7; 100], b.local_addr().unwrap()).await.unwrap();
        let mut small = [0; 10];
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!((n, small), (10, [7; 10]));
    });
}

#[test]
fn send_to_an_unresolvable_target_is_an_error() {
    let rt = counting();
    rt.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let empty: &[std::net::SocketAddr] = &[];
        let err = a.send_to(b"x", empty).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn events_beyond_max_events_wait_for_the_next_turn_and_none_is_lost() {
    use std::cell::Cell;
    use std::rc::Rc;

    const SOCKETS: usize = 10;
    let most = Rc::new(Cell::new(0));
    let seen = most.clone();
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .max_events(2)
        .on_turn(move |turn| seen.set(seen.get().max(turn.io_events)))
        .build()
        .unwrap();
    rt.block_on(async {
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut receivers = Vec::new();
        for _ in 0..SOCKETS {
            receivers.push(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        }
        let addrs: Vec<_> = receivers.iter().map(|r| r.local_addr().unwrap()).collect();
        let tasks: Vec<_> = receivers
            .into_iter()
            .map(|r| {
                turnstile::spawn(async move {
                    let mut buf = [0; 8];
                    r.recv_from(&mut buf).await.unwrap().0
                })
            })
            .collect();
        turnstile::yield_now().await; // every receiver now waits for readiness
        for addr in addrs {
            sender.send_to(b"x", addr).await.unwrap();
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 1);
        }
    });
    let c = rt.probes().counters;
    assert_eq!(most.get(), 2, "a turn took in more events than max_events");
    assert_eq!(c.udp_recvs_waited, SOCKETS as u64);
    assert_eq!(c.wakes_io, SOCKETS as u64);
}

#[test]
fn two_tasks_receiving_on_one_socket_are_both_served() {
    use std::rc::Rc;
    use std::time::Duration;

    let rt = counting();
    rt.block_on(async {
        let shared = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let to = shared.local_addr().unwrap();
        let receivers: Vec<_> = (0..2)
            .map(|_| {
                let socket = shared.clone();
                turnstile::spawn(async move {
                    let mut buf = [0; 8];
                    socket.recv_from(&mut buf).await.unwrap().0
                })
            })
            .collect();
        turnstile::yield_now().await; // both wait on the same side of one socket
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        sender.send_to(b"a", to).await.unwrap();
        sender.send_to(b"bb", to).await.unwrap();
        let mut got = Vec::new();
        for receiver in receivers {
            let n = turnstile::time::timeout(Duration::from_secs(10), receiver)
                .await
                .expect("a receiver was never woken")
                .unwrap();
            got.push(n);
        }
        got.sort();
        assert_eq!(got, [1, 2]);
    });
}
