#!/usr/bin/env bash
# The test suite, as the README's second command: first installs what the tests need
# beyond the Rust toolchain (Debian packages: curl, wrk, Prometheus, python3-venv, PostgreSQL,
# Chromium and its driver; mdBook from crates.io), then runs every
# test of every crate with every feature. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh
cargo test --workspace --all-features "$@"
