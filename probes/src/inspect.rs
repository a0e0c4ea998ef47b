//! The inspector: a Unix socket, served by a thread of its own, that tells whoever
//! connects what the loop is doing right now, even while it is stuck in one poll.
//!
//! The loop never answers. It publishes two things another thread can read without its
//! cooperation: the [`Beacon`] of atomics (the task being polled and since when, the
//! turn, the park in progress: relaxed stores the timing probes make anyway when a
//! beacon is there), and a [`Snapshot`] behind a mutex, replaced at the end of a turn at
//! most once per period (never per poll). The inspector thread reads both, adds what
//! the kernel says the loop thread is doing (`/proc`, as the watchdog does), and writes
//! one JSON [`InspectReport`] per connection. `turnstile-lab inspect SOCKET` prints it.
//!
//! It answers its owner only, as a debugger would need: the socket is created with mode
//! 0600 whatever the umask, every connection's peer credentials are checked against the
//! process's uid (root is let in too), and a refused peer reads one line saying why and
//! is counted ([`InspectReport::refused`]). The socket is removed when the inspector is
//! dropped, and when SIGTERM or SIGINT ends the process by its default action (see the
//! `signals` module for what that covers and what it does not).

mod signals;
mod socket;

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::snapshot::{TaskState, TaskStats};
use crate::{Beacon, Level, SiteStats, Snapshot, StallReport};

/// What the loop publishes for the inspector thread.
///
/// ```
/// use std::sync::Arc;
/// use turnstile_probes::{Beacon, Clock, InspectState, Level, Snapshot};
/// let state = InspectState::new("loop-0", Level::Off, Clock::new(), Arc::new(Beacon::default()));
/// state.publish(Snapshot::new(Level::Off), 4);
/// assert_eq!(state.report().turn, 4);
/// ```
#[derive(Debug)]
pub struct InspectState {
    runtime: String,
    level: Level,
    clock: Clock,
    beacon: Arc<Beacon>,
    /// The turn at the last publication (the beacon's is live, at `Level::Timing`).
    turn: AtomicU64,
    /// Connections refused (another uid than the owner's and root's).
    refused: AtomicU64,
    published: Mutex<Option<(Instant, Snapshot)>>,
    /// The names of the live named tasks, told at their spawn: the task being polled is
    /// named even when it was spawned after the last published snapshot.
    names: Mutex<HashMap<u64, Box<str>>>,
}

impl InspectState {
    /// The state of the runtime `runtime` recording at `level`, whose timing probes (if
    /// any) publish into `beacon` with readings of `clock`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Level};
    /// let state = InspectState::new("rt", Level::Timing, Clock::new(), Arc::new(Beacon::default()));
    /// assert_eq!(state.report().runtime, "rt");
    /// ```
    pub fn new(runtime: &str, level: Level, clock: Clock, beacon: Arc<Beacon>) -> Self {
        InspectState {
            runtime: runtime.to_owned(),
            level,
            clock,
            beacon,
            turn: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            published: Mutex::new(None),
            names: Mutex::new(HashMap::new()),
        }
    }

