//! `echo`: how many echoes a second, how late the slowest, and what each costs the server?
//!
//! A TCP echo server (1 KiB messages, 1, 10 and 100 connections in lockstep) and a UDP
//! echo server, each on turnstile and on tokio, in a child process pinned to one core.
//! The load generator is the same for both: a tokio current-thread client in another
//! child pinned to the other core, so the servers differ and nothing else. Reported:
//! messages (or packets) per second and round-trip p50 and p99, beside the asyncio
//! survey's asyncio and uvloop figures; and, since one client core saturates before a
//! server does, what each round trip cost the server's loop thread (CPU time, system
//! calls, parks: [`crate::cost`]) and which side limited the rate.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use clap::value_parser;
use serde::{Deserialize, Serialize};
use turnstile_compare::{net as bench_net, Runtime, Tokio};

use super::{Experiment, Lab};
use crate::load::{self, micros, percent, rate, Latency, LoadCost, ServerProcess};
use crate::plot::{self, Lines, Series};
use crate::report::{thousands, Report, Section};
use crate::runtimes::Rt;
use crate::python::{self, Py, PyRuns};
use crate::sources;
use crate::servers::{ServeJob, Server};
use crate::worker::{self, ChildJob, JobEntry};

/// The knobs of `echo`.
#[derive(clap::Args, Clone, Debug)]
pub struct EchoArgs {
    /// TCP connections, comma-separated [default: 1,10,100; 1,10 with --smoke].
    #[arg(long, value_delimiter = ',', value_parser = value_parser!(u64).range(1..=2_000))]
    pub connections: Vec<u64>,
    /// Message size in bytes.
    #[arg(long, default_value_t = 1024, value_parser = value_parser!(u64).range(8..=60_000))]
    pub size: u64,
    /// Seconds of load per setting [default: 1; 0.5 in the tour].
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
    /// Stop each connection after this many round trips [default: none; 20 with
    /// --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..))]
    pub messages: Option<u64>,
    /// UDP client sockets, each with one datagram in flight (0 skips UDP).
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(0..=1_000))]
    pub udp_sockets: u64,
    /// Do not pin the server and the load generator to separate cores.
    #[arg(long)]
    pub no_pin: bool,
    /// turnstile again at these probe levels (comma-separated), as extra rows beside
    /// its default (Timing) in every setting: what the probes cost per round trip.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub levels: Vec<crate::load::ExtraLevel>,
    /// The tour's short form: Python runs the most connections and UDP only.
    #[arg(skip)]
    pub tour: bool,
}

/// TCP or UDP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// A TCP connection per client, round trips in lockstep.
    Tcp,
    /// A UDP socket per client, one datagram in flight.
    Udp,
}

/// One setting: the protocol and the number of clients.
#[derive(Clone, Copy, Debug)]
struct Setting(Proto, u64);

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&label(self.0, self.1))
    }
}

/// What the load generator is asked to do (in a child process).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EchoLoadJob {
    /// The server.
    pub addr: SocketAddr,
    /// TCP or UDP.
    pub proto: Proto,
    /// Connections (TCP) or sockets (UDP).
    pub clients: u64,
    /// Bytes per message.
    pub size: u64,
    /// How long to load.
    pub seconds: f64,
    /// Round trips per client at most.
    pub messages: Option<u64>,
}

impl ChildJob for EchoLoadJob {
    const NAME: &'static str = "echo-load";
    type Output = EchoLoad;

    fn run(&self) -> anyhow::Result<EchoLoad> {
        run_load(self)
    }
}

/// What the load generator measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EchoLoad {
    /// Round trips completed.
    pub messages: u64,
    /// Datagrams with no answer within 100 ms (UDP).
    pub lost: u64,
    /// From the first send to the last answer, s.
    pub seconds: f64,
    /// Round-trip times.
    pub latency: Latency,
}

