//! cargo run -p turnstile --example countdown
//!
//! A future written by hand: `Countdown(3)` returns `Pending` three times, waking its own
//! task each time, then `Ready`. Run under the `on_turn` hook, the output shows each
//! poll, each `Pending` (a yield: the task goes back to the loop) and each turn of the
//! loop that polls the task again. `cargo run -p turnstile --example countdown -- 5`
//! counts down from 5.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that is not ready until it has been polled `self.0 + 1` times.
struct Countdown(u32);

impl Future for Countdown {
    type Output = &'static str;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        if self.0 == 0 {
            println!("  poll: 0, Ready");
            return Poll::Ready("liftoff");
        }
        println!("  poll: {}, Pending", self.0);
        self.0 -= 1;
        // Nothing else will wake this task, so it wakes itself: it is queued for the
        // next turn. Without this line it would never be polled again.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

fn main() -> std::io::Result<()> {
    let from = match std::env::args().nth(1) {
        None => 3,
        Some(n) => n.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("countdown: {n:?} is not a count ({e})"),
            )
        })?,
    };
    let rt = turnstile::Runtime::builder()
        .probes(turnstile::probes::Level::Counters)
        .on_turn(|turn| println!("[loop] {turn}"))
        .build()?;
    let said = rt.block_on(async move { turnstile::spawn(Countdown(from)).await.unwrap() });
    let c = rt.probes().counters;
    println!(
        "{said}: {} turns, {} polls of the task ({} Pending), {} parks",
        c.turns, c.polls, c.polls_pending, c.parks
    );
    Ok(())
}
