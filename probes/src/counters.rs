//! The loop's counters: plain cells bumped on the loop thread.

use std::cell::Cell;

use serde::{Deserialize, Serialize};

use crate::Level;

/// Where a wake came from. The executor knows this without asking the waker's caller:
/// it marks the task it is polling, the reactor marks its event dispatch, the timer
/// marks its firing, and any other thread is remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WakeSource {
    /// A task woke itself while it was being polled (`yield_now` does this).
    SelfWake,
    /// Another task, or the `block_on` future, woke it on the loop thread.
    Local,
    /// A wake from another thread, through the remote queue and `mio::Waker`.
    Remote,
    /// The reactor woke it because a socket became ready.
    Io,
    /// A timer fired.
    Timer,
}

macro_rules! counters {
    ($( $(#[doc = $doc:literal])* $name:ident => $variant:ident, )*) => {
        /// Names one counter, to bump it with [`Counters::add`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub enum Counter {
            $( $(#[doc = $doc])* $variant, )*
        }

        const COUNTERS: usize = [$(Counter::$variant),*].len();

        /// The values of every counter at one moment.
        ///
        /// All counts start at zero when the runtime is built and only grow.
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct CounterValues {
            $( $(#[doc = $doc])* pub $name: u64, )*
        }

        impl CounterValues {
            fn from_cells(cells: &[Cell<u64>; COUNTERS]) -> Self {
                CounterValues { $( $name: cells[Counter::$variant as usize].get(), )* }
            }

            /// Each counter as a `(name, value)` pair, in declaration order.
            ///
            /// ```
            /// let v = turnstile_probes::CounterValues::default();
            /// assert_eq!(v.pairs()[0], ("turns", 0));
            /// ```
            pub fn pairs(&self) -> Vec<(&'static str, u64)> {
                vec![$( (stringify!($name), self.$name), )*]
            }

            /// Each counter as `(name, value, what it counts)`, in declaration order: the
            /// third part is the counter's documentation, for exporters' help texts.
            ///
            /// ```
            /// let v = turnstile_probes::CounterValues::default();
            /// assert_eq!(v.described()[0], ("turns", 0, "Loop turns run."));
            /// ```
            pub fn described(&self) -> Vec<(&'static str, u64, &'static str)> {
                vec![$( (stringify!($name), self.$name, concat!($($doc),*).trim_start()), )*]
            }

            /// The difference `self - earlier`, counter by counter (saturating at zero).
            ///
            /// ```
            /// let a = turnstile_probes::CounterValues::default();
            /// assert_eq!(a.since(&a), a);
            /// ```
            pub fn since(&self, earlier: &CounterValues) -> CounterValues {
                CounterValues { $( $name: self.$name.saturating_sub(earlier.$name), )* }
            }
        }
    };
}

counters! {
    /// Loop turns run.
    turns => Turns,
    /// Polls of spawned tasks (the `block_on` future is counted in `main_polls`).
    polls => Polls,
    /// Task polls that returned `Ready`.
    polls_ready => PollsReady,
    /// Task polls that returned `Pending`: yields back to the loop.
    polls_pending => PollsPending,
    /// Yields forced by the cooperative budget: a turnstile leaf future (a socket
    /// operation, a due timer, a finished task's handle) found its task's budget for
    /// this poll spent, woke the task and returned `Pending`. Each is also a yield.
    budget_yields => BudgetYields,
    /// Polls of the `block_on` future.
    main_polls => MainPolls,
    /// Tasks spawned (including the carrier tasks of `spawn_blocking`).
    spawns => Spawns,
    /// Tasks spawned from outside the loop through a `Handle` (also counted in `spawns`).
    spawns_remote => SpawnsRemote,
    /// Tasks that ran to completion (a panic or an abort is not a completion).
    completions => Completions,
    /// Task polls that panicked.
    panics => Panics,
    /// Destructors of task futures that panicked (contained: the loop goes on).
    drop_panics => DropPanics,
    /// Tasks aborted before they finished.
    cancellations => Cancellations,
    /// Ready-queue entries skipped because their task was aborted while queued.
    skipped_entries => SkippedEntries,
    /// Wakes that reached a live task or the `block_on` future, from every source.
    wakes => Wakes,
    /// Wakes of a task by itself, during its own poll.
    wakes_self => WakesSelf,
    /// Wakes by another task or the `block_on` future on the loop thread.
    wakes_local => WakesLocal,
    /// Wakes from other threads.
    wakes_remote => WakesRemote,
    /// Wakes from the reactor (socket readiness).
    wakes_io => WakesIo,
    /// Wakes from fired timers.
    wakes_timer => WakesTimer,
    /// Wakes of a task that was already queued: counted, not queued twice.
    wakes_coalesced => WakesCoalesced,
    /// Wakes of a task that had already finished: counted no-ops.
    wakes_noop => WakesNoop,
    /// Times the reactor was polled (parking or not).
    reactor_polls => ReactorPolls,
    /// Reactor polls without parking that the event interval forced: tasks were
    /// ready, and `event_interval` task polls had passed since the last look (or a
    /// budget yield brought the look forward). Also counted in `reactor_polls`.
    reactor_polls_forced => ReactorPollsForced,
    /// Times the loop parked: blocked in the reactor because nothing was ready.
    parks => Parks,
    /// Readiness events delivered by the reactor (the remote-wake token excluded).
    io_events => IoEvents,
    /// Timers registered.
    timers_created => TimersCreated,
    /// Timers that fired.
    timers_fired => TimersFired,
    /// Timers dropped before they fired.
    timers_cancelled => TimersCancelled,
    /// Closures sent to the blocking pool by `spawn_blocking`.
    offloaded => Offloaded,
    /// TCP reads that returned data or EOF on their first poll: the `.await` never
    /// reached the loop.
    tcp_reads_inline => TcpReadsInline,
    /// TCP reads that returned data or EOF after waiting for readiness (at least one
    /// poll returned `Pending` first).
    tcp_reads_waited => TcpReadsWaited,
    /// TCP writes that completed on their first poll.
    tcp_writes_inline => TcpWritesInline,
    /// TCP writes that completed after waiting for the socket to become writable.
    tcp_writes_waited => TcpWritesWaited,
    /// Bytes read from TCP streams.
    tcp_bytes_read => TcpBytesRead,
    /// Bytes written to TCP streams.
    tcp_bytes_written => TcpBytesWritten,
    /// Connections accepted on the first poll of `accept` (one was already waiting).
    tcp_accepts_inline => TcpAcceptsInline,
    /// Connections accepted after waiting for one to arrive.
    tcp_accepts_waited => TcpAcceptsWaited,
    /// Accepts that failed for want of file descriptors (EMFILE, ENFILE) and backed off
    /// on a timer instead of retrying at once.
    accept_backoffs => AcceptBackoffs,
    /// UDP datagrams received on the first poll of `recv`/`recv_from`.
    udp_recvs_inline => UdpRecvsInline,
    /// UDP datagrams received after waiting for readiness.
    udp_recvs_waited => UdpRecvsWaited,
    /// UDP datagrams sent on the first poll of `send`/`send_to`.
    udp_sends_inline => UdpSendsInline,
    /// UDP datagrams sent after waiting for the socket to become writable.
    udp_sends_waited => UdpSendsWaited,
    /// Bytes received in UDP datagrams.
    udp_bytes_received => UdpBytesReceived,
    /// Bytes sent in UDP datagrams.
    udp_bytes_sent => UdpBytesSent,
    /// Unix stream reads that returned data or EOF on their first poll.
    unix_reads_inline => UnixReadsInline,
    /// Unix stream reads that returned data or EOF after waiting for readiness.
    unix_reads_waited => UnixReadsWaited,
    /// Unix stream writes that completed on their first poll.
    unix_writes_inline => UnixWritesInline,
    /// Unix stream writes that completed after waiting for the socket to become writable.
    unix_writes_waited => UnixWritesWaited,
    /// Bytes read from Unix streams.
    unix_bytes_read => UnixBytesRead,
    /// Bytes written to Unix streams.
    unix_bytes_written => UnixBytesWritten,
    /// Unix connections accepted on the first poll of `accept`.
    unix_accepts_inline => UnixAcceptsInline,
    /// Unix connections accepted after waiting for one to arrive.
    unix_accepts_waited => UnixAcceptsWaited,
    /// Unix datagrams received on their first poll.
    unix_recvs_inline => UnixRecvsInline,
    /// Unix datagrams received after waiting for readiness.
    unix_recvs_waited => UnixRecvsWaited,
    /// Unix datagrams sent on their first poll.
    unix_sends_inline => UnixSendsInline,
    /// Unix datagrams sent after waiting for the socket to become writable.
    unix_sends_waited => UnixSendsWaited,
    /// Bytes received in Unix datagrams.
    unix_bytes_received => UnixBytesReceived,
    /// Bytes sent in Unix datagrams.
    unix_bytes_sent => UnixBytesSent,
    /// Peeks (`peek`, `peek_from`) that found data on their first poll (no bytes are
    /// counted: a peek consumes nothing).
    peeks_inline => PeeksInline,
    /// Peeks that found data after waiting for readiness.
    peeks_waited => PeeksWaited,
    /// Readiness waits (`readable`, `writable`, `ready`) that found the socket ready on
    /// their first poll: the `.await` never reached the loop.
    ready_inline => ReadyInline,
    /// Readiness waits that went back to the loop until the reactor reported an event.
    ready_waited => ReadyWaited,
    /// `Signal::recv` calls that completed: each stands for one or more deliveries of
    /// its signal since the previous one.
    signals_received => SignalsReceived,
}

/// The live counters of one runtime, bumped from its loop thread.
///
/// Cells, not atomics: only the loop thread writes them, so an increment is a load, an
/// add and a store. At [`Level::Off`] every `add` is a predictable branch and nothing else.
///
/// ```
/// use turnstile_probes::{Counter, Counters, Level};
///
/// let on = Counters::new(Level::Counters);
/// on.add(Counter::Turns, 3);
/// assert_eq!(on.get().turns, 3);
///
/// let off = Counters::new(Level::Off);
/// off.add(Counter::Turns, 3);
/// assert_eq!(off.get().turns, 0);
/// ```
#[derive(Debug)]
pub struct Counters {
    enabled: bool,
    cells: [Cell<u64>; COUNTERS],
}

impl Counters {
    /// Counters that record when `level` counts, and ignore every `add` at `Level::Off`.
    ///
    /// ```
    /// let c = turnstile_probes::Counters::new(turnstile_probes::Level::Off);
    /// assert!(!c.enabled());
    /// ```
    pub fn new(level: Level) -> Self {
        Counters {
            enabled: level.counts(),
            cells: std::array::from_fn(|_| Cell::new(0)),
        }
    }

    /// Whether this block records anything.
    ///
    /// ```
    /// let c = turnstile_probes::Counters::new(turnstile_probes::Level::Counters);
    /// assert!(c.enabled());
    /// ```
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Adds `n` to one counter.
    ///
    /// ```
    /// use turnstile_probes::{Counter, Counters, Level};
    /// let c = Counters::new(Level::Counters);
    /// c.add(Counter::Spawns, 2);
    /// assert_eq!(c.get().spawns, 2);
    /// ```
    #[inline(always)]
    pub fn add(&self, counter: Counter, n: u64) {
        if self.enabled {
            let cell = &self.cells[counter as usize];
            cell.set(cell.get().wrapping_add(n));
        }
    }

    /// Adds one to one counter.
    ///
    /// ```
    /// use turnstile_probes::{Counter, Counters, Level};
    /// let c = Counters::new(Level::Counters);
    /// c.bump(Counter::Parks);
    /// assert_eq!(c.get().parks, 1);
    /// ```
    #[inline(always)]
    pub fn bump(&self, counter: Counter) {
        self.add(counter, 1);
    }

    /// Counts one wake that reached a live task: `wakes` and its source's counter.
    ///
    /// ```
    /// use turnstile_probes::{Counters, Level, WakeSource};
    /// let c = Counters::new(Level::Counters);
    /// c.record_wake(WakeSource::Io);
    /// assert_eq!((c.get().wakes, c.get().wakes_io), (1, 1));
    /// ```
    #[inline(always)]
    pub fn record_wake(&self, source: WakeSource) {
        // `wakes` itself is the sum of the sources, worked out in `get`.
        self.bump(match source {
            WakeSource::SelfWake => Counter::WakesSelf,
            WakeSource::Local => Counter::WakesLocal,
            WakeSource::Remote => Counter::WakesRemote,
            WakeSource::Io => Counter::WakesIo,
            WakeSource::Timer => Counter::WakesTimer,
        });
    }

    /// The current value of every counter.
    ///
    /// ```
    /// let c = turnstile_probes::Counters::new(turnstile_probes::Level::Counters);
    /// assert_eq!(c.get().polls, 0);
    /// ```
    pub fn get(&self) -> CounterValues {
        let mut values = CounterValues::from_cells(&self.cells);
        // Derived rather than bumped on the hot path: every poll ends Ready, Pending or
        // in a panic, and every wake has exactly one source.
        // The loop bumps `polls` once per ready-queue entry taken, per batch.
        values.polls -= values.skipped_entries;
        values.polls_pending = values.polls - values.polls_ready - values.panics;
        values.wakes = values.wakes_self
            + values.wakes_local
            + values.wakes_remote
            + values.wakes_io
            + values.wakes_timer;
        values
    }
}
