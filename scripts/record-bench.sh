#!/usr/bin/env bash
# Records the bench figures the book includes: instructions per operation
# (scripts/callgrind.sh, into docs/generated/callgrind.md) and the ratios against tokio
# and smol (the `ratios` bin, into docs/generated/ratios.md). Commit the result.
#
#   bash scripts/record-bench.sh            # ratios from criterion's medians: runs
#                                           # `cargo bench -p turnstile-benches` first
#   bash scripts/record-bench.sh --quick    # ratios from `ratios --quick` (about a
#                                           # minute), pinned to one core when it can
#
# Needs valgrind (apt-get install valgrind) for the instruction counts.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
gen=docs/generated
mkdir -p "$gen"

quick=
[ "${1:-}" = --quick ] && quick=--quick

bash scripts/callgrind.sh --write "$gen/callgrind.md"

cargo build --release -q -p turnstile-benches --bin ratios
if [ -z "$quick" ]; then
    cargo bench -p turnstile-benches
fi
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
    pin=(taskset -c 1)
fi
# `ratios` exits non-zero when a target is missed; the page says which, so the record
# is kept either way.
"${pin[@]}" target/release/ratios $quick --markdown "$gen/ratios.md" || true
echo "record-bench.sh: wrote $gen/callgrind.md and $gen/ratios.md"
