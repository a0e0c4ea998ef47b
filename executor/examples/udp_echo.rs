//! cargo run -p turnstile --example udp_echo -- 127.0.0.1:7001
//!
//! A UDP echo server: every datagram goes back to its sender. Before serving, it
//! checks itself with a few datagrams of its own and prints the I/O counters (how many
//! receives found a datagram waiting and how many waited for the reactor). Talk to it
//! with `nc -u 127.0.0.1 7001`. Stop it with Ctrl-C.

use turnstile::net::UdpSocket;
use turnstile::probes::Level;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let rt = turnstile::Runtime::builder()
        .probes(Level::Counters)
        .build()?;
    rt.block_on(async {
        let socket = UdpSocket::bind(&addr).await?;
        let local = socket.local_addr()?;
        println!("echoing datagrams on {local}");

        let _check = turnstile::spawn(async move {
            let client = UdpSocket::bind("127.0.0.1:0").await?;
            client.connect(local).await?;
            let mut buf = [0; 64];
            for i in 0..3 {
                let message = format!("datagram {i}");
                client.send(message.as_bytes()).await?;
                let n = client.recv(&mut buf).await?;
                assert_eq!(&buf[..n], message.as_bytes());
            }
            let c = turnstile::probes::snapshot().counters;
            println!(
                "self-check ok: recvs inline/waited {}/{}, sends {}, bytes received {}",
                c.udp_recvs_inline,
                c.udp_recvs_waited,
                c.udp_sends_inline + c.udp_sends_waited,
                c.udp_bytes_received
            );
            Ok::<(), std::io::Error>(())
        });

        let mut buf = vec![0; 64 * 1024];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await?;
            socket.send_to(&buf[..n], from).await?;
        }
    })
}
