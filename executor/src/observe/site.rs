//! The await site of the poll in progress: turnstile's leaf futures leave theirs when
//! they return `Pending`, and the timed poll takes it when the poll returns, so each
//! yield is attributed to a source line.

use std::cell::Cell;

use turnstile_probes::SiteTag;

thread_local! {
    /// The await site left by the last leaf future that returned `Pending` on this
    /// thread. One store per yield at every level (cheaper than asking whether anyone
    /// listens); read and cleared around each poll only at `Level::Timing` and above.
    static LEAF_SITE: Cell<SiteTag> = const { Cell::new(SiteTag::NONE) };
}

/// A leaf future returns `Pending` at `site`: the executor attributes the yield to it.
#[inline(always)]
pub(crate) fn leave_site(site: SiteTag) {
    LEAF_SITE.with(|s| s.set(site));
}

/// Whether a leaf left a site since the last [`take_site`]: an instrumented await asks,
/// to stand in for a foreign future that left none.
#[inline]
pub(crate) fn site_left() -> bool {
    LEAF_SITE.with(|s| !s.get().is_none())
}

/// Takes the site left since the last call (at `Level::Timing`, around each poll).
#[inline]
pub(crate) fn take_site() -> SiteTag {
    LEAF_SITE.with(|s| s.replace(SiteTag::NONE))
}
