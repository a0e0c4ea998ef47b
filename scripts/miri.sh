#!/usr/bin/env bash
# Runs the executor's tests under Miri, which checks the unsafe code for undefined
# behaviour. Installs the nightly Miri component if it is missing; if it cannot, it
# says so loudly and exits non-zero unless TURNSTILE_ALLOW_NO_MIRI=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo +nightly miri --version >/dev/null 2>&1; then
    echo "miri.sh: Miri is not installed; installing it (rustup component add --toolchain nightly miri rust-src)"
    if ! rustup component add --toolchain nightly miri rust-src; then
        echo "miri.sh: *** MIRI IS NOT AVAILABLE: the unsafe code was NOT checked ***" >&2
        [ "${TURNSTILE_ALLOW_NO_MIRI:-0}" = 1 ] && exit 0
        exit 1
    fi
fi

# Isolation off: the tests read the clock and make an epoll instance (mio).
export MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-disable-isolation"
cargo +nightly miri setup >/dev/null 2>&1 || true
# The executor's unit tests and the test binaries that drive its unsafe code (task
# cells, wakers, the ready queue, remote spawns), and the re-entry and panic-safety
# tests, which drive those paths from user code and through unwinds. The net tests are left out: Miri cannot
# open sockets, and the net code has no unsafe of its own.
cargo +nightly miri test -p turnstile --lib --test turns --test wakers --test tasks --test timers --test handle --test reentry --test tasks_tokio --test tokio_ports "$@"
# Of the probe tests, those that go through the timed poll and wake paths and the await
# sites (the probes' unsafe: task headers read by pointer, site locations). The others
# mostly format snapshots, which Miri runs so slowly that they would double CI's time.
cargo +nightly miri test -p turnstile --test probes "$@" -- site histograms_count
# The waker vtable with the `console` feature's events, and the span beside the future.
cargo +nightly miri test -p turnstile --features console --test console "$@"
# The flight recorder's segments (raw pointers into the current segment).
cargo +nightly miri test -p turnstile-probes --lib "$@" -- flight::tests
