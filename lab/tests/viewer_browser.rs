//! The viewer in a real browser: a recording of the 5-deep await chain made into a
//! page, opened in headless Chromium through chromedriver (WebDriver), stepped through
//! with the page's own controls, and what it shows at each turn checked against the
//! recording. It opens a recorded TCP read (the I/O wake names its socket), opens the
//! tour's pages of the chain and of a stall and screenshots them, and opens a
//! 100,000-turn recording and prints how long that took and how long a step takes.
//!
//! Needs Debian's chromium and chromium-driver: `bash scripts/install-test-deps.sh`.
//! The screenshots go to `target/viewer-test/`; with `TURNSTILE_UPDATE_SCREENSHOT=1`
//! to the book's `docs/images/` (viewer.png, viewer-chain.png, viewer-stall.png).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::probes::{EventKind, Recording, WakeSource};

const INSTALL: &str = "bash scripts/install-test-deps.sh";

/// The program under the viewer: five async functions, only the innermost awaits
/// something that waits (as `executor/examples/await_chain.rs`).
async fn func1() {
    turnstile::time::sleep(Duration::from_millis(20)).await;
}
async fn func2() {
    func1().await
}
async fn func3() {
    func2().await
}
async fn func4() {
    func3().await
}
async fn func5() {
    func4().await
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .chain([Path::new("/usr/bin").join(name)])
            .find(|p| p.is_file())
    })
}

/// chromedriver on a free port of 127.0.0.1, killed when dropped.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> (Driver, PathBuf) {
    let chromium = find(&["chromium", "chromium-browser"]).unwrap_or_else(|| {
        panic!("the viewer's browser test needs Chromium: install it with `{INSTALL}`")
    });
    let chromedriver = find(&["chromedriver"]).unwrap_or_else(|| {
        panic!("the viewer's browser test needs chromedriver: install it with `{INSTALL}`")
    });
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e} (`{INSTALL}`)", chromedriver.display()));
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port} within 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, chromium)
}

async fn browser(driver: &Driver, chromium: &Path, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,860",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("chromedriver would not open Chromium: {e} (`{INSTALL}`)"))
}

/// What the page shows at one step.
#[derive(Debug, Default)]
struct Shown {
    turn: u64,
    polled: Option<u64>,
    stack: String,
    spawned: Vec<u64>,
    waiting: Vec<String>,
    wakes: Vec<(String, u64, bool)>,
    counters: BTreeMap<String, u64>,
    why: String,
}

async fn shown(c: &Client) -> Shown {
    let text = |sel: &'static str| async move {
        c.find(Locator::Css(sel))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let mut s = Shown {
        turn: text("#turn-no").await.parse().unwrap(),
        why: text("#why").await,
        ..Shown::default()
    };
    if let Ok(card) = c.find(Locator::Css("#polled .card")).await {
        s.polled = Some(
            card.attr("data-task")
                .await
                .unwrap()
                .unwrap()
                .parse()
                .unwrap(),
        );
        if let Ok(stack) = c.find(Locator::Css("#polled .stack")).await {
            s.stack = stack.text().await.unwrap();
        }
        for sp in c.find_all(Locator::Css("#polled .spawn")).await.unwrap() {
            let id = sp.attr("data-task").await.unwrap().unwrap();
            s.spawned.push(id.parse().unwrap());
        }
    }
    for h in c.find_all(Locator::Css("#waiting h3")).await.unwrap() {
        s.waiting.push(h.text().await.unwrap());
    }
    for w in c.find_all(Locator::Css("#wakes g.wake")).await.unwrap() {
        let attr = |name: &'static str| {
            let w = w.clone();
            async move { w.attr(name).await.unwrap().unwrap() }
        };
        s.wakes.push((
            attr("data-source").await,
            attr("data-target").await.parse().unwrap(),
            attr("data-coalesced").await == "true",
        ));
    }
    for row in c.find_all(Locator::Css("#counters tr")).await.unwrap() {
        let key = row.attr("data-key").await.unwrap().unwrap();
        let n = row
            .find(Locator::Css("td.n"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        s.counters.insert(key, n.parse().unwrap());
    }
    s
}

/// Per turn of a recording: the tasks polled in order, the wakes (source, target,
/// coalesced), the sites polls stopped at, and the counters at its end.
#[derive(Debug, Default, Clone, PartialEq)]
struct TurnFacts {
    polled: Vec<u64>,
    wakes: Vec<(String, u64, bool)>,
    stopped_at: Vec<String>,
    spawned: Vec<u64>,
    counters: BTreeMap<String, u64>,
}

fn source_key(s: WakeSource) -> &'static str {
    match s {
        WakeSource::SelfWake => "self",
        WakeSource::Local => "local",
        WakeSource::Remote => "remote",
        WakeSource::Io => "io",
        WakeSource::Timer => "timer",
    }
}

