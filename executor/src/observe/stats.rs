//! What the probes say about one task: its stats for a snapshot, and how a report
//! names it. Read from the task's header and its timing cells; nothing here runs user
//! code.

use turnstile_probes::{
    TaskInfo, TaskState, TaskStats, TaskTiming, Ticks, Timing, WakeSource, WakesBySource,
};

use crate::raw::state::Phase;
use crate::raw::Header;

/// What the probes know about the task `header` heads (named `name`); `timing` adds
/// its times at `Level::Timing`.
pub(crate) fn task_stats(
    header: &Header,
    name: Option<&str>,
    timing: Option<(&Timing, Ticks, &TaskTiming)>,
) -> TaskStats {
    let mut stats = TaskStats::new(header.id, name.map(str::to_owned), {
        let at = header.spawned_at;
        format!(
            "{}:{}:{}",
            turnstile_probes::short_path(at.file()),
            at.line(),
            at.column()
        )
    });
    stats.state = match header.state.phase() {
        Phase::Finished => TaskState::Finished,
        Phase::Running => TaskState::Running,
        Phase::Queued => TaskState::Queued,
        Phase::Idle => TaskState::Idle,
    };
    stats.polls = header.polls.get();
    stats.yields = header.polls.get() - u64::from(header.state.ended_by_poll());
    stats.wakes = header.wakes.get();
    stats.wakes_self = header.wakes_self.get();
    if let Some((probes, now, t)) = timing {
        let clock = probes.clock();
        stats.busy = t.busy(clock);
        stats.scheduled = t.scheduled(clock);
        stats.idle = t.idle(clock, now);
        stats.longest_poll = t.longest_poll(clock);
        let mut by = WakesBySource::default();
        by.local = t.wakes_from(WakeSource::Local);
        by.remote = t.wakes_from(WakeSource::Remote);
        by.io = t.wakes_from(WakeSource::Io);
        by.timer = t.wakes_from(WakeSource::Timer);
        stats.wakes_by_source = Some(by);
        stats.budget_yields = t.budget_yields();
        if stats.state != TaskState::Finished {
            stats.stack = probes.stack(t); // an aborted task keeps none
        }
        if stats.state == TaskState::Idle {
            if let Some((site, waited)) = probes.waiting_at(t, now) {
                stats.waiting_at = Some(site);
                stats.waiting_for = waited;
            }
        }
    }
    stats
}

/// Whether a task that waits for a wake, with `refs` references to it, has no waker
/// left to bring one: the references are the slab's, its `JoinHandle`'s unless
/// dropped, those of queues (a remote wake in flight) and its wakers'; only the first
/// two left means lost.
pub(crate) fn has_no_waker(header: &Header, refs: usize) -> bool {
    header.state.awaits_wake() && refs <= 1 + usize::from(!header.state.join_detached())
}

/// A task (named `name`) as a stall or lost-waker report names it.
pub(crate) fn info<'a>(header: &Header, name: Option<&'a str>) -> TaskInfo<'a> {
    TaskInfo {
        id: header.id,
        name,
        spawned_at: header.spawned_at,
    }
}
