//! `http`: hyper's hello world on turnstile against tokio's current-thread runtime.
//!
//! The servers are [`serve_hello`] on each runtime (it lives in
//! [`crate::servers::hello`], re-exported here): the same hyper service, HTTP/1.1 with
//! keep-alive, in a child process pinned to one core. The load comes from wrk (pinned
//! to the other core) when it is installed, else h2load (in HTTP/1.1 mode), else the
//! lab's own generator (keep-alive connections, one request in flight on each, a
//! [`HttpLoadJob`] in a worker child), and the report says which
//! (`scripts/install-lab-tools.sh` installs wrk and h2load). Reported: requests per
//! second and latency percentiles, and what each request cost the server's loop thread
//! (CPU time, system calls, parks: [`crate::cost`]), since a one-core generator can
//! saturate before the server does.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use clap::{value_parser, ValueEnum};
use serde::{Deserialize, Serialize};
use turnstile_compare::{Runtime, Tokio};

use super::{Experiment, Lab};
use crate::load::{self, micros, percent, rate, Latency, LoadCost, ServerProcess};
use crate::plot::{self, Bars, Series};
use crate::report::{thousands, Report, Section};
use crate::runtimes::Rt;
pub use crate::servers::hello::{hello, serve_hello, serve_hello_tokio_multi};
use crate::servers::{ServeJob, Server};
use crate::worker::{self, ChildJob, JobEntry};

/// The knobs of `http`.
#[derive(clap::Args, Clone, Debug)]
pub struct HttpArgs {
    /// Keep-alive connections.
    #[arg(long, default_value_t = 50, value_parser = value_parser!(u64).range(1..=10_000))]
    pub connections: u64,
    /// Seconds of load per runtime [default: 3; 1 in the tour].
    #[arg(long, value_parser = value_parser!(u64).range(1..=600))]
    pub seconds: Option<u64>,
    /// The load generator: the first installed of wrk and h2load (auto), or one by name.
    #[arg(long, value_enum, default_value_t = Generator::Auto)]
    pub generator: Generator,
    /// Do not pin the server and the load generator to separate cores.
    #[arg(long)]
    pub no_pin: bool,
    /// turnstile again at these probe levels (comma-separated), as extra rows beside
    /// its default (Timing): what the probes cost per request.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub levels: Vec<crate::load::ExtraLevel>,
    /// The tour's short form: 1 s per runtime.
    #[arg(skip)]
    pub tour: bool,
}

/// The `--generator` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generator {
    /// wrk if it is on the PATH, else h2load, else the lab's own (always the lab's own
    /// with --smoke, whose counts are exact).
    Auto,
    /// wrk, one thread (an error if missing).
    Wrk,
    /// h2load in HTTP/1.1 mode, one thread (an error if missing); it reports no
    /// latency percentiles.
    H2load,
    /// The lab's own: tokio current-thread, one request in flight per connection.
    Lab,
}

impl Generator {
    /// The program's name, for the external generators.
    fn program(self) -> Option<&'static str> {
        match self {
            Generator::Wrk => Some("wrk"),
            Generator::H2load => Some("h2load"),
            Generator::Auto | Generator::Lab => None,
        }
    }

    /// How the report names it.
    fn name(self) -> &'static str {
        match self {
            Generator::Wrk => "wrk",
            Generator::H2load => "h2load",
            Generator::Auto | Generator::Lab => "lab",
        }
    }

    /// How the report describes it.
    fn describe(self, connections: u64) -> String {
        match self {
            Generator::Wrk => format!("wrk (`wrk -t1 -c{connections} --latency`)"),
            Generator::H2load => format!("h2load (`h2load --h1 -t1 -c{connections}`)"),
            Generator::Auto | Generator::Lab => {
                "the lab's own generator (tokio current-thread, one request in flight per \
                 connection)"
                    .into()
            }
        }
    }
}

/// What the lab's own generator is asked to do (in a child process).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HttpLoadJob {
    /// The server.
    pub addr: SocketAddr,
    /// Keep-alive connections.
    pub connections: u64,
    /// How long.
    pub seconds: f64,
    /// Requests per connection at most.
    pub requests: Option<u64>,
}

impl ChildJob for HttpLoadJob {
    const NAME: &'static str = "http-load";
    type Output = HttpLoad;

    fn run(&self) -> anyhow::Result<HttpLoad> {
        run_load(self)
    }
}

