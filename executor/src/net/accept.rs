//! What an accept error means for the listener that returned it: one connection's
//! problem (go on), a shortage of descriptors or memory (wait a little, go on), or a
//! broken listener (stop). `turnstile::hyper::serve`'s accept loop decides with it, and
//! so can a hand-written one.
//!
//! Linux's accept(2) says to treat the network errors already pending on the new
//! socket (ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
//! ENETUNREACH) like EAGAIN, that is, to retry; ECONNABORTED (the peer left before the
//! accept), EINTR and EPERM (a firewall rule refused that one connection) are also about
//! one connection. Running out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
//! ENOMEM, and ENOSPC from registering the new socket with epoll) is not fatal either,
//! but retrying at once would spin: [`TcpListener::accept`](super::TcpListener::accept)
//! already waits out EMFILE/ENFILE on a timer, and a loop should back off on the rest.
//! Anything else (EBADF, EINVAL, ENOTSOCK, EFAULT: the listener itself is broken) ends
//! the loop.

use std::io;

/// What to do about an accept error (see [`AcceptError::classify`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptError {
    /// One connection failed (or a signal interrupted the call): log it, accept the next.
    Connection,
    /// Out of descriptors or memory: log it, wait a little, accept the next.
    Resources,
    /// The listener is broken: stop accepting.
    Fatal,
}

impl AcceptError {
    /// The one decision: what `e`, returned by an accept, means for the listener.
    ///
    /// ```
    /// use std::io;
    /// use turnstile::net::AcceptError;
    ///
    /// let aborted = io::Error::from_raw_os_error(libc::ECONNABORTED);
    /// assert_eq!(AcceptError::classify(&aborted), AcceptError::Connection);
    /// let emfile = io::Error::from_raw_os_error(libc::EMFILE);
    /// assert_eq!(AcceptError::classify(&emfile), AcceptError::Resources);
    /// let ebadf = io::Error::from_raw_os_error(libc::EBADF);
    /// assert_eq!(AcceptError::classify(&ebadf), AcceptError::Fatal);
    /// ```
    pub fn classify(e: &io::Error) -> AcceptError {
        match e.raw_os_error() {
            Some(
                libc::ECONNABORTED
                | libc::EINTR
                | libc::EAGAIN
                | libc::EPROTO
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::ENONET
                | libc::EHOSTUNREACH
                | libc::EOPNOTSUPP
                | libc::ENETUNREACH
                | libc::ENETDOWN
                | libc::EPERM
                | libc::ECONNRESET
                | libc::ETIMEDOUT,
            ) => AcceptError::Connection,
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::ENOSPC) => {
                AcceptError::Resources
            }
            Some(_) => AcceptError::Fatal,
            // Not from the kernel: judge by kind.
            None => match e.kind() {
                io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::Interrupted
                | io::ErrorKind::WouldBlock
                | io::ErrorKind::TimedOut => AcceptError::Connection,
                io::ErrorKind::OutOfMemory => AcceptError::Resources,
                _ => AcceptError::Fatal,
            },
        }
    }

    /// Whether `e` ends an accept loop.
    ///
    /// ```
    /// use turnstile::net::AcceptError;
    /// assert!(!AcceptError::is_fatal(&std::io::Error::from_raw_os_error(libc::EINTR)));
    /// assert!(AcceptError::is_fatal(&std::io::Error::from_raw_os_error(libc::ENOTSOCK)));
    /// ```
    pub fn is_fatal(e: &io::Error) -> bool {
        AcceptError::classify(e) == AcceptError::Fatal
    }
}