/// One setting on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EchoRow {
    /// The server's runtime.
    pub runtime: Rt,
    /// turnstile's probe level, on the extra rows (none: its default, Timing).
    #[serde(default)]
    pub level: Option<turnstile::probes::Level>,
    /// TCP or UDP.
    pub proto: Proto,
    /// Connections or sockets.
    pub clients: u64,
    /// What the client measured.
    pub load: EchoLoad,
    /// Round trips per second.
    pub per_s: f64,
    /// What the run cost the server and the client.
    pub cost: LoadCost,
}

/// What `echo` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EchoReport {
    /// Bytes per message.
    pub size: u64,
    /// Seconds of load per setting.
    pub seconds: f64,
    /// Round trips per client at most, if capped.
    pub messages: Option<u64>,
    /// Server and client cores, if pinned.
    pub pinned: Option<(usize, usize)>,
    /// One row per setting and runtime.
    pub rows: Vec<EchoRow>,
    /// asyncio's streams echo server (and a datagram one) on each Python loop
    /// (`lab/python/echo.py`), pinned and driven as the Rust servers are.
    #[serde(default)]
    pub python: PyRuns<Vec<PyEchoRow>>,
}

/// One setting on one Python loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyEchoRow {
    /// TCP or UDP.
    pub proto: Proto,
    /// Connections or sockets.
    pub clients: u64,
    /// What the client measured.
    pub load: EchoLoad,
    /// Round trips per second.
    pub per_s: f64,
    /// What the run cost the server and the client.
    pub cost: LoadCost,
}

impl Experiment for super::Echo {
    const NAME: &'static str = "echo";
    type Args = EchoArgs;
    type Report = EchoReport;
    const CHILD_JOBS: &'static [JobEntry] = &[worker::entry::<EchoLoadJob>()];

    fn tour_args(_full: bool) -> EchoArgs {
        let mut args: EchoArgs = super::default_args();
        args.seconds = 0.5;
        args.tour = true;
        args
    }

    fn run(args: &EchoArgs, lab: &Lab) -> anyhow::Result<EchoReport> {
        anyhow::ensure!(
            args.seconds > 0.0 && args.seconds <= 600.0,
            "--seconds must be in (0, 600]"
        );
        let connections = if !args.connections.is_empty() {
            args.connections.clone()
        } else if lab.smoke {
            vec![1, 10]
        } else {
            vec![1, 10, 100]
        };
        let messages = args.messages.or(lab.smoke.then_some(20));
        let pinned = if args.no_pin { None } else { load::pinning() };
        let mut settings: Vec<Setting> = connections
            .iter()
            .map(|&c| Setting(Proto::Tcp, c))
            .collect();
        if args.udp_sockets > 0 {
            settings.push(Setting(Proto::Udp, args.udp_sockets));
        }
        let measure = |runtime: Rt,
                       level: Option<turnstile::probes::Level>,
                       &Setting(proto, clients): &Setting| {
                let server = ServerProcess::start(
                    &ServeJob {
                        runtime,
                        server: match proto {
                            Proto::Tcp => Server::TcpEcho,
                            Proto::Udp => Server::UdpEcho,
                        },
                        max_seconds: (args.seconds as u64).saturating_mul(4) + 30,
                        level,
                    },
                    pinned.map(|p| p.0),
                )?;
                let job = EchoLoadJob {
                    addr: server.addr,
                    proto,
                    clients,
                    size: args.size,
                    seconds: args.seconds,
                    messages,
                };
                let (load, cost, per_s) = drive(server, job, pinned.map(|p| p.1))?;
                Ok(EchoRow {
                    runtime,
                    level,
                    proto,
                    clients,
                    load,
                    per_s,
                    cost,
                })
        };
        let mut rows = lab.sweep("echo", &settings, |runtime, setting| {
            measure(runtime, None, setting)
        })?;
        if lab.runtimes.contains(&Rt::Turnstile) {
            for setting in &settings {
                for level in &args.levels {
                    rows.push(measure(Rt::Turnstile, Some(level.level()), setting)?);
                }
            }
        }
        // Python: the tour runs the most connections and UDP only, 0.3 s each.
        let py_seconds = if args.tour {
            args.seconds.min(0.3)
        } else {
            args.seconds
        };
        let py_settings: Vec<Setting> = if args.tour {
            let most = connections.iter().max().copied();
            settings
                .iter()
                .filter(|s| s.0 == Proto::Udp || Some(s.1) == most)
                .copied()
                .collect()
        } else {
            settings.clone()
        };
        let python = python::runs(
            &lab.python,
            format!(
                "{}, {} s each{}",
                py_settings
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                py_seconds,
                if args.tour {
                    " (the tour's short form; `turnstile-lab echo` runs every setting)"
                } else {
                    ""
                }
            ),
            |py, which| {
                py_settings
                    .iter()
                    .map(|&Setting(proto, clients)| {
                        let command = py.command(
                            "echo",
                            which,
                            &python::knobs(&[
                                (
                                    "proto",
                                    match proto {
                                        Proto::Tcp => "tcp",
                                        Proto::Udp => "udp",
                                    }
                                    .to_string(),
                                ),
                                (
                                    "max-seconds",
                                    ((args.seconds as u64).saturating_mul(4) + 30).to_string(),
                                ),
                            ]),
                        );
                        let server = ServerProcess::start_foreign(&command, pinned.map(|p| p.0))?;
                        let job = EchoLoadJob {
                            addr: server.addr,
                            proto,
                            clients,
                            size: args.size,
                            seconds: py_seconds,
                            messages,
                        };
                        let (load, cost, per_s) = drive(server, job, pinned.map(|p| p.1))?;
                        Ok(PyEchoRow {
                            proto,
                            clients,
                            load,
                            per_s,
                            cost,
                        })
                    })
                    .collect()
            },
        );
        Ok(EchoReport {
            python,
            size: args.size,
            seconds: args.seconds,
            messages,
            pinned,
            rows,
        })
    }

}

