//! Reports: stalls, lost wakers and trace events, and the outbox that holds their
//! `tracing` events until the executor is at a safe point.

use std::time::Duration;

use super::{PollStarted, TaskInfo, Timing};
use crate::clock::Ticks;
use crate::lost::{LostWaker, LOST_KEPT};
use crate::os::ContextSwitches;
use crate::outbox::{Outbox, Outgoing};
use crate::sched::{self, StallTimes};
use crate::stack::NO_STACK;
use crate::stall::{ReadinessAfter, StallKind, StallReport, STALLS_KEPT};
use crate::task_timing::{TaskTiming, NO_SITE};
use crate::trace::EventKind;

impl Timing {
    #[cold]
    pub(super) fn event(&self, at: Ticks, kind: EventKind) {
        // The ring keeps raw ticks; `trace` converts them when the log is read.
        if let Some(ring) = self.inner.borrow_mut().ring.as_mut() {
            ring.push(at, kind);
        }
        if tracing::enabled!(target: "turnstile", tracing::Level::TRACE) {
            let at_ns = self.since_origin(at);
            self.post(Outgoing::Trace { at_ns, kind });
        }
    }

    /// Queues a `tracing` event for [`Timing::take_outbox`]: never emitted from here,
    /// where the caller may be in the middle of a change.
    pub(super) fn post(&self, item: Outgoing) {
        self.outbox.borrow_mut().items.push(item);
        self.posted.set(true);
    }

    /// Whether events wait in the outbox (one load: the loop asks after every batch).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(!t.has_outbox());
    /// ```
    #[inline(always)]
    pub fn has_outbox(&self) -> bool {
        self.posted.get()
    }

    /// Takes the queued `tracing` events, for the caller to [`Outbox::emit`] once it
    /// holds no borrow that a subscriber could run into.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.take_outbox().is_empty());
    /// ```
    pub fn take_outbox(&self) -> Outbox {
        self.posted.set(false);
        std::mem::take(&mut *self.outbox.borrow_mut())
    }

