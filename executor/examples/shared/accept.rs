//! The examples' accept loop, in one place: which accept errors end a server, which
//! are one connection's problem (logged, and the loop goes on), and `set_nodelay`
//! failing, which is never a reason to stop. Every example that accepts connections,
//! and the tests that run their code, include this file with `#[path]`.
//!
//! The decision itself is the library's, [`turnstile::net::AcceptError::classify`]
//! (`turnstile::hyper::serve`'s accept loop uses it too); this file adds the loop's
//! logging and its back-off on [`AcceptError::Resources`].
#![allow(dead_code)] // each includer uses part of it

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use turnstile::net::{TcpListener, TcpStream};

pub use turnstile::net::AcceptError;

/// What `e`, returned by an accept, means for the listener.
pub fn classify(e: &io::Error) -> AcceptError {
    AcceptError::classify(e)
}

/// Whether `e` ends an accept loop.
pub fn is_fatal(e: &io::Error) -> bool {
    AcceptError::is_fatal(e)
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
