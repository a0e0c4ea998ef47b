//! Stall reports under a watchdog: the line that blocked (no opt-in backtrace), the
//! three kinds of stall measured from the loop thread's CPU clock and run-queue delay,
//! and the readiness that arrived while a stall ran.
//!
//! Linux only (the kinds come from `/proc/self/task/TID/schedstat`, the line from a
//! signal handled on the loop thread with glibc's unwinder).
#![cfg(all(target_os = "linux", target_env = "gnu", not(miri)))]

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use turnstile::probes::{Snapshot, StallKind, StallReport};
use turnstile::Runtime;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One test at a time: they measure how the loop thread shares a CPU, and one of them
/// takes a core away.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A runtime whose watchdog captures polls of 10 ms or more, and reports (to no
/// one) those of a second.
fn watched() -> Runtime {
    Runtime::builder()
        .stall_threshold(ms(10))
        .watchdog(Duration::from_secs(1))
        .on_watchdog(|_| {})
        .build()
        .expect("a runtime with a watchdog")
}

/// Runs `stall` as the body of task "staller", after a park long enough for the
/// watchdog to have sampled the loop thread before the poll, and returns its report.
fn stall_of(rt: &Runtime, stall: impl FnOnce() + 'static) -> StallReport {
    rt.block_on(async move {
        turnstile::time::sleep(ms(20)).await;
        turnstile::task::Builder::new()
            .name("staller")
            .spawn(async move { stall() })
            .await
            .unwrap();
    });
    only_stall_of(&rt.probes(), "staller")
}

/// The one stall of the named task (a loaded machine may add stalls of others).
fn only_stall_of(snap: &Snapshot, name: &str) -> StallReport {
    let mut of_it = snap
        .stalls
        .iter()
        .filter(|s| s.task_name.as_deref() == Some(name));
    let stall = of_it
        .next()
        .unwrap_or_else(|| panic!("no stall of {name}: {snap}"))
        .clone();
    assert!(of_it.next().is_none(), "two stalls for one poll: {snap}");
    stall
}

/// The line a call to `pause` is on, recorded as the call is made.
static PAUSED_AT: AtomicU32 = AtomicU32::new(0);

fn pause(line: u32) -> Duration {
    PAUSED_AT.store(line, Ordering::Relaxed);
    ms(2)
}

/// Blocks the loop (no `.await` here) until `told` is set, in 2 ms sleeps, for at most
/// ten seconds.
#[inline(never)]
fn slow(told: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !told.load(Ordering::Acquire) && Instant::now() < deadline {
        std::thread::sleep(pause(line!()));
    }
}

#[test]
fn a_stall_in_a_function_with_no_await_names_its_line() {
    let _alone = alone();
    let told = Arc::new(AtomicBool::new(false));
    let report = Arc::new(Mutex::new(None));
    let (flag, seen) = (told.clone(), report.clone());
    let rt = Runtime::builder()
        .stall_threshold(ms(10))
        .watchdog(ms(50))
        .on_watchdog(move |r| {
            seen.lock().unwrap().get_or_insert_with(|| r.clone());
            flag.store(true, Ordering::Release);
        })
        .build()
        .unwrap();
    // A task spawned from a closure, whose body calls a function with no await: no
    // instrumented frame, no await site of its own names the line.
    let make = |told: Arc<AtomicBool>| async move { slow(&told) };
    let flag = told.clone();
    rt.block_on(async move {
        turnstile::task::Builder::new()
            .name("slow")
            .spawn(make(flag))
            .await
            .unwrap();
    });
    assert!(told.load(Ordering::Acquire), "the watchdog never reported");
    let line = PAUSED_AT.load(Ordering::Relaxed);
    let want = format!("tests/stall_kinds.rs:{line} in slow");
    let watchdog = report.lock().unwrap().clone().unwrap();
    let at = watchdog.blocked_at.as_deref().unwrap_or_default();
    assert!(at.ends_with(&want), "{watchdog}");
    assert!(watchdog.backtrace.is_none(), "the whole stack is opt-in");
    let stall = only_stall_of(&rt.probes(), "slow");
    let at = stall.blocked_at.as_deref().unwrap_or_default();
    assert!(at.ends_with(&want), "{stall}");
    assert!(stall.to_string().contains(&format!("blocked at {at}")));
}

#[test]
fn a_sleep_is_a_blocked_stall_in_its_system_call() {
    let _alone = alone();
    let rt = watched();
    let stall = stall_of(&rt, || std::thread::sleep(ms(60)));
    assert_eq!(stall.kind, StallKind::OffCpu, "{stall}");
    let times = stall.times.expect("measured times");
    assert!(
        times.blocked > times.on_cpu && times.blocked > times.runnable,
        "{stall}"
    );
    let doing = stall.loop_thread.as_deref().unwrap_or_default();
    assert!(doing.contains("clock_nanosleep"), "{stall}");
}

#[test]
fn a_read_on_a_pipe_is_a_blocked_stall_in_read() {
    let _alone = alone();
    use std::io::{Read, Write};
    let rt = watched();
    let (mut reader, mut writer) = std::io::pipe().unwrap();
    let stall = stall_of(&rt, move || {
        let writes = std::thread::spawn(move || {
            std::thread::sleep(ms(60));
            writer.write_all(b"x").unwrap();
        });
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte).unwrap(); // blocks the loop until the write
        writes.join().unwrap();
    });
    assert_eq!(stall.kind, StallKind::OffCpu, "{stall}");
    let doing = stall.loop_thread.as_deref().unwrap_or_default();
    assert!(doing.contains("system call read"), "{stall}");
    assert!(
        stall.to_string().contains("off-CPU: blocked in read"),
        "{stall}"
    );
}