    /// Writes the report of a stall that just ended (a poll of `task` from `start` to
    /// now), with the tasks that waited for it. Also queues a `tracing` warning (see
    /// [`Timing::take_outbox`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile_probes::{Level, TaskInfo, TaskTiming, Timing};
    /// let t = Timing::new(Level::Timing, Duration::ZERO, 0);
    /// let task = TaskTiming::new(t.now());
    /// let start = t.poll_started(1);
    /// let info = TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
    /// t.stalled(info, start, std::iter::empty());
    /// assert_eq!(t.stalls().1, 1);
    /// ```
    #[cold]
    #[inline(never)]
    pub fn stalled<'a>(
        &self,
        task: TaskInfo<'_>,
        start: PollStarted,
        waiting: impl Iterator<Item = &'a TaskTiming>,
    ) {
        let now = self.read();
        let duration = self.clock.between(start.at, now);
        let mut tasks_waiting = 0;
        let mut longest = 0;
        for other in waiting {
            let woken = other.woken_at.get();
            if woken != 0 {
                tasks_waiting += 1;
                longest = longest.max(self.clock.nanos_between(woken, now));
            }
        }
        // What the watchdog found while the poll ran (a lock it holds only to store).
        let capture = self
            .beacon
            .as_ref()
            .and_then(|b| b.take_capture(start.at))
            .unwrap_or_default();
        let mut inner = self.inner.borrow_mut();
        let cpu_now = crate::os::thread_cpu_time();
        let switches_now = crate::stall::switches_now();
        let switches = inner
            .cpu
            .switches
            .zip(switches_now)
            .map(|(a, b)| b.since(&a));
        // Measured, with the watchdog's sample from before the poll: the CPU clock and
        // the run-queue delay, each read once more now.
        let times = capture
            .before
            .zip(sched::of_this_thread(cpu_now))
            .map(|(before, after)| StallTimes::between(before, after, duration));
        let cpu_time = match (inner.cpu.cpu, cpu_now) {
            (Some(before), Some(after)) => {
                // The window runs from the last sample (before the poll) to now, less
                // the parks in between (`cpu_sampled` moved past them).
                let window = self
                    .clock
                    .between(self.cpu_sampled.get(), now)
                    .max(duration);
                Some((after.saturating_sub(before).min(window), window))
            }
            _ => None,
        };
        let parks = inner.cpu.parks;
        let kind = match (times, cpu_time) {
            (Some(times), _) => times.kind(),
            (None, Some((cpu, window))) => inferred_kind(cpu, window, switches, parks),
            (None, None) => StallKind::Unknown,
        };
        let cpu_time = times.map(|t| t.on_cpu).or(cpu_time.map(|(cpu, _)| cpu));
        // The sample is spent: the next poll takes a fresh one.
        inner.cpu.cpu = cpu_now;
        inner.cpu.switches = switches_now;
        inner.cpu.parks = 0;
        self.cpu_sampled.set(now);
        let resumed_from =
            (start.resumed_from != NO_SITE).then(|| inner.sites.get(start.resumed_from).name());
        let stack = inner
            .stacks
            .get(self.stalled_stack.replace(NO_STACK), resumed_from.clone());
        let report = StallReport {
            task_id: task.id,
            task_name: task.name.map(str::to_owned),
            spawned_at: task.spawned_at.to_string(),
            resumed_from,
            stack,
            turn: self.turn.get(),
            duration,
            cpu_time,
            context_switches: switches,
            kind,
            times,
            blocked_at: capture.blocked_at,
            no_line: capture.no_line,
            loop_thread: capture.loop_thread,
            backtrace: capture.backtrace,
            tasks_waiting,
            readiness_after: None,
            longest_delay: Duration::from_nanos(longest),
            ended_by_budget: self.ended_by_budget.get(),
            flight_recorder: None,
        };
        inner.stalls_total += 1;
        if inner.stalls.len() == STALLS_KEPT {
            inner.stalls.pop_front();
        }
        // The next reactor poll adds the readiness that arrived meanwhile to the kept
        // report (the `tracing` warning goes out at the end of this turn, without it).
        inner
            .awaiting_readiness
            .push((report.turn, report.task_id, report.duration));
        self.awaits_readiness.set(true);
        inner.stalls.push_back(report.clone());
        drop(inner);
        self.post(Outgoing::Stall(Box::new(report)));
        if self.tracing {
            let nanos = duration.as_nanos() as u64;
            self.event(
                now,
                EventKind::Stall {
                    task: task.id,
                    nanos,
                },
            );
        }
    }

    /// Whether stall reports wait for the next reactor poll (one load: the loop asks
    /// before each reactor poll; then that poll does not block, and its readiness is
    /// counted by [`Timing::readiness_after_stall`]).
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(!t.awaits_readiness());
    /// ```
    #[inline(always)]
    pub fn awaits_readiness(&self) -> bool {
        self.awaits_readiness.get()
    }

    /// The first reactor poll after a stall found readiness that queued `tasks` more
    /// tasks, from `sources` ready sources: they waited for the stall too (a lower
    /// bound). Added to the kept reports of the stalls since the last reactor poll.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile_probes::{Level, TaskInfo, Timing};
    /// let t = Timing::new(Level::Timing, Duration::ZERO, 0);
    /// let start = t.poll_started(1);
    /// let info = TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
    /// t.stalled(info, start, std::iter::empty());
    /// assert!(t.awaits_readiness());
    /// t.readiness_after_stall(3, 4);
    /// assert_eq!(t.stalls().0[0].readiness_after.unwrap().tasks, 3);
    /// assert!(!t.awaits_readiness());
    /// ```
    #[cold]
    #[inline(never)]
    pub fn readiness_after_stall(&self, tasks: u64, sources: u64) {
        self.awaits_readiness.set(false);
        let readiness = ReadinessAfter { tasks, sources };
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        for (turn, task, duration) in inner.awaiting_readiness.drain(..) {
            let kept = inner
                .stalls
                .iter_mut()
                .rev()
                .find(|r| r.turn == turn && r.task_id == task && r.duration == duration);
            if let Some(kept) = kept {
                kept.readiness_after = Some(readiness);
            }
        }
    }

    /// The async stacks that the tasks which stalled in `turn` resumed from (id, stack),
    /// for the flight recorder's file.
    ///
    /// ```
    /// let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// assert!(t.stall_stacks(1).is_empty());
    /// ```
    pub fn stall_stacks(&self, turn: u64) -> Vec<(u64, String)> {
        let stack = |r: &StallReport| {
            (r.turn == turn).then_some(())?;
            Some((r.task_id, r.stack.as_ref()?.to_string()))
        };
        let mut stacks: Vec<_> = self
            .inner
            .borrow()
            .stalls
            .iter()
            .filter_map(stack)
            .collect();
        for item in &self.outbox.borrow().items {
            if let Outgoing::Stall(report) = item {
                stacks.extend(stack(report));
            }
        }
        stacks
    }

    /// Adds what the flight recorder did (`note`: the file it wrote, or why none) to
    /// the stall reports of `turn`, kept and queued. Returns whether there was one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile_probes::{Level, TaskInfo, TaskTiming, Timing};
    /// let t = Timing::new(Level::Timing, Duration::ZERO, 0);
    /// let task = TaskTiming::new(t.now());
    /// let start = t.poll_started(1);
    /// let info = TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
    /// t.stalled(info, start, std::iter::empty());
    /// assert!(t.note_flight_file(0, "wrote x.json"));
    /// assert!(t.stalls().0[0].to_string().contains("flight recorder: wrote x.json"));
    /// ```
    pub fn note_flight_file(&self, turn: u64, note: &str) -> bool {
        let mut found = false;
        for report in self.inner.borrow_mut().stalls.iter_mut().rev() {
            if report.turn == turn && report.flight_recorder.is_none() {
                report.flight_recorder = Some(note.to_owned());
                found = true;
            }
        }
        for item in &mut self.outbox.borrow_mut().items {
            if let Outgoing::Stall(report) = item {
                if report.turn == turn && report.flight_recorder.is_none() {
                    report.flight_recorder = Some(note.to_owned());
                }
            }
        }
        found
    }

    /// Reports a lost waker.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// let task = turnstile_probes::TaskTiming::new(t.now());
    /// let info = turnstile_probes::TaskInfo { id: 1, name: None, spawned_at: std::panic::Location::caller() };
    /// t.lost_waker(info, Some(&task));
    /// assert_eq!(t.lost_wakers().1, 1);
    /// ```
    #[cold]
    pub fn lost_waker(&self, task: TaskInfo<'_>, timing: Option<&TaskTiming>) {
        if let Some(t) = timing {
            if t.lost.replace(true) {
                return; // reported already
            }
        }
        let mut inner = self.inner.borrow_mut();
        let site = timing.map_or(NO_SITE, |t| t.waiting_site.get());
        let report = LostWaker {
            task_id: task.id,
            task_name: task.name.map(str::to_owned),
            spawned_at: task.spawned_at.to_string(),
            last_site: (site != NO_SITE).then(|| inner.sites.get(site).name()),
        };
        inner.lost_total += 1;
        if inner.lost.len() == LOST_KEPT {
            inner.lost.pop_front();
        }
        inner.lost.push_back(report.clone());
        drop(inner);
        self.post(Outgoing::LostWaker(report));
    }
}

