//! Waits that say what they wait for: a socket's waits are sites named after the
//! socket (its peer, or the name given with `set_probe_name`), and paths under the
//! workspace print relative. (A foreign future under an instrumented frame is in
//! probes.rs, where Miri runs it.) Counts are exact.

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};
use turnstile::probes::{Level, SiteStats, Snapshot};
use turnstile::Runtime;

fn timed() -> Runtime {
    Runtime::builder()
        .probes(Level::Timing)
        .build()
        .expect("runtime")
}

fn site<'a>(snap: &'a Snapshot, name: &str) -> &'a SiteStats {
    snap.sites
        .iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("no site {name:?}\n{snap}"))
}

/// A client connected to a fresh listener, and the server side of it.
async fn connected() -> (TcpStream, TcpStream, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server, addr)
}

/// The client reads one byte that the server writes only after a turn: one wait each.
async fn one_waited_read(client: &mut TcpStream, server: &mut TcpStream) {
    let mut byte = [0; 1];
    let (read, ()) = futures::join!(client.read(&mut byte), async {
        turnstile::yield_now().await; // the read has returned `Pending` by now
        server.write_all(b"x").await.unwrap();
    });
    assert_eq!(read.unwrap(), 1);
}

#[test]
fn two_sockets_to_different_peers_are_two_sites_named_by_their_peers() {
    let rt = timed();
    let (a, b) = rt.block_on(async {
        let (mut client_a, mut server_a, a) = connected().await;
        let (mut client_b, mut server_b, b) = connected().await;
        one_waited_read(&mut client_a, &mut server_a).await;
        one_waited_read(&mut client_b, &mut server_b).await;
        one_waited_read(&mut client_b, &mut server_b).await;
        (a, b)
    });
    assert_ne!(a, b);
    let snap = rt.probes();
    let to_a = site(&snap, &format!("tcp read from {a}"));
    let to_b = site(&snap, &format!("tcp read from {b}"));
    assert_eq!((to_a.awaited, to_a.yields), (1, 1), "{snap}");
    assert_eq!((to_b.awaited, to_b.yields), (2, 2), "{snap}");
    assert_eq!(to_a.location, "", "a socket's site is named by the socket");
    // No wait is turnstile's own line any more.
    assert!(
        snap.sites
            .iter()
            .all(|s| !s.location.contains("net/source.rs")),
        "{snap}"
    );
}

#[test]
fn a_named_socket_s_site_carries_its_name_and_its_split_halves_share_it() {
    let rt = timed();
    let addr = rt.block_on(async {
        let (client, mut server, addr) = connected().await;
        client.set_probe_name("postgres");
        let (mut reader, _writer) = client.into_split();
        let mut byte = [0; 1];
        let (read, ()) = futures::join!(reader.read(&mut byte), async {
            turnstile::yield_now().await;
            server.write_all(b"x").await.unwrap();
        });
        assert_eq!(read.unwrap(), 1);
        addr
    });
    let snap = rt.probes();
    let named = site(&snap, &format!("tcp read from {addr} (postgres)"));
    assert_eq!((named.awaited, named.yields), (1, 1), "{snap}");
    assert_eq!(named.label.as_deref(), Some(named.name().as_str()));
}

#[test]
fn accepted_connections_share_one_site_per_listener() {
    let rt = timed();
    let addr = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.set_probe_name("api");
        let addr = listener.local_addr().unwrap();
        for _ in 0..2 {
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            one_waited_read(&mut server, &mut client).await;
        }
        addr
    });
    let snap = rt.probes();
    let clients = site(&snap, &format!("tcp read from a client of {addr} (api)"));
    assert_eq!((clients.awaited, clients.yields), (2, 2), "{snap}");
}

#[test]
fn a_path_under_the_workspace_prints_relative() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let absolute = format!("{root}/executor/src/hyper.rs");
    assert_eq!(
        turnstile::probes::short_path(&absolute),
        "executor/src/hyper.rs"
    );
    assert_eq!(
        turnstile::probes::short_path("/usr/src/other/lib.rs"),
        "/usr/src/other/lib.rs"
    );
}

#[test]
fn a_datagram_socket_without_a_peer_is_named_by_its_own_address() {
    let rt = timed();
    let addr = rt.block_on(async {
        let server = turnstile::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap();
        server.set_probe_name("dns");
        let client = turnstile::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let mut buf = [0; 8];
        let (got, ()) = futures::join!(server.recv_from(&mut buf), async {
            turnstile::yield_now().await;
            client.send_to(b"q", addr).await.unwrap();
        });
        assert_eq!(got.unwrap().0, 1);
        addr
    });
    let snap = rt.probes();
    let recv = site(&snap, &format!("udp recv on {addr} (dns)"));
    assert_eq!((recv.awaited, recv.yields), (1, 1), "{snap}");
}