/// What a load generator measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpLoad {
    /// Responses received.
    pub requests: u64,
    /// Errors (socket errors and non-2xx responses for wrk).
    pub errors: u64,
    /// Seconds of load.
    pub seconds: f64,
    /// Requests per second.
    pub per_s: f64,
    /// Percentiles (wrk reports p50, p99 and max, `samples` 0; h2load the max only).
    pub latency: Latency,
    /// Whether `latency` has p50 and p99 (h2load gives none).
    #[serde(default = "yes")]
    pub percentiles: bool,
}

fn yes() -> bool {
    true
}

/// One runtime's run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpRow {
    /// The server's runtime.
    pub runtime: Rt,
    /// turnstile's probe level, on the extra rows (none: its default, Timing).
    #[serde(default)]
    pub level: Option<turnstile::probes::Level>,
    /// What the generator measured.
    pub load: HttpLoad,
    /// What the run cost the server and the generator.
    pub cost: LoadCost,
}

/// What `http` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpReport {
    /// `wrk`, `h2load` or `lab`: the generator used.
    pub generator: String,
    /// The generator and how it was run, in words.
    pub generator_described: String,
    /// Why, if not the one asked for.
    pub generator_note: Option<String>,
    /// Keep-alive connections.
    pub connections: u64,
    /// Server and client cores, if pinned.
    pub pinned: Option<(usize, usize)>,
    /// One row per runtime.
    pub rows: Vec<HttpRow>,
}

/// Whether `program` can be started (wrk exits non-zero for `--version`, so only the
/// start counts).
fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// What to do when a generator is missing.
const INSTALL_HINT: &str = "scripts/install-lab-tools.sh installs wrk and h2load";

impl Experiment for super::Http {
    const NAME: &'static str = "http";
    type Args = HttpArgs;
    type Report = HttpReport;
    const CHILD_JOBS: &'static [JobEntry] = &[worker::entry::<HttpLoadJob>()];

    fn tour_args(_full: bool) -> HttpArgs {
        let mut args: HttpArgs = super::default_args();
        args.tour = true;
        args
    }

    fn run(args: &HttpArgs, lab: &Lab) -> anyhow::Result<HttpReport> {
        let seconds = args.seconds.unwrap_or(if args.tour { 1 } else { 3 });
        let connections = if lab.smoke {
            args.connections.min(4)
        } else {
            args.connections
        };
        let (generator, note) = match args.generator {
            Generator::Lab => (Generator::Lab, None),
            Generator::Wrk | Generator::H2load => {
                let program = args.generator.program().unwrap_or_default();
                if !installed(program) {
                    bail!("{program} is not installed ({INSTALL_HINT})");
                }
                (args.generator, None)
            }
            Generator::Auto if lab.smoke => (
                Generator::Lab,
                Some("--smoke uses the lab's own generator, whose counts are exact".into()),
            ),
            Generator::Auto => match [Generator::Wrk, Generator::H2load]
                .into_iter()
                .find(|g| g.program().is_some_and(installed))
            {
                Some(g) => (g, None),
                None => (
                    Generator::Lab,
                    Some(format!(
                        "neither wrk nor h2load is installed, so the lab's own generator \
                         was used ({INSTALL_HINT})"
                    )),
                ),
            },
        };
        let pinned = if args.no_pin { None } else { load::pinning() };
        let setting = [format!("{connections} connections, {}", generator.name())];
        let extra: Vec<(Rt, Option<turnstile::probes::Level>)> =
            if lab.runtimes.contains(&Rt::Turnstile) {
                args.levels.iter().map(|l| (Rt::Turnstile, Some(l.level()))).collect()
            } else {
                Vec::new()
            };
        let measure = |runtime: Rt, level: Option<turnstile::probes::Level>| {
            let server = ServerProcess::start(
                &ServeJob {
                    runtime,
                    server: Server::Hello,
                    max_seconds: seconds * 4 + 30,
                    level,
                },
                pinned.map(|p| p.0),
            )?;
            wait_for(server.addr)?;
            let client = pinned.map(|p| p.1);
            let (load, cost) = server.metered(|| match generator {
                Generator::Wrk => run_wrk(server.addr, connections, seconds, client),
                Generator::H2load => run_h2load(server.addr, connections, seconds, client),
                Generator::Auto | Generator::Lab => {
                    let job = HttpLoadJob {
                        addr: server.addr,
                        connections,
                        seconds: seconds as f64,
                        requests: lab.smoke.then_some(10),
                    };
                    worker::run_in_child_on(&job, client)
                }
            })?;
            drop(server);
            Ok(HttpRow {
                runtime,
                level,
                load,
                cost,
            })
        };
        let mut rows = lab.sweep("http", &setting, |runtime, _| measure(runtime, None))?;
        for (runtime, level) in extra {
            rows.push(measure(runtime, level)?);
        }
        Ok(HttpReport {
            generator: generator.name().into(),
            generator_described: generator.describe(connections),
            generator_note: note,
            connections,
            pinned,
            rows,
        })
    }

}

