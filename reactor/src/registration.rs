//! Registrations: what the reactor knows about each I/O source, in a slab.
//!
//! Each registered socket has one slot: its readiness (may a read be tried? may a
//! write?), the wakers of whoever waits to read and of whoever waits to write (kept
//! apart, so that a read half and a write half can wait from two tasks), and whether
//! each side had to wait (for the probes: did this I/O operation reach the loop?).
//! Usually one waker waits per side; several tasks sharing a `&UdpSocket` or a
//! `&TcpListener` may wait on one side together, and an event wakes them all (the one
//! that finds nothing waits again). Slots hold [`Waker`]s and nothing else of the
//! executor: the reactor knows nothing about tasks.
//!
//! # Edge-triggered readiness
//!
//! mio registers sources edge-triggered: epoll reports a source once when it *becomes*
//! ready, not again while it stays ready. So readiness is state we keep, with four
//! rules that together never lose an edge:
//!
//! 1. A new slot starts ready both ways. Nothing is known yet, so the first operation is
//!    tried at once (a read of a socket that already holds data completes without a
//!    yield); if the OS says `WouldBlock`, the edge for later data is still to come.
//! 2. An event sets readiness and hands the waiting wakers to the caller. An event with
//!    nobody waiting is kept as readiness, for whoever tries next.
//! 3. Readiness is cleared only when the OS has shown that the socket is empty, so
//!    that a new edge is sure to come: when it answers `WouldBlock` ([`clear_and_wait`],
//!    which stores the caller's waker in the same step), and, for stream sockets only,
//!    when a read returns fewer bytes than asked for ([`drained`]): a TCP read copies
//!    everything queued up to the buffer's size, so a short read left the queue empty,
//!    and the next segment to arrive raises a new edge. That second case saves the
//!    `WouldBlock` read a request-response server would otherwise make after every
//!    request (tokio does the same). An error or `Interrupted` leave readiness set.
//! 4. End of stream is kept apart: an event that reports the read side closed (EOF,
//!    reset, error) sets a "read closed" bit that is never cleared, so a short read
//!    just before the FIN arrived cannot hide the EOF from the next read.
//!
//! On a single loop thread, events are dispatched only while the loop drives the
//! reactor, never in the middle of a task's poll, so no event can slip in between the
//! `WouldBlock` and the clear (the race that multi-threaded reactors guard with a tick).
//!
//! # Tokens and stale events
//!
//! A source's mio token carries its slot index and a generation. A slot freed and
//! reused for another source gets a new generation, so an event still addressed to the
//! old source (or any token we do not know) is ignored rather than waking a stranger.
//!
//! [`clear_and_wait`]: Registrations::clear_and_wait
//! [`drained`]: Registrations::drained

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;

use slab::Slab;

/// Readiness bit: a read (or accept, or recv) may be tried.
const READABLE: u8 = 0b01;
/// Readiness bit: a write (or connect completion, or send) may be tried.
const WRITABLE: u8 = 0b10;
/// Readiness bit: the read side is closed (EOF, reset, error). Never cleared: a read
/// returns the EOF or the error at once, however often it is tried.
const READ_CLOSED: u8 = 0b100;

/// One side of a source: reads or writes. Each side has its own readiness, waker and
/// waited flag, so two tasks can wait on one socket, one per side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Reading, receiving, accepting: readable readiness.
    Read,
    /// Writing, sending, finishing a connect: writable readiness.
    Write,
}

impl Direction {
    /// The readiness bit that clearing removes, and that `waited` tracks.
    #[inline]
    fn bit(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }

    /// The readiness bits any one of which lets an operation be tried.
    #[inline]
    fn ready_bits(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE,
        }
    }
}

/// Names one registered source: its slot and the slot's generation at registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IoKey {
    index: u32,
    generation: u32,
}

impl IoKey {
    /// The mio token this source is registered with.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let key = regs.insert();
    /// assert_eq!(turnstile_reactor::IoKey::from_token(key.token()), Some(key));
    /// ```
    #[inline]
    pub fn token(self) -> mio::Token {
        mio::Token(((self.generation as usize) << 32) | self.index as usize)
    }

    /// The key a token names, if it could be one of ours (the remote waker's is not).
    ///
    /// ```
    /// assert_eq!(turnstile_reactor::IoKey::from_token(mio::Token(usize::MAX)), None);
    /// ```
    #[inline]
    pub fn from_token(token: mio::Token) -> Option<IoKey> {
        let index = (token.0 & 0xFFFF_FFFF) as u32;
        let generation = (token.0 >> 32) as u32;
        (index != u32::MAX).then_some(IoKey { index, generation })
    }
}

