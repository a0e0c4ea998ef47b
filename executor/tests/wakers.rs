//! Wake paths: remote wakes end a park, stale and orphaned wakers are counted no-ops,
//! duplicate wakes are coalesced.

mod common;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;

use common::counting;

/// A gate between the loop and one other thread: the loop's future stays pending until
/// the thread, having seen the future's waker, opens the gate and wakes it once.
#[derive(Clone, Default)]
struct Gate {
    open: Arc<AtomicBool>,
    waker: Arc<Mutex<Option<Waker>>>,
}

impl Gate {
    /// The loop's side: pending (handing over its waker) until the gate opens. The
    /// first poll is always pending, even if the other thread opened the gate while it
    /// ran: so the only way on is the other thread's wake, which the test then counts.
    fn wait(&self) -> impl std::future::Future<Output = ()> {
        let gate = self.clone();
        let mut first = true;
        poll_fn(move |cx| {
            if !std::mem::take(&mut first) && gate.open.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *gate.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    /// The other thread's side: waits until a waker has been handed over (so the loop
    /// has nothing left to run but to park), then opens the gate and wakes it once.
    fn open_from_another_thread(&self) -> thread::JoinHandle<()> {
        let gate = self.clone();
        thread::spawn(move || loop {
            if let Some(w) = gate.waker.lock().unwrap().take() {
                gate.open.store(true, Ordering::SeqCst);
                w.wake();
                return;
            }
            thread::yield_now();
        })
    }
}

#[test]
fn a_wake_from_another_thread_ends_a_park_in_block_on() {
    let rt = counting();
    let gate = Gate::default();
    // No timer, no I/O: only the remote wake can end the park.
    let opener = gate.open_from_another_thread();
    rt.block_on(gate.wait());
    opener.join().unwrap();
    let c = rt.probes().counters;
    assert_eq!(c.wakes_remote, 1);
    assert!(c.parks >= 1);
}

#[test]
fn a_remote_wake_of_a_task_is_counted_remote() {
    let rt = counting();
    let gate = Gate::default();
    rt.block_on(async move {
        let task = turnstile::spawn(gate.wait());
        let opener = gate.open_from_another_thread();
        task.await.unwrap();
        opener.join().unwrap();
    });
    let c = rt.probes().counters;
    assert_eq!((c.wakes_remote, c.polls, c.polls_pending), (1, 2, 1));
}

#[test]
fn a_waker_that_outlives_its_runtime_is_harmless() {
    let before = turnstile::orphan_wakes();
    let rt = counting();
    let waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    let task_waker = rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        let tx = std::cell::Cell::new(Some(tx));
        let h = turnstile::spawn(poll_fn(move |cx| {
            // Leak our waker to the outside and stay pending forever.
            if let Some(tx) = tx_take(&tx) {
                let _ = tx.send(cx.waker().clone());
            }
            Poll::<()>::Pending
        }));
        drop(h);
        rx.await.unwrap()
    });
    drop(rt);
    let clone = waker.clone();
    waker.wake_by_ref();
    clone.wake();
    task_waker.wake_by_ref();
    let other_thread = task_waker.clone();
    thread::spawn(move || other_thread.wake()).join().unwrap();
    drop(task_waker);
    drop(waker);
    assert!(turnstile::orphan_wakes() >= before + 4);
}

/// A one-shot sender stored in a `Cell`, so a `poll_fn` (an `FnMut`) can send once.
fn tx_take<T>(
    cell: &std::cell::Cell<Option<futures::channel::oneshot::Sender<T>>>,
) -> Option<futures::channel::oneshot::Sender<T>> {
    cell.take()
}

#[test]
fn duplicate_wakes_are_coalesced_and_wakes_after_completion_are_no_ops() {
    let rt = counting();
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<Waker>();
        let tx = std::cell::Cell::new(Some(tx));
        let mut polled = false;
        let target = turnstile::spawn(poll_fn(move |cx| {
            if let Some(tx) = tx.take() {
                let _ = tx.send(cx.waker().clone());
            }
            if polled {
                Poll::Ready(())
            } else {
                polled = true;
                Poll::Pending
            }
        }));
        let waker = rx.await.unwrap();
        // Three wakes in one go: the first queues the task, the other two coalesce.
        waker.wake_by_ref();
        waker.wake_by_ref();
        waker.wake_by_ref();
        target.await.unwrap();
        // The task has finished: its slot is gone, so these are counted no-ops.
        waker.wake_by_ref();
        waker.wake();
    });
    let c = rt.probes().counters;
    assert_eq!(c.wakes_coalesced, 2);
    assert_eq!(c.wakes_noop, 2);
    assert_eq!(c.polls, 2, "coalesced wakes must not cause extra polls");
}

#[test]
fn a_stale_waker_never_polls_the_task_that_reuses_its_slot() {
    let rt = counting();
    rt.block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel::<Waker>();
        let tx = std::cell::Cell::new(Some(tx));
        turnstile::spawn(poll_fn(move |cx| {
            let _ = tx.take().map(|tx| tx.send(cx.waker().clone()));
            Poll::Ready(())
        }))
        .await
        .unwrap();
        let stale = rx.await.unwrap();
        // The new task takes the freed slot; it must only be polled when it is woken.
        let polls = std::rc::Rc::new(std::cell::Cell::new(0));
        let p = polls.clone();
        let h = turnstile::spawn(poll_fn(move |_| {
            p.set(p.get() + 1);
            Poll::<()>::Pending
        }));
        turnstile::yield_now().await;
        assert_eq!(polls.get(), 1);
        stale.wake();
        turnstile::yield_now().await;
        turnstile::yield_now().await;
        assert_eq!(polls.get(), 1, "the stale waker polled the slot's new task");
        h.abort();
    });
    assert_eq!(rt.probes().counters.wakes_noop, 1);
}

#[test]
fn wakers_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    let rt = counting();
    let waker = rt.block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
    assert_send_sync(&waker);
}
