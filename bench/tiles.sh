#!/usr/bin/env bash
# bench/tiles.sh: kernel tiles and the kernel cache (issue 15): the cache measured with `dmilab run`, progress,
# cancel and resumption on a running `dmilab serve`.
#   bench/tiles.sh cache [N] [ARCH] [RESIZE] [M]
#                                         `dmilab run` of an NNGP+NTK learning curve of ARCH (default fcn) at 28/RESIZE
#                                         pixels (default 1), sizes N/4, N/2, N (default 4000), n_test M (default
#                                         2000), then three runs of the same kernel with another ridge (kernel cache
#                                         hits): wall times (/usr/bin/time), kernel_cache, accuracies; and the solves
#                                         alone: bench_solve's packed solve (factorization and 10 right-hand sides)
#                                         at each size, once per kernel method; the ratio of the second run's
#                                         median wall time to them
#   bench/tiles.sh interrupt ARCH [N] [RESIZE] [WAIT]
#                                         a kernel experiment of ARCH (lcn, cnn-vec, cnn-gap) at 28/RESIZE pixels
#                                         (default RESIZE 2: 14x14) with n_train N: after WAIT seconds (default 30)
#                                         of tiles, the tiles done, progress, ETA, the server's peak RSS and the
#                                         cancel latency; then a second run killed with SIGKILL after WAIT seconds
#                                         and restarted: tiles stored, rewritten (recomputed) after the restart
#   bench/tiles.sh full [N] [M]          the full-size fcn NNGP + NTK learning curve of issue 15 with `dmilab run`:
#                                         Fashion-MNIST 28x28, n_train N/16, N/8, N/4, N/2, N (default 60000), n_test
#                                         M (default 10000), --max-memory 20 GiB, a fresh tile directory (about 38 GB
#                                         of tiles at N 60,000: TILE_DIR, default a temporary one, removed after):
#                                         wall and CPU time, peak RSS (/usr/bin/time), the tile bytes, the accuracies
# interrupt and cache: a shortened run: it stops after the measurements (the experiment is cancelled), it does not finish the kernel.
# Environment: DMILAB=path/to/dmilab (default build/server/dmilab), BENCH_SOLVE (default build/bench/bench_solve),
# THREADS (default 2). bench_solve gets OPENBLAS_CORETYPE=SkylakeX when the CPU has AVX-512 (as dmilab chooses
# for itself, server/main.c), unless it is set.
set -euo pipefail
cd "$(dirname "$0")/.."
DMILAB=${DMILAB:-build/server/dmilab}
THREADS=${THREADS:-2}
[ -x "$DMILAB" ] || ninja -C build server/dmilab >/dev/null
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
pid=
start() {
    "$DMILAB" serve --bind 127.0.0.1 --port "$port" --db "$tmp/bench.db" --threads "$THREADS" \
        --max-memory 22000000000 "$@" >>"$tmp/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do curl -fs "$base/healthz" >/dev/null && return; sleep 0.05; done
    echo "the server did not start" >&2; cat "$tmp/server.log" >&2; exit 1
}
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
field() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
submit() { curl -fs -X POST -H 'Content-Type: application/json' -d "$1" "$base/api/v1/experiments" | field 'd["id"]'; }
wait_end() {
    while :; do
        st=$(curl -fs "$base/api/v1/experiments/$1/wait?timeout=60" | field 'd["status"]')
        case "$st" in queued|running) ;; *) return ;; esac
    done
}
status() { curl -fs "$base/api/v1/experiments/$1" | field 'd["status"]'; }
tiles() { find "$tmp/bench.db.tiles" -name '*.tile' 2>/dev/null | wc -l; }

