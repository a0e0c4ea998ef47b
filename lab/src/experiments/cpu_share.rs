//! `cpu-share`: when does CPU work in the loop wreck the tail?
//!
//! A loopback request/response server ([`work_server`]) where
//! each request is a fixed amount of work: a CPU burst that makes up 0 to 50 % of it,
//! the rest a wait on a timer (the I/O part). The burst runs inline on the loop thread
//! or through `spawn_blocking`. A tokio client on its own thread offers a fixed load:
//! each request has a scheduled send time, and its latency counts from that time (so
//! a client held up by a slow server does not hide the delay). Reported per CPU share:
//! p50, p99 and throughput.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{value_parser, ValueEnum};
use serde::{Deserialize, Serialize};
use turnstile_compare::workloads::spin;
use turnstile_compare::{net, Runtime, Tokio};

use super::{Experiment, Lab};
use crate::load::{micros, rate, Latency};
use crate::plot::{self, Lines, Series};
use crate::report::{thousands, Report, Section};
use crate::runtimes::Rt;
use crate::load::ServerProcess;
use crate::python::{self, PyRuns};
use crate::sources;

/// The knobs of `cpu-share`.
#[derive(clap::Args, Clone, Debug)]
pub struct CpuShareArgs {
    /// CPU shares of each request's work, in percent, comma-separated [default:
    /// 0,10,20,30,40,50; 0,50 with --smoke].
    #[arg(long, value_delimiter = ',', value_parser = value_parser!(u64).range(0..=100))]
    pub shares: Vec<u64>,
    /// Work per request (CPU burst plus wait), in microseconds.
    #[arg(long, default_value_t = 5000, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub work_us: u64,
    /// Offered load, requests per second.
    #[arg(long, default_value_t = 400, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub rate: u64,
    /// Seconds of load per setting [default: 1; 0.5 in the tour; 0.1 with --smoke].
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Client connections; requests go round-robin over them.
    #[arg(long, default_value_t = 50, value_parser = value_parser!(u64).range(1..=10_000))]
    pub connections: u64,
    /// Where the CPU burst runs: inline, spawn-blocking, or both.
    #[arg(long, value_enum, default_value_t = BurstChoice::Both)]
    pub burst: BurstChoice,
    /// The tour's short form: 0.5 s per setting.
    #[arg(skip)]
    pub tour: bool,
}

/// The `--burst` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BurstChoice {
    /// On the loop thread.
    Inline,
    /// On the blocking pool.
    SpawnBlocking,
    /// Both.
    Both,
}

/// Where the CPU part of a [`work_server`] request runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Burst {
    /// On the loop thread, inside the connection's task.
    Inline,
    /// On the runtime's blocking pool, awaited from the task.
    SpawnBlocking,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, {}% CPU", self.burst.label(), self.share)
    }
}

impl Burst {
    fn label(self) -> &'static str {
        match self {
            Burst::Inline => "inline",
            Burst::SpawnBlocking => "spawn_blocking",
        }
    }
}

/// One CPU share on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuShareRow {
    /// The server's runtime.
    pub runtime: Rt,
    /// Where the burst ran.
    pub burst: Burst,
    /// CPU share of the work, percent.
    pub share_pct: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered.
    pub answered: u64,
    /// From the first scheduled send to the last answer, s.
    pub seconds: f64,
    /// Answers per second.
    pub per_s: f64,
    /// From the scheduled send to the answer.
    pub latency: Latency,
}

/// What `cpu-share` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuShareReport {
    /// Work per request, µs.
    pub work_us: u64,
    /// Offered load, requests per second.
    pub rate: u64,
    /// Client connections.
    pub connections: u64,
    /// One row per runtime, burst and share.
    pub rows: Vec<CpuShareRow>,
    /// The same server in Python (`lab/python/cpu_share.py`), driven by the same
    /// client.
    #[serde(default)]
    pub python: PyRuns<Vec<PyCpuShareRow>>,
}

