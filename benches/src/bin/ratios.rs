//! cargo run --release -p turnstile-benches --bin ratios [-- --quick]
//!
//! Prints turnstile/tokio and turnstile/smol ratios side by side, per bench group and
//! probe level, each level's overhead against `Off`, and the bytes one spawned task
//! costs on each runtime; checks them against the project's targets for both baselines
//! and exits non-zero, naming each miss.
//!
//! By default it reads the medians that `cargo bench -p turnstile-benches` left under
//! `target/criterion`. With `--quick` it times a reduced set of the same workloads
//! itself (well under a minute), for smoke checks.

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

/// Counters/tokio must not exceed this, per group (for `echo_100`, a ratio of times for
/// the same work: at most 1.0 means at least tokio's throughput).
const TARGETS: [(&str, f64); 11] = [
    ("yield_one", 0.05),
    ("yield_many", 0.15),
    ("spawn_many_local", 0.5),
    ("spawn_many_remote_idle", 0.8),
    ("ping_pong", 0.5),
    ("chained_spawn", 0.6),
    ("await_chain", 1.0),
    ("timers", 0.7),
    ("timer_cancel", 0.7),
    ("tcp_ping_pong", 1.0),
    ("echo_100", 1.0),
];

/// Counters/smol must not exceed this, per group: turnstile ahead of smol on every
/// executor workload. `await_chain` never reaches either loop (equal by design), so it
/// is allowed the noise of equal figures.
const SMOL_TARGETS: [(&str, f64); 9] = [
    ("yield_one", 1.0),
    ("yield_many", 1.0),
    ("spawn_many_local", 1.0),
    ("spawn_many_remote_idle", 1.0),
    ("ping_pong", 1.0),
    ("chained_spawn", 1.0),
    ("await_chain", 1.1),
    ("timers", 1.0),
    ("timer_cancel", 1.0),
];

/// At Timing, yield_many must stay at or below this ratio to tokio...
const TIMING_YIELD_MANY: f64 = 0.25;
/// ...and every other group within this factor of its Counters figure.
const TIMING_OVER_COUNTERS: f64 = 1.5;

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
    let memory = bytes_per_task();
    let misses = report(&medians, &memory);
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

fn report(medians: &Medians, memory: &Memory) -> Vec<String> {
    let mut misses = Vec::new();
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header([
        "group",
        "tokio",
        "smol",
        "Counters/tokio",
        "target",
        "Counters/smol",
        "target",
        "Off/tokio",
        "Timing/tokio",
        "Trace/tokio",
        "Counters/Off",
        "Timing/Off",
        "Trace/Off",
        "Flight/Off",
        "target",
    ]);
    for (group, row) in medians {
        let get = |c: &str| row.get(c).copied();
        let ratio = |c: &str| Some(get(c)? / get("tokio")?);
        let over_smol = |c: &str| Some(get(c)? / get("smol")?);
        let over_off = |c: &str| Some(get(c)? / get("turnstile_Off")?);
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let target = TARGETS.iter().find(|(g, _)| g == group).map(|&(_, t)| t);
        if let (Some(t), Some(r)) = (target, ratio("turnstile_Counters")) {
            if r > t {
                misses.push(format!("{group}: Counters/tokio {r:.3} > {t}"));
            }
        }
        let smol_target = SMOL_TARGETS
            .iter()
            .find(|(g, _)| g == group)
            .map(|&(_, t)| t);
        if let (Some(t), Some(r)) = (smol_target, over_smol("turnstile_Counters")) {
            if r > t {
                misses.push(format!("{group}: Counters/smol {r:.3} > {t}"));
            }
        }
        match (
            group.as_str(),
            ratio("turnstile_Timing"),
            get("turnstile_Timing"),
        ) {
            ("yield_many", Some(r), _) if r > TIMING_YIELD_MANY => {
                misses.push(format!(
                    "yield_many: Timing/tokio {r:.3} > {TIMING_YIELD_MANY}"
                ));
            }
            (g, _, Some(timing)) if g != "yield_many" => {
                if let Some(counters) = get("turnstile_Counters") {
                    let f = timing / counters;
                    if f > TIMING_OVER_COUNTERS {
                        misses.push(format!(
                            "{g}: Timing is {f:.2}x Counters (> {TIMING_OVER_COUNTERS}x)"
                        ));
                    }
                }
            }
            _ => {}
        }
        let flight_target = FLIGHT_TARGETS
            .iter()
            .find(|(g, _)| g == group)
            .map(|&(_, t)| t);
        if let (Some(t), Some(r)) = (flight_target, over_off("turnstile_Flight")) {
            if r > t {
                misses.push(format!("{group}: Flight/Off {r:.3} > {t}"));
            }
        }
        let micros = |c: &str| get(c).map_or("-".into(), |ns| format!("{:.1} us", ns / 1e3));
        table.add_row([
            group.clone(),
            micros("tokio"),
            micros("smol"),
            fmt(ratio("turnstile_Counters")),
            target.map_or("-".into(), |t| format!("<= {t}")),
            fmt(over_smol("turnstile_Counters")),
            smol_target.map_or("-".into(), |t| format!("<= {t}")),
            fmt(ratio("turnstile_Off")),
            fmt(ratio("turnstile_Timing")),
            fmt(ratio("turnstile_Trace")),
            fmt(over_off("turnstile_Counters")),
            fmt(over_off("turnstile_Timing")),
            fmt(over_off("turnstile_Trace")),
            fmt(over_off("turnstile_Flight")),
            flight_target.map_or("-".into(), |t| format!("<= {t}")),
        ]);
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
    misses
}
