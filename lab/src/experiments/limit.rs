//! `limit`: how many requests should a client have in flight?
//!
//! A local server ([`limited_server`]) serves at most 100
//! connections at once, like a database at `max_connections`: one item per
//! connection, after a short lookup. Past the limit it refuses the connection (or,
//! with `--overflow queue`, leaves it in the kernel's accept queue). Clients fetch
//! 10,000 items with a concurrency from 10 to 2,000, three ways: plain batches of that
//! many tasks, every item spawned at once behind a semaphore of that many permits, and
//! `futures`' `buffer_unordered`. Reported per setting: items per second, errors, p99
//! of a fetch, and the server's own count of the most connections it served at once.
//! Server and clients run on the same runtime, on two threads.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{value_parser, ValueEnum};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use turnstile_compare::Runtime;

use std::io;
use std::sync::atomic::AtomicU64;

use super::{Experiment, Lab};
use crate::load::{micros, rate, Latency};
use crate::plot::{self, Lines, Series};
use crate::report::{thousands, Report, Section};
use crate::runtimes::Rt;
use crate::sources;

/// The knobs of `limit`.
#[derive(clap::Args, Clone, Debug)]
pub struct LimitArgs {
    /// Items to fetch per setting [default: 10000; 1000 in the tour; 300 with --smoke].
    #[arg(long, value_parser = value_parser!(u64).range(1..=1_000_000))]
    pub items: Option<u64>,
    /// Client concurrencies, comma-separated [default: 10,100,500,2000; 10,150 with
    /// --smoke].
    #[arg(long, value_delimiter = ',', value_parser = value_parser!(u64).range(1..=10_000))]
    pub concurrency: Vec<u64>,
    /// Connections the server serves at once.
    #[arg(long, default_value_t = 100, value_parser = value_parser!(u64).range(1..=10_000))]
    pub server_limit: u64,
    /// What the server does with connections past its limit.
    #[arg(long, value_enum, default_value_t = Overflow::Refuse)]
    pub overflow: Overflow,
    /// The server's lookup per item, in microseconds.
    #[arg(long, default_value_t = 1000, value_parser = value_parser!(u64).range(0..=1_000_000))]
    pub service_us: u64,
    /// A fetch that takes longer than this many milliseconds counts as an error.
    #[arg(long, default_value_t = 2000, value_parser = value_parser!(u64).range(1..=60_000))]
    pub timeout_ms: u64,
    /// Bytes per item.
    #[arg(long, default_value_t = 1024, value_parser = value_parser!(u64).range(8..=1_000_000))]
    pub item_bytes: u64,
    /// The tour's short form: 1,000 items.
    #[arg(skip)]
    pub tour: bool,
}

/// What the server does past its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Overflow {
    /// Accept and close at once: the client sees an error.
    Refuse,
    /// Leave it in the accept queue: the client waits.
    Queue,
}

/// How the client bounds its concurrency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Style {
    /// Batches of `concurrency` tasks, each batch awaited before the next.
    Plain,
    /// Every item spawned at once; each takes one of `concurrency` permits to fetch.
    Semaphore,
    /// One stream of fetches, `buffer_unordered(concurrency)`, no spawns.
    BufferUnordered,
}

impl Style {
    const ALL: [Style; 3] = [Style::Plain, Style::Semaphore, Style::BufferUnordered];

    fn label(self) -> &'static str {
        match self {
            Style::Plain => "plain batches",
            Style::Semaphore => "semaphore",
            Style::BufferUnordered => "buffer_unordered",
        }
    }
}

