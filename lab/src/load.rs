//! Load runs: servers started in their own pinned processes, what a run cost the server
//! and the load generator, and latency percentiles.
//!
//! A server under test ([`crate::servers`]) runs as `turnstile-lab serve '<job as
//! JSON>'`, pinned with `taskset` to one core. The load generator runs as a `worker`
//! child ([`crate::worker`]) pinned to another core, so the two never share a core and
//! neither shares one with the parent's bookkeeping.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};

use crate::cost::{self, Bottleneck, ServerCost, ThreadMeter};
use crate::runtimes::Rt;
use crate::servers::ServeJob;

/// Said by every I/O experiment's report: the level turnstile's figures are taken at.
pub const AT_DEFAULT_LEVEL: &str =
    "turnstile runs with its probes at their default level, Timing (what its users run).";

/// A probe level turnstile runs at again, as an extra row beside its default (`--levels`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtraLevel {
    /// `Level::Counters`: the counters, no clock.
    Counters,
    /// `Level::Off`: no probes (the baseline of the probes' cost).
    Off,
}

impl ExtraLevel {
    /// The level it names.
    pub fn level(self) -> turnstile::probes::Level {
        match self {
            ExtraLevel::Counters => turnstile::probes::Level::Counters,
            ExtraLevel::Off => turnstile::probes::Level::Off,
        }
    }
}

/// A row's name: the runtime, and turnstile's probe level on an extra row
/// ("turnstile/Off").
///
/// ```
/// use turnstile_lab::load::row_label;
/// use turnstile_lab::runtimes::Rt;
/// assert_eq!(row_label(Rt::Tokio, None), "tokio");
/// assert_eq!(row_label(Rt::Turnstile, Some(turnstile::probes::Level::Off)), "turnstile/Off");
/// ```
pub fn row_label(runtime: Rt, level: Option<turnstile::probes::Level>) -> String {
    match level {
        Some(level) => format!("{runtime}/{level:?}"),
        None => runtime.to_string(),
    }
}

/// What the probes cost, from the extra rows (turnstile at another level) against the
/// default row: one note per extra row, CPU and system calls per `unit`.
pub fn level_notes<'a>(
    setting: &str,
    runs: impl IntoIterator<Item = (Rt, Option<turnstile::probes::Level>, u64, &'a LoadCost)>,
    unit: &str,
) -> Vec<String> {
    let runs: Vec<_> = runs.into_iter().collect();
    let Some(default) = runs.iter().find(|r| r.0 == Rt::Turnstile && r.1.is_none()) else {
        return Vec::new();
    };
    let per =
        |r: &(Rt, Option<turnstile::probes::Level>, u64, &LoadCost)| r.3.server.cpu_ns_per(r.2);
    runs.iter()
        .filter_map(|r| Some((r, r.1?)))
        .map(|(r, level)| {
            format!(
                "{setting}: turnstile's CPU per {unit} at its default level (Timing): {}, at \
                 {level:?}: {} (Timing/{level:?} {:.2}x).",
                crate::report::duration_ns(per(default)),
                crate::report::duration_ns(per(r)),
                per(default) / per(r).max(1e-9)
            )
        })
        .collect()
}

/// The cores to pin the server and the load generator to: `Some((0, 1))` when
/// `taskset` is there and the process may use two cores or more.
pub fn pinning() -> Option<(usize, usize)> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let taskset = Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    (taskset && cores >= 2).then_some((0, 1))
}

/// A command that runs this lab binary with `args`, pinned to `cpu` if given.
pub fn lab_command(cpu: Option<usize>, args: &[&str]) -> anyhow::Result<Command> {
    let exe = std::env::current_exe().context("finding the lab's own binary")?;
    let mut command = match cpu {
        Some(cpu) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpu.to_string()).arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    command.args(args);
    Ok(command)
}

