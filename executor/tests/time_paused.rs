//! The paused clock (`time::pause`, `advance`, `resume`, `Builder::start_paused`):
//! every figure here is exact. Instants are compared with `==` against the start plus
//! whole periods, tick counts are counted, and no test waits for real time to pass
//! (except the two that resume the clock, or run a blocking job, on purpose).

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use turnstile::probes::Level;
use turnstile::time::{
    self, advance, interval, interval_at, sleep, sleep_until, timeout, timeout_at, Instant,
    Interval, MissedTickBehavior,
};
use turnstile::Runtime;

const HOUR: Duration = Duration::from_secs(3600);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn paused() -> Runtime {
    Runtime::builder()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// Polls the interval once: the tick it returns, as an offset from `start`, or `None`
/// if it is pending.
async fn poll_tick(i: &mut Interval, start: Instant) -> Option<Duration> {
    poll_fn(|cx| {
        Poll::Ready(match i.poll_tick(cx) {
            Poll::Ready(at) => Some(at - start),
            Poll::Pending => None,
        })
    })
    .await
}

#[test]
fn an_hourly_interval_ticks_five_times_at_exact_hours() {
    paused().block_on(async {
        let start = Instant::now();
        let mut every = interval(HOUR);
        for k in 0..5u32 {
            assert_eq!(every.tick().await, start + HOUR * k);
            assert_eq!(Instant::now(), start + HOUR * k);
        }
    });
}

#[test]
fn a_timeout_of_ten_seconds_over_a_twenty_second_sleep_elapses_at_ten() {
    paused().block_on(async {
        let start = Instant::now();
        let out = timeout(Duration::from_secs(10), sleep(Duration::from_secs(20))).await;
        assert!(out.is_err());
        assert_eq!(Instant::now(), start + Duration::from_secs(10));
        // And the other way round: the future wins, at its own instant.
        let start = Instant::now();
        let deadline = start + Duration::from_secs(20);
        let out = timeout_at(deadline, async {
            sleep(Duration::from_secs(10)).await;
            7
        })
        .await;
        assert_eq!(out, Ok(7));
        assert_eq!(Instant::now(), start + Duration::from_secs(10));
    });
}

#[test]
fn advance_fires_the_due_timers_in_deadline_order() {
    paused().block_on(async {
        let start = Instant::now();
        let fired = Rc::new(RefCell::new(Vec::new()));
        // Spawned out of order; the 10 s one is not due after the advance.
        let mut tasks = Vec::new();
        for secs in [3u64, 1, 10, 2] {
            let fired = fired.clone();
            tasks.push(turnstile::spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                fired.borrow_mut().push((secs, Instant::now() - start));
            }));
        }
        turnstile::yield_now().await; // each task registers its timer
        advance(Duration::from_secs(5)).await;
        let five = Duration::from_secs(5);
        assert_eq!(*fired.borrow(), [(1, five), (2, five), (3, five)]);
        assert_eq!(Instant::now(), start + five);
        // The last one waits for the clock: auto-advance, to exactly its deadline.
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(fired.borrow()[3], (10, Duration::from_secs(10)));
        assert_eq!(Instant::now(), start + Duration::from_secs(10));
    });
}

#[test]
fn sleeps_of_zero_and_to_the_past_complete_without_moving_the_clock() {
    let rt = Runtime::builder()
        .start_paused(true)
        .probes(Level::Counters)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::ZERO).await;
        sleep_until(start).await;
        sleep_until(start.checked_sub(Duration::from_secs(60)).unwrap()).await;
        assert_eq!(Instant::now(), start);
        // An instant the clock was advanced past is in the past too.
        let soon = start + Duration::from_secs(1);
        advance(Duration::from_secs(2)).await;
        let polls = turnstile::probes::snapshot().counters.main_polls;
        sleep_until(soon).await;
        assert_eq!(turnstile::probes::snapshot().counters.main_polls, polls);
        assert_eq!(Instant::now(), start + Duration::from_secs(2));
    });
    assert_eq!(rt.probes().counters.timers_created, 0);
}

