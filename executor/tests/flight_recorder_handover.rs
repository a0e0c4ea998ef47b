//! A dump of a full window while the loop runs: the loop only hands the window over
//! (counted as the recorder's own time); the recorder's thread, `turnstile-flight`,
//! serialises and writes it; no stall comes of it; and the file says how much of the
//! window it holds.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use turnstile::probes::{
    read_flight_file, EventKind, FlightFile, Level, FLIGHT_CAPACITY, FLIGHT_SEGMENT,
};
use turnstile::Runtime;

use common::ms;

/// A fresh directory for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("turnstile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Polls of `task` that ended in the file (each is one `PollEnd`).
fn polls_of(file: &FlightFile, task: u64) -> usize {
    file.log
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PollEnd { task: t, .. } if t == task))
        .count()
}

/// A named task that yields `yields` times, awaited; returns its id.
async fn yielder(yields: usize) -> u64 {
    let h = turnstile::task::Builder::new()
        .name("yielder")
        .spawn(async move {
            for _ in 0..yields {
                turnstile::yield_now().await;
            }
        });
    let id = h.id();
    h.await.unwrap();
    id
}

#[test]
fn a_full_window_is_written_by_the_recorders_thread_and_the_loop_only_hands_it_over() {
    let dir = scratch("flight-handover");
    let path = dir.join("window.json");
    let rt = Runtime::builder()
        .probes(Level::Timing)
        .flight_recorder(Duration::from_secs(3600)) // every record is in the window
        .flight_recorder_dir(&dir)
        // Far beyond any preemption, far below what serialising 65,536 records on the
        // loop took.
        .stall_threshold(ms(250))
        .build()
        .unwrap();
    // 25,000 yields of one task: each turn is 3 records (its start, the poll with its
    // self-wake folded in, its end), so the window holds more than 65,536.
    const YIELDS: usize = 25_000;
    let (id, handover) = rt.block_on(async {
        let id = yielder(YIELDS).await;
        let handover = rt.flight_recorder().dump(&path).unwrap();
        // The loop goes on while the file is written.
        let after = turnstile::spawn(async {
            for _ in 0..100 {
                turnstile::yield_now().await;
            }
            7
        });
        assert_eq!(after.await.unwrap(), 7);
        (id, handover)
    });
    rt.flight_recorder().flush().unwrap();
    assert_eq!(rt.flight_recorder().files(), (1, 0));

    let file = read_flight_file(&path).unwrap();
    let meta = file.meta.clone().expect("a flight file says what it is");
    // Serialised and written by the recorder's thread, not the loop's (the test's).
    assert_eq!(meta.written_by, "turnstile-flight");
    assert_ne!(std::thread::current().name(), Some("turnstile-flight"));
    assert_eq!(meta.reason, "dump");
    // The whole window, and nothing cut.
    assert!(meta.records >= FLIGHT_CAPACITY as u64, "{meta:?}");
    assert_eq!(meta.records, meta.recorded, "{meta:?}");
    assert!(meta.covers_window, "{meta:?}");
    assert_eq!(meta.events_dropped, 0);
    assert_eq!(polls_of(&file, id), YIELDS + 1);
    assert_eq!(file.log.task_names[&id], "yielder");
    // The loop's share is the handover, counted once as the recorder's own time, and
    // the file carries the same figure.
    let own = rt.flight_recorder().own_time();
    assert_eq!(own.handovers, 1);
    // The first file also starts the writer thread, on the loop: counted in its own
    // time and in what `dump` returns, after the window (and its figure) went.
    assert_eq!(meta.handovers, 1);
    assert_eq!(u128::from(own.handover_ns), handover.as_nanos());
    assert!(meta.handover_ns <= own.handover_ns, "{meta:?} {own:?}");
    assert!(meta.handover_ns > 0);
    assert_eq!(own.seals, meta.recorded / FLIGHT_SEGMENT as u64);
    // No stall came of it: not the dump, not the write.
    let snap = rt.probes();
    assert_eq!(snap.stalls_total, 0, "{:?}", snap.stalls);
    assert!(!file
        .log
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Stall { .. })));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_window_cut_by_the_cap_says_how_much_it_kept() {
    let dir = scratch("flight-cut");
    let path = dir.join("cut.json");
    let rt = Runtime::builder()
        .probes(Level::Off)
        .flight_recorder(Duration::from_secs(3600))
        .flight_recorder_max_records(2 * FLIGHT_SEGMENT) // one sealed segment and the one written
        .build()
        .unwrap();
    rt.block_on(yielder(10_000));
    rt.flight_recorder().dump(&path).unwrap();
    rt.flight_recorder().flush().unwrap();
    let meta = read_flight_file(&path).unwrap().meta.unwrap();
    assert!(!meta.covers_window, "{meta:?}");
    // Every record the loop wrote is either in the file or counted as dropped.
    assert_eq!(
        meta.records + meta.events_dropped,
        meta.recorded,
        "{meta:?}"
    );
    assert!(meta.records <= 2 * FLIGHT_SEGMENT as u64 && meta.records > FLIGHT_SEGMENT as u64);
    assert!(meta.window_kept_ns < meta.window_asked_ns);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stall_hands_the_window_over_at_the_end_of_its_turn() {
    let dir = scratch("flight-stall-handover");
    let rt = Runtime::builder()
        .probes(Level::Off)
        .flight_recorder(Duration::from_secs(3600))
        .flight_recorder_dir(&dir)
        .stall_threshold(ms(20))
        .build()
        .unwrap();
    rt.block_on(async {
        yielder(1_000).await;
        turnstile::spawn(async { std::thread::sleep(ms(40)) })
            .await
            .unwrap();
    });
    rt.flight_recorder().flush().unwrap();
    let written: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "{written:?}");
    let file = read_flight_file(&written[0]).unwrap();
    let meta = file.meta.unwrap();
    assert_eq!(
        (meta.written_by.as_str(), meta.reason.as_str()),
        ("turnstile-flight", "stall")
    );
    assert_eq!(rt.flight_recorder().own_time().handovers, 1);
    assert!(
        meta.covers_window && meta.records == meta.recorded,
        "{meta:?}"
    );
    // The one stall in the file is the sleep's.
    let stalls = file
        .log
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Stall { .. }))
        .count();
    assert_eq!(stalls, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
