//! The examples' accept loop, in one place: which accept errors end a server, which
//! are one connection's problem (logged, and the loop goes on), and `set_nodelay`
//! failing, which is never a reason to stop. Every example that accepts connections,
//! and the tests that run their code, include this file with `#[path]`.
//!
//! Linux's accept(2) says to treat the network errors already pending on the new
//! socket (ENETDOWN, EPROTO, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
//! ENETUNREACH) like EAGAIN, that is, to retry; ECONNABORTED (the peer left before the
//! accept), EINTR and EPERM (a firewall rule refused that one connection) are also about
//! one connection. Running out of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
//! ENOMEM, and ENOSPC from registering the new socket with epoll) is not fatal either,
//! but retrying at once would spin: `turnstile::net::TcpListener::accept` already waits
//! out EMFILE/ENFILE on a timer, and [`next_connection`] backs off on the rest. Anything
//! else (EBADF, EINVAL, ENOTSOCK, EFAULT: the listener itself is broken) ends the loop.
#![allow(dead_code)] // each includer uses part of it

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use turnstile::net::{TcpListener, TcpStream};

/// What to do about an accept error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptError {
    /// One connection failed (or a signal interrupted the call): log it, accept the next.
    Connection,
    /// Out of descriptors or memory: log it, wait a little, accept the next.
    Resources,
    /// The listener is broken: stop accepting.
    Fatal,
}

/// The one decision: what `e`, returned by an accept, means for the listener.
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
pub fn is_fatal(e: &io::Error) -> bool {
    classify(e) == AcceptError::Fatal
}

/// How long [`next_connection`] waits after an [`AcceptError::Resources`] error.
pub const RESOURCES_BACKOFF: Duration = Duration::from_millis(50);

/// What an accept loop accepts from: a `TcpListener`, or in a test a wrapper that
/// injects errors.
pub trait Accept {
    /// The accepted connection.
    type Stream;
    /// Accepts the next connection.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>>;
}

impl Accept for TcpListener {
    type Stream = TcpStream;
    fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> {
        TcpListener::accept(self)
    }
}

/// The next connection, past every error that is not fatal to the listener (each
/// logged on stderr); `Err` only when the listener is broken.
pub async fn next_connection<L: Accept>(listener: &L) -> io::Result<(L::Stream, SocketAddr)> {
    loop {
        match listener.accept().await {
            Ok(accepted) => return Ok(accepted),
            Err(e) => match classify(&e) {
                AcceptError::Connection => eprintln!("accept failed, going on: {e}"),
                AcceptError::Resources => {
                    eprintln!("accept failed, going on in {RESOURCES_BACKOFF:?}: {e}");
                    turnstile::time::sleep(RESOURCES_BACKOFF).await;
                }
                AcceptError::Fatal => {
                    eprintln!("accept failed, the listener is broken: {e}");
                    return Err(e);
                }
            },
        }
    }
}

/// Turns Nagle's algorithm off on `stream`; a failure is logged and the connection
/// served anyway (it is only slower to answer small writes).
pub fn nodelay(stream: &TcpStream) {
    if let Err(e) = stream.set_nodelay(true) {
        eprintln!("set_nodelay failed, serving the connection anyway: {e}");
    }
}