/// One setting on one runtime.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitRow {
    /// Server and client runtime.
    pub runtime: Rt,
    /// How the client bounds its concurrency.
    pub style: Style,
    /// Fetches in flight at most.
    pub concurrency: u64,
    /// Items asked for.
    pub items: u64,
    /// Items fetched.
    pub ok: u64,
    /// Fetches that failed: the connection was closed, reset or refused.
    pub refused: u64,
    /// Fetches that took longer than the timeout.
    pub timeouts: u64,
    /// Other errors.
    pub other_errors: u64,
    /// From the first fetch to the last, s.
    pub seconds: f64,
    /// Items fetched per second.
    pub per_s: f64,
    /// Time of a successful fetch, connect to last byte.
    pub latency: Latency,
    /// The most connections the server served at once.
    pub server_max_active: u64,
    /// Connections the server served to the end.
    pub server_served: u64,
    /// Connections the server refused.
    pub server_refused: u64,
}

impl LimitRow {
    /// All errors.
    pub fn errors(&self) -> u64 {
        self.refused + self.timeouts + self.other_errors
    }
}

/// What `limit` measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LimitReport {
    /// The server's limit.
    pub server_limit: u64,
    /// Past the limit.
    pub overflow: Overflow,
    /// The lookup per item, µs.
    pub service_us: u64,
    /// The fetch timeout, ms.
    pub timeout_ms: u64,
    /// One row per runtime, style and concurrency.
    pub rows: Vec<LimitRow>,
    /// How long each runtime's timer made the server's lookup last.
    #[serde(default)]
    pub timers: Vec<TimerFigure>,
}

/// What one runtime's timer does to the server's lookup: a sleep of `service_us`,
/// timed on a runtime of its own.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimerFigure {
    /// The runtime.
    pub runtime: Rt,
    /// Sleeps timed.
    pub samples: u32,
    /// The median time a sleep of the lookup's length really took, µs.
    pub median_us: f64,
}

/// Times `samples` sleeps of `service` on a fresh runtime, one after another, and
/// returns the median, µs.
fn time_the_timer<R: Runtime>(service: Duration, samples: u32) -> f64 {
    let rt = R::fresh();
    let times = rt.block_on(async move {
        let mut times = Vec::new();
        for _ in 0..samples {
            let start = Instant::now();
            R::sleep(service).await;
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
        times
    });
    crate::report::median(&times)
}

impl Experiment for super::Limit {
    const NAME: &'static str = "limit";
    type Args = LimitArgs;
    type Report = LimitReport;

    fn tour_args(_full: bool) -> LimitArgs {
        let mut args: LimitArgs = super::default_args();
        args.tour = true;
        args
    }

    fn run(args: &LimitArgs, lab: &Lab) -> anyhow::Result<LimitReport> {
        let items = lab.size(args.items, if args.tour { 1_000 } else { 10_000 }, 300);
        let concurrency = if !args.concurrency.is_empty() {
            args.concurrency.clone()
        } else if lab.smoke {
            vec![10, 150]
        } else {
            vec![10, 100, 500, 2000]
        };
        let samples = if lab.smoke { 5 } else { 25 };
        let service = Duration::from_micros(args.service_us);
        let timers: Vec<TimerFigure> = lab
            .runtimes
            .iter()
            .map(|&runtime| TimerFigure {
                runtime,
                samples,
                median_us: on_runtime!(runtime, R => time_the_timer::<R>(service, samples)),
            })
            .collect();
        let settings: Vec<Setting> = Style::ALL
            .into_iter()
            .flat_map(|style| {
                concurrency.iter().map(move |&c| Setting {
                    style,
                    concurrency: c,
                    items,
                    limit: args.server_limit,
                    overflow: args.overflow,
                    service,
                    timeout: Duration::from_millis(args.timeout_ms),
                    item_bytes: args.item_bytes as usize,
                })
            })
            .collect();
        let rows = lab.sweep("limit", &settings, |runtime, setting| {
            on_runtime!(runtime, R => run_setting::<R>(runtime, setting))
        })?;
        Ok(LimitReport {
            server_limit: args.server_limit,
            overflow: args.overflow,
            service_us: args.service_us,
            timeout_ms: args.timeout_ms,
            rows,
            timers,
        })
    }

}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, concurrency {}", self.style.label(), self.concurrency)
    }
}

