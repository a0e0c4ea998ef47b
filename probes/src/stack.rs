//! Async stacks: the chain of instrumented frames a task is suspended in.
//!
//! `#[turnstile::instrument]` gives every `.await` of an `async fn` a static [`Frame`]
//! (the function's name and the await's `file:line:column`). At `Level::Timing`, when
//! an instrumented await returns `Pending` it appends its frame to the runtime's
//! pending path ([`PendingPath`], in the `Timing` recorder); inner awaits return first,
//! so the path is built innermost first. The recorder clears the path when a poll
//! starts, and when the poll ends keeps it, interned here, as the task's stack until
//! its next poll ends. A snapshot, a stall report and their
//! `Display`s show it as an [`AsyncStack`]: the frames outermost first, then the leaf
//! site the task waits at ("handler src/main.rs:40:9 > load_user src/db.rs:12:20 > tcp
//! read @ ...").

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

/// One instrumented `.await`: the function it is in and where. One `static` per await
/// in the code `#[turnstile::instrument]` expands to, so a frame is named by its address.
///
/// ```
/// static FRAME: turnstile_probes::Frame =
///     turnstile_probes::Frame::new("handler", file!(), line!(), column!());
/// assert_eq!(FRAME.function(), "handler");
/// assert_eq!(FRAME.to_string(), format!("handler {}:{}:{}", file!(), FRAME.line(), FRAME.column()));
/// ```
// 8-aligned: its address leaves three bits free for a `SiteTag`'s flags.
#[derive(Debug)]
#[repr(align(8))]
pub struct Frame {
    function: &'static str,
    file: &'static str,
    line: u32,
    column: u32,
}

impl Frame {
    /// The frame of an await in `function` at `file:line:column`.
    ///
    /// ```
    /// let f = turnstile_probes::Frame::new("load", "src/db.rs", 12, 20);
    /// assert_eq!(f.line(), 12);
    /// ```
    pub const fn new(function: &'static str, file: &'static str, line: u32, column: u32) -> Self {
        Frame {
            function,
            file,
            line,
            column,
        }
    }

    /// The instrumented function's name (`Type::method` in an instrumented impl block).
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Frame::new("f", "a.rs", 1, 1).function(), "f");
    /// ```
    pub fn function(&self) -> &'static str {
        self.function
    }

    /// The source file of the await.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Frame::new("f", "a.rs", 1, 1).file(), "a.rs");
    /// ```
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the await (of its `await` keyword).
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Frame::new("f", "a.rs", 3, 1).line(), 3);
    /// ```
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The column of the await's `await` keyword.
    ///
    /// ```
    /// assert_eq!(turnstile_probes::Frame::new("f", "a.rs", 3, 9).column(), 9);
    /// ```
    pub fn column(&self) -> u32 {
        self.column
    }

    /// The frame as a snapshot shows it (its file relative to the workspace when it is
    /// under it: [`short_path`](crate::short_path)).
    ///
    /// ```
    /// let f = turnstile_probes::Frame::new("f", "a.rs", 3, 9).to_stack_frame();
    /// assert_eq!((f.function.as_str(), f.line), ("f", 3));
    /// ```
    pub fn to_stack_frame(&self) -> StackFrame {
        StackFrame {
            function: self.function.to_owned(),
            file: crate::short_path(self.file).into_owned(),
            line: self.line,
            column: self.column,
        }
    }
}

impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}:{}:{}",
            self.function,
            crate::short_path(self.file),
            self.line,
            self.column
        )
    }
}

/// One frame of an [`AsyncStack`], owned and serializable.
///
/// ```
/// let f = turnstile_probes::StackFrame {
///     function: "load_user".into(), file: "src/db.rs".into(), line: 12, column: 20,
/// };
/// assert_eq!(f.to_string(), "load_user src/db.rs:12:20");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackFrame {
    /// The instrumented function.
    pub function: String,
    /// The file of the await it is suspended at.
    pub file: String,
    /// Its line.
    pub line: u32,
    /// Its column (of the `await` keyword).
    pub column: u32,
}

