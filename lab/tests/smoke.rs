//! The lab's experiments at `--smoke` size, run through the real binary. These tests
//! assert counts, which the workloads fix exactly, and never times.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::de::DeserializeOwned;
use turnstile::probes::Level;
use turnstile_lab::experiments::chain::{ChainReport, Leaf, Shape as ChainShape};
use turnstile_lab::experiments::cpu_share::{Burst, CpuShareReport};
use turnstile_lab::experiments::echo::{EchoReport, Proto};
use turnstile_lab::experiments::gather::{GatherReport, Shape as GatherShape};
use turnstile_lab::experiments::http::HttpReport;
use turnstile_lab::experiments::limit::{LimitReport, Style};
use turnstile_lab::experiments::memory::{MemoryReport, RecursionShape};
use turnstile_lab::experiments::neighbours::NeighboursReport;
use turnstile_lab::experiments::stall::{StallReportTable, Way};
use turnstile_lab::experiments::yield_cost::YieldCostReport;
use turnstile_lab::experiments::ExperimentReport;
use turnstile_lab::experiments::NAMES;
use turnstile_lab::load::LoadCost;
use turnstile_lab::runtimes::Rt;
use turnstile_lab::tour::TourReport;

/// Runs the lab binary with `args`.
fn lab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_turnstile-lab"))
        .args(args)
        .output()
        .expect("the lab binary runs")
}

