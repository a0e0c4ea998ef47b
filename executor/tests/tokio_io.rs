//! tokio's `AsyncRead`/`AsyncWrite` on turnstile's streams (the `tokio-io` feature):
//! tokio-util's `Framed` and tokio-rustls take a `TcpStream` as it is, the halves and Unix streams
//! speak tokio's traits too, and a read or write through tokio's traits is the same
//! operation as through futures-io's: the same polls, yields, budget yields, counters
//! and await sites, counted exactly.
#![cfg(not(miri))]

use futures::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, LinesCodec};
use turnstile::net::{TcpListener, TcpStream, UnixStream};
use turnstile::probes::{Level, Snapshot};
use turnstile::Runtime;

#[test]
fn framed_lines_codec_over_a_tcp_stream() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = turnstile::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new());
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                lines.send(line.to_uppercase()).await.unwrap();
            }
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        for word in ["hello", "turnstile", "framed"] {
            lines.send(word).await.unwrap();
            let reply = lines.next().await.unwrap().unwrap();
            assert_eq!(reply, word.to_uppercase());
        }
        drop(lines); // EOF: the server's stream of lines ends
        server.await.unwrap();
    });
}

#[test]
fn tokio_traits_on_halves_and_unix_streams() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        // Owned TCP halves, each in its own task.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (mut read, mut write) = server.into_split();
        let echo = turnstile::spawn(async move {
            let mut buf = [0; 4];
            read.read_exact(&mut buf).await.unwrap();
            write.write_all(&buf).await.unwrap();
            write.shutdown().await.unwrap();
        });
        let (mut r, mut w) = client.into_split();
        w.write_all(b"ping").await.unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"ping");
        echo.await.unwrap();

        // A Unix pair, and its borrowed halves.
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"over unix").await.unwrap();
        {
            let (mut rb, _wb) = b.halves();
            let mut buf = [0; 9];
            rb.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"over unix");
        }
        let (_ra, mut wa) = a.halves();
        wa.shutdown().await.unwrap();
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

/// Chunks the writer sends, and their size.
const CHUNKS: usize = 12;
const CHUNK: usize = 1000;

/// One workload, spelled once, through the `read_exact`/`write_all` of whichever
/// extension traits are in scope: a reader task that waits for a byte on a Unix
/// stream, then finds the TCP chunks already there (budget yields, with a budget of
/// 3), and a writer task that writes the chunks, yielding now and then, then the byte.
macro_rules! workload {
    () => {{
        let rt = Runtime::builder()
            .probes(Level::Timing)
            .budget(Some(3))
            .build()
            .unwrap();
        rt.block_on(async {
            let (a, mut b) = UnixStream::pair().unwrap();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let reader = turnstile::task::Builder::new()
                .name("reader")
                .spawn(async move {
                    // A Unix read that waits: the byte comes after the chunks.
                    let mut byte = [0; 1];
                    b.read_exact(&mut byte).await.unwrap();
                    let mut buf = [0; CHUNK];
                    let mut total = 0;
                    for _ in 0..CHUNKS {
                        server.read_exact(&mut buf).await.unwrap();
                        total += buf.iter().map(|&b| usize::from(b)).sum::<usize>();
                    }
                    total + usize::from(byte[0])
                });
            let writer = turnstile::task::Builder::new()
                .name("writer")
                .spawn(async move {
                    let chunk = [1u8; CHUNK];
                    for i in 0..CHUNKS {
                        client.write_all(&chunk).await.unwrap();
                        if i % 4 == 0 {
                            turnstile::yield_now().await;
                        }
                    }
                    let mut a = a;
                    turnstile::yield_now().await;
                    a.write_all(&[7]).await.unwrap();
                });
            writer.await.unwrap();
            assert_eq!(reader.await.unwrap(), CHUNKS * CHUNK + 7);
        });
        rt.probes()
    }};
}

