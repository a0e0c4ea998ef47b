//! The `console` feature: the spans and events through which tokio-console (its
//! `console-subscriber` layer) sees turnstile's tasks.
//!
//! console-subscriber knows nothing of runtimes; it recognises call sites by their
//! metadata. A call site whose span *name* is `runtime.spawn` is a task: the span's id
//! is the task as console knows it, each enter/exit is one poll, and its close is the
//! task's end. An event whose *target* is `runtime::waker`, with an `op` field and a
//! `task.id` field (that span's id as a `u64`), is one waker operation. Its default
//! filter lets through spans named `runtime.*` and events whose target starts with
//! `runtime` or `tokio`. This module makes exactly those, and nothing else.
//!
//! Where each piece lives (see `raw/mod.rs` on which thread touches what):
//!
//! - The span is made on the loop thread at spawn and kept in the task cell beside the
//!   future (loop thread only). It is entered around each poll of the future and
//!   dropped, which closes it, when the future is dropped: console then shows the task
//!   as completed even while turnstile keeps its header for the probes' history.
//! - Its id is copied into the header's immutable part, so that a waker on any thread
//!   can name the task in its event. A disabled span (no subscriber interested) has no
//!   id, and then the wakers emit nothing. An id outlives its span, as tokio's does; a
//!   registry gives a reused slot a new id, so a stale one matches nothing.

use std::panic::Location;

use tracing::Span;

use crate::raw::{Header, WakerOp};

/// A task's `runtime.spawn` span, made at spawn on the loop thread.
///
/// Target `runtime::spawn`: console-subscriber matches spawn spans by name alone (any
/// target), and its filter admits them by that name too; the target is for the user's
/// own filters. `runtime::...` keeps it beside the waker events (`runtime::waker`),
/// which console matches by target, so `runtime=trace` selects both, and it does not
/// pose as tokio (`tokio::task`), which a user may well filter separately. Level
/// `TRACE`, as tokio's: an application logging at `INFO` disables it, and its tasks'
/// wakers then emit nothing.
///
/// `parent: None`: a task is not part of whatever span its spawner was in (it outlives
/// it and is polled from the loop). An unnamed task leaves `task.name` unrecorded.
#[inline(never)]
pub(crate) fn task_span(id: u64, name: Option<&str>, at: &'static Location<'static>) -> Span {
    tracing::trace_span!(
        target: "runtime::spawn",
        parent: None,
        "runtime.spawn",
        kind = "task",
        task.name = name,
        task.id = id,
        loc.file = at.file(),
        loc.line = at.line(),
        loc.col = at.column(),
    )
}

/// The event name of `op`.
fn op_name(op: WakerOp) -> &'static str {
    match op {
        WakerOp::Wake => "waker.wake",
        WakerOp::WakeByRef => "waker.wake_by_ref",
        WakerOp::Clone => "waker.clone",
        WakerOp::Drop => "waker.drop",
    }
}

/// Reports a waker operation on the task `header` heads, from any thread: only its
/// immutable span id is read. Nothing is emitted if the task's span is disabled.
///
/// The event goes to the calling thread's default subscriber, so a wake from another
/// thread reaches console only if console is the global default (`console_subscriber::
/// init` makes it so).
#[inline(always)]
pub(crate) fn waker_event(header: &Header, op: WakerOp) {
    if let Some(span) = &header.span_id {
        emit_waker_event(span.into_u64(), op);
    }
}

#[inline(never)]
fn emit_waker_event(task: u64, op: WakerOp) {
    tracing::trace!(target: "runtime::waker", op = op_name(op), task.id = task);
}
