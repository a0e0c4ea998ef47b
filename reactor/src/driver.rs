//! The driver: one `mio::Poll`, parked on when the loop has nothing to run, and the
//! registrations its readiness events are dispatched into.

use std::io;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Poll, Token};

use crate::registration::{IoKey, Orphans, Registrations};

/// The token of the remote waker: readiness on it means "another thread woke a task".
const REMOTE_TOKEN: Token = Token(usize::MAX);

/// Ends a park from any thread. Cheap to clone; `wake` is one `write` to an eventfd.
///
/// ```
/// let driver = turnstile_reactor::Driver::new(64)?;
/// let waker = driver.remote_waker();
/// std::thread::spawn(move || waker.wake().unwrap()).join().unwrap();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct RemoteWaker(Arc<mio::Waker>);

impl RemoteWaker {
    /// Makes the driver's current or next `poll` return.
    ///
    /// ```
    /// let mut driver = turnstile_reactor::Driver::new(64)?;
    /// driver.remote_waker().wake()?;
    /// assert!(driver.poll(None)?.remote_woken);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wake(&self) -> io::Result<()> {
        self.0.wake()
    }
}

/// What one `Driver::poll` saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Readiness events for registered sources (the remote waker's event not included).
    pub io_events: usize,
    /// Whether the remote waker fired: other threads have queued wakes.
    pub remote_woken: bool,
}

/// Owns the `mio::Poll` the loop parks on.
#[derive(Debug)]
pub struct Driver {
    /// The OS selector (epoll on Linux).
    poll: Poll,
    /// Reused event buffer; its capacity bounds the events taken in per poll.
    events: Events,
    /// Shared with every `RemoteWaker` handed out.
    remote: RemoteWaker,
    /// Per-source readiness and wakers, indexed by the events' tokens.
    io: Registrations,
}