impl fmt::Display for StackFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}:{}:{}",
            self.function, self.file, self.line, self.column
        )
    }
}

/// Where a task is suspended: the instrumented frames it waits in, outermost first, and
/// the leaf await site below them (`Level::Timing`).
///
/// ```
/// use turnstile_probes::{AsyncStack, StackFrame};
/// let frame = |function: &str, line| StackFrame {
///     function: function.into(), file: "src/main.rs".into(), line, column: 9,
/// };
/// let stack = AsyncStack::new(
///     vec![frame("handler", 40), frame("load_user", 12)],
///     Some("tcp read @ src/net.rs:88:5".into()),
/// );
/// assert_eq!(
///     stack.to_string(),
///     "handler src/main.rs:40:9 > load_user src/main.rs:12:9 > tcp read @ src/net.rs:88:5"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AsyncStack {
    /// The instrumented frames, outermost first.
    pub frames: Vec<StackFrame>,
    /// The leaf await site the innermost frame waits on (turnstile's own leaf, or a
    /// `.probe()` label), if it left one.
    pub leaf: Option<String>,
    /// The path was deeper than [`STACK_DEPTH`]: the outermost frames were cut.
    pub truncated: bool,
}

impl AsyncStack {
    /// A stack of `frames` (outermost first) over `leaf`.
    ///
    /// ```
    /// let s = turnstile_probes::AsyncStack::new(vec![], Some("x".into()));
    /// assert_eq!(s.to_string(), "x");
    /// ```
    pub fn new(frames: Vec<StackFrame>, leaf: Option<String>) -> Self {
        AsyncStack {
            frames,
            leaf,
            truncated: false,
        }
    }
}

impl fmt::Display for AsyncStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if self.truncated {
            write!(f, "...")?;
            sep = " > ";
        }
        for frame in &self.frames {
            write!(f, "{sep}{frame}")?;
            sep = " > ";
        }
        if let Some(leaf) = &self.leaf {
            write!(f, "{sep}{leaf}")?;
        }
        Ok(())
    }
}

/// The deepest path the loop thread records: deeper, the outermost frames are cut (and
/// the stack says so).
pub const STACK_DEPTH: usize = 16;

/// What fills the pending path's unused slots.
static UNUSED_FRAME: Frame = Frame::new("", "", 0, 0);

/// The frames of instrumented awaits that returned `Pending` in the poll in progress,
/// innermost first (inner awaits return first). Loop thread only: `Cell`s, no borrow.
#[derive(Debug)]
pub(crate) struct PendingPath {
    /// Frames pushed, counting those beyond `STACK_DEPTH` that were not kept.
    len: Cell<usize>,
    /// The first `STACK_DEPTH` frames pushed: the innermost.
    frames: [Cell<&'static Frame>; STACK_DEPTH],
}

impl PendingPath {
    pub(crate) fn new() -> Self {
        PendingPath {
            len: Cell::new(0),
            frames: [const { Cell::new(&UNUSED_FRAME) }; STACK_DEPTH],
        }
    }

    /// An instrumented await returned `Pending`: its frame joins the path.
    pub(crate) fn push(&self, frame: &'static Frame) {
        let len = self.len.get();
        if let Some(slot) = self.frames.get(len) {
            slot.set(frame);
        }
        self.len.set(len.saturating_add(1));
    }

    /// Whether a frame was pushed since the last `clear` or `take`.
    #[inline(always)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len.get() == 0
    }

    /// Empties the path (a poll begins).
    #[inline(always)]
    pub(crate) fn clear(&self) {
        self.len.set(0);
    }

    /// Takes the frames kept (innermost first) into `out`, and whether frames were cut;
    /// leaves the path empty.
    pub(crate) fn take<'a>(
        &self,
        out: &'a mut [&'static Frame; STACK_DEPTH],
    ) -> (&'a [&'static Frame], bool) {
        let len = self.len.replace(0);
        let kept = len.min(STACK_DEPTH);
        for (o, slot) in out.iter_mut().zip(&self.frames[..kept]) {
            *o = slot.get();
        }
        (&out[..kept], len > STACK_DEPTH)
    }

    /// An empty buffer for `take`.
    pub(crate) fn buffer() -> [&'static Frame; STACK_DEPTH] {
        [&UNUSED_FRAME; STACK_DEPTH]
    }
}

