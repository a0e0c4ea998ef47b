//! Workloads the benches and `examples/hotloop.rs` share that only turnstile runs:
//! the cost of `#[turnstile::instrument]`.

pub mod instrumented;
