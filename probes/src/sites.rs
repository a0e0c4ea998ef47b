//! Await sites: the source lines where tasks go back to the loop.
//!
//! turnstile's leaf futures (sleep, `yield_now`, `JoinHandle`, `spawn_blocking`, socket
//! readiness) know where they were created or awaited (`#[track_caller]`). When one
//! returns `Pending` it leaves a [`SiteTag`] for the executor, which attributes the
//! yield of the task being polled to that line. `ProbeExt::probe("label")` does the same
//! for a foreign future under a name. A site counts how often it was awaited, how often
//! it yielded, how often it completed without yielding (inline), and how long the tasks
//! waited there: from its first `Pending` to the poll that resumed past it.
//!
//! A socket's waits are sites of their own, named after the socket ("tcp read from
//! 127.0.0.1:5432 (postgres)"): the socket interns its label once per operation kind
//! ([`Sites::socket_tag`]) and keeps the tag in a [`SiteCell`], so a wait on it costs
//! the same single store as any other leaf's, with no formatting and no lookup by name.
//!
//! An instrumented await (`#[turnstile::instrument]`) over a foreign future that leaves
//! no site leaves its own frame ([`SiteTag::frame`]): the yield is the frame's await
//! line's, which counts it already, so the poll's attribution only records where the
//! task waits.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::Location;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::stack::Frame;

/// Set in a tag whose leaf had already returned `Pending` before: the wait goes on.
const AGAIN: usize = 1;
/// Set in a tag that names a labelled site (interned by [`Sites::label_tag`] or
/// [`Sites::socket_tag`]).
const LABEL: usize = 2;
/// Set in a tag that names an instrumented await's [`Frame`] (its future left no site).
const FRAME: usize = 4;
/// The tag bits; `Location`, [`Frame`] and the interned labels are 8-aligned, so they
/// are free.
const TAG_BITS: usize = AGAIN | LABEL | FRAME;

/// Set in a [`SiteId`] resolved from a frame tag: the frame counts its own awaits,
/// yields and waits (`Timing::frame_pending`), so the counting calls of a poll's end
/// ([`Sites::began_wait`], ...) find no entry there and do nothing, and no branch is
/// added to them. [`Sites::get`] reads the site all the same.
const COUNTED_BY_FRAME: SiteId = 1 << 31;

/// What a leaf future leaves behind when it returns `Pending`: which site, and whether
/// it is the same wait as before. One pointer, so leaving it costs one store.
///
/// ```
/// use turnstile_probes::SiteTag;
/// let tag = SiteTag::code(std::panic::Location::caller());
/// assert!(!tag.is_none());
/// assert!(SiteTag::NONE.is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiteTag(*const ());

impl SiteTag {
    /// No site: the poll's `Pending` came from a future that leaves none.
    pub const NONE: SiteTag = SiteTag(std::ptr::null());