/// One CPU share on one Python loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PyCpuShareRow {
    /// Where the burst ran (`spawn-blocking` is `run_in_executor`).
    pub burst: Burst,
    /// CPU share of the work, percent.
    pub share_pct: u64,
    /// Requests sent.
    pub requests: u64,
    /// Requests answered.
    pub answered: u64,
    /// Answers per second.
    pub per_s: f64,
    /// From the scheduled send to the answer.
    pub latency: Latency,
}

impl Experiment for super::CpuShare {
    const NAME: &'static str = "cpu-share";
    type Args = CpuShareArgs;
    type Report = CpuShareReport;

    fn tour_args(_full: bool) -> CpuShareArgs {
        let mut args: CpuShareArgs = super::default_args();
        args.tour = true;
        args
    }

    fn run(args: &CpuShareArgs, lab: &Lab) -> anyhow::Result<CpuShareReport> {
        let shares = if !args.shares.is_empty() {
            args.shares.clone()
        } else if lab.smoke {
            vec![0, 50]
        } else {
            vec![0, 10, 20, 30, 40, 50]
        };
        let seconds = lab.size(args.seconds, if args.tour { 0.5 } else { 1.0 }, 0.1);
        anyhow::ensure!(
            seconds > 0.0 && seconds <= 600.0,
            "--seconds must be in (0, 600]"
        );
        let requests = ((args.rate as f64 * seconds).round() as u64).max(1);
        let bursts = match args.burst {
            BurstChoice::Inline => vec![Burst::Inline],
            BurstChoice::SpawnBlocking => vec![Burst::SpawnBlocking],
            BurstChoice::Both => vec![Burst::Inline, Burst::SpawnBlocking],
        };
        let work = Duration::from_micros(args.work_us);
        let settings: Vec<Setting> = bursts
            .iter()
            .flat_map(|&burst| {
                shares.iter().map(move |&share| {
                    let cpu = work.mul_f64(share as f64 / 100.0);
                    Setting {
                        cpu,
                        wait: work - cpu,
                        share,
                        burst,
                        rate: args.rate,
                        requests,
                        connections: args.connections.min(requests),
                    }
                })
            })
            .collect();
        let rows = lab.sweep("cpu-share", &settings, |runtime, setting| {
            let (answered, seconds, latency) =
                on_runtime!(runtime, R => run_setting::<R>(setting))?;
            Ok(CpuShareRow {
                runtime,
                burst: setting.burst,
                share_pct: setting.share,
                requests,
                answered,
                seconds,
                per_s: answered as f64 / seconds.max(1e-9),
                latency,
            })
        })?;
        // Python: the tour runs the lowest and the highest share, inline only, 0.3 s
        // each.
        let py_seconds = if args.tour { seconds.min(0.3) } else { seconds };
        let py_requests = ((args.rate as f64 * py_seconds).round() as u64).max(1);
        let py_settings: Vec<Setting> = if args.tour {
            let (lo, hi) = (shares.iter().min(), shares.iter().max());
            settings
                .iter()
                .filter(|s| s.burst == Burst::Inline)
                .filter(|s| Some(&s.share) == lo || Some(&s.share) == hi)
                .map(|s| Setting {
                    requests: py_requests,
                    connections: args.connections.min(py_requests),
                    ..*s
                })
                .collect()
        } else {
            settings.clone()
        };
        let python = python::runs(
            &lab.python,
            format!(
                "{} setting(s), {py_seconds} s each{}",
                py_settings.len(),
                if args.tour {
                    " (the tour's short form: the lowest and highest share, inline; \
                     `turnstile-lab cpu-share` runs them all)"
                } else {
                    ""
                }
            ),
            |py, which| {
                py_settings
                    .iter()
                    .map(|s| {
                        let command = py.command(
                            "cpu_share",
                            which,
                            &python::knobs(&[
                                ("cpu-us", s.cpu.as_micros().to_string()),
                                ("wait-us", s.wait.as_micros().to_string()),
                                (
                                    "burst",
                                    match s.burst {
                                        Burst::Inline => "inline",
                                        Burst::SpawnBlocking => "spawn-blocking",
                                    }
                                    .to_string(),
                                ),
                                ("max-seconds", (seconds * 4.0 + 30.0).to_string()),
                            ]),
                        );
                        let server = ServerProcess::start_foreign(&command, None)?;
                        let (answered, secs, latency) = client(server.addr, *s)?;
                        drop(server);
                        Ok(PyCpuShareRow {
                            burst: s.burst,
                            share_pct: s.share,
                            requests: s.requests,
                            answered,
                            per_s: answered as f64 / secs.max(1e-9),
                            latency,
                        })
                    })
                    .collect()
            },
        );
        Ok(CpuShareReport {
            python,
            work_us: args.work_us,
            rate: args.rate,
            connections: args.connections,
            rows,
        })
    }

}

