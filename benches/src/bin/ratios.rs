//! cargo run --release -p turnstile-benches --bin ratios [-- --quick]
//!
//! Prints, first, turnstile at its default probe level (`Timing`) against tokio
//! current_thread and smol, per bench group; then each level's overhead against `Off`,
//! the other levels against tokio, and the bytes one spawned task costs on each
//! runtime. It names the machine it ran on, checks the figures against the project's
//! targets (the default level ahead of both peers; what `Timing` and `Counters` cost
//! over `Off`), and exits non-zero, naming each miss.
//!
//! By default it reads the medians that `cargo bench -p turnstile-benches` left under
//! `target/criterion`. With `--quick` it times a reduced set of the same workloads
//! itself (well under a minute), for smoke checks. With `--markdown FILE` it also
//! writes what it printed as a Markdown page (the book includes
//! `docs/generated/ratios.md`, written this way by `scripts/record-bench.sh`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use turnstile::probes::Level;
use turnstile_compare::alloc::{self, CountingAlloc};
use turnstile_compare::{workloads, Runtime, Smol, Tokio, Turnstile};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Ratios of turnstile to tokio current_thread and to smol, checked against the targets.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Time a reduced set of workloads here instead of reading criterion's results.
    #[arg(long)]
    quick: bool,
    /// Where criterion wrote its results (default: the workspace's target/criterion).
    #[arg(long, value_name = "DIR")]
    criterion_dir: Option<PathBuf>,
    /// Also write the machine, the table and the misses as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

/// The column of each runtime, in order: criterion's directory name for it.
const RUNTIMES: [&str; 7] = [
    "tokio",
    "smol",
    "turnstile_Off",
    "turnstile_Counters",
    "turnstile_Timing",
    "turnstile_Trace",
    "turnstile_Flight",
];

/// Flight/Off (`Off` with the flight recorder on, against `Off`) must not exceed this,
/// per group: cheap enough to leave on in a service.
const FLIGHT_TARGETS: [(&str, f64); 4] = [
    ("yield_many", 2.0),
    ("spawn_many_local", 1.3),
    ("tcp_ping_pong", 1.05),
    ("echo_100", 1.05),
];

/// The executor groups: the default level (`Timing`) must be ahead of the faster of
/// tokio and smol on each, Timing/best peer below this, and well ahead on
/// `yield_many` and `spawn_many_local` (`await_chain` never reaches
/// either loop, equal by design, so it is allowed the noise of equal figures).
const BEST_PEER_TARGETS: [(&str, f64); 9] = [
    ("yield_one", 1.0),
    ("yield_many", 0.6),
    ("spawn_many_local", 0.6),
    ("spawn_many_remote_idle", 1.0),
    ("ping_pong", 1.0),
    ("chained_spawn", 1.0),
    ("await_chain", 1.1),
    ("timers", 1.0),
    ("timer_cancel", 1.0),
];

/// What the default level may cost over `Off`, per group: Timing/Off at most this.
const TIMING_OVER_OFF: [(&str, f64); 5] = [
    ("yield_one", 1.5),
    ("yield_many", 1.5),
    ("spawn_many_local", 1.3),
    ("chained_spawn", 1.3),
    ("ping_pong", 1.3),
];

/// Counters/Off must not exceed this in any group.
const COUNTERS_OVER_OFF: f64 = 1.05;

/// The machine the figures come from: CPU model, cores, whether it is a virtual
/// machine, the kernel, and the load when the run began.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |m| m.trim().to_string());
    let vm = cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .is_some_and(|l| l.split_whitespace().any(|f| f == "hypervisor"));
    let cores = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let usable = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or("unknown".to_string(), |k| k.trim().to_string());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into());
    format!(
        "{model}, {cores} cores ({usable} usable here){}, Linux {kernel}, load {load} at \
         the start",
        if vm { ", a virtual machine" } else { "" }
    )
}

/// Median time per iteration, in nanoseconds, by group and runtime column.
type Medians = BTreeMap<String, BTreeMap<String, f64>>;

