//! cargo run --release -p turnstile --example await_chain
//!
//! Does every `.await` go back to the event loop? Five async functions await each
//! other, and only the innermost one awaits something that really waits (a 100 ms
//! sleep). The `on_turn` hook prints a line at the end of every turn of the loop, so
//! the output shows where the loop was entered: once to start, once when the sleep's
//! timer fired, and never for the four awaits in between.

use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

async fn func1() {
    turnstile::time::sleep(Duration::from_millis(100)).await;
}

async fn func2() {
    println!("  before func1");
    func1().await;
    println!("  after func1");
}

async fn func3() {
    func2().await
}

async fn func4() {
    func3().await
}

async fn func5() {
    println!("  before func2..func4");
    func4().await;
    println!("  after func2..func4");
}

fn main() -> std::io::Result<()> {
    let rt = Runtime::builder()
        .probes(Level::Counters)
        .on_turn(|turn| println!("[loop] {turn}"))
        .build()?;

    println!("A 5-deep await chain as the block_on future:");
    rt.block_on(func5());

    println!("\nThe same chain spawned as a task, awaited by block_on:");
    let before = rt.probes().counters;
    rt.block_on(async { turnstile::spawn(func5()).await.expect("the chain task") });
    let c = rt.probes().counters.since(&before);
    println!(
        "\nspawned chain: {} turns, the task polled {} times and yielded {} time(s); \
         {} timer wake(s). Five awaits, one yield: only the sleep reached the loop.",
        c.turns, c.polls, c.polls_pending, c.wakes_timer
    );
    println!("\n{}", rt.probes());
    Ok(())
}
