//! The examples' accept loop goes on past every accept error that is one connection's
//! (ECONNABORTED first), serving the next client, and stops on a broken listener.
//!
//! The loop under test is `examples/echo_server.rs`'s own `serve` (included with
//! `#[path]`), over a listener wrapper that fails its first accepts with injected
//! errors before handing over to the real listener.
#![cfg(not(miri))]

#[path = "../examples/echo_server.rs"]
mod echo_server;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use echo_server::accept::{classify, is_fatal, Accept, AcceptError};
use futures::{AsyncReadExt, AsyncWriteExt};
use turnstile::net::{TcpListener, TcpStream};
use turnstile::Runtime;

/// A listener whose next accepts fail with `errors`, in order, then accept for real.
struct Faulty {
    listener: TcpListener,
    errors: RefCell<VecDeque<i32>>,
    injected: RefCell<usize>,
}

impl Accept for Faulty {
    type Stream = TcpStream;
    fn accept(&self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> {
        let injected = self.errors.borrow_mut().pop_front();
        async move {
            match injected {
                Some(errno) => {
                    *self.injected.borrow_mut() += 1;
                    Err(io::Error::from_raw_os_error(errno))
                }
                None => self.listener.accept().await,
            }
        }
    }
}

/// Runs the echo server over a `Faulty` listener injecting `errors`, and one client;
/// the client's echo (if the server still served it), the server's result if it
/// ended, and how many errors were injected.
fn run(errors: &[i32]) -> (Option<Vec<u8>>, Option<io::Result<()>>, usize) {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let faulty = std::rc::Rc::new(Faulty {
            listener,
            errors: RefCell::new(errors.iter().copied().collect()),
            injected: RefCell::new(0),
        });
        let server = {
            let faulty = faulty.clone();
            turnstile::spawn(async move { echo_server::serve(&*faulty).await })
        };
        // The client connects after the errors: the next accept is its connection.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"after the faults").await.unwrap();
        let mut buf = vec![0; 16];
        let echoed = match futures::future::select(
            Box::pin(client.read_exact(&mut buf)),
            Box::pin(async {
                while !server.is_finished() {
                    turnstile::task::yield_now().await;
                }
            }),
        )
        .await
        {
            futures::future::Either::Left((read, _)) => read.ok().map(|()| buf.clone()),
            futures::future::Either::Right(((), _)) => None,
        };
        let ended = if server.is_finished() {
            Some(server.await.unwrap())
        } else {
            server.abort();
            None
        };
        let injected = *faulty.injected.borrow();
        (echoed, ended, injected)
    })
}

/// Every accept error Linux's accept(2) lists as the new connection's, not the
/// listener's, and the others that are one connection's or a shortage.
const NOT_FATAL: [i32; 18] = [
    libc::ECONNABORTED,
    libc::EINTR,
    libc::EAGAIN,
    libc::EPROTO,
    libc::ENOPROTOOPT,
    libc::EHOSTDOWN,
    libc::ENONET,
    libc::EHOSTUNREACH,
    libc::EOPNOTSUPP,
    libc::ENETUNREACH,
    libc::ENETDOWN,
    libc::EPERM,
    libc::ECONNRESET,
    libc::ETIMEDOUT,
    libc::EMFILE,
    libc::ENFILE,
    libc::ENOBUFS,
    libc::ENOMEM,
];

#[test]
fn the_accept_loop_survives_an_injected_econnaborted_and_serves_the_next_client() {
    let (echoed, ended, injected) = run(&[libc::ECONNABORTED]);
    assert_eq!(injected, 1);
    assert!(ended.is_none(), "the loop ended: {ended:?}");
    assert_eq!(echoed.as_deref(), Some(&b"after the faults"[..]));
}

#[test]
fn the_accept_loop_survives_every_error_that_is_not_the_listeners() {
    let (echoed, ended, injected) = run(&NOT_FATAL);
    assert_eq!(injected, NOT_FATAL.len());
    assert!(ended.is_none(), "the loop ended: {ended:?}");
    assert_eq!(echoed.as_deref(), Some(&b"after the faults"[..]));
}

#[test]
fn a_broken_listener_ends_the_accept_loop() {
    for errno in [libc::EBADF, libc::EINVAL, libc::ENOTSOCK, libc::EFAULT] {
        let (echoed, ended, injected) = run(&[libc::ECONNABORTED, errno]);
        assert_eq!(injected, 2);
        let err = ended.expect("the loop ended").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(errno));
        assert_eq!(echoed, None, "no one served the client");
    }
}

#[test]
fn the_one_decision() {
    for errno in NOT_FATAL {
        assert!(!is_fatal(&io::Error::from_raw_os_error(errno)), "{errno}");
    }
    for errno in [
        libc::EMFILE,
        libc::ENFILE,
        libc::ENOBUFS,
        libc::ENOMEM,
        libc::ENOSPC,
    ] {
        assert_eq!(
            classify(&io::Error::from_raw_os_error(errno)),
            AcceptError::Resources
        );
    }
    assert_eq!(
        classify(&io::Error::from_raw_os_error(libc::ECONNABORTED)),
        AcceptError::Connection
    );
    assert!(is_fatal(&io::Error::from_raw_os_error(libc::EBADF)));
    assert!(!is_fatal(&io::ErrorKind::ConnectionAborted.into()));
    assert!(is_fatal(&io::Error::other("not from the kernel")));
}