/// The per-source state.
#[derive(Debug)]
struct Slot {
    /// Generation of this slot's occupant; matches its key.
    generation: u32,
    /// `READABLE` / `WRITABLE`: an operation on that side may be tried; `READ_CLOSED`:
    /// reads return EOF or an error from now on.
    readiness: u8,
    /// Set when a side returned `Pending`; taken when that side completes.
    waited: u8,
    /// Who waits to read.
    reader: Waiters,
    /// Who waits to write.
    writer: Waiters,
}

impl Slot {
    #[inline]
    fn waiters(&mut self, dir: Direction) -> &mut Waiters {
        match dir {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// The wakers waiting on one side of a source: one in the common case, without an
/// allocation; more when tasks share the socket.
#[derive(Debug, Default)]
struct Waiters {
    first: Option<Waker>,
    more: Vec<Waker>,
}

impl Waiters {
    /// Adds `waker` unless it would wake a task already waiting.
    #[inline]
    fn add(&mut self, waker: &Waker) {
        match &self.first {
            None => self.first = Some(waker.clone()),
            Some(first) if first.will_wake(waker) => {}
            Some(_) => {
                if !self.more.iter().any(|w| w.will_wake(waker)) {
                    self.more.push(waker.clone());
                }
            }
        }
    }

    /// Whether a waker waiting here would wake the same task as `waker`.
    #[inline]
    fn holds(&self, waker: &Waker) -> bool {
        self.first.as_ref().is_some_and(|w| w.will_wake(waker))
            || self.more.iter().any(|w| w.will_wake(waker))
    }

    /// Adds an owned `waker` unless it would wake a task already waiting; then it is
    /// handed back, for the caller to drop once it holds no borrow.
    #[inline]
    fn add_owned(&mut self, waker: Waker) -> Option<Waker> {
        if self.holds(&waker) {
            return Some(waker);
        }
        match &self.first {
            None => self.first = Some(waker),
            Some(_) => self.more.push(waker),
        }
        None
    }

    /// Moves every waiting waker into `woken`.
    #[inline]
    fn take_into(&mut self, woken: &mut Vec<Waker>) {
        woken.extend(self.first.take());
        woken.append(&mut self.more);
    }
}

/// Keys of sources dropped where their runtime could not be reached (another thread,
/// or after `block_on` returned): their descriptors are closed (which takes them out of
/// epoll), and their slots are freed the next time a source is registered.
///
/// ```
/// let mut regs = turnstile_reactor::Registrations::new();
/// let key = regs.insert();
/// let orphans = regs.orphans();
/// std::thread::spawn(move || orphans.release(key)).join().unwrap();
/// regs.insert(); // frees the orphaned slot first, then reuses it
/// assert_eq!(regs.len(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Orphans {
    inner: Arc<OrphanList>,
}

#[derive(Debug, Default)]
struct OrphanList {
    /// Whether `keys` may be non-empty: one load on the registration path.
    any: AtomicBool,
    keys: Mutex<Vec<IoKey>>,
}

impl Orphans {
    /// Hands back the slot of a source dropped away from its runtime.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let key = regs.insert();
    /// regs.orphans().release(key);
    /// regs.insert(); // frees the released slot first
    /// assert_eq!(regs.len(), 1);
    /// ```
    pub fn release(&self, key: IoKey) {
        let mut keys = self
            .inner
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.push(key);
        self.inner.any.store(true, Ordering::Release);
    }

    fn take(&self) -> Vec<IoKey> {
        if !self.inner.any.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut keys = self
            .inner
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.inner.any.store(false, Ordering::Release);
        std::mem::take(&mut *keys)
    }
}

/// The slab of registered sources and their readiness.
///
/// ```
/// use std::task::Waker;
/// use turnstile_reactor::{Direction, Registrations};
///
/// let mut regs = Registrations::new();
/// let key = regs.insert();
/// assert!(regs.is_ready(key, Direction::Read)); // unknown: try the read first
/// regs.clear_and_wait(key, Direction::Read, Waker::noop()); // the read said WouldBlock
/// assert!(!regs.is_ready(key, Direction::Read));
///
/// let mut woken = Vec::new();
/// assert!(regs.dispatch(key.token(), true, false, false, &mut woken));
/// assert_eq!(woken.len(), 1); // the waiting reader
/// assert!(regs.is_ready(key, Direction::Read));
/// assert!(regs.complete(key, Direction::Read)); // it completed after a wait
/// ```
#[derive(Debug, Default)]
pub struct Registrations {
    slots: Slab<Slot>,
    /// Generation given to the next registration.
    next_generation: u32,
    /// Slots of sources dropped where they could not deregister.
    orphans: Orphans,
}

impl Registrations {
    /// An empty slab.
    ///
    /// ```
    /// assert!(turnstile_reactor::Registrations::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Registered sources.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// regs.insert();
    /// assert_eq!(regs.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no source is registered.
    ///
    /// ```
    /// assert!(turnstile_reactor::Registrations::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The handle through which sources dropped away from the loop give back their slot.
    ///
    /// ```
    /// let regs = turnstile_reactor::Registrations::new();
    /// let _orphans = regs.orphans();
    /// ```
    pub fn orphans(&self) -> Orphans {
        self.orphans.clone()
    }

    /// A new slot, ready both ways (see the module docs: the first operation is tried).
    /// Slots of orphaned sources are freed first.
    ///
    /// # Panics
    /// With 2^32 - 1 sources registered at once.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let a = regs.insert();
    /// regs.remove(a);
    /// let b = regs.insert();
    /// assert_ne!(a, b); // same slot, new generation
    /// ```
    pub fn insert(&mut self) -> IoKey {
        for key in self.orphans.take() {
            self.remove(key);
        }
        let generation = self.next_generation;
        self.next_generation = generation.wrapping_add(1);
        let index = self.slots.insert(Slot {
            generation,
            readiness: READABLE | WRITABLE,
            waited: 0,
            reader: Waiters::default(),
            writer: Waiters::default(),
        });
        let index = u32::try_from(index)
            .ok()
            .filter(|&i| i != u32::MAX)
            .expect("more than 2^32 - 1 registered I/O sources");
        IoKey { index, generation }
    }

    /// Frees a source's slot and returns its wakers (for the caller to drop once it
    /// holds no borrow). A stale key is ignored and returns none.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let key = regs.insert();
    /// assert_eq!(regs.remove(key).len(), 0);
    /// assert!(regs.is_empty());
    /// ```
    pub fn remove(&mut self, key: IoKey) -> Vec<Waker> {
        if self.slot_mut(key).is_none() {
            return Vec::new();
        }
        let mut slot = self.slots.remove(key.index as usize);
        let mut wakers = Vec::new();
        slot.reader.take_into(&mut wakers);
        slot.writer.take_into(&mut wakers);
        wakers
    }

    /// Whether an operation on `dir` may be tried: the OS has not said `WouldBlock`
    /// since the last event (or ever). A stale key reads as ready, so that the
    /// operation runs and reports the real error.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let key = regs.insert();
    /// assert!(regs.is_ready(key, turnstile_reactor::Direction::Write));
    /// ```
    #[inline]
    pub fn is_ready(&self, key: IoKey, dir: Direction) -> bool {
        match self.slots.get(key.index as usize) {
            Some(slot) if slot.generation == key.generation => {
                slot.readiness & dir.ready_bits() != 0
            }
            _ => true,
        }
    }

    /// Records that an operation on `dir` got `WouldBlock`: clears that readiness and
    /// adds `waker` to those handed back by the next event on that side.
    ///
    /// ```
    /// use turnstile_reactor::{Direction, Registrations};
    /// let mut regs = Registrations::new();
    /// let key = regs.insert();
    /// regs.clear_and_wait(key, Direction::Write, std::task::Waker::noop());
    /// assert!(!regs.is_ready(key, Direction::Write));
    /// ```
    #[inline]
    pub fn clear_and_wait(&mut self, key: IoKey, dir: Direction, waker: &Waker) {
        if let Some(slot) = self.slot_mut(key) {
            slot.readiness &= !dir.bit();
            Self::store(slot, dir, waker);
        }
    }

    /// Records that a stream read returned fewer bytes than it asked for, which proves
    /// the socket's queue empty (see the module docs): clears readability, as a
    /// `WouldBlock` would, without a waker (the read completed). Not for datagram
    /// sockets, where every read is "short". The read-closed bit stays.
    ///
    /// ```
    /// use turnstile_reactor::{Direction, Registrations};
    /// let mut regs = Registrations::new();
    /// let key = regs.insert();
    /// regs.drained(key);
    /// assert!(!regs.is_ready(key, Direction::Read));
    /// let mut woken = Vec::new();
    /// regs.dispatch(key.token(), true, false, true, &mut woken); // FIN
    /// regs.drained(key);
    /// assert!(regs.is_ready(key, Direction::Read)); // the EOF is still to be read
    /// ```
    #[inline]
    pub fn drained(&mut self, key: IoKey) {
        if let Some(slot) = self.slot_mut(key) {
            slot.readiness &= !READABLE;
        }
    }

    /// Records that a non-waiting operation on `dir` (a `try_read`, a `try_send`) got
    /// `WouldBlock`: clears that readiness, as [`Registrations::clear_and_wait`] does,
    /// but stores no waker (nobody waits). The next event sets it again. The
    /// read-closed bit stays.
    ///
    /// ```
    /// use turnstile_reactor::{Direction, Registrations};
    /// let mut regs = Registrations::new();
    /// let key = regs.insert();
    /// regs.clear(key, Direction::Write);
    /// assert!(!regs.is_ready(key, Direction::Write));
    /// assert!(regs.is_ready(key, Direction::Read));
    /// ```
    #[inline]
    pub fn clear(&mut self, key: IoKey, dir: Direction) {
        if let Some(slot) = self.slot_mut(key) {
            slot.readiness &= !dir.bit();
        }
    }

    /// Whether an event reported the read side closed (EOF, reset or error): reads
    /// return at once from now on. A stale key reads as not closed.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let key = regs.insert();
    /// assert!(!regs.is_read_closed(key));
    /// regs.dispatch(key.token(), false, false, true, &mut Vec::new());
    /// assert!(regs.is_read_closed(key));
    /// ```
    #[inline]
    pub fn is_read_closed(&self, key: IoKey) -> bool {
        match self.slots.get(key.index as usize) {
            Some(slot) if slot.generation == key.generation => slot.readiness & READ_CLOSED != 0,
            _ => false,
        }
    }

    /// Adds `waker` for `dir` without touching readiness: for a caller that found the
    /// side not ready and so did not try the operation.
    ///
    /// ```
    /// use turnstile_reactor::{Direction, Registrations};
    /// let mut regs = Registrations::new();
    /// let key = regs.insert();
    /// regs.wait(key, Direction::Read, std::task::Waker::noop());
    /// assert!(regs.is_ready(key, Direction::Read));
    /// ```
    #[inline]
    pub fn wait(&mut self, key: IoKey, dir: Direction, waker: &Waker) {
        if let Some(slot) = self.slot_mut(key) {
            Self::store(slot, dir, waker);
        }
    }

    /// [`Registrations::wait`] (or, with `clear`, [`Registrations::clear_and_wait`])
    /// with a waker the caller cloned beforehand, where it held no borrow of this table
    /// (a waker's clone may be anyone's code). If a waiter there wakes the same task
    /// already, or the key is stale, the clone is handed back, for the caller to drop
    /// where it holds no borrow either.
    ///
    /// ```
    /// use turnstile_reactor::{Direction, Registrations};
    /// let mut regs = Registrations::new();
    /// let key = regs.insert();
    /// let waker = std::task::Waker::noop();
    /// assert!(regs.wait_owned(key, Direction::Write, waker.clone(), true).is_none());
    /// assert!(!regs.is_ready(key, Direction::Write));
    /// // The same task again: nothing to add, and the clone comes back.
    /// assert!(regs.wait_owned(key, Direction::Write, waker.clone(), true).is_some());
    /// ```
    #[inline]
    #[must_use = "drop a handed-back waker once no borrow of the table is held"]
    pub fn wait_owned(
        &mut self,
        key: IoKey,
        dir: Direction,
        waker: Waker,
        clear: bool,
    ) -> Option<Waker> {
        let Some(slot) = self.slot_mut(key) else {
            return Some(waker);
        };
        if clear {
            slot.readiness &= !dir.bit();
        }
        slot.waited |= dir.bit();
        slot.waiters(dir).add_owned(waker)
    }

    #[inline]
    fn store(slot: &mut Slot, dir: Direction, waker: &Waker) {
        slot.waited |= dir.bit();
        slot.waiters(dir).add(waker);
    }

    /// Records that an operation on `dir` completed (with data, EOF or an error other
    /// than `WouldBlock`). Returns whether it had waited for readiness first, and
    /// forgets that it did.
    ///
    /// ```
    /// use turnstile_reactor::{Direction, Registrations};
    /// let mut regs = Registrations::new();
    /// let key = regs.insert();
    /// assert!(!regs.complete(key, Direction::Read)); // completed inline
    /// ```
    #[inline]
    pub fn complete(&mut self, key: IoKey, dir: Direction) -> bool {
        match self.slot_mut(key) {
            Some(slot) => {
                let waited = slot.waited & dir.bit() != 0;
                slot.waited &= !dir.bit();
                waited
            }
            None => false,
        }
    }

    /// Takes in one readiness event: sets the readiness it reports and appends the
    /// wakers waiting on those sides to `woken` (for the caller to wake once it holds
    /// no borrow). `read_closed` (EOF, reset or error) counts as readable too, and
    /// stays. Returns false for a token that names no registered source.
    ///
    /// ```
    /// let mut regs = turnstile_reactor::Registrations::new();
    /// let key = regs.insert();
    /// let mut woken = Vec::new();
    /// assert!(regs.dispatch(key.token(), false, true, false, &mut woken));
    /// assert!(woken.is_empty()); // nobody was waiting: kept as readiness
    /// ```
    pub fn dispatch(
        &mut self,
        token: mio::Token,
        readable: bool,
        writable: bool,
        read_closed: bool,
        woken: &mut Vec<Waker>,
    ) -> bool {
        let Some(slot) = IoKey::from_token(token).and_then(|key| self.slot_mut(key)) else {
            return false;
        };
        if readable || read_closed {
            slot.readiness |= READABLE;
            if read_closed {
                slot.readiness |= READ_CLOSED;
            }
            slot.reader.take_into(woken);
        }
        if writable {
            slot.readiness |= WRITABLE;
            slot.writer.take_into(woken);
        }
        true
    }

    #[inline]
    fn slot_mut(&mut self, key: IoKey) -> Option<&mut Slot> {
        self.slots
            .get_mut(key.index as usize)
            .filter(|slot| slot.generation == key.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn an_edge_with_nobody_waiting_is_kept() {
        let mut regs = Registrations::new();
        let key = regs.insert();
        regs.clear_and_wait(key, Direction::Read, Waker::noop());
        let mut woken = Vec::new();
        regs.dispatch(key.token(), true, false, false, &mut woken);
        assert_eq!(woken.len(), 1);
        // Nobody waits now; a second edge arrives before anyone reads.
        regs.dispatch(key.token(), true, false, false, &mut woken);
        assert_eq!(woken.len(), 1);
        assert!(regs.is_ready(key, Direction::Read));
    }

    #[test]
    fn a_drained_read_waits_for_the_next_edge_but_never_hides_eof() {
        let mut regs = Registrations::new();
        let key = regs.insert();
        regs.drained(key);
        assert!(!regs.is_ready(key, Direction::Read));
        assert!(regs.is_ready(key, Direction::Write));
        let mut woken = Vec::new();
        regs.dispatch(key.token(), false, false, true, &mut woken);
        regs.drained(key);
        regs.clear_and_wait(key, Direction::Read, Waker::noop());
        assert!(
            regs.is_ready(key, Direction::Read),
            "EOF must stay readable"
        );
    }

    #[test]
    fn every_task_waiting_on_a_side_is_woken_once() {
        let a = Arc::new(Count(AtomicUsize::new(0)));
        let b = Arc::new(Count(AtomicUsize::new(0)));
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
        let mut regs = Registrations::new();
        let key = regs.insert();
        regs.clear_and_wait(key, Direction::Read, &wa);
        regs.wait(key, Direction::Read, &wb);
        regs.wait(key, Direction::Read, &wa); // the same task again: not added twice
        let mut woken = Vec::new();
        regs.dispatch(key.token(), true, false, false, &mut woken);
        assert_eq!(woken.len(), 2);
        woken.drain(..).for_each(Waker::wake);
        assert_eq!(a.0.load(Ordering::Relaxed), 1);
        assert_eq!(b.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn sides_are_independent() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut regs = Registrations::new();
        let key = regs.insert();
        regs.clear_and_wait(key, Direction::Read, &waker);
        regs.clear_and_wait(key, Direction::Write, &waker);
        let mut woken = Vec::new();
        regs.dispatch(key.token(), false, true, false, &mut woken);
        assert_eq!(woken.len(), 1);
        assert!(!regs.is_ready(key, Direction::Read));
        assert!(regs.is_ready(key, Direction::Write));
        woken.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_stale_token_wakes_nobody() {
        let mut regs = Registrations::new();
        let old = regs.insert();
        regs.clear_and_wait(old, Direction::Read, Waker::noop());
        assert_eq!(regs.remove(old).len(), 1);
        let new = regs.insert();
        regs.clear_and_wait(new, Direction::Read, Waker::noop());
        let mut woken = Vec::new();
        assert!(!regs.dispatch(old.token(), true, true, true, &mut woken));
        assert!(woken.is_empty());
        assert!(!regs.is_ready(new, Direction::Read));
    }

    #[test]
    fn orphaned_slots_are_freed_on_the_next_insert() {
        let mut regs = Registrations::new();
        let keys: Vec<_> = (0..3).map(|_| regs.insert()).collect();
        let orphans = regs.orphans();
        for key in keys {
            orphans.release(key);
        }
        regs.insert();
        assert_eq!(regs.len(), 1);
    }
}
