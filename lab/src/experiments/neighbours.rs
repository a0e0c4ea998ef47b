//! neighbours: what a runtime owes the quiet connection when others are busy.
//!
//! One light keep-alive client makes one request at a time against hyper's hello
//! world ([`crate::servers::hello`], in its own pinned process) while N heavy clients
//! each pipeline a batch of requests, then read the answers, over and over: each heavy
//! connection's task always has work, and hyper's dispatcher yields by waking itself
//! after 16 pipelined requests, so those tasks stay on the ready queue. The light
//! client's latency percentiles say how long its readiness waited behind them
//! (issue 27: turnstile's p99 was 220-330 ms at N = 50, tokio's 10-13 ms). The
//! server's CPU per request (all requests, light and heavy) says what fairness cost.
//!
//! The clients are threads of the lab process with blocking sockets; the light client
//! stops after `--requests` answers or `--seconds`, whichever comes first, and the
//! heavy ones stop with it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::value_parser;
use serde::{Deserialize, Serialize};

use super::{Experiment, Lab};
use crate::load::{self, Latency, LoadCost, ServerProcess};
use crate::plot::{self, Lines, Series};
use crate::report::{thousands, Report, Section};
use crate::runtimes::Rt;
use crate::servers::{ServeJob, Server};

/// The knobs of `neighbours`.
#[derive(clap::Args, Clone, Debug)]
pub struct NeighboursArgs {
    /// Heavy pipelining clients, one run per value [default: 0,10,50,100; 0,2 with
    /// --smoke].
    #[arg(long, value_delimiter = ',', value_parser = value_parser!(u64).range(0..=1_000))]
    pub heavy: Vec<u64>,
    /// Requests each heavy client writes before it reads their answers.
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u64).range(1..=1_000))]
    pub pipeline: u64,
    /// The light client's requests per run, at most [default: 2000; 300 in the tour; 20
    /// with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub requests: Option<u64>,
    /// The longest a run lasts, s [default: 3; 0.25 in the tour; 30 with --smoke, where
    /// the request count ends it].
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Do not pin the server to a core of its own.
    #[arg(long)]
    pub no_pin: bool,
    /// The tour's short form.
    #[arg(skip)]
    pub tour: bool,
}

/// What `neighbours` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeighboursReport {
    /// Requests per heavy client's batch.
    pub pipeline: u64,
    /// The server's core, if pinned.
    pub server_core: Option<usize>,
    /// One row per (N, runtime).
    pub rows: Vec<NeighboursRow>,
}

/// One run: a runtime beside N heavy clients.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeighboursRow {
    /// The server's runtime.
    pub runtime: Rt,
    /// Heavy clients.
    pub heavy: u64,
    /// The light client's latencies: one sample per answered request.
    pub light: Latency,
    /// Responses the heavy clients read.
    pub heavy_responses: u64,
    /// Failed connections, reads, writes or malformed answers, on any client.
    pub errors: u64,
    /// What the run cost the server's loop thread.
    pub cost: LoadCost,
}

impl NeighboursRow {
    /// Every request answered, light and heavy.
    pub fn answered(&self) -> u64 {
        self.light.samples + self.heavy_responses
    }
}

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n";

impl Experiment for super::Neighbours {
    const NAME: &'static str = "neighbours";
    type Args = NeighboursArgs;
    type Report = NeighboursReport;

    fn tour_args(full: bool) -> NeighboursArgs {
        let mut args: NeighboursArgs = super::default_args();
        args.tour = !full;
        args
    }

