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
//! bytes it moved. A wait's await site is named after the socket ([`SocketProbe`]):
//! "tcp read from 127.0.0.1:5432 (postgres)", interned once per kind of operation and
//! kept by the socket, so a `Pending` costs two loads and a store more than none. The reactor's `RefCell` is never borrowed across the system call or
//! across a waker: the call is the OS's, not user code, but keeping borrows short keeps
//! the rule simple.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::Location;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};

use mio::event::Source;
use turnstile_probes::{Counter, Counters, SiteCell, SiteTag};
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
    /// The word between the operation and the peer's address in a site's label.
    fn preposition(self) -> &'static str {
        match self {
            Op::TcpWrite
            | Op::TcpConnect
            | Op::UdpSend
            | Op::UnixWrite
            | Op::UnixConnect
            | Op::UnixSend => "to",
            _ => "from",
        }
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

/// What a socket's waits are named after: its addresses, as a site label shows them.
/// Implemented by every socket type an [`IoSource`] holds; read only when a wait's
/// site is first named (never per poll).
pub(crate) trait SocketAddrs {
    /// The peer's address ("127.0.0.1:5432", a socket path), if it has one.
    fn peer(&self) -> Option<String> {
        None
    }
    /// The socket's own address, if it has one.
    fn local(&self) -> Option<String> {
        None
    }
}

macro_rules! inet_addrs {
    ($($socket:ty),*) => {$(
        impl SocketAddrs for $socket {
            fn peer(&self) -> Option<String> {
                <$socket>::peer_addr(self).ok().map(|a| a.to_string())
            }
            fn local(&self) -> Option<String> {
                <$socket>::local_addr(self).ok().map(|a| a.to_string())
            }
        }
    )*};
}
inet_addrs!(mio::net::TcpStream, mio::net::UdpSocket);

impl SocketAddrs for mio::net::TcpListener {
    fn local(&self) -> Option<String> {
        self.local_addr().ok().map(|a| a.to_string())
    }
}

/// A Unix socket's address, when it is a path (unnamed and abstract ones are not).
fn unix_path(addr: io::Result<std::os::unix::net::SocketAddr>) -> Option<String> {
    Some(addr.ok()?.as_pathname()?.display().to_string())
}

macro_rules! unix_addrs {
    ($($socket:ty),*) => {$(
        impl SocketAddrs for $socket {
            fn peer(&self) -> Option<String> {
                unix_path(<$socket>::peer_addr(self))
            }
            fn local(&self) -> Option<String> {
                unix_path(<$socket>::local_addr(self))
            }
        }
    )*};
}
unix_addrs!(mio::net::UnixStream, mio::net::UnixDatagram);

impl SocketAddrs for mio::net::UnixListener {
    fn local(&self) -> Option<String> {
        unix_path(self.local_addr())
    }
}

/// How one socket names the await sites of its waits, and the sites it named.
///
/// A wait's label is the operation, the socket and the name the user gave it
/// (`set_probe_name`): "tcp read from 127.0.0.1:5432 (postgres)", "tcp write to
/// 127.0.0.1:5432", "tcp accept on 127.0.0.1:8080", "udp recv on 0.0.0.0:53" (a
/// socket without a peer is named by its own address). An accepted stream is named after
/// the listener's address, not after its client's port ("tcp read from a client of
/// 127.0.0.1:8080"), so that a server's connections share one site per listener
/// instead of making one each. Sockets with the same label share a site.
///
/// The label is made and interned in the runtime's sites table the first time a wait
/// of its kind yields, and kept here (one tag per direction, with the operation it is
/// for): later waits leave the kept tag, with no formatting and no lookup. Naming the
/// socket (or connecting a datagram socket) forgets the kept tags.
#[derive(Debug, Default)]
pub(crate) struct SocketProbe {
    /// The name given with `set_probe_name`.
    name: Mutex<Option<Box<str>>>,
    /// Accepted by a listener: named after its own (the listener's) address.
    accepted: AtomicBool,
    /// Per direction (read, write): the label of the operation whose tag is kept (its
    /// address: `Op::label`'s are `'static`), and the tag.
    kept: [(AtomicPtr<u8>, SiteCell); 2],
}