impl Driver {
    /// A driver that takes in at most `event_capacity` readiness events per poll.
    ///
    /// ```
    /// let driver = turnstile_reactor::Driver::new(1024)?;
    /// # drop(driver);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn new(event_capacity: usize) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), REMOTE_TOKEN)?;
        Ok(Driver {
            poll,
            events: Events::with_capacity(event_capacity.max(1)),
            remote: RemoteWaker(Arc::new(waker)),
            io: Registrations::new(),
        })
    }

    /// A handle that ends a park from another thread.
    ///
    /// ```
    /// let driver = turnstile_reactor::Driver::new(8)?;
    /// let _w = driver.remote_waker();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn remote_waker(&self) -> RemoteWaker {
        self.remote.clone()
    }

    /// The registry, for registering I/O sources.
    ///
    /// ```
    /// let driver = turnstile_reactor::Driver::new(8)?;
    /// let _registry = driver.registry();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn registry(&self) -> &mio::Registry {
        self.poll.registry()
    }

    /// Registers `source` for `interest`, edge-triggered, with a new slot that starts
    /// ready both ways (see [`Registrations`]).
    ///
    /// # Errors
    /// If epoll refuses the source (then no slot is kept).
    ///
    /// ```
    /// let mut driver = turnstile_reactor::Driver::new(8)?;
    /// let mut socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let key = driver.register(&mut socket, mio::Interest::READABLE)?;
    /// driver.deregister(&mut socket, key)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn register(&mut self, source: &mut impl Source, interest: Interest) -> io::Result<IoKey> {
        let key = self.io.insert();
        if let Err(e) = self.poll.registry().register(source, key.token(), interest) {
            self.io.remove(key);
            return Err(e);
        }
        Ok(key)
    }

    /// Takes `source` out of epoll and frees its slot. Returns the wakers the slot held,
    /// for the caller to drop once it holds no borrow. The slot is freed even if epoll
    /// reports an error (which is then returned).
    ///
    /// # Errors
    /// If epoll refuses (the source was never registered here, say).
    ///
    /// ```
    /// let mut driver = turnstile_reactor::Driver::new(8)?;
    /// let mut socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let key = driver.register(&mut socket, mio::Interest::READABLE)?;
    /// assert!(driver.deregister(&mut socket, key)?.is_empty());
    /// assert!(driver.io().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn deregister(&mut self, source: &mut impl Source, key: IoKey) -> io::Result<Vec<Waker>> {
        let wakers = self.io.remove(key);
        self.poll.registry().deregister(source)?;
        Ok(wakers)
    }

    /// The registrations: readiness and wakers of every source.
    ///
    /// ```
    /// let driver = turnstile_reactor::Driver::new(8)?;
    /// assert!(driver.io().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn io(&self) -> &Registrations {
        &self.io
    }

    /// The registrations, to record `WouldBlock`s, waiters and completions.
    ///
    /// ```
    /// let mut driver = turnstile_reactor::Driver::new(8)?;
    /// let key = driver.io_mut().insert();
    /// assert!(driver.io().is_ready(key, turnstile_reactor::Direction::Read));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[inline]
    pub fn io_mut(&mut self) -> &mut Registrations {
        &mut self.io
    }

    /// Where sources dropped away from the loop thread give back their slots.
    ///
    /// ```
    /// let driver = turnstile_reactor::Driver::new(8)?;
    /// let _orphans = driver.orphans();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn orphans(&self) -> Orphans {
        self.io.orphans()
    }

    /// Polls for readiness, blocking for at most `timeout` (`None` blocks until an event
    /// or a remote wake; `Some(ZERO)` only looks), and wakes the waiters of the sources
    /// that became ready. For a driver that sits inside a `RefCell`, use
    /// [`Driver::poll_events`] instead, which hands the wakers back rather than calling
    /// them. An interrupted poll counts as an empty one: the loop comes around again.
    ///
    /// # Errors
    /// If `epoll_wait` fails for a reason other than a signal.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut driver = turnstile_reactor::Driver::new(8)?;
    /// let seen = driver.poll(Some(Duration::ZERO))?;
    /// assert_eq!(seen.io_events, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<PollOutcome> {
        let mut woken = Vec::new();
        let outcome = self.poll_events(timeout, &mut woken)?;
        woken.into_iter().for_each(Waker::wake);
        Ok(outcome)
    }

    /// Polls for readiness like [`Driver::poll`], dispatches each event into the
    /// registrations, and appends the wakers of the sources that became ready to
    /// `woken` without calling them: the caller wakes them once it holds no borrow (a
    /// waker may be anyone's code). At most the event capacity given to
    /// [`Driver::new`] events are taken per call; the rest stay queued in the kernel for
    /// the next call, so no edge is lost.
    ///
    /// # Errors
    /// If `epoll_wait` fails for a reason other than a signal.
    ///
    /// ```
    /// use std::time::Duration;
    /// use turnstile_reactor::{Direction, Driver};
    ///
    /// let mut driver = Driver::new(8)?;
    /// let mut socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let key = driver.register(&mut socket, mio::Interest::READABLE)?;
    /// driver.io_mut().clear_and_wait(key, Direction::Read, std::task::Waker::noop());
    /// let sender = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// sender.send_to(b"hi", socket.local_addr()?)?;
    /// let mut woken = Vec::new();
    /// while woken.is_empty() {
    ///     driver.poll_events(Some(Duration::from_secs(1)), &mut woken)?;
    /// }
    /// assert!(driver.io().is_ready(key, Direction::Read));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_events(
        &mut self,
        timeout: Option<Duration>,
        woken: &mut Vec<Waker>,
    ) -> io::Result<PollOutcome> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(PollOutcome::default()),
            Err(e) => return Err(e),
        }
        let mut outcome = PollOutcome::default();
        for event in self.events.iter() {
            if event.token() == REMOTE_TOKEN {
                outcome.remote_woken = true;
                continue;
            }
            outcome.io_events += 1;
            // A closed or failed socket is "ready" both ways: the next operation
            // returns the EOF or the error instead of waiting for an edge that will
            // never come.
            let failed = event.is_error();
            let readable = event.is_readable() || failed;
            let writable = event.is_writable() || event.is_write_closed() || failed;
            let read_closed = event.is_read_closed();
            self.io
                .dispatch(event.token(), readable, writable, read_closed, woken);
        }
        Ok(outcome)
    }
}