    fn run(args: &NeighboursArgs, lab: &Lab) -> anyhow::Result<NeighboursReport> {
        let heavy = match (&args.heavy[..], lab.smoke) {
            ([], true) => vec![0, 2],
            ([], false) => vec![0, 10, 50, 100],
            (given, _) => given.to_vec(),
        };
        let requests = lab.size(
            args.requests,
            if args.tour { 300 } else { 2000 },
            20,
        );
        let seconds = args.seconds.unwrap_or(if lab.smoke {
            30.0
        } else if args.tour {
            0.25
        } else {
            3.0
        });
        let server_core = if args.no_pin {
            None
        } else {
            load::pinning().map(|(server, _)| server)
        };
        let cap = Duration::from_secs_f64(seconds.max(0.01));
        let rows = lab.sweep("neighbours", &heavy, |runtime, &n| {
            let job = ServeJob {
                runtime,
                server: Server::Hello,
                max_seconds: 60 + cap.as_secs(),
                level: None,
            };
            let server = ServerProcess::start(&job, server_core)?;
            let (outcome, cost) =
                server.metered(|| Ok(clients(server.addr, n, args.pipeline, requests, cap)))?;
            Ok(NeighboursRow {
                runtime,
                heavy: n,
                light: Latency::of(outcome.light_ns),
                heavy_responses: outcome.heavy_responses,
                errors: outcome.errors,
                cost,
            })
        })?;
        Ok(NeighboursReport {
            pipeline: args.pipeline,
            server_core,
            rows,
        })
    }
}

/// What the clients of one run saw.
struct Outcome {
    light_ns: Vec<u64>,
    heavy_responses: u64,
    errors: u64,
}

