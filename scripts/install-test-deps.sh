#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain. Idempotent: anything
# already present is left alone. Says loudly what it could not install.
set -uo pipefail

need_apt=()
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# The `metrics` feature's test runs a real Prometheus server and lints with promtool.
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need_apt+=(prometheus)
# The lab runs its Python experiments (lab/python/) in a venv it makes under target/;
# Debian splits venv's pip bootstrap into python3-venv.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
# The real-service tests run a real PostgreSQL (scripts/postgres.sh starts one on 127.0.0.1).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
# The browser tests (the viewer's pages, the built book) drive Debian's headless Chromium.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)

if ((${#need_apt[@]})); then
    echo "install-test-deps: installing ${need_apt[*]} from Debian"
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq >/dev/null && apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        sudo apt-get update -qq >/dev/null && sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
    fi || echo "install-test-deps: WARNING: could not install ${need_apt[*]}; tests that need them will fail and say so" >&2
fi
# The book is built with mdBook, which Debian does not package: built from crates.io once.
if ! command -v mdbook >/dev/null 2>&1; then
    echo "install-test-deps: installing mdbook from crates.io"
    cargo install --locked --quiet mdbook --no-default-features --features search ||
        echo "install-test-deps: WARNING: could not install mdbook; the book's test will fail and say so" >&2
fi
# The lab's load generators (its `http` experiment falls back to its own without them).
bash "$(dirname "$0")/install-lab-tools.sh" || true
exit 0
