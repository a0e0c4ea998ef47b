#!/usr/bin/env bash
# Installs the load generators the lab's `http` experiment drives its servers with:
# wrk and h2load (Debian packages wrk and nghttp2-client), and perf (linux-perf), with
# which the lab counts a server's system calls per request. Idempotent: a tool already on
# the PATH is left alone. Without them the lab uses its own generator and says so.
#
#   bash scripts/install-lab-tools.sh
set -uo pipefail

need_apt=()
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)
command -v h2load >/dev/null 2>&1 || need_apt+=(nghttp2-client)
command -v perf >/dev/null 2>&1 || need_apt+=(linux-perf)

if ((${#need_apt[@]} == 0)); then
    echo "install-lab-tools: wrk, h2load and perf are installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-lab-tools: no apt-get here; install ${need_apt[*]} with your package manager" >&2
    exit 1
fi
echo "install-lab-tools: installing ${need_apt[*]} from Debian"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
if "${sudo[@]}" apt-get update -qq >/dev/null && "${sudo[@]}" apt-get install -y -qq "${need_apt[@]}" >/dev/null; then
    echo "install-lab-tools: done"
else
    echo "install-lab-tools: could not install ${need_apt[*]}; the lab will use its own generator" >&2
    exit 1
fi
