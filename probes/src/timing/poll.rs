//! Poll and wake events: scheduling delay, busy time, await sites, and the poll
//! published for the watchdog.

use std::panic::Location;

use super::{PollStarted, Timing, NOT_POLLING, NOT_WOKEN};
use crate::clock::Ticks;
use crate::counters::WakeSource;
use crate::sites::SiteTag;
use crate::task_timing::{TaskTiming, NO_SITE};
use crate::trace::EventKind;

impl Timing {
    /// A wake queued `target` (at `Level::Trace`, also an event).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// t.woken(&task, 1, turnstile_probes::WakeSource::Local);
    /// ```
    #[inline]
    pub fn woken(&self, task: &TaskTiming, target: u64, source: WakeSource) {
        // No clock read per wake: the latest reading (the start of the poll that woke
        // it, or the reactor's return) is a lower bound of the wake's time, so a delay
        // is overstated by at most the rest of that poll; a task woken during its own
        // poll is restamped at the poll's end (`poll_ended`).
        let now = self.hint.get();
        // A task woken during its own poll keeps the wake that queued this poll: its
        // scheduling delay is read at the poll's end, which then restamps it.
        if self.polling.get() != target {
            task.woken(now);
            task.io_woken.set(source == WakeSource::Io);
        }
        if self.tracing {
            let by = Some(self.polling.get()).filter(|&id| id != NOT_POLLING);
            self.event(now, EventKind::Wake { target, source, by });
        }
    }

    /// A wake of `target`, already queued, was coalesced (at `Level::Trace`, an event;
    /// nothing otherwise).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Trace, Default::default(), 8);
    /// t.coalesced(1, turnstile_probes::WakeSource::Local);
    /// assert_eq!(t.trace(Default::default()).unwrap().events.len(), 1);
    /// ```
    #[inline]
    pub fn coalesced(&self, target: u64, source: WakeSource) {
        if self.tracing {
            let by = Some(self.polling.get()).filter(|&id| id != NOT_POLLING);
            let now = self.hint.get();
            self.event(now, EventKind::Coalesced { target, source, by });
        }
    }

    /// Task `task` was spawned (at `Level::Trace`, an event naming the task being
    /// polled; nothing otherwise).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Trace, Default::default(), 8);
    /// t.spawned(3);
    /// let log = t.trace(Default::default()).unwrap();
    /// assert_eq!(log.events[0].kind, turnstile_probes::EventKind::Spawned { task: 3, by: None });
    /// ```
    #[inline]
    pub fn spawned(&self, task: u64) {
        if self.tracing {
            let by = Some(self.polling.get()).filter(|&id| id != NOT_POLLING);
            let now = self.hint.get();
            self.event(now, EventKind::Spawned { task, by });
        }
    }

    /// A timer due `due_in` from now was armed by the task being polled (at
    /// `Level::Trace`, an event; nothing otherwise).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Trace, Default::default(), 8);
    /// t.timer_set(std::time::Duration::from_millis(10));
    /// let log = t.trace(Default::default()).unwrap();
    /// assert_eq!(
    ///     log.events[0].kind,
    ///     turnstile_probes::EventKind::TimerSet { task: None, due_in_ns: 10_000_000 }
    /// );
    /// ```
    #[inline]
    pub fn timer_set(&self, due_in: std::time::Duration) {
        if self.tracing {
            let task = Some(self.polling.get()).filter(|&id| id != NOT_POLLING);
            let due_in_ns = u64::try_from(due_in.as_nanos()).unwrap_or(u64::MAX);
            // A reading of its own (not the poll's start): the deadline is counted from
            // now, however long the poll ran before it armed the timer. The poll's
            // chain of readings is left alone.
            let now = self.clock.now();
            self.event(now, EventKind::TimerSet { task, due_in_ns });
        }
    }

    /// Where a poll of `id` that returned `Pending` stopped, as a trace event.
    #[cold]
    fn yielded(&self, now: Ticks, task: &TaskTiming, id: u64, budget: bool) {
        let site = Some(task.waiting_site.get()).filter(|&s| s != NO_SITE);
        let stack = Some(task.stack.get()).filter(|&s| s != crate::stack::NO_STACK);
        let kind = EventKind::Yielded {
            task: id,
            site,
            stack,
            budget,
        };
        self.event(now, kind);
    }

