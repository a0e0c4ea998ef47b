//! tokio's I/O traits on turnstile's streams (the `tokio-io` feature): `AsyncRead` and
//! `AsyncWrite` from `tokio::io`, so that the tokio ecosystem's clients and codecs
//! (tokio-util's `Framed`, tokio-postgres's `connect_raw`, tokio-rustls, ...) take a
//! [`TcpStream`](super::TcpStream), a [`UnixStream`](super::UnixStream) or an owned or
//! borrowed half as they are, without a `compat()` wrapper.
//!
//! [`tokio_io_impls!`] gives them to every stream type and half at the end of this
//! file, over the futures-io impls of the same types: each of its methods calls the futures-io one: the same
//! `IoSource::poll_io`, with the same operation kind and system call, so a read through
//! tokio's trait is tried,
//! waited for, counted (`tcp_reads_inline`, `tcp_reads_waited`, bytes, await sites) and
//! budgeted exactly as one through futures-io's. The only difference is the buffer:
//! tokio hands a `ReadBuf`, whose unfilled part is zeroed once (`initialize_unfilled`
//! remembers what it already initialized) and read into.
//!
//! `AsyncBufRead` is not implemented, as on tokio's own sockets: a socket has no buffer
//! of its own; wrap it in `tokio::io::BufReader` for one.

/// tokio's `AsyncRead` for `$read` types and `AsyncWrite` for `$write` types, each a
/// type that has futures-io's `AsyncRead` (or `AsyncWrite`) already.
macro_rules! tokio_io_impls {
    (read: $($read:ty),*; write: $($write:ty),*) => {
        $(
            impl ::tokio::io::AsyncRead for $read {
                fn poll_read(
                    self: ::std::pin::Pin<&mut Self>,
                    cx: &mut ::std::task::Context<'_>,
                    buf: &mut ::tokio::io::ReadBuf<'_>,
                ) -> ::std::task::Poll<::std::io::Result<()>> {
                    let n = ::std::task::ready!(::futures_io::AsyncRead::poll_read(
                        self,
                        cx,
                        buf.initialize_unfilled(),
                    ))?;
                    buf.advance(n);
                    ::std::task::Poll::Ready(Ok(()))
                }
            }
        )*
        $(
            impl ::tokio::io::AsyncWrite for $write {
                fn poll_write(
                    self: ::std::pin::Pin<&mut Self>,
                    cx: &mut ::std::task::Context<'_>,
                    buf: &[u8],
                ) -> ::std::task::Poll<::std::io::Result<usize>> {
                    ::futures_io::AsyncWrite::poll_write(self, cx, buf)
                }

                fn poll_write_vectored(
                    self: ::std::pin::Pin<&mut Self>,
                    cx: &mut ::std::task::Context<'_>,
                    bufs: &[::std::io::IoSlice<'_>],
                ) -> ::std::task::Poll<::std::io::Result<usize>> {
                    ::futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
                }

                fn is_write_vectored(&self) -> bool {
                    true
                }

                /// Writes go straight to the socket: nothing to flush.
                fn poll_flush(
                    self: ::std::pin::Pin<&mut Self>,
                    cx: &mut ::std::task::Context<'_>,
                ) -> ::std::task::Poll<::std::io::Result<()>> {
                    ::futures_io::AsyncWrite::poll_flush(self, cx)
                }

                /// Shuts down the write side (FIN), as tokio's `poll_shutdown` does.
                fn poll_shutdown(
                    self: ::std::pin::Pin<&mut Self>,
                    cx: &mut ::std::task::Context<'_>,
                ) -> ::std::task::Poll<::std::io::Result<()>> {
                    ::futures_io::AsyncWrite::poll_close(self, cx)
                }
            }
        )*
    };
}

tokio_io_impls! {
    read: super::TcpStream, super::tcp::OwnedReadHalf, super::tcp::ReadHalf<'_>,
        super::UnixStream, super::unix::OwnedReadHalf, super::unix::ReadHalf<'_>;
    write: super::TcpStream, super::tcp::OwnedWriteHalf, super::tcp::WriteHalf<'_>,
        super::UnixStream, super::unix::OwnedWriteHalf, super::unix::WriteHalf<'_>
}
