//! The executor's side of `Level::Timing` and `Level::Trace`: what the loop tells the
//! timing recorder (`turnstile_probes::Timing`) around polls, wakes and stalls.
//!
//! The rule that keeps `Off` and `Counters` as fast as they were: the loop decides once
//! per turn whether it is timed (`Core::timing` is `Some`), and polls the turn's batch
//! with `poll_task::<true>` or `poll_task::<false>`. The untimed instance contains none
//! of the code below. A wake tests the task's `TIMED` bit together with `QUEUED` (one
//! test, as before). A task's timing cells live in a side table (`Core::cells`, by slab
//! slot), so headers are as small as before. Everything else here runs at
//! `Level::Timing` and above.

use std::sync::Arc;

use turnstile_probes::{
    Counter, PollStarted, Snapshot, TaskInfo, TaskStats, TaskTiming, Ticks, Timing,
};

use crate::context;
use crate::runtime::{Core, TaskPtr, TASK_HISTORY};
use crate::task::{header_of, Header, LocalTask, ABORT, DONE, QUEUED, TIMED};

impl Core {
    /// Fresh timing cells for the task spawned into slot `index` at `now`.
    pub(crate) fn start_cells(&self, index: u32, now: Ticks) {
        let mut cells = self.cells.borrow_mut();
        let index = index as usize;
        if cells.len() <= index {
            cells.resize_with(index + 1, TaskTiming::unused);
        }
        cells[index] = TaskTiming::new(now);
    }

    /// Keeps a finished task's cells beside it in the history (its slot is reused).
    pub(crate) fn keep_finished_cells(&self, header: &Header) {
        if !header.is_timed() {
            return;
        }
        let Some(cells) = self.cells.borrow().get(header.index as usize).cloned() else {
            return;
        };
        let mut finished = self.finished_cells.borrow_mut();
        if finished.len() == TASK_HISTORY {
            finished.pop_front();
        }
        finished.push_back((header.id, cells));
    }

    /// Stats of the finished tasks in the history and of every live task.
    pub(crate) fn task_stats(&self) -> Vec<TaskStats> {
        let timing = self.timing.as_deref();
        let now = timing.map_or(0, Timing::now);
        let finished = self.finished_cells.borrow();
        let cells = self.cells.borrow();
        let history = self.history.borrow();
        let tasks = self.tasks.borrow();
        let old = history.iter().map(|task| {
            let h = task.header();
            let c = finished.iter().find(|(id, _)| *id == h.id).map(|(_, c)| c);
            (h, c)
        });
        let live = tasks.iter().map(|(_, task)| {
            let h = task.header();
            let c = cells.get(h.index as usize).filter(|_| h.is_timed());
            (h, c)
        });
        let names = self.names.borrow();
        old.chain(live)
            .map(|(h, c)| {
                let name = names.get(&h.id).map(|n| &**n);
                h.stats(name, timing.zip(c).map(|(t, c)| (t, now, c)))
            })
            .collect()
    }

    /// Polls one task with the timing work around it: the timed instance of
    /// `poll_task`, kept out of line so that the untimed loop stays as small as it was.
    #[inline(never)]
    pub(crate) fn poll_task_timed(&self, ptr: TaskPtr, rest: &[TaskPtr]) {
        self.poll_task::<true>(ptr, rest);
    }

    /// The rest of `wake_task` for a task that is `QUEUED` (the wake is coalesced) or
    /// `TIMED` (the wake that queues it is stamped, and traced at `Level::Trace`).
    #[inline(never)]
    pub(crate) fn wake_queued_or_timed(&self, header: &Header, task: TaskPtr) {
        let state = header.state.get();
        if state & TIMED != 0 {
            if let Some(timing) = &self.timing {
                if let Some(cells) = self.cells.borrow().get(header.index as usize) {
                    // Classified again rather than passed from `wake_task`: passing it
                    // costs the untimed levels 1-2 instructions per wake (callgrind).
                    let source = self.wake_source(task.cast());
                    cells.count_wake(source);
                    if state & QUEUED == 0 {
                        timing.woken(cells, header.id, source);
                    }
                }
            }
        }
        if state & QUEUED != 0 {
            self.counters.bump(Counter::WakesCoalesced);
            return;
        }
        header.state.set(state | QUEUED);
        self.ready.borrow_mut().push(task);
    }

    /// Before a timed poll: the scheduling delay, the watchdog's beacon, and a clean
    /// slate for the site its leaf will leave.
    #[inline(always)]
    pub(crate) fn timed_poll_start(&self, header: &Header) -> Option<PollStarted> {
        let timing = self.timing.as_deref()?;
        let cells = self.cells.borrow();
        let task = cells.get(header.index as usize)?;
        let start = timing.poll_started(task, header.id);
        timing.beacon_start(header.id, start.at, header.spawned_at);
        Some(start)
    }

    /// After a timed poll: its duration, its await site, a stall report if it was one,
    /// and the lost-waker check if it yielded. `rest` is the rest of the turn's batch.
    #[inline(always)]
    pub(crate) fn timed_poll_end(
        &self,
        task: &dyn LocalTask,
        header: &Header,
        started: Option<PollStarted>,
        pending: bool,
        rest: &[TaskPtr],
    ) {
        let site = context::take_site();
        let (Some(timing), Some(start)) = (self.timing.as_deref(), started) else {
            return;
        };
        let all_cells = self.cells.borrow();
        let Some(cells) = all_cells.get(header.index as usize) else {
            return;
        };
        timing.beacon_end();
        let state = header.state.get();
        let requeued = state & QUEUED != 0;
        let stalled = timing.poll_ended(cells, header.id, start, site, !pending, requeued);
        drop(all_cells);
        if stalled {
            let name = self.task_name(header.id);
            self.report_stall(timing, info(header, name.as_deref()), start, rest);
        }
        if state & ABORT != 0 {
            timing.break_chain(); // the task is cancelled next: its future drops
        }
        if pending {
            self.check_lost_waker(timing, task, header);
        }
    }

