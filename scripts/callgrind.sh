#!/usr/bin/env bash
# Instructions per operation on the hot paths, by callgrind (noise-free: it counts
# instructions, not time). For each workload and level it runs `hotloop` with 1 and 3
# repetitions and divides the difference by the operations in 2 repetitions, so that
# start-up and first-touch growth cancel out. (Timing, the default level, is measured on
# the yield and I/O rows, Trace on yield_many only: with them, spawn-heavy runs keep a
# finished-task history whose growth does not cancel out that way.) `flight` is `off` with the flight recorder on (hotloop's
# `Turnstile::flight()`); its clock calibration (quanta's, once per process, timed) adds
# a few hundred thousand instructions of noise to each run.
#
#   scripts/callgrind.sh [HOTLOOP_BINARY]
#
# Default binary: target/release/examples/hotloop (built here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/examples/hotloop}
if [ -z "${1:-}" ]; then
    cargo build --release -q -p turnstile-benches --example hotloop
fi
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

instructions() { # workload level reps
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" "$3" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# workload, operations per repetition, what one operation is
# (ready_* and chain3_*: #[turnstile::instrument]'s cost is the difference between the
# instrumented and the plain line of a pair, at each level.)
for spec in "yield_many 200000 yield" "yield_one 100000 yield" "spawn_many_local 1000 spawn-and-await" "chained_spawn 1000 link" "tcp_ping_pong 1000 round-trip" "echo_100 1000 round-trip" "ready_plain 100000 await" "ready_instrumented 100000 await" "chain3_plain 100000 yield" "chain3_instrumented 100000 yield"; do
    set -- $spec
    case "$1" in
        yield_many) levels="off counters flight timing trace" ;;
        yield_one | tcp_ping_pong | echo_100) levels="off counters flight timing" ;;
        ready_* | chain3_*) levels="off counters timing" ;; # #[instrument] costs, turnstile's own modes
        *) levels="off counters flight" ;;
    esac
    for level in $levels; do
        # The flight recorder's clock calibration is timed, so its instruction count
        # varies from run to run by more than two repetitions' work: measure it over
        # 10 and 30 repetitions instead of 1 and 3. The spawn-heavy rows stay noisy
        # even so (on 2026-11-27, spawn_many_local read 786 with the recorder against
        # 912 without): trust criterion's ratio for those.
        few=1 many=3
        [ "$level" = flight ] && few=10 many=30
        a=$(instructions "$1" "$level" "$few")
        b=$(instructions "$1" "$level" "$many")
        echo "$1 $level: $(( (b - a) / ((many - few) * $2) )) instructions per $3"
    done
done
