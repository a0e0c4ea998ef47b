//! Networking on the reactor: [`TcpListener`], [`TcpStream`], [`TcpSocket`],
//! [`UdpSocket`], and Unix domain sockets ([`UnixListener`], [`UnixStream`],
//! [`UnixDatagram`]), with tokio's names and meaning.
//!
//! Each socket is registered with the runtime it is created in (so create sockets
//! inside `block_on` or a task; using one outside a runtime panics and says so). Every
//! I/O operation first tries the system call, unless the reactor already knows it
//! would block: data that is already there is read without a yield, and only an
//! operation that has to wait goes back to the loop, to be woken by the reactor when
//! the socket becomes ready (a wake counted as `wakes_io`). The probes count both
//! cases per socket kind (`tcp_reads_inline` vs `tcp_reads_waited`, ...) with the
//! bytes moved: the I/O half of "which awaits reach the loop".
//!
//! Besides the `.await`ed operations, every socket has tokio's readiness calls:
//! `readable().await` / `writable().await` / `ready(Interest)`, then `try_read`,
//! `try_write`, `try_send`, `try_recv`, ... which never wait (`WouldBlock` when the
//! socket is not ready). Readiness waits are counted in `ready_inline` /
//! `ready_waited` and have their own await sites; the `try_*` calls count as the
//! operation they do. Every socket is `AsFd` and `AsRawFd` (so
//! `socket2::SockRef::from(&stream)` sets any option), and converts to and from its
//! std type (`into_std`, `from_std`).
//!
//! Errors are `io::Error`s, never panics: a refused connect is `ConnectionRefused`, a
//! reset peer an error on the next read or write, a closed peer EOF.
//!
//! ```
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use turnstile::net::{TcpListener, TcpStream};
//! use turnstile::probes::Level;
//!
//! let rt = turnstile::Runtime::builder().probes(Level::Counters).build()?;
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!     client.write_all(b"hello").await?;
//!     let mut buf = [0; 5];
//!     server.read_exact(&mut buf).await?;
//!     assert_eq!(&buf, b"hello");
//!     Ok::<(), std::io::Error>(())
//! })?;
//! let counters = rt.probes().counters;
//! assert_eq!(counters.tcp_bytes_read, 5);
//! # Ok::<(), std::io::Error>(())
//! ```

mod accept;
mod io;
mod listener;
mod ready;
mod socket;
pub(crate) mod source;
mod split;
mod stream;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
mod unix_addr;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use accept::AcceptError;
pub use listener::TcpListener;
pub use ready::{Interest, Ready};
pub use socket::TcpSocket;
pub use stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, TcpStream, WriteHalf};
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;

/// TCP's stream halves under tokio's path (`tcp::OwnedReadHalf`, ...): the same types
/// as [`OwnedReadHalf`], [`OwnedWriteHalf`], [`ReadHalf`] and [`WriteHalf`] here.
pub mod tcp {
    pub use super::stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
}

/// The halves of a [`UnixStream`], with tokio's names: owned ones from
/// [`UnixStream::into_split`], borrowed ones from [`UnixStream::halves`].
pub mod unix {
    pub use super::unix_stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
}