/// A server running in a child process; dropping it stops the child.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `job` in a child process pinned to `cpu` and waits for its address.
    pub fn start(job: &ServeJob, cpu: Option<usize>) -> anyhow::Result<ServerProcess> {
        let command = lab_command(cpu, &["serve", &serde_json::to_string(job)?])?;
        ServerProcess::spawn(command, &format!("{job:?}"))
    }

    /// Starts a server of another language (the Python scripts): `command`, pinned to
    /// `cpu`, must print its address on its first line of stdout and serve until its
    /// stdin closes, as the lab's own servers do.
    pub fn start_foreign(command: &Command, cpu: Option<usize>) -> anyhow::Result<ServerProcess> {
        let mut pinned = match cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.arg("-c").arg(cpu.to_string()).arg(command.get_program());
                c
            }
            None => Command::new(command.get_program()),
        };
        pinned.args(command.get_args());
        ServerProcess::spawn(pinned, &format!("{:?}", command.get_program()))
    }

    fn spawn(mut command: Command, job: &str) -> anyhow::Result<ServerProcess> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a server process")?;
        let stdout = child.stdout.take().context("the server's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the server's address")?;
        let addr = match line.trim().parse() {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the {job} server did not print its address (got {line:?})");
            }
        };
        Ok(ServerProcess { child, addr })
    }
}

impl ServerProcess {
    /// Runs `generate` (a load generator that ends by itself, in a child process) and
    /// meters what the load cost this server's loop thread and the generator.
    pub fn metered<T>(
        &self,
        generate: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<(T, LoadCost)> {
        let pid = self.child.id();
        let meter = ThreadMeter::start_main_thread(pid)
            .with_context(|| format!("metering the server process {pid}"))?;
        let children = cost::reaped_children_cpu_ns();
        let start = Instant::now();
        let out = generate()?;
        let seconds = start.elapsed().as_secs_f64();
        let client_cpu_ns = cost::reaped_children_cpu_ns().saturating_sub(children);
        let server = meter.stop().context("metering the server")?;
        Ok((
            out,
            LoadCost {
                seconds,
                server,
                client_cpu_ns,
            },
        ))
    }
}

/// What a load run cost the server's loop thread and the load generator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadCost {
    /// Wall time of the metered run, s (connections made and closed included).
    pub seconds: f64,
    /// What the server's loop thread spent.
    pub server: ServerCost,
    /// The load generator's CPU time over its whole run (all its threads), ns.
    pub client_cpu_ns: u64,
}

impl LoadCost {
    /// The share of a core the server's loop thread used.
    pub fn server_busy(&self) -> f64 {
        cost::busy(self.server.cpu_ns, self.seconds)
    }

    /// The share of a core the generator used.
    pub fn client_busy(&self) -> f64 {
        cost::busy(self.client_cpu_ns, self.seconds)
    }

    /// Which side limited the rate.
    pub fn bottleneck(&self) -> Bottleneck {
        Bottleneck::of(self.server_busy(), self.client_busy())
    }
}