    /// A poll of task `id` begins. Its start is the end of the last poll when nothing
    /// ran in between (so back-to-back polls read the clock once each), else a fresh
    /// reading. Nothing of the task's own is touched here: its cells are read and
    /// written once, when the poll ends (`poll_ended`), which also takes its
    /// scheduling delay.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let mut start = t.poll_started(1);
    /// t.poll_ended(&task, 1, &mut start, turnstile_probes::SiteTag::NONE, true, false);
    /// assert_eq!(t.scheduling_delay().count, 1);
    /// ```
    #[inline(always)]
    pub fn poll_started(&self, id: u64) -> PollStarted {
        let now = match self.chain.replace(0) {
            0 => self.read(),
            end_of_last_poll => end_of_last_poll,
        };
        if now.wrapping_sub(self.cpu_sampled.get()) > self.cpu_refresh {
            self.sample_cpu(now);
        }
        self.polling.set(id);
        self.path.clear();
        if self.tracing {
            self.event(now, EventKind::PollStart { task: id });
        }
        PollStarted {
            at: now,
            delay: NOT_WOKEN,
            io: false,
            resumed_from: NO_SITE,
        }
    }

    /// Samples the loop thread's CPU clock (see `CpuSampler`): at most every tenth of
    /// the stall threshold, so the hot path pays one comparison.
    #[cold]
    #[inline(never)]
    pub(super) fn sample_cpu(&self, now: Ticks) {
        self.inner.borrow_mut().cpu.sample();
        self.cpu_sampled.set(now);
    }

    /// Publishes a poll's start for the watchdog (when one runs).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.beacon_start(1, 1, std::panic::Location::caller());
    /// t.beacon_end();
    /// ```
    #[inline]
    pub fn beacon_start(&self, id: u64, at: Ticks, spawned_at: &'static Location<'static>) {
        if let Some(beacon) = &self.beacon {
            beacon.poll_started(id, at, spawned_at);
        }
    }

    /// Clears the published poll.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.beacon_end();
    /// ```
    #[inline]
    pub fn beacon_end(&self) {
        if let Some(beacon) = &self.beacon {
            beacon.poll_ended();
        }
    }

    /// A poll of task `id` returned: `tag` is the site its leaf left (if it yielded),
    /// `done` whether it finished, `requeued` whether it was woken during the poll
    /// (then its wake is stamped with the poll's end). Returns true if it was a stall,
    /// for the executor to call [`Timing::stalled`] with what it knows.
    ///
    /// ```
    /// use std::time::Duration;
    /// let t = turnstile_probes::Timing::new(
    ///     turnstile_probes::Level::Timing, Duration::from_secs(10), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let mut start = t.poll_started(1);
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// assert!(!t.poll_ended(&task, 1, &mut start, tag, false, false)); // not a stall
    /// assert_eq!(t.sites()[0].yields, 1);
    /// ```
    #[inline(always)]
    pub fn poll_ended(
        &self,
        task: &TaskTiming,
        id: u64,
        start: &mut PollStarted,
        tag: SiteTag,
        done: bool,
        requeued: bool,
    ) -> bool {
        let now = self.clock.now();
        self.hint.set(now);
        // A finished task's future is dropped next (user code): no chaining then.
        self.chain.set(if done { 0 } else { now });
        self.polling.set(NOT_POLLING);
        let ticks = now.saturating_sub(start.at);
        let stalled = ticks >= self.stall_ticks;
        // The task's cells, each read and written once. The wake that queued this poll
        // (a wake during the poll left it alone, see `woken`): the scheduling delay
        // ended at the poll's start. A wake during the poll is stamped with its end.
        let woken = task.woken_at.get();
        task.woken_at.set(if requeued { now } else { 0 });
        task.busy.set(task.busy.get() + ticks);
        if ticks > task.longest_poll.get() {
            task.longest_poll.set(ticks);
        }
        let waiting = task.waiting_site.get();
        start.resumed_from = waiting;
        let mut inner = self.inner.borrow_mut();
        inner.poll.record(ticks);
        if woken != 0 {
            let delay = start.at.saturating_sub(woken);
            task.scheduled.set(task.scheduled.get() + delay);
            inner.delay.record(delay);
            start.delay = delay;
            // Only a wake sets it, and only with `woken_at`.
            if task.io_woken.replace(false) {
                start.io = true;
                inner.io_delay.record(delay);
            }
        }
        let by_budget = self.budget_yielded.get() && self.budget_ended(task, &mut inner, tag, done);
        self.ended_by_budget.set(by_budget);
        if done {
            // A finished task waits nowhere: the wait it resumed from (if any) ended
            // when this poll began.
            if waiting != NO_SITE {
                let waited = start.at.saturating_sub(task.waiting_since.get());
                inner.sites.ended_wait(waiting, waited);
                task.waiting_site.set(NO_SITE);
            }
        } else {
            // The site is looked up only for a poll that returned `Pending` (a
            // one-entry cache first). The same leaf pending again (a wait that goes
            // on) is one comparison with the task's site and one count; a new leaf
            // (each `yield_now` of a loop is one) ends the wait and begins another.
            match inner.sites.resolve(tag) {
                Some((site, true)) if site == waiting => inner.sites.yielded_again(site),
                resolved => {
                    if waiting != NO_SITE {
                        let waited = start.at.saturating_sub(task.waiting_since.get());
                        inner.sites.ended_wait(waiting, waited);
                    }
                    match resolved {
                        Some((site, _)) => {
                            inner.sites.began_wait(site);
                            task.waiting_site.set(site);
                            task.waiting_since.set(now);
                        }
                        None => {
                            inner.sites.unattributed_yield();
                            task.waiting_site.set(NO_SITE);
                        }
                    }
                }
            }
        }
        drop(inner);
        // Until an instrumented await yields in this runtime, the one test it costs.
        if self.stacks_used.get() {
            self.suspended(task, done, stalled);
        }
        if done {
            task.ended(now);
        }
        if self.tracing {
            if !done {
                self.yielded(now, task, id, by_budget);
            }
            self.event(now, EventKind::PollEnd { task: id, done });
        }
        stalled
    }

