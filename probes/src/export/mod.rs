//! Exporters of a [`TraceLog`](crate::TraceLog): narrated text and Chrome trace JSON.

mod chrome;
mod narrate;