    /// Task `id`, named `name`, was spawned (the loop calls this for named tasks, at
    /// the spawn).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Level};
    /// let beacon = Arc::new(Beacon::default());
    /// let state = InspectState::new("rt", Level::Timing, Clock::new(), beacon.clone());
    /// state.task_named(41, "conn");
    /// beacon.poll_started(41, 1, std::panic::Location::caller());
    /// let report = state.report();
    /// assert_eq!(report.task.unwrap().name.as_deref(), Some("conn"));
    /// ```
    pub fn task_named(&self, id: u64, name: &str) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, name.into());
    }

    /// Task `id` ended: its name is no longer needed.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Level};
    /// let beacon = Arc::new(Beacon::default());
    /// let state = InspectState::new("rt", Level::Timing, Clock::new(), beacon.clone());
    /// state.task_named(41, "conn");
    /// state.task_ended(41);
    /// beacon.poll_started(41, 1, std::panic::Location::caller());
    /// assert_eq!(state.report().task.unwrap().name, None);
    /// ```
    pub fn task_ended(&self, id: u64) {
        let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        if !names.is_empty() {
            names.remove(&id);
        }
    }

    /// How many connections the inspector refused because their peer ran as another
    /// uid than the process (and not as root), or could not be identified.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Level};
    /// let state = InspectState::new("rt", Level::Off, Clock::new(), Arc::new(Beacon::default()));
    /// assert_eq!(state.refused(), 0);
    /// assert_eq!(state.report().refused, 0);
    /// ```
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Replaces the published snapshot (the loop calls this at a safe point, at most
    /// once per period).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Level, Snapshot};
    /// # let state = InspectState::new("rt", Level::Off, Clock::new(), Arc::new(Beacon::default()));
    /// state.publish(Snapshot::new(Level::Off), 1);
    /// assert!(state.report().snapshot_age.is_some());
    /// ```
    pub fn publish(&self, snapshot: Snapshot, turn: u64) {
        self.turn.store(turn, Ordering::Relaxed);
        let fresh = Some((Instant::now(), snapshot));
        let old = std::mem::replace(
            &mut *self
                .published
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
            fresh,
        );
        drop(old); // outside the lock
    }

    /// What the inspector answers now: the beacon, the kernel's view of the loop
    /// thread, and the last published snapshot.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Level};
    /// # let state = InspectState::new("rt", Level::Off, Clock::new(), Arc::new(Beacon::default()));
    /// assert_eq!(state.report().state, turnstile_probes::LoopState::Unknown);
    /// ```
    pub fn report(&self) -> InspectReport {
        let now = self.clock.now();
        let polling = self.beacon.polling();
        let parked = self.beacon.parked_since();
        let loop_thread = self.beacon.loop_thread_view();
        let syscall = loop_thread.as_deref().and_then(syscall_of);
        let (state, since) = match (&polling, parked) {
            (Some((_, started, _)), _) => (LoopState::Polling, Some(*started)),
            (None, Some(at)) => (LoopState::Parked, Some(at)),
            (None, None) if self.level >= Level::Timing => (LoopState::Loop, None),
            (None, None) => match syscall.as_deref() {
                Some(s) if s.starts_with("epoll") => (LoopState::Parked, None),
                _ => (LoopState::Unknown, None),
            },
        };
        let published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (age, snap) = match &*published {
            Some((at, snap)) => (Some(at.elapsed()), Some(snap)),
            None => (None, None),
        };
        let task = polling.map(|(id, _, spawned_at)| {
            let told = self
                .names
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&id)
                .map(|n| n.to_string());
            let name = told
                .or_else(|| {
                    snap.and_then(|s| s.tasks.iter().find(|t| t.id == id))
                        .and_then(|t| t.name.clone())
                })
                .or_else(|| (id == 0).then(|| "block_on".to_owned()));
            LoopTask {
                id,
                name,
                spawned_at: crate::short_path(&spawned_at).into_owned(),
                blocked_at: self.beacon.blocked_at(),
            }
        });
        let mut tasks: Vec<TaskStats> = snap
            .map(|s| {
                s.tasks
                    .iter()
                    .filter(|t| t.state != TaskState::Finished)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        for t in &mut tasks {
            if task.as_ref().is_some_and(|running| running.id == t.id) {
                // In the poll that resumed it from its site: it waits no more.
                t.state = TaskState::Running;
                t.waiting_for = Duration::ZERO;
            } else if t.waiting_at.is_some() {
                t.waiting_for += age.unwrap_or_default(); // still waiting since
            }
        }
        let mut sites: Vec<SiteStats> = snap.map(|s| s.sites.clone()).unwrap_or_default();
        sites.sort_by(|a, b| {
            (b.total_wait, b.yields)
                .cmp(&(a.total_wait, a.yields))
                .then_with(|| a.location.cmp(&b.location))
        });
        sites.truncate(SITES_SHOWN);
        let stalls: Vec<StallReport> = snap
            .map(|s| s.stalls.iter().rev().take(STALLS_SHOWN).cloned().collect())
            .unwrap_or_default();
        let beacon_turn = self.beacon.turn();
        InspectReport {
            runtime: self.runtime.clone(),
            pid: std::process::id(),
            level: self.level,
            state,
            state_for: since.map(|at| self.clock.between(at, now)),
            task,
            loop_thread,
            syscall,
            turn: if beacon_turn != 0 {
                beacon_turn
            } else {
                self.turn.load(Ordering::Relaxed)
            },
            utilization: snap.and_then(Snapshot::utilization),
            polls: snap.map_or(0, |s| s.counters.polls),
            snapshot_age: age,
            tasks,
            sites,
            stalls_total: snap.map_or(0, |s| s.stalls_total),
            stalls,
            refused: self.refused(),
        }
    }
}

/// Busiest sites in a report.
const SITES_SHOWN: usize = 10;
/// Most recent stalls in a report.
const STALLS_SHOWN: usize = 5;

/// The system call's name in the watchdog's description of the loop thread.
fn syscall_of(view: &str) -> Option<String> {
    let rest = view.strip_prefix("blocked in system call ")?;
    rest.split_whitespace().next().map(str::to_owned)
}

/// What the loop is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoopState {
    /// Polling a task (see [`InspectReport::task`]).
    Polling,
    /// Parked in the reactor, waiting for I/O, a timer or a remote wake.
    Parked,
    /// Between polls: the loop's own work, or outside `block_on`.
    Loop,
    /// Not known at this probe level (below `Level::Timing` only the kernel's view is
    /// live).
    Unknown,
}