#[test]
fn auto_advance_wakes_each_of_two_sleepers_at_its_own_deadline() {
    paused().block_on(async {
        let start = Instant::now();
        let short = turnstile::spawn(async {
            sleep(Duration::from_secs(3)).await;
            Instant::now()
        });
        let long = turnstile::spawn(async {
            sleep(Duration::from_secs(7)).await;
            Instant::now()
        });
        assert_eq!(long.await.unwrap(), start + Duration::from_secs(7));
        assert_eq!(short.await.unwrap(), start + Duration::from_secs(3));
        assert_eq!(Instant::now(), start + Duration::from_secs(7));
    });
}

#[test]
fn missed_ticks_burst() {
    paused().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(100));
        assert_eq!(i.missed_tick_behavior(), MissedTickBehavior::Burst);
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(0)));
        advance(ms(60)).await;
        assert_eq!(poll_tick(&mut i, start).await, None);
        advance(ms(40)).await; // 100: on time
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(100)));
        advance(ms(250)).await; // 350: 200 and 300 were missed, and come at once
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(200)));
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(300)));
        assert_eq!(poll_tick(&mut i, start).await, None);
        advance(ms(50)).await; // 400: back on the original schedule
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(400)));
        advance(ms(100)).await;
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(500)));
    });
}

#[test]
fn missed_ticks_delay() {
    paused().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(100));
        i.set_missed_tick_behavior(MissedTickBehavior::Delay);
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(0)));
        advance(ms(100)).await;
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(100)));
        advance(ms(250)).await; // 350: 200 is late; the next is a period after now
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(200)));
        assert_eq!(poll_tick(&mut i, start).await, None);
        advance(ms(50)).await; // 400
        assert_eq!(poll_tick(&mut i, start).await, None);
        advance(ms(50)).await; // 450
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(450)));
        advance(ms(100)).await;
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(550)));
    });
}

#[test]
fn missed_ticks_skip() {
    paused().block_on(async {
        let start = Instant::now();
        let mut i = interval(ms(100));
        i.set_missed_tick_behavior(MissedTickBehavior::Skip);
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(0)));
        advance(ms(100)).await;
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(100)));
        advance(ms(330)).await; // 430: 200 is late; 300 and 400 are dropped
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(200)));
        assert_eq!(poll_tick(&mut i, start).await, None);
        advance(ms(69)).await; // 499
        assert_eq!(poll_tick(&mut i, start).await, None);
        advance(ms(1)).await; // 500: in phase with the original schedule
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(500)));
        advance(ms(100)).await;
        assert_eq!(poll_tick(&mut i, start).await, Some(ms(600)));
    });
}

#[test]
fn interval_at_a_later_start_and_reset_after() {
    paused().block_on(async {
        let start = Instant::now();
        let mut i = interval_at(start + Duration::from_secs(5), Duration::from_secs(10));
        assert_eq!(i.tick().await, start + Duration::from_secs(5));
        advance(Duration::from_secs(3)).await; // 8
        i.reset_after(Duration::from_secs(4));
        assert_eq!(i.tick().await, start + Duration::from_secs(12));
        assert_eq!(i.tick().await, start + Duration::from_secs(22));
        i.reset(); // a period from now: 32
        assert_eq!(i.tick().await, start + Duration::from_secs(32));
        i.reset_immediately();
        assert_eq!(i.tick().await, start + Duration::from_secs(32));
        assert_eq!(Instant::now(), start + Duration::from_secs(32));
    });
}

#[test]
fn long_durations_saturate_instead_of_panicking() {
    paused().block_on(async {
        let start = Instant::now();
        let out = timeout(Duration::from_secs(1), sleep(Duration::MAX)).await;
        assert!(out.is_err());
        assert_eq!(Instant::now(), start + Duration::from_secs(1));
        let mut never = interval(Duration::MAX);
        assert_eq!(never.tick().await, start + Duration::from_secs(1));
        // The second tick is due "never": about thirty years on, and the clock gets there.
        let far = never.tick().await;
        assert!(far > start + Duration::from_secs(29 * 365 * 86_400));
        advance(Duration::MAX).await;
        assert!(Instant::now() > far);
    });
}

