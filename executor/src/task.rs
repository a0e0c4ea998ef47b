//! Tasks: the type-erased futures the loop polls, their slots, and how they are spawned.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use turnstile_probes::{TaskState, TaskStats};

use crate::context;
use crate::join::{JoinError, JoinHandle, JoinState};

pin_project! {
    /// One spawned future, with the waker it is polled with and the place its result
    /// goes. Boxed once at spawn; the loop polls it through [`ErasedTask`].
    struct TaskCell<F: Future> {
        join: Rc<JoinState<F::Output>>,
        waker: Waker,
        #[pin]
        future: F,
    }
}

/// What the loop needs of a task, whatever its output type.
pub(crate) trait ErasedTask {
    /// Polls the future once with the task's own waker; on completion stores the output.
    fn poll_task(self: Pin<&mut Self>) -> Poll<()>;
    /// Ends the task without output (panic or cancellation).
    fn fail(&self, error: JoinError);
}

impl<F: Future> ErasedTask for TaskCell<F> {
    #[inline]
    fn poll_task(self: Pin<&mut Self>) -> Poll<()> {
        let this = self.project();
        let mut cx = Context::from_waker(this.waker);
        match this.future.poll(&mut cx) {
            Poll::Ready(output) => {
                this.join.finish(Ok(output));
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn fail(&self, error: JoinError) {
        self.join.finish(Err(error));
    }
}

/// A boxed, type-erased task.
pub(crate) type BoxedTask = Pin<Box<dyn ErasedTask>>;

/// Boxes `future` with its waker and returns it with the state its handle reads.
pub(crate) fn new_task<F>(future: F, waker: Waker) -> (BoxedTask, Rc<JoinState<F::Output>>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let join = Rc::new(JoinState::new());
    let cell = TaskCell {
        join: join.clone(),
        waker,
        future,
    };
    (Box::pin(cell), join)
}

/// Per-task counts, kept only when the probes count.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TaskCounts {
    pub(crate) polls: u64,
    pub(crate) yields: u64,
    pub(crate) wakes: u64,
    pub(crate) wakes_self: u64,
}

/// A task's entry in the runtime's slab.
pub(crate) struct TaskSlot {
    /// Unique for the runtime's life; wakers carry it to detect a reused slot.
    pub(crate) id: u64,
    /// On the ready queue: a further wake is coalesced.
    pub(crate) queued: bool,
    /// `abort` was called while the task was being polled; drop it once the poll returns.
    pub(crate) abort_requested: bool,
    /// The future; `None` while the loop is polling it.
    pub(crate) task: Option<BoxedTask>,
    pub(crate) name: Option<Box<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) counts: TaskCounts,
}

impl TaskSlot {
    pub(crate) fn stats(&self) -> TaskStats {
        let state = if self.task.is_none() {
            TaskState::Running
        } else if self.queued {
            TaskState::Queued
        } else {
            TaskState::Idle
        };
        finished_stats(
            self.id,
            self.name.as_deref(),
            self.spawned_at,
            self.counts,
            state,
        )
    }
}

/// What is kept of a finished task for snapshots (a bounded history).
pub(crate) struct FinishedTask {
    pub(crate) id: u64,
    pub(crate) name: Option<Box<str>>,
    pub(crate) spawned_at: &'static Location<'static>,
    pub(crate) counts: TaskCounts,
}

impl FinishedTask {
    pub(crate) fn stats(&self) -> TaskStats {
        let state = TaskState::Finished;
        finished_stats(
            self.id,
            self.name.as_deref(),
            self.spawned_at,
            self.counts,
            state,
        )
    }
}

fn finished_stats(
    id: u64,
    name: Option<&str>,
    at: &Location<'_>,
    counts: TaskCounts,
    state: TaskState,
) -> TaskStats {
    let mut stats = TaskStats::new(id, name.map(str::to_owned), at.to_string());
    stats.state = state;
    stats.polls = counts.polls;
    stats.yields = counts.yields;
    stats.wakes = counts.wakes;
    stats.wakes_self = counts.wakes_self;
    stats
}

/// Spawns a future onto the current runtime and returns a handle to its output.
///
/// The future needs no `Send` bound: it runs on the loop thread only. It is queued to
/// be polled in the next turn; dropping the handle detaches it.
///
/// # Panics
/// Outside `Runtime::block_on`, with a message that says so.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// let n = rt.block_on(async {
///     let shared = std::rc::Rc::new(20); // not Send: fine on a single-threaded loop
///     let s = shared.clone();
///     turnstile::spawn(async move { *s + 1 }).await.unwrap() + *shared
/// });
/// assert_eq!(n, 41);
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_at(future, None, Location::caller())
}

pub(crate) fn spawn_at<F>(
    future: F,
    name: Option<Box<str>>,
    at: &'static Location<'static>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::with_current(|core| core.spawn(future, name, at)).unwrap_or_else(|| {
        panic!(
            "turnstile::spawn called at {at} outside a runtime: spawn from inside \
             Runtime::block_on (or from a task it runs)"
        )
    })
}

/// Configures a task before spawning it: today, its name.
///
/// ```
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let h = turnstile::task::Builder::new().name("fetch").spawn(async { 1 });
///     assert_eq!(h.await.unwrap(), 1);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a task::Builder does nothing until .spawn() is called"]
pub struct Builder {
    name: Option<Box<str>>,
}

impl Builder {
    /// A builder for an unnamed task.
    ///
    /// ```
    /// let _b = turnstile::task::Builder::new();
    /// ```
    pub fn new() -> Self {
        Builder::default()
    }

    /// Names the task; the name appears in probe snapshots and stall reports.
    ///
    /// ```
    /// let _b = turnstile::task::Builder::new().name("db");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Spawns `future` onto the current runtime, like [`spawn`].
    ///
    /// # Panics
    /// Outside `Runtime::block_on`.
    ///
    /// ```
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let h = turnstile::task::Builder::new().name("answer").spawn(async { 42 });
    ///     assert_eq!(h.await.unwrap(), 42);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_at(future, self.name, Location::caller())
    }
}
