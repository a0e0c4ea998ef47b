//! One socket registered with the current runtime's reactor, and the one loop that every
//! I/O operation goes through.
//!
//! [`IoSource::poll_io`] is where an I/O `.await` decides whether it reaches the loop:
//!
//! 1. If the reactor says the side is not ready (the OS answered `WouldBlock` and no
//!    event has come since), store the waker and return `Pending`: a yield.
//! 2. Otherwise try the system call. Data (or EOF, or an error) completes the `.await`
//!    at once, with no yield; `Interrupted` is retried; `WouldBlock` clears readiness,
//!    stores the waker and returns `Pending`. Clearing and storing happen together, and
//!    no event is dispatched in between (dispatch runs only while the loop drives the
//!    reactor), so the next edge always finds the waker. A TCP read that returned
//!    fewer bytes than asked also clears readability (it emptied the socket), so the
//!    next read waits for the reactor without a `WouldBlock` system call first.
//!
//! Each completed operation is counted as inline or waited, per socket kind, with the
//! bytes it moved. The reactor's `RefCell` is never borrowed across the system call or
//! across a waker: the call is the OS's, not user code, but keeping borrows short keeps
//! the rule simple.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use mio::event::Source;
use turnstile_probes::{Counter, Counters, SiteTag};
use turnstile_reactor::{Direction, IoKey, Orphans};

use crate::rt::context;
use crate::rt::coop;
use crate::rt::Core;

use super::ready::{Interest, Ready};