#[derive(Clone, Copy, Debug)]
struct Setting {
    style: Style,
    concurrency: u64,
    items: u64,
    limit: u64,
    overflow: Overflow,
    service: Duration,
    timeout: Duration,
    item_bytes: usize,
}

/// How one fetch ended.
enum Fetch {
    Ok(u64),
    Refused,
    Timeout,
    Other,
}

async fn fetch<R: Runtime>(addr: SocketAddr, id: u64, s: Setting) -> Fetch {
    let start = Instant::now();
    let work = std::pin::pin!(fetch_item::<R>(addr, id, s.item_bytes));
    let timer = std::pin::pin!(R::sleep(s.timeout));
    match futures::future::select(work, timer).await {
        futures::future::Either::Left((Ok(back), _)) if back == id => {
            Fetch::Ok(start.elapsed().as_nanos() as u64)
        }
        futures::future::Either::Left((Ok(_), _)) => Fetch::Other,
        futures::future::Either::Left((Err(e), _)) => {
            use std::io::ErrorKind::*;
            match e.kind() {
                UnexpectedEof | ConnectionReset | ConnectionRefused | ConnectionAborted
                | BrokenPipe => Fetch::Refused,
                _ => Fetch::Other,
            }
        }
        futures::future::Either::Right(_) => Fetch::Timeout,
    }
}

/// Runs the server on its own thread with its own runtime until `stop` is set.
fn server_thread<R: Runtime>(
    s: Setting,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<(SocketAddr, Arc<LimitStats>, std::thread::JoinHandle<()>)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("limit-server".into())
        .spawn(move || {
            let rt = R::fresh();
            rt.block_on(async move {
                let server =
                    limited_server::<R>(s.limit, s.overflow, s.service, s.item_bytes).await;
                let _ = tx.send(server);
                // Bounded: the client's run is bounded by its timeouts, and so is this.
                let cap = Instant::now() + Duration::from_secs(600);
                while !stop.load(Ordering::Acquire) && Instant::now() < cap {
                    R::sleep(Duration::from_millis(5)).await;
                }
            });
        })?;
    let (addr, stats) = rx.recv()?;
    Ok((addr, stats, thread))
}

fn run_setting<R: Runtime>(runtime: Rt, s: &Setting) -> anyhow::Result<LimitRow> {
    let s = *s;
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, stats, thread) = server_thread::<R>(s, stop.clone())?;
    let rt = R::fresh();
    let start = Instant::now();
    let outcomes: Vec<Fetch> = rt.block_on(async move {
        match s.style {
            Style::Plain => {
                let mut out = Vec::new();
                let mut next = 0;
                while next < s.items {
                    let n = s.concurrency.min(s.items - next);
                    let tasks: Vec<_> = (next..next + n)
                        .map(|id| R::spawn(fetch::<R>(addr, id, s)))
                        .collect();
                    for t in tasks {
                        out.push(t.await.expect("fetch task"));
                    }
                    next += n;
                }
                out
            }
            Style::Semaphore => {
                let permits = Arc::new(async_lock::Semaphore::new(s.concurrency as usize));
                let tasks: Vec<_> = (0..s.items)
                    .map(|id| {
                        let permits = permits.clone();
                        R::spawn(async move {
                            let _permit = permits.acquire_arc().await;
                            fetch::<R>(addr, id, s).await
                        })
                    })
                    .collect();
                let mut out = Vec::new();
                for t in tasks {
                    out.push(t.await.expect("fetch task"));
                }
                out
            }
            Style::BufferUnordered => {
                futures::stream::iter(0..s.items)
                    .map(|id| fetch::<R>(addr, id, s))
                    .buffer_unordered(s.concurrency as usize)
                    .collect()
                    .await
            }
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Release);
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))?;
    drop(rt);
    let mut times = Vec::new();
    let (mut refused, mut timeouts, mut other) = (0, 0, 0);
    for o in outcomes {
        match o {
            Fetch::Ok(ns) => times.push(ns),
            Fetch::Refused => refused += 1,
            Fetch::Timeout => timeouts += 1,
            Fetch::Other => other += 1,
        }
    }
    let ok = times.len() as u64;
    Ok(LimitRow {
        runtime,
        style: s.style,
        concurrency: s.concurrency,
        items: s.items,
        ok,
        refused,
        timeouts,
        other_errors: other,
        seconds,
        per_s: ok as f64 / seconds.max(1e-9),
        latency: Latency::of(times),
        server_max_active: stats.max_active.load(Ordering::Relaxed),
        server_served: stats.served.load(Ordering::Relaxed),
        server_refused: stats.refused.load(Ordering::Relaxed),
    })
}

