//! Linux's abstract Unix socket namespace: a path whose first byte is NUL names a socket
//! that has no file (tokio reads such a path so; std's path functions refuse it as
//! "interior null bytes"). Listener, stream and datagram sockets all take one.
// Miri has no sockets; the abstract namespace is Linux's (and Android's).
#![cfg(all(not(miri), any(target_os = "linux", target_os = "android")))]

use std::os::linux::net::SocketAddrExt;

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{UnixDatagram, UnixListener, UnixStream};

/// A name no other test (or process) uses at once.
fn name(what: &str) -> String {
    format!("\0turnstile-test-{what}-{}", std::process::id())
}

#[test]
fn a_listener_binds_an_abstract_name_and_a_stream_connects_to_it() {
    let rt = turnstile::Runtime::new().unwrap();
    rt.block_on(async {
        let name = name("stream");
        let listener = UnixListener::bind(&name).unwrap();
        let local = listener.local_addr().unwrap();
        assert_eq!(local.as_abstract_name(), Some(&name.as_bytes()[1..]));
        assert_eq!(local.as_pathname(), None);

        let mut client = UnixStream::connect(&name).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_abstract_name(),
            Some(&name.as_bytes()[1..])
        );
        client.write_all(b"abstract").await.unwrap();
        let mut buf = [0; 8];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"abstract");
    });
}

#[test]
fn a_second_bind_of_the_same_abstract_name_is_addr_in_use() {
    let rt = turnstile::Runtime::new().unwrap();
    rt.block_on(async {
        let name = name("twice");
        let _first = UnixListener::bind(&name).unwrap();
        let err = UnixListener::bind(&name).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    });
}

#[test]
fn connecting_to_an_abstract_name_nobody_holds_is_refused() {
    let rt = turnstile::Runtime::new().unwrap();
    rt.block_on(async {
        let err = UnixStream::connect(name("nobody")).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

#[test]
fn a_null_byte_after_the_first_is_still_refused() {
    let rt = turnstile::Runtime::new().unwrap();
    rt.block_on(async {
        let err = UnixListener::bind("/tmp/a\0b").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
fn datagrams_bind_connect_and_send_to_abstract_names() {
    let rt = turnstile::Runtime::new().unwrap();
    rt.block_on(async {
        let server_name = name("dgram-server");
        let client_name = name("dgram-client");
        let server = UnixDatagram::bind(&server_name).unwrap();
        assert_eq!(
            server.local_addr().unwrap().as_abstract_name(),
            Some(&server_name.as_bytes()[1..])
        );
        let client = UnixDatagram::bind(&client_name).unwrap();

        // send_to an abstract name
        assert_eq!(client.send_to(b"to", &server_name).await.unwrap(), 2);
        assert_eq!(client.try_send_to(b"try", &server_name).unwrap(), 3);
        let mut buf = [0; 8];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"to");
        assert_eq!(from.as_abstract_name(), Some(&client_name.as_bytes()[1..]));
        assert_eq!(server.recv(&mut buf).await.unwrap(), 3);

        // connect to one, then send
        client.connect(&server_name).unwrap();
        assert_eq!(
            client.peer_addr().unwrap().as_abstract_name(),
            Some(&server_name.as_bytes()[1..])
        );
        client.send(b"conn").await.unwrap();
        assert_eq!(server.recv(&mut buf).await.unwrap(), 4);
    });
}