    /// The site of a leaf at `at`, on its first `Pending`.
    ///
    /// ```
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// assert_ne!(tag, tag.again());
    /// ```
    #[inline(always)]
    pub const fn code(at: &'static Location<'static>) -> SiteTag {
        SiteTag((at as *const Location<'static>).cast::<()>())
    }

    /// The site of an instrumented await whose future returned `Pending` without
    /// leaving a site (a foreign future): the frame's own await line.
    ///
    /// ```
    /// static F: turnstile_probes::Frame = turnstile_probes::Frame::new("load", "src/db.rs", 12, 20);
    /// let mut sites = turnstile_probes::Sites::new();
    /// let (id, again) = sites.resolve(turnstile_probes::SiteTag::frame(&F)).unwrap();
    /// assert!(!again);
    /// assert_eq!(sites.get(id).name(), "load @ src/db.rs:12:20");
    /// assert_eq!(sites.resolve(turnstile_probes::SiteTag::frame(&F)).unwrap().0, id);
    /// ```
    #[inline(always)]
    pub fn frame(frame: &'static Frame) -> SiteTag {
        SiteTag((frame as *const Frame).cast::<()>().map_addr(|a| a | FRAME))
    }

    /// The same site, for a leaf that returns `Pending` again (one wait, several polls).
    ///
    /// ```
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// assert_eq!(tag.again(), tag.again().again());
    /// ```
    #[inline(always)]
    pub fn again(self) -> SiteTag {
        SiteTag(self.0.map_addr(|a| a | AGAIN))
    }

    /// The tag for a leaf whose first `Pending` this is when `first` is true.
    ///
    /// ```
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// assert_eq!(tag.again_unless(true), tag);
    /// ```
    #[inline(always)]
    pub fn again_unless(self, first: bool) -> SiteTag {
        if first {
            self
        } else {
            self.again()
        }
    }

    /// True for [`SiteTag::NONE`].
    ///
    /// ```
    /// assert!(turnstile_probes::SiteTag::NONE.is_none());
    /// ```
    #[inline(always)]
    pub fn is_none(self) -> bool {
        self.0.is_null()
    }

    #[inline(always)]
    fn key(self) -> usize {
        self.0.addr() & !TAG_BITS
    }

    #[inline(always)]
    fn is_again(self) -> bool {
        self.0.addr() & AGAIN != 0
    }

    fn is_label(self) -> bool {
        self.0.addr() & LABEL != 0
    }

    fn is_frame(self) -> bool {
        self.0.addr() & FRAME != 0
    }
}

/// A [`SiteTag`] kept where other threads may see its owner (a socket, which is `Send`
/// and `Sync`): an atomic pointer, read and written with relaxed ordering (the tag is
/// only meaningful on the loop thread of the runtime whose [`Sites`] made it).
///
/// ```
/// use turnstile_probes::{SiteCell, SiteTag};
/// let cell = SiteCell::new();
/// assert!(cell.get().is_none());
/// let tag = SiteTag::code(std::panic::Location::caller());
/// cell.set(tag);
/// assert_eq!(cell.get(), tag);
/// ```
#[derive(Debug, Default)]
pub struct SiteCell(AtomicPtr<()>);

impl SiteCell {
    /// An empty cell: [`SiteTag::NONE`].
    ///
    /// ```
    /// assert!(turnstile_probes::SiteCell::new().get().is_none());
    /// ```
    pub const fn new() -> Self {
        SiteCell(AtomicPtr::new(std::ptr::null_mut()))
    }

    /// The tag kept.
    ///
    /// ```
    /// assert!(turnstile_probes::SiteCell::new().get().is_none());
    /// ```
    #[inline(always)]
    pub fn get(&self) -> SiteTag {
        SiteTag(self.0.load(Ordering::Relaxed).cast_const())
    }

    /// Keeps `tag` (`SiteTag::NONE` empties the cell).
    ///
    /// ```
    /// let cell = turnstile_probes::SiteCell::new();
    /// cell.set(turnstile_probes::SiteTag::NONE);
    /// assert!(cell.get().is_none());
    /// ```
    #[inline]
    pub fn set(&self, tag: SiteTag) {
        self.0.store(tag.0.cast_mut(), Ordering::Relaxed);
    }
}

/// `file` relative to the workspace it was built in, when it is under it; else `file`
/// as it is. `file!()` and `Location::file()` are relative already for the crates of
/// the workspace being built, but absolute for a path dependency outside it (turnstile
/// built from a checkout beside the user's project, say): this strips the root of the
/// workspace turnstile was built in, or else the current directory, from the front. Used by
/// the site tables, the async stacks, the inspector and the stall reports' blocking
/// line. `dir/..` pairs are dropped, read as text: a file compiled through
/// `#[path = "../examples/app.rs"]` is named `tests/../examples/app.rs` by the compiler
/// and `examples/app.rs` here. Cheap (an allocation only for such a path), but meant
/// for reports, not for the poll path.
///
/// ```
/// use turnstile_probes::short_path;
/// // Built in this workspace: its root is stripped.
/// let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
/// let file = format!("{}/executor/src/hyper.rs", root.display());
/// assert_eq!(short_path(&file), "executor/src/hyper.rs");
/// assert_eq!(short_path("src/lib.rs"), "src/lib.rs");
/// assert_eq!(short_path("/elsewhere/src/lib.rs"), "/elsewhere/src/lib.rs");
/// assert_eq!(short_path("tests/../examples/app.rs"), "examples/app.rs");
/// ```
pub fn short_path(file: &str) -> Cow<'_, str> {
    let short = strip_root(file);
    if short.split('/').any(|part| part == ".." || part == ".") {
        Cow::Owned(tidy(short))
    } else {
        Cow::Borrowed(short)
    }
}

/// `path` without its `dir/..` pairs and `.` parts, read as text (the file need not
/// exist here); a leading `..` stays.
fn tidy(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." if !parts.is_empty() => {}
            ".." if parts.last().is_some_and(|p| !p.is_empty() && *p != "..") => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// `file` without the workspace's root or the current directory in front.
fn strip_root(file: &str) -> &str {
    static ROOTS: OnceLock<Vec<String>> = OnceLock::new();
    let roots = ROOTS.get_or_init(|| {
        let mut roots = Vec::new();
        // This crate's manifest is `<workspace>/probes` when it is built as a member.
        if let Some(root) = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent() {
            roots.push(root.display().to_string());
        }
        if let Ok(dir) = std::env::current_dir() {
            roots.push(dir.display().to_string());
        }
        roots.retain(|r| r.len() > 1); // never strip a bare "/"
        roots
    });
    for root in roots {
        if let Some(rest) = file.strip_prefix(root.as_str()) {
            if let Some(rest) = rest.strip_prefix('/') {
                if !rest.is_empty() {
                    return rest;
                }
            }
        }
    }
    file
}

/// `file:line:column`, with the file as [`short_path`] gives it.
fn location_of(file: &str, line: u32, column: u32) -> String {
    format!("{}:{line}:{column}", short_path(file))
}

/// A site's index in its runtime's [`Sites`].
pub type SiteId = u32;

/// Hashes the addresses that key the sites table: a multiply, not SipHash (the keys
/// are addresses of statics, not attacker-chosen, and the lookup runs once per yield).
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

type AddressMap<V> = HashMap<usize, V, BuildHasherDefault<AddressHasher>>;

/// Sites by (label, file, line, column).
type SiteNames = HashMap<(Option<Cow<'static, str>>, &'static str, u32, u32), SiteId>;

/// A labelled site, interned: its address is the tag's. A `.probe()` label has the
/// line of its call; a socket's site has none (its label names the socket).
#[repr(align(8))]
struct LabelSite {
    label: Cow<'static, str>,
    at: Option<&'static Location<'static>>,
}

/// What one await site recorded.
///
/// ```
/// let sites = turnstile_probes::Sites::new();
/// assert!(sites.stats().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SiteStats {
    /// `file:line:column` of the leaf (or of the `.probe(..)` call), the file relative
    /// to the workspace when it is under it ([`short_path`]); empty for a socket's site,
    /// which its label names.
    pub location: String,
    /// The label given to `ProbeExt::probe`, for a labelled site; the function's name,
    /// for an await in a `#[turnstile::instrument]`ed function; the operation and the
    /// socket ("tcp read from 127.0.0.1:5432 (postgres)"), for a socket's wait.
    pub label: Option<String>,
    /// Times a task awaited here: waits begun plus inline completions.
    pub awaited: u64,
    /// Polls that returned `Pending` here: yields back to the loop.
    pub yields: u64,
    /// Of those, the yields the cooperative budget forced: the leaf was ready, but the
    /// task's budget for the poll was spent.
    #[serde(default)]
    pub budget_yields: u64,
    /// Awaits that completed on their first poll, without reaching the loop.
    pub inline: u64,
    /// Total time tasks waited here (first `Pending` to the poll that resumed).
    pub total_wait: Duration,
    /// The longest single wait.
    pub longest_wait: Duration,
}

impl SiteStats {
    fn new(location: String, label: Option<String>) -> Self {
        SiteStats {
            location,
            label,
            awaited: 0,
            yields: 0,
            budget_yields: 0,
            inline: 0,
            total_wait: Duration::ZERO,
            longest_wait: Duration::ZERO,
        }
    }