    /// Polls the `block_on` future at `Level::Timing`: it is timed, has sites and can
    /// stall like any task (its id is 0, its "spawn location" the `block_on` call).
    pub(crate) fn timed_main_poll(&self, poll_main: &mut dyn FnMut() -> bool) -> bool {
        let (Some(timing), Some(cells)) = (self.timing.as_deref(), self.main_timing.as_deref())
        else {
            return poll_main();
        };
        context::take_site();
        let start = timing.poll_started(cells, 0);
        timing.beacon_start(0, start.at, self.main_at.get());
        let done = poll_main();
        timing.beacon_end();
        let site = context::take_site();
        if timing.poll_ended(cells, 0, start, site, done, self.main_woken.get()) {
            let main = TaskInfo {
                id: 0,
                name: Some("block_on"),
                spawned_at: self.main_at.get(),
            };
            self.report_stall(timing, main, start, &[]);
        }
        done
    }

    /// A stall just ended: report it with the tasks it kept waiting, which are the rest
    /// of this turn's batch and whatever was queued for the next turn meanwhile.
    #[cold]
    #[inline(never)]
    fn report_stall(
        &self,
        timing: &Timing,
        task: TaskInfo<'_>,
        start: PollStarted,
        rest: &[TaskPtr],
    ) {
        let ready = self.ready.borrow();
        let cells = self.cells.borrow();
        let waiting = rest.iter().chain(ready.iter()).filter_map(|&ptr| {
            // SAFETY: every pointer here is on a ready queue (the rest of the batch was
            // not polled yet, `ready` holds the next turn's), so its task is `QUEUED` and
            // owned by the slab: alive for this call, in which nothing is released.
            let header = unsafe { header_of(ptr) };
            cells
                .get(header.index as usize)
                .filter(|_| header.is_timed())
        });
        let main = self
            .main_timing
            .as_deref()
            .filter(|_| self.main_woken.get());
        timing.stalled(task, start, waiting.chain(main));
    }

    /// A task that yielded with no waker left for it can never run again. The
    /// references to it are: the slab's, its `JoinHandle`'s unless dropped, those of
    /// queues (a remote wake in flight) and its wakers'. Only the first two left: lost.
    #[inline]
    fn check_lost_waker(&self, timing: &Timing, task: &dyn LocalTask, header: &Header) {
        if header.state.get() & (QUEUED | DONE | ABORT) != 0 {
            return;
        }
        let refs = match self.tasks.borrow().get(header.index as usize) {
            Some(owned) => Arc::strong_count(owned),
            None => return,
        };
        if refs <= 1 + usize::from(!task.handle_dropped()) {
            let name = self.task_name(header.id);
            let cells = self.cells.borrow();
            let cells = cells.get(header.index as usize);
            timing.lost_waker(info(header, name.as_deref()), cells);
        }
    }

    /// Fills in the timing parts of a snapshot, first looking for tasks whose last
    /// waker was dropped since their poll.
    pub(crate) fn timing_snapshot(&self, snap: &mut Snapshot) {
        let Some(timing) = self.timing.as_deref() else {
            return;
        };
        let live: Vec<Arc<dyn LocalTask>> =
            self.tasks.borrow().iter().map(|(_, t)| t.clone()).collect();
        for task in &live {
            // Our clone is one more reference than `check_lost_waker` expects.
            let header = task.header();
            let idle = header.state.get() & (QUEUED | DONE | ABORT | crate::task::RUNNING) == 0;
            let refs = Arc::strong_count(task) - 1;
            if idle && refs <= 1 + usize::from(!task.handle_dropped()) {
                let name = self.task_name(header.id);
                let cells = self.cells.borrow();
                let cells = cells.get(header.index as usize);
                timing.lost_waker(info(header, name.as_deref()), cells);
            }
        }
        snap.poll_duration = timing.poll_duration();
        snap.scheduling_delay = timing.scheduling_delay();
        snap.turn_duration = timing.turn_duration();
        snap.park_duration = timing.park_duration();
        snap.sites = timing.sites();
        snap.unattributed_yields = timing.unattributed_yields();
        (snap.stalls, snap.stalls_total) = timing.stalls();
        snap.watchdog_reports = timing.watchdog_reports();
        (snap.lost_wakers, snap.lost_wakers_total) = timing.lost_wakers();
        if timing.is_tracing() {
            let named = self.names.borrow();
            let names = self
                .history
                .borrow()
                .iter()
                .chain(live.iter())
                .map(|t| {
                    let h = t.header();
                    let name = named
                        .get(&h.id)
                        .map_or_else(|| h.spawned_at.to_string(), |n| n.to_string());
                    (h.id, name)
                })
                .collect();
            drop(named);
            snap.trace = timing.trace(names);
        }
    }
}

/// A task (named `name`) as a stall or lost-waker report names it.
fn info<'a>(header: &Header, name: Option<&'a str>) -> TaskInfo<'a> {
    TaskInfo {
        id: header.id,
        name,
        spawned_at: header.spawned_at,
    }
}