/// The task being polled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoopTask {
    /// Its id (0: the `block_on` future).
    pub id: u64,
    /// Its name, if it has one (known once a snapshot has listed it).
    pub name: Option<String>,
    /// Where it was spawned.
    pub spawned_at: String,
    /// The line it is blocked at, once the watchdog has captured this poll as a stall
    /// ("file:line in function"; with a watchdog only).
    #[serde(default)]
    pub blocked_at: Option<String>,
}

/// One answer of the inspector: the loop now, and its last published snapshot.
///
/// ```
/// # use std::sync::Arc;
/// # use turnstile_probes::{Beacon, Clock, InspectState, Level};
/// # let state = InspectState::new("rt", Level::Off, Clock::new(), Arc::new(Beacon::default()));
/// let report = state.report();
/// assert!(report.to_string().contains("rt"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InspectReport {
    /// The runtime's name.
    pub runtime: String,
    /// The process.
    pub pid: u32,
    /// The probe level (the task being polled is known at `Timing` and above).
    pub level: Level,
    /// What the loop is doing.
    pub state: LoopState,
    /// For how long (polling or parked), when known.
    pub state_for: Option<Duration>,
    /// The task being polled.
    pub task: Option<LoopTask>,
    /// What the kernel says the loop thread is doing (Linux).
    pub loop_thread: Option<String>,
    /// The system call the loop thread is blocked in, if it is.
    pub syscall: Option<String>,
    /// The turn in progress (or the last one published, below `Level::Timing`).
    pub turn: u64,
    /// Busy share of the loop's running time, as of the last snapshot.
    pub utilization: Option<f64>,
    /// Polls so far, as of the last snapshot (`Level::Counters` and above).
    pub polls: u64,
    /// How old the snapshot behind the tables is.
    pub snapshot_age: Option<Duration>,
    /// Live tasks as of the last snapshot (the one being polled marked `Running`, its
    /// `waiting_at` the site it resumed from); each idle one waits at its `waiting_at`
    /// site for `waiting_for`, counted to now.
    pub tasks: Vec<TaskStats>,
    /// The busiest await sites (by total wait).
    pub sites: Vec<SiteStats>,
    /// The most recent stalls, newest first.
    pub stalls: Vec<StallReport>,
    /// Stalls in all.
    pub stalls_total: u64,
    /// Connections the inspector refused so far (peers of another uid than the
    /// process's, root excepted); see [`InspectState::refused`].
    #[serde(default)]
    pub refused: u64,
}

fn dur(d: Duration) -> String {
    format!("{d:.1?}")
}

