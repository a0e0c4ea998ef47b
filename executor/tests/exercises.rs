//! The book's "predict, then run" exercises, each the changed program itself, with the
//! counts the book says to expect asserted exactly.

use std::process::Command;
use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

/// The `countdown` example's binary, built if `cargo test` did not build it.
fn countdown() -> Command {
    let debug = std::env::current_exe()
        .expect("the test's path")
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf();
    let exe = debug.join("examples").join("countdown");
    if !exe.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "turnstile", "--example", "countdown"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the countdown example");
    }
    Command::new(exe)
}

/// start-here.md: the countdown from 5 is 7 turns, 6 polls, 5 of them `Pending`, no park.
#[test]
fn start_here_countdown_from_five() {
    let out = countdown().arg("5").output().expect("the example runs");
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.matches(", Pending").count(), 5, "{stdout}");
    assert_eq!(stdout.matches("[loop] turn").count(), 7, "{stdout}");
    assert!(
        stdout.ends_with("liftoff: 7 turns, 6 polls of the task (5 Pending), 0 parks\n"),
        "{stdout}"
    );
}

#[test]
fn start_here_countdown_refuses_a_bad_count() {
    let out = countdown().arg("three").output().expect("the example runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("is not a count"), "{stderr}");
}

async fn level(depth: u32, leaf: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    if depth == 0 {
        leaf().await;
    } else {
        Box::pin(level(depth - 1, leaf)).await;
    }
}

fn counts_of_a_chain(
    leaf: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> turnstile::probes::CounterValues {
    let rt = Runtime::builder().probes(Level::Counters).build().unwrap();
    rt.block_on(async move { turnstile::spawn(level(5, leaf)).await.unwrap() });
    rt.probes().counters
}

/// chain.md: a 5-deep chain over a sleep: 3 turns, the task polled twice, one yield,
/// one park (the sleep).
#[test]
fn chain_over_a_sleep() {
    let c = counts_of_a_chain(|| Box::pin(turnstile::time::sleep(Duration::from_millis(1))));
    assert_eq!((c.turns, c.polls, c.polls_pending, c.parks), (3, 2, 1, 1));
}

/// chain.md, the exercise: swap the sleep for `yield_now`: still 3 turns, 2 polls,
/// 1 yield, but no park: the task woke itself, so the loop never had to wait.
#[test]
fn chain_over_yield_now() {
    let c = counts_of_a_chain(|| Box::pin(turnstile::yield_now()));
    assert_eq!((c.turns, c.polls, c.polls_pending, c.parks), (3, 2, 1, 0));
    assert_eq!(c.wakes_self, 1);
}

/// stall.md, the exercise: a `thread::sleep` in a task is one stall, whose report names
/// the task and the line of this file that blocked.
#[test]
fn stall_a_thread_sleep_is_reported() {
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .stall_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    rt.block_on(async {
        turnstile::task::Builder::new()
            .name("sleepy")
            .spawn(async {
                turnstile::yield_now().await;
                std::thread::sleep(Duration::from_millis(30));
            })
            .await
            .unwrap();
    });
    // On a loaded machine another poll may pass the threshold too; the sleep's is the
    // one stall of 30 ms or more.
    let snap = rt.probes();
    let long: Vec<_> = snap
        .stalls
        .iter()
        .filter(|s| s.duration >= Duration::from_millis(30))
        .collect();
    assert_eq!(long.len(), 1, "{:?}", snap.stalls);
    assert_eq!(long[0].task_name.as_deref(), Some("sleepy"));
    assert!(
        long[0].spawned_at.contains("exercises.rs"),
        "{}",
        long[0].spawned_at
    );
}

/// yield-cost.md: ten `yield_now`s in one task: 12 turns, 11 polls, 10 yields, no park.
#[test]
fn yield_cost_ten_yields() {
    let rt = Runtime::builder().probes(Level::Counters).build().unwrap();
    rt.block_on(async {
        turnstile::spawn(async {
            for _ in 0..10 {
                turnstile::yield_now().await;
            }
        })
        .await
        .unwrap();
    });
    let c = rt.probes().counters;
    assert_eq!(
        (c.turns, c.polls, c.polls_pending, c.parks),
        (12, 11, 10, 0)
    );
    assert_eq!(c.wakes_self, 10);
}

/// A runtime that counts, for the exercises below.
fn counting() -> Runtime {
    Runtime::builder().probes(Level::Counters).build().unwrap()
}

/// gather.md: 1,000 tasks that each `yield_now` once, spawned at once and awaited in
/// order: every task is polled twice (one `Pending`, one `Ready`), and the loop never
/// parks, since no task waits for a timer or a socket.
#[test]
fn gather_a_thousand_yields() {
    let rt = counting();
    rt.block_on(async {
        let tasks: Vec<_> = (0..1_000)
            .map(|_| turnstile::spawn(turnstile::yield_now()))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let c = rt.probes().counters;
    assert_eq!(
        (c.spawns, c.completions, c.polls, c.polls_pending, c.parks),
        (1_000, 1_000, 2_000, 1_000, 0)
    );
    assert_eq!(c.wakes_self, 1_000);
}

/// gather.md, the exercise: the same 1,000 tasks sleeping 20 ms instead: still two
/// polls each, but now the timers fire (1,000 of them) and the loop parks to wait.
#[test]
fn gather_a_thousand_sleeps() {
    let rt = counting();
    rt.block_on(async {
        let tasks: Vec<_> = (0..1_000)
            .map(|_| turnstile::spawn(turnstile::time::sleep(Duration::from_millis(20))))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let c = rt.probes().counters;
    assert_eq!(
        (c.spawns, c.completions, c.polls, c.polls_pending),
        (1_000, 1_000, 2_000, 1_000)
    );
    assert_eq!(
        (c.timers_created, c.timers_fired, c.wakes_self),
        (1_000, 1_000, 0)
    );
    assert!(c.parks >= 1, "the loop waited for the timers: {c:?}");
}

/// memory.md, the exercise: a task that holds a 4 KiB buffer across an `.await`
/// keeps it inside its future; the same buffer in a `Box` leaves the future small.
/// Either way the 100 idle tasks are polled once each and stay `Pending`.
#[test]
fn memory_a_buffer_across_an_await() {
    async fn inline() {
        let buf = [1u8; 4096];
        futures::future::pending::<()>().await;
        std::hint::black_box(&buf);
    }
    async fn boxed() {
        let buf = Box::new([1u8; 4096]);
        futures::future::pending::<()>().await;
        std::hint::black_box(&buf);
    }
    assert!(std::mem::size_of_val(&inline()) >= 4096);
    assert!(std::mem::size_of_val(&boxed()) < 64);
    let rt = counting();
    rt.block_on(async {
        let idle: Vec<_> = (0..100).map(|_| turnstile::spawn(inline())).collect();
        // A turn polls a bounded batch of tasks; by the time a sleep ends, all are.
        turnstile::time::sleep(Duration::from_millis(1)).await;
        for t in &idle {
            t.abort();
        }
    });
    let c = rt.probes().counters;
    assert_eq!(
        (c.spawns, c.polls, c.polls_pending, c.completions),
        (100, 100, 100, 0)
    );
}

/// A task that computes for `ms` on the loop (`inline`) or on the blocking pool, beside
/// nothing else; returns the stall reports of 30 ms or more and the offloaded count.
fn burst(inline: bool) -> (usize, u64) {
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .stall_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    let spin = || {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            std::hint::spin_loop();
        }
    };
    rt.block_on(async move {
        turnstile::spawn(async move {
            if inline {
                spin();
            } else {
                turnstile::spawn_blocking(spin).await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    let snap = rt.probes();
    let long = snap
        .stalls
        .iter()
        .filter(|s| s.duration >= Duration::from_millis(30))
        .count();
    (long, snap.counters.offloaded)
}

/// cpu-share.md: 30 ms of computing inside a task is one stall of the loop; the
/// exercise moves it to `spawn_blocking`: no stall of that length, one offloaded call.
#[test]
fn cpu_share_inline_then_offloaded() {
    assert_eq!(burst(true), (1, 0));
    assert_eq!(burst(false), (0, 1));
}

/// limit.md: 100 fetches (a 1 ms sleep each) behind a semaphore of 10 permits: 100
/// spawns, and never more than 10 in flight; the exercise, `buffer_unordered(10)`
/// over the same fetches, spawns nothing and also keeps 10 in flight at most.
#[test]
fn limit_ten_in_flight_two_ways() {
    use std::cell::Cell;
    use std::rc::Rc;
    let in_flight = Rc::new(Cell::new(0u32));
    let most = Rc::new(Cell::new(0u32));
    let fetch = {
        let (in_flight, most) = (in_flight.clone(), most.clone());
        move || {
            let (in_flight, most) = (in_flight.clone(), most.clone());
            async move {
                in_flight.set(in_flight.get() + 1);
                most.set(most.get().max(in_flight.get()));
                turnstile::time::sleep(Duration::from_millis(1)).await;
                in_flight.set(in_flight.get() - 1);
            }
        }
    };
    let rt = counting();
    let f = fetch.clone();
    rt.block_on(async move {
        let permits = Rc::new(tokio::sync::Semaphore::new(10));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (permits, f) = (permits.clone(), f.clone());
                turnstile::spawn(async move {
                    let _permit = permits.acquire().await.unwrap();
                    f().await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!((rt.probes().counters.spawns, most.get()), (100, 10));

    most.set(0);
    let rt = counting();
    rt.block_on(async move {
        use futures::StreamExt;
        futures::stream::iter((0..100).map(|_| fetch()))
            .buffer_unordered(10)
            .collect::<Vec<()>>()
            .await;
    });
    assert_eq!((rt.probes().counters.spawns, most.get()), (0, 10));
}

/// An echo server on loopback and `clients` clients of `trips` round trips each;
/// returns the server's spawns and completions (one accept loop, one task per
/// connection).
fn echo(clients: usize, trips: usize) -> (u64, u64) {
    use futures::{AsyncReadExt, AsyncWriteExt};
    use turnstile::net::{TcpListener, TcpStream};
    let rt = counting();
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = turnstile::spawn(async move {
            let mut handlers = Vec::new();
            for _ in 0..clients {
                let (mut stream, _) = listener.accept().await.unwrap();
                handlers.push(turnstile::spawn(async move {
                    let mut buf = [0u8; 64];
                    loop {
                        let n = stream.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                }));
            }
            for h in handlers {
                h.await.unwrap();
            }
        });
        for _ in 0..clients {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            for _ in 0..trips {
                stream.write_all(b"ping").await.unwrap();
                let mut back = [0u8; 4];
                stream.read_exact(&mut back).await.unwrap();
                assert_eq!(&back, b"ping");
            }
        }
        server.await.unwrap();
    });
    let c = rt.probes().counters;
    (c.spawns, c.completions)
}

/// echo.md: one client of 10 round trips is two tasks on the server (the accept loop
/// and its connection); the exercise, 10 clients, is 11.
#[test]
fn echo_one_client_then_ten() {
    assert_eq!(echo(1, 10), (2, 2));
    assert_eq!(echo(10, 10), (11, 11));
}

/// A tiny HTTP/1.1 server (a fixed answer per request, a task per connection) and
/// `requests` requests, on one kept-alive connection or each on its own; returns the
/// connections the server accepted and the answers the client read.
fn http(requests: usize, keep_alive: bool) -> (u64, usize) {
    use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};
    use turnstile::net::{TcpListener, TcpStream};
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
    let rt = counting();
    let accepted = std::rc::Rc::new(std::cell::Cell::new(0u64));
    let seen = accepted.clone();
    let answers = rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = turnstile::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                seen.set(seen.get() + 1);
                let _conn = turnstile::spawn(async move {
                    let (read, mut write) = stream.split();
                    let mut lines = futures::io::BufReader::new(read).lines();
                    while let Some(Ok(line)) = lines.next().await {
                        if line.is_empty() {
                            write.write_all(ANSWER).await.unwrap();
                        }
                    }
                });
            }
        });
        let mut answers = 0;
        let mut conn: Option<TcpStream> = None;
        for _ in 0..requests {
            if conn.is_none() || !keep_alive {
                conn = Some(TcpStream::connect(addr).await.unwrap());
            }
            let stream = conn.as_mut().unwrap();
            stream
                .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
                .await
                .unwrap();
            let mut buf = vec![0u8; ANSWER.len()];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, ANSWER);
            answers += 1;
        }
        answers
    });
    (accepted.get(), answers)
}

/// http.md: 5 requests on one kept-alive connection are one accept; the exercise,
/// a connection per request, is 5 accepts for the same 5 answers.
#[test]
fn http_keep_alive_then_a_connection_each() {
    assert_eq!(http(5, true), (1, 5));
    assert_eq!(http(5, false), (5, 5));
}

/// neighbours.md: a heavy task that does 1,000 steps of work without an await, and a
/// light task that wants to run 5 times; returns the heavy steps done before the light
/// task's last run, and the heavy task's yields.
fn neighbours(yield_every: Option<u32>) -> (u32, u64) {
    use std::cell::Cell;
    use std::rc::Rc;
    let steps = Rc::new(Cell::new(0u32));
    let seen_at = Rc::new(Cell::new(0u32));
    let rt = counting();
    let (s, at) = (steps.clone(), seen_at.clone());
    rt.block_on(async move {
        let heavy = turnstile::spawn(async move {
            for i in 1..=1_000 {
                s.set(i);
                if yield_every.is_some_and(|k| i % k == 0) {
                    turnstile::yield_now().await;
                }
            }
        });
        let light_steps = steps.clone();
        let light = turnstile::spawn(async move {
            for _ in 0..5 {
                turnstile::yield_now().await;
            }
            at.set(light_steps.get());
        });
        heavy.await.unwrap();
        light.await.unwrap();
    });
    let yields = rt
        .probes()
        .tasks
        .iter()
        .min_by_key(|t| t.id)
        .map_or(0, |t| t.yields); // the heavy task, spawned first
    (seen_at.get(), yields)
}

/// neighbours.md: without an await the heavy task runs all 1,000 steps before the light
/// one gets its turns; the exercise, `yield_now` every 100 steps, lets the light task
/// run between the heavy task's chunks: it finishes after 600 steps (its fifth yield
/// comes back after the heavy task's sixth chunk), and the heavy task yields 10 times.
#[test]
fn neighbours_a_heavy_task_that_yields() {
    assert_eq!(neighbours(None), (1_000, 0));
    assert_eq!(neighbours(Some(100)), (600, 10));
}

/// beyond-one-loop.md: two loops, one per thread, each its own runtime. Loop A runs 20
/// tasks (each yields once) of its own; with `remote`, it hands 10 of them to loop B
/// through B's `Handle` instead. Returns (A's spawns, B's spawns, B's remote spawns);
/// B's spawns include the `spawn_blocking` call that waits for A's thread.
fn two_loops(remote: bool) -> (u64, u64, u64) {
    let rt_b = counting();
    let handle_b = rt_b.handle();
    let a = std::thread::spawn(move || {
        let rt_a = counting();
        let on_b = rt_a.block_on(async move {
            let mut local = Vec::new();
            let mut on_b = Vec::new();
            for i in 0..20 {
                if remote && i % 2 == 0 {
                    on_b.push(handle_b.spawn(turnstile::yield_now()));
                } else {
                    local.push(turnstile::spawn(turnstile::yield_now()));
                }
            }
            for t in local {
                t.await.unwrap();
            }
            on_b
        });
        (rt_a.probes().counters.spawns, on_b)
    });
    let spawns_a = rt_b.block_on(async move {
        let (spawns_a, on_b) = turnstile::spawn_blocking(move || a.join().unwrap())
            .await
            .unwrap();
        for t in on_b {
            t.await.unwrap();
        }
        spawns_a
    });
    let c = rt_b.probes().counters;
    (spawns_a, c.spawns, c.spawns_remote)
}

/// beyond-one-loop.md, the exercise: each loop counts only its own tasks. All on A:
/// A spawns 20, B only its `spawn_blocking`. Half handed to B: A spawns 10, B 11, of
/// them 10 remote.
#[test]
fn beyond_one_loop_each_loop_counts_its_own() {
    assert_eq!(two_loops(false), (20, 1, 0));
    assert_eq!(two_loops(true), (10, 11, 10));
}
