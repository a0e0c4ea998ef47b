//! cargo run --release -p turnstile --example instrument
//!
//! Which line of *my* code is this task waiting on? A small "service": a handler loads
//! a user from a "database" (a sleep standing in for a query), then renders the page,
//! which blocks the loop for a moment (a synchronous call). With
//! `#[turnstile::instrument]` on the three `async fn`s, the snapshot taken while the
//! handlers wait shows each task's async stack, down to turnstile's leaf (the sleep),
//! and the stall report names the function and the line of the `.await` the stalled
//! poll resumed from. Every instrumented `.await` is an await site of its own.

use std::time::Duration;

use turnstile::probes::Level;
use turnstile::Runtime;

struct Db;

#[turnstile::instrument]
impl Db {
    async fn load_user(&self, id: u32) -> String {
        // The query: a sleep here, a socket read in a real service.
        turnstile::time::sleep(Duration::from_millis(20)).await;
        format!("user {id}")
    }
}

#[turnstile::instrument]
async fn handler(db: &Db, id: u32) -> String {
    let user = db.load_user(id).await;
    render(&user).await
}

#[turnstile::instrument]
async fn render(user: &str) -> String {
    turnstile::yield_now().await;
    // A synchronous call inside an async fn: it blocks the loop (a stall).
    std::thread::sleep(Duration::from_millis(15));
    format!("<h1>{user}</h1>")
}

fn main() -> std::io::Result<()> {
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .stall_threshold(Duration::from_millis(10))
        .build()?;
    rt.block_on(async {
        let db = std::rc::Rc::new(Db);
        let tasks: Vec<_> = (1..=2)
            .map(|id| {
                let db = db.clone();
                turnstile::task::Builder::new()
                    .name(format!("request {id}"))
                    .spawn(async move { handler(&db, id).await })
            })
            .collect();
        turnstile::yield_now().await; // the handlers run to their query
        println!("while the handlers wait:");
        for task in turnstile::probes::snapshot().tasks {
            if let Some(stack) = task.stack {
                println!(
                    "  task {} ({}): {stack}",
                    task.id,
                    task.name.unwrap_or_default()
                );
            }
        }
        for task in tasks {
            println!("{}", task.await.unwrap());
        }
    });
    let snap = rt.probes();
    println!("\nstalls:");
    for stall in &snap.stalls {
        println!("  {stall}");
    }
    println!("\nawait sites:");
    for site in &snap.sites {
        println!("  {site}");
    }
    Ok(())
}
