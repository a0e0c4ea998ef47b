//! The scheduler: the task slab, the ready queue, and what the loop is doing right now
//! (which decides how a wake is classified).
//!
//! Its fields are private; the turn (`turn.rs`) and `Core` (`mod.rs`) drive it through
//! the methods below. It holds no user code and never calls any: a `RefCell` here is
//! borrowed only for the length of one method.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::Arc;

use turnstile_probes::WakeSource;

use super::run_queue::{Batch, RunQueue};
use super::slots::TaskSlots;
use crate::raw::{Header, LocalTask, TaskKey, TaskPtr};

/// What the loop is doing right now; it decides how a local wake is classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Activity {
    /// Polling a task (the one in `current`) or the `block_on` future, or between
    /// steps: wakes are local, except a task's wake of itself.
    Idle,
    /// Dispatching readiness events.
    Io,
    /// Firing expired timers.
    Timer,
    /// Taking in wakes queued by other threads.
    Remote,
}

/// The loop's tasks and its ready queue.
pub(crate) struct Scheduler {
    /// Every task not yet released, by slot: the owning reference.
    tasks: RefCell<TaskSlots>,
    /// Tasks to poll, in wake order.
    queue: RunQueue,
    /// The next task id (ids start at 1; 0 is the `block_on` future).
    next_id: Cell<u64>,
    /// Turns run so far.
    turn: Cell<u64>,
    /// What the loop is doing, to classify wakes.
    activity: Cell<Activity>,
    /// The task being polled (its data pointer), for self-wake detection; `main_marker`
    /// while the `block_on` future is polled.
    current: Cell<*const ()>,
    /// The `block_on` future was woken and is polled at the end of the turn.
    main_woken: Cell<bool>,
    /// Set while the runtime is being dropped: wakes are ignored, spawns refused.
    shutting_down: Cell<bool>,
    /// What each poll's cooperative budget starts at (`coop.rs`); `coop::UNLIMITED`
    /// for none (`Builder::budget(None)`).
    budget_per_poll: u32,
}

impl Scheduler {
    /// A scheduler whose polls each get `budget_per_poll` operations of the cooperative
    /// budget (`coop::UNLIMITED`: no limit).
    pub(crate) fn new(budget_per_poll: u32) -> Self {
        Scheduler {
            tasks: RefCell::new(TaskSlots::default()),
            queue: RunQueue::default(),
            next_id: Cell::new(1),
            turn: Cell::new(0),
            activity: Cell::new(Activity::Idle),
            current: Cell::new(ptr::null()),
            main_woken: Cell::new(false),
            shutting_down: Cell::new(false),
            budget_per_poll,
        }
    }

    /// A fresh task id.
    #[inline(always)]
    pub(crate) fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// The id the next spawn will get.
    #[inline]
    pub(crate) fn peek_id(&self) -> u64 {
        self.next_id.get()
    }

    /// The number of the turn in progress (or the last one).
    #[inline]
    pub(crate) fn turn_number(&self) -> u64 {
        self.turn.get()
    }

    /// Starts the next turn and returns its number.
    #[inline]
    pub(crate) fn next_turn(&self) -> u64 {
        let number = self.turn.get() + 1;
        self.turn.set(number);
        number
    }

    /// Puts a new task in the slab and on the ready queue (its state says queued):
    /// `make` builds it for the slot it gets (no user code may run in `make`). Returns
    /// the slot, and the task for its handle.
    #[inline(always)]
    pub(crate) fn insert_new<T>(&self, make: impl FnOnce(u32) -> Arc<T>) -> (u32, Arc<T>)
    where
        T: LocalTask + 'static,
    {
        let mut tasks = self.tasks.borrow_mut();
        let index = u32::try_from(tasks.next_key()).expect("more than 2^32 live tasks");
        let task = make(index);
        let ptr: TaskPtr = Arc::as_ptr(&task) as TaskPtr;
        let slot = tasks.insert(task.clone());
        debug_assert_eq!(slot, index as usize);
        drop(tasks);
        self.queue.push(ptr);
        (index, task)
    }

    /// The live task with this key, if any (a clone of the slab's reference).
    #[inline]
    pub(crate) fn get(&self, key: TaskKey) -> Option<Arc<dyn LocalTask>> {
        let tasks = self.tasks.borrow();
        let task = tasks.get(key.index as usize)?;
        (task.header().id == key.id).then(|| task.clone())
    }