/// Notes computed from what each run cost, for runs given as (setting, runtime,
/// requests served, cost): the server's CPU per request on each runtime against
/// turnstile's, which side limited the rate, and why system calls are missing if
/// they are. `unit` names one request ("round trip", "request").
pub fn cost_notes<'a>(
    runs: impl IntoIterator<Item = (String, Rt, u64, &'a LoadCost)>,
    unit: &str,
) -> Vec<String> {
    let runs: Vec<(String, Rt, u64, &LoadCost)> = runs.into_iter().collect();
    let mut notes = Vec::new();
    if runs.is_empty() {
        return notes;
    }
    let mut settings: Vec<&str> = Vec::new();
    for (setting, ..) in &runs {
        if !settings.contains(&setting.as_str()) {
            settings.push(setting);
        }
    }
    for setting in settings {
        let here: Vec<_> = runs.iter().filter(|r| r.0 == setting).collect();
        let per = |r: &&(String, Rt, u64, &LoadCost)| r.3.server.cpu_ns_per(r.2);
        let Some(turnstile) = here.iter().find(|r| r.1 == Rt::Turnstile) else {
            continue;
        };
        let others: Vec<String> = here
            .iter()
            .filter(|r| r.1 != Rt::Turnstile)
            .map(|r| {
                format!(
                    "{} {} (turnstile/{} {:.2}x)",
                    r.1,
                    crate::report::duration_ns(per(r)),
                    r.1,
                    per(turnstile) / per(r).max(1e-9)
                )
            })
            .collect();
        if !others.is_empty() {
            notes.push(format!(
                "{setting}: the server's CPU per {unit}: turnstile {}, {}.",
                crate::report::duration_ns(per(turnstile)),
                others.join(", ")
            ));
        }
    }
    let count = |b: Bottleneck| runs.iter().filter(|r| r.3.bottleneck() == b).count();
    let neither = count(Bottleneck::Neither);
    notes.push(format!(
        "Of {} runs, {} were limited by the server, {} by the generator, {} by both \
         (each side used {:.0} % of a core or more), and {neither} by neither{}.",
        runs.len(),
        count(Bottleneck::Server),
        count(Bottleneck::Client),
        count(Bottleneck::Both),
        cost::SATURATED * 100.0,
        if neither > 0 {
            " (neither side reached that: the round trips were bound by latency, or both \
             sides were kept off their cores by other work on the machine)"
        } else {
            ""
        }
    ));
    let by_client: Vec<String> = runs
        .iter()
        .filter(|r| r.3.bottleneck() == Bottleneck::Client)
        .map(|r| {
            format!(
                "{} on {}: generator {}, server {}",
                r.0,
                r.1,
                percent(r.3.client_busy()),
                percent(r.3.server_busy())
            )
        })
        .collect();
    if !by_client.is_empty() {
        notes.push(format!(
            "The generator, not the server, limited {} of {} runs ({}): there the rate is \
             the generator's ceiling, and the server's CPU per {unit} is the figure that \
             compares the runtimes.",
            by_client.len(),
            runs.len(),
            by_client.join("; ")
        ));
    }
    if let Some(why) = runs.iter().find_map(|r| r.3.server.syscalls_note.clone()) {
        notes.push(format!("System calls were not counted: {why}."));
    }
    notes
}

/// A share of a core as a percentage.
pub fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // Closing stdin asks the child to exit; kill it in case it cannot.
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Latency percentiles of one run, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Samples.
    pub samples: u64,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// The longest.
    pub max_us: f64,
}

impl Latency {
    /// Percentiles of `samples_ns` (nearest rank; zeros for no samples).
    pub fn of(mut samples_ns: Vec<u64>) -> Latency {
        if samples_ns.is_empty() {
            return Latency::default();
        }
        samples_ns.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * samples_ns.len() as f64).ceil() as usize).clamp(1, samples_ns.len());
            samples_ns[rank - 1] as f64 / 1e3
        };
        Latency {
            samples: samples_ns.len() as u64,
            p50_us: at(0.50),
            p99_us: at(0.99),
            max_us: at(1.0),
        }
    }
}

/// Microseconds as text in the unit that reads best.
pub fn micros(us: f64) -> String {
    crate::report::duration_ns(us * 1e3)
}

/// A rate as `123.4k/s`.
pub fn rate(per_s: f64) -> String {
    if per_s >= 1e6 {
        format!("{:.2}M/s", per_s / 1e6)
    } else if per_s >= 1e3 {
        format!("{:.1}k/s", per_s / 1e3)
    } else {
        format!("{per_s:.0}/s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let l = Latency::of((1..=100).map(|us| us * 1000).collect());
        assert_eq!(
            (l.samples, l.p50_us, l.p99_us, l.max_us),
            (100, 50.0, 99.0, 100.0)
        );
        assert_eq!(Latency::of(Vec::new()).samples, 0);
        assert_eq!(rate(150_000.0), "150.0k/s");
    }
}
