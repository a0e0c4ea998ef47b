//! The tokio-shaped time API: `timeout_at`, `interval_at`, missed-tick behaviours and
//! `Interval::reset*`, with exact tick counts. Lateness is made by blocking the loop
//! thread (`std::thread::sleep`) for a known span; the counts depend only on which
//! ticks are already due when the loop comes back, not on how fast it runs after.

mod common;

use std::time::Duration;

use futures::FutureExt;
use turnstile::time::{
    interval, interval_at, sleep, timeout_at, Instant, Interval, MissedTickBehavior,
};

use common::{counting, ms};

const PERIOD: Duration = Duration::from_millis(100);
/// Blocks the loop through the ticks due at 100, 200 and 300 ms; the one at 400 ms is
/// 80 ms away when the loop comes back.
const BLOCK: Duration = Duration::from_millis(320);

/// Ticks the interval once, blocks for `BLOCK`, then counts the ticks that are ready
/// at once (without a yield), and returns that count, the due times, and the next
/// tick's due time and when it completed.
async fn late_ticks(behavior: MissedTickBehavior) -> (usize, Vec<Duration>, Duration, Instant) {
    let mut i: Interval = interval(PERIOD);
    i.set_missed_tick_behavior(behavior);
    let start = i.tick().await;
    std::thread::sleep(BLOCK);
    let back = Instant::now();
    let mut ready = Vec::new();
    while let Some(due) = i.tick().now_or_never() {
        ready.push(due - start);
        assert!(ready.len() < 10, "{behavior:?} never caught up");
    }
    let next = i.tick().await;
    assert!(next > back, "the first tick after the catch-up waits");
    (ready.len(), ready, next - start, back)
}

#[test]
fn burst_fires_every_missed_tick_then_keeps_the_schedule() {
    let rt = counting();
    let (n, dues, next, _) = rt.block_on(late_ticks(MissedTickBehavior::Burst));
    assert_eq!(n, 3);
    assert_eq!(dues, [PERIOD, 2 * PERIOD, 3 * PERIOD]);
    assert_eq!(next, 4 * PERIOD);
}

#[test]
fn skip_drops_the_missed_ticks_and_stays_in_phase() {
    let rt = counting();
    let (n, dues, next, _) = rt.block_on(late_ticks(MissedTickBehavior::Skip));
    assert_eq!(n, 1);
    assert_eq!(dues, [PERIOD]);
    assert_eq!(next, 4 * PERIOD);
}

#[test]
fn delay_puts_a_period_after_the_late_tick() {
    let rt = counting();
    let (n, dues, next, back) = rt.block_on(late_ticks(MissedTickBehavior::Delay));
    assert_eq!(n, 1);
    assert_eq!(dues, [PERIOD]);
    // Due a period after the late tick completed (which was at `back` or just after),
    // so off the original 100 ms grid.
    let start = back - BLOCK - Duration::from_nanos(1); // not exact: only a bound
    assert!(next >= (back - start) + PERIOD - Duration::from_millis(1));
    assert_ne!(next.as_millis() % 100, 0, "{next:?} is still on the grid");
}

#[test]
fn interval_at_starts_at_its_instant_and_reset_moves_the_schedule() {
    let rt = counting();
    rt.block_on(async {
        let start = Instant::now() + ms(3);
        let mut i = interval_at(start, ms(2));
        assert_eq!(i.tick().await, start);
        assert_eq!(i.tick().await, start + ms(2));

        let at = Instant::now() + ms(5);
        i.reset_at(at);
        assert_eq!(i.tick().await, at);
        assert_eq!(i.tick().await, at + ms(2));

        let now = Instant::now();
        i.reset_immediately();
        let due = i.tick().await;
        assert!(due <= Instant::now() && due >= now);

        let before = Instant::now();
        i.reset();
        assert!(i.tick().await >= before + ms(2));
    });
}

#[test]
fn an_immediate_tick_completes_without_a_yield() {
    let rt = counting();
    rt.block_on(async {
        let mut i = interval(Duration::from_secs(3600));
        i.tick().await; // the first, at once
        i.reset_immediately();
        assert!(i.tick().now_or_never().is_some());
        assert!(
            i.tick().now_or_never().is_none(),
            "the next is an hour away"
        );
    });
    assert_eq!(rt.probes().counters.polls_pending, 0);
}

#[test]
fn timeout_at_bounds_several_steps_with_one_deadline() {
    let rt = counting();
    rt.block_on(async {
        let deadline = Instant::now() + ms(20);
        assert_eq!(timeout_at(deadline, async { 1 }).await, Ok(1));
        sleep(ms(1)).await;
        let t = timeout_at(deadline, sleep(Duration::from_secs(3600)));
        assert_eq!(t.deadline(), deadline);
        assert!(t.await.is_err());
        assert!(Instant::now() >= deadline);
        // A deadline in the past: a ready future still wins, a pending one times out
        // on its first poll.
        assert_eq!(timeout_at(deadline, async { 2 }).await, Ok(2));
        let late = timeout_at(deadline, std::future::pending::<()>());
        assert!(late.now_or_never().unwrap().is_err());
    });
}

#[test]
fn far_instants_saturate_and_never_panic() {
    let rt = counting();
    rt.block_on(async {
        let far = Instant::now() + Duration::from_secs(86_400 * 365 * 100);
        let mut i = interval_at(far, Duration::MAX);
        assert!(i.tick().now_or_never().is_none());
        i.reset(); // now + MAX: saturates
        assert!(i.tick().now_or_never().is_none());
        i.reset_immediately();
        assert!(i.tick().now_or_never().is_some()); // next = now + MAX: saturates
        assert!(i.tick().now_or_never().is_none());
        for b in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
            let mut i = interval(Duration::MAX);
            i.set_missed_tick_behavior(b);
            assert!(i.tick().now_or_never().is_some());
            assert!(i.tick().now_or_never().is_none());
        }
        assert!(timeout_at(far, async { 3 }).await.is_ok());
    });
}
