//! The `metrics` feature on a [`Runtime`]: a publish on demand, and the task behind
//! `Builder::metrics_period`.

use std::panic::Location;
use std::time::Duration;

use super::Runtime;

impl Runtime {
    /// Publishes the probes through the `metrics` facade now (see the [`metrics`](crate::metrics)
    /// module for what is published), to the recorder current on this thread. The
    /// histograms are fed on this thread too. For use outside `block_on`; inside it,
    /// [`publish`](crate::metrics::publish) feeds them off the loop.
    ///
    /// ```
    /// let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    /// let rt = turnstile::Runtime::builder().name("api").build()?;
    /// rt.block_on(turnstile::yield_now());
    /// metrics::with_local_recorder(&recorder, || rt.publish_metrics());
    /// let text = recorder.handle().render();
    /// assert!(text.contains(r#"turnstile_main_polls_total{runtime="api"} 2"#));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn publish_metrics(&self) {
        self.core().publish_metrics().hand_over();
    }
}

/// Spawns the task behind `Builder::metrics_period`: a publish every `period`.
#[track_caller]
pub(crate) fn spawn_publisher(rt: &Runtime, period: Duration) {
    let publisher = async move {
        loop {
            crate::time::sleep(period).await;
            crate::metrics::publish().await;
        }
    };
    let name = Some("turnstile-metrics".into());
    // Detached: it lives as long as the runtime.
    drop(rt.core().spawn(publisher, name, Location::caller()));
}