impl LimitReport {
    fn runtimes(&self) -> Vec<Rt> {
        let mut rts: Vec<Rt> = self.rows.iter().map(|r| r.runtime).collect();
        rts.sort();
        rts.dedup();
        rts
    }

    /// The concurrency with the most items per second, and the first with errors.
    fn knee(&self, runtime: Rt, style: Style) -> Option<(u64, Option<u64>)> {
        let rows: Vec<&LimitRow> = self
            .rows
            .iter()
            .filter(|r| r.runtime == runtime && r.style == style)
            .collect();
        let best = rows.iter().max_by(|a, b| a.per_s.total_cmp(&b.per_s))?;
        let first_errors = rows
            .iter()
            .filter(|r| r.errors() > 0)
            .map(|r| r.concurrency)
            .min();
        Some((best.concurrency, first_errors))
    }
}

impl LimitReport {
    /// What each runtime's timer did to the lookup, and so to the server's ceiling.
    fn timer_notes(&self) -> Vec<String> {
        if self.timers.is_empty() || self.service_us == 0 {
            return Vec::new();
        }
        let asked = self.service_us as f64;
        let each: Vec<String> = self
            .timers
            .iter()
            .map(|t| {
                format!(
                    "{} {} ({:.2}x, so {} slots serve at most {:.1}k items/s)",
                    t.runtime,
                    micros(t.median_us),
                    t.median_us / asked,
                    self.server_limit,
                    self.server_limit as f64 * 1e3 / t.median_us.max(1e-9),
                )
            })
            .collect();
        let mut notes = vec![format!(
            "Timer resolution: the lookup is a sleep of {}, which each runtime's timer made \
             last (median of {} sleeps): {}. Read each runtime's items/s against its own \
             ceiling: a gap between runtimes here is the timers' first, the clients' second.",
            micros(asked),
            self.timers[0].samples,
            each.join(", ")
        )];
        if let Some(tokio) = self
            .timers
            .iter()
            .find(|t| t.runtime == Rt::Tokio && t.median_us >= asked + 500.0)
        {
            notes.push(format!(
                "tokio's sleep lasted {} for {} asked: its timer wheel ticks in whole \
                 milliseconds and rounds a deadline up to the next tick after the current \
                 one, so short sleeps grow by up to 1 ms.",
                micros(tokio.median_us),
                micros(asked)
            ));
        }
        notes
    }
}