/// Runs `heavy` pipelining clients and one light client against `addr` until the
/// light client has `requests` answers or `cap` has passed.
fn clients(addr: SocketAddr, heavy: u64, pipeline: u64, requests: u64, cap: Duration) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let responses = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let heavies: Vec<_> = (0..heavy)
        .map(|_| {
            let (stop, responses, errors) = (stop.clone(), responses.clone(), errors.clone());
            std::thread::spawn(move || {
                if heavy_client(addr, pipeline, &stop, &responses).is_err() {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut light_ns = Vec::with_capacity(requests.min(1 << 20) as usize);
    if light_client(addr, requests, cap, &mut light_ns).is_err() {
        errors.fetch_add(1, Ordering::Relaxed);
    }
    stop.store(true, Ordering::Relaxed);
    for h in heavies {
        if h.join().is_err() {
            errors.fetch_add(1, Ordering::Relaxed);
        }
    }
    Outcome {
        light_ns,
        heavy_responses: responses.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
    }
}

/// A connection to the server, with a read buffer for its answers.
/// The hello server prints its address before it binds it: a refused connection is
/// tried again for a few seconds.
fn connect(addr: SocketAddr) -> std::io::Result<(TcpStream, BufReader<TcpStream>)> {
    let start = Instant::now();
    let stream = loop {
        match TcpStream::connect(addr) {
            Err(e)
                if e.kind() == std::io::ErrorKind::ConnectionRefused
                    && start.elapsed() < Duration::from_secs(5) =>
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            other => break other?,
        }
    };
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let reader = BufReader::with_capacity(64 * 1024, stream.try_clone()?);
    Ok((stream, reader))
}

/// Reads one answer: a `200` status line, headers with a `content-length`, the body.
fn read_response(reader: &mut BufReader<TcpStream>, line: &mut String) -> std::io::Result<()> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    line.clear();
    reader.read_line(line)?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(bad("not a 200 answer"));
    }
    let mut length = None;
    loop {
        line.clear();
        if reader.read_line(line)? == 0 {
            return Err(bad("closed in the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; length.ok_or_else(|| bad("no content-length"))?];
    reader.read_exact(&mut body)
}

/// One request at a time until `requests` answers or `cap`; each answer's latency.
fn light_client(
    addr: SocketAddr,
    requests: u64,
    cap: Duration,
    samples: &mut Vec<u64>,
) -> std::io::Result<()> {
    let (mut stream, mut reader) = connect(addr)?;
    let mut line = String::new();
    let start = Instant::now();
    while (samples.len() as u64) < requests && start.elapsed() < cap {
        let sent = Instant::now();
        stream.write_all(REQUEST)?;
        read_response(&mut reader, &mut line)?;
        samples.push(sent.elapsed().as_nanos() as u64);
    }
    Ok(())
}

/// Writes `pipeline` requests at once, then reads their answers, until `stop`.
fn heavy_client(
    addr: SocketAddr,
    pipeline: u64,
    stop: &AtomicBool,
    responses: &AtomicU64,
) -> std::io::Result<()> {
    let (mut stream, mut reader) = connect(addr)?;
    let batch = REQUEST.repeat(pipeline as usize);
    let mut line = String::new();
    while !stop.load(Ordering::Relaxed) {
        stream.write_all(&batch)?;
        for _ in 0..pipeline {
            read_response(&mut reader, &mut line)?;
        }
        responses.fetch_add(pipeline, Ordering::Relaxed);
    }
    Ok(())
}

impl NeighboursReport {
    /// The row of `runtime` at `heavy` clients.
    pub fn row(&self, runtime: Rt, heavy: u64) -> Option<&NeighboursRow> {
        self.rows
            .iter()
            .find(|r| r.runtime == runtime && r.heavy == heavy)
    }

    /// The N the verdict speaks of: 50 if it was run, else the largest.
    fn verdict_n(&self) -> Option<u64> {
        let ns = self.rows.iter().map(|r| r.heavy);
        if self.rows.iter().any(|r| r.heavy == 50) {
            Some(50)
        } else {
            ns.max()
        }
    }
}

impl Report for NeighboursReport {
    fn name(&self) -> &'static str {
        "neighbours"
    }

    fn title(&self) -> String {
        "neighbours: the quiet connection beside busy ones".into()
    }

    fn question(&self) -> String {
        format!(
            "What does a runtime owe the quiet connection when others are busy? One \
             keep-alive client makes one request at a time against hyper's hello world \
             while N clients each pipeline {} requests, then read the answers; its p99 \
             is how long its readiness waited behind always-ready tasks; {}.",
            self.pipeline,
            match self.server_core {
                Some(core) => format!("server on core {core}, clients unpinned"),
                None => "not pinned".into(),
            }
        )
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            "The light client's latency beside N heavy clients, and the server's CPU per \
             request (all requests).",
            &[
                "N heavy",
                "server",
                "light requests",
                "p50",
                "p99",
                "max",
                "heavy answers",
                "errors",
                "server CPU / request",
            ],
            2,
        );
        for r in &self.rows {
            s.row(vec![
                r.heavy.to_string(),
                r.runtime.to_string(),
                thousands(r.light.samples),
                load::micros(r.light.p50_us),
                load::micros(r.light.p99_us),
                load::micros(r.light.max_us),
                thousands(r.heavy_responses),
                r.errors.to_string(),
                crate::report::duration_ns(r.cost.server.cpu_ns_per(r.answered())),
            ]);
        }
        vec![s]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(n) = self.verdict_n() {
            let p99 = |rt| self.row(rt, n).map(|r| load::micros(r.light.p99_us));
            if let Some(ours) = p99(Rt::Turnstile) {
                let tokio = p99(Rt::Tokio).unwrap_or_else(|| "not run".into());
                notes.push(format!("turnstile's p99 at N={n} is {ours} (tokio {tokio})."));
            }
        }
        let errors: u64 = self.rows.iter().map(|r| r.errors).sum();
        if errors > 0 {
            notes.push(format!("{errors} client errors: see the errors column."));
        }
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let mut runtimes: Vec<Rt> = Vec::new();
        for r in &self.rows {
            if !runtimes.contains(&r.runtime) {
                runtimes.push(r.runtime);
            }
        }
        let series = runtimes
            .iter()
            .map(|&rt| {
                let points = self
                    .rows
                    .iter()
                    .filter(|r| r.runtime == rt)
                    .map(|r| (r.heavy as f64, r.light.p99_us))
                    .collect();
                Series::line(rt.to_string(), rt, points)
            })
            .collect();
        plot::lines(
            path,
            &Lines {
                title: "neighbours: the light client's p99 beside N heavy clients".into(),
                x_label: "heavy clients N".into(),
                y_label: "the light client's p99 (log scale)".into(),
                x_log: false,
                y_log: true,
                series,
                x_format: |x| format!("{x:.0}"),
                y_format: load::micros,
            },
        )
    }
}
