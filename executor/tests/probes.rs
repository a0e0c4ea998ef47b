//! The timing probes: await sites, histograms, per-task times, stalls, the watchdog,
//! lost wakers, traces and the OS view. Counts are exact where the design makes them
//! exact; timing facts only in the direction a loaded machine cannot break (a 30 ms
//! sleep is at least 30 ms; nothing is asserted to be fast).

mod common;

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use turnstile::probes::{Level, ProbeExt, Snapshot, StallKind};
use turnstile::Runtime;

use common::{chain5, chain5_sleep_site, ms};

/// A stall threshold no poll reaches.
const NEVER: Duration = Duration::from_secs(3600);

fn timing() -> Runtime {
    Runtime::builder()
        .probes(Level::Timing)
        .build()
        .expect("runtime")
}

fn site_at(snap: &Snapshot, line: u32) -> &turnstile::probes::SiteStats {
    site_named(snap, &format!("tests/probes.rs:{line}:"))
}

fn site_named<'a>(snap: &'a Snapshot, at: &str) -> &'a turnstile::probes::SiteStats {
    snap.sites
        .iter()
        .find(|s| s.location.contains(at))
        .unwrap_or_else(|| panic!("no site at {at}\n{snap}"))
}

#[test]
fn the_await_chain_has_exactly_one_site_the_sleep_line() {
    let rt = timing();
    rt.block_on(chain5());
    let snap = rt.probes();
    assert_eq!(snap.sites.len(), 1, "{snap}");
    let site = site_named(&snap, &chain5_sleep_site());
    assert_eq!((site.awaited, site.yields, site.inline), (1, 1, 0));
    assert!(site.total_wait >= ms(10) && site.longest_wait == site.total_wait);
    assert_eq!(snap.unattributed_yields, 0);
    let table = snap.to_string();
    assert!(table.contains("await site"), "{table}");
    assert!(table.contains(&chain5_sleep_site()), "{table}");
}

#[test]
fn a_join_handle_site_is_where_it_is_awaited() {
    let rt = timing();
    let await_line = line!() + 1;
    rt.block_on(async { turnstile::spawn(chain5()).await.unwrap() });
    let snap = rt.probes();
    assert_eq!(snap.sites.len(), 2, "{snap}");
    assert_eq!(site_named(&snap, &chain5_sleep_site()).yields, 1);
    let join = site_at(&snap, await_line);
    assert_eq!((join.awaited, join.yields, join.inline), (1, 1, 0));
}

#[test]
fn yield_now_is_one_site_with_one_yield_per_call() {
    let rt = timing();
    let line = line!() + 4;
    rt.block_on(async {
        turnstile::spawn(async {
            for _ in 0..10 {
                turnstile::yield_now().await;
            }
        })
        .await
        .unwrap()
    });
    let snap = rt.probes();
    let site = site_at(&snap, line);
    assert_eq!((site.awaited, site.yields, site.inline), (10, 10, 0));
}

#[test]
fn a_leaf_that_is_already_done_counts_inline() {
    let rt = timing();
    let line = line!() + 3;
    rt.block_on(async {
        for _ in 0..3 {
            turnstile::time::sleep(Duration::ZERO).await;
        }
        let h = turnstile::spawn(async { 1 });
        turnstile::yield_now().await; // the task finishes before its handle is polled
        h.await.unwrap()
    });
    let snap = rt.probes();
    let sleep = site_at(&snap, line);
    assert_eq!((sleep.awaited, sleep.yields, sleep.inline), (3, 0, 3));
    let join = site_at(&snap, line + 4);
    assert_eq!((join.awaited, join.yields, join.inline), (1, 0, 1));
}

#[test]
fn probe_names_a_foreign_await_and_unprobed_ones_have_no_site() {
    let rt = timing();
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let _sender = turnstile::spawn(async move { tx.send(1).unwrap() });
        rx.probe("oneshot").await.unwrap();
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let _sender = turnstile::spawn(async move { tx.send(2).unwrap() });
        rx.await.unwrap();
    });
    let snap = rt.probes();
    let probed = snap
        .sites
        .iter()
        .find(|s| s.label.as_deref() == Some("oneshot"))
        .unwrap_or_else(|| panic!("{snap}"));
    assert_eq!((probed.awaited, probed.yields), (1, 1));
    assert!(probed.name().starts_with("oneshot @ "));
    assert_eq!(snap.unattributed_yields, 1);
}