/// Waits (up to 5 s) until the server accepts connections.
fn wait_for(addr: SocketAddr) -> anyhow::Result<()> {
    let start = Instant::now();
    loop {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(5) {
            bail!("the server at {addr} did not come up");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `program` with `args`, pinned to `cpu` if given, and returns its stdout.
fn run_generator(program: &str, args: &[String], cpu: Option<usize>) -> anyhow::Result<String> {
    let mut command = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(program);
            c
        }
        None => Command::new(program),
    };
    let output = command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "{program} failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(text)
}

fn run_wrk(
    addr: SocketAddr,
    connections: u64,
    seconds: u64,
    cpu: Option<usize>,
) -> anyhow::Result<HttpLoad> {
    let args = [
        "-t1".to_string(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "--latency".into(),
        format!("http://{addr}/"),
    ];
    let text = run_generator("wrk", &args, cpu)?;
    parse_wrk(&text, seconds as f64).with_context(|| format!("reading wrk's output:\n{text}"))
}

fn run_h2load(
    addr: SocketAddr,
    connections: u64,
    seconds: u64,
    cpu: Option<usize>,
) -> anyhow::Result<HttpLoad> {
    let args = [
        "--h1".to_string(),
        "-t1".into(),
        format!("-c{connections}"),
        format!("-D{seconds}"),
        format!("http://{addr}/"),
    ];
    let text = run_generator("h2load", &args, cpu)?;
    parse_h2load(&text).with_context(|| format!("reading h2load's output:\n{text}"))
}

/// Reads h2load's summary: the `finished in` line, the `requests:` counts and the
/// longest `time for request`.
pub fn parse_h2load(text: &str) -> anyhow::Result<HttpLoad> {
    let mut load = HttpLoad {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        per_s: 0.0,
        latency: Latency::default(),
        percentiles: false,
    };
    let duration_us = |s: &str| -> Option<f64> {
        let (num, scale) = if let Some(v) = s.strip_suffix("us") {
            (v, 1.0)
        } else if let Some(v) = s.strip_suffix("ms") {
            (v, 1e3)
        } else {
            (s.strip_suffix('s')?, 1e6)
        };
        num.parse::<f64>().ok().map(|n| n * scale)
    };
    for line in text.lines() {
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        match words.as_slice() {
            ["finished", "in", secs, rate, "req/s", ..] => {
                load.seconds = duration_us(secs).context("the duration")? / 1e6;
                load.per_s = rate.parse()?;
            }
            ["requests:", .., ok, "succeeded", failed, "failed", errored, "errored", timeouts, "timeout"] =>
            {
                load.requests = ok.parse()?;
                load.errors =
                    failed.parse::<u64>()? + errored.parse::<u64>()? + timeouts.parse::<u64>()?;
            }
            ["time", "for", "request:", _min, max, ..] => {
                load.latency.max_us = duration_us(max).context("the longest request")?;
            }
            _ => {}
        }
    }
    anyhow::ensure!(load.per_s > 0.0, "no `finished in` line");
    Ok(load)
}

/// Reads wrk's `--latency` output.
pub fn parse_wrk(text: &str, seconds: f64) -> anyhow::Result<HttpLoad> {
    let duration_us = |s: &str| -> Option<f64> {
        let s = s.trim();
        let (num, scale) = if let Some(v) = s.strip_suffix("us") {
            (v, 1.0)
        } else if let Some(v) = s.strip_suffix("ms") {
            (v, 1e3)
        } else if let Some(v) = s.strip_suffix('s') {
            (v, 1e6)
        } else if let Some(v) = s.strip_suffix('m') {
            (v, 60e6)
        } else {
            return None;
        };
        num.parse::<f64>().ok().map(|n| n * scale)
    };
    let mut load = HttpLoad {
        requests: 0,
        errors: 0,
        seconds,
        per_s: 0.0,
        latency: Latency::default(),
        percentiles: true,
    };
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["50%", v] => load.latency.p50_us = duration_us(v).context("p50")?,
            ["99%", v] => load.latency.p99_us = duration_us(v).context("p99")?,
            ["Latency", _avg, _stdev, max, ..] => {
                load.latency.max_us = duration_us(max).context("max")?
            }
            [n, "requests", "in", ..] => load.requests = n.parse()?,
            ["Requests/sec:", v] => load.per_s = v.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                for pair in rest.chunks(2) {
                    if let [_, n] = pair {
                        load.errors += n.trim_end_matches(',').parse::<u64>().unwrap_or(0);
                    }
                }
            }
            _ => {}
        }
    }
    anyhow::ensure!(load.per_s > 0.0, "no Requests/sec line");
    Ok(load)
}

