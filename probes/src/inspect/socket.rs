//! The inspector's socket: owner-only from the moment it can be reached, and a check of
//! who is at the other end of every connection.
//!
//! The report names every task, its spawn location and the system call the loop is in:
//! what a debugger attached to the process would see, so the inspector asks for what a
//! debugger needs (the rule `ptrace` applies, and Python 3.14's `asyncio ps`): the
//! caller runs as the process's own (effective) uid, or as root.
//!
//! Two locks, each enough alone:
//! - The file. `bind(2)` creates the socket with the mode `0777 & !umask`, and Rust's
//!   `UnixListener::bind` listens at once, so binding at `path` would leave a window in
//!   which the umask's mode is the socket's. Instead the socket is bound inside a fresh
//!   directory made with mode 0700 next to `path` (no one else can reach what is inside
//!   it, whatever mode it has), set to 0600 there, and hard-linked into place: `link(2)`
//!   makes `path` appear with its final mode and its listener already up, and fails
//!   rather than replace a file that appeared at `path` in the meantime (a `rename`
//!   would replace it). The private directory is then removed. Nothing depends on the
//!   umask, on a process-wide `umask` call (racy with other threads), or on what mode
//!   Linux gives a socket `fchmod`ed before `bind` (undocumented).
//! - The peer. Every accepted connection's credentials (`SO_PEERCRED` on Linux,
//!   `getpeereid` elsewhere) are checked against the process's effective uid; another
//!   uid is answered with one line saying why, and counted.
//!
//! The directory that holds `path` must not let others replace its entries (not
//! writable by them, or sticky like `/tmp`): whoever can rename files there can put
//! their own socket at `path`, and no mode of ours can prevent it.

use std::fs::{self, DirBuilder, Permissions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The socket's mode: read and write (connect) for its owner only.
pub(crate) const SOCKET_MODE: u32 = 0o600;

/// Binds a listening socket at `path` whose mode is [`SOCKET_MODE`] from the moment it
/// appears there, whatever the umask. Fails if something is at `path`.
pub(crate) fn bind_owner_only(path: &Path) -> io::Result<UnixListener> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let private = PrivateDir::create(parent)?;
    let inside = private.0.join("s");
    let listener = UnixListener::bind(&inside)?;
    // Only this uid (and root) can reach `inside`: no one can connect before this.
    fs::set_permissions(&inside, Permissions::from_mode(SOCKET_MODE))?;
    fs::hard_link(&inside, path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot put the socket at {}: {e}", path.display()),
        )
    })?;
    drop(private); // unlinks `inside` (the listener lives on under `path`) and the directory
    Ok(listener)
}

/// A fresh directory with mode 0700 (or less, if the umask takes owner bits), removed
/// with whatever is left in it when dropped.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn create(parent: &Path) -> io::Result<PrivateDir> {
        let pid = std::process::id();
        let mut last = None;
        // Short names: the socket's path inside must fit in `sun_path` (108 bytes).
        for attempt in 0..16u32 {
            let dir = parent.join(format!(".tsi{pid:x}.{attempt}"));
            // `mkdir` fails if anything is there, so the directory is ours and new; its
            // mode is 0700 masked by the umask, which can only take bits away.
            match DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(PrivateDir(dir)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no private directory")))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.0.join("s"));
        let _ = fs::remove_dir(&self.0);
    }
}

/// Who is at the other end of a connection, as the kernel recorded it at `connect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) uid: u32,
    /// The peer's process (Linux only).
    pub(crate) pid: Option<i32>,
}

/// The peer credentials of `conn`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer(conn: &UnixStream) -> io::Result<Peer> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: the descriptor is a live Unix socket owned by `conn`; `cred` and `len`
    // are valid for writes and `len` holds the size of `cred`, as SO_PEERCRED expects.
    let rc = unsafe {
        libc::getsockopt(
            conn.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Peer {
        uid: cred.uid,
        pid: Some(cred.pid),
    })
}

/// The peer credentials of `conn`.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn peer(conn: &UnixStream) -> io::Result<Peer> {
    let (mut uid, mut gid) = (0, 0);
    // SAFETY: the descriptor is a live Unix socket owned by `conn`; both out-pointers
    // are valid for writes.
    let rc = unsafe { libc::getpeereid(conn.as_raw_fd(), &mut uid, &mut gid) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Peer { uid, pid: None })
}

/// The uid the inspector answers (besides root): the process's effective uid, the owner
/// of the socket file.
pub(crate) fn own_uid() -> u32 {
    // SAFETY: `geteuid` takes nothing and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether a peer running as `peer_uid` may read the report of a process running as
/// `own_uid`: the same uid, or root (who could attach a debugger anyway).
pub(crate) fn allowed(peer_uid: u32, own_uid: u32) -> bool {
    peer_uid == own_uid || peer_uid == 0
}

/// The one line a refused peer reads.
pub(crate) fn refusal(peer: Option<Peer>, own_uid: u32) -> String {
    match peer {
        Some(p) => format!(
            "refused: this inspector answers uid {own_uid} (its owner) and root only, not uid {}\n",
            p.uid
        ),
        None => "refused: the peer's credentials could not be read\n".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_and_root_are_allowed_and_no_one_else() {
        assert!(allowed(1000, 1000));
        assert!(allowed(0, 1000));
        assert!(allowed(0, 0));
        assert!(!allowed(1001, 1000));
        assert!(!allowed(65534, 0));
    }

    #[test]
    fn a_refusal_is_one_line_that_says_why() {
        let line = refusal(
            Some(Peer {
                uid: 65534,
                pid: None,
            }),
            0,
        );
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with('\n'));
        assert!(
            line.contains("uid 65534") && line.contains("uid 0"),
            "{line}"
        );
    }

    #[test]
    fn the_peer_of_a_socketpair_is_this_process() {
        let (a, _b) = UnixStream::pair().unwrap();
        let p = peer(&a).unwrap();
        assert_eq!(p.uid, own_uid());
        #[cfg(target_os = "linux")]
        assert_eq!(p.pid, Some(std::process::id() as i32));
    }
}