/// Declares [`Op`] from one table: each operation with its await-site label and how
/// it is counted, so that a new operation cannot have one without the other.
macro_rules! ops {
    ($( $(#[$doc:meta])* $op:ident $(($arg:ty))? => $label:literal, $tally:expr; )*) => {
        /// What kind of operation completed, for the per-socket-kind counters.
        #[derive(Clone, Copy, Debug)]
        pub(crate) enum Op {
            $( $(#[$doc])* $op $(($arg))?, )*
        }

        impl Op {
            /// The label of its await site ("tcp read", ...).
            const fn label(self) -> &'static str {
                match self {
                    $( Op::$op { .. } => $label, )*
                }
            }

            /// How a completion is counted.
            #[inline(always)]
            const fn tally(self) -> Tally {
                match self {
                    $( Op::$op { .. } => $tally, )*
                }
            }
        }
    };
}

ops! {
    /// A stream read into a buffer of this many bytes.
    TcpRead(usize) => "tcp read", split(C::TcpReadsInline, C::TcpReadsWaited, Some(C::TcpBytesRead));
    TcpWrite => "tcp write", split(C::TcpWritesInline, C::TcpWritesWaited, Some(C::TcpBytesWritten));
    TcpAccept => "tcp accept", split(C::TcpAcceptsInline, C::TcpAcceptsWaited, None);
    /// Finishing a connect: not counted (it is neither a read nor a write).
    TcpConnect => "tcp connect", Tally::Not;
    UdpRecv => "udp recv", split(C::UdpRecvsInline, C::UdpRecvsWaited, Some(C::UdpBytesReceived));
    UdpSend => "udp send", split(C::UdpSendsInline, C::UdpSendsWaited, Some(C::UdpBytesSent));
    /// A Unix stream read into a buffer of this many bytes.
    UnixRead(usize) => "unix read", split(C::UnixReadsInline, C::UnixReadsWaited, Some(C::UnixBytesRead));
    UnixWrite => "unix write", split(C::UnixWritesInline, C::UnixWritesWaited, Some(C::UnixBytesWritten));
    UnixAccept => "unix accept", split(C::UnixAcceptsInline, C::UnixAcceptsWaited, None);
    /// Finishing a Unix connect: not counted, as a TCP connect.
    UnixConnect => "unix connect", Tally::Not;
    UnixRecv => "unix recv", split(C::UnixRecvsInline, C::UnixRecvsWaited, Some(C::UnixBytesReceived));
    UnixSend => "unix send", split(C::UnixSendsInline, C::UnixSendsWaited, Some(C::UnixBytesSent));
    /// A peek (TCP or UDP): counted, but it moves no bytes.
    Peek => "peek", split(C::PeeksInline, C::PeeksWaited, None);
    /// A `Signal::recv` that found its signal delivered.
    Signal => "signal recv", Tally::Once(C::SignalsReceived);
}

use Counter as C;

/// How a completed operation is counted.
#[derive(Clone, Copy)]
enum Tally {
    /// Not at all (finishing a connect is neither a read nor a write).
    Not,
    /// One counter, whether it waited or not (a delivered signal).
    Once(Counter),
    /// Inline or waited, with the bytes it moved when the operation moves any.
    Split {
        inline: Counter,
        waited: Counter,
        bytes: Option<Counter>,
    },
}

/// A row of the table: counted inline or waited, with the bytes it moved if any.
const fn split(inline: Counter, waited: Counter, bytes: Option<Counter>) -> Tally {
    Tally::Split {
        inline,
        waited,
        bytes,
    }
}

impl Op {
    /// At `Level::Timing`, leaves the await site of an operation that goes back to the
    /// loop, named after it ("tcp read", ...). futures-io's traits hide the caller's
    /// `.await` from `#[track_caller]`, so the line is turnstile's own; users name
    /// theirs with `ProbeExt::probe`.
    #[cold]
    #[track_caller]
    fn leave_site(self, core: &Core) {
        crate::observe::site::leave_site(self.site(core));
    }

    /// The operation's await site (none below `Level::Timing`).
    #[cold]
    #[track_caller]
    fn site(self, core: &Core) -> SiteTag {
        let Some(timing) = core.observe().timing() else {
            return SiteTag::NONE;
        };
        timing.label_tag(self.label(), Location::caller())
    }

    #[inline]
    fn count(self, counters: &Counters, waited: bool, bytes: usize) {
        match self.tally() {
            Tally::Not => {}
            Tally::Once(counter) => counters.bump(counter),
            Tally::Split {
                inline,
                waited: after_wait,
                bytes: moved,
            } => {
                counters.bump(if waited { after_wait } else { inline });
                if let Some(moved) = moved {
                    counters.add(moved, bytes as u64);
                }
            }
        }
    }
}

/// The bytes an operation's result moved, for the byte counters.
pub(crate) trait Moved {
    fn moved(&self) -> usize;
}

impl Moved for usize {
    #[inline]
    fn moved(&self) -> usize {
        *self
    }
}

/// A datagram received, with its sender (of any address type).
impl<A> Moved for (usize, A) {
    #[inline]
    fn moved(&self) -> usize {
        self.0
    }
}

impl Moved for () {
    #[inline]
    fn moved(&self) -> usize {
        0
    }
}

impl Moved for (mio::net::TcpStream, SocketAddr) {
    #[inline]
    fn moved(&self) -> usize {
        0
    }
}

impl Moved for (mio::net::UnixStream, std::os::unix::net::SocketAddr) {
    #[inline]
    fn moved(&self) -> usize {
        0
    }
}

/// A peek's result: counted as a peek, with no bytes moved.
pub(crate) struct Peeked<R>(pub(crate) R);

impl<R> Moved for Peeked<R> {
    #[inline]
    fn moved(&self) -> usize {
        0
    }
}

/// Whether a completed operation of `kind` that moved `moved` bytes proved the stream
/// socket's read queue empty: a short stream read (see the reactor's module docs).
#[inline(always)]
fn drains(kind: Op, moved: usize) -> bool {
    match kind {
        Op::TcpRead(asked) | Op::UnixRead(asked) => moved > 0 && moved < asked,
        _ => false,
    }
}

/// A mio socket registered with one runtime's reactor. Deregistered when dropped on
/// that runtime's loop; dropped anywhere else, its descriptor closes (which takes it out
/// of epoll) and its slot goes to the reactor's orphan list, freed at the next
/// registration.
#[derive(Debug)]
pub(crate) struct IoSource<S: Source> {
    io: S,
    key: IoKey,
    /// The id of the runtime it is registered with.
    runtime: u64,
    orphans: Orphans,
    /// The public type's name, for panic messages.
    what: &'static str,
}

impl<S: Source> IoSource<S> {
    /// Registers `io` with the current runtime.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub(crate) fn new(mut io: S, interest: mio::Interest, what: &'static str) -> io::Result<Self> {
        let registered = context::with_current(|core| {
            let (key, orphans) = core.driver().register(&mut io, interest)?;
            Ok((key, core.id(), orphans))
        });
        match registered {
            Some(Ok((key, runtime, orphans))) => Ok(IoSource {
                io,
                key,
                runtime,
                orphans,
                what,
            }),
            Some(Err(e)) => Err(e),
            None => outside_runtime(what),
        }
    }

    /// The socket, for calls that do not wait (addresses, options).
    #[inline]
    pub(crate) fn get(&self) -> &S {
        &self.io
    }

    /// Runs `f` with this source's runtime.
    ///
    /// # Panics
    /// Outside a runtime, or on a runtime other than the one it was registered with.
    #[inline]
    fn with_core<R>(&self, f: impl FnOnce(&Core) -> R) -> R {
        context::with_current(|core| {
            if core.id() != self.runtime {
                panic!(
                    "a turnstile::net::{} was used inside a runtime other than the one it \
                     was created in: a socket belongs to its runtime; create it (or a new \
                     one from its std counterpart) in the runtime that uses it",
                    self.what
                );
            }
            f(core)
        })
        .unwrap_or_else(|| outside_runtime(self.what))
    }

    /// Tries `op` on side `dir` (see the module docs), counting its completion as `kind`.
    #[inline]
    pub(crate) fn poll_io<R: Moved>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        kind: Op,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.with_core(|core| loop {
            let io = core.driver();
            if !io.is_ready(self.key, dir) {
                io.wait(self.key, dir, cx.waker());
                kind.leave_site(core);
                return Poll::Pending;
            }
            // Ready to try: the cooperative budget decides whether this poll may.
            if coop::poll_proceed(cx, || kind.site(core)).is_pending() {
                return Poll::Pending;
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // it waits: the poll ends here, and its budget with it
                    io.clear_and_wait(self.key, dir, cx.waker());
                    kind.leave_site(core);
                    return Poll::Pending;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    coop::refund(); // tried again, with its own unit
                    continue;
                }
                Err(e) => {
                    io.complete(self.key, dir, false);
                    return Poll::Ready(Err(e));
                }
                Ok(value) => {
                    let moved = value.moved();
                    // A short stream read emptied the socket: the next read waits for
                    // the next edge instead of asking the OS (the reactor's module docs
                    // say why no edge is lost).
                    let drained = drains(kind, moved);
                    let waited = io.complete(self.key, dir, drained);
                    kind.count(core.observe().counters(), waited, moved);
                    return Poll::Ready(Ok(value));
                }
            }
        })
    }

    /// `op` once, without waiting (the `try_*` operations): `WouldBlock` at once if the
    /// reactor knows side `dir` is not ready, without a system call; a `WouldBlock` from
    /// the OS clears that readiness (nobody waits: the next event sets it again). A
    /// completion is counted as `kind`, inline unless a poll of this side waited
    /// before. No budget: nothing here returns `Pending`.
    pub(crate) fn try_io<R: Moved>(
        &self,
        dir: Direction,
        kind: Op,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        self.with_core(|core| loop {
            let io = core.driver();
            if !io.is_ready(self.key, dir) {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    io.clear(self.key, dir);
                    return Err(e);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    io.complete(self.key, dir, false);
                    return Err(e);
                }
                Ok(value) => {
                    let moved = value.moved();
                    let waited = io.complete(self.key, dir, drains(kind, moved));
                    kind.count(core.observe().counters(), waited, moved);
                    return Ok(value);
                }
            }
        })
    }

    /// A readiness wait on this source (see [`Ready`]): the future behind `readable`,
    /// `writable` and `ready`, with its await site at `at`.
    pub(crate) fn ready(
        &self,
        interest: Interest,
        at: &'static Location<'static>,
    ) -> Readiness<'_, S> {
        Readiness {
            io: self,
            interest,
            at,
            waited: false,
        }
    }

    /// A readiness poll without a future (`poll_read_ready`, `poll_recv_ready`, ...):
    /// ready when any of `interest` is, else `Pending` with the waker in `cx` stored
    /// (woken when the reactor reports that side). Its await site is `at`.
    pub(crate) fn poll_ready_once(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        at: &'static Location<'static>,
    ) -> Poll<io::Result<Ready>> {
        self.poll_ready(cx, interest, None, at)
    }

    /// The readiness the reactor knows of, among `interest`: it may be stale (a
    /// readiness is cleared only when an operation says `WouldBlock`).
    fn known_ready(&self, core: &Core, interest: Interest) -> Ready {
        let io = core.driver();
        let mut ready = Ready::EMPTY;
        if interest.is_readable() && io.is_ready(self.key, Direction::Read) {
            ready |= Ready::READABLE;
            if io.is_read_closed(self.key) {
                ready |= Ready::READ_CLOSED;
            }
        }
        if interest.is_writable() && io.is_ready(self.key, Direction::Write) {
            ready |= Ready::WRITABLE;
        }
        ready
    }

    /// One poll of a readiness wait. `waited` is the wait's own flag: set on its first
    /// `Pending`, it makes the completion count in `ready_waited`. A `poll_*_ready`
    /// call has no future to keep a flag in (`None`): its completion counts as waited
    /// if the reactor marked a side it found ready as waited on (by this poll before,
    /// or by another waiter of that side).
    fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
        mut waited: Option<&mut bool>,
        at: &'static Location<'static>,
    ) -> Poll<io::Result<Ready>> {
        self.with_core(|core| {
            let ready = self.known_ready(core, interest);
            let site = SiteTag::code(at);
            if ready.is_empty() {
                let io = core.driver();
                for dir in interest.directions() {
                    io.wait(self.key, dir, cx.waker());
                }
                let first = match waited.as_deref_mut() {
                    Some(waited) => !std::mem::replace(waited, true),
                    None => true,
                };
                crate::observe::site::leave_site(site.again_unless(first));
                return Poll::Pending;
            }
            if coop::poll_proceed(cx, || site).is_pending() {
                return Poll::Pending;
            }
            // The wait is over and counted here: the operation that follows counts
            // itself, as inline if it finds what this wait found. A side that is not
            // ready keeps its "waited" mark (another task may be waiting there).
            let io = core.driver();
            let mut marked = false;
            if ready.is_readable() {
                marked |= io.complete(self.key, Direction::Read, false);
            }
            if ready.is_writable() {
                marked |= io.complete(self.key, Direction::Write, false);
            }
            let waited = waited.map_or(marked, |waited| *waited);
            let counter = if waited {
                Counter::ReadyWaited
            } else {
                Counter::ReadyInline
            };
            core.observe().bump(counter);
            Poll::Ready(Ok(ready))
        })
    }

    /// Takes the descriptor out of the runtime: a duplicate, made before this source
    /// deregisters and closes its own, so the socket itself (its connection, its
    /// bound address) lives on in the returned descriptor, still non-blocking.
    ///
    /// # Errors
    /// If `dup` fails (out of descriptors): the source is dropped all the same.
    pub(crate) fn into_owned_fd(self) -> io::Result<OwnedFd>
    where
        S: AsFd,
    {
        self.io.as_fd().try_clone_to_owned()
    }

    /// Bumps one of the runtime's counters (the listener counts its backoffs).
    pub(crate) fn count(&self, counter: Counter) {
        self.with_core(|core| core.observe().bump(counter));
    }
}

impl<S: Source> Drop for IoSource<S> {
    fn drop(&mut self) {
        let deregistered = context::with_current(|core| {
            if core.id() != self.runtime {
                return false;
            }
            // The wakers it held drop after the borrow ends (a waker may be anyone's).
            core.driver().deregister(&mut self.io, self.key);
            true
        });
        if deregistered != Some(true) {
            self.orphans.release(self.key);
        }
    }
}

/// The future of a readiness wait: `readable`, `writable`, `ready` on every net type.
/// Its await site is the line that called the method (`#[track_caller]`).
pub(crate) struct Readiness<'a, S: Source> {
    io: &'a IoSource<S>,
    interest: Interest,
    at: &'static Location<'static>,
    waited: bool,
}

impl<S: Source> Future for Readiness<'_, S> {
    type Output = io::Result<Ready>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<Ready>> {
        let this = self.get_mut();
        this.io
            .poll_ready(cx, this.interest, Some(&mut this.waited), this.at)
    }
}

/// The panic for a net type used outside `block_on`.
#[track_caller]
pub(crate) fn outside_runtime(what: &str) -> ! {
    panic!(
        "turnstile::net::{what} used outside a runtime: create and use sockets inside \
         Runtime::block_on (or in a task spawned there)"
    )
}
