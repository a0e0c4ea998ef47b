//! Polls and yields counted by the workload itself, the same way on every runtime.
//!
//! Counts that must be comparable across runtimes cannot come from the runtimes (tokio
//! and smol keep few): [`counted`] tallies the polls and yields of one future in a
//! thread-local, and [`frame`] tallies the polls of one level of a nested future and how
//! deep below the task's poll the stack went. Every runtime compared polls its tasks on
//! the thread that called `block_on`, so the tallies see every poll.
//!
//! ```
//! use turnstile_compare::{tally, Runtime, Smol, Tokio, Turnstile};
//!
//! fn one_yield<R: Runtime>() -> tally::Tally {
//!     let rt = R::fresh();
//!     tally::take_tally();
//!     rt.block_on(async { R::spawn(tally::counted(R::yield_now())).await.unwrap() });
//!     tally::take_tally()
//! }
//! for t in [one_yield::<Turnstile>(), one_yield::<Tokio>(), one_yield::<Smol>()] {
//!     assert_eq!((t.polls, t.yields), (2, 1));
//! }
//! ```

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::hint::black_box;
use std::pin::pin;

/// Polls, yields and nesting seen by [`counted`] and [`frame`] on this thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Polls of futures wrapped in [`counted`] (the tasks).
    pub polls: u64,
    /// Of those, polls that returned `Pending`: yields back to the loop.
    pub yields: u64,
    /// Polls of futures wrapped in [`frame`] (the levels inside a task).
    pub frames: u64,
    /// The deepest a [`frame`] poll sat below the poll of its [`counted`] task, in bytes
    /// of stack.
    pub stack_bytes: u64,
}

thread_local! {
    static TALLY: Cell<Tally> = const { Cell::new(Tally { polls: 0, yields: 0, frames: 0, stack_bytes: 0 }) };
    /// The stack address of the [`counted`] poll in progress (0 outside one).
    static TASK_STACK: Cell<usize> = const { Cell::new(0) };
}

/// Returns this thread's tally and starts a new one.
///
/// ```
/// let _ = turnstile_compare::tally::take_tally();
/// assert_eq!(turnstile_compare::tally::take_tally().polls, 0);
/// ```
pub fn take_tally() -> Tally {
    TALLY.with(|t| t.replace(Tally::default()))
}

fn tally(update: impl FnOnce(&mut Tally)) {
    TALLY.with(|t| {
        let mut v = t.get();
        update(&mut v);
        t.set(v);
    });
}

/// An address in the caller's stack frame.
#[inline(always)]
fn stack_address() -> usize {
    let marker = 0u8;
    black_box(&marker) as *const u8 as usize
}

/// Wraps a task's future to count its polls and yields in this thread's [`Tally`].
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// tally::take_tally();
/// Tokio::new().block_on(tally::counted(async { tokio::task::yield_now().await }));
/// assert_eq!(tally::take_tally().yields, 1);
/// ```
pub async fn counted<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(move |cx| {
        let outer = TASK_STACK.with(|s| s.replace(stack_address()));
        tally(|t| t.polls += 1);
        let out = future.as_mut().poll(cx);
        if out.is_pending() {
            tally(|t| t.yields += 1);
        }
        TASK_STACK.with(|s| s.set(outer));
        out
    })
    .await
}

/// Wraps one level of a nested future to count its polls and the stack depth it runs
/// at, below the enclosing [`counted`] poll.
///
/// ```
/// use turnstile_compare::{tally, Runtime, Tokio};
/// tally::take_tally();
/// Tokio::new().block_on(tally::counted(tally::frame(tally::frame(async {}))));
/// assert_eq!(tally::take_tally().frames, 2);
/// ```
pub async fn frame<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(move |cx| {
        let top = TASK_STACK.with(Cell::get);
        let depth = top.saturating_sub(stack_address()) as u64;
        tally(|t| {
            t.frames += 1;
            t.stack_bytes = t.stack_bytes.max(depth);
        });
        future.as_mut().poll(cx)
    })
    .await
}
