//! Timers: a million pending sleeps are cheap to create and to cancel, and slots are reused.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use turnstile::time::{sleep, timeout, Instant};

use common::{counting, ms};

/// Polls every sleep once (registering its timer), then returns them still pending.
async fn register_all(sleeps: &mut [Pin<Box<turnstile::time::Sleep>>]) {
    std::future::poll_fn(|cx: &mut Context<'_>| {
        for s in sleeps.iter_mut() {
            assert!(s.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    })
    .await
}

#[test]
fn a_million_pending_timers_cancel_cleanly_and_reuse_their_slots() {
    let n: u64 = if cfg!(miri) { 2_000 } else { 1_000_000 };
    let rt = counting();
    rt.block_on(async {
        for round in 0..2 {
            let mut sleeps: Vec<_> = (0..n)
                .map(|i| Box::pin(sleep(Duration::from_secs(3600 + i))))
                .collect();
            register_all(&mut sleeps).await;
            drop(sleeps); // cancels every timer
            let snap = turnstile::probes::snapshot();
            assert_eq!(snap.counters.timers_created, n * (round + 1));
            assert_eq!(snap.counters.timers_cancelled, n * (round + 1));
            assert_eq!(snap.timers_pending, 0);
            // The second round reuses the first round's slots: no growth.
            assert_eq!(snap.timer_slots, n);
            // Dead heap entries were compacted away, not kept per cancelled timer.
            assert!(
                snap.timer_heap <= 1024,
                "heap kept {} entries",
                snap.timer_heap
            );
        }
    });
    let c = rt.probes().counters;
    assert_eq!(c.timers_fired, 0);
    assert_eq!(c.wakes_timer, 0);
}

#[test]
fn timeout_returns_the_output_or_elapsed() {
    let rt = counting();
    rt.block_on(async {
        let slow = timeout(ms(2), sleep(Duration::from_secs(3600))).await;
        assert!(slow.is_err());
        let quick = timeout(Duration::from_secs(3600), async { 9 }).await;
        assert_eq!(quick, Ok(9));
    });
    let c = rt.probes().counters;
    // The long sleep and the long timeout's own sleep were cancelled; the 2 ms one fired.
    assert_eq!((c.timers_fired, c.timers_cancelled), (1, 1));
}

#[test]
fn sleeps_fire_in_deadline_order() {
    let rt = counting();
    let order = rt.block_on(async {
        let order = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let handles: Vec<_> = [30u64, 10, 20]
            .into_iter()
            .map(|delay| {
                let order = order.clone();
                turnstile::spawn(async move {
                    sleep(ms(delay)).await;
                    order.borrow_mut().push(delay);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let v = order.borrow().clone();
        v
    });
    assert_eq!(order, vec![10, 20, 30]);
}

#[test]
fn interval_ticks_are_spaced_by_the_period() {
    let rt = counting();
    let ticks = rt.block_on(async {
        let mut every = turnstile::time::interval(ms(3));
        let mut ticks = Vec::new();
        for _ in 0..4 {
            ticks.push(every.tick().await);
        }
        ticks
    });
    for pair in ticks.windows(2) {
        assert_eq!(pair[1] - pair[0], ms(3));
    }
    assert!(Instant::now() >= ticks[3]);
    // The first tick is immediate; each later one needs a timer, unless the loop was so
    // late (a loaded machine) that its deadline had passed when it was polled.
    let c = rt.probes().counters;
    assert!(c.timers_fired <= 3, "{} timers for 3 ticks", c.timers_fired);
    assert_eq!(
        c.timers_created, c.timers_fired,
        "every timer created fired"
    );
}

#[test]
fn sleep_outside_a_runtime_panics_with_a_message() {
    let err = std::panic::catch_unwind(|| {
        futures::executor::block_on(sleep(ms(1)));
    })
    .unwrap_err();
    let msg = err.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(msg.contains("outside a runtime"), "{msg}");
}

/// Time arithmetic saturates: the longest durations and the latest deadlines become a
/// far-future deadline, as in tokio; nothing panics on overflow.
#[test]
fn the_longest_durations_saturate_instead_of_panicking() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    use turnstile::time::{interval, sleep, sleep_until, timeout, Instant};

    let rt = counting();
    rt.block_on(async {
        let mut cx = Context::from_waker(Waker::noop());
        let mut long = std::pin::pin!(sleep(Duration::MAX));
        assert!(long.as_mut().poll(&mut cx).is_pending());
        assert!(long.deadline() > Instant::now() + Duration::from_secs(86_400 * 365));

        // The first tick is at once; the second would overflow, and saturates.
        let mut every = interval(Duration::MAX);
        every.tick().await;
        assert!(std::future::poll_fn(|cx| Poll::Ready(every.poll_tick(cx)))
            .await
            .is_pending());

        // Deadlines near the largest `Instant` this platform can hold.
        let late = Instant::now() + Duration::from_secs(u64::MAX >> 3);
        let mut latest = std::pin::pin!(sleep_until(late));
        assert!(latest.as_mut().poll(&mut cx).is_pending());

        assert_eq!(timeout(Duration::MAX, async { 3 }).await, Ok(3));
        let mut waiting = std::pin::pin!(timeout(Duration::MAX, std::future::pending::<()>()));
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        // Four far-future timers: the sleep, the interval's, the latest, the timeout's.
        assert_eq!(turnstile::probes::snapshot().timers_pending, 4);
        // The loop parks with the longest timeout it can ask for, and comes back.
        turnstile::time::sleep(ms(1)).await;
    });
    let snap = rt.probes();
    assert_eq!(snap.timers_pending, 0);
    assert_eq!(snap.counters.timers_cancelled, 4);
}
