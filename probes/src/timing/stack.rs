//! Instrumented awaits (`#[turnstile::instrument]`): their await sites, and the async
//! stack each task is suspended in.

use super::Timing;
use crate::clock::Ticks;
use crate::stack::{AsyncStack, Frame, PendingPath, NO_STACK};
use crate::task_timing::{TaskTiming, NO_SITE};

impl Timing {
    /// An instrumented await returned `Pending` (`first`: its first): its frame joins
    /// the pending path of the poll in progress, and its site counts a yield, which
    /// begins a wait when `first`. Returns the clock when a wait began, for
    /// [`Timing::frame_ready`].
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// static F: turnstile_probes::Frame = turnstile_probes::Frame::new("f", file!(), line!(), column!());
    /// let since = t.frame_pending(&F, true);
    /// t.frame_pending(&F, false);
    /// t.frame_ready(&F, Some(since));
    /// let site = &t.sites()[0];
    /// assert_eq!((site.awaited, site.yields, site.inline), (1, 2, 0));
    /// assert_eq!(site.label.as_deref(), Some("f"));
    /// ```
    #[cold]
    pub fn frame_pending(&self, frame: &'static Frame, first: bool) -> Ticks {
        self.path.push(frame);
        self.stacks_used.set(true);
        let mut inner = self.inner.borrow_mut();
        let site = inner.sites.frame(frame);
        if first {
            inner.sites.began_wait(site);
            drop(inner);
            self.clock.now()
        } else {
            inner.sites.yielded_again(site);
            0
        }
    }

    /// An instrumented await completed: inline (`since` is `None`: on its first poll)
    /// or at the end of a wait that began at `since`, which ends at this poll's start.
    ///
    /// ```
    /// # let t = turnstile_probes::Timing::new(turnstile_probes::Level::Timing, Default::default(), 0);
    /// static F: turnstile_probes::Frame = turnstile_probes::Frame::new("f", file!(), line!(), column!());
    /// t.frame_ready(&F, None);
    /// assert_eq!((t.sites()[0].awaited, t.sites()[0].inline), (1, 1));
    /// ```
    pub fn frame_ready(&self, frame: &'static Frame, since: Option<Ticks>) {
        let mut inner = self.inner.borrow_mut();
        let site = inner.sites.frame(frame);
        match since {
            None => inner.sites.inline_at(site),
            // `hint` is the start of the poll in progress: where the wait ended.
            Some(since) => inner
                .sites
                .ended_wait(site, self.hint.get().saturating_sub(since)),
        }
    }

    /// A poll of `task` ended (in a runtime where instrumented awaits yield): the path
    /// becomes the task's stack (none if `done`) until its next poll ends. For a poll
    /// that `stalled`, the stack it resumed from is kept for the report.
    #[inline(never)]
    pub(super) fn suspended(&self, task: &TaskTiming, done: bool, stalled: bool) {
        if stalled {
            self.stalled_stack.set(task.stack.get());
        }
        if self.path.is_empty() && task.stack.get() == NO_STACK {
            return;
        }
        let mut buffer = PendingPath::buffer();
        let (path, cut) = self.path.take(&mut buffer);
        let id = if done || path.is_empty() {
            NO_STACK
        } else {
            self.inner
                .borrow_mut()
                .stacks
                .intern(path, cut, task.stack.get())
        };
        task.stack.set(id);
    }

    /// The async stack `task` is suspended in, over the site it waits at; `None` when it
    /// is not suspended in an instrumented frame.
    ///
    /// ```
    /// use turnstile_probes::{Frame, Level, SiteTag, TaskTiming, Timing};
    /// static OUTER: Frame = Frame::new("outer", "a.rs", 1, 5);
    /// static INNER: Frame = Frame::new("inner", "a.rs", 9, 5);
    /// let t = Timing::new(Level::Timing, std::time::Duration::from_secs(60), 0);
    /// let task = TaskTiming::new(t.now());
    /// assert!(t.stack(&task).is_none());
    /// let mut start = t.poll_started(1);
    /// t.frame_pending(&INNER, true); // inner awaits return `Pending` first
    /// t.frame_pending(&OUTER, true);
    /// t.poll_ended(&task, 1, &mut start, SiteTag::NONE, false, false);
    /// assert_eq!(t.stack(&task).unwrap().to_string(), "outer a.rs:1:5 > inner a.rs:9:5");
    /// let mut start = t.poll_started(1);
    /// t.poll_ended(&task, 1, &mut start, SiteTag::NONE, true, false); // done: no stack
    /// assert!(t.stack(&task).is_none());
    /// ```
    pub fn stack(&self, task: &TaskTiming) -> Option<AsyncStack> {
        let id = task.stack.get();
        if id == NO_STACK {
            return None;
        }
        let inner = self.inner.borrow();
        let site = task.waiting_site.get();
        let leaf = (site != NO_SITE)
            .then(|| inner.sites.leaf_name(site))
            .flatten();
        inner.stacks.get(id, leaf)
    }
}