/// The lab's own generator (a child process): tokio current-thread, keep-alive
/// connections, one `GET /` in flight on each.
pub fn run_load(job: &HttpLoadJob) -> anyhow::Result<HttpLoad> {
    let rt = Tokio::new();
    rt.block_on(async {
        let mut streams = Vec::new();
        for _ in 0..job.connections {
            let stream = tokio::net::TcpStream::connect(job.addr).await?;
            stream.set_nodelay(true)?;
            streams.push(stream);
        }
        let cap = job.requests.unwrap_or(u64::MAX);
        let start = Instant::now();
        let deadline = start + Duration::from_secs_f64(job.seconds);
        let tasks: Vec<_> = streams
            .into_iter()
            .map(|mut stream| {
                Tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                    let request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
                    let mut buf = vec![0u8; 4096];
                    let mut times = Vec::new();
                    while (times.len() as u64) < cap && Instant::now() < deadline {
                        let sent = Instant::now();
                        stream.write_all(request).await?;
                        let mut have = 0;
                        loop {
                            let n = stream.read(&mut buf[have..]).await?;
                            anyhow::ensure!(n > 0, "the server closed the connection");
                            have += n;
                            if response_len(&buf[..have]).is_some_and(|len| have >= len) {
                                break;
                            }
                            anyhow::ensure!(have < buf.len(), "a response over 4 KiB");
                        }
                        anyhow::ensure!(buf.starts_with(b"HTTP/1.1 200"), "not a 200");
                        times.push(sent.elapsed().as_nanos() as u64);
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
        Ok(HttpLoad {
            requests: all.len() as u64,
            errors: 0,
            seconds,
            per_s: all.len() as f64 / seconds.max(1e-9),
            latency: Latency::of(all),
            percentiles: true,
        })
    })
}

/// The length of a whole response (head plus `Content-Length` body), once the head
/// is in.
fn response_len(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..head_end]).ok()?;
    let body = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    Some(head_end + body)
}

impl HttpReport {
    fn find(&self, rt: Rt) -> Option<&HttpRow> {
        self.rows
            .iter()
            .find(|r| r.runtime == rt && r.level.is_none())
    }
}

impl Report for HttpReport {
    fn name(&self) -> &'static str {
        "http"
    }

    fn title(&self) -> String {
        "http: hyper's hello world".into()
    }

    fn question(&self) -> String {
        format!(
            "The same hyper service (HTTP/1.1, keep-alive) on each runtime, driven by {} with {} connections; {}.",
            self.generator_described,
            self.connections,
            match self.pinned {
                Some((s, c)) => format!("server on core {s}, load on core {c}"),
                None => "not pinned".into(),
            }
        ) + " " + crate::load::AT_DEFAULT_LEVEL
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            format!(
                "Requests per second and latency, as {} measured them.",
                self.generator
            ),
            &[
                "server",
                "requests",
                "per second",
                "p50",
                "p99",
                "max",
                "errors",
            ],
            1,
        );
        let percentile = |load: &HttpLoad, us: f64| {
            if load.percentiles {
                micros(us)
            } else {
                "-".into()
            }
        };
        for r in &self.rows {
            s.row(vec![
                crate::load::row_label(r.runtime, r.level),
                thousands(r.load.requests),
                rate(r.load.per_s),
                percentile(&r.load, r.load.latency.p50_us),
                percentile(&r.load, r.load.latency.p99_us),
                micros(r.load.latency.max_us),
                thousands(r.load.errors),
            ]);
        }
        let mut cost = Section::new(
            "What each request cost the server's loop thread: CPU time, system calls and \
             parks (times it blocked), and the share of a core each side used.",
            &[
                "server",
                "CPU / request",
                "syscalls / request",
                "parks / request",
                "server busy",
                "generator busy",
                "limited by",
            ],
            1,
        );
        for r in &self.rows {
            let n = r.load.requests;
            cost.row(vec![
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
        vec![s, cost]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(note) = &self.generator_note {
            notes.push(note.clone());
        }
        if let Some(t) = self.find(Rt::Turnstile) {
            for k in self.rows.iter().filter(|r| r.runtime != Rt::Turnstile) {
                let p99 = if t.load.percentiles && k.load.percentiles {
                    format!(
                        "; p99 {} vs {}",
                        micros(t.load.latency.p99_us),
                        micros(k.load.latency.p99_us)
                    )
                } else {
                    String::new()
                };
                notes.push(format!(
                    "turnstile serves {} to {}'s {} ({:.2}x){p99}.",
                    rate(t.load.per_s),
                    k.runtime,
                    rate(k.load.per_s),
                    t.load.per_s / k.load.per_s.max(1e-9),
                ));
            }
        }
        notes.extend(crate::load::level_notes(
            &format!("{} connections", self.connections),
            self.rows.iter().map(|r| (r.runtime, r.level, r.load.requests, &r.cost)),
            "request",
        ));
        notes.extend(crate::load::cost_notes(
            self.rows.iter().filter(|r| r.level.is_none()).map(|r| {
                (
                    format!("{} connections", self.connections),
                    r.runtime,
                    r.load.requests,
                    &r.cost,
                )
            }),
            "request",
        ));
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let groups = vec!["requests per second".to_string()];
        let series = self
            .rows
            .iter()
            .map(|r| {
                Series::bars(
                    crate::load::row_label(r.runtime, r.level),
                    r.runtime,
                    vec![Some(r.load.per_s)],
                )
                // An extra level's row: turnstile's hue, another marker.
                .variant(usize::from(r.level.is_some()))
            })
            .collect();
        plot::horizontal_bars(
            path,
            &Bars {
                title: format!("http: hyper hello world ({})", self.generator),
                value_label: "requests per second".into(),
                groups,
                series,
                format: rate,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_parses() {
        let text = "Running 1s test @ http://127.0.0.1:3000/\n  1 threads and 50 connections\n  \
            Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency   512.00us  100.00us   \
            3.20ms   90.00%\n  Latency Distribution\n     50%  480.00us\n     75%  520.00us\n     \
            90%  600.00us\n     99%    1.10ms\n  98765 requests in 1.00s, 8.00MB read\n\
            Requests/sec:  98700.12\nTransfer/sec:      8.00MB\n";
        let load = parse_wrk(text, 1.0).unwrap();
        assert!(load.percentiles);
        assert_eq!(load.requests, 98_765);
        assert_eq!(load.latency.p50_us, 480.0);
        assert_eq!(load.latency.p99_us, 1100.0);
        assert_eq!(load.latency.max_us, 3200.0);
        assert_eq!(load.errors, 0);
    }

    #[test]
    fn h2load_output_parses() {
        let text = "finished in 1.00s, 92000.50 req/s, 11.67MB/s\n\
            requests: 92010 total, 92060 started, 92010 done, 92000 succeeded, 7 failed, 3 \
            errored, 0 timeout\nstatus codes: 92000 2xx, 0 3xx, 0 4xx, 0 5xx\n\
            \t\t     min         max         mean         sd        +/- sd\n\
            time for request:     1.02ms     48.24ms     42.28ms      8.78ms    95.65%\n\
            time for connect:       11us        34us        25us         9us    75.00%\n";
        let load = parse_h2load(text).unwrap();
        assert_eq!((load.requests, load.errors), (92_000, 10));
        assert_eq!(load.per_s, 92_000.5);
        assert_eq!(load.seconds, 1.0);
        assert_eq!(load.latency.max_us, 48_240.0);
        assert!(!load.percentiles, "h2load gives no percentiles");
    }

    #[test]
    fn a_response_is_whole_once_its_body_is_in() {
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\n";
        assert_eq!(response_len(head), Some(head.len() + 13));
        assert_eq!(response_len(b"HTTP/1.1 200 OK\r\n"), None);
    }
}
