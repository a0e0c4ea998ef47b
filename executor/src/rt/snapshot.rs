//! What the probes read back from the loop: a [`Snapshot`] of everything they have
//! recorded, assembled from the observer, the scheduler's live tasks and the driver's
//! timers. Taken between polls (by `Runtime::probes`, `probes::snapshot`, the inspector
//! and the metrics publisher); nothing here runs user code.

use std::sync::Arc;

use turnstile_probes::{Level, Snapshot, TaskStats, Timing};

use super::Core;
use crate::observe::stats::{has_no_waker, task_stats};
use crate::raw::LocalTask;

impl Core {
    /// Everything the probes recorded so far.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let level = self.observe().level();
        let mut snap = Snapshot::new(level);
        if level == Level::Off {
            return snap;
        }
        snap.counters = self.observe().counters().get();
        snap.tasks = self.task_stats();
        snap.parked = self.observe().parked_total();
        snap.running = self.observe().running(self.driver().now());
        let timers = self.driver().timer_count();
        snap.timers_pending = timers.pending;
        snap.timer_slots = timers.slots;
        snap.timer_heap = timers.heap;
        snap.context_switches = self.observe().context_switches();
        self.timing_snapshot(&mut snap);
        snap
    }

    /// Stats of the finished tasks in the history and of every live task.
    pub(crate) fn task_stats(&self) -> Vec<TaskStats> {
        let timing = self.observe().timing();
        let now = timing.map_or(0, Timing::now);
        let live = self.sched().live();
        self.observe().with_history(|history, finished, names| {
            let old = history.iter().map(|task| {
                let h = task.header();
                let c = finished.iter().find(|(id, _)| *id == h.id).map(|(_, c)| c);
                let name = names.get(&h.id).map(|n| &**n);
                task_stats(h, name, timing.zip(c).map(|(t, c)| (t, now, c)))
            });
            let mut stats: Vec<TaskStats> = old.collect();
            stats.extend(live.iter().map(|task| {
                let h = task.header();
                let c = self.observe().cells(h);
                let name = names.get(&h.id).map(|n| &**n);
                task_stats(h, name, timing.zip(c.as_deref()).map(|(t, c)| (t, now, c)))
            }));
            stats
        })
    }

    /// Fills in the timing parts of a snapshot, first looking for tasks whose last
    /// waker was dropped since their poll.
    pub(crate) fn timing_snapshot(&self, snap: &mut Snapshot) {
        let Some(timing) = self.observe().timing() else {
            return;
        };
        let live: Vec<Arc<dyn LocalTask>> = self.sched().live();
        for task in &live {
            // Our clone is one more reference than the slab's own count.
            if has_no_waker(task.header(), Arc::strong_count(task) - 1) {
                self.report_lost_waker(timing, task.header());
            }
        }
        snap.poll_duration = timing.poll_duration();
        snap.scheduling_delay = timing.scheduling_delay();
        snap.io_delay = timing.io_delay();
        snap.turn_duration = timing.turn_duration();
        snap.park_duration = timing.park_duration();
        snap.sites = timing.sites();
        snap.unattributed_yields = timing.unattributed_yields();
        (snap.stalls, snap.stalls_total) = timing.stalls();
        snap.watchdog_reports = timing.watchdog_reports();
        (snap.lost_wakers, snap.lost_wakers_total) = timing.lost_wakers();
        if timing.is_tracing() {
            let names = self.observe().with_history(|history, _, named| {
                history
                    .iter()
                    .chain(live.iter())
                    .map(|t| {
                        let h = t.header();
                        let name = named
                            .get(&h.id)
                            .map_or_else(|| h.spawned_at.to_string(), |n| n.to_string());
                        (h.id, name)
                    })
                    .collect()
            });
            snap.trace = timing.trace(names);
        }
    }
}
