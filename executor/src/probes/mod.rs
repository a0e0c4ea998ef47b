//! The probes: levels, counters, per-turn reports and snapshots (the `turnstile-probes`
//! crate), plus [`snapshot`] for use inside the loop, [`ProbeExt::probe`] to name a
//! foreign await site, and [`Instrumented`], the await `#[turnstile::instrument]` writes.

pub use turnstile_probes::*;

mod instrument;
mod probe;

pub use instrument::Instrumented;
pub use probe::{ProbeExt, Probed};

/// A snapshot of the current runtime's probes, from inside `block_on`.
///
/// # Panics
/// Outside a runtime.
///
/// ```
/// let rt = turnstile::Runtime::builder()
///     .probes(turnstile::probes::Level::Counters)
///     .build()?;
/// rt.block_on(async {
///     assert_eq!(turnstile::probes::snapshot().counters.main_polls, 1);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn snapshot() -> Snapshot {
    crate::rt::context::with_current(|core| core.snapshot()).unwrap_or_else(|| {
        panic!("turnstile::probes::snapshot called outside a runtime: use Runtime::probes")
    })
}
