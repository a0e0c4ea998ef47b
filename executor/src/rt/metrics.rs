//! The loop's side of the `metrics` feature: a snapshot, published.

use super::Core;
use crate::observe::metrics::Feed;

impl Core {
    /// Takes a snapshot and publishes it; the histogram values are left to feed.
    pub(crate) fn publish_metrics(&self) -> Feed {
        if self.observe().level().is_off() {
            return Feed::default();
        }
        let snap = self.snapshot();
        self.observe()
            .published()
            .publish(self.name(), &snap)
            .unwrap_or_default()
    }
}