/// CPU time of the calling thread.
fn cpu_now() -> Duration {
    turnstile::probes::thread_cpu_time().expect("a thread CPU clock")
}

/// Spins until this thread has computed for `cpu`; returns the wall time it took.
#[inline(never)]
fn compute_for(cpu: Duration) -> Duration {
    let (start, wall) = (cpu_now(), Instant::now());
    let mut x = 0u64;
    while cpu_now() - start < cpu {
        for _ in 0..1000 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
    wall.elapsed()
}

#[test]
fn a_spin_loop_is_an_on_cpu_stall() {
    let _alone = alone();
    // On a loaded machine the OS may keep the spin off the CPU for longer than it
    // runs: that stall is preemption, rightly. So the spin measures its own share of
    // the CPU, and the test needs one run in which it had most of it.
    for _ in 0..10 {
        let rt = watched();
        let wall = Arc::new(Mutex::new(Duration::ZERO));
        let took = wall.clone();
        let stall = stall_of(&rt, move || *took.lock().unwrap() = compute_for(ms(40)));
        let wall = *wall.lock().unwrap();
        if wall > ms(66) {
            continue; // preempted for 40 % of it or more: not a clean computation
        }
        assert_eq!(stall.kind, StallKind::OnCpu, "{stall}");
        let times = stall.times.expect("measured times");
        assert!(times.on_cpu >= ms(40), "{stall}");
        assert!(stall.to_string().contains("on-CPU: computing"), "{stall}");
        return;
    }
    panic!("in ten runs, no 40 ms spin had the CPU for 60 % of its wall time");
}

#[test]
fn a_thread_preempted_on_its_core_is_a_preempted_stall() {
    let _alone = alone();
    // The loop runs on a thread of its own, so that what is done to it (its core, its
    // priority) ends with it.
    let stall = std::thread::spawn(|| {
        let rt = watched(); // the watchdog thread keeps this thread's core and priority
        stall_of(&rt, || {
            // Pin the loop thread and a busy thread to one core, and give the loop the
            // lowest priority: the busy thread then has nearly all of that core. The
            // busy thread is started first, so that it keeps the normal priority.
            // SAFETY: `sched_getcpu` only reports the calling thread's CPU.
            let cpu = unsafe { libc::sched_getcpu() }.max(0) as usize;
            let stop = Arc::new(AtomicBool::new(false));
            let running = Arc::new(AtomicBool::new(false));
            let busy = {
                let (stop, running) = (stop.clone(), running.clone());
                std::thread::spawn(move || {
                    pin_to(cpu);
                    running.store(true, Ordering::Release);
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            };
            while !running.load(Ordering::Acquire) {
                std::hint::spin_loop(); // until the busy thread is on that core
            }
            pin_to(cpu);
            // SAFETY: `setpriority` on this thread's own id; raising one's niceness
            // needs no privilege.
            let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as u32, 19) };
            assert_eq!(rc, 0, "setpriority: {}", std::io::Error::last_os_error());
            compute_for(ms(3)); // 3 ms of work, behind the busy thread
            stop.store(true, Ordering::Relaxed);
            busy.join().unwrap();
        })
    })
    .join()
    .unwrap();
    assert_eq!(stall.kind, StallKind::Preempted, "{stall}");
    let times = stall.times.expect("measured times");
    assert!(times.runnable > times.on_cpu, "{stall}");
    assert!(times.on_cpu >= ms(3), "{stall}");
    assert!(stall.to_string().contains("preempted"), "{stall}");
}

/// Pins the calling thread to `cpu`.
fn pin_to(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is the empty set; CPU_SET writes inside it, and
    // `sched_setaffinity(0, ..)` applies to the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        let rc = libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set);
        assert_eq!(
            rc,
            0,
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[test]
fn a_task_whose_socket_became_readable_during_a_stall_waited_for_it() {
    let _alone = alone();
    use std::io::Write;
    let rt = watched();
    let stall = rt.block_on(async {
        let listener = turnstile::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let reader = turnstile::task::Builder::new()
            .name("reader")
            .spawn(async move {
                use futures::AsyncReadExt;
                let mut server = server;
                let mut byte = [0u8; 1];
                server.read_exact(&mut byte).await.unwrap(); // waits: nothing is sent yet
            });
        turnstile::yield_now().await; // the reader waits for its socket
        turnstile::task::Builder::new()
            .name("staller")
            .spawn(async move {
                // The socket becomes readable while the loop is blocked.
                client.write_all(b"x").unwrap();
                std::thread::sleep(ms(60));
                client
            })
            .await
            .unwrap();
        reader.await.unwrap();
        only_stall_of(&turnstile::probes::snapshot(), "staller")
    });
    // Nothing was queued behind it; the reader's readiness arrived meanwhile.
    let readiness = stall
        .readiness_after
        .expect("the next reactor poll counted");
    assert_eq!((readiness.tasks, readiness.sources), (1, 1), "{stall}");
    assert!(stall.to_string().contains("a lower bound"), "{stall}");
}