/// A stall's kind without a sample from before the poll: from the CPU clock over
/// `window` and the context switches since the sample, `parks` parks ago. Mostly off
/// the CPU, and it gave the CPU up itself (a voluntary switch): blocked; only taken off
/// (involuntary switches): preempted. Each park may have made one voluntary switch of
/// its own: more voluntary switches than parks are the stall's; as many or fewer may
/// all be the parks', and then the involuntary ones decide.
fn inferred_kind(
    cpu: Duration,
    window: Duration,
    switches: Option<ContextSwitches>,
    parks: u64,
) -> StallKind {
    if cpu * 2 >= window {
        return StallKind::OnCpu;
    }
    let Some(s) = switches else {
        return StallKind::OffCpu;
    };
    if s.voluntary > parks || (s.voluntary > 0 && s.involuntary == 0) {
        StallKind::OffCpu
    } else {
        StallKind::Preempted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switches(voluntary: u64, involuntary: u64) -> Option<ContextSwitches> {
        Some(ContextSwitches {
            voluntary,
            involuntary,
        })
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_stall_on_the_cpu_for_half_its_window_is_on_cpu() {
        assert_eq!(
            inferred_kind(5 * MS, 10 * MS, switches(3, 0), 3),
            StallKind::OnCpu
        );
    }

    #[test]
    fn without_parks_a_voluntary_switch_is_a_blocked_stall() {
        assert_eq!(
            inferred_kind(MS, 10 * MS, switches(1, 4), 0),
            StallKind::OffCpu
        );
        assert_eq!(
            inferred_kind(MS, 10 * MS, switches(0, 4), 0),
            StallKind::Preempted
        );
    }

    #[test]
    fn switches_the_parks_may_have_made_are_not_the_stall_s() {
        // More voluntary switches than parks: the stall blocked.
        assert_eq!(
            inferred_kind(MS, 10 * MS, switches(3, 1), 2),
            StallKind::OffCpu
        );
        // As many as the parks, and the OS took the CPU away: preempted.
        assert_eq!(
            inferred_kind(MS, 10 * MS, switches(2, 1), 2),
            StallKind::Preempted
        );
        // As many as the parks, and never taken off: it gave the CPU up itself.
        assert_eq!(
            inferred_kind(MS, 10 * MS, switches(2, 0), 2),
            StallKind::OffCpu
        );
        // No switch at all: preempted (as without parks).
        assert_eq!(
            inferred_kind(MS, 10 * MS, switches(0, 0), 2),
            StallKind::Preempted
        );
    }
}
