#!/usr/bin/env bash
# bench/service.sh [SECONDS] [CONNECTIONS]: HTTP throughput of `dmilab serve` on loopback with wrk.
# Starts the service on a free port with a temporary database, stores one small experiment, then runs wrk
# against GET /api/v1/experiments/{id} and POST /api/v1/experiments?dry_run=true (bench/wrk_post_dryrun.lua),
# and prints requests/s and p99 latency of each. Installs wrk (Debian package) when it is missing.
# Environment: DMILAB=path/to/dmilab (default build/server/dmilab), WRK_THREADS (default 2),
# SERVE_FLAGS (extra flags for dmilab serve).
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
CONN=${2:-64}
WRK_THREADS=${WRK_THREADS:-2}
DMILAB=${DMILAB:-build/server/dmilab}

if ! command -v wrk >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "bench/service.sh: wrk is missing: sudo apt-get install wrk" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi
[ -x "$DMILAB" ] || ninja -C build server/dmilab >/dev/null

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# shellcheck disable=SC2086
"$DMILAB" serve --bind 127.0.0.1 --port "$port" --db "$tmp/bench.db" --threads 2 ${SERVE_FLAGS:-} >"$tmp/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.05; done

spec='{"name": "bench", "data": {"source": "fashion-mnist", "resize": 4, "n_train": [50], "n_test": 50},
       "models": {"arch": "fcn"}, "inference": {"method": "ntk"}}'
id=$(curl -fs -X POST -H 'Content-Type: application/json' -d "$spec" "$base/api/v1/experiments" \
     | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -fs "$base/api/v1/experiments/$id/wait?timeout=60" >/dev/null

# "Requests/sec: N" and the 99% line of --latency ("99%  1.23ms"), as "N req/s, p99 X".
report() {
    local name=$1 out=$2
    local rps p99 errs
    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
    printf '%-48s %10s req/s   p99 %8s%s\n' "$name" "$rps" "$p99" "${errs:+   non-2xx: $errs}"
}

echo "# dmilab serve on 127.0.0.1:$port, $(nproc) cores, wrk -t$WRK_THREADS -c$CONN -d${DUR}s"
out=$(wrk -t"$WRK_THREADS" -c"$CONN" -d"${DUR}s" --latency "$base/api/v1/experiments/$id")
report "GET /api/v1/experiments/{id}" "$out"
out=$(wrk -t"$WRK_THREADS" -c"$CONN" -d"${DUR}s" --latency -s bench/wrk_post_dryrun.lua "$base")
report "POST /api/v1/experiments?dry_run=true" "$out"
out=$(wrk -t"$WRK_THREADS" -c"$CONN" -d"${DUR}s" --latency "$base/healthz")
report "GET /healthz" "$out"
