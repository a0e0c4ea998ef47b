//! Unix signals by kind: [`signal`] returns a [`Signal`] listener whose
//! [`recv`](Signal::recv) completes once per burst of deliveries.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::task::{Context, Poll};

use mio::event::Source;
use mio::{Interest, Registry, Token};
use signal_hook_mio::v1_0::Signals;
use turnstile_reactor::Direction;

use crate::net::source::{IoSource, Op};

/// Which signal to listen for: tokio's names, or any number with
/// [`SignalKind::from_raw`].
///
/// ```
/// use turnstile::signal::unix::SignalKind;
/// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGUSR1), SignalKind::user_defined1());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignalKind(libc::c_int);

impl SignalKind {
    /// Any signal, by number (some cannot be listened for: `signal` says so).
    ///
    /// ```
    /// let k = turnstile::signal::unix::SignalKind::from_raw(libc::SIGWINCH);
    /// assert_eq!(k, turnstile::signal::unix::SignalKind::window_change());
    /// ```
    pub const fn from_raw(signum: libc::c_int) -> Self {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// ```
    /// use turnstile::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn as_raw_value(&self) -> libc::c_int {
        self.0
    }

    /// SIGALRM.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::alarm().as_raw_value(), libc::SIGALRM);
    /// ```
    pub const fn alarm() -> Self {
        SignalKind(libc::SIGALRM)
    }

    /// SIGCHLD: a child process changed state.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::child().as_raw_value(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> Self {
        SignalKind(libc::SIGCHLD)
    }

    /// SIGHUP: the terminal went away, or (by convention) reload the configuration.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> Self {
        SignalKind(libc::SIGHUP)
    }

    /// SIGINT: Ctrl-C.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> Self {
        SignalKind(libc::SIGINT)
    }

    /// SIGIO: asynchronous I/O is possible.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::io().as_raw_value(), libc::SIGIO);
    /// ```
    pub const fn io() -> Self {
        SignalKind(libc::SIGIO)
    }

    /// SIGPIPE: a write to a pipe or socket whose reader is gone.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::pipe().as_raw_value(), libc::SIGPIPE);
    /// ```
    pub const fn pipe() -> Self {
        SignalKind(libc::SIGPIPE)
    }

    /// SIGQUIT: Ctrl-\.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::quit().as_raw_value(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> Self {
        SignalKind(libc::SIGQUIT)
    }

    /// SIGTERM: the polite request to stop (what `kill`, systemd and Kubernetes send).
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> Self {
        SignalKind(libc::SIGTERM)
    }

    /// SIGUSR1.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> Self {
        SignalKind(libc::SIGUSR1)
    }

    /// SIGUSR2.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> Self {
        SignalKind(libc::SIGUSR2)
    }

    /// SIGWINCH: the terminal was resized.
    ///
    /// ```
    /// assert_eq!(turnstile::signal::unix::SignalKind::window_change().as_raw_value(), libc::SIGWINCH);
    /// ```
    pub const fn window_change() -> Self {
        SignalKind(libc::SIGWINCH)
    }
}

impl From<libc::c_int> for SignalKind {
    fn from(signum: libc::c_int) -> Self {
        SignalKind(signum)
    }
}

/// Listens for `kind` on the current runtime: each [`Signal::recv`] completes once
/// the signal has been delivered since the previous one (or since this call).
///
/// # Errors
/// If the signal cannot be listened for (SIGKILL, SIGSTOP, and the signals that report
/// faults such as SIGSEGV are refused), or the handler's pipe cannot be made or
/// registered (for instance, out of file descriptors).
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// use turnstile::signal::unix::{signal, SignalKind};
/// let rt = turnstile::Runtime::new()?;
/// rt.block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // SAFETY (of the call): raising a signal in our own process.
///     unsafe { libc::raise(libc::SIGUSR1) };
///     usr1.recv().await;
///     assert!(signal(SignalKind::from_raw(libc::SIGKILL)).is_err());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    // signal-hook panics on these rather than failing: refuse them first.
    if kind.0 <= 0 || signal_hook::consts::FORBIDDEN.contains(&kind.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "signal {} cannot be listened for (SIGKILL, SIGSTOP and the fault signals \
                 SIGILL, SIGFPE, SIGSEGV are refused, as is any number below 1)",
                kind.0
            ),
        ));
    }
    let signals = Signals::new([kind.0])?;
    let source = IoSource::new(Pipe(RefCell::new(signals)), Interest::READABLE, "Signal")?;
    Ok(Signal { kind, source })
}

/// A listener for one kind of signal, made by [`signal`]. Dropping it uninstalls
/// nothing (signal-hook keeps the handler) but stops the listening.
pub struct Signal {
    kind: SignalKind,
    source: IoSource<Pipe>,
}

/// signal-hook's pipe as a mio source. Draining it needs `&mut`, which the shared
/// `IoSource` does not hand out; the `RefCell` is this listener's own, never the loop's.
struct Pipe(RefCell<Signals>);

/// A signal pipe has no address: its waits are "signal recv".
impl crate::net::source::SocketAddrs for Pipe {}

impl Source for Pipe {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        self.0.get_mut().register(r, t, i)
    }

    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        self.0.get_mut().reregister(r, t, i)
    }

    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        self.0.get_mut().deregister(r)
    }
}

impl fmt::Debug for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Pipe")
    }
}

impl Signal {
    /// Waits until the signal has been delivered since the last `recv` returned (or
    /// since the listener was made). Several deliveries in between complete one `recv`.
    /// Always `Some(())`; the `Option` is tokio's signature, whose `None` means its
    /// driver is gone, which cannot happen while a turnstile runtime polls this.
    ///
    /// ```
    /// use turnstile::signal::unix::{signal, SignalKind};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2())?;
    ///     unsafe { libc::raise(libc::SIGUSR2) };
    ///     assert_eq!(usr2.recv().await, Some(()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for a delivery, for code that implements `Future` by hand.
    ///
    /// ```
    /// use turnstile::signal::unix::{signal, SignalKind};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     let mut hup = signal(SignalKind::hangup())?;
    ///     unsafe { libc::raise(libc::SIGHUP) };
    ///     std::future::poll_fn(|cx| hup.poll_recv(cx)).await;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let got = self
            .source
            .poll_io(cx, Direction::Read, Op::Signal, |pipe| {
                // Drains the pipe; signal-hook reports which signals came.
                match pipe.0.borrow_mut().pending().count() {
                    0 => Err(io::ErrorKind::WouldBlock.into()),
                    _ => Ok(()),
                }
            });
        match got {
            Poll::Ready(Ok(())) => Poll::Ready(Some(())),
            // Reading signal-hook's own pipe does not fail but for `WouldBlock`, which
            // `poll_io` turns into a wait; anything else means nothing more will come.
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    /// The kind of signal this listener waits for.
    ///
    /// ```
    /// use turnstile::signal::unix::{signal, SignalKind};
    /// let rt = turnstile::Runtime::new()?;
    /// rt.block_on(async {
    ///     assert_eq!(signal(SignalKind::quit())?.kind(), SignalKind::quit());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish()
    }
}
