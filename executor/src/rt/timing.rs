//! The executor's side of `Level::Timing` and `Level::Trace`: what the loop tells the
//! timing recorder (`turnstile_probes::Timing`) around polls, and what it reads back.
//!
//! The rule that keeps `Off` and `Counters` as fast as they were: the loop decides once
//! per turn whether it is timed (the recorder has a `Timing`), and polls the turn's
//! batch with `poll_task::<true>` or `poll_task::<false>`. The untimed instance contains
//! none of the code below. A wake tests the task's `TIMED` bit in the same test as
//! `QUEUED` and `DONE` (`raw/state.rs`). A task's timing cells live in a side table
//! (`Observer::cells`, by slab slot), so headers are as small as before.
//!
//! Nothing here calls user code: stall and lost-waker reports, and `Level::Trace`
//! events, are queued in the recorder's outbox and emitted by the turn at a safe point.

use turnstile_probes::{PollStarted, TaskInfo, Timing};
use turnstile_reactor::PollOutcome;

use super::Core;
use crate::observe::site::take_site;
use crate::observe::stats::{has_no_waker, info};
use crate::raw::{header_of, Header, TaskPtr};

impl Core {
    /// Before a timed poll: its start (one clock read at most, none when the last poll
    /// just ended) and the watchdog's beacon. The task's cells are not touched here:
    /// the poll's end reads and writes them once, scheduling delay included.
    #[inline(always)]
    pub(crate) fn timed_poll_start(timing: &Timing, header: &Header) -> PollStarted {
        let start = timing.poll_started(header.id);
        timing.beacon_start(header.id, start.at, header.spawned_at);
        start
    }

    /// After a timed poll: its duration, its await site, and a stall report if it was
    /// one. `rest` is the rest of the turn's batch.
    #[inline(always)]
    pub(crate) fn timed_poll_end(
        &self,
        timing: &Timing,
        header: &Header,
        mut start: PollStarted,
        pending: bool,
        rest: &[TaskPtr],
    ) {
        let site = take_site();
        timing.beacon_end();
        let Some(cells) = self.observe().cells(header) else {
            timing.break_chain(); // an untimed task's poll: nothing chains from it
            return;
        };
        let requeued = header.state.is_queued();
        let stalled = timing.poll_ended(&cells, header.id, &mut start, site, !pending, requeued);
        drop(cells);
        if stalled {
            let name = self.observe().task_name(header.id);
            self.report_stall(timing, info(header, name.as_deref()), start, rest);
        }
        if header.state.abort_pending() {
            timing.break_chain(); // the task is cancelled next: its future drops
        }
    }

    /// Polls the `block_on` future at `Level::Timing`: it is timed, has sites and can
    /// stall like any task (its id is 0, its "spawn location" the `block_on` call).
    pub(crate) fn timed_main_poll(&self, poll_main: &mut dyn FnMut() -> bool) -> bool {
        let (Some(timing), Some(cells)) = (self.observe().timing(), self.observe().main_timing())
        else {
            return poll_main();
        };
        take_site();
        let at = self.observe().main_at();
        let mut start = timing.poll_started(0);
        timing.beacon_start(0, start.at, at);
        let done = poll_main();
        timing.beacon_end();
        let site = take_site();
        let requeued = self.sched().main_woken();
        if timing.poll_ended(cells, 0, &mut start, site, done, requeued) {
            let main = TaskInfo {
                id: 0,
                name: Some("block_on"),
                spawned_at: at,
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
        self.sched().queue().with_queued(|ready| {
            let cells: Vec<_> = rest
                .iter()
                .chain(ready.iter())
                .filter_map(|&ptr| {
                    // SAFETY: every pointer here is on a ready queue (the rest of the
                    // batch was not polled yet, `ready` holds the next turn's), so its
                    // task is queued and owned by the slab: alive for this call, in
                    // which nothing is released.
                    let header = unsafe { header_of(ptr) };
                    self.observe().cells(header)
                })
                .collect();
            let main = self
                .observe()
                .main_timing()
                .filter(|_| self.sched().main_woken());
            timing.stalled(task, start, cells.iter().map(|c| &**c).chain(main));
        });
    }

    /// The first reactor poll after a stall: a look that does not block first, so that
    /// the readiness counted for the stall arrived before it, not while a park waited.
    /// If the look found nothing, that is the count (none), and a park then blocks as
    /// it would have. One reactor poll for the probes either way.
    #[cold]
    #[inline(never)]
    pub(crate) fn poll_after_stall(
        &self,
        timeout: Option<std::time::Duration>,
        woken: &mut Vec<std::task::Waker>,
    ) -> PollOutcome {
        let look = self.driver().poll(Some(std::time::Duration::ZERO), woken);
        let blocks = timeout != Some(std::time::Duration::ZERO);
        if !blocks || look.io_events > 0 || look.remote_woken || !woken.is_empty() {
            return look;
        }
        self.count_readiness_after_stall(0, 0);
        self.driver().poll(timeout, woken)
    }

    /// The first reactor poll after a stall woke `queued` more tasks (the queue grew
    /// by that much) from `sources` readiness events: the stall's reports say so.
    #[cold]
    #[inline(never)]
    pub(crate) fn count_readiness_after_stall(&self, queued: usize, sources: u64) {
        if let Some(timing) = self.observe().timing() {
            timing.readiness_after_stall(queued as u64, sources);
        }
    }

    /// Whether the reactor poll about to be made is the first after a stall: then it
    /// looks without blocking first (`poll_after_stall`), and the readiness it finds is
    /// counted for the stall's reports. One load when timed.
    #[inline(always)]
    pub(crate) fn after_stall(&self) -> bool {
        self.observe()
            .timing()
            .is_some_and(Timing::awaits_readiness)
    }

    /// A task that yielded with no waker left for it can never run again
    /// (`has_no_waker`).
    #[inline]
    pub(crate) fn check_lost_waker(&self, timing: &Timing, header: &Header) {
        if !header.state.awaits_wake() {
            return;
        }
        let Some(refs) = self.sched().references(header.index) else {
            return;
        };
        if has_no_waker(header, refs) {
            self.report_lost_waker(timing, header);
        }
    }

    #[cold]
    pub(super) fn report_lost_waker(&self, timing: &Timing, header: &Header) {
        let name = self.observe().task_name(header.id);
        let cells = self.observe().cells(header);
        timing.lost_waker(info(header, name.as_deref()), cells.as_deref());
    }
}