/// A fresh output directory for one test.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("lab-smoke")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `args` plus `--smoke --out DIR`, insists on success, returns DIR and stdout.
fn run_smoke(name: &str, args: &[&str]) -> (PathBuf, String) {
    let dir = out_dir(name);
    let mut all = args.to_vec();
    all.extend(["--smoke", "--out", dir.to_str().expect("a UTF-8 path")]);
    let out = lab(&all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "turnstile-lab {all:?} failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, stdout)
}

fn read<T: DeserializeOwned>(dir: &Path, file: &str) -> T {
    let text = std::fs::read_to_string(dir.join(file)).expect("the report file exists");
    serde_json::from_str(&text).expect("the report parses into its type")
}

#[test]
fn chain_turns_and_yields_do_not_grow_with_depth() {
    // A 20 ms leaf sleep: a 1 ms one can be due before its first poll when the machine
    // preempts the loop thread for longer than that, and then the leaf never yields.
    let (dir, stdout) = run_smoke(
        "chain",
        &[
            "chain",
            "--depths",
            "1,5,50",
            "--sleep-ms",
            "20",
            "--narrate",
        ],
    );
    let report: ChainReport = read(&dir, "chain.json");
    assert_eq!(report.depths, vec![1, 5, 50]);
    assert_eq!(report.rows.len(), 3 * 2 * 2 * 3, "three runtimes");
    for runtime in Rt::ALL {
        for leaf in [Leaf::Sleep, Leaf::Ready] {
            for shape in [ChainShape::Nested, ChainShape::Boxed] {
                let counts: Vec<_> = report
                    .rows
                    .iter()
                    .filter(|r| r.runtime == runtime && r.leaf == leaf && r.shape == shape)
                    .map(|r| (r.depth, r.counts))
                    .collect();
                assert_eq!(counts.len(), 3);
                for (depth, c) in &counts {
                    // One call: the leaf that waits is the only yield, at any depth.
                    let (polls, yields) = match leaf {
                        Leaf::Sleep => (2, 1),
                        Leaf::Ready => (1, 0),
                    };
                    assert_eq!(
                        (c.polls, c.yields),
                        (polls, yields),
                        "{runtime} {leaf} {shape:?} depth {depth}"
                    );
                    if runtime == Rt::Turnstile {
                        let (turns, parks) = match leaf {
                            Leaf::Sleep => (3, 1),
                            Leaf::Ready => (2, 0),
                        };
                        assert_eq!((c.turns, c.parks), (Some(turns), Some(parks)));
                        assert_eq!(c.runtime_polls, Some(c.polls), "the tally agrees");
                    } else {
                        assert_eq!(c.turns, None, "only turnstile counts turns");
                    }
                }
            }
        }
    }

    // The narration interleaves the chain's prints with the loop's turns, in order.
    let n = &report.narration;
    let at = |needle: &str| {
        n.iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} missing from the narration:\n{n:#?}"))
    };
    let sleep = at("level 5: await sleep");
    assert!(at("level 1: await level 2") < sleep);
    assert!(sleep < at("[loop] end of turn 2"));
    assert!(at("[loop] end of turn 2") < at("the sleep is over"));
    assert!(at("the sleep is over") < at("[loop] end of turn 3"));
    assert_eq!(
        n.iter()
            .filter(|l| l.starts_with("[loop] end of turn"))
            .count(),
        3 + 2,
        "3 turns over the sleep, 2 over the ready leaf"
    );
    assert!(stdout.contains("[loop] end of turn 3"), "printed: {stdout}");
    for file in ["chain.json", "chain.svg", "chain.md"] {
        assert!(dir.join(file).exists(), "{file} was not written");
    }
}

#[test]
fn gather_spawns_equal_completions_and_timers_fired_is_three_per_task() {
    let (dir, _) = run_smoke("gather", &["gather"]);
    let report: GatherReport = read(&dir, "gather.json");
    assert_eq!(report.sleeps, 3);
    assert_eq!(report.rows.len(), 3 * 3, "three shapes on three runtimes");
    for r in &report.rows {
        let what = format!("{} {:?} {}", r.runtime, r.shape, r.tasks);
        assert_eq!(r.sleeps_done, 3 * r.tasks, "{what}");
        // Every task is polled once to start and once after each of its three sleeps;
        // behind the semaphore, a task may also wait for a permit.
        assert_eq!(r.counts.yields, r.counts.polls - r.tasks, "{what}");
        match r.shape {
            GatherShape::Semaphore(_) => assert!(r.counts.polls >= 4 * r.tasks, "{what}"),
            _ => assert_eq!(r.counts.polls, 4 * r.tasks, "{what}"),
        }
        if r.runtime == Rt::Turnstile {
            assert_eq!(r.counts.spawns, Some(r.tasks), "{what}");
            assert_eq!(r.counts.completions, r.counts.spawns, "{what}");
            assert_eq!(r.counts.timers_fired, Some(3 * r.tasks), "{what}");
            assert_eq!(r.counts.runtime_polls, Some(r.counts.polls), "{what}");
        }
        assert!(r.rss_peak_kib > 0, "{what}: peak RSS read from /proc");
    }
}

#[test]
fn memory_counts_polls_and_frames_exactly() {
    let (dir, _) = run_smoke("memory", &["memory", "--tasks", "2000", "--depth", "100"]);
    let report: MemoryReport = read(&dir, "memory.json");
    assert_eq!(report.idle.len(), 3);
    for idle in &report.idle {
        assert_eq!(idle.tasks, 2000);
        assert!(
            idle.allocs >= idle.tasks,
            "{}: at least one allocation per task",
            idle.runtime
        );
        assert!(idle.heap_bytes >= idle.tasks * idle.future_bytes);
    }
    assert_eq!(report.recursion.len(), 2 * 3);
    for r in &report.recursion {
        let d = r.depth;
        assert_eq!(d, 100);
        assert_eq!(
            (r.counts.polls, r.counts.yields),
            (d + 1, d),
            "{:?}",
            r.shape
        );
        let frames = match r.shape {
            // Level k is polled once to start and once per yield at levels k and below.
            RecursionShape::Recursive => d + d * (d + 1) / 2,
            RecursionShape::Loop => d + 1,
        };
        assert_eq!(r.frame_polls, frames, "{} {:?}", r.runtime, r.shape);
    }
}

#[test]
fn yield_cost_reports_every_operation() {
    let (dir, _) = run_smoke("yield-cost", &["yield-cost"]);
    let report: YieldCostReport = read(&dir, "yield-cost.json");
    let keys: Vec<(String, Option<Rt>)> = report
        .rows
        .iter()
        .map(|r| (r.op.clone(), r.runtime))
        .collect();
    let mut expected = vec![
        ("call".to_string(), None),
        ("await-ready".into(), None),
        ("chain-5".into(), None),
        ("yield-probes-off".into(), Some(Rt::Turnstile)),
        ("yield".into(), Some(Rt::Turnstile)),
        ("yield".into(), Some(Rt::Tokio)),
        ("yield".into(), Some(Rt::Smol)),
        ("ping-pong".into(), Some(Rt::Turnstile)),
        ("ping-pong".into(), Some(Rt::Tokio)),
        ("ping-pong".into(), Some(Rt::Smol)),
        ("threads".into(), None),
    ];
    if report.skipped.is_empty() {
        expected.push(("threads-one-core".into(), None));
    }
    assert_eq!(keys, expected);
    assert_eq!(report.rows[0].times_call, 1.0);
    assert!(report.rows.iter().all(|r| r.samples_ns.len() == 1));
}

#[test]
fn echo_answers_every_message_on_every_runtime() {
    let (dir, _) = run_smoke("echo", &["echo"]);
    let report: EchoReport = read(&dir, "echo.json");
    assert_eq!(report.messages, Some(20));
    // TCP at 1 and 10 connections, UDP with 10 sockets, on three runtimes.
    assert_eq!(report.rows.len(), 3 * 3);
    for r in &report.rows {
        let what = format!("{} {:?} {}", r.runtime, r.proto, r.clients);
        match r.proto {
            // Lockstep round trips over TCP: every message comes back.
            Proto::Tcp => assert_eq!(r.load.messages, 20 * r.clients, "{what}"),
            // A datagram may be lost, but each one sent is answered or counted lost.
            Proto::Udp => assert_eq!(r.load.messages + r.load.lost, 20 * r.clients, "{what}"),
        }
        assert_eq!(r.load.latency.samples, r.load.messages, "{what}");
        assert_server_was_metered(&what, &r.cost, r.load.messages);
    }
}

/// The server's loop thread was metered: it spent CPU time, and if its system calls
/// were counted, each request took at least one read and one write, or, when clients
/// pipeline (one read can carry many requests), at least one system call was counted.
fn assert_server_was_metered(what: &str, cost: &LoadCost, requests: u64) {
    assert_metered(what, cost, requests, false)
}

fn assert_metered(what: &str, cost: &LoadCost, requests: u64, pipelined: bool) {
    assert!(cost.server.cpu_ns > 0, "{what}: {cost:?}");
    assert!(cost.seconds > 0.0, "{what}");
    match cost.server.syscalls {
        Some(n) if pipelined => assert!(n > 0, "{what}: no syscalls for {requests}"),
        Some(n) => assert!(n >= 2 * requests, "{what}: {n} syscalls for {requests}"),
        None => assert!(
            cost.server.syscalls_note.is_some(),
            "{what}: why not counted"
        ),
    }
}

#[test]
fn extra_levels_add_turnstile_rows_that_say_their_level() {
    let (dir, text) = run_smoke(
        "levels",
        &["http", "--runtime", "turnstile", "--levels", "counters,off"],
    );
    let report: HttpReport = read(&dir, "http.json");
    let levels: Vec<_> = report.rows.iter().map(|r| r.level).collect();
    assert_eq!(levels, [None, Some(Level::Counters), Some(Level::Off)]);
    for r in &report.rows {
        assert_eq!(r.load.requests, 4 * 10, "{:?}", r.level);
        assert_server_was_metered(&format!("{:?}", r.level), &r.cost, r.load.requests);
    }
    assert!(text.contains("turnstile/Off"), "{text}");
    assert!(text.contains("default level, Timing"), "{text}");
    assert!(text.contains("(Timing/Counters "), "{text}");
    let (dir, _) = run_smoke(
        "levels-echo",
        &["echo", "--runtime", "tokio", "--levels", "off"],
    );
    let report: EchoReport = read(&dir, "echo.json");
    assert!(
        report.rows.iter().all(|r| r.level.is_none()),
        "no turnstile, no extra rows"
    );
}

#[test]
fn limit_server_never_exceeds_its_limit() {
    let (dir, _) = run_smoke("limit", &["limit"]);
    let report: LimitReport = read(&dir, "limit.json");
    assert_eq!(report.server_limit, 100);
    assert_eq!(
        report.rows.len(),
        3 * 3 * 2,
        "three runtimes, three styles, two bounds"
    );
    for style in [Style::Plain, Style::Semaphore, Style::BufferUnordered] {
        assert!(report.rows.iter().any(|r| r.style == style));
    }
    // A sleep never ends before its deadline, on any runtime.
    assert_eq!(report.timers.len(), 3);
    for t in &report.timers {
        assert!(t.median_us >= report.service_us as f64, "{t:?}");
    }
    for r in &report.rows {
        let what = format!("{} {:?} {}", r.runtime, r.style, r.concurrency);
        assert!(
            r.server_max_active <= 100,
            "{what}: {}",
            r.server_max_active
        );
        assert!(r.server_max_active <= r.concurrency, "{what}");
        assert_eq!(
            r.ok + r.errors(),
            r.items,
            "{what}: every item is done or failed"
        );
        assert!(
            r.server_served >= r.ok,
            "{what}: every item fetched was served"
        );
        if r.concurrency <= 100 {
            assert_eq!(r.errors(), 0, "{what}: within the limit nothing fails");
            assert_eq!(r.server_refused, 0, "{what}");
        }
    }
}

#[test]
fn cpu_share_answers_every_request() {
    let (dir, _) = run_smoke("cpu-share", &["cpu-share"]);
    let report: CpuShareReport = read(&dir, "cpu-share.json");
    // Shares 0 and 50 %, inline and spawn_blocking, on three runtimes.
    assert_eq!(report.rows.len(), 2 * 2 * 3);
    for burst in [Burst::Inline, Burst::SpawnBlocking] {
        assert!(report.rows.iter().any(|r| r.burst == burst));
    }
    for r in &report.rows {
        assert_eq!(r.requests, 40, "400 req/s for 0.1 s");
        assert_eq!(
            r.answered, r.requests,
            "{} {:?} {}",
            r.runtime, r.burst, r.share_pct
        );
        assert_eq!(r.latency.samples, r.answered);
    }
}

#[test]
fn http_serves_every_request_on_every_runtime() {
    let (dir, _) = run_smoke("http", &["http"]);
    let report: HttpReport = read(&dir, "http.json");
    assert_eq!(
        report.generator, "lab",
        "--smoke uses the lab's own generator"
    );
    assert_eq!(report.rows.len(), 3);
    for r in &report.rows {
        assert_eq!(
            r.load.requests,
            4 * 10,
            "{}: 4 connections x 10 requests",
            r.runtime
        );
        assert_eq!(r.load.errors, 0, "{}", r.runtime);
        assert_server_was_metered(&r.runtime.to_string(), &r.cost, r.load.requests);
    }
}

#[test]
fn neighbours_answers_the_light_client_beside_heavy_ones_on_every_runtime() {
    let (dir, stdout) = run_smoke("neighbours", &["neighbours"]);
    let report: NeighboursReport = read(&dir, "neighbours.json");
    assert_eq!(report.rows.len(), 2 * 3, "N = 0 and 2 on three runtimes");
    for r in &report.rows {
        let what = format!("{} N={}", r.runtime, r.heavy);
        assert_eq!(r.light.samples, 20, "{what}: every light request answered");
        assert_eq!(r.errors, 0, "{what}");
        if r.heavy == 0 {
            assert_eq!(r.heavy_responses, 0, "{what}");
        }
        assert_eq!(
            r.heavy_responses % report.pipeline,
            0,
            "{what}: heavy answers come in whole batches"
        );
        assert_metered(&what, &r.cost, r.answered(), r.heavy > 0);
    }
    assert!(stdout.contains("turnstile's p99 at N=2 is"), "{stdout}");
}

#[test]
fn stall_finds_the_injected_stalls() {
    let (dir, _) = run_smoke("stall", &["stall"]);
    let report: StallReportTable = read(&dir, "stall.json");
    assert_eq!((report.stall_ms, report.stalls), (20, 2));
    // Five ways on three runtimes, and the greedy task without a budget on turnstile.
    assert_eq!(report.rows.len(), 5 * 3 + 1);
    for r in &report.rows {
        let what = format!("{} {:?}", r.runtime, r.way);
        assert_eq!(r.lag.samples, r.ticks, "{what}");
        if matches!(
            r.way,
            Way::BlockingSleep | Way::CpuLoop | Way::GreedyNoBudget
        ) {
            // Each stall on the loop holds one heartbeat tick for the whole stall; a
            // busy machine can only make more ticks late, not fewer.
            assert!(
                r.late_ticks >= r.stalls,
                "{what}: {} late ticks",
                r.late_ticks
            );
        }
        match (r.runtime, &r.reports) {
            (Rt::Turnstile, Some(reports)) => {
                // Polls of 20 ms or more: the injected stalls, each with its class.
                // The budget is what makes the greedy task yield, and only there.
                let budget_yields = r.budget_yields.expect("turnstile counts budget yields");
                let greedy = matches!(r.way, Way::Greedy | Way::GreedySocket);
                assert_eq!(budget_yields > 0, greedy, "{what}");
                // A spin that the OS took the CPU away from for most of its length is
                // reported as preempted, which on a busy machine is the truth.
                let kinds: &[&str] = match r.way {
                    Way::BlockingSleep => &["OffCpu"],
                    Way::CpuLoop | Way::GreedyNoBudget => &["OnCpu", "Preempted"],
                    Way::SpawnBlocking | Way::Greedy | Way::GreedySocket => continue,
                };
                let found = reports
                    .iter()
                    .filter(|s| s.duration_ms >= 20.0 && kinds.contains(&s.kind.as_str()))
                    .count() as u64;
                assert!(found >= r.stalls, "{what}: {reports:#?}");
            }
            (Rt::Tokio | Rt::Smol, None) => assert_ne!(r.way, Way::GreedyNoBudget),
            other => panic!("{what}: unexpected reports {other:?}"),
        }
    }
}

#[test]
fn the_runtime_flag_limits_the_runs() {
    let (dir, _) = run_smoke(
        "tokio-only",
        &["chain", "--runtime", "tokio", "--depths", "5"],
    );
    let report: ChainReport = read(&dir, "chain.json");
    assert!(report.rows.iter().all(|r| r.runtime == Rt::Tokio));
    assert_eq!(report.rows.len(), 4);
}

#[test]
fn the_tour_runs_everything_and_its_json_round_trips() {
    let (dir, stdout) = run_smoke("tour", &["tour"]);
    let text = std::fs::read_to_string(dir.join("tour.json")).expect("tour.json");
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let tour: TourReport = serde_json::from_value(value.clone()).expect("tour.json parses");
    let again = serde_json::to_value(&tour).expect("serializes");
    assert_eq!(again, value, "tour.json round-trips through TourReport");

    let names: Vec<&str> = tour
        .experiments
        .iter()
        .map(|e| e.as_report().name())
        .collect();
    assert_eq!(
        names, NAMES,
        "the tour runs every registered experiment, in order"
    );
    assert!(matches!(&tour.experiments[0], ExperimentReport::Chain(c) if !c.narration.is_empty()));
    for name in names {
        for ext in ["json", "svg", "md"] {
            assert!(dir.join(format!("{name}.{ext}")).exists(), "{name}.{ext}");
        }
    }
    let summary = std::fs::read_to_string(dir.join("summary.md")).expect("summary.md");
    assert_stands_alone("summary.md", &summary);
    assert_stands_alone("the tour's output", &stdout);
    assert!(
        summary.contains("[loop] end of turn"),
        "the narration is in the summary"
    );
    assert!(
        stdout.contains("[loop] end of turn 3"),
        "the tour prints the narration"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines.len() <= 60,
        "{} lines on the tour's screen",
        lines.len()
    );
    for line in &lines {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    assert!(
        stdout.contains("Verdicts"),
        "the tour ends with its verdicts"
    );
    let last = lines.last().expect("the tour prints");
    // Long paths wrap: the viewer's line may take two.
    assert!(
        last.ends_with("stall.html") && stdout.contains("Step through the loop: "),
        "the last line names the viewer's pages: {last}"
    );
    assert!(
        stdout.contains(&dir.join("index.html").display().to_string()),
        "the tour names its report"
    );
    for page in ["chain.html", "stall.html"] {
        let html = std::fs::read_to_string(dir.join(page)).expect(page);
        assert!(html.contains("turnstile loop viewer"), "{page}");
    }
    let index = std::fs::read_to_string(dir.join("index.html")).expect("index.html");
    for name in NAMES {
        assert!(
            index.contains(&format!("src=\"{name}.svg\"")),
            "{name}'s plot"
        );
    }
}

#[test]
fn no_subcommand_runs_the_tour() {
    let (dir, _) = run_smoke("default", &["--runtime", "turnstile"]);
    let tour: TourReport = read(&dir, "tour.json");
    assert_eq!(tour.experiments.len(), NAMES.len());
}

#[test]
fn bad_arguments_fail_with_a_clear_message() {
    for (args, needle) in [
        (&["chain", "--depths", "0"][..], "--depths"),
        (&["chain", "--depths", "1,65"], "--depths"),
        (&["gather", "--tasks", "0"], "--tasks"),
        (&["memory", "--depth", "0"], "--depth"),
        (&["yield-cost", "--samples", "0"], "--samples"),
        (&["--runtime", "trio"], "--runtime"),
        (&["echo", "--connections", "0"], "--connections"),
        (&["limit", "--concurrency", "0"], "--concurrency"),
        (&["cpu-share", "--shares", "101"], "--shares"),
        (&["stall", "--stalls", "0"], "--stalls"),
        (&["asyncio"], "unrecognized subcommand"),
    ] {
        let out = lab(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: clap's usage error code"
        );
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn every_experiment_has_help() {
    let top = lab(&["--help"]);
    assert_stands_alone("--help", &String::from_utf8_lossy(&top.stdout));
    assert_eq!(NAMES.len(), 10, "the registry lists every experiment");
    for sub in std::iter::once("tour").chain(NAMES.iter().copied()) {
        let out = lab(&[sub, "--help"]);
        assert!(out.status.success(), "{sub} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("--runtime") && text.contains("--smoke"),
            "{text}"
        );
        assert_stands_alone(&format!("{sub} --help"), &text);
    }
}

/// Fails if `text` sends its reader to material a user of the repository does not have.
fn assert_stands_alone(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for needle in ["seed", "../shared", "shared/seeds"] {
        assert!(!lower.contains(needle), "{what} mentions {needle:?}");
    }
}

#[test]
fn the_book_and_the_readme_stand_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("a docs entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    assert!(pages.len() > 10, "the book has its chapters: {pages:?}");
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("a readable page");
        assert_stands_alone(&page.display().to_string(), &text);
    }
}

#[test]
fn an_out_path_that_is_a_file_fails_before_anything_runs() {
    let file = out_dir("out-is-a-file");
    std::fs::create_dir_all(file.parent().expect("a parent")).expect("the parent");
    std::fs::write(&file, "not a directory").expect("a file");
    let out = lab(&["chain", "--smoke", "--out", file.to_str().expect("UTF-8")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--out") && stderr.contains("cannot write"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing ran: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