impl SocketProbe {
    /// The name given to the socket, if any.
    pub(crate) fn name(&self) -> Option<Box<str>> {
        self.name
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Names the socket (`None`: back to its address alone).
    pub(crate) fn set_name(&self, name: Option<Box<str>>) {
        *self.name.lock().unwrap_or_else(PoisonError::into_inner) = name;
        self.forget();
    }

    /// The addresses changed, or the name did: the kept sites are stale.
    pub(crate) fn forget(&self) {
        for (op, tag) in &self.kept {
            op.store(std::ptr::null_mut(), Ordering::Relaxed);
            tag.set(SiteTag::NONE);
        }
    }

    /// The site label of `kind` on a socket with these addresses.
    fn label(&self, kind: Op, peer: Option<String>, local: Option<String>) -> String {
        let accepted = self.accepted.load(Ordering::Relaxed);
        let mut label = kind.label().to_owned();
        let whom = match (kind, peer) {
            (Op::TcpAccept | Op::UnixAccept, _) => local.map(|l| ("on", l)),
            _ if accepted => local.map(|l| (kind.preposition(), format!("a client of {l}"))),
            (_, Some(peer)) => Some((kind.preposition(), peer)),
            // No peer (an unconnected datagram socket): the address it is bound to.
            (_, None) => local.map(|l| ("on", l)),
        };
        if let Some((preposition, whom)) = whom {
            label.push(' ');
            label.push_str(preposition);
            label.push(' ');
            label.push_str(&whom);
        }
        if let Some(name) = self.name() {
            label.push_str(" (");
            label.push_str(&name);
            label.push(')');
        }
        label
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
    /// How its waits' sites are named, and the sites it named.
    probe: SocketProbe,
    /// Its addresses, for the site labels (`S`'s [`SocketAddrs`]).
    addrs: fn(&S) -> (Option<String>, Option<String>),
}

impl<S: Source> IoSource<S> {
    /// Registers `io` with the current runtime.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub(crate) fn new(mut io: S, interest: mio::Interest, what: &'static str) -> io::Result<Self>
    where
        S: SocketAddrs,
    {
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
                probe: SocketProbe::default(),
                addrs: |io| (io.peer(), io.local()),
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

    /// How its waits' sites are named (`set_probe_name`).
    pub(crate) fn probe(&self) -> &SocketProbe {
        &self.probe
    }

    /// Marks a stream accepted from `listener`: its waits are named after the
    /// listener's address, with the listener's name if it has one.
    pub(crate) fn accepted_from<L: Source>(&self, listener: &IoSource<L>) {
        self.probe.accepted.store(true, Ordering::Relaxed);
        if let Some(name) = listener.probe.name() {
            self.probe.set_name(Some(name));
        }
    }

    /// At `Level::Timing`, leaves the await site of an operation that goes back to the
    /// loop: the socket's site for `kind` ([`SocketProbe`]). futures-io's traits hide
    /// the caller's `.await` from `#[track_caller]`, so the socket, not a line, names
    /// the wait; the frames of `#[turnstile::instrument]` give the user's lines above it.
    #[cold]
    fn leave_site(&self, core: &Core, dir: Direction, kind: Op) {
        crate::observe::site::leave_site(self.site(core, dir, kind));
    }

    /// The site of a wait of `kind` on side `dir` (none below `Level::Timing`): the tag
    /// kept for it, or a new one, named and interned here once.
    #[inline]
    fn site(&self, core: &Core, dir: Direction, kind: Op) -> SiteTag {
        let Some(timing) = core.observe().timing() else {
            return SiteTag::NONE;
        };
        let (op, tag) = &self.probe.kept[match dir {
            Direction::Read => 0,
            Direction::Write => 1,
        }];
        let label = kind.label().as_ptr().cast_mut();
        if op.load(Ordering::Relaxed) == label {
            return tag.get();
        }
        self.name_site(timing, kind, op, tag)
    }

    /// Names and interns the site of `kind`, and keeps it.
    #[cold]
    #[inline(never)]
    fn name_site(
        &self,
        timing: &turnstile_probes::Timing,
        kind: Op,
        op: &AtomicPtr<u8>,
        tag: &SiteCell,
    ) -> SiteTag {
        let (peer, local) = (self.addrs)(&self.io);
        let site = timing.socket_tag(&self.probe.label(kind, peer, local));
        tag.set(site);
        op.store(kind.label().as_ptr().cast_mut(), Ordering::Relaxed);
        site
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
                self.leave_site(core, dir, kind);
                return Poll::Pending;
            }
            // Ready to try: the cooperative budget decides whether this poll may.
            if coop::poll_proceed(cx, || self.site(core, dir, kind)).is_pending() {
                return Poll::Pending;
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // it waits: the poll ends here, and its budget with it
                    io.clear_and_wait(self.key, dir, cx.waker());
                    self.leave_site(core, dir, kind);
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
