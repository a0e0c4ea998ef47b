//! The halves of a stream, TCP's or Unix's, from one definition: [`stream_halves!`]
//! declares a stream type's four halves (owned and borrowed, read and write) where it
//! is invoked, with the stream's own futures-io impls, over the generic stream
//! operations of `net::io`. It knows the stream types only by the name it is given:
//! the stream modules import this one, not the other way round.
//!
//! Each half waits on its own side: the reactor keeps a reader waker and a writer waker
//! per socket, so a read half waiting in one task and a write half waiting in another
//! never steal each other's wake-ups.

/// Declares, in the invoking module, `OwnedReadHalf`, `OwnedWriteHalf`, `ReadHalf` and
/// `WriteHalf` for the stream type `$stream` (a struct with a field `io` holding its
/// `IoSource<$socket>`), its `into_split` and `halves` methods with the docs given, and
/// futures-io's `AsyncRead`/`AsyncWrite` for the stream and its halves. The halves'
/// readiness and `try_*` methods come from `socket_methods!`, with their own docs.
macro_rules! stream_halves {
    (
        $stream:ident($socket:ty);
        $(#[$into_doc:meta])* fn into_split;
        $(#[$halves_doc:meta])* fn halves;
    ) => {
        #[doc = concat!(
            "The read half of a [`", stringify!($stream), "`] from [`", stringify!($stream),
            "::into_split`]: futures-io [`AsyncRead`](futures_io::AsyncRead), movable into \
             its own task."
        )]
        pub struct OwnedReadHalf {
            io: ::std::sync::Arc<$crate::net::source::IoSource<$socket>>,
        }

        #[doc = concat!(
            "The write half of a [`", stringify!($stream), "`] from [`", stringify!($stream),
            "::into_split`]: futures-io [`AsyncWrite`](futures_io::AsyncWrite), movable \
             into its own task. Dropping it shuts down the write side (the peer reads EOF)."
        )]
        pub struct OwnedWriteHalf {
            io: ::std::sync::Arc<$crate::net::source::IoSource<$socket>>,
        }

        #[doc = concat!(
            "The read half of a [`", stringify!($stream), "`] from [`", stringify!($stream),
            "::halves`], borrowed: futures-io [`AsyncRead`](futures_io::AsyncRead)."
        )]
        pub struct ReadHalf<'a> {
            io: &'a $crate::net::source::IoSource<$socket>,
        }

        #[doc = concat!(
            "The write half of a [`", stringify!($stream), "`] from [`", stringify!($stream),
            "::halves`], borrowed: futures-io [`AsyncWrite`](futures_io::AsyncWrite)."
        )]
        pub struct WriteHalf<'a> {
            io: &'a $crate::net::source::IoSource<$socket>,
        }

        impl $stream {
            $(#[$into_doc])*
            pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
                let io = ::std::sync::Arc::new(self.io);
                (OwnedReadHalf { io: io.clone() }, OwnedWriteHalf { io })
            }

            $(#[$halves_doc])*
            pub fn halves(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
                (ReadHalf { io: &self.io }, WriteHalf { io: &self.io })
            }
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                // Best effort, like closing a file: the peer learns of it as EOF.
                let _ = self.io.close_write();
            }
        }

        $crate::net::split::stream_halves!(@read $socket; $stream, OwnedReadHalf, ReadHalf<'_>);
        $crate::net::split::stream_halves!(@write $socket; $stream, OwnedWriteHalf, WriteHalf<'_>);
        $crate::net::split::stream_halves!(
            @debug OwnedReadHalf, OwnedWriteHalf, ReadHalf<'_>, WriteHalf<'_>
        );
    };

    (@read $socket:ty; $($ty:ty),*) => {$(
        impl ::futures_io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                // The closure is written here, one per impl, so that each impl gets its
                // own copy of `poll_io` with one caller, which the compiler inlines: a
                // shared generic copy with three callers stays out of line, and costs
                // the read path of a round trip some 25 instructions (callgrind).
                let asked = buf.len();
                self.io.poll_io(
                    cx,
                    ::turnstile_reactor::Direction::Read,
                    <$socket as $crate::net::io::StreamSocket>::read_op(asked),
                    |s| $crate::net::io::StreamSocket::read(s, buf),
                )
            }
        }
    )*};

    (@write $socket:ty; $($ty:ty),*) => {$(
        impl ::futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                // One closure per impl, as in `poll_read`.
                self.io.poll_io(
                    cx,
                    ::turnstile_reactor::Direction::Write,
                    <$socket as $crate::net::io::StreamSocket>::WRITE,
                    |s| $crate::net::io::StreamSocket::write(s, buf),
                )
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                self.io.poll_io(
                    cx,
                    ::turnstile_reactor::Direction::Write,
                    <$socket as $crate::net::io::StreamSocket>::WRITE,
                    |s| $crate::net::io::StreamSocket::write_vectored(s, bufs),
                )
            }

            /// Writes go straight to the socket: nothing to flush.
            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(Ok(()))
            }

            /// Shuts down the write side (FIN); the read side stays open.
            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready(self.io.close_write())
            }
        }
    )*};

    (@debug $($ty:ty),*) => {$(
        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("peer", &self.io.get().peer_addr().ok())
                    .finish()
            }
        }
    )*};
}

pub(crate) use stream_halves;