case "${1:-}" in
cache)
    N=${2:-4000}; ARCH=${3:-fcn}; RESIZE=${4:-1}; M=${5:-2000}
    BENCH_SOLVE=${BENCH_SOLVE:-build/bench/bench_solve}
    [ -x "$BENCH_SOLVE" ] || ninja -C build bench/bench_solve >/dev/null
    spec() {
        echo "{\"data\": {\"source\": \"fashion-mnist\", \"resize\": $RESIZE, \"n_train\": [$((N / 4)), $((N / 2)), $N],
              \"n_test\": $M}, \"models\": {\"arch\": \"$ARCH\"}, \"inference\": [{\"method\": \"nngp\", \"ridge\": $1},
              {\"method\": \"ntk\", \"ridge\": $1}]}" >"$tmp/spec-$1.json"
        echo "$tmp/spec-$1.json"
    }
    walls=(); cpus=()
    for run in 1e-4 1e-3 1e-3 1e-3; do
        /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$DMILAB" run --threads "$THREADS" --tile-dir "$tmp/tiles" \
            "$(spec $run)" >"$tmp/out.json" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
        read -r wall user sys rss <"$tmp/time"
        cpu=$(echo "$user + $sys" | bc)
        res=$(field '"kernel_cache %s; " % d["provenance"]["kernel_cache"] + " ".join("%s@%d=%.4f" % (p["inference"], p["n_train"], p["test_accuracy"]) for p in d["points"])' <"$tmp/out.json")
        printf '%s 28/%s ridge %s: %.2f s wall, %.2f s CPU, peak RSS %.0f MiB, %s\n' "$ARCH" "$RESIZE" "$run" "$wall" \
            "$cpu" "$(echo "$rss / 1024" | bc)" "$res"
        [ "$run" = 1e-3 ] && walls+=("$wall") && cpus+=("$cpu")
    done
    mwall=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n 2p)
    mcpu=$(printf '%s\n' "${cpus[@]}" | sort -g | sed -n 2p)
    core=${OPENBLAS_CORETYPE:-$(grep -q avx512f /proc/cpuinfo && echo SkylakeX || true)}
    swall=0; scpu=0
    for n in $((N / 4)) $((N / 2)) $N; do
        OPENBLAS_CORETYPE=$core OPENBLAS_NUM_THREADS=$THREADS /usr/bin/time -f '%U %S' -o "$tmp/time" \
            "$BENCH_SOLVE" --method packed --n "$n" --k 10 --gemm-n 256 --repeats 1 >"$tmp/solve"
        w=$(tr ' ' '\n' <"$tmp/solve" | sed -n 's/^solve_seconds=//p')
        read -r user sys <"$tmp/time"
        printf 'packed solve at n %d: %.3f s wall, %.2f s CPU (the whole bench_solve process)\n' "$n" "$w" "$(echo "$user + $sys" | bc)"
        swall=$(echo "$swall + 2 * $w" | bc -l)
        scpu=$(echo "$scpu + 2 * ($user + $sys)" | bc -l)
    done
    printf 'second run (kernel cache hit), medians of 3: %.2f s wall, %.2f s CPU; the solves alone (2 methods x 3 sizes): %.2f s wall, %.2f s CPU; ratios %.2f wall, %.2f CPU\n' \
        "$mwall" "$mcpu" "$swall" "$scpu" "$(echo "$mwall / $swall" | bc -l)" "$(echo "$mcpu / $scpu" | bc -l)"
    ;;