#[derive(Clone, Copy, Debug)]
struct Setting {
    cpu: Duration,
    wait: Duration,
    /// The CPU share of the work, %.
    share: u64,
    burst: Burst,
    rate: u64,
    requests: u64,
    connections: u64,
}

/// Serves on this thread with runtime `R` while a tokio client thread offers the load.
fn run_setting<R: Runtime>(s: &Setting) -> anyhow::Result<(u64, f64, Latency)> {
    let s = *s;
    let rt = R::fresh();
    let done = Arc::new(AtomicBool::new(false));
    let client_done = done.clone();
    let (tx, rx) = std::sync::mpsc::channel::<SocketAddr>();
    let client = std::thread::Builder::new()
        .name("cpu-share-client".into())
        .spawn(move || {
            let result = rx
                .recv()
                .map_err(anyhow::Error::from)
                .and_then(|addr| client(addr, s));
            client_done.store(true, Ordering::Release);
            result
        })?;
    rt.block_on(async move {
        let addr = work_server::<R>(s.cpu, s.wait, s.burst).await;
        let _ = tx.send(addr);
        // Bounded by the client, whose requests are bounded by their timeouts.
        let cap = Instant::now() + Duration::from_secs(600);
        while !done.load(Ordering::Acquire) && Instant::now() < cap {
            R::sleep(Duration::from_millis(2)).await;
        }
    });
    client
        .join()
        .map_err(|_| anyhow::anyhow!("the client thread panicked"))?
}

