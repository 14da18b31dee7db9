#!/usr/bin/env bash
# bench/shards.sh: one kernel experiment through the shard path (docs/cluster.md), for a paired comparison with
# `dmilab run` of the same spec (bench/README.md, "Tile shards").
#   bench/shards.sh spec ARCH N M RESIZE    print the spec: ARCH (cnn-gap, cnn-vec, lcn, fcn) NNGP+NTK at n_train N/2
#                                           and N, n_test M, 28/RESIZE pixels
#   bench/shards.sh cluster SPEC [W] [T]    a server with no worker threads and W `dmilab worker` processes of T
#                                           threads (default 2 and 1) run SPEC, its kernels split into tile shards of
#                                           about SHARD_SECONDS (default 5) of the cost model; exits when it ends
#                                           (status 1 unless it succeeded). Each run starts from an empty database
#                                           and tile directory: every tile is computed, uploaded and fetched.
# Environment: DMILAB=path/to/dmilab (default build/server/dmilab).
set -euo pipefail
cd "$(dirname "$0")/.."
DMILAB=${DMILAB:-build/server/dmilab}
case "${1:-}" in
spec)
    printf '{"name": "bench shards %s", "seed": 1, "data": {"name": "fm", "source": "fashion-mnist", "resize": %s, "n_train": [%s, %s], "n_test": %s}, "models": [{"name": "m", "arch": "%s", "depth": 1, "width": 16, "filter": [3, 3]}], "inference": [{"name": "ntk", "method": "ntk", "ridge": 1e-3}, {"name": "nngp", "method": "nngp", "ridge": 1e-3}]}\n' \
        "$2" "$5" "$(($3 / 2))" "$3" "$4" "$2"
    ;;
cluster)
    spec=$2 W=${3:-2} T=${4:-1}
    tmp=$(mktemp -d)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    base="http://127.0.0.1:$port"
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
    "$DMILAB" serve --port "$port" --db "$tmp/db" --workers 0 --shard-seconds "${SHARD_SECONDS:-5}" >"$tmp/server.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 200); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.05; done
    for _ in $(seq "$W"); do
        "$DMILAB" worker --server "$base" --threads "$T" >>"$tmp/workers.log" 2>&1 &
        pids+=($!)
    done
    id=$(curl -fsS -XPOST -H 'Content-Type: application/json' --data @"$spec" "$base/api/v1/experiments" | jq -r .id)
    while :; do
        st=$(curl -fsS "$base/api/v1/experiments/$id/wait?timeout=60" | jq -r .status)
        case "$st" in queued|running) ;; *) break ;; esac
    done
    echo "$st: $(curl -fsS "$base/api/v1/experiments/$id" | jq -c .shards)"
    [ "$st" = succeeded ]
    ;;
*)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