fn main() -> ExitCode {
    let args = Args::parse();
    let medians = if args.quick {
        quick()
    } else {
        let dir = args.criterion_dir.unwrap_or_else(default_criterion_dir);
        match read_criterion(&dir) {
            Ok(m) if !m.is_empty() => m,
            Ok(_) => {
                eprintln!(
                    "ratios: no criterion results under {}: run `cargo bench -p \
                     turnstile-benches` first, or pass --quick",
                    dir.display()
                );
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("ratios: cannot read {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        }
    };
    let machine = machine();
    println!("machine: {machine}");
    let memory = bytes_per_task();
    let (rows, misses) = report(&medians, &memory);
    if let Some(path) = &args.markdown {
        let source = if args.quick {
            "`ratios --quick` (its own timing of a reduced set)"
        } else {
            "criterion's medians (`cargo bench -p turnstile-benches`), read by `ratios`"
        };
        let page = markdown(&machine, source, &rows, &memory, &misses);
        if let Err(e) = std::fs::write(path, page) {
            eprintln!("ratios: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if misses.is_empty() {
        println!("\nevery target met");
        ExitCode::SUCCESS
    } else {
        println!("\n{} target(s) missed:", misses.len());
        for miss in &misses {
            println!("  MISSED {miss}");
        }
        ExitCode::FAILURE
    }
}

fn default_criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// Reads `<dir>/<group>/<runtime>/new/estimates.json` medians.
fn read_criterion(dir: &Path) -> std::io::Result<Medians> {
    let mut medians = Medians::new();
    if !dir.exists() {
        return Ok(medians);
    }
    for group in std::fs::read_dir(dir)? {
        let group = group?;
        for runtime in RUNTIMES {
            let path = group.path().join(runtime).join("new/estimates.json");
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            if let Some(ns) = json["median"]["point_estimate"].as_f64() {
                let name = group.file_name().to_string_lossy().into_owned();
                medians
                    .entry(name)
                    .or_default()
                    .insert(runtime.to_string(), ns);
            }
        }
    }
    Ok(medians)
}

/// The median of repeated runs of `f`, in nanoseconds: at least 5 runs, then more until
/// about 0.3 s have passed.
fn median_ns(mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let start = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 5 || (start.elapsed() < Duration::from_millis(300) && samples.len() < 500)
    {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_nanos() as f64);
    }
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The reduced set: the same workloads as the criterion benches, smaller. Each runtime
/// column is timed by the same generic code.
fn quick() -> Medians {
    let mut m = Medians::new();
    let mut column = |name: &str, times: Vec<(&'static str, f64)>| {
        for (group, ns) in times {
            m.entry(group.to_string())
                .or_default()
                .insert(name.to_string(), ns);
        }
    };
    column(RUNTIMES[0], quick_on(&Tokio::new()));
    column(RUNTIMES[1], quick_on(&Smol::new()));
    for (name, level) in
        RUNTIMES[2..]
            .iter()
            .zip([Level::Off, Level::Counters, Level::Timing, Level::Trace])
    {
        column(name, quick_on(&Turnstile::new(level)));
    }
    column(RUNTIMES[6], quick_on(&Turnstile::flight()));
    m
}

/// Median time per iteration of each reduced workload on `rt`.
fn quick_on<R: Runtime>(rt: &R) -> Vec<(&'static str, f64)> {
    let ms = Duration::from_millis;
    vec![
        (
            "spawn_many_local",
            median_ns(|| rt.block_on(workloads::spawn_many_local::<R>(1_000))),
        ),
        (
            "spawn_many_remote_idle",
            median_ns(|| workloads::spawn_many_remote(rt, 1_000)),
        ),
        (
            "yield_one",
            median_ns(|| rt.block_on(workloads::yield_one::<R>(100_000))),
        ),
        (
            "yield_many",
            median_ns(|| rt.block_on(workloads::yield_many::<R>(200, 100))),
        ),
        (
            "ping_pong",
            median_ns(|| rt.block_on(workloads::ping_pong::<R>(1_000))),
        ),
        (
            "chained_spawn",
            median_ns(|| rt.block_on(workloads::chained_spawn::<R>(1_000))),
        ),
        (
            "await_chain",
            median_ns(|| {
                std::hint::black_box(rt.block_on(workloads::await_chain(1_000)));
            }),
        ),
        (
            "timers",
            median_ns(|| rt.block_on(workloads::timers::<R>(10_000, ms(1)))),
        ),
        (
            "timer_cancel",
            median_ns(|| rt.block_on(workloads::timer_cancel::<R>(10_000))),
        ),
    ]
}

/// Heap bytes and allocations one idle spawned task costs on each runtime.
#[derive(Debug)]
struct Memory {
    tokio: (f64, f64),
    smol: (f64, f64),
    turnstile: (f64, f64),
}

fn bytes_per_task() -> Memory {
    const TASKS: usize = 10_000;
    fn measure<R: Runtime>(rt: &R) -> (f64, f64) {
        rt.block_on(async {
            // Let the runtime's own structures reach a steady size first: twice, because
            // a run queue may be double-buffered (turnstile's is), and its two buffers
            // reach the peak size in turn.
            for _ in 0..2 {
                for _ in 0..TASKS {
                    drop(R::spawn(async {}));
                }
                R::yield_now().await;
            }
            let before = alloc::stats();
            for _ in 0..TASKS {
                drop(R::spawn(std::future::pending::<()>()));
            }
            R::yield_now().await; // every task polled once, and idle
            let after = alloc::stats();
            let bytes = after.live.saturating_sub(before.live) as f64 / TASKS as f64;
            let allocs = (after.allocs - before.allocs) as f64 / TASKS as f64;
            (bytes, allocs)
        })
    }
    let tokio = measure(&Tokio::new());
    let smol = measure(&Smol::new());
    let turnstile = measure(&Turnstile::new(Level::Counters));
    Memory {
        tokio,
        smol,
        turnstile,
    }
}

/// The table's columns.
const HEADER: [&str; 16] = [
    "group",
    "tokio",
    "smol",
    "Timing (default)",
    "Timing/tokio",
    "Timing/smol",
    "Timing/best",
    "target",
    "Timing/Off",
    "target",
    "Counters/Off",
    "Off/tokio",
    "Counters/tokio",
    "Trace/Off",
    "Flight/Off",
    "target",
];

/// Prints the table and returns its rows and the missed targets.
fn report(medians: &Medians, memory: &Memory) -> (Vec<Vec<String>>, Vec<String>) {
    let mut misses = Vec::new();
    let mut rows = Vec::new();
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(HEADER);
    let find = |targets: &[(&str, f64)], group: &str| {
        targets.iter().find(|(g, _)| *g == group).map(|&(_, t)| t)
    };
    let limit = |t: Option<f64>| t.map_or("-".into(), |t| format!("<= {t}"));
    for (group, row) in medians {
        let get = |c: &str| row.get(c).copied();
        let ratio = |c: &str| Some(get(c)? / get("tokio")?);
        let over_smol = |c: &str| Some(get(c)? / get("smol")?);
        let over_off = |c: &str| Some(get(c)? / get("turnstile_Off")?);
        let best_peer = match (get("tokio"), get("smol")) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let over_best = get("turnstile_Timing").zip(best_peer).map(|(t, b)| t / b);
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let best_target = find(&BEST_PEER_TARGETS, group);
        if let (Some(t), Some(r)) = (best_target, over_best) {
            // "Ahead of" is strict: a ratio of exactly the target is a miss.
            if r >= t {
                misses.push(format!("{group}: Timing/best peer {r:.3}, target < {t}"));
            }
        }
        let off_target = find(&TIMING_OVER_OFF, group);
        if let (Some(t), Some(r)) = (off_target, over_off("turnstile_Timing")) {
            if r > t {
                misses.push(format!("{group}: Timing/Off {r:.3} > {t}"));
            }
        }
        if let Some(r) = over_off("turnstile_Counters") {
            if r > COUNTERS_OVER_OFF {
                misses.push(format!(
                    "{group}: Counters/Off {r:.3} > {COUNTERS_OVER_OFF}"
                ));
            }
        }
        let flight_target = find(&FLIGHT_TARGETS, group);
        if let (Some(t), Some(r)) = (flight_target, over_off("turnstile_Flight")) {
            if r > t {
                misses.push(format!("{group}: Flight/Off {r:.3} > {t}"));
            }
        }
        let micros = |c: &str| get(c).map_or("-".into(), |ns| format!("{:.1} us", ns / 1e3));
        let row = vec![
            group.clone(),
            micros("tokio"),
            micros("smol"),
            micros("turnstile_Timing"),
            fmt(ratio("turnstile_Timing")),
            fmt(over_smol("turnstile_Timing")),
            fmt(over_best),
            best_target.map_or("-".into(), |t| format!("< {t}")),
            fmt(over_off("turnstile_Timing")),
            limit(off_target),
            fmt(over_off("turnstile_Counters")),
            fmt(ratio("turnstile_Off")),
            fmt(ratio("turnstile_Counters")),
            fmt(over_off("turnstile_Trace")),
            fmt(over_off("turnstile_Flight")),
            limit(flight_target),
        ];
        table.add_row(row.clone());
        rows.push(row);
    }
    println!("median time per iteration, as ratios (lower is faster)\n{table}");
    let (tb, ta) = memory.tokio;
    let (mb, ma) = memory.smol;
    let (sb, sa) = memory.turnstile;
    println!(
        "\nmemory per idle task (requested heap bytes, allocations): tokio {tb:.0} B in \
         {ta:.2}, smol {mb:.0} B in {ma:.2}, turnstile {sb:.0} B in {sa:.2}"
    );
    if sb > tb {
        misses.push(format!("bytes per task: turnstile {sb:.0} > tokio {tb:.0}"));
    }
    (rows, misses)
}

/// The run as a Markdown page: where the figures come from, the machine, the table,
/// the memory per task and each missed target.
fn markdown(
    machine: &str,
    source: &str,
    rows: &[Vec<String>],
    memory: &Memory,
    misses: &[String],
) -> String {
    use std::fmt::Write;
    let mut page = String::new();
    let _ = writeln!(
        page,
        "Median time per iteration, as ratios (lower is faster), from {source}."
    );
    let _ = writeln!(page, "Machine: {machine}.\n");
    let _ = writeln!(page, "| {} |", HEADER.join(" | "));
    let _ = writeln!(page, "|{}", "---|".repeat(HEADER.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(page, "| {} |", cells.join(" | "));
    }
    let (tb, ta) = memory.tokio;
    let (mb, ma) = memory.smol;
    let (sb, sa) = memory.turnstile;
    let _ = writeln!(
        page,
        "\nMemory per idle task (requested heap bytes, allocations): tokio {tb:.0} B in \
         {ta:.2}, smol {mb:.0} B in {ma:.2}, turnstile {sb:.0} B in {sa:.2}."
    );
    if misses.is_empty() {
        let _ = writeln!(page, "\nEvery target met.");
    } else {
        let _ = writeln!(page, "\n{} target(s) missed:\n", misses.len());
        for miss in misses {
            let _ = writeln!(page, "- {miss}");
        }
    }
    page
}