impl fmt::Display for InspectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "runtime {} (pid {}, probes {:?}) turn {}",
            self.runtime, self.pid, self.level, self.turn
        )?;
        if let Some(u) = self.utilization {
            write!(f, ", utilization {:.1}%", u * 100.0)?;
        }
        writeln!(f)?;
        let how_long = self.state_for.map(|d| format!(" for {}", dur(d)));
        match (&self.state, &self.task) {
            (LoopState::Polling, Some(t)) => writeln!(
                f,
                "loop: polling task {}{} (spawned at {}){}",
                t.id,
                t.name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                t.spawned_at,
                how_long.unwrap_or_default()
            )?,
            (state, _) => writeln!(f, "loop: {state:?}{}", how_long.unwrap_or_default())?,
        }
        if let Some(at) = self.task.as_ref().and_then(|t| t.blocked_at.as_deref()) {
            writeln!(f, "blocked at {at}")?;
        }
        if let Some(view) = &self.loop_thread {
            writeln!(f, "loop thread: {view}")?;
        }
        if let Some(age) = self.snapshot_age {
            writeln!(f, "tables as of {} ago", dur(age))?;
        }
        let mut tasks = Table::new();
        tasks.load_preset(UTF8_BORDERS_ONLY).set_header([
            "id",
            "name",
            "state",
            "polls",
            "busy",
            "waiting at (async stack)",
            "for",
        ]);
        for t in &self.tasks {
            tasks.add_row([
                t.id.to_string(),
                t.name.clone().unwrap_or_else(|| t.spawned_at.clone()),
                format!("{:?}", t.state),
                t.polls.to_string(),
                dur(t.busy),
                // The async stack when the task waits in instrumented frames (it ends
                // at the leaf site), else the site alone.
                match (
                    t.stack
                        .as_ref()
                        .map(|s| s.to_string())
                        .or(t.waiting_at.clone()),
                    t.state,
                ) {
                    (Some(site), TaskState::Running) => format!("(resumed from) {site}"),
                    (site, _) => site.unwrap_or_default(),
                },
                match (&t.waiting_at, t.state) {
                    (Some(_), TaskState::Idle) => dur(t.waiting_for),
                    _ => String::new(),
                },
            ]);
        }
        writeln!(f, "tasks ({})\n{tasks}", self.tasks.len())?;
        if !self.sites.is_empty() {
            let mut sites = Table::new();
            sites.load_preset(UTF8_BORDERS_ONLY).set_header([
                "site",
                "awaited",
                "yields",
                "total wait",
                "longest",
            ]);
            for s in &self.sites {
                sites.add_row([
                    s.name(),
                    s.awaited.to_string(),
                    s.yields.to_string(),
                    dur(s.total_wait),
                    dur(s.longest_wait),
                ]);
            }
            writeln!(f, "busiest sites\n{sites}")?;
        }
        writeln!(f, "stalls: {} in all", self.stalls_total)?;
        for s in &self.stalls {
            writeln!(f, "  {s}")?;
        }
        if self.refused > 0 {
            writeln!(
                f,
                "inspector: refused {} connections (another uid)",
                self.refused
            )?;
        }
        Ok(())
    }
}

