//! The adapters: [`crate::Runtime`] for each runtime compared, one file each.

pub mod smol;
pub mod tokio;
pub mod turnstile;