/// The facts of each turn, read from the recording's events directly (not through
/// the page's code).
fn facts(rec: &Recording) -> Vec<TurnFacts> {
    let mut turns: Vec<TurnFacts> = Vec::new();
    let mut c: BTreeMap<String, u64> = BTreeMap::new();
    let bump = |c: &mut BTreeMap<String, u64>, k: &str| *c.entry(k.to_string()).or_default() += 1;
    for e in &rec.events {
        match e.kind {
            EventKind::TurnStart { .. } => {
                bump(&mut c, "turns");
                turns.push(TurnFacts::default());
            }
            EventKind::PollStart { task } => {
                bump(&mut c, if task == 0 { "main_polls" } else { "polls" });
                turns.last_mut().unwrap().polled.push(task);
            }
            EventKind::PollEnd { task, done } if task != 0 => {
                bump(&mut c, if done { "completions" } else { "yields" });
            }
            EventKind::TimersFired { count } => {
                *c.entry("timers_fired".to_string()).or_default() += count;
            }
            EventKind::Yielded { site, .. } => {
                let site = &rec.sites[site.unwrap() as usize];
                turns
                    .last_mut()
                    .unwrap()
                    .stopped_at
                    .push(site.location.clone());
            }
            EventKind::Wake { target, source, .. } => {
                bump(&mut c, "wakes");
                bump(&mut c, &format!("wakes_{}", source_key(source)));
                let w = (source_key(source).to_string(), target, false);
                turns.last_mut().unwrap().wakes.push(w);
            }
            EventKind::ParkStart => bump(&mut c, "parks"),
            EventKind::Spawned { task, .. } => {
                bump(&mut c, "spawns");
                turns.last_mut().unwrap().spawned.push(task);
            }
            _ => {}
        }
        if let EventKind::TurnEnd { .. } = e.kind {
            turns.last_mut().unwrap().counters = c.clone();
        }
    }
    turns
}

/// Records the chain spawned as a task and checks the probes' own account of it.
fn record_chain(path: &Path) -> Recording {
    let rt = turnstile::Runtime::builder()
        .probes(turnstile::probes::Level::Counters)
        .record(path)
        .build()
        .unwrap();
    rt.block_on(async { turnstile::spawn(func5()).await.unwrap() });
    let c = rt.probes().counters;
    // The chain's figures, from the probes: 3 turns, the task polled twice, 1 yield.
    assert_eq!((c.turns, c.polls, c.polls_pending), (3, 2, 1), "{c:?}");
    drop(rt);
    let rec = Recording::read(path).unwrap();
    assert_eq!(rec.counters.unwrap().turns, 3);
    assert_eq!(rec.turns(), 3);
    rec
}