/// The inspector thread and its socket; stops, joins the thread and removes the socket
/// when dropped.
///
/// The socket is its owner's: mode 0600 whatever the umask, and a peer whose uid is
/// neither the process's (effective) uid nor root's reads one line, `refused: ...`, and
/// is counted in [`InspectState::refused`] instead of a report. It is also removed when
/// SIGTERM or SIGINT ends the process by its default action.
#[derive(Debug)]
pub struct Inspector {
    path: PathBuf,
    /// Takes the path out of the signal handler's table when dropped (before the
    /// socket file is removed).
    signal_cleanup: Option<signals::Registration>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Inspector {
    /// Serves `state` on a Unix socket at `path` (a stale socket there is replaced),
    /// with mode 0600: it is bound inside a fresh 0700 directory next to `path`, set to
    /// 0600 there, and linked into place, so it never has the umask's mode, even for a
    /// moment. The directory holding `path` must not let other users rename its
    /// entries (not writable by them, or sticky like `/tmp`).
    ///
    /// # Errors
    /// If the socket cannot be bound (a file that is not a socket is there, no such
    /// directory, a directory this process cannot write, ...) or the thread cannot be
    /// started.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Inspector, Level};
    /// let state = Arc::new(InspectState::new("rt", Level::Off, Clock::new(), Arc::new(Beacon::default())));
    /// let path = std::env::temp_dir().join(format!("inspect-doc-{}.sock", std::process::id()));
    /// let inspector = Inspector::start(&path, state)?;
    /// let report = turnstile_probes::inspect(&path)?;
    /// assert_eq!(report.runtime, "rt");
    /// drop(inspector);
    /// assert!(!path.exists());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(path: impl AsRef<Path>, state: Arc<InspectState>) -> io::Result<Inspector> {
        let path = path.as_ref().to_path_buf();
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            use std::os::unix::fs::FileTypeExt;
            if !meta.file_type().is_socket() {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a socket", path.display()),
                ));
            }
            std::fs::remove_file(&path)?; // a socket left by an earlier run
        }
        let listener = socket::bind_owner_only(&path)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name("turnstile-inspector".into())
            .spawn(move || serve(&listener, &state, &flag));
        let thread = match thread {
            Ok(thread) => thread,
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(e);
            }
        };
        Ok(Inspector {
            signal_cleanup: Some(signals::register(&path)),
            path,
            stop,
            thread: Some(thread),
        })
    }

    /// The socket's path.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use turnstile_probes::{Beacon, Clock, InspectState, Inspector, Level};
    /// # let state = Arc::new(InspectState::new("rt", Level::Off, Clock::new(), Arc::new(Beacon::default())));
    /// let path = std::env::temp_dir().join(format!("inspect-path-{}.sock", std::process::id()));
    /// let inspector = Inspector::start(&path, state)?;
    /// assert_eq!(inspector.path(), path);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Inspector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the blocked `accept` with a connection of our own.
        let _ = UnixStream::connect(&self.path);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        drop(self.signal_cleanup.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The inspector thread: one JSON report per connection from the owner (or root), one
/// line of refusal to anyone else, until told to stop.
fn serve(listener: &UnixListener, state: &InspectState, stop: &AtomicBool) {
    let owner = socket::own_uid();
    for conn in listener.incoming() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut conn) = conn else {
            continue;
        };
        let _ = conn.set_write_timeout(Some(Duration::from_secs(1)));
        let peer = socket::peer(&conn).ok();
        if !peer.is_some_and(|p| socket::allowed(p.uid, owner)) {
            // Counted before the answer, so a report asked for after the refusal was
            // read includes it.
            state.refused.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                peer_uid = peer.map(|p| p.uid),
                peer_pid = peer.and_then(|p| p.pid),
                owner_uid = owner,
                "turnstile inspector: refused a connection from another user"
            );
            let _ = conn.write_all(socket::refusal(peer, owner).as_bytes());
            continue;
        }
        let json = serde_json::to_string(&state.report())
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
        let _ = conn.write_all(json.as_bytes());
    }
}

/// Asks the inspector at `path` for a report, as JSON text.
///
/// # Errors
/// If nothing listens there, or the answer cannot be read.
///
/// ```no_run
/// let json = turnstile_probes::inspect_json("/tmp/turnstile.sock")?;
/// println!("{json}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn inspect_json(path: impl AsRef<Path>) -> io::Result<String> {
    let mut conn = UnixStream::connect(path)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut json = String::new();
    conn.read_to_string(&mut json)?;
    Ok(json)
}

/// Asks the inspector at `path` for a report.
///
/// # Errors
/// If nothing listens there, or the answer is not a report.
///
/// ```no_run
/// let report = turnstile_probes::inspect("/tmp/turnstile.sock")?;
/// println!("{report}");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn inspect(path: impl AsRef<Path>) -> io::Result<InspectReport> {
    let json = inspect_json(path)?;
    serde_json::from_str(&json).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}