#[test]
fn resume_returns_to_real_time_from_where_the_clock_stood() {
    paused().block_on(async {
        let start = Instant::now();
        advance(HOUR).await;
        time::resume();
        let resumed = Instant::now();
        assert!(resumed >= start + HOUR);
        // Real time again: a real sleep takes real time, and the clock moves with it.
        let before = std::time::Instant::now();
        sleep(ms(5)).await;
        assert!(before.elapsed() >= ms(5));
        assert!(Instant::now() >= resumed + ms(5));
        // And it can be paused again, where it stands.
        time::pause();
        let stopped = Instant::now();
        std::thread::sleep(ms(2));
        assert_eq!(Instant::now(), stopped);
        sleep(HOUR).await;
        assert_eq!(Instant::now(), stopped + HOUR);
    });
}

#[test]
fn pause_in_a_running_runtime_and_real_time_outside() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        time::pause();
        let start = Instant::now();
        sleep(HOUR).await;
        assert_eq!(Instant::now(), start + HOUR);
    });
    // Outside any runtime, `Instant::now` is std's.
    let a = Instant::now();
    std::thread::sleep(ms(1));
    assert!(Instant::now() > a);
}

#[test]
fn no_auto_advance_while_a_blocking_job_runs() {
    paused().block_on(async {
        let start = Instant::now();
        let sleeper = turnstile::spawn(async {
            sleep(Duration::from_secs(10)).await;
            Instant::now()
        });
        let job = turnstile::spawn_blocking(|| std::thread::sleep(ms(20)));
        job.await.unwrap();
        // The loop waited for the job, really; the clock stood still meanwhile.
        assert_eq!(Instant::now(), start);
        assert_eq!(sleeper.await.unwrap(), start + Duration::from_secs(10));
    });
}

#[test]
fn the_probes_count_each_park_and_its_virtual_length() {
    let parks = Rc::new(RefCell::new(Vec::new()));
    let seen = parks.clone();
    let rt = Runtime::builder()
        .start_paused(true)
        .probes(Level::Timing)
        .on_turn(move |turn| {
            if turn.parked {
                seen.borrow_mut().push(turn.parked_for);
            }
        })
        .build()
        .unwrap();
    rt.block_on(async {
        sleep(HOUR).await;
        sleep(Duration::from_secs(90)).await;
    });
    let snap = rt.probes();
    assert_eq!(snap.counters.parks, 2);
    assert_eq!(snap.counters.timers_fired, 2);
    assert_eq!(*parks.borrow(), [HOUR, Duration::from_secs(90)]);
    // The totals are on the runtime's clock: virtual.
    assert_eq!(snap.parked, HOUR + Duration::from_secs(90));
    assert_eq!(snap.running, HOUR + Duration::from_secs(90));
    // The histograms are real (TSC) time: the two parks are there, each far shorter.
    assert_eq!(snap.park_duration.count, 2);
}

#[turnstile::test(start_paused = true)]
async fn the_test_attribute_starts_paused() {
    let start = Instant::now();
    sleep(Duration::from_secs(86_400)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(86_400));
}

#[test]
#[should_panic(expected = "already paused")]
fn pausing_twice_panics() {
    paused().block_on(async { time::pause() });
}

#[test]
#[should_panic(expected = "not paused")]
fn advancing_a_running_clock_panics() {
    Runtime::new()
        .unwrap()
        .block_on(advance(Duration::from_secs(1)));
}

#[test]
#[should_panic(expected = "not paused")]
fn resuming_a_running_clock_panics() {
    Runtime::new().unwrap().block_on(async { time::resume() });
}

#[test]
#[should_panic(expected = "outside a turnstile runtime")]
fn pausing_outside_a_runtime_panics() {
    time::pause();
}