full)
    N=${2:-60000}; M=${3:-10000}
    sizes="$((N / 16)), $((N / 8)), $((N / 4)), $((N / 2)), $N"
    echo "{\"name\": \"fmnist-fcn-full-$N\", \"data\": {\"source\": \"fashion-mnist\", \"n_train\": [$sizes],
          \"n_test\": $M}, \"models\": {\"arch\": \"fcn\"}, \"inference\": [{\"method\": \"nngp\"},
          {\"method\": \"ntk\"}]}" >"$tmp/full.json"
    tiles_dir=${TILE_DIR:-$tmp/tiles}
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$DMILAB" run --threads "$THREADS" --max-memory 21474836480 \
        --tile-dir "$tiles_dir" --cache-bytes $((1 << 50)) "$tmp/full.json" >"$tmp/out.json" 2>"$tmp/err" ||
        { cat "$tmp/err" >&2; exit 1; }
    read -r wall user sys rss <"$tmp/time"
    printf 'fcn 28x28, n_train [%s], n_test %s, %s threads: %.0f s wall (%.1f min), %.0f s CPU (%.0f user, %.0f system), peak RSS %.2f GiB, %s of tiles\n' \
        "$sizes" "$M" "$THREADS" "$wall" "$(echo "$wall / 60" | bc -l)" "$(echo "$user + $sys" | bc)" "$user" "$sys" \
        "$(echo "$rss / 1048576" | bc -l)" "$(du -sh "$tiles_dir" | cut -f1)"
    field '"\n".join("%s n_train %d: test accuracy %.4f, test MSE %.5f" % (p["inference"], p["n_train"], p["test_accuracy"], p["test_mse"]) for p in d["points"])' <"$tmp/out.json"
    [ -z "${TILE_DIR:-}" ] || echo "tiles kept in $TILE_DIR (the kernel cache of later runs)"
    ;;
interrupt)
    ARCH=${2:?arch}; N=${3:-20000}; RESIZE=${4:-2}; WAIT=${5:-30}
    spec="{\"data\": {\"source\": \"fashion-mnist\", \"resize\": $RESIZE, \"n_train\": [$N], \"n_test\": 100},
           \"models\": {\"arch\": \"$ARCH\"}, \"inference\": {\"method\": \"ntk\"}}"
    start --cache-bytes 0
    t0=$(now)
    id=$(submit "$spec")
    until [ "$(tiles)" -ge 3 ] && [ "$(echo "$(now) - $t0 > $WAIT" | bc)" = 1 ]; do sleep 0.2; done
    t3=$(now)
    rss=$(awk '/VmHWM/ {print $2 / 1024}' "/proc/$pid/status")
    prog=$(curl -fs "$base/api/v1/experiments/$id" | field '"progress %.4f, eta_seconds %s" % (d["progress"], d["eta_seconds"])')
    last=$(find "$tmp/bench.db.tiles" -name '*.tile' -printf '%T@ %f\n' | sort -n | tail -2 | awk '{t[NR]=$1; f=$2} END {printf "%s, %.2f s", f, t[2]-t[1]}')
    printf '%s 28/%s n_train %s: %d tiles in %.1f s from submission (last tile %s after the one before), %s, server peak RSS %.0f MiB\n' \
        "$ARCH" "$RESIZE" "$N" "$(tiles)" "$(echo "$t3 - $t0" | bc)" "$last" "$prog" "$rss"
    c0=$(now)
    curl -fs -X POST "$base/api/v1/experiments/$id/cancel" | field '"cancel reply: %s, cancel_requested %s" % (d["status"], d["cancel_requested"])'
    wait_end "$id"
    printf 'cancelled after %.2f s (status %s)\n' "$(echo "$(now) - $c0" | bc)" "$(status "$id")"
    # a second experiment of the same kernel: killed with SIGKILL after 3 new tiles, then restarted
    rm -rf "$tmp/bench.db.tiles"
    t0=$(now)
    id=$(submit "$spec")
    until [ "$(tiles)" -ge 3 ] && [ "$(echo "$(now) - $t0 > $WAIT" | bc)" = 1 ]; do sleep 0.1; done
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    inflight=$(find "$tmp/bench.db.tiles" -name '*.tmp.*' | wc -l)
    before=$(find "$tmp/bench.db.tiles" -name '*.tile' -printf '%f %T@\n' | sort)
    nb=$(echo "$before" | wc -l)
    start --cache-bytes 0
    until [ "$(tiles)" -ge $((nb + 1)) ]; do sleep 0.1; done
    after=$(find "$tmp/bench.db.tiles" -name '*.tile' -printf '%f %T@\n' | sort)
    redone=$(comm -23 <(echo "$before") <(echo "$after") | wc -l)
    printf 'kill -9 with %d tiles stored and %d being written: after the restart %d of the stored ones rewritten (recomputed)\n' \
        "$nb" "$inflight" "$redone"
    curl -fs -X POST "$base/api/v1/experiments/$id/cancel" >/dev/null
    wait_end "$id"
    ;;
*)
    sed -n '2,20p' "$0" >&2
    exit 2
    ;;
esac