    /// The site's name: its label and location, or its location.
    ///
    /// ```
    /// let mut sites = turnstile_probes::Sites::new();
    /// let tag = sites.label_tag("db", std::panic::Location::caller());
    /// let id = sites.resolve(tag).unwrap().0;
    /// assert!(sites.get(id).name().starts_with("db @ "));
    /// ```
    pub fn name(&self) -> String {
        match &self.label {
            Some(label) if self.location.is_empty() => label.clone(),
            Some(label) => format!("{label} @ {}", self.location),
            None => self.location.clone(),
        }
    }
}

impl fmt::Display for SiteStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: awaited {}, {} yield(s), {} inline, waited {:.1?} (longest {:.1?})",
            self.name(),
            self.awaited,
            self.yields,
            self.inline,
            self.total_wait,
            self.longest_wait
        )?;
        if self.budget_yields > 0 {
            write!(f, "; {} yield(s) by the budget", self.budget_yields)?;
        }
        Ok(())
    }
}

/// The await sites of one runtime, in the order they were first seen.
///
/// ```
/// use turnstile_probes::{SiteTag, Sites};
/// let mut sites = Sites::new();
/// let tag = SiteTag::code(std::panic::Location::caller());
/// let (id, again) = sites.resolve(tag).unwrap();
/// assert!(!again);
/// sites.began_wait(id);
/// sites.ended_wait(id, 1_000);
/// assert_eq!(sites.get(id).yields, 1);
/// ```
#[derive(Default)]
pub struct Sites {
    /// Tag address (tag bits cleared) to index.
    ids: AddressMap<SiteId>,
    /// The last lookup: most yields repeat the site of the one before.
    last: (usize, SiteId),
    entries: Vec<SiteStats>,
    /// Wait times (total, longest), by site, in the units given to `ended_wait` (the
    /// clock's raw ticks, in a runtime); converted by `stats_scaled`.
    waits: Vec<(u64, u64)>,
    /// Interned labelled sites, keyed by (label address, label length, location).
    labels: HashMap<(usize, usize, usize), Box<LabelSite>>,
    /// Interned socket sites, keyed by their label: sockets with the same label (a
    /// pool's connections to one database) share a site.
    socket_labels: HashMap<Box<str>, Box<LabelSite>>,
    /// Sites by what they name: one source line may have several `Location` addresses
    /// (the compiler may duplicate the constant; Miri always does), and they must all
    /// count as one site.
    by_name: SiteNames,
    /// Yields whose `Pending` left no site (a foreign future without a probe).
    unattributed: u64,
    /// Frame address to site, direct-mapped (`frame`); a zero address is no entry.
    frame_cache: [(usize, SiteId); FRAME_CACHE],
}