impl Report for LimitReport {
    fn name(&self) -> &'static str {
        "limit"
    }

    fn title(&self) -> String {
        "limit: how many requests in flight?".into()
    }

    fn question(&self) -> String {
        format!(
            "Claim: network calls start timing out past 1,000 at once and servers cap \
             their connections (Postgres: 100) ({}); a semaphore that cut concurrency \
             from 1,000 to 50 doubled throughput ({}). Here: a local server that serves {} \
             connections at once and {}s the rest, {} µs per item; clients fetch with a \
             concurrency bound three ways; a fetch over {} ms is an error.",
            sources::GATHER_OR_BATCH,
            sources::AWAIT_CHAINS,
            self.server_limit,
            match self.overflow {
                Overflow::Refuse => "refuse",
                Overflow::Queue => "queue",
            },
            self.service_us,
            self.timeout_ms
        ) + " " + crate::load::AT_DEFAULT_LEVEL
    }

    fn sections(&self) -> Vec<Section> {
        let mut s = Section::new(
            "Per setting: items per second, errors, the latency of a fetch (connect to last \
             byte), and the most connections the server served at once.",
            &[
                "runtime",
                "client",
                "concurrency",
                "items/s",
                "ok",
                "refused",
                "timeouts",
                "p50",
                "p99",
                "server max",
            ],
            2,
        );
        for r in &self.rows {
            s.row(vec![
                r.runtime.to_string(),
                r.style.label().into(),
                thousands(r.concurrency),
                rate(r.per_s),
                thousands(r.ok),
                thousands(r.refused + r.other_errors),
                thousands(r.timeouts),
                micros(r.latency.p50_us),
                micros(r.latency.p99_us),
                thousands(r.server_max_active),
            ]);
        }
        vec![s]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for rt in self.runtimes() {
            for style in Style::ALL {
                if let Some((best, errors)) = self.knee(rt, style) {
                    notes.push(format!(
                        "{rt}, {}: most items/s at concurrency {best}; {}.",
                        style.label(),
                        match errors {
                            Some(c) => format!("errors from concurrency {c} on"),
                            None => "no errors at any concurrency".into(),
                        }
                    ));
                }
            }
        }
        let over: Vec<&LimitRow> = self
            .rows
            .iter()
            .filter(|r| r.server_max_active > self.server_limit)
            .collect();
        notes.push(if over.is_empty() {
            format!(
                "The server never served more than {} connections at once.",
                self.server_limit
            )
        } else {
            format!(
                "check: the server went over its limit in {} runs",
                over.len()
            )
        });
        // Checked from the rows: where the best concurrency sits against the server's
        // limit, and what going past the limit bought.
        let knees: Vec<u64> = self
            .runtimes()
            .into_iter()
            .flat_map(|rt| Style::ALL.map(move |style| (rt, style)))
            .filter_map(|(rt, style)| self.knee(rt, style).map(|(best, _)| best))
            .collect();
        let past: Vec<&LimitRow> = self
            .rows
            .iter()
            .filter(|r| r.concurrency > self.server_limit)
            .collect();
        if !knees.is_empty() {
            let at_limit = knees.iter().filter(|&&k| k == self.server_limit).count();
            let with_errors = past.iter().filter(|r| r.errors() > 0).count();
            notes.push(format!(
                "The best concurrency was the server's limit ({}) in {at_limit} of {} \
                 runtime-and-client pairs; past the limit, {with_errors} of {} runs had \
                 errors ({}).",
                self.server_limit,
                knees.len(),
                past.len(),
                match self.overflow {
                    Overflow::Refuse => "the server refused what it could not serve",
                    Overflow::Queue => "the server left the rest in its accept queue",
                }
            ));
        }
        notes.extend(self.timer_notes());
        notes
    }

    fn plot(&self, path: &Path) -> anyhow::Result<()> {
        let mut series = Vec::new();
        for rt in self.runtimes() {
            for (variant, style) in Style::ALL.into_iter().enumerate() {
                let points = self
                    .rows
                    .iter()
                    .filter(|r| r.runtime == rt && r.style == style)
                    .map(|r| (r.concurrency as f64, r.latency.p99_us))
                    .collect();
                series.push(
                    Series::line(format!("{rt}, {}", style.label()), rt, points).variant(variant),
                );
            }
        }
        plot::lines(
            path,
            &Lines {
                title: "limit: p99 latency per item against the connections in flight".into(),
                x_label: "connections in flight (log scale)".into(),
                y_label: "p99 latency per item (log scale)".into(),
                x_log: true,
                y_log: true,
                series,
                x_format: |x| thousands(x.round() as u64),
                y_format: micros,
            },
        )
    }
}

// The server of this experiment, written once against `Runtime`.