    /// References to the task in slot `index` (for the lost-waker check).
    pub(crate) fn references(&self, index: u32) -> Option<usize> {
        self.tasks
            .borrow()
            .get(index as usize)
            .map(Arc::strong_count)
    }

    /// Takes a task out of the slab (its state said `release`).
    #[inline(always)]
    pub(crate) fn remove(&self, index: u32) -> Arc<dyn LocalTask> {
        self.tasks.borrow_mut().remove(index as usize)
    }

    /// Clones of every live task's reference, in slot order.
    pub(crate) fn live(&self) -> Vec<Arc<dyn LocalTask>> {
        self.tasks.borrow().iter().map(|(_, t)| t.clone()).collect()
    }

    /// Live tasks.
    pub(crate) fn len(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Takes every task out of the slab (the runtime is dropping them).
    pub(crate) fn drain(&self) -> Vec<Arc<dyn LocalTask>> {
        self.tasks.borrow_mut().drain()
    }

    /// Queues a task that its state just marked queued.
    #[inline(always)]
    pub(crate) fn push(&self, task: TaskPtr) {
        self.queue.push(task);
    }

    /// The ready queue.
    #[inline(always)]
    pub(crate) fn queue(&self) -> &RunQueue {
        &self.queue
    }

    /// Takes this turn's batch off the ready queue.
    #[inline]
    pub(crate) fn take_batch(&self) -> Batch<'_> {
        self.queue.take_batch()
    }

    /// Whether nothing is ready: no task queued and the `block_on` future not woken.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        !self.main_woken.get() && self.queue.is_empty()
    }

    /// Marks the `block_on` future woken; returns whether it was already.
    #[inline]
    pub(crate) fn wake_main(&self) -> bool {
        self.main_woken.replace(true)
    }

    /// Whether the `block_on` future is woken (it is polled at the end of the turn).
    #[inline]
    pub(crate) fn main_woken(&self) -> bool {
        self.main_woken.get()
    }

    /// Takes the `block_on` future's wake: true if it is to be polled now.
    #[inline]
    pub(crate) fn take_main_wake(&self) -> bool {
        self.main_woken.replace(false)
    }

    /// How a wake of the task at `data` right now is classified.
    #[inline]
    pub(crate) fn wake_source(&self, data: *const ()) -> WakeSource {
        if self.current.get() == data {
            return WakeSource::SelfWake;
        }
        match self.activity.get() {
            Activity::Idle => WakeSource::Local,
            Activity::Io => WakeSource::Io,
            Activity::Timer => WakeSource::Timer,
            Activity::Remote => WakeSource::Remote,
        }
    }

    /// What `current` holds while the `block_on` future is polled: an address unique
    /// to this runtime that is no task's, so that its self-wakes are told apart.
    #[inline]
    pub(crate) fn main_marker(&self) -> *const () {
        (&self.main_woken as *const Cell<bool>).cast::<()>()
    }

    /// The task at `data` (or `main_marker`) is being polled; null: none is.
    #[inline(always)]
    pub(crate) fn set_current(&self, data: *const ()) {
        self.current.set(data);
    }

    /// The id of the task being polled, if a task (not the `block_on` future, and not
    /// between polls) is.
    pub(crate) fn current_task_id(&self) -> Option<u64> {
        let data = self.current.get();
        if data.is_null() || data == self.main_marker() {
            return None;
        }
        // SAFETY: `current` holds a task's data pointer only between the two
        // `set_current` calls around its poll in `Core::poll_task`, while the loop holds
        // the task alive; its `TaskCell` is `repr(C)` with the `Header` first.
        Some(unsafe { &*data.cast::<Header>() }.id)
    }

    /// What the loop is doing, for the wakes that follow.
    #[inline]
    pub(crate) fn set_activity(&self, activity: Activity) {
        self.activity.set(activity);
    }

    /// What each poll's cooperative budget starts at.
    pub(crate) fn budget_per_poll(&self) -> u32 {
        self.budget_per_poll
    }

    /// Back to a clean slate after a panic left the loop mid-step.
    pub(crate) fn reset_step(&self) {
        self.current.set(ptr::null());
        self.activity.set(Activity::Idle);
    }

    /// Whether the runtime is being dropped.
    #[inline]
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.get()
    }

    /// The runtime is being dropped: refuse spawns, forget queued pointers.
    pub(crate) fn shut_down(&self) {
        self.shutting_down.set(true);
        self.queue.clear();
        self.main_woken.set(false);
    }
}
