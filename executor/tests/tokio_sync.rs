//! tokio::sync needs no tokio runtime: its channels, locks and `Notify` run on
//! turnstile's loop unchanged, and their wakes are turnstile's (counted like any other).

use std::future::Future;
use std::sync::Arc;

use turnstile::probes::Level;
use turnstile::Runtime;

fn counting() -> Runtime {
    Runtime::builder().probes(Level::Counters).build().unwrap()
}

#[test]
fn an_mpsc_channel_between_tasks() {
    let rt = counting();
    let sum = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(2);
        let producer = turnstile::spawn(async move {
            for i in 1..=10 {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(i) = rx.recv().await {
            sum += i;
        }
        producer.await.unwrap();
        sum
    });
    assert_eq!(sum, 55);
    assert_eq!(rt.probes().counters.completions, 1);
}

#[test]
fn a_oneshot_sent_from_another_thread_is_one_remote_wake() {
    let rt = counting();
    let got = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let sender = std::thread::spawn(move || {
            wait.recv().unwrap(); // only once the receiver has polled and waits
            tx.send(7u8).unwrap();
        });
        let got = std::future::poll_fn(|cx| {
            let poll = std::pin::Pin::new(&mut rx).poll(cx);
            if poll.is_pending() {
                let _ = go.send(());
            }
            poll
        })
        .await
        .unwrap();
        sender.join().unwrap();
        got
    });
    assert_eq!(got, 7);
    let c = rt.probes().counters;
    assert_eq!((c.wakes_remote, c.main_polls), (1, 2));
}

#[test]
fn a_mutex_and_notify_hand_over_between_tasks() {
    let rt = counting();
    let total = rt.block_on(async {
        let shared = Arc::new(tokio::sync::Mutex::new(0u32));
        let ready = Arc::new(tokio::sync::Notify::new());
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (shared, ready) = (shared.clone(), ready.clone());
                turnstile::spawn(async move {
                    ready.notified().await;
                    *shared.lock().await += 1;
                })
            })
            .collect();
        turnstile::yield_now().await; // every task waits on `notified`
        ready.notify_waiters();
        for t in tasks {
            t.await.unwrap();
        }
        let total = *shared.lock().await;
        total
    });
    assert_eq!(total, 4);
    assert_eq!(rt.probes().counters.completions, 4);
}

#[test]
fn a_semaphore_bounds_the_tasks_inside() {
    let rt = counting();
    let most = rt.block_on(async {
        let permits = Arc::new(tokio::sync::Semaphore::new(2));
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (permits, inside, most) = (permits.clone(), inside.clone(), most.clone());
                turnstile::spawn(async move {
                    let _permit = permits.acquire().await.unwrap();
                    let now = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    turnstile::yield_now().await;
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        most.load(std::sync::atomic::Ordering::SeqCst)
    });
    assert_eq!(most, 2);
}