/// The client: `connections` connections; request `k` is due at `k / rate` seconds,
/// on connection `k % connections`. A connection sends each of its requests when it
/// is due, or as soon as the previous answer is in if that is later.
fn client(addr: SocketAddr, s: Setting) -> anyhow::Result<(u64, f64, Latency)> {
    let rt = Tokio::new();
    rt.block_on(async move {
        let streams = net::connect_many::<Tokio>(addr, s.connections as usize).await;
        let start = Instant::now() + Duration::from_millis(5);
        let tasks: Vec<_> = streams
            .into_iter()
            .enumerate()
            .map(|(c, mut stream)| {
                Tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                    let mut times = Vec::new();
                    let mut k = c as u64;
                    let mut answer = [0; 8];
                    while k < s.requests {
                        let due = start + Duration::from_secs_f64(k as f64 / s.rate as f64);
                        tokio::time::sleep_until(due.into()).await;
                        stream.write_all(&k.to_le_bytes()).await?;
                        tokio::time::timeout(
                            Duration::from_secs(30),
                            stream.read_exact(&mut answer),
                        )
                        .await??;
                        anyhow::ensure!(answer == k.to_le_bytes(), "a wrong answer");
                        times.push(due.elapsed().as_nanos() as u64);
                        k += s.connections;
                    }
                    Ok::<_, anyhow::Error>(times)
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let seconds = start.elapsed().as_secs_f64();
        Ok((all.len() as u64, seconds, Latency::of(all)))
    })
}

impl CpuShareReport {
    fn keys(&self) -> Vec<(Rt, Burst)> {
        let mut out: Vec<(Rt, Burst)> = Vec::new();
        for r in &self.rows {
            if !out.contains(&(r.runtime, r.burst)) {
                out.push((r.runtime, r.burst));
            }
        }
        out
    }

    /// The first share whose p99 is over twice the p99 at the lowest share.
    fn take_off(&self, runtime: Rt, burst: Burst) -> Option<u64> {
        let rows: Vec<&CpuShareRow> = self
            .rows
            .iter()
            .filter(|r| r.runtime == runtime && r.burst == burst)
            .collect();
        let base = rows.iter().min_by_key(|r| r.share_pct)?.latency.p99_us;
        rows.iter()
            .filter(|r| r.latency.p99_us > 2.0 * base)
            .map(|r| r.share_pct)
            .min()
    }
}

impl Report for CpuShareReport {
    fn name(&self) -> &'static str {
        "cpu-share"
    }

    fn title(&self) -> String {
        "cpu-share: where does the tail take off?".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: async is cooperative, so CPU work in one task holds up all others, \
             and tail latency falls off a cliff once CPU work passes 20 % of the total \
             ({}). Here: \
             {} µs of work per request (a CPU burst of the given share, then a timer wait), \
             {} requests/s offered over {} connections by a tokio client thread; latency \
             counts from each request's scheduled send.",
            sources::NOT_CONCURRENT,
            self.work_us,
            self.rate,
            self.connections
        ) + " " + crate::load::AT_DEFAULT_LEVEL
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            "Latency from the scheduled send to the answer, and answers per second.",
            &[
                "runtime",
                "burst",
                "CPU share",
                "answered",
                "per second",
                "p50",
                "p99",
                "max",
            ],
            2,
        );
        for r in &self.rows {
            s.row(vec![
                r.runtime.to_string(),
                r.burst.label().into(),
                format!("{} %", r.share_pct),
                format!("{}/{}", thousands(r.answered), thousands(r.requests)),
                rate(r.per_s),
                micros(r.latency.p50_us),
                micros(r.latency.p99_us),
                micros(r.latency.max_us),
            ]);
        }
        for run in &self.python.runs {
            for r in &run.figures {
                s.row(vec![
                    run.python.to_string(),
                    match r.burst {
                        Burst::Inline => "inline",
                        Burst::SpawnBlocking => "run_in_executor",
                    }
                    .into(),
                    format!("{} %", r.share_pct),
                    format!("{}/{}", thousands(r.answered), thousands(r.requests)),
                    rate(r.per_s),
                    micros(r.latency.p50_us),
                    micros(r.latency.p99_us),
                    micros(r.latency.max_us),
                ]);
            }
        }
        vec![s]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (rt, burst) in self.keys() {
            notes.push(match self.take_off(rt, burst) {
                Some(share) => format!(
                    "{rt}, {}: p99 is over twice its lowest-share value from {share} % CPU on.",
                    burst.label()
                ),
                None => format!(
                    "{rt}, {}: p99 stays within twice its lowest-share value at every share.",
                    burst.label()
                ),
            });
        }
        for run in &self.python.runs {
            let inline: Vec<&PyCpuShareRow> = run
                .figures
                .iter()
                .filter(|r| r.burst == Burst::Inline)
                .collect();
            if let (Some(lo), Some(hi)) = (inline.first(), inline.last()) {
                if lo.share_pct != hi.share_pct {
                    notes.push(format!(
                        "{}, inline: p99 {} at {} % CPU, {} at {} % ({:.1}x).",
                        run.python,
                        micros(lo.latency.p99_us),
                        lo.share_pct,
                        micros(hi.latency.p99_us),
                        hi.share_pct,
                        hi.latency.p99_us / lo.latency.p99_us.max(1e-3)
                    ));
                }
            }
        }
        notes.extend(self.python.notes());
        notes.push(format!(
            "Inline, the loop's CPU load is rate x work x share ({} req/s x {} µs = {:.0} % \
             of a core per 100 % share): every burst delays every request behind it, and near \
             a full core the queue grows without bound. spawn_blocking takes the burst off \
             the loop, at the price of a thread hop per request.",
            self.rate,
            self.work_us,
            self.rate as f64 * self.work_us as f64 / 1e4
        ));
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let mut series: Vec<Series> = self
            .keys()
            .into_iter()
            .map(|(rt, burst)| {
                let points = self
                    .rows
                    .iter()
                    .filter(|r| r.runtime == rt && r.burst == burst)
                    .map(|r| (r.share_pct as f64, r.latency.p99_us))
                    .collect();
                let variant = usize::from(burst == Burst::SpawnBlocking);
                Series::line(format!("{rt}, {}", burst.label()), rt, points).variant(variant)
            })
            .collect();
        for run in &self.python.runs {
            let mut bursts: Vec<Burst> = Vec::new();
            for r in &run.figures {
                if !bursts.contains(&r.burst) {
                    bursts.push(r.burst);
                }
            }
            for burst in bursts {
                let points = run
                    .figures
                    .iter()
                    .filter(|r| r.burst == burst)
                    .map(|r| (r.share_pct as f64, r.latency.p99_us))
                    .collect();
                let variant = usize::from(burst == Burst::SpawnBlocking);
                series.push(
                    Series::line(format!("{}, {}", run.python, burst.label()), run.python, points)
                        .variant(variant),
                );
            }
        }
        plot::lines(
            path,
            &Lines {
                title: "cpu-share: p99 latency against the CPU share of each request".into(),
                x_label: "CPU share of each request (%)".into(),
                y_label: "p99 latency (log scale)".into(),
                x_log: false,
                y_log: true,
                series,
                x_format: |x| format!("{x:.0} %"),
                y_format: micros,
            },
        )
    }
}

