//! The inspector's socket goes when SIGTERM or SIGINT ends the process.
//!
//! A process killed by a signal's default action runs no destructor, so the socket would
//! stay behind (until the next start replaces it). When an inspector starts and SIGTERM
//! or SIGINT still has its default action, a handler is installed for it (once per
//! process) that keeps the signal's meaning: it unlinks the socket of every live
//! inspector, restores the default action and raises the signal again, so the process
//! ends exactly as it would have (killed by that signal).
//!
//! The handler never takes a signal away from the application:
//! - If the signal already has a handler (or is ignored) when the inspector starts, none
//!   is installed: the application decides, and its graceful shutdown drops the runtime,
//!   which removes the socket.
//! - If the application installs a handler later, the handler checks, when the signal
//!   comes, whether it is still the signal's installed handler; if not (signal-hook,
//!   which `turnstile::signal` uses, calls the handler it replaced), it does nothing: the
//!   process is not ending by the default action, the inspector keeps answering during
//!   the application's shutdown, and the runtime's drop removes the socket.
//!
//! Limits: SIGKILL, a crash, `std::process::exit` without dropping the runtime and the
//! default action of any other signal (SIGHUP, SIGQUIT) leave the socket; the next
//! inspector at that path replaces it. An application that replaces the handler with a
//! raw `sigaction` (not chaining) takes the cleanup over with the signal.
//!
//! In the handler only async-signal-safe calls are made (`sigaction`, `unlink`,
//! `raise`), on paths prepared before: a fixed table of C strings, each freed by its
//! inspector's drop only once no handler can be reading it (a count of handlers inside
//! the table, which the drop waits out).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::OnceLock;

use libc::c_int;

/// The signals whose default action ends the process and that a graceful stop sends.
const SIGNALS: [c_int; 2] = [libc::SIGTERM, libc::SIGINT];

/// Live inspectors whose socket a handler unlinks (more than this many at once: the
/// extra ones are not cleaned up on a signal, and say so).
const SLOTS: usize = 64;

static PATHS: [AtomicPtr<libc::c_char>; SLOTS] = [const { AtomicPtr::new(ptr::null_mut()) }; SLOTS];

/// Handlers between their first and last read of `PATHS`.
static READING: AtomicUsize = AtomicUsize::new(0);

static INSTALLED: OnceLock<()> = OnceLock::new();

/// One inspector's path in the table; its drop takes the path out.
#[derive(Debug)]
pub(crate) struct Registration {
    slot: Option<usize>,
}

/// Puts `path` in the table of sockets to unlink on SIGTERM/SIGINT, installing the
/// handler first if no other is there.
pub(crate) fn register(path: &Path) -> Registration {
    INSTALLED.get_or_init(install);
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return Registration { slot: None }; // a path with a NUL cannot have been bound
    };
    let raw = c_path.into_raw();
    for (i, slot) in PATHS.iter().enumerate() {
        if slot
            .compare_exchange(ptr::null_mut(), raw, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Registration { slot: Some(i) };
        }
    }
    // SAFETY: `raw` came from `CString::into_raw` above and was published nowhere.
    drop(unsafe { CString::from_raw(raw) });
    tracing::warn!(
        "turnstile inspector: more than {SLOTS} inspectors live; {} will not be removed on SIGTERM/SIGINT",
        path.display()
    );
    Registration { slot: None }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let Some(i) = self.slot else { return };
        let raw = PATHS[i].swap(ptr::null_mut(), Ordering::SeqCst);
        // A handler that loaded `raw` before the swap counted itself in before loading
        // it (both SeqCst): wait until it is out. Handlers are a few system calls long.
        while READING.load(Ordering::SeqCst) != 0 {
            std::hint::spin_loop();
        }
        if !raw.is_null() {
            // SAFETY: `raw` came from `CString::into_raw` in `register`, is no longer in
            // the table, and no handler is reading it (above).
            drop(unsafe { CString::from_raw(raw) });
        }
    }
}

/// Installs the handler for each signal that still has its default action.
fn install() {
    for sig in SIGNALS {
        // SAFETY: zeroed is a valid sigaction to read into.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        // SAFETY: a query (null new action) writes only into `old`.
        if unsafe { libc::sigaction(sig, ptr::null(), &mut old) } != 0
            || old.sa_sigaction != libc::SIG_DFL
        {
            continue; // handled or ignored: the application's decision
        }
        // SAFETY: as above.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as extern "C" fn(c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        // SAFETY: `sa_mask` is a valid sigset to empty; the handler makes only
        // async-signal-safe calls (see the module docs).
        let rc = unsafe {
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, ptr::null_mut())
        };
        if rc != 0 {
            tracing::warn!(
                "turnstile inspector: no cleanup on signal {sig}: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

extern "C" fn on_signal(sig: c_int) {
    // SAFETY: zeroed is a valid sigaction to read into.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a query writes only into `current`; `sigaction` is async-signal-safe.
    let queried = unsafe { libc::sigaction(sig, ptr::null(), &mut current) } == 0;
    if !queried || current.sa_sigaction != on_signal as extern "C" fn(c_int) as libc::sighandler_t {
        // Called by a handler installed after this one (signal-hook chains to what it
        // replaced): the application handles the signal, the process is not ending by
        // the default action. Nothing to do.
        return;
    }
    READING.fetch_add(1, Ordering::SeqCst);
    for slot in &PATHS {
        let path = slot.load(Ordering::SeqCst);
        if !path.is_null() {
            // SAFETY: a NUL-terminated string from `CString::into_raw`, not freed while
            // `READING` counts this handler (see `Registration::drop`).
            unsafe { libc::unlink(path) };
        }
    }
    READING.fetch_sub(1, Ordering::SeqCst);
    // SAFETY: zeroed is a valid sigaction; SIG_DFL with an empty mask is the default.
    let mut default: libc::sigaction = unsafe { std::mem::zeroed() };
    default.sa_sigaction = libc::SIG_DFL;
    // SAFETY: `sigaction` and `raise` are async-signal-safe. The signal is blocked
    // while its handler runs, so the raised one is delivered, with the default action,
    // as this handler returns: the process ends as if it had never been caught.
    unsafe {
        libc::sigemptyset(&mut default.sa_mask);
        libc::sigaction(sig, &default, ptr::null_mut());
        libc::raise(sig);
    }
}