/// Entries in the frame cache of [`Sites`].
const FRAME_CACHE: usize = 16;

impl fmt::Debug for Sites {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sites")
            .field("sites", &self.entries.len())
            .finish()
    }
}

impl Sites {
    /// No sites yet.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Sites::new().unattributed(), 0);
    /// ```
    pub fn new() -> Self {
        Sites::default()
    }

    /// The tag of the site named `label` at `at`, interned on first use.
    ///
    /// ```
    /// let mut sites = turnstile_probes::Sites::new();
    /// let at = std::panic::Location::caller();
    /// assert_eq!(sites.label_tag("x", at), sites.label_tag("x", at));
    /// ```
    pub fn label_tag(&mut self, label: &'static str, at: &'static Location<'static>) -> SiteTag {
        let key = (
            label.as_ptr().addr(),
            label.len(),
            (at as *const Location<'static>).addr(),
        );
        let site = self.labels.entry(key).or_insert_with(|| {
            Box::new(LabelSite {
                label: Cow::Borrowed(label),
                at: Some(at),
            })
        });
        let ptr = (&**site as *const LabelSite).cast::<()>();
        SiteTag(ptr.map_addr(|a| a | LABEL))
    }

    /// The tag of a socket's site named `label` ("tcp read from 127.0.0.1:5432"),
    /// interned on first use: the socket calls it once per kind of operation and keeps
    /// the tag ([`SiteCell`]), so its waits pay no lookup. Equal labels share a site.
    ///
    /// ```
    /// let mut sites = turnstile_probes::Sites::new();
    /// let a = sites.socket_tag("tcp read from 127.0.0.1:5432 (postgres)");
    /// assert_eq!(sites.socket_tag("tcp read from 127.0.0.1:5432 (postgres)"), a);
    /// assert_ne!(sites.socket_tag("tcp read from 127.0.0.1:6379"), a);
    /// let id = sites.resolve(a).unwrap().0;
    /// assert_eq!(sites.get(id).name(), "tcp read from 127.0.0.1:5432 (postgres)");
    /// ```
    pub fn socket_tag(&mut self, label: &str) -> SiteTag {
        let site = match self.socket_labels.get(label) {
            Some(site) => site,
            None => self.socket_labels.entry(label.into()).or_insert_with(|| {
                Box::new(LabelSite {
                    label: Cow::Owned(label.to_owned()),
                    at: None,
                })
            }),
        };
        let ptr = (&**site as *const LabelSite).cast::<()>();
        SiteTag(ptr.map_addr(|a| a | LABEL))
    }

    /// The site a tag names, registering it on first sight, and whether the tag
    /// continues an earlier wait. `None` for [`SiteTag::NONE`] (or a label tag from
    /// another runtime).
    ///
    /// ```
    /// assert!(turnstile_probes::Sites::new().resolve(turnstile_probes::SiteTag::NONE).is_none());
    /// ```
    #[inline]
    pub fn resolve(&mut self, tag: SiteTag) -> Option<(SiteId, bool)> {
        if tag.is_none() {
            return None;
        }
        let key = tag.key();
        if self.last.0 == key {
            return Some((self.last.1, tag.is_again()));
        }
        self.resolve_slow(tag)
    }

    #[inline(never)]
    fn resolve_slow(&mut self, tag: SiteTag) -> Option<(SiteId, bool)> {
        let key = tag.key();
        let mark = if tag.is_frame() { COUNTED_BY_FRAME } else { 0 };
        if let Some(&id) = self.ids.get(&key) {
            self.last = (key, id | mark);
            return Some((id | mark, tag.is_again()));
        }
        if tag.is_frame() {
            let frame = tag.0.map_addr(|a| a & !TAG_BITS).cast::<Frame>();
            // SAFETY: a tag with the FRAME bit is only made by `SiteTag::frame`, from a
            // `&'static Frame`; clearing the tag bits restores that address, with its
            // provenance (`map_addr`), so it points to a live `Frame` forever.
            let frame: &'static Frame = unsafe { &*frame };
            let id = self.frame_site(frame);
            self.last = (key, id | mark);
            return Some((id | mark, tag.is_again()));
        }
        let (label, at) = if tag.is_label() {
            // Only tags this table interned are known; they are never dereferenced.
            let is_key = |s: &&LabelSite| (*s as *const LabelSite).addr() == key;
            let site = self
                .labels
                .values()
                .map(|s| &**s)
                .find(is_key)
                .or_else(|| self.socket_labels.values().map(|s| &**s).find(is_key))?;
            match site.at {
                Some(at) => (Some(site.label.clone()), at),
                None => {
                    // A socket's site: its label is its name, and it has no line.
                    let stats = SiteStats::new(String::new(), Some(site.label.to_string()));
                    let id = self.push_site(stats);
                    self.ids.insert(key, id);
                    self.last = (key, id);
                    return Some((id, tag.is_again()));
                }
            }
        } else {
            let at = tag
                .0
                .map_addr(|a| a & !TAG_BITS)
                .cast::<Location<'static>>();
            // SAFETY: a tag without the LABEL bit is only made by `SiteTag::code`, from a
            // `&'static Location`; clearing the AGAIN bit restores that address, with its
            // provenance (`map_addr`), so it points to a live `Location` forever.
            let at: &'static Location<'static> = unsafe { &*at };
            (None, at)
        };
        let location = location_of(at.file(), at.line(), at.column());
        let name = (label, at.file(), at.line(), at.column());
        let id = self.site_named(name, location);
        self.ids.insert(key, id);
        self.last = (key, id);
        Some((id, tag.is_again()))
    }

    /// The site of an instrumented await (`#[turnstile::instrument]`), registered on
    /// first sight: labelled with its function's name, at the await's line.
    ///
    /// ```
    /// static F: turnstile_probes::Frame = turnstile_probes::Frame::new("load", "src/db.rs", 12, 20);
    /// let mut sites = turnstile_probes::Sites::new();
    /// let id = sites.frame(&F);
    /// assert_eq!(sites.frame(&F), id);
    /// assert_eq!(sites.get(id).name(), "load @ src/db.rs:12:20");
    /// ```
    #[inline]
    pub fn frame(&mut self, frame: &'static Frame) -> SiteId {
        // A frame is a `static`, alive and distinct from every `Location` and interned
        // label: its address is a key of its own.
        let key = (frame as *const Frame).addr();
        // Several frames take turns (a yield passes each on the way out and back), so
        // they have a small direct-mapped cache of their own rather than `last`.
        let slot = (key >> 3) % FRAME_CACHE;
        let (cached, id) = self.frame_cache[slot];
        if cached == key {
            return id;
        }
        let id = self.frame_site(frame);
        self.frame_cache[slot] = (key, id);
        id
    }

    /// The site of `frame`, registered on first sight (keyed by its address).
    fn frame_site(&mut self, frame: &'static Frame) -> SiteId {
        let key = (frame as *const Frame).addr();
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let name = (
            Some(Cow::Borrowed(frame.function())),
            frame.file(),
            frame.line(),
            frame.column(),
        );
        let location = location_of(frame.file(), frame.line(), frame.column());
        let id = self.site_named(name, location);
        self.ids.insert(key, id);
        id
    }

    /// The site of `name`, made on first sight.
    fn site_named(
        &mut self,
        name: (Option<Cow<'static, str>>, &'static str, u32, u32),
        location: String,
    ) -> SiteId {
        if let Some(&id) = self.by_name.get(&name) {
            return id;
        }
        let label = name.0.as_deref().map(str::to_owned);
        let id = self.push_site(SiteStats::new(location, label));
        self.by_name.insert(name, id);
        id
    }

    /// A new site's entry.
    fn push_site(&mut self, stats: SiteStats) -> SiteId {
        let id = self.entries.len() as SiteId;
        debug_assert!(id < COUNTED_BY_FRAME, "more sites than a SiteId holds");
        self.entries.push(stats);
        self.waits.push((0, 0));
        id
    }

    /// An await at `id` completed on its first poll.
    ///
    /// ```
    /// let mut sites = turnstile_probes::Sites::new();
    /// let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// sites.inline_at(id);
    /// assert_eq!(sites.get(id).inline, 1);
    /// ```
    pub fn inline_at(&mut self, id: SiteId) {
        if let Some(s) = self.entries.get_mut(id as usize) {
            s.inline += 1;
            s.awaited += 1;
        }
    }

    /// A leaf at this site completed on its first poll.
    ///
    /// ```
    /// let mut sites = turnstile_probes::Sites::new();
    /// let tag = turnstile_probes::SiteTag::code(std::panic::Location::caller());
    /// sites.inline(tag);
    /// assert_eq!(sites.stats()[0].inline, 1);
    /// ```
    pub fn inline(&mut self, tag: SiteTag) {
        if let Some((id, _)) = self.resolve(tag) {
            self.inline_at(id);
        }
    }

    /// A wait begins at `id`: one await, one yield.
    ///
    /// ```
    /// # let mut sites = turnstile_probes::Sites::new();
    /// # let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// sites.began_wait(id);
    /// assert_eq!(sites.get(id).awaited, 1);
    /// ```
    #[inline]
    pub fn began_wait(&mut self, id: SiteId) {
        // A frame's id (`COUNTED_BY_FRAME`) is past the end: the frame counted it.
        if let Some(s) = self.entries.get_mut(id as usize) {
            s.awaited += 1;
            s.yields += 1;
        }
    }

    /// The wait at `id` yielded again (polled, still pending).
    ///
    /// ```
    /// # let mut sites = turnstile_probes::Sites::new();
    /// # let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// sites.yielded_again(id);
    /// assert_eq!(sites.get(id).yields, 1);
    /// ```
    #[inline]
    pub fn yielded_again(&mut self, id: SiteId) {
        if let Some(s) = self.entries.get_mut(id as usize) {
            s.yields += 1;
        }
    }

    /// The last yield at `id` was forced by the cooperative budget.
    ///
    /// ```
    /// # let mut sites = turnstile_probes::Sites::new();
    /// # let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// sites.began_wait(id);
    /// sites.budget_yield(id);
    /// assert_eq!(sites.get(id).budget_yields, 1);
    /// ```
    #[inline]
    pub fn budget_yield(&mut self, id: SiteId) {
        if let Some(s) = self.entries.get_mut(id as usize) {
            s.budget_yields += 1;
        }
    }

    /// A wait at `id` ended after `nanos` (or after that many clock ticks, for a table
    /// read with `stats_scaled`).
    ///
    /// ```
    /// # let mut sites = turnstile_probes::Sites::new();
    /// # let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// sites.ended_wait(id, 5);
    /// assert_eq!(sites.get(id).longest_wait.as_nanos(), 5);
    /// ```
    #[inline]
    pub fn ended_wait(&mut self, id: SiteId, nanos: u64) {
        if let Some((total, longest)) = self.waits.get_mut(id as usize) {
            *total += nanos;
            *longest = (*longest).max(nanos);
        }
    }

    /// A yield that left no site.
    ///
    /// ```
    /// let mut sites = turnstile_probes::Sites::new();
    /// sites.unattributed_yield();
    /// assert_eq!(sites.unattributed(), 1);
    /// ```
    pub fn unattributed_yield(&mut self) {
        self.unattributed += 1;
    }

    /// Yields that left no site.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Sites::new().unattributed(), 0);
    /// ```
    pub fn unattributed(&self) -> u64 {
        self.unattributed
    }

    /// One site's record.
    ///
    /// # Panics
    /// If `id` did not come from this table.
    ///
    /// ```
    /// # let mut sites = turnstile_probes::Sites::new();
    /// let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// assert!(sites.get(id).location.contains(".rs"));
    /// ```
    pub fn get(&self, id: SiteId) -> SiteStats {
        self.stat((id & !COUNTED_BY_FRAME) as usize, &|v| v)
    }

    /// The name of the leaf site `id` for an async stack: `None` for an instrumented
    /// frame's own await line, which the stack shows as its innermost frame already.
    ///
    /// ```
    /// static F: turnstile_probes::Frame = turnstile_probes::Frame::new("load", "src/db.rs", 12, 20);
    /// let mut sites = turnstile_probes::Sites::new();
    /// let id = sites.resolve(turnstile_probes::SiteTag::frame(&F)).unwrap().0;
    /// assert_eq!(sites.leaf_name(id), None);
    /// let id = sites.resolve(turnstile_probes::SiteTag::code(std::panic::Location::caller())).unwrap().0;
    /// assert!(sites.leaf_name(id).is_some());
    /// ```
    pub fn leaf_name(&self, id: SiteId) -> Option<String> {
        (id & COUNTED_BY_FRAME == 0).then(|| self.get(id).name())
    }

    fn stat(&self, i: usize, to_nanos: &dyn Fn(u64) -> u64) -> SiteStats {
        let mut s = self.entries[i].clone();
        let (total, longest) = self.waits[i];
        s.total_wait = Duration::from_nanos(to_nanos(total));
        s.longest_wait = Duration::from_nanos(to_nanos(longest));
        s
    }

    /// Every site, in the order first seen.
    ///
    /// ```
    /// assert!(turnstile_probes::Sites::new().stats().is_empty());
    /// ```
    pub fn stats(&self) -> Vec<SiteStats> {
        self.stats_scaled(&|v| v)
    }

    /// Every site, with waits recorded in other units converted by `to_nanos`.
    pub(crate) fn stats_scaled(&self, to_nanos: &dyn Fn(u64) -> u64) -> Vec<SiteStats> {
        (0..self.entries.len())
            .map(|i| self.stat(i, to_nanos))
            .collect()
    }
}

#[cfg(test)]
mod path_tests {
    use super::{short_path, tidy};

    #[test]
    fn dir_dotdot_pairs_go_and_the_rest_stays() {
        assert_eq!(tidy("tests/../examples/app.rs"), "examples/app.rs");
        assert_eq!(tidy("src/./main.rs"), "src/main.rs");
        assert_eq!(tidy("../up/a.rs"), "../up/a.rs");
        assert_eq!(tidy("/a/b/../c.rs"), "/a/c.rs");
        assert_eq!(tidy("/../a.rs"), "/../a.rs");
        assert_eq!(tidy("src/main.rs"), "src/main.rs");
    }

    #[test]
    fn a_path_with_nothing_to_tidy_is_borrowed() {
        assert!(matches!(
            short_path("src/main.rs"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(matches!(
            short_path("a/../b.rs"),
            std::borrow::Cow::Owned(_)
        ));
    }
}