#[tokio::test(flavor = "current_thread")]
async fn the_viewer_steps_through_the_await_chain_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let rec_path = dir.path().join("chain.rec");
    let page_path = dir.path().join("chain.html");
    let rec = record_chain(&rec_path);
    let page = turnstile_lab::view::write_page(&rec_path, &page_path).unwrap();
    assert_eq!(page.turns, 3);
    let expected = facts(&rec);
    // The chain as the recording has it: block_on spawns the task (turn 1), the task
    // yields at the sleep (turn 2), the timer wakes it, it finishes and wakes block_on
    // (turn 3).
    assert_eq!(
        expected
            .iter()
            .map(|t| t.polled.clone())
            .collect::<Vec<_>>(),
        [vec![0], vec![1], vec![1, 0]]
    );

    let (driver, chromium) = start_driver();
    let c = browser(&driver, &chromium, &dir.path().join("profile")).await;
    c.goto(&format!("file://{}", page_path.display()))
        .await
        .unwrap();

    // Step through with the "next" button, gathering what each turn showed.
    let steps: u64 = c
        .find(Locator::Id("step-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        .parse()
        .unwrap();
    let mut seen: Vec<TurnFacts> = vec![TurnFacts::default(); 3];
    let mut stacks: Vec<(u64, u64, String)> = Vec::new();
    let mut waits: Vec<(u64, Vec<String>)> = Vec::new();
    let mut whys = Vec::new();
    let mut screenshot = None;
    for step in 0..steps {
        if step > 0 {
            c.find(Locator::Id("next"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        let s = shown(&c).await;
        let turn = &mut seen[(s.turn - 1) as usize];
        if let Some(task) = s.polled {
            turn.polled.push(task);
            stacks.push((s.turn, task, s.stack.clone()));
        }
        turn.wakes.extend(s.wakes.iter().cloned());
        turn.spawned.extend(s.spawned.iter().copied());
        waits.push((s.turn, s.waiting.clone()));
        turn.counters = s
            .counters
            .iter()
            .filter(|(_, &n)| n > 0)
            .map(|(k, &n)| (k.clone(), n))
            .collect();
        whys.push((s.turn, s.why.clone()));
        if s.turn == 3 && s.polled.is_none() {
            // The park that the timer ended, with its wake's arrow: the book's picture.
            screenshot = Some(c.screenshot().await.unwrap());
        }
    }
    for (n, (want, got)) in expected.iter().zip(&seen).enumerate() {
        assert_eq!(got.polled, want.polled, "tasks polled in turn {}", n + 1);
        assert_eq!(got.wakes, want.wakes, "wakes in turn {}", n + 1);
        assert_eq!(got.spawned, want.spawned, "tasks spawned in turn {}", n + 1);
        assert_eq!(
            got.counters,
            want.counters,
            "counters at the end of turn {}",
            n + 1
        );
    }
    // The task's stack as it stopped: the sleep's line, where the recording says.
    let sleep_site = &expected[1].stopped_at[0];
    assert!(sleep_site.contains("viewer_browser.rs"), "{sleep_site}");
    let (_, _, stack) = stacks
        .iter()
        .find(|(turn, task, _)| (*turn, *task) == (2, 1))
        .unwrap();
    assert!(
        stack.contains(sleep_site.as_str()),
        "turn 2's poll of task 1 shows {stack:?}"
    );
    // block_on spawned the chain's task in turn 1.
    assert_eq!(expected[0].spawned, [1]);
    // While it sleeps, task 1 waits for a timer: the page gives the deadline the
    // recording holds (when the timer was set, plus how far away it was).
    let due_ns = rec
        .events
        .iter()
        .find_map(|e| match e.kind {
            EventKind::TimerSet {
                task: Some(1),
                due_in_ns,
            } => Some(e.at_ns + due_in_ns - rec.events[0].at_ns),
            _ => None,
        })
        .expect("the sleep's timer was set by task 1");
    assert!(due_ns >= 20_000_000, "the sleep is 20 ms: {due_ns}");
    let due = format!("due at +{:.1} ms", due_ns as f64 / 1e6);
    let (_, after_yield) = waits
        .iter()
        .find(|(turn, w)| *turn == 2 && !w.is_empty())
        .expect("task 1 waits after turn 2's poll");
    // block_on waits for the task; the task for its timer.
    assert_eq!(after_yield.len(), 2, "{after_yield:?}");
    assert_eq!(after_yield[0], "waiting for another task: task 1");
    assert!(
        after_yield[1].starts_with("waiting for a timer (") && after_yield[1].contains(&due),
        "{after_yield:?}, want {due}"
    );
    // The why lines say what happened in words.
    let why3: Vec<&String> = whys
        .iter()
        .filter(|(t, _)| *t == 3)
        .map(|(_, w)| w)
        .collect();
    assert!(
        why3[0].starts_with("parked ") && why3[0].contains("the timer woke task 1"),
        "{why3:?}"
    );
    assert!(
        why3.iter()
            .any(|w| w.contains("polled task 1") && w.contains("returned Ready")),
        "{why3:?}"
    );
    // The final counters are the probes' own.
    let counters = rec.counters.unwrap();
    let last = &seen[2].counters;
    assert_eq!(last["turns"], counters.turns);
    assert_eq!(last["polls"], counters.polls);
    assert_eq!(last["yields"], counters.polls_pending);
    assert_eq!(last["main_polls"], counters.main_polls);
    assert_eq!(last["wakes"], counters.wakes);
    assert_eq!(last["parks"], counters.parks);

    // The keyboard and the timeline move the cursor too.
    let body = c.find(Locator::Css("body")).await.unwrap();
    body.send_keys("\u{E012}").await.unwrap(); // ArrowLeft
    assert_eq!(shown(&c).await.turn, 3);
    c.find(Locator::Id("first"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(shown(&c).await.turn, 1);
    body.send_keys("\u{E00F}").await.unwrap(); // PageDown: the next turn
    assert_eq!(shown(&c).await.turn, 2);
    c.find(Locator::Id("timeline"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap(); // its middle
    assert_eq!(shown(&c).await.turn, 2);

    save_screenshot(
        "viewer.png",
        &screenshot.expect("a step of turn 3 outside any poll"),
    );

    io_wake_names_its_socket(&c, dir.path()).await;
    tour_pages(&c, dir.path()).await;

    // A long run: 100,000 turns open, and step, at once.
    let big = synthetic(100_000);
    let big_path = dir.path().join("big.rec");
    big.write(&big_path).unwrap();
    let big_page = dir.path().join("big.html");
    turnstile_lab::view::write_page(&big_path, &big_page).unwrap();
    let started = Instant::now();
    c.goto(&format!("file://{}", big_page.display()))
        .await
        .unwrap();
    let opened = started.elapsed();
    let timing = c
        .execute(
            "const v = window.turnstileViewer;
             const t = performance.now();
             for (let i = 0; i < 200; i++) document.getElementById('next').click();
             const step = (performance.now() - t) / 200;
             const j = performance.now();
             v.goto(Math.floor(v.frames * 0.737));
             const jump = performance.now() - j;
             return [v.turns, v.openMs, step, jump, performance.now()];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(timing[0], 100_000, "the page shows every turn");
    println!(
        "100,000 turns ({} bytes of page): loaded in {:.0} ms as the test saw it, the page's \
         script ready in {:.0} ms; a step {:.2} ms, a jump {:.2} ms",
        std::fs::metadata(&big_page).unwrap().len(),
        opened.as_secs_f64() * 1e3,
        timing[1].as_f64().unwrap(),
        timing[2].as_f64().unwrap(),
        timing[3].as_f64().unwrap()
    );
    // A bound a loaded machine cannot break, far above the target of two seconds.
    assert!(opened < Duration::from_secs(30), "{opened:?}");
    c.close().await.unwrap();
}

/// Writes a screenshot where the book takes it from (`TURNSTILE_UPDATE_SCREENSHOT=1`)
/// or under `target/viewer-test/`.
fn save_screenshot(name: &str, png: &[u8]) {
    assert_eq!(&png[1..4], b"PNG");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = if std::env::var_os("TURNSTILE_UPDATE_SCREENSHOT").is_some() {
        root.join("docs/images").join(name)
    } else {
        root.join("target/viewer-test").join(name)
    };
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&out, png).unwrap();
    println!("screenshot: {}", out.display());
}

/// A task reads from a loopback connection that `block_on` writes to a little later:
/// the read waits, the reactor wakes the task, and the page names the socket.
async fn io_wake_names_its_socket(c: &Client, dir: &Path) {
    let rt = turnstile::Runtime::builder()
        .probes(turnstile::probes::Level::Trace)
        .build()
        .unwrap();
    let peer = rt.block_on(async {
        let listener = turnstile::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = turnstile::task::Builder::new()
            .name("reader")
            .spawn(async move {
                let mut stream = turnstile::net::TcpStream::connect(addr).await.unwrap();
                let mut buf = [0; 5];
                stream.read_exact(&mut buf).await.unwrap();
                buf
            });
        let (mut conn, _) = listener.accept().await.unwrap();
        turnstile::time::sleep(Duration::from_millis(5)).await;
        conn.write_all(b"hello").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"hello");
        addr
    });
    let rec = rt.recording();
    let io_wakes = rec
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Wake {
                    target: 1,
                    source: WakeSource::Io,
                    ..
                }
            )
        })
        .count();
    assert!(io_wakes >= 1, "the reader was woken by the reactor");
    let page = dir.join("io.html");
    turnstile_lab::view::write_recording_page(&rec, &page).unwrap();
    c.goto(&format!("file://{}", page.display())).await.unwrap();
    let found = c
        .execute(
            "const v = window.turnstileViewer;
             for (let f = 0; f < v.frames; f++) {
               v.goto(f);
               const w = document.querySelector('#wakes g.wake[data-source=io][data-target=\"1\"]');
               if (w) return [w.getAttribute('data-socket'), w.getAttribute('data-direction'),
                              document.getElementById('why').textContent];
             }
             return null;",
            vec![],
        )
        .await
        .unwrap();
    let label = format!("tcp read from {peer}");
    assert_eq!(found[0], label.as_str(), "{found:?}");
    assert_eq!(found[1], "readable", "{found:?}");
    let why = found[2].as_str().unwrap();
    assert!(
        why.contains(&format!("I/O on {label} (readable) woke task 1 (reader)")),
        "{why}"
    );
}

/// The tour's pages of the chain and of a stall, as the lab writes them: they open,
/// show what they recorded, and are the book's pictures.
async fn tour_pages(c: &Client, dir: &Path) {
    let chain =
        turnstile_lab::experiments::chain::record_page(Duration::from_millis(10), dir).unwrap();
    c.goto(&format!("file://{}", chain.display()))
        .await
        .unwrap();
    // The step where the timer wakes the chain over a sleep: its park and its arrow.
    let shown = c
        .execute(
            "const v = window.turnstileViewer;
             for (let f = 0; f < v.frames; f++) {
               v.goto(f);
               if (document.querySelector('#wakes g.wake[data-source=timer]'))
                 return [v.turns, document.getElementById('why').textContent];
             }
             return null;",
            vec![],
        )
        .await
        .unwrap();
    let why = shown[1].as_str().unwrap();
    assert!(
        why.contains("the timer woke task 1 (chain over a sleep)"),
        "{why}"
    );
    save_screenshot("viewer-chain.png", &c.screenshot().await.unwrap());

    let stall =
        turnstile_lab::experiments::stall::record_page(Duration::from_millis(30), dir).unwrap();
    c.goto(&format!("file://{}", stall.display()))
        .await
        .unwrap();
    let shown = c
        .execute(
            "const v = window.turnstileViewer;
             for (let f = 0; f < v.frames; f++) {
               v.goto(f);
               const s = document.querySelector('#polled .stall');
               if (s) return [s.textContent, document.getElementById('why').textContent];
             }
             return null;",
            vec![],
        )
        .await
        .unwrap();
    assert!(!shown.is_null(), "the stall page shows a stall");
    let why = shown[1].as_str().unwrap();
    assert!(
        why.contains("polled task 2 (blocker)") && why.contains("STALL"),
        "{why}"
    );
    save_screenshot("viewer-stall.png", &c.screenshot().await.unwrap());
}

/// A made-up recording of `turns` turns: a task that yields (every tenth time because
/// of its budget), another that sleeps, a park every hundredth turn, a stall every
/// thousandth.
fn synthetic(turns: u64) -> Recording {
    let mut ring = turnstile::probes::TraceRing::with_capacity(turns as usize * 10);
    let mut t = 0u64;
    let mut push = |dt: u64, kind: EventKind| {
        t += dt;
        ring.push(t, kind);
    };
    for turn in 1..=turns {
        push(1_000, EventKind::TurnStart { turn });
        if turn % 100 == 0 {
            push(100, EventKind::ParkStart);
            push(1_000_000, EventKind::ParkEnd);
            push(100, EventKind::TimersFired { count: 1 });
            push(
                0,
                EventKind::Wake {
                    target: 2,
                    source: WakeSource::Timer,
                    by: None,
                },
            );
        }
        push(200, EventKind::PollStart { task: 1 });
        let budget = turn % 10 == 0;
        push(
            0,
            EventKind::Wake {
                target: 1,
                source: WakeSource::SelfWake,
                by: Some(1),
            },
        );
        push(
            2_000,
            EventKind::Yielded {
                task: 1,
                site: Some(0),
                stack: None,
                budget,
            },
        );
        if turn % 1000 == 0 {
            push(
                0,
                EventKind::Stall {
                    task: 1,
                    nanos: 20_000_000,
                },
            );
        }
        push(
            0,
            EventKind::PollEnd {
                task: 1,
                done: false,
            },
        );
        if turn % 100 == 0 {
            push(100, EventKind::PollStart { task: 2 });
            push(
                900,
                EventKind::Yielded {
                    task: 2,
                    site: Some(1),
                    stack: None,
                    budget: false,
                },
            );
            push(
                0,
                EventKind::PollEnd {
                    task: 2,
                    done: false,
                },
            );
        }
        push(300, EventKind::TurnEnd { turn, ready: 1 });
    }
    let log = ring.log(Default::default());
    let json = serde_json::json!({
        "format": "turnstile-recording", "version": 1, "runtime": "synthetic", "origin": "trace",
        "limit": log.capacity, "dropped": 0,
        "tasks": [{"id": 0, "name": "block_on", "spawned_at": ""},
                  {"id": 1, "name": "spinner", "spawned_at": "src/main.rs:10:5"},
                  {"id": 2, "name": "sleeper", "spawned_at": "src/main.rs:11:5"}],
        "sites": [{"location": "src/main.rs:20:9", "label": null},
                  {"location": "src/main.rs:30:9", "label": null}],
        "stacks": [], "counters": null, "events": log.events,
    });
    Recording::from_json(&json.to_string()).unwrap()
}
