//! The driver: one `mio::Poll`, parked on when the loop has nothing to run.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Poll, Token};

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

    /// Polls for readiness, blocking for at most `timeout` (`None` blocks until an event
    /// or a remote wake; `Some(ZERO)` only looks). An interrupted poll counts as an empty
    /// one: the loop comes around again.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut driver = turnstile_reactor::Driver::new(8)?;
    /// let seen = driver.poll(Some(Duration::ZERO))?;
    /// assert_eq!(seen.io_events, 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll(&mut self, timeout: Option<Duration>) -> io::Result<PollOutcome> {
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(PollOutcome::default()),
            Err(e) => return Err(e),
        }
        let mut outcome = PollOutcome::default();
        for event in self.events.iter() {
            if event.token() == REMOTE_TOKEN {
                outcome.remote_woken = true;
            } else {
                outcome.io_events += 1;
            }
        }
        Ok(outcome)
    }
}