/// Drives `job` against `server` from a child process (pinned to `core`, if given),
/// metering the server; returns the load, the server's cost and messages per second.
fn drive(
    server: ServerProcess,
    job: EchoLoadJob,
    core: Option<usize>,
) -> anyhow::Result<(EchoLoad, LoadCost, f64)> {
    let (load, cost): (EchoLoad, _) =
        server.metered(|| worker::run_in_child_on(&job, core))?;
    drop(server);
    let per_s = load.messages as f64 / load.seconds.max(1e-9);
    Ok((load, cost, per_s))
}

/// The load generator's side (a child process): tokio current-thread clients.
pub fn run_load(job: &EchoLoadJob) -> anyhow::Result<EchoLoad> {
    let rt = Tokio::new();
    rt.block_on(async {
        match job.proto {
            Proto::Tcp => tcp_load(job).await,
            Proto::Udp => udp_load(job).await,
        }
    })
}

async fn tcp_load(job: &EchoLoadJob) -> anyhow::Result<EchoLoad> {
    let streams = bench_net::connect_many::<Tokio>(job.addr, job.clients as usize).await;
    let size = job.size as usize;
    let cap = job.messages.unwrap_or(u64::MAX);
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(job.seconds);
    let tasks: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            Tokio::spawn(async move {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                let message = vec![0xA5; size];
                let mut echo = vec![0; size];
                let mut times = Vec::new();
                while (times.len() as u64) < cap && Instant::now() < deadline {
                    let sent = Instant::now();
                    stream.write_all(&message).await?;
                    stream.read_exact(&mut echo).await?;
                    times.push(sent.elapsed().as_nanos() as u64);
                }
                anyhow::ensure!(echo == message || times.is_empty(), "a wrong echo");
                Ok(times)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(EchoLoad {
        messages: all.len() as u64,
        lost: 0,
        seconds: start.elapsed().as_secs_f64(),
        latency: Latency::of(all),
    })
}

async fn udp_load(job: &EchoLoadJob) -> anyhow::Result<EchoLoad> {
    let size = job.size as usize;
    let cap = job.messages.unwrap_or(u64::MAX);
    let mut sockets = Vec::new();
    for _ in 0..job.clients {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        socket.connect(job.addr).await?;
        sockets.push(socket);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(job.seconds);
    let tasks: Vec<_> = sockets
        .into_iter()
        .map(|socket| {
            Tokio::spawn(async move {
                let mut message = vec![0xA5; size];
                let mut echo = vec![0; size + 1];
                let mut times = Vec::new();
                let mut lost = 0u64;
                let mut seq = 0u64;
                while (times.len() as u64) < cap && Instant::now() < deadline {
                    seq += 1;
                    message[..8].copy_from_slice(&seq.to_le_bytes());
                    let sent = Instant::now();
                    socket.send(&message).await?;
                    // Wait for this datagram's echo; a late echo of an earlier one is
                    // skipped.
                    let answered = tokio::time::timeout(Duration::from_millis(100), async {
                        loop {
                            let n = socket.recv(&mut echo).await?;
                            if n == size && echo[..8] == seq.to_le_bytes() {
                                return Ok::<(), std::io::Error>(());
                            }
                        }
                    })
                    .await;
                    match answered {
                        Ok(result) => {
                            result?;
                            times.push(sent.elapsed().as_nanos() as u64);
                        }
                        Err(_elapsed) => lost += 1,
                    }
                }
                Ok::<_, anyhow::Error>((times, lost))
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut lost = 0;
    for task in tasks {
        let (times, l) = task.await??;
        all.extend(times);
        lost += l;
    }
    Ok(EchoLoad {
        messages: all.len() as u64,
        lost,
        seconds: start.elapsed().as_secs_f64(),
        latency: Latency::of(all),
    })
}

/// The asyncio survey's figures (section 10.1; no size, connection count or machine
/// stated): (asyncio,
/// uvloop) for TCP req/s, UDP packets/s and p99 latency in ms.
const PYTHON_TCP: (f64, f64) = (50_000.0, 150_000.0);
const PYTHON_UDP: (f64, f64) = (80_000.0, 250_000.0);
const PYTHON_P99_MS: (f64, f64) = (12.0, 4.0);

impl EchoReport {
    /// The most TCP connections measured (0 without TCP rows): the setting the tour's
    /// headline and the book's runtime table quote.
    ///
    /// ```
    /// use turnstile_lab::experiments::{echo::Proto, ExperimentReport};
    /// let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/generated/tour.json"));
    /// let tour: turnstile_lab::tour::TourReport = serde_json::from_str(text).unwrap();
    /// let echo = tour.experiments.iter().find_map(|e| match e {
    ///     ExperimentReport::Echo(r) => Some(r),
    ///     _ => None,
    /// });
    /// let echo = echo.expect("the recorded tour has an echo report");
    /// let most = echo.most_tcp_clients();
    /// assert!(echo.rows.iter().any(|r| r.proto == Proto::Tcp && r.clients == most));
    /// assert!(echo.rows.iter().all(|r| r.proto != Proto::Tcp || r.clients <= most));
    /// ```
    pub fn most_tcp_clients(&self) -> u64 {
        self.rows
            .iter()
            .filter(|r| r.proto == Proto::Tcp)
            .map(|r| r.clients)
            .max()
            .unwrap_or(0)
    }

    fn find(&self, runtime: Rt, proto: Proto, clients: u64) -> Option<&EchoRow> {
        self.rows
            .iter()
            .find(|r| {
                r.runtime == runtime && r.level.is_none() && r.proto == proto && r.clients == clients
            })
    }

    fn settings(&self) -> Vec<(Proto, u64)> {
        let mut out: Vec<(Proto, u64)> = Vec::new();
        let python = self
            .python
            .runs
            .iter()
            .flat_map(|run| run.figures.iter().map(|r| (r.proto, r.clients)));
        for setting in self.rows.iter().map(|r| (r.proto, r.clients)).chain(python) {
            if !out.contains(&setting) {
                out.push(setting);
            }
        }
        out
    }

    /// Python's rows for a setting, one per loop that ran it.
    fn python_rows(&self, proto: Proto, clients: u64) -> Vec<(Py, &PyEchoRow)> {
        self.python
            .runs
            .iter()
            .filter_map(|run| {
                let r = run
                    .figures
                    .iter()
                    .find(|r| r.proto == proto && r.clients == clients)?;
                Some((run.python, r))
            })
            .collect()
    }
}

fn label(proto: Proto, clients: u64) -> String {
    match proto {
        Proto::Tcp => format!("TCP, {clients} conn"),
        Proto::Udp => format!("UDP, {clients} sockets"),
    }
}

/// A series' legend name: the runtime and the protocol.
fn label_of(who: impl std::fmt::Display, proto: Proto) -> String {
    match proto {
        Proto::Tcp => format!("{who}, TCP"),
        Proto::Udp => format!("{who}, UDP"),
    }
}

impl Report for EchoReport {
    fn name(&self) -> &'static str {
        "echo"
    }

    fn title(&self) -> String {
        "echo: round trips per second, and the slowest one".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: uvloop serves 3x what asyncio does (TCP 50k -> 150k req/s, UDP 80k -> \
             250k packets/s, p99 12 -> 4 ms) ({}, section 10.1). Here: an echo server on \
             each runtime, {} B messages in lockstep, {} s per setting; the load generator \
             is the lab's own, the same for every server (a tokio current-thread client, \
             one thread); {}.",
            sources::BOTTLENECKS,
            self.size,
            self.seconds,
            match self.pinned {
                Some((s, c)) => format!("server pinned to core {s}, client to core {c}"),
                None => "not pinned".into(),
            }
        ) + " " + crate::load::AT_DEFAULT_LEVEL
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            "Round trips a second and their latency, as the client saw them.",
            &[
                "setting",
                "server",
                "round trips",
                "per second",
                "p50",
                "p99",
                "max",
                "lost",
            ],
            2,
        );
        for (proto, clients) in self.settings() {
            for r in self
                .rows
                .iter()
                .filter(|r| r.proto == proto && r.clients == clients)
            {
                s.row(vec![
                    label(proto, clients),
                    crate::load::row_label(r.runtime, r.level),
                    thousands(r.load.messages),
                    rate(r.per_s),
                    micros(r.load.latency.p50_us),
                    micros(r.load.latency.p99_us),
                    micros(r.load.latency.max_us),
                    thousands(r.load.lost),
                ]);
            }
            for (py, r) in self.python_rows(proto, clients) {
                s.row(vec![
                    label(proto, clients),
                    py.to_string(),
                    thousands(r.load.messages),
                    rate(r.per_s),
                    micros(r.load.latency.p50_us),
                    micros(r.load.latency.p99_us),
                    micros(r.load.latency.max_us),
                    thousands(r.load.lost),
                ]);
            }
        }
        let mut python = Section::new(
            "The asyncio survey's figures (Python; size, connections and machine not stated).",
            &["metric", "asyncio", "uvloop", "uvloop / asyncio"],
            1,
        );
        for (name, (a, u), fmt) in [
            ("TCP req/s", PYTHON_TCP, rate as fn(f64) -> String),
            ("UDP packets/s", PYTHON_UDP, rate),
            ("p99 latency", PYTHON_P99_MS, |ms: f64| format!("{ms} ms")),
        ] {
            let ratio = if name.starts_with("p99") {
                a / u
            } else {
                u / a
            };
            python.row(vec![name.into(), fmt(a), fmt(u), format!("{ratio:.1}x")]);
        }
        // The same metrics measured here, for the settings both loops ran.
        for (proto, clients) in self.settings() {
            let rows = self.python_rows(proto, clients);
            let (Some(a), Some(u)) = (
                rows.iter().find(|(p, _)| *p == Py::Asyncio).map(|r| r.1),
                rows.iter().find(|(p, _)| *p == Py::Uvloop).map(|r| r.1),
            ) else {
                continue;
            };
            let what = match proto {
                Proto::Tcp => "round trips/s",
                Proto::Udp => "packets/s",
            };
            python.row(vec![
                format!("here: {what}, {}", label(proto, clients)),
                rate(a.per_s),
                rate(u.per_s),
                format!("{:.2}x", u.per_s / a.per_s.max(1e-9)),
            ]);
            python.row(vec![
                format!("here: p99, {}", label(proto, clients)),
                micros(a.load.latency.p99_us),
                micros(u.load.latency.p99_us),
                format!(
                    "{:.2}x",
                    a.load.latency.p99_us / u.load.latency.p99_us.max(1e-3)
                ),
            ]);
        }
        let mut cost = Section::new(
            "What each round trip cost the server's loop thread: CPU time, system calls \
             and parks (times it blocked), and the share of a core each side used.",
            &[
                "setting",
                "server",
                "CPU / round trip",
                "syscalls / round trip",
                "parks / round trip",
                "server busy",
                "generator busy",
                "limited by",
            ],
            2,
        );
        for (proto, clients) in self.settings() {
            for r in self
                .rows
                .iter()
                .filter(|r| r.proto == proto && r.clients == clients)
            {
                let n = r.load.messages;
                cost.row(vec![
                    label(proto, clients),
                    crate::load::row_label(r.runtime, r.level),
                    crate::report::duration_ns(r.cost.server.cpu_ns_per(n)),
                    r.cost
                        .server
                        .syscalls_per(n)
                        .map_or_else(|| "-".into(), |s| format!("{s:.2}")),
                    format!("{:.2}", r.cost.server.blocked_per(n)),
                    percent(r.cost.server_busy()),
                    percent(r.cost.client_busy()),
                    r.cost.bottleneck().label().into(),
                ]);
            }
            for (py, r) in self.python_rows(proto, clients) {
                let n = r.load.messages;
                cost.row(vec![
                    label(proto, clients),
                    py.to_string(),
                    crate::report::duration_ns(r.cost.server.cpu_ns_per(n)),
                    r.cost
                        .server
                        .syscalls_per(n)
                        .map_or_else(|| "-".into(), |s| format!("{s:.2}")),
                    format!("{:.2}", r.cost.server.blocked_per(n)),
                    percent(r.cost.server_busy()),
                    percent(r.cost.client_busy()),
                    r.cost.bottleneck().label().into(),
                ]);
            }
        }
        vec![s, cost, python]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (proto, clients) in self.settings() {
            let Some(t) = self.find(Rt::Turnstile, proto, clients) else {
                continue;
            };
            let others: Vec<String> = Rt::ALL
                .into_iter()
                .filter(|&rt| rt != Rt::Turnstile)
                .filter_map(|rt| self.find(rt, proto, clients))
                .map(|k| {
                    format!(
                        "{} {} ({:.2}x, p99 {})",
                        k.runtime,
                        rate(k.per_s),
                        t.per_s / k.per_s.max(1e-9),
                        micros(k.load.latency.p99_us)
                    )
                })
                .collect();
            if !others.is_empty() {
                notes.push(format!(
                    "{}: turnstile {} (p99 {}) against {}.",
                    label(proto, clients),
                    rate(t.per_s),
                    micros(t.load.latency.p99_us),
                    others.join(", ")
                ));
            }
        }
        for (proto, clients) in self.settings() {
            notes.extend(crate::load::level_notes(
                &label(proto, clients),
                self.rows
                    .iter()
                    .filter(|r| r.proto == proto && r.clients == clients)
                    .map(|r| (r.runtime, r.level, r.load.messages, &r.cost)),
                "round trip",
            ));
        }
        notes.extend(crate::load::cost_notes(
            self.rows.iter().filter(|r| r.level.is_none()).map(|r| {
                (
                    label(r.proto, r.clients),
                    r.runtime,
                    r.load.messages,
                    &r.cost,
                )
            }),
            "round trip",
        ));
        // The widest gap between runtimes in what a round trip cost the server, against
        // the survey's 3x between two Python loops (one of them, uvloop, written in C).
        let widest = self
            .settings()
            .into_iter()
            .filter_map(|(proto, clients)| {
                let costs: Vec<f64> = self
                    .rows
                    .iter()
                    .filter(|r| r.level.is_none() && r.proto == proto && r.clients == clients)
                    .map(|r| r.cost.server.cpu_ns_per(r.load.messages))
                    .collect();
                let lo = costs.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = costs.iter().copied().fold(0.0, f64::max);
                (costs.len() > 1 && lo > 0.0).then(|| (hi / lo, label(proto, clients)))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((gap, setting)) = widest {
            notes.push(format!(
                "The widest gap between the runtimes in CPU per round trip was {gap:.2}x \
                 ({setting}), against the survey's {:.1}x between asyncio and uvloop (a loop \
                 in Python against one in C); every server here runs the same code under \
                 the same client.",
                PYTHON_TCP.1 / PYTHON_TCP.0
            ));
        }
        for (proto, clients) in self.settings() {
            let rows = self.python_rows(proto, clients);
            let find = |py| rows.iter().find(|(p, _)| *p == py).map(|r| r.1);
            let (Some(a), Some(u)) = (find(Py::Asyncio), find(Py::Uvloop)) else {
                continue;
            };
            let rust = self
                .rows
                .iter()
                .filter(|r| r.level.is_none() && r.proto == proto && r.clients == clients)
                .map(|r| {
                    format!(
                        "{} {} ({} CPU per round trip)",
                        r.runtime,
                        rate(r.per_s),
                        crate::report::duration_ns(r.cost.server.cpu_ns_per(r.load.messages))
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            notes.push(format!(
                "{}: uvloop {} against asyncio {}: {:.2}x (the survey says 3x); CPU per \
                 round trip {} against {}{}.",
                label(proto, clients),
                rate(u.per_s),
                rate(a.per_s),
                u.per_s / a.per_s.max(1e-9),
                crate::report::duration_ns(u.cost.server.cpu_ns_per(u.load.messages)),
                crate::report::duration_ns(a.cost.server.cpu_ns_per(a.load.messages)),
                if rust.is_empty() {
                    String::new()
                } else {
                    format!("; the Rust servers: {rust}")
                }
            ));
        }
        notes.extend(self.python.notes());
        if self.pinned.is_none() {
            notes.push("Not pinned: server and client shared the cores.".into());
        }
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let mut rts: Vec<Rt> = self.rows.iter().map(|r| r.runtime).collect();
        rts.sort();
        rts.dedup();
        let mut series = Vec::new();
        for rt in rts {
            for (variant, proto) in [Proto::Tcp, Proto::Udp].into_iter().enumerate() {
                let points: Vec<(f64, f64)> = self
                    .rows
                    .iter()
                    // The default level's rows: extra levels are the tables' detail.
                    .filter(|r| r.runtime == rt && r.proto == proto && r.level.is_none())
                    .map(|r| (r.clients as f64, r.load.latency.p99_us))
                    .collect();
                if !points.is_empty() {
                    series.push(Series::line(label_of(rt, proto), rt, points).variant(variant));
                }
            }
        }
        for run in &self.python.runs {
            for (variant, proto) in [Proto::Tcp, Proto::Udp].into_iter().enumerate() {
                let points: Vec<(f64, f64)> = run
                    .figures
                    .iter()
                    .filter(|r| r.proto == proto)
                    .map(|r| (r.clients as f64, r.load.latency.p99_us))
                    .collect();
                if !points.is_empty() {
                    series.push(
                        Series::line(label_of(run.python, proto), run.python, points)
                            .variant(variant),
                    );
                }
            }
        }
        plot::lines(
            path,
            &Lines {
                title: "echo: p99 round trip against the connections (tokio client)".into(),
                x_label: "connections, or UDP sockets (log scale)".into(),
                y_label: "p99 round trip (log scale)".into(),
                x_log: true,
                y_log: true,
                series,
                x_format: |x| thousands(x.round() as u64),
                y_format: micros,
            },
        )
    }
}