/// An interned stack's index in its runtime's [`Stacks`].
pub(crate) type StackId = u32;

/// No stack: the task is not suspended in an instrumented frame.
pub(crate) const NO_STACK: StackId = StackId::MAX;

/// A frame named by its address (one `static` per await: no two frames share one).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FrameRef(pub(crate) &'static Frame);

impl PartialEq for FrameRef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for FrameRef {}

impl Hash for FrameRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.0 as *const Frame).addr().hash(state);
    }
}

/// The distinct stacks seen in one runtime, interned: a task keeps a [`StackId`], and a
/// poll that ends in the stack it began in (the common case: one wait, several wakes)
/// compares pointers and allocates nothing.
#[derive(Debug, Default)]
pub(crate) struct Stacks {
    /// Frames outermost first, and whether the path was cut.
    entries: Vec<(Box<[FrameRef]>, bool)>,
    ids: HashMap<(Box<[FrameRef]>, bool), StackId>,
}

impl Stacks {
    /// The id of `path` (innermost first, as the loop thread builds it), `cut` if
    /// frames were lost; `current` is the task's stack so far, tried first.
    pub(crate) fn intern(
        &mut self,
        path: &[&'static Frame],
        cut: bool,
        current: StackId,
    ) -> StackId {
        if path.is_empty() {
            return NO_STACK;
        }
        let matches = |(frames, c): &(Box<[FrameRef]>, bool)| {
            *c == cut
                && frames.len() == path.len()
                && frames
                    .iter()
                    .zip(path.iter().rev())
                    .all(|(a, b)| std::ptr::eq(a.0, *b))
        };
        if let Some(entry) = self.entries.get(current as usize) {
            if matches(entry) {
                return current;
            }
        }
        let key: Box<[FrameRef]> = path.iter().rev().map(|f| FrameRef(f)).collect();
        if let Some(&id) = self.ids.get(&(key.clone(), cut)) {
            return id;
        }
        let id = self.entries.len() as StackId;
        self.entries.push((key.clone(), cut));
        self.ids.insert((key, cut), id);
        id
    }

    /// Every stack interned so far, by id, without leaves.
    pub(crate) fn all(&self) -> Vec<AsyncStack> {
        (0..self.entries.len() as StackId)
            .filter_map(|id| self.get(id, None))
            .collect()
    }

    /// The stack `id` over `leaf`, or `None` for [`NO_STACK`].
    pub(crate) fn get(&self, id: StackId, leaf: Option<String>) -> Option<AsyncStack> {
        let (frames, cut) = self.entries.get(id as usize)?;
        Some(AsyncStack {
            frames: frames.iter().map(|f| f.0.to_stack_frame()).collect(),
            leaf,
            truncated: *cut,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OUTER: Frame = Frame::new("outer", "a.rs", 1, 1);
    static INNER: Frame = Frame::new("inner", "a.rs", 2, 1);

    #[test]
    fn interning_reverses_the_path_and_reuses_ids() {
        let mut stacks = Stacks::default();
        let id = stacks.intern(&[&INNER, &OUTER], false, NO_STACK);
        assert_eq!(stacks.intern(&[&INNER, &OUTER], false, id), id);
        assert_eq!(stacks.intern(&[&INNER, &OUTER], false, NO_STACK), id);
        assert_ne!(stacks.intern(&[&OUTER], false, id), id);
        assert_eq!(stacks.intern(&[], false, id), NO_STACK);
        let s = stacks.get(id, Some("leaf".into())).unwrap();
        assert_eq!(s.to_string(), "outer a.rs:1:1 > inner a.rs:2:1 > leaf");
        assert!(stacks.get(NO_STACK, None).is_none());
    }
}