fn through_futures_io() -> Snapshot {
    use futures::{AsyncReadExt, AsyncWriteExt};
    workload!()
}

fn through_tokio_io() -> Snapshot {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    workload!()
}

/// A task's name, polls, yields and budget yields.
type TaskCounts = (String, u64, u64, u64);
/// A site's label, awaits, yields, budget yields and inline completions.
type SiteCounts = (String, u64, u64, u64, u64);

/// A socket's site label without its port: each run listens on a port of its own.
fn without_port(label: &str) -> String {
    match label.rfind("127.0.0.1:") {
        Some(at) => {
            let rest = &label[at + "127.0.0.1:".len()..];
            let port_len = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            format!("{}127.0.0.1:PORT{}", &label[..at], &rest[port_len..])
        }
        None => label.to_string(),
    }
}

/// What must be the same, task by task and site by site.
fn counts(snap: &Snapshot) -> (Vec<TaskCounts>, Vec<SiteCounts>) {
    let mut tasks: Vec<_> = snap
        .tasks
        .iter()
        .map(|t| {
            (
                t.name.clone().unwrap_or_default(),
                t.polls,
                t.yields,
                t.budget_yields,
            )
        })
        .collect();
    tasks.sort();
    let mut sites: Vec<_> = snap
        .sites
        .iter()
        .map(|s| {
            (
                without_port(&s.label.clone().unwrap_or_default()),
                s.awaited,
                s.yields,
                s.budget_yields,
                s.inline,
            )
        })
        .collect();
    sites.sort();
    (tasks, sites)
}

#[test]
fn tokio_traits_count_as_futures_io_does() {
    let futures = through_futures_io();
    let tokio = through_tokio_io();
    let (fc, tc) = (&futures.counters, &tokio.counters);
    let io_counters = |c: &turnstile::probes::CounterValues| {
        (
            c.tcp_reads_inline,
            c.tcp_reads_waited,
            c.tcp_bytes_read,
            c.tcp_writes_inline,
            c.tcp_writes_waited,
            c.tcp_bytes_written,
            c.unix_reads_inline,
            c.unix_reads_waited,
            c.unix_bytes_read,
            c.budget_yields,
            c.polls,
            c.polls_pending,
        )
    };
    assert_eq!(io_counters(fc), io_counters(tc));
    assert_eq!(counts(&futures), counts(&tokio));

    // And the figures are the workload's, not zero on both sides.
    assert_eq!(tc.tcp_bytes_read, (CHUNKS * CHUNK) as u64);
    assert_eq!(tc.unix_bytes_read, 1);
    assert_eq!(tc.unix_reads_waited, 1);
    assert!(tc.budget_yields > 0, "{tc:#?}");
    let reader = tokio
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("reader"))
        .unwrap();
    assert!(reader.budget_yields > 0);
    let unix_read = tokio
        .sites
        .iter()
        .find(|s| s.label.as_deref() == Some("unix read"))
        .unwrap_or_else(|| panic!("a unix read site: {:#?}", tokio.sites));
    assert_eq!(unix_read.yields, 1);
}

#[test]
fn tokio_rustls_over_a_tcp_stream() {
    use std::sync::Arc;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls::pki_types::{
        CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
    };
    use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
    use tokio_rustls::{TlsAcceptor, TlsConnector};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let client_config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();

    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(server_config));
        let server = turnstile::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut tls = acceptor.accept(stream).await.unwrap();
            let mut buf = [0; 5];
            tls.read_exact(&mut buf).await.unwrap();
            tls.write_all(&buf.to_ascii_uppercase()).await.unwrap();
            tls.shutdown().await.unwrap();
        });
        let connector = TlsConnector::from(Arc::new(client_config));
        let stream = TcpStream::connect(addr).await.unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, stream).await.unwrap();
        tls.write_all(b"hello").await.unwrap();
        let mut back = Vec::new();
        tls.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"HELLO");
        server.await.unwrap();
    });
}
