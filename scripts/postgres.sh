#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests and examples that need a real database:
# a fresh cluster in DIR, listening on 127.0.0.1:PORT only, trust authentication, one
# database named `turnstile` owned by the user `turnstile`. The server runs until `stop`.
#
#   bash scripts/postgres.sh start DIR PORT   # prints: postgres://turnstile@127.0.0.1:PORT/turnstile
#   bash scripts/postgres.sh stop DIR
#
# PostgreSQL comes from Debian (scripts/install-test-deps.sh installs it). It refuses to run
# as root, so as root the cluster belongs to the `postgres` user the package creates, in a
# folder of its own under /tmp (DIR/cluster names it).
set -euo pipefail

usage() {
    echo "usage: postgres.sh start DIR PORT | stop DIR" >&2
    exit 2
}

bin=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && bin="$d"
done
if [ -z "$bin" ]; then
    echo "postgres.sh: PostgreSQL's server is not installed; run: bash scripts/install-test-deps.sh" >&2
    exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
fi

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
case "$cmd" in
start)
    port=${3:-}
    [ -n "$port" ] || usage
    rm -rf "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    cluster=$dir
    if [ "$(id -u)" -eq 0 ]; then
        # The `postgres` user must reach the cluster through every parent folder, which
        # a checkout in a private folder (mode 0700, such as root's home) does not allow:
        # the cluster goes in a folder of its own under /tmp, and DIR says where.
        cluster=$(mktemp -d /tmp/turnstile-postgres-XXXXXX)
        chown postgres "$cluster"
        echo "$cluster" >"$dir/cluster"
        cd /
    fi
    "${as_owner[@]}" "$bin/initdb" -D "$cluster/data" -U turnstile --auth=trust \
        --no-instructions -E UTF8 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; exit 1; }
    "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $cluster -c fsync=off -c max_connections=200" \
        start >/dev/null ||
        { cat "$cluster/server.log" >&2; exit 1; }
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U turnstile turnstile
    echo "postgres://turnstile@127.0.0.1:$port/turnstile"
    ;;
stop)
    cluster=$dir
    [ -f "$dir/cluster" ] && cluster=$(cat "$dir/cluster")
    [ -d "$cluster/data" ] || exit 0
    cd /
    "${as_owner[@]}" "$bin/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 || true
    if [ "$cluster" != "$dir" ]; then
        rm -rf "$cluster" "$dir/cluster"
    fi
    ;;
*)
    usage
    ;;
esac