// The server of this experiment, written once against `Runtime`.

/// Spawns a request/response server on 127.0.0.1: for each 8-byte request a
/// connection sends, it spins on the CPU for `cpu` (inline or on the blocking pool, as
/// `burst` says), then waits `wait` on a timer (the I/O part), then echoes the 8 bytes.
/// Requests on one connection are served in order; connections run side by side.
///
/// ```
/// use std::time::Duration;
/// use turnstile_compare::{net, Runtime, Tokio};
/// use turnstile_lab::experiments::cpu_share::{work_server, Burst};
/// let rt = Tokio::new();
/// rt.block_on(async {
///     let addr = work_server::<Tokio>(
///         Duration::from_micros(100), Duration::from_micros(100), Burst::Inline).await;
///     let mut stream = net::connect::<Tokio>(addr).await;
///     net::ping_pong::<Tokio>(&mut stream, 3, 8).await;
/// });
/// ```
pub async fn work_server<R: Runtime>(cpu: Duration, wait: Duration, burst: Burst) -> SocketAddr {
    let listener = R::bind(([127, 0, 0, 1], 0).into()).await.expect("bind");
    let addr = R::local_addr(&listener).expect("local_addr");
    drop(R::spawn(async move {
        while let Ok(mut stream) = R::accept(&listener).await {
            drop(R::spawn(async move {
                let mut request = [0; 8];
                while R::read_exact(&mut stream, &mut request).await.is_ok() {
                    if !cpu.is_zero() {
                        match burst {
                            Burst::Inline => spin(cpu),
                            Burst::SpawnBlocking => R::spawn_blocking(move || spin(cpu)).await,
                        }
                    }
                    if !wait.is_zero() {
                        R::sleep(wait).await;
                    }
                    if R::write_all(&mut stream, &request).await.is_err() {
                        return;
                    }
                }
            }));
        }
    }));
    addr
}
