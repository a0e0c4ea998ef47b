//! The inspector's socket is mode 0600 whatever the umask.
//!
//! `umask` is process-wide: this binary holds this one test, so nothing else runs while
//! the mask is 000.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::Arc;

use turnstile_probes::{Beacon, Clock, InspectState, Inspector, Level};

fn state() -> Arc<InspectState> {
    Arc::new(InspectState::new(
        "umask",
        Level::Off,
        Clock::new(),
        Arc::new(Beacon::default()),
    ))
}

fn mode(path: &PathBuf) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_socket_is_mode_0600_whatever_the_umask() {
    // SAFETY: `umask` only swaps the process's file mode mask; no other test runs in
    // this binary.
    let old = unsafe { libc::umask(0) };
    let dir = std::env::temp_dir().join(format!("turnstile-umask-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir(&dir).unwrap();
    let path = dir.join("inspect.sock");

    // What a plain bind gives under umask 000: a socket anyone may connect to. It is
    // also the stale socket the inspector must replace.
    drop(UnixListener::bind(&path).unwrap());
    assert_eq!(
        mode(&path),
        0o777,
        "the control: bind takes its mode from the umask"
    );

    let inspector = Inspector::start(&path, state()).expect("the inspector starts");
    let meta = fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(mode(&path), 0o600, "owner-only, not the umask's 0777");
    // SAFETY: `geteuid` takes nothing and cannot fail.
    assert_eq!(meta.uid(), unsafe { libc::geteuid() });
    // Nothing is left of the private directory it was bound in.
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    assert_eq!(entries, ["inspect.sock"]);
    // And its owner is answered.
    let report = turnstile_probes::inspect(&path).expect("a report for the owner");
    assert_eq!((report.runtime.as_str(), report.refused), ("umask", 0));
    drop(inspector);
    assert!(!path.exists(), "the socket goes with the inspector");

    // A file that is not a socket is not replaced.
    fs::write(&path, b"not a socket").unwrap();
    let err = Inspector::start(&path, state()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
    assert_eq!(fs::read(&path).unwrap(), b"not a socket");

    fs::remove_dir_all(&dir).unwrap();
    // SAFETY: as above, restoring the mask.
    unsafe { libc::umask(old) };
}
