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
#   scripts/callgrind.sh [--write FILE] [HOTLOOP_BINARY]
#
# Default binary: target/release/examples/hotloop (built here if missing). With
# `--write FILE` (the book's is docs/generated/callgrind.md) the figures also go to FILE
# as a Markdown table, with the machine, the commit and the date they come from.
set -euo pipefail
cd "$(dirname "$0")/.."
write=
if [ "${1:-}" = --write ]; then
    [ -n "${2:-}" ] || { echo "callgrind.sh: --write needs a file name" >&2; exit 2; }
    write=$2
    shift 2
fi
bin=${1:-target/release/examples/hotloop}
if [ -z "${1:-}" ]; then
    cargo build --release -q -p turnstile-benches --example hotloop
fi
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
rows=()

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
        per=$(( (b - a) / ((many - few) * $2) ))
        echo "$1 $level: $per instructions per $3"
        rows+=("| $1 | $level | $per | $3 |")
    done
done

if [ -n "$write" ]; then
    model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
    cores=$(grep -c '^processor' /proc/cpuinfo)
    vm=
    grep -qw hypervisor /proc/cpuinfo && vm=", a virtual machine"
    {
        echo "Instructions per operation, counted by callgrind (\`scripts/callgrind.sh\`), on"
        echo "${model:-an unknown CPU}, $cores cores$vm; commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown),"
        echo "$(date -u +%Y-%m-%d)."
        echo
        echo "| workload | level | instructions | per |"
        echo "|---|---|---|---|"
        printf '%s\n' "${rows[@]}"
    } >"$write"
    echo "callgrind.sh: wrote $write"
fi
