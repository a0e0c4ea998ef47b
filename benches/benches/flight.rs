//! What a flight-recorder dump costs the loop: the handover alone
//! (`FlightRecorder::handover`: the copy of the partial segment, a reference per sealed
//! segment and per full chunk of the name table), at a window of
//! `FLIGHT_CAPACITY` (65,536) records and 1,000 named tasks. Serialising and writing
//! the file happen on the `turnstile-flight` thread and are not in it; nor is dropping
//! the window, which the writer does.
//!
//! `cargo bench -p turnstile-benches --bench flight` runs one group,
//! `flight_handover`, with one entry per partial-segment fill: `full_segments` (the
//! window ends on a segment's boundary) and `half_segment` (half a segment to copy).

use std::panic::Location;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use turnstile::probes::{FlightRecorder, FLIGHT_CAPACITY, FLIGHT_SEGMENT};

const TASKS: u64 = 1_000;

/// A recorder holding `records` records of turns with one poll and one wake each, and
/// `TASKS` named tasks in its name table.
fn recorder(records: usize) -> FlightRecorder {
    let f = FlightRecorder::new(Duration::from_secs(3600), Duration::from_secs(3600));
    for id in 1..=TASKS {
        f.task_spawned(id, Some("conn"), Location::caller());
    }
    let mut turn = 0;
    while (f.recorded() as usize) + 4 <= records {
        turn += 1;
        f.turn_started(turn);
        f.batch(1);
        f.woken(turn % TASKS + 1, turnstile::probes::WakeSource::Io);
        f.poll_ended(turn % TASKS + 1, false);
        f.turn_ended(turn, 0);
    }
    while (f.recorded() as usize) < records {
        f.reactor_events(1, 0);
    }
    f
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("flight_handover");
    for (name, records) in [
        ("full_segments", FLIGHT_CAPACITY),
        ("half_segment", FLIGHT_CAPACITY + FLIGHT_SEGMENT / 2),
    ] {
        let f = recorder(records);
        assert_eq!(f.recorded() as usize, records);
        g.bench_function(name, |b| {
            // The window goes to the writer thread, which drops it: not the loop's.
            b.iter_batched(
                || (),
                |()| f.handover(f.now(), Vec::new()),
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

criterion_group! {
    name = flight;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(flight);
