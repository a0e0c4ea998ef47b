//! Exporters of a [`TraceLog`](crate::TraceLog): narrated text and Chrome trace JSON.

pub(crate) mod chrome;
mod narrate;
