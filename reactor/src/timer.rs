//! Timers: pending deadlines and the wakers to call when they pass.
//!
//! Entries live in a vector of slots with a free list; each slot carries a generation
//! so that a stale [`TimerKey`] (one whose timer fired or was cancelled, and whose slot
//! now holds another timer) never touches the new occupant. Deadlines are kept in order
//! with lazy deletion in a few queues ([`LANES`]) and a binary heap. A queue holds
//! deadlines that arrived in order, each later than the one before it: timers of one
//! duration, such as a server's per-request timeout, which are pushed and popped in
//! constant time. A deadline goes to the queue whose last deadline is the latest one
//! before it (so a long timer armed once, a server's lifetime say, keeps a queue of its
//! own rather than sending every later, shorter timer to the heap), to an empty queue
//! if none fits, and else to the heap. The earliest deadline is the earliest of the
//! fronts, so timers fire in the same order as from one heap. Cancelling frees the slot at once and leaves
//! the entry behind, to be skipped when it surfaces. When dead entries outnumber the
//! live ones, both are rebuilt from the live slots, so a million inserts followed by a
//! million cancels leave nothing behind but reusable capacity.
//!
//! A timer that fires is removed at once: its owner learns that it fired because its
//! key no longer names a pending timer. So a timer whose owner vanished without
//! cancelling (dropped on another thread, say) costs its slot only until its deadline.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::task::Waker;
use std::time::Instant;

/// Names one pending timer in a [`Timers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimerKey {
    index: u32,
    generation: u32,
}

/// A deadline in the order: deadline, then slot index and generation (the key).
type Entry = (Instant, u32, u32);

/// How many in-order queues [`Timers`] keeps beside its heap: enough for a program's few
/// timer durations (a server's lifetime, its request timeout, an interval), few enough
/// that finding the earliest deadline stays a handful of comparisons.
const LANES: usize = 4;

#[derive(Debug)]
struct Slot {
    /// Bumped each time the slot is freed, so old keys stop matching.
    generation: u32,
    /// Whether a timer occupies the slot.
    pending: bool,
    deadline: Instant,
    waker: Option<Waker>,
}

/// Pending timers, ordered by deadline.
///
/// ```
/// use std::time::{Duration, Instant};
/// let mut timers = turnstile_reactor::Timers::new();
/// let now = Instant::now();
/// let a = timers.insert(now + Duration::from_millis(1), None);
/// let b = timers.insert(now + Duration::from_secs(60), None);
/// assert!(timers.cancel(b).is_some());
/// let mut woken = Vec::new();
/// assert_eq!(timers.fire_expired(now + Duration::from_millis(2), &mut woken), 1);
/// assert!(!timers.is_pending(a));
/// assert_eq!(timers.len(), 0);
/// ```
#[derive(Debug, Default)]
pub struct Timers {
    slots: Vec<Slot>,
    /// Indexes of free slots, reused last-freed first (warm in cache).
    free: Vec<u32>,
    /// Deadlines of pending timers that came in order (in each queue, each entry later
    /// than the one before it), plus dead entries of cancelled ones.
    queues: [VecDeque<Entry>; LANES],
    /// Deadlines of the other pending timers, plus dead entries of cancelled ones.
    heap: BinaryHeap<Reverse<Entry>>,
    /// Pending timers.
    live: usize,
}

impl Timers {
    /// An empty timer store.
    ///
    /// ```
    /// assert!(turnstile_reactor::Timers::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Pending timers.
    ///
    /// ```
    /// assert_eq!(turnstile_reactor::Timers::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no timer is pending.
    ///
    /// ```
    /// assert!(turnstile_reactor::Timers::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Slots allocated so far, pending or free: the high-water mark of pending timers.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// let k = t.insert(std::time::Instant::now(), None);
    /// t.cancel(k);
    /// t.insert(std::time::Instant::now(), None);
    /// assert_eq!(t.slot_capacity(), 1);
    /// ```
    pub fn slot_capacity(&self) -> usize {
        self.slots.len()
    }

