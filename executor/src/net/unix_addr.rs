//! How a Unix socket path is read: as tokio reads it, a path whose first byte is NUL
//! names a socket in Linux's abstract namespace (no file, gone with its last socket);
//! any other path is a file name, checked as std checks it (a NUL after the first
//! byte is `InvalidInput`).

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// The abstract name in `path` (without its leading NUL), if it is one. Only Linux
/// and Android have the abstract namespace; elsewhere every path is a file name.
pub(crate) fn abstract_name(path: &Path) -> Option<&[u8]> {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        path.as_os_str().as_bytes().strip_prefix(b"\0")
    } else {
        None
    }
}

/// The socket address `path` names: abstract or a file name.
///
/// # Errors
/// `InvalidInput` for a name too long for a Unix socket address, or a file name
/// with a NUL in it.
pub(crate) fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    #[cfg(target_os = "android")]
    use std::os::android::net::SocketAddrExt;
    #[cfg(target_os = "linux")]
    use std::os::linux::net::SocketAddrExt;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = abstract_name(path) {
        return SocketAddr::from_abstract_name(name);
    }
    SocketAddr::from_pathname(path)
}

/// The same address as socket2 takes it, for the calls mio makes only with file
/// names (a datagram socket's `connect` and `send_to`).
///
/// # Errors
/// As [`socket_addr`].
pub(crate) fn sock_addr(path: &Path) -> io::Result<socket2::SockAddr> {
    // Checked as std checks it first: socket2 would take a NUL anywhere.
    socket_addr(path)?;
    socket2::SockAddr::unix(path)
}