/// What a [`limited_server`] saw: how many connections it served at once at most,
/// and how many it served and refused.
#[derive(Debug, Default)]
pub struct LimitStats {
    /// Connections being served now.
    pub active: AtomicU64,
    /// The most served at once.
    pub max_active: AtomicU64,
    /// Connections served to the end (an item written).
    pub served: AtomicU64,
    /// Connections closed at once because the server was full (refuse mode).
    pub refused: AtomicU64,
}

/// Spawns a server on 127.0.0.1 that serves at most `limit` connections at once. Each
/// connection sends an 8-byte item id; the server waits `service` (a database lookup)
/// and writes `item_bytes` bytes that start with the id, then closes. Beyond the limit
/// it refuses or queues, as `overflow` says. Returns the address and the live stats.
///
/// ```
/// use std::time::Duration;
/// use turnstile_compare::{Runtime, Tokio};
/// use turnstile_lab::experiments::limit as net;
/// let rt = Tokio::new();
/// let (addr, stats) = rt.block_on(net::limited_server::<Tokio>(
///     100, net::Overflow::Refuse, Duration::from_millis(1), 64));
/// let item = rt.block_on(net::fetch_item::<Tokio>(addr, 7, 64)).unwrap();
/// assert_eq!(item, 7);
/// assert_eq!(stats.served.load(std::sync::atomic::Ordering::Relaxed), 1);
/// ```
pub async fn limited_server<R: Runtime>(
    limit: u64,
    overflow: Overflow,
    service: Duration,
    item_bytes: usize,
) -> (SocketAddr, Arc<LimitStats>) {
    let listener = R::bind(([127, 0, 0, 1], 0).into()).await.expect("bind");
    let addr = R::local_addr(&listener).expect("local_addr");
    let stats = Arc::new(LimitStats::default());
    let slots = Arc::new(async_lock::Semaphore::new(limit as usize));
    let server_stats = stats.clone();
    drop(R::spawn(async move {
        let stats = server_stats;
        loop {
            // Queue mode takes a slot before accepting: the rest wait in the backlog.
            let permit = match overflow {
                Overflow::Queue => Some(slots.acquire_arc().await),
                Overflow::Refuse => None,
            };
            let Ok(stream) = R::accept(&listener).await else {
                return;
            };
            if overflow == Overflow::Refuse && stats.active.load(Ordering::Relaxed) >= limit {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                drop(stream);
                continue;
            }
            let now = stats.active.fetch_add(1, Ordering::Relaxed) + 1;
            stats.max_active.fetch_max(now, Ordering::Relaxed);
            let stats = stats.clone();
            drop(R::spawn(async move {
                let _permit = permit;
                let mut stream = stream;
                let mut id = [0; 8];
                if R::read_exact(&mut stream, &mut id).await.is_ok() {
                    R::sleep(service).await;
                    let mut item = vec![0x5A; item_bytes.max(8)];
                    item[..8].copy_from_slice(&id);
                    if R::write_all(&mut stream, &item).await.is_ok() {
                        stats.served.fetch_add(1, Ordering::Relaxed);
                    }
                }
                stats.active.fetch_sub(1, Ordering::Relaxed);
            }));
        }
    }));
    (addr, stats)
}

/// Fetches item `id` from a [`limited_server`]: connect, send the id, read the item.
/// Returns the id the server sent back.
///
/// # Errors
/// A refused connection reads as `UnexpectedEof` or a reset.
pub async fn fetch_item<R: Runtime>(
    addr: SocketAddr,
    id: u64,
    item_bytes: usize,
) -> io::Result<u64> {
    let mut stream = R::connect(addr).await?;
    R::write_all(&mut stream, &id.to_le_bytes()).await?;
    let mut item = vec![0; item_bytes.max(8)];
    R::read_exact(&mut stream, &mut item).await?;
    let mut back = [0; 8];
    back.copy_from_slice(&item[..8]);
    Ok(u64::from_le_bytes(back))
}