#[test]
fn histograms_count_every_poll_and_every_wake_to_poll() {
    let rt = timing();
    rt.block_on(async {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                turnstile::spawn(async {
                    for _ in 0..5 {
                        turnstile::yield_now().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        turnstile::time::sleep(ms(2)).await;
    });
    let snap = rt.probes();
    let c = snap.counters;
    // Every poll is timed, the block_on future's included.
    assert_eq!(snap.poll_duration.count, c.polls + c.main_polls);
    // Every poll follows a queueing (a spawn, a wake that was not coalesced, or the
    // start of block_on).
    assert_eq!(snap.scheduling_delay.count, c.polls + c.main_polls);
    assert_eq!(snap.turn_duration.count, c.turns);
    assert_eq!(snap.park_duration.count, c.parks);
    assert!(c.parks >= 1, "the sleep parks the loop");
    for t in &snap.tasks {
        assert_eq!(t.polls, 6);
        assert!(t.busy > Duration::ZERO && t.longest_poll > Duration::ZERO);
        assert!(t.longest_poll <= t.busy);
        // Five self-wakes, and the spawn queued it: no wake from anywhere else.
        assert_eq!(t.wakes_self, 5);
        assert_eq!(t.wakes_by_source, Some(Default::default()));
    }
    let u = snap.utilization().unwrap();
    assert!((0.0..=1.0).contains(&u));
    assert!(snap.parked > Duration::ZERO);
    let json = serde_json::to_value(&snap).unwrap();
    assert!(json["poll_duration"]["p99_ns"].is_u64());
    assert!(json["sites"].is_array());
}

#[test]
fn a_tasks_wakes_are_counted_by_source() {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::Waker;

    let rt = timing();
    let (self_w, local_w, remote_w, io_w, timer_w) = rt.block_on(async {
        // Each wake below reaches the task while it is pending: the waker is handed out
        // (or the datagram sent) only once the task has parked at that await.
        let local: Rc<RefCell<Option<Waker>>> = Rc::default();
        let remote: Arc<Mutex<Option<Waker>>> = Arc::default();
        let recv_pending = Rc::new(std::cell::Cell::new(false));
        let socket = turnstile::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap();
        let to = socket.local_addr().unwrap();

        let (local2, remote2, pending2) = (local.clone(), remote.clone(), recv_pending.clone());
        let target = turnstile::spawn(async move {
            turnstile::yield_now().await; // a self-wake
            turnstile::time::sleep(ms(1)).await; // a timer wake
            park_once(|w| *local2.borrow_mut() = Some(w)).await; // a local wake
            park_once(move |w| *remote2.lock().unwrap() = Some(w)).await; // a remote wake
            pending2.set(true);
            let mut buf = [0; 8];
            socket.recv(&mut buf).await.unwrap(); // an I/O wake
            turnstile::probes::snapshot()
        });
        let poker = turnstile::spawn(async move {
            while local.borrow().is_none() {
                turnstile::yield_now().await;
            }
            local.take().unwrap().wake();
        });
        let thread = std::thread::spawn(move || loop {
            if let Some(w) = remote.lock().unwrap().take() {
                return w.wake();
            }
            std::thread::sleep(Duration::from_millis(1));
        });
        let sender = turnstile::spawn(async move {
            while !recv_pending.get() {
                turnstile::yield_now().await;
            }
            turnstile::yield_now().await; // the receive is pending now
            let out = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            out.send_to(b"ping", to).unwrap();
        });
        poker.await.unwrap();
        sender.await.unwrap();
        let snap = target.await.unwrap();
        thread.join().unwrap();
        let me = snap
            .tasks
            .iter()
            .find(|t| t.wakes_self == 1 && t.wakes == 5);
        let me = me.unwrap_or_else(|| panic!("no task with 5 wakes, 1 of them self\n{snap}"));
        let by = me.wakes_by_source.expect("timed");
        (me.wakes_self, by.local, by.remote, by.io, by.timer)
    });
    assert_eq!((self_w, local_w, remote_w, io_w, timer_w), (1, 1, 1, 1, 1));
}

/// Pending once, handing the waker to `give`; ready when polled again.
fn park_once(give: impl FnOnce(std::task::Waker)) -> impl std::future::Future<Output = ()> {
    let mut give = Some(give);
    poll_fn(move |cx| match give.take() {
        Some(give) => {
            give(cx.waker().clone());
            Poll::Pending
        }
        None => Poll::Ready(()),
    })
}

#[test]
fn a_snapshot_survives_a_json_round_trip() {
    // Snapshots are saved as JSON (the lab does) and read back to compare runs.
    let rt = Runtime::builder()
        .probes(Level::Trace)
        .build()
        .expect("runtime");
    rt.block_on(async {
        turnstile::spawn(chain5()).await.unwrap();
        turnstile::yield_now().await;
    });
    let snap = rt.probes();
    assert!(snap.trace.as_ref().is_some_and(|t| !t.events.is_empty()));
    let json = serde_json::to_string(&snap).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
}

#[test]
fn below_timing_nothing_is_timed() {
    let rt = common::counting();
    rt.block_on(async { turnstile::spawn(chain5()).await.unwrap() });
    let snap = rt.probes();
    assert!(snap.sites.is_empty());
    assert_eq!(snap.poll_duration.count, 0);
    assert!(snap.tasks.iter().all(|t| t.busy == Duration::ZERO));
    assert!(snap.tasks.iter().all(|t| t.wakes_by_source.is_none()));
}

/// A runtime at `Level::Timing` with a 10 ms stall threshold; `blocker` runs in a
/// task named "blocker", with a task spawned behind it that waits for it to return.
/// Returns the snapshot.
fn stall_with(blocker: fn()) -> Snapshot {
    let rt = Runtime::builder()
        .stall_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    rt.block_on(async move {
        let waiter = turnstile::spawn(async {});
        let blocked = turnstile::task::Builder::new()
            .name("blocker")
            .spawn(async move { blocker() });
        // Polled in spawn order: `behind` is ready and waits while the blocker runs.
        let behind = turnstile::spawn(async {});
        waiter.await.unwrap();
        blocked.await.unwrap();
        behind.await.unwrap();
    });
    rt.probes()
}

/// The one stall report of the task named "blocker".
fn blocker_stall(snap: &Snapshot) -> &turnstile::probes::StallReport {
    let mut of_blocker = snap
        .stalls
        .iter()
        .filter(|s| s.task_name.as_deref() == Some("blocker"));
    let stall = of_blocker
        .next()
        .unwrap_or_else(|| panic!("no stall: {snap}"));
    assert!(
        of_blocker.next().is_none(),
        "two stalls for one poll: {snap}"
    );
    stall
}

#[test]
#[cfg_attr(miri, ignore = "reads the thread CPU clock; Miri has none")]
fn a_blocking_sleep_is_one_off_cpu_stall_naming_the_task() {
    let snap = stall_with(|| std::thread::sleep(Duration::from_millis(30)));
    // Exactly one stall of the blocker (its one poll). On a loaded machine the OS may
    // preempt the loop for 10 ms elsewhere too: those are stalls as well, of others.
    let stall = blocker_stall(&snap);
    assert_eq!(stall.task_name.as_deref(), Some("blocker"));
    let blocker = snap
        .tasks
        .iter()
        .find(|t| t.name.as_deref() == Some("blocker"));
    assert_eq!(stall.spawned_at, blocker.unwrap().spawned_at);
    assert!(stall.spawned_at.contains("tests/probes.rs:"), "{stall}");
    assert!(stall.duration >= Duration::from_millis(30));
    assert_eq!(stall.kind, StallKind::OffCpu, "{stall}");
    // The task spawned behind it waited at least as long as the stall.
    assert!(stall.tasks_waiting >= 1, "{stall}");
    assert!(stall.longest_delay >= stall.duration, "{stall}");
    // The histogram holds values to within its 3 % resolution.
    assert!(snap.scheduling_delay.max() >= Duration::from_millis(29));
    assert!(snap.to_string().contains("stalled the loop"));
}

#[test]
#[cfg_attr(miri, ignore = "reads the thread CPU clock; Miri has none")]
fn a_busy_loop_is_an_on_cpu_stall() {
    // A busy machine may keep the loop off the CPU for most of the spin: that stall is
    // preemption, rightly. So the spin measures its own share of the CPU, and the
    // test needs one run (of ten) in which it had most of it.
    static SHARE_PERMILLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for _ in 0..10 {
        let snap = stall_with(|| {
            let (start, cpu) = (
                Instant::now(),
                turnstile::probes::thread_cpu_time().unwrap(),
            );
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(30) {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            let used = turnstile::probes::thread_cpu_time().unwrap() - cpu;
            let share = used.as_micros() * 1000 / start.elapsed().as_micros().max(1);
            SHARE_PERMILLE.store(share as u64, std::sync::atomic::Ordering::Relaxed);
        });
        if SHARE_PERMILLE.load(std::sync::atomic::Ordering::Relaxed) < 600 {
            continue; // preempted for 40 % of it or more
        }
        let stall = blocker_stall(&snap);
        assert_eq!(stall.kind, StallKind::OnCpu, "{stall}");
        return;
    }
    panic!("in ten runs, no 30 ms spin had the CPU for 60 % of its wall time");
}

#[test]
fn a_stall_counts_the_tasks_it_kept_waiting() {
    // Threshold and sleep far apart, so that Miri's slowness cannot add stalls.
    let rt = Runtime::builder().stall_threshold(ms(20)).build().unwrap();
    rt.block_on(async {
        let blocker = turnstile::spawn(async { std::thread::sleep(ms(60)) });
        let behind = turnstile::spawn(async {});
        blocker.await.unwrap();
        behind.await.unwrap();
    });
    let snap = rt.probes();
    let stall = snap.stalls.iter().find(|s| s.task_id == 1).unwrap();
    assert!(stall.duration >= ms(60));
    assert!(stall.tasks_waiting >= 1, "{stall}");
    assert!(stall.longest_delay >= stall.duration, "{stall}");
}

#[test]
fn a_stall_of_the_block_on_future_names_it() {
    // Threshold and sleep far apart, so that Miri's slowness cannot add stalls.
    let rt = Runtime::builder().stall_threshold(ms(20)).build().unwrap();
    rt.block_on(async {
        let other = turnstile::spawn(async {});
        turnstile::yield_now().await; // `other` runs; then block_on blocks
        std::thread::sleep(ms(60));
        other.await.unwrap();
    });
    let snap = rt.probes();
    assert!(snap.stalls_total >= 1);
    let stall = snap.stalls.iter().find(|s| s.task_id == 0).unwrap();
    assert_eq!(stall.task_name.as_deref(), Some("block_on"));
    assert!(stall.duration >= ms(60));
}

#[test]
#[cfg_attr(miri, ignore = "a watchdog thread and wall-clock waits")]
fn the_watchdog_reports_a_long_poll_before_it_returns() {
    let reported = Arc::new(Mutex::new(None));
    let seen = reported.clone();
    let rt = Runtime::builder()
        .watchdog(Duration::from_millis(50))
        .on_watchdog(move |r| {
            seen.lock().unwrap().get_or_insert_with(|| r.clone());
        })
        .build()
        .unwrap();
    let flag = reported.clone();
    let (id, seen_while_running) = rt.block_on(async move {
        let h = turnstile::spawn(async move {
            // Block the loop for 300 ms, then (bounded) until the watchdog has spoken.
            std::thread::sleep(Duration::from_millis(300));
            let deadline = Instant::now() + Duration::from_secs(10);
            while flag.lock().unwrap().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            flag.lock().unwrap().is_some()
        });
        let id = h.id();
        (id, h.await.unwrap())
    });
    assert!(seen_while_running, "no report while the poll was running");
    let report = reported.lock().unwrap().clone().unwrap();
    assert_eq!(report.task_id, id);
    assert!(report.running_for >= Duration::from_millis(50));
    assert!(report.spawned_at.contains("tests/probes.rs"));
    assert_eq!(rt.probes().watchdog_reports, 1);
    if cfg!(target_os = "linux") {
        // Caught inside `thread::sleep`: the kernel says which system call.
        let doing = report
            .loop_thread
            .expect("the kernel's view of the loop thread");
        assert!(
            doing.contains("blocked in system call") && doing.contains("sleep"),
            "{doing}"
        );
    }
    assert!(report.backtrace.is_none(), "backtraces are opt-in");
}

/// Runs `blocker` in a task under a 50 ms watchdog (with backtraces if asked) and
/// returns the first report. The blocker must take well over 50 ms.
fn watchdog_report(backtrace: bool, blocker: fn()) -> turnstile::probes::WatchdogReport {
    let reported = Arc::new(Mutex::new(None));
    let seen = reported.clone();
    let rt = Runtime::builder()
        .watchdog(Duration::from_millis(50))
        .watchdog_backtrace(backtrace)
        .on_watchdog(move |r| {
            seen.lock().unwrap().get_or_insert_with(|| r.clone());
        })
        .build()
        .expect("runtime with a watchdog");
    rt.block_on(async { turnstile::spawn(async move { blocker() }).await.unwrap() });
    drop(rt); // stops the watchdog once any report in progress is made
    let report = reported.lock().unwrap().take();
    report.expect("a watchdog report")
}

#[inline(never)]
fn spin_300ms_for_the_watchdog() {
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[inline(never)]
fn sleep_300ms_for_the_watchdog() {
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "a watchdog thread and /proc")]
fn the_watchdog_says_when_the_loop_thread_is_computing() {
    let report = watchdog_report(false, spin_300ms_for_the_watchdog);
    let doing = report
        .loop_thread
        .expect("the kernel's view of the loop thread");
    // A spinning thread is running, or on a loaded machine waiting for a CPU (which
    // /proc shows as running too): never blocked in a system call.
    assert!(doing.contains("running"), "{doing}");
}

#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[cfg_attr(miri, ignore = "signals and a watchdog thread")]
fn the_watchdog_backtrace_names_the_blocking_function() {
    let report = watchdog_report(true, sleep_300ms_for_the_watchdog);
    let frames = report
        .backtrace
        .clone()
        .expect("a backtrace of the loop thread");
    assert!(
        frames
            .iter()
            .any(|f| f.contains("sleep_300ms_for_the_watchdog")),
        "{frames:#?}"
    );
    // The handler's own frames are not shown: the stack starts in the interrupted code.
    assert!(
        !frames.iter().any(|f| f.contains("on_signal")),
        "{frames:#?}"
    );
    assert!(report.to_string().contains("its stack:"));
}

#[test]
fn a_task_pending_with_no_waker_is_a_lost_waker() {
    let rt = timing();
    let line = line!() + 3;
    rt.block_on(async {
        // `pending` never keeps the waker: nobody can wake this task again.
        let _h = turnstile::spawn(std::future::pending::<()>().probe("forever"));
        // A task that keeps its waker somewhere is not lost.
        let parked: Arc<Mutex<Option<std::task::Waker>>> = Arc::default();
        let keep = parked.clone();
        let _k = turnstile::spawn(poll_fn(move |cx| {
            *keep.lock().unwrap() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        turnstile::yield_now().await;
        turnstile::yield_now().await;
        drop(parked.lock().unwrap().take()); // the only waker of the second task
    });
    let snap = rt.probes();
    // The first is found when its poll returns; the second when the snapshot looks,
    // after its only waker was dropped.
    assert_eq!(snap.lost_wakers_total, 2, "{snap}");
    let lost = &snap.lost_wakers[0];
    assert!(lost
        .spawned_at
        .contains(&format!("tests/probes.rs:{line}:")));
    assert!(lost.last_site.as_deref().unwrap().starts_with("forever @ "));
    assert!(snap.lost_wakers[1]
        .spawned_at
        .contains(&format!("tests/probes.rs:{}:", line + 4)));
    // Reported once each.
    rt.block_on(turnstile::yield_now());
    assert_eq!(rt.probes().lost_wakers_total, 2);
}

fn traced(capacity: usize) -> Snapshot {
    let rt = Runtime::builder()
        .probes(Level::Trace)
        .trace_capacity(capacity)
        .stall_threshold(NEVER) // no stall events: the same events on every run
        .build()
        .unwrap();
    rt.block_on(async {
        let a = turnstile::task::Builder::new().name("a").spawn(async {
            for _ in 0..3 {
                turnstile::yield_now().await;
            }
        });
        let b = turnstile::spawn(turnstile::time::sleep(ms(2)));
        a.await.unwrap();
        b.await.unwrap();
    });
    rt.probes()
}

#[test]
fn the_chrome_trace_parses_and_its_slices_nest() {
    let snap = traced(4096);
    let trace = snap.trace.as_ref().unwrap();
    assert_eq!(trace.dropped, 0);
    let json: serde_json::Value = serde_json::from_str(&trace.to_chrome_json()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let slices: Vec<(f64, f64, &str)> = events
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            let ts = e["ts"].as_f64().unwrap();
            (
                ts,
                ts + e["dur"].as_f64().unwrap(),
                e["cat"].as_str().unwrap(),
            )
        })
        .collect();
    let polls = slices.iter().filter(|s| s.2 == "poll").count() as u64;
    assert_eq!(polls, snap.counters.polls + snap.counters.main_polls);
    assert_eq!(
        slices.iter().filter(|s| s.2 == "park").count() as u64,
        snap.counters.parks
    );
    // Any two slices on the loop thread are disjoint or one contains the other.
    let eps = 1e-3;
    for (i, a) in slices.iter().enumerate() {
        for b in &slices[i + 1..] {
            let disjoint = a.1 <= b.0 + eps || b.1 <= a.0 + eps;
            let a_in_b = b.0 <= a.0 + eps && a.1 <= b.1 + eps;
            let b_in_a = a.0 <= b.0 + eps && b.1 <= a.1 + eps;
            assert!(disjoint || a_in_b || b_in_a, "{a:?} and {b:?} overlap");
        }
    }
    assert!(events.iter().any(|e| e["ph"] == "C"));
    let starts = events.iter().filter(|e| e["ph"] == "s").count();
    let finishes = events.iter().filter(|e| e["ph"] == "f").count();
    assert!(starts > 0 && finishes > 0 && finishes <= starts);
    let text = trace.narrate();
    assert!(text.starts_with("turn 1"), "{text}");
    assert!(text.contains("poll task 1 (a): pending"), "{text}");
    if !cfg!(miri) {
        // Under Miri the loop is so slow that the sleep is over before it could park.
        assert!(text.contains("parked"), "{text}");
    }
}

#[test]
fn overflowing_the_ring_counts_dropped_events() {
    // Yields only (no timer, no park): the same events on every run.
    let yields = |capacity: usize| {
        let rt = Runtime::builder()
            .probes(Level::Trace)
            .trace_capacity(capacity)
            .stall_threshold(NEVER) // no stall events (Miri makes every poll slow)
            .build()
            .unwrap();
        rt.block_on(async {
            let tasks: Vec<_> = (0..3)
                .map(|_| {
                    turnstile::spawn(async {
                        for _ in 0..20 {
                            turnstile::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        rt.probes().trace.unwrap()
    };
    let small = yields(16);
    assert_eq!(small.events.len(), 16);
    assert!(small.dropped > 0);
    let full = yields(1 << 16);
    assert_eq!(full.dropped, 0);
    assert_eq!(small.dropped + 16, full.events.len() as u64);
    // The ring keeps the most recent events: the last turn ends both traces.
    assert_eq!(
        small.events.last().unwrap().kind,
        full.events.last().unwrap().kind
    );
}

#[test]
#[cfg_attr(miri, ignore = "getrusage is not supported by Miri")]
fn a_park_is_a_voluntary_context_switch() {
    let rt = timing();
    rt.block_on(turnstile::time::sleep(ms(5)));
    let snap = rt.probes();
    assert!(snap.context_switches.voluntary >= 1, "{snap}");
    assert!(snap.to_string().contains("context switches"));
}

/// A foreign future (a futures oneshot) leaves no site; under an instrumented frame,
/// the frame's await line is the site the task waits at, counted once.
#[turnstile::instrument]
async fn wait_for_answer(rx: futures::channel::oneshot::Receiver<u32>) -> u32 {
    rx.await.unwrap()
}
const ANSWER_AWAIT: u32 = line!() - 2;

#[test]
fn a_foreign_future_under_an_instrumented_frame_is_that_frame_s_await_site() {
    let rt = Runtime::builder().probes(Level::Timing).build().unwrap();
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        let waiter = turnstile::spawn(wait_for_answer(rx));
        turnstile::yield_now().await; // the waiter runs, and waits on the channel
        let snap = turnstile::probes::snapshot();
        let task = snap.tasks.iter().find(|t| t.id == waiter.id()).unwrap();
        let waiting = task.waiting_at.as_deref().unwrap_or("");
        assert!(
            waiting.starts_with(&format!("wait_for_answer @ {}:{ANSWER_AWAIT}:", file!())),
            "{snap}"
        );
        // The stack is the frame alone: its await line is the leaf.
        let stack = task.stack.as_ref().expect("a stack");
        assert_eq!(stack.frames.len(), 1, "{stack}");
        assert_eq!(stack.leaf, None, "{stack}");
        tx.send(7).unwrap();
        assert_eq!(waiter.await.unwrap(), 7);
    });
    let snap = rt.probes();
    assert_eq!(snap.unattributed_yields, 0, "{snap}");
    let frame = snap
        .sites
        .iter()
        .find(|s| s.label.as_deref() == Some("wait_for_answer"))
        .unwrap_or_else(|| panic!("{snap}"));
    assert!(
        frame
            .location
            .starts_with(&format!("{}:{ANSWER_AWAIT}:", file!())),
        "{snap}"
    );
    // Counted once, by the frame: one await, one yield, one wait.
    assert_eq!(
        (frame.awaited, frame.yields, frame.inline),
        (1, 1, 0),
        "{snap}"
    );
    assert!(frame.total_wait > Duration::ZERO, "{snap}");
}
