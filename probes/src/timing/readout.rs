//! What snapshots read: summaries in nanoseconds, sites, reports, the trace.

use std::collections::HashMap;

use super::Timing;
use crate::histogram::LatencySummary;
use crate::lost::LostWaker;
use crate::sites::SiteStats;
use crate::stall::StallReport;
use crate::trace::TraceLog;

impl Timing {
    /// Poll durations so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.poll_duration().count, 0);
    /// ```
    pub fn poll_duration(&self) -> LatencySummary {
        self.inner
            .borrow()
            .poll
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Scheduling delays (wake to poll) so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.scheduling_delay().count, 0);
    /// ```
    pub fn scheduling_delay(&self) -> LatencySummary {
        self.inner
            .borrow()
            .delay
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// I/O delays so far: for each poll of a task that a socket's readiness woke, the
    /// time from the reactor poll that reported it to the poll of the task, which is
    /// the time the I/O waited behind ready tasks (a part of `scheduling_delay`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.io_delay().count, 0);
    /// ```
    pub fn io_delay(&self) -> LatencySummary {
        self.inner
            .borrow()
            .io_delay
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Turn durations (parked time excluded) so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.turn_duration().count, 0);
    /// ```
    pub fn turn_duration(&self) -> LatencySummary {
        self.inner
            .borrow()
            .turn
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Park durations so far.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.park_duration().count, 0);
    /// ```
    pub fn park_duration(&self) -> LatencySummary {
        self.inner
            .borrow()
            .park
            .summary_scaled(|t| self.clock.ticks_to_nanos(t))
    }

    /// Every await site, and the yields that left no site.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.sites().is_empty());
    /// ```
    pub fn sites(&self) -> Vec<SiteStats> {
        self.inner
            .borrow()
            .sites
            .stats_scaled(&|t| self.clock.ticks_to_nanos(t))
    }

    /// Yields whose `Pending` left no site.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.unattributed_yields(), 0);
    /// ```
    pub fn unattributed_yields(&self) -> u64 {
        self.inner.borrow().sites.unattributed()
    }

    /// The stall reports kept, and how many stalls there were in all.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.stalls().1, 0);
    /// ```
    pub fn stalls(&self) -> (Vec<StallReport>, u64) {
        let inner = self.inner.borrow();
        (inner.stalls.iter().cloned().collect(), inner.stalls_total)
    }

    /// The lost wakers kept, and how many in all.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.lost_wakers().1, 0);
    /// ```
    pub fn lost_wakers(&self) -> (Vec<LostWaker>, u64) {
        let inner = self.inner.borrow();
        (inner.lost.iter().cloned().collect(), inner.lost_total)
    }

    /// Reports made by the watchdog, if one runs.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.watchdog_reports(), 0);
    /// ```
    pub fn watchdog_reports(&self) -> u64 {
        self.beacon.as_ref().map_or(0, |b| b.reports())
    }

    /// The site `task` waits at (where its last poll yielded) and how long it has waited
    /// there by `now`, if it waits at a known site.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// assert!(t.waiting_at(&task, t.now()).is_none());
    /// ```
    pub fn waiting_at(
        &self,
        task: &crate::TaskTiming,
        now: crate::Ticks,
    ) -> Option<(String, std::time::Duration)> {
        let site = task.waiting_site.get();
        if site == crate::task_timing::NO_SITE || task.ended.get() != 0 {
            return None;
        }
        let name = self.inner.borrow().sites.get(site).name();
        Some((name, self.clock.between(task.waiting_since.get(), now)))
    }

    /// Every async stack a task was suspended in so far, by the index that
    /// [`crate::EventKind::Yielded`] events give (leaf sites not filled in: a
    /// `Yielded` event names its own).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Trace, Default::default(), 8);
    /// assert!(t.stack_table().is_empty());
    /// ```
    pub fn stack_table(&self) -> Vec<crate::AsyncStack> {
        self.inner.borrow().stacks.all()
    }

    /// The trace ring's content (at `Level::Trace`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.trace(Default::default()).is_none());
    /// ```
    pub fn trace(&self, task_names: HashMap<u64, String>) -> Option<TraceLog> {
        self.inner
            .borrow()
            .ring
            .as_ref()
            .map(|ring| ring.log_scaled(task_names, |at| self.since_origin(at)))
    }
}