    /// Entries in the deadline order (the queue and the heap), dead ones included (for
    /// tests of compaction).
    ///
    /// ```
    /// assert_eq!(turnstile_reactor::Timers::new().heap_len(), 0);
    /// ```
    pub fn heap_len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum::<usize>() + self.heap.len()
    }

    /// Adds a timer for `deadline`, to wake `waker` when it passes.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// let k = t.insert(std::time::Instant::now(), None);
    /// assert!(t.is_pending(k));
    /// ```
    pub fn insert(&mut self, deadline: Instant, waker: Option<Waker>) -> TimerKey {
        let index = match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.pending = true;
                slot.deadline = deadline;
                slot.waker = waker;
                index
            }
            None => {
                let index = u32::try_from(self.slots.len()).expect("more than 2^32 timers");
                self.slots.push(Slot {
                    generation: 0,
                    pending: true,
                    deadline,
                    waker,
                });
                index
            }
        };
        let generation = self.slots[index as usize].generation;
        let entry = (deadline, index, generation);
        // The queue whose last entry is the latest before this one; else an empty one.
        let mut fit: Option<(usize, Entry)> = None;
        let mut empty = None;
        for (lane, queue) in self.queues.iter().enumerate() {
            match queue.back() {
                None => {
                    empty.get_or_insert(lane);
                }
                Some(&last) if last < entry && fit.is_none_or(|(_, best)| last > best) => {
                    fit = Some((lane, last));
                }
                Some(_) => {}
            }
        }
        match fit.map(|(lane, _)| lane).or(empty) {
            Some(lane) => self.queues[lane].push_back(entry),
            None => self.heap.push(Reverse(entry)),
        }
        self.live += 1;
        TimerKey { index, generation }
    }

    /// Whether `key` names a timer that has neither fired nor been cancelled.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// let k = t.insert(std::time::Instant::now(), None);
    /// t.cancel(k);
    /// assert!(!t.is_pending(k));
    /// ```
    pub fn is_pending(&self, key: TimerKey) -> bool {
        self.slot(key).is_some()
    }

    /// Replaces the waker of a pending timer, unless it would wake the same task anyway.
    /// Returns `None` when the timer is no longer pending, else the waker it displaced
    /// (if any), for the caller to drop once it holds no borrow of this store: a waker's
    /// destructor may be anyone's code.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// let k = t.insert(std::time::Instant::now(), None);
    /// assert!(t.set_waker(k, std::task::Waker::noop()).is_some());
    /// t.cancel(k);
    /// assert!(t.set_waker(k, std::task::Waker::noop()).is_none());
    /// ```
    #[must_use = "drop the displaced waker once no borrow of the timers is held"]
    pub fn set_waker(&mut self, key: TimerKey, waker: &Waker) -> Option<Displaced> {
        let slot = self.slot_mut(key)?;
        Some(Displaced(match &mut slot.waker {
            Some(old) if old.will_wake(waker) => None,
            other => other.replace(waker.clone()),
        }))
    }

    /// Cancels a pending timer and frees its slot. Returns `None` if it had already
    /// fired or been cancelled, else its waker (if it had one), for the caller to drop
    /// once it holds no borrow of this store.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// let k = t.insert(std::time::Instant::now(), None);
    /// assert!(t.cancel(k).is_some());
    /// assert!(t.cancel(k).is_none());
    /// ```
    #[must_use = "drop the timer's waker once no borrow of the timers is held"]
    pub fn cancel(&mut self, key: TimerKey) -> Option<Displaced> {
        self.slot(key)?;
        let waker = self.release(key.index);
        // Dead entries are skipped when they surface; rebuild once they dominate, so
        // that memory tracks the live timers rather than every timer ever cancelled.
        let entries = self.heap_len();
        if entries > 1024 && entries > 2 * self.live {
            self.compact();
        }
        Some(Displaced(waker))
    }

    /// The earliest pending deadline, if any. Dead entries at the top are dropped on the way.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// assert!(t.next_deadline().is_none());
    /// let at = std::time::Instant::now();
    /// t.insert(at, None);
    /// assert_eq!(t.next_deadline(), Some(at));
    /// ```
    pub fn next_deadline(&mut self) -> Option<Instant> {
        self.earliest().map(|(entry, _)| entry.0)
    }

    /// The earliest live entry, and the queue it fronts (`None`: the heap's top); dead
    /// entries in front of any are dropped on the way.
    #[inline]
    fn earliest(&mut self) -> Option<(Entry, Option<usize>)> {
        let slots = &self.slots;
        let live = |&(_, index, generation): &Entry| {
            slots
                .get(index as usize)
                .is_some_and(|s| s.pending && s.generation == generation)
        };
        let mut earliest: Option<(Entry, Option<usize>)> = None;
        for (lane, queue) in self.queues.iter_mut().enumerate() {
            while let Some(front) = queue.front() {
                if live(front) {
                    break;
                }
                queue.pop_front();
            }
            if let Some(&front) = queue.front() {
                if earliest.is_none_or(|(e, _)| front < e) {
                    earliest = Some((front, Some(lane)));
                }
            }
        }
        while let Some(Reverse(top)) = self.heap.peek() {
            if live(top) {
                break;
            }
            self.heap.pop();
        }
        if let Some(&Reverse(top)) = self.heap.peek() {
            if earliest.is_none_or(|(e, _)| top < e) {
                earliest = Some((top, None));
            }
        }
        earliest
    }

    /// Removes every timer whose deadline is at or before `now`, appends their wakers to
    /// `woken` (for the caller to wake once it holds no borrow of this store), and
    /// returns how many fired.
    ///
    /// ```
    /// let mut t = turnstile_reactor::Timers::new();
    /// let now = std::time::Instant::now();
    /// t.insert(now, Some(std::task::Waker::noop().clone()));
    /// let mut woken = Vec::new();
    /// assert_eq!(t.fire_expired(now, &mut woken), 1);
    /// assert_eq!(woken.len(), 1);
    /// ```
    pub fn fire_expired(&mut self, now: Instant, woken: &mut Vec<Waker>) -> usize {
        let mut fired = 0;
        while let Some(((deadline, index, _), lane)) = self.earliest() {
            if deadline > now {
                break;
            }
            match lane {
                Some(lane) => drop(self.queues[lane].pop_front()),
                None => drop(self.heap.pop()),
            }
            woken.extend(self.release(index));
            fired += 1;
        }
        fired
    }

    fn slot(&self, key: TimerKey) -> Option<&Slot> {
        self.slots
            .get(key.index as usize)
            .filter(|s| s.pending && s.generation == key.generation)
    }

    fn slot_mut(&mut self, key: TimerKey) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|s| s.pending && s.generation == key.generation)
    }

    /// Frees a pending slot and hands back its waker.
    fn release(&mut self, index: u32) -> Option<Waker> {
        let slot = &mut self.slots[index as usize];
        slot.pending = false;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.live -= 1;
        slot.waker.take()
    }

    fn compact(&mut self) {
        let slots = &self.slots;
        let live = |index: u32, generation: u32| {
            let slot = &slots[index as usize];
            slot.pending && slot.generation == generation
        };
        self.heap
            .retain(|&Reverse((_, index, generation))| live(index, generation));
        for queue in &mut self.queues {
            queue.retain(|&(_, index, generation)| live(index, generation));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_order_and_skips_cancelled() {
        let mut t = Timers::new();
        let base = Instant::now();
        let late = t.insert(base + Duration::from_millis(30), None);
        let early = t.insert(base + Duration::from_millis(10), None);
        let gone = t.insert(base + Duration::from_millis(20), None);
        assert!(t.cancel(gone).is_some());
        assert_eq!(t.next_deadline(), Some(base + Duration::from_millis(10)));
        let mut w = Vec::new();
        assert_eq!(t.fire_expired(base + Duration::from_millis(25), &mut w), 1);
        assert!(!t.is_pending(early));
        assert!(t.is_pending(late));
        assert_eq!(t.next_deadline(), Some(base + Duration::from_millis(30)));
    }

    #[test]
    fn in_order_and_out_of_order_deadlines_fire_in_one_order() {
        let mut t = Timers::new();
        let base = Instant::now();
        let at = |ms| base + Duration::from_millis(ms);
        // 10, 20, 40 come in order (one queue); 30 and 5 each start a queue, the second
        // 20 follows the 5, 3 takes the last queue, and 1 fits none: the heap.
        let keys: Vec<(u64, TimerKey)> = [10, 20, 40, 30, 5, 20, 3, 1]
            .into_iter()
            .map(|ms| (ms, t.insert(at(ms), None)))
            .collect();
        assert_eq!(t.heap.len(), 1);
        assert!(t.queues.iter().all(|q| !q.is_empty()));
        assert!(t.cancel(keys[2].1).is_some()); // 40, from a queue
        assert!(t.cancel(keys[4].1).is_some()); // 5, from another
        assert_eq!(t.heap_len(), 8, "cancelled entries stay until they surface");
        assert_eq!(t.next_deadline(), Some(at(1)));
        let mut steps = Vec::new();
        for ms in [1, 3, 10, 20, 25, 30, 50] {
            let mut w = Vec::new();
            let fired = t.fire_expired(at(ms), &mut w);
            let left: Vec<u64> = keys
                .iter()
                .filter(|(_, k)| t.is_pending(*k))
                .map(|(ms, _)| *ms)
                .collect();
            steps.push((fired, left));
        }
        assert_eq!(
            steps,
            vec![
                (1, vec![10, 20, 30, 20, 3]),
                (1, vec![10, 20, 30, 20]),
                (1, vec![20, 30, 20]),
                (2, vec![30]),
                (0, vec![30]),
                (1, vec![]),
                (0, vec![]),
            ]
        );
        assert!(t.next_deadline().is_none());
        assert_eq!(t.heap_len(), 0);
    }

    #[test]
    fn stale_key_never_touches_the_new_occupant() {
        let mut t = Timers::new();
        let now = Instant::now();
        let old = t.insert(now, None);
        let _ = t.cancel(old);
        let new = t.insert(now, None);
        assert_eq!(old.index, new.index);
        assert!(t.cancel(old).is_none());
        assert!(t.is_pending(new));
    }

    #[test]
    fn mass_cancel_compacts_the_heap_and_reuses_slots() {
        let mut t = Timers::new();
        let far = Instant::now() + Duration::from_secs(3600);
        let n = if cfg!(miri) { 3000 } else { 100_000 };
        let keys: Vec<_> = (0..n)
            .map(|i| t.insert(far + Duration::from_nanos(i), None))
            .collect();
        for k in keys {
            assert!(t.cancel(k).is_some());
        }
        assert_eq!(t.len(), 0);
        assert!(
            t.heap_len() <= 1024,
            "heap kept {} dead entries",
            t.heap_len()
        );
        for i in 0..n {
            t.insert(far + Duration::from_nanos(i), None);
        }
        assert_eq!(t.slot_capacity(), n as usize);
    }
}

/// A waker a timer no longer needs (replaced, or its timer cancelled), handed back so
/// that it is dropped where no borrow of the [`Timers`] is held: a waker's destructor
/// may be anyone's code, free to reach the timers again.
///
/// ```
/// let mut t = turnstile_reactor::Timers::new();
/// let k = t.insert(std::time::Instant::now(), Some(std::task::Waker::noop().clone()));
/// let displaced = t.cancel(k).unwrap();
/// assert!(displaced.0.is_some());
/// drop(displaced); // the waker drops here, after the borrow of `t` ended
/// ```
#[derive(Debug)]
pub struct Displaced(pub Option<Waker>);