    /// A leaf forced a budget yield during the poll that just ended: unless the task
    /// finished anyway, the yield is the budget's, for the task and the site (looked
    /// up here too; the common path finds it again in the one-entry cache). Returns
    /// whether the poll ended in a budget yield.
    #[cold]
    #[inline(never)]
    fn budget_ended(
        &self,
        task: &TaskTiming,
        inner: &mut super::Recorded,
        tag: SiteTag,
        done: bool,
    ) -> bool {
        self.budget_yielded.set(false);
        if done {
            return false;
        }
        task.budget_yields.set(task.budget_yields.get() + 1);
        if let Some((site, _)) = inner.sites.resolve(tag) {
            inner.sites.budget_yield(site);
        }
        true
    }

    /// A leaf future found the poll's cooperative budget spent and made its task yield:
    /// the poll's end counts the yield as the budget's, for the task and the site.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let mut start = t.poll_started(1);
    /// t.budget_yield();
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// t.poll_ended(&task, 1, &mut start, tag, false, true);
    /// assert_eq!(task.budget_yields(), 1);
    /// assert_eq!(t.sites()[0].budget_yields, 1);
    /// ```
    #[cold]
    pub fn budget_yield(&self) {
        self.budget_yielded.set(true);
    }

    /// A leaf at `tag` completed on its first poll.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// t.inline(turnstile_probes::SiteTag::code(std::panic::Location::caller()));
    /// assert_eq!(t.sites()[0].inline, 1);
    /// ```
    pub fn inline(&self, tag: SiteTag) {
        self.inner.borrow_mut().sites.inline(tag);
    }

    /// The tag of a labelled site (`ProbeExt::probe`).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let at = std::panic::Location::caller();
    /// assert_eq!(t.label_tag("db", at), t.label_tag("db", at));
    /// ```
    pub fn label_tag(&self, label: &'static str, at: &'static Location<'static>) -> SiteTag {
        self.inner.borrow_mut().sites.label_tag(label, at)
    }

    /// The tag of a socket's site named `label` (see [`Sites::socket_tag`](crate::Sites::socket_tag)).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert_eq!(t.socket_tag("tcp read from 127.0.0.1:5432"), t.socket_tag("tcp read from 127.0.0.1:5432"));
    /// ```
    pub fn socket_tag(&self, label: &str) -> SiteTag {
        self.inner.borrow_mut().sites.socket_tag(label)
    }
}
