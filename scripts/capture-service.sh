#!/usr/bin/env bash
# A real capture for the book: runs the real-service test (examples/axum_postgres.rs on
# a throwaway PostgreSQL from scripts/postgres.sh, loaded by wrk, with the watchdog and,
# in its second run, the flight recorder on) and, if it passes, writes what it saw to
# docs/generated/service-capture.md (docs/stall.md includes it): wrk's p99s, a stall
# report of each kind, the blocking handler's naming its line, and the flight files'
# figures. PostgreSQL and wrk come from scripts/install-test-deps.sh.
#
#   scripts/capture-service.sh [OUT]    # default OUT: docs/generated/service-capture.md
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/generated/service-capture.md}
command -v wrk >/dev/null || { echo "capture-service.sh: wrk is missing; run: bash scripts/install-test-deps.sh" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
TURNSTILE_CAPTURE="$(pwd)/$out" cargo test -q -p turnstile --features hyper,tokio-io,tower \
    --test real_service
echo "capture-service.sh: wrote $out"
