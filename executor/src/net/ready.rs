//! [`Interest`] and [`Ready`]: what a readiness wait asks for, and what it found.
//!
//! tokio's names and meaning: `readable().await`, `writable().await` and
//! `ready(interest).await` wait until the reactor says an operation is worth trying,
//! and a `try_read`/`try_write` that follows does it without waiting. Readiness can be
//! stale (another task may have read the data first): a `try_*` that then says
//! `WouldBlock` clears it, and the loop goes round to the next wait.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use turnstile_reactor::Direction;

const READABLE: u8 = 0b001;
const WRITABLE: u8 = 0b010;
const READ_CLOSED: u8 = 0b100;

/// What a readiness wait ([`TcpStream::ready`](super::TcpStream::ready), ...) waits
/// for: reading, writing, or either (`Interest::READABLE | Interest::WRITABLE`).
///
/// ```
/// use turnstile::net::Interest;
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert!(!Interest::READABLE.is_writable());
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Wait until a read (or accept, or receive) is worth trying.
    pub const READABLE: Interest = Interest(READABLE);
    /// Wait until a write (or send) is worth trying.
    pub const WRITABLE: Interest = Interest(WRITABLE);

    /// Whether it includes reading.
    ///
    /// ```
    /// assert!(turnstile::net::Interest::READABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether it includes writing.
    ///
    /// ```
    /// assert!(turnstile::net::Interest::WRITABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Both interests: `self | other`, usable in a `const`.
    ///
    /// ```
    /// use turnstile::net::Interest;
    /// const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
    /// assert!(BOTH.is_readable() && BOTH.is_writable());
    /// ```
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// The reactor's sides this interest waits on.
    pub(crate) fn directions(self) -> impl Iterator<Item = Direction> {
        [
            self.is_readable().then_some(Direction::Read),
            self.is_writable().then_some(Direction::Write),
        ]
        .into_iter()
        .flatten()
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.is_readable(), self.is_writable()) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            (false, true) => f.write_str("WRITABLE"),
            (false, false) => f.write_str("(none)"),
        }
    }
}

/// What a readiness wait found: the socket may be read, written, and whether its read
/// side is closed (EOF or an error: a read returns at once, forever).
///
/// A closed write side is not reported apart: it shows as writable, and the write
/// then returns the error (`BrokenPipe`, `ConnectionReset`).
///
/// ```
/// use turnstile::net::Ready;
/// let ready = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(ready.is_readable() && ready.is_read_closed());
/// assert!(!ready.is_writable());
/// assert!(Ready::EMPTY.is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Ready(u8);

impl Ready {
    /// Nothing is ready.
    pub const EMPTY: Ready = Ready(0);
    /// A read (accept, receive) is worth trying.
    pub const READABLE: Ready = Ready(READABLE);
    /// A write (send) is worth trying.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The read side is closed: reads return EOF or an error at once.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);

    /// Whether nothing is ready.
    ///
    /// ```
    /// assert!(!turnstile::net::Ready::READABLE.is_empty());
    /// ```
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether a read is worth trying.
    ///
    /// ```
    /// assert!(turnstile::net::Ready::READABLE.is_readable());
    /// ```
    pub const fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Whether a write is worth trying.
    ///
    /// ```
    /// assert!(turnstile::net::Ready::WRITABLE.is_writable());
    /// ```
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Whether the read side is closed.
    ///
    /// ```
    /// assert!(turnstile::net::Ready::READ_CLOSED.is_read_closed());
    /// ```
    pub const fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }
}

impl BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ready")
            .field("readable", &self.is_readable())
            .field("writable", &self.is_writable())
            .field("read_closed", &self.is_read_closed())
            .finish()
    }
}
