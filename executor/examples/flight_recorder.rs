//! cargo run --release -p turnstile --example flight_recorder
//!
//! A small service with one bad request: an echo server on loopback, eight clients that
//! each send 50 requests, and a handler that, for one request, makes a 50 ms blocking
//! call. The runtime keeps a flight recorder (the last 2 s of loop events) at probe
//! level `Off`, and when the blocking call stalls the loop it writes the window as a
//! Chrome/Perfetto trace (open it in ui.perfetto.dev). The example prints the file's
//! path and what its slices show: the stalled poll and the polls before it.

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};
use turnstile::probes::Level;

#[path = "shared/accept.rs"]
mod accept;

const CLIENTS: usize = 8;
const REQUESTS: usize = 50;

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new("target/turnstile-flight");
    let before: Vec<_> = files(dir);
    let rt = turnstile::Runtime::builder()
        .probes(Level::Off) // the recorder needs no other probe
        .flight_recorder(Duration::from_secs(2))
        .flight_recorder_dir(dir)
        .stall_threshold(Duration::from_millis(10))
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let _server = turnstile::task::Builder::new()
            .name("accept")
            .spawn(async move {
                while let Ok((stream, _)) = accept::next_connection(&listener).await {
                    drop(
                        turnstile::task::Builder::new()
                            .name("handler")
                            .spawn(handle(stream)),
                    ); // detached
                }
            });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                turnstile::task::Builder::new()
                    .name(format!("client {c}"))
                    .spawn(client(addr, c))
            })
            .collect();
        for c in clients {
            c.await.expect("client")?;
        }
        Ok::<_, std::io::Error>(())
    })?;
    rt.flight_recorder().flush()?; // the recorder's own thread writes the file
    let written: Vec<_> = files(dir)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    let Some(path) = written.first() else {
        println!("no flight-recorder file was written (a file less than 10 s old is there?)");
        return Ok(());
    };
    println!("the flight recorder wrote {}", path.display());
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let events = json["traceEvents"].as_array().cloned().unwrap_or_default();
    let polls: Vec<_> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["cat"] == "poll")
        .collect();
    let longest = polls
        .iter()
        .max_by(|a, b| a["dur"].as_f64().partial_cmp(&b["dur"].as_f64()).unwrap())
        .expect("poll slices");
    let at = longest["ts"].as_f64().unwrap_or(0.0);
    println!(
        "{} poll slices, {} of them before the stall; the stall: {} for {:.1} ms at {:.1} ms",
        polls.len(),
        polls
            .iter()
            .filter(|p| p["ts"].as_f64().unwrap_or(0.0) < at)
            .count(),
        longest["name"].as_str().unwrap_or("?"),
        longest["dur"].as_f64().unwrap_or(0.0) / 1e3,
        at / 1e3,
    );
    Ok(())
}

/// Echoes requests; the request "slow" first makes a 50 ms blocking call.
async fn handle(mut stream: TcpStream) {
    let mut buf = [0u8; 64];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if &buf[..n] == b"slow" {
            std::thread::sleep(Duration::from_millis(50)); // the bad call
        }
        if stream.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Sends `REQUESTS` requests, one at a time; client 3's 20th is the slow one.
async fn client(addr: std::net::SocketAddr, c: usize) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut buf = [0u8; 64];
    for i in 0..REQUESTS {
        let msg: &[u8] = if c == 3 && i == 20 { b"slow" } else { b"ping" };
        stream.write_all(msg).await?;
        stream.read_exact(&mut buf[..msg.len()]).await?;
        turnstile::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

/// The files in `dir` (none if it does not exist).
fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}
