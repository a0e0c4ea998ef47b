//! A real Prometheus scrapes the `prometheus` example's service and stores exactly what
//! the runtime counted; `promtool check metrics` accepts the exposition.
//!
//! Needs the Debian package `prometheus` (`prometheus` and `promtool` on the PATH;
//! scripts/install-test-deps.sh installs it). Without it the test fails and says so: it
//! never passes without having run.
// Miri has no sockets.
#![cfg(not(miri))]

#[path = "../examples/shared/hello_metrics.rs"]
mod hello_metrics;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::future::{self, Either};
use serde_json::Value;
use turnstile::net::TcpListener;

use hello_metrics::{serve, Service};

/// How long the test waits for Prometheus to start and to scrape twice before it
/// gives up (a bound against hanging, far above the 2-3 s it takes).
const PATIENCE: Duration = Duration::from_secs(90);

/// Finds `program` on the PATH, or fails the test loudly.
fn required(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "\n*** `{program}` is not installed: this test needs a real Prometheus. ***\n\
                 *** Run scripts/install-test-deps.sh (Debian package `prometheus`).  ***\n"
            )
        })
}

/// The service on its own thread and runtime (named `scraped`, probes at `Timing`),
/// publishing into a recorder of its own. Each scrape's `polls` counter, read from the
/// runtime's snapshot just before the publish, is pushed onto `seen`.
struct Served {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<u64>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

fn start_service() -> Served {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let witness = seen.clone();
    let thread = thread::spawn(move || {
        let recorder = hello_metrics::prometheus().build_recorder();
        let _local = metrics::set_default_local_recorder(&recorder);
        let rt = turnstile::Runtime::builder()
            .name("scraped")
            .build()
            .expect("runtime");
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            let mut service = Service::new(recorder.handle());
            service.on_scrape = Some(Rc::new(move |snap: &turnstile::probes::Snapshot| {
                witness.lock().unwrap().push(snap.counters.polls);
            }));
            let serving = std::pin::pin!(serve(listener, service));
            if let Either::Left((Err(e), _)) = future::select(serving, stopped).await {
                panic!("the service stopped: {e}");
            }
        });
    });
    Served {
        addr: addr_rx.recv().expect("the service's address"),
        seen,
        stop: Some(stop),
        thread: Some(thread),
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A Prometheus server, killed when dropped.
struct Prometheus {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Prometheus {
    /// Starts Prometheus on a free port, scraping `target` every second.
    fn start(target: SocketAddr) -> Prometheus {
        let binary = required("prometheus");
        let dir = std::env::temp_dir().join(format!("turnstile-prometheus-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
                 scrape_configs:\n  - job_name: turnstile\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .expect("the config file");
        let addr = free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("*** could not start prometheus: {e} ***"));
        Prometheus { child, addr, dir }
    }

    /// The `data.result` of an instant query.
    fn query(&self, query: &str) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}", encode(query));
        let body = http_get(self.addr, &path).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(json["status"], "success", "{body}");
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Whether Prometheus is up and answering queries; fails the test if it exited.
    fn ready(&mut self) -> bool {
        if let Some(status) = self.child.try_wait().expect("prometheus' status") {
            panic!("*** prometheus exited ({status}) before it was ready: see its log above ***");
        }
        http_get(self.addr, "/-/ready").is_ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on now (bound, then released).
fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap()
}

/// Percent-encodes a query for a URL.
fn encode(query: &str) -> String {
    query
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The body of `GET path` over HTTP/1.0 (the connection closes after the response).
fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    match response.split_once("\r\n\r\n") {
        Some((head, body))
            if head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200") =>
        {
            Ok(body.to_string())
        }
        _ => Err(std::io::Error::other(format!(
            "unexpected response: {response}"
        ))),
    }
}

/// Waits for `ready` to return `Some`, polling every 100 ms, for at most [`PATIENCE`].
fn wait_for<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        thread::sleep(Duration::from_millis(100));
    }
}

/// The `(timestamp, value)` pairs of a matrix or vector result's first series.
fn points(result: &[Value]) -> Vec<(f64, u64)> {
    let Some(series) = result.first() else {
        return Vec::new();
    };
    let pairs: Vec<Value> = match (&series["values"], &series["value"]) {
        (Value::Array(values), _) => values.clone(),
        (_, value @ Value::Array(_)) => vec![value.clone()],
        _ => Vec::new(),
    };
    pairs
        .iter()
        .map(|p| {
            let value = p[1].as_str().expect("a value string");
            (
                p[0].as_f64().unwrap(),
                value.parse().expect("an integer count"),
            )
        })
        .collect()
}

#[test]
fn prometheus_stores_what_the_runtime_counted() {
    let promtool = required("promtool");
    let service = start_service();
    let mut prometheus = Prometheus::start(service.addr);
    wait_for("Prometheus to start", || prometheus.ready().then_some(()));

    // Every scrape Prometheus stored, oldest first: at least two.
    let stored = wait_for(
        "Prometheus to store two scrapes of turnstile_polls_total",
        || {
            let stored = points(&prometheus.query("turnstile_polls_total[1h]"));
            (stored.len() >= 2).then_some(stored)
        },
    );
    let latest = prometheus.query("turnstile_polls_total");
    let seen = service.seen.lock().unwrap().clone();
    eprintln!("scrapes the runtime saw (polls at each): {seen:?}");
    eprintln!("Prometheus stored: {stored:?}");
    eprintln!("GET /api/v1/query?query=turnstile_polls_total -> {latest:?}");

    // The series is the runtime's, and each value Prometheus stored is the runtime's
    // own count at one of its scrapes: equal, not close. Each scrape polls the
    // connection's task, so the counts only grow.
    assert_eq!(latest.len(), 1, "one series: {latest:?}");
    assert_eq!(latest[0]["metric"]["runtime"], "scraped");
    assert_eq!(latest[0]["metric"]["job"], "turnstile");
    for (at, polls) in &stored {
        assert!(
            seen.contains(polls),
            "Prometheus stored {polls} at {at}; the runtime's scrapes saw {seen:?}"
        );
    }
    assert!(stored.windows(2).all(|w| w[0].1 < w[1].1), "{stored:?}");
    let (_, newest) = points(&latest)[0];
    assert!(
        seen.contains(&newest) && newest >= stored.last().unwrap().1,
        "the query answered {newest}; the runtime saw {seen:?}"
    );

    // How the histograms look to an operator, for the book (docs/beyond-one-loop.md).
    for query in [
        "histogram_quantile(0.99, sum by (le, runtime) (turnstile_poll_duration_seconds_bucket))",
        "turnstile_tasks_alive",
    ] {
        eprintln!(
            "GET /api/v1/query?query={query} -> {:?}",
            prometheus.query(query)
        );
    }

    // promtool lints the exposition as an operator's CI would.
    let exposition = http_get(service.addr, "/metrics").expect("GET /metrics");
    let mut check = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool");
    check
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}\n{}{}\n--- exposition ---\n{exposition}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(exposition.contains("# TYPE turnstile_poll_duration_seconds histogram"));
}
